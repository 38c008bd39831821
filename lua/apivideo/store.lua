--- The store interface, and a store in process memory.
--
-- Every option that shares state takes a store (`token_store`,
-- `cache.store`, `rate_limit_store`, `metrics_store`): an object with the
-- shape of an nginx `lua_shared_dict`:
--
--     store:get(key)                      -> value | nil
--     store:set(key, value, ttl)          -> true
--     store:add(key, value, ttl)          -> true | false, "exists"
--     store:incr(key, n, init, init_ttl)  -> new value | nil, "not found" (without init)
--     store:delete(key)                   -> true
--     store:get_keys(max)                 -> the keys (only `metrics_store` needs it)
--
-- TTLs count in seconds (0 or nil: no expiry). Three implementations:
-- `ngx.shared.DICT` itself (the workers of one nginx), `apivideo.memory_store()`
-- (one Lua state: scripts, game tools) and `apivideo.redis_store{...}`
-- (`apivideo.redis_store`: every host of a fleet). Values are strings,
-- numbers or booleans; a Redis store gives numbers back as strings (callers
-- read them with `tonumber`).
--
-- `apivideo.memory_store()` makes a memory store. Entries live in this Lua
-- state only; a `ttl` counts in whole seconds.
-- @module apivideo.store
local core = require("apivideo.core")

local M = {}

--- A memory store: what `apivideo.memory_store()` returns.
-- `tostring(store)` is `"apivideo.store (memory)"`.
-- @type Store
---@class apivideo.MemoryStore
local Store = {}
Store.__index = Store

--- The value under `key`, or nil when there is none or it expired.
---@param key string
---@return any value # the value, or nil
function Store:get(key)
  local e = self.entries[key]
  if e and (e.expires == nil or os.time() < e.expires) then return e.value end
  self.entries[key] = nil
  return nil
end

-- A ttl as ngx.shared.DICT takes it: nil, or a number >= 0 (it raises for
-- anything else, rather than keeping the value for ever).
local function expiry(fname, ttl)
  if ttl == nil then return nil end
  if type(ttl) ~= "number" or ttl ~= ttl or ttl < 0 then
    error("apivideo.store:" .. fname .. ": bad ttl (a number >= 0 expected, got " .. tostring(ttl) .. ")", 3)
  end
  return ttl > 0 and os.time() + ttl or nil
end

--- Stores `value` under `key`, replacing any value.
---@param key string
---@param value any
---@param ttl? number seconds to keep it; nil or 0: no expiry
---@return boolean ok # always true
function Store:set(key, value, ttl)
  local expires = expiry("set", ttl)
  self.entries[key] = { value = value, expires = expires }
  return true
end

--- Stores `value` under `key` unless a live value is there already.
---@param key string
---@param value any
---@param ttl? number seconds to keep it; nil or 0: no expiry
---@return boolean ok # true when stored
---@return string? err # `"exists"` when the key was taken
function Store:add(key, value, ttl)
  expiry("add", ttl)
  if self:get(key) ~= nil then return false, "exists" end
  return self:set(key, value, ttl)
end

--- Adds `n` to the number under `key` and returns the new value. A missing
-- (or expired) key is created with `init + n` and the ttl `init_ttl` when
-- `init` is given; otherwise the answer is nil, "not found". A value that is
-- not a number answers nil, "not a number". Like `ngx.shared.DICT:incr`, it
-- keeps the ttl of a live key.
---@param key string
---@param n number
---@param init? number
---@param init_ttl? number
---@return number? value
---@return string? err
function Store:incr(key, n, init, init_ttl)
  if type(n) ~= "number" then
    error("apivideo.store:incr: bad value (a number expected, got " .. type(n) .. ")", 2)
  end
  local e = self.entries[key]
  if e and e.expires ~= nil and os.time() >= e.expires then e = nil end
  if not e then
    if init == nil then return nil, "not found" end
    local v = init + n
    self.entries[key] = { value = v, expires = expiry("incr", init_ttl) }
    return v
  end
  if type(e.value) ~= "number" then return nil, "not a number" end
  e.value = e.value + n
  return e.value
end

--- The live keys, at most `max` of them (0 or nil: all).
---@param max? integer
---@return string[] keys
function Store:get_keys(max)
  local out, now = {}, os.time()
  for k, e in pairs(self.entries) do
    if e.expires == nil or now < e.expires then
      out[#out + 1] = k
      if max and max > 0 and #out >= max then break end
    end
  end
  return out
end

--- Removes `key`.
---@param key string
---@return boolean ok # always true
function Store:delete(key)
  self.entries[key] = nil
  return true
end

--- `tostring(store)`: `"apivideo.store (memory)"`.
-- @local
---@return string
function Store.__tostring()
  return "apivideo.store (memory)"
end

--- Raises the argument error of option `name` of `fname` unless `s` has the
-- methods named in `methods` (a store: ngx.shared.DICT, memory, Redis).
-- @local
function M.check(fname, name, s, methods)
  local check = require("apivideo.check")
  for _, m in ipairs(methods) do
    local ok, f = pcall(function() return s[m] end)
    if not ok or type(f) ~= "function" then
      check.bad_option(fname, name, "a store with " .. table.concat(methods, ", ") .. " expected,"
        .. " e.g. ngx.shared.DICT, apivideo.memory_store() or apivideo.redis_store{...}")
    end
  end
  return s
end

--- Milliseconds since the epoch: the monotonic clock plus an anchor that
-- every call refines (os.time() counts whole seconds, so the anchor is the
-- largest os.time() * 1000 - now_ms() seen: it approaches the true offset
-- from below, and the clock never goes back within one process).
-- @local
local anchor = os.time() * 1000 - core.now_ms()
function M.wall_ms()
  local mono = core.now_ms()
  local a = os.time() * 1000 - mono
  if a > anchor then anchor = a end
  return anchor + mono
end

-- SHA-1 without bit operators (Lua 5.1 has none, 5.3+ has them as syntax
-- 5.1 cannot parse): 32-bit words as numbers, AND and XOR a nibble at a time
-- from 16 x 16 tables. It names an account in a shared store without the key.
local XOR, AND = {}, {}
for a = 0, 15 do
  for b = 0, 15 do
    local x, y, rx, ra, bit = a, b, 0, 0, 1
    for _ = 1, 4 do
      local p, q = x % 2, y % 2
      if p ~= q then rx = rx + bit end
      if p == 1 and q == 1 then ra = ra + bit end
      x, y, bit = (x - p) / 2, (y - q) / 2, bit * 2
    end
    XOR[a * 16 + b], AND[a * 16 + b] = rx, ra
  end
end
local W32 = 4294967296

local function bitop(t, a, b)
  local r, m = 0, 1
  for _ = 1, 8 do
    local x, y = a % 16, b % 16
    r = r + t[x * 16 + y] * m
    a, b, m = (a - x) / 16, (b - y) / 16, m * 16
  end
  return r
end
local function bxor(a, b) return bitop(XOR, a, b) end
local function band(a, b) return bitop(AND, a, b) end
local function rotl(x, n)
  local hi = math.floor(x / 2 ^ (32 - n))
  return (x - hi * 2 ^ (32 - n)) * 2 ^ n + hi
end

local function sha1_hex(msg)
  local len = #msg
  local bits = len * 8
  local tail = {}
  for i = 8, 1, -1 do
    tail[i] = string.char(bits % 256)
    bits = math.floor(bits / 256)
  end
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. table.concat(tail)
  local h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
      w[i] = ((a * 256 + b) * 256 + c) * 256 + d
    end
    for i = 16, 79 do
      w[i] = rotl(bxor(bxor(w[i - 3], w[i - 8]), bxor(w[i - 14], w[i - 16])), 1)
    end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then
        f, k = band(b, c) + band(W32 - 1 - b, d), 0x5A827999
      elseif i < 40 then
        f, k = bxor(bxor(b, c), d), 0x6ED9EBA1
      elseif i < 60 then
        f, k = band(b, c) + band(d, bxor(b, c)), 0x8F1BBCDC
      else
        f, k = bxor(bxor(b, c), d), 0xCA62C1D6
      end
      local t = (rotl(a, 5) + f + e + k + w[i]) % W32
      a, b, c, d, e = t, a, rotl(b, 30), c, d
    end
    h0, h1, h2 = (h0 + a) % W32, (h1 + b) % W32, (h2 + c) % W32
    h3, h4 = (h3 + d) % W32, (h4 + e) % W32
  end
  return string.format("%08x%08x%08x%08x%08x", h0, h1, h2, h3, h4)
end

--- The SHA-1 of `s`, in hex.
-- @local
M.sha1 = sha1_hex

--- The name of an account in shared stores: a digest of the base URL and
-- the API key (never the key), 20 hex digits.
-- @local
function M.account(base_url, api_key)
  return M.sha1("apivideo account\n" .. base_url .. "\n" .. api_key):sub(1, 20)
end

--- A new, empty store (`apivideo.memory_store`).
-- @local
---@return apivideo.MemoryStore
function M.new()
  return setmetatable({ entries = {} }, Store)
end

return M
