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
local calendar = require("apivideo.calendar")

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

--- A period in one of api.video's five forms (`apivideo.calendar`). A
-- string of the right shape that names no real month, week or day says so
-- (not "bad format").
function M.period(fname, v)
  if type(v) ~= "string" then
    fail(fname, "period", calendar.PERIOD_FORMS .. " expected, got " .. typename(v))
  end
  local from, why = calendar.parse_period(v)
  if not from then fail(fname, "period", why) end
  return v
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

--- A date YYYY-MM-DD that exists -> y, m, d (else nil, why): `calendar.date`.
M.date = calendar.date
return M
