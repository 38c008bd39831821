-- Today's Analytics operations (openapi-2025.yaml, tag Analytics; read in
-- notes/analytics-2025.md):
--   GET /data/metrics/{metric}/{aggregation}
--   GET /data/buckets/{metric}/{breakdown}
--   GET /data/timeseries/{metric}
-- Validation with the document's 400 problem bodies, then the figures of
-- metrics.lua over the whole project's sessions.  handlers.lua has already
-- checked the rate limit, the credentials and the method.
local util = require("standin.util")
local data = require("standin.data")
local periods = require("standin.periods")
local metrics = require("standin.metrics")
local pages = require("standin.pages")
local state = require("standin.state")

local M = {}

local concat, sort = table.concat, table.sort
local format = string.format
local DAY_MS = periods.DAY_MS

------------------------------------------------------------------------------
-- The document's enums and the pairs its descriptions allow.
local METRIC_AGGS = {   -- /data/metrics: metric -> allowed aggregations
  play = { "count", "rate", "total" },
  start = { "count" }, ["end"] = { "count" }, impression = { "count" },
  ["impression-time"] = { "average", "sum" }, ["watch-time"] = { "average", "sum" },
  ccv = { "peak", "live" },
  view = { "count" },
}
local METRICS_ENUM = { "play", "start", "end", "impression", "impression-time", "watch-time", "ccv", "view" }
local AGG_ENUM = { "count", "rate", "total", "average", "sum", "peak", "live" }
local BUCKET_METRICS = { "play", "play-rate", "play-total", "start", "end", "impression", "ccv-peak", "ccv-average",
  "view" }
local BREAKDOWNS = { "media-id", "media-type", "continent", "country", "device-type", "operating-system", "browser",
  "referrer" }
local BREAKDOWN_KEY = {
  ["media-id"] = "mediaId", ["media-type"] = "mediaType", continent = "continent", country = "country",
  ["device-type"] = "deviceType", ["operating-system"] = "operatingSystem", browser = "browser",
  referrer = "referrer",
}
local SERIES_METRICS = { "play", "play-rate", "start", "end", "impression", "ccv-peak", "ccv-average", "view" }
local INTERVALS = { minute = 60000, hour = 3600000, day = DAY_MS }
local VIEW_DURATIONS = { "3s", "5s", "10s", "30s" }
local UNIQUE_METRICS = { ccv = true, ["ccv-peak"] = true, ["ccv-average"] = true, view = true }
local FILTER_KEYS = { "mediaId", "mediaType", "continent", "country", "deviceType", "operatingSystem", "browser",
  "tag", "referrer" }
local STRING_FILTERS = { mediaType = true, tag = true }
local FILTER_ENUMS = {
  mediaType = { "video", "live-stream" },
  continent = { "AS", "AF", "NA", "SA", "AN", "EU", "AZ" },
}
local QUERY = {
  metrics = { from = true, to = true, unique = true, viewDuration = true },
  buckets = { from = true, to = true, unique = true, viewDuration = true, sortBy = true, sortOrder = true,
    currentPage = true, pageSize = true },
  timeseries = { from = true, to = true, unique = true, viewDuration = true, sortBy = true, sortOrder = true,
    currentPage = true, pageSize = true, interval = true },
}
local SORT_BY = { buckets = { "metricValue", "dimensionValue" }, timeseries = { "metricValue", "emittedAt" } }
local RETENTION_MS = 30 * DAY_MS
local LIVE_MS = 20000

local function member(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

local function one_of(list)
  local q = {}
  for k, v in ipairs(list) do q[k] = '"' .. v .. '"' end
  return "Use one of " .. concat(q, ", ") .. "."
end
M.one_of = one_of

------------------------------------------------------------------------------
-- Problem bodies, in the document's member order (type, title, status, detail, name).
local function bad_attribute(name, detail, h)
  return util.problem(400, {
    "type", "https://docs.api.video/reference/invalid-attribute",
    "title", "An attribute is invalid.",
    "status", 400, "detail", detail, "name", name,
  }, h)
end

local function bad_query(name, detail, h)
  return util.problem(400, {
    "type", "https://docs.api.video/reference/request-invalid-query-parameter",
    "title", "A query parameter is invalid.",
    "status", 400, "detail", detail, "name", name,
  }, h)
end

local NOT_EXPECTED = "This field was not expected."
local BAD_DATE = "This value is not a valid ATOM date-time (2024-02-05T00:00:00+01:00)."

function M.unrecognized(h)
  return util.problem(404, {
    "type", "https://docs.api.video/reference/unrecognized-request-url",
    "title", "Unrecognized request URL.",
    "status", 404,
  }, h)
end

------------------------------------------------------------------------------
-- Query parsing.

-- filterBy[...] arguments -> {key = {values...}} (string keys: one value), or
-- nil, problem.  only: set of the keys allowed (nil = all nine).
local function parse_filters(req, h, only)
  local f = {}
  for _, q in ipairs(req.qlist) do
    local key, rest = q.key:match("^filterBy%[([^%]]*)%](.*)$")
    if key then
      local wire = "filterBy[" .. key .. "]"
      if not member(FILTER_KEYS, key) or (only and not only[key]) then
        return nil, bad_query(wire, NOT_EXPECTED, h)
      end
      local v = q.value == true and "" or q.value
      if STRING_FILTERS[key] then
        if rest ~= "" or f[key] then
          return nil, bad_query(wire, "This value must be a single string.", h)
        end
      elseif rest ~= "" and rest ~= "[]" and not rest:match("^%[%d+%]$") then
        return nil, bad_query(q.key, NOT_EXPECTED, h)
      end
      local enum = FILTER_ENUMS[key]
      if enum and not member(enum, v) then
        return nil, bad_query(wire, "This value is invalid. " .. one_of(enum), h)
      end
      if key == "referrer" and #v > 2048 then
        return nil, bad_query(wire, "This value should not contain more than 2048 characters.", h)
      end
      local list = f[key] or {}
      list[#list + 1] = v
      f[key] = list
    end
  end
  return f
end

-- A dims predicate: keys AND, the values of one key OR.  nil when no filter.
local function predicate(f)
  local tests = {}
  for _, key in ipairs(FILTER_KEYS) do
    local vals = f[key]
    if vals then
      local set = {}
      for _, v in ipairs(vals) do
        set[v] = true
        -- "The URLs you add must be URL encoded": a value encoded once more
        -- than the query needs is decoded a second time.
        if key == "referrer" then set[util.pct_decode(v)] = true end
      end
      tests[#tests + 1] = function(d) return d[key] ~= nil and set[d[key]] == true end
    end
  end
  if #tests == 0 then return nil end
  return function(d)
    for _, t in ipairs(tests) do if not t(d) then return false end end
    return true
  end
end

local function atom(ms) return periods.format_atom(ms) end

-- from / to -> a, b (ms) or nil, problem.
local function parse_range(req, h)
  local now = state.config.now_ms
  local fs, ts = util.last_arg(req.args, "from"), util.last_arg(req.args, "to")
  local b = now
  if ts then
    b = periods.parse_datetime(ts)
    if not b then return nil, bad_query("to", BAD_DATE, h) end
  end
  local a = b - DAY_MS
  if fs then
    a = periods.parse_datetime(fs)
    if not a then
      return nil, bad_query("from", BAD_DATE, h)
    end
    if a >= b then return nil, bad_query("from", 'This value must be before "to".', h) end
  end
  local oldest = now - RETENTION_MS
  if a < oldest then
    return nil, bad_query(fs and "from" or "to", "The period must not start more than 30 days ago ("
      .. atom(oldest) .. ").", h)
  end
  return a, b
end

-- unique / viewDuration -> unique (boolean), view seconds, or nil, problem.
local function parse_viewer_args(req, h, metric)
  local u = util.last_arg(req.args, "unique")
  local vd = util.last_arg(req.args, "viewDuration")
  local unique = false
  if u ~= nil then
    if not UNIQUE_METRICS[metric] then return nil, bad_query("unique", NOT_EXPECTED, h) end
    if u ~= "true" and u ~= "false" then
      return nil, bad_query("unique", 'This value must be "true" or "false".', h)
    end
    unique = u == "true"
  end
  local view_s = 5
  if vd ~= nil then
    if metric ~= "view" then return nil, bad_query("viewDuration", NOT_EXPECTED, h) end
    if not member(VIEW_DURATIONS, vd) then
      return nil, bad_query("viewDuration", 'This view duration is invalid. Use one of "3s", "5s", "10s", "30s".', h)
    end
    view_s = tonumber(vd:sub(1, -2))
  end
  return unique, view_s
end

-- The metric name the API echoes in context.metric (see notes, D2).
local function context_metric(metric, unique, view_s)
  if metric == "view" then
    return (unique and "unique-" or "") .. "view-" .. view_s
  end
  if unique then return "unique-" .. metric end
  return metric
end

local function number_text(n, float)
  if not float then return format("%d", n) end
  local s = format("%.14g", n)
  if not s:find("[%.eEn]") then s = s .. ".0" end
  return s
end

local function timeframe(a, b)
  return '"timeframe":{"from":"' .. atom(a) .. '","to":"' .. atom(b) .. '"}'
end

-- Records for a figure over [a, b), filtered and, with unique, deduplicated.
local function records(a, b, pred, unique)
  local recs = metrics.filter(metrics.fetch(a, b), pred)
  if unique then recs = metrics.unique(recs) end
  return recs
end

-- Plays per source over [a, b) for play/total and play-total/media-id, whose
-- filters can only name mediaId / mediaType: counted from the index ranges,
-- without building a record per session of the whole year.
local function plays_per_source(pred, a, b)
  local out = {}
  for _, id in ipairs(data.SOURCE_ORDER) do
    local src = data.SOURCES[id]
    if src.n > 0 and (not pred or pred(data.dims(src, 1))) then
      local lo, hi = data.range(src, a, b)
      if hi >= lo then out[#out + 1] = { value = id, n = hi - lo + 1 } end
    end
  end
  return out
end

-- The sorted items of a list answer, cached per (path, clock, query without
-- currentPage / pageSize), so walking the pages of one list computes it once.
local lists, lists_n = {}, 0

local function list_key(req, now)
  local parts = {}
  for _, q in ipairs(req.qlist) do
    if q.key ~= "currentPage" and q.key ~= "pageSize" then parts[#parts + 1] = q.key .. "=" .. tostring(q.value) end
  end
  sort(parts)
  return req.raw_path .. "\0" .. now .. "\0" .. concat(parts, "\0")
end

local function cached_items(req, now, build)
  local key = list_key(req, now)
  local hit = lists[key]
  if hit then return hit end
  hit = build()
  if lists_n >= 16 then lists, lists_n = {}, 0 end
  lists[key] = hit
  lists_n = lists_n + 1
  return hit
end

------------------------------------------------------------------------------
-- Shared checks of the query: unknown parameters first.
local function check_names(req, h, op)
  local allowed = QUERY[op]
  for _, q in ipairs(req.qlist) do
    if not allowed[q.key] and not q.key:match("^filterBy%[") then return bad_query(q.key, NOT_EXPECTED, h) end
  end
end

local function parse_sort(req, h, op, default_by, default_order)
  local by = util.last_arg(req.args, "sortBy") or default_by
  if not member(SORT_BY[op], by) then
    return nil, bad_query("sortBy", "This value is invalid. " .. one_of(SORT_BY[op]), h)
  end
  local order = util.last_arg(req.args, "sortOrder") or default_order
  if order ~= "asc" and order ~= "desc" then
    return nil, bad_query("sortOrder", 'This value is invalid. Use one of "asc", "desc".', h)
  end
  return by, order
end

local function page_args(req, h)
  return pages.paging(req, h, bad_query)
end

-- Sorts items {key =, n =} by `by` ("n" or "key") in order, ties by key ascending.
local function sort_items(items, by, order)
  sort(items, function(x, y)
    local p, q = x[by], y[by]
    if p ~= q then
      if order == "asc" then return p < q end
      return p > q
    end
    return x.key < y.key
  end)
end

------------------------------------------------------------------------------
-- GET /data/metrics/{metric}/{aggregation}
local function get_metrics(req, h, metric, aggregation)
  local aggs = METRIC_AGGS[metric]
  if not aggs then return bad_attribute("metric", "This metric is invalid. " .. one_of(METRICS_ENUM), h) end
  if not member(AGG_ENUM, aggregation) then
    return bad_attribute("aggregation", "This aggregation is invalid. " .. one_of(AGG_ENUM), h)
  end
  if not member(aggs, aggregation) then
    return bad_attribute("aggregation", format('The aggregation "%s" cannot be used with the metric "%s". %s',
      aggregation, metric, one_of(aggs)), h)
  end
  local bad = check_names(req, h, "metrics")
  if bad then return bad end
  local now = state.config.now_ms
  local total = metric == "play" and aggregation == "total"
  local a, b
  if total then                       -- "The API ignores this parameter" (from, to)
    a, b = data.T0, now
  else
    local err
    a, err = parse_range(req, h)
    if not a then return err end
    b = err
  end
  local unique, view_s = parse_viewer_args(req, h, metric)
  if unique == nil then return view_s end
  local f, ferr = parse_filters(req, h, total and { mediaId = true, mediaType = true } or nil)
  if not f then return ferr end
  local spec = metrics.spec(metric, aggregation, view_s)
  local wa, wb = a, b
  if aggregation == "live" then wa, wb = now - LIVE_MS, now end
  if wb > now then wb = now end
  local n = 0
  if total then
    for _, g in ipairs(plays_per_source(predicate(f), wa, wb)) do n = n + g.n end
  else
    n = metrics.value(spec, records(wa, wb, predicate(f), unique), wa, wb)
  end
  local body = '{"context":{"metric":' .. util.enc(context_metric(metric, unique, view_s))
    .. ',"aggregation":' .. util.enc(aggregation) .. "," .. timeframe(a, b) .. '},"data":'
    .. number_text(n, spec.float) .. "}"
  return util.json_response(200, body, h)
end

-- GET /data/buckets/{metric}/{breakdown}
local function get_buckets(req, h, metric, breakdown)
  if not member(BUCKET_METRICS, metric) then
    return bad_attribute("metric", "This metric is invalid. " .. one_of(BUCKET_METRICS), h)
  end
  local key = BREAKDOWN_KEY[breakdown]
  if not key then return bad_attribute("breakdown", "This breakdown is invalid. " .. one_of(BREAKDOWNS), h) end
  local total = metric == "play-total"
  if total and breakdown ~= "media-id" then
    return bad_attribute("breakdown", format('The breakdown "%s" cannot be used with the metric "%s". %s',
      breakdown, metric, one_of({ "media-id" })), h)
  end
  local bad = check_names(req, h, "buckets")
  if bad then return bad end
  local now = state.config.now_ms
  local a, b
  if total then
    a, b = data.T0, now              -- all-time, not bound by the retention
    local fs, ts = util.last_arg(req.args, "from"), util.last_arg(req.args, "to")
    if fs then a = periods.parse_datetime(fs) end
    if ts then b = periods.parse_datetime(ts) end
    if not a then return bad_query("from", BAD_DATE, h) end
    if not b then return bad_query("to", BAD_DATE, h) end
    if a >= b then return bad_query("from", 'This value must be before "to".', h) end
  else
    local err
    a, err = parse_range(req, h)
    if not a then return err end
    b = err
  end
  local unique, view_s = parse_viewer_args(req, h, metric)
  if unique == nil then return view_s end
  local by, order = parse_sort(req, h, "buckets", "metricValue", "desc")
  if not by then return order end
  local f, ferr = parse_filters(req, h, total and { mediaId = true, mediaType = true } or nil)
  if not f then return ferr end
  local page, size = page_args(req, h)
  if not page then return size end
  local spec = metrics.spec(metric, nil, view_s)
  local wb = b < now and b or now
  local items = cached_items(req, now, function()
    local groups
    if total then
      groups = plays_per_source(predicate(f), a, wb)
    else
      groups = metrics.buckets(spec, records(a, wb, predicate(f), unique), a, wb, key)
    end
    local list = {}
    for k, g in ipairs(groups) do list[k] = { key = g.value, n = g.n } end
    sort_items(list, by == "metricValue" and "n" or "key", order)
    return list
  end)
  local head = '"context":{"metric":' .. util.enc(context_metric(metric, unique, view_s))
    .. ',"breakdown":' .. util.enc(breakdown) .. "," .. timeframe(a, b) .. "},"
  return pages.page_response(req, h, page, size, #items, function(k)
    local it = items[k]
    return '{"metricValue":' .. number_text(it.n, spec.float) .. ',"dimensionValue":' .. util.enc(it.key) .. "}"
  end, head)
end

-- GET /data/timeseries/{metric}
local function get_timeseries(req, h, metric)
  if not member(SERIES_METRICS, metric) then
    return bad_attribute("metric", "This metric is invalid. " .. one_of(SERIES_METRICS), h)
  end
  local bad = check_names(req, h, "timeseries")
  if bad then return bad end
  local a, b = parse_range(req, h)
  if not a then return b end
  local interval = util.last_arg(req.args, "interval")
  if interval == nil then
    interval = (b - a <= 2 * DAY_MS) and "hour" or "day"
  elseif not INTERVALS[interval] then
    return bad_query("interval", 'This interval is invalid. Use one of "minute", "hour", "day".', h)
  end
  if interval == "minute" and b - a > 3600000 then
    return bad_query("interval", "This interval cannot be used with a timeframe over 60 minutes.", h)
  end
  local unique, view_s = parse_viewer_args(req, h, metric)
  if unique == nil then return view_s end
  local by, order = parse_sort(req, h, "timeseries", "emittedAt", "asc")
  if not by then return order end
  local f, ferr = parse_filters(req, h, nil)
  if not f then return ferr end
  local page, size = page_args(req, h)
  if not page then return size end
  local now = state.config.now_ms
  local spec = metrics.spec(metric, nil, view_s)
  local wb = b < now and b or now
  local items = cached_items(req, now, function()
    local list = {}
    for k, p in ipairs(metrics.series(spec, records(a, wb, predicate(f), unique), a, wb, INTERVALS[interval])) do
      list[k] = { key = p.at, n = p.n }
    end
    sort_items(list, by == "metricValue" and "n" or "key", order)
    return list
  end)
  local head = '"context":{"metric":' .. util.enc(context_metric(metric, unique, view_s))
    .. ',"interval":' .. util.enc(interval) .. "," .. timeframe(a, b) .. "},"
  return pages.page_response(req, h, page, size, #items, function(k)
    local it = items[k]
    return '{"emittedAt":"' .. atom(it.key) .. '","metricValue":' .. number_text(it.n, spec.float) .. "}"
  end, head)
end

-- Routes a /data/... request (raw path); nil when the path is none of the three.
function M.handle(req, h)
  local p = req.raw_path
  local m, x = p:match("^/data/metrics/([^/]+)/([^/]+)$")
  if m then return get_metrics(req, h, util.pct_decode(m), util.pct_decode(x)) end
  m, x = p:match("^/data/buckets/([^/]+)/([^/]+)$")
  if m then return get_buckets(req, h, util.pct_decode(m), util.pct_decode(x)) end
  m = p:match("^/data/timeseries/([^/]+)$")
  if m then return get_timeseries(req, h, util.pct_decode(m)) end
  return M.unrecognized(h)
end

return M
