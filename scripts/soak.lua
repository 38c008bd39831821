-- Soak: 20 000 requests through one client with 5 % injected faults.
-- Passes when resident memory grows < 5 % after warm-up and the open file
-- descriptors return to their start. Prints the figures.
--   lua5.4 scripts/soak.lua [requests]   (APIVIDEO_STANDIN_URL must be set)
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "build/lua5.4/?.so;" .. package.cpath
local apivideo = require("apivideo")
local S = require("spec.support.standin")

local REQUESTS = tonumber(arg[1]) or 20000
local WARMUP = math.floor(REQUESTS / 10)

local function rss_kb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then return tonumber(kb) end
  end
end

local function fds()
  local p = io.popen("ls /proc/" .. (io.open("/proc/self/stat"):read("*l"):match("^(%d+)")) .. "/fd | wc -l")
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

local srv = S.shared()
srv:reset()
-- five kinds, each on every 100th analytics request: 5 % of requests fail once
local faults = {}
for i, kind in ipairs({ "500", "502", "503", "truncated", "429" }) do
  faults[i] = { match = "/analytics/", kind = kind, every = 100, skip = i * 17, count = -1, retry_after = "0" }
end
srv:faults(faults)

local fd0 = fds()
local retries = 0
local client = apivideo.new({
  api_key = "standin-key", base_url = srv.url, concurrency = 8, max_retries = 5,
  on_event = function(e) if e.type == "retry" then retries = retries + 1 end end,
})
-- vi100k in pages of 5: one request per page
local n, rss_warm, expected = 0, nil, 1
for s in client.analytics:video_sessions("vi100k", { period = "2023", page_size = 5 }) do
  assert(s.session.session_id == string.format("psvi100k_%06d", expected), "out of order or lost")
  expected = expected + 1
  n = n + 1
  if n % 5 == 0 then
    local pages = n / 5
    if pages == WARMUP then
      collectgarbage()
      rss_warm = rss_kb()
    end
    if pages == REQUESTS then break end
  end
end
collectgarbage()
collectgarbage()
local rss_end = rss_kb()
client:close()
client = nil -- luacheck: ignore 311
collectgarbage()
collectgarbage()
local fd1 = fds()
local st = srv:stats()
srv:faults({})

local growth = (rss_end - rss_warm) / rss_warm * 100
print(string.format("soak: %d requests (%d items), %d faults retried, server saw %d analytics requests",
  REQUESTS, n, retries, st.api_requests))
print(string.format("soak: RSS after warm-up %d KiB, at end %d KiB, growth %.2f %% (limit 5 %%)",
  rss_warm, rss_end, growth))
print(string.format("soak: open fds at start %d, after close %d", fd0, fd1))
local ok = growth < 5 and fd1 <= fd0 and retries >= REQUESTS * 0.04 and n == REQUESTS * 5
print(ok and "soak: PASS" or "soak: FAIL")
os.exit(ok and 0 or 1)
