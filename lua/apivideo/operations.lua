--- The Analytics operations, described as data: one row per operation.
--
-- Open this file to add an operation or a parameter. `apivideo.analytics`
-- builds every method of `client.analytics` from these rows (the one-request
-- method, and for a paginated operation its items and pages iterators), and
-- `spec/operations_spec.lua` checks that the declarations in `types.lua`
-- (what LDoc and the language server read) match them.
--
-- A row:
--
--   * `api`: the object of the client whose method it is (`"analytics"` for
--     `client.analytics`, `"videos"` for `client.videos`, `"live_streams"`);
--   * `name`: the one-request method (api.video's `x-client-action` in
--     snake_case); `items`, `pages`: the iterators (paginated operations only);
--   * `path`: the path, with `{arg}` for each positional argument of `args`;
--   * `args`: the positional arguments, in order: `{ name =, kind =, values = }`;
--   * `query`: the options, in the order they go on the wire:
--     `{ option =, wire =, kind =, required =, values =, doc = }`;
--   * `result`: `"page"` (data + pagination), `"object"` (one figure:
--     `data` is a number) or `"resource"` (the API's object as it is);
--     `sessions`: its items are player sessions (their `session.metadata` is
--     always a table, an empty one when the API sent none);
--   * `rule(fname, args, opts)`: the checks that join several arguments (which
--     pairs exist, which option goes with which metric), raising like `check`;
--   * `float(args)`: whether the figures asked for are rates or averages
--     (floats even when whole; counts come back as integers).
--
-- Kinds (validated and encoded by analytics.lua): `id`, `enum`, `period`,
-- `metadata`, `datetime`, `boolean`, `filter`, `page` (current_page), `page_size`.
-- The choices made where api.video's documents are silent or contradict
-- themselves are listed in notes/analytics-2025.md ("Defects").
-- @module apivideo.operations
local check = require("apivideo.check")

local M = {}

local function quoted(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = "'" .. v .. "'" end
  return table.concat(out, ", ")
end
M.quoted = quoted

local function index(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = true end
  return t
end

------------------------------------------------------------------------------
-- Today's Analytics (openapi-2025.yaml, tag Analytics): the vocabularies.

--- `filter_by` keys, in the document's order (the order they go on the wire):
-- `key` (the option's key), `wire` (the document's), `shape`: `"array"`
-- (repeated `filterBy[k][]=v`) or `"string"` (one `filterBy[k]=v`), and the
-- `values` the document allows where it lists them.
M.FILTER_KEYS = {
  { key = "media_id", wire = "mediaId", shape = "array" },
  { key = "media_type", wire = "mediaType", shape = "string", values = { "video", "live-stream" } },
  { key = "continent", wire = "continent", shape = "array", values = { "AS", "AF", "NA", "SA", "AN", "EU", "AZ" } },
  { key = "country", wire = "country", shape = "array", pattern = "^%u%u$",
    pattern_doc = "an ISO-3166 alpha-2 code such as 'FR'" },
  { key = "device_type", wire = "deviceType", shape = "array" },
  { key = "operating_system", wire = "operatingSystem", shape = "array" },
  { key = "browser", wire = "browser", shape = "array" },
  { key = "tag", wire = "tag", shape = "string" },
  { key = "referrer", wire = "referrer", shape = "array", max_len = 2048, empty_ok = true },
}

M.AGGREGATIONS = { "count", "rate", "total", "average", "sum", "peak", "live" }
M.METRICS_AGGREGATED = { "play", "start", "end", "impression", "impression-time", "watch-time", "ccv", "view" }
--- metric -> the aggregations its description names (D9: `view` takes `count`).
M.AGGREGATION_PAIRS = {
  play = { "count", "rate", "total" }, start = { "count" }, ["end"] = { "count" }, impression = { "count" },
  ["impression-time"] = { "average", "sum" }, ["watch-time"] = { "average", "sum" },
  ccv = { "peak", "live" }, view = { "count" },
}
M.METRICS_BUCKETS = { "play", "play-rate", "play-total", "start", "end", "impression", "ccv-peak", "ccv-average",
  "view" }
M.METRICS_TIMESERIES = { "play", "play-rate", "start", "end", "impression", "ccv-peak", "ccv-average", "view" }
M.BREAKDOWNS = { "media-id", "media-type", "continent", "country", "device-type", "operating-system", "browser",
  "referrer" }
--- metric -> its only breakdowns, where it is restricted.
M.BREAKDOWN_PAIRS = { ["play-total"] = { "media-id" } }
M.INTERVALS = { "minute", "hour", "day" }
M.VIEW_DURATIONS = { "3s", "5s", "10s", "30s" }
M.SORT_ORDERS = { "asc", "desc" }

--- The figures that are rates or averages: floats even when whole (1.0),
-- where counts are integers.
M.FLOAT_AGGREGATED = { ["play/rate"] = true, ["impression-time/average"] = true, ["watch-time/average"] = true }
M.FLOAT_METRICS = { ["play-rate"] = true, ["ccv-average"] = true }

local UNIQUE_AGGREGATED = { "ccv", "view" }
local UNIQUE_SERIES = { "ccv-peak", "ccv-average", "view" }
local MINUTE_SPAN_S = 3600 -- `minute`: a timeframe of at most 60 minutes (D25)
local DEFAULT_SPAN_S = 86400 -- `from` defaults to 1 day before `to`

------------------------------------------------------------------------------
-- Cross-argument rules.

local function only_with(fname, opts, option, metric, allowed)
  if opts[option] ~= nil and not index(allowed)[metric] then
    check.fail(fname, option, "only with metric " .. quoted(allowed) .. ", not with '" .. metric .. "'")
  end
end

local function filters_only(fname, opts, allowed, why)
  local f = opts.filter_by
  if type(f) ~= "table" then return end
  for _, k in ipairs(M.FILTER_KEYS) do
    if f[k.key] ~= nil and not index(allowed)[k.key] then
      check.fail(fname, "filter_by", "key '" .. k.key .. "' cannot be used " .. why .. "; only " .. quoted(allowed))
    end
  end
end

-- from before to; for `minute`, at most 60 minutes (defaults: to = now,
-- from = to - 1 day, as the API fills them in).
local function timeframe(fname, opts, values, interval)
  local from, to = values.from, values.to
  if from and to and from >= to then
    check.fail(fname, "from", "must be before 'to': the timeframe is empty")
  end
  if interval == "minute" then
    local t = to or os.time()
    local f = from or (t - DEFAULT_SPAN_S)
    if t - f > MINUTE_SPAN_S then
      local span = t - f
      check.fail(fname, "interval", "'minute' needs a timeframe of at most 60 minutes; "
        .. (opts.from == nil and "'from' defaults to 1 day before 'to'"
          or string.format("this one is %d min %02d s", math.floor(span / 60), span % 60)))
    end
  end
end

local function rule_aggregated(fname, args, opts, values)
  local metric, aggregation = args.metric, args.aggregation
  local valid = M.AGGREGATION_PAIRS[metric]
  if not index(valid)[aggregation] then
    check.fail(fname, "aggregation", "'" .. aggregation .. "' cannot be used with metric '" .. metric
      .. "'; the aggregations of '" .. metric .. "' are " .. quoted(valid))
  end
  only_with(fname, opts, "unique", metric, UNIQUE_AGGREGATED)
  only_with(fname, opts, "view_duration", metric, { "view" })
  if metric == "play" and aggregation == "total" then
    filters_only(fname, opts, { "media_id", "media_type" }, "with play/total")
  else
    timeframe(fname, opts, values) -- (play/total: the API ignores from and to, D29)
  end
end

local function rule_breakdown(fname, args, opts, values)
  local metric, breakdown = args.metric, args.breakdown
  local valid = M.BREAKDOWN_PAIRS[metric]
  if valid and not index(valid)[breakdown] then
    check.fail(fname, "breakdown", "'" .. breakdown .. "' cannot be used with metric '" .. metric
      .. "'; the breakdowns of '" .. metric .. "' are " .. quoted(valid))
  end
  only_with(fname, opts, "unique", metric, UNIQUE_SERIES)
  only_with(fname, opts, "view_duration", metric, { "view" })
  if metric == "play-total" then
    filters_only(fname, opts, { "media_id", "media_type" }, "with play-total/media-id")
  end
  timeframe(fname, opts, values)
end

local function rule_timeseries(fname, args, opts, values)
  only_with(fname, opts, "unique", args.metric, UNIQUE_SERIES)
  only_with(fname, opts, "view_duration", args.metric, { "view" })
  timeframe(fname, opts, values, values.interval)
end

------------------------------------------------------------------------------
-- The rows.

local PAGE = { option = "current_page", wire = "currentPage", kind = "page",
  doc = "the page to get, or to start a walk at (>= 1; default 1)" }
local PAGE_SIZE = { option = "page_size", wire = "pageSize", kind = "page_size",
  doc = "items per page, 1 to 100 (default: the API's, 25)" }
local FROM = { option = "from", wire = "from", kind = "datetime",
  doc = "start of the timeframe: an RFC 3339 / ATOM date-time or an os.time() number (default: 1 day before `to`)" }
local TO = { option = "to", wire = "to", kind = "datetime",
  doc = "end of the timeframe, exclusive: as `from` (default: now)" }
local UNIQUE = { option = "unique", wire = "unique", kind = "boolean",
  doc = "count a viewer once a day (ccv and view metrics only)" }
local VIEW_DURATION = { option = "view_duration", wire = "viewDuration", kind = "enum", values = M.VIEW_DURATIONS,
  doc = "how long a play must last to count as a view (metric view only; the API's default 5s)" }
local FILTER = { option = "filter_by", wire = "filterBy", kind = "filter",
  doc = "only the data of these dimensions: media_id, media_type, continent, country, device_type, "
    .. "operating_system, browser, tag, referrer" }
local SORT_ORDER = { option = "sort_order", wire = "sortOrder", kind = "enum", values = M.SORT_ORDERS,
  doc = "asc or desc" }
local PERIOD = { option = "period", wire = "period", kind = "period", required = true,
  doc = "2018-01-01 | 2018-W01 | 2018-01 | 2018 | 2018-01-01/2018-01-15 (required)" }

M.list = {
  {
    api = "analytics", name = "list_video_sessions", items = "video_sessions", pages = "video_session_pages",
    action = "listVideoSessions", path = "/analytics/videos/{video_id}",
    args = { { name = "video_id", kind = "id" } },
    query = {
      PERIOD,
      { option = "metadata", wire = "metadata", kind = "metadata",
        doc = "only sessions with these metadata (metadata[key]=value)" },
      PAGE, PAGE_SIZE,
    },
    result = "page", sessions = true,
  },
  {
    api = "analytics", name = "list_live_stream_sessions", items = "live_stream_sessions",
    pages = "live_stream_session_pages",
    action = "listLiveStreamSessions", path = "/analytics/live-streams/{live_stream_id}",
    args = { { name = "live_stream_id", kind = "id" } },
    query = { PERIOD, PAGE, PAGE_SIZE },
    result = "page", sessions = true,
  },
  {
    api = "analytics", name = "list_session_events", items = "session_events", pages = "session_event_pages",
    action = "listSessionEvents", path = "/analytics/sessions/{session_id}/events",
    args = { { name = "session_id", kind = "id" } },
    query = { PAGE, PAGE_SIZE },
    result = "page",
  },
  {
    api = "analytics", name = "get_aggregated_metrics", action = "getAggregatedMetrics",
    path = "/data/metrics/{metric}/{aggregation}",
    args = { { name = "metric", kind = "enum", values = M.METRICS_AGGREGATED },
      { name = "aggregation", kind = "enum", values = M.AGGREGATIONS } },
    query = { FROM, TO, UNIQUE, VIEW_DURATION, FILTER },
    rule = rule_aggregated,
    float = function(a) return M.FLOAT_AGGREGATED[a.metric .. "/" .. a.aggregation] == true end,
    result = "object",
  },
  {
    api = "analytics", name = "get_metrics_breakdown", items = "metrics_breakdown", pages = "metrics_breakdown_pages",
    action = "getMetricsBreakdown", path = "/data/buckets/{metric}/{breakdown}",
    args = { { name = "metric", kind = "enum", values = M.METRICS_BUCKETS },
      { name = "breakdown", kind = "enum", values = M.BREAKDOWNS } },
    query = {
      FROM, TO,
      { option = "sort_by", wire = "sortBy", kind = "enum", values = { "metricValue", "dimensionValue" },
        doc = "metricValue or dimensionValue (metric_value, dimension_value)" },
      SORT_ORDER, UNIQUE, VIEW_DURATION, FILTER, PAGE, PAGE_SIZE,
    },
    rule = rule_breakdown,
    float = function(a) return M.FLOAT_METRICS[a.metric] == true end,
    result = "page",
  },
  {
    api = "analytics", name = "get_metrics_over_time", items = "metrics_over_time", pages = "metrics_over_time_pages",
    action = "getMetricsOverTime", path = "/data/timeseries/{metric}",
    args = { { name = "metric", kind = "enum", values = M.METRICS_TIMESERIES } },
    query = {
      FROM, TO,
      { option = "interval", wire = "interval", kind = "enum", values = M.INTERVALS,
        doc = "minute (timeframes of at most 60 minutes), hour or day (default: hour up to 2 days, else day)" },
      { option = "sort_by", wire = "sortBy", kind = "enum", values = { "metricValue", "emittedAt" },
        doc = "metricValue or emittedAt (metric_value, emitted_at)" },
      SORT_ORDER, UNIQUE, VIEW_DURATION, FILTER, PAGE, PAGE_SIZE,
    },
    rule = rule_timeseries,
    float = function(a) return M.FLOAT_METRICS[a.metric] == true end,
    result = "page",
  },

  -- The media the figures are about (openapi.yaml, tags Videos and Live
  -- streams): the archive and the reports show their titles, not their ids.
  {
    api = "videos", name = "get", action = "getVideo", path = "/videos/{video_id}",
    args = { { name = "video_id", kind = "id" } }, query = {},
    result = "resource",
  },
  {
    api = "live_streams", name = "get", action = "getLiveStream", path = "/live-streams/{live_stream_id}",
    args = { { name = "live_stream_id", kind = "id" } }, query = {},
    result = "resource",
  },
}

return M
