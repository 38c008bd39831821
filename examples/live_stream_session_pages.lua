-- A live stream's sessions page by page: lua5.4 examples/live_stream_session_pages.lua [liveStreamId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

for page in client.analytics:live_stream_session_pages(ex.arg(1, "li500"), { period = "2023", page_size = 100 }) do
  print(("page %d: first session %s"):format(page.pagination.current_page, page.data[1].session.session_id))
end
