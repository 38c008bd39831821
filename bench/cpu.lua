-- Measurement 4: CPU per 100-item page, lua-apivideo's decode path against plain cjson.decode of the
-- same bytes.
--   lua5.4 bench/cpu.lua fetch DIR PAGES        fetch pages 1..PAGES of vi10k (pageSize 100, identity
--                                               encoding) once from the stand-in into DIR/page-NNN.json
--   lua5.4 bench/cpu.lua time DIR ROUNDS PASSES os.clock: ROUNDS rounds, each timing PASSES passes over
--                                               every body with cjson.decode, then with core.decode
--                                               (the order alternates per round); prints per-page
--                                               medians (µs) and the median of the per-round ratios
--   lua5.4 bench/cpu.lua count DIR MODE PASSES  the workload callgrind counts: MODE is base (load
--                                               and loop, no decoding), cjson or core
-- "Our path" is apivideo.core.decode: lua-cjson's decoder (a private cjson.safe instance) plus the
-- shaping walk in C (snake_case names, nulls dropped, integers), exactly what every page of a walk
-- goes through. Both sides produce the same garbage pattern and pay their own GC inside the timing.
local B = dofile("bench/common.lua")

local mode, dir = arg[1], arg[2]
if not mode or not dir then B.fail("usage: cpu.lua fetch|time|count DIR ...") end

local function page_path(i) return ("%s/page-%03d.json"):format(dir, i) end

local function load_bodies()
  local bodies = {}
  local i = 1
  while true do
    local f = io.open(page_path(i), "rb")
    if not f then break end
    bodies[i] = f:read("a")
    f:close()
    i = i + 1
  end
  if #bodies == 0 then B.fail("no bodies in " .. dir .. " (run cpu.lua fetch first)") end
  return bodies
end

if mode == "fetch" then
  local http = require("socket.http")
  local ltn12 = require("ltn12")
  local mime = require("mime")
  local cjson = require("cjson")
  local pages = tonumber(arg[3]) or 100
  local base = B.standin()
  for i = 1, pages do
    local out = {}
    local ok, code = http.request({
      url = base .. "/analytics/videos/vi10k?period=2023&pageSize=100&currentPage=" .. i,
      headers = { authorization = "Basic " .. mime.b64("standin-key:"), accept = "application/json" },
      sink = ltn12.sink.table(out),
    })
    if not ok or code ~= 200 then B.fail("fetching page " .. i .. ": " .. tostring(code)) end
    local body = table.concat(out)
    local n = #cjson.decode(body).data
    if n ~= 100 then B.fail("page " .. i .. " has " .. n .. " items, expected 100") end
    local f = assert(io.open(page_path(i), "wb"))
    f:write(body)
    f:close()
  end
  os.exit(0)
end

local cjson_decode = require("cjson").decode
-- with the library's rename list, prepared once, as every client's multi handle has it
local core_decode
do
  local core = require("apivideo.core")
  local decode, renames = core.decode, core.renames(require("apivideo.fields").RENAMES)
  core_decode = function(s) return decode(s, renames) end
end

if mode == "count" then
  local what, passes = arg[3], tonumber(arg[4]) or 1
  local bodies = load_bodies()
  local fn = ({ base = function(s) return s end, cjson = cjson_decode, core = core_decode })[what]
  if not fn then B.fail("count mode must be base, cjson or core") end
  for _ = 1, passes do
    for i = 1, #bodies do
      local v = fn(bodies[i])
      if v == nil then B.fail("decode failed") end
    end
  end
  os.exit(0)
end

if mode ~= "time" then B.fail("unknown mode " .. mode) end
local rounds, passes = tonumber(arg[3]) or 7, tonumber(arg[4]) or 20
local bodies = load_bodies()
local npages = #bodies

-- Sanity: both decoders see the same pages (our path renames, so compare counts and one id).
for i = 1, npages do
  local a, b = cjson_decode(bodies[i]), core_decode(bodies[i])
  if #a.data ~= 100 or #b.data ~= 100 or a.data[1].session.sessionId ~= b.data[1].session.session_id
      or b.pagination.current_page ~= i then
    B.fail("page " .. i .. " decodes differently")
  end
end

local clock = os.clock
local function run(fn)
  collectgarbage("collect")
  local t0 = clock()
  for _ = 1, passes do
    for i = 1, npages do
      local v = fn(bodies[i])
      if v == nil then B.fail("decode failed") end
    end
  end
  return (clock() - t0) / (passes * npages) * 1e6 -- µs per page
end

-- warm-up (caches, allocator, string table)
run(cjson_decode)
run(core_decode)

local tc, to, ratios = {}, {}, {}
for r = 1, rounds do
  local c, o
  if r % 2 == 1 then
    c = run(cjson_decode); o = run(core_decode)
  else
    o = run(core_decode); c = run(cjson_decode)
  end
  tc[r], to[r], ratios[r] = c, o, o / c
end
local bytes = 0
for _, b in ipairs(bodies) do bytes = bytes + #b end
B.emit("cpu", "cjson_us", B.median(tc))
B.emit("cpu", "core_us", B.median(to))
B.emit("cpu", "ratio", B.median(ratios))
B.emit("cpu", "page_bytes", bytes // npages)
