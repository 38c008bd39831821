-- apivideo-analytics --tz ZONE: the dates of --from/--to are midnights in
-- the zone (what is sent is read from the stand-in's request log), tables
-- and csv print the API's times in it, ndjson and json keep the API's text,
-- --period goes out as written; a bad zone is a usage error before any
-- request. The stand-in's clock is 2024-01-01T00:00:00Z (windows in
-- December 2023: Paris is at +01:00, New York at -05:00, Kolkata at +05:30).
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local cli_args = require("apivideo.cli.args")
local apivideo = require("apivideo")

local srv = S.shared()

local KEY = "CliTz-SeCrEt-5b0c9e41"

local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })
local usage_fails = C.usage_fails(run, srv)
local lines = C.lines

local function data_entries() return srv:requests("^/data/") end

-- "+01:00" -> 3600
local function offset_of(stamp)
  local sign, h, m = stamp:match("([+-])(%d%d):(%d%d)$")
  return (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "-" and -1 or 1)
end

describe("apivideo-analytics --tz", function()
  before_each(function() srv:idle_reset({ api_key = KEY }) end)
  teardown(function() srv:reset() end)

  it("a date of --from/--to is its midnight in the zone: sent as that instant in UTC, echoed in the zone", function()
    local base = { "metrics", "--metric", "play", "--aggregation", "count", "--from", "2023-12-05", "--to",
      "2023-12-06", "--format", "csv" }
    local code, utc_out, err = run(base)
    assert.are.equal(0, code, err)
    local sent = data_entries()[1].args
    assert.are.equal("2023-12-05T00:00:00+00:00", sent.from)
    assert.are.equal("2023-12-06T00:00:00+00:00", sent.to)
    srv:idle_reset({ api_key = KEY })
    local zoned = { "--tz", "Europe/Paris" }
    for _, a in ipairs(base) do zoned[#zoned + 1] = a end
    local out
    code, out, err = run(zoned)
    assert.are.equal(0, code, err)
    sent = data_entries()[1].args
    assert.are.equal("2023-12-04T23:00:00+00:00", sent.from)
    assert.are.equal("2023-12-05T23:00:00+00:00", sent.to)
    local _, recs = C.csv_records(out)
    local row = recs[1]
    assert.are.equal("2023-12-05T00:00:00+01:00", row.from)
    assert.are.equal("2023-12-06T00:00:00+01:00", row.to)
    local _, utc_recs = C.csv_records(utc_out)
    assert.are.equal("2023-12-05T00:00:00+00:00", utc_recs[1].from) -- without --tz: the API's echo
    -- and an RFC 3339 time without an offset is read in the zone; one with an offset is not moved
    srv:idle_reset({ api_key = KEY })
    code, _, err = run({ "metrics", "--metric", "play", "--aggregation", "count", "--tz", "Asia/Kolkata",
      "--from", "2023-12-05T12:00:00", "--to", "2023-12-06T00:00:00Z" })
    assert.are.equal(0, code, err)
    sent = data_entries()[1].args
    assert.are.equal("2023-12-05T06:30:00+00:00", sent.from)
    assert.are.equal("2023-12-06T00:00:00+00:00", sent.to)
  end)

  it("a day across a DST change is 23 or 25 hours long in the zone", function()
    local function window(from, to)
      local o = cli_args.parse({ "metrics", "--metric", "play", "--aggregation", "count", "--from", from,
        "--to", to, "--tz", "Europe/Paris" })
      return o.from, o.to
    end
    local from, to = window("2023-03-26", "2023-03-27")
    assert.are.equal(1679785200, from) -- 2023-03-25T23:00:00Z
    assert.are.equal(23 * 3600, to - from)
    from, to = window("2023-10-29", "2023-10-30")
    assert.are.equal(1698530400, from) -- 2023-10-28T22:00:00Z
    assert.are.equal(25 * 3600, to - from)
  end)

  it("timeseries: csv and table print emitted_at in the zone; ndjson keeps the API's text", function()
    local base = { "timeseries", "--metric", "play", "--from", "2023-12-05", "--to", "2023-12-07",
      "--interval", "day", "--tz", "America/New_York" }
    local function with(fmt)
      local a = {}
      for _, x in ipairs(base) do a[#a + 1] = x end
      a[#a + 1] = "--format"
      a[#a + 1] = fmt
      local code, out, err = run(a)
      assert.are.equal(0, code, err)
      return out
    end
    local raw = {}
    for i, l in ipairs(lines(with("ndjson"))) do raw[i] = cjson.decode(l) end
    assert.is_true(#raw > 0)
    local _, rows = C.csv_records(with("csv"))
    assert.are.equal(#raw, #rows)
    for i, r in ipairs(rows) do
      assert.are.equal(apivideo.parse_time(raw[i].emitted_at), apivideo.parse_time(r.emitted_at))
      assert.are.equal(-5 * 3600, offset_of(r.emitted_at))
      assert.is_nil(raw[i].emitted_at:find("-05:00", 1, true))
    end
    -- the first day's bucket starts at the zone's midnight: sent as 05:00Z
    assert.are.equal("2023-12-05T05:00:00+00:00", data_entries()[1].args.from)
    local table_out = with("table")
    assert.is_truthy(table_out:find(rows[1].emitted_at, 1, true), table_out)
  end)

  it("sessions: --period goes out as written; loaded_at and ended_at are printed in the zone", function()
    local base = { "sessions", "--video", "vi250", "--period", "2023-01", "--format" }
    local function with(fmt, tz)
      local a = {}
      for _, x in ipairs(base) do a[#a + 1] = x end
      a[#a + 1] = fmt
      if tz then
        a[#a + 1] = "--tz"
        a[#a + 1] = tz
      end
      local code, out, err = run(a)
      assert.are.equal(0, code, err)
      return out
    end
    local plain = with("ndjson")
    assert.are.equal(plain, with("ndjson", "+05:30"))
    for _, e in ipairs(srv:requests("^/analytics/")) do assert.are.equal("2023-01", e.args.period) end
    local raw = {}
    for i, l in ipairs(lines(plain)) do raw[i] = cjson.decode(l).session end
    assert.is_true(#raw > 0)
    local _, rows = C.csv_records(with("csv", "+05:30"))
    assert.are.equal(#raw, #rows)
    for i, r in ipairs(rows) do
      assert.are.equal(apivideo.parse_time(raw[i].loaded_at), apivideo.parse_time(r.loaded_at))
      assert.are.equal(19800, offset_of(r.loaded_at))
      if raw[i].ended_at then assert.are.equal(19800, offset_of(r.ended_at)) end
      -- the fraction the API sent stays
      local frac = raw[i].loaded_at:match("%d%d:%d%d:%d%d(%.%d+)")
      if frac then assert.is_truthy(r.loaded_at:find(frac, 1, true)) end
    end
    -- without --tz, csv is the API's text
    local _, utc_rows = C.csv_records(with("csv"))
    assert.are.equal(raw[1].loaded_at, utc_rows[1].loaded_at)
    -- and the events of a session: emitted_at in the zone
    local code, out, err = run({ "events", "--session", raw[1].session_id, "--format", "csv", "--tz", "-03:00" })
    assert.are.equal(0, code, err)
    local _, events = C.csv_records(out)
    assert.is_true(#events > 0)
    for _, e in ipairs(events) do assert.are.equal(-3 * 3600, offset_of(e.emitted_at)) end
  end)

  it("summary of a window: the header's window is in the zone", function()
    local code, out, err = run({ "summary", "--from", "2023-12-05", "--to", "2023-12-06", "--tz", "Europe/Paris" })
    assert.are.equal(0, code, err)
    assert.is_truthy(out:find("2023-12-05T00:00:00+01:00 to 2023-12-06T00:00:00+01:00", 1, true), out)
  end)

  it("report: the window, the over-time axis and the footer are in the zone; a period's days start at its midnights",
    function()
      local path = os.tmpname()
      local function html(args)
        local a = {}
        for _, x in ipairs(args) do a[#a + 1] = x end
        a[#a + 1] = "--out"
        a[#a + 1] = path
        local code, out, err = run(a, { streams = { now = function() return 1704067200 end } })
        assert.are.equal(0, code, err)
        assert.are.equal(path .. "\n", out)
        local f = assert(io.open(path, "rb"))
        local text = f:read("*a")
        f:close()
        return text
      end
      local window = { "report", "--from", "2023-12-05", "--to", "2023-12-08" }
      local utc = html(window)
      assert.is_truthy(utc:find("2023-12-05 00:00 UTC to 2023-12-08 00:00 UTC", 1, true))
      assert.is_nil(utc:find("Europe/Paris", 1, true))
      window[#window + 1] = "--tz"
      window[#window + 1] = "Europe/Paris"
      local paris = html(window)
      assert.is_truthy(paris:find("2023-12-05 00:00 Europe/Paris (+01:00) to 2023-12-08 00:00 Europe/Paris (+01:00)", 1,
        true))
      assert.is_truthy(paris:find("Generated</dt><dd class=\"q-generated\">2024-01-01 01:00 Europe/Paris (+01:00)", 1,
        true), paris:match("Generated.-</dd>"))
      assert.is_truthy(paris:find("over time, per [a-z]+ %(Europe/Paris%)"))
      assert.is_truthy(paris:find("Time (Europe/Paris)", 1, true))
      assert.is_truthy(paris:find("Times are in Europe/Paris.", 1, true))
      assert.is_nil(paris:find("(UTC)", 1, true))
      local period = html({ "report", "--video", "vi250", "--period", "2023-01", "--no-events", "--tz",
        "Europe/Paris" })
      assert.is_truthy(period:find("2023-01 (2023-01-01 00:00 Europe/Paris (+01:00) to 2023-02-01 00:00 "
        .. "Europe/Paris (+01:00))", 1, true))
      for _, e in ipairs(srv:requests("^/analytics/")) do assert.are.equal("2023-01", e.args.period) end
      os.remove(path)
    end)

  it("a bad zone is a usage error naming --tz and the zone, before any request", function()
    local base = { "metrics", "--metric", "play", "--aggregation", "count", "--last", "1d", "--tz" }
    local function fails(zone, message)
      local a = {}
      for _, x in ipairs(base) do a[#a + 1] = x end
      a[#a + 1] = zone
      usage_fails(a, "bad --tz (" .. message .. ")")
    end
    fails("Mars/Olympus_Mons", "no time zone 'Mars/Olympus_Mons' in /usr/share/zoneinfo (UTC, an offset such as "
      .. "+02:00 or -05:30, or an IANA name such as Europe/Paris)")
    fails("+15:00", "the offset '+15:00' is out of range (-12:00 to +14:00, minutes 00-59)")
    fails("../../etc/passwd", "'../../etc/passwd' is not a zone name (UTC, an offset such as +02:00 or -05:30, or "
      .. "an IANA name such as Europe/Paris; no absolute path, no '..')")
    fails("/etc/passwd", "'/etc/passwd' is not a zone name (UTC, an offset such as +02:00 or -05:30, or an IANA "
      .. "name such as Europe/Paris; no absolute path, no '..')")
    usage_fails({ "archive", "--db", "/nonexistent/x.db", "--tz", "UTC" }, "option --tz does not apply to 'archive'")
    usage_fails({ "timeseries", "--metric", "play", "--db", "/nonexistent/x.db", "--last", "1d", "--tz", "UTC" },
      "--tz does not apply to 'timeseries' with --db (what it prints of the archive is in UTC)")
  end)

  it("the help says what --tz does and that the API does not document its period's time zone", function()
    local code, out = run({ "--help" })
    assert.are.equal(0, code)
    assert.is_truthy(out:find("\n  --tz ZONE ", 1, true))
    local flat = out:gsub("\n", " ")
    local said = "The default is UTC: api.video does not document in which time zone a period's days begin."
    assert.is_truthy(flat:find(said, 1, true), out)
    assert.is_truthy(flat:find("a --period is still sent as written", 1, true))
    code, out = run({ "sessions", "--help" })
    assert.are.equal(0, code)
    assert.is_truthy(out:find("with --tz ZONE, table and csv print them in ZONE", 1, true))
  end)
end)
