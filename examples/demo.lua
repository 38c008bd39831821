-- `make demo`: a video's sessions as a table, then the events of the first one.
--   lua5.4 examples/demo.lua [videoId] [period] [rows]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local apivideo = ex.apivideo
local client = ex.client({ concurrency = 4 })

local video_id, period, rows = ex.arg(1, "vi250"), ex.arg(2, "2023-01"), tonumber(ex.arg(3, "12"))

local function duration(s)
  local a, b = apivideo.parse_time(s.session.loaded_at), apivideo.parse_time(s.session.ended_at or "")
  if not (a and b) then return "-" end
  local secs = math.floor(b - a + 0.5)
  return ("%d:%02d"):format(math.floor(secs / 60), secs % 60)
end

local format = "%-18s %-16s %-8s %-10s %8s"
print(("Sessions of %s in %s"):format(video_id, period))
print(format:format("session id", "country", "device", "browser", "duration"))
print(("-"):rep(64))
local first, shown, total = nil, 0, 0
for s in client.analytics:video_sessions(video_id, { period = period, page_size = 100 }) do
  total = total + 1
  first = first or s.session.session_id
  if shown < rows then
    shown = shown + 1
    print(format:format(s.session.session_id, s.location.country or "-", s.device.type or "-",
      s.client.name or "-", duration(s)))
  end
end
print(("%d sessions in all%s"):format(total, total > shown and (", first " .. shown .. " shown") or ""))
if not first then return end

print()
print("Events of " .. first)
for e in client.analytics:session_events(first) do
  local where = e.from and ("%ds -> %ds"):format(e.from, e.to) or ("at %ds"):format(e.at or 0)
  print(("  %s  %-14s %s"):format(e.emitted_at, e.type, where))
end
