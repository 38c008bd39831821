-- Measurement 8 (issue 19): the archive, on a real SQLite file and a real PostgreSQL 15 server.
--   lua5.4 bench/archive.lua sqlite|postgresql
-- Against the bench's stand-in (its clock at 2024-01-01T00:00:00Z, told in its Date header), with the
-- archive's defaults (apivideo.archive.DEFAULTS: its metrics per hour, its breakdowns per day) at
-- concurrency 8:
--   first    a first run on an empty target: the API's whole 30 days
--   incr     the stand-in's clock moved 15 minutes on, the next run (what cron does every 15 minutes)
-- each next to the same run without storing (`nostore_*`: the same archive object, whose database
-- answers its reads but writes nothing, so the same requests are made), and
--   store    rows per second of the store alone: 20 000 time-series rows upserted as a run does
--            (db:upsert_rows), in transactions of 500, no network.
-- RESULT lines (tag archive_KIND): first_ms, first_requests, first_rows, first_cpu_s, first_db_cpu_s,
-- nostore_first_ms, incr_ms, incr_requests, incr_rows, incr_db_cpu_s, incr_cpu_s, nostore_incr_ms,
-- store_rows_per_s. The database share of the process CPU is db_cpu_s / cpu_s: the time spent in the
-- binding's calls (statements, transactions, the cursor reads), measured with os.clock around them; a
-- PostgreSQL server's own CPU is its processes', not this one's.
-- Fails (exit 1) when a run fails, when the no-store run made other requests than the stored one, or
-- when a second run adds rows it should not.
local B = dofile("bench/common.lua")
package.path = "./?.lua;" .. package.path -- spec/support/postgres.lua: the real server the specs use

local kind = arg[1]
if kind ~= "sqlite" and kind ~= "postgresql" then B.fail("usage: archive.lua sqlite|postgresql") end

local apivideo = require("apivideo")
local archive = require("apivideo.archive")
local core = require("apivideo.core")

local NOW = 1704067200 -- the stand-in's clock, 2024-01-01T00:00:00Z
local CONCURRENCY = 8

local pg, target
if kind == "sqlite" then
  target = os.tmpname() .. ".db"
else
  pg = require("spec.support.postgres").start({ fsync = true })
  target = pg.url
end

local function cleanup()
  if pg then pg:stop() end
  if kind == "sqlite" then
    os.remove(target)
    os.remove(target .. ".lock")
  end
  B.control("POST", "/_standin/reset")
end

local function fail(msg)
  cleanup()
  B.fail("archive " .. kind .. ": " .. msg)
end

local function set_clock(t) B.control("POST", "/_standin/config", { now = t, date = "clock" }) end

-- Counts the CPU spent in the database calls of db (its exec and rows; upsert, begin, commit and the
-- cursor reads go through them). Returns the counter table ({ cpu = seconds }).
local function count_db(db)
  local c = { cpu = 0 }
  local exec, rows = db.exec, db.rows
  local depth = 0
  local function timed(f)
    return function(...)
      if depth > 0 then return f(...) end
      depth = depth + 1
      local t0 = os.clock()
      local res = table.pack(pcall(f, ...))
      c.cpu = c.cpu + os.clock() - t0
      depth = depth - 1
      if not res[1] then error(res[2], 0) end
      return table.unpack(res, 2, res.n)
    end
  end
  db.exec, db.rows = timed(exec), timed(rows)
  return c, function() db.exec, db.rows = exec, rows end
end

-- db answering its reads and writing nothing: the same walks without storing.
local function nostore(db)
  local w = setmetatable({}, { __index = db })
  function w.exec() return 1 end
  function w.transaction(_, fn) fn() end
  function w.lock() return true end
  function w.unlock() end
  return w
end

-- One run of a with a new client: { ms, cpu_s, requests (as the stand-in counted them), rows }.
local function run(a)
  local before = B.control("GET", "/_standin/stats").requests or 0
  local client = apivideo.new({ api_key = "standin-key", base_url = B.standin(), auth = "basic",
    concurrency = CONCURRENCY })
  collectgarbage("collect")
  local cpu0, t0 = os.clock(), core.now_ms()
  local summary, err = a:run(client)
  local ms, cpu = core.now_ms() - t0, os.clock() - cpu0
  client:close()
  if not summary then fail("the run failed: " .. tostring(err)) end
  local after = B.control("GET", "/_standin/stats").requests or 0
  return { ms = ms, cpu_s = cpu, requests = after - before, rows = summary.written }
end

local function pair(a, tag)
  local real_db = a.db
  a.db = nostore(real_db)
  local bare = run(a)
  a.db = real_db
  local counter, restore = count_db(real_db)
  local stored = run(a)
  restore()
  if bare.requests ~= stored.requests then
    fail(("%s: the run without storing made %d requests, the stored one %d"):format(tag, bare.requests,
      stored.requests))
  end
  B.emit("archive_" .. kind, tag .. "_ms", stored.ms)
  B.emit("archive_" .. kind, tag .. "_requests", stored.requests)
  B.emit("archive_" .. kind, tag .. "_rows", stored.rows)
  B.emit("archive_" .. kind, tag .. "_cpu_s", stored.cpu_s)
  B.emit("archive_" .. kind, tag .. "_db_cpu_s", counter.cpu)
  B.emit("archive_" .. kind, "nostore_" .. tag .. "_ms", bare.ms)
  return stored
end

local ok, err = pcall(function()
  set_clock(NOW)
  local a = assert(archive.open(target))
  local first = pair(a, "first")
  if first.rows == 0 then fail("the first run wrote no row") end
  set_clock(NOW + 15 * 60)
  pair(a, "incr")
  -- the store alone
  local db, n = a.db, 20000
  local t0 = core.now_ms()
  for batch = 0, n / 500 - 1 do
    local rows = {}
    for i = 1, 500 do
      local k = batch * 500 + i
      rows[i] = { "bench", "hour", "", archive.iso(NOW + k * 3600), k, "2024-01-01T00:00:00Z" }
    end
    db:transaction(function()
      db:upsert_rows("timeseries", { "metric", "interval", "filter", "bucket" }, { "value" }, { "fetched_at" }, rows)
    end)
  end
  B.emit("archive_" .. kind, "store_rows_per_s", n / ((core.now_ms() - t0) / 1000))
  a:close()
end)
if not ok then fail(tostring(err)) end
cleanup()
