--- The summary's statistics: sessions counted by group, session durations
-- (median, mean, p90 by nearest rank) and events counted by type. Pure
-- functions and an accumulator; no I/O.
-- @module apivideo.cli.stats
local apivideo = require("apivideo")
local chart_stats = require("apivideo.chart.stats")

local M = {}

local NULL = apivideo.null

--- t[a][b], nil for a missing table or JSON null.
function M.get(t, a, b)
  local x = t[a]
  if type(x) ~= "table" then return nil end
  local v = x[b]
  if v == NULL then return nil end
  return v
end
local get = M.get

--- A session's duration in seconds (from loaded_at to ended_at, to the
-- millisecond), or nil when either is missing or not a timestamp.
function M.duration_of(session)
  local s = session.session or {}
  if not (s.loaded_at and s.ended_at) then return nil end
  local a = apivideo.parse_time(s.loaded_at)
  local b = apivideo.parse_time(s.ended_at)
  if not (a and b) then return nil end
  return math.floor((b - a) * 1000 + 0.5) / 1000
end

--- The groups sessions are counted by: `name` (the summary's key) and
-- `get` (the session's value).
M.GROUPS = {
  { name = "country", get = function(s) return get(s, "location", "country") end },
  { name = "device_type", get = function(s) return get(s, "device", "type") end },
  { name = "os", get = function(s) return get(s, "os", "name") end },
  { name = "browser", get = function(s) return get(s, "client", "name") end },
  { name = "referrer_medium", get = function(s) return get(s, "referrer", "medium") end },
}

M.UNKNOWN = "(unknown)"

--- {label = count} -> array of {label =, value = count}, by count
-- descending then label.
function M.ranked(counts)
  local list = {}
  for k, v in pairs(counts) do list[#list + 1] = { label = k, value = v } end
  table.sort(list, function(a, b)
    if a.value ~= b.value then return a.value > b.value end
    return a.label < b.label
  end)
  return list
end

--- Count, median, mean and p90 (nearest rank) of an array of numbers: the
-- chart library's summary (the report draws the same figures), in the
-- summary's four fields.
function M.duration_stats(d)
  local s = chart_stats.summary(d)
  return { count = s.count, median = s.median, mean = s.mean, p90 = s.p90 }
end

local function key_of(v)
  if v == nil or v == NULL or v == "" then return M.UNKNOWN end
  return tostring(v)
end

--- An accumulator: add_session(s) per session; then, per session whose
-- events were walked, session_events() gives a counter whose add(e) counts
-- an event and whose commit() adds its counts to the totals (a session that
-- fails half-way is never committed: its events are not counted at all);
-- left_out(id, reason) notes a session whose events could not be fetched.
-- result(fetched) gives the figures, and for the report: `times` (each
-- session's loaded_at, seconds), `durations` (seconds) and, when
-- opts.funnel_steps maps event types to funnel steps (the report's
-- FUNNEL_EVENTS), `funnel` (sessions that emitted an event of each step,
-- over the sessions whose events counted) and `watched` (per session whose
-- events counted, the parts of the video it watched: apivideo.chart.stats.watched,
-- for the report's audience retention).
function M.new(opts)
  local step_of = opts and opts.funnel_steps
  local acc = { sessions = 0, ids = {} }
  local counts, durations, times = {}, {}, {}
  for _, g in ipairs(M.GROUPS) do counts[g.name] = {} end
  local events, events_total, counted, left, watched = {}, 0, 0, {}, {}
  local funnel
  if step_of then
    funnel = {}
    for _, step in pairs(step_of) do funnel[step] = 0 end
  end

  function acc.add_session(s)
    for _, g in ipairs(M.GROUPS) do
      local v = key_of(g.get(s))
      counts[g.name][v] = (counts[g.name][v] or 0) + 1
    end
    local d = M.duration_of(s)
    if d then durations[#durations + 1] = d end
    local loaded = get(s, "session", "loaded_at")
    local t = type(loaded) == "string" and apivideo.parse_time(loaded)
    if t then times[#times + 1] = t end
    acc.sessions = acc.sessions + 1
    acc.ids[acc.sessions] = get(s, "session", "session_id") or false
  end

  function acc.session_events()
    local mine, n, steps, seq = {}, 0, {}, {}
    local c = {}
    function c.add(e)
      local t = key_of(e.type)
      if step_of then seq[#seq + 1] = { type = t, at = e.at, from = e.from, to = e.to } end
      mine[t] = (mine[t] or 0) + 1
      n = n + 1
      local step = step_of and step_of[t]
      if step then steps[step] = true end
    end
    function c.commit()
      for t, k in pairs(mine) do events[t] = (events[t] or 0) + k end
      for step in pairs(steps) do funnel[step] = funnel[step] + 1 end
      events_total = events_total + n
      counted = counted + 1
      if step_of then watched[counted] = chart_stats.watched(seq) end
    end
    return c
  end

  function acc.events_total() return events_total end

  function acc.left_out(id, reason)
    left[#left + 1] = { session_id = id, reason = reason }
  end

  --- The figures: `sessions`, `groups` (in GROUPS order: { name =, counts =
  -- ranked list }), `duration` (duration_stats), `events` ({ fetched =,
  -- by_type = ranked list, total =, sessions_counted =, left_out = list of
  -- { session_id =, reason = } }), and `times`, `durations`, `funnel`, `watched`.
  function acc.result(fetched)
    local r = {
      sessions = acc.sessions, groups = {}, duration = M.duration_stats(durations),
      events = { fetched = fetched, by_type = M.ranked(events), total = events_total,
        sessions_counted = counted, left_out = left },
      times = times, durations = durations, funnel = funnel, watched = watched,
    }
    for i, g in ipairs(M.GROUPS) do r.groups[i] = { name = g.name, counts = M.ranked(counts[g.name]) } end
    return r
  end
  return acc
end

return M
