--- Scales: data values to positions, with ticks people can read.
--
-- Linear scales put ticks on "nice" numbers, 1, 2 or 5 times a power of
-- ten (or on the steps of a list the caller gives, e.g. durations), and
-- widen the domain to whole steps. Degenerate domains still give a usable
-- scale: a single value v becomes [0.9 v, 1.1 v] (or [0, v] with `zero`),
-- a single 0 becomes [0, 1].
--
-- Time scales (seconds since the epoch) put ticks on calendar boundaries in
-- UTC at the smallest of 1, 5, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6,
-- 12 h, 1, 2 days, 1 week (Mondays), 1, 3 months, 1, 2, 5, 10... years that
-- gives at most `ticks` ticks; labels are UTC.
-- @module apivideo.chart.scale
local calendar = require("apivideo.chart.calendar")
local format = require("apivideo.chart.format")

local M = {}

--- The affine map of [d0, d1] onto [r0, r1].
local function linear(d0, d1, r0, r1)
  return function(v) return r0 + (v - d0) / (d1 - d0) * (r1 - r0) end
end

local floor, ceil = math.floor, math.ceil
local log10 = math.log10 or function(x) return math.log(x, 10) end -- luacheck: ignore 143

local function finite(x) return format.finite(x) end

--- The smallest 1, 2 or 5 x 10^k that is >= x (x > 0).
---@param x number
---@return number
function M.nice_up(x)
  local k = floor(log10(x))
  local base = 10 ^ k
  for _, f in ipairs({ 1, 2, 5, 10 }) do
    if f * base >= x * (1 - 1e-12) then return f * base end
  end
  return 10 * base
end

--- A tick step near x (x > 0): 1, 2, 5 or 10 times a power of ten, the
-- nearest to x on a log scale (so a span cut in 4 gets 3 to 6 ticks).
---@param x number
---@return number
function M.nice_step(x)
  local k = floor(log10(x))
  local base = 10 ^ k
  local f = x / base
  if f >= math.sqrt(50) then return 10 * base end
  if f >= math.sqrt(10) then return 5 * base end
  if f >= math.sqrt(2) then return 2 * base end
  return base
end

--- The smallest entry of the ascending list `steps` that is >= x, else
-- nice_up(x) (past the end of the list).
---@param x number
---@param steps number[]?
---@return number
function M.step_up(x, steps)
  if steps then
    for _, s in ipairs(steps) do
      if s >= x * (1 - 1e-12) then return s end
    end
  end
  return M.nice_up(x)
end

-- Steps for durations in seconds: sub-second 1/2/5 x 10^k, then 1, 2, 5,
-- 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1, 2, 7 days.
M.DURATION_STEPS = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
  86400, 172800, 604800 }

--- Duration steps for step_up: below one second the "1, 2 or 5 x 10^k" rule applies.
---@param x number
---@return number
function M.duration_step(x)
  if x < 1 then return M.nice_up(x) end
  return M.step_up(x, M.DURATION_STEPS)
end

--- A linear scale.
-- @table LinearScale
---@class apivideo.chart.LinearScale
---@field domain number[] {lo, hi} after widening to whole steps
---@field range number[] {r0, r1}
---@field step number the distance between ticks
---@field ticks number[] tick values, ascending
---@field map fun(v: number): number a value's position

--- A linear scale.
-- opts: `domain` {lo, hi} (finite numbers, any order; lo == hi allowed),
-- `range` {r0, r1}, `ticks` (about how many, default 5), `zero` (include 0
-- in the domain), `step` (a function x -> step near x; default nice_step),
-- `label` (a function tick -> label; default format.ticks).
---@param opts table
---@return apivideo.chart.LinearScale
function M.linear(opts)
  local lo, hi = opts.domain[1], opts.domain[2]
  if not (finite(lo) and finite(hi)) then
    error("apivideo.chart.scale.linear: the domain must be finite numbers, got "
      .. tostring(lo) .. ", " .. tostring(hi), 2)
  end
  if lo > hi then lo, hi = hi, lo end
  if opts.zero then lo, hi = math.min(lo, 0), math.max(hi, 0) end
  if lo == hi then
    if lo == 0 then hi = 1 else
      local pad = math.abs(lo) * 0.1
      lo, hi = lo - pad, hi + pad
    end
  end
  if not finite(hi - lo) then error("apivideo.chart.scale.linear: the domain is too wide", 2) end
  local count = opts.ticks or 5
  local step = (opts.step or M.nice_step)((hi - lo) / count)
  local i0, i1 = floor(lo / step + 1e-9), ceil(hi / step - 1e-9)
  -- a tiny span far from zero (1e20 .. 1e20 + 1e5): step multiples cannot
  -- represent it; fall back to the domain's own ends
  local ticks = {}
  if i1 - i0 > 10 * count + 10 or not finite(i0 * step) or not finite(i1 * step) then
    ticks = { lo, hi }
  else
    for i = i0, i1 do
      local t = i * step
      if t == 0 then t = 0 end -- no -0
      ticks[#ticks + 1] = t
    end
    lo, hi = ticks[1], ticks[#ticks]
  end
  local r0, r1 = opts.range[1], opts.range[2]
  local s = { domain = { lo, hi }, range = { r0, r1 }, step = step, ticks = ticks, map = linear(lo, hi, r0, r1) }
  s.labels = function(sep)
    if opts.label then
      local out = {}
      for i, t in ipairs(ticks) do out[i] = opts.label(t) end
      return out
    end
    return format.ticks(ticks, step, sep)
  end
  return s
end

-- Tick intervals of the time scale, shortest first.
local TIME_INTERVALS = {
  { unit = "second", step = 1 }, { unit = "second", step = 5 }, { unit = "second", step = 15 },
  { unit = "second", step = 30 }, { unit = "minute", step = 1 }, { unit = "minute", step = 2 },
  { unit = "minute", step = 5 }, { unit = "minute", step = 10 }, { unit = "minute", step = 15 },
  { unit = "minute", step = 30 }, { unit = "hour", step = 1 }, { unit = "hour", step = 2 },
  { unit = "hour", step = 3 }, { unit = "hour", step = 6 }, { unit = "hour", step = 12 },
  { unit = "day", step = 1 }, { unit = "day", step = 2 }, { unit = "week", step = 1 },
  { unit = "month", step = 1 }, { unit = "month", step = 3 }, { unit = "year", step = 1 },
}
M.TIME_INTERVALS = TIME_INTERVALS

-- The tick times of interval iv within [t0, t1].
local function time_ticks(t0, t1, iv, limit)
  local out = {}
  local t = calendar.floor(t0, iv)
  if t < t0 then t = calendar.add(t, iv) end
  while t <= t1 do
    out[#out + 1] = t
    if #out > limit then return nil end
    t = calendar.add(t, iv)
  end
  return out
end

-- The label of a tick and the context line under it (the day under
-- times, the year under days and months), shown at the first tick and
-- where the context changes.
local function time_label(t, iv, prev)
  local f = calendar.fields(t)
  local p = prev and calendar.fields(prev)
  local month = calendar.MONTHS[f.month]
  local u = iv.unit
  if u == "second" or u == "minute" or u == "hour" then
    local main = u == "second" and string.format("%02d:%02d:%02d", f.hour, f.min, floor(f.sec))
      or string.format("%02d:%02d", f.hour, f.min)
    local same_day = p and p.year == f.year and p.month == f.month and p.day == f.day
    return main, (not same_day) and (f.day .. " " .. month) or nil
  elseif u == "day" or u == "week" then
    return f.day .. " " .. month, (not p or p.year ~= f.year) and tostring(f.year) or nil
  elseif u == "month" then
    return month, (not p or p.year ~= f.year) and tostring(f.year) or nil
  end
  return tostring(f.year), nil
end

--- A tick of a time scale.
-- @table TimeTick
---@class apivideo.chart.TimeTick
---@field t number seconds since the epoch
---@field label string "15:30", "2 Dec", "Dec", "2026"
---@field sub? string the context line (day, year) where it changes

--- A time scale.
-- @table TimeScale
---@class apivideo.chart.TimeScale
---@field domain number[] {t0, t1}
---@field range number[] {r0, r1}
---@field interval table the tick interval { unit=, step= }
---@field ticks apivideo.chart.TimeTick[]
---@field map fun(t: number): number

--- A time scale over seconds since the epoch, ticks and labels in UTC.
-- opts: `domain` {t0, t1} (t0 == t1 widens to an hour either side),
-- `range` {r0, r1}, `ticks` (at most this many, default 6).
---@param opts table
---@return apivideo.chart.TimeScale
function M.time(opts)
  local t0, t1 = opts.domain[1], opts.domain[2]
  if not (finite(t0) and finite(t1)) then
    error("apivideo.chart.scale.time: the domain must be finite numbers", 2)
  end
  if t0 > t1 then t0, t1 = t1, t0 end
  if t0 == t1 then t0, t1 = t0 - 3600, t1 + 3600 end
  local limit = opts.ticks or 6
  local times, iv
  for _, candidate in ipairs(TIME_INTERVALS) do
    if (t1 - t0) / calendar.length(candidate) <= limit + 1 then
      times = time_ticks(t0, t1, candidate, limit)
      if times then
        iv = candidate
        break
      end
    end
  end
  if not times then -- years: 2, 5, 10, 20, 50... years apart
    local years = M.nice_up((t1 - t0) / 31557600 / limit)
    repeat
      iv = { unit = "year", step = math.max(1, floor(years + 0.5)) }
      times = time_ticks(t0, t1, iv, limit)
      years = M.nice_up(years * 1.5)
    until times
  end
  local ticks = {}
  for i, t in ipairs(times) do
    local label, sub = time_label(t, iv, times[i - 1])
    ticks[i] = { t = t, label = label, sub = sub }
  end
  local r0, r1 = opts.range[1], opts.range[2]
  local s = { domain = { t0, t1 }, range = { r0, r1 }, interval = iv, ticks = ticks, map = linear(t0, t1, r0, r1) }
  return s
end

return M
