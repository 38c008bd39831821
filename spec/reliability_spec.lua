-- Retries, rate limits, timeouts, bad answers, TLS, redirects and secrets,
-- all against the real stand-in with faults injected on demand.
local apivideo = require("apivideo")
local core = require("apivideo.core")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local tls_files = require("spec.support.tls")

local srv = S.shared()

local client = clients.builder({ base_url = srv.url })
local recorder, of_type = clients.recorder, clients.of_type

local function analytics_requests() return #srv:requests("^/analytics/") end

-- the three operations, each as a call that returns page, err
local OPS = {
  { name = "list_video_sessions", match = "/analytics/videos/",
    call = function(c) return c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 5 }) end },
  { name = "list_live_stream_sessions", match = "/analytics/live-streams/",
    call = function(c) return c.analytics:list_live_stream_sessions("li500", { period = "2023", page_size = 5 }) end },
  { name = "list_session_events", match = "/analytics/sessions/",
    call = function(c) return c.analytics:list_session_events("psManyEvents", { page_size = 5 }) end },
}

before_each(function() srv:idle_reset() end)

describe("retries", function()
  for _, status in ipairs({ "500", "502", "503" }) do
    it("retries a " .. status .. " with backoff and succeeds", function()
      srv:faults({ { match = "/analytics/", kind = status, count = 2 } })
      local events, on_event = recorder()
      local page, err = client({ on_event = on_event }).analytics:list_video_sessions("vi250", { period = "2023" })
      assert.is_nil(err)
      assert.are.equal(25, #page.data)
      local retries = of_type(events, "retry")
      assert.are.equal(2, #retries)
      assert.are.same({ 1, 2 }, { retries[1].attempt, retries[2].attempt })
      assert.are.equal(tonumber(status), retries[1].status)
      -- full jitter: attempt n waits within [0, 200 * 2^(n-1)] ms
      assert.is_true(retries[1].wait_ms >= 0 and retries[1].wait_ms <= 200)
      assert.is_true(retries[2].wait_ms >= 0 and retries[2].wait_ms <= 400)
      assert.are.equal(3, analytics_requests())
    end)
  end

  it("does not take the rate-limit window's reset time as the wait for a 5xx", function()
    -- every answer carries X-RateLimit-Retry-After (time to the window's end)
    local events, on_event = recorder()
    local c = client({ on_event = on_event })
    assert(c.analytics:list_session_events("psManyEvents"))
    srv:faults({ { match = "/analytics/", kind = "502", count = 1 } })
    local t0 = core.now_ms()
    assert(c.analytics:list_session_events("psManyEvents"))
    local retries = of_type(events, "retry")
    assert.are.equal(1, #retries)
    assert.is_true(retries[1].wait_ms <= 200, "waited " .. retries[1].wait_ms)
    assert.is_true(core.now_ms() - t0 < 1000)
  end)

  it("honours X-RateLimit-Retry-After on a 429", function()
    srv:faults({ { match = "/analytics/", kind = "429", count = 1, retry_after = "1" } })
    local events, on_event = recorder()
    local t0 = core.now_ms()
    local page = assert(client({ on_event = on_event }).analytics:list_session_events("psManyEvents"))
    assert.are.equal(25, #page.data)
    local retries = of_type(events, "retry")
    assert.are.equal(1, #retries)
    assert.are.equal(429, retries[1].status)
    assert.are.equal(1000, retries[1].wait_ms)
    assert.is_true(core.now_ms() - t0 >= 950)
  end)

  it("gives up after max_retries with the attempts counted", function()
    srv:faults({ { match = "/analytics/", kind = "502", count = -1 } })
    local page, err = client({ max_retries = 2 }).analytics:list_session_events("psManyEvents")
    assert.is_nil(page)
    assert.is_true(apivideo.is_error(err))
    assert.are.equal("http", err.kind)
    assert.are.equal(502, err.status)
    assert.are.equal(3, err.attempts)
    assert.truthy(err.body:find("<html>", 1, true))
    assert.are.equal(3, analytics_requests())
    assert.truthy(tostring(err):find("after 3 attempts", 1, true))
  end)

  it("never retries other 4xx answers", function()
    local page, err = client().analytics:list_video_sessions("nope", { period = "2023" })
    assert.is_nil(page)
    assert.are.equal(404, err.status)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, analytics_requests())
  end)

  it("retries resets, truncated bodies and timeouts", function()
    for _, fault in ipairs({
      { kind = "reset" }, { kind = "truncated" }, { kind = "delay", delay_ms = 1500 },
    }) do
      srv:reset()
      fault.match, fault.count = "/analytics/", 1
      srv:faults({ fault })
      local events, on_event = recorder()
      local page, err = client({ timeout_ms = 500, on_event = on_event })
        .analytics:list_session_events("psManyEvents")
      assert.is_nil(err, fault.kind)
      assert.are.equal(25, #page.data)
      local retries = of_type(events, "retry")
      if fault.kind == "reset" and #retries == 0 then
        -- a connection closed without an answer on reuse is re-sent by
        -- libcurl itself; the server still saw the request twice
        assert.are.equal(2, analytics_requests())
      else
        assert.are.equal(1, #retries, fault.kind)
        assert.are.equal(fault.kind == "delay" and "timeout" or "network", retries[1].kind)
      end
    end
  end)

  it("stops when the next wait would exceed max_retry_wait_ms", function()
    srv:faults({ { match = "/analytics/", kind = "429", count = 1, retry_after = "5" } })
    local page, err = client({ max_retry_wait_ms = 500 }).analytics:list_session_events("psManyEvents")
    -- a 5 s wait is clamped to the 0.5 s budget, then taken
    assert.is_nil(err)
    assert.truthy(page)
    srv:reset()
    srv:faults({ { match = "/analytics/", kind = "500", count = -1 } })
    local t0 = core.now_ms()
    local _, e2 = client({ max_retries = 50, max_retry_wait_ms = 300 }).analytics:list_session_events("psManyEvents")
    assert.are.equal(500, e2.status)
    assert.is_true(core.now_ms() - t0 < 2000)
    assert.is_true(e2.attempts < 50)
  end)

  it("retries token calls on network failures only", function()
    srv:faults({ { match = "/auth/api-key", kind = "reset", count = 1 } })
    assert(client().analytics:list_session_events("psManyEvents"))
    assert.are.equal(2, srv:stats().auth_api_key)
    srv:reset()
    srv:faults({ { match = "/auth/api-key", kind = "500", count = 1 } })
    local page, err = client().analytics:list_session_events("psManyEvents")
    assert.is_nil(page)
    assert.are.equal("auth", err.kind)
    assert.are.equal(500, err.status)
    assert.are.equal(1, srv:stats().auth_api_key)
    assert.are.equal(0, analytics_requests())
  end)
end)

describe("rate limits", function()
  it("a walk that hits the limit waits instead of provoking 429s", function()
    srv:config({ rate_limit = { limit = 8, window_s = 1 } })
    local events, on_event = recorder()
    local c = client({ concurrency = 4, on_event = on_event })
    local n = 0
    for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do n = n + 1 end
    assert.are.equal(250, n)
    local st = srv:stats()
    assert.is_nil(st.status["429"])
    assert.are.equal(25, st.api_requests)
    assert.is_true(#of_type(events, "throttle") > 0)
    for _, e in ipairs(of_type(events, "throttle")) do
      assert.is_true(e.wait_ms > 0 and e.wait_ms <= 1000)
    end
  end)

  -- Answers to concurrent requests can be handled in another order than the
  -- server counted them (curl reports the transfers that finish in one step
  -- in its own order); the walk above then sees a 429 now and then. Here the
  -- order is forced: the engine's fetch holds the answers to pages 2..5 (sent
  -- together) until all four are in, then hands them on from the lowest
  -- X-RateLimit-Remaining to the highest, so the last one handled is the
  -- stalest. With 100 ms of latency nothing else can come back meanwhile, and
  -- the pages launched next must stay within what the server has left.
  it("an answer handled after later ones (out of order) does not raise the budget: no 429", function()
    srv:config({ latency_ms = 100, rate_limit = { limit = 8, window_s = 1 } })
    local c = client({ concurrency = 4, auth = "basic" })
    local engine = c.engine
    local transfer = engine.transfer
    local held, released, handed = {}, 0, {}
    engine.transfer = function(self, spec)
      local resp = transfer(self, spec)
      local page = tonumber(spec.url:match("[?&]currentPage=(%d+)"))
      if page >= 2 and page <= 5 then
        held[#held + 1] = { page = page, remaining = tonumber(resp.headers["x-ratelimit-remaining"]) }
        while #held < 4 do self:sleep(1) end
        table.sort(held, function(a, b) return a.remaining < b.remaining end)
        local rank
        for k, h in ipairs(held) do if h.page == page then rank = k end end
        while released < rank - 1 do self:sleep(1) end
        released = released + 1
      end
      handed[#handed + 1] = tonumber(resp.headers["x-ratelimit-remaining"])
      return resp
    end
    local n = 0
    for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 25 }) do n = n + 1 end
    assert.are.equal(250, n)
    -- the forced order happened: pages 2..5 were handed on with rising remaining counts
    assert.are.same({ 3, 4, 5, 6 }, { handed[2], handed[3], handed[4], handed[5] })
    local st = srv:stats()
    assert.is_nil(st.status["429"], "429s after an out-of-order answer")
    assert.are.equal(10, st.api_requests)
  end)

  -- Requests can also reach the server in another order than they were sent
  -- (a new connection takes longer than a reused one). Here the engine's fetch
  -- sends page 2, which took its place in the budget first, 300 ms late: the
  -- server counts it after pages 3..5 and answers it last. Until then the
  -- budget must still count it as spent, and its late answer (the lowest
  -- X-RateLimit-Remaining) is the true one.
  it("a request that reaches the server after later ones stays counted in the budget: no 429", function()
    srv:config({ latency_ms = 100, rate_limit = { limit = 8, window_s = 1 } })
    local c = client({ concurrency = 4, auth = "basic" })
    local engine = c.engine
    local transfer = engine.transfer
    local handed = {}
    engine.transfer = function(self, spec)
      local page = tonumber(spec.url:match("[?&]currentPage=(%d+)"))
      if page == 2 then self:sleep(300) end
      local resp = transfer(self, spec)
      handed[#handed + 1] = { page = page, remaining = tonumber(resp.headers["x-ratelimit-remaining"]) }
      return resp
    end
    local n = 0
    for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 25 }) do n = n + 1 end
    assert.are.equal(250, n)
    -- the forced order happened: page 2 came back fifth, counted after pages 3..5
    assert.are.same({ page = 2, remaining = 3 }, handed[5])
    local st = srv:stats()
    assert.is_nil(st.status["429"], "429s after a request counted late")
    assert.are.equal(10, st.api_requests)
  end)

  it("clamps a negative, huge or non-numeric Retry-After", function()
    for _, case in ipairs({
      { value = "-5", max = 0 }, { value = "soon", max = 200 }, { value = "99999", max = 300 },
    }) do
      srv:reset()
      srv:faults({ { match = "/analytics/", kind = "429", count = 1, retry_after = case.value } })
      local events, on_event = recorder()
      assert(client({ on_event = on_event, max_retry_wait_ms = 300 }).analytics:list_session_events("psManyEvents"))
      local r = of_type(events, "retry")[1]
      assert.is_true(r.wait_ms >= 0 and r.wait_ms <= case.max, case.value .. " waited " .. r.wait_ms)
      if case.value == "99999" then assert.are.equal(300, r.wait_ms) end
    end
  end)
end)

describe("fault matrix", function()
  -- each fault once, max_retries 3: transient faults are retried away, bad
  -- bodies are decode errors (not retried), a 401 is one re-authentication.
  local MATRIX = {
    { kind = "500", outcome = "ok" }, { kind = "502", outcome = "ok" }, { kind = "503", outcome = "ok" },
    { kind = "429", retry_after = "0", outcome = "ok" }, { kind = "truncated", outcome = "ok" },
    { kind = "reset", outcome = "ok" }, { kind = "delay", delay_ms = 1000, outcome = "ok" },
    { kind = "401", outcome = "ok" }, { kind = "invalid_json", outcome = "decode" },
    { kind = "empty", outcome = "decode" }, { kind = "array", outcome = "decode" },
    { kind = "missing_data", outcome = "decode" }, { kind = "bad_types", outcome = "decode" },
    { kind = "deep", outcome = "decode" },
  }
  for _, op in ipairs(OPS) do
    for _, f in ipairs(MATRIX) do
      it(op.name .. " × " .. f.kind .. " → " .. f.outcome, function()
        srv:faults({ { match = op.match, kind = f.kind, count = 1, delay_ms = f.delay_ms,
          retry_after = f.retry_after } })
        local page, err = op.call(client({ timeout_ms = 400 }))
        if f.outcome == "ok" then
          assert.is_nil(err)
          assert.are.equal(5, #page.data)
        else
          assert.is_nil(page)
          assert.is_true(apivideo.is_error(err))
          assert.are.equal(f.outcome, err.kind)
          assert.are.equal(1, err.attempts)
          assert.are.equal(1, analytics_requests())
        end
      end)
    end
  end

  it("a body over max_body_bytes is an error, not more memory", function()
    local page, err = client({ max_body_bytes = 1000 }).analytics:list_video_sessions("vi250", { period = "2023" })
    assert.is_nil(page)
    assert.are.equal("decode", err.kind)
    assert.truthy(err.title:find("max_body_bytes", 1, true))
  end)

  it("an HTML 502 keeps its first bytes in err.body", function()
    srv:faults({ { match = "/analytics/", kind = "502", count = -1 } })
    local _, err = client({ max_retries = 0 }).analytics:list_session_events("psManyEvents")
    assert.are.equal("Bad Gateway", err.title)
    assert.truthy(err.body:match("^<html>"))
  end)
end)

describe("walks under faults", function()
  it("yields every session of vi10k exactly once, in order, with faults at random pages", function()
    math.randomseed(42)
    local kinds = { "500", "502", "503", "truncated", "429" }
    local faults = {}
    for i = 1, 8 do
      faults[i] = { match = "/analytics/videos/vi10k", kind = kinds[(i - 1) % #kinds + 1], count = 1,
        skip = math.random(0, 90), retry_after = "0" }
    end
    srv:faults(faults)
    local events, on_event = recorder()
    local c = client({ concurrency = 4, on_event = on_event })
    local i = 0
    for s in c.analytics:video_sessions("vi10k", { period = "2023", page_size = 100 }) do
      i = i + 1
      assert.are.equal(string.format("psvi10k_%06d", i), s.session.session_id)
    end
    assert.are.equal(10000, i)
    -- every fault the server fired was retried, and nothing else was
    local fired = 0
    for _, f in ipairs(srv:control("GET", "faults")) do fired = fired + f.fired end
    assert.is_true(fired >= 5)
    assert.are.equal(fired, #of_type(events, "retry"))
  end)
end)

describe("security", function()
  local dir

  setup(function()
    dir = tls_files.make_ca({ "DNS:localhost", "IP:127.0.0.1" })
  end)

  teardown(function() tls_files.remove(dir) end)

  it("verifies TLS: a private CA works through ca_file (over HTTP/2) and fails without it", function()
    local tls = S.start({ tls_cert = dir .. "/srv.pem", tls_key = dir .. "/srv.key" })
    local ok, err = pcall(function()
      assert.truthy(tls.tls_url:match("^https://"))
      local good = apivideo.new({ api_key = "standin-key", base_url = tls.tls_url, ca_file = dir .. "/ca.pem" })
      local page = assert(good.analytics:list_session_events("psManyEvents", { page_size = 3 }))
      assert.are.equal(3, #page.data)
      -- the stand-in offers HTTP/2 over TLS, and libcurl takes it
      local m = core.multi()
      local t = m:add({ url = tls.tls_url .. "/_standin/stats", ca_file = dir .. "/ca.pem" })
      while m:count() > 0 do m:perform(100) end
      local r = t:result(true)
      assert.are.equal(200, r.status)
      assert.are.equal("2", r.http_version)
      m:close()
      -- a burst to the HTTP/2 host waits for the first connection and shares it
      local before = tls:stats().connections
      m = core.multi()
      local auth = { "Authorization: Basic " .. require("mime").b64("standin-key:") }
      for i = 1, 4 do
        m:add({ url = tls.tls_url .. "/analytics/videos/vi250?period=2023&pageSize=3&currentPage=" .. i,
          ca_file = dir .. "/ca.pem", headers = auth })
      end
      local statuses = {}
      while m:count() > 0 or m:queued() > 0 do
        m:perform(100)
        local d = m:next_done()
        while d do statuses[#statuses + 1] = d:result(false).status; d = m:next_done() end
      end
      m:close()
      assert.are.same({ 200, 200, 200, 200 }, statuses)
      assert.are.equal(1, tls:stats().connections - before)
      local bad = apivideo.new({ api_key = "standin-key", base_url = tls.tls_url, max_retries = 0 })
      local p2, e2 = bad.analytics:list_session_events("psManyEvents")
      assert.is_nil(p2)
      assert.are.equal("network", e2.kind)
      assert.are.equal(60, e2.curl_code) -- CURLE_PEER_FAILED_VERIFICATION
    end)
    tls:stop()
    assert(ok, err)
  end)

  it("does not follow a redirect to another port", function()
    local other = S.start()
    local ok, err = pcall(function()
      srv:faults({ { match = "/analytics/", kind = "302", count = 1,
        location = other.url .. "/analytics/sessions/psManyEvents/events" } })
      local page, e = client({ max_retries = 0 }).analytics:list_session_events("psManyEvents")
      assert.is_nil(page)
      assert.are.equal("http", e.kind)
      assert.are.equal(302, e.status)
      assert.are.equal(0, other:stats().requests)
    end)
    other:stop()
    assert(ok, err)
  end)

  it("never lets the key or a token into strings, errors, events or the server's log", function()
    local key = "Sekr3t-Key-" .. tostring(os.time())
    srv:config({ api_key = key })
    local produced = {}
    local function add(v)
      if type(v) == "table" then
        for k, x in pairs(v) do add(k); add(x) end
      elseif v ~= nil then
        produced[#produced + 1] = tostring(v)
      end
    end
    local c = apivideo.new({ api_key = key, base_url = srv.url, max_retries = 1, timeout_ms = 300,
      on_event = function(e) add(e) end })
    add(tostring(c))
    add(tostring(c.analytics))
    assert(c.analytics:list_session_events("psManyEvents"))
    local token = c.auth.token.access
    srv:faults({ { match = "/analytics/", kind = "401", count = 1 },
      { match = "/analytics/", kind = "500", count = 1 } })
    assert(c.analytics:list_session_events("psManyEvents"))
    local _, e404 = c.analytics:list_video_sessions("missing", { period = "2023" })
    add(e404); add(tostring(e404))
    srv:faults({ { match = "/analytics/", kind = "delay", delay_ms = 1000, count = -1 } })
    local _, etimeout = c.analytics:list_session_events("psManyEvents")
    add(etimeout); add(tostring(etimeout))
    local bad = apivideo.new({ api_key = key .. "x", base_url = srv.url, on_event = function(e) add(e) end })
    local _, eauth = bad.analytics:list_session_events("psManyEvents")
    add(eauth); add(tostring(eauth)); add(tostring(bad))
    add(srv:log())
    assert.are.equal("auth", eauth.kind)
    assert.is_true(#produced > 20)
    for _, s in ipairs(produced) do
      assert.is_nil(s:find(key, 1, true), "key leaked into: " .. s)
      assert.is_nil(s:find(token, 1, true), "token leaked into: " .. s)
    end
  end)
end)

-- last: the stalled answer keeps the server busy for a while after the test
describe("timeouts", function()
  it("aborts a stalled transfer after stall_timeout_ms with kind timeout", function()
    srv:faults({ { match = "/analytics/", kind = "stall", count = 1, delay_ms = 20000 } })
    local t0 = core.now_ms()
    local page, err = client({ stall_timeout_ms = 300, max_retries = 0 })
      .analytics:list_session_events("psManyEvents")
    local took = core.now_ms() - t0
    assert.is_nil(page)
    assert.are.equal("timeout", err.kind)
    assert.are.equal(28, err.curl_code)
    assert.matches("no data received for 300 ms", err.title, 1, true)
    -- measured from the last byte, and the step loop wakes up for it: about
    -- 300 ms (libcurl's own low-speed limit took 6-7 s for 1000 ms; a check
    -- on libcurl's once-a-second timer took 1 s for 300 ms)
    assert.is_true(took >= 300 and took < 800, "took " .. took .. " ms")
  end)

  it("ends a slow answer at timeout_ms with kind timeout", function()
    srv:faults({ { match = "/analytics/", kind = "delay", count = 1, delay_ms = 2000 } })
    local page, err = client({ timeout_ms = 300, max_retries = 0 }).analytics:list_session_events("psManyEvents")
    assert.is_nil(page)
    assert.are.equal("timeout", err.kind)
    assert.are.equal("GET", err.method)
  end)
end)
