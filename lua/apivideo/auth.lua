--- Authentication: HTTP Basic, or a bearer token from POST /auth/api-key.
--
-- The token is shared: however many requests are in flight, one exchange
-- runs at a time (a task the others await). It is renewed ahead of expiry
-- (60 s, or a tenth of its lifetime when that is shorter) through
-- /auth/refresh, falling back to /auth/api-key when refresh is refused.
-- Neither the key nor a token is ever put into an error, an event or a
-- string this module returns.
-- @module apivideo.auth
local core = require("apivideo.core")
local cjson = require("cjson.safe").new()
local errors = require("apivideo.errors")
local url = require("apivideo.url")

local M = {}

local Auth = {}
Auth.__index = Auth

function Auth:__tostring()
  return "apivideo.auth (" .. self.mode .. ")"
end

--- FNV-1a (32 bit): names a key's slot in a shared token store without
-- putting the key itself there.
local function xor8(a, b)
  local r, bit = 0, 1
  for _ = 1, 8 do
    if a % 2 ~= b % 2 then r = r + bit end
    a, b, bit = math.floor(a / 2), math.floor(b / 2), bit * 2
  end
  return r
end

local function fingerprint(s)
  local h = 2166136261
  for i = 1, #s do
    local low = h % 256
    h = h - low + xor8(low, s:byte(i))
    -- h * 16777619 mod 2^32, split so every product stays exact in a double
    h = ((h % 65536) * 16777619 + (math.floor(h / 65536) * 16777619 % 65536) * 65536) % 4294967296
  end
  return string.format("%08x", h)
end
M.fingerprint = fingerprint

--- The authenticator of a client. opts: `mode` ("bearer" or "basic"),
-- `store` (a token store, or nil), `base_url`, and its collaborators:
-- `engine` (tasks and sleeps), `send(req)` (inside a task: one token
-- request through the authenticator's own requester, `apivideo.request`),
-- `emit(event)`.
-- The API key is held only in closures (the Basic header line, the body of
-- the token exchange), never in a table field that could be dumped.
-- @local
function M.new(opts, api_key)
  local store = opts.store
  local self = setmetatable({
    mode = opts.mode, store = store, base_url = opts.base_url,
    engine = opts.engine, send = opts.send, emit = opts.emit,
  }, Auth)
  if store then self.store_key = "apivideo:token:" .. fingerprint(opts.base_url .. "\n" .. api_key) end
  local mode = opts.mode
  if mode == "basic" then
    local header = "Authorization: Basic " .. url.base64(api_key .. ":")
    self.header_line = function() return header end
  else
    local body = cjson.encode({ apiKey = api_key })
    self.key_body = function() return body end
  end
  return self
end

local function margin_ms(lifetime_ms)
  local tenth = lifetime_ms / 10
  return tenth < 60000 and tenth or 60000
end

--- Inside a task: one POST to /auth/*; returns the token record or nil, err.
function Auth:_post(path, body, kind)
  local resp, err = self.send({ method = "POST", path = path, body = body, operation = "auth" })
  if not resp then
    if err.kind == "http" then err.kind = "auth" end
    return nil, err
  end
  local json = resp.json
  -- A token goes into a header line: anything but visible ASCII is refused.
  if type(json) ~= "table" or type(json.access_token) ~= "string"
      or not json.access_token:match("^[%w%-%._~%+/=]+$")
      or type(json.expires_in) ~= "number" or json.expires_in <= 0
      or (json.refresh_token ~= nil and type(json.refresh_token) ~= "string") then
    return nil, errors.new({
      kind = "decode", method = "POST", url = self.base_url .. path, status = resp.status,
      title = "token response without a usable access_token / expires_in",
    })
  end
  local now = core.now_ms()
  local lifetime = json.expires_in * 1000
  self.emit({ type = "token", action = kind, method = "POST", path = path, expires_in = json.expires_in })
  return {
    access = json.access_token,
    refresh = type(json.refresh_token) == "string" and json.refresh_token or nil,
    expires_at = now + lifetime,
    renew_at = now + lifetime - margin_ms(lifetime),
  }
end

--- Inside a task: obtains a new token from the API (refresh first when one
-- is held and still valid).
function Auth:_exchange_token()
  local old = self.token
  local tok, err
  if old and old.refresh and core.now_ms() < old.expires_at then
    tok, err = self:_post("/auth/refresh", cjson.encode({ refreshToken = old.refresh }), "refresh")
  end
  if not tok then tok, err = self:_post("/auth/api-key", self.key_body(), "api-key") end
  return tok, err
end

-- A token in a shared store lives as "access\trefresh\texpires_at\trenew_at"
-- (wall-clock seconds), so every process that shares the store can use it.
local function encode_stored(tok)
  local wall = os.time() - core.now_ms() / 1000
  return table.concat({ tok.access, tok.refresh or "", string.format("%.3f", wall + tok.expires_at / 1000),
    string.format("%.3f", wall + tok.renew_at / 1000) }, "\t")
end

local function decode_stored(s)
  if type(s) ~= "string" then return nil end
  local access, refresh, expires, renew = s:match("^([^\t]+)\t([^\t]*)\t([%d.]+)\t([%d.]+)$")
  if not access then return nil end
  local mono = core.now_ms() - os.time() * 1000
  return {
    access = access, refresh = refresh ~= "" and refresh or nil,
    expires_at = tonumber(expires) * 1000 + mono, renew_at = tonumber(renew) * 1000 + mono,
  }
end

local STORE_POLL_MS, STORE_LOCK_S = 20, 30

--- Inside a task: a token through the shared store (token_store option):
-- the first process to take the lock exchanges, the others wait for it.
function Auth:_renew_shared()
  local store, key = self.store, self.store_key
  local engine = self.engine
  local waited = 0
  while true do
    local tok = decode_stored(store:get(key))
    if tok and core.now_ms() < tok.renew_at and tok.access ~= self.rejected then
      return tok
    end
    if store:add(key .. ":lock", 1, STORE_LOCK_S) then
      -- cancelled while exchanging (a walk dropped, the client closed): the
      -- lock goes at once, the other processes need not wait it out
      local unlock = function() store:delete(key .. ":lock") end
      engine:guard(unlock)
      local err
      tok, err = self:_exchange_token()
      engine:unguard(unlock)
      if tok then store:set(key, encode_stored(tok), math.ceil((tok.expires_at - core.now_ms()) / 1000)) end
      store:delete(key .. ":lock")
      return tok, err
    end
    if waited >= STORE_LOCK_S * 1000 then
      return self:_exchange_token() -- the lock holder died: go alone
    end
    engine:sleep(STORE_POLL_MS)
    waited = waited + STORE_POLL_MS
  end
end

--- Inside a task: obtains a new token, shared or not.
function Auth:_renew()
  local tok, err
  if self.store then tok, err = self:_renew_shared() else tok, err = self:_exchange_token() end
  self.pending = nil
  if tok then self.token = tok end
  return tok, err
end

--- Inside a task: the Authorization header line and the token it carries
-- (nil for Basic), or nil, err.
function Auth:header()
  if self.mode == "basic" then return self.header_line(), nil end
  local tok = self.token
  if not (tok and core.now_ms() < tok.renew_at) then
    local engine = self.engine
    if not self.pending or self.pending.done then
      self.pending = engine:spawn(function() return self:_renew() end)
    end
    local err
    tok, err = engine:await(self.pending)
    if not tok then return nil, err end
  end
  return "Authorization: Bearer " .. tok.access, tok
end

--- A token the API refused (401): forget it, unless a newer one replaced it.
function Auth:invalidate(tok)
  if tok ~= nil and self.token == tok then
    self.token = nil
    self.rejected = tok.access -- never take it back from a shared store
  end
end

return M
