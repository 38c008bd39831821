--- The CLI's `report` command: builds the data table of apivideo.report
-- and writes its self-contained HTML page to --out, then prints the path.
--
-- Two modes, as `summary`:
--
-- * `--video ID` or `--live-stream ID` with `--period P`: the sessions are
--   walked, then their events (unless --no-events), with the summary's
--   statistics (apivideo.cli.stats): sessions over time from `loaded_at`,
--   breakdowns by country, device type, OS, browser and referrer medium,
--   the durations, audience retention (apivideo.chart.stats.retention, from
--   the events' positions), the event funnel (apivideo.report.FUNNEL_EVENTS),
--   events by type, and the sessions whose events failed in the footer.
-- * `--from/--to` or `--last` (optionally `--video ID`, as filterBy
--   media_id): the /data operations: plays over time
--   (`/data/timeseries/play` at the API's interval), the number of plays
--   (`/data/metrics/play/count`) and plays by country, device type, OS,
--   browser and referrer (`/data/buckets/play/...`). They have no
--   durations, no events and no referrer medium: the report draws no panel
--   for those, and its footer says they are not in the data.
-- * `--input FILE` with `--video ID` (or `--live-stream ID`) and `--period
--   P`: the sessions are read from FILE, what `sessions` (or
--   `live-sessions`) wrote with `--format json` or `ndjson` for the same
--   media and period, and the report is drawn as the first mode draws it
--   with --no-events (a dump has no events). Nothing is sent: no client is
--   made, no API key is needed. A file that is not such a dump is a usage
--   error naming it, before anything is written.
-- @module apivideo.cli.report
local apivideo = require("apivideo")
local core = require("apivideo.core")
local args = require("apivideo.cli.args")
local calendar = require("apivideo.calendar")
local data = require("apivideo.cli.data")
local output = require("apivideo.cli.output")
local stats = require("apivideo.cli.stats")
local walk = require("apivideo.cli.walk")
local report = require("apivideo.report")
local chart_stats = require("apivideo.chart.stats")

local M = {}

local DAY = 86400

--- The UTC bounds [from, to) of a period in api.video's five forms, in
-- seconds since the epoch (the period is already checked); with a zone
-- (--tz), its days start at the zone's midnights.
---@param p string
---@param zone? table apivideo.tz
---@return number from
---@return number to
function M.period_bounds(p, zone)
  local from, to = assert(calendar.parse_period(p))
  if zone then
    local function midnight(t) return zone:to_utc(calendar.civil_from_days(math.floor(t / DAY))) end
    from, to = midnight(from), midnight(to)
  end
  return from, to
end

--- The report's data from a summary's figures r (apivideo.cli.stats).
function M.sessions_data(o, r, now)
  local from, to = M.period_bounds(o.period, o.tz)
  local fetched = r.events.fetched
  local breakdowns = {}
  for _, g in ipairs(r.groups) do breakdowns[g.name] = g.counts end
  local left = {}
  for i, l in ipairs(r.events.left_out) do
    left[i] = { what = "events of session " .. tostring(l.session_id), reason = l.reason }
  end
  local filters
  if o.metadata then filters = output.filter_pairs(o.metadata) end
  return {
    media = { kind = o.kind, id = o.id },
    period = o.period, from = from, to = to, filters = filters,
    generated_at = now, sessions = r.sessions,
    events = fetched and r.events.total or nil,
    metric = "sessions",
    over_time = { times = r.times },
    breakdowns = breakdowns,
    durations = r.durations,
    funnel = fetched and r.funnel or nil,
    retention = fetched and chart_stats.retention(r.watched) or nil,
    event_types = fetched and r.events.by_type or nil,
    left_out = left,
    time_zone = o.tz,
  }
end

local INTERVAL_S = { minute = 60, hour = 3600, day = DAY }

-- The breakdowns of plays the window report draws (apivideo.cli.data keys).
local WINDOW_BREAKDOWNS = { "country", "device_type", "os", "browser", "referrer" }

--- The report's data from the /data answers res (apivideo.cli.data.collect).
function M.window_data(o, res, now)
  local points = {}
  local ot = res.over_time or { points = {} }
  local step = INTERVAL_S[ot.interval]
  for _, item in ipairs(ot.points) do
    local t = type(item.emitted_at) == "string" and apivideo.parse_time(item.emitted_at)
    local v = tonumber(item.metric_value)
    if t and v then
      local t_end = step and t + step or nil
      if t_end and o.to and t_end > o.to then t_end = math.max(t, o.to) end
      points[#points + 1] = { t = t, t_end = t_end, value = v }
    end
  end
  local plays = res.figures.plays or 0
  local breakdowns = {}
  for _, k in ipairs(WINDOW_BREAKDOWNS) do
    local rows = {}
    for i, row in ipairs(res.breakdowns[k] or {}) do
      -- a bucket without a value (no referrer) has "" or null: said in words
      local label = row.label
      if type(label) ~= "string" and type(label) ~= "number" or label == "" then label = "(none)" end
      rows[i] = { label = label, value = tonumber(row.value) or 0 }
    end
    breakdowns[k] = rows
  end
  return {
    title = "api.video analytics report: plays",
    media = o.id and { kind = o.kind, id = o.id } or nil,
    from = o.from, to = o.to, generated_at = now,
    sessions = math.floor(plays), metric = "plays",
    over_time = { points = points, interval = ot.interval },
    breakdowns = breakdowns,
    left_out = {},
    time_zone = o.tz,
  }
end

--- The sessions of a dump file: the text of `sessions --format json` (one
-- array) or `--format ndjson` (one session per line; an empty file has no
-- session), decoded as the API's answers are (apivideo.core.decode). Each
-- must be an object with a `session` object. Raises a usage error naming
-- the file and what is wrong.
---@param path string
---@return table sessions
function M.read_dump(path)
  local function bad(why) args.usage_error("--input: '" .. path .. "' " .. why) end
  local f, err = io.open(path, "rb")
  if not f then bad("cannot be read (" .. tostring(err):gsub("^[^:]*: ", "") .. ")") end
  local text = f:read("*a") or ""
  f:close()
  local list
  if text:match("^%s*%[") then
    local v, why = core.decode(text)
    if v == nil then bad("is not JSON (" .. tostring(why) .. ")") end
    list = v
  else
    list = {}
    local n = 0
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
      n = n + 1
      if line:match("%S") then
        local v, why = core.decode(line)
        if v == nil then bad("is not JSON (line " .. n .. ": " .. tostring(why) .. ")") end
        list[#list + 1] = v
      end
    end
  end
  for i, x in ipairs(list) do
    if type(x) ~= "table" or type(x.session) ~= "table" then
      bad("is not a dump of sessions (item " .. i .. " has no session object; make it with 'sessions --format "
        .. "json')")
    end
  end
  return list
end

--- The figures of the sessions of a dump (as walk.collect_sessions gives
-- them with --no-events).
function M.dump_figures(list)
  local acc = stats.new({ funnel_steps = report.FUNNEL_EVENTS })
  for _, s in ipairs(list) do acc.add_session(s) end
  return acc.result(false)
end

--- Opens the temporary file beside path that the report is written to
-- (then renamed: a failed write never leaves half a report). A path that
-- cannot be written is a usage error, before anything is sent.
local function open_out(path)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then
    args.usage_error("--out: cannot write '" .. path .. "' (" .. tostring(err):gsub("^[^:]*: ", "") .. ")")
  end
  return f, tmp
end

--- Writes text into f (from open_out) and renames it to path. Raises {write = message}.
local function finish_out(f, tmp, path, text)
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  local renamed, rerr = false, nil
  if ok and closed then renamed, rerr = os.rename(tmp, path) end
  if not renamed then
    os.remove(tmp)
    error({ write = "cannot write the report to " .. path .. ": " .. tostring(werr or cerr or rerr) }, 0)
  end
end

--- Runs `report` (ctx as in apivideo.cli.commands). Returns the exit status.
function M.run(ctx)
  local o = ctx.o
  local page, status
  if o.kind == "live-stream" and o.metadata then
    args.usage_error("option --metadata does not apply to live streams (their sessions have no metadata filter)")
  end
  local dump = o.input and M.read_dump(o.input)
  local f, tmp = open_out(o.out)
  local ok, err = pcall(function()
    if dump then
      page = M.sessions_data(o, M.dump_figures(dump), ctx.now())
      status = 0
    elseif o.mode == "sessions" then
      local r = walk.collect_sessions(ctx, { funnel_steps = report.FUNNEL_EVENTS })
      page = M.sessions_data(o, r, ctx.now())
      status = walk.left_out_status(ctx, r)
    elseif o.db then
      -- the window from the archive (apivideo.archive.read: the same shape as data.collect's)
      local a, aerr = require("apivideo.archive").open(o.db, { read_only = true })
      if not a then error(aerr, 0) end
      local rok, res = pcall(a.window, a, o.from, o.to, o.id)
      a:close()
      if not rok then error(res, 0) end
      page = M.window_data(o, res, ctx.now())
      page.title = "api.video analytics report: plays (from the archive)"
      if page.media then page.media.name = res.titles[o.id] end
      -- the previous period of equal length: its total, and its line under this one's
      local before = o.from - (o.to - o.from)
      local prev = M.window_data({ from = before, to = o.from }, res.previous, ctx.now())
      page.previous = { from = before, to = o.from, sessions = prev.sessions,
        points = prev.over_time.points }
      status = 0
    else
      local res = data.collect(ctx, { figures = { plays = true }, over_time = true,
        breakdowns = { country = true, device_type = true, os = true, browser = true, referrer = true } })
      page = M.window_data(o, res, ctx.now())
      status = 0
    end
  end)
  if not ok then
    f:close()
    os.remove(tmp)
    error(err, 0)
  end
  finish_out(f, tmp, o.out, report.html(page))
  ctx.emit(o.out .. "\n")
  return status
end

return M
