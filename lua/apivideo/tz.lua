--- Time zones for the CLI's `--tz`: UTC, a fixed offset from UTC, or an IANA
-- zone (`Europe/Paris`) read from the system's zoneinfo. Pure Lua, the same
-- on Lua 5.1 to 5.4 and LuaJIT (no string.unpack, no os.date, no local time
-- of the machine).
--
-- What is read of a zoneinfo file (TZif, RFC 8536): the header's counts,
-- the transition times, their types and the types' offsets and
-- abbreviations. Of a version 2 or later file, the 64-bit section (the
-- 32-bit one is read past, unused), and the footer's POSIX TZ string for the times
-- after the last transition, when it has the usual shape (a standard and a
-- daylight offset with `Mm.w.d`, `Jn` or `n` rules); any other footer is not
-- used, and the last transition's type holds from then on. A version 1 file:
-- its 32-bit section, the last transition's type after its end. Before the
-- first transition: the first type (RFC 8536). Leap-second records are
-- skipped (zoneinfo's `right/` zones count leap seconds, the API's times do
-- not: use the plain zones).
-- @module apivideo.tz
local calendar = require("apivideo.calendar")

local M = {}

local floor = math.floor
local days_from_civil = calendar.days_from_civil

--- The range of a fixed offset: -12:00 to +14:00, as the world's zones.
M.MIN_OFFSET, M.MAX_OFFSET = -12 * 3600, 14 * 3600

local FORMS = "UTC, an offset such as +02:00 or -05:30, or an IANA name such as Europe/Paris"

------------------------------------------------------------------------------
-- Offsets as text.

--- "+02:00" of 7200 seconds east of UTC (seconds dropped; "+00:00" for UTC).
---@param off integer
---@return string
function M.offset_text(off)
  local sign = off < 0 and "-" or "+"
  local a = math.abs(off)
  return string.format("%s%02d:%02d", sign, floor(a / 3600), floor(a % 3600 / 60))
end
local offset_text = M.offset_text

------------------------------------------------------------------------------
-- Big-endian integers from a string (a byte reader: Lua 5.1 has no string.unpack).

local byte = string.byte

local function u32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function s32(s, i)
  local n = u32(s, i)
  if n >= 2 ^ 31 then n = n - 2 ^ 32 end
  return n
end

-- A signed 64-bit value as a double: exact for every time a zone has (|t| < 2^53).
local function s64(s, i)
  local hi, lo = u32(s, i), u32(s, i + 4)
  if hi >= 2 ^ 31 then hi = hi - 2 ^ 32 end
  return hi * 2 ^ 32 + lo
end

------------------------------------------------------------------------------
-- The zone object.

local Zone = {}
Zone.__index = Zone

--- The zone's offset at a time: seconds east of UTC, and the abbreviation
-- ("CEST"; a fixed offset's is its text, "+02:00").
---@param t number UTC seconds since the epoch
---@return integer offset
---@return string abbreviation
function Zone:offset_at(t)
  if self.fixed then return self.fixed, self.abbr end
  local times = self.times
  local n = #times
  if n == 0 or t < times[1] then
    local ty = self.types[1]
    return ty.off, ty.abbr
  end
  if t >= times[n] and self.rule then return self.rule(t) end
  local lo, hi = 1, n -- times[lo] <= t; find the last such
  while lo < hi do
    local mid = floor((lo + hi + 1) / 2)
    if times[mid] <= t then lo = mid else hi = mid - 1 end
  end
  local ty = self.types[self.index[lo]]
  return ty.off, ty.abbr
end

--- UTC seconds of a local civil time in the zone. The rule when the clock
-- is set back (a time that happens twice): the first of the two (the
-- offset before the change). When it is set forward (a time that never
-- happens): it is read with the offset before the change, which lands as
-- far after the change as the time is after its start (Paris, 2023-03-26
-- 02:30 is 01:30Z, 03:30 CEST; a midnight in a gap is the change itself:
-- the first instant of that day).
---@return number utc
function Zone:to_utc(y, m, d, h, mi, s)
  local lt = days_from_civil(y, m, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
  if self.fixed then return lt - self.fixed end
  -- a zone changes its offset at most once within a day either side
  local before = self:offset_at(lt - 86400)
  local after = self:offset_at(lt + 86400)
  local best
  for _, off in ipairs({ before, after }) do
    local t = lt - off
    if self:offset_at(t) == off and (best == nil or t < best) then best = t end
  end
  return best or (lt - before)
end

--- The local time of t as RFC 3339 with the zone's offset:
-- "2023-05-01T14:00:00+02:00" (a fraction of t is dropped).
---@param t number UTC seconds since the epoch
---@return string
function Zone:stamp(t)
  t = floor(t)
  local off = self:offset_at(t)
  local lt = t + off
  local days = floor(lt / 86400)
  local rest = lt - days * 86400
  local y, m, d = calendar.civil_from_days(days)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d%s", y, m, d, floor(rest / 3600), floor(rest % 3600 / 60),
    rest % 60, offset_text(off))
end

------------------------------------------------------------------------------
-- The POSIX TZ string of a TZif footer ("CET-1CEST,M3.5.0,M10.5.0/3").

-- A name ("CET", or "<+0530>") at position i -> name, next i.
local function tz_name(s, i)
  local q = s:match("^<([^>]*)>", i)
  if q then return q, i + #q + 2 end
  local a = s:match("^%a%a%a+", i)
  if a then return a, i + #a end
  return nil, i
end

-- [+-]hh[:mm[:ss]] at i -> seconds, next i.
local function tz_clock(s, i)
  local sign, h, rest = s:match("^([+-]?)(%d+)([:%d]*)", i)
  if not sign then return nil, i end
  local secs, len = tonumber(h) * 3600, #sign + #h
  local mm, ss = rest:match("^:(%d%d)"), rest:match("^:%d%d:(%d%d)")
  if mm then
    secs, len = secs + tonumber(mm) * 60, len + 3
    if ss then secs, len = secs + tonumber(ss), len + 3 end
  end
  return sign == "-" and -secs or secs, i + len
end

-- A rule date ("M3.5.0", "J60", "59") at i, with its /time (default 02:00)
-- -> function(year) -> local seconds, next i.
local function tz_date(s, i)
  local day
  local mm, w, wd = s:match("^M(%d+)%.(%d)%.(%d)", i)
  if mm then
    local len = 5 + #mm
    mm, w, wd = tonumber(mm), tonumber(w), tonumber(wd)
    day = function(y)
      local first = days_from_civil(y, mm, 1)
      local z = first + (wd - ((first + 4) % 7)) % 7 -- the first weekday wd (0 = Sunday) of the month
      z = z + (w - 1) * 7
      local last = first + calendar.days_in_month(y, mm) - 1
      while z > last do z = z - 7 end -- week 5: the last one
      return z
    end
    i = i + len
  else
    local j, n = s:match("^(J?)(%d+)", i)
    if not j then return nil, i end
    n = tonumber(n)
    day = function(y)
      local z = days_from_civil(y, 1, 1) + n
      if j == "J" then -- 1..365, February 29 never counted
        z = z - 1
        if calendar.leap(y) and n >= 60 then z = z + 1 end
      end
      return z
    end
    i = i + #j + #tostring(n)
  end
  local at = 7200
  if s:sub(i, i) == "/" then
    at, i = tz_clock(s, i + 1)
    if not at then return nil, i end
  end
  return function(y) return day(y) * 86400 + at end, i
end

-- The footer's rule: function(t) -> offset, abbreviation; or nil when it has
-- no daylight time or a shape not read here.
local function tz_rule(s)
  local std, i = tz_name(s, 1)
  if not std then return nil end
  local off
  off, i = tz_clock(s, i)
  if not off then return nil end
  local std_off = -off -- POSIX counts west of UTC
  if i > #s then return function() return std_off, std end end
  local dst
  dst, i = tz_name(s, i)
  if not dst then return nil end
  local dst_off = std_off + 3600
  if s:sub(i, i) ~= "," then
    off, i = tz_clock(s, i)
    if not off then return nil end
    dst_off = -off
  end
  if s:sub(i, i) ~= "," then return nil end
  local start, stop
  start, i = tz_date(s, i + 1)
  if not start or s:sub(i, i) ~= "," then return nil end
  stop, i = tz_date(s, i + 1)
  if not stop or i <= #s then return nil end
  return function(t)
    local y = calendar.civil_from_days(floor((t + std_off) / 86400))
    local a, b = start(y) - std_off, stop(y) - dst_off -- the changes of year y, in UTC
    local in_dst
    if a < b then in_dst = t >= a and t < b else in_dst = not (t >= b and t < a) end
    if in_dst then return dst_off, dst end
    return std_off, std
  end
end

------------------------------------------------------------------------------
-- TZif.

-- The data block at position p of a TZif string, times of `size` bytes
-- (4 or 8) -> zone fields, next position; or nil, why.
local function tzif_block(data, p, size)
  if #data < p + 43 or data:sub(p, p + 3) ~= "TZif" then return nil, "no TZif header" end
  local isut, isstd, leap, timecnt, typecnt, charcnt =
    u32(data, p + 20), u32(data, p + 24), u32(data, p + 28), u32(data, p + 32), u32(data, p + 36), u32(data, p + 40)
  if typecnt == 0 then return nil, "no local time types" end
  local q = p + 44
  local len = timecnt * size + timecnt + typecnt * 6 + charcnt + leap * (size + 4) + isstd + isut
  if #data < q + len - 1 then return nil, "truncated" end
  local read = size == 8 and s64 or s32
  local z = { times = {}, index = {}, types = {} }
  for k = 1, timecnt do z.times[k] = read(data, q + (k - 1) * size) end
  q = q + timecnt * size
  for k = 1, timecnt do
    local ix = byte(data, q + k - 1) + 1
    if ix > typecnt then return nil, "a transition of an unknown type" end
    z.index[k] = ix
  end
  q = q + timecnt
  local chars = data:sub(q + typecnt * 6, q + typecnt * 6 + charcnt - 1)
  for k = 1, typecnt do
    local at = q + (k - 1) * 6
    local idx = byte(data, at + 5)
    z.types[k] = { off = s32(data, at), dst = byte(data, at + 4) == 1,
      abbr = chars:match("^[^%z]*", idx + 1) or "" }
  end
  return z, q + typecnt * 6 + charcnt + leap * (size + 4) + isstd + isut
end

--- A zone from the text of a TZif file (`name`: what to call it), or nil, why.
---@param data string
---@param name string
---@return table|nil zone
---@return string? err
function M.from_tzif(data, name)
  if data:sub(1, 4) ~= "TZif" then return nil, "not a TZif file" end
  local version = data:sub(5, 5)
  local z, p = tzif_block(data, 1, 4)
  if not z then return nil, p end
  if version ~= "\0" then
    local z2, p2 = tzif_block(data, p, 8)
    if not z2 then return nil, "its 64-bit part: " .. p2 end
    z = z2
    local footer = data:match("^\n([^\n]*)\n", p2)
    if footer and footer ~= "" then z.rule = tz_rule(footer) end
  end
  z.name = name
  return setmetatable(z, Zone)
end

------------------------------------------------------------------------------
-- The front door.

--- A fixed zone of `off` seconds east of UTC named `name`.
local function fixed(name, off)
  return setmetatable({ name = name, fixed = off, abbr = off == 0 and "UTC" or offset_text(off) }, Zone)
end

--- The zone named `name`: "UTC" (or "Z"), an offset `+hh:mm` / `-hh:mm`
-- (from -12:00 to +14:00), or an IANA name read from $TZDIR (`tzdir`,
-- default /usr/share/zoneinfo). Returns nil and a message quoting the name
-- when it is none of those, names a file outside the zoneinfo folder
-- ("..", an absolute path), or a file that is missing or not TZif.
---@param name string
---@param tzdir? string
---@return table|nil zone with offset_at, to_utc, stamp and `name`
---@return string? err
function M.load(name, tzdir)
  if type(name) ~= "string" or name == "" then return nil, "a time zone is needed (" .. FORMS .. ")" end
  local q = "'" .. name .. "'"
  if name == "UTC" or name == "Z" then return fixed("UTC", 0) end
  local sign, hh, mm = name:match("^([+-])(%d%d):(%d%d)$")
  if sign then
    local off = (tonumber(hh) * 3600 + tonumber(mm) * 60) * (sign == "-" and -1 or 1)
    if tonumber(mm) > 59 or off < M.MIN_OFFSET or off > M.MAX_OFFSET then
      return nil, "the offset " .. q .. " is out of range (-12:00 to +14:00, minutes 00-59)"
    end
    return fixed(name, off)
  end
  if name:match("^[+-]") then return nil, "bad offset " .. q .. " (expected +hh:mm or -hh:mm, such as +05:30)" end
  if name:sub(1, 1) == "/" or name:find("..", 1, true) or name:find("\\", 1, true) then
    return nil, q .. " is not a zone name (" .. FORMS .. "; no absolute path, no '..')"
  end
  if not name:match("^[%w_+%-/]+$") then return nil, q .. " is not a zone name (" .. FORMS .. ")" end
  local dir = tzdir or os.getenv("TZDIR")
  if dir == nil or dir == "" then dir = "/usr/share/zoneinfo" end
  local path = dir .. "/" .. name
  local f = io.open(path, "rb")
  local data = f and f:read("*a")
  if f then f:close() end
  if not data then
    return nil, "no time zone " .. q .. " in " .. dir .. " (" .. FORMS .. ")"
  end
  local zone, why = M.from_tzif(data, name)
  if not zone then return nil, "the time zone file " .. path .. " of " .. q .. " cannot be read: " .. why end
  return zone
end

return M
