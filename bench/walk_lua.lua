-- Measurement 1 and 5: lua-apivideo walking every session of a video.
--   lua5.4 bench/walk_lua.lua VIDEO EXPECTED_ITEMS CONCURRENCY
-- Prints RESULT lines (tag "walk"): ms (wall clock of the walk), items, cpu_s (process CPU during the
-- walk), rss_before_kb (VmRSS after loading everything, before the first request), hwm_kb (VmHWM
-- at the end: peak resident memory of this fresh process). Exits 1 when the walk does not see exactly
-- EXPECTED_ITEMS items in order.
local B = dofile("bench/common.lua")

local video, expected, concurrency = arg[1], tonumber(arg[2]), tonumber(arg[3])
if not (video and expected and concurrency) then
  B.fail("usage: walk_lua.lua VIDEO EXPECTED_ITEMS CONCURRENCY")
end

local apivideo = require("apivideo")
local core = require("apivideo.core")
local check_item = B.check_item

local client = apivideo.new({
  api_key = "standin-key", base_url = B.standin(), auth = "basic", concurrency = concurrency,
})
collectgarbage("collect")
local rss_before = B.vm("VmRSS")

local n = 0
local cpu0, t0 = os.clock(), core.now_ms()
local ok, err = pcall(function()
  for s in client.analytics:video_sessions(video, { period = "2023", page_size = 100 }) do
    n = n + 1
    check_item(s.session.session_id, n)
  end
end)
local ms, cpu = core.now_ms() - t0, os.clock() - cpu0
if not ok then B.fail("walk failed: " .. tostring(err)) end
if n ~= expected then B.fail(("walk of %s saw %d items, expected %d"):format(video, n, expected)) end
client:close()

B.emit("walk", "ms", ms)
B.emit("walk", "items", n)
B.emit("walk", "cpu_s", cpu)
B.emit("walk", "rss_before_kb", rss_before)
B.emit("walk", "hwm_kb", B.vm("VmHWM"))
