--- The command-line tool `apivideo-analytics`.
--
--     apivideo-analytics sessions --video ID --period P [--metadata k=v ...]
--     apivideo-analytics live-sessions --live-stream ID --period P
--     apivideo-analytics events --session ID
--     apivideo-analytics summary --video ID --period P [--metadata k=v ...]
--
-- `main(argv, streams)` runs one command and returns the exit code (0 ok,
-- 1 API or network error, 2 usage error); it never calls os.exit, so specs
-- can run it in-process with captured streams. bin/apivideo-analytics is the
-- thin script around it.
--
-- Every request goes through the public client API. The client is created
-- in cooperative mode (`yield = coroutine.yield`): each walk runs in a
-- coroutine and the loop here steps the client between resumes, which is
-- how `summary` walks the events of up to `--concurrency` sessions at once
-- with the ordinary iterators.
-- @module apivideo.cli
local apivideo = require("apivideo")
local cjson = require("cjson")

local M = {}

local PROG = "apivideo-analytics"

local USAGE = [[
Usage: apivideo-analytics COMMAND [OPTIONS]
  sessions      --video ID --period P [--metadata KEY=VALUE ...]
  live-sessions --live-stream ID --period P
  events        --session ID
  summary       --video ID --period P [--metadata KEY=VALUE ...]
Options: --format table|csv|ndjson|json, --page-size N, --concurrency N,
  --sandbox, --base-url URL, --api-key-file FILE, --help
]]

local HELP = [[
apivideo-analytics: api.video Analytics from the command line.

Usage: apivideo-analytics COMMAND [OPTIONS]

Commands:
  sessions --video ID --period P [--metadata KEY=VALUE ...]
      The player sessions of a video (one row per session).
  live-sessions --live-stream ID --period P
      The player sessions of a live stream.
  events --session ID
      The events of one player session.
  summary --video ID --period P [--metadata KEY=VALUE ...]
      Sessions counted by country, device type, OS, browser and referrer
      medium; session duration in seconds (median, mean, p90 by nearest
      rank; from loaded_at to ended_at); event counts by type over the
      sessions (the events of up to --concurrency sessions are fetched at once).

  P is one of YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY, YYYY-MM-DD/YYYY-MM-DD.
  --metadata may be repeated; sessions must match every pair.

Options:
  --format FORMAT      table (default), csv (RFC 4180, CRLF), ndjson or json
  --page-size N        items per request, 1..100 (default 100)
  --concurrency N      requests in flight, 1..64 (default 4)
  --sandbox            use https://sandbox.api.video
  --base-url URL       use another API root (e.g. a local stand-in)
  --api-key-file FILE  read the API key from the first line of FILE
                       (default: the APIVIDEO_API_KEY environment variable)
  -h, --help           this help
  --version            the version

Progress goes to stderr, only when it is a terminal; stdout carries data only.
Exit status: 0 ok, 1 API or network error, 2 usage error.
]]

--- Options taking a value, and the commands each one applies to (true: all).
local VALUE_OPTIONS = {
  ["video"] = { sessions = true, summary = true },
  ["live-stream"] = { ["live-sessions"] = true },
  ["session"] = { events = true },
  ["period"] = { sessions = true, ["live-sessions"] = true, summary = true },
  ["metadata"] = { sessions = true, summary = true },
  ["format"] = true, ["page-size"] = true, ["concurrency"] = true,
  ["base-url"] = true, ["api-key-file"] = true,
}
local FLAG_OPTIONS = { sandbox = true, help = true, version = true }

local REQUIRED = {
  sessions = { "video", "period" },
  ["live-sessions"] = { "live-stream", "period" },
  events = { "session" },
  summary = { "video", "period" },
}

local FORMATS = { table = true, csv = true, ndjson = true, json = true }

------------------------------------------------------------------------------
-- Small helpers.

local function usage_error(msg)
  error({ usage = msg }, 0)
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

--- Display width of a UTF-8 string (code points; no wide-character tables).
local function width(s)
  return #s - select(2, s:gsub("[\128-\191]", ""))
end

local function is_integral(n)
  return n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53
end

--- A number for people and spreadsheets: integers as such, else at most
-- three decimals, trailing zeros dropped.
local function number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return "" end
  if is_integral(n) then return string.format("%d", n) end
  local s = string.format("%.3f", n):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end
M.number_text = number_text

------------------------------------------------------------------------------
-- JSON output: sorted keys (stable output), JSON null for apivideo.null,
-- [] for the empty arrays the API documents.

local ARRAY_KEYS = { metadata = true, problems = true, links = true, data = true }
local NULL = apivideo.null
M.JSON_NULL = setmetatable({}, { __tostring = function() return "null" end })

local function json_string(s)
  -- cjson escapes '/' as '\/'; a raw '/' never appears in its output, so
  -- every '\/' is such an escape and can go back to '/'.
  return (cjson.encode(s):gsub("\\/", "/"))
end

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if is_integral(n) then return string.format("%d", n) end
  return string.format("%.14g", n)
end

local function json_encode(v, key, number)
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
    for i = 1, n do parts[i] = json_encode(v[i], nil, number) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    parts[i] = json_string(k) .. ":" .. json_encode(val, k, number)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
M.json_encode = json_encode

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
-- Columns of the row formats (table, csv).

local function get(t, a, b)
  local x = t[a]
  if type(x) ~= "table" then return nil end
  local v = x[b]
  if v == NULL then return nil end
  return v
end

local function duration_of(session)
  local s = session.session or {}
  if not (s.loaded_at and s.ended_at) then return nil end
  local a = apivideo.parse_time(s.loaded_at)
  local b = apivideo.parse_time(s.ended_at)
  if not (a and b) then return nil end
  return math.floor((b - a) * 1000 + 0.5) / 1000
end
M.duration_of = duration_of

local function metadata_text(session)
  local md = get(session, "session", "metadata")
  if type(md) ~= "table" or #md == 0 then return nil end
  local parts = {}
  for _, kv in ipairs(md) do
    if type(kv) == "table" then
      parts[#parts + 1] = json_string(tostring(kv.key or "")) .. ":" .. json_string(tostring(kv.value or ""))
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local SESSION_COLUMNS = {
  { "session_id", function(s) return get(s, "session", "session_id") end },
  { "loaded_at", function(s) return get(s, "session", "loaded_at") end },
  { "ended_at", function(s) return get(s, "session", "ended_at") end },
  { "duration_s", function(s) local d = duration_of(s) return d and number_text(d) end },
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
  { "metadata", metadata_text },
}
--- The narrower set shown by --format table.
local SESSION_TABLE = {
  session_id = true, loaded_at = true, duration_s = true, country = true, city = true,
  device_type = true, os_name = true, browser = true, referrer_medium = true, metadata = true,
}

local function field(e, name)
  local v = e[name]
  if v == NULL then return nil end
  if type(v) == "number" then return number_text(v) end
  return v
end

local EVENT_COLUMNS = {
  { "type", function(e) return field(e, "type") end },
  { "emitted_at", function(e) return field(e, "emitted_at") end },
  { "at", function(e) return field(e, "at") end },
  { "from", function(e) return field(e, "from") end },
  { "to", function(e) return field(e, "to") end },
}

M.SESSION_COLUMNS, M.EVENT_COLUMNS = {}, {}
for i, c in ipairs(SESSION_COLUMNS) do M.SESSION_COLUMNS[i] = c[1] end
for i, c in ipairs(EVENT_COLUMNS) do M.EVENT_COLUMNS[i] = c[1] end

------------------------------------------------------------------------------
-- Writers. Every write goes through emit(), which raises on a write error.

local function emitter(stream)
  return function(s)
    local ok, err = stream:write(s)
    if not ok then error({ write = tostring(err) }, 0) end
  end
end

--- An aligned text table. cols: array of {name, right_aligned}; rows: arrays
-- of strings (nil shows as "-").
local function render_table(emit, cols, rows)
  local widths = {}
  for i, c in ipairs(cols) do widths[i] = width(c[1]) end
  local cells = {}
  for r, row in ipairs(rows) do
    local line = {}
    for i = 1, #cols do
      local v = row[i]
      v = (v == nil or v == "") and "-" or tostring(v):gsub("[%c]", " ")
      line[i] = v
      local w = width(v)
      if w > widths[i] then widths[i] = w end
    end
    cells[r] = line
  end
  local function line_of(values)
    local parts = {}
    for i, c in ipairs(cols) do
      local v = values[i]
      local pad = string.rep(" ", widths[i] - width(v))
      if c[2] then parts[i] = pad .. v
      elseif i < #cols then parts[i] = v .. pad
      else parts[i] = v end
    end
    return table.concat(parts, "  ") .. "\n"
  end
  local head, rule = {}, {}
  for i, c in ipairs(cols) do
    head[i] = c[1]
    rule[i] = string.rep("-", widths[i])
  end
  emit(line_of(head))
  emit(line_of(rule))
  for _, line in ipairs(cells) do emit(line_of(line)) end
end

--- A streaming writer of items: begin() when the first page arrived,
-- item(x) per item, finish() at the end.
local function item_writer(format, emit, columns, table_cols)
  local w = { count = 0 }
  if format == "ndjson" then
    function w.begin() end
    function w.item(x) emit(json_encode(x) .. "\n") end
    function w.finish() end
  elseif format == "json" then
    function w.begin() emit("[") end
    function w.item(x)
      emit((w.count == 0 and "\n" or ",\n") .. json_encode(x))
      w.count = w.count + 1
    end
    function w.finish() emit(w.count == 0 and "]\n" or "\n]\n") end
  elseif format == "csv" then
    local names = {}
    for i, c in ipairs(columns) do names[i] = c[1] end
    function w.begin() emit(M.csv_record(names)) end
    function w.item(x)
      local row = {}
      for i, c in ipairs(columns) do row[i] = c[2](x) end
      emit(M.csv_record(row, #columns))
    end
    function w.finish() end
  else -- table: buffered, to align the columns
    local cols, rows = {}, {}
    for _, c in ipairs(columns) do
      if not table_cols or table_cols[c[1]] then cols[#cols + 1] = c end
    end
    function w.begin() end
    function w.item(x)
      local row = {}
      for i, c in ipairs(cols) do row[i] = c[2](x) end
      rows[#rows + 1] = row
    end
    function w.finish()
      local heads = {}
      for i, c in ipairs(cols) do heads[i] = { c[1], c[1] == "duration_s" or c[1] == "at"
        or c[1] == "from" or c[1] == "to" } end
      render_table(emit, heads, rows)
    end
  end
  return w
end

------------------------------------------------------------------------------
-- Progress on stderr (only when it is a terminal).

local function clock()
  local ok, core = pcall(require, "apivideo.core")
  if ok and type(core) == "table" and core.now_ms then return core.now_ms end
  return function() return os.time() * 1000 end
end

local function clock_text(secs)
  secs = math.floor(secs + 0.5)
  local h, m, s = math.floor(secs / 3600), math.floor(secs / 60) % 60, secs % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s) end
  return string.format("%d:%02d", m, s)
end

--- label: "sessions"; unit: "page" | "session". update(done, total, items).
local function progress(stream, enabled, now, interval_ms)
  local p = { shown = false }
  local start, last, label, unit = now(), nil, "", "page"
  function p.phase(l, u)
    label, unit, start, last = l, u or "page", now(), nil
  end
  function p.update(done, total, items, force)
    if not enabled then return end
    local t = now()
    if not force and last and t - last < interval_ms then return end
    last = t
    local elapsed = (t - start) / 1000
    local rate = elapsed > 0 and items / elapsed or 0
    local left = "--:--"
    if total and done > 0 and total >= done then
      left = clock_text(elapsed / done * (total - done))
    end
    stream:write(string.format("\r%s: %s %d/%s, %d items, %d items/s, %s left\27[K", label, unit, done,
      total and tostring(total) or "?", items, math.floor(rate + 0.5), left))
    p.shown = true
  end
  function p.clear()
    if enabled and p.shown then stream:write("\r\27[K") end
    p.shown = false
  end
  return p
end

local function stderr_is_tty()
  local r = os.execute("test -t 2")
  return r == true or r == 0
end

------------------------------------------------------------------------------
-- Argument parsing (by hand: no dependency).

local function parse_int(name, v, min, max)
  local n = tonumber(v)
  if not v:match("^%s*%d+%s*$") or not n or n < min or n > max then
    usage_error(string.format("--%s must be an integer from %d to %d", name, min, max))
  end
  return math.floor(n)
end

--- argv (an `arg`-like array) -> options table, or raises {usage = msg}.
function M.parse(argv)
  local o = { metadata = nil, format = "table", page_size = 100, concurrency = 4 }
  local values = {}
  local i, n = 1, #argv
  local function take(name, inline)
    if inline ~= nil then return inline end
    local v = argv[i + 1]
    if v == nil or v:sub(1, 2) == "--" then usage_error("option --" .. name .. " needs a value") end
    i = i + 1
    return v
  end
  while i <= n do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      o.help = true
    elseif a == "--" then
      if argv[i + 1] ~= nil then usage_error("unexpected argument '" .. tostring(argv[i + 1]) .. "'") end
    elseif a:sub(1, 2) == "--" then
      local name, inline = a:sub(3):match("^([^=]*)=(.*)$")
      if not name then name = a:sub(3) end
      if VALUE_OPTIONS[name] then
        local v = take(name, inline)
        if name == "metadata" then
          local k, val = v:match("^([^=]+)=(.*)$")
          if not k then usage_error("--metadata expects KEY=VALUE with a non-empty KEY") end
          o.metadata = o.metadata or {}
          if o.metadata[k] ~= nil then usage_error("--metadata key '" .. k .. "' given twice") end
          o.metadata[k] = val
        end
        values[name] = v
      elseif FLAG_OPTIONS[name] then
        if inline ~= nil then usage_error("option --" .. name .. " takes no value") end
        if name == "help" then o.help = true else o[name] = true end
      else
        -- the name only: whatever follows '=' might be a secret
        usage_error("unknown option '--" .. name .. "'")
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option '" .. a:sub(1, 2) .. "'")
    elseif o.command == nil then
      if a == "help" then o.help = true end
      o.command = a
    else
      usage_error("unexpected argument '" .. a .. "'")
    end
    i = i + 1
  end
  if o.help or o.version then return o end
  local cmd = o.command
  if cmd == nil then usage_error("missing command") end
  if not REQUIRED[cmd] then usage_error("unknown command '" .. cmd .. "'") end
  for name in pairs(values) do
    local scope = VALUE_OPTIONS[name]
    if scope ~= true and not scope[cmd] then
      usage_error("option --" .. name .. " does not apply to '" .. cmd .. "'")
    end
  end
  for _, name in ipairs(REQUIRED[cmd]) do
    if values[name] == nil or values[name] == "" then
      usage_error("'" .. cmd .. "' needs --" .. name)
    end
  end
  o.id = values.video or values["live-stream"] or values.session
  o.period = values.period
  if values.format then
    if not FORMATS[values.format] then usage_error("--format must be table, csv, ndjson or json") end
    o.format = values.format
  end
  if values["page-size"] then o.page_size = parse_int("page-size", values["page-size"], 1, 100) end
  if values.concurrency then o.concurrency = parse_int("concurrency", values.concurrency, 1, 64) end
  if o.sandbox and values["base-url"] then usage_error("--sandbox and --base-url exclude each other") end
  o.base_url = values["base-url"]
  o.api_key_file = values["api-key-file"]
  return o
end

--- The API key: --api-key-file (first line, trimmed) or APIVIDEO_API_KEY.
local function read_key(o, getenv)
  if o.api_key_file then
    local f, err = io.open(o.api_key_file, "r")
    if not f then usage_error("cannot read the API key file: " .. tostring(err)) end
    local line = f:read("*l")
    f:close()
    local key = line and trim(line) or ""
    if key == "" then usage_error("the API key file '" .. o.api_key_file .. "' has an empty first line") end
    return key
  end
  local key = getenv("APIVIDEO_API_KEY")
  key = key and trim(key) or ""
  if key == "" then usage_error("no API key: set APIVIDEO_API_KEY or use --api-key-file FILE") end
  return key
end

--- Strips the "file.lua:12: " position a raised message may start with.
local function bare(msg)
  msg = tostring(msg)
  return (msg:gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^%[string [^\n]-%]:%d+: ", ""))
end

------------------------------------------------------------------------------
-- Running walks: each walk is a coroutine; the client (cooperative mode)
-- yields out of them while waiting, and this loop steps it.

local MAX_WAIT_MS = 100

--- Runs fns (functions) as coroutines until all return. Returns true, or
-- false and the first error raised (the others are then abandoned; the
-- caller closes the client, which cancels what they had in flight).
local function drive(client, fns, tick)
  local cos, live = {}, #fns
  for i, fn in ipairs(fns) do cos[i] = coroutine.create(fn) end
  while live > 0 do
    local wait = MAX_WAIT_MS
    for i = 1, #cos do
      local co = cos[i]
      if co then
        local ok, w = coroutine.resume(co)
        if not ok then return false, w end
        if coroutine.status(co) == "dead" then
          cos[i] = false
          live = live - 1
        elseif type(w) == "number" and w >= 0 and w < wait then
          wait = w
        end
      end
    end
    if tick then tick() end
    if live > 0 then client:step(math.floor(wait)) end
  end
  return true
end

local ARG_OPTION = {
  period = "--period", video_id = "--video", live_stream_id = "--live-stream", session_id = "--session",
  metadata = "--metadata", page_size = "--page-size",
}

--- Creates an iterator; an argument the library refuses is a usage error
-- (its message names the option rather than the library's argument).
local function iterator(client, method, id, opts)
  local ok, fn, _, _, closer = pcall(client.analytics[method], client.analytics, id, opts)
  if not ok then
    local msg = bare(fn)
    local arg_name, rest = msg:match("^analytics:[%w_]+: bad argument '([%w_]+)' (.*)$")
    if arg_name and ARG_OPTION[arg_name] then msg = "bad " .. ARG_OPTION[arg_name] .. " " .. rest end
    usage_error(msg)
  end
  return fn, closer
end

--- Walks pages of `method`, handing items to the writer; with progress.
local function list_command(ctx, method, columns, table_cols, label)
  local client, o = ctx.client, ctx.o
  local opts = { page_size = o.page_size }
  if o.period then opts.period = o.period end
  if o.metadata then opts.metadata = o.metadata end
  local next_page = iterator(client, method, o.id, opts)
  local w = item_writer(o.format, ctx.emit, columns, table_cols)
  local p = ctx.progress
  p.phase(label, "page")
  local pages, items, total, started = 0, 0, nil, false
  local ok, err = drive(client, { function()
    while true do
      local page = next_page()
      if not page then break end
      if not started then
        started = true
        w.begin()
      end
      pages, total = pages + 1, page.pagination.pages_total
      for _, x in ipairs(page.data) do
        w.item(x)
        items = items + 1
      end
      p.update(pages, total, items)
    end
  end }, function() p.update(pages, total, items) end)
  p.clear()
  if not ok then error(err, 0) end
  if not started then w.begin() end
  w.finish()
  return 0
end

------------------------------------------------------------------------------
-- The summary.

local GROUPS = {
  { "country", function(s) return get(s, "location", "country") end },
  { "device_type", function(s) return get(s, "device", "type") end },
  { "os", function(s) return get(s, "os", "name") end },
  { "browser", function(s) return get(s, "client", "name") end },
  { "referrer_medium", function(s) return get(s, "referrer", "medium") end },
}
M.SUMMARY_GROUPS = {}
for i, g in ipairs(GROUPS) do M.SUMMARY_GROUPS[i] = g[1] end

local UNKNOWN = "(unknown)"

--- {value=count} -> array of {value, count}, by count descending then value.
local function ranked(counts)
  local list = {}
  for k, v in pairs(counts) do list[#list + 1] = { k, v } end
  table.sort(list, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] < b[1]
  end)
  return list
end

--- Median, mean and p90 (nearest rank) of an array of numbers (sorted here).
function M.duration_stats(d)
  local n = #d
  if n == 0 then return { count = 0 } end
  table.sort(d)
  local sum = 0
  for i = 1, n do sum = sum + d[i] end
  local median
  if n % 2 == 1 then median = d[(n + 1) / 2] else median = (d[n / 2] + d[n / 2 + 1]) / 2 end
  return { count = n, median = median, mean = sum / n, p90 = d[math.ceil(0.9 * n)] }
end

local function summarize(ctx)
  local client, o = ctx.client, ctx.o
  local opts = { period = o.period, page_size = o.page_size }
  if o.metadata then opts.metadata = o.metadata end
  local next_page = iterator(client, "video_session_pages", o.id, opts)
  local p = ctx.progress
  local counts, durations, ids = {}, {}, {}
  for _, g in ipairs(GROUPS) do counts[g[1]] = {} end

  -- 1. the sessions (pages prefetched by the iterator)
  p.phase("sessions", "page")
  local pages, total = 0, nil
  local ok, err = drive(client, { function()
    while true do
      local page = next_page()
      if not page then break end
      pages, total = pages + 1, page.pagination.pages_total
      for _, s in ipairs(page.data) do
        for _, g in ipairs(GROUPS) do
          local v = g[2](s)
          v = (v == nil or v == "") and UNKNOWN or tostring(v)
          counts[g[1]][v] = (counts[g[1]][v] or 0) + 1
        end
        local d = duration_of(s)
        if d then durations[#durations + 1] = d end
        ids[#ids + 1] = get(s, "session", "session_id") or false
      end
      p.update(pages, total, #ids)
    end
  end }, function() p.update(pages, total, #ids) end)
  p.clear()
  if not ok then error(err, 0) end

  -- 2. the events of every session, up to --concurrency sessions at once
  local events, events_total = {}, 0
  local next_index, done = 0, 0
  local function worker()
    while true do
      next_index = next_index + 1
      if next_index > #ids then return end
      local sid = ids[next_index]
      if sid then
        local next_events = iterator(client, "session_event_pages", sid, { page_size = o.page_size })
        while true do
          local page = next_events()
          if not page then break end
          for _, e in ipairs(page.data) do
            local t = e.type
            t = (t == nil or t == NULL or t == "") and UNKNOWN or tostring(t)
            events[t] = (events[t] or 0) + 1
            events_total = events_total + 1
          end
        end
      end
      done = done + 1
      p.update(done, #ids, events_total)
    end
  end
  local workers = {}
  for i = 1, math.min(o.concurrency, #ids) do workers[i] = worker end
  p.phase("events", "session")
  ok, err = drive(client, workers, function() p.update(done, #ids, events_total) end)
  p.clear()
  if not ok then error(err, 0) end

  local result = { sessions = #ids, groups = {}, duration = M.duration_stats(durations), events = ranked(events),
    events_total = events_total }
  for i, g in ipairs(GROUPS) do result.groups[i] = { g[1], ranked(counts[g[1]]) } end
  return result
end

--- Turns the summary into the chosen format.
local function write_summary(emit, o, r)
  local d = r.duration
  local DUR = { "count", "median", "mean", "p90" }
  if o.format == "json" then
    local obj = { video_id = o.id, period = o.period, sessions = r.sessions,
      duration_s = {}, events = { total = r.events_total, by_type = {} } }
    if o.metadata then obj.metadata = o.metadata end
    for _, g in ipairs(r.groups) do
      local t = {}
      for _, kv in ipairs(g[2]) do t[kv[1]] = kv[2] end
      obj[g[1]] = t
    end
    for _, k in ipairs(DUR) do obj.duration_s[k] = d[k] == nil and M.JSON_NULL or d[k] end
    for _, kv in ipairs(r.events) do obj.events.by_type[kv[1]] = kv[2] end
    emit(json_encode(obj, nil, function(n)
      local s = number_text(n)
      return s == "" and "null" or s
    end) .. "\n")
    return
  end
  local rows = { { "sessions", "total", r.sessions } }
  for _, g in ipairs(r.groups) do
    for _, kv in ipairs(g[2]) do rows[#rows + 1] = { g[1], kv[1], kv[2] } end
  end
  for _, k in ipairs(DUR) do rows[#rows + 1] = { "duration_s", k, d[k] } end
  for _, kv in ipairs(r.events) do rows[#rows + 1] = { "events", kv[1], kv[2] } end
  rows[#rows + 1] = { "events", "total", r.events_total }
  if o.format == "csv" then
    emit(M.csv_record({ "metric", "key", "value" }))
    for _, row in ipairs(rows) do
      emit(M.csv_record({ row[1], row[2], row[3] and number_text(row[3]) }, 3))
    end
  elseif o.format == "ndjson" then
    for _, row in ipairs(rows) do
      emit('{"metric":' .. json_string(row[1]) .. ',"key":' .. json_string(row[2]) .. ',"value":'
        .. (row[3] == nil and "null" or number_text(row[3])) .. "}\n")
    end
  else
    emit(string.format("Summary of video %s, period %s: %d sessions\n", o.id, o.period, r.sessions))
    local function section(title, list, vcol)
      emit("\n")
      local trows = {}
      for i, kv in ipairs(list) do trows[i] = { kv[1], kv[2] and number_text(kv[2]) } end
      render_table(emit, { { title }, { vcol, true } }, trows)
    end
    for _, g in ipairs(r.groups) do section(g[1], g[2], "sessions") end
    local drows = {}
    for i, k in ipairs(DUR) do drows[i] = { k, d[k] } end
    section("duration_s", drows, "value")
    local erows = {}
    for i, kv in ipairs(r.events) do erows[i] = kv end
    erows[#erows + 1] = { "total", r.events_total }
    section("event_type", erows, "events")
  end
end

------------------------------------------------------------------------------
-- main

local function run(o, streams, emit)
  local key = read_key(o, streams.getenv or os.getenv)
  local copts = { api_key = key, concurrency = o.concurrency, yield = coroutine.yield }
  if o.sandbox then copts.environment = "sandbox" end
  if o.base_url then copts.base_url = o.base_url end
  local ok, client = pcall(apivideo.new, copts)
  if not ok then usage_error(bare(client)) end
  local err_stream = streams.stderr or io.stderr
  local tty = streams.tty
  if tty == nil then tty = err_stream == io.stderr and stderr_is_tty() end
  local ctx = {
    client = client, o = o, emit = emit,
    progress = progress(err_stream, tty, clock(), streams.progress_interval_ms or 200),
  }
  local done, res = pcall(function()
    local cmd = o.command
    if cmd == "sessions" then
      return list_command(ctx, "video_session_pages", SESSION_COLUMNS, SESSION_TABLE, "sessions")
    elseif cmd == "live-sessions" then
      return list_command(ctx, "live_stream_session_pages", SESSION_COLUMNS, SESSION_TABLE, "sessions")
    elseif cmd == "events" then
      return list_command(ctx, "session_event_pages", EVENT_COLUMNS, nil, "events")
    end
    write_summary(emit, o, summarize(ctx))
    return 0
  end)
  client:close()
  if not done then error(res, 0) end
  return res
end

--- Runs the tool. argv: the arguments (like `arg`; argv[1] is the command);
-- streams (all optional): stdout, stderr (objects with :write), getenv
-- (function(name)), tty (boolean: show progress; default: is stderr a
-- terminal, when stderr is io.stderr). Returns the exit code.
function M.main(argv, streams)
  streams = streams or {}
  local out = streams.stdout or io.stdout
  local errs = streams.stderr or io.stderr
  local emit = emitter(out)
  local ok, res = pcall(function()
    local o = M.parse(argv or {})
    if o.help then
      emit(HELP)
      return 0
    end
    if o.version then
      emit(PROG .. " " .. tostring(apivideo._VERSION) .. "\n")
      return 0
    end
    return run(o, streams, emit)
  end)
  if out.flush then
    local flushed, ferr = out:flush()
    if ok and not flushed then ok, res = false, { write = tostring(ferr) } end
  end
  if ok then return res end
  if type(res) == "table" and res.usage then
    errs:write(PROG .. ": " .. res.usage .. "\n" .. USAGE .. "Try '" .. PROG .. " --help' for more.\n")
    return 2
  end
  if apivideo.is_error(res) then
    errs:write(tostring(res) .. "\n")
  elseif type(res) == "table" and res.write then
    errs:write(PROG .. ": write error: " .. res.write .. "\n")
  else
    errs:write(PROG .. ": internal error: " .. tostring(res) .. "\n")
  end
  return 1
end

return M
