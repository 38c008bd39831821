-- Every session of a live stream: lua5.4 examples/live_stream_sessions.lua [liveStreamId] [period]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local ok, err = pcall(function()
  for s in client.analytics:live_stream_sessions(ex.arg(1, "li500"), { period = ex.arg(2, "2023") }) do
    print(s.session.session_id, s.session.loaded_at, s.os.name)
  end
end)
if not ok then -- iterators raise the error object
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
