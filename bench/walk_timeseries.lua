-- Measurement 7: lua-apivideo walking a time series of today's Analytics (/data/timeseries).
--   lua5.4 bench/walk_timeseries.lua CONCURRENCY
-- Walks every point of plays per hour over the stand-in's last 30 days (720 points, 8 pages of 100,
-- its clock standing at 2024-01-01T00:00:00Z) with metrics_over_time, checks that the points are in
-- order, one per hour, and that they add up to get_aggregated_metrics("play", "count") over the same
-- timeframe (the stand-in guarantees it), and prints RESULT lines (tag "walk"): ms (the walk's wall
-- clock), items, pages, cpu_s (process CPU during the walk). Runs under Lua 5.1-5.4 and LuaJIT.
local B = dofile("bench/common.lua")

local concurrency = tonumber(arg[1])
if not concurrency then B.fail("usage: walk_timeseries.lua CONCURRENCY") end

local apivideo = require("apivideo")
local core = require("apivideo.core")

local client = apivideo.new({
  api_key = "standin-key", base_url = B.standin(), auth = "basic", concurrency = concurrency,
})
local FROM, TO = "2023-12-02T00:00:00Z", "2024-01-01T00:00:00Z"
local opts = { from = FROM, to = TO, interval = "hour", page_size = 100 }
collectgarbage("collect")

local n, sum, pages, last = 0, 0, 0, nil
local cpu0, t0 = os.clock(), core.now_ms()
local ok, err = pcall(function()
  for page in client.analytics:metrics_over_time_pages("play", opts) do
    pages = pages + 1
    for _, point in ipairs(page.data) do
      n = n + 1
      sum = sum + point.metric_value
      if last and point.emitted_at <= last then B.fail("points out of order at " .. point.emitted_at) end
      last = point.emitted_at
    end
  end
end)
local t1, cpu = core.now_ms(), os.clock() - cpu0
if not ok then B.fail("time-series walk failed: " .. tostring(err)) end
if n ~= 720 then B.fail(("time-series walk saw %d points, expected 720 (one per hour)"):format(n)) end
local total = assert(client.analytics:get_aggregated_metrics("play", "count", { from = FROM, to = TO }))
if total.data ~= sum then B.fail(("the points add up to %s, the metric says %s"):format(sum, total.data)) end
client:close()

B.emit("walk", "ms", t1 - t0)
B.emit("walk", "items", n)
B.emit("walk", "pages", pages)
B.emit("walk", "cpu_s", cpu)
