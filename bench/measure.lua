-- Runs one walker (any language) against the stand-in and adds what the server saw.
--   lua5.4 bench/measure.lua TAG EXPECTED_REQUESTS -- COMMAND [ARGS...]
-- Resets the stand-in's counters, remembers where its access log ends, runs COMMAND (which prints
-- "RESULT walk.FIELD VALUE" lines and exits 0), then waits until the server has logged every request
-- and prints, under TAG:
--   every field of the walker (ms, items, cpu_s, hwm_kb, ...)
--   connections      distinct TCP connections that carried a request (/_standin/stats)
--   requests         analytics requests (must equal EXPECTED_REQUESTS; every one answered 200)
--   max_in_flight    most requests the server processed at once
--   server_ms_med    median of the access log's $request_time (the server's time per request,
--                    latency sleep included; millisecond resolution), server_ms_mean its mean
--                    (finer than the resolution over many requests), server_ms_p90 its 90th percentile
--   body_bytes       sum of $body_bytes_sent (response bodies as sent: gzip when negotiated)
-- Exits non-zero when the walker fails or the server's counts do not add up.
local B = dofile("bench/common.lua")

local tag, expected_requests = arg[1], tonumber(arg[2])
if not tag or not expected_requests or arg[3] ~= "--" or not arg[4] then
  B.fail("usage: measure.lua TAG EXPECTED_REQUESTS -- COMMAND [ARGS...]")
end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local cmd = {}
for i = 4, #arg do cmd[#cmd + 1] = q(arg[i]) end

local prefix = os.getenv("APIVIDEO_STANDIN_PREFIX")
if not prefix or prefix == "" then B.fail("APIVIDEO_STANDIN_PREFIX is not set") end
local log_path = prefix .. "/logs/access.log"

local function log_size()
  local f = io.open(log_path, "rb")
  if not f then return 0 end
  local size = f:seek("end")
  f:close()
  return size
end

local function log_since(offset)
  local f = io.open(log_path, "rb")
  if not f then return {} end
  f:seek("set", offset)
  local entries = {}
  for line in f:lines() do
    local status, bytes, rt = line:match('"%u+ [^"]*" (%d+) (%d+) ([%d%.]+) c=')
    if status then
      entries[#entries + 1] = { status = tonumber(status), bytes = tonumber(bytes), rt = tonumber(rt) }
    end
  end
  f:close()
  return entries
end

B.control("POST", "/_standin/reset")
local offset = log_size()

local p = io.popen(table.concat(cmd, " "), "r")
local fields = {}
for line in p:lines() do
  local field, value = line:match("^RESULT walk%.(%S+) (%S+)$")
  if field then
    fields[#fields + 1] = { field, value }
  else
    io.stderr:write(line, "\n")
  end
end
local ok, how, code = p:close()
if not ok then B.fail(tag .. ": walker failed (" .. tostring(how) .. " " .. tostring(code) .. ")") end
if #fields == 0 then B.fail(tag .. ": walker printed no results") end

-- The server counts statuses and writes the access log in its log phase, which can end a little
-- after the client has its last byte: wait until everything is accounted for.
local socket = require("socket")
local stats, entries
local deadline = socket.gettime() + 5
while true do
  stats = B.control("GET", "/_standin/stats")
  local answered = 0
  for _, n in pairs(stats.status) do answered = answered + n end
  entries = log_since(offset)
  if (answered >= stats.requests and #entries >= stats.requests and stats.in_flight == 0)
      or socket.gettime() > deadline then
    break
  end
  socket.sleep(0.01)
end

if stats.api_requests ~= expected_requests then
  B.fail(("%s: the server saw %d analytics requests, expected %d"):format(tag, stats.api_requests,
    expected_requests))
end
if stats.requests ~= stats.api_requests then
  B.fail(("%s: %d requests besides analytics ones (auth calls?)"):format(tag, stats.requests - stats.api_requests))
end
if (stats.status["200"] or 0) ~= stats.requests then
  B.fail(tag .. ": not every request was answered 200: " .. require("cjson").encode(stats.status))
end
if #entries ~= stats.requests then
  B.fail(("%s: %d access log lines for %d requests"):format(tag, #entries, stats.requests))
end

local rts, bytes, sum = {}, 0, 0
for i, e in ipairs(entries) do
  rts[i] = e.rt * 1000
  sum = sum + rts[i]
  bytes = bytes + e.bytes
end
table.sort(rts)

for _, f in ipairs(fields) do B.emit(tag, f[1], f[2]) end
B.emit(tag, "connections", stats.connections)
B.emit(tag, "requests", stats.api_requests)
B.emit(tag, "max_in_flight", stats.max_in_flight)
B.emit(tag, "server_ms_med", B.median(rts))
B.emit(tag, "server_ms_mean", sum / #rts)
B.emit(tag, "server_ms_p90", rts[math.max(1, math.ceil(#rts * 0.9))])
B.emit(tag, "body_bytes", bytes)
