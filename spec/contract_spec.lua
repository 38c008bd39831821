-- Contract check against Stoplight Prism, a mock driven by api.video's own
-- OpenAPI documents (../shared/apivideo): openapi.yaml (Basic auth) and
-- openapi-bearer.yaml (Bearer accepted too). Every operation with every
-- parameter must get a 200 through our client, and Prism's `sl-violations`
-- response header must name no violation of the REQUEST (it also reports
-- defects of the document's own response examples, such as relative link
-- URIs: those are not ours, so only locations starting with "request" count).
--
-- `make test` exports APIVIDEO_PRISM_BASIC_URL / APIVIDEO_PRISM_BEARER_URL
-- (openapi.yaml) and APIVIDEO_PRISM_2025_BASIC_URL / _BEARER_URL
-- (openapi-2025.yaml, the document of today's /data/* operations, and its
-- Bearer variant written by scripts/prism.sh); without them this file starts
-- Prism itself with scripts/prism.sh.
--
-- How the sl-violations header is read: a page does not carry raw headers,
-- so each client's engine gets a pass-through wrapper around its `fetch`
-- (the one function every request of the client goes through, token calls
-- included). The wrapper records the transfer spec the client built (URL,
-- headers) and the raw transfer result (status, lower-cased headers) and
-- returns the result unchanged. The request Prism judges is therefore exactly
-- the one our client sends, with no copy of its URL or header building here.
local apivideo = require("apivideo")
local D = require("spec.support.drive")
local cjson = require("cjson")
local S = require("spec.support.standin")
local V = require("spec.support.compat")
local shell = require("spec.support.shell")

local q = shell.quote

local BASIC = os.getenv("APIVIDEO_PRISM_BASIC_URL")
local BEARER = os.getenv("APIVIDEO_PRISM_BEARER_URL")
local BASIC_2025 = os.getenv("APIVIDEO_PRISM_2025_BASIC_URL")
local BEARER_2025 = os.getenv("APIVIDEO_PRISM_2025_BEARER_URL")
local own_prism -- directory of a Prism started here

local function set(v) return v ~= nil and v ~= "" end

local function start_prism()
  if set(BASIC) and set(BEARER) and set(BASIC_2025) and set(BEARER_2025) then return end
  own_prism = shell.tmpdir()
  local out = shell.run(q(S.root() .. "/scripts/prism.sh") .. " start " .. q(own_prism))
  BASIC = out:match("APIVIDEO_PRISM_BASIC_URL=(%S+)")
  BEARER = out:match("APIVIDEO_PRISM_BEARER_URL=(%S+)")
  BASIC_2025 = out:match("APIVIDEO_PRISM_2025_BASIC_URL=(%S+)")
  BEARER_2025 = out:match("APIVIDEO_PRISM_2025_BEARER_URL=(%S+)")
  assert(BASIC and BEARER and BASIC_2025 and BEARER_2025, "scripts/prism.sh start failed:\n" .. out)
end

local function stop_prism()
  if own_prism then
    shell.run(q(S.root() .. "/scripts/prism.sh") .. " stop " .. q(own_prism))
    shell.remove_tree(own_prism)
    own_prism = nil
    -- the URLs were those of the Prism stopped here: the next block starts its own
    BASIC, BEARER, BASIC_2025, BEARER_2025 = nil, nil, nil, nil
  end
end

-- Records every exchange of client c: { method, url, headers (spec), status, resp }.
local function record(c)
  local seen = {}
  local engine = c.engine
  local fetch = engine.transfer
  engine.transfer = function(self, spec)
    local resp = fetch(self, spec)
    seen[#seen + 1] = { method = spec.method or "GET", url = spec.url, headers = spec.headers, resp = resp }
    return resp
  end
  return seen
end

local function violations(resp)
  local h = resp.headers and resp.headers["sl-violations"]
  if not h or h == "" then return {} end
  local ok, list = pcall(cjson.decode, h)
  assert(ok and type(list) == "table", "unreadable sl-violations header: " .. tostring(h))
  return list
end

local function request_violations(resp)
  local out = {}
  for _, v in ipairs(violations(resp)) do
    local loc = v.location
    if type(loc) ~= "table" or loc[1] ~= "response" then
      -- anything not clearly about the response is counted against us
      out[#out + 1] = cjson.encode(v)
    end
  end
  return out
end

local function auth_line(headers)
  for _, h in ipairs(headers) do
    local v = h:match("^[Aa]uthorization:%s*(.*)$")
    if v then return v end
  end
end

local PERIODS = { "2018-01-01", "2018-W01", "2018-01", "2018", "2018-01-01/2018-01-15" }

-- Every operation with every parameter.
local function calls()
  local list = {}
  for _, period in ipairs(PERIODS) do
    list[#list + 1] = { "list_video_sessions", "vi4k0jvEUuaTdRAEjQ4Prklg",
      { period = period, metadata = { Author = "John Doe", Format = "Tutorial" }, current_page = 2, page_size = 25 } }
    list[#list + 1] = { "list_live_stream_sessions", "li400mYKSgQ6xs7taUeSaEKr",
      { period = period, current_page = 2, page_size = 25 } }
  end
  list[#list + 1] = { "list_video_sessions", "vi4k0jvEUuaTdRAEjQ4Prklg", { period = "2018-01" } }
  list[#list + 1] = { "list_live_stream_sessions", "li400mYKSgQ6xs7taUeSaEKr", { period = "2018" } }
  list[#list + 1] = { "list_session_events", "psEmFwGQUAXR2lFHj5nDOpy", { current_page = 2, page_size = 25 } }
  list[#list + 1] = { "list_session_events", "psEmFwGQUAXR2lFHj5nDOpy", nil }
  return list
end

local function check_mode(base_url, mode)
  local c = apivideo.new({ api_key = "prism-contract-key", base_url = base_url, auth = mode, max_retries = 0 })
  local seen = record(c)
  local report = {}
  for _, call in ipairs(calls()) do
    local name, id, opts = call[1], call[2], call[3]
    local page, err = c.analytics[name](c.analytics, id, opts)
    assert.is_nil(err, name .. ": " .. tostring(err))
    assert.is_table(page.data, name)
    assert.is_table(page.pagination, name)
  end
  local gets = 0
  for _, ex in ipairs(seen) do
    local what = ex.method .. " " .. ex.url
    assert.are.equal(200, ex.resp.status, what)
    assert.are.same({}, request_violations(ex.resp), what)
    local line = auth_line(ex.headers)
    if ex.method == "GET" then
      gets = gets + 1
      if mode == "basic" then
        assert.matches("^Basic ", line, what)
      else
        assert.matches("^Bearer %S+$", line, what)
      end
    else
      assert.is_nil(line, what) -- the token call carries no credentials header
    end
    for _, v in ipairs(violations(ex.resp)) do report[v.message or cjson.encode(v)] = true end
  end
  assert.are.equal(#calls(), gets)
  return seen, report
end

-- #once: the requests and the documents do not depend on the Lua version;
-- `make test-all` runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("contract check against Prism (api.video's OpenAPI documents) #once", function()
  setup(start_prism)
  teardown(stop_prism)

  it("basic mode on openapi.yaml: every operation and parameter gets a 200, no request violation", function()
    local seen = check_mode(BASIC, "basic")
    assert.are.equal(#calls(), #seen) -- no token calls in basic mode
    -- the query exactly as sent for the fullest call: metadata as a deepObject, keys sorted
    assert.matches("%?period=2018%-01%-01&metadata%[Author%]=John%%20Doe&metadata%[Format%]=Tutorial"
      .. "&currentPage=2&pageSize=25$", seen[1].url)
  end)

  it("bearer mode on openapi-bearer.yaml: token from /auth/api-key, then every operation gets a 200", function()
    local seen = check_mode(BEARER, "bearer")
    assert.are.equal(#calls() + 1, #seen)
    assert.are.equal("POST", seen[1].method)
    assert.matches("/auth/api%-key$", seen[1].url)
    assert.are.equal(200, seen[1].resp.status)
    assert.are.same({}, request_violations(seen[1].resp))
    -- the token Prism gave (its documented example) is the one the operations carry
    local token = seen[1].resp.json.access_token
    assert.is_string(token)
    assert.are.equal("Bearer " .. token, auth_line(seen[2].headers))
  end)

  it("decodes the documented examples into the documented snake_case shapes", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "basic" })
    local page = assert(c.analytics:list_video_sessions("vi4k0jvEUuaTdRAEjQ4Prklg", { period = "2018" }))
    local s = page.data[1]
    assert.are.equal("psEmFwGQUAXR2lFHj5nDOpy", s.session.session_id)
    assert.are.equal("2019-06-24T11:45:01.109Z", s.session.loaded_at)
    assert.are.equal("2019-06-24T11:49:19.243Z", s.session.ended_at)
    assert.are.equal("video encoding hosting and delivery", s.referrer.search_term)
    assert.is_true(V.is_integer(page.pagination.items_total))
    assert.is_true(V.is_integer(page.pagination.current_page_items))
    local events = assert(c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy"))
    local kinds = {}
    for _, e in ipairs(events.data) do
      kinds[e.type] = true
      assert.is_string(e.emitted_at)
      if e.type:find("^seek") then
        assert.is_true(V.is_integer(e.from))
        assert.is_true(V.is_integer(e.to))
      else
        assert.is_true(V.is_integer(e.at))
      end
    end
    assert.is_true(kinds["seek.forward"] and kinds["seek.backward"] and kinds.ready and true)
  end)

  -- Controls: the checks above could fail. Prism enforces the security scheme
  -- and rejects requests that break the document.
  it("control: Prism refuses a Bearer token on openapi.yaml (Basic only)", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "bearer", max_retries = 0 })
    local page, err = c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy")
    assert.is_nil(page)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
  end)

  it("control: Prism answers 422 to a request outside the document (sent with the client's own headers)", function()
    -- The client cannot send this (it validates page_size first), so the
    -- request goes through apivideo.core with the header lines our client
    -- built for its last request.
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "basic" })
    local seen = record(c)
    assert(c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy", { page_size = 25 }))
    local headers = seen[1].headers
    local function get(url)
      return D.get({ url = url, method = "GET", headers = headers, timeout_ms = 10000 })
    end
    local ok = get(BASIC .. "/analytics/sessions/psEmFwGQUAXR2lFHj5nDOpy/events?pageSize=25")
    assert.are.equal(200, ok.status)
    local bad = get(BASIC .. "/analytics/sessions/psEmFwGQUAXR2lFHj5nDOpy/events?pageSize=abc")
    assert.are.equal(422, bad.status)
    local missing = get(BASIC .. "/analytics/videos/vi4k0jvEUuaTdRAEjQ4Prklg")
    assert.are.equal(422, missing.status) -- period is required
  end)
end)

------------------------------------------------------------------------------
-- openapi-2025.yaml: today's Analytics operations (tag Analytics).
--
-- Prism checks there (notes/analytics-2025.md §7): the path enums of metric,
-- aggregation and breakdown per operation, the date-time format of from / to,
-- unique as a boolean, the enums of viewDuration, interval, sortBy (per
-- operation) and sortOrder, currentPage / pageSize as integers. It does not
-- check filterBy at all, nor the pairs, nor the bounds written only in prose;
-- metrics_spec.lua checks those against the stand-in.
--
-- Response violations Prism reports of the document's own examples (not
-- counted; measured with Prism 5.14.2): every 200 of /data/buckets and
-- /data/timeseries carries
--   ["response","body","pagination","links",N,"uri"] format: "Response body
--   property pagination.links.N.uri must match format "uri"" (N = 0, 1, 2)
-- because the examples' link uris are relative (D18). The /data/metrics
-- example (impression / count / 346.5) passes its own schema. The other
-- defects of the examples (D1-D7: narrower response enums, the malformed
-- emittedAt '2024-05-29T07+00:00:00:00') are not reported by Prism.

local FILTER_ALL = {
  media_id = { "vi4blUQJFrYWbaG44NChkH27", "li400mYKSgQ6xs7taUeSaEKr" }, media_type = "video",
  continent = { "EU", "NA" }, country = "FR", device_type = { "phone", "computer" },
  operating_system = { "windows", "mac osx" }, browser = { "firefox", "chrome" }, tag = "Cool videos",
  referrer = { "https://my-awesome-videos.com/", "" },
}
local FROM_2025, TO_2025 = "2024-02-05T00:00:00+01:00", "2024-02-06T00:00:00+01:00"

local function with2025(extra)
  local t = { from = FROM_2025, to = TO_2025 }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local AGGREGATIONS = {
  { "play", "count" }, { "play", "rate" }, { "play", "total" }, { "start", "count" }, { "end", "count" },
  { "impression", "count" }, { "impression-time", "average" }, { "impression-time", "sum" },
  { "watch-time", "average" }, { "watch-time", "sum" }, { "ccv", "peak" }, { "ccv", "live" }, { "view", "count" },
}
local BUCKET_METRICS = { "play", "play-rate", "start", "end", "impression", "ccv-peak", "ccv-average", "view" }
local SERIES_METRICS = { "play", "play-rate", "start", "end", "impression", "ccv-peak", "ccv-average", "view" }
local BREAKDOWNS = { "media-id", "media-type", "continent", "country", "device-type", "operating-system", "browser",
  "referrer" }
local UNIQUE = { ccv = true, ["ccv-peak"] = true, ["ccv-average"] = true, view = true }

-- Every operation with every parameter: { method, argv (ending with opts) }.
local function calls_2025()
  local list = {}
  local function add(name, ...) list[#list + 1] = { name, { ... } } end
  for _, p in ipairs(AGGREGATIONS) do
    local metric, agg = p[1], p[2]
    if agg == "total" then
      add("get_aggregated_metrics", metric, agg, with2025({ filter_by = { media_id = FILTER_ALL.media_id,
        media_type = "live-stream" } }))
    else
      add("get_aggregated_metrics", metric, agg, with2025({ filter_by = FILTER_ALL }))
    end
    add("get_aggregated_metrics", metric, agg, nil)
    if UNIQUE[metric] then
      add("get_aggregated_metrics", metric, agg, with2025({ unique = true }))
      add("get_aggregated_metrics", metric, agg, with2025({ unique = false, filter_by = FILTER_ALL }))
    end
  end
  for _, d in ipairs({ "3s", "5s", "10s", "30s" }) do
    add("get_aggregated_metrics", "view", "count", with2025({ view_duration = d, unique = true }))
    add("get_metrics_breakdown", "view", "country", with2025({ view_duration = d }))
    add("get_metrics_over_time", "view", with2025({ view_duration = d, unique = false }))
  end
  for _, metric in ipairs(BUCKET_METRICS) do
    for _, b in ipairs(BREAKDOWNS) do
      add("get_metrics_breakdown", metric, b, with2025({ filter_by = FILTER_ALL, current_page = 2, page_size = 30 }))
    end
    for _, by in ipairs({ "metricValue", "dimensionValue", "metric_value", "dimension_value" }) do
      for _, order in ipairs({ "asc", "desc" }) do
        add("get_metrics_breakdown", metric, "country", with2025({ sort_by = by, sort_order = order,
          unique = UNIQUE[metric] and true or nil }))
      end
    end
  end
  add("get_metrics_breakdown", "play-total", "media-id", { filter_by = { media_id = FILTER_ALL.media_id,
    media_type = "video" }, sort_by = "metricValue", sort_order = "desc", current_page = 1, page_size = 100 })
  add("get_metrics_breakdown", "view", "referrer", with2025({ sort_by = "dimensionValue", sort_order = "asc",
    unique = true, view_duration = "10s", filter_by = FILTER_ALL, current_page = 2, page_size = 1 }))
  add("get_metrics_breakdown", "play", "country", nil)
  local minute = { from = FROM_2025, to = "2024-02-05T01:00:00+01:00" }
  for _, metric in ipairs(SERIES_METRICS) do
    for _, interval in ipairs({ "minute", "hour", "day" }) do
      local opts = interval == "minute" and { from = minute.from, to = minute.to } or with2025()
      opts.interval, opts.filter_by, opts.current_page, opts.page_size = interval, FILTER_ALL, 3, 100
      if UNIQUE[metric] then opts.unique = true end
      add("get_metrics_over_time", metric, opts)
    end
    for _, by in ipairs({ "metricValue", "emittedAt", "metric_value", "emitted_at" }) do
      for _, order in ipairs({ "asc", "desc" }) do
        add("get_metrics_over_time", metric, with2025({ sort_by = by, sort_order = order }))
      end
    end
  end
  add("get_metrics_over_time", "view", { from = minute.from, to = minute.to, interval = "minute",
    sort_by = "emittedAt", sort_order = "desc", unique = false, view_duration = "3s", filter_by = FILTER_ALL,
    current_page = 1, page_size = 1 })
  add("get_metrics_over_time", "play", nil)
  return list
end

local function check_mode_2025(base_url, mode)
  local c = apivideo.new({ api_key = "prism-contract-key", base_url = base_url, auth = mode, max_retries = 0 })
  local seen = record(c)
  local list = calls_2025()
  for _, call in ipairs(list) do
    local name, argv = call[1], call[2]
    local r, err = c.analytics[name](c.analytics, argv[1], argv[2], argv[3])
    assert.is_nil(err, name .. ": " .. tostring(err))
    assert.is_table(r.context, name)
    if name == "get_aggregated_metrics" then
      assert.is_number(r.data)
    else
      assert.is_table(r.data, name)
      assert.is_table(r.pagination, name)
    end
  end
  -- the iterators send what Prism accepts too (its one page: currentPage 1 of 1)
  local n = 0
  for _ in c.analytics:metrics_breakdown("ccv-average", "device-type", with2025({ filter_by = FILTER_ALL,
    sort_by = "dimension_value", unique = true, page_size = 30 })) do n = n + 1 end
  for _ in c.analytics:metrics_over_time("play-rate", with2025({ interval = "day", sort_order = "desc" })) do
    n = n + 1
  end
  assert.are.equal(1 + 3, n) -- the examples: one bucket, three points
  local gets, response_violations = 0, {}
  for _, ex in ipairs(seen) do
    local what = ex.method .. " " .. ex.url
    assert.are.equal(200, ex.resp.status, what)
    assert.are.same({}, request_violations(ex.resp), what)
    local line = auth_line(ex.headers)
    if ex.method == "GET" then
      gets = gets + 1
      assert.matches("/data/", ex.url, 1, true)
      assert.matches(mode == "basic" and "^Basic " or "^Bearer %S+$", line, what)
    else
      assert.is_nil(line, what)
    end
    for _, v in ipairs(violations(ex.resp)) do
      response_violations[table.concat(v.location, "."):gsub("%.%d+%.", ".N.")] = true
    end
  end
  assert.are.equal(#list + 2, gets)
  return seen, response_violations, #list
end

describe("contract check against Prism (openapi-2025.yaml, today's Analytics) #once", function()
  setup(start_prism)
  teardown(stop_prism)

  it("basic mode: every operation with every parameter gets a 200, no request violation", function()
    local seen, response_violations, n = check_mode_2025(BASIC_2025, "basic")
    assert.are.equal(n + 2, #seen) -- no token call in basic mode
    assert.is_true(n > 200, n)
    -- the only response violations: the relative link uris of the examples
    assert.are.same({ ["response.body.pagination.links.N.uri"] = true }, response_violations)
    -- the fullest call as sent
    local full
    for _, ex in ipairs(seen) do
      if ex.url:find("/data/buckets/view/referrer?", 1, true) then full = ex.url end
    end
    assert.are.equal(BASIC_2025 .. "/data/buckets/view/referrer?from=2024-02-04T23%3A00%3A00%2B00%3A00"
      .. "&to=2024-02-05T23%3A00%3A00%2B00%3A00&sortBy=dimensionValue&sortOrder=asc&unique=true&viewDuration=10s"
      .. "&filterBy[mediaId][]=vi4blUQJFrYWbaG44NChkH27&filterBy[mediaId][]=li400mYKSgQ6xs7taUeSaEKr"
      .. "&filterBy[mediaType]=video&filterBy[continent][]=EU&filterBy[continent][]=NA&filterBy[country][]=FR"
      .. "&filterBy[deviceType][]=phone&filterBy[deviceType][]=computer"
      .. "&filterBy[operatingSystem][]=windows&filterBy[operatingSystem][]=mac%20osx"
      .. "&filterBy[browser][]=firefox&filterBy[browser][]=chrome&filterBy[tag]=Cool%20videos"
      .. "&filterBy[referrer][]=https%3A%2F%2Fmy-awesome-videos.com%2F&filterBy[referrer][]="
      .. "&currentPage=2&pageSize=1", full)
  end)

  it("bearer mode (the Bearer variant): token from /auth/api-key, then every operation gets a 200", function()
    local seen, _, n = check_mode_2025(BEARER_2025, "bearer")
    assert.are.equal(n + 2 + 1, #seen)
    assert.are.equal("POST", seen[1].method)
    assert.matches("/auth/api%-key$", seen[1].url)
    assert.are.equal(200, seen[1].resp.status)
    local token = seen[1].resp.json.access_token
    assert.is_string(token)
    assert.are.equal("Bearer " .. token, auth_line(seen[2].headers))
  end)

  it("decodes the document's examples into the client's shapes", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC_2025, auth = "basic" })
    local m = assert(c.analytics:get_aggregated_metrics("impression", "count"))
    assert.are.equal(346.5, m.data)
    assert.are.same({ metric = "impression", aggregation = "count",
      timeframe = { from = "2024-05-28T11:15:07+00:00", to = "2024-05-29T11:15:07+00:00" } }, m.context)
    local b = assert(c.analytics:get_metrics_breakdown("play", "country"))
    assert.are.same({ { metric_value = 7, dimension_value = "FR" } }, b.data)
    assert.is_true(V.is_integer(b.data[1].metric_value))
    assert.are.equal("2024-04-28T07:15:05+00:00", b.context.timeframe.from)
    assert.are.equal(1, b.pagination.items_total)
    local t = assert(c.analytics:get_metrics_over_time("play"))
    -- D7: the example's emittedAt is no date-time; the client keeps it as received
    assert.are.same({ "2024-05-29T07+00:00:00:00", "2024-05-29T08+00:00:00:00", "2024-05-29T09+00:00:00:00" },
      { t.data[1].emitted_at, t.data[2].emitted_at, t.data[3].emitted_at })
    assert.are.equal("hour", t.context.interval)
    -- Prism's X-RateLimit-* of 0 / 0: read, and no waiting on a 200
    assert.are.same({ limit = 0, remaining = 0, retry_after = 0 }, m.rate_limit)
  end)

  it("control: a Bearer token on the Basic-only openapi-2025.yaml is refused (401)", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC_2025, auth = "bearer",
      max_retries = 0 })
    for _, call in ipairs({
      function() return c.analytics:get_aggregated_metrics("play", "count") end,
      function() return c.analytics:get_metrics_breakdown("play", "country") end,
      function() return c.analytics:get_metrics_over_time("play") end,
    }) do
      local r, err = call()
      assert.is_nil(r)
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
    end
  end)

  it("control: requests outside the document, sent with the core directly, show request violations", function()
    -- The client refuses to send these; the core sends them with the header
    -- lines the client built for a good request.
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC_2025, auth = "basic" })
    local seen = record(c)
    assert(c.analytics:get_metrics_over_time("play", with2025({ interval = "hour" })))
    local good_url, headers = seen[1].url, seen[1].headers
    local function get(url)
      return D.get({ url = url, method = "GET", headers = headers, timeout_ms = 10000 })
    end
    local function locations(resp)
      local out = {}
      for _, v in ipairs(violations(resp)) do
        if v.location[1] == "request" then out[#out + 1] = table.concat(v.location, ".") end
      end
      table.sort(out)
      return out
    end
    local ok = get(good_url)
    assert.are.equal(200, ok.status)
    assert.are.same({}, locations(ok))
    local BAD = {
      { "/data/metrics/ccv/median", "request.path.aggregation" },
      { "/data/metrics/plays/count", "request.path.metric" },
      { "/data/buckets/play/city", "request.path.breakdown" },
      { "/data/timeseries/play-total", "request.path.metric" },
      { "/data/timeseries/play?interval=second", "request.query.interval" },
      { "/data/timeseries/play?sortBy=dimensionValue", "request.query.sortby" },
      { "/data/buckets/play/country?sortBy=emittedAt", "request.query.sortby" },
      { "/data/buckets/play/country?sortOrder=up", "request.query.sortorder" },
      { "/data/metrics/view/count?viewDuration=7s", "request.query.viewduration" },
      { "/data/metrics/view/count?unique=yes", "request.query.unique" },
      { "/data/buckets/play/country?currentPage=x", "request.query.currentpage" },
      { "/data/buckets/play/country?pageSize=x", "request.query.pagesize" },
      -- a date-time without its zone, and an offset whose '+' was not encoded
      { "/data/metrics/play/count?from=2024-02-05T00:00:00", "request.query.from" },
      { "/data/metrics/play/count?from=2024-02-05T00:00:00+01:00", "request.query.from" },
    }
    for _, b in ipairs(BAD) do
      local resp = get(BASIC_2025 .. b[1])
      assert.are.equal(400, resp.status, b[1]) -- the document's first 400 example, whatever the fault
      assert.are.same({ b[2] }, locations(resp), b[1])
    end
  end)
end)
