--- What the CLI prints: the columns of sessions, events, buckets and points
-- (the list commands), the metric of `metrics`, and the two summaries (of
-- the sessions walk and of a window). Every row goes through the one row
-- writer of apivideo.cli.formats.
--
-- Metadata has one shape in every format: the API's list of pairs,
-- `[{"key":K,"value":V},...]`, in the API's order, `[]` when the session has
-- none. ndjson/json carry it at `session.metadata`; csv and table carry the
-- same JSON text in their `metadata` column. A list keeps everything the
-- API sent (order, a key given twice); an object could not.
-- @module apivideo.cli.output
local apivideo = require("apivideo")
local formats = require("apivideo.cli.formats")
local stats = require("apivideo.cli.stats")
local term = require("apivideo.chart.term")
local time = require("apivideo.time")
local term_format = require("apivideo.chart.format")
local term_text = require("apivideo.chart.text")

local M = {}

local NULL = apivideo.null
local JSON_NULL = formats.JSON_NULL
local json_encode = formats.json_encode
local number_text, figure = formats.number_text, formats.figure

------------------------------------------------------------------------------
-- Metadata: the one shape.

local EMPTY = {}

--- The session's metadata as the list of `{key=, value=}` pairs ({} when absent).
function M.metadata_pairs(session)
  local s = session.session
  local md = type(s) == "table" and s.metadata or nil
  if type(md) ~= "table" then return EMPTY end
  return md
end

--- The metadata as JSON text: `[{"key":K,"value":V},...]` (each pair's
-- keys sorted, as every object's: "key" comes before "value").
function M.metadata_json(session)
  return json_encode(M.metadata_pairs(session), "metadata")
end

--- A metadata filter ({KEY = VALUE}) in the same shape, sorted by key.
function M.filter_pairs(filter)
  local list = {}
  for k, v in pairs(filter or {}) do list[#list + 1] = { key = k, value = v } end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

--- A session for ndjson/json: as the API sent it, with `session.metadata`
-- always present (an empty list when the session has none).
local function session_record(x)
  local s = x.session
  if type(s) == "table" and s.metadata == nil then
    s.metadata = {}
  end
  return x
end

------------------------------------------------------------------------------
-- The list commands: one column row per field, `name`, `text` (its text in
-- csv and table, nil: empty), `right` (table: right-aligned).

local get = stats.get

--- The text of field `name` of x (numbers as number_text, JSON null as nil).
local function field(name)
  return function(x)
    local v = x[name]
    if v == NULL then return nil end
    if type(v) == "number" then return number_text(v) end
    return v
  end
end

--- The text of x[a][b].
local function nested(a, b)
  return function(x) return get(x, a, b) end
end

M.SESSION_COLUMNS = {
  { name = "session_id", text = nested("session", "session_id") },
  { name = "loaded_at", time = true, text = nested("session", "loaded_at") },
  { name = "ended_at", time = true, text = nested("session", "ended_at") },
  { name = "duration_s", right = true, text = function(s)
    local d = stats.duration_of(s)
    return d and number_text(d)
  end },
  { name = "country", text = nested("location", "country") },
  { name = "city", text = nested("location", "city") },
  { name = "device_type", text = nested("device", "type") },
  { name = "device_vendor", text = nested("device", "vendor") },
  { name = "device_model", text = nested("device", "model") },
  { name = "os_name", text = nested("os", "name") },
  { name = "os_shortname", text = nested("os", "shortname") },
  { name = "os_version", text = nested("os", "version") },
  { name = "client_type", text = nested("client", "type") },
  { name = "browser", text = nested("client", "name") },
  { name = "client_version", text = nested("client", "version") },
  { name = "referrer_url", text = nested("referrer", "url") },
  { name = "referrer_medium", text = nested("referrer", "medium") },
  { name = "referrer_source", text = nested("referrer", "source") },
  { name = "search_term", text = nested("referrer", "search_term") },
  { name = "metadata", text = M.metadata_json },
}
--- The narrower set shown by --format table.
local SESSION_TABLE = {
  session_id = true, loaded_at = true, duration_s = true, country = true, city = true,
  device_type = true, os_name = true, browser = true, referrer_medium = true, metadata = true,
}

M.EVENT_COLUMNS = {
  { name = "type", text = field("type") },
  { name = "emitted_at", time = true, text = field("emitted_at") },
  { name = "at", text = field("at"), right = true },
  { name = "from", text = field("from"), right = true },
  { name = "to", text = field("to"), right = true },
}

--- A bucket of /data/buckets: dimension_value, metric_value.
M.BUCKET_COLUMNS = {
  { name = "dimension_value", text = field("dimension_value") },
  { name = "metric_value", text = field("metric_value"), right = true },
}

--- A point of /data/timeseries: emitted_at, metric_value.
M.POINT_COLUMNS = {
  { name = "emitted_at", time = true, text = field("emitted_at") },
  { name = "metric_value", text = field("metric_value"), right = true },
}

local function only(columns, names)
  local out = {}
  for _, c in ipairs(columns) do
    if names[c.name] then out[#out + 1] = c end
  end
  return out
end

--- The row writer's spec of each kind of item: its columns, and in ndjson
-- and json the item itself (a session with its `session.metadata` always
-- there, an empty list when it has none).
local ITEMS = {
  session = {
    columns = M.SESSION_COLUMNS, table_columns = only(M.SESSION_COLUMNS, SESSION_TABLE),
    json = function(x) return json_encode(session_record(x)) end,
  },
  event = { columns = M.EVENT_COLUMNS, json = json_encode },
  bucket = { columns = M.BUCKET_COLUMNS, json = json_encode },
  point = { columns = M.POINT_COLUMNS, json = json_encode },
}

--- A timestamp of the API (RFC 3339) as the same instant in zone (--tz,
-- apivideo.tz): "2023-05-01T14:00:00.109+02:00", its fraction kept. A value
-- that is not such a timestamp is left as it is; so is every value when
-- zone is nil (the API's text, unchanged).
function M.in_zone(s, zone)
  if zone == nil or type(s) ~= "string" then return s end
  local t = time.parse(s)
  if not t then return s end
  local stamp = zone:stamp(t)
  local frac = s:match("^%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d:%d%d(%.%d+)") or ""
  return stamp:sub(1, 19) .. frac .. stamp:sub(20)
end

--- spec with its time columns (`time = true`) shown in zone (csv and
-- table; ndjson and json keep the API's text): spec itself when zone is nil.
local function zoned(spec, zone)
  if zone == nil then return spec end
  local function shift(columns)
    if columns == nil then return nil end
    local out = {}
    for i, c in ipairs(columns) do
      if c.time then
        local text = c.text
        out[i] = { name = c.name, right = c.right, json = c.json,
          text = function(x) return M.in_zone(text(x), zone) end }
      else
        out[i] = c
      end
    end
    return out
  end
  return { columns = shift(spec.columns), table_columns = shift(spec.table_columns), json = spec.json }
end

--- The writer of a list command's items (apivideo.cli.formats.writer):
-- kind "session", "event", "bucket" or "point"; zone (--tz): the zone of
-- the times in csv and table (nil: as the API sends them). chart (`--chart`,
-- points and buckets only): { width =, metric =, breakdown =, interval = }:
-- the items are kept and drawn at the end (M.chart_text) instead.
function M.item_writer(format, emit, kind, zone, chart)
  if chart then return M.chart_writer(emit, kind, chart) end
  return formats.writer(format, emit, zoned(ITEMS[kind], zone))
end

------------------------------------------------------------------------------
-- `--chart`: timeseries and buckets drawn for a terminal (apivideo.chart.term).

local INTERVAL_S = { minute = 60, hour = 3600, day = 86400 }

--- Are all of values whole numbers?
local function whole(values)
  for _, v in ipairs(values) do
    if v ~= math.floor(v) then return false end
  end
  return true
end

--- The interval of points that are one minute, hour or day apart at the
-- closest (the API's choice when --interval was not given), or nil.
local function interval_of(rows)
  local gap
  for i = 2, #rows do
    local d = math.abs(rows[i].t - rows[i - 1].t)
    if d > 0 and (not gap or d < gap) then gap = d end
  end
  for name, secs in pairs(INTERVAL_S) do
    if gap == secs then return name end
  end
  return nil
end

--- The chart of `items` (points of /data/timeseries or buckets of
-- /data/buckets, as the API sent them) as text. Points: a title line
-- ("play per day: 15 points, total 42"), then the columns of
-- apivideo.chart.term.columns. Buckets: a title line, then one bar per
-- dimension value, largest first, with its value (and its share of the
-- total when every value is a whole number, a count). The total is said
-- for counts only. No item: "no data in this window" alone.
function M.chart_text(kind, items, chart)
  local values, rows = {}, {}
  for _, x in ipairs(items) do
    local v = tonumber(x.metric_value)
    if v then
      values[#values + 1] = v
      if kind == "point" then
        local t = type(x.emitted_at) == "string" and apivideo.parse_time(x.emitted_at)
        if t then rows[#rows + 1] = { t = t, value = v } end
      else
        local label = x.dimension_value
        if label == nil or label == NULL or label == "" then label = "(none)" end
        rows[#rows + 1] = { label = tostring(label), value = v }
      end
    end
  end
  if #rows == 0 then return term.EMPTY end
  local counts = whole(values)
  local total = 0
  for _, v in ipairs(values) do total = total + v end
  -- a total of counts only (a sum of rates or averages means nothing)
  local total_text = counts and (", total " .. term_format.integer(total)) or ""
  if kind == "point" then
    local interval = chart.interval or interval_of(rows)
    local head = string.format("%s%s: %d points%s", tostring(chart.metric),
      interval and (" per " .. interval) or "", #rows, total_text)
    return term_text.truncate(head, chart.width) .. "\n"
      .. term.columns(rows, { width = chart.width, step = INTERVAL_S[interval] })
  end
  local head = string.format("%s by %s: %d values%s", tostring(chart.metric), tostring(chart.breakdown),
    #rows, total_text)
  return term_text.truncate(head, chart.width) .. "\n" .. term.bars(rows, { width = chart.width, top = #rows,
    shares = counts, value_text = not counts and term_format.scaled(values) or nil })
end

--- A writer with the item writer's interface that keeps the items and
-- writes their chart (M.chart_text) at finish().
function M.chart_writer(emit, kind, chart)
  local items = {}
  local function noop() end
  return {
    begin = noop, page_done = noop,
    row = function(x) items[#items + 1] = x end,
    finish = function() emit(M.chart_text(kind, items, chart)) end,
  }
end

------------------------------------------------------------------------------
-- `metrics`: one figure, and what the API echoed of the question.

local METRIC = {
  columns = {
    { name = "metric", text = function(m) return m.metric end },
    { name = "aggregation", text = function(m) return m.aggregation end },
    { name = "from", time = true, text = function(m) return m.from end },
    { name = "to", time = true, text = function(m) return m.to end },
    { name = "value", text = function(m) return m.value end, right = true },
  },
}

--- Writes one /data/metrics result in format (ndjson and json: the
-- library's result without its rate_limit; zone: as item_writer's).
function M.write_metric(emit, format, r, zone)
  if format == "json" or format == "ndjson" then
    local obj = {}
    for k, v in pairs(r) do
      if k ~= "rate_limit" then obj[k] = v end
    end
    emit(json_encode(obj) .. "\n")
    return
  end
  local ctx = type(r.context) == "table" and r.context or {}
  local tf = type(ctx.timeframe) == "table" and ctx.timeframe or {}
  formats.write_rows(format, emit, zoned(METRIC, zone), { {
    metric = ctx.metric, aggregation = ctx.aggregation, from = tf.from, to = tf.to,
    value = type(r.data) == "number" and number_text(r.data) or nil,
  } })
end

------------------------------------------------------------------------------
-- The summaries: in csv and ndjson, rows { metric =, key =, value = } (value
-- nil: null); in json, one object; in a table, one section per figure.

local FIGURE_ROWS = {
  columns = {
    { name = "metric", text = function(row) return row.metric end },
    { name = "key", text = function(row) return tostring(row.key) end },
    { name = "value", text = function(row) return row.value and number_text(row.value) end,
      json = function(row) return json_encode(row.value, nil, figure) end },
  },
}

--- Writes a summary's rows in csv or ndjson.
local function write_figure_rows(emit, format, rows)
  formats.write_rows(format, emit, FIGURE_ROWS, rows)
end

--- One section of a summary's table format: a two-column table of `list`
-- ({ label =, value = } rows), or, when bars_width is set (stdout is a
-- terminal), a title and Unicode bars (apivideo.chart.term) with shares of
-- `total`.
local function section(emit, title, list, vcol, bars_width, total)
  emit("\n")
  if bars_width and #list > 0 then
    emit(title .. " (" .. vcol .. ")\n")
    local rows = {}
    for i, kv in ipairs(list) do rows[i] = { label = kv.label == "" and "(none)" or kv.label, value = kv.value } end
    emit(term.bars(rows, { width = bars_width, total = total }))
    return
  end
  local trows = {}
  for i, kv in ipairs(list) do
    trows[i] = { kv.label == "" and "(none)" or kv.label, kv.value and number_text(kv.value) }
  end
  formats.render_table(emit, { { name = title }, { name = vcol, right = true } }, trows)
end

local DURATION = { "count", "median", "mean", "p90" }

--- The summary of the sessions walk as one JSON object (see docs/cli.md).
function M.summary_object(o, r)
  local ev = r.events
  local obj = {
    video_id = o.id, period = o.period, metadata = M.filter_pairs(o.metadata), sessions = r.sessions,
    duration_s = {},
    events = {
      fetched = ev.fetched, total = ev.fetched and ev.total or JSON_NULL,
      by_type = ev.fetched and {} or JSON_NULL,
      sessions_counted = ev.sessions_counted, sessions_left_out = #ev.left_out, left_out = {},
    },
  }
  for _, g in ipairs(r.groups) do
    local t = {}
    for _, kv in ipairs(g.counts) do t[kv.label] = kv.value end
    obj[g.name] = t
  end
  for _, k in ipairs(DURATION) do
    local v = r.duration[k]
    obj.duration_s[k] = v == nil and JSON_NULL or v
  end
  if ev.fetched then
    for _, kv in ipairs(ev.by_type) do obj.events.by_type[kv.label] = kv.value end
  end
  for i, l in ipairs(ev.left_out) do obj.events.left_out[i] = l.session_id end
  return obj
end

--- The summary of the sessions walk as rows.
function M.summary_rows(r)
  local d, ev = r.duration, r.events
  local rows = { { metric = "sessions", key = "total", value = r.sessions } }
  local function add(metric, key, value) rows[#rows + 1] = { metric = metric, key = key, value = value } end
  for _, g in ipairs(r.groups) do
    for _, kv in ipairs(g.counts) do add(g.name, kv.label, kv.value) end
  end
  for _, k in ipairs(DURATION) do add("duration_s", k, d[k]) end
  add("events", "fetched", ev.fetched and 1 or 0)
  add("events", "sessions_counted", ev.sessions_counted)
  add("events", "sessions_left_out", #ev.left_out)
  if ev.fetched then
    for _, kv in ipairs(ev.by_type) do add("events", kv.label, kv.value) end
  end
  add("events", "total", ev.fetched and ev.total or nil)
  return rows
end

--- Writes the summary r (apivideo.cli.stats result) in o.format;
-- bars_width: draw the table format's breakdowns as bars that wide.
function M.write_summary(emit, o, r, bars_width)
  if o.format == "json" then
    emit(json_encode(M.summary_object(o, r), nil, figure) .. "\n")
    return
  elseif o.format ~= "table" then
    write_figure_rows(emit, o.format, M.summary_rows(r))
    return
  end
  local ev = r.events
  local filter = ""
  if o.metadata then filter = ", metadata " .. json_encode(M.filter_pairs(o.metadata), "metadata") end
  emit(string.format("Summary of video %s, period %s%s: %d sessions\n", o.id, o.period, filter, r.sessions))
  if r.sessions == 0 then
    emit("\nno sessions in this period\n")
    return
  end
  for _, g in ipairs(r.groups) do section(emit, g.name, g.counts, "sessions", bars_width, r.sessions) end
  local drows = {}
  for i, k in ipairs(DURATION) do drows[i] = { label = k, value = r.duration[k] } end
  section(emit, "duration_s", drows, "value")
  if not ev.fetched then
    emit("\nEvents: not fetched (--no-events)\n")
    return
  end
  local erows = {}
  for i, kv in ipairs(ev.by_type) do erows[i] = kv end
  if bars_width then
    section(emit, "event_type", erows, "events", bars_width, ev.total)
    emit(string.format("total  %s events\n", number_text(ev.total)))
  else
    erows[#erows + 1] = { label = "total", value = ev.total }
    section(emit, "event_type", erows, "events")
  end
  if #ev.left_out > 0 then
    emit(string.format("\nEvents of %d of %d sessions left out (they could not be fetched; see stderr)\n",
      #ev.left_out, r.sessions))
  end
end

------------------------------------------------------------------------------
-- The summary of a window (the /data operations).

--- Its figures, in order: the row's metric and key, and `figure`, the key
-- of apivideo.cli.data's SUMMARY_FIGURES it shows.
local FIGURES = {
  { metric = "plays", key = "total", figure = "plays" },
  { metric = "impressions", key = "total", figure = "impressions" },
  { metric = "play_rate", key = "total", figure = "play_rate" },
  { metric = "ends", key = "total", figure = "ends" },
  { metric = "watch_time_s", key = "sum", figure = "watch_time_sum" },
  { metric = "watch_time_s", key = "average", figure = "watch_time_average" },
}
local DATA_GROUPS = { "country", "device_type", "os", "browser", "referrer", "media_id" }

local function atom(secs)
  if not secs then return nil end
  return os.date("!%Y-%m-%dT%H:%M:%S+00:00", math.floor(secs))
end

--- The window of a data summary: what the API echoed, else what was asked;
-- zone: in that zone (the table's header line).
local function window_of(o, res, zone)
  local tf = type(res.timeframe) == "table" and res.timeframe or {}
  local w = { from = tf.from or atom(o.from), to = tf.to or atom(o.to) }
  return { from = M.in_zone(w.from, zone), to = M.in_zone(w.to, zone) }
end

--- The data summary as rows.
function M.data_summary_rows(res)
  local rows = {}
  for _, f in ipairs(FIGURES) do rows[#rows + 1] = { metric = f.metric, key = f.key, value = res.figures[f.figure] } end
  for _, g in ipairs(DATA_GROUPS) do
    for _, kv in ipairs(res.breakdowns[g] or {}) do
      rows[#rows + 1] = { metric = g, key = kv.label, value = kv.value }
    end
  end
  return rows
end

--- The data summary as one JSON object (see docs/cli.md).
function M.data_summary_object(o, res)
  local window = window_of(o, res)
  local fig = res.figures
  local function v(x) return x == nil and JSON_NULL or x end
  local obj = {
    video_id = o.id or JSON_NULL, from = v(window.from), to = v(window.to), plays = v(fig.plays),
    impressions = v(fig.impressions), play_rate = v(fig.play_rate), ends = v(fig.ends),
    watch_time_s = { sum = v(fig.watch_time_sum), average = v(fig.watch_time_average) },
  }
  for _, g in ipairs(DATA_GROUPS) do
    local list = res.breakdowns[g]
    if list then
      local t = {}
      for _, kv in ipairs(list) do t[tostring(kv.label)] = kv.value end
      obj[g] = t
    end
  end
  return obj
end

-- Whether a data summary has nothing to show: every figure 0 (or absent), every breakdown empty.
local function data_empty(res)
  for _, f in ipairs(FIGURES) do
    local v = res.figures[f.figure]
    if v ~= nil and v ~= 0 then return false end
  end
  for _, g in ipairs(DATA_GROUPS) do
    if res.breakdowns[g] and #res.breakdowns[g] > 0 then return false end
  end
  return true
end

--- Writes the data summary res (apivideo.cli.data.collect) in o.format.
function M.write_data_summary(emit, o, res, bars_width)
  if o.format == "json" then
    emit(json_encode(M.data_summary_object(o, res), nil, figure) .. "\n")
    return
  elseif o.format ~= "table" then
    write_figure_rows(emit, o.format, M.data_summary_rows(res))
    return
  end
  local window = window_of(o, res, o.tz)
  local plays = res.figures.plays
  emit(string.format("Summary of %s, %s to %s (the /data operations): %s plays\n",
    o.id and ("media " .. o.id) or "the account", tostring(window.from), tostring(window.to),
    plays and number_text(plays) or "-"))
  if data_empty(res) then
    emit("\nno data in this window\n")
    return
  end
  local frows = {}
  for i, f in ipairs(FIGURES) do
    frows[i] = { label = f.metric .. (f.key ~= "total" and (" " .. f.key) or ""), value = res.figures[f.figure] }
  end
  section(emit, "figure", frows, "value")
  for _, g in ipairs(DATA_GROUPS) do
    local list = res.breakdowns[g]
    if list then section(emit, g, list, "plays", bars_width, plays) end
  end
end

return M
