-- Specs of apivideo.engine (tasks, timers, join/await/run/run_until, step,
-- kick, cancel, close) over the blocking waiter, with real libcurl transfers
-- against the stand-in, and of client:run_all, the public way to run several
-- tasks at once (array and generator forms, limit, on_error, tick, bad
-- arguments). Transfers here are specs for apivideo.core (url, headers), as
-- request.lua sends them.
local apivideo = require("apivideo")
local core = require("apivideo.core")
local engine_mod = require("apivideo.engine")
local waiter_mod = require("apivideo.waiter")
local mime = require("mime")
local socket = require("socket")
local S = require("spec.support.standin")
local expect = require("spec.support.expect")

local srv = S.shared()
local AUTH = "Authorization: Basic " .. mime.b64("standin-key:")
local PAGE = "/analytics/videos/vi250?period=2023&pageSize=3"

local function page_spec(n)
  return { url = srv.url .. PAGE .. "&currentPage=" .. (n or 1), headers = { AUTH } }
end

local function new_engine()
  return engine_mod.new(waiter_mod.blocking({}))
end

local function new_client(opts)
  local o = { api_key = "standin-key", base_url = srv.url, max_retries = 0, auth = "basic" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return apivideo.new(o)
end

-- Drives e with step(10) until pred() holds or max_ms passed; true when it held.
local function step_until(e, pred, max_ms)
  local deadline = core.now_ms() + (max_ms or 3000)
  while not pred() do
    if core.now_ms() > deadline then return false end
    e:step(10)
  end
  return true
end

-- A TCP listener that accepts one connection and reads one request's head:
-- the "server" of the cancel specs, which tells when the client closes.
local function listener()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:settimeout(0)
  return s, "http://127.0.0.1:" .. port .. "/held"
end

describe("apivideo.engine", function()
  before_each(function() srv:idle_reset() end)
  teardown(function() srv:idle_reset() end)

  describe("spawn and run", function()
    it("run returns every result of the task, nils and their count included", function()
      local e = new_engine()
      local n, a, b, c = (function(...) return select("#", ...), ... end)(
        e:run(function(x, y) return x + y, nil, "z" end, 1, 2))
      assert.are.equal(3, n)
      assert.are.equal(3, a)
      assert.is_nil(b)
      assert.are.equal("z", c)
      assert.is_false(e:pending())
      e:close()
    end)

    it("a spawned task first runs at the next step, and keeps its results for outcome()", function()
      local e = new_engine()
      local ran = false
      local t = e:spawn(function(v) ran = true return v * 2 end, 21)
      assert.is_false(ran)
      assert.is_true(e:pending()) -- a runnable task is pending work
      assert.is_false(e:step(0))
      assert.is_true(ran)
      assert.is_true(t.done)
      assert.are.equal(42, t:outcome())
      e:close()
    end)

    it("runs a task that fetches, and hands it the transfer's decoded result", function()
      local e = new_engine()
      local r = e:run(function() return e:transfer(page_spec(2)) end)
      assert.are.equal(200, r.status)
      assert.are.equal(2, r.json.pagination.current_page)
      assert.are.equal(0, e:in_flight())
      assert.are.equal(1, srv:stats().api_requests)
      e:close()
    end)

    it("keeps an error object as it is (same table), for run and for outcome", function()
      local e = new_engine()
      local obj = setmetatable({ kind = "custom" }, { __tostring = function() return "custom error" end })
      local ok, err = pcall(e.run, e, function() error(obj) end)
      assert.is_false(ok)
      assert.are.equal(obj, err) -- rawequal: not wrapped, not copied
      local t = e:spawn(function() e:transfer(page_spec(1)) error(obj) end)
      e:join(t)
      assert.are.equal(obj, t.error)
      local ok2, err2 = pcall(t.outcome, t)
      assert.is_false(ok2)
      assert.are.equal(obj, err2)
      e:close()
    end)

    it("gives a string error the task's traceback (where it was raised, also after a wait)", function()
      local e = new_engine()
      local function deep_failure() error("boom in the task") end
      local t = e:spawn(function()
        e:transfer(page_spec(1))
        deep_failure()
      end)
      e:join(t)
      assert.is_string(t.error)
      assert.is_truthy(t.error:find("boom in the task", 1, true), t.error)
      assert.is_truthy(t.error:find("stack traceback:", 1, true), t.error)
      assert.is_truthy(t.error:find("deep_failure", 1, true), t.error) -- the task's own frames
      local ok, err = pcall(e.run, e, function() error("second boom") end)
      assert.is_false(ok)
      assert.is_truthy(err:find("second boom", 1, true))
      assert.is_truthy(err:find("stack traceback:", 1, true))
      e:close()
    end)

    it("transfer, sleep and await outside any task raise an internal error naming the call", function()
      local e = new_engine()
      local t = e:spawn(function() return 1 end)
      for name, call in pairs({
        transfer = function() e:transfer(page_spec(1)) end,
        sleep = function() e:sleep(1) end,
        await = function() e:await(t) end,
      }) do
        local ok, err = pcall(call)
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find("apivideo: internal: " .. name .. " outside of a task", 1, true),
          tostring(err))
      end
      assert.are.equal(0, e:in_flight()) -- the transfer sent nothing
      e:close()
    end)
  end)

  describe("join and await", function()
    it("outside a task, join drives the engine until the task is done", function()
      local e = new_engine()
      local t = e:spawn(function() return e:transfer(page_spec(3)).json.pagination.current_page end)
      e:join(t)
      assert.is_true(t.done)
      assert.are.equal(3, t:outcome())
      e:join(t) -- a finished task: returns at once
      e:close()
    end)

    it("inside a task, await waits for the other task while the others go on", function()
      local e = new_engine()
      local order = {}
      local fetcher = e:spawn(function()
        order[#order + 1] = "fetch start"
        local r = e:transfer(page_spec(4))
        order[#order + 1] = "fetch done"
        return r.json.pagination.current_page, "extra"
      end)
      local waiter_task = e:spawn(function()
        order[#order + 1] = "await"
        local page, extra = e:await(fetcher)
        order[#order + 1] = "awaited " .. page .. " " .. extra
        return page
      end)
      local bystander = e:spawn(function()
        order[#order + 1] = "bystander"
        e:sleep(1)
        order[#order + 1] = "bystander woke"
      end)
      e:join(waiter_task)
      e:join(bystander)
      assert.are.equal(4, waiter_task:outcome())
      assert.are.same({ "fetch start", "await", "bystander" }, { order[1], order[2], order[3] })
      local pos = {}
      for i, v in ipairs(order) do pos[v] = i end
      assert.is_true(pos["fetch done"] < pos["awaited 4 extra"])
      assert.is_truthy(pos["bystander woke"])
      e:close()
    end)

    it("await raises the other task's error inside the waiting task; join does not", function()
      local e = new_engine()
      local obj = { kind = "theirs" }
      local failing = e:spawn(function() e:transfer(page_spec(1)) error(obj) end)
      local seen = {}
      local t = e:spawn(function()
        e:join(failing)
        seen.joined = failing.done
        local ok, err = pcall(e.await, e, failing)
        seen.ok, seen.err = ok, err
      end)
      e:join(t)
      assert.is_nil(t.error)
      assert.is_true(seen.joined)
      assert.is_false(seen.ok)
      assert.are.equal(obj, seen.err)
      e:close()
    end)

    it("several tasks joining one are all woken when it finishes", function()
      local e = new_engine()
      local target = e:spawn(function() e:sleep(20) return "t" end)
      local woke = {}
      local ws = {}
      for i = 1, 3 do
        ws[i] = e:spawn(function()
          local v = e:await(target)
          woke[#woke + 1] = i .. ":" .. v
        end)
      end
      for i = 1, 3 do e:join(ws[i]) end
      table.sort(woke)
      assert.are.same({ "1:t", "2:t", "3:t" }, woke)
      e:close()
    end)
  end)

  describe("sleep", function()
    it("wakes tasks in the order of their deadlines, each no earlier than its delay", function()
      local e = new_engine()
      local woke, start = {}, core.now_ms()
      local delays = { 90, 10, 50, 0, 30, 70 }
      local ts = {}
      for i, d in ipairs(delays) do
        ts[i] = e:spawn(function()
          e:sleep(d)
          woke[#woke + 1] = { d = d, at = core.now_ms() - start }
        end)
      end
      for i = 1, #ts do e:join(ts[i]) end
      local order = {}
      for i, w in ipairs(woke) do
        order[i] = w.d
        assert.is_true(w.at >= w.d, "woke after " .. w.at .. " ms for a " .. w.d .. " ms sleep")
      end
      assert.are.same({ 0, 10, 30, 50, 70, 90 }, order)
      assert.is_true(core.now_ms() - start < 90 + 500, "the sleeps overlap")
      e:close()
    end)

    it("a task sleeping again is re-queued among the others' deadlines", function()
      local e = new_engine()
      local log = {}
      local a = e:spawn(function()
        e:sleep(10)
        log[#log + 1] = "a1"
        e:sleep(60)
        log[#log + 1] = "a2"
      end)
      local b = e:spawn(function()
        e:sleep(40)
        log[#log + 1] = "b"
      end)
      e:join(a)
      e:join(b)
      assert.are.same({ "a1", "b", "a2" }, log)
      e:close()
    end)
  end)

  describe("cancel", function()
    it("of a task waiting on a transfer releases the transfer: the waiter's count drops, the connection closes",
      function()
        local s, url = listener()
        local e = new_engine()
        local after = false
        local t = e:spawn(function()
          e:transfer({ url = url })
          after = true
        end)
        -- drive the engine until the request reached the listener
        local conn, head
        assert.is_true(step_until(e, function()
          conn = conn or s:accept()
          if conn and not head then
            conn:settimeout(0)
            local line = conn:receive("*l")
            if line then head = line end
          end
          return head ~= nil
        end), "the request never reached the listener")
        assert.matches("^GET /held HTTP/1.1", head)
        assert.are.equal(1, e.waiter:count())
        assert.are.equal(1, e:in_flight())
        local watcher = e:spawn(function() e:join(t) return "woken" end)
        e:step(0) -- the watcher joins
        t:cancel()
        assert.is_true(t.done)
        assert.is_true(t.cancelled)
        assert.are.equal(0, e.waiter:count())
        assert.are.equal(0, e:in_flight())
        local ok, err = pcall(t.outcome, t)
        assert.is_false(ok)
        assert.matches("task was cancelled", err)
        -- the client's side of the connection is closed: the listener reads EOF
        conn:settimeout(2)
        local rest, why
        repeat rest, why = conn:receive("*l") until rest == nil or rest == ""
        if why == nil then why = select(2, conn:receive(1)) end
        assert.are.equal("closed", why)
        -- the task never resumes, the watcher does
        e:join(watcher)
        assert.are.equal("woken", watcher:outcome())
        assert.is_false(after)
        assert.is_false(e:pending())
        conn:close()
        s:close()
        e:close()
      end)

    it("of a task waiting on the stand-in: nothing stays in flight and the answer is never taken", function()
      srv:config({ latency_ms = 150 })
      local e = new_engine()
      local after = false
      local t = e:spawn(function()
        e:transfer(page_spec(1))
        after = true
      end)
      e:step(0)
      local deadline = core.now_ms() + 2000
      while srv:stats().in_flight < 1 and core.now_ms() < deadline do e:step(5) end
      assert.are.equal(1, srv:stats().in_flight)
      t:cancel()
      assert.are.equal(0, e:in_flight())
      assert.is_false(e:pending())
      -- the stand-in finishes its side; the engine has nothing to collect
      local wait_until = core.now_ms() + 300
      while core.now_ms() < wait_until do e:step(20) end
      assert.is_false(after)
      assert.are.equal(0, e.waiter:queued())
      -- and the engine goes on working
      assert.are.equal(200, e:run(function() return e:transfer(page_spec(2)) end).status)
      e:close()
    end)

    it("of a sleeping task: it never wakes, and its join returns", function()
      local e = new_engine()
      local woke = false
      local t = e:spawn(function()
        e:sleep(40)
        woke = true
      end)
      e:step(0)
      t:cancel()
      e:join(t) -- done: returns at once
      local until_ms = core.now_ms() + 80
      while core.now_ms() < until_ms do e:step(10) end
      assert.is_false(woke)
      assert.is_false(e:pending())
      e:close()
    end)

    it("of a sleeping task leaves nothing pending: step() says false at once", function()
      local e = new_engine()
      local t = e:spawn(function() e:sleep(5000) end)
      e:step(0)
      t:cancel()
      assert.is_false(e:pending())
      assert.is_false(e:step(0))
      e:close()
    end)

    it("is idempotent, and a no-op on a finished task (its results stay)", function()
      local e = new_engine()
      local woken = 0
      local t = e:spawn(function() e:sleep(1000) end)
      local w = e:spawn(function()
        e:join(t)
        woken = woken + 1
      end)
      e:step(0)
      t:cancel()
      t:cancel()
      e:join(w)
      assert.are.equal(1, woken)
      assert.is_true(t.cancelled)
      local done = e:spawn(function() return "kept" end)
      e:join(done)
      done:cancel()
      done:cancel()
      assert.is_nil(done.cancelled)
      assert.are.equal("kept", done:outcome())
      e:close()
    end)
  end)

  describe("run inside a task", function()
    it("the outer task waits for the inner one, the others go on meanwhile", function()
      srv:config({ latency_ms = 40 })
      local e = new_engine()
      local log = {}
      local outer = e:spawn(function()
        log[#log + 1] = "outer start"
        local page = e:run(function()
          log[#log + 1] = "inner start"
          local r = e:transfer(page_spec(5))
          log[#log + 1] = "inner done"
          return r.json.pagination.current_page
        end)
        log[#log + 1] = "outer got " .. page
        return page
      end)
      local other = e:spawn(function()
        log[#log + 1] = "other"
        e:sleep(1)
        log[#log + 1] = "other woke"
      end)
      e:join(outer)
      e:join(other)
      assert.are.equal(5, outer:outcome())
      local pos = {}
      for i, v in ipairs(log) do pos[v] = i end
      assert.is_true(pos["outer start"] < pos["inner start"])
      assert.is_true(pos["inner done"] < pos["outer got 5"])
      assert.is_true(pos["other woke"] < pos["inner done"], table.concat(log, ", "))
      e:close()
    end)

    it("run_until inside a task raises (join or await instead)", function()
      local e = new_engine()
      local ok, err = pcall(e.run, e, function()
        e:run_until(function() return true end)
      end)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("run_until inside a task", 1, true), tostring(err))
      e:close()
    end)
  end)

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
          assert.are.equal(conc, st.max_in_flight)
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

describe("client:run_all", function()
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

  local function sorted(t)
    local c = {}
    for i, v in ipairs(t) do c[i] = v end
    table.sort(c)
    return c
  end

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
