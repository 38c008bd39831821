-- The pages of a breakdown, one line each: lua5.4 examples/metrics_breakdown_pages.lua [metric] [breakdown]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 2 })
local from, to = ex.timeframe()

for page in client.analytics:metrics_breakdown_pages(ex.arg(1, "play"), ex.arg(2, "country"), {
  from = from, to = to, page_size = 5,
}) do
  local p = page.pagination
  print(("page %d/%d: %d buckets"):format(p.current_page, p.pages_total, #page.data))
end
