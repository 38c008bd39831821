-- Calendar arithmetic (UTC, proleptic Gregorian) and api.video `period` parsing.
-- Pure Lua, no ngx dependency: usable from plain LuaJIT / Lua 5.x as well.
local floor, format, match, tonumber = math.floor, string.format, string.match, tonumber

local M = {}

local DAY_MS = 86400000
M.DAY_MS = DAY_MS

-- Days since 1970-01-01 for a civil date (H. Hinnant's algorithm).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
M.days_from_civil = days_from_civil

local function civil_from_days(z)
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
M.civil_from_days = civil_from_days

local function is_leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function days_in_month(y, m)
  if m == 2 and is_leap(y) then return 29 end
  return MDAYS[m]
end

-- ISO weekday, Monday = 1 .. Sunday = 7 (1970-01-01 was a Thursday).
local function iso_weekday(days) return (days + 3) % 7 + 1 end

local function iso_weeks_in_year(y)
  local wd = iso_weekday(days_from_civil(y, 1, 1))
  if wd == 4 or (wd == 3 and is_leap(y)) then return 53 end
  return 52
end

-- Monday of ISO week 1 of year y, as days since the epoch.
local function iso_week1_monday(y)
  local jan4 = days_from_civil(y, 1, 4)
  return jan4 - (iso_weekday(jan4) - 1)
end

-- "2023-01-02T03:04:05.678Z" for a millisecond epoch timestamp.
function M.format_ms(ms)
  local days = floor(ms / DAY_MS)
  local rem = ms - days * DAY_MS
  local y, m, d = civil_from_days(days)
  local s = floor(rem / 1000)
  return format("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
    floor(s / 3600), floor(s / 60) % 60, s % 60, rem - s * 1000)
end

local function day(ys, ms_, ds)
  local y, m, d = tonumber(ys), tonumber(ms_), tonumber(ds)
  if y < 1 or m < 1 or m > 12 or d < 1 or d > days_in_month(y, m) then return nil end
  return days_from_civil(y, m, d)
end

-- Parses an api.video period.  Returns start_ms (inclusive), end_ms (exclusive)
-- or nil, message.
function M.parse(p)
  if type(p) ~= "string" or p == "" then
    return nil, "This value should not be blank."
  end
  local bad = "Period must have one of the following formats: "
    .. "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY, YYYY-MM-DD/YYYY-MM-DD."
  local y = match(p, "^(%d%d%d%d)$")
  if y then
    y = tonumber(y)
    if y < 1 then return nil, bad end
    return days_from_civil(y, 1, 1) * DAY_MS, days_from_civil(y + 1, 1, 1) * DAY_MS
  end
  local ys, ws = match(p, "^(%d%d%d%d)%-W(%d%d)$")
  if ys then
    y = tonumber(ys)
    local w = tonumber(ws)
    if y < 1 or w < 1 or w > iso_weeks_in_year(y) then return nil, bad end
    local start = iso_week1_monday(y) + (w - 1) * 7
    return start * DAY_MS, (start + 7) * DAY_MS
  end
  local ms_
  ys, ms_ = match(p, "^(%d%d%d%d)%-(%d%d)$")
  if ys then
    y = tonumber(ys)
    local m = tonumber(ms_)
    if y < 1 or m < 1 or m > 12 then return nil, bad end
    local start = days_from_civil(y, m, 1)
    return start * DAY_MS, (start + days_in_month(y, m)) * DAY_MS
  end
  local ds
  ys, ms_, ds = match(p, "^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if ys then
    local d = day(ys, ms_, ds)
    if not d then return nil, bad end
    return d * DAY_MS, (d + 1) * DAY_MS
  end
  local y1, m1, d1, y2, m2, d2 = match(p, "^(%d%d%d%d)%-(%d%d)%-(%d%d)/(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if y1 then
    local a, b = day(y1, m1, d1), day(y2, m2, d2)
    if not a or not b then return nil, bad end
    if b < a then return nil, "The end of the period must not be before its start." end
    return a * DAY_MS, (b + 1) * DAY_MS
  end
  return nil, bad
end

-- "2023-01-02T03:04:05+00:00" (ATOM, UTC, whole seconds) for a ms timestamp.
function M.format_atom(ms)
  local days = floor(ms / DAY_MS)
  local s = floor((ms - days * DAY_MS) / 1000)
  local y, m, d = civil_from_days(days)
  return format("%04d-%02d-%02dT%02d:%02d:%02d+00:00", y, m, d, floor(s / 3600), floor(s / 60) % 60, s % 60)
end

-- Parses an RFC 3339 date-time (ATOM is the case without a fraction and with a
-- numeric offset): "2024-02-05T00:00:00+01:00", "...Z", "...00.250Z".  A
-- fraction of a second is dropped.  Returns the UTC ms timestamp or nil.
function M.parse_datetime(v)
  if type(v) ~= "string" then return nil end
  local ys, mos, ds, hs, mis, ss, rest = match(v, "^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(.*)$")
  if not ys then return nil end
  rest = rest:gsub("^%.%d+", "", 1)
  local off
  if rest == "Z" or rest == "z" then
    off = 0
  else
    local sign, oh, om = match(rest, "^([%+%-])(%d%d):(%d%d)$")
    if not sign then return nil end
    oh, om = tonumber(oh), tonumber(om)
    if oh > 23 or om > 59 then return nil end
    off = (oh * 60 + om) * 60000
    if sign == "-" then off = -off end
  end
  local d = day(ys, mos, ds)
  local h, mi, sec = tonumber(hs), tonumber(mis), tonumber(ss)
  if not d or h > 23 or mi > 59 or sec > 59 then return nil end
  return d * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 - off
end

return M
