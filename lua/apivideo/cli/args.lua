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
local M = {}

M.PROG = "apivideo-analytics"

local ALL = "all"

--- The options, in help order. arg: the value's placeholder (nil: a flag);
-- cmds: the commands it applies to (ALL: every command).
M.OPTIONS = {
  { "video", "ID", { sessions = true, summary = true }, "the video (required)" },
  { "live-stream", "ID", { ["live-sessions"] = true }, "the live stream (required)" },
  { "session", "ID", { events = true }, "the player session (required)" },
  { "period", "P", { sessions = true, ["live-sessions"] = true, summary = true },
    "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD (UTC days; required)" },
  { "metadata", "KEY=VALUE", { sessions = true, summary = true },
    "only sessions with this metadata pair; repeatable, a different KEY each time (AND)" },
  { "no-events", nil, { summary = true }, "skip the per-session event requests (no event counts)" },
  { "strict", nil, { summary = true }, "exit 1 when the events of any session could not be fetched" },
  { "format", "FORMAT", ALL, "table (default), csv (RFC 4180, CRLF), ndjson or json" },
  { "page-size", "N", ALL, "items per request, 1..100 (default 100)" },
  { "concurrency", "N", ALL, "requests in flight, 1..64 (default 4)" },
  { "sandbox", nil, ALL, "use https://sandbox.api.video" },
  { "base-url", "URL", ALL, "use another API root (e.g. a local stand-in)" },
  { "api-key-file", "FILE", ALL, "read the API key from the first line of FILE (default: $APIVIDEO_API_KEY)" },
  { "auth", "MODE", ALL, "bearer (default: a token from POST /auth/api-key) or basic (the key on every request)" },
  { "ca-file", "FILE", ALL, "trust the CA certificates in FILE (PEM); verification is always on" },
  { "allow-insecure-http", nil, ALL, "allow the key over plain http:// to a host that is not loopback" },
  { "timeout", "MS", ALL, "the whole of one request, in milliseconds, 1..2147483647 (default 30000)" },
  { "max-retries", "N", ALL, "retries of 429, 5xx, network failures and timeouts, 0..100 (default 3)" },
}
local BY_NAME = {}
for _, opt in ipairs(M.OPTIONS) do BY_NAME[opt[1]] = opt end

M.COMMANDS = { "sessions", "live-sessions", "events", "summary" }

local REQUIRED = {
  sessions = { "video", "period" },
  ["live-sessions"] = { "live-stream", "period" },
  events = { "session" },
  summary = { "video", "period" },
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
Sessions counted by country, device type, OS, browser and referrer medium;
session duration in seconds (count, median, mean, p90 by nearest rank, from
loaded_at to ended_at); events counted by type over the sessions (the events
of up to --concurrency sessions are fetched at once; --no-events skips them).
A session whose events cannot be fetched is left out of the event counts and
named on stderr; the output says how many were left out. The exit status is
0 unless --strict is given (then 1), or no session's events could be fetched.
Output:
  table   a title line, then one two-column section per figure
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
Examples:
  apivideo-analytics summary --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023-01
  apivideo-analytics summary --video vi4k0jvEUuaTdRAEjQ4Prklg --period 2023 --no-events --format json
]],
}

M.GLOBAL_HELP = [[
apivideo-analytics: api.video Analytics from the command line.

Usage: apivideo-analytics COMMAND [OPTIONS]
       apivideo-analytics COMMAND --help     (that command's options, output, examples)

Commands:
  sessions       --video ID --period P        the player sessions of a video
  live-sessions  --live-stream ID --period P  the player sessions of a live stream
  events         --session ID                 the events of one player session
  summary        --video ID --period P        counts, durations and event types

Every option may be given at most once, except --metadata KEY=VALUE, which
may be repeated with a different KEY each time (sessions must match every pair).
Periods are UTC calendar days, weeks, months and years (the API's rule);
timestamps are printed as the API sends them (UTC, ending in Z).
The API key comes from $APIVIDEO_API_KEY or --api-key-file FILE; it is never
printed. Progress goes to stderr, only when it is a terminal; stdout carries
data only. Exit status: 0 ok, 1 API or network error (or, for summary,
sessions left out with --strict), 2 usage error.
]]

local function options_text(cmd)
  local lines = { "Options:" }
  for _, opt in ipairs(M.OPTIONS) do
    if opt[3] == ALL or (cmd and opt[3][cmd]) or not cmd then
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
    if REQUIRED[a] then return a end
  end
  return nil
end

M.command_of = find_command

--- argv (an `arg`-like array) -> options table, or raises {usage = msg}.
-- o.help: true (global help) or a command name; o.version: true.
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
        elseif seen[name] then
          usage_error("option --" .. name .. " given twice (every option but --metadata is given at most once)")
        end
        seen[name] = true
        values[name] = v
      else
        if inline ~= nil then usage_error("option --" .. name .. " takes no value") end
        if seen[name] then
          usage_error("option --" .. name .. " given twice (every option but --metadata is given at most once)")
        end
        seen[name] = true
        values[name] = true
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option '" .. a:sub(1, 2) .. "'")
    elseif o.command == nil then
      if a == "help" then
        o.help = true
        local nxt = argv[i + 1]
        if nxt and REQUIRED[nxt] then o.help = nxt end
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
  if not REQUIRED[cmd] then usage_error("unknown command '" .. cmd .. "'") end
  for name in pairs(values) do
    local scope = BY_NAME[name][3]
    if scope ~= ALL and not scope[cmd] then
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
