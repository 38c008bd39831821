-- lua-apivideo inside nginx with the Lua module (issue 5, "OpenResty: never block the worker").
--
-- Drives test/openresty/: builds the module for LuaJIT, starts a stand-in with
-- 50 ms latency and our nginx (one worker; later two), checks the walks, the
-- phase errors, the /ping latency under 20 concurrent walks (non-blocking
-- client, then the blocking control) and the token sharing between workers.
-- #once: it drives nginx's LuaJIT whatever Lua runs busted (make test-all runs it under 5.4 only).
-- Needs Debian's nginx, libnginx-mod-http-lua, lua-resty-core, lua-cjson,
-- luajit2 + libluajit2-5.1-dev, wrk, lua5.4 + lua-socket: a missing one fails
-- the suite with its package name, nothing is skipped.
--   lua5.4 /usr/bin/busted spec/openresty_spec.lua
local S = require("spec.support.standin")
local cjson = require("cjson")
local model = require("spec.support.model")
local shell = require("spec.support.shell")
local H = require("spec.support.hub")

local q, exists, read_file = shell.quote, shell.exists, shell.read_file

-- cmd's stdout and stderr; true first when it exited 0
local function run(cmd)
  local out, code = shell.run(cmd)
  return code == 0, out
end

local function note(fmt, ...)
  io.stdout:write("# openresty: ", fmt:format(...), "\n")
  io.stdout:flush()
end

local function ms(v)
  return v and ("%.2f"):format(v) or "-"
end

local function int(v)
  return v and ("%d"):format(math.floor(v)) or "-"
end

local function stuck_note(res)
  return res.unanswered and (" -- " .. int(res.unanswered) .. " walk(s) never answered: " .. res.stuck) or ""
end

-- Prerequisites: each missing one fails with the Debian package that brings it.
local function require_prerequisites()
  local missing = {}
  local function need(ok, what, pkg)
    if not ok then missing[#missing + 1] = what .. " (apt-get install " .. pkg .. ")" end
  end
  need(exists("/usr/sbin/nginx"), "/usr/sbin/nginx", "nginx")
  need(exists("/usr/lib/nginx/modules/ngx_http_lua_module.so"), "ngx_http_lua_module.so", "libnginx-mod-http-lua")
  need(exists("/usr/share/lua/5.1/resty/core.lua"), "resty.core", "lua-resty-core")
  need(exists("/usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so"), "cjson for LuaJIT", "lua-cjson")
  need(exists("/usr/include/luajit-2.1/lua.h"), "LuaJIT headers", "libluajit2-5.1-dev luajit2")
  need(run("command -v wrk"), "wrk", "wrk")
  need(run("command -v md5sum"), "md5sum", "coreutils")
  need(run("lua5.4 -e 'require(\"socket\"); require(\"cjson\")'"), "lua5.4 with luasocket and cjson",
    "lua5.4 lua-socket lua-cjson")
  if #missing > 0 then
    error("OpenResty test prerequisites missing:\n  " .. table.concat(missing, "\n  "), 0)
  end
end

------------------------------------------------------------------------------
-- The stand-in's documented data (spec/support/model.lua, never read back from it):
-- session i of n: id ps<source>_<i, 6 digits>, loadedAt = 2023-01-01T00:00:00.000Z
-- + floor((i-1) * 365 days / n), endedAt = loadedAt + (30 + 37 i mod 1771) s.
local function iso(t_ms)
  local s = math.floor(t_ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. (".%03dZ"):format(t_ms - s * 1000)
end

local function md5_of(text)
  local name = os.tmpname()
  local f = assert(io.open(name, "wb"))
  f:write(text)
  f:close()
  local ok, out = run("md5sum " .. q(name))
  os.remove(name)
  assert(ok, "md5sum failed: " .. out)
  return (out:match("^(%x+)"))
end

local expected_cache = {}
-- the walk answer for sessions 1..count of a video with n sessions
local function expected(source, n, count, pages)
  local key = source .. ":" .. count
  if not expected_cache[key] then
    local lines = {}
    for i = 1, count do
      lines[i] = ("%s %s %s"):format(model.session_id(source, i), iso(model.loaded_ms(n, i)), iso(model.ended_ms(n, i)))
    end
    expected_cache[key] = md5_of(table.concat(lines, "\n"))
  end
  return { count = count, pages = pages, md5 = expected_cache[key],
    first = model.session_id(source, 1), last = model.session_id(source, count) }
end

------------------------------------------------------------------------------
local root, standin
local started = {} -- every nginx started here, stopped in teardown

local function start_nginx(workers)
  local ok, out = run(q(root .. "/test/openresty/start") .. " --workers " .. workers
    .. " --standin " .. q(standin.url))
  local url, prefix = out:match("APIVIDEO_NGINX_URL=(%S+) APIVIDEO_NGINX_PREFIX=(%S+)")
  assert(ok and url, "test/openresty/start failed:\n" .. out)
  local n = { url = url, prefix = prefix, workers = workers }
  started[#started + 1] = n
  return n
end

local function stop_nginx(n)
  if n and not n.stopped then
    n.stopped = true
    run(q(root .. "/test/openresty/stop") .. " " .. q(n.prefix))
  end
end

-- A fresh nginx for one test (stopped when the test ends): a worker that got
-- stuck in one test cannot take the next ones down with it.
local function fresh(workers)
  local n = start_nginx(workers or 1)
  finally(function() stop_nginx(n) end)
  return n
end

-- A process's state, CPU (user + system, in clock ticks of 1/100 s) and parent.
local function cpu(pid)
  local st = read_file("/proc/" .. pid .. "/stat")
  if not st then return nil end
  local fields = {}
  for f in st:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = f end
  return fields[1], (tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0), tonumber(fields[2])
end

-- The worker processes of an nginx (its master's children).
local function workers_of(n)
  local master = (read_file(n.prefix .. "/nginx.pid") or ""):match("%d+")
  if not master then return nil end
  local pids = {}
  local ok, out = run("ls /proc")
  if ok then
    for pid in out:gmatch("%d+") do
      local _, _, ppid = cpu(pid)
      if tostring(ppid) == master then pids[#pids + 1] = pid end
    end
  end
  return pids
end

-- The CPU its workers have used so far, in seconds.
local function workers_cpu_s(n)
  local total = 0
  for _, pid in ipairs(workers_of(n) or {}) do total = total + (select(2, cpu(pid)) or 0) end
  return total / 100
end

-- The workers of an nginx and how much CPU each burns: a worker that uses a
-- whole CPU while walks go unanswered is stuck in a loop that never yields.
local function worker_report(n)
  local pids = workers_of(n)
  if not pids then return "no nginx.pid" end
  local before = {}
  for _, pid in ipairs(pids) do before[pid] = select(2, cpu(pid)) end
  os.execute("sleep 0.5")
  local parts = {}
  for _, pid in ipairs(pids) do
    local state, ticks = cpu(pid)
    if state then
      local busy = ((ticks - (before[pid] or ticks)) / 100) / 0.5
      parts[#parts + 1] = ("worker %s: state %s, %d%% CPU%s"):format(pid, state, math.floor(busy * 100 + 0.5),
        busy > 0.8 and " (spinning)" or "")
    end
  end
  return table.concat(parts, "; ")
end

local function get(n, path)
  local status, body, headers = S.http("GET", n.url .. path)
  assert(status, "GET " .. path .. ": " .. tostring(body) .. " [" .. worker_report(n) .. "]")
  return status, body, headers
end

local function get_json(n, path)
  local status, body = get(n, path)
  local ok, t = pcall(cjson.decode, body)
  assert(status == 200 and ok, "GET " .. path .. " -> " .. tostring(status) .. " " .. tostring(body))
  return t
end

local function check_walk(res, want, what)
  assert.are.equal(want.count, math.floor(res.count), what .. ": item count")
  assert.are.equal(want.pages, math.floor(res.pages), what .. ": pages")
  assert.are.equal(want.first, res.first, what .. ": first id")
  assert.are.equal(want.last, res.last, what .. ": last id")
  assert.are.equal(want.md5, res.md5, what .. ": checksum of the items")
end

-- load.lua: walkers + (optionally) wrk on /ping; returns its decoded summary.
local function run_load(n, path, opts)
  local args = { "--url", n.url, "--path", path, "--walkers", tostring(opts.walkers or 20),
    "--grace", tostring(opts.grace or 5) }
  if opts.duration then args[#args + 1] = "--duration"; args[#args + 1] = tostring(opts.duration) end
  if opts.walks then args[#args + 1] = "--walks"; args[#args + 1] = tostring(opts.walks) end
  if opts.ping then args[#args + 1] = "--ping"; args[#args + 1] = "/ping" end
  for i, a in ipairs(args) do args[i] = q(a) end
  local ok, out = run("lua5.4 " .. q(root .. "/test/openresty/load.lua") .. " " .. table.concat(args, " "))
  local json = out:match("{.*}")
  local dok, res = pcall(cjson.decode, json or "")
  assert(ok and dok, "load.lua failed:\n" .. out)
  if res.unanswered then
    res.stuck = worker_report(n)
  end
  return res
end

-- every walk of a load run answered 200 with exactly the expected items
local function check_load_walks(res, want, what)
  assert.is_nil(res.unanswered, ("%s: %s walk(s) never answered; %s"):format(what, int(res.unanswered),
    tostring(res.stuck)))
  local key = ("%d %d %s"):format(want.count, want.pages, want.md5)
  assert.is_true(res.walks > 0, what .. ": no walk was made")
  assert.are.equal(res.walks, res.ok,
    what .. ": failed walks " .. cjson.encode(res.statuses) .. " " .. cjson.encode(res.errors))
  assert.are.same({ [key] = res.walks }, res.results, what .. ": some walks returned other items")
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local WALK = "/walk?video=vi250&pages=10&page_size=10&concurrency=4"
-- The issue's target for /ping's p99 under 20 concurrent walks (best of up
-- to three runs: other processes on this 2-CPU machine only ever add latency).
local P99_LIMIT_MS = tonumber(os.getenv("APIVIDEO_P99_LIMIT_MS")) or 5
local CONTROL_MIN_MS = 50
local LOAD_S, CONTROL_S = 3, 5

describe("lua-apivideo in nginx (OpenResty) #once", function()
  local want

  local http_timeout
  setup(function()
    require_prerequisites()
    -- a stuck worker must fail a request, not hold it for luasocket's default minute
    local http = require("socket.http")
    http_timeout, http.TIMEOUT = http.TIMEOUT, 15
    root = S.root()
    shell.make_luajit(root)
    standin = S.start({ latency_ms = 50 })
    want = expected("vi250", 250, 100, 10)
  end)

  teardown(function()
    require("socket.http").TIMEOUT = http_timeout
    if os.getenv("APIVIDEO_OPENRESTY_KEEP") == "1" then -- leave them running, for a look at the logs
      local kept = {}
      for _, n in ipairs(started) do if not n.stopped then kept[#kept + 1] = n.prefix end end
      note("kept: stand-in %s, nginx %s", standin and standin.prefix or "-", table.concat(kept, " "))
      return
    end
    for _, n in ipairs(started) do stop_nginx(n) end
    if standin then standin:stop() end
  end)

  describe("one worker", function()
    it("/ping answers pong", function()
      local n = fresh(1)
      local status, body = get(n, "/ping")
      assert.are.equal(200, status)
      assert.are.equal("pong", body)
    end)

    it("/walk walks 10 pages with the nginx driver and returns the documented items", function()
      local n = fresh(1)
      standin:reset()
      local res = get_json(n, WALK .. "&trace=1")
      check_walk(res, want, "/walk")
      assert.are.equal("ngx", res.driver)
      assert.are.equal("content", res.phase)
      assert.are.equal(0, res.in_flight_after, "prefetched pages left in flight after the walk")
      -- it yields between steps: many naps, no step holds the worker long
      assert.is_true(res.trace.naps >= 5, "the walk never napped: " .. cjson.encode(res.trace))
      assert.is_true(res.trace.max_hold_cpu_ms < 20,
        "one step held the worker for " .. res.trace.max_hold_cpu_ms .. " ms of CPU")
      note("/walk alone: %s ms, %s naps, longest hold of the worker %.2f ms (%.2f ms CPU)",
        int(res.elapsed_ms), int(res.trace.naps), res.trace.max_hold_ms, res.trace.max_hold_cpu_ms)
      -- the whole of vi250 in 10 pages of 25, and 10 pages of a larger video
      check_walk(get_json(n, "/walk?video=vi250&pages=10&page_size=25"),
        expected("vi250", 250, 250, 10), "/walk page_size=25")
      check_walk(get_json(n, "/walk?video=vi10k&pages=10&page_size=10"),
        expected("vi10k", 10000, 100, 10), "/walk vi10k")
    end)

    it("walks from rewrite, access and timer handlers too", function()
      local n = fresh(1)
      for _, loc in ipairs({ { "/walk_rewrite", "rewrite" }, { "/walk_access", "access" },
                             { "/walk_timer", "timer" } }) do
        local res = get_json(n, loc[1] .. "?video=vi250&pages=10&page_size=10")
        check_walk(res, want, loc[1])
        assert.are.equal(loc[2], res.phase)
        assert.are.equal("ngx", res.driver)
      end
    end)

    it("/walk_blocking (the control) returns the same items", function()
      local n = fresh(1)
      local res = get_json(n, "/walk_blocking?video=vi250&pages=10&page_size=10")
      check_walk(res, want, "/walk_blocking")
      assert.are.equal("blocking", res.driver)
    end)

    it("connections outlive the request: later walks reuse the worker's connections", function()
      local n = fresh(1)
      standin:reset()
      -- the whole video (a walk cut short closes the connections of the
      -- pages it had prefetched: their answers are still on the way)
      local whole = "/walk?video=vi250&pages=10&page_size=25&concurrency=4"
      local all = expected("vi250", 250, 250, 10)
      check_walk(get_json(n, whole), all, "first walk")
      local first = standin:stats()
      for i = 1, 3 do check_walk(get_json(n, whole), all, "walk " .. (i + 1)) end
      local after = standin:stats()
      note("4 walks, one after the other, in 4 requests: %s connections after the first, %s after all",
        int(first.connections), int(after.connections))
      assert.is_true(first.connections >= 1 and first.connections <= 5, "first walk: " .. first.connections)
      assert.are.equal(first.connections, after.connections, "later requests opened connections of their own")
      -- walks cut short (10 of 25 pages): the pages they had prefetched finish
      -- in the hub instead of being cut off, so their connections stay too
      for i = 1, 3 do check_walk(get_json(n, WALK), want, "short walk " .. i) end
      local short = standin:stats()
      note("3 walks cut short after 10 of 25 pages: %s connections, %s API requests in all",
        int(short.connections), int(short.api_requests))
      assert.are.equal(first.connections, short.connections, "a walk cut short cost connections")
      -- and the pump stops once nothing is in flight
      local hub
      for _ = 1, 50 do
        hub = get_json(n, "/_test/hub")
        if not hub.pumping then break end
        os.execute("sleep 0.02")
      end
      assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub))
    end)

    it("the pump sleeps until a socket is ready or libcurl's timer is due: a few wake-ups a page at 300 ms",
      function()
      local n = fresh(1)
      standin:reset()
      standin:config({ latency_ms = 300 })
      local ok, err = pcall(function()
        for i = 1, 3 do check_walk(get_json(n, WALK), want, "walk " .. i) end
      end)
      standin:config({ latency_ms = 50 })
      assert(ok, err)
      local hub = get_json(n, "/_test/hub")
      note("3 walks of 10 pages at 300 ms, one after the other: the pump woke %s times for its watcher, "
        .. "napped %s times (while bytes kept coming)", int(hub.waits), int(hub.naps))
      assert.is_true(hub.watching, "the pump could not watch its sockets: " .. cjson.encode(hub))
      assert.is_true(hub.waits >= 3, hub.waits .. " waits for the watcher") -- (napping only: none)
      -- napping 1-4 ms through 3 s of latency would be a thousand and more
      assert.is_true(hub.waits + hub.naps <= 3 * 10 * 6, (hub.waits + hub.naps) .. " wake-ups")
    end)

    it("retries inside nginx: 503 and a reset connection are retried, the walk is complete", function()
      local n = fresh(1)
      standin:reset()
      get_json(n, WALK) -- a token in the store
      standin:reset()
      standin:faults({
        { match = "/analytics/videos/vi250", kind = "503", skip = 2 },
        { match = "/analytics/videos/vi250", kind = "reset", skip = 6 },
      })
      local res = get_json(n, WALK)
      check_walk(res, want, "/walk with faults")
      local stats = standin:stats()
      note("walk with a 503 and a reset: %s API requests, statuses %s", int(stats.api_requests),
        cjson.encode(stats.status))
      assert.are.equal(1, stats.status["503"])
      assert.is_true(stats.api_requests >= 11, "the failed requests were not sent again")
    end)

    it("a request nginx abandons mid-walk leaves nothing in flight and the worker serves on", function()
      local n = fresh(1)
      local before = get_json(n, WALK)
      -- the walk takes about 200 ms; curl gives up after 80 and nginx kills the handler
      run("curl -s -o /dev/null --max-time 0.08 " .. q(n.url .. "/walk_abortable?video=vi250&pages=10"))
      local hub
      for _ = 1, 100 do -- its transfers finish in the hub and are dropped
        hub = get_json(n, "/_test/hub")
        if hub.in_flight == 0 and hub.owned == 0 then break end
        os.execute("sleep 0.02")
      end
      note("after the abandoned walk: hub %s", cjson.encode(hub))
      assert.are.equal(0, hub.in_flight)
      assert.are.equal(0, hub.owned)
      local res = get_json(n, WALK)
      check_walk(res, want, "walk after the abandoned one")
      assert.are.equal(before.worker, res.worker, "the worker was replaced (it crashed?)")
      local log = read_file(n.prefix .. "/logs/error.log") or ""
      assert.is_nil(log:match("%[alert%][^\n]*"), "error.log: " .. tostring(log:match("%[alert%][^\n]*")))
    end)

    it("/phase_error: a call from header_filter fails at once with a clear error, nothing is sent", function()
      local n = fresh(1)
      standin:reset()
      local status, _, headers = get(n, "/phase_error")
      assert.are.equal(200, status)
      local msg = headers["x-apivideo-error"]
      assert.is_string(msg, "no X-Apivideo-Error header")
      note("/phase_error: %s", msg)
      assert.truthy(msg:find("^apivideo: cannot wait for the network in nginx phase 'header_filter'"), msg)
      assert.truthy(msg:find("rewrite, access or content", 1, true), msg)
      local took = tonumber(msg:match("%[([%d.]+) ms%]$"))
      assert.is_true(took ~= nil and took < 50, "the failing call took " .. tostring(took) .. " ms")
      local stats = standin:stats()
      assert.are.equal(0, stats.auth_api_key + stats.auth_refresh + stats.api_requests,
        "a request reached the stand-in from a phase that cannot yield")
    end)

    it("set_by_lua and log_by_lua: the same clear apivideo error", function()
      local n = fresh(1)
      local _, body = get(n, "/phase_error_set")
      note("/phase_error_set: %s", body)
      get(n, "/phase_error_log")
      local line
      for _ = 1, 50 do -- the log phase runs after the answer
        local log = read_file(n.prefix .. "/logs/error.log") or ""
        line = log:match("apivideo phase_error_log: ([^\n]*) while logging")
        if line then break end
        os.execute("sleep 0.02")
      end
      note("/phase_error_log: %s", tostring(line))
      assert.truthy(body:find("^apivideo: cannot wait for the network in nginx phase 'set'"),
        "set_by_lua: " .. body)
      assert.truthy(line and line:find("^apivideo: cannot wait for the network in nginx phase 'log'"),
        "log_by_lua: " .. tostring(line))
    end)

    it("20 concurrent walks keep /ping's p99 within " .. P99_LIMIT_MS
      .. " ms, or the yardstick's (wrk -t1 -c4 --latency)", function()
      -- the yardstick: the same load with a cosocket client (not the library)
      local n = fresh(1)
      local ref = run_load(n, (WALK:gsub("^/walk", "/walk_cosocket")), { duration = LOAD_S, ping = true })
      check_load_walks(ref, want, "/walk_cosocket")
      note("reference (ngx.socket + cjson, no library): %s walks in %d s, /ping %s req, p50 %s p90 %s p99 %s ms",
        int(ref.walks), LOAD_S, int(ref.ping.requests), ms(ref.ping.p50_ms), ms(ref.ping.p90_ms),
        ms(ref.ping.p99_ms))
      -- the limit: 5 ms, or the yardstick's own p99 when the machine is so loaded (a sanitizer build, other
      -- jobs) that even the cosocket walks miss it: then no worse than the yardstick (issue 21's target)
      local limit = math.max(P99_LIMIT_MS, ref.ping.p99_ms or 0)
      -- up to three runs (other processes on the machine only ever add latency),
      -- each on a fresh nginx; a run whose worker got stuck is counted and skipped
      local p99s, best, stuck = {}, nil, {}
      for attempt = 1, 3 do
        n = fresh(1)
        standin:reset()
        get_json(n, WALK) -- a token in the store, as a running server has
        local res = run_load(n, WALK .. "&trace=1", { duration = LOAD_S, ping = true })
        local stats = standin:stats()
        local hold = res.trace or {}
        note("non-blocking run %d: %s walks (walk p50 %s ms), stand-in max in flight %s, "
          .. "/ping %s req, p50 %s p90 %s p99 %s ms, longest hold of the worker by a walk %s ms (%s ms CPU)%s",
          attempt, int(res.walks), int(res.walk_ms.p50), int(stats.max_in_flight), int(res.ping.requests),
          ms(res.ping.p50_ms), ms(res.ping.p90_ms), ms(res.ping.p99_ms), ms(hold.max_hold_ms),
          ms(hold.max_hold_cpu_ms), stuck_note(res))
        if res.unanswered then
          stuck[#stuck + 1] = ("run %d: %s walk(s) never answered (%s)"):format(attempt, int(res.unanswered), res.stuck)
        else
          check_load_walks(res, want, "/walk")
          assert.is_true(stats.max_in_flight > 20,
            "the walks did not overlap (stand-in max_in_flight " .. stats.max_in_flight .. ")")
          assert.are.equal(0, res.ping.socket_errors + res.ping.non_2xx, "/ping failed: " .. res.ping.raw)
          p99s[#p99s + 1] = ms(res.ping.p99_ms)
          if res.ping.p99_ms and res.ping.p99_ms <= limit then
            best = res.ping.p99_ms
            break
          end
        end
      end
      assert.are.same({}, stuck, "walks never answered: " .. table.concat(stuck, "; "))
      assert.is_true(best ~= nil, ("/ping p99 with 20 concurrent walks: %s ms in %d runs (limit %s ms: %d ms or "
        .. "the cosocket reference's under the same load, %s ms)"):format(table.concat(p99s, ", "),
        #p99s, ms(limit), P99_LIMIT_MS, ms(ref.ping.p99_ms)))
    end)

    -- issue 13's figure (printed, not a timed target): the worker CPU one walk
    -- costs, with nothing else on the worker, against the cosocket yardstick's
    it("a walk's worker CPU, next to the cosocket yardstick's (no /ping load)", function()
      local per = {}
      for _, w in ipairs({ { "/walk_cosocket", "cosocket" }, { "/walk", "lua-apivideo" } }) do
        local n = fresh(1)
        standin:reset()
        get_json(n, WALK)
        local before = workers_cpu_s(n)
        local res = run_load(n, (WALK:gsub("^/walk", w[1])), { duration = LOAD_S })
        local used = workers_cpu_s(n) - before
        check_load_walks(res, want, w[1])
        per[w[2]] = used * 1000 / res.walks
        note("worker CPU per walk, %s: %.2f ms (%s walks, %.2f s of CPU in %d s)", w[2], per[w[2]],
          int(res.walks), used, LOAD_S)
      end
      local ratio = per["lua-apivideo"] / per.cosocket
      note("worker CPU per walk: lua-apivideo / cosocket yardstick = %.2fx (issue 13's target: <= 2x)", ratio)
      -- a sanity bound only (the figure is a benchmark's, not a test's): a
      -- worker that spins between walks would cost many times the yardstick
      assert.is_true(ratio < 10, ("lua-apivideo costs %.1fx the cosocket walk's worker CPU"):format(ratio))
    end)

    it("the control: the same walks with the blocking driver push /ping's p99 above "
        .. CONTROL_MIN_MS .. " ms", function()
      local n = fresh(1)
      standin:reset()
      get_json(n, WALK)
      local res = run_load(n, (WALK:gsub("^/walk", "/walk_blocking")), { duration = CONTROL_S, ping = true,
        grace = 8 })
      local stats = standin:stats()
      note("blocking control: %s walks (walk p50 %s ms), stand-in max in flight %s, "
        .. "/ping %s req in %d s, p50 %s p90 %s p99 %s ms%s", int(res.walks), int(res.walk_ms.p50),
        int(stats.max_in_flight), int(res.ping.requests), CONTROL_S, ms(res.ping.p50_ms), ms(res.ping.p90_ms),
        ms(res.ping.p99_ms), stuck_note(res))
      check_load_walks(res, want, "/walk_blocking")
      assert.is_true(stats.max_in_flight <= 5,
        "blocking walks overlapped (max_in_flight " .. stats.max_in_flight .. ")")
      -- no /ping answered within the window at all is the worst case of all
      assert.is_true(res.ping.requests == 0 or res.ping.p99_ms > CONTROL_MIN_MS,
        "the blocking control did not show: /ping p99 " .. ms(res.ping.p99_ms) .. " ms")
    end)
  end)

  describe("two workers and ngx.shared.apivideo as token_store", function()
    it("20 concurrent walks over both workers do one /auth/api-key", function()
      local n = fresh(2)
      standin:reset()
      local res = run_load(n, WALK .. "&store=1", { walks = 1 })
      check_load_walks(res, want, "/walk store=1")
      local stats = standin:stats()
      note("token_store: %s walks on %d workers -> /auth/api-key %s, /auth/refresh %s",
        int(res.walks), count_keys(res.workers), int(stats.auth_api_key), int(stats.auth_refresh))
      assert.are.equal(2, count_keys(res.workers), "walks did not reach both workers: " .. cjson.encode(res.workers))
      assert.are.equal(1, stats.auth_api_key)
      assert.are.equal(0, stats.auth_refresh)
    end)

    it("after the tokens are revoked, one new exchange serves both workers", function()
      local n = fresh(2)
      get_json(n, WALK .. "&store=1") -- a token in the store
      standin:revoke()
      local before = standin:stats()
      local res = run_load(n, WALK .. "&store=1", { walks = 1 })
      check_load_walks(res, want, "/walk store=1 after revoke")
      local stats = standin:stats()
      note("after revoke: %s walks on %d workers -> /auth/api-key %s more, %s answers 401", int(res.walks),
        count_keys(res.workers), int(stats.auth_api_key - before.auth_api_key),
        int((stats.status["401"] or 0) - (before.status["401"] or 0)))
      assert.are.equal(1, stats.auth_api_key - before.auth_api_key)
    end)

    it("without the store every request exchanges the key itself", function()
      local n = fresh(2)
      standin:reset()
      local res = run_load(n, WALK .. "&store=0", { walks = 1 })
      check_load_walks(res, want, "/walk store=0")
      local stats = standin:stats()
      note("no token_store: %s walks -> /auth/api-key %s", int(res.walks), int(stats.auth_api_key))
      assert.is_true(stats.auth_api_key > 1, "only " .. stats.auth_api_key .. " exchange without the store")
    end)
  end)
end)
