-- The pages of a time series, one line each: lua5.4 examples/metrics_over_time_pages.lua [metric] [interval]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 2 })
local from, to = ex.timeframe()

for page in client.analytics:metrics_over_time_pages(ex.arg(1, "play"), {
  from = from, to = to, interval = ex.arg(2, "hour"), page_size = 50,
}) do
  local p = page.pagination
  local first, last = page.data[1], page.data[#page.data]
  print(("page %d/%d: %d points, %s .. %s"):format(p.current_page, p.pages_total, #page.data,
    first and first.emitted_at or "-", last and last.emitted_at or "-"))
end
