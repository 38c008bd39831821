-- One page of a breakdown: lua5.4 examples/get_metrics_breakdown.lua [metric] [breakdown]
--   e.g. play country | play device-type | ccv-peak browser | play-total media-id
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()
local from, to = ex.timeframe()

local page, err = client.analytics:get_metrics_breakdown(ex.arg(1, "play"), ex.arg(2, "country"), {
  from = from, to = to, sort_by = "metric_value", sort_order = "desc", page_size = 10,
})
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local p = page.pagination
print(("%s by %s, page %d/%d (%d buckets in all)"):format(page.context.metric, page.context.breakdown,
  p.current_page, p.pages_total, p.items_total))
for _, b in ipairs(page.data) do
  print(("%-28s %10s"):format(b.dimension_value == "" and "(none)" or b.dimension_value, tostring(b.metric_value)))
end
