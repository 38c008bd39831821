-- Specs of client:run_all, the public way to run several tasks at once over
-- the client's engine (array and generator forms, limit, on_error, tick, bad
-- arguments), against the stand-in.
local core = require("apivideo.core")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local D = require("spec.support.drive")
local expect = require("spec.support.expect")
local L = require("spec.support.lists")

local srv = S.shared()
local page_spec = D.page_specs(srv.url)
local new_client = clients.builder({ base_url = srv.url, max_retries = 0, auth = "basic" })

describe("client:run_all", function()
  -- these specs count the requests in flight at the stand-in (max_in_flight):
  -- wait out what an earlier file left there (reliability_spec ends with a
  -- 20 s stalled answer), longer than before_each's 2 s
  setup(function() srv:idle_reset(25) end)
  before_each(function() srv:idle_reset() end)
  teardown(function() srv:idle_reset() end)

  -- fns that each list one page of vi250, counting how many run at once
  local function counted(n, state, extra)
    local fns = {}
    for i = 1, n do
      fns[i] = function()
        state.active = state.active + 1
        if state.active > state.peak then state.peak = state.active end
        local page, err = state.client.analytics:list_video_sessions("vi250",
          { period = "2023", page_size = 5, current_page = i })
        state.active = state.active - 1
        if not page then error(err) end
        state.done[#state.done + 1] = page.pagination.current_page
        if extra then extra(i) end
      end
    end
    return fns
  end

  local sorted = L.sorted

  it("runs an array of functions at once (their requests overlap)", function()
    srv:config({ latency_ms = 100 })
    local c = new_client()
    local state = { client = c, active = 0, peak = 0, done = {} }
    local t0 = core.now_ms()
    assert.is_true(c:run_all(counted(3, state)))
    local took = core.now_ms() - t0
    assert.are.same({ 1, 2, 3 }, sorted(state.done))
    assert.are.equal(3, state.peak)
    assert.are.equal(3, srv:stats().max_in_flight)
    assert.is_true(took < 290, "3 requests of 100 ms took " .. took .. " ms")
    assert.are.equal(0, c:in_flight())
    assert.is_true(c:run_all({})) -- nothing to do
    c:close()
  end)

  it("takes a generator of functions, called until it returns nil", function()
    local c = new_client()
    local state = { client = c, active = 0, peak = 0, done = {} }
    local fns, k, calls = counted(6, state), 0, 0
    local ok = c:run_all(function()
      calls = calls + 1
      k = k + 1
      return fns[k]
    end)
    assert.is_true(ok)
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, sorted(state.done))
    assert.are.equal(7, calls) -- six functions, then nil, never asked again
  end)

  for _, form in ipairs({ "array", "generator" }) do
    it("never runs more than limit functions at once (" .. form .. ")", function()
      srv:config({ latency_ms = 30 })
      local c = new_client()
      local state = { client = c, active = 0, peak = 0, done = {} }
      local fns = counted(7, state)
      local arg = fns
      if form == "generator" then
        local k = 0
        arg = function()
          k = k + 1
          return fns[k]
        end
      end
      assert.is_true(c:run_all(arg, { limit = 2 }))
      assert.are.same({ 1, 2, 3, 4, 5, 6, 7 }, sorted(state.done))
      assert.are.equal(2, state.peak)
      assert.are.equal(2, srv:stats().max_in_flight)
      c:close()
    end)
  end

  it("with on_error returning true, goes on after an error (told the error and the position)", function()
    local c = new_client()
    local state = { client = c, active = 0, peak = 0, done = {} }
    local fns = counted(3, state)
    table.insert(fns, 2, function()
      local page, err = c.analytics:list_video_sessions("viUnknown", { period = "2023" })
      assert(page == nil)
      error(err)
    end)
    local told = {}
    local ok, err = c:run_all(fns, { on_error = function(e, i)
      told[#told + 1] = { e = e, i = i }
      return true
    end })
    assert.is_true(ok)
    assert.is_nil(err)
    assert.are.same({ 1, 2, 3 }, sorted(state.done))
    assert.are.equal(1, #told)
    assert.are.equal(2, told[1].i)
    assert.are.equal(404, told[1].e.status)
  end)

  -- a function whose request the stand-in holds for 600 ms, and one that
  -- fails at once with the error object of a 404 (an unknown id)
  local function stopping_fns(c, state)
    local slow = function()
      c.analytics:list_video_sessions("vi10k", { period = "2023" })
      state.finished = state.finished + 1
    end
    local walk = function()
      local next_page = c.analytics:video_session_pages("vi10k", { period = "2023", page_size = 10 })
      next_page()
      state.finished = state.finished + 1
    end
    local failing = function()
      local _, e = c.analytics:list_video_sessions("viUnknown", { period = "2023" })
      state.raised = e
      error(e)
    end
    return { slow, failing, walk }
  end

  for _, form in ipairs({ "no on_error", "on_error returning false" }) do
    it("stops at the first error, returned as it is, without waiting for the others (" .. form .. ")", function()
      srv:faults({ { match = "vi10k", kind = "delay", delay_ms = 600, count = -1 } })
      local c = new_client()
      local state = { finished = 0 }
      local told = 0
      local opts = form ~= "no on_error" and { on_error = function() told = told + 1 return false end } or nil
      local t0 = core.now_ms()
      local ok, err = c:run_all(stopping_fns(c, state), opts)
      local took = core.now_ms() - t0
      assert.is_nil(ok)
      assert.are.equal(state.raised, err) -- the same error object
      assert.are.equal(404, err.status)
      assert.are.equal("GET", err.method)
      assert.are.equal(opts and 1 or 0, told)
      assert.is_true(took < 500, "it waited for the slow ones: " .. took .. " ms")
      -- the others were cancelled: they never go on, even once their answers came
      local until_ms = core.now_ms() + 800
      while core.now_ms() < until_ms do c:step(20) end
      assert.are.equal(0, state.finished)
      c:close()
    end)
  end

  it("stops at the first error with no request of the cancelled functions left in flight", function()
    srv:faults({ { match = "vi10k", kind = "delay", delay_ms = 600, count = -1 } })
    local c = new_client()
    local state = { finished = 0 }
    local ok = c:run_all(stopping_fns(c, state))
    assert.is_nil(ok)
    assert.are.equal(0, c:in_flight())
    assert.is_false(c.engine:pending())
    c:close()
  end)

  it("returns the function's own error as it raised it (a string keeps its traceback), and an error object as is",
    function()
    local c = new_client()
    local ok, err = c:run_all({ function() error("plain failure", 0) end })
    assert.is_nil(ok)
    assert.matches("^plain failure", err) -- nothing of the library's in front
    local mine = { mine = true }
    local ok2, err2 = c:run_all({ function() error(mine) end })
    assert.is_nil(ok2)
    assert.are.equal(mine, err2)
    assert.is_truthy(err:find("stack traceback:", 1, true))
  end)

  it("calls tick about every tick_ms during a slow walk", function()
    srv:config({ latency_ms = 50 })
    local c = new_client({ concurrency = 1 })
    local ticks, pages = {}, 0
    local t0 = core.now_ms()
    local ok = c:run_all({ function()
      local next_page = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 50 })
      while next_page() do pages = pages + 1 end
    end }, { tick = function() ticks[#ticks + 1] = core.now_ms() end, tick_ms = 40 })
    local took = core.now_ms() - t0
    assert.is_true(ok)
    assert.are.equal(5, pages)
    local expected = took / 40
    assert.is_true(#ticks >= expected / 2 and #ticks <= expected + 1,
      #ticks .. " ticks in " .. took .. " ms")
    local prev = t0
    for i, at in ipairs(ticks) do
      assert.is_true(at - prev >= 35, "tick " .. i .. " came " .. (at - prev) .. " ms after the one before")
      prev = at
    end
    -- the ticker task is gone once it returned
    assert.is_nil(next(c.engine.tasks))
    c:close()
  end)

  it("raises on bad arguments, naming the argument, before sending anything", function()
    local c = new_client()
    local f = function() error("must not run") end
    local cases = {
      { { 42 }, "bad argument 'fns' (array of functions or function expected, got number)" },
      { { { f, "x" } }, "bad argument 'fns' (item 2 is a string, not a function)" },
      { { { f }, 7 }, "bad argument 'options' (table expected, got number)" },
      { { { f }, { limt = 2 } }, "unknown option 'limt' in 'options'" },
      { { { f }, { limit = 0 } }, "bad argument 'limit'" },
      { { { f }, { limit = 1.5 } }, "bad argument 'limit'" },
      { { { f }, { on_error = true } }, "bad option 'on_error' (function expected, got boolean)" },
      { { { f }, { tick = "x" } }, "bad option 'tick' (function expected, got string)" },
      { { { f }, { tick_ms = 0 } }, "bad argument 'tick_ms'" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(c.run_all, c, case[1][1], case[1][2])
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("client:run_all: " .. case[2], 1, true), tostring(err))
    end
    assert.are.equal(0, srv:stats().requests)
    c:close()
  end)

  it("raises an argument error, the others cancelled, when the generator gives something that is not a function",
    function()
    local c = new_client()
    local k, ran = 0, 0
    local e = expect.argument_error(c.run_all, c, function()
      k = k + 1
      if k == 3 then return 99 end
      return function() ran = ran + 1 end
    end)
    assert.are.same({ "client:run_all", "fns", "the function giving the next one returned a number" },
      { e.fn, e.arg, e.reason })
    assert.are.equal(0, c:in_flight())
    c:close()
  end)

  it("raises when called from inside one of the client's tasks", function()
    local c = new_client()
    local inner_err
    local ok, err = c:run_all({ function()
      local ok2, e = pcall(c.run_all, c, { function() end })
      assert(not ok2)
      inner_err = e
    end })
    assert.is_true(ok, tostring(err))
    assert.matches("client:run_all was called from inside one of the client's tasks", inner_err)
    c:close()
  end)

  it("raises on a closed client", function()
    local c = new_client()
    c:close()
    local e = expect.argument_error(c.run_all, c, { function() end })
    assert.are.equal("apivideo: the client is closed", e.text)
  end)

  it("leaves nothing in flight when the generator raises", function()
    srv:config({ latency_ms = 300 })
    local c = new_client()
    local k = 0
    local fns = {
      function() end,
      -- a request of the function's own task (no sub-task: see the spec above)
      function() c.engine:transfer(page_spec(1)) end,
    }
    local ok, err = pcall(c.run_all, c, function()
      k = k + 1
      if k == 3 then error("generator failed") end
      return fns[k]
    end, { limit = 2 })
    assert.is_false(ok)
    assert.matches("generator failed", err)
    assert.are.equal(0, c:in_flight())
    assert.is_nil(next(c.engine.tasks))
    c:close()
  end)

  it("walks several iterators at once, calling each iterator directly (Lua 5.1: no generic for in a task)",
    function()
      -- (under valgrind the client is slower than 20 ms of latency: the walks
      -- could not overlap at the server; 200 ms leaves them the time to)
      srv:config({ latency_ms = os.getenv("APIVIDEO_SLOW") == "1" and 200 or 20 })
      local c = new_client({ concurrency = 2 })
      local ids = { vi250 = {}, li500 = {} }
      local ok, err = c:run_all({
        function()
          local next_item = c.analytics:video_sessions("vi250", { period = "2023", page_size = 50 })
          local item = next_item()
          while item do
            ids.vi250[#ids.vi250 + 1] = item.session.session_id
            item = next_item()
          end
        end,
        function()
          local next_item = c.analytics:live_stream_sessions("li500", { period = "2023", page_size = 100 })
          local item = next_item()
          while item do
            ids.li500[#ids.li500 + 1] = item.session.session_id
            item = next_item()
          end
        end,
      })
      assert.is_true(ok, tostring(err))
      assert.are.equal(250, #ids.vi250)
      assert.are.equal(500, #ids.li500)
      assert.are.equal("psvi250_000001", ids.vi250[1])
      assert.are.equal("psvi250_000250", ids.vi250[250])
      assert.are.equal("psli500_000500", ids.li500[500])
      -- the two walks overlapped: more than one walk's concurrency at once
      assert.is_true(srv:stats().max_in_flight > 2, "max_in_flight " .. srv:stats().max_in_flight)
      c:close()
    end)
end)
