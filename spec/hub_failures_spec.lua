-- apivideo.hub under the fake nginx loop (see spec/hub_spec.lua's header):
-- cancel and close of in-flight transfers; a lane whose request thread died
-- (client abort); no pump at all (nginx refused the timer); a pump that fails
-- (logged, replaced); a pump that is lost (replaced); a step that raises after
-- collecting; an engine timer due in under 1 ms (no spinning).
-- The fake loop, the helpers and what they map to: spec/support/hub.lua and
-- spec/support/fake_ngx.lua. The real nginx run is spec/openresty_spec.lua.
local core = require("apivideo.core")
local hub_mod = require("apivideo.hub")
local F = require("spec.support.fake_ngx")
local S = require("spec.support.standin")
local H = require("spec.support.hub")

local srv = S.shared()
local page_spec = H.page_spec(srv)
local page_of_result, pages_of, spy_on, idle, drain = H.page_of_result, H.pages_of, H.spy_on, H.idle, H.drain
local BOUND_MS, SLOW_VIDEO, SLOW_MS = H.BOUND_MS, H.SLOW_VIDEO, H.SLOW_MS

describe("apivideo.hub under a fake nginx loop: failures", function()
  local fake
  local pid = 60000

  local function serve(name, specs, got) return H.serve(fake, name, specs, got) end

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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))

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
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
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

end)
