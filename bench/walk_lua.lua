-- Measurements 1, 4, 5 and 6: lua-apivideo walking every session of a video.
--   lua5.4 bench/walk_lua.lua VIDEO EXPECTED_ITEMS CONCURRENCY [GC [live]]
-- GC: default (leave the collector as the interpreter starts it), incremental, generational (5.4),
-- or pauseN (the incremental collector with setpause N, e.g. pause400). With "live" the walk is
-- instrumented instead of timed (its times mean nothing): full collections measure the live heap
-- before the first request (base_kib), when each page is handed over, at its first item (live_kib),
-- and just before each body is decoded (decode_live_kib: transfer:result(true), the call the engine
-- decodes with, is wrapped for this run), each the mean over the pages.
-- Prints RESULT lines (tag "walk"): ms (wall clock of the walk), items, cpu_s (process CPU during the
-- walk: os.clock, i.e. getrusage user+sys), t0_ms / t1_ms (CLOCK_MONOTONIC at its start and end, for
-- bench/profile.sh), rss_before_kb (VmRSS after loading everything, before the first request),
-- hwm_kb (VmHWM at the end: peak resident memory of this fresh process). Exits 1 when the walk does
-- not see exactly EXPECTED_ITEMS items in order. Runs under Lua 5.1-5.4 and LuaJIT.
local B = dofile("bench/common.lua")

local video, expected, concurrency = arg[1], tonumber(arg[2]), tonumber(arg[3])
local gc, live = arg[4] or "default", arg[5] == "live"
if not (video and expected and concurrency) then
  B.fail("usage: walk_lua.lua VIDEO EXPECTED_ITEMS CONCURRENCY [GC [live]]")
end
B.set_gc(gc)

local apivideo = require("apivideo")
local core = require("apivideo.core")
local check_item = B.check_item

local client = apivideo.new({
  api_key = "standin-key", base_url = B.standin(), auth = "basic", concurrency = concurrency,
})
collectgarbage("collect")
local rss_before = B.vm("VmRSS")
local base_kib = collectgarbage("count")

local n = 0
local live_sum, live_n = 0, 0
local dlive_sum, dlive_n = 0, 0
if live then
  local mt = debug.getregistry()["apivideo.core.transfer"]
  if not (mt and mt.result) then B.fail("live: no transfer metatable with result() to wrap") end
  local result = mt.result
  mt.result = function(t, decode, ...)
    if decode then
      collectgarbage("collect")
      dlive_sum, dlive_n = dlive_sum + collectgarbage("count"), dlive_n + 1
    end
    return result(t, decode, ...)
  end
end
local cpu0, t0 = os.clock(), core.now_ms()
local ok, err = pcall(function()
  for s in client.analytics:video_sessions(video, { period = "2023", page_size = 100 }) do
    n = n + 1
    if live and n % 100 == 1 then
      collectgarbage("collect")
      live_sum, live_n = live_sum + collectgarbage("count"), live_n + 1
    end
    check_item(s.session.session_id, n)
  end
end)
local t1, cpu = core.now_ms(), os.clock() - cpu0
if not ok then B.fail("walk failed: " .. tostring(err)) end
if n ~= expected then B.fail(("walk of %s saw %d items, expected %d"):format(video, n, expected)) end
client:close()

B.emit("walk", "ms", t1 - t0)
B.emit("walk", "items", n)
B.emit("walk", "cpu_s", cpu)
B.emit("walk", "t0_ms", string.format("%.3f", t0))
B.emit("walk", "t1_ms", string.format("%.3f", t1))
B.emit("walk", "rss_before_kb", rss_before)
B.emit("walk", "hwm_kb", B.vm("VmHWM"))
if live then
  -- the engine must still decode through transfer:result(true), or this measures nothing
  if dlive_n < expected / 100 then
    B.fail(("live: %d bodies decoded through transfer:result(true), expected %d"):format(dlive_n, expected / 100))
  end
  B.emit("walk", "base_kib", base_kib)
  B.emit("walk", "live_kib", live_sum / live_n)
  B.emit("walk", "decode_live_kib", dlive_sum / dlive_n)
end
