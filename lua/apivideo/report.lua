--- The HTML analytics report: one self-contained page from a plain table.
--
--     local report = require("apivideo.report")
--     local html = report.html({
--       media = { kind = "video", id = "vi4k0jvEUuaTdRAEjQ4Prklg" },
--       period = "2023-01", from = 1672531200, to = 1675209600,
--       generated_at = os.time(),
--       sessions = 1234, events = 5678,
--       over_time = { times = { 1672531800, 1672535400, ... } },   -- each session's loaded_at
--       breakdowns = { country = { { "FR", 812 }, { "US", 301 } }, device_type = ..., os = ...,
--                      browser = ..., referrer_medium = ... },
--       durations = { 12.5, 310, ... },                               -- seconds, one per session
--       funnel = { ready = 1200, play = 1100, pause_or_seek = 640, ["end"] = 500 },
--       retention = chart.stats.retention(events_of_each_session),
--       left_out = { { what = "events of session ps123", reason = "HTTP 500 ..." } },
--     })
--
-- The page has inline CSS and inline SVG and nothing else: no script, no
-- font, no image, no link to anything (a Content-Security-Policy of
-- `default-src 'none'` says so to the browser too), so opening it touches no
-- network. Every string of the data is escaped (apivideo.chart.markup); API
-- values such as a referrer URL show as text, never as a link or markup.
--
-- The data table is checked before anything is built: an unknown field, a
-- wrong type or a negative count raises an error naming the field (a typo is
-- never ignored, and there is no field where a credential could go).
--
-- The statistics are the caller's; the report only bins and buckets what it
-- is given: sessions over time are counted per calendar bucket in UTC
-- (apivideo.chart.stats.buckets: the shortest of 1, 5, 15 min, 1, 3, 6,
-- 12 h, day, week, month giving at most 60 buckets), durations go into a
-- Freedman-Diaconis histogram (apivideo.chart.stats.bins) with the median and
-- the p90 by nearest rank marked. Every time on the page is labelled in UTC
-- (see [time zones](../topics/time.md.html)), or in `time_zone` when the
-- data has one: its times are then shown, and bucketed, at the zone's local
-- times (a local day starts at the zone's midnight; in the hour a clock is
-- set back, the two hours' times share the same local hours).
--
-- A chart is drawn for each field the data has; a field that is absent
-- (nil) draws no panel, and the footer names it among what is not in the
-- data. A field that is present but empty (no sessions) draws the one empty
-- state every chart shares ("No data").
-- @module apivideo.report
local chart = require("apivideo.chart")

local markup, format, calendar, plot, stats = chart.markup, chart.format, chart.calendar, chart.plot, chart.stats
local el = markup.el

local M = {}

local NBSP = "\194\160" -- digit groups never wrap

-- The breakdowns, in the order shown, with their titles.
M.BREAKDOWNS = {
  { "country", "Country" },
  { "device_type", "Device type" },
  { "os", "Operating system" },
  { "browser", "Browser" },
  { "referrer_medium", "Referrer medium" },
  { "referrer", "Referrer" },
}

-- The funnel steps, in order, with their labels.
M.FUNNEL = {
  { "ready", "ready" },
  { "play", "play" },
  { "pause_or_seek", "pause/seek" },
  { "end", "end" },
}

--- The funnel step each event type counts for, by event type.
-- A session counts once in a step when it emitted at least one event of the
-- step's types (`funnel[report.FUNNEL_EVENTS[event.type]]`); `resume` counts
-- for none.
-- @field ready "ready"
-- @field play "play"
-- @field pause "pause_or_seek", and so do the keys `"seek.forward"` and `"seek.backward"`
-- @field end "end"
-- @table FUNNEL_EVENTS
M.FUNNEL_EVENTS = {
  ready = "ready", play = "play", pause = "pause_or_seek", ["seek.forward"] = "pause_or_seek",
  ["seek.backward"] = "pause_or_seek", ["end"] = "end",
}

--- The video or live stream the report is about.
-- @table Media
---@class apivideo.report.Media
---@field kind "video"|"live-stream" what the id names
---@field id string the video or live-stream id
---@field name? string a title to show next to the id

--- One filter the sessions matched.
-- @table Filter
---@class apivideo.report.Filter
---@field key string a metadata key (or any filter name)
---@field value string its value

--- One bucket of counts already bucketed.
-- @table Point
---@class apivideo.report.Point
---@field t number the bucket's start, seconds since the epoch
---@field t_end? number the bucket's end (exclusive)
---@field value number the count in the bucket

--- Sessions (or plays) over time: raw times, or bucketed points.
-- @table OverTime
---@class apivideo.report.OverTime
---@field times? number[] one time per session (or play), seconds since the epoch: the report buckets them
---@field points? apivideo.report.Point[] or counts already bucketed (e.g. from /data/timeseries)
---@field interval? string the bucket of `points`, said in the caption ("hour", "day")

--- Sessions that emitted each step's events.
-- @table Funnel
---@class apivideo.report.Funnel
---@field ready integer sessions with at least one `ready` event
---@field play integer sessions with at least one `play` event
---@field pause_or_seek integer sessions with at least one `pause`, `seek.forward` or `seek.backward` event
---@field end integer sessions with at least one `end` event

--- Audience retention, as apivideo.chart.stats.retention returns it.
-- @table Retention
---@class apivideo.report.Retention
---@field sessions integer the sessions that played (the 100 %)
---@field steps table array of { position = seconds into the video, count = sessions watching from there }

--- Something the report could not include.
-- @table LeftOut
---@class apivideo.report.LeftOut
---@field what string what is missing ("events of session ps123", "sessions of page 4")
---@field reason? string why (an error's one-line text; errors of this library never hold a credential)
---@field count? integer how many items, when it is more than one

--- The report's data.
-- `breakdowns` has the keys `country`, `device_type`, `os`, `browser`,
-- `referrer_medium` and `referrer`, each an array of `{ label, count }` pairs
-- (or `{ label =, value = }`) in any order; a missing key draws no chart.
-- Labels may be anything the API sent: they are cleaned and escaped.
-- @table Data
---@class apivideo.report.Data
---@field title? string the page's heading (default "api.video analytics report")
---@field media? apivideo.report.Media the video or live stream asked about; nil: the whole account
---@field period? string the period as asked ("2023-01", "2023-01-01/2023-01-15")
---@field from? number start of the time window, seconds since the epoch (inclusive)
---@field to? number end of the time window, seconds since the epoch (exclusive)
---@field filters? apivideo.report.Filter[] filters the sessions matched (metadata pairs)
---@field generated_at number when the data was fetched, seconds since the epoch (required)
---@field sessions integer how many sessions the report covers (required)
---@field events? integer how many events were read (nil: events were not fetched)
---@field metric? string what `over_time` counts: "sessions" (default) or "plays"
---@field over_time? apivideo.report.OverTime sessions (or plays) over time
---@field breakdowns? table<string, table> sessions counted by dimension (see above)
---@field durations? number[] session durations in seconds (ended_at - loaded_at), one per session that has both
---@field funnel? apivideo.report.Funnel the event funnel
---@field retention? apivideo.report.Retention audience retention, from the events' positions
---@field event_types? table events counted by type: an array of `{ type, count }` pairs (or `{ label =, value = }`)
---@field left_out? apivideo.report.LeftOut[] what the report could not include
---@field top? integer bars per breakdown before the "other" bar (default 8)
---@field previous? apivideo.report.Previous the previous period of equal length, beside this one
---@field time_zone? table the zone of the page's times: `name` ("Europe/Paris") and `offset_at(self, t)`
--- (seconds east of UTC at t), as apivideo.tz's zones; nil: UTC

--- The previous period of equal length (a report from the archive): its
-- total beside the current one, with the change in percent, and its line
-- faint under the current one in the time chart (shifted onto its axis).
-- @table Previous
---@class apivideo.report.Previous
---@field from number start, seconds since the epoch (inclusive)
---@field to number end, seconds since the epoch (exclusive): data.from
---@field sessions integer its count (of what data.metric counts)
---@field points? apivideo.report.Point[] its counts over time, at its own times

------------------------------------------------------------------------------
-- Checking the data.

local function bad(path, msg)
  error("apivideo.report.html: bad field '" .. path .. "' (" .. msg .. ")", 0)
end

local function typename(v) return v == nil and "nil" or type(v) end

local function want_table(path, v)
  if type(v) ~= "table" then bad(path, "table expected, got " .. typename(v)) end
end

local function only(path, t, allowed)
  for k in pairs(t) do
    if not allowed[k] then bad(path .. "." .. tostring(k), "unknown field") end
  end
end

local function want_string(path, v, optional)
  if v == nil and optional then return end
  if type(v) ~= "string" then bad(path, "string expected, got " .. typename(v)) end
end

local function want_time(path, v, optional)
  if v == nil and optional then return end
  if not format.finite(v) then bad(path, "seconds since the epoch expected, got " .. tostring(v)) end
end

local function want_count(path, v, optional)
  if v == nil and optional then return end
  if not format.finite(v) or v < 0 or v ~= math.floor(v) then
    bad(path, "integer >= 0 expected, got " .. tostring(v))
  end
end

local function want_array(path, v, each)
  want_table(path, v)
  local n = #v
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then
      bad(path, "array expected (found key " .. tostring(k) .. ")")
    end
  end
  for i = 1, n do each(path .. "[" .. i .. "]", v[i]) end
end

local TOP = { title = true, media = true, period = true, from = true, to = true, filters = true,
  generated_at = true, sessions = true, events = true, metric = true, over_time = true, breakdowns = true,
  durations = true, funnel = true, event_types = true, left_out = true, top = true, retention = true,
  previous = true, time_zone = true }

local function want_rows(path, rows)
  want_array(path, rows, function(p, r)
    want_table(p, r)
    local label, value = r.label, r.value
    if label == nil and value == nil then label, value = r[1], r[2] end
    if type(label) ~= "string" and type(label) ~= "number" then
      bad(p, "{ label, count } expected, the label is a " .. typename(label))
    end
    want_count(p .. " count", value)
  end)
end

-- An array of counts over time: { t, t_end?, value }.
local function want_points(path, points)
  want_array(path, points, function(p, pt)
    want_table(p, pt)
    only(p, pt, { t = true, t_end = true, value = true })
    want_time(p .. ".t", pt.t)
    want_time(p .. ".t_end", pt.t_end, true)
    if pt.t_end and pt.t_end < pt.t then bad(p .. ".t_end", "must not be before t") end
    if not format.finite(pt.value) or pt.value < 0 then bad(p .. ".value", "number >= 0 expected") end
  end)
end

local function check(d)
  want_table("data", d)
  only("data", d, TOP)
  want_string("data.title", d.title, true)
  if d.media ~= nil then
    want_table("data.media", d.media)
    only("data.media", d.media, { kind = true, id = true, name = true })
    if d.media.kind ~= "video" and d.media.kind ~= "live-stream" then
      bad("data.media.kind", "\"video\" or \"live-stream\" expected, got " .. tostring(d.media.kind))
    end
    want_string("data.media.id", d.media.id)
    want_string("data.media.name", d.media.name, true)
  end
  want_string("data.period", d.period, true)
  if d.time_zone ~= nil then
    want_table("data.time_zone", d.time_zone)
    want_string("data.time_zone.name", d.time_zone.name)
    if type(d.time_zone.offset_at) ~= "function" then
      bad("data.time_zone.offset_at", "function expected, got " .. typename(d.time_zone.offset_at))
    end
  end
  want_time("data.from", d.from, true)
  want_time("data.to", d.to, true)
  if d.from and d.to and d.to <= d.from then bad("data.to", "must be after data.from") end
  if d.filters ~= nil then
    want_array("data.filters", d.filters, function(p, f)
      want_table(p, f)
      only(p, f, { key = true, value = true })
      want_string(p .. ".key", f.key)
      want_string(p .. ".value", f.value)
    end)
  end
  want_time("data.generated_at", d.generated_at)
  want_count("data.sessions", d.sessions)
  want_count("data.events", d.events, true)
  if d.metric ~= nil and d.metric ~= "sessions" and d.metric ~= "plays" then
    bad("data.metric", "\"sessions\" or \"plays\" expected, got " .. tostring(d.metric))
  end
  if d.over_time ~= nil then
    local o = d.over_time
    want_table("data.over_time", o)
    only("data.over_time", o, { times = true, points = true, interval = true })
    if (o.times == nil) == (o.points == nil) then bad("data.over_time", "exactly one of times, points expected") end
    if o.times then want_array("data.over_time.times", o.times, function(p, t) want_time(p, t) end) end
    if o.points then
      want_points("data.over_time.points", o.points)
    end
    want_string("data.over_time.interval", o.interval, true)
  end
  if d.breakdowns ~= nil then
    want_table("data.breakdowns", d.breakdowns)
    local names = {}
    for _, b in ipairs(M.BREAKDOWNS) do names[b[1]] = true end
    only("data.breakdowns", d.breakdowns, names)
    for name, rows in pairs(d.breakdowns) do want_rows("data.breakdowns." .. name, rows) end
  end
  if d.durations ~= nil then
    want_array("data.durations", d.durations, function(p, v)
      if not format.finite(v) or v < 0 then bad(p, "seconds >= 0 expected, got " .. tostring(v)) end
    end)
  end
  if d.funnel ~= nil then
    want_table("data.funnel", d.funnel)
    local names = {}
    for _, s in ipairs(M.FUNNEL) do names[s[1]] = true end
    only("data.funnel", d.funnel, names)
    for _, s in ipairs(M.FUNNEL) do want_count("data.funnel." .. s[1], d.funnel[s[1]]) end
  end
  if d.event_types ~= nil then want_rows("data.event_types", d.event_types) end
  if d.retention ~= nil then
    local r = d.retention
    want_table("data.retention", r)
    only("data.retention", r, { sessions = true, steps = true })
    want_count("data.retention.sessions", r.sessions)
    local prev
    want_array("data.retention.steps", r.steps, function(p, st)
      want_table(p, st)
      only(p, st, { position = true, count = true })
      if not format.finite(st.position) or st.position < 0 or (prev and st.position <= prev) then
        bad(p .. ".position", "seconds >= 0, ascending, expected, got " .. tostring(st.position))
      end
      prev = st.position
      want_count(p .. ".count", st.count)
      if st.count > r.sessions then bad(p .. ".count", "more than data.retention.sessions") end
    end)
  end
  if d.left_out ~= nil then
    want_array("data.left_out", d.left_out, function(p, l)
      want_table(p, l)
      only(p, l, { what = true, reason = true, count = true })
      want_string(p .. ".what", l.what)
      want_string(p .. ".reason", l.reason, true)
      want_count(p .. ".count", l.count, true)
    end)
  end
  if d.previous ~= nil then
    local pv = d.previous
    want_table("data.previous", pv)
    only("data.previous", pv, { from = true, to = true, sessions = true, points = true })
    want_time("data.previous.from", pv.from)
    want_time("data.previous.to", pv.to)
    if pv.to <= pv.from then bad("data.previous.to", "must be after data.previous.from") end
    want_count("data.previous.sessions", pv.sessions)
    if pv.points ~= nil then
      want_points("data.previous.points", pv.points)
    end
  end
  if d.top ~= nil and (not format.finite(d.top) or d.top < 1 or d.top ~= math.floor(d.top)) then
    bad("data.top", "integer >= 1 expected, got " .. tostring(d.top))
  end
end

------------------------------------------------------------------------------
-- The page.

local CSS = [[
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f4f4f2;color:#1a1a1a;
font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.5rem 0 0}
header dt{font-weight:600}
header dd{margin:0;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid #d6d6d6;border-radius:8px;padding:12px;min-width:0}
figcaption{font-weight:600;margin:0 0 .4rem}
figure svg{display:block;width:100%;max-width:100%;height:auto}
.note{color:#444;font-size:.9rem;margin:.4rem 0 0}
details{margin-top:.4rem;font-size:.9rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.15rem .4rem;border-bottom:1px solid #e4e4e4;overflow-wrap:anywhere}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
footer{margin-top:2rem;padding-top:.5rem;border-top:1px solid #ccc;font-size:.9rem;color:#333}
footer li{overflow-wrap:anywhere}
@media (max-width:520px){main{padding:8px}figure{padding:8px}h1{font-size:1.3rem}}
]]

local function count_text(n) return format.integer(n, NBSP) end

local function media_text(d)
  if not d.media then return "all videos and live streams of the account" end
  local kind = d.media.kind == "video" and "video" or "live stream"
  return kind .. " " .. d.media.id .. (d.media.name and (" (" .. d.media.name .. ")") or "")
end

-- t (UTC seconds) as the local time of d's zone, shifted onto the epoch
-- (the chart calendar's UTC arithmetic then gives the zone's calendar).
local function shift(d, t)
  local z = d.time_zone
  if z == nil or t == nil then return t end
  return t + z:offset_at(t)
end

-- The name times are labelled with: "UTC" or the zone's.
local function zone_name(d)
  return d.time_zone and d.time_zone.name or "UTC"
end

-- "2023-01-01 00:00 UTC", or in d's zone "2023-01-01 00:00 Europe/Paris (+01:00)".
local function stamp(d, t)
  local z = d.time_zone
  if z == nil then return calendar.stamp(t) end
  local off = z:offset_at(t)
  local a = math.abs(off)
  local text = string.format("%s%02d:%02d", off < 0 and "-" or "+", math.floor(a / 3600), math.floor(a % 3600 / 60))
  local label = z.name == text and text or (z.name .. " (" .. text .. ")")
  return (calendar.stamp(t + off):gsub(" UTC$", function() return " " .. label end))
end

local function window_text(d)
  local parts = {}
  if d.period then parts[#parts + 1] = d.period end
  if d.from or d.to then
    local range = (d.from and stamp(d, d.from) or "…") .. " to " .. (d.to and stamp(d, d.to) or "…")
    parts[#parts + 1] = d.period and ("(" .. range .. ")") or range
  end
  if #parts == 0 then return "not stated" end
  return table.concat(parts, " ")
end

local function header(d, title)
  local items = {
    { "Media", media_text(d) },
    { "Period", window_text(d) },
  }
  if d.filters and #d.filters > 0 then
    local f = {}
    for i, kv in ipairs(d.filters) do f[i] = kv.key .. " = " .. kv.value end
    items[#items + 1] = { "Filters", table.concat(f, "; ") }
  end
  items[#items + 1] = { d.metric == "plays" and "Plays" or "Sessions", count_text(d.sessions) }
  local pv = d.previous
  if pv then
    local change = pv.sessions > 0
      and string.format(" (this period: %+.1f %%)", (d.sessions - pv.sessions) / pv.sessions * 100) or ""
    items[#items + 1] = { "Previous", stamp(d, pv.from) .. " to " .. stamp(d, pv.to) .. ": "
      .. count_text(pv.sessions) .. " " .. (d.metric == "plays" and "plays" or "sessions") .. change }
  end
  items[#items + 1] = { "Events", d.events and count_text(d.events) or "not fetched" }
  items[#items + 1] = { "Generated", stamp(d, d.generated_at) }
  local dl = {}
  for _, it in ipairs(items) do
    dl[#dl + 1] = el("dt", nil, it[1])
    dl[#dl + 1] = el("dd", { "class", "q-" .. it[1]:lower() }, it[2])
  end
  return el("header", nil, el("h1", nil, title), el("dl", nil, dl))
end

local function figure(id, caption, svg, ...)
  return el("figure", { "id", id .. "-figure" }, el("figcaption", nil, caption), markup.raw(svg), ...)
end

local function over_time_section(d, notes)
  local what = d.metric or "sessions"
  local o = d.over_time
  local caption = (what == "plays" and "Plays" or "Sessions") .. " over time"
  if not o then return nil end
  local points, interval = o.points, o.interval
  if d.time_zone and points then
    local shifted = {}
    for i, p in ipairs(points) do shifted[i] = { t = shift(d, p.t), t_end = shift(d, p.t_end), value = p.value } end
    points = shifted
  end
  if o.times then
    local times = o.times
    if d.time_zone then
      times = {}
      for i, t in ipairs(o.times) do times[i] = shift(d, t) end
    end
    local b = stats.buckets(times, { from = shift(d, d.from), to = shift(d, d.to) })
    points, interval = b.points, b.interval.name
    if b.outside > 0 then
      notes[#notes + 1] = { count = b.outside, what = what .. " outside the period",
        reason = "their times fall before 'from' or at or after 'to'; they are counted everywhere but over time" }
    end
  end
  local cap = caption .. (interval and (", per " .. interval) or "") .. " (" .. zone_name(d) .. ")"
  local series = { { label = what, points = points } }
  local pv = d.previous
  if pv and pv.points and #pv.points > 0 and d.from then
    -- the previous period's line, faint, on this period's axis
    local len = d.from - pv.from
    local moved = {}
    for i, p in ipairs(pv.points) do
      moved[i] = { t = shift(d, p.t + len), t_end = p.t_end and shift(d, p.t_end + len), value = p.value }
    end
    series[2] = { label = "previous period", points = moved, faint = true } -- (its dates: in the header)
  end
  local svg = plot.time_series(series, { id = "over-time", title = cap,
    y_label = what .. (interval and (" per " .. interval) or ""), interval_name = interval, sep = NBSP,
    x_label = d.time_zone and ("Time (" .. d.time_zone.name .. ")") or nil,
    zone_name = d.time_zone and d.time_zone.name or nil })
  return figure("over-time", cap, svg)
end

local function breakdown_table(rows, unit)
  local list = plot.ranked(rows, 50)
  local body = {}
  for i, r in ipairs(list) do
    body[i] = el("tr", nil, el("td", nil, r.label), el("td", { "class", "num" }, count_text(r.value)))
  end
  return el("details", nil, el("summary", nil, "Table"),
    el("table", nil, el("thead", nil, el("tr", nil, el("th", nil, "value"), el("th", { "class", "num" }, unit))),
      el("tbody", nil, body)))
end

local function breakdowns_section(d)
  local figs = {}
  -- what the breakdowns count: sessions (walked), or plays (the /data operations)
  local unit = d.metric == "plays" and "plays" or "sessions"
  local Unit = unit:sub(1, 1):upper() .. unit:sub(2)
  for _, b in ipairs(M.BREAKDOWNS) do
    local rows = d.breakdowns and d.breakdowns[b[1]]
    if rows then
      local fid = "by-" .. b[1]:gsub("_", "-")
      local svg = plot.bars(rows, { id = fid, title = Unit .. " by " .. b[2]:lower(), top = d.top,
        value_label = unit, sep = NBSP, urls = b[1] == "referrer" })
      figs[#figs + 1] = figure(fid, b[2], svg, #rows > 0 and breakdown_table(rows, unit) or nil)
    end
  end
  return figs
end

local function duration_section(d)
  if not d.durations then return nil end
  local values = d.durations
  local caption = "Session duration"
  local svg = plot.histogram(values, { id = "duration", title = "Session duration", duration = true,
    x_label = "session duration", y_label = "sessions", sep = NBSP })
  local s = stats.summary(values)
  local note
  if s.count > 0 then
    note = el("p", { "class", "note" }, count_text(s.count) .. " sessions with a duration: median "
      .. format.duration(s.median) .. ", mean " .. format.duration(s.mean) .. ", p90 " .. format.duration(s.p90)
      .. ", longest " .. format.duration(s.max) .. ".")
  end
  return figure("duration", caption, svg, note)
end

local function funnel_section(d)
  if not d.funnel then return nil end
  local steps = {}
  for i, s in ipairs(M.FUNNEL) do steps[i] = { s[2], d.funnel[s[1]] } end
  local svg = plot.funnel(steps, { id = "funnel", title = "Event funnel", value_label = "sessions", sep = NBSP })
  return figure("funnel", "Event funnel (sessions that emitted each event)", svg)
end

local function event_types_section(d)
  if not d.event_types then return nil end
  local rows = d.event_types
  local svg = plot.bars(rows, { id = "event-types", title = "Events by type", top = d.top,
    value_label = "events", sep = NBSP })
  return figure("event-types", "Events by type", svg)
end

local function retention_section(d)
  local r = d.retention
  if not r then return nil end
  local svg = plot.retention(r, { id = "retention", title = "Audience retention", sep = NBSP })
  local note
  if r.sessions > 0 and #r.steps > 1 then
    note = el("p", { "class", "note" }, "Share of the " .. count_text(r.sessions) .. " sessions that played "
      .. "still watching at each position (from the positions of their play, pause, resume, seek and end events; "
      .. "a part watched twice counts once).")
  end
  return figure("retention", "Audience retention", svg, note)
end

local function footer(d, notes)
  local items = {}
  local all = {}
  for _, l in ipairs(d.left_out or {}) do all[#all + 1] = l end
  for _, l in ipairs(notes) do all[#all + 1] = l end
  for _, l in ipairs(all) do
    items[#items + 1] = el("li", { "class", "left-out" }, (l.count and count_text(l.count) .. " × " or "")
      .. l.what .. (l.reason and (": " .. l.reason) or ""))
  end
  local left = #items > 0 and el("ul", nil, items) or el("p", { "class", "left-out-none" }, "Nothing was left out.")
  local missing = {}
  if not d.over_time then missing[#missing + 1] = "sessions over time" end
  if not d.breakdowns then missing[#missing + 1] = "breakdowns" end
  if not d.durations then missing[#missing + 1] = "durations" end
  if not d.retention then missing[#missing + 1] = "audience retention" end
  if not d.funnel then missing[#missing + 1] = "event funnel" end
  if not d.event_types then missing[#missing + 1] = "events by type" end
  return el("footer", nil, el("h2", nil, "Left out"), left,
    #missing > 0 and el("p", nil, "Not in the data: " .. table.concat(missing, ", ") .. ".") or nil,
    el("p", nil, "Times are " .. (d.time_zone and ("in " .. d.time_zone.name) or "UTC") .. ". Shares are of the "
      .. (d.metric == "plays" and "plays" or "sessions")
      .. " counted." .. (d.durations and #d.durations > 0
      and (" Durations: bins of the smaller of the Freedman–Diaconis and the "
      .. "Sturges width (at least five bins), rounded down to a nice width, the tail past the 95th percentile in "
      .. "one bin when it is long; median of all durations, p90 by nearest rank.") or "")
      .. " This page has no script and loads nothing."))
end

-- A heading and its grid of figures (each argument a figure, nil, or an
-- array of figures); nothing when there is no figure.
local function section(heading, ...)
  local list = {}
  for i = 1, select("#", ...) do
    local f = select(i, ...)
    if markup.is_node(f) then list[#list + 1] = f
    elseif type(f) == "table" then
      for _, g in ipairs(f) do list[#list + 1] = g end
    end
  end
  if #list == 0 then return nil end
  return { el("h2", nil, heading), el("div", { "class", "grid" }, list) }
end

--- The report as one HTML document (a string), built from `data` (a `Data` table).
-- Raises, naming the field, when the data is not what is documented.
---@param data apivideo.report.Data
---@return string html
function M.html(data)
  check(data)
  local title = data.title or "api.video analytics report"
  local notes = {}
  local over_time = over_time_section(data, notes)
  local page = el("html", { "lang", "en" },
    el("head", nil,
      el("meta", { "charset", "utf-8" }),
      el("meta", { "http-equiv", "Content-Security-Policy",
        "content", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'" }),
      el("meta", { "name", "referrer", "content", "no-referrer" }),
      el("meta", { "name", "viewport", "content", "width=device-width, initial-scale=1" }),
      el("title", nil, title .. " — " .. media_text(data)),
      el("style", nil, markup.raw(CSS))),
    el("body", nil, el("main", nil,
      header(data, title),
      section(over_time and data.durations and "Over time and duration" or over_time and "Over time"
        or "Duration", over_time, duration_section(data)),
      section("Who watched, on what", breakdowns_section(data)),
      section("Events", retention_section(data), funnel_section(data), event_types_section(data)),
      footer(data, notes))))
  return "<!DOCTYPE html>\n" .. markup.render(page) .. "\n"
end

return M
