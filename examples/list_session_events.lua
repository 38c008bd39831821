-- One page of a session's events: lua5.4 examples/list_session_events.lua [sessionId]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client()

local page, err = client.analytics:list_session_events(ex.arg(1, "psvi250_000001"), { page_size = 100 })
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
for _, e in ipairs(page.data) do
  if e.from then
    print(e.emitted_at, e.type, ("from %ds to %ds"):format(e.from, e.to))
  else
    print(e.emitted_at, e.type, ("at %ds"):format(e.at or 0))
  end
end
