-- Measurement 10 (issue 20): a fleet, two nginx hosts x two workers sharing one redis-server, in front
-- of a stand-in of its own (spec/support/fleet.lua: the page handler the fleet spec uses, one client
-- per request, as the README shows).
--   lua5.4 bench/fleet.lua [quick]
-- Prints RESULT lines (tag fleet):
--   flight_views, flight_upstream   1 000 concurrent page views of one uncached figure over every
--                                   worker of both hosts (cache on Redis, 300 ms upstream)
--   ttl_s, ttl_views, ttl_upstream  page views of one figure for ttl_s seconds with ttl = 1 (wrk on
--                                   both hosts at once)
--   budget_views, budget_429, budget_elapsed_s, budget_window_s, budget_limit
--                                   an upstream announcing budget_limit requests a window, 2 hosts x 2
--                                   workers asking for distinct figures through the budget shared in Redis
--   down_s, down_views, down_not_stale, down_failed
--                                   the upstream answering 500 for down_s seconds: page views of a
--                                   figure cached a moment before (wrk on both hosts), those not answered
--                                   from stale and those that failed
--   hit_p99_ms, shared_p99_ms       a cached answer's p99 (wrk -t1 -c8 --latency on one host, cache on
--                                   the host's lua_shared_dict), and the yardstick's: one ngx.shared lookup
-- "quick" (the CI smoke) shortens the timed parts: 3 s of ttl, a 6 s window of 10, 4 s down.
-- Exits 1 when a part fails to run (a host that does not start, a wrk that fails); missed targets are
-- the report's to say.
local B = dofile("bench/common.lua")
package.path = "./?.lua;" .. package.path -- spec/support: the fleet, Redis and stand-in helpers

local S = require("spec.support.standin")
local R = require("spec.support.redis")
local F = require("spec.support.fleet")
local sh = require("spec.support.shell")
local socket = require("socket")

local quick = arg[1] == "quick"
local TTL_S = quick and 3 or 10
local WINDOW_S, LIMIT = quick and 6 or 60, quick and 10 or 50
local BUDGET_VIEWS = LIMIT * 2
local DOWN_S = quick and 4 or 30

local srv, redis, a, b
local function cleanup()
  if a then F.stop_host(a) end
  if b then F.stop_host(b) end
  if redis then redis:stop() end
  if srv then srv:stop() end
end
local function fail(msg)
  cleanup()
  B.fail("fleet: " .. tostring(msg))
end

-- wrk for seconds on url (an extra wrk Lua script optional): its output.
local function wrk_cmd(url, seconds, conns, script)
  return ("wrk -t1 -c%d -d%ds --latency %s %s"):format(conns, seconds, script and ("-s " .. sh.quote(script)) or "",
    sh.quote(url))
end

-- Runs the commands at once and waits for all: their outputs.
local function together(cmds)
  local files, outs = {}, {}
  local parts = {}
  for i, c in ipairs(cmds) do
    files[i] = os.tmpname()
    parts[i] = "(" .. c .. ") > " .. sh.quote(files[i]) .. " 2>&1 &"
  end
  local _, code = sh.run(table.concat(parts, " ") .. " wait")
  if code ~= 0 then fail("commands failed: " .. table.concat(cmds, "; ")) end
  for i, f in ipairs(files) do
    outs[i] = sh.read_file(f) or ""
    os.remove(f)
  end
  return outs
end

local function requests_of(wrk_out)
  local n = tonumber(wrk_out:match("(%d+) requests in"))
  if not n then fail("wrk printed no request count:\n" .. wrk_out) end
  return n
end

-- wrk's latency line ("99%   12.34ms") in ms.
local function p99_ms(wrk_out)
  local v, unit = wrk_out:match("\n%s+99%%%s+([%d%.]+)(%a+)")
  if not v then fail("wrk printed no p99:\n" .. wrk_out) end
  local scale = ({ us = 0.001, ms = 1, s = 1000 })[unit]
  return tonumber(v) * scale
end

-- A wrk script that counts answers whose body lacks "stale":true, and non-200s, printed at the end.
local STALE_SCRIPT = os.tmpname() .. ".lua"
do
  local f = assert(io.open(STALE_SCRIPT, "w"))
  f:write([[
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function init() not_stale, failed = 0, 0 end
function response(status, headers, body)
  if status ~= 200 or body:find('"kind"', 1, true) then failed = failed + 1 end
  if not body:find('"stale":true', 1, true) then not_stale = not_stale + 1 end
end
function done()
  local ns, f = 0, 0
  for _, t in ipairs(threads) do ns, f = ns + t:get("not_stale"), f + t:get("failed") end
  io.write("NOT_STALE ", ns, " FAILED ", f, "\n")
end
]])
  f:close()
end

local ok, err = pcall(function()
  srv = S.start({ latency_ms = 300 })
  redis = R.start()
  a = F.start_host("a", srv, redis)
  b = F.start_host("b", srv, redis)

  -- 1. one flight for the fleet
  srv:idle_reset({ latency_ms = 300 })
  redis:cli("FLUSHALL")
  local urls = {}
  for i = 1, 1000 do urls[i] = (i % 2 == 0 and a or b).url .. "/page?cache=1&store=redis&id=vi250&page=1" end
  local answers = F.parallel(urls)
  for _, ans in ipairs(answers) do
    if ans.first ~= "psvi250_000001" then fail("a page view answered " .. require("cjson").encode(ans)) end
  end
  B.emit("fleet", "flight_views", #answers)
  B.emit("fleet", "flight_upstream", F.api_requests(srv))

  -- 2. ttl = 1: one upstream request a second for the fleet
  srv:idle_reset({ latency_ms = 20 })
  local ttl_path = "/page?cache=1&store=redis&id=vi250&page=2&ttl=1"
  local outs = together({ wrk_cmd(a.url .. ttl_path, TTL_S, 4), wrk_cmd(b.url .. ttl_path, TTL_S, 4) })
  B.emit("fleet", "ttl_s", TTL_S)
  B.emit("fleet", "ttl_views", requests_of(outs[1]) + requests_of(outs[2]))
  B.emit("fleet", "ttl_upstream", F.api_requests(srv))

  -- 3. the shared budget: distinct figures, an upstream announcing LIMIT a window
  srv:idle_reset({ latency_ms = 20, rate_limit = { limit = LIMIT, window_s = WINDOW_S } })
  redis:cli("FLUSHALL")
  urls = {}
  for i = 1, BUDGET_VIEWS do
    urls[i] = (i % 2 == 0 and a or b).url .. "/page?budget=1&store=redis&retries=0&wait=" .. (WINDOW_S * 2000)
      .. "&page=" .. i
  end
  local t0 = socket.gettime()
  answers = F.parallel(urls)
  local elapsed = socket.gettime() - t0
  local failed = 0
  for _, ans in ipairs(answers) do
    if not ans.first then failed = failed + 1 end
  end
  local stats = srv:stats()
  B.emit("fleet", "budget_views", #answers)
  B.emit("fleet", "budget_failed", failed)
  B.emit("fleet", "budget_429", stats.status["429"] or 0)
  B.emit("fleet", "budget_elapsed_s", elapsed)
  B.emit("fleet", "budget_window_s", WINDOW_S)
  B.emit("fleet", "budget_limit", LIMIT)

  -- 4. the upstream down: every page view answered from stale
  srv:idle_reset({ latency_ms = 20 })
  local down_path = "/page?cache=1&store=redis&id=vi250&page=3&ttl=1&retries=0"
  F.parallel({ a.url .. down_path })
  socket.sleep(1.2) -- no longer fresh
  srv:faults({ { match = "vi250", kind = "500", count = -1 } })
  outs = together({ wrk_cmd(a.url .. down_path, DOWN_S, 4, STALE_SCRIPT),
    wrk_cmd(b.url .. down_path, DOWN_S, 4, STALE_SCRIPT) })
  srv:faults({})
  local not_stale, down_failed = 0, 0
  for _, o in ipairs(outs) do
    local ns, f = o:match("NOT_STALE (%d+) FAILED (%d+)")
    if not ns then fail("the stale count is missing:\n" .. o) end
    not_stale, down_failed = not_stale + tonumber(ns), down_failed + tonumber(f)
  end
  B.emit("fleet", "down_s", DOWN_S)
  B.emit("fleet", "down_views", requests_of(outs[1]) + requests_of(outs[2]))
  B.emit("fleet", "down_not_stale", not_stale)
  B.emit("fleet", "down_failed", down_failed)

  -- 5. a cached answer's p99 under load, and a plain ngx.shared lookup's
  srv:idle_reset({ latency_ms = 20 })
  local hit_path = "/page?cache=1&id=vi250&page=4"
  F.parallel({ a.url .. hit_path, a.url .. "/shared" })
  local hit = together({ wrk_cmd(a.url .. hit_path, quick and 2 or 5, 8) })[1]
  local shared = together({ wrk_cmd(a.url .. "/shared", quick and 2 or 5, 8) })[1]
  B.emit("fleet", "hit_p99_ms", p99_ms(hit))
  B.emit("fleet", "hit_requests", requests_of(hit))
  B.emit("fleet", "shared_p99_ms", p99_ms(shared))
  B.emit("fleet", "shared_requests", requests_of(shared))
end)
os.remove(STALE_SCRIPT)
if not ok then fail(err) end
cleanup()
