-- Specs of apivideo.engine (tasks, timers, join/await/run/run_until, step,
-- kick, cancel, close) over the blocking waiter, with real libcurl transfers
-- against the stand-in. Transfers here are specs for apivideo.core (url,
-- headers), as request.lua sends them. This file: spawn and run, join and
-- await, sleep, cancel, run inside a task; spec/engine_step_spec.lua: kick,
-- step and pending, close, normal use; client:run_all: spec/run_all_spec.lua.
local core = require("apivideo.core")
local engine_mod = require("apivideo.engine")
local waiter_mod = require("apivideo.waiter")
local socket = require("socket")
local S = require("spec.support.standin")
local D = require("spec.support.drive")

local srv = S.shared()
local page_spec = D.page_specs(srv.url)

local function new_engine()
  return engine_mod.new(waiter_mod.blocking({}))
end

-- Drives e with step(10) until pred() holds or max_ms passed; true when it held.
local function step_until(e, pred, max_ms)
  return D.until_true(pred, function() e:step(10) end, max_ms)
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
end)
