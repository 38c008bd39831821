-- Every event of a session: lua5.4 examples/session_events.lua [sessionId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local by_type = {}
for e in client.analytics:session_events(ex.arg(1, "psManyEvents"), { page_size = 100 }) do
  by_type[e.type] = (by_type[e.type] or 0) + 1
end
for t, count in pairs(by_type) do print(t, count) end
