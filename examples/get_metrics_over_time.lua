-- One page of a time series: lua5.4 examples/get_metrics_over_time.lua [metric] [interval]
--   e.g. play day | impression hour | view day
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()
local from, to = ex.timeframe()

local page, err = client.analytics:get_metrics_over_time(ex.arg(1, "play"), {
  from = from, to = to, interval = ex.arg(2, "day"), page_size = 31,
})
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("%s per %s"):format(page.context.metric, page.context.interval))
for _, point in ipairs(page.data) do
  print(point.emitted_at, point.metric_value)
end
