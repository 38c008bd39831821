--- The CLI's arguments: argv into an options table, every check the CLI
-- makes itself before anything is sent. Parsing raises `{usage = message}`.
-- What the options are (names, values, commands, help) is the data of
-- apivideo.cli.options; `parse` runs its steps over those rows.
--
-- One rule for repeated options: every option may be given at most once
-- (`--video a --video b` is an error naming the option, even with the same
-- value), except `--metadata`, which is repeatable with a different KEY
-- each time (a session must match every pair, so one KEY cannot have two
-- values: a repeated KEY is an error naming it), and `--filter`.
-- @module apivideo.cli.args
local calendar = require("apivideo.calendar")
local operations = require("apivideo.operations")
local options = require("apivideo.cli.options")
local time = require("apivideo.time")
local tz = require("apivideo.tz")

local M = {}

M.PROG = options.PROG

local BY_NAME, COMMAND = options.BY_NAME, options.COMMAND

local function usage_error(msg)
  error({ usage = msg }, 0)
end
M.usage_error = usage_error

------------------------------------------------------------------------------
-- Values.

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

--- A --from/--to value -> seconds since the epoch (UTC): an RFC 3339
-- date-time, or a date YYYY-MM-DD meaning its midnight UTC. With a zone
-- (--tz, apivideo.tz), a date is its midnight in the zone, and a date-time
-- without an offset is read in the zone too.
function M.parse_time(name, v, zone)
  if v:match("^%d%d%d%d%-%d%d%-%d%d$") then
    local y, m, d = calendar.date(v)
    if not y then usage_error("bad --" .. name .. " (" .. tostring(m) .. "; got '" .. v .. "')") end
    if zone then return zone:to_utc(y, m, d, 0, 0, 0) end
    return calendar.days_from_civil(y, m, d) * 86400
  end
  if zone and v:match("^%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d:%d%d$") then
    local secs = time.parse(v .. "Z")
    if secs then
      local y, m, d = calendar.date(v:sub(1, 10))
      return zone:to_utc(y, m, d, 0, 0, secs - calendar.days_from_civil(y, m, d) * 86400)
    end
  end
  local secs, why = time.parse(v)
  if not secs then
    usage_error("bad --" .. name .. " (" .. why .. "; or a date such as 2023-12-05, meaning midnight "
      .. (zone and ("in " .. zone.name) or "UTC") .. ")")
  end
  return secs
end

local SPAN_UNITS = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
local MAX_SPAN = 10 * 366 * 86400

--- A --last value ("30m", "24h", "7d") -> seconds.
function M.parse_span(v, name)
  local n, unit = v:match("^(%d+)([smhdw])$")
  local secs = n and tonumber(n) * SPAN_UNITS[unit]
  if not secs or secs < 1 or secs > MAX_SPAN then
    usage_error("bad --" .. (name or "last") .. " (a number and a unit s, m, h, d or w, such as 30m, 24h or 7d, "
      .. "at most 10 years, expected; got '" .. v .. "')")
  end
  return secs
end

--- "a, b or c"
local function one_of(list)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " or " .. list[#list]
end

--- How an option's text becomes its value, by the row's `read`.
local READ = {
  integer = function(opt, v)
    local n = tonumber(v)
    if not v:match("^%d+$") or not n or n < opt.min or n > opt.max then
      usage_error(string.format("--%s must be %s from %d to %d, got '%s'", opt.name, opt.unit or "an integer",
        opt.min, opt.max, v))
    end
    return math.floor(n)
  end,
  choice = function(opt, v)
    for _, c in ipairs(opt.choices) do
      if v == c then return v end
    end
    usage_error("--" .. opt.name .. " must be " .. one_of(opt.choices) .. ", got '" .. v .. "'")
  end,
  time = function(opt, v, o) return M.parse_time(opt.name, v, o.tz) end,
  zone = function(opt, v)
    local zone, why = tz.load(v)
    if not zone then usage_error("bad --" .. opt.name .. " (" .. why .. ")") end
    return zone
  end,
  span = function(opt, v) return M.parse_span(v, opt.name) end,
  file = function(opt, v)
    if v == "" then usage_error("--" .. opt.name .. " needs a file name") end
    local problem = M.file_problem(opt.what, v)
    if problem then usage_error("--" .. opt.name .. ": " .. problem) end
    return v
  end,
  list = function(opt, v)
    local out = {}
    for item in (v .. ","):gmatch("([^,]*),") do
      item = item:gsub("^%s+", ""):gsub("%s+$", "")
      if item == "" then usage_error("--" .. opt.name .. " takes a comma-separated list, got '" .. v .. "'") end
      out[#out + 1] = item
    end
    return out
  end,
  -- a database target: its password is never quoted back
  target = function(opt, v)
    local target, why = require("apivideo.archive.db").parse_target(v)
    if not target then usage_error("bad --" .. opt.name .. " (" .. why .. ")") end
    return v
  end,
  file_name = function(opt, v)
    if v == "" then usage_error("--" .. opt.name .. " needs a file name") end
    return v
  end,
}

------------------------------------------------------------------------------
-- The repeatable options.

-- The library's filter keys (operations.FILTER_KEYS rows: key, shape, ...).
local FILTER_SPEC, FILTER_NAMES = {}, {}
for i, spec in ipairs(operations.FILTER_KEYS) do
  FILTER_SPEC[spec.key] = spec
  FILTER_NAMES[i] = spec.key
end

local ADD = {}

--- One --metadata KEY=VALUE into o.metadata (the library's metadata).
function ADD.metadata(o, v)
  local k, val = v:match("^([^=]+)=(.*)$")
  if not k then usage_error("--metadata expects KEY=VALUE with a non-empty KEY, got '" .. v .. "'") end
  o.metadata = o.metadata or {}
  if o.metadata[k] ~= nil then
    usage_error("--metadata key '" .. k .. "' given twice (a session has one value per key)")
  end
  o.metadata[k] = val
end

--- One --filter KEY=VALUE into o.filter (the library's filter_by): an array
-- key accumulates values, a string key (media_type, tag) takes one.
function ADD.filter(o, v)
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

------------------------------------------------------------------------------
-- The steps of parse.

--- The first word of argv that is a command, or nil.
function M.command_of(argv)
  for _, a in ipairs(argv) do
    if COMMAND[a] then return a end
  end
  return nil
end

--- --help anywhere wins: the help of the command given, or the global help
-- (true); nil: no --help.
local function help_asked(argv)
  for _, a in ipairs(argv) do
    if a == "-h" or a == "--help" then return M.command_of(argv) or true end
  end
  return nil
end

local TWICE = " given twice (every option but --metadata and --filter is given at most once)"

--- argv -> the command word, the options' texts by name (true for a flag),
-- whether --version was given, and the help asked by `help [COMMAND]` (in
-- place of a command); o gets the repeatable options. Checks the words
-- themselves: unknown options, missing values, repeats.
local function read_words(argv, o)
  local command, values, version = nil, {}, false
  local i, n = 1, #argv
  local function value_of(name, inline)
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
        version = true
      elseif not opt then
        -- the name only: whatever follows '=' might be a secret
        usage_error("unknown option '--" .. name .. "'")
      elseif opt.placeholder then
        local v = value_of(name, inline)
        if opt.add then
          ADD[opt.add](o, v)
        elseif values[name] ~= nil then
          usage_error("option --" .. name .. TWICE)
        end
        values[name] = v
      else
        if inline ~= nil then usage_error("option --" .. name .. " takes no value") end
        if values[name] ~= nil then usage_error("option --" .. name .. TWICE) end
        values[name] = true
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      usage_error("unknown option '" .. a:sub(1, 2) .. "'")
    elseif command == nil then
      if a == "help" then
        local nxt = argv[i + 1]
        return nil, values, version, nxt and COMMAND[nxt] and nxt or true
      end
      command = a
    else
      usage_error("unexpected argument '" .. a .. "'")
    end
    i = i + 1
  end
  return command, values, version
end

--- The command exists, and every option given applies to it.
local function check_command(cmd, values)
  if cmd == nil then usage_error("missing command") end
  if not COMMAND[cmd] then usage_error("unknown command '" .. cmd .. "'") end
  for name in pairs(values) do
    if not options.applies(BY_NAME[name], cmd) then
      usage_error("option --" .. name .. " does not apply to '" .. cmd .. "'")
    end
  end
end

--- The mode of summary and report: "sessions" (--period: the sessions
-- walk) or "data" (--from/--to/--last: the /data operations).
local function mode_of(cmd, values)
  local window = values.from or values.to or values.last
  if values.input then
    for _, name in ipairs({ "from", "to", "last", "db", "metadata" }) do
      if values[name] then
        usage_error("--input and --" .. name .. " exclude each other (the dump is the sessions of one --period, "
          .. "as 'sessions' chose and wrote them)")
      end
    end
    if not values.period then usage_error("'report --input' needs --period (the period of the dump's sessions)") end
  end
  if values.period and window then
    usage_error("--period and --" .. (values.from and "from" or values.to and "to" or "last")
      .. " exclude each other (--period walks the sessions; --from/--to/--last use the /data operations)")
  end
  if values.video and values["live-stream"] then usage_error("--video and --live-stream exclude each other") end
  if values.db and values.period then
    usage_error("--db reads a window of the archive (--from/--to or --last), not a --period")
  end
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

--- The options the command needs are there.
local function check_required(cmd, values)
  for _, name in ipairs(COMMAND[cmd].required) do
    if values[name] == nil or values[name] == "" then usage_error("'" .. cmd .. "' needs --" .. name) end
  end
end

--- Options that exclude each other (whatever the command): `a`, `b`, and
-- `why` (said after the message).
local EXCLUSIVE = {
  { a = "last", b = "from", why = " (--last ends now)" },
  { a = "last", b = "to", why = " (--last ends now)" },
  { a = "sandbox", b = "base-url", why = "" },
}
local function check_exclusive(values)
  for _, pair in ipairs(EXCLUSIVE) do
    if values[pair.a] and values[pair.b] then
      usage_error("--" .. pair.a .. " and --" .. pair.b .. " exclude each other" .. pair.why)
    end
  end
end

--- Every option with a field into o, through its reader; defaults.
local function read_values(values, o)
  for _, opt in ipairs(options.OPTIONS) do
    local v = values[opt.name]
    if opt.field then
      if v == nil then
        o[opt.field] = opt.default
      else
        o[opt.field] = opt.read and READ[opt.read](opt, v, o) or v
      end
    end
  end
  o.id = values.video or values["live-stream"] or values.session
  o.kind = values["live-stream"] and "live-stream" or "video"
  o.video, o.live_stream = values.video, values["live-stream"]
end

--- argv (an `arg`-like array) -> options table, or raises {usage = msg}.
-- o.help: true (global help) or a command name; o.version: true.
-- o.command, o.mode ("sessions" or "data" for summary and report), o.id,
-- o.kind ("video" or "live-stream"), o.metadata, o.filter, and one field
-- per option (apivideo.cli.options: `field`).
function M.parse(argv)
  local o = {}
  o.help = help_asked(argv)
  if o.help then return o end
  local cmd, values, version, help = read_words(argv, o)
  if help then
    o.help = help
    return o
  end
  if version then
    o.version = true
    return o
  end
  check_command(cmd, values)
  o.command = cmd
  if COMMAND[cmd].modes then o.mode = mode_of(cmd, values) end
  check_required(cmd, values)
  check_exclusive(values)
  if cmd == "archive" and values.period and not (values.video or values["live-stream"]) then
    usage_error("--period goes with --video or --live-stream (their sessions' period)")
  end
  if cmd == "archive" and (values.video or values["live-stream"]) and not values.period then
    usage_error("'archive' needs --period with --video or --live-stream")
  end
  if values.tz and values.db and cmd ~= "report" then
    usage_error("--tz does not apply to '" .. cmd .. "' with --db (what it prints of the archive is in UTC)")
  end
  read_values(values, o)
  if o.chart and o.format ~= "table" then
    usage_error("--chart and --format " .. o.format .. " exclude each other (a chart is text for a terminal)")
  end
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
