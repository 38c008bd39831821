-- Helpers for standin/start (run with lua5.4 + luasocket):
--   lua5.4 tools.lua freeport
--   lua5.4 tools.lua render TEMPLATE OUT PORT LUA_DIR USER_LINE [TLS_PORT CERT KEY]
--   lua5.4 tools.lua wait URL TIMEOUT_S
local socket = require("socket")

local cmd = arg[1]

if cmd == "freeport" then
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  print(port)

elseif cmd == "render" then
  local tpl, out, port, lua_dir, user = arg[2], arg[3], arg[4], arg[5], arg[6]
  local tls = ""
  if arg[7] and arg[7] ~= "" then
    tls = "        listen 127.0.0.1:" .. arg[7] .. " ssl http2;\n"
      .. "        ssl_certificate " .. arg[8] .. ";\n"
      .. "        ssl_certificate_key " .. arg[9] .. ";\n"
      .. "        ssl_protocols TLSv1.2 TLSv1.3;"
  end
  local f = assert(io.open(tpl, "r"))
  local text = f:read("a")
  f:close()
  local subst = { PORT = port, LUA_DIR = lua_dir, USER = user or "", TLS = tls }
  text = text:gsub("@([%u_]+)@", function(k) return subst[k] end)
  f = assert(io.open(out, "w"))
  f:write(text)
  f:close()

elseif cmd == "wait" then
  -- polls GET /_standin/stats until a 200 answer or the deadline
  local url, timeout = arg[2], tonumber(arg[3] or "2")
  local host, port = url:match("^http://([^:/]+):(%d+)")
  local deadline = socket.gettime() + timeout
  while socket.gettime() < deadline do
    local c = socket.tcp()
    c:settimeout(0.25)
    if c:connect(host, tonumber(port)) then
      c:send("GET /_standin/stats HTTP/1.1\r\nHost: " .. host .. ":" .. port .. "\r\nConnection: close\r\n\r\n")
      local line = c:receive("*l")
      c:close()
      if line and line:match("^HTTP/1%.%d 200") then os.exit(0) end
    else
      c:close()
    end
    socket.sleep(0.02)
  end
  io.stderr:write("standin: no answer from " .. url .. " within " .. timeout .. " s\n")
  os.exit(1)

else
  io.stderr:write("usage: tools.lua freeport | render ... | wait URL TIMEOUT\n")
  os.exit(2)
end
