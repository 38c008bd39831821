-- apivideo.archive (issue 19): what api.video forgets after 30 days, kept in a real SQLite file and in a
-- real PostgreSQL 15 server (started here: spec/support/postgres.lua), through LuaDBI, against the
-- stand-in with its clock in its Date header (config date = "clock") so the API's time is not the machine's
-- (the machine's is years later). Each case runs on both targets. #db: its work is LuaDBI's and the
-- databases' (no C of this project that the other specs do not run): valgrind's run leaves it out; every
-- Lua of make test-compat runs it.
local apivideo = require("apivideo")
local archive = require("apivideo.archive")
local schema = require("apivideo.archive.schema")
local S = require("spec.support.standin")
local PG = require("spec.support.postgres")
local sh = require("spec.support.shell")

local NOW = "2024-01-01T00:00:00Z"
local DAY = 86400
local T0 = 1704067200 -- NOW in seconds

local TABLES = {
  timeseries = "metric, interval, filter, bucket", buckets = "metric, breakdown, filter, day, dimension_value",
  sessions = "session_id", events = "session_id, seq", media = "media_id", archive_state = "stream",
}

-- Every row of the archive's tables, as text, in primary-key order.
local function dump(a)
  local out = {}
  for _, t in ipairs({ "timeseries", "buckets", "sessions", "events", "media", "archive_state" }) do
    for _, r in ipairs(a.db:rows("SELECT * FROM " .. t .. " ORDER BY " .. TABLES[t])) do
      local cells = {}
      for i = 1, #r do cells[i] = r[i] == nil and "NULL" or tostring(r[i]) end
      out[#out + 1] = t .. ": " .. table.concat(cells, " | ")
    end
  end
  return out
end

local function count(a, sql, ...)
  return tonumber(a.db:rows(sql, ...)[1][1])
end

describe("apivideo.archive #db", function()
  local srv, pg, dir
  local targets = {}

  setup(function()
    srv = S.start()
    pg = PG.start()
    dir = sh.tmpdir()
  end)
  teardown(function()
    if pg then pg:stop() end
    if srv then srv:stop() end
    if dir then sh.remove_tree(dir) end
  end)

  -- A fresh target of `kind`: a new SQLite file, or the PostgreSQL database emptied.
  local fresh
  setup(function() fresh = PG.fresh_targets(dir, pg) end)
  targets.sqlite = function() return fresh("sqlite") end
  targets.postgresql = function() return fresh("postgresql") end

  local clients = {}
  local function client(opts)
    local o = { api_key = "standin-key", base_url = srv.url, max_retries = 0 }
    for k, v in pairs(opts or {}) do o[k] = v end
    local c = apivideo.new(o)
    clients[#clients + 1] = c
    return c
  end
  after_each(function()
    for _, c in ipairs(clients) do c:close() end
    clients = {}
  end)

  before_each(function() srv:idle_reset({ date = "clock", now = NOW }) end)

  for _, kind in ipairs({ "sqlite", "postgresql" }) do
    describe("(" .. kind .. ")", function()
      local target = targets[kind]

      it("upserts many rows in statements of many: the count of rows added or changed, the later of two rows "
        .. "with one key wins", function()
        local a = assert(archive.open(target()))
        local db = a.db
        local function ts(k, v) return { "m", "hour", "", archive.iso(T0 + k * 3600), v, "x" } end
        local KEYS, VALUES, ALWAYS = { "metric", "interval", "filter", "bucket" }, { "value" }, { "fetched_at" }
        -- 6 values a row: 150 a statement, three statements; the 100th row repeats the key of the
        -- 7th, in the same statement: the later wins
        local rows = {}
        for k = 1, 99 do rows[#rows + 1] = ts(k, k) end
        rows[#rows + 1] = ts(7, 70)
        for k = 100, 400 do rows[#rows + 1] = ts(k, k) end
        local n
        db:transaction(function() n = db:upsert_rows("timeseries", KEYS, VALUES, ALWAYS, rows) end)
        assert.are.equal(401, n) -- 400 added, then one changed
        assert.are.equal(400, count(a, "SELECT COUNT(*) FROM timeseries WHERE metric = 'm'"))
        assert.are.equal(70, count(a, "SELECT value FROM timeseries WHERE metric = 'm' AND bucket = ?",
          archive.iso(T0 + 7 * 3600)))
        assert.are.equal(400 * 401 / 2 - 7 + 70, count(a, "SELECT SUM(value) FROM timeseries WHERE metric = 'm'"))
        -- the same rows again: nothing changes, nothing is counted
        rows = {}
        for k = 1, 400 do rows[k] = ts(k, k == 7 and 70 or k) end
        db:transaction(function() n = db:upsert_rows("timeseries", KEYS, VALUES, ALWAYS, rows) end)
        assert.are.equal(0, n)
        a:close()
      end)

      it("commits a breakdown's days together, with its cursor: one commit a stream, not one a day", function()
        local a = assert(archive.open(target()))
        local commits = 0
        local commit = a.db.commit
        a.db.commit = function(self) commits = commits + 1 return commit(self) end
        local s = assert(a:run(client({ concurrency = 8 }), { metrics = { "play" }, breakdowns = { "country" } }))
        a.db.commit = commit
        -- play per hour, country per day over the 30 days (each day was a commit of its own)
        assert.are.equal(2, #s.streams)
        assert.are.equal(2, commits)
        if kind == "sqlite" then -- (switched under the lock, before the first write)
          assert.are.equal("wal", a.db:rows("PRAGMA journal_mode")[1][1])
        end
        local days = count(a, "SELECT COUNT(DISTINCT day) FROM buckets")
        assert.is_true(days >= 28, days .. " days")
        assert.are.equal("2024-01-01T00:00:00Z", a.db:rows("SELECT cursor FROM archive_state WHERE stream LIKE"
          .. " 'buckets%'")[1][1])
        a:close()
      end)

      it("archives the 30 days the API holds, in the API's time; a second run changes no row and adds none",
        function()
        local a = assert(archive.open(target()))
        local c = client()
        local s = assert(a:run(c, { metrics = { "play", "impression" }, breakdowns = { "country" } }))
        assert.are.equal(NOW, s.now)
        -- hourly buckets from the first whole hour 30 days back (the API's clock, not the machine's) to now
        local first = a.db:rows("SELECT MIN(bucket), MAX(bucket), COUNT(*) FROM timeseries WHERE metric = 'play'")[1]
        assert.are.equal("2023-12-02T01:00:00Z", first[1])
        assert.are.equal("2023-12-31T23:00:00Z", first[2])
        assert.are.equal(719, tonumber(first[3]))
        -- the same figures as the API's own answers
        local api = assert(c.analytics:get_metrics_over_time("play", { from = "2023-12-31T20:00:00Z",
          interval = "hour" }))
        for _, pt in ipairs(api.data) do
          local b = archive.iso(require("apivideo.time").parse(pt.emitted_at))
          assert.are.equal(pt.metric_value, tonumber(a.db:rows("SELECT value FROM timeseries WHERE metric = 'play'"
            .. " AND interval = 'hour' AND filter = '' AND bucket = ?", b)[1][1]))
        end
        local sum = assert(c.analytics:get_aggregated_metrics("play", "count", { from = "2023-12-10T00:00:00Z",
          to = "2023-12-20T00:00:00Z" }))
        assert.are.equal(sum.data, count(a, "SELECT SUM(value) FROM timeseries WHERE metric = 'play' AND"
          .. " bucket >= '2023-12-10T00:00:00Z' AND bucket < '2023-12-20T00:00:00Z'"))
        local day = assert(c.analytics:get_metrics_breakdown("play", "country", { from = "2023-12-15T00:00:00Z",
          to = "2023-12-16T00:00:00Z" }))
        assert.is_true(#day.data > 0)
        for _, b in ipairs(day.data) do
          assert.are.equal(b.metric_value, count(a, "SELECT value FROM buckets WHERE breakdown = 'country' AND"
            .. " day = '2023-12-15' AND dimension_value = ?", b.dimension_value))
        end
        -- the days: whole days inside the retention, each with its cursor moved past it
        assert.are.equal("2023-12-03", a.db:rows("SELECT MIN(day) FROM buckets")[1][1])
        assert.are.equal("2023-12-31", a.db:rows("SELECT MAX(day) FROM buckets")[1][1])
        assert.are.equal(NOW,
          a.db:rows("SELECT cursor FROM archive_state WHERE stream = 'buckets:play:country:'")[1][1])
        local before = dump(a)
        local s2 = assert(a:run(c, { metrics = { "play", "impression" }, breakdowns = { "country" } }))
        assert.are.equal(0, s2.written)
        assert.is_true(s2.fetched > 0) -- the lag: the last day was asked again
        assert.are.same(before, dump(a))
        a:close()
      end)

      it("holds 40 days when the API holds 30: archive, move the API's clock ten days, archive again", function()
        srv:idle_reset({ date = "clock", now = "2023-12-20T00:00:00Z" })
        local a = assert(archive.open(target()))
        local c = client()
        assert(a:run(c, { metrics = { "play" }, breakdowns = { "country" } }))
        c:close()
        srv:idle_reset({ date = "clock", now = "2023-12-30T00:00:00Z" })
        local c2 = client()
        -- the API itself no longer has the first days
        local _, err = c2.analytics:get_metrics_over_time("play", { from = "2023-11-25T00:00:00Z" })
        assert.are.equal(400, err.status)
        local s = assert(a:run(c2, { metrics = { "play" }, breakdowns = { "country" } }))
        assert.are.equal("2023-12-30T00:00:00Z", s.now)
        -- the second run started one lag (a day) before its cursor, not 30 days back
        local asked = srv:requests("^/data/timeseries/play$")
        assert.are.equal("2023-12-19T00:00:00+00:00", asked[#asked].args.from)
        local r = a.db:rows("SELECT MIN(bucket), MAX(bucket) FROM timeseries")[1]
        assert.are.equal("2023-11-20T01:00:00Z", r[1])
        assert.are.equal("2023-12-29T23:00:00Z", r[2])
        assert.are.equal(39 * 24 + 23, count(a, "SELECT COUNT(*) FROM timeseries"))
        assert.are.equal(39, count(a, "SELECT COUNT(DISTINCT day) FROM buckets"))
        -- read back: a window of 20 days, with the 20 days before it beside it (10 of which the API forgot)
        local t = T0 - 2 * DAY
        local w = a:window(t - 20 * DAY, t)
        assert.are.equal(count(a, "SELECT SUM(value) FROM timeseries WHERE bucket >= ? AND bucket < ?",
          "2023-12-10T00:00:00Z", "2023-12-30T00:00:00Z"), w.figures.plays)
        assert.are.equal(count(a, "SELECT SUM(value) FROM timeseries WHERE bucket >= ? AND bucket < ?",
          "2023-11-20T00:00:00Z", "2023-12-10T00:00:00Z"), w.previous.figures.plays)
        assert.is_true(w.previous.figures.plays > 0)
        a:close()
      end)

      it("writes the buckets still filling but keeps the cursor before them", function()
        srv:idle_reset({ date = "clock", now = "2023-12-31T12:30:00Z" })
        local a = assert(archive.open(target()))
        assert(a:run(client(), { metrics = { "play" }, breakdowns = { "country" } }))
        assert.are.equal(1, count(a, "SELECT COUNT(*) FROM timeseries WHERE bucket = '2023-12-31T12:00:00Z'"))
        assert.are.equal("2023-12-31T12:00:00Z",
          a.db:rows("SELECT cursor FROM archive_state WHERE stream = 'timeseries:play:hour:'")[1][1])
        assert.is_true(count(a, "SELECT COUNT(*) FROM buckets WHERE day = '2023-12-31'") > 0)
        assert.are.equal("2023-12-31T00:00:00Z",
          a.db:rows("SELECT cursor FROM archive_state WHERE stream = 'buckets:play:country:'")[1][1])
        -- today's open day was asked without an end (the API's now), the closed ones with one
        local asked = srv:requests("^/data/buckets/play/country$")
        assert.is_nil(asked[#asked].args.to)
        assert.are.equal("2023-12-31T00:00:00+00:00", asked[#asked].args.from)
        a:close()
      end)

      it("fails beyond its retries naming the stream, keeps what was committed, and the next run resumes",
        function()
        local ref = assert(archive.open(target()))
        local opts = { metrics = { "play" }, breakdowns = { "country", "browser" } }
        assert(ref:run(client(), opts))
        local want = dump(ref)
        ref:close()
        srv:idle_reset({ date = "clock", now = NOW })
        local a = assert(archive.open(target()))
        srv:faults({ { match = "/data/buckets/play/browser", kind = "503", count = -1, skip = 3 } })
        local s, err = a:run(client(), opts)
        assert.is_nil(s)
        assert.are.equal("buckets:play:browser:", err.stream)
        assert.are.equal(503, err.status)
        -- the streams before it, and the browser days before the failure, are there
        assert.are.equal(719, count(a, "SELECT COUNT(*) FROM timeseries"))
        assert.are.equal(29, count(a, "SELECT COUNT(DISTINCT day) FROM buckets WHERE breakdown = 'country'"))
        -- the days before the failure, each committed with its cursor moved past it
        local last = a.db:rows("SELECT MAX(day) FROM buckets WHERE breakdown = 'browser'")[1][1]
        assert.is_truthy(last)
        assert.is_true(last < "2023-12-07")
        local cursor = a.db:rows("SELECT cursor FROM archive_state WHERE stream = 'buckets:play:browser:'")[1][1]
        local y, m, d = last:match("^(%d+)-(%d+)-(%d+)$")
        local days = require("apivideo.calendar").days_from_civil(tonumber(y), tonumber(m), tonumber(d))
        assert.are.equal(archive.iso(days * DAY + DAY), cursor)
        srv:faults({})
        assert(a:run(client(), opts))
        assert.are.same(want, dump(a))
        a:close()
      end)

      it("archives sessions and their events, resumes a closed period after its last page, then skips it",
        function()
        local a = assert(archive.open(target()))
        local c = client()
        local opts = { videos = { "vi10k" }, period = "2023-12-01/2023-12-10", metrics = {}, breakdowns = {} }
        -- page 1 passes, the others fail: the first page is committed with its cursor
        srv:faults({ { match = "/analytics/videos/vi10k", kind = "503", count = -1, skip = 1 } })
        local s, err = a:run(c, { videos = { "vi10k" }, period = "2023-12-01/2023-12-10" })
        assert.is_nil(s)
        assert.are.equal("sessions:video:vi10k:2023-12-01/2023-12-10", err.stream, tostring(err))
        srv:faults({})
        -- (the period has 274 sessions: three pages of 100)
        assert.are.equal("page 1", a.db:rows("SELECT cursor FROM archive_state")[1][1])
        srv:reset({ date = "clock", now = NOW })
        assert(a:run(c, opts))
        local asked = srv:requests("^/analytics/videos/vi10k$")
        assert.are.equal("2", asked[1].args.currentPage)
        local api = {}
        for item in c.analytics:video_sessions("vi10k", { period = "2023-12-01/2023-12-10" }) do
          api[#api + 1] = item
        end
        assert.are.equal(#api, count(a, "SELECT COUNT(*) FROM sessions WHERE media_id = 'vi10k'"))
        local one = api[#api]
        local row = a.db:rows("SELECT media_kind, loaded_at, country, device_type, os_name, client_name, metadata"
          .. " FROM sessions WHERE session_id = ?", one.session.session_id)[1]
        assert.are.same({ "video", one.session.loaded_at, one.location.country, one.device.type, one.os.name,
          one.client.name }, { row[1], row[2], row[3], row[4], row[5], row[6] })
        local md = {}
        for _, kv in ipairs(one.session.metadata) do
          md[#md + 1] = '"' .. kv.key .. '":"' .. kv.value .. '"'
        end
        assert.are.equal("{" .. table.concat(md, ",") .. "}", row[7])
        local events = {}
        for e in c.analytics:session_events(one.session.session_id) do events[#events + 1] = e end
        local got = a.db:rows("SELECT seq, type, emitted_at, at FROM events WHERE session_id = ? ORDER BY seq",
          one.session.session_id)
        assert.are.equal(#events, #got)
        for i, e in ipairs(events) do
          assert.are.same({ i, e.type, e.emitted_at, e.at }, { tonumber(got[i][1]), got[i][2], got[i][3],
            e.at and tonumber(got[i][4]) })
        end
        assert.are.equal("complete", a.db:rows("SELECT cursor FROM archive_state")[1][1])
        assert.are.equal("Ten thousand plays", a.db:rows("SELECT title FROM media WHERE media_id = 'vi10k'")[1][1])
        -- complete: the next run asks nothing of it
        srv:reset({ date = "clock", now = NOW })
        local s3 = assert(a:run(c, opts))
        assert.are.equal("complete", s3.streams[1].status)
        assert.are.equal(0, #srv:requests("^/analytics/"))
        a:close()
      end)

      it("names every media it mentions; an unknown one is kept without a title", function()
        local a = assert(archive.open(target()))
        assert(a:run(client(), { metrics = { "play" }, breakdowns = { "media-id" },
          filter_by = { media_id = { "li500", "viGone" } } }))
        local rows = a.db:rows("SELECT media_id, kind, title FROM media ORDER BY media_id")
        local got = {}
        for _, r in ipairs(rows) do got[r[1]] = r[2] .. "=" .. tostring(r[3]) end
        assert.are.equal("live-stream=Weekly live show", got.li500)
        assert.are.equal("video=nil", got.viGone)
        assert.are.equal("media_id=li500,viGone", a.db:rows("SELECT DISTINCT filter FROM timeseries")[1][1])
        a:close()
      end)

      it("answers README's Grafana query (SELECT substr(bucket, ...) with the API's daily figures", function()
        local readme = assert(sh.read_file(S.root() .. "/README.md"))
        local sql = assert(readme:match("```sql\n(.-)\n```"))
        assert.matches("^SELECT substr%(bucket,", sql)
        local a = assert(archive.open(target()))
        local c = client()
        assert(a:run(c, { metrics = { "play" }, breakdowns = {} }))
        local rows = a.db:rows(sql)
        assert.are.equal(30, #rows) -- 2023-12-02 (from 01:00) to 2023-12-31
        local api = assert(c.analytics:get_metrics_over_time("play", { from = "2023-12-10T00:00:00Z",
          to = "2023-12-20T00:00:00Z", interval = "day" }))
        local by_day = {}
        for _, r in ipairs(rows) do by_day[r[1]] = tonumber(r[2]) end
        for _, pt in ipairs(api.data) do assert.are.equal(pt.metric_value, by_day[pt.emitted_at:sub(1, 10)]) end
        assert.are.equal(10, #api.data)
        a:close()
      end)

      it("lets one run at a time hold a target: the second waits its busy timeout, then says busy", function()
        local t = target()
        local a = assert(archive.open(t))
        local b = assert(archive.open(t, { busy_timeout_ms = 300 }))
        assert(a.db:lock(1000))
        local started = require("apivideo.core").now_ms()
        local s, err = b:run(client(), { metrics = { "play" }, breakdowns = {} })
        local waited = require("apivideo.core").now_ms() - started
        assert.is_nil(s)
        assert.are.equal("archive", err.kind)
        assert.is_true(err.busy)
        assert.is_true(waited >= 300, "waited " .. waited .. " ms")
        assert.matches("is busy", tostring(err))
        assert.are.equal(0, count(b, "SELECT COUNT(*) FROM timeseries"))
        a.db:unlock()
        assert(b:run(client(), { metrics = { "play" }, breakdowns = {} }))
        a:close()
        b:close()
      end)

      it("migrates an older schema in place and refuses a newer one, changing nothing", function()
        local t = target()
        local db = assert(require("apivideo.archive.db").open(t))
        schema.migrate(db, 1)
        db:exec("INSERT INTO timeseries VALUES ('play', 'hour', '', '2023-12-30T00:00:00Z', 7, 'x')")
        db:close()
        local a = assert(archive.open(t))
        assert.are.equal(schema.VERSION, schema.version(a.db))
        assert.are.equal(7, count(a, "SELECT value FROM timeseries"))
        assert.are.equal(0, count(a, "SELECT COUNT(*) FROM sessions"))
        a.db:exec("UPDATE archive_meta SET value = '99' WHERE key = 'schema_version'")
        a:close()
        local b, err = archive.open(t)
        assert.is_nil(b)
        assert.are.equal("archive", err.kind)
        assert.are.equal(99, err.schema_version)
        assert.matches("schema version 99, written by a newer lua%-apivideo %(this one knows up to "
          .. schema.VERSION .. "%); nothing was changed", tostring(err))
      end)

      it("a dry run lists the requests and writes nothing", function()
        local t = target()
        local a = assert(archive.open(t, { read_only = true }))
        local s = assert(a:run(client(), { metrics = { "play" }, breakdowns = { "country" }, dry_run = true }))
        assert.matches("/data/metrics/play/count", s.requests[1])
        assert.matches("/data/timeseries/play%?from=2023%-12%-02T01%%3A00%%3A00%%2B00%%3A00&interval=hour",
          s.requests[2])
        assert.are.equal(2 + 29, #s.requests)
        assert.are.equal(1, #srv:requests("^/data/")) -- only the clock
        a:close()
        if kind == "sqlite" then
          assert.is_false(sh.exists(t))
        else
          assert.are.equal("", (pg:psql("SELECT tablename FROM pg_tables WHERE tablename = 'timeseries'")))
        end
      end)
    end)
  end

  it("checks its options before anything is sent", function()
    local a = assert(archive.open(dir .. "/opts.db"))
    local c = client()
    local cases = {
      { { metrics = { "plays" } }, "bad argument 'metrics' %(item 1 is 'plays', expected one of 'play'" },
      { { breakdowns = "country,browser" }, "item 1 is 'country,browser'" },
      { { interval = "minute" }, "bad argument 'interval' %('hour' or 'day' expected, got 'minute'%)" },
      { { lag = -1 }, "bad argument 'lag'" },
      { { videos = { "vi10k" } }, "bad argument 'period' %(required with videos or live_streams%)" },
      { { period = "2023" }, "bad argument 'period' %(only with videos or live_streams%)" },
      { { videos = { "vi10k" }, period = "2023-13" }, "there is no month 13" },
      { { colour = 1 }, "colour" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(function()
        local r = a:run(c, case[1]) -- (not a tail call: the error names this line)
        return r
      end)
      assert.is_false(ok)
      assert.are.equal("argument", err.kind)
      assert.matches(case[2], tostring(err))
      assert.matches("archive_spec.lua:%d+:", tostring(err)) -- positioned at the caller
    end
    assert.are.equal(0, #srv:requests("."))
    a:close()
  end)

  it("says what failed in one line, never the password", function()
    local cases = {
      { dir .. "/no/such/dir/a.db", "cannot open the archive .*/no/such/dir/a.db: .*unable to open database file" },
      { pg:url_with("wrong-" .. PG.PASSWORD), "cannot open the archive postgresql://archive@127.0.0.1:%d+/archive: " },
      { "postgresql://archive:" .. PG.PASSWORD .. "@127.0.0.1:1/archive", "cannot open the archive " },
      { "mysql://x@y/z", "bad target: unknown scheme 'mysql://'" },
    }
    for _, case in ipairs(cases) do
      local a, err = archive.open(case[1])
      assert.is_nil(a)
      assert.are.equal("archive", err.kind)
      local text = tostring(err)
      assert.matches(case[2], text)
      assert.is_nil(text:find(PG.PASSWORD, 1, true))
      assert.is_nil(text:find("\n", 1, true))
      assert.is_nil((err.target or ""):find(PG.PASSWORD, 1, true))
    end
  end)

  it("writes the canonical filter text: keys sorted, values in order", function()
    assert.are.equal("", archive.filter_text(nil))
    assert.are.equal("country=FR,DE&media_type=video", archive.filter_text({ media_type = "video",
      country = { "FR", "DE" } }))
  end)
end)
