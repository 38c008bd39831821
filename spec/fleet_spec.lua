-- A fleet (issue 20): two nginx "hosts" of two workers each, sharing one real
-- redis-server, in front of the stand-in. Counted at the stand-in:
--   * N concurrent identical page views over every worker of both hosts -> 1 upstream request
--     (cache on Redis), and over the workers of one host -> 1 (cache on a lua_shared_dict);
--   * a 404 is answered from the cache for neg_ttl, then asked again;
--   * upstream 500s -> every host answers the stale page (stale = true), none fails;
--   * a shared rate-limit budget (Redis) over 2 hosts x 2 workers: no 429, never more than the window;
--   * /metrics of a host parses with Python's prometheus_client and `promtool check metrics`.
-- #once: it drives nginx's LuaJIT (build/luajit), whatever Lua runs busted.
-- Needs Debian's nginx, libnginx-mod-http-lua, lua-resty-core, lua-nginx-redis, redis-server, curl,
-- python3-prometheus-client, prometheus (promtool); LuaJIT build: make LUA_VERSION=jit.
local S = require("spec.support.standin")
local F = require("spec.support.fleet")
local R = require("spec.support.redis")
local sh = require("spec.support.shell")
local prom = require("spec.support.prometheus")
local cjson = require("cjson")
local socket = require("socket")

local ROOT = S.root()

local start_host, stop_host, parallel, api_requests = F.start_host, F.stop_host, F.parallel, F.api_requests

local function prerequisites()
  local missing = {}
  for path, pkg in pairs({ ["/usr/sbin/nginx"] = "nginx", ["/usr/lib/nginx/modules/ngx_http_lua_module.so"] =
      "libnginx-mod-http-lua", ["/usr/share/lua/5.1/nginx/redis.lua"] = "lua-nginx-redis",
      ["/usr/bin/redis-server"] = "redis-server", ["/usr/bin/curl"] = "curl", ["/usr/bin/promtool"] = "prometheus",
      ["/usr/lib/python3/dist-packages/prometheus_client/parser.py"] = "python3-prometheus-client" }) do
    if not sh.exists(path) then missing[#missing + 1] = path .. " (" .. pkg .. ")" end
  end
  assert(#missing == 0, "fleet spec prerequisites missing: " .. table.concat(missing, ", "))
  sh.make_luajit(ROOT) -- (what nginx loads: `make test` alone has not built it)
end

describe("a fleet: two nginx hosts x two workers, one redis-server", function()
  local srv, redis, a, b
  setup(function()
    prerequisites()
    srv = S.start({ latency_ms = 300 })
    redis = R.start()
    a = start_host("a", srv, redis)
    b = start_host("b", srv, redis)
  end)
  teardown(function()
    if a then stop_host(a) end
    if b then stop_host(b) end
    if redis then redis:stop() end
    if srv then srv:stop() end
  end)
  before_each(function()
    srv:idle_reset({ latency_ms = 300 })
    redis:cli("FLUSHALL")
  end)

  it("40 concurrent identical page views over both hosts' workers make 1 upstream request (Redis)", function()
    local urls = {}
    for i = 1, 40 do urls[i] = (i % 2 == 0 and a or b).url .. "/page?cache=1&store=redis&id=vi250" end
    local answers = parallel(urls)
    local workers, hosts = {}, {}
    for _, ans in ipairs(answers) do
      assert.are.equal("psvi250_000001", ans.first)
      workers[ans.host .. ans.worker] = true
      hosts[ans.host] = true
    end
    assert.are.equal(1, api_requests(srv))
    assert.is_true(hosts.a and hosts.b)
    local n = 0
    for _ in pairs(workers) do n = n + 1 end
    assert.is_true(n >= 3, "only " .. n .. " workers answered")
    -- the entry lives in Redis under the account's digest, never the key
    local keys = redis:cli("KEYS", "*")
    assert.is_truthy(keys:find("fleet:apivideo:c:", 1, true), keys)
    assert.is_nil(keys:find("standin-key", 1, true))
  end)

  it("40 concurrent identical page views over one host's two workers make 1 upstream request (shared dict)", function()
    local urls = {}
    for i = 1, 40 do urls[i] = a.url .. "/page?cache=1&id=vi250&page=2" end
    local workers, n = {}, 0
    for _, ans in ipairs(parallel(urls)) do
      assert.are.equal("psvi250_000003", ans.first)
      if not workers[ans.worker] then n = n + 1 end
      workers[ans.worker] = true
    end
    assert.are.equal(1, api_requests(srv))
    assert.are.equal(2, n, "both workers answered")
  end)

  it("a 404 is answered from the cache for neg_ttl, then asked again", function()
    srv:config({ latency_ms = 0 })
    local url = "/page?cache=1&store=redis&id=viMissing&neg=1"
    local first = parallel({ a.url .. url })[1]
    assert.are.equal(404, first.status)
    local again = parallel({ a.url .. url, b.url .. url, a.url .. url })
    for _, ans in ipairs(again) do assert.are.equal(404, ans.status) end
    assert.are.equal(1, api_requests(srv))
    socket.sleep(1.2)
    assert.are.equal(404, parallel({ b.url .. url })[1].status)
    assert.are.equal(2, api_requests(srv))
  end)

  it("when the upstream answers 500, every host serves the stale page, marked, and none fails", function()
    srv:config({ latency_ms = 0 })
    local url = "/page?cache=1&store=redis&id=vi250&ttl=1&retries=0"
    assert.is_false(parallel({ a.url .. url })[1].stale)
    socket.sleep(1.2)
    srv:faults({ { match = "vi250", kind = "500", count = -1 } })
    local answers = parallel({ a.url .. url, b.url .. url, a.url .. url, b.url .. url })
    for _, ans in ipairs(answers) do
      assert.is_true(ans.stale, cjson.encode(ans))
      assert.are.equal("psvi250_000001", ans.first)
    end
    assert.is_truthy(answers[1].events:find("stale", 1, true) or answers[2].events:find("stale", 1, true))
    -- one probe reached the failing upstream; the others were answered from stale at once
    assert.are.equal(1, srv:stats().status["500"])
  end)

  it("the budget shared through Redis keeps 2 hosts x 2 workers within the window: no 429", function()
    srv:config({ latency_ms = 20, rate_limit = { limit = 10, window_s = 2 } })
    local urls = {}
    for i = 1, 24 do urls[i] = (i % 2 == 0 and a or b).url .. "/page?budget=1&store=redis&retries=0&wait=20000&page="
      .. (i % 100 + 1) end
    local t0 = socket.gettime()
    local answers = parallel(urls)
    local elapsed = socket.gettime() - t0
    local throttled = 0
    for _, ans in ipairs(answers) do
      assert.is_nil(ans.status, cjson.encode(ans))
      if ans.events:find("throttle", 1, true) then throttled = throttled + 1 end
    end
    local stats = srv:stats()
    assert.is_nil(stats.status["429"], cjson.encode(stats.status))
    assert.are.equal(24, stats.status["200"])
    assert.is_true(throttled > 0)
    -- 24 requests at 10 per 2 s window need at least two window ends
    assert.is_true(elapsed >= 3.5, "elapsed " .. elapsed)
  end)

  -- Host h's /metrics, checked by promtool and parsed by prometheus_client: text, { family = { type, samples } }.
  local function scrape(h)
    local status, text = S.http("GET", h.url .. "/metrics")
    assert.are.equal(200, status)
    return text, prom.parse(text)
  end

  local function sum(fams, family, sample, label, value)
    local n = 0
    for _, s in ipairs((fams[family] or { samples = {} }).samples) do
      if s[1] == sample and (label == nil or s[2][label] == value) then n = n + s[3] end
    end
    return n
  end

  it("/metrics of a host is valid Prometheus text (prometheus_client, promtool) and counts what it sent", function()
    srv:config({ latency_ms = 0 })
    local _, before = scrape(a)
    for _ = 1, 3 do parallel({ a.url .. "/page?id=vi250&cache=1&page=7" }) end
    parallel({ a.url .. "/page?id=viNone" })
    local text, after = scrape(a)
    local sent = sum(after, "apivideo_requests", "apivideo_requests_total")
      - sum(before, "apivideo_requests", "apivideo_requests_total")
    assert.are.equal(#srv:requests("^/analytics/"), sent)
    assert.are.equal(2, sent)
    assert.are.equal(1, sum(after, "apivideo_requests", "apivideo_requests_total", "code", "404")
      - sum(before, "apivideo_requests", "apivideo_requests_total", "code", "404"))
    assert.are.equal(2, sum(after, "apivideo_cache", "apivideo_cache_total", "result", "hit")
      - sum(before, "apivideo_cache", "apivideo_cache_total", "result", "hit"))
    assert.are.equal(sum(after, "apivideo_request_duration_seconds", "apivideo_request_duration_seconds_count"),
      sum(after, "apivideo_requests", "apivideo_requests_total"))
    assert.is_true(sum(after, "apivideo_rate_limit_remaining", "apivideo_rate_limit_remaining") > 0)
    assert.is_nil(text:find("standin-key", 1, true))
  end)
end)
