-- Load driver of the OpenResty test (lua5.4 + luasocket + cjson).
--
--   lua5.4 test/openresty/load.lua --url http://127.0.0.1:PORT --path '/walk?pages=10'
--       [--walkers 20] [--duration S] [--walks N] [--ping /ping] [--ping-connections 4]
--       [--ping-script test/openresty/pace.lua] [--grace 30]
--
-- Keeps `walkers` walk requests in flight at once (one per walker, each on
-- its own connection; a walker sends its next walk as soon as the previous
-- answers). With --duration S the walkers keep going for S seconds and, when
-- --ping is given, `wrk -t1 -c4 -dS --latency` hits that path meanwhile;
-- with --walks N each walker sends exactly N walks (a burst). --ping-script
-- hands wrk a Lua script (pace.lua: 1 ms between requests per connection).
-- Walks still unanswered `grace` seconds after the last one was due are
-- given up and counted in `unanswered` (a stuck worker).
-- Prints one JSON object on stdout:
--   { walks, ok, statuses = {code = n}, results = {"count pages md5" = n},
--     workers = {pid = n}, errors = {first few}, walk_ms = {min, p50, max},
--     trace = { max_hold_ms, max_hold_cpu_ms } (when the walks answer one),
--     unanswered = n (walks given up after the grace period; absent when none),
--     ping = { p50_ms, p75_ms, p90_ms, p99_ms (nil when no request completed), requests, rps,
--              socket_errors, non_2xx, raw } | nil,
--     wall_s }
local socket = require("socket")
local cjson = require("cjson")

local function usage(msg)
  io.stderr:write("load.lua: " .. msg .. "\n")
  os.exit(2)
end

local opts = { walkers = 20, ping_connections = 4, grace = 30 }
do
  local i = 1
  while i <= #arg do
    local k, v = arg[i], arg[i + 1]
    if v == nil then usage("missing value for " .. k) end
    if k == "--url" then opts.url = v
    elseif k == "--path" then opts.path = v
    elseif k == "--walkers" then opts.walkers = tonumber(v)
    elseif k == "--duration" then opts.duration = tonumber(v)
    elseif k == "--walks" then opts.walks = tonumber(v)
    elseif k == "--ping" then opts.ping = v
    elseif k == "--ping-connections" then opts.ping_connections = tonumber(v)
    elseif k == "--ping-script" then opts.ping_script = v
    elseif k == "--grace" then opts.grace = tonumber(v)
    else usage("unknown argument " .. k) end
    i = i + 2
  end
end
if not opts.url or not opts.path then usage("--url and --path are required") end
if not opts.duration and not opts.walks then usage("--duration or --walks is required") end
local host, port = opts.url:match("^http://([^:/]+):(%d+)$")
if not host then usage("--url must be http://HOST:PORT") end
port = tonumber(port)

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

------------------------------------------------------------------------------
-- wrk in the background (io.popen runs it while we drive the walks)
local wrk
if opts.ping then
  if not opts.duration then usage("--ping needs --duration") end
  local cmd = ("wrk -t1 -c%d -d%ds --timeout 30s --latency %s%s"):format(
    opts.ping_connections, math.ceil(opts.duration),
    opts.ping_script and ("-s " .. shell_quote(opts.ping_script) .. " ") or "",
    shell_quote(opts.url .. opts.ping))
  -- wrk's event loop only takes file descriptors below 10 + 3 x connections:
  -- descriptors inherited from whoever started us (a test runner holding a
  -- few dozen sockets) would push its own above that and every connect
  -- would fail. Close everything above stderr first.
  local closing = "for fd in /proc/$$/fd/*; do n=${fd##*/}; "
    .. "if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done 2>/dev/null; "
  wrk = assert(io.popen("bash -c " .. shell_quote(closing .. "exec " .. cmd .. " 2>&1"), "r"))
end

-- wrk prints latencies as 812.00us, 1.23ms, 1.01s, 2.00m
local function to_ms(s)
  local n, unit = s:match("^([%d.]+)(%a+)$")
  n = tonumber(n)
  if not n then return nil end
  local f = ({ us = 0.001, ms = 1, s = 1000, m = 60000 })[unit]
  return f and n * f or nil
end

local function parse_wrk(text)
  local r = { raw = text }
  for pct, v in text:gmatch("\n%s+(%d+)%%%s+(%S+)") do
    r["p" .. pct .. "_ms"] = to_ms(v)
  end
  r.requests = tonumber(text:match("(%d+) requests in"))
  r.rps = tonumber(text:match("Requests/sec:%s+([%d.]+)"))
  local c, rd, w, t = text:match("Socket errors: connect (%d+), read (%d+), write (%d+), timeout (%d+)")
  r.socket_errors = c and (tonumber(c) + tonumber(rd) + tonumber(w) + tonumber(t)) or 0
  r.non_2xx = tonumber(text:match("Non%-2xx or 3xx responses: (%d+)")) or 0
  if not r.requests or r.requests == 0 then -- nothing completed: no percentiles
    r.p50_ms, r.p75_ms, r.p90_ms, r.p99_ms = nil, nil, nil, nil
  end
  return r
end

------------------------------------------------------------------------------
-- walkers: one HTTP/1.0 request per connection, read until the server closes
local started = socket.gettime()
local deadline = opts.duration and started + opts.duration or nil

local summary = { walks = 0, ok = 0, statuses = {}, results = {}, workers = {}, errors = {} }
local durations = {}

local function record(w, raw)
  local dt = (socket.gettime() - w.sent_at) * 1000
  durations[#durations + 1] = dt
  summary.walks = summary.walks + 1
  local status = tonumber(raw:match("^HTTP/1%.%d (%d%d%d)")) or 0
  local body = raw:match("\r\n\r\n(.*)$") or ""
  summary.statuses[tostring(status)] = (summary.statuses[tostring(status)] or 0) + 1
  local ok, res = pcall(cjson.decode, body)
  if status == 200 and ok and type(res) == "table" then
    summary.ok = summary.ok + 1
    local key = ("%d %d %s"):format(res.count, res.pages, tostring(res.md5))
    summary.results[key] = (summary.results[key] or 0) + 1
    if type(res.trace) == "table" then -- /walk?trace=1: the longest hold of the worker
      local t = summary.trace or { max_hold_ms = 0, max_hold_cpu_ms = 0 }
      t.max_hold_ms = math.max(t.max_hold_ms, res.trace.max_hold_ms)
      t.max_hold_cpu_ms = math.max(t.max_hold_cpu_ms, res.trace.max_hold_cpu_ms)
      summary.trace = t
    end
    local pid = ("%d"):format(res.worker)
    summary.workers[pid] = (summary.workers[pid] or 0) + 1
  elseif #summary.errors < 5 then
    summary.errors[#summary.errors + 1] = ("status %d: %s"):format(status, body:sub(1, 300))
  end
end

local request = ("GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: apivideo-load\r\n\r\n"):format(opts.path, host, port)

local walkers = {}
for i = 1, opts.walkers do walkers[i] = { id = i, sent = 0 } end

local function wants_more(w)
  if opts.walks then return w.sent < opts.walks end
  return socket.gettime() < deadline
end

local function start_walk(w)
  local c = assert(socket.tcp())
  c:settimeout(0)
  local ok, err = c:connect(host, port)
  if not ok and err ~= "timeout" and err ~= "Operation already in progress" then
    error("connect: " .. tostring(err))
  end
  w.sock, w.buf, w.state, w.sent_at = c, {}, "send", socket.gettime()
  w.sent = w.sent + 1
  w.out = request
end

local function finish_walk(w)
  w.sock:close()
  w.sock = nil
  record(w, table.concat(w.buf))
  if wants_more(w) then start_walk(w) end
end

for _, w in ipairs(walkers) do start_walk(w) end

local hard_deadline = started + (opts.duration or 0) + opts.grace
while true do
  local rd, wr, by_sock = {}, {}, {}
  for _, w in ipairs(walkers) do
    if w.sock then
      by_sock[w.sock] = w
      if w.state == "send" then wr[#wr + 1] = w.sock else rd[#rd + 1] = w.sock end
    end
  end
  if #rd == 0 and #wr == 0 then break end
  if socket.gettime() > hard_deadline then -- a stuck worker: report, do not wait forever
    summary.unanswered = #rd + #wr
    for _, wk in ipairs(walkers) do
      if wk.sock then wk.sock:close() end
    end
    break
  end
  local r, w = socket.select(rd, wr, 0.5)
  for _, s in ipairs(w) do
    local wk = by_sock[s]
    local n, err, last = s:send(wk.out)
    n = n or last
    if err and err ~= "timeout" then
      if #summary.errors < 5 then summary.errors[#summary.errors + 1] = "send: " .. err end
      wk.buf = { "" }
      finish_walk(wk)
    else
      wk.out = wk.out:sub((n or 0) + 1)
      if wk.out == "" then wk.state = "recv" end
    end
  end
  for _, s in ipairs(r) do
    local wk = by_sock[s]
    if wk and wk.sock == s then
      local data, err, partial = s:receive(65536)
      local chunk = data or partial
      if chunk and #chunk > 0 then wk.buf[#wk.buf + 1] = chunk end
      if err == "closed" then finish_walk(wk)
      elseif err and err ~= "timeout" then
        if #summary.errors < 5 then summary.errors[#summary.errors + 1] = "recv: " .. err end
        finish_walk(wk)
      end
    end
  end
end

table.sort(durations)
local function q(p)
  if #durations == 0 then return nil end
  return math.floor(durations[math.max(1, math.ceil(p * #durations))] + 0.5)
end
summary.walk_ms = { min = q(0), p50 = q(0.5), max = q(1) }
if wrk then
  local text = wrk:read("a")
  wrk:close()
  summary.ping = parse_wrk(text)
end
summary.wall_s = math.floor((socket.gettime() - started) * 100 + 0.5) / 100
io.write(cjson.encode(summary), "\n")
