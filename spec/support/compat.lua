-- Test helper: what differs between the Lua versions the suite runs under
-- (5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1), so that specs state version-specific
-- expectations in one place and assert the same behaviour everywhere else.
--
--   local V = require("spec.support.compat")
--   V.LUA                  "5.1" | "5.2" | "5.3" | "5.4" | "jit"
--   V.INTEGERS             true when numbers have an integer subtype (5.3+)
--   V.INTEGER              the math_type an integral value must have here:
--                          "integer" on 5.3+, "float" on 5.1/5.2/LuaJIT
--   V.math_type(x)         math.type(x) on 5.3+; "float" for any number elsewhere
--                          (every number is a double there); nil for non-numbers
--   V.is_integer(x)        an integer subtype on 5.3+; a finite integral number elsewhere
--   V.idiv(a, b)           a // b (exact integer floor division on 5.3+)
--   V.maxinteger           math.maxinteger, or 2^53 where numbers are doubles
--   V.tointeger(x)         math.tointeger(x), or x when it is integral elsewhere
--   V.fnv1a32(s)           FNV-1a 32-bit hash of s (no 5.3 bitwise syntax needed)
--   V.CLOSES_LOOPS         a generic for closes its 4th value on break/error (5.4)
--   V.YIELD_IN_FOR         a generic-for iterator may yield (not on PUC Lua 5.1:
--                          the call crosses a C boundary)
--   V.collect()            two full collections (finalizers of the first run)
--   V.interpreter()        the command that runs this Lua ("lua5.3", "luajit", ...)
-- Nothing here uses syntax newer than Lua 5.1: 5.3+ operators are compiled
-- with load() only where they exist.
local M = {}

local loadstring_ = loadstring or load -- luacheck: ignore 113

local function compiles(src)
  return loadstring_(src) ~= nil
end

M.JIT = rawget(_G, "jit") ~= nil
M.LUA = M.JIT and "jit" or _VERSION:match("^Lua (%d+%.%d+)$")
M.INTEGERS = math.type ~= nil
M.INTEGER = M.INTEGERS and "integer" or "float"
-- The closing value of a generic for: Lua 5.4's to-be-closed variables.
M.CLOSES_LOOPS = compiles("local x <close> = nil")
M.YIELD_IN_FOR = M.LUA ~= "5.1"

function M.math_type(x)
  if math.type then return math.type(x) end
  if type(x) == "number" then return "float" end
  return nil
end

function M.is_integer(x)
  if math.type then return math.type(x) == "integer" end
  return type(x) == "number" and x == math.floor(x) and x - x == 0
end

if M.INTEGERS then
  M.idiv = loadstring_("return function(a, b) return a // b end")()
else
  function M.idiv(a, b) return math.floor(a / b) end
end

M.maxinteger = math.maxinteger or 2 ^ 53

function M.tointeger(x)
  if math.tointeger then return math.tointeger(x) end
  if type(x) == "number" and x == math.floor(x) and x - x == 0 then return x end
  return nil
end

-- x XOR b for 0 <= x < 2^32 and 0 <= b < 256 (only the low byte changes).
local function xor_byte(x, b)
  local lo = x % 256
  local r, bit = 0, 1
  for _ = 1, 8 do
    local p, q = lo % 2, b % 2
    if p ~= q then r = r + bit end
    lo, b, bit = (lo - p) / 2, (b - q) / 2, bit * 2
  end
  return x - x % 256 + r
end

local TWO32 = 4294967296
function M.fnv1a32(s)
  local h = 2166136261
  for i = 1, #s do
    h = xor_byte(h, s:byte(i))
    -- h * 0x01000193 mod 2^32 without leaving the exact range of a double:
    -- h * 2^24 is exact (a power of two), h * 0x193 < 2^41.
    h = ((h * 16777216) % TWO32 + h * 403) % TWO32
  end
  return h
end

function M.collect()
  collectgarbage()
  collectgarbage()
end

function M.interpreter()
  if M.JIT then return "luajit" end
  return "lua" .. M.LUA
end

return M
