-- A video's sessions page by page, starting mid-way: lua5.4 examples/video_session_pages.lua [videoId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 4 })

local opts = { period = "2023", page_size = 50, current_page = 2 }
for page in client.analytics:video_session_pages(ex.arg(1, "vi250"), opts) do
  local p = page.pagination
  print(("page %d/%d: %d sessions"):format(p.current_page, p.pages_total, #page.data))
end
