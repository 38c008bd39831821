--- UTC calendar arithmetic on seconds since the epoch (no os.date, no
-- local time: the same answer on every machine and Lua version).
--
-- An interval is `{ unit = U, step = N }` with U one of "second", "minute",
-- "hour", "day", "week" (starting on Monday, ISO 8601), "month", "year".
-- `floor(t, iv)` is the start of the interval holding t, aligned on the
-- calendar: hours on multiples of N from midnight, weeks on Mondays,
-- months on multiples of N from January, years on multiples of N.
-- @module apivideo.chart.calendar
local civil = require("apivideo.calendar")

local M = {}

local floor = math.floor

--- Days since 1970-01-01 of a proleptic Gregorian date (`apivideo.calendar`,
-- the library's one calendar).
-- @function days_from_civil
---@param y integer
---@param m integer 1..12
---@param d integer 1..31
---@return integer
M.days_from_civil = civil.days_from_civil

--- The date of a day number (the inverse of days_from_civil).
-- @function civil_from_days
---@param z integer days since 1970-01-01
---@return integer y
---@return integer m
---@return integer d
M.civil_from_days = civil.civil_from_days

--- The UTC fields of a time: year, month, day, hour, minute, second
-- (with its fraction), and the weekday (1 = Monday to 7 = Sunday).
---@param t number seconds since the epoch
---@return table
function M.fields(t)
  local days = floor(t / 86400)
  local rest = t - days * 86400
  local y, m, d = M.civil_from_days(days)
  return { year = y, month = m, day = d, hour = floor(rest / 3600), min = floor(rest % 3600 / 60),
    sec = rest % 60, wday = civil.weekday(days) }
end

local SECONDS = { second = 1, minute = 60, hour = 3600, day = 86400, week = 604800 }
M.SECONDS = SECONDS

--- The start of the interval holding t.
---@param t number
---@param iv table { unit=, step= }
---@return number
function M.floor(t, iv)
  local unit, step = iv.unit, iv.step or 1
  if unit == "week" then
    local days = floor(t / 86400)
    local monday = days - (civil.weekday(days) - 1)
    return (monday - (floor((monday + 3) / 7) % step) * 7) * 86400
  elseif SECONDS[unit] then
    local size = SECONDS[unit] * step
    return floor(t / size) * size
  end
  local f = M.fields(t)
  if unit == "month" then
    local index = f.year * 12 + f.month - 1
    index = index - index % step
    return M.days_from_civil(floor(index / 12), index % 12 + 1, 1) * 86400
  elseif unit == "year" then
    return M.days_from_civil(f.year - f.year % step, 1, 1) * 86400
  end
  error("apivideo.chart.calendar: unknown unit " .. tostring(unit), 2)
end

--- t plus n intervals (t should be an interval start for months and years).
---@param t number
---@param iv table { unit=, step= }
---@param n integer? how many intervals (default 1)
---@return number
function M.add(t, iv, n)
  local count = (iv.step or 1) * (n or 1)
  if SECONDS[iv.unit] then return t + SECONDS[iv.unit] * count end
  local f = M.fields(t)
  local within = t - M.days_from_civil(f.year, f.month, f.day) * 86400
  local index = f.year * 12 + f.month - 1 + (iv.unit == "year" and 12 or 1) * count
  return M.days_from_civil(floor(index / 12), index % 12 + 1, f.day) * 86400 + within
end

--- The typical length of an interval in seconds (months as 30.44 days,
-- years as 365.25): for choosing intervals, not for arithmetic.
---@param iv table
---@return number
function M.length(iv)
  local s = SECONDS[iv.unit] or (iv.unit == "month" and 2629800 or 31557600)
  return s * (iv.step or 1)
end

local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
M.MONTHS = MONTHS

--- "2026-12-02 15:32 UTC" (seconds dropped).
---@param t number
---@return string
function M.stamp(t)
  local f = M.fields(t)
  return string.format("%04d-%02d-%02d %02d:%02d UTC", f.year, f.month, f.day, f.hour, f.min)
end

--- "2026-12-02".
---@param t number
---@return string
function M.date(t)
  local f = M.fields(t)
  return string.format("%04d-%02d-%02d", f.year, f.month, f.day)
end

return M
