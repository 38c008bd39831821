--- The CLI's vocabulary, as data: its commands and its options. The parser
-- (apivideo.cli.args) and the help (apivideo.cli.help) both read these rows;
-- nothing here runs.
--
-- An option row: `name` (the flag without `--`), `placeholder` (the value's
-- name in the help; nil for a flag that takes no value), `commands` (the
-- commands it applies to: ALL or a set), `except` (commands of ALL it does
-- not apply to), `help` (its line in the help) and `help_for` (another line
-- for some commands). How the parser reads it: `field` (its place in the
-- options table), `read` (how its text becomes the value: "integer" within
-- `min`..`max` (`unit` names it), "choice" among `choices`, "time", "span",
-- "zone" (apivideo.tz; before "time": a date is midnight in it),
-- "file" (must be readable: `what` names it), "file_name" (not empty); nil:
-- the text itself, or true for a flag), `default`, and `add` for the two
-- repeatable options ("metadata", "filter"). The three ids (--video,
-- --live-stream, --session) have no field: they make `o.id` and `o.kind`.
-- @module apivideo.cli.options
local M = {}

M.PROG = "apivideo-analytics"

--- Every command.
M.ALL = "all"
local ALL = M.ALL

local function only(...)
  local t = {}
  for _, c in ipairs({ ... }) do t[c] = true end
  return t
end
local DATA = only("metrics", "buckets", "timeseries")
local FILTERED = only("metrics", "buckets", "timeseries", "archive")
local WINDOW = only("metrics", "buckets", "timeseries", "summary", "report")

--- The commands, in help order; `required`: the options each needs (summary
-- and report: their two modes are checked apart, see apivideo.cli.args).
M.COMMANDS = {
  { name = "sessions", required = { "video", "period" } },
  { name = "live-sessions", required = { "live-stream", "period" } },
  { name = "events", required = { "session" } },
  { name = "summary", required = {}, modes = true },
  { name = "metrics", required = { "metric", "aggregation" } },
  { name = "buckets", required = { "metric", "breakdown" } },
  { name = "timeseries", required = { "metric" } },
  { name = "report", required = { "out" }, modes = true },
  { name = "archive", required = { "db" } },
}

--- The options, in help order.
M.OPTIONS = {
  { name = "video", placeholder = "ID", commands = only("sessions", "summary", "report", "archive"),
    help = "the video (sessions, or summary/report with --period: required; with --from/--last: only its data, "
      .. "filterBy media_id)",
    help_for = {
      sessions = "the video (required)",
      summary = "the video (required with --period; with --from/--last: only its data, filterBy media_id)",
      report = "the video (or --live-stream: one is required with --period; with --from/--last: only its data, "
        .. "filterBy media_id)",
      archive = "also archive the video's sessions in --period, and each session's events",
    } },
  { name = "live-stream", placeholder = "ID", commands = only("live-sessions", "report", "archive"),
    help = "the live stream (required)",
    help_for = {
      archive = "also archive the live stream's sessions in --period, and each session's events",
      report = "the live stream (or --video: one is required with --period; with --from/--last: only its data, "
        .. "filterBy media_id)",
    } },
  { name = "session", placeholder = "ID", commands = only("events"), help = "the player session (required)" },
  { name = "period", placeholder = "P", field = "period",
    commands = only("sessions", "live-sessions", "summary", "report", "archive"),
    help = "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD, sent as written (api.video does not "
      .. "document in which time zone it reads them); required",
    help_for = {
      summary = "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD, sent as written (api.video does "
        .. "not document in which time zone it reads them); or a window: --from/--to, --last",
      report = "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD, sent as written (api.video does "
        .. "not document in which time zone it reads them); or a window: --from/--to, --last",
      archive = "the period of --video or --live-stream's sessions (required with them): YYYY-MM-DD, YYYY-Www, "
        .. "YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD",
    } },
  { name = "metadata", placeholder = "KEY=VALUE", add = "metadata", commands = only("sessions", "summary", "report"),
    help = "only sessions with this metadata pair; repeatable, a different KEY each time (AND)" },
  { name = "metric", placeholder = "M", field = "metric", commands = DATA,
    help = "what to count: play, start, end, impression, ... (required; COMMAND --help lists them)",
    help_for = {
      metrics = "what to count (required; the metrics are listed above)",
      buckets = "what to count (required; the metrics are listed above)",
      timeseries = "what to count (required; the metrics are listed above)",
    } },
  { name = "aggregation", placeholder = "A", field = "aggregation", commands = only("metrics"),
    help = "count, rate, total, average, sum, peak or live (required)" },
  { name = "breakdown", placeholder = "B", field = "breakdown", commands = only("buckets"),
    help = "media-id, media-type, continent, country, device-type, operating-system, browser or referrer (required)" },
  { name = "db", placeholder = "TARGET", field = "db", read = "target",
    commands = only("archive", "summary", "report", "timeseries"),
    help = "the archive: a SQLite file, or postgresql://user:password@host:port/database",
    help_for = {
      archive = "where to archive: a SQLite file (created if need be), or "
        .. "postgresql://user:password@host:port/database (required)",
      summary = "read the window from this archive (SQLite file or postgresql:// URL) instead of the API: "
        .. "any length, with the previous period beside it",
      report = "draw the window from this archive (SQLite file or postgresql:// URL) instead of the API: any length",
      timeseries = "print what this archive (SQLite file or postgresql:// URL) holds instead of asking the API",
    } },
  { name = "metrics", placeholder = "LIST", field = "metrics", read = "list", commands = only("archive"),
    help = "the time series to archive, comma-separated (default play,start,end,impression,view)" },
  { name = "breakdowns", placeholder = "LIST", field = "breakdowns", read = "list", commands = only("archive"),
    help = "the daily breakdowns of plays to archive, comma-separated (default "
      .. "media-id,country,device-type,operating-system,browser,referrer)" },
  { name = "lag", placeholder = "SPAN", field = "lag", read = "span", commands = only("archive"),
    help = "how far before its cursor each run fetches again, as --last (default 1d: the newest figures still "
      .. "move)" },
  { name = "since", placeholder = "TIME", field = "since", read = "time", commands = only("archive"),
    help = "where a stream's first run starts, as --from (default and earliest: the API's retention, 30 days)" },
  { name = "dry-run", field = "dry_run", commands = only("archive"),
    help = "print the requests a run would make, write nothing (one request asks the API's clock)" },
  { name = "busy-timeout", placeholder = "MS", field = "busy_timeout_ms", read = "integer", min = 0,
    max = 2147483647, unit = "a whole number of milliseconds", commands = only("archive"),
    help = "how long to wait for another run on the same archive before giving up, in milliseconds "
      .. "(default 30000)" },
  { name = "tz", placeholder = "ZONE", field = "tz", read = "zone", commands = ALL, except = only("archive"),
    help = "the time zone of --from/--to dates, of the times tables and csv print and of the report: an IANA name "
      .. "(Europe/Paris, from the system's zoneinfo), +hh:mm or UTC (default UTC; not with --db but in report)",
    help_for = {
      sessions = "the time zone table and csv print loaded_at and ended_at in: an IANA name (Europe/Paris), "
        .. "+hh:mm or UTC (default: as the API sends them)",
      ["live-sessions"] = "the time zone table and csv print loaded_at and ended_at in: an IANA name "
        .. "(Europe/Paris), +hh:mm or UTC (default: as the API sends them)",
      events = "the time zone table and csv print emitted_at in: an IANA name (Europe/Paris), +hh:mm or UTC "
        .. "(default: as the API sends them)",
    } },
  { name = "from", placeholder = "TIME", field = "from", read = "time", commands = WINDOW,
    help = "start of the time window: RFC 3339 (2023-12-05T00:00:00Z) or a date (2023-12-05: midnight UTC, or "
      .. "in --tz); "
      .. "default 1 day before --to" },
  { name = "to", placeholder = "TIME", field = "to", read = "time", commands = WINDOW,
    help = "end of the time window, exclusive: as --from (default now)" },
  { name = "last", placeholder = "SPAN", field = "last", read = "span", commands = WINDOW,
    help = "the window of SPAN ending now: N followed by s, m, h, d or w (30m, 24h, 7d); excludes --from and --to" },
  { name = "filter", placeholder = "KEY=VALUE", add = "filter", commands = FILTERED,
    help = "only the data of this dimension value (filterBy); repeatable: values of one KEY OR together, keys AND "
      .. "(media_type and tag take one value)" },
  { name = "unique", field = "unique", commands = DATA,
    help = "count a viewer once a day (metrics ccv, view; ccv-peak, ccv-average, view)" },
  { name = "view-duration", placeholder = "D", field = "view_duration", commands = DATA,
    help = "3s, 5s, 10s or 30s: how long a play must last to count as a view (metric view)" },
  { name = "interval", placeholder = "I", field = "interval", commands = only("timeseries", "archive"),
    help = "minute (windows of at most 60 minutes), hour or day (default: hour up to 2 days, else day)",
    help_for = { archive = "hour (default) or day: the buckets of the time series" } },
  { name = "sort-by", placeholder = "FIELD", field = "sort_by", commands = only("buckets", "timeseries"),
    help = "buckets: metricValue or dimensionValue; timeseries: metricValue or emittedAt" },
  { name = "sort-order", placeholder = "ORDER", field = "sort_order", commands = only("buckets", "timeseries"),
    help = "asc or desc" },
  { name = "chart", field = "chart", commands = only("buckets", "timeseries"),
    help = "draw a chart instead of the table, as wide as $COLUMNS (else the terminal, else 80); not with another "
      .. "--format",
    help_for = {
      buckets = "draw one bar per value, largest first, with its value, instead of the table (see above); not "
        .. "with another --format",
      timeseries = "draw a bar per point over a value axis and UTC times, instead of the table (see above); not "
        .. "with another --format",
    } },
  { name = "out", placeholder = "FILE", field = "out", read = "file_name", commands = only("report"),
    help = "where to write the HTML report (required)" },
  { name = "input", placeholder = "FILE", field = "input", read = "file", what = "the dump", commands = only("report"),
    help = "draw the report from FILE, what 'sessions' (or 'live-sessions') wrote with --format json or ndjson for "
      .. "the same --video (or --live-stream) and --period, instead of fetching: nothing is sent, no API key is "
      .. "needed, no events (as --no-events)" },
  { name = "no-events", field = "no_events", commands = only("summary", "report"),
    help = "skip the per-session event requests (no event counts)" },
  { name = "strict", field = "strict", commands = only("summary", "report"),
    help = "exit 1 when the events of any session could not be fetched" },
  { name = "format", placeholder = "FORMAT", field = "format", read = "choice",
    choices = { "table", "csv", "ndjson", "json" }, default = "table", commands = ALL,
    except = only("report", "archive"),
    help = "table (default), csv (RFC 4180, CRLF), ndjson or json" },
  { name = "page-size", placeholder = "N", field = "page_size", read = "integer", min = 1, max = 100, default = 100,
    commands = ALL, except = only("metrics", "archive"),
    help = "items per request, 1..100 (default 100)" },
  { name = "concurrency", placeholder = "N", field = "concurrency", read = "integer", min = 1, max = 64,
    default = 4, commands = ALL, help = "requests in flight, 1..64 (default 4)" },
  { name = "sandbox", field = "sandbox", commands = ALL, help = "use https://sandbox.api.video" },
  { name = "base-url", placeholder = "URL", field = "base_url", commands = ALL,
    help = "use another API root, such as a local stand-in (default: $APIVIDEO_BASE_URL)" },
  { name = "api-key-file", placeholder = "FILE", field = "api_key_file", read = "file", what = "the API key file",
    commands = ALL,
    help = "read the API key from the first line of FILE (default: $APIVIDEO_API_KEY)" },
  { name = "auth", placeholder = "MODE", field = "auth", read = "choice", choices = { "basic", "bearer" },
    commands = ALL,
    help = "bearer (default: a token from POST /auth/api-key) or basic (the key on every request)" },
  { name = "ca-file", placeholder = "FILE", field = "ca_file", read = "file", what = "the CA file", commands = ALL,
    help = "trust the CA certificates in FILE (PEM); verification is always on" },
  { name = "allow-insecure-http", field = "allow_insecure_http", commands = ALL,
    help = "allow the key over plain http:// to a host that is not loopback" },
  { name = "timeout", placeholder = "MS", field = "timeout_ms", read = "integer", min = 1, max = 2147483647,
    unit = "a whole number of milliseconds", commands = ALL,
    help = "the whole of one request, in milliseconds, 1..2147483647 (default 30000)" },
  { name = "max-retries", placeholder = "N", field = "max_retries", read = "integer", min = 0, max = 100,
    commands = ALL,
    help = "retries of 429, 5xx, network failures and timeouts, 0..100 (default 3)" },
}

M.BY_NAME = {}
for _, opt in ipairs(M.OPTIONS) do M.BY_NAME[opt.name] = opt end
M.COMMAND = {}
for _, c in ipairs(M.COMMANDS) do M.COMMAND[c.name] = c end

--- Does option `opt` (a row) apply to command `cmd`?
function M.applies(opt, cmd)
  if opt.except and opt.except[cmd] then return false end
  return opt.commands == ALL or opt.commands[cmd] == true
end

--- The flag of each library argument or client option the CLI sets: what a
-- refusal of the library names (`err.arg`) is said in flags
-- (apivideo.cli.messages). `filter_by.KEY...` is `--filter KEY`.
M.FLAG_OF_ARG = {
  period = "--period", metadata = "--metadata", video_id = "--video", live_stream_id = "--live-stream",
  session_id = "--session", page_size = "--page-size", metric = "--metric", aggregation = "--aggregation",
  breakdown = "--breakdown", from = "--from", to = "--to", unique = "--unique", view_duration = "--view-duration",
  interval = "--interval", sort_by = "--sort-by", sort_order = "--sort-order", filter_by = "--filter",
  base_url = "--base-url", ca_file = "--ca-file", timeout_ms = "--timeout", max_retries = "--max-retries",
  auth = "--auth", concurrency = "--concurrency", allow_insecure_http = "--allow-insecure-http",
  metrics = "--metrics", breakdowns = "--breakdowns", lag = "--lag", since = "--since", videos = "--video",
  live_streams = "--live-stream", busy_timeout_ms = "--busy-timeout", tz = "--tz",
}

return M
