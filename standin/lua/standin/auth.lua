-- Tokens and the Authorization header.  Tokens are opaque random strings; they
-- are only ever compared, never logged.
local state = require("standin.state")

local M = {}

local access = {}    -- token -> expiry (ngx.now() seconds)
local refresh = {}   -- token -> true
local serial = 0

local function new_token(prefix)
  serial = serial + 1
  local seed = table.concat({ ngx.now(), ngx.worker.pid(), serial, math.random(), math.random() }, ":")
  local bin = ngx.sha1_bin(seed)
  local hex = bin:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  return prefix .. hex
end

-- Issues a new token pair; returns the response table fields.
function M.issue()
  local ttl = state.config.token_ttl_s
  local a, r = new_token("sta_"), new_token("str_")
  access[a] = ngx.now() + ttl
  refresh[r] = true
  return { token_type = "Bearer", expires_in = ttl, access_token = a, refresh_token = r }
end

function M.key_ok(k)
  return type(k) == "string" and k == state.config.api_key
end

-- Consumes a refresh token: true when it was valid (it is then gone).
function M.use_refresh(r)
  if type(r) == "string" and refresh[r] then
    refresh[r] = nil
    return true
  end
  return false
end

function M.revoke_access() access = {} end
function M.reset() access, refresh = {}, {} end

-- Classifies an Authorization header value (string, table of several, or nil):
-- "bearer" / "basic" for valid credentials, "none" when absent, "invalid" otherwise.
function M.classify(h)
  if h == nil then return "none" end
  if type(h) ~= "string" then return "invalid" end
  local scheme, cred = h:match("^%s*(%a+)%s+(%S+)%s*$")
  if not scheme then return "invalid" end
  scheme = scheme:lower()
  if scheme == "bearer" then
    local exp = access[cred]
    if exp and ngx.now() < exp then return "bearer" end
    return "invalid"
  elseif scheme == "basic" then
    local dec = ngx.decode_base64(cred)
    if dec and dec == state.config.api_key .. ":" then return "basic" end
    return "invalid"
  end
  return "invalid"
end

return M
