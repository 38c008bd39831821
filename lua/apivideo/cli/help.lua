--- The CLI's help texts: the global help and each command's (its usage
-- line, what it does, its output, examples). Data; the options' lines come
-- from apivideo.cli.options, and `help`/`usage` put the two together.
-- @module apivideo.cli.help
local options = require("apivideo.cli.options")

local M = {}

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
  from loaded_at to ended_at. Timestamps are printed as the API sends them
  (with --tz ZONE, table and csv print them in ZONE, with its offset).
]]

M.COMMANDS = {
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
              ready/play/pause/resume/end; from/to: the positions of a seek;
              emitted_at in ZONE with --tz ZONE)
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
  --chart     one bar per dimension value, largest first, with its value
              (and its share when the values are counts), as wide as
              $COLUMNS (else the terminal, else 80), even into a pipe;
              "no data in this window" when there is none. Not with
              --format csv, ndjson or json.
Examples:
  apivideo-analytics buckets --metric play --breakdown country --last 30d
  apivideo-analytics buckets --metric play --breakdown device-type --last 7d --chart
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
              the API sends it; with --tz ZONE, in ZONE)
  ndjson      one {"emitted_at","metric_value"} object per line
  json        one array of those objects
  --chart     one bar per point over a value axis that starts at 0 (whole
              ticks for counts), times in UTC under the bars where they fit,
              as wide as $COLUMNS (else the terminal, else 80), even into a
              pipe; more points than columns: each column the largest of k;
              "no data in this window" for an empty series. Not with
              --format csv, ndjson or json; with --db, the archive's points.
Examples:
  apivideo-analytics timeseries --metric play --last 7d --interval day
  apivideo-analytics timeseries --metric play --last 2d --chart
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
pause/seek, end: sessions that emitted each), audience retention (the share
of sessions still watching at each point of the video, from the events'
positions), events by type; the footer lists the sessions whose events could
not be fetched.
With --from/--to or --last: the /data operations (the whole account, or the
video as filterBy media_id): plays over time (GET /data/timeseries/play, at
the API's interval), plays by country, device type, OS, browser and referrer
(GET /data/buckets/play/...). No durations, funnel, retention or event types
there. With --db TARGET: the same window drawn from an archive (see archive).
With --input FILE (and the --video or --live-stream and --period it was made
for): the report of the sessions in FILE, what 'sessions --format json' (or
ndjson, or live-sessions) wrote, drawn as with --period --no-events; nothing
is sent and no API key is needed. Not with --from/--to/--last, --db or
--metadata. A missing file, or one that is not such a dump: exit 2.
Examples:
  apivideo-analytics report --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01 --out report.html
  apivideo-analytics report --live-stream li400mYKSgQ6xs7taUeSaEKr --period 2023-W05 --out live.html
  apivideo-analytics report --last 7d --out account.html
  apivideo-analytics sessions --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01 --format json > jan.json
  apivideo-analytics report --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01 --input jan.json --out jan.html
]],
  archive = [[
Usage: apivideo-analytics archive --db TARGET [OPTIONS]
Keeps what api.video forgets after 30 days: copies time series (hourly by
default) and daily breakdowns of plays, and with --video/--live-stream and
--period their sessions and each session's events, into a SQLite file or a
PostgreSQL database (tables timeseries, buckets, sessions, events, media,
archive_state, archive_meta). Incremental: each stream has a cursor; a run
fetches from the cursor less --lag (or 30 days back) to now, in the API's
time (its Date header), and commits each stream's rows with its cursor.
Run it again at any time: nothing new changes no row; a run killed or
failed resumes where its last commit ended; a second run on the same
target waits --busy-timeout, then exits 1. LuaDBI blocks: scripts and cron.
Output:
  one line: the streams, requests, items fetched, rows added or changed;
  --dry-run: the URL of every request it would make (one GET asks the clock)
Read it back: summary --db TARGET --from/--to|--last, timeseries --db TARGET.
Examples:
  apivideo-analytics archive --db analytics.db
  apivideo-analytics archive --db postgresql://archive:PASSWORD@db.example:5432/analytics --interval day
  apivideo-analytics archive --db analytics.db --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-12
  */15 * * * * apivideo-analytics archive --db /var/lib/apivideo/analytics.db >/dev/null   (crontab)
]],
}

M.GLOBAL = [[
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
                 --live-stream ID --period P --out F
                 [--video ID] --from T | --last S --out F   (from the /data operations)
  archive        --db TARGET                    keep the analytics in SQLite or PostgreSQL

Every option may be given at most once, except --metadata KEY=VALUE, which
may be repeated with a different KEY each time (sessions must match every pair),
and --filter KEY=VALUE (values of one KEY OR together; media_type and tag
take one value).
Periods (a day, an ISO week, a month, a year or a range of days) are sent as
written: api.video does not document in which time zone it reads them (the
built-in stand-in reads them in UTC). --from/--to are RFC 3339 date-times or
dates (midnight UTC), sent in UTC; --last 7d is the 7 days ending now.
Timestamps are printed as the API sends them.
--tz ZONE (an IANA name such as Europe/Paris, read from the system's zoneinfo,
or +hh:mm) moves what this tool computes and prints into ZONE: --from/--to
dates are its midnights, tables and csv print times in it with their offset,
the report's window, axes and sessions over time are in it; ndjson, json keep the
API's text, and a --period is still sent as written (the API takes no zone
for it; --interval day buckets are the API's). The default is UTC: api.video
does not document in which time zone a period's days begin.
The API key comes from $APIVIDEO_API_KEY or --api-key-file FILE; it is never
printed. Progress goes to stderr, only when it is a terminal; stdout carries
data only. Exit status: 0 ok, 1 API or network error (or, for summary and
report, sessions left out with --strict), 2 usage error.
]]


--- The "Options:" part of a help: the options of cmd (nil: every option).
local function options_text(cmd)
  local lines = { "Options:" }
  for _, opt in ipairs(options.OPTIONS) do
    if not cmd or options.applies(opt, cmd) then
      local left = "  --" .. opt.name .. (opt.placeholder and " " .. opt.placeholder or "")
      if #left > 25 then
        lines[#lines + 1] = left
        left = ""
      end
      local text = cmd and opt.help_for and opt.help_for[cmd] or opt.help
      lines[#lines + 1] = left .. string.rep(" ", 26 - #left) .. text
    end
  end
  lines[#lines + 1] = "  -h, --help              this help"
  if not cmd then lines[#lines + 1] = "  --version               the version" end
  return table.concat(lines, "\n") .. "\n"
end

--- The help of cmd (nil: the global help).
function M.help(cmd)
  if cmd then return M.COMMANDS[cmd] .. options_text(cmd) end
  return M.GLOBAL .. "\n" .. options_text(nil)
end

--- The short usage shown after a usage error: the usage line of cmd (nil,
-- or not a command: the global one) and where its help is.
function M.usage(cmd)
  local prog = options.PROG
  if cmd and M.COMMANDS[cmd] then
    return M.COMMANDS[cmd]:match("^[^\n]*\n") .. "Try '" .. prog .. " " .. cmd .. " --help' for more.\n"
  end
  local names = {}
  for i, c in ipairs(options.COMMANDS) do names[i] = c.name end
  return "Usage: " .. prog .. " COMMAND [OPTIONS]   (COMMAND: " .. table.concat(names, ", ")
    .. ")\nTry '" .. prog .. " --help' for more.\n"
end

return M
