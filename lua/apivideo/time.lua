--- ISO-8601 timestamps (as the API sends them) to seconds since the epoch.
-- @module apivideo.time
local check = require("apivideo.check")

local M = {}

local function days_from_civil(y, m, d)
  -- Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end


--- "2019-06-24T11:45:01.109Z" or with an offset ("+02:00") -> 1561376701.109.
-- Returns nil and a message for anything else.
---@param s string
---@return number? seconds
---@return string? err
function M.parse(s)
  if type(s) ~= "string" then return nil, "timestamp must be a string" end
  local day, h, mi, sec, rest = s:match("^(%d%d%d%d%-%d%d%-%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not day then return nil, "not an ISO-8601 timestamp: '" .. s .. "'" end
  local y, mo, d = check.date(day) -- the calendar rules live in one place
  h, mi, sec = tonumber(h), tonumber(mi), tonumber(sec)
  if not y or h > 23 or mi > 59 or sec > 60 then
    return nil, "timestamp out of range: '" .. s .. "'"
  end
  local frac = 0
  local f, tz = rest:match("^%.(%d+)(.*)$")
  if f then
    frac = tonumber("0." .. f)
    rest = tz
  end
  local offset = 0
  if rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil, "timestamp without a time zone: '" .. s .. "'" end
    if tonumber(oh) > 23 or tonumber(om) > 59 then
      return nil, "time zone offset out of range: '" .. s .. "'"
    end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec + frac - offset
end

return M
