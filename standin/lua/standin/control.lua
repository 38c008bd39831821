-- Control API under /_standin (no auth, never counted, never logged).
local cjson = require("cjson.safe")
local util = require("standin.util")
local state = require("standin.state")
local auth = require("standin.auth")
local faults = require("standin.faults")

local M = {}

local function reply(status, body_text)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.header["Content-Length"] = #body_text
  ngx.print(body_text)
end

local function ok(extra)
  local t = { ok = true }
  for k, v in pairs(extra or {}) do t[k] = v end
  return reply(200, util.enc(t))
end

local function fail(status, msg)
  return reply(status, util.enc({ error = msg }))
end

local function read_json()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body or body == "" then return {} end
  local t = cjson.decode(body)
  if type(t) ~= "table" then return nil, "body must be a JSON object" end
  return t
end

local ROUTES = {}

ROUTES["GET /_standin/stats"] = function()
  return reply(200, util.enc(state.stats()))
end

ROUTES["POST /_standin/reset"] = function()
  state.reset()
  faults.clear()
  auth.reset()
  return ok()
end

ROUTES["POST /_standin/config"] = function()
  local t, err = read_json()
  if not t then return fail(400, err) end
  local done, merr = state.merge_config(t)
  if not done then return fail(400, merr) end
  return ok()
end

ROUTES["POST /_standin/revoke"] = function()
  auth.revoke_access()
  return ok()
end

ROUTES["POST /_standin/faults"] = function()
  local t, err = read_json()
  if not t then return fail(400, err) end
  local n, ferr = faults.set(t.faults or {})
  if not n then return fail(400, ferr) end
  return ok({ faults = n })
end

ROUTES["GET /_standin/faults"] = function()
  local texts = {}
  for i, f in ipairs(faults.describe()) do texts[i] = util.enc(f) end
  return reply(200, util.array_of(texts))
end

ROUTES["GET /_standin/log"] = function()
  local texts = {}
  for i, e in ipairs(state.log_entries()) do texts[i] = util.enc(e) end
  return reply(200, util.array_of(texts))
end

function M.handle()
  local key = ngx.req.get_method() .. " " .. ngx.var.uri
  local h = ROUTES[key]
  if h then return h() end
  for k in pairs(ROUTES) do
    if k:match("^%u+ (.*)$") == ngx.var.uri then return fail(405, "method not allowed") end
  end
  return fail(404, "unknown control endpoint " .. ngx.var.uri)
end

return M
