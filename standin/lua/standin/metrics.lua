-- The figures of the /data/* operations, computed from the session records of
-- data.records(): one number over a window, the same per dimension value
-- (buckets) or per interval (time series).  Pure Lua, no ngx dependency.
--
-- A figure is one of these kinds:
--   sum      sum over the sessions loaded in [a, b) of a per-session measure
--   ratio    sum of one measure / sum of another (play-rate)
--   avg      sum of a measure / number of sessions
--   peak     most sessions active at once in [a, b) (ccv)
--   ccvavg   time-weighted mean of the active sessions over [a, b)
-- so sums of buckets and of time-series points equal the figure of the whole
-- window for every `sum` kind.
local data = require("standin.data")
local periods = require("standin.periods")

local floor, sort = math.floor, table.sort
local DAY_MS = periods.DAY_MS

local M = {}

-- Longest session, in ms: how far before a window its ccv records start.
M.MAX_SESSION_MS = 1800 * 1000

local MEASURES = {
  play = function() return 1 end,
  start = function() return 1 end,
  ["end"] = function(r) return data.has_end(r.i) and 1 or 0 end,
  impression = function(r) return data.impressions(r.i) end,
  ["impression-time"] = function(r) return data.impression_ms(r.i) end,
  ["watch-time"] = function(r) return r.dur end,
  session = function() return 1 end,
}

-- figure spec: {kind =, x = measure, y = measure (ratio), view_s = N (view)}
-- Returns the spec of an operation's metric (+ aggregation), or nil.
function M.spec(metric, aggregation, view_s)
  if metric == "view" then
    return { kind = "sum", x = "view", view_s = view_s, float = false }
  elseif metric == "play-rate" or (metric == "play" and aggregation == "rate") then
    return { kind = "ratio", x = "play", y = "impression", float = true }
  elseif metric == "ccv-peak" or (metric == "ccv" and (aggregation == "peak" or aggregation == "live")) then
    return { kind = "peak", float = false }
  elseif metric == "ccv-average" then
    return { kind = "ccvavg", float = true }
  elseif aggregation == "average" then
    return { kind = "avg", x = metric, float = true }
  elseif metric == "play-total" then
    return { kind = "sum", x = "play", float = false }
  end
  return { kind = "sum", x = metric, float = false }
end

local function measure(spec, name)
  if name == "view" then
    local need = spec.view_s
    return function(r) return r.dur >= need and 1 or 0 end
  end
  return MEASURES[name]
end

-- Is record r counted by a figure of this kind over [a, b)?
local function counted(kind, r, a, b)
  if kind == "peak" or kind == "ccvavg" then return r.t < b and r.e > a end
  return r.t >= a and r.t < b
end
M.counted = counted

local function sweep(recs, a, b)
  local ev, n = {}, 0
  local covered = 0
  for _, r in ipairs(recs) do
    if r.t < b and r.e > a then
      local s, f = r.t, r.e
      if s < a then s = a end
      if f > b then f = b end
      n = n + 1; ev[n] = s * 2 + 1        -- starts after ends at the same ms
      n = n + 1; ev[n] = f * 2
      covered = covered + (f - s)
    end
  end
  sort(ev)
  local cur, peak = 0, 0
  for k = 1, n do
    if ev[k] % 2 == 1 then
      cur = cur + 1
      if cur > peak then peak = cur end
    else
      cur = cur - 1
    end
  end
  return peak, covered
end

-- The figure of spec over the records recs (any superset: each kind picks its
-- own) in the window [a, b).  Returns a number (0 when nothing is counted).
function M.value(spec, recs, a, b)
  local kind = spec.kind
  if b <= a then return 0 end
  if kind == "peak" then return (sweep(recs, a, b)) end
  if kind == "ccvavg" then
    local _, covered = sweep(recs, a, b)
    return covered / (b - a)
  end
  local fx = measure(spec, spec.x)
  local fy = kind == "ratio" and measure(spec, spec.y) or MEASURES.session
  local sx, sy = 0, 0
  for _, r in ipairs(recs) do
    if r.t >= a and r.t < b then
      sx = sx + fx(r)
      sy = sy + fy(r)
    end
  end
  if kind == "sum" then return sx end
  if sy == 0 then return 0 end
  return sx / sy
end

-- Records passing pred (a function of the dims table; nil = all).
function M.filter(recs, pred)
  if not pred then return recs end
  local out = {}
  for _, r in ipairs(recs) do
    if pred(r.d) then out[#out + 1] = r end
  end
  return out
end

-- `unique`: only the first session of each viewer on each UTC day is kept
-- ("Viewers are unique for 1 day").  recs must be ordered and start at a day
-- boundary (or earlier) for the result to be exact from that day on.
function M.unique(recs)
  local seen, out = {}, {}
  for _, r in ipairs(recs) do
    local k = floor(r.t / DAY_MS) * 100 + data.viewer(r.i)
    if not seen[k] then
      seen[k] = true
      out[#out + 1] = r
    end
  end
  return out
end

-- The records a figure over [a, b) may need: sessions that started up to one
-- session length before a (ccv) and since the start of a's day (unique).
function M.fetch(a, b)
  local lo = floor(a / DAY_MS) * DAY_MS
  if a - M.MAX_SESSION_MS < lo then lo = a - M.MAX_SESSION_MS end
  if b <= lo then return {} end
  return data.records(lo, b)
end

-- Buckets: {value = dimension value, n = figure} for every dimension value of
-- a counted record.  key: a dims field (e.g. "country").
function M.buckets(spec, recs, a, b, key)
  local groups, order = {}, {}
  for _, r in ipairs(recs) do
    if counted(spec.kind, r, a, b) then
      local v = r.d[key]
      local g = groups[v]
      if not g then
        g = {}
        groups[v] = g
        order[#order + 1] = v
      end
      g[#g + 1] = r
    end
  end
  local out = {}
  for k, v in ipairs(order) do out[k] = { value = v, n = M.value(spec, groups[v], a, b) } end
  return out
end

-- Time series: {at = interval start ms, n = figure over the interval clipped
-- to [a, b)} for every interval (aligned on UTC multiples of step_ms) that has
-- a counted record.
function M.series(spec, recs, a, b, step_ms)
  local slots, order = {}, {}
  local function put(slot, r)
    local s = slots[slot]
    if not s then
      s = {}
      slots[slot] = s
      order[#order + 1] = slot
    end
    s[#s + 1] = r
  end
  local ccv = spec.kind == "peak" or spec.kind == "ccvavg"
  for _, r in ipairs(recs) do
    if counted(spec.kind, r, a, b) then
      if ccv then
        local s, f = r.t, r.e
        if s < a then s = a end
        if f > b then f = b end
        for slot = floor(s / step_ms), floor((f - 1) / step_ms) do put(slot, r) end
      else
        put(floor(r.t / step_ms), r)
      end
    end
  end
  sort(order)
  local out = {}
  for k, slot in ipairs(order) do
    local s = slot * step_ms
    local lo, hi = s, s + step_ms
    if lo < a then lo = a end
    if hi > b then hi = b end
    out[k] = { at = s, n = M.value(spec, slots[slot], lo, hi) }
  end
  return out
end

return M
