-- apivideo.hub: inside nginx every client of a worker sends its transfers
-- through the worker's one core.multi (the hub). A pump light thread moves
-- the bytes, hands each finished transfer to the lane (client) that sent it
-- and wakes waiting lanes through their ngx.semaphore, at most two per loop
-- iteration, in arrival order; a lane that has held the worker for
-- SLICE_MS gives its turn back (turn()).
--
-- These specs run the hub's logic under a fake nginx event loop
-- (spec/support/fake_ngx.lua, whose header tells how it maps to nginx: an
-- iteration runs the expired timers, then the posted events; light threads
-- are coroutines; ngx.sleep is a timer; a semaphore post wakes its waiters
-- through a posted event, later in the same iteration), with the real
-- libcurl core against the real stand-in, so that what each iteration
-- resumed, and why, can be asserted exactly. What is checked:
--   * two lanes get exactly their own transfers, counts hold, one pump serves
--     both and stops once idle; a later lane reuses the hub's connections;
--   * turns: six answers that arrive together wake at most two lanes per
--     iteration, in the order the pump dispatched them; forty wake four per
--     iteration while the queue is deep (one more for every 16 queued);
--   * turn(): past SLICE_MS a lane queues for a turn and yields until the
--     pump gives it one; before, it returns at once;
--   * cancel and close of in-flight transfers; a lane whose request thread
--     died (client abort); no pump at all (nginx refused the timer); a pump
--     that fails (logged, replaced); a pump that is lost (replaced);
--   * through apivideo.new with _G.ngx set: the engine gets a lane, a walk
--     returns every session in order, a second request is refused (ngx.ctx),
--     and without ngx.semaphore the engine keeps its own multi handle.
-- The real nginx run is spec/openresty_spec.lua.
local hub_mod = require("apivideo.hub")
local F = require("spec.support.fake_ngx")
local S = require("spec.support.standin")
local H = require("spec.support.hub")
local L = require("spec.support.lists")
local socket = require("socket")

local srv = S.shared()
local page_spec = H.page_spec(srv)
local page_of, pages_of, busy, spy_on, idle = H.page_of, H.pages_of, H.busy, H.spy_on, H.idle
local drain, SLICE_MS, BOUND_MS = H.drain, H.SLICE_MS, H.BOUND_MS
local sorted = L.sorted

describe("apivideo.hub under a fake nginx loop", function()
  local fake
  local pid = 50000

  setup(function() srv:idle_reset() end)
  -- the stand-in's start configuration again (latency, faults) for the next file
  teardown(function() srv:idle_reset() end)

  before_each(function()
    srv:idle_reset()
    pid = pid + 1 -- a new "worker": hub.get makes a new hub for a new pid
    fake = F.new({ pid = pid })
    package.loaded["ngx.semaphore"] = fake.semaphore
  end)

  after_each(function()
    package.loaded["ngx.semaphore"] = nil
  end)

  it("hands each of two lanes exactly its own transfers; one pump serves both and stops once idle", function()
    srv:config({ latency_ms = 50 })
    hub_mod.get(fake.ngx)
    local lanes, sent, got, counts = {}, {}, { a = {}, b = {} }, {}
    local plan = { a = { 1, 2, 3 }, b = { 4, 5 } }
    local function request(name)
      return function()
        local lane = hub_mod.lane({ ngx = fake.ngx })
        lanes[name] = lane
        for _, n in ipairs(plan[name]) do sent[lane:add(page_spec(n))] = { lane = name, page = n } end
        counts[name] = { lane:count(), lane:queued() }
        while lane:count() > 0 or lane:queued() > 0 do
          lane:wait()
          local t = lane:next_done()
          while t do
            got[name][#got[name] + 1] = { t = t, page = page_of(t) }
            t:close()
            t = lane:next_done()
          end
          -- nothing lost, nothing counted twice
          assert.are.equal(#plan[name], lane:count() + lane:queued() + #got[name])
        end
      end
    end
    local a = fake:spawn("a", request("a"))
    local b = fake:spawn("b", request("b"))
    assert.is_true(fake:run(function() return counts.a ~= nil and counts.b ~= nil end, BOUND_MS))
    assert.are.same({ 3, 0 }, counts.a)
    assert.are.same({ 2, 0 }, counts.b)
    -- (a 50 ms answer cannot have come back within the first iteration)
    assert.are.same({ in_flight = 5, owned = 5, turns_waiting = 0, pumping = true }, H.counts(hub_mod.stats()))

    assert.is_true(fake:run(function() return a.dead and b.dead end, BOUND_MS))
    for name, pages in pairs(plan) do
      local seen = {}
      for _, g in ipairs(got[name]) do
        assert.are.equal(name, sent[g.t].lane)
        assert.are.equal(sent[g.t].page, g.page)
        seen[#seen + 1] = g.page
      end
      assert.are.same(pages, sorted(seen))
      assert.are.equal(0, lanes[name]:count())
      assert.are.equal(0, lanes[name]:queued())
      assert.is_nil(lanes[name]:next_done())
    end
    assert.are.equal(0, hub_mod.stats().in_flight)
    assert.are.equal(0, hub_mod.stats().owned)
    assert.are.equal(5, srv:stats().api_requests)

    assert.is_true(fake:run(function() return not hub_mod.stats().pumping end, BOUND_MS))
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
    local pumps = fake:threads_of("timer")
    -- one pump for the worker, not one per lane (plus any taken for lost on a slow machine and replaced:
    -- a replaced one stops once it sees it)
    assert.are.equal(1 + hub_mod.stats().pumps_lost, #pumps)
    assert.is_true(pumps[1].finished)
    assert.are.same({}, fake.logs) -- (a pump that failed would have logged)
  end)

  it("keeps the worker's connections open: a later lane reuses the ones an earlier lane opened", function()
    srv:config({ latency_ms = 20 })
    hub_mod.get(fake.ngx)
    local function one_lane(name, pages)
      local out = {}
      local th = fake:spawn(name, function()
        local lane = hub_mod.lane({ ngx = fake.ngx })
        for _, n in ipairs(pages) do
          lane:add(page_spec(n))
          drain(lane, out) -- one at a time
        end
        lane:close()
      end)
      assert.is_true(fake:run(function() return th.dead and idle() end, BOUND_MS))
      return pages_of(out)
    end
    assert.are.same({ 1, 2 }, one_lane("first", { 1, 2 }))
    local opened = srv:stats().connections
    assert.is_true(opened >= 1)
    assert.are.same({ 3, 4, 5 }, one_lane("later", { 3, 4, 5 }))
    local st = srv:stats()
    assert.are.equal(5, st.api_requests)
    assert.are.equal(opened, st.connections)
  end)

  it("wakes at most two lanes per loop iteration, in the order their transfers were dispatched", function()
    local N = 6
    local spy = spy_on(hub_mod.get(fake.ngx))
    -- the hub's connections first (on a fresh host libcurl holds one of a
    -- burst back until another connection is known not to multiplex)
    local warm = fake:spawn("warm", function()
      local lane = hub_mod.lane({ ngx = fake.ngx })
      for i = 1, N do lane:add(page_spec(i)) end
      drain(lane)
    end)
    assert.is_true(fake:run(function() return warm.dead and idle() end, BOUND_MS))
    spy.done = {}
    local from = fake.iter + 1
    srv:config({ latency_ms = 150 })
    local owner, woke = {}, {}
    for i = 1, N do
      fake:spawn("r" .. i, function()
        local lane = hub_mod.lane({ ngx = fake.ngx })
        owner[lane:add(page_spec(i))] = i
        lane:wait()
        woke[#woke + 1] = { i = i, iter = fake.iter, queued = lane:queued() }
        local t = assert(lane:next_done())
        assert.are.equal(i, owner[t])
        assert.are.equal(i, page_of(t))
        t:close()
      end)
    end
    -- every request is at the stand-in, in its 150 ms latency ...
    assert.is_true(fake:run(function() return srv:stats().in_flight >= N end, BOUND_MS))
    -- ... and the worker is busy elsewhere meanwhile: the answers wait in their sockets
    socket.sleep(0.4)
    assert.is_true(fake:run(function() return #woke == N end, BOUND_MS))

    -- they came back together: one pump step found at least three of them
    local per_step, biggest = {}, 0
    for _, d in ipairs(spy.done) do
      per_step[d.step] = (per_step[d.step] or 0) + 1
      if per_step[d.step] > biggest then biggest = per_step[d.step] end
    end
    assert.are.equal(N, #spy.done)
    assert.is_true(biggest >= 3, "largest batch " .. biggest)

    -- each lane woken once, by the pump's post (not by its wait's timeout), with its answer queued
    local max, iters = fake:resumes_by("post", from)
    local woken = 0
    for _, e in ipairs(iters) do woken = woken + #e.names end
    assert.are.equal(N, woken)
    assert.are.equal(0, (fake:resumes_by("timeout", from)))
    for _, w in ipairs(woke) do assert.are.equal(1, w.queued) end
    -- at most TURNS_PER_TICK (2) per iteration, so over at least three iterations
    assert.is_true(max <= 2, "an iteration woke " .. max .. " lanes")
    assert.is_true(#iters >= 3)
    -- in the pump's dispatch order
    local dispatched, order = {}, {}
    for k, d in ipairs(spy.done) do dispatched[k] = owner[d.t] end
    for k, w in ipairs(woke) do order[k] = w.i end
    assert.are.same(dispatched, order)
    -- each of those iterations ran the pump first (it gives the turns)
    for _, e in ipairs(iters) do
      local first = fake.iterations[e.iter].resumed[1]
      assert.are.equal("timer", first.thread.kind)
    end

    assert.is_true(fake:run(idle, BOUND_MS))
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
  end)

  it("a deep queue of lanes (an overloaded worker) gets one more turn per tick for every 16 queued", function()
    local N = 40
    hub_mod.get(fake.ngx)
    srv:config({ latency_ms = 150 })
    local woke = {}
    local from = fake.iter + 1
    for i = 1, N do
      fake:spawn("r" .. i, function()
        local lane = hub_mod.lane({ ngx = fake.ngx })
        lane:add(page_spec(1 + i % 25))
        lane:wait()
        woke[#woke + 1] = i
        assert.is_truthy(lane:next_done())
      end)
    end
    assert.is_true(fake:run(function() return srv:stats().in_flight >= N end, BOUND_MS))
    socket.sleep(0.4) -- the worker is busy elsewhere: the 40 answers wait in their sockets
    assert.is_true(fake:run(function() return #woke == N end, BOUND_MS))
    local max, iters = fake:resumes_by("post", from)
    local woken = 0
    for _, e in ipairs(iters) do woken = woken + #e.names end
    assert.are.equal(N, woken)
    -- 40 queued: 2 + floor(40 / 16) = 4 in the first tick, never more; fewer
    -- as the queue shrinks, so more than two per tick only while it is deep
    assert.are.equal(4, max)
    assert.is_true(#iters >= 10 and #iters <= 20, #iters .. " iterations")
  end)

  it("turn(): past SLICE_MS a lane queues for a turn and yields until the pump gives it one", function()
    hub_mod.get(fake.ngx)
    local lane = hub_mod.lane({ ngx = fake.ngx })
    local r, snap = {}, nil
    local th
    th = fake:spawn("r", function()
      -- the first call only starts the slice, however late it comes
      busy(2)
      local n = #th.resumes
      lane:turn()
      r.first_yielded = #th.resumes ~= n
      -- a transfer: the lane sleeps on its semaphore and the pump wakes it (a turn)
      lane:add(page_spec(1))
      while lane:queued() == 0 do lane:wait() end
      r.woken_by = th.resumes[#th.resumes].why
      lane:next_done():close()
      -- right after its turn began: returns at once. (A try may only yield if
      -- the process was preempted for SLICE_MS before turn() looked at
      -- the clock: then it must have held the worker that long; try again.)
      r.short = {}
      for _ = 1, 3 do
        local began, before = lane.turn_at, #th.resumes
        lane:turn()
        local yielded = #th.resumes ~= before
        r.short[#r.short + 1] = { yielded = yielded, held = yielded and th.blocks[#th.blocks].at - began }
        if not yielded then break end
      end
      -- 2 ms of work (four slices): it queues for a turn and yields
      busy(2)
      r.long = { iter = fake.iter, yields = lane.yields, resumes = #th.resumes }
      lane:turn()
      r.back = { iter = fake.iter, yields = lane.yields, resumes = #th.resumes, why = th.resumes[#th.resumes].why }
    end)
    assert.is_true(fake:run(function()
      if r.long and th.sema and not snap then snap = hub_mod.stats() end
      return th.dead
    end, BOUND_MS))

    assert.is_false(r.first_yielded)
    assert.are.equal("post", r.woken_by)
    local returned = false
    for _, s in ipairs(r.short) do
      if s.yielded then
        assert.is_true(s.held >= SLICE_MS, "yielded after holding the worker " .. s.held .. " ms")
      else
        returned = true
      end
    end
    assert.is_true(returned, "turn() yielded right after the turn began (3 tries)")

    -- while it waited: queued for a turn, the pump asked for
    assert.is_table(snap)
    assert.are.equal(1, snap.turns_waiting)
    assert.is_true(snap.pumping)
    -- it came back once, in a later iteration, woken by the pump's post
    assert.are.equal(r.long.resumes + 1, r.back.resumes)
    assert.are.equal("post", r.back.why)
    assert.is_true(r.back.iter > r.long.iter)
    assert.are.equal(r.long.yields + 1, r.back.yields)
    local ran = fake.iterations[r.back.iter].resumed
    assert.are.equal("timer", ran[1].thread.kind)
    assert.are.equal(th, ran[#ran].thread)

    assert.is_true(fake:run(idle, BOUND_MS))
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
  end)

end)
