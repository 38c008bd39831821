--- Argument checks. Every public function validates its arguments before
-- anything is sent, and raises one argument error (`apivideo.errors`, kind
-- "argument") naming the function, the argument and what was wrong: a typo
-- in an option must never be ignored.
--
-- Where an error is positioned is said explicitly, as with `error()`: the
-- checks below raise their error without a position, and the public
-- function that ran them (`M.checked`) gives it its caller's.
-- @module apivideo.check
local errors = require("apivideo.errors")

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 143

local function typename(v)
  if v == nil then return "nil" end
  return type(v)
end
M.typename = typename

--- "file.lua:12" of the function `level` frames up from the caller of
-- position (1: that caller itself, as error() counts), or nil.
local function position(level)
  local info = debug.getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline
  end
  return nil
end

--- Raises `e` at `level` (as error() counts: 1 is the function calling
-- rethrow, 2 its caller): an argument error without a position gets that
-- one; anything else goes on unchanged.
function M.rethrow(e, level)
  if errors.is_argument(e) and e.where == nil then e.where = position((level or 1) + 1) end
  error(e, 0)
end

--- Raises an argument error built from `fields` (see `errors.argument`);
-- with `level`, positioned there (as error() counts).
function M.raise(fields, level)
  local e = errors.argument(fields)
  if level then e.where = position(level + 1) end
  error(e, 0)
end

--- Raises "<fn>: bad argument '<arg>' (<reason>)"; with `level`, positioned.
function M.fail(fn, arg, reason, level)
  M.raise({ fn = fn, arg = arg, reason = reason }, level and level + 1)
end
local fail = M.fail

--- Raises "<fn>: bad option '<arg>' (<reason>)" (the options of apivideo.new).
function M.bad_option(fn, arg, reason)
  M.raise({ fn = fn, arg = arg, reason = reason, noun = "option" })
end

local function pack(...)
  return { n = select("#", ...), ... }
end

--- Runs `f(...)`, the checks of a public function, and returns what it
-- returns. An argument error it raises is positioned at `level` of the
-- function calling checked (2: that function's caller, the user's line).
-- Only for checks: nothing that waits or yields runs inside (a pcall).
function M.checked(level, f, ...)
  local res = pack(pcall(f, ...))
  if res[1] then return unpack(res, 2, res.n) end
  M.rethrow(res[2], level + 1)
end

--- A non-empty string id (video, live stream or session id).
function M.id(fname, argname, v)
  if type(v) ~= "string" then
    fail(fname, argname, "string expected, got " .. typename(v))
  end
  if v == "" then fail(fname, argname, "empty string") end
  return v
end

--- An integer (a float with no fraction is accepted) within [min, max].
function M.integer(fname, argname, v, min, max)
  if type(v) ~= "number" or v ~= math.floor(v) or v ~= v then
    fail(fname, argname, "integer expected, got " .. typename(v) .. (type(v) == "number" and " " .. tostring(v) or ""))
  end
  if (min and v < min) or (max and v > max) then
    local range = max and (min .. ".." .. max) or (">= " .. min)
    fail(fname, argname, range .. " expected, got " .. tostring(v))
  end
  return math.floor(v)
end

--- Checks that `opts` is nil or a table whose keys all appear in `allowed`
-- (a set of names). Returns a table (an empty one for nil).
function M.options(fname, argname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    fail(fname, argname, "table expected, got " .. typename(opts))
  end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      local allowed_text = "allowed: " .. table.concat(names, ", ")
      M.raise({ fn = fname, arg = argname, key = tostring(k),
        reason = "unknown option '" .. tostring(k) .. "' (" .. allowed_text .. ")",
        text = fname .. ": unknown option '" .. tostring(k) .. "' in '" .. argname .. "' (" .. allowed_text .. ")" })
    end
  end
  return opts
end

local DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December" }

--- Is "YYYY-MM-DD" a real calendar date? Returns y, m, d when it is; nil
-- and the reason when it is not (nil alone when s is not YYYY-MM-DD at all).
local function date(s)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 then return nil, "there is no month " .. s:sub(6, 7) .. " (01 to 12)" end
  local max = DAYS[m] + ((m == 2 and leap(y)) and 1 or 0)
  if d < 1 or d > max then
    return nil, "the date " .. s .. " does not exist: " .. MONTHS[m] .. " " .. y .. " has " .. max .. " days"
  end
  return y, m, d
end

--- ISO weeks in year y: 53 when the year starts on a Thursday, or a leap year on a Wednesday.
local function iso_weeks(y)
  local function dow_jan1(year) -- 0 = Sunday (Gauss)
    local yy = year - 1
    return (1 + 5 * (yy % 4) + 4 * (yy % 100) + 6 * (yy % 400)) % 7
  end
  local d = dow_jan1(y)
  if d == 4 or (leap(y) and d == 3) then return 53 end
  return 52
end

local PERIOD_HELP = "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD expected"

--- A period in one of api.video's five formats. A string of the right shape
-- that names no real month, week or day says so (not "bad format").
function M.period(fname, v)
  if type(v) ~= "string" then
    fail(fname, "period", PERIOD_HELP .. ", got " .. typename(v))
  end
  local function bad(why) fail(fname, "period", why .. "; got '" .. v .. "'") end
  if v:match("^%d%d%d%d$") then return v end
  if v:match("^%d%d%d%d%-%d%d$") then
    local m = tonumber(v:sub(6, 7))
    if m < 1 or m > 12 then bad("there is no month " .. v:sub(6, 7) .. " (01 to 12)") end
    return v
  end
  if v:match("^%d%d%d%d%-W%d%d$") then
    local y, w = tonumber(v:sub(1, 4)), tonumber(v:sub(7, 8))
    local weeks = iso_weeks(y)
    if w < 1 or w > weeks then
      bad("there is no week " .. v:sub(7, 8) .. ": " .. y .. " has " .. weeks .. " ISO weeks")
    end
    return v
  end
  if v:match("^%d%d%d%d%-%d%d%-%d%d$") then
    local ok, why = date(v)
    if not ok then bad(why) end
    return v
  end
  local a, b = v:match("^(%d%d%d%d%-%d%d%-%d%d)/(%d%d%d%d%-%d%d%-%d%d)$")
  if a then
    for _, part in ipairs({ a, b }) do
      local ok, why = date(part)
      if not ok then bad(why) end
    end
    -- same fixed-width format: string order is date order
    if a > b then fail(fname, "period", "range '" .. v .. "' ends before it starts") end
    return v
  end
  fail(fname, "period", PERIOD_HELP .. ", got '" .. v .. "'")
end

--- A metadata filter: a table of non-empty string keys to string values.
function M.metadata(fname, v)
  if v == nil then return nil end
  if type(v) ~= "table" then
    fail(fname, "metadata", "table of strings expected, got " .. typename(v))
  end
  for k, val in pairs(v) do
    if type(k) ~= "string" or k == "" then
      fail(fname, "metadata", "keys must be non-empty strings, got " .. typename(k) .. " " .. tostring(k))
    end
    if type(val) ~= "string" then
      fail(fname, "metadata", "value of '" .. k .. "' must be a string, got " .. typename(val))
    end
  end
  return v
end

M.date = date
return M
