--- A token store in process memory, with the interface of an nginx
-- lua_shared_dict (get, set, add, delete). Clients given the same store
-- share one bearer token: one exchange for all of them.
-- `apivideo.memory_store()` makes one; pass it as the `token_store` option.
-- Entries live in this Lua state only (use `ngx.shared.DICT` across nginx
-- workers); a `ttl` counts in whole seconds.
-- @module apivideo.store
local M = {}

--- A memory store: what `apivideo.memory_store()` returns.
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

--- Stores `value` under `key`, replacing any value.
---@param key string
---@param value any
---@param ttl? number seconds to keep it; nil or 0: no expiry
---@return boolean ok # always true
function Store:set(key, value, ttl)
  self.entries[key] = { value = value, expires = (ttl and ttl > 0) and os.time() + ttl or nil }
  return true
end

--- Stores `value` under `key` unless a live value is there already.
---@param key string
---@param value any
---@param ttl? number seconds to keep it; nil or 0: no expiry
---@return boolean ok # true when stored
---@return string? err # `"exists"` when the key was taken
function Store:add(key, value, ttl)
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
