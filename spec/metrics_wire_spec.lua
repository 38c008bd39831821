-- Today's Analytics metrics operations (openapi-2025.yaml, tag Analytics):
-- what reaches the server, read from the stand-in's request log (`uri` as
-- received, `args` decoded): every option in the document's wire form.
-- (The other metrics specs: spec/metrics_spec.lua, its header says what the
-- stand-in's clock and data are.)
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local model = require("spec.support.model")
local Mx = require("spec.support.metrics")

local srv = S.shared()
local function fresh_server() srv:idle_reset() end
local new_client = clients.builder({ base_url = srv.url, max_retries = 0, auth = "basic" })
local with = clients.options
local days = model.days
local TO, FROM_ATOM, TO_ATOM, FROM_Q, TO_Q = Mx.TO, Mx.FROM_ATOM, Mx.TO_ATOM, Mx.FROM_Q, Mx.TO_Q
local DAY, data_log, last_entry, sum, collect = Mx.DAY, Mx.data_log, Mx.last_entry, Mx.sum, Mx.collect

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
