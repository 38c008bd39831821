-- One page of a live stream's player sessions: lua5.4 examples/list_live_stream_sessions.lua [liveStreamId] [period]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local page, err = client.analytics:list_live_stream_sessions(ex.arg(1, "li500"), {
  period = ex.arg(2, "2023-03"),
  current_page = 2,
  page_size = 5,
})
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
for _, s in ipairs(page.data) do
  print(s.session.session_id, s.device.type, s.client.name)
end
if page.rate_limit then
  print(("rate limit: %d of %d left"):format(page.rate_limit.remaining, page.rate_limit.limit))
end
