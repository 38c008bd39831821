-- Test helper: starts / drives the api.video stand-in (standin/) from busted specs.
--
--   local S = require("spec.support.standin")
--   local srv = S.start({ latency_ms = 0, token_ttl = 3600, api_key = "k", port = nil, now = nil })
--   srv.url, srv.prefix, srv:stats(), srv:reset(cfg), srv:idle_reset(cfg), srv:config{...},
--   srv:faults{...}, srv:revoke(), srv:log(), srv:stop()
--   srv:requests(pattern)      the log entries whose path matches a Lua pattern
--                              (srv:requests("^/analytics/"): the API calls, in order)
--   local shared = S.shared()   -- APIVIDEO_STANDIN_URL if set, else one server per process
--
-- Control requests use luasocket + cjson, never the project's own client.
local socket = require("socket")
local http = require("socket.http")
local ltn12 = require("ltn12")
local cjson = require("cjson")
local sh = require("spec.support.shell")

local M = {}

local shell_quote, exists = sh.quote, sh.exists

local function cwd()
  local pwd = os.getenv("PWD")
  if pwd and pwd ~= "" then return pwd end
  local p = io.popen("pwd")
  local d = p:read("*l")
  p:close()
  return d
end

-- Repository root: from this file's path (spec/support/standin.lua), else the
-- working directory or one of its parents holding standin/start.
function M.root()
  if M._root then return M._root end
  local src = debug.getinfo(1, "S").source
  local candidates = {}
  if src:sub(1, 1) == "@" then
    local dir = src:sub(2):gsub("[^/]*$", "")        -- .../spec/support/
    dir = dir .. "../.."
    if dir:sub(1, 1) ~= "/" then dir = cwd() .. "/" .. dir end
    candidates[#candidates + 1] = dir
  end
  local d = cwd()
  while d and d ~= "" do
    candidates[#candidates + 1] = d
    d = d:match("^(.*)/[^/]*$")
  end
  for _, c in ipairs(candidates) do
    if exists(c .. "/standin/start") then
      local p = io.popen("cd " .. shell_quote(c) .. " && pwd")
      local abs = p:read("*l")
      p:close()
      M._root = abs
      return abs
    end
  end
  error("spec.support.standin: cannot find the repository root (standin/start)")
end

-- Plain HTTP request with luasocket.  Returns status, body, headers (lower-case
-- names) or nil, err.
function M.http(method, url, body, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k] = v end
  if body then
    h["content-type"] = h["content-type"] or "application/json"
    h["content-length"] = tostring(#body)
  end
  local out = {}
  local ok, code, rh = http.request({
    url = url, method = method, headers = h,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(out),
  })
  if not ok then return nil, code end
  return code, table.concat(out), rh
end

local Server = {}
Server.__index = Server

function Server:control(method, name, tbl)
  local body = tbl ~= nil and cjson.encode(tbl) or nil
  local code, text = M.http(method, self.url .. "/_standin/" .. name, body)
  if code ~= 200 then
    error(("standin control %s %s failed: %s %s"):format(method, name, tostring(code), tostring(text)), 2)
  end
  return cjson.decode(text)
end

function Server:stats() return self:control("GET", "stats") end
-- Back to the start flags (counters, log, faults, tokens, config), then the
-- config t when given (srv:reset({ api_key = KEY }): a spec's own key).
function Server:reset(t)
  local r = self:control("POST", "reset")
  if t ~= nil then r = self:config(t) end
  return r
end
-- Waits (up to 2 s) for requests of earlier tests to finish (cancelled
-- transfers may still sleep in the server's latency and would otherwise
-- consume this test's faults or counters), then resets, with config t.
-- (A number t is the older form: the wait in seconds, no config.)
function Server:idle_reset(t)
  local max_s = 2
  if type(t) == "number" then max_s, t = t, nil end
  local deadline = socket.gettime() + max_s
  while self:stats().in_flight > 0 and socket.gettime() < deadline do socket.sleep(0.01) end
  return self:reset(t)
end
function Server:config(t) return self:control("POST", "config", t) end
function Server:faults(list) return self:control("POST", "faults", { faults = list or {} }) end
function Server:revoke() return self:control("POST", "revoke") end
function Server:log() return self:control("GET", "log") end
function Server:requests(pattern)
  local out = {}
  for _, e in ipairs(self:log()) do
    if e.path:find(pattern) then out[#out + 1] = e end
  end
  return out
end

-- Stops a server started here (no-op for an external APIVIDEO_STANDIN_URL one).
function Server:stop()
  if self.external or self.stopped or not self.prefix then return end
  self.stopped = true
  os.execute(shell_quote(M.root() .. "/standin/stop") .. " " .. shell_quote(self.prefix) .. " >/dev/null 2>&1")
end

-- Starts a new stand-in.  opts: latency_ms, token_ttl, api_key, port, prefix,
-- now (the /data/* clock), tls_cert + tls_key (then .tls_url is its HTTPS +
-- HTTP/2 address).
function M.start(opts)
  opts = opts or {}
  local cmd = { shell_quote(M.root() .. "/standin/start") }
  local function flag(name, v) if v ~= nil then cmd[#cmd + 1] = name .. " " .. shell_quote(v) end end
  flag("--latency-ms", opts.latency_ms)
  flag("--token-ttl", opts.token_ttl)
  flag("--api-key", opts.api_key)
  flag("--port", opts.port)
  flag("--prefix", opts.prefix)
  flag("--now", opts.now)
  flag("--tls-cert", opts.tls_cert)
  flag("--tls-key", opts.tls_key)
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local out = p:read("*a")
  p:close()
  local url, prefix = out:match("APIVIDEO_STANDIN_URL=(%S+) APIVIDEO_STANDIN_PREFIX=(%S+)")
  if not url then error("standin/start failed:\n" .. out, 2) end
  local tls_url = out:match("APIVIDEO_STANDIN_TLS_URL=(%S+)")
  return setmetatable({ url = url, prefix = prefix, tls_url = tls_url }, Server)
end

-- An object for an already-running stand-in (not stopped by :stop()).
function M.attach(url)
  return setmetatable({ url = url:gsub("/+$", ""), external = true }, Server)
end

-- One stand-in per process: APIVIDEO_STANDIN_URL when set, else started on first
-- use and stopped at exit (a __gc sentinel in the registry survives busted's
-- per-file insulation) or by M.stop_shared().
local REG_KEY = "spec.support.standin/shared"
--- The stand-in's own data model (standin/lua/standin/data.lua, pure Lua):
-- what it serves, for specs that must not re-implement it.
function M.data()
  local dir = M.root() .. "/standin/lua/"
  if not package.path:find(dir, 1, true) then package.path = dir .. "?.lua;" .. package.path end
  return require("standin.data")
end

function M.shared()
  local reg = debug.getregistry()
  local s = reg[REG_KEY]
  if s then return s.server end
  local env = os.getenv("APIVIDEO_STANDIN_URL")
  local server
  if env and env ~= "" then
    server = M.attach(env)
  else
    server = M.start()
  end
  reg[REG_KEY] = {
    server = server,
    sentinel = setmetatable({}, { __gc = function() server:stop() end }),
  }
  return server
end

function M.stop_shared()
  local reg = debug.getregistry()
  local s = reg[REG_KEY]
  if s then
    s.server:stop()
    reg[REG_KEY] = nil
  end
end

return M
