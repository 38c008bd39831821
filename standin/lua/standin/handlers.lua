-- The api.video operations: /auth/* and the three analytics lists.
-- Every handler takes the request table built by main.lua and returns a
-- response table {status, headers, body}; nothing here writes to the socket.
local cjson = require("cjson.safe")
local util = require("standin.util")
local data = require("standin.data")
local periods = require("standin.periods")
local state = require("standin.state")
local auth = require("standin.auth")
local pages = require("standin.pages")
local dataops = require("standin.dataops")

local M = {}

local tostring = tostring

-- X-RateLimit-* headers.
function M.rate_headers(limit, remaining, retry)
  return {
    ["X-RateLimit-Limit"] = tostring(limit),
    ["X-RateLimit-Remaining"] = tostring(remaining),
    ["X-RateLimit-Retry-After"] = tostring(retry),
  }
end

local function token_response(t)
  return util.json_response(200, util.obj({
    "token_type", t.token_type, "expires_in", t.expires_in,
    "access_token", t.access_token, "refresh_token", t.refresh_token,
  }))
end

local function json_body(req)
  local t = req.body and cjson.decode(req.body)
  if type(t) ~= "table" then return {} end
  return t
end

function M.auth_api_key(req)
  if req.method ~= "POST" then return util.method_not_allowed() end
  local t = json_body(req)
  if not auth.key_ok(t.apiKey) then return util.invalid_credentials() end
  return token_response(auth.issue())
end

function M.auth_refresh(req)
  if req.method ~= "POST" then return util.method_not_allowed() end
  local t = json_body(req)
  if not auth.use_refresh(t.refreshToken) then return util.invalid_credentials() end
  return token_response(auth.issue())
end

local function paging(req, h)
  return pages.paging(req, h, util.invalid_attribute)
end
local page_response = pages.page_response

-- GET /analytics/videos/{id} and /analytics/live-streams/{id}
local function list_sessions(req, h, kind, raw_id, name)
  local src = data.source(kind, util.pct_decode(raw_id))
  if not src then return util.not_found(name, h) end
  local period = util.last_arg(req.args, "period")
  local s, e = periods.parse(period)
  if not s then return util.invalid_attribute("period", e, h) end
  local page, size = paging(req, h)
  if not page then return size end
  local lo, hi = data.range(src, s, e)
  local filters = {}
  if kind == "video" then
    for _, q in ipairs(req.qlist) do
      local k = q.key:match("^metadata%[(.*)%]$")
      if k then filters[#filters + 1] = { k, q.value == true and "" or q.value } end
    end
  end
  if #filters > 0 then
    local list = data.filtered(src, lo, hi, filters)
    return page_response(req, h, page, size, #list, function(k) return data.session_json(src, list[k]) end)
  end
  local total = hi - lo + 1
  if total < 0 then total = 0 end
  return page_response(req, h, page, size, total, function(k) return data.session_json(src, lo + k - 1) end)
end

-- GET /analytics/sessions/{id}/events
local function list_events(req, h, raw_id)
  local s = data.session(util.pct_decode(raw_id))
  if not s then return util.not_found("sessionId", h) end
  local page, size = paging(req, h)
  if not page then return size end
  return page_response(req, h, page, size, s.n, function(j) return data.event_json(s, j) end)
end

-- GET /videos/{id}, /live-streams/{id}: the object's id and title (or
-- name), and nothing else of api.video's objects (the archive reads the title).
local function media(h, kind, id, id_field, title_field)
  local src = data.source(kind, id)
  if not src then return util.not_found(id_field, h) end
  return util.json_response(200, util.obj({ id_field, id, title_field, data.title(id) }), h)
end

function M.analytics(req)
  local allowed, limit, remaining, retry = state.rate_hit(ngx.now())
  local h = M.rate_headers(limit, remaining, retry)
  if not allowed then return util.too_many(h) end
  if req.auth ~= "bearer" and req.auth ~= "basic" then return util.unauthorized(h) end
  if req.method ~= "GET" then return util.method_not_allowed(h) end
  local p = req.raw_path
  local id = p:match("^/analytics/videos/([^/]+)$")
  if id then return list_sessions(req, h, "video", id, "videoId") end
  id = p:match("^/analytics/live%-streams/([^/]+)$")
  if id then return list_sessions(req, h, "live", id, "liveStreamId") end
  id = p:match("^/analytics/sessions/([^/]+)/events$")
  if id then return list_events(req, h, id) end
  if p:sub(1, 6) == "/data/" then return dataops.handle(req, h) end
  id = p:match("^/videos/([^/]+)$")
  if id then return media(h, "video", id, "videoId", "title") end
  id = p:match("^/live%-streams/([^/]+)$")
  if id then return media(h, "live", id, "liveStreamId", "name") end
  return util.not_found(nil, h)
end

function M.route(req)
  local p = req.raw_path
  if p == "/auth/api-key" then return M.auth_api_key(req) end
  if p == "/auth/refresh" then return M.auth_refresh(req) end
  if req.analytics then return M.analytics(req) end
  return util.not_found(nil)
end

return M
