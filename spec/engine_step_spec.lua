-- Specs of apivideo.engine (see spec/engine_spec.lua): kick, step and
-- pending, close, and normal use, over the blocking waiter with real libcurl
-- transfers against the stand-in.
local core = require("apivideo.core")
local engine_mod = require("apivideo.engine")
local waiter_mod = require("apivideo.waiter")
local socket = require("socket")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local D = require("spec.support.drive")
local expect = require("spec.support.expect")

local srv = S.shared()
local page_spec = D.page_specs(srv.url)
local new_client = clients.builder({ base_url = srv.url, max_retries = 0, auth = "basic" })

local function new_engine()
  return engine_mod.new(waiter_mod.blocking({}))
end

describe("apivideo.engine: kick, step, close", function()
  before_each(function() srv:idle_reset() end)
  teardown(function() srv:idle_reset() end)

  describe("kick", function()
    -- n transfers at once, so that the engine's multi keeps n connections:
    -- a request can only leave at once on a connection already open (on a
    -- new one, poll(0) starts the connect and the request leaves at the next
    -- poll)
    local function warm(e, n)
      srv:config({ latency_ms = 30 })
      local ts = {}
      for i = 1, n do ts[i] = e:spawn(function() return e:transfer(page_spec(i)) end) end
      for i = 1, n do e:join(ts[i]) end
      srv:idle_reset()
    end

    it("inside a task, starts the requests of the ready tasks at once, while it goes on working", function()
      local e = new_engine()
      warm(e, 3)
      srv:config({ latency_ms = 60 })
      local seen
      local main = e:spawn(function()
        local ts = {}
        for i = 1, 3 do ts[i] = e:spawn(function() return e:transfer(page_spec(i)).status end) end
        e:kick()
        -- works without yielding: only a request already sent can reach the server now
        socket.sleep(0.05)
        seen = srv:stats().api_requests
        for i = 1, 3 do assert.are.equal(200, e:await(ts[i])) end
      end)
      e:join(main)
      assert.is_nil(main.error)
      assert.are.equal(3, seen)
      e:close()
    end)

    it("without kick, the ready tasks' requests wait for the task to yield", function()
      local e = new_engine()
      warm(e, 1)
      srv:config({ latency_ms = 60 })
      local seen
      local main = e:spawn(function()
        local t = e:spawn(function() return e:transfer(page_spec(1)).status end)
        socket.sleep(0.05)
        seen = srv:stats().api_requests
        return e:await(t)
      end)
      e:join(main)
      assert.are.equal(200, main:outcome())
      assert.are.equal(0, seen)
      e:close()
    end)

    -- A walk inside client:run_all: the pages after the current one travel
    -- while the function works on it (the pager kicks from inside its task).
    for _, conc in ipairs({ 1, 4 }) do
      it("a walk in run_all keeps concurrency (" .. conc .. ") pages in flight while its caller works", function()
        local c = new_client({ concurrency = conc })
        -- a first walk opens the connections the measured one finds ready
        local P = { period = "2023", page_size = 25 }
        for _ in c.analytics:video_session_pages("vi250", P) do end -- luacheck: ignore 512
        srv:idle_reset()
        srv:config({ latency_ms = 40 })
        local ahead, pages = {}, 0
        local ok, err = c:run_all({ function()
          local next_page = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 })
          while true do
            local page = next_page()
            if not page then break end
            pages = pages + 1
            local before = srv:stats().api_requests
            socket.sleep(0.06) -- the caller works on the page, without yielding
            local st = srv:stats()
            ahead[#ahead + 1] = st.api_requests - pages
            assert(st.api_requests >= before)
          end
        end })
        assert.is_true(ok, tostring(err))
        assert.are.equal(10, pages)
        -- while it worked on page p, the server already had pages p+1..p+conc (up to page 10)
        local want = {}
        for p = 1, 10 do want[p] = math.min(conc, 10 - p) end
        -- While on page 1, connections of the warm-up walk the pool has lost
        -- (seen under ASan and valgrind, which slow everything down) must be
        -- opened anew: their requests leave at the next poll, once connected.
        -- So page 1 has at least one page on the wire; from page 2 on, every
        -- page ahead was on the wire while the caller worked.
        local st = srv:stats()
        assert.are.equal(10, st.api_requests)
        -- Under valgrind (APIVIDEO_SLOW) the client takes longer to send a
        -- round than the server's latency, so how many overlap there says
        -- nothing about kick: the counts are checked at normal speed only.
        if os.getenv("APIVIDEO_SLOW") ~= "1" then
          assert.is_true(ahead[1] >= math.min(1, want[1]) and ahead[1] <= want[1], "page 1: " .. ahead[1])
          ahead[1] = want[1]
          assert.are.same(want, ahead)
          -- never more than concurrency at once; and, with pages kicked ahead,
          -- more than one at once (at most conc: when page 1's connections
          -- are opened anew they leave one by one, seen under ASan as 3 of 4)
          assert.is_true(st.max_in_flight <= conc, "in flight at once: " .. st.max_in_flight)
          assert.is_true(st.max_in_flight >= math.min(conc, 2), "in flight at once: " .. st.max_in_flight)
        else
          for p = 2, 10 do assert.is_true(ahead[p] >= math.min(1, want[p]), "page " .. p .. ": nothing ahead") end
        end
        c:close()
      end)
    end
  end)

  describe("step and pending", function()
    it("step(0) does not wait; pending() tells a ready task, a timer and a transfer", function()
      local e = new_engine()
      assert.is_false(e:pending())
      local t0 = core.now_ms()
      assert.is_false(e:step(0))
      assert.is_true(core.now_ms() - t0 < 50)
      local t = e:spawn(function() e:sleep(60) end)
      assert.is_true(e:pending()) -- ready
      t0 = core.now_ms()
      assert.is_true(e:step(0)) -- now a timer
      assert.is_true(core.now_ms() - t0 < 50)
      assert.is_falsy(t.done)
      e:join(t)
      srv:config({ latency_ms = 200 })
      local f = e:spawn(function() return e:transfer(page_spec(1)) end)
      e:step(0)
      assert.are.equal(1, e:in_flight())
      assert.is_true(e:pending()) -- a transfer
      e:join(f)
      assert.is_false(e:pending())
      e:close()
    end)

    it("step(timeout) waits at most timeout_ms, less when a timer is due first", function()
      local e = new_engine()
      local t = e:spawn(function() e:sleep(300) end)
      local t0 = core.now_ms()
      assert.is_true(e:step(40)) -- nothing due within 40 ms
      local waited = core.now_ms() - t0
      assert.is_true(waited >= 35 and waited < 250, "step(40) took " .. waited .. " ms")
      t:cancel()
      local s = e:spawn(function() e:sleep(30) end)
      e:step(0)
      t0 = core.now_ms()
      e:step(2000) -- the timer bounds the wait
      waited = core.now_ms() - t0
      assert.is_true(s.done, "the sleeping task woke in that step")
      assert.is_true(waited >= 25 and waited < 500, "step(2000) with a 30 ms timer took " .. waited .. " ms")
      e:close()
    end)

    it("step(timeout) returns as soon as a transfer finishes, with its task resumed", function()
      srv:config({ latency_ms = 60 })
      local e = new_engine()
      local t = e:spawn(function() return e:transfer(page_spec(1)).status end)
      local t0 = core.now_ms()
      local rounds = 0
      while not t.done and rounds < 50 do
        e:step(3000)
        rounds = rounds + 1
      end
      local took = core.now_ms() - t0
      assert.is_true(t.done)
      assert.are.equal(200, t:outcome())
      assert.is_true(took >= 55 and took < 1500, "took " .. took .. " ms")
      e:close()
    end)
  end)

  describe("close", function()
    it("cancels every task (in flight, sleeping, ready), leaves nothing in flight; idempotent", function()
      srv:config({ latency_ms = 300 })
      local e = new_engine()
      local ran = {}
      local fetching = e:spawn(function() e:transfer(page_spec(1)) ran.fetch = true end)
      local sleeping = e:spawn(function() e:sleep(1000) ran.sleep = true end)
      e:step(0)
      local ready = e:spawn(function() ran.ready = true end)
      assert.are.equal(1, e:in_flight())
      e:close()
      for _, t in ipairs({ fetching, sleeping, ready }) do
        assert.is_true(t.done)
        assert.is_true(t.cancelled)
      end
      assert.are.equal(0, e:in_flight())
      assert.are.same({}, ran)
      assert.matches("closed", tostring(e.waiter))
      e:close()
      assert.are.equal(0, e:in_flight())
    end)

    it("client:close stops a walk in flight; in_flight() is 0 and the client raises afterwards", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 4 })
      local next_page = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 })
      assert.are.equal(1, next_page().pagination.current_page)
      c:step(0)
      assert.are.equal(4, c:in_flight())
      c:close()
      assert.are.equal(0, c:in_flight())
      c:close()
      local e = expect.argument_error(c.step, c, 0)
      assert.are.equal("apivideo: the client is closed", e.text)
      local ok, err = pcall(c.run_all, c, {})
      assert.is_false(ok)
      assert.are.equal("the client is closed", err.reason)
    end)
  end)

  describe("in normal use", function()
    it("never reaches the 'waiting with nothing in flight' internal error", function()
      srv:config({ latency_ms = 10 })
      local c = new_client({ concurrency = 3 })
      local e = c.engine
      local errs = {}
      local function guard(fn)
        local ok, err = pcall(fn)
        if not ok then errs[#errs + 1] = tostring(err) end
      end
      -- walks stopped early, cancelled tasks others join, sleeps, joins of finished tasks
      guard(function()
        local n = 0
        for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do
          n = n + 1
          if n == 15 then break end
        end
      end)
      guard(function()
        local victim = e:spawn(function() e:sleep(1000) end)
        local w = e:spawn(function() e:join(victim) return "ok" end)
        e:spawn(function() e:sleep(5) victim:cancel() end)
        assert.are.equal("ok", e:run(function() return e:await(w) end))
      end)
      guard(function()
        local ok, err = c:run_all({
          function() for _ = 1, 2 do c.analytics:list_video_sessions("vi250", { period = "2023" }) end end,
          function() e:sleep(20) end,
          function() end,
        }, { tick = function() end, tick_ms = 5 })
        assert(ok, err)
      end)
      guard(function()
        local t = e:spawn(function() return 1 end)
        e:join(t)
        e:join(t)
        assert.are.equal(1, e:run(function() return e:await(t) end))
      end)
      assert.are.same({}, errs)
      -- the guard sees it when it does happen: a run_until nothing can satisfy
      local ok, err = pcall(e.run_until, e, function() return false end)
      assert.is_false(ok)
      assert.matches("waiting with nothing in flight", err)
      c:close()
    end)
  end)
end)

