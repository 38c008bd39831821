-- The answer cache and the shared rate-limit budget in one process (issue 20): clients sharing
-- apivideo.memory_store(), against the stand-in, counted there. The same across nginx workers and
-- hosts is spec/fleet_spec.lua; the Redis store's own contract is spec/redis_store_spec.lua.
local apivideo = require("apivideo")
local cache = require("apivideo.cache")
local S = require("spec.support.standin")
local socket = require("socket")

local KEY = "standin-key"

describe("the answer cache (memory store)", function()
  local srv, shared, events
  local function client(opts)
    opts = opts or {}
    local o = { api_key = opts.key or KEY, base_url = srv.url, auth = "basic", max_retries = 0,
      on_event = function(e) events[#events + 1] = e end,
      cache = { store = opts.store or shared, ttl = opts.ttl or 30, neg_ttl = opts.neg_ttl or 5, stale_ttl = 300,
        closed_ttl = opts.closed_ttl or 0 } }
    return apivideo.new(o)
  end
  local function api() return #srv:requests("^/analytics/") end
  -- The shared store, but another process's whole flight (other()) runs just before the first lock is
  -- taken: the store, and a function telling whether it ran.
  local function racing_store(other)
    local ran = false
    local racing = {}
    for _, m in ipairs({ "get", "set", "incr", "delete", "get_keys" }) do
      racing[m] = function(_, ...) return shared[m](shared, ...) end
    end
    function racing.add(_, key, ...)
      if not ran and key:find(":lock$") then
        ran = true
        other()
      end
      return shared:add(key, ...)
    end
    return racing, function() return ran end
  end

  setup(function() srv = S.shared() end)
  before_each(function()
    srv:idle_reset()
    shared, events = apivideo.memory_store(), {}
  end)

  it("answers a second client with the same account from the store: one upstream request, same page", function()
    local a = assert(client().analytics:list_video_sessions("vi250", { period = "2023", page_size = 3 }))
    local b = assert(client().analytics:list_video_sessions("vi250", { period = "2023", page_size = 3 }))
    assert.are.same(a.data, b.data)
    assert.are.same(a.pagination, b.pagination)
    assert.are.same(a.rate_limit, b.rate_limit)
    assert.are.equal(1, api())
  end)

  it("makes one flight of concurrent identical requests of one client (run_all)", function()
    srv:config({ latency_ms = 200 })
    local c, got = client(), {}
    local fns = {}
    for i = 1, 6 do
      fns[i] = function() got[i] = assert(c.analytics:list_video_sessions("vi250", { period = "2023" })) end
    end
    assert(c:run_all(fns))
    for i = 1, 6 do assert.are.equal("psvi250_000001", got[i].data[1].session.session_id) end
    assert.are.equal(1, api())
  end)

  it("serves a flight that landed between its look and its lock: still one upstream request", function()
    local racing, ran = racing_store(function()
      assert(client().analytics:list_video_sessions("vi250", { period = "2023" }))
    end)
    local page = assert(client({ store = racing }).analytics:list_video_sessions("vi250", { period = "2023" }))
    assert.is_true(ran())
    assert.are.equal("psvi250_000001", page.data[1].session.session_id)
    assert.are.equal(1, api())
    -- and the lock it took is gone
    for _, k in ipairs(shared:get_keys()) do assert.is_nil(k:find(":lock$"), k) end
  end)

  it("serves the stale answer a failed flight left between its look and its lock: one probe of a failing upstream",
    function()
    assert(client({ ttl = 1 }).analytics:list_video_sessions("vi250", { period = "2023" }))
    socket.sleep(2.05) -- no longer fresh (the memory store counts whole seconds)
    srv:faults({ { match = "vi250", kind = "500", count = -1 } })
    local racing, ran = racing_store(function()
      assert.is_true(assert(client({ ttl = 1 }).analytics:list_video_sessions("vi250", { period = "2023" })).stale)
    end)
    local page = assert(client({ ttl = 1, store = racing }).analytics:list_video_sessions("vi250", { period = "2023" }))
    assert.is_true(ran())
    assert.is_true(page.stale)
    assert.are.equal("psvi250_000001", page.data[1].session.session_id)
    assert.are.equal(1, srv:stats().status["500"])
  end)

  it("caches each page of a walk", function()
    local n = 0
    for _ in client().analytics:video_sessions("vi250", { period = "2023", page_size = 100 }) do n = n + 1 end
    for _ in client().analytics:video_sessions("vi250", { period = "2023", page_size = 100 }) do n = n + 1 end
    assert.are.equal(500, n)
    assert.are.equal(3, api())
  end)

  it("never gives one account's answer to another: the other key is refused upstream", function()
    assert(client().analytics:list_video_sessions("vi250", { period = "2023" }))
    local page, err = client({ key = "someone-else" }).analytics:list_video_sessions("vi250", { period = "2023" })
    assert.is_nil(page)
    assert.are.equal("auth", err.kind)
    assert.are.equal(2, api())
    for _, k in ipairs(shared:get_keys(0)) do
      assert.is_nil(k:find(KEY, 1, true))
      assert.is_nil(k:find("someone-else", 1, true))
    end
  end)

  it("keeps a 404 for neg_ttl, as the same error object, then asks again", function()
    local c = client({ neg_ttl = 1 })
    local _, e1 = c.analytics:list_video_sessions("viMissing", { period = "2023" })
    local _, e2 = c.analytics:list_video_sessions("viMissing", { period = "2023" })
    assert.are.equal(404, e1.status)
    assert.are.equal(tostring(e1), tostring(e2))
    assert.are.equal(0, e2.attempts)
    assert.are.equal(1, api())
    socket.sleep(2.05) -- the memory store counts whole seconds
    local _, e3 = c.analytics:list_video_sessions("viMissing", { period = "2023" })
    assert.are.equal(404, e3.status)
    assert.are.equal(2, api())
  end)

  it("serves the stale answer when upstream fails, marked, with an event; then without asking again", function()
    local c = client({ ttl = 1 })
    assert.is_nil(assert(c.analytics:list_video_sessions("vi250", { period = "2023" })).stale)
    socket.sleep(2.05)
    srv:faults({ { match = "vi250", kind = "500", count = -1 } })
    local page = assert(c.analytics:list_video_sessions("vi250", { period = "2023" }))
    assert.is_true(page.stale)
    assert.are.equal("psvi250_000001", page.data[1].session.session_id)
    local stale = events[#events]
    assert.are.equal("stale", stale.type)
    assert.are.equal(500, stale.status)
    assert.are.equal("list_video_sessions", stale.operation)
    assert.is_true(stale.age_ms >= 2000)
    assert.is_true(assert(c.analytics:list_video_sessions("vi250", { period = "2023" })).stale)
    assert.are.equal(2, api()) -- the second stale answer came without a request
  end)

  it("without a stale answer, an upstream failure is the error", function()
    srv:faults({ { match = "vi250", kind = "503", count = -1 } })
    local page, err = client().analytics:list_video_sessions("vi250", { period = "2023" })
    assert.is_nil(page)
    assert.are.equal(503, err.status)
  end)

  it("keeps answers about a closed window for closed_ttl, an open one for ttl", function()
    local c = cache.new({ store = shared, ttl = 30, neg_ttl = 5, stale_ttl = 0, closed_ttl = 3600, wait_ms = 0,
      account = "x", server_time = function() return 1704067200 end }) -- 2024-01-01T00:00:00Z
    assert.are.equal(3600, c:fresh_s("?from=2023-12-01T00%3A00%3A00%2B00%3A00&to=2023-12-31T00%3A00%3A00%2B00%3A00"))
    assert.are.equal(30, c:fresh_s("?from=2023-12-31T00%3A00%3A00%2B00%3A00&to=2023-12-31T23%3A50%3A00%2B00%3A00"))
    assert.are.equal(30, c:fresh_s("?from=2023-12-31T00%3A00%3A00%2B00%3A00"))
    assert.are.equal(3600, c:fresh_s("?period=2023-11"))
    assert.are.equal(3600, c:fresh_s("?period=2023-12-01%2F2023-12-30"))
    assert.are.equal(30, c:fresh_s("?period=2023-12-31"))
    assert.are.equal(30, c:fresh_s("?period=2023-W52"))
  end)

  it("names a request by its sorted query: the same question in another order is the same entry", function()
    assert.are.equal("?a=1&b=2&filterBy%5Bcountry%5D%5B%5D=DE&filterBy%5Bcountry%5D%5B%5D=FR",
      cache.canonical_query("?filterBy%5Bcountry%5D%5B%5D=FR&b=2&a=1&filterBy%5Bcountry%5D%5B%5D=DE"))
    assert.are.equal("", cache.canonical_query(""))
  end)

  it("refuses bad cache options before anything is sent", function()
    local function refused(c, arg)
      local ok, err = pcall(apivideo.new, { api_key = KEY, base_url = srv.url, cache = c })
      assert.is_false(ok)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal("argument", err.kind)
      assert.are.equal(arg, err.arg)
    end
    refused({}, "cache.store")
    refused({ store = {} }, "cache.store")
    refused({ store = shared, ttl = -1 }, "cache.ttl")
    refused({ store = shared, ttl = 0 }, "cache.ttl")
    refused({ store = shared, neg_ttl = "5" }, "cache.neg_ttl")
    refused({ store = shared, tll = 5 }, "cache")
    refused("yes", "cache")
    local ok, err = pcall(apivideo.new, { api_key = KEY, rate_limit_store = { get = print } })
    assert.is_false(ok)
    assert.are.equal("rate_limit_store", err.arg)
    assert.are.equal(0, api())
  end)
end)

describe("the shared rate-limit budget (memory store)", function()
  local srv
  setup(function() srv = S.shared() end)
  after_each(function() srv:idle_reset() end)

  it("two clients together stay within the window: no 429, they wait for its end instead", function()
    srv:idle_reset({ rate_limit = { limit = 4, window_s = 2 } })
    local shared, throttled = apivideo.memory_store(), 0
    local function client()
      return apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 0,
        max_retry_wait_ms = 10000, rate_limit_store = shared,
        on_event = function(e) if e.type == "throttle" and e.shared then throttled = throttled + 1 end end })
    end
    local a, b = client(), client()
    local t0 = socket.gettime()
    for i = 1, 5 do
      assert(a.analytics:list_video_sessions("vi250", { period = "2023", current_page = i }))
      assert(b.analytics:list_video_sessions("vi250", { period = "2023", current_page = i }))
    end
    local stats = srv:stats()
    assert.is_nil(stats.status["429"])
    assert.are.equal(10, stats.status["200"])
    assert.is_true(throttled >= 2)
    assert.is_true(socket.gettime() - t0 >= 3.5) -- 10 requests at 4 per 2 s: two window ends at least
  end)

  it("without a store each client keeps today's own budget (and the second one collects the 429)", function()
    srv:idle_reset({ rate_limit = { limit = 2, window_s = 2 } })
    local function client()
      return apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 0 })
    end
    local a, b = client(), client()
    assert(a.analytics:list_video_sessions("vi250", { period = "2023" }))
    assert(a.analytics:list_video_sessions("vi250", { period = "2023" }))
    local _, err = b.analytics:list_video_sessions("vi250", { period = "2023" })
    assert.are.equal(429, err.status)
  end)
end)
