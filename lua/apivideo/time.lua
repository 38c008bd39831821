--- RFC 3339 / ISO 8601 timestamps (as the API sends them) to UTC seconds since the epoch.
-- @module apivideo.time
local calendar = require("apivideo.calendar")

local M = {}

local days_from_civil = calendar.days_from_civil

local QUOTE_MAX = 64

-- 's' in quotes, cut at QUOTE_MAX characters: a message stays one short line.
local function quote(s)
  if #s > QUOTE_MAX then s = s:sub(1, QUOTE_MAX) .. "..." end
  return "'" .. s .. "'"
end

local ZONES = "Z, [+-]hh, [+-]hhmm or [+-]hh:mm"
local OFFSETS = { "^([+-])(%d%d)$", "^([+-])(%d%d)(%d%d)$", "^([+-])(%d%d):(%d%d)$" }

-- The zone designator `zone` of `s` -> seconds east of UTC, or nil, err.
local function offset_of(zone, s)
  if zone == "Z" or zone == "z" then return 0 end
  if zone == "" then
    return nil, "no time zone in " .. quote(s) .. " (add " .. ZONES .. ")"
  end
  local junk = zone:match("^[Zz](.+)$")
  if junk then return nil, "unexpected " .. quote(junk) .. " after the time zone in " .. quote(s) end
  if not zone:match("^[+-]") then
    return nil, "bad time zone " .. quote(zone) .. " in " .. quote(s) .. " (expected " .. ZONES .. ")"
  end
  for _, pattern in ipairs(OFFSETS) do
    local sign, oh, om = zone:match(pattern)
    if sign then
      oh, om = tonumber(oh), tonumber(om or "0")
      if oh > 23 or om > 59 then
        return nil, "bad UTC offset " .. quote(zone) .. " in " .. quote(s) .. " (hours 00-23, minutes 00-59)"
      end
      return (oh * 3600 + om * 60) * (sign == "+" and 1 or -1)
    end
  end
  return nil, "bad UTC offset " .. quote(zone) .. " in " .. quote(s) .. " (expected [+-]hh, [+-]hhmm or [+-]hh:mm)"
end

-- The days since the epoch of date `day` (YYYY-MM-DD), or false when there
-- is no such date. Remembered: a list of sessions has few dates and two
-- timestamps a session (cleared past 1024 dates).
local day_memo, day_memo_n = {}, 0
local function days_of(day)
  local days = day_memo[day]
  if days == nil then
    local y, mo, d = calendar.date(day)
    days = y and days_from_civil(y, mo, d) or false
    if day_memo_n >= 1024 then day_memo, day_memo_n = {}, 0 end
    day_memo[day], day_memo_n = days, day_memo_n + 1
  end
  return days
end

--- Seconds since 1970-01-01T00:00:00Z (UTC, whatever the timestamp's own
-- offset) of an RFC 3339 timestamp, as a float (also for whole seconds, so
-- `math.type` is `"float"` on Lua 5.3+).
--
-- Takes `YYYY-MM-DD`, then `T`, `t` or a space, then `hh:mm:ss`, an optional
-- fraction of any length after a `.`, and a zone: `Z` or `z` (UTC), or an
-- offset from UTC written `+hh`, `+hhmm` or `+hh:mm` (or with `-`; hours
-- 00-23, minutes 00-59; `-00:00` is UTC). Second 60 (a leap second) counts as
-- the first second of the next minute. Returns nil and a message naming
-- what is wrong for anything else: no time zone, a bad UTC offset, a date
-- that does not exist, a bad time of day, ...
-- @usage time.parse("2019-06-24T11:45:01.109Z")   --> 1561376701.109
-- time.parse("2019-06-24T13:45:01.109+02")         --> 1561376701.109
-- time.parse("2019-06-24T11:45:01")                --> nil, "no time zone in '2019-06-24T11:45:01' (...)"
---@param s string the timestamp
---@return number? seconds # UTC seconds since the epoch, a float; nil when `s` is refused
---@return string? err # why `s` was refused (it quotes at most 64 characters of `s`)
function M.parse(s)
  if type(s) ~= "string" then
    return nil, "bad timestamp (string expected, got " .. (s == nil and "nil" or type(s)) .. ")"
  end
  local day, h, mi, sec, rest = s:match("^(%d%d%d%d%-%d%d%-%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not day then
    if s:match("^%d%d%d%d%-%d%d%-%d%d$") then
      return nil, "a date without a time of day: " .. quote(s)
    end
    return nil, "not an RFC 3339 timestamp: " .. quote(s)
      .. " (expected YYYY-MM-DDThh:mm:ss, an optional .fraction, and " .. ZONES .. ")"
  end
  local days = days_of(day)
  if not days then return nil, "the date " .. day .. " does not exist: " .. quote(s) end
  h, mi, sec = tonumber(h), tonumber(mi), tonumber(sec)
  if h > 23 or mi > 59 or sec > 60 then
    return nil, "bad time of day " .. s:sub(12, 19) .. " in " .. quote(s)
      .. " (hours 00-23, minutes 00-59, seconds 00-60)"
  end
  local frac = 0.0 -- a float: the result is one whether or not there is a fraction
  if rest:sub(1, 1) == "." then
    local f, zone = rest:match("^%.(%d+)(.*)$")
    if not f then return nil, "no digits after the decimal point in " .. quote(s) end
    frac = tonumber("0." .. f)
    rest = zone
  elseif rest:sub(1, 1) == "," then
    return nil, "a decimal comma in " .. quote(s) .. " (RFC 3339 writes the fraction after a '.')"
  end
  local offset, err = offset_of(rest, s)
  if not offset then return nil, err end
  -- whole seconds first (exact), then the fraction
  return (days * 86400 + h * 3600 + mi * 60 + sec - offset) + frac
end

return M
