--- The CLI's arguments: the options, their checks, and the help texts
-- (global and per command). Parsing raises `{usage = message}`; nothing is
-- sent before the arguments are all valid.
--
-- One rule for repeated options: every option may be given at most once
-- (`--video a --video b` is an error naming the option, even with the same
-- value), except `--metadata`, which is repeatable with a different KEY
-- each time (a session must match every pair, so one KEY cannot have two
-- values: a repeated KEY is an error naming it).
-- @module apivideo.cli.args
local calendar = require("apivideo.calendar")
local operations = require("apivideo.operations")
local time = require("apivideo.time")

local M = {}

M.PROG = "apivideo-analytics"

local ALL = "all"

--- The options, in help order. arg: the value's placeholder (nil: a flag);
-- cmds: the commands it applies to (ALL: every command).
local DATA = { metrics = true, buckets = true, timeseries = true }
local WINDOW = { metrics = true, buckets = true, timeseries = true, summary = true, report = true }
local function only(...)
  local t = {}
  for _, c in ipairs({ ... }) do t[c] = true end
  return t
end

M.OPTIONS = {
  { "video", "ID", only("sessions", "summary", "report"),
    "the video (required; with --from/--last in summary and report: only its data, filterBy media_id)" },
  { "live-stream", "ID", only("live-sessions", "report"), "the live stream (required)" },
  { "session", "ID", only("events"), "the player session (required)" },
  { "period", "P", only("sessions", "live-sessions", "summary", "report"),
    "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD (UTC days; required)" },
  { "metadata", "KEY=VALUE", only("sessions", "summary", "report"),
    "only sessions with this metadata pair; repeatable, a different KEY each time (AND)" },
  { "metric", "M", DATA, "what to count: play, start, end, impression, ... (required; see the list below)" },
  { "aggregation", "A", only("metrics"), "count, rate, total, average, sum, peak or live (required)" },
  { "breakdown", "B", only("buckets"),
    "media-id, media-type, continent, country, device-type, operating-system, browser or referrer (required)" },
  { "from", "TIME", WINDOW, "start of the time window: RFC 3339 (2023-12-05T00:00:00Z) or a date "
    .. "(2023-12-05: midnight UTC); default 1 day before --to" },
  { "to", "TIME", WINDOW, "end of the time window, exclusive: as --from (default now)" },
  { "last", "SPAN", WINDOW, "the window of SPAN ending now: N followed by s, m, h, d or w (30m, 24h, 7d); "
    .. "excludes --from and --to" },
  { "filter", "KEY=VALUE", DATA, "only the data of this dimension value (filterBy); repeatable: values of one "
    .. "KEY OR together, keys AND (media_type and tag take one value)" },
  { "unique", nil, DATA, "count a viewer once a day (metrics ccv, view; ccv-peak, ccv-average, view)" },
  { "view-duration", "D", DATA, "3s, 5s, 10s or 30s: how long a play must last to count as a view (metric view)" },
  { "interval", "I", only("timeseries"), "minute (windows of at most 60 minutes), hour or day (default: hour up "
    .. "to 2 days, else day)" },
  { "sort-by", "FIELD", only("buckets", "timeseries"),
    "buckets: metricValue or dimensionValue; timeseries: metricValue or emittedAt" },
  { "sort-order", "ORDER", only("buckets", "timeseries"), "asc or desc" },
  { "out", "FILE", only("report"), "where to write the HTML report (required)" },
  { "no-events", nil, only("summary", "report"), "skip the per-session event requests (no event counts)" },
  { "strict", nil, only("summary", "report"), "exit 1 when the events of any session could not be fetched" },
  { "format", "FORMAT", ALL, "table (default), csv (RFC 4180, CRLF), ndjson or json" },
  { "page-size", "N", ALL, "items per request, 1..100 (default 100)" },
  { "concurrency", "N", ALL, "requests in flight, 1..64 (default 4)" },
  { "sandbox", nil, ALL, "use https://sandbox.api.video" },
  { "base-url", "URL", ALL, "use another API root, such as a local stand-in (default: $APIVIDEO_BASE_URL)" },
  { "api-key-file", "FILE", ALL, "read the API key from the first line of FILE (default: $APIVIDEO_API_KEY)" },
  { "auth", "MODE", ALL, "bearer (default: a token from POST /auth/api-key) or basic (the key on every request)" },
  { "ca-file", "FILE", ALL, "trust the CA certificates in FILE (PEM); verification is always on" },
  { "allow-insecure-http", nil, ALL, "allow the key over plain http:// to a host that is not loopback" },
  { "timeout", "MS", ALL, "the whole of one request, in milliseconds, 1..2147483647 (default 30000)" },
  { "max-retries", "N", ALL, "retries of 429, 5xx, network failures and timeouts, 0..100 (default 3)" },
}
local BY_NAME = {}
for _, opt in ipairs(M.OPTIONS) do BY_NAME[opt[1]] = opt end
-- options of every command but these
local NOT_FOR = { format = { report = true }, ["page-size"] = { metrics = true } }

M.COMMANDS = { "sessions", "live-sessions", "events", "summary", "metrics", "buckets", "timeseries", "report" }
local KNOWN = {}
for _, c in ipairs(M.COMMANDS) do KNOWN[c] = true end

-- The options each command needs (summary and report: see check_modes).
local REQUIRED = {
  sessions = { "video", "period" },
  ["live-sessions"] = { "live-stream", "period" },
  events = { "session" },
  summary = {},
  metrics = { "metric", "aggregation" },
  buckets = { "metric", "breakdown" },
  timeseries = { "metric" },
  report = { "out" },
}

local SESSION_COLUMNS_HELP = [[
Output:
  table   session_id, loaded_at, duration_s, country, city, device_type,
          os_name, browser, referrer_medium, metadata
  csv     session_id, loaded_at, ended_at, duration_s, country, city,
          device_type, device_vendor, device_model, os_name, os_shortname,
          os_version, client_type, browser, client_version, referrer_url,
          referrer_medium, referrer_source, search_term, metadata
  ndjson  one session object per line, as the library gives it:
          {"session":{"session_id","loaded_at","ended_at","metadata"},
           "location":{"country","city"}, "referrer":{"url","medium","source",
           "search_term"}, "device":{"type","vendor","model"},
           "os":{"name","shortname","version"}, "client":{"type","name","version"}}
  json    one array of those objects
  metadata is [{"key":K,"value":V},...] in every format (the same JSON text in
  the csv/table column), [] when the session has none. duration_s: seconds
  from loaded_at to ended_at. Timestamps are printed as the API sends them.
]]

M.HELP = {
  sessions = [[
Usage: apivideo-analytics sessions --video ID --period P [OPTIONS]
The player sessions of a video, one row per session, in the API's order.
]] .. SESSION_COLUMNS_HELP .. [[
Examples:
  apivideo-analytics sessions --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01
  apivideo-analytics sessions --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023 \
      --metadata plan=pro --metadata country=fr --format csv > sessions.csv
]],
  ["live-sessions"] = [[
Usage: apivideo-analytics live-sessions --live-stream ID --period P [OPTIONS]
The player sessions of a live stream, one row per session.
]] .. SESSION_COLUMNS_HELP .. [[
Examples:
  apivideo-analytics live-sessions --live-stream li400mYKSgQ6xs7taUeSaEKr --period 2023-W05
  apivideo-analytics live-sessions --live-stream li400mYKSgQ6xs7taUeSaEKr --period 2023 --format ndjson
]],
  events = [[
Usage: apivideo-analytics events --session ID [OPTIONS]
The events of one player session, in the API's order.
Output:
  table, csv  type, emitted_at, at, from, to (at: the position in seconds of
              ready/play/pause/resume/end; from/to: the positions of a seek)
  ndjson      one {"type","emitted_at","at","from","to"} object per line
  json        one array of those objects
Examples:
  apivideo-analytics events --session psEmFwGQUAXR2lFHj5nDOpy
  apivideo-analytics events --session psEmFwGQUAXR2lFHj5nDOpy --format csv
]],
  summary = [[
Usage: apivideo-analytics summary --video ID --period P [OPTIONS]
       apivideo-analytics summary [--video ID] --from TIME [--to TIME] | --last SPAN [OPTIONS]
With --period: the video's sessions are walked (every page), then the events
of every session (up to --concurrency sessions at once; --no-events skips
them). Sessions counted by country, device type, OS, browser and referrer
medium; session duration in seconds (count, median, mean, p90 by nearest
rank, from loaded_at to ended_at); events counted by type. A session whose
events cannot be fetched is left out of the event counts and named on
stderr; the output says how many were left out. The exit status is 0 unless
--strict is given (then 1), or no session's events could be fetched.
With --from/--to or --last (no --period): the /data operations answer in a
few requests whatever the number of sessions (the whole account, or the
video given, as filterBy media_id): plays, impressions, play rate, ends,
watch time (sum, average), and plays by country, device type, OS, browser,
referrer URL (and media id for the whole account). There is no referrer
medium, no duration distribution and no event types there: use --period.
In a terminal (table format), the breakdowns are drawn as bars.
Output (--period):
  table   a title line, then one section per figure (bars in a terminal)
  csv     metric,key,value rows: sessions,total,N; country,<name>,N; ...;
          duration_s,count|median|mean|p90,N; events,fetched,1|0;
          events,sessions_counted,N; events,sessions_left_out,N;
          events,<type>,N; events,total,N (empty with --no-events)
  ndjson  the same rows as {"metric","key","value"} objects
  json    {"video_id","period","metadata":[{"key","value"}],"sessions",
           "country":{NAME:N},"device_type":{},"os":{},"browser":{},
           "referrer_medium":{},"duration_s":{"count","median","mean","p90"},
           "events":{"fetched","total","by_type":{TYPE:N},"sessions_counted",
                     "sessions_left_out","left_out":[SESSION_ID]}}
  A missing value counts as "(unknown)". With --no-events: fetched false,
  total and by_type null.
Output (--from/--to, --last):
  csv     metric,key,value rows: plays,total,N; impressions,total,N;
          play_rate,total,X; ends,total,N; watch_time_s,sum|average,X;
          country,<code>,N; device_type,..; os,..; browser,..; referrer,..;
          media_id,<id>,N (whole account only)
  ndjson  the same rows as {"metric","key","value"} objects
  json    {"video_id","from","to","plays","impressions","play_rate","ends",
           "watch_time_s":{"sum","average"},"country":{CODE:N},"device_type":{},
           "os":{},"browser":{},"referrer":{URL:N},"media_id":{ID:N}}
  from/to are ATOM date-times (UTC); an empty referrer is a play without one.
Examples:
  apivideo-analytics summary --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01
  apivideo-analytics summary --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023 --no-events --format json
  apivideo-analytics summary --last 7d
  apivideo-analytics summary --video vi4k0jvEUuaTdRAEjQ4Prklg --from 2024-05-01 --to 2024-05-08 --format csv
]],
  metrics = [[
Usage: apivideo-analytics metrics --metric M --aggregation A [OPTIONS]
One aggregated figure over a time window (GET /data/metrics/M/A).
Metrics and their aggregations:
  play (count, rate, total), start, end, impression (count),
  impression-time, watch-time (average, sum), ccv (peak, live), view (count)
play/total counts all time and only takes --filter media_id and media_type.
--unique: ccv and view only; --view-duration: view only.
Output:
  table, csv  metric, aggregation, from, to, value (metric and the window as
              the API echoes them: view as view-5, --unique as unique-...)
  ndjson      one {"context":{"metric","aggregation","timeframe":{"from",
              "to"}},"data":VALUE} object, as the library gives it
  json        the same object
Examples:
  apivideo-analytics metrics --metric play --aggregation count --last 7d
  apivideo-analytics metrics --metric watch-time --aggregation average \
      --from 2024-05-01 --to 2024-05-08 --filter country=FR --filter country=DE
  apivideo-analytics metrics --metric view --aggregation count --unique --view-duration 10s --format json
]],
  buckets = [[
Usage: apivideo-analytics buckets --metric M --breakdown B [OPTIONS]
A metric broken down by a dimension, one row per dimension value
(GET /data/buckets/M/B, every page).
Metrics: play, play-rate, play-total (breakdown media-id only, --filter
media_id and media_type only), start, end, impression, ccv-peak,
ccv-average, view. Breakdowns: media-id, media-type, continent, country,
device-type, operating-system, browser, referrer.
Output:
  table, csv  dimension_value, metric_value
  ndjson      one {"dimension_value","metric_value"} object per line
  json        one array of those objects
  The API's order (default: metric_value descending); --sort-by and
  --sort-order change it.
Examples:
  apivideo-analytics buckets --metric play --breakdown country --last 30d
  apivideo-analytics buckets --metric play-rate --breakdown browser --from 2024-05-01T00:00:00Z \
      --to 2024-05-02T00:00:00Z --filter media_type=video --format csv
]],
  timeseries = [[
Usage: apivideo-analytics timeseries --metric M [OPTIONS]
A metric over time, one row per interval that has data
(GET /data/timeseries/M, every page).
Metrics: play, play-rate, start, end, impression, ccv-peak, ccv-average,
view. --interval minute needs a window of at most 60 minutes.
Output:
  table, csv  emitted_at, metric_value (emitted_at: the interval's start, as
              the API sends it)
  ndjson      one {"emitted_at","metric_value"} object per line
  json        one array of those objects
Examples:
  apivideo-analytics timeseries --metric play --last 7d --interval day
  apivideo-analytics timeseries --metric ccv-peak --last 30m --interval minute --format ndjson
]],
  report = [[
Usage: apivideo-analytics report --video ID --period P --out FILE [OPTIONS]
       apivideo-analytics report --live-stream ID --period P --out FILE [OPTIONS]
       apivideo-analytics report [--video ID] --from TIME [--to TIME] | --last SPAN --out FILE
Writes one self-contained HTML report (inline CSS and SVG, no script, loads
nothing when opened) and prints its path on stdout.
With --period: the sessions are walked, then their events (--no-events skips
them): sessions over time (from loaded_at), sessions by country, device
type, OS, browser and referrer medium, the distribution of session
durations (median and p90 marked), the event funnel (ready, play,
pause/seek, end: sessions that emitted each), events by type; the footer
lists the sessions whose events could not be fetched.
With --from/--to or --last: the /data operations (the whole account, or the
video as filterBy media_id): plays over time (GET /data/timeseries/play, at
the API's interval), plays by country, device type, OS and browser
(GET /data/buckets/play/...). No durations, funnel or event types there.
Examples:
  apivideo-analytics report --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01 --out report.html
  apivideo-analytics report --live-stream li400mYKSgQ6xs7taUeSaEKr --period 2023-W05 --out live.html
  apivideo-analytics report --last 7d --out account.html
]],
}

M.GLOBAL_HELP = [[
apivideo-analytics: api.video Analytics from the command line.

Usage: apivideo-analytics COMMAND [OPTIONS]
       apivideo-analytics COMMAND --help     (that command's options, output, examples)

Commands:
  sessions       --video ID --period P          the player sessions of a video
  live-sessions  --live-stream ID --period P    the player sessions of a live stream
  events         --session ID                   the events of one player session
  summary        --video ID --period P          counts, durations and event types
                 [--video ID] --from T | --last S  the same from the /data operations
  metrics        --metric M --aggregation A     one aggregated figure (/data/metrics)
  buckets        --metric M --breakdown B       a metric by dimension (/data/buckets)
  timeseries     --metric M                     a metric over time (/data/timeseries)
  report         --video ID --period P --out F  an HTML report with charts

Every option may be given at most once, except --metadata KEY=VALUE, which
may be repeated with a different KEY each time (sessions must match every pair),
and --filter KEY=VALUE (values of one KEY OR together; media_type and tag
take one value).
Periods are UTC calendar days, weeks, months and years (the API's rule);
--from/--to are RFC 3339 date-times or dates (midnight UTC); --last 7d is
the 7 days ending now. Timestamps are printed as the API sends them.
The API key comes from $APIVIDEO_API_KEY or --api-key-file FILE; it is never
printed. Progress goes to stderr, only when it is a terminal; stdout carries
data only. Exit status: 0 ok, 1 API or network error (or, for summary,
sessions left out with --strict), 2 usage error.
]]

local function options_text(cmd)
  local lines = { "Options:" }
  for _, opt in ipairs(M.OPTIONS) do
    local applies = opt[3] == ALL or (cmd and opt[3][cmd]) or not cmd
    if applies and not (cmd and NOT_FOR[opt[1]] and NOT_FOR[opt[1]][cmd]) then
      local left = "  --" .. opt[1] .. (opt[2] and " " .. opt[2] or "")
      if #left > 25 then
        lines[#lines + 1] = left
        left = ""
      end
      lines[#lines + 1] = left .. string.rep(" ", 26 - #left) .. opt[4]
    end
  end
  lines[#lines + 1] = "  -h, --help              this help"
  if not cmd then lines[#lines + 1] = "  --version               the version" end
  return table.concat(lines, "\n") .. "\n"
end

--- The help of cmd (nil: the global help).
function M.help(cmd)
  if cmd then return M.HELP[cmd] .. options_text(cmd) end
  return M.GLOBAL_HELP .. "\n" .. options_text(nil)
end

--- The short usage shown after a usage error.
function M.usage(cmd)
  if cmd and M.HELP[cmd] then
    return M.HELP[cmd]:match("^[^\n]*\n") .. "Try '" .. M.PROG .. " " .. cmd .. " --help' for more.\n"
  end
  return "Usage: " .. M.PROG .. " COMMAND [OPTIONS]   (COMMAND: " .. table.concat(M.COMMANDS, ", ")
    .. ")\nTry '" .. M.PROG .. " --help' for more.\n"
end

local function usage_error(msg)
  error({ usage = msg }, 0)
end
M.usage_error = usage_error

local function parse_int(name, v, min, max, unit)
  local n = tonumber(v)
  if not v:match("^%d+$") or not n or n < min or n > max then
    usage_error(string.format("--%s must be %s from %d to %d, got '%s'", name, unit or "an integer", min, max, v))
  end
  return math.floor(n)
end

--- Why a file cannot be used, or nil when it can be read. what: "the API key file".
function M.file_problem(what, path)
  local f, _, code = io.open(path, "r")
  if not f then
    if code == 2 then return what .. " '" .. path .. "' does not exist" end
    if code == 13 then return what .. " '" .. path .. "' cannot be read (permission denied)" end
    return what .. " '" .. path .. "' cannot be opened (error " .. tostring(code) .. ")"
  end
  local ok, _, rcode = f:read(0)
  f:close()
  if ok == nil and rcode == 21 then return what .. " '" .. path .. "' is a directory, not a file" end
  return nil
end

local function find_command(argv)
  for _, a in ipairs(argv) do
    if KNOWN[a] then return a end
  end
  return nil
end

M.command_of = find_command

--- argv (an `arg`-like array) -> options table, or raises {usage = msg}.
-- o.help: true (global help) or a command name; o.version: true.
local FILTER_SPEC = {}
local FILTER_NAMES = {}
for i, k in ipairs(operations.FILTER_KEYS) do
  FILTER_SPEC[k.key] = k
  FILTER_NAMES[i] = k.key
end

local TWICE = " given twice (every option but --metadata and --filter is given at most once)"

--- One --filter KEY=VALUE into o.filter (the library's filter_by): an array
-- key accumulates values, a string key (media_type, tag) takes one.
local function add_filter(o, v)
  local k, val = v:match("^([^=]+)=(.*)$")
  if not k then usage_error("--filter expects KEY=VALUE with a non-empty KEY, got '" .. v .. "'") end
  local spec = FILTER_SPEC[k]
  if not spec then
    usage_error("--filter: unknown key '" .. k .. "' (the keys are " .. table.concat(FILTER_NAMES, ", ") .. ")")
  end
  o.filter = o.filter or {}
  local f = o.filter
  if spec.shape == "string" then
    if f[k] ~= nil then usage_error("--filter key '" .. k .. "' given twice (" .. k .. " takes one value)") end
    f[k] = val
  else
    f[k] = f[k] or {}
    for _, x in ipairs(f[k]) do
      if x == val then usage_error("--filter " .. k .. "=" .. val .. " given twice") end
    end
    f[k][#f[k] + 1] = val
  end
end

--- A --from/--to value -> seconds since the epoch (UTC): an RFC 3339
-- date-time, or a date YYYY-MM-DD meaning its midnight UTC.
function M.parse_time(name, v)
  if v:match("^%d%d%d%d%-%d%d%-%d%d$") then
    local y, m, d = calendar.date(v)
    if not y then usage_error("bad --" .. name .. " (" .. tostring(m) .. "; got '" .. v .. "')") end
    return calendar.days_from_civil(y, m, d) * 86400
  end
  local secs, why = time.parse(v)
  if not secs then
    usage_error("bad --" .. name .. " (" .. why .. "; or a date such as 2023-12-05, meaning midnight UTC)")
  end
  return secs
end

local SPAN_UNITS = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
local MAX_SPAN = 10 * 366 * 86400

--- A --last value ("30m", "24h", "7d") -> seconds.
function M.parse_span(v)
  local n, unit = v:match("^(%d+)([smhdw])$")
  local secs = n and tonumber(n) * SPAN_UNITS[unit]
  if not secs or secs < 1 or secs > MAX_SPAN then
    usage_error("bad --last (a number and a unit s, m, h, d or w, such as 30m, 24h or 7d, "
      .. "at most 10 years, expected; got '" .. v .. "')")
  end
  return secs
end

--- The checks of summary and report, which have two modes: --period (the
-- sessions walk) or --from/--to/--last (the /data operations).
local function check_modes(cmd, values)
  local window = values.from or values.to or values.last
  if values.period and window then
    usage_error("--period and --" .. (values.from and "from" or values.to and "to" or "last")
      .. " exclude each other (--period walks the sessions; --from/--to/--last use the /data operations)")
  end
  if values.video and values["live-stream"] then usage_error("--video and --live-stream exclude each other") end
  if values.period then
    if not (values.video or values["live-stream"]) then
      usage_error("'" .. cmd .. "' needs --video" .. (cmd == "report" and " or --live-stream" or ""))
    end
    return "sessions"
  end
  if not (values.from or values.last) then
    usage_error("'" .. cmd .. "' needs --period (or --from/--last for the /data operations)")
  end
  for _, name in ipairs({ "metadata", "no-events", "strict" }) do
    if values[name] then
      usage_error("option --" .. name .. " does not apply to '" .. cmd .. "' with --from/--to/--last "
        .. "(the /data operations have no sessions, events or metadata)")
    end
  end
  return "data"
end

function M.parse(argv)
  local o = { metadata = nil, format = "table", page_size = 100, concurrency = 4 }
  local values, seen = {}, {}
  local i, n = 1, #argv
  -- --help anywhere wins: the help of the command given, or the global help
  for _, a in ipairs(argv) do
    if a == "-h" or a == "--help" then
      local cmd = find_command(argv)
      o.help = cmd or true
      return o
    end
  end
  local function take(name, inline)
    if inline ~= nil then return inline end
    local v = argv[i + 1]
    if v == nil or v:sub(1, 2) == "--" then usage_error("option --" .. name .. " needs a value") end
    i = i + 1
    return v
  end
  while i <= n do
    local a = argv[i]
    if a == "--" then
      if argv[i + 1] ~= nil then usage_error("unexpected argument '" .. tostring(argv[i + 1]) .. "'") end
    elseif a:sub(1, 2) == "--" then
      local name, inline = a:sub(3):match("^([^=]*)=(.*)$")
      if not name then name = a:sub(3) end
      local opt = BY_NAME[name]
      if name == "version" then
        if inline ~= nil then usage_error("option --version takes no value") end
        o.version = true
      elseif not opt then
        -- the name only: whatever follows '=' might be a secret
        usage_error("unknown option '--" .. name .. "'")
      elseif opt[2] then
        local v = take(name, inline)
        if name == "metadata" then
          local k, val = v:match("^([^=]+)=(.*)$")
          if not k then usage_error("--metadata expects KEY=VALUE with a non-empty KEY, got '" .. v .. "'") end
          o.metadata = o.metadata or {}
          if o.metadata[k] ~= nil then
            usage_error("--metadata key '" .. k .. "' given twice (a session has one value per key)")
          end
          o.metadata[k] = val
        elseif name == "filter" then
          add_filter(o, v)
        elseif seen[name] then
          usage_error("option --" .. name .. TWICE)
        end
        seen[name] = true
        values[name] = v
      else
        if inline ~= nil then usage_error("option --" .. name .. " takes no value") end
        if seen[name] then usage_error("option --" .. name .. TWICE) end
        seen[name] = true
        values[name] = true
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option '" .. a:sub(1, 2) .. "'")
    elseif o.command == nil then
      if a == "help" then
        o.help = true
        local nxt = argv[i + 1]
        if nxt and KNOWN[nxt] then o.help = nxt end
        return o
      end
      o.command = a
    else
      usage_error("unexpected argument '" .. a .. "'")
    end
    i = i + 1
  end
  if o.version then return o end
  local cmd = o.command
  if cmd == nil then usage_error("missing command") end
  if not KNOWN[cmd] then usage_error("unknown command '" .. cmd .. "'") end
  for name in pairs(values) do
    local scope = BY_NAME[name][3]
    if (scope ~= ALL and not scope[cmd]) or (NOT_FOR[name] and NOT_FOR[name][cmd]) then
      usage_error("option --" .. name .. " does not apply to '" .. cmd .. "'")
    end
  end
  if cmd == "summary" or cmd == "report" then o.mode = check_modes(cmd, values) end
  for _, name in ipairs(REQUIRED[cmd]) do
    if values[name] == nil or values[name] == "" then
      usage_error("'" .. cmd .. "' needs --" .. name)
    end
  end
  o.id = values.video or values["live-stream"] or values.session
  o.kind = values["live-stream"] and "live-stream" or "video"
  o.period = values.period
  if values.last and (values.from or values.to) then
    usage_error("--last and --" .. (values.from and "from" or "to") .. " exclude each other (--last ends now)")
  end
  if values.from then o.from = M.parse_time("from", values.from) end
  if values.to then o.to = M.parse_time("to", values.to) end
  if values.last then o.last = M.parse_span(values.last) end
  o.metric, o.aggregation, o.breakdown = values.metric, values.aggregation, values.breakdown
  o.unique = values.unique
  -- their values are the library's to check (its message names them)
  o.view_duration, o.interval = values["view-duration"], values.interval
  o.sort_by, o.sort_order = values["sort-by"], values["sort-order"]
  if values.out == "" then usage_error("--out needs a file name") end
  o.out = values.out
  if values.format then
    if not ({ table = true, csv = true, ndjson = true, json = true })[values.format] then
      usage_error("--format must be table, csv, ndjson or json, got '" .. values.format .. "'")
    end
    o.format = values.format
  end
  if values["page-size"] then o.page_size = parse_int("page-size", values["page-size"], 1, 100) end
  if values.concurrency then o.concurrency = parse_int("concurrency", values.concurrency, 1, 64) end
  if values.timeout then
    o.timeout_ms = parse_int("timeout", values.timeout, 1, 2147483647, "a whole number of milliseconds")
  end
  if values["max-retries"] then o.max_retries = parse_int("max-retries", values["max-retries"], 0, 100) end
  if values.auth then
    if values.auth ~= "basic" and values.auth ~= "bearer" then
      usage_error("--auth must be basic or bearer, got '" .. values.auth .. "'")
    end
    o.auth = values.auth
  end
  o.sandbox = values.sandbox
  if o.sandbox and values["base-url"] then usage_error("--sandbox and --base-url exclude each other") end
  o.base_url = values["base-url"]
  o.allow_insecure_http = values["allow-insecure-http"]
  o.no_events = values["no-events"]
  o.strict = values.strict
  for _, f in ipairs({ { "api-key-file", "the API key file" }, { "ca-file", "the CA file" } }) do
    local path = values[f[1]]
    if path then
      if path == "" then usage_error("--" .. f[1] .. " needs a file name") end
      local problem = M.file_problem(f[2], path)
      if problem then usage_error("--" .. f[1] .. ": " .. problem) end
    end
  end
  o.api_key_file = values["api-key-file"]
  o.ca_file = values["ca-file"]
  return o
end

--- The API key: --api-key-file (first line, trimmed) or APIVIDEO_API_KEY.
function M.read_key(o, getenv)
  local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
  if o.api_key_file then
    local problem = M.file_problem("the API key file", o.api_key_file)
    if problem then usage_error("--api-key-file: " .. problem) end
    local f = assert(io.open(o.api_key_file, "r"))
    local line = f:read("*l")
    f:close()
    local key = line and trim(line) or ""
    if key == "" then
      usage_error("--api-key-file: the API key file '" .. o.api_key_file .. "' has an empty first line")
    end
    return key
  end
  local key = getenv("APIVIDEO_API_KEY")
  key = key and trim(key) or ""
  if key == "" then usage_error("no API key: set APIVIDEO_API_KEY or use --api-key-file FILE") end
  return key
end

return M
