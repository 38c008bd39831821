-- apivideo.prometheus (issue 20): the exposition of what clients counted into a metrics_store, and
-- api.video figures as gauges, read back by real parsers: Python's prometheus_client (Debian
-- python3-prometheus-client) and `promtool check metrics` (Debian prometheus). Against the stand-in;
-- the same from a /metrics location of nginx is in spec/fleet_spec.lua.
local apivideo = require("apivideo")
local prometheus = require("apivideo.prometheus")
local S = require("spec.support.standin")

local KEY = "standin-key"

local parse = require("spec.support.prometheus").parse

local function value(fams, family, sample, labels)
  for _, s in ipairs((fams[family] or { samples = {} }).samples) do
    local match = s[1] == sample
    for k, v in pairs(labels or {}) do match = match and s[2][k] == v end
    if match then return s[3] end
  end
  return nil
end

describe("apivideo.prometheus", function()
  local srv
  setup(function() srv = S.shared() end)
  before_each(function() srv:idle_reset() end)

  it("writes what clients counted: requests by operation and code, retries, cache, budget, durations", function()
    local m = apivideo.memory_store()
    local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 1,
      max_retry_wait_ms = 2000, metrics_store = m, cache = { store = m, ttl = 30 } })
    srv:faults({ { match = "vi250", kind = "502", count = 1 } })
    assert(c.analytics:list_video_sessions("vi250", { period = "2023" }))   -- 502, retried: 200
    assert(c.analytics:list_video_sessions("vi250", { period = "2023" }))   -- hit
    assert.is_nil((c.analytics:list_video_sessions("viNo", { period = "2023" }))) -- 404
    assert.is_nil((c.analytics:list_video_sessions("viNo", { period = "2023" }))) -- negative hit
    local text = prometheus.text(m)
    local fams = parse(text)
    local op = "list_video_sessions"
    assert.are.equal("counter", fams.apivideo_requests.type)
    assert.are.equal(1, value(fams, "apivideo_requests", "apivideo_requests_total", { operation = op, code = "502" }))
    assert.are.equal(1, value(fams, "apivideo_requests", "apivideo_requests_total", { operation = op, code = "200" }))
    assert.are.equal(1, value(fams, "apivideo_requests", "apivideo_requests_total", { operation = op, code = "404" }))
    assert.are.equal(1, value(fams, "apivideo_retries", "apivideo_retries_total", { operation = op }))
    for result, n in pairs({ hit = 1, miss = 2, negative = 1 }) do
      assert.are.equal(n, value(fams, "apivideo_cache", "apivideo_cache_total", { result = result }), result)
    end
    assert.are.equal("gauge", fams.apivideo_rate_limit_remaining.type)
    assert.is_true(value(fams, "apivideo_rate_limit_remaining", "apivideo_rate_limit_remaining") > 0)
    assert.are.equal("histogram", fams.apivideo_request_duration_seconds.type)
    assert.are.equal(3, value(fams, "apivideo_request_duration_seconds", "apivideo_request_duration_seconds_count",
      { operation = op }))
    assert.are.equal(3, value(fams, "apivideo_request_duration_seconds", "apivideo_request_duration_seconds_bucket",
      { operation = op, le = "+Inf" }))
    assert.are.equal(#srv:requests("^/analytics/"), 3)
    assert.is_nil(text:find(KEY, 1, true))
  end)

  it("exposes figures as gauges, breakdowns capped with the rest as 'other', fetched once per cache TTL", function()
    local m = apivideo.memory_store()
    local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", cache = { store = m, ttl = 60 } })
    local window = { from = "2023-12-25T00:00:00Z", to = "2024-01-01T00:00:00Z" }
    local figures = {
      { name = "plays_by_country", metric = "play", breakdown = "country", max_values = 2,
        from = window.from, to = window.to },
      { name = "plays", metric = "play", aggregation = "count", from = window.from, to = window.to },
    }
    local all = {}
    for b in c.analytics:metrics_breakdown("play", "country", { from = window.from, to = window.to }) do
      all[#all + 1] = b
    end
    table.sort(all, function(x, y) return x.metric_value > y.metric_value end)
    assert.is_true(#all > 3, "the stand-in has more than 3 countries")
    local before = #srv:requests("^/data/")
    local fams = parse(prometheus.text(m, { client = c, figures = figures }))
    local after_first = #srv:requests("^/data/")
    prometheus.text(m, { client = c, figures = figures })
    assert.are.equal(after_first, #srv:requests("^/data/"), "the second scrape was answered by the cache")
    assert.is_true(after_first - before >= 1)
    local samples = fams.apivideo_figure_plays_by_country.samples
    assert.are.equal(3, #samples)
    local by = {}
    local total = 0
    for _, s in ipairs(samples) do by[s[2].country] = s[3] end
    for _, b in ipairs(all) do total = total + b.metric_value end
    assert.are.equal(all[1].metric_value, by[all[1].dimension_value])
    assert.are.equal(all[2].metric_value, by[all[2].dimension_value])
    assert.are.equal(total - all[1].metric_value - all[2].metric_value, by.other)
    assert.are.equal(total, value(fams, "apivideo_figure_plays", "apivideo_figure_plays"))
    assert.are.equal(1, value(fams, "apivideo_figure_up", "apivideo_figure_up", { figure = "plays" }))
  end)

  it("marks a figure that cannot be fetched with apivideo_figure_up 0, and the scrape still succeeds", function()
    local m = apivideo.memory_store()
    local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 0 })
    srv:faults({ { match = "/data/", kind = "500", count = -1 } })
    local fams = parse(prometheus.text(m, { client = c, figures = {
      { name = "plays", metric = "play", aggregation = "count", from = "2023-12-25T00:00:00Z" } } }))
    assert.are.equal(0, value(fams, "apivideo_figure_up", "apivideo_figure_up", { figure = "plays" }))
    assert.is_nil(fams.apivideo_figure_plays)
  end)

  it("refuses bad options before anything is fetched", function()
    local m = apivideo.memory_store()
    local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic" })
    local function refused(opts, arg)
      local ok, err = pcall(prometheus.text, m, opts)
      assert.is_false(ok)
      assert.are.equal("argument", err.kind)
      assert.are.equal(arg, err.arg)
    end
    refused({ figures = { { name = "x", metric = "play", aggregation = "count" } } }, "client")
    refused({ client = c, figures = { { name = "Bad-Name", metric = "play", aggregation = "count" } } },
      "figures[1].name")
    refused({ client = c, figures = { { name = "x", metric = "play" } } }, "figures[1]")
    refused({ client = c, figures = { { name = "x", metric = "play", aggregation = "count", windw_s = 60 } } },
      "figures[1]")
    refused({ client = c, figures = { { name = "x", metric = "play", breakdown = "country", max_values = 0 } } },
      "figures[1].max_values")
    local ok, err = pcall(prometheus.text, "dict")
    assert.is_false(ok)
    assert.are.equal("store", err.arg)
    assert.are.equal(0, #srv:requests("^/data/"))
  end)
end)
