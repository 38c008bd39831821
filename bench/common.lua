-- Shared helpers for the benchmark scripts (lua5.4, run from the repository root).
--
--   local B = require("common")     -- with package.path containing "bench/?.lua"
--   B.emit(tag, field, value)       -- prints "RESULT tag.field value" (collected by bench/run.sh)
--   B.fail(msg)                     -- prints to stderr and exits 1
--   B.standin()                     -- the stand-in's URL (APIVIDEO_STANDIN_URL, required)
--   B.control(method, path, body)   -- the stand-in's control API (luasocket), returns decoded JSON
--   B.vm(field)                     -- a /proc/self/status field in kB (VmHWM, VmRSS)
--   B.median(list)
--   B.set_gc(mode)                  -- default | incremental | generational | pauseN (see below)
--   B.check_item(id, i)             -- fails unless session id id belongs at position i
local M = {}

-- The scripts that run walks (walk_lua.lua, decode_walk.lua) also run under LuaJIT and Lua 5.1-5.3:
-- the C core comes from the build folder of the running interpreter (make LUA_VERSION=jit → build/luajit).
M.lua_build = rawget(_G, "jit") and "build/luajit" or ("build/lua" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;bench/?.lua;" .. package.path
package.cpath = M.lua_build .. "/?.so;" .. package.cpath

function M.fail(msg)
  io.stderr:write("bench: ", tostring(msg), "\n")
  os.exit(1)
end

function M.emit(tag, field, value)
  if type(value) == "number" and value ~= math.floor(value) then
    value = string.format("%.6g", value)
  end
  io.write("RESULT ", tag, ".", field, " ", tostring(value), "\n")
  io.flush()
end

function M.standin()
  local url = os.getenv("APIVIDEO_STANDIN_URL")
  if not url or url == "" then M.fail("APIVIDEO_STANDIN_URL is not set (start the stand-in first)") end
  return url
end

function M.control(method, path, body)
  local http = require("socket.http")
  local ltn12 = require("ltn12")
  local cjson = require("cjson")
  local out = {}
  local req = { url = M.standin() .. path, method = method, sink = ltn12.sink.table(out) }
  if body then
    local s = cjson.encode(body)
    req.source = ltn12.source.string(s)
    req.headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#s) }
  end
  local ok, code = http.request(req)
  if not ok or code ~= 200 then
    M.fail("stand-in control " .. method .. " " .. path .. " failed: " .. tostring(code))
  end
  return cjson.decode(table.concat(out))
end

function M.vm(field)
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  local v = s:match(field .. ":%s*(%d+)%s*kB")
  if not v then M.fail("no " .. field .. " in /proc/self/status") end
  return tonumber(v)
end

function M.median(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

-- The collector mode of a walk: default (as the interpreter starts), incremental, generational (5.4
-- only), or pauseN: incremental with setpause N (the 5.4 default is 200: a cycle starts when the heap
-- has doubled since the last one; 400 lets it grow four-fold).
function M.set_gc(mode)
  if mode == "default" then return end
  local pause = mode:match("^pause(%d+)$")
  if pause then
    if _VERSION == "Lua 5.4" then collectgarbage("incremental") end
    collectgarbage("setpause", tonumber(pause))
  elseif mode == "incremental" or mode == "generational" then
    if _VERSION ~= "Lua 5.4" then M.fail("collector mode " .. mode .. " needs Lua 5.4") end
    collectgarbage(mode)
  else
    M.fail("unknown collector mode " .. mode .. " (default, incremental, generational, pauseN)")
  end
end

-- Item i must carry session id ps<video>_<i zero-padded to 6>: its last 6 characters are checked.
function M.check_item(id, i)
  if type(id) ~= "string" or tonumber(id:sub(-6)) ~= i then
    M.fail("item " .. i .. " has session id " .. tostring(id) .. " (out of order or missing)")
  end
end

return M
