--- The CLI's output formats: JSON, CSV (RFC 4180), NDJSON and aligned
-- tables, the columns of sessions and events, and the summary's layout.
--
-- Metadata has one shape in every format: the API's list of pairs,
-- `[{"key":K,"value":V},...]`, in the API's order, `[]` when the session has
-- none. ndjson/json carry it at `session.metadata`; csv and table carry the
-- same JSON text in their `metadata` column. A list keeps everything the
-- API sent (order, a key given twice); an object could not.
-- @module apivideo.cli.output
local apivideo = require("apivideo")
local cjson = require("cjson")
local stats = require("apivideo.cli.stats")
local term = require("apivideo.chart.term")

local M = {}

local NULL = apivideo.null
--- Encodes as JSON null (for summary fields without a value).
M.JSON_NULL = setmetatable({}, { __tostring = function() return "null" end })

--- Display width of a UTF-8 string (code points; no wide-character tables).
local function width(s)
  return #s - select(2, s:gsub("[\128-\191]", ""))
end
M.width = width

local function is_integral(n)
  return n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53
end

--- A number for people and spreadsheets: integers as such, else at most
-- three decimals, trailing zeros dropped.
---@param n number
---@return string
function M.number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return "" end
  if is_integral(n) then return string.format("%d", n) end
  local s = string.format("%.3f", n):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end
local number_text = M.number_text

------------------------------------------------------------------------------
-- JSON: sorted keys (stable output), JSON null for apivideo.null, [] for the
-- empty arrays the API documents.

local ARRAY_KEYS = { metadata = true, problems = true, links = true, data = true, left_out = true }

local function json_string(s)
  -- cjson escapes '/' as '\/'; a raw '/' never appears in its output, so
  -- every '\/' is such an escape and can go back to '/'.
  return (cjson.encode(s):gsub("\\/", "/"))
end
M.json_string = json_string

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if is_integral(n) then return string.format("%d", n) end
  return string.format("%.14g", n)
end

--- JSON text of v (sorted keys). key: the field v is the value of (an empty
-- table under an ARRAY_KEYS name is []); number: a number formatter.
function M.json_encode(v, key, number)
  local t = type(v)
  if v == nil or v == NULL or v == M.JSON_NULL then return "null" end
  if t == "string" then return json_string(v) end
  if t == "number" then return (number or json_number)(v) end
  if t == "boolean" then return tostring(v) end
  if t ~= "table" then error("cannot encode a " .. t .. " as JSON") end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if (n > 0 and n == count) or (count == 0 and ARRAY_KEYS[key]) then
    local parts = {}
    for i = 1, n do parts[i] = M.json_encode(v[i], nil, number) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    parts[i] = json_string(k) .. ":" .. M.json_encode(val, k, number)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
local json_encode = M.json_encode

------------------------------------------------------------------------------
-- CSV (RFC 4180): fields with a comma, quote, CR or LF are quoted, quotes
-- doubled; records end with CRLF.

local function csv_field(s)
  s = s == nil and "" or tostring(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- One CSV record (with its CRLF) from an array of field strings.
function M.csv_record(fields, n)
  local parts = {}
  for i = 1, n or #fields do parts[i] = csv_field(fields[i]) end
  return table.concat(parts, ",") .. "\r\n"
end

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

--- The metadata as JSON text: `[{"key":K,"value":V},...]`.
function M.metadata_json(session)
  local md = M.metadata_pairs(session)
  local parts = {}
  for i, kv in ipairs(md) do
    if type(kv) == "table" then
      parts[i] = '{"key":' .. json_encode(kv.key) .. ',"value":' .. json_encode(kv.value) .. "}"
    else
      parts[i] = json_encode(kv)
    end
  end
  return "[" .. table.concat(parts, ",") .. "]"
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
-- Columns of the row formats (table, csv). kind: how a table sizes it:
-- "id", "time", "number" (right aligned), "text".

local get = stats.get

local function fieldv(e, name)
  local v = e[name]
  if v == NULL then return nil end
  if type(v) == "number" then return number_text(v) end
  return v
end

M.SESSION_COLUMNS = {
  { "session_id", function(s) return get(s, "session", "session_id") end },
  { "loaded_at", function(s) return get(s, "session", "loaded_at") end },
  { "ended_at", function(s) return get(s, "session", "ended_at") end },
  { "duration_s", function(s) local d = stats.duration_of(s) return d and number_text(d) end, right = true },
  { "country", function(s) return get(s, "location", "country") end },
  { "city", function(s) return get(s, "location", "city") end },
  { "device_type", function(s) return get(s, "device", "type") end },
  { "device_vendor", function(s) return get(s, "device", "vendor") end },
  { "device_model", function(s) return get(s, "device", "model") end },
  { "os_name", function(s) return get(s, "os", "name") end },
  { "os_shortname", function(s) return get(s, "os", "shortname") end },
  { "os_version", function(s) return get(s, "os", "version") end },
  { "client_type", function(s) return get(s, "client", "type") end },
  { "browser", function(s) return get(s, "client", "name") end },
  { "client_version", function(s) return get(s, "client", "version") end },
  { "referrer_url", function(s) return get(s, "referrer", "url") end },
  { "referrer_medium", function(s) return get(s, "referrer", "medium") end },
  { "referrer_source", function(s) return get(s, "referrer", "source") end },
  { "search_term", function(s) return get(s, "referrer", "search_term") end },
  { "metadata", M.metadata_json },
}
--- The narrower set shown by --format table.
M.SESSION_TABLE = {
  session_id = true, loaded_at = true, duration_s = true, country = true, city = true,
  device_type = true, os_name = true, browser = true, referrer_medium = true, metadata = true,
}

M.EVENT_COLUMNS = {
  { "type", function(e) return fieldv(e, "type") end },
  { "emitted_at", function(e) return fieldv(e, "emitted_at") end },
  { "at", function(e) return fieldv(e, "at") end, right = true },
  { "from", function(e) return fieldv(e, "from") end, right = true },
  { "to", function(e) return fieldv(e, "to") end, right = true },
}

--- A bucket of /data/buckets: { dimension_value, metric_value }.
M.BUCKET_COLUMNS = {
  { "dimension_value", function(b) return fieldv(b, "dimension_value") end },
  { "metric_value", function(b) return fieldv(b, "metric_value") end, right = true },
}

--- A point of /data/timeseries: { emitted_at, metric_value }.
M.POINT_COLUMNS = {
  { "emitted_at", function(b) return fieldv(b, "emitted_at") end },
  { "metric_value", function(b) return fieldv(b, "metric_value") end, right = true },
}

local KIND_COLUMNS = { session = M.SESSION_COLUMNS, event = M.EVENT_COLUMNS, bucket = M.BUCKET_COLUMNS,
  point = M.POINT_COLUMNS }

--- The names of a column list.
function M.names(columns, only)
  local out = {}
  for _, c in ipairs(columns) do
    if not only or only[c[1]] then out[#out + 1] = c[1] end
  end
  return out
end

------------------------------------------------------------------------------
-- Writers. Every write goes through emit(), which raises on a write error.

--- emit(s) writes s to stream; emit.flush() pushes it out (a pipe sees
-- each page at once). A failed write raises {write = message}.
function M.emitter(stream)
  local e = {}
  local function check(ok, err)
    if not ok then error({ write = tostring(err) }, 0) end
  end
  setmetatable(e, { __call = function(_, s) check(stream:write(s)) end })
  function e.flush()
    if stream.flush then check(stream:flush()) end
  end
  return e
end

local function cell(v)
  if v == nil or v == "" then return "-" end
  return (tostring(v):gsub("%c", " "))
end

local function table_line(cols, widths, values)
  local parts, n = {}, #cols
  for i, c in ipairs(cols) do
    local v = values[i]
    local pad = widths[i] - width(v)
    pad = pad > 0 and string.rep(" ", pad) or ""
    if c.right then parts[i] = pad .. v
    elseif i < n then parts[i] = v .. pad
    else parts[i] = v end
  end
  return table.concat(parts, "  ") .. "\n"
end

--- The header line and the rule under it.
local function table_head(emit, cols, widths)
  local head, rule = {}, {}
  for i, c in ipairs(cols) do
    head[i] = c[1]
    rule[i] = string.rep("-", widths[i])
  end
  emit(table_line(cols, widths, head))
  emit(table_line(cols, widths, rule))
end

--- An aligned text table, all rows at once (the summary's small tables).
-- cols: array of {name, right = bool}; rows: arrays of strings (nil: "-").
function M.render_table(emit, cols, rows)
  local widths = {}
  for i, c in ipairs(cols) do widths[i] = width(c[1]) end
  local cells = {}
  for r, row in ipairs(rows) do
    local line = {}
    for i = 1, #cols do
      line[i] = cell(row[i])
      local w = width(line[i])
      if w > widths[i] then widths[i] = w end
    end
    cells[r] = line
  end
  table_head(emit, cols, widths)
  for _, line in ipairs(cells) do emit(table_line(cols, widths, line)) end
end

--- A streaming table: the widths come from the header and the rows of the
-- first page (at most --page-size rows are held back); after that every row
-- is written as it comes. A later value wider than its column is never cut:
-- the column widens from that row on.
local function stream_table(emit, cols)
  local t, held, widths = {}, {}, nil
  local function row_cells(x)
    local line = {}
    for i, c in ipairs(cols) do line[i] = cell(c[2](x)) end
    return line
  end
  local function grow(line)
    for i = 1, #cols do
      local w = width(line[i])
      if w > widths[i] then widths[i] = w end
    end
  end
  local function start()
    widths = {}
    for i, c in ipairs(cols) do widths[i] = width(c[1]) end
    for _, line in ipairs(held) do grow(line) end
    table_head(emit, cols, widths)
    for _, line in ipairs(held) do emit(table_line(cols, widths, line)) end
    held = nil
  end
  function t.item(x)
    local line = row_cells(x)
    if widths then
      grow(line)
      emit(table_line(cols, widths, line))
    else
      held[#held + 1] = line
    end
  end
  function t.page_done()
    if not widths then start() end
  end
  t.finish = t.page_done
  return t
end

--- A streaming writer of items: begin() when the first page arrived,
-- item(x) per item, page_done() after each page, finish() at the end.
-- kind: "session", "event", "bucket" or "point".
function M.item_writer(format, emit, kind)
  local columns = KIND_COLUMNS[kind]
  local record = kind == "session" and session_record or function(x) return x end
  local w = { count = 0 }
  local function noop() end
  w.begin, w.page_done, w.finish = noop, noop, noop
  if format == "ndjson" then
    function w.item(x) emit(json_encode(record(x)) .. "\n") end
  elseif format == "json" then
    function w.begin() emit("[") end
    function w.item(x)
      emit((w.count == 0 and "\n" or ",\n") .. json_encode(record(x)))
      w.count = w.count + 1
    end
    function w.finish() emit(w.count == 0 and "]\n" or "\n]\n") end
  elseif format == "csv" then
    function w.begin() emit(M.csv_record(M.names(columns))) end
    function w.item(x)
      local row = {}
      for i, c in ipairs(columns) do row[i] = c[2](x) end
      emit(M.csv_record(row, #columns))
    end
  else
    local cols = {}
    for _, c in ipairs(columns) do
      if kind ~= "session" or M.SESSION_TABLE[c[1]] then cols[#cols + 1] = c end
    end
    local st = stream_table(emit, cols)
    w.item, w.page_done, w.finish = st.item, st.page_done, st.finish
  end
  return w
end

--- The columns of `metrics` (table, csv): the figure and what the API
-- echoed of the question.
M.METRIC_COLUMNS = { "metric", "aggregation", "from", "to", "value" }

--- Writes one /data/metrics result in format (ndjson and json: the
-- library's result without its rate_limit).
function M.write_metric(emit, format, r)
  local ctx = type(r.context) == "table" and r.context or {}
  local tf = type(ctx.timeframe) == "table" and ctx.timeframe or {}
  if format == "json" or format == "ndjson" then
    local obj = {}
    for k, v in pairs(r) do
      if k ~= "rate_limit" then obj[k] = v end
    end
    emit(json_encode(obj) .. "\n")
    return
  end
  local row = { ctx.metric, ctx.aggregation, tf.from, tf.to, type(r.data) == "number" and number_text(r.data) }
  if format == "csv" then
    emit(M.csv_record(M.METRIC_COLUMNS))
    emit(M.csv_record(row, #M.METRIC_COLUMNS))
    return
  end
  local cols = {}
  for i, name in ipairs(M.METRIC_COLUMNS) do cols[i] = { name, right = name == "value" } end
  M.render_table(emit, cols, { row })
end

------------------------------------------------------------------------------
-- The summary.

local DUR = { "count", "median", "mean", "p90" }

local function summary_number(n)
  local s = number_text(n)
  return s == "" and "null" or s
end

--- The summary as one JSON object (see docs/cli.md for its shape).
function M.summary_object(o, r)
  local ev = r.events
  local obj = {
    video_id = o.id, period = o.period, metadata = M.filter_pairs(o.metadata), sessions = r.sessions,
    duration_s = {},
    events = {
      fetched = ev.fetched, total = ev.fetched and ev.total or M.JSON_NULL,
      by_type = ev.fetched and {} or M.JSON_NULL,
      sessions_counted = ev.sessions_counted, sessions_left_out = #ev.left_out, left_out = {},
    },
  }
  for _, g in ipairs(r.groups) do
    local t = {}
    for _, kv in ipairs(g[2]) do t[kv[1]] = kv[2] end
    obj[g[1]] = t
  end
  for _, k in ipairs(DUR) do
    local v = r.duration[k]
    obj.duration_s[k] = v == nil and M.JSON_NULL or v
  end
  if ev.fetched then
    for _, kv in ipairs(ev.by_type) do obj.events.by_type[kv[1]] = kv[2] end
  end
  for i, l in ipairs(ev.left_out) do obj.events.left_out[i] = l.session_id end
  return obj
end

--- The summary as metric,key,value rows (csv, ndjson); value nil: null.
function M.summary_rows(r)
  local d, ev = r.duration, r.events
  local rows = { { "sessions", "total", r.sessions } }
  for _, g in ipairs(r.groups) do
    for _, kv in ipairs(g[2]) do rows[#rows + 1] = { g[1], kv[1], kv[2] } end
  end
  for _, k in ipairs(DUR) do rows[#rows + 1] = { "duration_s", k, d[k] } end
  rows[#rows + 1] = { "events", "fetched", ev.fetched and 1 or 0 }
  rows[#rows + 1] = { "events", "sessions_counted", ev.sessions_counted }
  rows[#rows + 1] = { "events", "sessions_left_out", #ev.left_out }
  if ev.fetched then
    for _, kv in ipairs(ev.by_type) do rows[#rows + 1] = { "events", kv[1], kv[2] } end
  end
  rows[#rows + 1] = { "events", "total", ev.fetched and ev.total or nil }
  return rows
end

--- One section of a summary's table format: a two-column table, or, when
-- bars_width is set (stdout is a terminal), a title and Unicode bars
-- (apivideo.chart.term) with shares of `total`.
local function section(emit, title, list, vcol, bars_width, total)
  emit("\n")
  if bars_width and #list > 0 then
    emit(title .. " (" .. vcol .. ")\n")
    local rows = {}
    for i, kv in ipairs(list) do rows[i] = { kv[1] == "" and "(none)" or kv[1], kv[2] } end
    emit(term.bars(rows, { width = bars_width, total = total }))
    return
  end
  local trows = {}
  for i, kv in ipairs(list) do trows[i] = { kv[1] == "" and "(none)" or kv[1], kv[2] and number_text(kv[2]) } end
  M.render_table(emit, { { title }, { vcol, right = true } }, trows)
end

--- Writes the summary r (apivideo.cli.stats result) in o.format;
-- bars_width: draw the table format's breakdowns as bars that wide.
function M.write_summary(emit, o, r, bars_width)
  if o.format == "json" then
    emit(json_encode(M.summary_object(o, r), nil, summary_number) .. "\n")
    return
  end
  local ev = r.events
  if o.format == "csv" then
    emit(M.csv_record({ "metric", "key", "value" }))
    for _, row in ipairs(M.summary_rows(r)) do
      emit(M.csv_record({ row[1], row[2], row[3] and number_text(row[3]) }, 3))
    end
    return
  elseif o.format == "ndjson" then
    for _, row in ipairs(M.summary_rows(r)) do
      emit('{"metric":' .. json_string(row[1]) .. ',"key":' .. json_string(row[2]) .. ',"value":'
        .. (row[3] == nil and "null" or summary_number(row[3])) .. "}\n")
    end
    return
  end
  local filter = ""
  if o.metadata then filter = ", metadata " .. json_encode(M.filter_pairs(o.metadata), "metadata") end
  emit(string.format("Summary of video %s, period %s%s: %d sessions\n", o.id, o.period, filter, r.sessions))
  for _, g in ipairs(r.groups) do section(emit, g[1], g[2], "sessions", bars_width, r.sessions) end
  local drows = {}
  for i, k in ipairs(DUR) do drows[i] = { k, r.duration[k] } end
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
    erows[#erows + 1] = { "total", ev.total }
    section(emit, "event_type", erows, "events")
  end
  if #ev.left_out > 0 then
    emit(string.format("\nEvents of %d of %d sessions left out (they could not be fetched; see stderr)\n",
      #ev.left_out, r.sessions))
  end
end

------------------------------------------------------------------------------
-- The summary of a window (the /data operations).

local FIGURES = {
  { "plays", "total", "plays" }, { "impressions", "total", "impressions" }, { "play_rate", "total", "play_rate" },
  { "ends", "total", "ends" }, { "watch_time_s", "sum", "watch_time_sum" },
  { "watch_time_s", "average", "watch_time_average" },
}
local DATA_GROUPS = { "country", "device_type", "os", "browser", "referrer", "media_id" }

local function atom(secs)
  if not secs then return nil end
  return os.date("!%Y-%m-%dT%H:%M:%S+00:00", math.floor(secs))
end

--- The window of a data summary: what the API echoed, else what was asked.
local function window_of(o, res)
  local tf = type(res.timeframe) == "table" and res.timeframe or {}
  return tf.from or atom(o.from), tf.to or atom(o.to)
end

--- The data summary as metric,key,value rows (value nil: null).
function M.data_summary_rows(res)
  local rows = {}
  for _, f in ipairs(FIGURES) do rows[#rows + 1] = { f[1], f[2], res.figures[f[3]] } end
  for _, g in ipairs(DATA_GROUPS) do
    for _, kv in ipairs(res.breakdowns[g] or {}) do rows[#rows + 1] = { g, kv[1], kv[2] } end
  end
  return rows
end

--- The data summary as one JSON object (see docs/cli.md).
function M.data_summary_object(o, res)
  local from, to = window_of(o, res)
  local fig = res.figures
  local function v(x) return x == nil and M.JSON_NULL or x end
  local obj = {
    video_id = o.id or M.JSON_NULL, from = v(from), to = v(to), plays = v(fig.plays),
    impressions = v(fig.impressions), play_rate = v(fig.play_rate), ends = v(fig.ends),
    watch_time_s = { sum = v(fig.watch_time_sum), average = v(fig.watch_time_average) },
  }
  for _, g in ipairs(DATA_GROUPS) do
    local list = res.breakdowns[g]
    if list then
      local t = {}
      for _, kv in ipairs(list) do t[tostring(kv[1])] = kv[2] end
      obj[g] = t
    end
  end
  return obj
end

--- Writes the data summary res (apivideo.cli.data.collect) in o.format.
function M.write_data_summary(emit, o, res, bars_width)
  if o.format == "json" then
    emit(json_encode(M.data_summary_object(o, res), nil, summary_number) .. "\n")
    return
  elseif o.format == "csv" then
    emit(M.csv_record({ "metric", "key", "value" }))
    for _, row in ipairs(M.data_summary_rows(res)) do
      emit(M.csv_record({ row[1], row[2], row[3] and number_text(row[3]) }, 3))
    end
    return
  elseif o.format == "ndjson" then
    for _, row in ipairs(M.data_summary_rows(res)) do
      emit('{"metric":' .. json_string(row[1]) .. ',"key":' .. json_string(tostring(row[2])) .. ',"value":'
        .. (row[3] == nil and "null" or summary_number(row[3])) .. "}\n")
    end
    return
  end
  local from, to = window_of(o, res)
  local plays = res.figures.plays
  emit(string.format("Summary of %s, %s to %s (the /data operations): %s plays\n",
    o.id and ("media " .. o.id) or "the account", tostring(from), tostring(to),
    plays and number_text(plays) or "-"))
  local frows = {}
  for i, f in ipairs(FIGURES) do
    frows[i] = { f[1] .. (f[2] ~= "total" and (" " .. f[2]) or ""), res.figures[f[3]] }
  end
  section(emit, "figure", frows, "value")
  for _, g in ipairs(DATA_GROUPS) do
    local list = res.breakdowns[g]
    if list then section(emit, g, list, "plays", bars_width, plays) end
  end
end

return M
