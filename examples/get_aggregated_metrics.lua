-- One aggregated figure: lua5.4 examples/get_aggregated_metrics.lua [metric] [aggregation]
--   e.g. play count | play rate | watch-time average | impression-time sum | ccv peak
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()
local from, to = ex.timeframe()

local metric, aggregation = ex.arg(1, "play"), ex.arg(2, "count")
-- videos only (live streams left out): the CLI's `metrics` counts both unless given --filter media_type=video
local filter_by = { media_type = "video" }
local result, err = client.analytics:get_aggregated_metrics(metric, aggregation, {
  from = from, to = to,
  filter_by = filter_by,
})
if not result then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local t = result.context.timeframe
print(("%s / %s where media_type=%s, from %s to %s: %s"):format(result.context.metric, result.context.aggregation,
  filter_by.media_type, t.from, t.to, tostring(result.data)))
