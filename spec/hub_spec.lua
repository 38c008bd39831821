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
local apivideo = require("apivideo")
local core = require("apivideo.core")
local hub_mod = require("apivideo.hub")
local F = require("spec.support.fake_ngx")
local S = require("spec.support.standin")
local L = require("spec.support.lists")
local model = require("spec.support.model")
local mime = require("mime")
local socket = require("socket")

local srv = S.shared()

local AUTH = "Authorization: Basic " .. mime.b64("standin-key:")
local SLICE_MS = 0.5 -- hub.lua's
-- how long any one run of the fake loop may take (valgrind: much longer)
local BOUND_MS = os.getenv("APIVIDEO_SLOW") == "1" and 60000 or 10000
-- requests for this video are held by the stand-in (a delay fault)
local SLOW_VIDEO, SLOW_MS = "vi10k", 300

local function page_spec(n, video)
  return {
    url = srv.url .. "/analytics/videos/" .. (video or "vi250") .. "?period=2023&pageSize=10&currentPage=" .. n,
    headers = { AUTH },
  }
end

-- The page number a finished transfer answered (it must be a 200 page).
local function page_of(t)
  local r = assert(t:result(true))
  assert.are.equal(200, r.status)
  return r.json.pagination.current_page
end

-- The page number of a transfer result table (a 200 page).
local function page_of_result(r)
  assert.are.equal(200, r.status)
  return r.json.pagination.current_page
end

local function sid(i)
  return model.session_id("vi250", i)
end

local function busy(ms)
  local t0 = core.now_ms()
  while core.now_ms() - t0 < ms do end
end

local sorted = L.sorted

-- Replaces the hub's multi handle with a proxy that records which transfers
-- each pump step (perform) handed out, in order; spy.fail = msg makes the
-- next perform raise msg. Before the pump starts.
local function spy_on(h)
  local real = h.multi
  local spy = { steps = 0, done = {}, fail = false }
  setmetatable(spy, {
    __index = function(_, k)
      local f = real[k]
      return function(_, ...) return f(real, ...) end
    end,
  })
  function spy.perform(_, ms)
    spy.steps = spy.steps + 1
    if spy.fail then
      local msg = spy.fail
      spy.fail = false
      error(msg, 0)
    end
    return real:perform(ms)
  end
  function spy.next_done()
    local t = real:next_done()
    if t then spy.done[#spy.done + 1] = { t = t, step = spy.steps } end
    return t
  end
  h.multi = spy
  return spy
end

describe("apivideo.hub under a fake nginx loop", function()
  local fake
  local pid = 50000

  local function idle()
    local s = hub_mod.stats()
    return s.in_flight == 0 and s.owned == 0 and not s.pumping
  end

  -- Inside a light thread: waits for and takes every transfer of the lane
  -- until none is left; returns them in the order they were taken.
  local function drain(lane, got)
    got = got or {}
    while lane:count() > 0 or lane:queued() > 0 do
      lane:wait()
      local t = lane:next_done()
      while t do
        got[#got + 1] = t
        t = lane:next_done()
      end
    end
    return got
  end

  -- Spawns a request thread whose new lane sends these specs and takes every
  -- answer into got (when given); the lane is th.lane once the thread ran.
  local function serve(name, specs, got)
    local th
    th = fake:spawn(name, function()
      local lane = hub_mod.lane({ ngx = fake.ngx })
      th.lane = lane
      for _, spec in ipairs(specs) do lane:add(spec) end
      drain(lane, got)
    end)
    return th
  end

  local function pages_of(transfers)
    local out = {}
    for i, t in ipairs(transfers) do out[i] = page_of(t) end
    return sorted(out)
  end

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
    assert.are.same({ in_flight = 5, owned = 5, turns_waiting = 0, pumping = true }, hub_mod.stats())

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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
    local pumps = fake:threads_of("timer")
    assert.are.equal(1, #pumps) -- one pump for the worker, not one per lane
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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
  end)

  it("cancel: a cancelled transfer leaves count and owned, finishes in the hub (its connection kept) and is"
    .. " never delivered", function()
    srv:faults({ { match = SLOW_VIDEO, kind = "delay", delay_ms = SLOW_MS, count = -1 } })
    hub_mod.get(fake.ngx)
    local r = {}
    local th = fake:spawn("a", function()
      local lane = hub_mod.lane({ ngx = fake.ngx })
      local t1 = lane:add(page_spec(1, SLOW_VIDEO))
      local t2 = lane:add(page_spec(2, SLOW_VIDEO))
      local t3 = lane:add(page_spec(3, SLOW_VIDEO))
      fake.ngx.sleep(0.05) -- the three requests are at the stand-in
      local function counts()
        local s = hub_mod.stats()
        return { lane:count(), s.owned, s.in_flight, lane:queued() }
      end
      r.before = counts()
      lane:release(t2)
      r.after, r.state = counts(), t2:state()
      lane:release(t2) -- again: nothing more changes
      r.again = counts()
      r.got = drain(lane)
      r.t1, r.t2, r.t3 = t1, t2, t3
    end)
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.same({ 3, 3, 3, 0 }, r.before)
    -- no longer the lane's nor owned, but still in flight: it finishes in the hub
    assert.are.same({ 2, 2, 3, 0 }, r.after)
    assert.are.equal("running", r.state)
    assert.are.same({ 2, 2, 3, 0 }, r.again)
    assert.are.equal(2, #r.got)
    assert.is_true((r.got[1] == r.t1 and r.got[2] == r.t3) or (r.got[1] == r.t3 and r.got[2] == r.t1))
    assert.are.same({ 1, 3 }, pages_of(r.got))
    assert.is_true(fake:run(idle, BOUND_MS))
    assert.are.equal("closed", r.t2:state()) -- the hub closed it once its answer was in
    -- its answer was read to the end: its connection went back to the pool
    assert.are.equal(3, srv:stats().connections)
  end)

  it("close: a lane's finished transfers are closed, those in flight finish in the hub; another lane still gets"
    .. " its own", function()
    srv:faults({ { match = SLOW_VIDEO, kind = "delay", delay_ms = SLOW_MS, count = -1 } })
    hub_mod.get(fake.ngx)
    local r, closed_lane = {}, nil
    local c = fake:spawn("c", function()
      local lane = hub_mod.lane({ ngx = fake.ngx })
      closed_lane = lane
      local quick = lane:add(page_spec(1))
      local slow = lane:add(page_spec(2, SLOW_VIDEO))
      while lane:queued() == 0 do lane:wait() end -- quick is back (and not taken), slow in flight
      r.before = { lane:count(), lane:queued() }
      lane:close()
      local s = hub_mod.stats()
      r.after = { lane:count(), lane:queued(), quick:state(), slow:state(), s.owned, s.in_flight }
      lane:close() -- idempotent
      r.add_ok, r.add_err = pcall(lane.add, lane, page_spec(3))
      r.name = tostring(lane)
    end)
    local d_got = {}
    local d = serve("d", { page_spec(4, SLOW_VIDEO), page_spec(5, SLOW_VIDEO) }, d_got)
    assert.is_true(fake:run(function() return c.dead and d.dead and idle() end, BOUND_MS))
    assert.are.same({ 1, 1 }, r.before)
    -- d's two are all the hub still owns; c's slow one is still in flight, owned by nobody
    assert.are.same({ 0, 0, "closed", "running", 2, 3 }, r.after)
    assert.is_false(r.add_ok)
    assert.is_truthy(tostring(r.add_err):find("multi handle is closed", 1, true))
    assert.are.equal("apivideo.hub.lane (closed)", r.name)
    assert.are.same({ 4, 5 }, pages_of(d_got))
    -- nothing reached the closed lane afterwards
    assert.are.equal(0, closed_lane:queued())
    assert.is_nil(closed_lane:next_done())
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
  end)

  it("a lane whose request died while it waited (client abort) leaves the hub working and owning nothing", function()
    srv:faults({ { match = SLOW_VIDEO, kind = "delay", delay_ms = SLOW_MS, count = -1 } })
    hub_mod.get(fake.ngx)
    local dead_lane
    local x = fake:spawn("x", function()
      dead_lane = hub_mod.lane({ ngx = fake.ngx })
      dead_lane:add(page_spec(1, SLOW_VIDEO))
      dead_lane:add(page_spec(2, SLOW_VIDEO))
      drain(dead_lane)
      error("the aborted request ran again")
    end)
    local y_got = {}
    local y = serve("y", { page_spec(3, SLOW_VIDEO) }, y_got)
    -- both asleep on their semaphores
    assert.is_true(fake:run(function() return x.sema ~= nil and y.sema ~= nil end, BOUND_MS))
    assert.are.equal(3, hub_mod.stats().owned)
    fake:kill(x)
    local resumes = #x.resumes
    assert.is_true(fake:run(function() return y.dead and idle() end, BOUND_MS))
    assert.are.equal(resumes, #x.resumes)
    assert.are.same({ 3 }, pages_of(y_got))
    -- its answers went to its own queue (garbage with the lane), not to y
    assert.are.equal(0, dead_lane:count())
    assert.are.equal(2, dead_lane:queued())
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())

    -- and a new request is served as usual
    local z_got = {}
    local z = serve("z", { page_spec(4) }, z_got)
    assert.is_true(fake:run(function() return z.dead and idle() end, BOUND_MS))
    assert.are.same({ 4 }, pages_of(z_got))
    assert.are.equal("post", z.resumes[#z.resumes].why)
  end)

  it("without a pump (nginx refused the timer) a waiting lane polls for itself and gets its results", function()
    srv:config({ latency_ms = 20 })
    hub_mod.get(fake.ngx)
    fake.refuse_timers = "too many pending timers"
    local got = {}
    local th = serve("r", { page_spec(1), page_spec(2) }, got)
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.same({ 1, 2 }, pages_of(got))
    assert.is_true(fake.refused >= 1)
    assert.are.equal(0, #fake:threads_of("timer"))
    assert.is_true(th.lane.yields >= 1)
    -- it started, then only ever came back from its own naps
    assert.are.equal("start", th.resumes[1].why)
    assert.is_true(#th.resumes >= 2)
    for k = 2, #th.resumes do assert.are.equal("sleep", th.resumes[k].why) end
    local s = hub_mod.stats()
    assert.are.equal(0, s.in_flight)
    assert.are.equal(0, s.owned)
    assert.is_false(s.pumping)

    -- once nginx accepts timers again, the next transfer starts the pump
    fake.refuse_timers = nil
    local got2 = {}
    local th2 = serve("r2", { page_spec(3) }, got2)
    assert.is_true(fake:run(function() return th2.dead and idle() end, BOUND_MS))
    assert.are.same({ 3 }, pages_of(got2))
    assert.are.equal(1, #fake:threads_of("timer"))
    assert.are.equal("post", th2.resumes[#th2.resumes].why)
  end)

  it("a pump that fails is logged at ERR and replaced; the lane it left asleep steps for itself meanwhile", function()
    srv:faults({ { match = SLOW_VIDEO, kind = "delay", delay_ms = SLOW_MS, count = -1 } })
    local spy = spy_on(hub_mod.get(fake.ngx))
    spy.fail = "boom in perform"
    local got = {}
    local th = serve("r", { page_spec(1), page_spec(2, SLOW_VIDEO) }, got)
    assert.is_true(fake:run(function() return th.dead and idle() end, BOUND_MS))
    assert.are.same({ 1, 2 }, pages_of(got))
    assert.are.equal(1, #fake.logs)
    assert.are.equal(fake.ngx.ERR, fake.logs[1].level)
    assert.is_truthy(fake.logs[1].message:find("the worker's pump stopped: boom in perform", 1, true),
      fake.logs[1].message)
    -- the first pump died at its first step, before anything was sent; the
    -- lane's wait ran out (LANE_WAIT_MAX_MS), it stepped once itself, waited
    -- again and so started a second pump, which woke it for its answers
    local pumps = fake:threads_of("timer")
    assert.are.equal(2, #pumps)
    assert.is_true(pumps[1].finished and pumps[2].finished)
    assert.are.equal("start", th.resumes[1].why)
    assert.are.equal("timeout", th.resumes[2].why)
    assert.is_true(#th.resumes >= 3)
    for k = 3, #th.resumes do assert.are.equal("post", th.resumes[k].why) end
    assert.is_true(pumps[2].resumes[1].iter >= th.resumes[2].iter)
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
  end)

  it("a lost pump (its thread never runs again) is replaced by the next lane that waits or sends", function()
    -- nginx accepts a timer but never runs it once lua_max_running_timers is
    -- exhausted; here the pump's thread is simply killed
    srv:config({ latency_ms = 20 })
    hub_mod.get(fake.ngx)
    local got = {}
    local th = serve("r", { page_spec(1) }, got)
    assert.is_true(fake:run(function() return th.sema ~= nil and #fake:threads_of("timer") == 1 end, BOUND_MS))
    fake:kill(fake:threads_of("timer")[1])
    local t0 = core.now_ms()
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.same({ 1 }, pages_of(got))
    -- its wait ran out (LANE_WAIT_MAX_MS, 1 s), it stepped once itself and
    -- waited again: the old pump had not ticked for far longer than 100 ms,
    -- so that wait started a second one, whose post brought the answer
    assert.are.equal("start", th.resumes[1].why)
    assert.are.equal("timeout", th.resumes[2].why)
    assert.are.equal("post", th.resumes[#th.resumes].why)
    assert.are.equal(2, #fake:threads_of("timer"))
    assert.is_true(core.now_ms() - t0 < 2500, "took " .. (core.now_ms() - t0) .. " ms")
    assert.is_true(fake:run(idle, BOUND_MS))
    -- a new transfer replaces a lost pump at once
    local h = hub_mod.get(fake.ngx)
    local got2 = {}
    local th2 = serve("r2", { page_spec(2) }, got2)
    assert.is_true(fake:run(function() return th2.sema ~= nil and h.pumping end, BOUND_MS))
    fake:kill(fake:threads_of("timer")[3])
    h.pump_at = core.now_ms() - 200 -- (as if it had been lost for 200 ms)
    local th3 = serve("r3", { page_spec(3) }, {})
    t0 = core.now_ms()
    assert.is_true(fake:run(function() return th2.dead and th3.dead end, BOUND_MS))
    assert.are.same({ 2 }, pages_of(got2))
    assert.are.equal(4, #fake:threads_of("timer"))
    assert.is_true(core.now_ms() - t0 < 500, "took " .. (core.now_ms() - t0) .. " ms")
  end)

  it("a step that raises after collecting (out of memory) strands nothing: the next step hands it over", function()
    srv:config({ latency_ms = 20 })
    local h = hub_mod.get(fake.ngx)
    local real = h.multi
    local wrapped = setmetatable({ armed = true }, {
      __index = function(_, k)
        local f = real[k]
        return function(_, ...) return f(real, ...) end
      end,
    })
    function wrapped.perform(_, ms)
      local n, finished = real:perform(ms)
      if finished > 0 and wrapped.armed then -- what finished is in the done queue, then it raises
        wrapped.armed = false
        error("apivideo.core: out of memory (socket list)", 0)
      end
      return n, finished
    end
    h.multi = wrapped
    local got = {}
    local th = serve("r", { page_spec(1) }, got)
    local t0 = core.now_ms()
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.same({ 1 }, pages_of(got))
    assert.is_false(wrapped.armed) -- it did raise
    assert.are.equal(1, #fake.logs) -- the pump that died of it
    assert.is_true(core.now_ms() - t0 < 2500, "took " .. (core.now_ms() - t0) .. " ms")
  end)

  it("a lost pump whose replacement nginx refuses: the lanes poll for themselves", function()
    srv:config({ latency_ms = 20 })
    local h = hub_mod.get(fake.ngx)
    local got = {}
    local th = serve("r", { page_spec(1) }, got)
    assert.is_true(fake:run(function() return th.sema ~= nil and #fake:threads_of("timer") == 1 end, BOUND_MS))
    fake:kill(fake:threads_of("timer")[1]) -- lost
    fake.refuse_timers = "too many pending timers" -- and no new one is accepted
    h.pump_at = core.now_ms() - 200
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.same({ 1 }, pages_of(got))
    assert.is_false(h.pumping)
    -- the wait under way when the pump was lost ran out once; after that the
    -- lane napped and stepped by itself
    local whys = {}
    for k, r in ipairs(th.resumes) do whys[k] = r.why end
    assert.are.equal("timeout", whys[2])
    assert.is_true(#whys >= 3, table.concat(whys, ","))
    for k = 3, #whys do assert.are.equal("sleep", whys[k], table.concat(whys, ",")) end
  end)

  it("an engine timer due in under 1 ms: every wait of the lane yields (no spinning)", function()
    srv:config({ latency_ms = 200 })
    local engine_mod = require("apivideo.engine")
    local eng = engine_mod.new(hub_mod.lane({ ngx = fake.ngx }))
    local calls, returned_without_yield = 0, 0
    local th
    th = fake:spawn("r", function()
      -- one transfer in flight (200 ms) and, in another task, twenty 0.8 ms sleeps
      local fetch = eng:spawn(function() return eng:transfer(page_spec(1)) end)
      local naps = eng:spawn(function()
        for _ = 1, 20 do eng:sleep(0.8) end
      end)
      local wait = eng.waiter.wait
      eng.waiter.wait = function(lane, ms)
        calls = calls + 1
        -- (a finished transfer already queued is taken at once: that is no
        -- spin, and under valgrind the 200 ms answer can be in before a wait)
        local queued, before = lane:queued(), #th.resumes
        wait(lane, ms)
        if queued == 0 and #th.resumes == before then
          returned_without_yield = returned_without_yield + 1
        end
      end
      eng:run_until(function() return fetch.done and naps.done end)
      assert.are.equal(1, page_of_result(fetch:outcome()))
    end)
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.is_nil(th.error)
    -- before the fix: ~4 300 calls, all but a dozen returning at once
    assert.are.equal(0, returned_without_yield)
    assert.is_true(calls >= 20 and calls <= 40, calls .. " waits")
    -- every wait counted a yield (turn() may add some when the machine is slow)
    assert.is_true(eng.waiter.yields >= calls, eng.waiter.yields .. " yields for " .. calls .. " waits")
    eng:close()
  end)

  describe("through apivideo.new inside (fake) nginx", function()
    local function new_client(opts)
      local o = { api_key = "standin-key", base_url = srv.url, auth = "basic" }
      for k, v in pairs(opts or {}) do o[k] = v end
      return apivideo.new(o)
    end

    -- Inside a light thread: the rest of a walk. Generic-for is avoided: on
    -- PUC Lua 5.1 an iterator cannot yield (the call crosses a C boundary).
    local function walk(next_page, ids, pages)
      while true do
        local page = next_page()
        if not page then return end
        pages[#pages + 1] = page.pagination.current_page
        for _, s in ipairs(page.data) do ids[#ids + 1] = s.session.session_id end
      end
    end

    local function expect_all(ids, pages, per_page)
      assert.are.equal(250, #ids)
      for i = 1, 250 do
        if ids[i] ~= sid(i) then assert.are.equal(sid(i), ids[i], "item " .. i) end
      end
      local want = {}
      for p = 1, 250 / per_page do want[p] = p end
      assert.are.same(want, pages)
    end

    local saved_ngx

    before_each(function()
      saved_ngx = rawget(_G, "ngx")
      rawset(_G, "ngx", fake.ngx)
      -- so the engine ties a client's tasks to ngx.ctx (no FFI request here)
      assert.is_false((pcall(require, "resty.core.base")))
      package.loaded["resty.core.base"] = nil -- (Lua 5.1 leaves a marker after a failed require)
    end)

    after_each(function()
      rawset(_G, "ngx", saved_ngx)
      package.preload["ngx.semaphore"] = nil
      package.loaded["resty.core.base"] = nil
    end)

    it("gives the engine a lane of the worker's hub; a walk returns every session, in order", function()
      local client = new_client({ concurrency = 3 })
      local lane = client.engine.waiter
      assert.is_table(lane)
      assert.are.equal("lane", lane.kind)
      assert.is_false(lane.polling)
      assert.are.equal(getmetatable(hub_mod.lane({ ngx = fake.ngx })), getmetatable(lane))
      -- outside a request (a phase that cannot yield) it refuses to wait
      local ok, err = pcall(client.analytics.list_video_sessions, client.analytics, "vi250", { period = "2023" })
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("nginx phase 'init'", 1, true), tostring(err))

      local ids, pages = {}, {}
      local th = fake:spawn("walk", function()
        walk(client.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 }), ids, pages)
        client:close()
      end)
      assert.is_true(fake:run(function() return th.dead and idle() end, BOUND_MS))
      expect_all(ids, pages, 25)
      assert.are.equal(10, srv:stats().api_requests)
      assert.is_true(lane.closed)
      -- it slept on its semaphore and the pump woke it
      local posts = 0
      for _, res in ipairs(th.resumes) do
        if res.why == "post" then posts = posts + 1 end
      end
      assert.is_true(posts >= 1)
      assert.is_true(lane.yields >= 1)
      assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, hub_mod.stats())
    end)

    it("refuses to be driven by a second request while the first one's walk is under way (ngx.ctx)", function()
      srv:config({ latency_ms = 20 })
      local client = new_client({ concurrency = 3 })
      local ids, pages, second = {}, {}, nil
      local first = fake:spawn("first", function()
        local next_page = client.analytics:video_session_pages("vi250", { period = "2023", page_size = 50 })
        local page = next_page()
        pages[1] = page.pagination.current_page
        for _, s in ipairs(page.data) do ids[#ids + 1] = s.session.session_id end
        -- pages 2-4 are in flight for this request; another request tries the client
        second = fake:spawn("second", function()
          local ok, err = pcall(client.analytics.list_video_sessions, client.analytics, "vi250",
            { period = "2023" })
          second.result = { ok = ok, err = tostring(err) }
        end)
        while not second.dead do fake.ngx.sleep(0.002) end
        walk(next_page, ids, pages) -- what finished meanwhile waited in its lane
        client:close()
      end)
      assert.is_true(fake:run(function() return first.dead and idle() end, BOUND_MS))
      assert.is_false(second.result.ok)
      assert.is_truthy(second.result.err:find("this client is busy in another nginx request", 1, true),
        second.result.err)
      expect_all(ids, pages, 50)
      assert.are.equal(5, srv:stats().api_requests) -- the refused call sent nothing
    end)

    it("without ngx.semaphore the lane polls for itself (no pump, no semaphore)", function()
      package.loaded["ngx.semaphore"] = nil
      -- (LuaJIT would otherwise find lua-resty-core's, which needs a real nginx)
      package.preload["ngx.semaphore"] = function() error("no ngx.semaphore here") end
      local client = new_client()
      local lane = client.engine.waiter
      assert.are.equal("lane", lane.kind)
      assert.is_true(lane.polling)
      local got
      local th = fake:spawn("r", function()
        got = client.analytics:list_video_sessions("vi250", { period = "2023", page_size = 5, current_page = 2 })
        client:close()
      end)
      assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
      assert.are.equal(2, got.pagination.current_page)
      assert.are.same({ sid(6), sid(7), sid(8), sid(9), sid(10) },
        { got.data[1].session.session_id, got.data[2].session.session_id, got.data[3].session.session_id,
          got.data[4].session.session_id, got.data[5].session.session_id })
      assert.are.equal(0, #fake:threads_of("timer"))
      for k = 2, #th.resumes do assert.are.equal("sleep", th.resumes[k].why) end
    end)
  end)
end)
