--- The API's clock: what time api.video says it is.
--
-- Every answer carries a `Date` header (whole seconds, the server's clock).
-- The clock keeps the latest one with the local monotonic time it arrived
-- at, so `now()` is the API's time advanced by what elapsed here since:
-- a machine whose own clock is wrong neither asks for the future nor skips
-- what the API has (the archive reckons its windows and the 30-day limit
-- from it).
-- @module apivideo.clock
local core = require("apivideo.core")
local calendar = require("apivideo.calendar")

local M = {}

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
  Nov = 11, Dec = 12 }

--- Seconds since the epoch of an HTTP date (RFC 9110 IMF-fixdate,
-- "Sun, 06 Nov 1994 08:49:37 GMT"), or nil.
-- @local
---@param s string
---@return number?
function M.parse_http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, sec = s:match("^%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  local m = MONTHS[mon]
  if not m then return nil end
  d, y, h, mi, sec = tonumber(d), tonumber(y), tonumber(h), tonumber(mi), tonumber(sec)
  if d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  return calendar.days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec
end

local Clock = {}
Clock.__index = Clock

--- A clock that has seen no answer yet.
-- @local
function M.new()
  return setmetatable({}, Clock)
end

--- Takes the Date header of an answer (response headers, lower-case names).
function Clock:learn(headers)
  local t = headers and M.parse_http_date(headers.date)
  if t then self.api_s, self.at_ms = t, core.now_ms() end
end

--- The API's time now (seconds since the epoch), or nil before any answer.
function Clock:now()
  if not self.api_s then return nil end
  return self.api_s + (core.now_ms() - self.at_ms) / 1000
end

return M
