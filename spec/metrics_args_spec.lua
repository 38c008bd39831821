-- Today's Analytics metrics operations (openapi-2025.yaml, tag Analytics):
-- bad arguments raise before any request (the stand-in's log stays empty).
-- The vocabularies are written here from notes/analytics-2025.md, not read
-- from apivideo.operations, so a wrong row there shows up as a failure.
-- (The other metrics specs: spec/metrics_spec.lua.)
local errors = require("apivideo.errors")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local model = require("spec.support.model")
local Mx = require("spec.support.metrics")

local srv = S.shared()
local function fresh_server() srv:idle_reset() end
local new_client = clients.builder({ base_url = srv.url, max_retries = 0, auth = "basic" })
local with = clients.options
local days = model.days
local FROM, TO, DAY = Mx.FROM, Mx.TO, Mx.DAY

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
