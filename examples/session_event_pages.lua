-- A session's events page by page, stopping early: lua5.4 examples/session_event_pages.lua [sessionId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local pages = 0
for page in client.analytics:session_event_pages(ex.arg(1, "psManyEvents"), { page_size = 25 }) do
  pages = pages + 1
  print(("page %d of %d"):format(page.pagination.current_page, page.pagination.pages_total))
  if pages == 3 then break end -- leaving the loop cancels the pages in flight
end
print("in flight after break: " .. client:in_flight())
