-- Every point of a time series, walked page by page: lua5.4 examples/metrics_over_time.lua [metric] [interval]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 4 })
local from, to = ex.timeframe()

local points, sum = 0, 0
for point in client.analytics:metrics_over_time(ex.arg(1, "play"), {
  from = from, to = to, interval = ex.arg(2, "hour"), page_size = 100,
}) do
  points, sum = points + 1, sum + point.metric_value
end
print(("%d points, %s in all"):format(points, tostring(sum)))
