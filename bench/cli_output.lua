-- Measurement 11 (issue 21, part 1): the command line writing a list out, against the library walk
-- alone over the same pages at the same concurrency.
--   lua5.4 bench/cli_output.lua KIND WHAT OUT_FILE
-- KIND: sessions (video vi100k, period 2023: 100 000 sessions, 1 000 pages), events (session
-- psEvents100k: 100 000 events, 1 000 pages), timeseries (plays per hour over the stand-in's last 30
-- days: 720 points, 8 pages, the most one request series can hold) or buckets (plays by referrer over
-- those 30 days: every bucket, 1 page). WHAT: walk (the library's iterator, each item's fields read,
-- nothing written) or a format of `apivideo-analytics KIND` (table, csv, ndjson, json), its stdout a
-- file (OUT_FILE). Both at concurrency 8, 100 items a request, Basic auth. The timer runs from just
-- before the client is built (walk) or cli.main is called (formats: it parses the arguments and
-- builds its client) to the last item read or the file closed; modules are loaded before it.
-- Prints RESULT lines (tag "walk"): ms, items (counted from the file for a format: rows, header and
-- rule lines aside), cpu_s (process CPU inside the timer), hwm_kb (VmHWM at the end: peak RSS).
-- Exits 1 when the walk or the command fails or the item count is not the expected one.
local B = dofile("bench/common.lua")

local kind, what, out_path = arg[1], arg[2], arg[3]
local FROM, TO = "2023-12-02T00:00:00Z", "2024-01-01T00:00:00Z" -- the stand-in's last 30 days
local KINDS = {
  sessions = {
    items = 100000,
    argv = { "sessions", "--video", "vi100k", "--period", "2023" },
    walk = function(a) return a:video_sessions("vi100k", { period = "2023", page_size = 100 }) end,
  },
  events = {
    items = 100000,
    argv = { "events", "--session", "psEvents100k" },
    walk = function(a) return a:session_events("psEvents100k", { page_size = 100 }) end,
  },
  timeseries = {
    items = 720,
    argv = { "timeseries", "--metric", "play", "--interval", "hour", "--from", FROM, "--to", TO },
    walk = function(a)
      return a:metrics_over_time("play", { from = FROM, to = TO, interval = "hour", page_size = 100 })
    end,
  },
  buckets = {
    argv = { "buckets", "--metric", "play", "--breakdown", "referrer", "--from", FROM, "--to", TO },
    walk = function(a)
      return a:metrics_breakdown("play", "referrer", { from = FROM, to = TO, page_size = 100 })
    end,
  },
}
local FORMATS = { table = 2, csv = 1, ndjson = 0, json = 2 } -- lines that are not rows
local spec = KINDS[kind]
if not (spec and (what == "walk" or FORMATS[what]) and out_path) then
  B.fail("usage: cli_output.lua sessions|events|timeseries|buckets walk|table|csv|ndjson|json OUT_FILE")
end

local apivideo = require("apivideo")
local core = require("apivideo.core")
local cli = require("apivideo.cli")

local CONCURRENCY = 8
local function touch(v) -- reads every field of an item, as a writer would
  local n = 0
  if type(v) == "table" then
    for _, x in pairs(v) do n = n + touch(x) end
    return n
  end
  return 1
end

local items, cpu0, t0, cpu, t1
if what == "walk" then
  local n, fields = 0, 0
  cpu0, t0 = os.clock(), core.now_ms()
  local client = apivideo.new({
    api_key = "standin-key", base_url = B.standin(), auth = "basic", concurrency = CONCURRENCY,
  })
  local ok, err = pcall(function()
    for item in spec.walk(client.analytics) do
      n = n + 1
      fields = fields + touch(item)
    end
  end)
  t1, cpu = core.now_ms(), os.clock() - cpu0
  if not ok then B.fail(kind .. " walk failed: " .. tostring(err)) end
  if fields < n then B.fail(kind .. " walk: items without fields") end
  items = n
else
  local out = assert(io.open(out_path, "wb"))
  local argv = { "--format", what, "--concurrency", tostring(CONCURRENCY), "--page-size", "100",
    "--auth", "basic", "--base-url", B.standin() }
  for i = #spec.argv, 1, -1 do table.insert(argv, 1, spec.argv[i]) end
  local errs = {}
  local stderr = { write = function(_, s) errs[#errs + 1] = s return true end }
  cpu0, t0 = os.clock(), core.now_ms()
  local code = cli.main(argv, {
    stdout = out, stderr = stderr, tty = false, stdout_tty = false,
    getenv = function(name)
      if name == "APIVIDEO_API_KEY" then return "standin-key" end
      return os.getenv(name)
    end,
  })
  out:close()
  t1, cpu = core.now_ms(), os.clock() - cpu0
  if code ~= 0 then B.fail(("apivideo-analytics %s --format %s exited %s: %s"):format(kind, what,
    tostring(code), table.concat(errs))) end
  local lines = 0
  for _ in io.lines(out_path) do lines = lines + 1 end
  items = lines - FORMATS[what]
end
if spec.items and items ~= spec.items then
  B.fail(("%s %s: %d items, expected %d"):format(kind, what, items, spec.items))
end
if items < 1 then B.fail(kind .. " " .. what .. ": no items") end

B.emit("walk", "ms", t1 - t0)
B.emit("walk", "items", items)
B.emit("walk", "cpu_s", cpu)
B.emit("walk", "hwm_kb", B.vm("VmHWM"))
