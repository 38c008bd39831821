--- The proleptic Gregorian calendar in UTC, once for the whole library:
-- day numbers, real dates, ISO 8601 weeks and api.video's five period forms.
-- Pure arithmetic (no os.date, no local time): the same answer on every
-- machine and Lua version.
--
-- Its callers: `check.period` and `check.date` (argument checks),
-- `time.parse` (timestamps), `chart.calendar` (intervals of a chart), the
-- CLI (`--from`/`--to` dates, the report's window of a `--period`) and the
-- archive. It requires nothing of the library.
-- @module apivideo.calendar
local M = {}

local floor = math.floor

local DAY = 86400
M.DAY = DAY

local DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December" }

--- Is y a leap year?
---@param y integer
---@return boolean
function M.leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end
local leap = M.leap

--- Days in month m of year y.
---@param y integer
---@param m integer 1..12
---@return integer
function M.days_in_month(y, m)
  return DAYS[m] + ((m == 2 and leap(y)) and 1 or 0)
end

--- Days since 1970-01-01 of a date (Howard Hinnant's algorithm).
---@param y integer
---@param m integer 1..12
---@param d integer 1..31
---@return integer
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local days_from_civil = M.days_from_civil

--- The date of a day number (the inverse of days_from_civil).
---@param z integer days since 1970-01-01
---@return integer y
---@return integer m
---@return integer d
function M.civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

--- The weekday of a day number: 1 = Monday to 7 = Sunday (1970-01-01 was a Thursday).
---@param z integer
---@return integer
function M.weekday(z)
  return (z + 3) % 7 + 1
end

--- The day number of the Monday of ISO week w of year y. Week 1 is the
-- week (Monday to Sunday) holding January 4.
---@param y integer
---@param w integer
---@return integer
function M.iso_week_start(y, w)
  local jan4 = days_from_civil(y, 1, 4)
  return jan4 - (jan4 + 3) % 7 + (w - 1) * 7
end

--- How many ISO weeks year y has: 53 when it starts on a Thursday, or is a
-- leap year starting on a Wednesday; else 52.
---@param y integer
---@return integer
function M.iso_weeks(y)
  return floor((M.iso_week_start(y + 1, 1) - M.iso_week_start(y, 1)) / 7)
end

--- The ISO year and week of a day number (a day of late December can be in
-- week 1 of the next year, a day of early January in the last week of the
-- year before).
---@param z integer
---@return integer year
---@return integer week
function M.iso_week_of(z)
  local y = M.civil_from_days(z)
  if z >= M.iso_week_start(y + 1, 1) then
    y = y + 1
  elseif z < M.iso_week_start(y, 1) then
    y = y - 1
  end
  return y, floor((z - M.iso_week_start(y, 1)) / 7) + 1
end

--- A date "YYYY-MM-DD" that exists -> y, m, d. A string of that shape that
-- names no real month or day -> nil and the reason ("the date 2023-02-29
-- does not exist: February 2023 has 28 days"); any other string -> nil.
---@param s string
---@return integer|nil y
---@return integer|string|nil m the month, or the reason
---@return integer|nil d
function M.date(s)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 then return nil, "there is no month " .. s:sub(6, 7) .. " (01 to 12)" end
  local max = M.days_in_month(y, m)
  if d < 1 or d > max then
    return nil, "the date " .. s .. " does not exist: " .. MONTHS[m] .. " " .. y .. " has " .. max .. " days"
  end
  return y, m, d
end

M.PERIOD_FORMS = "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD"

-- A day number of a real date, or nil, why.
local function day_of(s)
  local y, m, d = M.date(s)
  if not y then return nil, m end
  return days_from_civil(y, m, d)
end

-- parse_period's work: from, to; or nil, why; or nil (not a period's shape).
local function bounds(p)
  if p:match("^%d%d%d%d$") then
    local y = tonumber(p)
    return days_from_civil(y, 1, 1) * DAY, days_from_civil(y + 1, 1, 1) * DAY
  end
  local ys, ms = p:match("^(%d%d%d%d)%-(%d%d)$")
  if ys then
    local y, m = tonumber(ys), tonumber(ms)
    if m < 1 or m > 12 then return nil, "there is no month " .. ms .. " (01 to 12); got '" .. p .. "'" end
    local start = days_from_civil(y, m, 1)
    return start * DAY, (start + M.days_in_month(y, m)) * DAY
  end
  local yw, ws = p:match("^(%d%d%d%d)%-W(%d%d)$")
  if yw then
    local y, w = tonumber(yw), tonumber(ws)
    local weeks = M.iso_weeks(y)
    if w < 1 or w > weeks then
      return nil, "there is no week " .. ws .. ": " .. y .. " has " .. weeks .. " ISO weeks; got '" .. p .. "'"
    end
    local start = M.iso_week_start(y, w)
    return start * DAY, (start + 7) * DAY
  end
  if p:match("^%d%d%d%d%-%d%d%-%d%d$") then
    local z, why = day_of(p)
    if not z then return nil, why .. "; got '" .. p .. "'" end
    return z * DAY, (z + 1) * DAY
  end
  local a, b = p:match("^(%d%d%d%d%-%d%d%-%d%d)/(%d%d%d%d%-%d%d%-%d%d)$")
  if a then
    local za, why_a = day_of(a)
    if not za then return nil, why_a .. "; got '" .. p .. "'" end
    local zb, why_b = day_of(b)
    if not zb then return nil, why_b .. "; got '" .. p .. "'" end
    if za > zb then return nil, "range '" .. p .. "' ends before it starts" end
    return za * DAY, (zb + 1) * DAY
  end
  return nil
end

--- A period in one of api.video's five forms (a day `2023-01-31`, an ISO
-- week `2023-W05`, a month `2023-01`, a year `2023`, a range of days
-- `2023-01-01/2023-01-31`, both included) -> its UTC bounds [from, to) in
-- seconds since the epoch. A string of the right shape that names no real
-- month, week or day -> nil and why, quoting it ("there is no week 53: 2023
-- has 52 ISO weeks; got '2023-W53'"); any other string -> nil and the forms
-- expected.
---@param p string
---@return number|nil from
---@return number|string to, or the reason
function M.parse_period(p)
  local from, to = bounds(p)
  if from then return from, to end
  if to then return nil, to end
  return nil, M.PERIOD_FORMS .. " expected, got '" .. p .. "'"
end

return M
