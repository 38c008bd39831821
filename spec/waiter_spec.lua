-- Specs of apivideo.waiter, the one interface the engine waits through:
-- the blocking and yielding waiters over the client's own multi handle,
-- with real libcurl transfers against the stand-in, and for_host's choice
-- (the nginx hub's lane itself is covered by spec/hub_spec.lua).
local core = require("apivideo.core")
local waiter_mod = require("apivideo.waiter")
local socket = require("socket")
local S = require("spec.support.standin")
local F = require("spec.support.fake_ngx")
local D = require("spec.support.drive")

local srv = S.shared()
local page_spec = D.page_specs(srv.url)

local IFACE = { "add", "next_done", "count", "queued", "poll", "wait", "turn", "release", "check", "close" }

-- Calls w:wait(50) until t is no longer running (at most 3 s).
local function wait_for(w, t)
  return D.until_done(t, function() w:wait(50) end, 3000)
end

-- Polls w until the stand-in is processing n requests (at most 2 s).
local function until_server_has(w, n)
  return D.until_true(function() return srv:stats().in_flight >= n end, function()
    w:poll(0)
    socket.sleep(0.005)
  end, 2000)
end

local MAKERS = {
  blocking = function() return waiter_mod.blocking({}) end,
  -- a host that yields by doing nothing: the waiter's own steps must do the work
  yielding = function() return waiter_mod.yielding(function() end, {}) end,
}

describe("apivideo.waiter", function()
  before_each(function() srv:idle_reset() end)
  teardown(function() srv:idle_reset() end)

  for _, kind in ipairs({ "blocking", "yielding" }) do
    describe(kind, function()
      local make = MAKERS[kind]

      it("has every method of the interface, and a tostring naming its kind and multi", function()
        local w = make()
        for _, m in ipairs(IFACE) do assert.is_function(w[m], m) end
        assert.are.equal("apivideo.waiter (" .. kind .. ", apivideo.core.multi (0 in flight))", tostring(w))
        local t = w:add(page_spec(1))
        assert.are.equal("apivideo.waiter (" .. kind .. ", apivideo.core.multi (1 in flight))", tostring(w))
        wait_for(w, t)
        t:close()
        w:close()
        assert.are.equal("apivideo.waiter (" .. kind .. ", apivideo.core.multi (closed))", tostring(w))
      end)

      it("add, count, queued, next_done: a finished transfer is handed out once, in order", function()
        local w = make()
        local a, b = w:add(page_spec(1)), w:add(page_spec(2))
        assert.are.equal(2, w:count())
        assert.are.equal(0, w:queued())
        assert.is_nil(w:next_done())
        local deadline = core.now_ms() + 3000
        while w:queued() < 2 and core.now_ms() < deadline do w:wait(100) end
        assert.are.equal(0, w:count())
        assert.are.equal(2, w:queued())
        local first, second = w:next_done(), w:next_done()
        assert.is_nil(w:next_done())
        assert.are.equal(0, w:queued())
        local got = { [first] = true, [second] = true }
        assert.is_true(got[a] and got[b])
        for _, t in ipairs({ a, b }) do
          local r = assert(t:result(true))
          assert.are.equal(200, r.status)
          t:close()
        end
        w:close()
      end)

      it("poll(0) never blocks, even while the server holds the answer", function()
        srv:config({ latency_ms = 400 })
        local w = make()
        local t = w:add(page_spec(1))
        local t0 = core.now_ms()
        for _ = 1, 20 do
          w:poll(0)
          w:poll() -- nil is 0 too
        end
        local took = core.now_ms() - t0
        assert.is_true(took < 150, "40 polls took " .. took .. " ms")
        assert.are.equal(1, w:count())
        assert.are.equal("running", t:state())
        assert.is_true(until_server_has(w, 1))
        t0 = core.now_ms()
        w:poll(0)
        assert.is_true(core.now_ms() - t0 < 100)
        w:release(t)
        w:close()
      end)

      it("turn and check do nothing here (no cooperative host)", function()
        local w = make()
        local t0 = core.now_ms()
        w:turn()
        w:check(true)
        w:check(false)
        assert.is_true(core.now_ms() - t0 < 50)
        assert.are.equal(0, w:count())
        w:close()
      end)

      it("release of an in-flight transfer: the count drops, its answer never arrives", function()
        srv:config({ latency_ms = 150 })
        local w = make()
        local t = w:add(page_spec(1))
        local kept = w:add(page_spec(2))
        assert.is_true(until_server_has(w, 2))
        w:release(t)
        assert.are.equal(1, w:count())
        assert.are.equal("closed", t:state())
        assert.are.equal("done", wait_for(w, kept))
        assert.are.equal(kept, w:next_done())
        assert.is_nil(w:next_done()) -- the released one is never handed out
        local until_ms = core.now_ms() + 200
        while core.now_ms() < until_ms do w:poll(20) end
        assert.is_nil(w:next_done())
        assert.are.equal(0, w:count())
        kept:close()
        w:close()
      end)

      it("close drops every transfer and is idempotent", function()
        srv:config({ latency_ms = 200 })
        local w = make()
        local ts = { w:add(page_spec(1)), w:add(page_spec(2)) }
        w:poll(0)
        w:close()
        w:close()
        for _, t in ipairs(ts) do assert.are.equal("cancelled", t:state()) end
        assert.has_error(function() w:add(page_spec(3)) end)
      end)
    end)
  end

  describe("blocking wait", function()
    it("wait(ms) with nothing arriving returns after about ms", function()
      srv:config({ latency_ms = 1000 })
      local w = waiter_mod.blocking({})
      local t = w:add(page_spec(1))
      for _, ms in ipairs({ 30, 120 }) do
        local t0 = core.now_ms()
        w:wait(ms)
        local took = core.now_ms() - t0
        assert.is_true(took >= ms - 5 and took < ms + 300, "wait(" .. ms .. ") took " .. took .. " ms")
        assert.are.equal(1, w:count())
      end
      w:release(t)
      -- nothing in flight at all: still a bounded sleep
      local t0 = core.now_ms()
      w:wait(50)
      local took = core.now_ms() - t0
      assert.is_true(took >= 45 and took < 350, "wait(50) with nothing took " .. took .. " ms")
      w:close()
    end)

    it("wait returns as soon as a transfer finishes, long before its bound", function()
      srv:config({ latency_ms = 80 })
      local w = waiter_mod.blocking({})
      local t = w:add(page_spec(1))
      local t0 = core.now_ms()
      w:wait(5000)
      local took = core.now_ms() - t0
      assert.are.equal("done", t:state())
      assert.are.equal(1, w:queued())
      assert.is_true(took >= 75 and took < 1500, "took " .. took .. " ms")
      -- wait(nil): until one finishes (bounded by the waiter's safety net)
      local t2 = w:add(page_spec(2))
      t0 = core.now_ms()
      w:wait(nil)
      took = core.now_ms() - t0
      assert.are.equal("done", t2:state())
      assert.is_true(took >= 75 and took < 1500, "wait(nil) took " .. took .. " ms")
      t:close()
      t2:close()
      w:close()
    end)
  end)

  describe("yielding wait", function()
    it("hands control to the host's yield with a wait hint, and never blocks itself", function()
      srv:config({ latency_ms = 300 })
      local hints = {}
      local w = waiter_mod.yielding(function(ms)
        hints[#hints + 1] = ms == nil and "nil" or ms
      end, {})
      local t = w:add(page_spec(1))
      assert.is_true(until_server_has(w, 1))
      local t0 = core.now_ms()
      for _, ms in ipairs({ 500, 20, 5000 }) do w:wait(ms) end
      local blocked = core.now_ms() - t0
      assert.is_true(blocked < 150, "three waits took " .. blocked .. " ms: the waiter blocked")
      assert.are.equal(3, #hints)
      for i, bound in ipairs({ 500, 20, 5000 }) do
        assert.is_number(hints[i])
        assert.is_true(hints[i] >= 0 and hints[i] <= bound, "hint " .. hints[i] .. " for wait(" .. bound .. ")")
      end
      w:release(t)
      -- nothing in flight: the hint is the caller's bound, or nil for "until one finishes"
      w:wait(70)
      w:wait(nil)
      assert.are.same({ 70, "nil" }, { hints[4], hints[5] })
      w:close()
    end)

    it("a host loop that yields (sleeps) between waits sees the transfer finish", function()
      srv:config({ latency_ms = 60 })
      local yields = 0
      local w = waiter_mod.yielding(function(ms)
        yields = yields + 1
        socket.sleep(math.min(ms or 10, 10) / 1000) -- the host's frame
      end, {})
      local t = w:add(page_spec(1))
      local t0 = core.now_ms()
      while t:state() == "running" and core.now_ms() - t0 < 3000 do w:wait(100) end
      assert.are.equal("done", t:state())
      assert.is_true(yields >= 2, "the host got control " .. yields .. " times")
      t:close()
      w:close()
    end)

    it("with coroutine.yield, a call outside a coroutine is refused in the library's words, nothing sent", function()
      local apivideo = require("apivideo")
      local c = apivideo.new({ api_key = "standin-key", base_url = srv.url, yield = coroutine.yield })
      local before = srv:stats().requests
      local ok, err = pcall(function() return c.analytics:list_video_sessions("vi250", { period = "2023" }) end)
      assert.is_false(ok)
      assert.is_true(apivideo.is_error(err), tostring(err))
      assert.are.same({ "argument", "yield" }, { err.kind, err.arg })
      assert.matches("option 'yield' is coroutine.yield, which cannot wait outside a coroutine", tostring(err), 1, true)
      assert.are.equal(before, srv:stats().requests)
      -- an iterator likewise
      ok, err = pcall(function() for _ in c.analytics:video_sessions("vi250", { period = "2023" }) do end end)
      assert.is_false(ok)
      assert.are.equal("yield", err.arg)
      -- the same client inside a coroutine resumed by a loop: the answer, and the host got control
      local resumes = 0
      local co = coroutine.wrap(function()
        local page = assert(c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 10 }))
        return "done", page
      end)
      local r, page
      repeat
        resumes = resumes + 1
        r, page = co()
      until r == "done"
      assert.are.equal(250, page.pagination.items_total)
      assert.are.equal(10, #page.data)
      assert.is_true(resumes >= 2, resumes .. " resumes")
      c:close()
      -- a host's own yield function is the host's business: it is called, never refused
      local calls = 0
      local c2 = apivideo.new({ api_key = "standin-key", base_url = srv.url, yield = function() calls = calls + 1 end })
      local page2 = assert(c2.analytics:list_video_sessions("vi250", { period = "2023" }))
      assert.are.equal(250, page2.pagination.items_total)
      assert.is_true(calls >= 1)
      c2:close()
    end)

    it("does not yield when its first non-blocking step finishes a transfer", function()
      local yields = 0
      local w = waiter_mod.yielding(function() yields = yields + 1 end, {})
      local warm = w:add(page_spec(1)) -- opens the connection the next one reuses
      while warm:state() == "running" do w:wait(100) end
      warm:close()
      srv:config({ latency_ms = 40 })
      local t = w:add(page_spec(2))
      -- steps until the request has left (on the open connection), then no more
      local deadline = core.now_ms() + 2000
      repeat w:poll(0) until srv:stats().requests >= 2 or core.now_ms() > deadline
      assert.are.equal("running", t:state())
      socket.sleep(0.15) -- the answer arrives meanwhile
      local y0 = yields
      w:wait(1000)
      assert.are.equal("done", t:state())
      assert.are.equal(y0, yields)
      t:close()
      w:close()
    end)

    it("a coroutine host: coroutine.yield as the yield function suspends the waiting coroutine", function()
      srv:config({ latency_ms = 50 })
      local w = waiter_mod.yielding(coroutine.yield, {})
      local t = w:add(page_spec(1))
      local co = coroutine.create(function()
        while t:state() == "running" do w:wait(200) end
        return "finished"
      end)
      local resumes, last = 0, nil
      local deadline = core.now_ms() + 3000
      while coroutine.status(co) ~= "dead" and core.now_ms() < deadline do
        local ok, v = coroutine.resume(co)
        assert.is_true(ok, tostring(v))
        resumes, last = resumes + 1, v
        socket.sleep(0.005)
      end
      assert.are.equal("finished", last)
      assert.is_true(resumes >= 2, "the coroutine was suspended " .. (resumes - 1) .. " times")
      t:close()
      w:close()
    end)
  end)

  describe("for_host", function()
    it("gives the yielding waiter for a yield option, the blocking one otherwise", function()
      local y = waiter_mod.for_host({ yield = function() end })
      assert.are.equal("yielding", y.kind)
      y:close()
      local b = waiter_mod.for_host({})
      assert.are.equal("blocking", b.kind)
      b:close()
    end)

    it("gives a lane of the worker's hub inside nginx (a fake nginx host)", function()
      local fake = F.new({ pid = 7301 })
      local saved_ngx = rawget(_G, "ngx")
      package.loaded["ngx.semaphore"] = fake.semaphore
      rawset(_G, "ngx", fake.ngx)
      local ok, w = pcall(waiter_mod.for_host, {})
      rawset(_G, "ngx", saved_ngx)
      package.loaded["ngx.semaphore"] = nil
      package.loaded["resty.core.base"] = nil
      assert.is_true(ok, tostring(w))
      assert.are.equal("lane", w.kind)
      assert.are.equal("apivideo.hub.lane (0 in flight)", tostring(w))
      for _, m in ipairs(IFACE) do assert.is_function(w[m], m) end
      w:close()
      assert.are.equal("apivideo.hub.lane (closed)", tostring(w))
    end)
  end)
end)
