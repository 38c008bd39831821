-- Measurement 4: the yardstick for the client's CPU per page. A "walk" that only runs cjson.decode
-- over the same 100 bodies, in the conditions of a real walk at concurrency C:
--   lua5.4 bench/decode_walk.lua DIR CONCURRENCY LATENCY_MS EXTRA_KIB|kN [live]
-- * the same pauses: page 1 alone, then rounds of C pages, with LATENCY_MS of sleep before every
--   round (a walk waits that long for each round trip), so caches and the CPU are as cold as in a walk;
-- * the same live heap: apivideo is loaded and a client built as in bench/walk_lua.lua, and the last
--   K decoded pages stay referenced while the next one is decoded, K = EXTRA_KIB (the live heap the
--   real walk holds above its base just before it decodes a body, measured by walk_lua.lua ... live)
--   ÷ one decoded page, rounded (0 when the walk lets go of every page before decoding the next);
--   or K = N when given as kN (bench/run.sh computes K once and uses it for every run);
-- * the same user loop: every item's session id is checked against its position.
-- The bodies (bench/cpu.lua fetch) are concatenated into one file first and each is read from it
-- just before it is decoded (they are not all kept in the heap: 5.5 MB of strings would make every
-- collection rarer). Like any cjson.decode user's body, that string is allocated in the Lua heap and
-- feeds the collector; the read itself (page cache, a copy; on 5.4 about 40 µs for 55 KiB) is not
-- decoding: its cost is measured before the walk (every body read once, collector stopped) and
-- that much per page is taken out of cpu_s (reported as read_s). Reads after a pause can be
-- slower than that, which leaves a little of their cost in the yardstick.
-- With "live", a full collection just before each page is read and decoded measures the live heap
-- then (live_kib), as walk_lua.lua's decode_live_kib does; the times of such a run mean nothing.
-- Prints RESULT lines (tag "walk"): ms, items, cpu_s (os.clock over the walk minus read_s), read_s,
-- t0_ms, t1_ms,
-- hold (K), page_kib, base_kib, live_kib. Runs under Lua 5.1-5.4 and LuaJIT.
local B = dofile("bench/common.lua")

local dir, concurrency, latency_ms = arg[1], tonumber(arg[2]), tonumber(arg[3])
local fixed_hold = tonumber((arg[4] or ""):match("^k(%d+)$"))
local extra_kib = fixed_hold or tonumber(arg[4])
local live = arg[5] == "live"
if not (dir and concurrency and latency_ms and extra_kib) then
  B.fail("usage: decode_walk.lua DIR CONCURRENCY LATENCY_MS EXTRA_KIB [live]")
end
B.set_gc(os.getenv("BENCH_GC") or "default")

local apivideo = require("apivideo")
local core = require("apivideo.core")
local cjson_decode = require("cjson").decode
local sleep = require("socket").sleep
local check_item = B.check_item

-- the bodies, one after another in one file; offsets[i], sizes[i]
local all_path = dir .. "/all.json"
local offsets, sizes = {}, {}
do
  local out = assert(io.open(all_path, "wb"))
  local pos, i = 0, 1
  while true do
    local f = io.open(("%s/page-%03d.json"):format(dir, i), "rb")
    if not f then break end
    local body = f:read("*a")
    f:close()
    out:write(body)
    offsets[i], sizes[i] = pos, #body
    pos, i = pos + #body, i + 1
  end
  out:close()
end
local pages = #sizes
if pages == 0 then B.fail("no bodies in " .. dir .. " (run cpu.lua fetch first)") end
local bodies = assert(io.open(all_path, "rb"))
local function body(i)
  bodies:seek("set", offsets[i])
  return bodies:read(sizes[i])
end

-- the same base heap as a walk: the library loaded, a client built
local client = apivideo.new({
  api_key = "standin-key", base_url = os.getenv("APIVIDEO_STANDIN_URL") or "http://127.0.0.1:9",
  auth = "basic", concurrency = concurrency,
})

-- one decoded page, as it stays alive
collectgarbage("collect")
local before = collectgarbage("count")
local one = cjson_decode(body(2))
collectgarbage("collect")
local page_kib = collectgarbage("count") - before
if #one.data ~= 100 then B.fail("page 2 of " .. dir .. " has " .. #one.data .. " items, expected 100") end
one = nil -- luacheck: ignore 311
local hold = fixed_hold or math.max(0, math.floor(extra_kib / page_kib + 0.5))
local held = {} -- luacheck: ignore 241 (kept only to stay alive)

-- what reading the bodies costs, without decoding them (the collector stopped: no steps inside)
local clock = os.clock
collectgarbage("collect")
collectgarbage("stop")
local r0 = clock()
for i = 1, pages do body(i) end
local read_s = clock() - r0
collectgarbage("restart")

collectgarbage("collect")
local base_kib = collectgarbage("count")
local n, page = 0, 0
local live_sum = 0
local function one_page()
  page = page + 1
  if live then
    collectgarbage("collect")
    live_sum = live_sum + collectgarbage("count")
  end
  local s = body(page)
  local v = cjson_decode(s)
  s = nil -- luacheck: ignore 311
  if hold > 0 then held[(page - 1) % hold + 1] = v end
  local data = v.data
  for i = 1, #data do
    n = n + 1
    check_item(data[i].session.sessionId, n)
  end
end

local cpu0, t0 = clock(), core.now_ms()
sleep(latency_ms / 1000)
one_page()
while page < pages do
  sleep(latency_ms / 1000)
  for _ = 1, math.min(concurrency, pages - page) do one_page() end
end
local t1, cpu = core.now_ms(), clock() - cpu0 - read_s
if n ~= pages * 100 then B.fail(("decode walk saw %d items, expected %d"):format(n, pages * 100)) end
bodies:close()
client:close()

B.emit("walk", "ms", t1 - t0)
B.emit("walk", "items", n)
B.emit("walk", "cpu_s", cpu)
B.emit("walk", "read_s", read_s)
B.emit("walk", "t0_ms", string.format("%.3f", t0))
B.emit("walk", "t1_ms", string.format("%.3f", t1))
B.emit("walk", "hold", hold)
B.emit("walk", "page_kib", page_kib)
B.emit("walk", "base_kib", base_kib)
if live then B.emit("walk", "live_kib", live_sum / pages) end
