-- Today's Analytics operations (openapi-2025.yaml, tag Analytics) against the
-- stand-in with the real libcurl: get_aggregated_metrics,
-- get_metrics_breakdown, get_metrics_over_time and their iterators.
--
--   * what reaches the server, read from the stand-in's request log (`uri` as
--     received, `args` decoded): every option in the document's wire form;
--   * bad arguments raise before any request (the log stays empty);
--   * results: the figures agree with each other (the stand-in's guarantee,
--     notes/standin-contract.md), the shapes are snake_case, nothing the
--     server sent is dropped (compared with the raw body read with luasocket);
--   * iterators: order, prefetch, errors, 429, cancel, a contradicting server;
--   * the stand-in's 400 problem bodies as error objects.
--
-- The stand-in's clock is fixed at 2024-01-01T00:00:00Z and it refuses a
-- `from` older than 30 days, so the figures here are those of a day in
-- December 2023 (about 300 sessions of the whole project per day).
-- The vocabularies are written here from notes/analytics-2025.md, not read
-- from apivideo.operations, so a wrong row there shows up as a failure.
local apivideo = require("apivideo")
local errors = require("apivideo.errors")
local S = require("spec.support.standin")
local socket = require("socket")
local mime = require("mime")
local cjson = require("cjson")
local V = require("spec.support.compat")

local srv = S.shared()

local function fresh_server() srv:idle_reset() end

local function new_client(opts)
  local o = { api_key = "standin-key", base_url = srv.url, max_retries = 0, auth = "basic" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return apivideo.new(o)
end

local FROM, TO = "2023-12-20T00:00:00Z", "2023-12-21T00:00:00Z"
local FROM_ATOM, TO_ATOM = "2023-12-20T00:00:00+00:00", "2023-12-21T00:00:00+00:00"
local FROM_Q, TO_Q = "from=2023-12-20T00%3A00%3A00%2B00%3A00", "to=2023-12-21T00%3A00%3A00%2B00%3A00"
local DAY = { from = FROM, to = TO }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

-- /data/* entries of the stand-in's log, oldest first.
local function data_log()
  local out = {}
  for _, e in ipairs(srv:log()) do
    if e.path:find("^/data/") then out[#out + 1] = e end
  end
  return out
end

local function last_entry()
  local log = data_log()
  return log[#log]
end

local function pages_requested()
  local out = {}
  for _, e in ipairs(data_log()) do out[#out + 1] = tonumber(e.args.currentPage) end
  return out
end

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

local function range(a, b)
  local t = {}
  for i = a, b do t[#t + 1] = i end
  return t
end

local function sum(items)
  local s = 0
  for _, it in ipairs(items) do s = s + it.metric_value end
  return s
end

-- Every item of an items iterator.
local function collect(iter)
  local out = {}
  for it in iter do out[#out + 1] = it end
  return out
end

-- Days since 1970-01-01 (proleptic Gregorian), for os.time()-style numbers.
local function days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = V.idiv(y, 400)
  local yoe = y - era * 400
  local doy = V.idiv(153 * ((m + 9) % 12) + 2, 5) + d - 1
  return era * 146097 + yoe * 365 + V.idiv(yoe, 4) - V.idiv(yoe, 100) + doy - 719468
end

-- The raw answer to a request the client made (its logged uri), read with
-- luasocket + cjson, keys turned to snake_case the way the API's camelCase
-- maps to the client's names: what the client returns must be exactly this.
local function snake_keys(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" then k = k:gsub("(%l)(%u)", function(a, b) return a .. "_" .. b:lower() end) end
    out[k] = snake_keys(x)
  end
  return out
end

local function raw_answer(uri)
  local code, body = S.http("GET", srv.url .. uri, nil, { authorization = "Basic " .. mime.b64("standin-key:") })
  assert.are.equal(200, code, uri)
  return snake_keys(cjson.decode(body))
end

describe("metrics: what goes on the wire", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)

  describe("from / to as ATOM in UTC", function()
    local FORMS = {
      { "Z", "2023-12-20T00:00:00Z" },
      { "lower-case t and z", "2023-12-20t00:00:00z" },
      { "+01:00 offset", "2023-12-20T01:00:00+01:00" },
      { "-05:00 offset", "2023-12-19T19:00:00-05:00" },
      { "a fraction (dropped)", "2023-12-20T00:00:00.789Z" },
      { "a fraction and an offset", "2023-12-20T01:00:00.5+01:00" },
      { "an os.time() number", days(2023, 12, 20) * 86400 },
      { "an os.time() number with a fraction", days(2023, 12, 20) * 86400 + 0.75 },
    }
    for _, f in ipairs(FORMS) do
      local what, from = f[1], f[2]
      it("from as " .. what .. " goes out as " .. FROM_ATOM .. " (percent-encoded) on the three operations",
        function()
          local want = assert(A:get_aggregated_metrics("play", "count", DAY)).data
          local r = assert(A:get_aggregated_metrics("play", "count", { from = from, to = TO }))
          local e = last_entry()
          assert.are.equal("/data/metrics/play/count?" .. FROM_Q .. "&" .. TO_Q, e.uri)
          assert.are.equal(FROM_ATOM, e.args.from)
          assert.are.equal(TO_ATOM, e.args.to)
          assert.are.equal(want, r.data)
          assert.are.same({ from = FROM_ATOM, to = TO_ATOM }, r.context.timeframe)
          assert(A:get_metrics_breakdown("play", "country", { from = from, to = TO }))
          assert.are.equal("/data/buckets/play/country?" .. FROM_Q .. "&" .. TO_Q, last_entry().uri)
          assert(A:get_metrics_over_time("play", { from = from, to = TO }))
          assert.are.equal("/data/timeseries/play?" .. FROM_Q .. "&" .. TO_Q, last_entry().uri)
          -- to takes the same forms
          assert(A:get_aggregated_metrics("play", "count", { from = "2023-12-19T00:00:00Z", to = from }))
          assert.are.equal(FROM_ATOM, last_entry().args.to)
        end)
    end

    it("only from, only to, neither: only what was given is sent (the API fills in the defaults)", function()
      local r = assert(A:get_aggregated_metrics("play", "count", { to = TO }))
      assert.are.equal("/data/metrics/play/count?" .. TO_Q, last_entry().uri)
      assert.are.same({ from = FROM_ATOM, to = TO_ATOM }, r.context.timeframe) -- from = to - 1 day
      r = assert(A:get_metrics_over_time("play", { from = "2023-12-31T00:00:00Z" }))
      assert.are.equal("/data/timeseries/play?from=2023-12-31T00%3A00%3A00%2B00%3A00", last_entry().uri)
      assert.are.equal("2024-01-01T00:00:00+00:00", r.context.timeframe.to) -- the stand-in's now
      r = assert(A:get_metrics_breakdown("play", "country"))
      assert.are.equal("/data/buckets/play/country", last_entry().uri)
      assert.are.same({ from = "2023-12-31T00:00:00+00:00", to = "2024-01-01T00:00:00+00:00" }, r.context.timeframe)
    end)
  end)

  it("unique=true / unique=false on ccv, ccv-peak, ccv-average and view", function()
    local CALLS = {
      { "get_aggregated_metrics", { "ccv", "peak" }, "/data/metrics/ccv/peak", "ccv" },
      { "get_aggregated_metrics", { "view", "count" }, "/data/metrics/view/count", "view-5" },
      { "get_metrics_breakdown", { "ccv-peak", "country" }, "/data/buckets/ccv-peak/country", "ccv-peak" },
      { "get_metrics_breakdown", { "view", "browser" }, "/data/buckets/view/browser", "view-5" },
      { "get_metrics_over_time", { "ccv-average" }, "/data/timeseries/ccv-average", "ccv-average" },
      { "get_metrics_over_time", { "view" }, "/data/timeseries/view", "view-5" },
    }
    for _, call in ipairs(CALLS) do
      local name, args, path, echoed = call[1], call[2], call[3], call[4]
      for _, u in ipairs({ true, false }) do
        local argv = { args[1], args[2] }
        argv[#args + 1] = with(DAY, { unique = u })
        local r = assert(A[name](A, argv[1], argv[2], argv[3]))
        local e = last_entry()
        assert.are.equal(path .. "?" .. FROM_Q .. "&" .. TO_Q .. "&unique=" .. tostring(u), e.uri)
        assert.are.equal(tostring(u), e.args.unique)
        -- the API echoes the derived metric name (D2)
        assert.are.equal((u and "unique-" or "") .. echoed, r.context.metric, name .. " " .. path)
      end
    end
    -- unique counts a viewer once a day: fewer views, never more
    local all = assert(A:get_aggregated_metrics("view", "count", with(DAY, { unique = false }))).data
    local once = assert(A:get_aggregated_metrics("view", "count", with(DAY, { unique = true }))).data
    assert.is_true(once > 0 and once < all, once .. " of " .. all)
  end)

  it("view_duration 3s, 5s, 10s, 30s as viewDuration on the metric view of the three operations", function()
    local plays = assert(A:get_aggregated_metrics("play", "count", DAY)).data
    for _, d in ipairs({ "3s", "5s", "10s", "30s" }) do
      local r = assert(A:get_aggregated_metrics("view", "count", with(DAY, { view_duration = d, unique = false })))
      local e = last_entry()
      assert.are.equal("/data/metrics/view/count?" .. FROM_Q .. "&" .. TO_Q .. "&unique=false&viewDuration=" .. d,
        e.uri)
      assert.are.equal(d, e.args.viewDuration)
      assert.are.equal("view-" .. d:sub(1, -2), r.context.metric)
      assert.are.equal(plays, r.data) -- every session lasts 30 s or more: each play is a view
      r = assert(A:get_metrics_breakdown("view", "country", with(DAY, { view_duration = d })))
      assert.are.equal(d, last_entry().args.viewDuration)
      assert.are.equal(plays, sum(r.data))
      r = assert(A:get_metrics_over_time("view", with(DAY, { view_duration = d })))
      assert.are.equal(d, last_entry().args.viewDuration)
      assert.are.equal("view-" .. d:sub(1, -2), r.context.metric)
    end
  end)

  it("interval minute, hour, day; none sent when not asked (the API's default: hour up to 2 days, else day)",
    function()
      local r = assert(A:get_metrics_over_time("play", { from = "2023-12-20T10:00:00Z", to = "2023-12-20T11:00:00Z",
        interval = "minute", page_size = 100 }))
      assert.are.equal("/data/timeseries/play?from=2023-12-20T10%3A00%3A00%2B00%3A00"
        .. "&to=2023-12-20T11%3A00%3A00%2B00%3A00&interval=minute&pageSize=100", last_entry().uri)
      assert.are.equal("minute", r.context.interval)
      assert.is_true(#r.data > 0)
      for _, p in ipairs(r.data) do assert.matches("^2023%-12%-20T10:%d%d:00%+00:00$", p.emitted_at) end
      r = assert(A:get_metrics_over_time("play", with(DAY, { interval = "hour", page_size = 100 })))
      assert.are.equal("hour", last_entry().args.interval)
      assert.are.equal(24, #r.data)
      for k, p in ipairs(r.data) do assert.are.equal(("2023-12-20T%02d:00:00+00:00"):format(k - 1), p.emitted_at) end
      r = assert(A:get_metrics_over_time("play", { from = "2023-12-18T00:00:00Z", to = TO, interval = "day" }))
      assert.are.equal("day", last_entry().args.interval)
      assert.are.same({ "2023-12-18T00:00:00+00:00", "2023-12-19T00:00:00+00:00", "2023-12-20T00:00:00+00:00" },
        { r.data[1].emitted_at, r.data[2].emitted_at, r.data[3].emitted_at })
      -- not sent: the server chooses (exactly 2 days -> hour, more -> day)
      r = assert(A:get_metrics_over_time("play", { from = "2023-12-19T00:00:00Z", to = TO }))
      assert.is_nil(last_entry().args.interval)
      assert.are.equal("hour", r.context.interval)
      r = assert(A:get_metrics_over_time("play", { from = "2023-12-18T23:59:59Z", to = TO }))
      assert.are.equal("day", r.context.interval)
    end)

  it("sort_by / sort_order in the wire spelling and in snake_case go out in the wire spelling", function()
    local function values(r, f)
      local out = {}
      for k, it in ipairs(r.data) do out[k] = it[f] end
      return out
    end
    local function is_sorted(list, desc)
      for k = 2, #list do
        if desc then
          if list[k - 1] < list[k] then return false end
        elseif list[k - 1] > list[k] then return false end
      end
      return true
    end
    local BUCKETS = {
      { "metricValue", "metricValue", "metric_value" }, { "metric_value", "metricValue", "metric_value" },
      { "dimensionValue", "dimensionValue", "dimension_value" },
      { "dimension_value", "dimensionValue", "dimension_value" },
    }
    for _, b in ipairs(BUCKETS) do
      for _, order in ipairs({ "asc", "desc" }) do
        local r = assert(A:get_metrics_breakdown("play", "operating-system",
          with(DAY, { sort_by = b[1], sort_order = order })))
        local e = last_entry()
        assert.are.equal("/data/buckets/play/operating-system?" .. FROM_Q .. "&" .. TO_Q .. "&sortBy=" .. b[2]
          .. "&sortOrder=" .. order, e.uri)
        assert.are.equal(5, #r.data)
        assert.is_true(is_sorted(values(r, b[3]), order == "desc"), b[1] .. " " .. order)
      end
    end
    local SERIES = {
      { "metricValue", "metricValue", "metric_value" }, { "metric_value", "metricValue", "metric_value" },
      { "emittedAt", "emittedAt", "emitted_at" }, { "emitted_at", "emittedAt", "emitted_at" },
    }
    for _, s in ipairs(SERIES) do
      for _, order in ipairs({ "asc", "desc" }) do
        local r = assert(A:get_metrics_over_time("play", with(DAY, { sort_by = s[1], sort_order = order,
          page_size = 100 })))
        assert.are.same({ sortBy = s[2], sortOrder = order }, { sortBy = last_entry().args.sortBy,
          sortOrder = last_entry().args.sortOrder })
        assert.are.equal(24, #r.data)
        assert.is_true(is_sorted(values(r, s[3]), order == "desc"), s[1] .. " " .. order)
      end
    end
    -- sort_order alone
    assert(A:get_metrics_over_time("play", with(DAY, { sort_order = "desc" })))
    assert.are.equal("/data/timeseries/play?" .. FROM_Q .. "&" .. TO_Q .. "&sortOrder=desc", last_entry().uri)
  end)

  it("current_page / page_size as currentPage / pageSize, after every other option", function()
    local all = assert(A:get_metrics_over_time("play", with(DAY, { page_size = 100 })))
    local r = assert(A:get_metrics_over_time("play", with(DAY, { current_page = 2, page_size = 3 })))
    local e = last_entry()
    assert.are.equal("/data/timeseries/play?" .. FROM_Q .. "&" .. TO_Q .. "&currentPage=2&pageSize=3", e.uri)
    assert.are.same({ 2, 3, 3, 24, 8 }, { r.pagination.current_page, r.pagination.page_size,
      r.pagination.current_page_items, r.pagination.items_total, r.pagination.pages_total })
    assert.are.same({ all.data[4], all.data[5], all.data[6] }, r.data)
    r = assert(A:get_metrics_breakdown("play", "country", with(DAY, { current_page = 1 })))
    assert.are.equal("/data/buckets/play/country?" .. FROM_Q .. "&" .. TO_Q .. "&currentPage=1", last_entry().uri)
    assert.are.equal(25, r.pagination.page_size) -- the API's default
    -- a page beyond the last one is an empty page
    r = assert(A:get_metrics_breakdown("play", "country", with(DAY, { current_page = 9, page_size = 100 })))
    assert.are.same({}, r.data)
    assert.are.equal(9, r.pagination.current_page)
  end)

  describe("filter_by as the document's deepObject", function()
    local EXAMPLE = { country = { "FR" }, browser = { "firefox", "chrome" }, media_type = "video", tag = "Cool videos" }
    local EXAMPLE_Q = "filterBy[mediaType]=video&filterBy[country][]=FR&filterBy[browser][]=firefox"
      .. "&filterBy[browser][]=chrome&filterBy[tag]=Cool%20videos"

    it("the brief's example, in the document's key order, on the three operations", function()
      for _ = 1, 5 do -- pairs() order varies with the table: the wire order must not
        local f = {}
        for k, v in pairs(EXAMPLE) do f[k] = v end
        assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = f })))
        assert.are.equal("/data/metrics/play/count?" .. FROM_Q .. "&" .. TO_Q .. "&" .. EXAMPLE_Q, last_entry().uri)
      end
      assert(A:get_metrics_breakdown("play", "browser", with(DAY, { filter_by = EXAMPLE })))
      local e = last_entry()
      assert.are.equal("/data/buckets/play/browser?" .. FROM_Q .. "&" .. TO_Q .. "&" .. EXAMPLE_Q, e.uri)
      assert.are.same({ "firefox", "chrome" }, e.args["filterBy[browser][]"])
      assert.are.equal("FR", e.args["filterBy[country][]"])
      assert.are.equal("video", e.args["filterBy[mediaType]"])
      assert.are.equal("Cool videos", e.args["filterBy[tag]"])
      assert(A:get_metrics_over_time("play", with(DAY, { filter_by = EXAMPLE })))
      assert.are.equal("/data/timeseries/play?" .. FROM_Q .. "&" .. TO_Q .. "&" .. EXAMPLE_Q, last_entry().uri)
    end)

    it("every one of the nine keys; a single string for an array key is a one-element array", function()
      local ref = "https://example.com/watch/23"
      local f = {
        referrer = { ref, "" }, tag = "café au lait", browser = "firefox", operating_system = { "mac osx", "ios" },
        device_type = { "phone", "computer" }, country = "FR", continent = { "EU" }, media_type = "video",
        media_id = { "vi10k", "vi100k" },
      }
      assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = f })))
      local e = last_entry()
      assert.are.equal("/data/metrics/play/count?" .. FROM_Q .. "&" .. TO_Q
        .. "&filterBy[mediaId][]=vi10k&filterBy[mediaId][]=vi100k"
        .. "&filterBy[mediaType]=video"
        .. "&filterBy[continent][]=EU"
        .. "&filterBy[country][]=FR"
        .. "&filterBy[deviceType][]=phone&filterBy[deviceType][]=computer"
        .. "&filterBy[operatingSystem][]=mac%20osx&filterBy[operatingSystem][]=ios"
        .. "&filterBy[browser][]=firefox"
        .. "&filterBy[tag]=caf%C3%A9%20au%20lait"
        .. "&filterBy[referrer][]=https%3A%2F%2Fexample.com%2Fwatch%2F23&filterBy[referrer][]=", e.uri)
      assert.are.same({ ref, "" }, e.args["filterBy[referrer][]"])
      assert.are.equal("café au lait", e.args["filterBy[tag]"])
      assert.are.same({ "mac osx", "ios" }, e.args["filterBy[operatingSystem][]"])
      -- snake_case enum values are accepted and sent in the wire form
      assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = { media_type = "live_stream" } })))
      assert.are.equal("live-stream", last_entry().args["filterBy[mediaType]"])
      -- a referrer of exactly 2048 characters is allowed
      local long = "https://example.com/" .. string.rep("a", 2048 - 20)
      assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = { referrer = long } })))
      assert.are.equal(long, last_entry().args["filterBy[referrer][]"])
    end)

    it("the server applies what it received: a filtered metric equals the bucket of that value", function()
      local CASES = {
        { "country", "country", "FR" }, { "continent", "continent", "NA" }, { "device-type", "device_type", "phone" },
        { "operating-system", "operating_system", "mac osx" }, { "browser", "browser", "firefox" },
        { "media-id", "media_id", "vi10k" }, { "media-type", "media_type", "live-stream" },
        { "referrer", "referrer", "https://example.com/watch/23" }, { "referrer", "referrer", "" },
      }
      for _, case in ipairs(CASES) do
        local breakdown, key, value = case[1], case[2], case[3]
        local buckets = collect(A:metrics_breakdown("play", breakdown, with(DAY, { page_size = 100 })))
        local want
        for _, b in ipairs(buckets) do
          if b.dimension_value == value then want = b.metric_value end
        end
        assert.is_number(want, breakdown .. " " .. value)
        local got = assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = { [key] = value } })))
        assert.are.equal(want, got.data, key .. " = '" .. value .. "'")
      end
      -- values of one key OR together, keys AND together
      local fr = assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = { country = "FR" } }))).data
      local de = assert(A:get_aggregated_metrics("play", "count", with(DAY, { filter_by = { country = "DE" } }))).data
      local both = assert(A:get_aggregated_metrics("play", "count",
        with(DAY, { filter_by = { country = { "FR", "DE" } } }))).data
      assert.are.equal(fr + de, both)
      local eu = assert(A:get_aggregated_metrics("play", "count",
        with(DAY, { filter_by = { continent = "EU", country = { "FR", "US" } } }))).data
      assert.are.equal(fr, eu)
      -- the tag of the stand-in's sessions (non-ASCII, spaces) arrives intact
      local tagged = assert(A:get_metrics_breakdown("play", "country",
        with(DAY, { filter_by = { tag = "café au lait" } })))
      local plays = assert(A:get_aggregated_metrics("play", "count", DAY)).data
      assert.is_true(sum(tagged.data) > 0 and sum(tagged.data) < plays)
    end)
  end)

  it("every option of an operation together, in the order of the document", function()
    assert(A:get_metrics_breakdown("view", "country", with(DAY, { sort_by = "metric_value", sort_order = "asc",
      unique = true, view_duration = "10s", filter_by = { tag = "x", country = "FR" }, current_page = 2,
      page_size = 3 })))
    assert.are.equal("/data/buckets/view/country?" .. FROM_Q .. "&" .. TO_Q .. "&sortBy=metricValue&sortOrder=asc"
      .. "&unique=true&viewDuration=10s&filterBy[country][]=FR&filterBy[tag]=x&currentPage=2&pageSize=3",
      last_entry().uri)
    assert(A:get_metrics_over_time("view", { from = "2023-12-20T10:00:00Z", to = "2023-12-20T10:30:00+00:00",
      interval = "minute", sort_by = "emitted_at", sort_order = "desc", unique = false, view_duration = "30s",
      filter_by = { media_id = "vi100k" }, current_page = 1, page_size = 100 }))
    assert.are.equal("/data/timeseries/view?from=2023-12-20T10%3A00%3A00%2B00%3A00"
      .. "&to=2023-12-20T10%3A30%3A00%2B00%3A00&interval=minute&sortBy=emittedAt&sortOrder=desc&unique=false"
      .. "&viewDuration=30s&filterBy[mediaId][]=vi100k&currentPage=1&pageSize=100", last_entry().uri)
    assert(A:get_aggregated_metrics("view", "count", with(DAY, { unique = true, view_duration = "3s",
      filter_by = { device_type = "tv" } })))
    assert.are.equal("/data/metrics/view/count?" .. FROM_Q .. "&" .. TO_Q
      .. "&unique=true&viewDuration=3s&filterBy[deviceType][]=tv", last_entry().uri)
  end)

  it("metric, aggregation and breakdown in snake_case go out in the path's kebab-case", function()
    assert(A:get_aggregated_metrics("impression_time", "average", DAY))
    assert.are.equal("/data/metrics/impression-time/average", last_entry().path)
    assert(A:get_aggregated_metrics("watch_time", "sum", DAY))
    assert.are.equal("/data/metrics/watch-time/sum", last_entry().path)
    assert(A:get_metrics_breakdown("ccv_peak", "operating_system", DAY))
    assert.are.equal("/data/buckets/ccv-peak/operating-system", last_entry().path)
    assert(A:get_metrics_breakdown("play_total", "media_id", DAY))
    assert.are.equal("/data/buckets/play-total/media-id", last_entry().path)
    assert(A:get_metrics_over_time("play_rate", DAY))
    assert.are.equal("/data/timeseries/play-rate", last_entry().path)
  end)

  it("every valid metric / aggregation and metric / breakdown pair is sent and answered 200", function()
    local PAIRS = {
      play = { "count", "rate", "total" }, start = { "count" }, ["end"] = { "count" }, impression = { "count" },
      ["impression-time"] = { "average", "sum" }, ["watch-time"] = { "average", "sum" }, ccv = { "peak", "live" },
      view = { "count" },
    }
    local n = 0
    for metric, aggs in pairs(PAIRS) do
      for _, agg in ipairs(aggs) do
        local r, err = A:get_aggregated_metrics(metric, agg, agg == "total" and {} or DAY)
        assert.is_nil(err, metric .. "/" .. agg)
        assert.are.equal(agg, r.context.aggregation)
        assert.is_number(r.data)
        n = n + 1
      end
    end
    local BREAKDOWNS = { "media-id", "media-type", "continent", "country", "device-type", "operating-system",
      "browser", "referrer" }
    for _, metric in ipairs({ "play", "play-rate", "start", "end", "impression", "ccv-peak", "ccv-average", "view" }) do
      for _, b in ipairs(BREAKDOWNS) do
        local r, err = A:get_metrics_breakdown(metric, b, with(DAY, { page_size = 1 }))
        assert.is_nil(err, metric .. "/" .. b)
        assert.are.equal(b, r.context.breakdown)
        n = n + 1
      end
    end
    assert(A:get_metrics_breakdown("play-total", "media-id"))
    n = n + 1
    assert.are.equal(n, #data_log())
    for _, e in ipairs(data_log()) do assert.are.equal(200, e.status, e.uri) end
  end)
end)

describe("metrics: bad arguments raise before any request", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)
  after_each(function()
    assert.are.equal(0, srv:stats().requests)
  end)

  -- A[method](A, ...) must raise a message naming "analytics:<method>" and
  -- the argument, positioned at the caller, containing every string of `has`.
  local function expect(has, method, ...)
    local ok, err = pcall(A[method], A, ...)
    assert.is_false(ok, "no error from " .. method)
    assert.is_true(errors.is_argument(err), tostring(err))
    assert.are.equal("analytics:" .. method, err.fn)
    local msg = tostring(err)
    assert.truthy(msg:find("analytics:" .. method, 1, true), "no function name in: " .. msg)
    for _, s in ipairs(has) do assert.truthy(msg:find(s, 1, true), "'" .. s .. "' not in: " .. msg) end
    assert.is_nil(msg:find("apivideo/[%w_]+%.lua"), msg)
    return msg
  end

  local AGG = "'count', 'rate', 'total', 'average', 'sum', 'peak', 'live'"
  local M_AGG = "'play', 'start', 'end', 'impression', 'impression-time', 'watch-time', 'ccv', 'view'"
  local M_BUCKETS = "'play', 'play-rate', 'play-total', 'start', 'end', 'impression', 'ccv-peak', 'ccv-average', 'view'"
  local M_SERIES = "'play', 'play-rate', 'start', 'end', 'impression', 'ccv-peak', 'ccv-average', 'view'"
  local BREAKDOWNS = "'media-id', 'media-type', 'continent', 'country', 'device-type', 'operating-system', "
    .. "'browser', 'referrer'"

  it("each enum wrong: the message lists the valid values", function()
    for _, bad in ipairs({ "median", "plays", "Play", "view-5", "play-total", "play_rate", "", 1, true }) do
      expect({ "'metric'", M_AGG }, "get_aggregated_metrics", bad, "count", DAY)
    end
    expect({ "'metric'", M_AGG, "got nil" }, "get_aggregated_metrics", nil, "count", DAY)
    for _, bad in ipairs({ "day", "median", "Count", 7 }) do
      expect({ "'aggregation'", AGG }, "get_aggregated_metrics", "play", bad, DAY)
    end
    for _, bad in ipairs({ "ccv", "watch-time", "unique-view" }) do
      expect({ "'metric'", M_BUCKETS }, "get_metrics_breakdown", bad, "country", DAY)
    end
    for _, bad in ipairs({ "city", "region", "tag", "mediaId" }) do
      expect({ "'breakdown'", BREAKDOWNS }, "get_metrics_breakdown", "play", bad, DAY)
    end
    for _, bad in ipairs({ "play-total", "ccv", "impression-time" }) do
      expect({ "'metric'", M_SERIES }, "get_metrics_over_time", bad, DAY)
    end
    for _, bad in ipairs({ "second", "week", "Hour", 60 }) do
      expect({ "'interval'", "'minute', 'hour', 'day'" }, "get_metrics_over_time", "play",
        with(DAY, { interval = bad }))
    end
    expect({ "'sort_by'", "'metricValue', 'dimensionValue'", "'emittedAt'" }, "get_metrics_breakdown", "play",
      "country", with(DAY, { sort_by = "emittedAt" }))
    expect({ "'sort_by'", "'metricValue', 'emittedAt'", "'dimension_value'" }, "get_metrics_over_time", "play",
      with(DAY, { sort_by = "dimension_value" }))
    for _, bad in ipairs({ "up", "ASC", "descending" }) do
      expect({ "'sort_order'", "'asc', 'desc'" }, "get_metrics_breakdown", "play", "country",
        with(DAY, { sort_order = bad }))
      expect({ "'sort_order'", "'asc', 'desc'" }, "get_metrics_over_time", "play", with(DAY, { sort_order = bad }))
    end
    for _, bad in ipairs({ "7s", "5", 5, "60s" }) do
      expect({ "'view_duration'", "'3s', '5s', '10s', '30s'" }, "get_aggregated_metrics", "view", "count",
        with(DAY, { view_duration = bad }))
    end
    expect({ "'filter_by.media_type'", "'video', 'live-stream'", "'audio'" }, "get_metrics_over_time", "play",
      with(DAY, { filter_by = { media_type = "audio" } }))
  end)

  it("each wrong metric / aggregation pair names both values and lists the valid aggregations", function()
    local PAIRS = {
      play = "'count', 'rate', 'total'", start = "'count'", ["end"] = "'count'", impression = "'count'",
      ["impression-time"] = "'average', 'sum'", ["watch-time"] = "'average', 'sum'", ccv = "'peak', 'live'",
      view = "'count'",
    }
    local wrong = 0
    for metric, valid in pairs(PAIRS) do
      for _, agg in ipairs({ "count", "rate", "total", "average", "sum", "peak", "live" }) do
        if not valid:find("'" .. agg .. "'", 1, true) then
          expect({ "'aggregation'", "'" .. agg .. "'", "'" .. metric .. "'", valid }, "get_aggregated_metrics",
            metric, agg, DAY)
          wrong = wrong + 1
        end
      end
    end
    assert.are.equal(8 * 7 - 13, wrong)
  end)

  it("play-total with a breakdown other than media-id names both values and lists media-id", function()
    for _, b in ipairs({ "media-type", "continent", "country", "device-type", "operating-system", "browser",
      "referrer" }) do
      expect({ "'breakdown'", "'" .. b .. "'", "'play-total'", "'media-id'" }, "get_metrics_breakdown", "play-total",
        b, DAY)
      expect({ "'breakdown'", "'" .. b .. "'" }, "metrics_breakdown", "play-total", b, DAY)
      expect({ "'breakdown'", "'" .. b .. "'" }, "metrics_breakdown_pages", "play-total", b, DAY)
    end
  end)

  it("unique and view_duration with a metric that does not take them", function()
    for _, m in ipairs({ "play", "start", "end", "impression", "impression-time", "watch-time" }) do
      local agg = ({ ["impression-time"] = "sum", ["watch-time"] = "average" })[m] or "count"
      for _, u in ipairs({ true, false }) do
        expect({ "'unique'", "'ccv', 'view'", "'" .. m .. "'" }, "get_aggregated_metrics", m, agg,
          with(DAY, { unique = u }))
      end
      expect({ "'view_duration'", "'view'", "'" .. m .. "'" }, "get_aggregated_metrics", m, agg,
        with(DAY, { view_duration = "5s" }))
    end
    expect({ "'view_duration'", "'ccv'" }, "get_aggregated_metrics", "ccv", "peak", with(DAY, { view_duration = "5s" }))
    for _, m in ipairs({ "play", "play-rate", "start", "end", "impression" }) do
      expect({ "'unique'", "'ccv-peak', 'ccv-average', 'view'", "'" .. m .. "'" }, "get_metrics_breakdown", m,
        "country", with(DAY, { unique = true }))
      expect({ "'unique'", "'ccv-peak', 'ccv-average', 'view'", "'" .. m .. "'" }, "get_metrics_over_time", m,
        with(DAY, { unique = false }))
      expect({ "'view_duration'", "'" .. m .. "'" }, "metrics_over_time", m, with(DAY, { view_duration = "10s" }))
    end
    expect({ "'unique'", "'play-total'" }, "get_metrics_breakdown", "play-total", "media-id", { unique = true })
    for _, m in ipairs({ "ccv-peak", "ccv-average" }) do
      expect({ "'view_duration'", "'" .. m .. "'" }, "get_metrics_breakdown", m, "country",
        with(DAY, { view_duration = "3s" }))
    end
    for _, bad in ipairs({ "true", 1, 0 }) do
      expect({ "'unique'", "boolean expected" }, "get_aggregated_metrics", "view", "count", with(DAY, { unique = bad }))
    end
  end)

  it("filters other than media_id / media_type on play/total and play-total/media-id", function()
    local FILTERS = { continent = "EU", country = "FR", device_type = "phone", operating_system = "ios",
      browser = "edge", tag = "x", referrer = "" }
    for key, value in pairs(FILTERS) do
      expect({ "'filter_by'", "'" .. key .. "'", "play/total", "'media_id', 'media_type'" }, "get_aggregated_metrics",
        "play", "total", { filter_by = { [key] = value } })
      expect({ "'filter_by'", "'" .. key .. "'", "play-total/media-id" }, "get_metrics_breakdown", "play-total",
        "media-id", { filter_by = { media_id = "vi10k", [key] = value } })
      expect({ "'filter_by'", "'" .. key .. "'" }, "metrics_breakdown", "play-total", "media-id",
        { filter_by = { [key] = value } })
    end
  end)

  it("interval minute over 60 minutes, and with from omitted (1 day before to)", function()
    expect({ "'interval'", "'minute'", "60 minutes", "61 min 00 s" }, "get_metrics_over_time", "play",
      { from = "2023-12-20T10:00:00Z", to = "2023-12-20T11:01:00Z", interval = "minute" })
    expect({ "'interval'", "'minute'" }, "get_metrics_over_time", "play",
      { from = "2023-12-20T10:00:00Z", to = "2023-12-20T11:00:01Z", interval = "minute" })
    expect({ "'interval'", "'minute'", "'from' defaults to 1 day before 'to'" }, "get_metrics_over_time", "play",
      { to = "2023-12-20T11:00:00Z", interval = "minute" })
    expect({ "'interval'", "'minute'", "'from' defaults" }, "get_metrics_over_time", "play", { interval = "minute" })
    expect({ "'interval'", "'minute'" }, "metrics_over_time_pages", "play", with(DAY, { interval = "minute" }))
    -- the offset counts: 10:00+01:00 is 09:00Z, one second more than 60 minutes before 10:00:01Z
    expect({ "'interval'" }, "metrics_over_time", "play", { from = "2023-12-20T10:00:00+01:00",
      to = "2023-12-20T10:00:01Z", interval = "minute" })
  end)

  it("from >= to, and date-times that are malformed, impossible, without a zone or of the wrong type", function()
    for _, m in ipairs({ "get_aggregated_metrics", "get_metrics_breakdown", "get_metrics_over_time" }) do
      local pre = m == "get_metrics_over_time" and { "play" } or { "play", m == "get_aggregated_metrics" and "count"
        or "country" }
      local function call(has, opts)
        local argv = { pre[1], pre[2] }
        argv[#pre + 1] = opts
        expect(has, m, argv[1], argv[2], argv[3])
      end
      call({ "'from'", "before 'to'" }, { from = FROM, to = FROM })
      call({ "'from'", "before 'to'" }, { from = TO, to = FROM })
      call({ "'from'", "before 'to'" }, { from = "2023-12-20T01:00:00+01:00", to = "2023-12-20T00:00:00Z" })
      call({ "'from'", "before 'to'" }, { from = days(2023, 12, 21) * 86400, to = FROM })
      local BAD = {
        { "2023-02-30T00:00:00Z", "2023-02-30" }, { "2023-02-29T00:00:00Z", "2023-02-29" },
        { "2023-13-01T00:00:00Z", "" }, { "2023-12-20T24:00:00Z", "24:00:00" },
        { "2023-12-20T00:00:00", "no time zone" }, { "2023-12-20", "" }, { "2023-12-20T00:00Z", "" },
        { "2023-12-20T00:00:00+1:00", "+1:00" }, { "2023-12-20T00:00:00+24:00", "+24:00" },
        { "2023-12-20T00:00:00.Z", "" }, { " 2023-12-20T00:00:00Z", "" }, { "2023-12-20T00:00:00Z ", "" },
        { "yesterday", "" }, { "", "" },
      }
      for _, b in ipairs(BAD) do
        local has = { "'from'" }
        if b[2] ~= "" then has[2] = b[2] end
        call(has, { from = b[1], to = TO })
        call({ "'to'" }, { from = FROM, to = b[1] })
      end
      for _, v in ipairs({ true, {}, 0 / 0, math.huge, -math.huge, -1, 253402300800 }) do
        call({ "'from'" }, { from = v })
        call({ "'to'" }, { to = v })
      end
    end
  end)

  it("unknown options, camelCase wire names and options of another operation", function()
    expect({ "'sortBy'" }, "get_metrics_breakdown", "play", "country", with(DAY, { sortBy = "metricValue" }))
    expect({ "'filterBy'" }, "get_aggregated_metrics", "play", "count", { filterBy = { country = "FR" } })
    expect({ "'viewDuration'" }, "get_aggregated_metrics", "view", "count", { viewDuration = "5s" })
    expect({ "'pageSize'" }, "get_metrics_over_time", "play", { pageSize = 5 })
    expect({ "'form'" }, "get_metrics_over_time", "play", { form = FROM })
    -- pages, sort and interval belong to other operations
    expect({ "'page_size'" }, "get_aggregated_metrics", "play", "count", { page_size = 5 })
    expect({ "'current_page'" }, "get_aggregated_metrics", "play", "count", { current_page = 1 })
    expect({ "'sort_by'" }, "get_aggregated_metrics", "play", "count", { sort_by = "metricValue" })
    expect({ "'interval'" }, "get_metrics_breakdown", "play", "country", { interval = "hour" })
    expect({ "'period'" }, "get_metrics_over_time", "play", { period = "2023-12" })
    expect({ "'options'" }, "get_metrics_over_time", "play", "2023-12-20")
    expect({ "'options'" }, "get_aggregated_metrics", "play", "count", 7)
  end)

  it("filter keys that are unknown, filter values of the wrong type, empty, too long or outside their enum", function()
    local KEYS = "'media_id', 'media_type', 'continent', 'country', 'device_type', 'operating_system', 'browser', "
      .. "'tag', 'referrer'"
    for _, k in ipairs({ "city", "mediaId", "deviceType", "region", "countries" }) do
      expect({ "'filter_by'", "'" .. k .. "'", KEYS }, "get_metrics_over_time", "play",
        with(DAY, { filter_by = { [k] = "x" } }))
    end
    expect({ "'filter_by'", "unknown key '1'" }, "get_metrics_over_time", "play", with(DAY, { filter_by = { "FR" } }))
    expect({ "'filter_by'", "table expected" }, "get_metrics_over_time", "play",
      with(DAY, { filter_by = "country=FR" }))
    local BAD = {
      { { country = 7 }, "filter_by.country[1]", "string expected" }, -- a single value is a one-element list
      { { country = { 7 } }, "filter_by.country[1]", "string expected" },
      { { browser = { "firefox", true } }, "filter_by.browser[2]", "string expected" },
      { { browser = {} }, "filter_by.browser", "empty list" },
      { { device_type = { "phone", x = "tv" } }, "filter_by.device_type", "list of strings" },
      { { operating_system = "" }, "filter_by.operating_system[1]", "empty" },
      { { media_id = { "" } }, "filter_by.media_id[1]", "empty" },
      { { tag = "" }, "filter_by.tag", "empty" },
      { { tag = { "a", "b" } }, "filter_by.tag", "one string" },
      { { media_type = { "video" } }, "filter_by.media_type", "one string" },
      { { media_type = "audio" }, "filter_by.media_type", "'video', 'live-stream'" },
      { { referrer = string.rep("r", 2049) }, "filter_by.referrer[1]", "2048" },
      { { referrer = { "", string.rep("r", 2049) } }, "filter_by.referrer[2]", "2049" },
      { { continent = "OC" }, "filter_by.continent[1]", "'AS', 'AF', 'NA', 'SA', 'AN', 'EU', 'AZ'" },
      { { continent = { "EU", "eu" } }, "filter_by.continent[2]", "'eu'" },
      { { country = "fr" }, "filter_by.country[1]", "'fr'" },
      { { country = "FRA" }, "filter_by.country[1]", "'FRA'" },
      { { country = { "FR", "F" } }, "filter_by.country[2]", "'F'" },
    }
    for _, b in ipairs(BAD) do
      expect({ "'" .. b[2] .. "'", b[3] }, "get_aggregated_metrics", "play", "count", with(DAY, { filter_by = b[1] }))
      expect({ "'" .. b[2] .. "'" }, "metrics_breakdown", "play", "country", with(DAY, { filter_by = b[1] }))
    end
  end)

  it("page bounds: current_page >= 1, page_size 1 to 100, whole numbers", function()
    for _, m in ipairs({ "get_metrics_breakdown", "metrics_breakdown", "metrics_breakdown_pages" }) do
      for _, bad in ipairs({ 0, -1, 1.5, "1", math.huge, 0 / 0, 2147483648 }) do
        expect({ "'current_page'" }, m, "play", "country", with(DAY, { current_page = bad }))
      end
      for _, bad in ipairs({ 0, 101, -5 }) do
        expect({ "'page_size'", "1..100" }, m, "play", "country", with(DAY, { page_size = bad }))
      end
      for _, bad in ipairs({ 2.5, "10", true }) do
        expect({ "'page_size'", "integer expected" }, m, "play", "country", with(DAY, { page_size = bad }))
      end
    end
    for _, m in ipairs({ "get_metrics_over_time", "metrics_over_time", "metrics_over_time_pages" }) do
      expect({ "'current_page'" }, m, "play", with(DAY, { current_page = 0 }))
      expect({ "'page_size'" }, m, "play", with(DAY, { page_size = 101 }))
    end
  end)
end)

describe("metrics: results", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)

  it("a breakdown of plays sums to the plays of the metric, for every breakdown, with and without filters", function()
    local FILTERS = { {}, { device_type = { "phone", "tablet" } }, { country = "US", browser = "chrome" },
      { media_type = "live-stream" } }
    for _, f in ipairs(FILTERS) do
      local opts = with(DAY, { filter_by = f })
      local plays = assert(A:get_aggregated_metrics("play", "count", opts)).data
      if next(f) == nil then assert.is_true(plays > 100, plays) end
      for _, b in ipairs({ "media-id", "media-type", "continent", "country", "device-type", "operating-system",
        "browser", "referrer" }) do
        local items = collect(A:metrics_breakdown("play", b, with(opts, { page_size = 100 })))
        assert.are.equal(plays, sum(items), b)
      end
      -- other count metrics
      for _, m in ipairs({ "start", "end", "impression" }) do
        local total = assert(A:get_aggregated_metrics(m, "count", opts)).data
        assert.are.equal(total, sum(collect(A:metrics_breakdown(m, "country", with(opts, { page_size = 100 })))), m)
        assert.are.equal(total, sum(collect(A:metrics_over_time(m, with(opts, { page_size = 100 })))), m)
      end
    end
  end)

  it("a time series of plays sums to the plays of the metric, at every interval", function()
    local three = { from = "2023-12-18T00:00:00Z", to = TO }
    local plays3 = assert(A:get_aggregated_metrics("play", "count", three)).data
    local daily = collect(A:metrics_over_time("play", three))
    assert.are.equal(3, #daily)
    assert.are.equal(plays3, sum(daily))
    local hourly = collect(A:metrics_over_time("play", with(three, { interval = "hour", page_size = 10 })))
    assert.are.equal(72, #hourly)
    assert.are.equal(plays3, sum(hourly))
    local hour = { from = "2023-12-20T10:00:00Z", to = "2023-12-20T11:00:00Z" }
    local plays1 = assert(A:get_aggregated_metrics("play", "count", hour)).data
    assert.is_true(plays1 > 0)
    assert.are.equal(plays1, sum(collect(A:metrics_over_time("play", with(hour, { interval = "minute" })))))
    -- the first day of the series equals the metric of that day
    local first = assert(A:get_aggregated_metrics("play", "count", { from = "2023-12-18T00:00:00Z",
      to = "2023-12-19T00:00:00Z" })).data
    assert.are.equal(first, daily[1].metric_value)
  end)

  it("play/total and play-total/media-id count all time and agree with each other", function()
    local total = assert(A:get_aggregated_metrics("play", "total", { filter_by = { media_type = "video" } }))
    local buckets = collect(A:metrics_breakdown("play-total", "media-id", { filter_by = { media_type = "video" } }))
    assert.are.equal(total.data, sum(buckets))
    -- every session of 2023 is before now: each video with sessions has a bucket of all of them
    local want, n = {}, 0
    for id, src in pairs(S.data().SOURCES) do
      if src.kind == "video" and src.n > 0 then
        want[id] = assert(A:list_video_sessions(id, { period = "2023", page_size = 1 })).pagination.items_total
        n = n + 1
      end
    end
    for _, b in ipairs(buckets) do assert.are.equal(want[b.dimension_value], b.metric_value, b.dimension_value) end
    assert.are.equal(n, #buckets)
    local one = assert(A:get_aggregated_metrics("play", "total", { filter_by = { media_id = "li500" } }))
    assert.are.equal(500, one.data)
  end)

  it("shapes: snake_case fields, context and timeframe kept as sent, integer counts, float rates and averages",
    function()
      local r = assert(A:get_metrics_breakdown("play", "country", DAY))
      assert.are.same({ metric = "play", breakdown = "country", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        r.context)
      for _, it in ipairs(r.data) do
        assert.are.same({ "dimension_value", "metric_value" }, sorted((function()
          local ks = {}
          for k in pairs(it) do ks[#ks + 1] = k end
          return ks
        end)()))
        assert.is_string(it.dimension_value)
        assert.is_true(V.is_integer(it.metric_value), tostring(it.metric_value))
      end
      local ts = assert(A:get_metrics_over_time("play", DAY))
      for _, it in ipairs(ts.data) do
        assert.is_nil(it.emittedAt)
        assert.is_nil(it.metricValue)
        assert.matches("^2023%-12%-20T%d%d:00:00%+00:00$", it.emitted_at)
        assert.is_true(V.is_integer(it.metric_value))
      end
      local p = ts.pagination
      for _, k in ipairs({ "current_page", "current_page_items", "page_size", "pages_total", "items_total" }) do
        assert.is_true(V.is_integer(p[k]), k)
      end
      assert.is_nil(p.pagesTotal)
      assert.are.equal("self", p.links[1].rel)
      local m = assert(A:get_aggregated_metrics("watch-time", "sum", DAY))
      assert.is_true(V.is_integer(m.data))
      assert.are.same({ metric = "watch-time", aggregation = "sum", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        m.context)
      -- floats on 5.3+ (every number is a float before that), 1.0 included
      local FLOATS = {
        { "get_aggregated_metrics", "play", "rate" }, { "get_aggregated_metrics", "impression-time", "average" },
        { "get_aggregated_metrics", "watch-time", "average" },
      }
      for _, f in ipairs(FLOATS) do
        local x = assert(A[f[1]](A, f[2], f[3], DAY)).data
        assert.are.equal("float", V.math_type(x), f[2] .. "/" .. f[3])
        assert.is_true(x > 0)
      end
      -- (a rate or an average that happens to be whole: the next test)
      local fractions = 0
      for _, it in ipairs(assert(A:get_metrics_breakdown("play-rate", "country", DAY)).data) do
        assert.is_true(it.metric_value > 0 and it.metric_value <= 1)
        if it.metric_value < 1 then
          assert.are.equal("float", V.math_type(it.metric_value), it.dimension_value)
          fractions = fractions + 1
        end
      end
      assert.is_true(fractions >= 3, fractions)
      for _, it in ipairs(assert(A:get_metrics_over_time("ccv-average", DAY)).data) do
        if it.metric_value ~= math.floor(it.metric_value) then
          assert.are.equal("float", V.math_type(it.metric_value))
        end
      end
      for _, it in ipairs(assert(A:get_metrics_over_time("ccv-peak", DAY)).data) do
        assert.is_true(V.is_integer(it.metric_value))
      end
    end)

  it("a rate or an average that happens to be whole (the stand-in sends 1.0) is still a float on 5.3+", function()
    -- vi250 and li500 have one session on that day: a play rate of 1 / 1 or 1 / 2
    local rates = assert(A:get_metrics_breakdown("play-rate", "media-id", DAY)).data
    local whole = {}
    for _, it in ipairs(rates) do
      if it.metric_value == 1 then whole[#whole + 1] = it end
    end
    assert.is_true(#whole > 0, "no rate of exactly 1.0 to check")
    local one = assert(A:get_aggregated_metrics("play", "rate", with(DAY,
      { filter_by = { media_id = whole[1].dimension_value } }))).data
    assert.are.equal(1, one)
    local wrong = {}
    for _, it in ipairs(whole) do
      if V.math_type(it.metric_value) ~= "float" then wrong[#wrong + 1] = "play-rate " .. it.dimension_value end
    end
    if V.math_type(one) ~= "float" then wrong[#wrong + 1] = "play/rate" end
    assert.are.same({}, wrong)
  end)

  it("nothing the server sent is dropped (the raw body, keys in snake_case) and rate_limit is added", function()
    srv:config({ rate_limit = { limit = 500, window_s = 30 } })
    local CALLS = {
      function() return A:get_aggregated_metrics("ccv", "peak", with(DAY, { unique = true })) end,
      function() return A:get_metrics_breakdown("view", "referrer", with(DAY, { page_size = 7, current_page = 2 })) end,
      function() return A:get_metrics_over_time("play-rate", with(DAY, { page_size = 5 })) end,
    }
    for k, call in ipairs(CALLS) do
      local r = assert(call())
      local uri = last_entry().uri
      local rl = r.rate_limit
      -- the raw reads here count against the limit too: 2 requests per call
      assert.are.same({ limit = 500, remaining = 500 - (2 * k - 1), retry_after = 30 }, rl)
      for _, f in ipairs({ "limit", "remaining", "retry_after" }) do assert.is_true(V.is_integer(rl[f]), f) end
      r.rate_limit = nil
      assert.are.same(raw_answer(uri), r)
    end
  end)
end)

describe("metrics: iterators", function()
  before_each(fresh_server)

  it("every item once, in order, across pages (items and pages, both operations)", function()
    local c = new_client({ concurrency = 3 })
    local A = c.analytics
    local full = assert(A:get_metrics_over_time("play", with(DAY, { page_size = 100 }))).data
    srv:reset()
    local items = collect(A:metrics_over_time("play", with(DAY, { page_size = 5 })))
    assert.are.same(full, items)
    assert.are.same(range(1, 5), sorted(pages_requested()))
    -- buckets, sorted by the dimension: about 50 referrers over 8 pages of 7
    srv:reset()
    local opts = with(DAY, { sort_by = "dimension_value", sort_order = "asc", page_size = 7 })
    local pages, values = {}, {}
    for page in A:metrics_breakdown_pages("view", "referrer", opts) do
      pages[#pages + 1] = page.pagination.current_page
      assert.are.same({ metric = "view-5", breakdown = "referrer", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        page.context)
      for _, it in ipairs(page.data) do values[#values + 1] = it.dimension_value end
    end
    local total = #values
    assert.is_true(total > 14, total)
    assert.are.same(range(1, math.ceil(total / 7)), pages)
    assert.are.same(sorted(values), values)
    local seen = {}
    for _, v in ipairs(values) do
      assert.is_nil(seen[v], v)
      seen[v] = true
    end
    assert.are.equal("", values[1]) -- the sessions without a referrer
    -- the items iterator of the same walk, starting at page 3
    local rest = collect(A:metrics_breakdown("view", "referrer", with(opts, { current_page = 3 })))
    assert.are.equal(total - 14, #rest)
    assert.are.equal(values[15], rest[1].dimension_value)
    -- time series pages
    local nums = {}
    for page in A:metrics_over_time_pages("play", with(DAY, { page_size = 10 })) do
      nums[#nums + 1] = page.pagination.current_page
      assert.are.equal("hour", page.context.interval)
    end
    assert.are.same({ 1, 2, 3 }, nums)
  end)

  it("a single empty page: no item, one request", function()
    local c = new_client()
    local n = 0
    for _ in c.analytics:metrics_breakdown("play", "country", with(DAY, { filter_by = { country = "ZZ" } })) do
      n = n + 1
    end
    for _ in c.analytics:metrics_over_time("play", with(DAY, { filter_by = { tag = "none" } })) do n = n + 1 end
    assert.are.equal(0, n)
    assert.are.same({ 1, 1 }, pages_requested())
  end)

  for _, conc in ipairs({ 1, 3 }) do
    it("prefetch keeps " .. conc .. " pages in flight at once (the stand-in's max_in_flight), never more", function()
      srv:config({ latency_ms = 80 })
      local c = new_client({ concurrency = conc })
      local n = 0
      for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 3 })) do n = n + 1 end
      assert.are.equal(24, n)
      assert.are.equal(conc, srv:stats().max_in_flight)
      assert.are.same(range(1, 8), sorted(pages_requested()))
      if conc == 1 then assert.are.same(range(1, 8), pages_requested()) end
    end)
  end

  it("an error mid-walk raises the error object after the items before it", function()
    srv:faults({ { match = "/data/timeseries/play", kind = "500", skip = 2, count = 1 } })
    local c = new_client({ concurrency = 1 })
    local n = 0
    local ok, err = pcall(function()
      for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 4 })) do n = n + 1 end
    end)
    assert.is_false(ok)
    assert.is_true(apivideo.is_error(err), tostring(err))
    assert.are.equal("http", err.kind)
    assert.are.equal(500, err.status)
    assert.matches("/data/timeseries/play%?.*currentPage=3&pageSize=4$", err.url)
    assert.are.equal(8, n)
    assert.are.equal(0, c:in_flight())
    assert.are.same({ 1, 2, 3 }, pages_requested())
    -- a page iterator too, and it is finished afterwards
    fresh_server()
    srv:faults({ { match = "/data/buckets/", kind = "invalid_json", skip = 1, count = -1 } })
    local f = c.analytics:metrics_breakdown_pages("play", "referrer", with(DAY, { page_size = 5 }))
    assert.are.equal(1, f().pagination.current_page)
    local ok2, err2 = pcall(f)
    assert.is_false(ok2)
    assert.are.equal("decode", err2.kind)
    assert.is_nil(f())
  end)

  it("a 429 is waited out (X-RateLimit-Retry-After: 1) and the page asked again", function()
    srv:faults({ { match = "/data/buckets/", kind = "429", skip = 1, count = 1 } })
    local c = new_client({ concurrency = 1, max_retries = 2 })
    local t0 = socket.gettime()
    local items = collect(c.analytics:metrics_breakdown("play", "referrer", with(DAY, { page_size = 10 })))
    local elapsed = socket.gettime() - t0
    local want = assert(c.analytics:get_metrics_breakdown("play", "referrer", with(DAY, { page_size = 100 }))).data
    assert.are.same(want, items)
    assert.is_true(elapsed >= 0.9, "waited only " .. elapsed .. " s")
    local log = data_log()
    assert.are.equal(429, log[2].status)
    assert.are.equal("2", log[2].args.currentPage)
    assert.are.equal("2", log[3].args.currentPage)
    assert.are.equal(200, log[3].status)
  end)

  describe("leaving a walk early cancels the pages in flight", function()
    -- As in pager_spec: on 5.4 the generic for closes the walk at the break,
    -- elsewhere the walk ends when its iterator is collected.
    local function closed_at_once(c)
      if V.CLOSES_LOOPS then assert.are.equal(0, c:in_flight()) end
    end
    local function closed_once_collected(c)
      if not V.CLOSES_LOOPS then V.collect() end
      assert.are.equal(0, c:in_flight())
    end

    it("break (items and pages)", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 4 })
      local during
      local function items()
        for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 2 })) do -- luacheck: ignore 512
          c:step(0)
          during = c:in_flight()
          break
        end
        closed_at_once(c)
      end
      items()
      closed_once_collected(c)
      assert.are.equal(4, during) -- pages 2..5
      local function pages()
        local opts = with(DAY, { page_size = 2 })
        for _ in c.analytics:metrics_breakdown_pages("play", "referrer", opts) do -- luacheck: ignore 512
          c:step(0)
          during = c:in_flight()
          break
        end
        closed_at_once(c)
      end
      pages()
      closed_once_collected(c)
      assert.are.equal(4, during)
      local sent = srv:stats().requests
      assert.is_true(sent <= 2 * (1 + 4), sent)
      socket.sleep(0.3)
      assert.are.equal(sent, srv:stats().requests) -- nothing new was started
      -- the client is still usable
      assert(c.analytics:get_aggregated_metrics("play", "count", DAY))
    end)

    it("close(), the fourth value of the iterator call, on every Lua", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 3 })
      local f, _, _, walk = c.analytics:metrics_breakdown("play", "referrer", with(DAY, { page_size = 5 }))
      assert.is_string(f().dimension_value)
      c:step(0)
      assert.are.equal(3, c:in_flight())
      walk:close()
      assert.are.equal(0, c:in_flight())
      assert.is_nil(f())
      local pf, _, _, pwalk = c.analytics:metrics_over_time_pages("play", with(DAY, { page_size = 2 }))
      assert.are.equal(1, pf().pagination.current_page)
      c:step(0)
      assert.are.equal(3, c:in_flight())
      pwalk:close()
      assert.are.equal(0, c:in_flight())
      assert.is_nil(pf())
    end)
  end)

  for _, kind in ipairs({ "items", "pages" }) do
    it("a server that contradicts itself ('page 1 of 2' whatever is asked) ends with a decode error (" .. kind .. ")",
      function()
        srv:faults({ { match = "/data/", kind = "pagination", current_page = 1, pages_total = 2, count = -1 } })
        local c = new_client({ concurrency = 4 })
        local A = c.analytics
        local walks = kind == "items" and {
          function() return A:metrics_breakdown("play", "referrer", with(DAY, { page_size = 5 })) end,
          function() return A:metrics_over_time("play", with(DAY, { page_size = 5 })) end,
        } or {
          function() return A:metrics_breakdown_pages("play", "referrer", with(DAY, { page_size = 5 })) end,
          function() return A:metrics_over_time_pages("play", with(DAY, { page_size = 5 })) end,
        }
        for _, walk in ipairs(walks) do
          local n = 0
          local ok, err = pcall(function()
            for _ in walk() do n = n + 1 end
          end)
          assert.is_false(ok)
          assert.is_true(apivideo.is_error(err), tostring(err))
          assert.are.equal("decode", err.kind)
          assert.are.equal(2, err.page_asked)
          assert.are.equal(1, err.page_answered)
          assert.matches("currentPage=2", err.url, 1, true)
          assert.are.equal(kind == "items" and 5 or 1, n)
          assert.are.equal(0, c:in_flight())
        end
      end)
  end
end)

describe("metrics: the stand-in's 400 problem bodies", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)

  it("from older than 30 days (let through by design, D8): kind http, status 400, name and detail kept", function()
    local old = { from = "2023-11-20T00:00:00Z", to = TO }
    local CALLS = {
      function() return A:get_aggregated_metrics("play", "count", old) end,
      function() return A:get_metrics_breakdown("play", "country", old) end,
      function() return A:get_metrics_over_time("play", old) end,
    }
    for _, call in ipairs(CALLS) do
      local r, err = call()
      assert.is_nil(r)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal("http", err.kind)
      assert.are.equal(400, err.status)
      assert.are.equal("from", err.name)
      assert.are.equal("https://docs.api.video/reference/request-invalid-query-parameter", err.type)
      assert.are.equal("A query parameter is invalid.", err.title)
      assert.are.equal("The period must not start more than 30 days ago (2023-12-02T00:00:00+00:00).", err.detail)
      assert.are.equal("GET", err.method)
      assert.are.equal(srv.url .. last_entry().uri, err.url)
      assert.are.equal(1, err.attempts)
      assert.is_nil(tostring(err):find("\n"))
      assert.matches("^apivideo: HTTP 400 A query parameter is invalid%. %(from%) %- The period", tostring(err))
    end
    assert.are.equal(3, srv:stats().status["400"])
    -- only `to`, old: the default from (to - 1 day) is too old, so the API names `to`
    local _, err = A:get_metrics_over_time("play", { to = "2023-12-02T12:00:00Z" })
    assert.are.equal(400, err.status)
    assert.are.equal("to", err.name)
    -- an iterator raises the same error object
    local ok, e2 = pcall(function()
      for _ in A:metrics_breakdown("play", "country", old) do end
    end)
    assert.is_false(ok)
    assert.is_true(apivideo.is_error(e2))
    assert.are.equal(400, e2.status)
    assert.are.equal("from", e2.name)
    -- play/total ignores from/to and play-total/media-id is not bound by the 30 days
    -- every session of every source the stand-in has, as its raw-statistics operations list them
    local all = 0
    for id, src in pairs(S.data().SOURCES) do
      local list = src.kind == "video" and A.list_video_sessions or A.list_live_stream_sessions
      all = all + assert(list(A, id, { period = "2023", page_size = 1 })).pagination.items_total
    end
    assert.is_true(all > 0)
    local total = assert(A:get_aggregated_metrics("play", "total", old))
    assert.are.equal(all, total.data)
    local buckets = assert(A:get_metrics_breakdown("play-total", "media-id", { from = "2023-01-01T00:00:00Z" }))
    assert.are.equal(all, sum(buckets.data))
  end)
end)
