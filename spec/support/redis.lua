-- Test helper: a real redis-server on 127.0.0.1, a free port, for one spec file.
--
--   local R = require("spec.support.redis")
--   local srv = R.start({ password = "s3cret" })   -- password optional
--   srv.port, srv.password, srv:cli("DBSIZE"), srv:stop()
--   R.driver_path()  -- package.path entry that makes redis-lua load on this Lua
--
-- Needs Debian's redis-server (and redis-tools for srv:cli); a missing one
-- fails with the package name. Nothing is persisted (no RDB, no AOF); the
-- data directory is a fresh temporary one, removed at stop.
local socket = require("socket")
local sh = require("spec.support.shell")

local M = {}

local free_port = sh.free_port

local Server = {}
Server.__index = Server

function Server:cli(...)
  local args = { "redis-cli", "-h 127.0.0.1", "-p " .. self.port }
  if self.password then args[#args + 1] = "--no-auth-warning -a " .. sh.quote(self.password) end
  for _, a in ipairs({ ... }) do args[#args + 1] = sh.quote(a) end
  local out, code = sh.run(table.concat(args, " "))
  assert(code == 0, "redis-cli failed: " .. out)
  return (out:gsub("\n$", ""))
end

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  local f = io.open(self.dir .. "/redis.pid")
  local pid = f and f:read("*l")
  if f then f:close() end
  if pid and pid:match("^%d+$") then
    os.execute("kill " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      local alive = os.execute("kill -0 " .. pid .. " 2>/dev/null")
      if alive ~= true and alive ~= 0 then break end
      socket.sleep(0.02)
    end
  end
  sh.remove_tree(self.dir)
end

function M.start(opts)
  opts = opts or {}
  assert(sh.exists("/usr/bin/redis-server"), "redis-server missing (apt-get install redis-server)")
  local dir = sh.tmpdir()
  for _ = 1, 5 do
    local port = free_port()
    local cmd = { "/usr/bin/redis-server", "--bind 127.0.0.1", "--port " .. port, "--save ''",
      "--appendonly no", "--daemonize yes", "--dir " .. sh.quote(dir), "--pidfile " .. sh.quote(dir .. "/redis.pid"),
      "--logfile " .. sh.quote(dir .. "/redis.log") }
    if opts.password then cmd[#cmd + 1] = "--requirepass " .. sh.quote(opts.password) end
    local out, code = sh.run(table.concat(cmd, " "))
    assert(code == 0, "redis-server did not start: " .. out)
    for _ = 1, 150 do
      local c = socket.tcp()
      c:settimeout(0.1)
      if c:connect("127.0.0.1", port) then
        c:send("PING\r\n")
        local line = c:receive("*l")
        c:close()
        if line == "+PONG" or (line and line:find("NOAUTH", 1, true)) then
          return setmetatable({ port = port, password = opts.password, dir = dir }, Server)
        end
      end
      socket.sleep(0.02)
    end
  end
  error("redis-server did not answer; log: " .. tostring(sh.read_file(dir .. "/redis.log")))
end

-- Debian installs redis-lua (lua-redis) for Lua 5.1-5.3 only; it runs unchanged on 5.4.
function M.driver_path()
  local v = _VERSION:match("%d+%.%d+")
  if v == "5.4" then return "/usr/share/lua/5.3/?.lua" end
  return "/usr/share/lua/" .. v .. "/?.lua"
end

return M
