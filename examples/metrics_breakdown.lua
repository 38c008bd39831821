-- Every bucket of a breakdown, walked with pages fetched ahead, as a bar chart:
--   lua5.4 examples/metrics_breakdown.lua [metric] [breakdown]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 4 })
local from, to = ex.timeframe()

local rows, total = {}, 0
for b in client.analytics:metrics_breakdown(ex.arg(1, "play"), ex.arg(2, "device-type"), {
  from = from, to = to, page_size = 100,
}) do
  rows[#rows + 1] = { b.dimension_value == "" and "(none)" or b.dimension_value, b.metric_value }
  total = total + b.metric_value
end
table.sort(rows, function(a, b) return a[2] > b[2] end)
local widest = 0
for _, r in ipairs(rows) do widest = math.max(widest, r[2]) end
for _, r in ipairs(rows) do
  local bar = widest > 0 and math.floor(r[2] / widest * 40 + 0.5) or 0
  print(("%-20s %8s %s"):format(r[1], tostring(r[2]), ("#"):rep(bar)))
end
print(("%d buckets, %s in all"):format(#rows, tostring(total)))
