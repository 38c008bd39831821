-- apivideo-analytics archive, summary --db, timeseries --db (issue 19): the archive's guarantees as cron
-- sees them, with the real program in its own processes (killed with SIGKILL, two at once) on a real
-- SQLite file and a real PostgreSQL 15 server, against the stand-in with its clock in its Date header.
local apivideo = require("apivideo")
local archive = require("apivideo.archive")
local C = require("spec.support.cli")
local S = require("spec.support.standin")
local PG = require("spec.support.postgres")
local sh = require("spec.support.shell")
local socket = require("socket")

local NOW = "2024-01-01T00:00:00Z"
local KEY = "standin-key"

-- The rows of every table, without the columns that tell when they were fetched.
local QUERIES = {
  "SELECT metric, interval, filter, bucket, value FROM timeseries ORDER BY metric, interval, filter, bucket",
  "SELECT metric, breakdown, filter, day, dimension_value, value FROM buckets"
    .. " ORDER BY metric, breakdown, filter, day, dimension_value",
  "SELECT session_id, media_id, loaded_at, country, metadata FROM sessions ORDER BY session_id",
  "SELECT session_id, seq, type, emitted_at, at FROM events ORDER BY session_id, seq",
  "SELECT media_id, kind, title FROM media ORDER BY media_id",
  "SELECT stream, cursor FROM archive_state ORDER BY stream",
}
local function dump(target)
  local a = assert(archive.open(target))
  local out = {}
  for _, q in ipairs(QUERIES) do
    for _, r in ipairs(a.db:rows(q)) do
      local cells = {}
      for i = 1, #r do cells[i] = r[i] == nil and "NULL" or tostring(r[i]) end
      out[#out + 1] = table.concat(cells, " | ")
    end
  end
  a:close()
  return out
end

describe("apivideo-analytics archive #db", function()
  local srv, pg, dir, run, ROOT
  setup(function()
    srv = S.start()
    pg = PG.start()
    dir = sh.tmpdir()
    ROOT = S.root()
    run = C.runner({ url = srv.url, key = KEY, secrets = { KEY, PG.PASSWORD } })
  end)
  teardown(function()
    if pg then pg:stop() end
    if srv then srv:stop() end
    if dir then sh.remove_tree(dir) end
  end)
  before_each(function() srv:idle_reset({ date = "clock", now = NOW }) end)

  local fresh -- fresh(kind): a new SQLite file, or the PostgreSQL database emptied
  setup(function() fresh = PG.fresh_targets(dir, pg) end)

  local ARGS = { "--metrics", "play,impression", "--breakdowns", "country,browser", "--video", "vi250",
    "--period", "2023-12" }

  -- The shell command of the real program archiving into target.
  local function command(target, extra)
    local words = { "lua5.4", sh.quote(ROOT .. "/bin/apivideo-analytics"), "archive", "--db", sh.quote(target),
      "--base-url", sh.quote(srv.url) }
    for _, a in ipairs(ARGS) do words[#words + 1] = sh.quote(a) end
    for _, a in ipairs(extra or {}) do words[#words + 1] = sh.quote(a) end
    return "APIVIDEO_API_KEY=" .. KEY .. " " .. table.concat(words, " ")
  end
  -- Starts it in the background: its pid.
  local function spawn(target, extra, log)
    local p = io.popen(command(target, extra) .. " >" .. sh.quote(log or "/dev/null") .. " 2>&1 & echo $!")
    local pid = p:read("*l")
    p:close()
    return pid
  end
  local function alive(pid)
    local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
    return r == true or r == 0
  end
  local function wait_gone(pid)
    for _ = 1, 3000 do
      if not alive(pid) then return end
      socket.sleep(0.01)
    end
    error("process " .. pid .. " did not end")
  end

  for _, kind in ipairs({ "sqlite", "postgresql" }) do
    it("(" .. kind .. ") killed with SIGKILL at any moment, then run again, leaves the rows of an uninterrupted run",
      function()
      srv:idle_reset({ date = "clock", now = NOW, latency_ms = 8 })
      local ref = fresh(kind)
      local out, code = sh.run(command(ref))
      assert.are.equal(0, code, out)
      local want = dump(ref)
      assert.is_true(#want > 1500)
      local interrupted = 0
      for _, delay in ipairs({ 0.15, 0.3, 0.45, 0.6 }) do
        local t = fresh(kind)
        local pid = spawn(t)
        socket.sleep(delay)
        if alive(pid) then
          os.execute("kill -9 " .. pid)
          interrupted = interrupted + 1
        end
        wait_gone(pid)
        local partial = (kind == "postgresql" or sh.exists(t)) and pcall(dump, t) and #dump(t) or 0
        assert.is_true(partial <= #want)
        out, code = sh.run(command(t))
        assert.are.equal(0, code, out)
        assert.are.same(want, dump(t), "killed after " .. delay .. " s")
      end
      assert.is_true(interrupted >= 3, "only " .. interrupted .. " runs were still going when killed")
    end)

    it("(" .. kind .. ") two runs at once: the second waits for the first, no duplicate, no torn state", function()
      srv:idle_reset({ date = "clock", now = NOW, latency_ms = 5 })
      local ref = fresh(kind)
      assert.are.equal(0, select(2, sh.run(command(ref))))
      local want = dump(ref)
      local t = fresh(kind)
      local logs = { dir .. "/one.log", dir .. "/two.log" }
      local pids = { spawn(t, nil, logs[1]), spawn(t, nil, logs[2]) }
      for _, pid in ipairs(pids) do wait_gone(pid) end
      -- one did the work; the other, having waited for it, found nothing new
      local texts = { sh.read_file(logs[1]), sh.read_file(logs[2]) }
      if not texts[1]:find("already", 1, true) then texts[1], texts[2] = texts[2], texts[1] end
      assert.matches("^archived 5 streams %(1 already complete%) into .*: 4 requests, %d+ items fetched, 0 rows",
        texts[1])
      assert.matches("^archived 6 streams into .*, 19%d%d rows added or changed", texts[2])
      assert.are.same(want, dump(t))
      -- a third that will not wait: one line naming the target, exit 1
      srv:idle_reset({ date = "clock", now = NOW, latency_ms = 40 })
      local t2 = fresh(kind)
      local pid = spawn(t2)
      socket.sleep(0.4)
      assert.is_true(alive(pid))
      local text, code = sh.run(command(t2, { "--busy-timeout", "100" }))
      wait_gone(pid)
      assert.are.equal(1, code)
      assert.matches("^apivideo%-analytics: archive error: the archive [^\n]* is busy: another run still holds it "
        .. "after 0%.1 s\n$", text)
      assert.is_nil(text:find(PG.PASSWORD, 1, true))
    end)
  end

  it("prints one line; --dry-run prints the requests and makes no file", function()
    local t = dir .. "/dry.db"
    local code, out, err = run({ "archive", "--db", t, "--metrics", "play", "--breakdowns", "country", "--dry-run" })
    assert.are.equal(0, code, err)
    local lines = C.lines(out)
    assert.are.equal(2 + 29, #lines)
    assert.matches("^GET .*/data/metrics/play/count  %(sent: the API's clock", lines[1])
    assert.matches("^GET .*/data/timeseries/play%?from=2023%-12%-02T01", lines[2])
    assert.is_false(sh.exists(t))
    code, out, err = run({ "archive", "--db", t, "--metrics", "play", "--breakdowns", "country" })
    assert.are.equal(0, code, err)
    assert.are.equal("archived 2 streams into " .. t .. ": 37 requests, 893 items fetched, 893 rows added or changed"
      .. " (the API's time: " .. NOW .. ")\n", out)
  end)

  it("shows its progress in a terminal after each page: streams done of all, items so far", function()
    local t = fresh("sqlite")
    local code, out, err = run({ "archive", "--db", t, "--metrics", "play", "--breakdowns", "country" },
      { tty = true, interval = 0 })
    assert.are.equal(0, code, err)
    local fetched = tonumber(out:match(", (%d+) items fetched"))
    local updates, last_done, last_items = 0, 0, 0
    for line in err:gmatch("\r([^\r]*)") do
      local done, total, items = line:match("^archive: stream (%d+)/(%d+), (%d+) items")
      if done then
        updates = updates + 1
        done, total, items = tonumber(done), tonumber(total), tonumber(items)
        assert.are.equal(3, total) -- the time series, the breakdown, the titles
        assert.is_true(done >= last_done and items >= last_items, line)
        last_done, last_items = done, items
      end
    end
    -- 1 page of the series, 30 days of the breakdown (a page each), then the titles: one line a page
    assert.is_true(updates >= 31, updates .. " updates\n" .. err)
    assert.are.equal(3, last_done)
    assert.are.equal(fetched, last_items)
    assert.is_truthy(err:find("\r\27[K", 1, true)) -- cleared at the end
  end)

  it("summary --db: a window of the archive with the previous period; timeseries --db: its points", function()
    local t = dir .. "/read.db"
    assert.are.equal(0, (run({ "archive", "--db", t, "--metrics", "play,impression", "--breakdowns", "media-id" })))
    local a = assert(archive.open(t, { read_only = true }))
    local from, to = 1703980800 - 14 * 86400, 1703980800 -- 2023-12-17 .. 2023-12-31
    local w = a:window(from, to)
    local points = a:series("play", "hour", nil, to - 6 * 3600, to)
    a:close()
    local code, out, err = run({ "summary", "--db", t, "--from", "2023-12-17", "--to", "2023-12-31",
      "--format", "csv" })
    assert.are.equal(0, code, err)
    local _, rows = C.csv_records(out)
    assert.are.same({ "plays", tostring(w.figures.plays), tostring(w.previous.figures.plays) },
      { rows[1].figure, rows[1].value, rows[1].previous })
    assert.are.equal(string.format("%+.1f", (w.figures.plays - w.previous.figures.plays) / w.previous.figures.plays
      * 100), rows[1].change_pct)
    code, out = run({ "summary", "--db", t, "--from", "2023-12-17", "--to", "2023-12-31" }, { env = {} })
    assert.are.equal(0, code)
    assert.matches("Café tour: 250 sessions %(vi250%)", out) -- titles, not ids
    assert.matches("previous period: 2023%-12%-03T00:00:00Z to 2023%-12%-17T00:00:00Z", out)
    code, out = run({ "timeseries", "--db", t, "--metric", "play", "--from", "2023-12-30T18:00:00Z",
      "--to", "2023-12-31", "--format", "ndjson" })
    assert.are.equal(0, code)
    local got = {}
    for _, line in ipairs(C.lines(out)) do got[#got + 1] = require("cjson").decode(line) end
    assert.are.equal(6, #got)
    for i, p in ipairs(points) do
      assert.are.same({ p.emitted_at, p.metric_value }, { got[i].emitted_at, got[i].metric_value })
    end
    -- report --db: the same window drawn from the archive
    local html = dir .. "/r.html"
    -- (reading the archive asks the API nothing: no key needed)
    code, _, err = run({ "report", "--db", t, "--from", "2023-12-17", "--to", "2023-12-31", "--out", html },
      { env = {} })
    assert.are.equal(0, code, err)
    local page = assert(sh.read_file(html))
    assert.matches("plays %(from the archive%)", page)
    local plays = tostring(w.figures.plays):gsub("(%d)(%d%d%d)$", "%1\194\160%2") -- a no-break space
    assert.is_truthy(page:find('<dd class="q-plays">' .. plays .. "</dd>", 1, true), plays)
    -- beside it the previous period of equal length: its total, the change, its line faint in the chart
    local before = tostring(w.previous.figures.plays):gsub("(%d)(%d%d%d)$", "%1\194\160%2")
    local prev = page:match('<dd class="q%-previous">(.-)</dd>')
    assert.are.equal("2023-12-03 00:00 UTC to 2023-12-17 00:00 UTC: " .. before .. " plays (this period: "
      .. string.format("%+.1f", (w.figures.plays - w.previous.figures.plays) / w.previous.figures.plays * 100)
      .. " %)", prev)
    local chart = page:match('<figure id="over%-time%-figure">.-</figure>')
    assert.is_truthy(chart:find('class="line faint"', 1, true))
    assert.is_truthy(chart:find(">previous period</text>", 1, true))
    code, _, err = run({ "summary", "--db", dir .. "/none.db", "--last", "7d" })
    assert.are.equal(1, code)
    assert.matches("^apivideo%-analytics: archive error: no archive in .*none%.db yet", err)
  end)

  it("one line and exit 1 for a target it cannot use, never the password; usage errors before any request",
    function()
    local cases = {
      { { "archive", "--db", dir .. "/no/such/dir/x.db" }, 1,
        "cannot open the archive .*unable to open database file" },
      { { "archive", "--db", pg:url_with("wrong" .. PG.PASSWORD) }, 1,
        "cannot open the archive postgresql://archive@127%.0%.0%.1:%d+/archive: " },
      { { "archive", "--db", "postgresql://archive:" .. PG.PASSWORD .. "@127.0.0.1:1/archive" }, 1,
        "cannot open the archive postgresql://archive@127%.0%.0%.1:1/archive" },
      { { "archive", "--db", "mysql://a:" .. PG.PASSWORD .. "@h/d" }, 2, "bad %-%-db %(unknown scheme 'mysql://'" },
      { { "archive", "--db", dir .. "/u.db", "--metrics", "plays" }, 2, "bad %-%-metrics %(item 1 is 'plays'" },
      { { "archive", "--db", dir .. "/u.db", "--video", "vi250" }, 2, "'archive' needs %-%-period with %-%-video" },
      { { "archive", "--db", dir .. "/u.db", "--lag", "1y" }, 2, "bad %-%-lag %(a number and a unit" },
      { { "archive", "--db", dir .. "/u.db", "--interval", "minute" }, 2, "bad %-%-interval %('hour' or 'day'" },
      { { "archive", "--db", dir .. "/u.db", "--format", "csv" }, 2, "option %-%-format does not apply to 'archive'" },
      { { "summary", "--db", dir .. "/u.db", "--period", "2023" }, 2, "%-%-db reads a window of the archive" },
    }
    for _, case in ipairs(cases) do
      srv:reset({ date = "clock", now = NOW })
      local code, out, err = run(case[1])
      assert.are.equal(case[2], code, err)
      assert.are.equal("", out)
      assert.matches("^apivideo%-analytics: [^\n]*" .. case[3], err)
      if case[2] == 1 then assert.is_nil(err:find("\n.", 1, true)) end
      assert.is_nil(err:find("traceback", 1, true))
      if case[2] == 2 then assert.are.equal(0, #srv:requests("^/data/")) end
    end
  end)

  it("is the library's archive: the same rows as apivideo.archive's run", function()
    local t1, t2 = dir .. "/lib.db", dir .. "/cli.db"
    local c = apivideo.new({ api_key = KEY, base_url = srv.url })
    local a = assert(archive.open(t1))
    assert(a:run(c, { metrics = { "play", "impression" }, breakdowns = { "country", "browser" }, videos = { "vi250" },
      period = "2023-12" }))
    a:close()
    c:close()
    local argv = { "archive", "--db", t2 }
    for _, w in ipairs(ARGS) do argv[#argv + 1] = w end
    assert.are.equal(0, (run(argv)))
    assert.are.same(dump(t1), dump(t2))
  end)
end)
