-- One page of a video's player sessions: lua5.4 examples/list_video_sessions.lua [videoId] [period]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local page, err = client.analytics:list_video_sessions(ex.arg(1, "vi250"), {
  period = ex.arg(2, "2023"),
  metadata = { plan = "pro" },
  page_size = 10,
})
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local p = page.pagination
print(("page %d/%d, %d sessions in all"):format(p.current_page, p.pages_total, p.items_total))
for _, s in ipairs(page.data) do
  print(s.session.session_id, s.session.loaded_at, s.location.country, s.location.city or "-")
end
