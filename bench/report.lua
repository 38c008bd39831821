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

-- 1. lua-apivideo at concurrency 1, 4, 8, 16 against the ideal --------------------------------------
local conc = { 1, 4, 8, 16 }
local server_all = {}
for _, c in ipairs(conc) do
  local tag = "lua_c" .. c
  local ideal = L * math.ceil(PAGES / c)
  local m = med(tag .. ".ms")
  local r = m / ideal
  row("1", ("lua-apivideo, concurrency %d (10 000 sessions, 100 pages)"):format(c), ms(m),
    spread(tag .. ".ms", ms_n), ("ideal L×ceil(100/%d) = %s"):format(c, ms(ideal)), x(r), "≤ 1.25×",
    verdict("walk at concurrency " .. c .. " vs ideal", r, "<=", 1.25))
  server_all[#server_all + 1] = med(tag .. ".server_ms_mean")
end
local server_mean = B.median(server_all)
for _, c in ipairs(conc) do
  local tag = "lua_c" .. c
  local rounds = (c == 1) and PAGES or (1 + math.ceil((PAGES - 1) / c))
  local floor = rounds * med(tag .. ".server_ms_mean")
  row("1", ("  floor c=%d: %d round trips (page 1 alone, then %d per round) × server time %.2f ms"):format(
      c, rounds, c, med(tag .. ".server_ms_mean")), ms(floor), "", "walk ÷ floor",
    x(med(tag .. ".ms") / floor), "", "info")
end

-- 2. the official Node.js client ---------------------------------------------------------------------
local node, c8, c1 = med("node.ms"), med("lua_c8.ms"), med("lua_c1.ms")
row("2", "@api.video/nodejs-client 2.5.4, sequential, Basic auth", ms(node), spread("node.ms", ms_n),
  "lua-apivideo c=8: " .. ms(c8), x(node / c8) .. " slower", "≥ 6×",
  verdict("lua-apivideo c=8 vs the Node client", node / c8, ">=", 6))
row("2", "  same, against lua-apivideo at concurrency 1", "", "", "lua-apivideo c=1: " .. ms(c1),
  x(node / c1), "", "info")

-- 3. luasocket + cjson -------------------------------------------------------------------------------
local ls = med("luasocket.ms")
row("3", "hand-written socket.http + cjson loop, sequential, Basic auth", ms(ls), spread("luasocket.ms", ms_n),
  "lua-apivideo c=8: " .. ms(c8), x(ls / c8) .. " slower", "", "info")
row("3", "  same, against lua-apivideo at concurrency 1", "", "", "lua-apivideo c=1: " .. ms(c1), x(ls / c1),
  "", "info")

-- 4. CPU per page ------------------------------------------------------------------------------------
local us_c, us_o = med("cpu.cjson_us"), med("cpu.core_us")
row("4", ("CPU per 100-item page (%.1f KiB): cjson.decode, os.clock"):format(med("cpu.page_bytes") / 1024),
  us(us_c), spread("cpu.cjson_us", function(v) return string.format("%.0f", v) end), "", "", "", "")
local cpu_ratio = med("cpu.ratio")
row("4", "CPU per page: apivideo.core.decode (decode + shaping), os.clock", us(us_o),
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
if has("walkprof.total_ir") then
  local total = med("walkprof.total_ir")
  local parts = {
    { "decode + shaping (avc_json_decode, inclusive)", med("walkprof.decode_ir") },
    { "zlib (gunzip, self)", med("walkprof.zlib_ir") },
    { "libcurl (self)", med("walkprof.curl_ir") },
    { "OpenSSL (self; curl_global_init, no TLS here)", med("walkprof.tls_ir") },
  }
  local rest = total
  for _, p in ipairs(parts) do rest = rest - p[2] end
  parts[#parts + 1] = { "the rest: Lua VM, engine, pager, loop, libc, start-up", rest }
  row("4", "instructions per page, whole c=1 walk (callgrind, start-up included)", mir(total / PAGES), "",
    "", "", "", "info")
  for _, p in ipairs(parts) do
    row("4", "  of which " .. p[1], mir(p[2] / PAGES), "", "share of the walk", string.format("%.1f%%",
      p[2] / total * 100), "", "info")
  end
end
for _, t in ipairs({ { "lua_c1", "lua-apivideo c=1" }, { "lua_c8", "lua-apivideo c=8" },
    { "node", "Node client" }, { "luasocket", "socket.http + cjson" } }) do
  local cpu = med(t[1] .. ".cpu_s")
  row("4", "process CPU (user+sys) per 10 000-session walk: " .. t[2], ms(cpu * 1000),
    spread(t[1] .. ".cpu_s", function(v) return ms_n(v * 1000) end),
    "lua-apivideo c=8", x(cpu / med("lua_c8.cpu_s")), "", "info")
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

-- output ---------------------------------------------------------------------------------------------
local function width(s) return utf8.len(s) or #s end
local header = { "#", "measurement", "median", "min–max", "compared with", "ratio", "target", "status" }
local w = {}
for i, h in ipairs(header) do w[i] = width(h) end
for _, r in ipairs(rows) do
  for i, cell in ipairs(r) do w[i] = math.max(w[i], width(cell)) end
end
local function line(cells)
  local out = {}
  for i, cell in ipairs(cells) do out[i] = cell .. string.rep(" ", w[i] - width(cell)) end
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

print(("lua-apivideo benchmark — latency L = %d ms, medians of %s run(s)%s"):format(L, runs,
  quick and ", QUICK smoke (BENCH_QUICK=1): figures are indicative only" or ""))
print()
print(table.concat(out, "\n"))
print()
print(("targets met: %d of %d%s"):format(met, #verdicts,
  #missed > 0 and ("; missed: " .. table.concat(missed, "; ")) or ""))

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
print(("- CPU per page: shaping adds %.0f%% (os.clock)%s on top of lua-cjson's own decode of the same bytes")
  :format((cpu_ratio - 1) * 100, has("callgrind.core_ir")
    and string.format(" / %.0f%% (callgrind)", (med("callgrind.core_ir") / med("callgrind.cjson_ir") - 1) * 100)
    or ""))
