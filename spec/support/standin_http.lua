-- Test helper: a minimal raw HTTP/1.1 client (keep-alive, chunked, truncation
-- aware) over luasocket, and the stand-in's answers as the contract writes
-- them, for the specs of the stand-in itself (spec/standin_spec.lua,
-- spec/standin_behaviour_spec.lua), which never go through the project's client.
--
--   local H = require("spec.support.standin_http")
--   H.KEY, H.BASIC            the stand-in's key; its Basic Authorization value
--   H.hostport(url)           host, port of an http:// url
--   H.connect(url)            a connected socket to url's host:port (5 s timeout)
--   H.send(c, url, method, path, headers, body)   writes one request on c
--   H.read(c)                 reads one response: { status, headers (lower-case
--                             names), body, truncated, err }, or { closed = true,
--                             err } when the server closed before any byte
--   H.raw(url, method, path, headers, body)       one request on a new connection
--   local get, api, post_json, token = H.on(function() return srv end)
--       get(path, auth, extra)   GET with that Authorization (and extra headers);
--                                a JSON body is decoded into r.json
--       api(path, extra)         get with BASIC
--       post_json(path, tbl)     POST of tbl as JSON; r.json decoded
--       token()                  POST /auth/api-key: the token pair (a 200)
--   H.int(x)                  a whole number as an integer on 5.3+ (x otherwise)
--   H.same(expected, got)     assert.are.same(expected, got with numbers through int)
--   H.alive(pid)              the process exists and is not a zombie
--   H.PROBLEM_401, H.PROBLEM_CRED, H.not_found(name)   problem bodies
--
-- Nothing here uses syntax newer than Lua 5.1.
local assert = require("luassert") -- busted's assert is in each spec file's environment only
local socket = require("socket")
local mime = require("mime")
local cjson = require("cjson")
local V = require("spec.support.compat")

local M = {}

M.KEY = "standin-key"
M.BASIC = "Basic " .. mime.b64(M.KEY .. ":")

function M.hostport(url)
  local host, port = url:match("^http://([^:/]+):(%d+)")
  return host, tonumber(port)
end

function M.connect(url)
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect(M.hostport(url)))
  return c
end

function M.send(c, url, method, path, headers, body)
  local host, port = M.hostport(url)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
end

function M.read(c)
  local line, err = c:receive("*l")
  if not line then return { closed = true, err = err } end
  local r = { status = tonumber(line:match("^HTTP/1%.%d (%d+)")), headers = {} }
  while true do
    local l = assert(c:receive("*l"))
    if l == "" then break end
    local k, v = l:match("^([^:]+):%s*(.*)$")
    r.headers[k:lower()] = v
  end
  local h = r.headers
  if h["transfer-encoding"] == "chunked" then
    local parts = {}
    while true do
      local sz = tonumber(assert(c:receive("*l")):match("^%x+"), 16)
      if sz == 0 then c:receive("*l") break end
      parts[#parts + 1] = assert(c:receive(sz))
      c:receive("*l")
    end
    r.body = table.concat(parts)
  else
    local len = tonumber(h["content-length"] or "0")
    if len > 0 then
      local data, e, partial = c:receive(len)
      if data then r.body = data else r.body, r.truncated, r.err = partial, true, e end
    else
      r.body = ""
    end
  end
  return r
end

function M.raw(url, method, path, headers, body)
  local c = M.connect(url)
  M.send(c, url, method, path, headers, body)
  local r = M.read(c)
  c:close()
  return r
end

function M.on(server)
  local function get(path, auth, extra)
    local h = { Authorization = auth }
    for k, v in pairs(extra or {}) do h[k] = v end
    local r = M.raw(server().url, "GET", path, h)
    if r.body and r.body ~= "" and (r.headers["content-type"] or ""):match("json") then
      local ok, t = pcall(cjson.decode, r.body)
      if ok then r.json = t end
    end
    return r
  end
  local function api(path, extra) return get(path, M.BASIC, extra) end
  local function post_json(path, tbl)
    local r = M.raw(server().url, "POST", path, { ["Content-Type"] = "application/json" }, cjson.encode(tbl))
    if r.body and r.body ~= "" and (r.headers["content-type"] or ""):match("json") then
      r.json = cjson.decode(r.body)
    end
    return r
  end
  local function token()
    local r = post_json("/auth/api-key", { apiKey = M.KEY })
    assert.are.equal(200, r.status)
    return r.json
  end
  return get, api, post_json, token
end

function M.int(x)
  if type(x) == "number" then return V.tointeger(x) or x end
  return x
end

function M.same(expected, got)
  local t = {}
  for k, v in pairs(got) do t[k] = M.int(v) end
  assert.are.same(expected, t)
end

function M.alive(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return false end
  local s = f:read("*a")
  f:close()
  return not s:match("State:%s*Z")
end

M.PROBLEM_401 = {
  type = "https://docs.api.video/reference/unauthorized", title = "Unauthorized request", status = 401,
}
M.PROBLEM_CRED = {
  type = "https://docs.api.video/docs/authenticationinvalid_credentials",
  title = "The user credentials were incorrect.", name = "", status = 400,
}
function M.not_found(name)
  return { type = "https://docs.api.video/docs/resourcenot_found",
           title = "The requested resource was not found.", name = name, status = 404 }
end

return M
