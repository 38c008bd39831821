-- Every event of a session, counted by type: lua5.4 examples/session_events.lua [sessionId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local session = ex.arg(1, "psManyEvents")
local by_type, types = {}, {}
for e in client.analytics:session_events(session, { page_size = 100 }) do
  if not by_type[e.type] then types[#types + 1] = e.type end
  by_type[e.type] = (by_type[e.type] or 0) + 1
end
if #types == 0 then print("no events for session " .. session) end
for _, t in ipairs(types) do print(t, by_type[t]) end
