--- A token store in process memory, with the interface of an nginx
-- lua_shared_dict (get, set, add, delete). Clients given the same store
-- share one bearer token: one exchange for all of them.
-- @module apivideo.store
local M = {}

local Store = {}
Store.__index = Store

function Store:get(key)
  local e = self.entries[key]
  if e and (e.expires == nil or os.time() < e.expires) then return e.value end
  self.entries[key] = nil
  return nil
end

function Store:set(key, value, ttl)
  self.entries[key] = { value = value, expires = (ttl and ttl > 0) and os.time() + ttl or nil }
  return true
end

function Store:add(key, value, ttl)
  if self:get(key) ~= nil then return false, "exists" end
  return self:set(key, value, ttl)
end

function Store:delete(key)
  self.entries[key] = nil
  return true
end

function Store.__tostring()
  return "apivideo.store (memory)"
end

function M.new()
  return setmetatable({ entries = {} }, Store)
end

return M
