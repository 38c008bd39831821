-- Test helper: shell commands and files for specs (one copy of the quoting and
-- of the exit-status handling that differs between Lua versions).
--
--   local sh = require("spec.support.shell")
--   sh.quote(s)              s as one single-quoted sh word ("it's" -> 'it'\''s')
--   sh.run(cmd)              runs cmd with stderr merged into stdout; returns
--                            that output and the exit status (a number, 0: success)
--   sh.exists(path)          a file that can be opened for reading
--   sh.read_file(path)       its whole text, or nil when it cannot be opened
--   sh.tmpdir()              a new empty directory (under os.tmpname's folder)
--   sh.remove_tree(path)     rm -rf path
--
-- The exit status is read from the shell itself (a last line printed after cmd),
-- not from file:close(): PUC Lua 5.1 and LuaJIT without 5.2 compatibility do not
-- return it there. Nothing here uses syntax newer than Lua 5.1.
local M = {}

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function M.run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; printf '\\n%d' $?"))
  local text = p:read("*a")
  p:close()
  local out, code = text:match("^(.*)\n(%d+)$")
  if not out then return text, -1 end -- the shell died before printing its status
  return out, tonumber(code)
end

--- Builds the C core for nginx's LuaJIT (build/luajit/apivideo/core.so) in the checkout at root, as
-- `make LUA_VERSION=jit` does (nothing when it is up to date); raises with make's output when it fails.
function M.make_luajit(root)
  local out, code = M.run("make -C " .. M.quote(root) .. " --no-print-directory LUA_VERSION=jit")
  if code ~= 0 then
    error("make LUA_VERSION=jit failed (needs libluajit2-5.1-dev libcurl4-openssl-dev):\n" .. out, 2)
  end
end

function M.exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
    return true
  end
  return false
end

function M.read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  local out, code = M.run("mkdir " .. M.quote(p))
  assert(code == 0, "mkdir " .. p .. ": " .. out)
  return p
end

--- A TCP port free on 127.0.0.1 now (the kernel's pick).
function M.free_port()
  local socket = require("socket")
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  srv:close()
  return tonumber(port)
end

function M.remove_tree(path)
  os.execute("rm -rf " .. M.quote(path))
end

return M
