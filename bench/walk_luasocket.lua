-- Measurement 3: what a Lua user writes today — luasocket's socket.http + cjson, one page after
-- another, HTTP Basic auth. No apivideo module is loaded for the walk itself.
--   lua5.4 bench/walk_luasocket.lua VIDEO EXPECTED_ITEMS
-- Prints RESULT lines (tag "walk"): ms, items, cpu_s, hwm_kb.
local B = dofile("bench/common.lua")
local http = require("socket.http")
local ltn12 = require("ltn12")
local cjson = require("cjson")
local socket = require("socket")
local mime = require("mime")

local video, expected = arg[1], tonumber(arg[2])
if not (video and expected) then B.fail("usage: walk_luasocket.lua VIDEO EXPECTED_ITEMS") end
local base = B.standin()
local check_item = B.check_item

local n = 0
local cpu0, t0 = os.clock(), socket.gettime()

-- ---- the hand-written loop ----
local headers = {
  authorization = "Basic " .. mime.b64("standin-key:"),
  accept = "application/json",
}
local page = 1
while true do
  local chunks = {}
  local ok, code = http.request({
    url = base .. "/analytics/videos/" .. video .. "?period=2023&pageSize=100&currentPage=" .. page,
    headers = headers,
    sink = ltn12.sink.table(chunks),
  })
  if not ok or code ~= 200 then B.fail("page " .. page .. ": HTTP " .. tostring(code)) end
  local body = cjson.decode(table.concat(chunks))
  for _, s in ipairs(body.data) do
    n = n + 1
    check_item(s.session.sessionId, n)
  end
  local p = body.pagination
  if p.currentPage >= p.pagesTotal then break end
  page = page + 1
end
-- ---- end of the loop ----

local ms, cpu = (socket.gettime() - t0) * 1000, os.clock() - cpu0
if n ~= expected then B.fail(("walk of %s saw %d items, expected %d"):format(video, n, expected)) end
B.emit("walk", "ms", ms)
B.emit("walk", "items", n)
B.emit("walk", "cpu_s", cpu)
B.emit("walk", "hwm_kb", B.vm("VmHWM"))
