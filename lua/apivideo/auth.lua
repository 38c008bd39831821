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

--- Creates the authenticator of a client. `secret` holds the API key in a
-- closure so it never sits in a table field that could be dumped.
function M.new(client, mode, api_key)
  local self = setmetatable({ client = client, mode = mode }, Auth)
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
  local client = self.client
  local resp, err = client:_exchange({
    method = "POST", path = path, body = body, auth = false, token_call = true,
  })
  if not resp then
    if err.kind == "http" then err.kind = "auth" end
    return nil, err
  end
  local json = resp.json
  if type(json) ~= "table" or type(json.access_token) ~= "string" or json.access_token == ""
      or type(json.expires_in) ~= "number" or json.expires_in <= 0 then
    return nil, errors.new({
      kind = "decode", method = "POST", url = client.base_url .. path, status = resp.status,
      title = "token response without access_token/expires_in",
    })
  end
  local now = core.now_ms()
  local lifetime = json.expires_in * 1000
  client:_emit({ type = "token", action = kind, method = "POST", path = path, expires_in = json.expires_in })
  return {
    access = json.access_token,
    refresh = type(json.refresh_token) == "string" and json.refresh_token or nil,
    expires_at = now + lifetime,
    renew_at = now + lifetime - margin_ms(lifetime),
  }
end

--- Inside a task: obtains a new token (refresh first when one is held).
function Auth:_renew()
  local old = self.token
  local tok, err
  if old and old.refresh and core.now_ms() < old.expires_at then
    tok, err = self:_post("/auth/refresh", cjson.encode({ refreshToken = old.refresh }), "refresh")
  end
  if not tok then tok, err = self:_post("/auth/api-key", self.key_body(), "api-key") end
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
    local engine = self.client.engine
    if not self.pending then
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
  if tok ~= nil and self.token == tok then self.token = nil end
end

return M
