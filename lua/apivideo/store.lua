--- A token store in process memory, with the interface of an nginx
-- lua_shared_dict (get, set, add, delete). Clients given the same store
-- share one bearer token: one exchange for all of them.
-- `apivideo.memory_store()` makes one; pass it as the `token_store` option.
-- Entries live in this Lua state only (use `ngx.shared.DICT` across nginx
-- workers); a `ttl` counts in whole seconds.
-- @module apivideo.store
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

--- A new, empty store (`apivideo.memory_store`).
-- @local
---@return apivideo.MemoryStore
function M.new()
  return setmetatable({ entries = {} }, Store)
end

return M
