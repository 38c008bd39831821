-- Turns the RESULT lines of one bench/run.sh invocation into the table (Markdown, readable as text).
--   lua5.4 bench/report.lua RESULTS_FILE
-- Environment: BENCH_LATENCY_MS, BENCH_RUNS, BENCH_QUICK, BENCH_COMMAND, BENCH_ELAPSED_S.
-- Every figure is the median of the runs (min–max beside it); ratios are ratios of those medians,
-- except the CPU ratio, which is the median of per-round ratios measured back to back.
local B = dofile("bench/common.lua")

local file = arg[1] or B.fail("usage: report.lua RESULTS_FILE")
local L = tonumber(os.getenv("BENCH_LATENCY_MS") or "20")
local runs = os.getenv("BENCH_RUNS") or "?"
local quick = os.getenv("BENCH_QUICK") == "1"
local PAGES = 100

local vals = {}
for line in io.lines(file) do
  local key, value = line:match("^RESULT (%S+) (%S+)$")
  if key then
    local v = tonumber(value)
    if v == nil then B.fail("non-numeric result " .. line) end
    vals[key] = vals[key] or {}
    table.insert(vals[key], v)
  end
end

local function med(key)
  local v = vals[key]
  if not v then B.fail("missing result " .. key) end
  return B.median(v)
end
local function has(key) return vals[key] ~= nil end
local function spread(key, fmt)
  local v = vals[key]
  if not v or #v < 2 then return "" end
  local lo, hi = math.huge, -math.huge
  for _, x in ipairs(v) do lo, hi = math.min(lo, x), math.max(hi, x) end
  return fmt(lo) .. "–" .. fmt(hi)
end

-- The median of the per-run ratios a / b (measured back to back in each run).
local function ratio_med(a, b)
  local va, vb = vals[a], vals[b]
  if not va or not vb then B.fail("missing result " .. a .. " or " .. b) end
  local r = {}
  for i = 1, math.min(#va, #vb) do r[i] = va[i] / vb[i] end
  return B.median(r)
end

local function ms(x) return string.format("%.0f ms", x) end
local function ms_n(x) return string.format("%.0f", x) end
local function us(x) return string.format("%.0f µs", x) end
local function mib(kb) return string.format("%.1f MiB", kb / 1024) end
local function mib_n(kb) return string.format("%.1f", kb / 1024) end
local function kib(b) return string.format("%.1f KiB", b / 1024) end
local function x(r) return string.format("%.2f×", r) end
local function int(n) return string.format("%d", math.floor(n + 0.5)) end
local function mir(n) return string.format("%.2f M Ir", n / 1e6) end

local verdicts = {}
local function verdict(name, ratio, op, target)
  local ok, by
  if op == "<=" then
    ok = ratio <= target
    by = (ratio / target - 1) * 100
  elseif op == ">=" then
    ok = ratio >= target
    by = (1 - ratio / target) * 100
  else -- "=="
    ok = ratio == target
    by = nil
  end
  local text
  if ok then
    text = "met"
  elseif by then
    text = string.format("MISSED by %.0f%%", by)
  else
    text = "MISSED"
  end
  verdicts[#verdicts + 1] = { name = name, ok = ok, text = text }
  return text
end

local rows = {}
local function row(n, what, median, range, ref, ratio, target, status)
  rows[#rows + 1] = { n, what, median or "", range or "", ref or "", ratio or "", target or "", status or "" }
end

local profile_only = arg[2] == "profile"
local conc, server_mean, node, c8, c1, ls, us_c, us_o, cpu_ratio, cpu_page, cpu_rows, gc_best, gc_fig, modes
local gc_perf_best
if not profile_only then
-- 1. lua-apivideo at concurrency 1, 4, 8, 16 against the ideal --------------------------------------
conc = { 1, 4, 8, 16 }
local server_all = {}
for _, c in ipairs(conc) do
  local tag = "lua_c" .. c
  local ideal = L * math.ceil(PAGES / c)
  local m = med(tag .. ".ms")
  local r = m / ideal
  row("1", ("lua-apivideo, concurrency %d (10 000 sessions, 100 pages)"):format(c), ms(m),
    spread(tag .. ".ms", ms_n), ("ideal L×ceil(100/%d) = %s"):format(c, ms(ideal)), x(r), "≤ 1.2×",
    verdict("walk at concurrency " .. c .. " vs ideal", r, "<=", 1.2))
  server_all[#server_all + 1] = med(tag .. ".server_ms_mean")
end
server_mean = B.median(server_all)
for _, c in ipairs(conc) do
  local tag = "lua_c" .. c
  local rounds = (c == 1) and PAGES or (1 + math.ceil((PAGES - 1) / c))
  local floor = rounds * med(tag .. ".server_ms_mean")
  row("1", ("  floor c=%d: %d round trips (page 1 alone, then %d per round) × server time %.2f ms"):format(
      c, rounds, c, med(tag .. ".server_ms_mean")), ms(floor), "", "walk ÷ floor",
    x(med(tag .. ".ms") / floor), "", "info")
end

-- 8. a time series of today's Analytics (/data/timeseries): 8 pages of 100 hourly points -----------
for _, c in ipairs({ 1, 8 }) do
  local tag = "ts_c" .. c
  if has(tag .. ".ms") then
    local m = med(tag .. ".ms")
    local pages = med(tag .. ".pages")
    local ideal = L * (c == 1 and pages or (1 + math.ceil((pages - 1) / c)))
    row("8", ("metrics_over_time, concurrency %d (720 hourly points, %d pages)"):format(c, pages), ms(m),
      spread(tag .. ".ms", ms_n), ("ideal %s"):format(ms(ideal)), x(m / ideal), "", "info")
    row("8", ("  client CPU per page, concurrency %d"):format(c), us(med(tag .. ".cpu_s") * 1e6 / pages),
      spread(tag .. ".cpu_s", function(v) return us(v * 1e6 / pages) end), "", "", "", "info")
  end
end

-- 9. the archive (issue 19): runs against the same runs without storing ------------------------------
local function pct(r) return string.format("%.1f %%", r * 100) end
for _, kind in ipairs({ "sqlite", "postgresql" }) do
  local t = "archive_" .. kind
  if has(t .. ".first_ms") then
    local name = kind == "sqlite" and "SQLite" or "PostgreSQL 15"
    for _, run in ipairs({ { "first", "first run, the API's 30 days" }, { "incr", "next run 15 minutes later" } }) do
      local r = run[1]
      local stored, bare = med(t .. "." .. r .. "_ms"), med(t .. ".nostore_" .. r .. "_ms")
      row("9", ("archive into %s, %s: %d requests, %d rows written"):format(name, run[2],
        med(t .. "." .. r .. "_requests"), med(t .. "." .. r .. "_rows")), ms(stored),
        spread(t .. "." .. r .. "_ms", ms_n), "without storing: " .. ms(bare), x(stored / bare), "≤ 1.2×",
        verdict(name .. " " .. r .. " run vs the same walks without storing", stored / bare, "<=", 1.2))
      local share = med(t .. "." .. r .. "_db_cpu_s") / med(t .. "." .. r .. "_cpu_s")
      row("9", ("  database share of the process CPU (%s of %s)"):format(
        us(med(t .. "." .. r .. "_db_cpu_s") * 1e6), us(med(t .. "." .. r .. "_cpu_s") * 1e6)), pct(share), "", "",
        "", "≤ 10 %", verdict(name .. " " .. r .. " run: database share of the CPU", share, "<=", 0.10))
    end
    row("9", ("  the store alone: time-series rows upserted, %s, transactions of 500"):format(name),
      int(med(t .. ".store_rows_per_s")) .. " rows/s", spread(t .. ".store_rows_per_s", int), "", "", "", "info")
  end
end

-- 10. a fleet (issue 20): 2 nginx hosts x 2 workers sharing one redis-server -------------------------
if has("fleet.flight_views") then
  local up = med("fleet.flight_upstream")
  row("10", ("fleet: %d concurrent page views of one uncached figure, every worker of both hosts"):format(
    med("fleet.flight_views")), int(up) .. " upstream", "", "", "", "1",
    verdict("fleet: one flight for concurrent identical page views", up, "==", 1))
  local ttl_s, ttl_up = med("fleet.ttl_s"), med("fleet.ttl_upstream")
  row("10", ("fleet: %d page views of one figure in %d s, ttl = 1"):format(med("fleet.ttl_views"), ttl_s),
    int(ttl_up) .. " upstream", "", "about " .. int(ttl_s), "", "≤ " .. int(ttl_s + 1),
    verdict("fleet: ttl = 1 makes one upstream request a second", ttl_up, "<=", ttl_s + 1))
  local r429 = med("fleet.budget_429") + med("fleet.budget_failed")
  row("10", ("fleet: %d distinct figures, an upstream announcing %d a %d s window: 429s and failures (%.1f s)"):format(
    med("fleet.budget_views"), med("fleet.budget_limit"), med("fleet.budget_window_s"),
    med("fleet.budget_elapsed_s")), int(r429), "", "", "", "0",
    verdict("fleet: the shared budget collects no 429", r429, "==", 0))
  local bad = med("fleet.down_not_stale") + med("fleet.down_failed")
  row("10", ("fleet: the upstream down %d s, %d page views: not answered from stale or failed"):format(
    med("fleet.down_s"), med("fleet.down_views")), int(bad), "", "", "", "0",
    verdict("fleet: every page view answered from stale while the upstream is down", bad, "==", 0))
  local hit, shared = med("fleet.hit_p99_ms"), med("fleet.shared_p99_ms")
  row("10", ("fleet: a cached answer's p99 under load (wrk -c8, %d requests)"):format(med("fleet.hit_requests")),
    string.format("%.2f ms", hit), "", string.format("ngx.shared lookup: %.2f ms", shared), x(hit / shared), "",
    "info")
end

-- 11. the command line writing a list out (issue 21, part 1), against the library walk alone -----------
-- Ratios are the median of per-run ratios (each run: the walk, then the four formats).
local CLI_KINDS = {
  { "sessions", "sessions of vi100k", "100 000 sessions, 1 000 pages" },
  { "events", "events of psEvents100k", "100 000 events, 1 000 pages" },
  { "timeseries", "timeseries, plays per hour over 30 days", "720 points, 8 pages: the API's most" },
  { "buckets", "buckets, plays by referrer over 30 days", "%d buckets, all there are" },
}
for _, k in ipairs(CLI_KINDS) do
  local base = "cli_" .. k[1] .. "_walk"
  if has(base .. ".ms") then
    local walk = med(base .. ".ms")
    row("11", ("library walk alone, %s, c=8 (%s)"):format(k[2], k[3]:format(med(base .. ".items"))), ms(walk),
      spread(base .. ".ms", ms_n),
      "", "", "", "")
    local rss, cpu = { mib_n(med(base .. ".hwm_kb")) }, { string.format("%.1f", med(base .. ".cpu_s") * 1000) }
    for _, f in ipairs({ "table", "csv", "ndjson", "json" }) do
      local tag = "cli_" .. k[1] .. "_" .. f
      local ratio = ratio_med(tag .. ".ms", base .. ".ms")
      row("11", ("  apivideo-analytics %s --format %s > file"):format(k[1], f), ms(med(tag .. ".ms")),
        spread(tag .. ".ms", ms_n), "the walk: " .. ms(walk), x(ratio), "≤ 1.25×",
        verdict(("CLI %s --format %s vs the walk"):format(k[1], f), ratio, "<=", 1.25))
      rss[#rss + 1] = mib_n(med(tag .. ".hwm_kb"))
      cpu[#cpu + 1] = string.format("%.1f", med(tag .. ".cpu_s") * 1000)
    end
    row("11", "  process CPU (ms): walk / table / csv / ndjson / json", table.concat(cpu, " / "), "", "", "", "",
      "info")
    row("11", "  peak RSS (MiB): walk / table / csv / ndjson / json", table.concat(rss, " / "), "", "", "", "",
      "info")
  end
end

-- 2. the official Node.js client ---------------------------------------------------------------------
node, c8, c1 = med("node.ms"), med("lua_c8.ms"), med("lua_c1.ms")
row("2", "@api.video/nodejs-client 2.5.4, sequential, Basic auth", ms(node), spread("node.ms", ms_n),
  "lua-apivideo c=8: " .. ms(c8), x(node / c8) .. " slower", "≥ 6×",
  verdict("lua-apivideo c=8 vs the Node client", node / c8, ">=", 6))
row("2", "  same, against lua-apivideo at concurrency 1", "", "", "lua-apivideo c=1: " .. ms(c1),
  x(node / c1), "", "info")

-- 3. luasocket + cjson -------------------------------------------------------------------------------
ls = med("luasocket.ms")
row("3", "hand-written socket.http + cjson loop, sequential, Basic auth", ms(ls), spread("luasocket.ms", ms_n),
  "lua-apivideo c=8: " .. ms(c8), x(ls / c8) .. " slower", "", "info")
row("3", "  same, against lua-apivideo at concurrency 1", "", "", "lua-apivideo c=1: " .. ms(c1), x(ls / c1),
  "", "info")

-- 4. CPU per page: lua-cjson alone against decode + shaping, in a hot loop (no pauses, all bodies live)
us_c, us_o = med("cpu.cjson_us"), med("cpu.core_us")
row("4", ("hot loop, CPU per 100-item page (%.1f KiB): cjson.decode, os.clock"):format(med("cpu.page_bytes") / 1024),
  us(us_c), spread("cpu.cjson_us", function(v) return string.format("%.0f", v) end), "", "", "", "")
cpu_ratio = med("cpu.ratio")
row("4", "hot loop, CPU per page: apivideo.core.decode (decode + shaping), os.clock", us(us_o),
  spread("cpu.core_us", function(v) return string.format("%.0f", v) end), "cjson.decode", x(cpu_ratio),
  "≤ 1.3×", verdict("CPU per page vs cjson.decode (os.clock)", cpu_ratio, "<=", 1.3))
if has("callgrind.core_ir") then
  local ir_c, ir_o = med("callgrind.cjson_ir"), med("callgrind.core_ir")
  local function mir_n(n) return string.format("%.2f", n / 1e6) end
  row("4", "instructions per page (callgrind): cjson.decode", mir(ir_c), spread("callgrind.cjson_ir", mir_n),
    "", "", "", "")
  row("4", "instructions per page (callgrind): apivideo.core.decode", mir(ir_o), spread("callgrind.core_ir", mir_n),
    "cjson.decode",
    x(ir_o / ir_c), "≤ 1.3×", verdict("CPU per page vs cjson.decode (callgrind)", ir_o / ir_c, "<=", 1.3))
else
  row("4", "instructions per page (callgrind)", "skipped", "", "", "", "", "")
end
-- 4. CPU per page in whole walks, next to the decode yardstick in the same conditions ----------------
-- Per run: the walk's process CPU ÷ 100 pages, and decode_walk.lua's (cjson.decode of the same bodies,
-- same pauses, same live heap, same item loop); the ratio is the median of the per-run ratios.
cpu_rows = {
  { "54", 1, "Lua 5.4", "lua_c1", true }, { "54", 8, "Lua 5.4", "lua_c8", true },
  { "54", 16, "Lua 5.4", "lua_c16", false },
  { "jit", 1, "LuaJIT", "jit_c1", true }, { "jit", 8, "LuaJIT", "jit_c8", true },
}
cpu_page = {} -- [interp .. c] = { client = µs, decode = µs, ratio = r }
local function us_n(v) return string.format("%.0f", v) end
for _, t in ipairs(cpu_rows) do
  local interp, c, name, wtag = t[1], t[2], t[3], t[4]
  local dtag = ("dec_%s_c%d"):format(interp, c)
  local cl, de = med(wtag .. ".cpu_s") * 1e6 / PAGES, med(dtag .. ".cpu_s") * 1e6 / PAGES
  local r = ratio_med(wtag .. ".cpu_s", dtag .. ".cpu_s")
  cpu_page[interp .. c] = { client = cl, decode = de, ratio = r }
  row("4", ("whole walk, %s c=%d: client CPU per page (process CPU ÷ 100 pages)"):format(name, c), us(cl),
    spread(wtag .. ".cpu_s", function(v) return us_n(v * 1e6 / PAGES) end), "", "", "", "")
  row("4", ("  cjson.decode yardstick, same bodies, pauses (%d ms) and live heap (%.3g page(s) held)"):format(L,
    med(dtag .. ".hold")), us(de), spread(dtag .. ".cpu_s", function(v) return us_n(v * 1e6 / PAGES) end),
    "client ÷ decode (median of runs)", x(r), t[5] and "≤ 1.5×" or "", t[5] and "see TARGETS" or "info")
end
for _, t in ipairs({ { "54", 1 }, { "54", 8 }, { "54", 16 }, { "jit", 1 }, { "jit", 8 } }) do
  local wl = ("live_%s_c%d"):format(t[1], t[2])
  local dl = ("livedec_%s_c%d"):format(t[1], t[2])
  row("4", ("  live heap above the base when a body is decoded, %s c=%d: walk / yardstick"):format(
      t[1] == "54" and "Lua 5.4" or "LuaJIT", t[2]),
    ("%.0f / %.0f KiB"):format(med(wl .. ".decode_live_kib") - med(wl .. ".base_kib"),
      med(dl .. ".live_kib") - med(dl .. ".base_kib")), "",
    ("yardstick: %d × %.0f KiB page; walk at hand-over: %.0f KiB"):format(med(dl .. ".hold"),
      med(dl .. ".page_kib"), med(wl .. ".live_kib") - med(wl .. ".base_kib")), "", "", "info")
end
row("4", "  yardstick body reads (page cache), taken out of its CPU: Lua 5.4 c=1 / LuaJIT c=1",
  ("%.0f / %.0f µs"):format(med("dec_54_c1.read_s") * 1e6 / PAGES, med("dec_jit_c1.read_s") * 1e6 / PAGES),
  "", "per page", "", "", "info")
for _, t in ipairs({ { "lua_c1", "lua-apivideo c=1" }, { "lua_c8", "lua-apivideo c=8" },
    { "jit_c8", "lua-apivideo c=8, LuaJIT" }, { "node", "Node client" }, { "luasocket", "socket.http + cjson" } }) do
  local cpu = med(t[1] .. ".cpu_s")
  row("4", "process CPU (user+sys) per 10 000-session walk: " .. t[2], ms(cpu * 1000),
    spread(t[1] .. ".cpu_s", function(v) return ms_n(v * 1000) end),
    "lua-apivideo c=8", x(cpu / med("lua_c8.cpu_s")), "", "info")
end

-- 6. the Lua 5.4 collector in a bulk walk ------------------------------------------------------------
modes = { { "incremental", "incremental (the 5.4 default: pause 200, stepmul 100)" },
  { "generational", "generational" }, { "pause400", "incremental, setpause 400" } }
gc_best, gc_fig = nil, {}
for _, m in ipairs(modes) do
  local k1, k100 = "gc_" .. m[1] .. "_c1", "gc_" .. m[1] .. "_100k"
  gc_fig[m[1]] = { c1 = med(k1 .. ".cpu_s") * 1e6 / PAGES, bulk = med(k100 .. ".cpu_s") * 1e6 / (10 * PAGES),
    ms = med(k100 .. ".ms"), hwm = med(k100 .. ".hwm_kb") }
end
local inc = gc_fig.incremental
for _, m in ipairs(modes) do
  local f = gc_fig[m[1]]
  -- modes run back to back in each repetition: the ratios are medians of per-run ratios
  f.r_bulk = ratio_med("gc_" .. m[1] .. "_100k.cpu_s", "gc_incremental_100k.cpu_s")
  f.r_c1 = ratio_med("gc_" .. m[1] .. "_c1.cpu_s", "gc_incremental_c1.cpu_s")
  row("6", ("collector %s: CPU per page, 100 000 sessions c=8 / 10 000 c=1"):format(m[2]),
    ("%s / %s"):format(us(f.bulk), us(f.c1)),
    spread("gc_" .. m[1] .. "_100k.cpu_s", function(v) return us_n(v * 1e6 / (10 * PAGES)) end),
    "incremental, same run (bulk / c=1)", ("%s / %s"):format(x(f.r_bulk), x(f.r_c1)), "", "info")
  row("6", ("  %s: 100 000-session walk time, peak RSS"):format(m[1]),
    ("%s, %s"):format(ms(f.ms), mib(f.hwm)), "", "incremental", ("%s, %s"):format(x(f.ms / inc.ms),
    x(f.hwm / inc.hwm)), "", "info")
  if not gc_best or f.r_bulk < gc_fig[gc_best].r_bulk then gc_best = m[1] end
end

-- 5. memory, connections, bytes ----------------------------------------------------------------------
local h10, h100 = med("rss_10k.hwm_kb"), med("rss_100k.hwm_kb")
row("5", "peak RSS (VmHWM), 10 000 sessions, c=8, fresh lua5.4", mib(h10), spread("rss_10k.hwm_kb", mib_n),
  "", "", "", "")
row("5", "peak RSS (VmHWM), 100 000 sessions, c=8, fresh lua5.4", mib(h100), spread("rss_100k.hwm_kb", mib_n),
  "10 000 sessions", x(h100 / h10), "≤ 1.1×", verdict("peak RSS 100k vs 10k", h100 / h10, "<=", 1.1))
local g10 = med("rss_10k.hwm_kb") - med("rss_10k.rss_before_kb")
local g100 = med("rss_100k.hwm_kb") - med("rss_100k.rss_before_kb")
row("5", "  growth above the RSS before the first request: 10k / 100k", mib(g10) .. " / " .. mib(g100), "",
  "", "", "", "info")
local c1conn = med("lua_c1.connections")
row("5", "TCP connections per walk: lua-apivideo c=1", int(c1conn), spread("lua_c1.connections", int),
  "", "", "1", verdict("one connection for a sequential walk", c1conn, "==", 1))
for _, t in ipairs({ { "lua_c8", "lua-apivideo c=8" }, { "lua_c16", "lua-apivideo c=16" },
    { "node", "Node client" }, { "luasocket", "socket.http" } }) do
  row("5", "TCP connections per walk: " .. t[2], int(med(t[1] .. ".connections")),
    spread(t[1] .. ".connections", int), "", "", "", "info")
end
local pid, pgz = med("wire.page_identity_bytes"), med("wire.page_gzip_bytes")
row("5", "body bytes, one page (curl size_download): identity / gzip", kib(pid) .. " / " .. kib(pgz), "",
  "identity", x(pgz / pid), "", "info")
row("5", "  response header bytes per request (curl size_header, gzip)", int(med("wire.header_bytes")) .. " B",
  "", "", "", "", "info")
local bl, bs, bn = med("lua_c1.body_bytes"), med("luasocket.body_bytes"), med("node.body_bytes")
row("5", "body bytes per walk ($body_bytes_sent): lua-apivideo (gzip)", kib(bl), "", "socket.http (identity): "
  .. kib(bs), x(bl / bs), "", "info")
row("5", "body bytes per walk ($body_bytes_sent): Node client (gzip)", kib(bn), "", "", "", "", "info")

-- bounds ---------------------------------------------------------------------------------------------
row("·", "server time per request (access log $request_time, mean over the c=1..16 walks)",
  string.format("%.2f ms", server_mean), "", "L = " .. L .. " ms", x(server_mean / L), "", "info")
row("·", "max requests in flight at the server: c=1 / 4 / 8 / 16",
  ("%s / %s / %s / %s"):format(int(med("lua_c1.max_in_flight")), int(med("lua_c4.max_in_flight")),
    int(med("lua_c8.max_in_flight")), int(med("lua_c16.max_in_flight"))), "", "", "", "", "info")

end

-- 7. where a walk's CPU goes (perf over whole walks; bench/profile.sh) ------------------------------
local PARTS = {
  { "decode", "decode: lua-cjson parsing + table building" }, { "gc", "Lua GC (collector steps, barriers)" },
  { "shaping", "shaping: src/json.c" }, { "zlib", "zlib (gunzip)" }, { "libcurl", "libcurl" },
  { "kernel", "kernel (syscalls, faults)" }, { "glue", "C glue: rest of core.so (transfers, body buffer)" },
  { "lua", "Lua layer: VM running pager/engine/client + caller's loop" },
  { "read", "body reads (yardstick only; out of its CPU figure)" },
}
local function avg(key)
  local v = vals[key]
  if not v then return nil end
  local s = 0
  for _, x_ in ipairs(v) do s = s + x_ end
  return s / #v
end
local prof = {} -- [interp .. c] = { walk = { part = µs }, decode = { ... } }
local profiled = has("prof_54_walk_c1.total_us")
if has("profile.skipped") then
  row("7", "profile (perf)", "skipped", "", "perf cannot sample on this machine", "", "", "")
elseif profiled then
  for _, interp in ipairs({ "54", "jit" }) do
    for _, c in ipairs({ 1, 8 }) do
      local wt, dt = ("prof_%s_walk_c%d"):format(interp, c), ("prof_%s_decode_c%d"):format(interp, c)
      local pw, pd = {}, {}
      for _, p in ipairs(PARTS) do
        pw[p[1]], pd[p[1]] = avg(wt .. "." .. p[1] .. "_us"), avg(dt .. "." .. p[1] .. "_us")
      end
      pw.total, pd.total = avg(wt .. ".total_us"), avg(dt .. ".total_us")
      pw.cpu, pd.cpu = avg(wt .. ".cpu_us"), avg(dt .. ".cpu_us")
      prof[interp .. c] = { walk = pw, decode = pd }
      local name = (interp == "54" and "Lua 5.4" or "LuaJIT") .. " c=" .. c
      row("7", ("profile, %s: whole walk, CPU per page (perf samples, %d walk(s), %d samples each)"):format(
          name, #vals[wt .. ".total_us"], math.floor(avg(wt .. ".samples"))), us(pw.total), "",
        "yardstick (decode only)", us(pd.total), "", "info")
      for _, p in ipairs(PARTS) do
        local a, b = pw[p[1]], pd[p[1]]
        if a > 0 or b > 0 then
          row("7", "  " .. p[2], us(a), "", ("%.0f%% of the walk; yardstick %s"):format(a / pw.total * 100,
            us(b)), string.format("%+.0f µs", a - b), "", "info")
        end
      end
      local bench = cpu_page and cpu_page[interp .. c]
      row("7", "  agreement: perf total ÷ the same run's os.clock; ÷ the benchmark's median (packaged interpreter)",
        x(pw.total / pw.cpu), "", bench and ("bench " .. us(bench.client)) or "",
        bench and x(pw.total / bench.client) or "", "", "info")
      if bench then
        row("7", "  agreement: client ÷ yardstick under perf, and in the benchmark (row 4)",
          x(pw.total / (pd.total - pd.read)), "", "benchmark", x(bench.ratio), "", "info")
      end
    end
  end
else
  row("7", "profile (perf)", "not run", "", "", "", "", "")
end

-- the Lua 5.4 collector modes in the same bulk walk under perf, once each: the collector's own part
local gcp = {}
for _, m in ipairs({ "incremental", "generational", "pause400" }) do
  local tag = "prof_gc_" .. m
  if has(tag .. ".total_us") then
    gcp[m] = { gc = avg(tag .. ".gc_us"), total = avg(tag .. ".total_us"), n = #vals[tag .. ".total_us"] }
    if not gc_perf_best or gcp[m].total < gcp[gc_perf_best].total then gc_perf_best = m end
  end
end
if gcp.incremental then
  for _, m in ipairs({ "incremental", "generational", "pause400" }) do
    local f = gcp[m]
    row("7", ("collector %s under perf (100 000 sessions c=8, %d walk(s)): collector / whole walk, CPU per page")
      :format(m, f.n),
      ("%s / %s"):format(us(f.gc), us(f.total)), "", "incremental under perf",
      ("%s / %s"):format(x(f.gc / gcp.incremental.gc), x(f.total / gcp.incremental.total)), "", "info")
  end
end

-- TARGETS (issue 13): each target, the measured figure, met / missed, and what bounds a miss --------
local targets = {}
local function target(name, measured, ok, bound)
  targets[#targets + 1] = { name, measured, ok and "met" or "MISSED", ok and "" or bound }
end
local function prof_excess(key)
  local p = prof[key]
  if not p then return "no profile" end
  local d = {}
  for _, part in ipairs(PARTS) do
    if part[1] ~= "read" then d[#d + 1] = { part[1], p.walk[part[1]] - p.decode[part[1]] } end
  end
  table.sort(d, function(a, b) return a[2] > b[2] end)
  local out = {}
  for i = 1, #d do
    if math.abs(d[i][2]) >= 5 then out[#out + 1] = ("%s %+.0f"):format(d[i][1], d[i][2]) end
  end
  return ("perf, walk − yardstick per page (µs): %s; client %.0f vs decode %.0f µs"):format(
    table.concat(out, ", "), p.walk.total, p.decode.total - p.decode.read)
end
-- What the walk must do that decoding bodies from memory does not (fetch them: libcurl, the kernel's
-- share above the yardstick's, the C glue; gunzip; shape the items), against the 0.5 × decode that a
-- 1.5× target leaves: when it alone is larger, no client that fetches and shapes can meet the target.
local function fetch_cost(key, decode)
  local p = prof[key]
  if not p then return "" end
  local w, d = p.walk, p.decode
  local fetch = w.libcurl + w.glue + w.zlib + w.shaping + (w.kernel - d.kernel)
  return ("; fetching and shaping alone (libcurl %.0f + kernel above the yardstick's %.0f + glue %.0f + gunzip"
    .. " %.0f + shaping %.0f) = %.0f µs a page, %s the %.0f µs (0.5 × decode) the target leaves"):format(
    w.libcurl, w.kernel - d.kernel, w.glue, w.zlib, w.shaping, fetch, fetch > 0.5 * decode and "above" or "within",
    0.5 * decode)
end
if not profile_only then
  for _, t in ipairs(cpu_rows) do
    if t[5] then
      local f = cpu_page[t[1] .. t[2]]
      target(("client CPU per page ≤ 1.5× cjson.decode, %s c=%d"):format(t[3], t[2]),
        ("%s (medians %s, %s)"):format(x(f.ratio), us(f.client), us(f.decode)), f.ratio <= 1.5,
        ("%.0f%% over: about %.0f µs per page too many; "):format((f.ratio / 1.5 - 1) * 100,
          (f.ratio - 1.5) * f.decode) .. prof_excess(t[1] .. t[2]) .. fetch_cost(t[1] .. t[2], f.decode))
    end
  end
  for _, c in ipairs(conc) do
    local tag = "lua_c" .. c
    local m, s = med(tag .. ".ms"), med(tag .. ".server_ms_mean")
    local ideal_rounds = math.ceil(PAGES / c)
    local rounds = (c == 1) and PAGES or (1 + math.ceil((PAGES - 1) / c))
    local floor = rounds * s
    local rest = m - floor
    local cpu = cpu_page["54" .. c] and cpu_page["54" .. c].client or med(tag .. ".cpu_s") * 1e6 / PAGES
    local r = m / (L * ideal_rounds)
    target(("walk ≤ 1.2× ideal, Lua 5.4 c=%d (%d ms latency)"):format(c, L),
      ("%s = %s ÷ %s"):format(x(r), ms(m), ms(L * ideal_rounds)), r <= 1.2,
      ("floor %s (%d round trips × %.2f ms measured at the server; page 1 comes alone) = %s of ideal;"
        .. " client side %+.0f ms = %.2f ms per round = the CPU of %.1f page(s) at %.0f µs each"):format(
        ms(floor), rounds, s, x(floor / (L * ideal_rounds)), rest, rest / rounds, rest / rounds * 1000 / cpu, cpu))
  end
end
targets[#targets + 1] = { "nginx: per-walk worker CPU ≤ 2× the cosocket yardstick", "not measured here",
  "see spec", "spec/openresty_spec.lua measures it (make test)" }

-- output ---------------------------------------------------------------------------------------------
local function width(s) return utf8.len(s) or #s end
local header = { "#", "measurement", "median", "min–max", "compared with", "ratio", "target", "status" }
local w = {}
for i, h in ipairs(header) do w[i] = width(h) end
for _, r in ipairs(rows) do
  for i, cell in ipairs(r) do w[i] = math.max(w[i], width(cell)) end
end
local function line(cells, widths)
  local out = {}
  for i, cell in ipairs(cells) do out[i] = cell .. string.rep(" ", (widths or w)[i] - width(cell)) end
  return "| " .. table.concat(out, " | ") .. " |"
end
local out = {}
out[#out + 1] = line(header)
local sep = {}
for i = 1, #header do sep[i] = string.rep("-", w[i]) end
out[#out + 1] = "|-" .. table.concat(sep, "-|-") .. "-|"
for _, r in ipairs(rows) do out[#out + 1] = line(r) end

local met, missed = 0, {}
for _, v in ipairs(verdicts) do
  if v.ok then met = met + 1 else missed[#missed + 1] = v.name .. " (" .. v.text .. ")" end
end

print(("lua-apivideo %s — latency L = %d ms, %s%s"):format(profile_only and "profile" or "benchmark", L,
  profile_only and "means of the profiled walks" or ("medians of " .. runs .. " run(s)"),
  quick and ", QUICK smoke (BENCH_QUICK=1): figures are indicative only" or ""))
print()
print(table.concat(out, "\n"))
if profile_only then os.exit(0) end
print()
print(("rows with a target met: %d of %d%s"):format(met, #verdicts,
  #missed > 0 and ("; missed: " .. table.concat(missed, "; ")) or ""))

print()
do
  local parts = {}
  for _, m in ipairs(modes) do
    local f = gc_fig[m[1]]
    parts[#parts + 1] = ("%s %s (%s, peak RSS %s)"):format(m[1], us(f.bulk), x(f.r_bulk), mib(f.hwm))
  end
  print(("Collector modes, Lua 5.4, bulk walk of 100 000 sessions at c=8. Process CPU per page (os.clock;"
    .. " ratio: median of per-run ratios to incremental): %s; lowest: %s."):format(table.concat(parts, "; "), gc_best))
  if gc_perf_best then
    local p = {}
    for _, m in ipairs(modes) do
      local f = gcp[m[1]]
      p[#p + 1] = ("%s %s (%s)"):format(m[1], us(f.gc), x(f.gc / gcp.incremental.gc))
    end
    local low = "incremental"
    for _, m in ipairs(modes) do if gcp[m[1]].gc < gcp[low].gc then low = m[1] end end
    print(("The collector's own CPU per page under perf (mean of the profiled walks): %s; lowest: %s."):format(
      table.concat(p, "; "), low))
    if low == gc_best and low ~= "incremental" and gcp[low].gc <= 0.9 * gcp.incremental.gc then
      print(("Recommendation for bulk walks: %s (both measures agree; peak RSS %s against %s)."):format(low,
        mib(gc_fig[low].hwm), mib(gc_fig.incremental.hwm)))
    else
      print("Recommendation: keep the default (incremental); the measures do not agree on a better mode here.")
    end
  end
end

-- What bounds the walks: measured = ideal + page 1 alone + server time above L + client side.
print()
print("What bounds the walks (medians, ms): measured = ideal + extra round for page 1 (the pager learns")
print("pages_total from it) + server time above L on every round + the rest (client side: CPU, scheduling, loopback).")
local decode_ms = PAGES * us_o / 1000
for _, c in ipairs(conc) do
  local tag = "lua_c" .. c
  local m, s = med(tag .. ".ms"), med(tag .. ".server_ms_mean")
  local ideal_rounds = math.ceil(PAGES / c)
  local rounds = (c == 1) and PAGES or (1 + math.ceil((PAGES - 1) / c))
  local first = (rounds - ideal_rounds) * L
  local server = rounds * (s - L)
  local rest = m - ideal_rounds * L - first - server
  print(("- c=%-2d %5.0f = %4.0f ideal + %3.0f page 1 + %4.1f server (%.2f ms/request) + %5.1f client"
    .. " (%.2f ms/round); process CPU %.0f ms, of which decoding ≈ %.0f"):format(c, m, ideal_rounds * L,
    first, server, s, rest, rest / rounds, med(tag .. ".cpu_s") * 1000, decode_ms))
end
print(("- Node client: %.2f ms per request, of which %.2f at the server; %.2f ms client side (CPU %.2f ms/request)")
  :format(node / PAGES, med("node.server_ms_mean"), node / PAGES - med("node.server_ms_mean"),
    med("node.cpu_s") * 1000 / PAGES))
print(("- socket.http loop: %.2f ms per request, of which %.2f at the server; %.2f ms client side"
  .. " (a new TCP connection per request)"):format(ls / PAGES, med("luasocket.server_ms_mean"),
    ls / PAGES - med("luasocket.server_ms_mean")))
print(("- hot loop: shaping adds %.0f%% (os.clock)%s on top of lua-cjson's own decode of the same bytes")
  :format((cpu_ratio - 1) * 100, has("callgrind.core_ir")
    and string.format(" / %.0f%% (callgrind)", (med("callgrind.core_ir") / med("callgrind.cjson_ir") - 1) * 100)
    or ""))

print()
print("TARGETS (issue 13)")
print()
local th = { "target", "measured", "status", "what bounds it (measured)" }
local tw = {}
for i, h in ipairs(th) do tw[i] = width(h) end
for _, t in ipairs(targets) do
  for i, cell in ipairs(t) do tw[i] = math.max(tw[i], width(cell)) end
end
print(line(th, tw))
local tsep = {}
for i = 1, #th do tsep[i] = string.rep("-", tw[i]) end
print("|-" .. table.concat(tsep, "-|-") .. "-|")
for _, t in ipairs(targets) do print(line(t, tw)) end
