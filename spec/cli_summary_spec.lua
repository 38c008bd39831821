-- apivideo-analytics summary: --no-events, and sessions whose events cannot be
-- fetched (left out, named on stderr, counted in the output; exit 1 only with
-- --strict). Faults come from the stand-in (POST /_standin/faults with match).
-- Expected figures come from the stand-in's contract (notes/standin-contract.md):
-- session i of vi250 has 3 + i%8 events; the figures are also computed from
-- the client's own iterators. Works on every Lua the suite runs under.
local cjson = require("cjson")
local clients = require("spec.support.clients")
local formats = require("apivideo.cli.formats")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local cli = require("apivideo.cli")
local model = require("spec.support.model")

local srv = S.shared()

local KEY = "CliSum-SeCrEt-4d0b6a13"

-- the indexes of vi250's sessions loaded in 2023-01 (the contract spreads them over 2023)
local JAN = model.indexes_in(250, model.T0, model.T0 + 31 * model.DAY_MS)

local events_of = model.events_of

local function total_events(except)
  local t = 0
  for _, i in ipairs(JAN) do
    if not (except and except[i]) then t = t + events_of(i) end
  end
  return t
end

local function sid(i) return model.session_id("vi250", i) end

local T0 = model.T0 -- 2023-01-01T00:00:00Z in ms
local JAN_END = T0 + 31 * model.DAY_MS
local loaded, count_in, iso_ms = model.loaded_ms, model.count_in, model.iso_ms
local csv_records = C.csv_records

local client = clients.builder({ api_key = KEY, base_url = srv.url })

-- The events of session sid, through the client's iterator.
local function iterator_events(c, sid_)
  local list = {}
  for e in c.analytics:session_events(sid_, { page_size = 100 }) do list[#list + 1] = e end
  return list
end

local run_cli = C.runner({ url = srv.url, key = KEY })

-- The summary of vi250 in 2023-01 (or argv0), with these arguments too.
-- streams_extra: more stream fields (stdout_tty, columns, env = {NAME = value}).
local function run(args, streams_extra, argv0)
  local argv = {}
  for i, a in ipairs(argv0 or { "summary", "--video", "vi250", "--period", "2023-01" }) do argv[i] = a end
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local streams, env = {}, nil
  for k, v in pairs(streams_extra or {}) do
    if k == "env" then env = v else streams[k] = v end
  end
  return run_cli(argv, { streams = streams, more_env = env })
end

local width, lines = C.width, C.lines

local function event_requests() return #srv:requests("/events$") end

describe("apivideo-analytics summary", function()
  before_each(function()
    srv:idle_reset({ api_key = KEY })
  end)
  teardown(function() srv:reset() end)

  it("counts every session's events (the baseline the cases below change)", function()
    local code, out, err = run({ "--format", "json" })
    assert.are.equal(0, code)
    assert.are.equal("", err)
    local got = cjson.decode(out)
    assert.are.equal(#JAN, got.sessions)
    assert.are.equal(total_events(), got.events.total)
    assert.is_true(got.events.fetched)
    assert.are.equal(#JAN, got.events.sessions_counted)
    assert.are.equal(0, got.events.sessions_left_out)
    assert.are.same({}, got.events.left_out)
    assert.are.same({}, got.metadata)
  end)

  describe("--no-events", function()
    it("sends no event request and says the events were not fetched, in every format", function()
      local code, out, err = run({ "--no-events", "--format", "json" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.are.equal(0, event_requests())
      assert.are.equal(1, srv:stats().api_requests) -- the one page of sessions
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.sessions)
      assert.are.equal(#JAN, got.duration_s.count)
      assert.is_false(got.events.fetched)
      assert.are.equal(cjson.null, got.events.total)
      assert.are.equal(cjson.null, got.events.by_type)

      code, out = run({ "--no-events", "--format", "csv" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\r\nevents,fetched,0\r\n", 1, true), out)
      assert.is_truthy(out:find("\r\nevents,total,\r\n", 1, true), out)
      assert.is_nil(out:find("\r\nevents,play,", 1, true))

      code, out = run({ "--no-events" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\nEvents: not fetched (--no-events)\n", 1, true), out)
      assert.is_nil(out:find("event_type", 1, true))
      assert.are.equal(0, event_requests())
    end)

    it("is refused by the other commands", function()
      local out, err = C.buffer(), C.buffer()
      local code = cli.main({ "sessions", "--video", "vi250", "--period", "2023", "--no-events" },
        { stdout = out, stderr = err, getenv = function() return KEY end })
      assert.are.equal(2, code)
      assert.is_truthy(err:text():find("option --no-events does not apply to 'sessions'", 1, true))
    end)
  end)

  describe("a session whose events cannot be fetched", function()
    local bad = JAN[3]

    it("is left out: named on stderr, the rest counted, the output says how many; exit 0", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0" })
      assert.are.equal(0, code, err)
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.sessions) -- the session itself still counts
      assert.are.equal(total_events({ [bad] = true }), got.events.total)
      assert.are.equal(#JAN - 1, got.events.sessions_counted)
      assert.are.equal(1, got.events.sessions_left_out)
      assert.are.same({ sid(bad) }, got.events.left_out)
      local ls = lines(err)
      assert.are.equal(2, #ls, err)
      assert.is_truthy(ls[1]:find("^apivideo%-analytics: left out the events of session " .. sid(bad) .. ": "), err)
      assert.is_truthy(ls[1]:find("/analytics/sessions/" .. sid(bad) .. "/events", 1, true), err)
      assert.are.equal("apivideo-analytics: the events of 1 of " .. #JAN .. " sessions were left out", ls[2])
    end)

    it("a session failing on a later page of its events counts none of them", function()
      -- page size 2: session `bad` has 3 + bad%8 events, so more than one page; the second fails
      assert.is_true(events_of(bad) > 2)
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "500", skip = 1, count = -1 } })
      local code, out = run({ "--format", "json", "--max-retries", "0", "--page-size", "2", "--concurrency", "1" })
      assert.are.equal(0, code)
      local got = cjson.decode(out)
      assert.are.equal(total_events({ [bad] = true }), got.events.total)
      assert.are.same({ sid(bad) }, got.events.left_out)
    end)

    it("with --strict: the same output and stderr, exit 1", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code1, out1, err1 = run({ "--format", "csv", "--max-retries", "0" })
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code2, out2, err2 = run({ "--format", "csv", "--max-retries", "0", "--strict" })
      assert.are.equal(0, code1)
      assert.are.equal(1, code2)
      assert.are.equal(out1, out2)
      assert.are.equal(err1, err2)
      assert.is_truthy(out2:find("\r\nevents,sessions_left_out,1\r\n", 1, true), out2)
      assert.is_truthy(out2:find("\r\nevents,total," .. total_events({ [bad] = true }) .. "\r\n", 1, true))
    end)

    it("the table says how many were left out", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code, out = run({ "--max-retries", "0" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\nEvents of 1 of " .. #JAN .. " sessions left out", 1, true), out)
    end)

    it("when no session's events could be fetched there is nothing to summarize: exit 1", function()
      srv:faults({ { match = "/events", kind = "invalid_json", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0" })
      assert.are.equal(1, code)
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.events.sessions_left_out)
      assert.are.equal(0, got.events.sessions_counted)
      assert.are.equal(#JAN + 1, #lines(err))
    end)

    it("a refused key still ends the command (it cannot heal for the next session)", function()
      srv:faults({ { match = "/analytics/sessions/", kind = "401", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0", "--auth", "basic" })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal(1, #lines(err), err)
    end)
  end)

  describe("in a terminal", function()
    it("draws the breakdowns and event types as bars as wide as the terminal; the figures are the same", function()
      local code, plain = run({})
      assert.are.equal(0, code)
      assert.is_nil(plain:find("\226\150", 1, true)) -- no block element (U+2580..) when stdout is not a terminal
      local code2, bars = run({}, { stdout_tty = true, columns = 60 })
      assert.are.equal(0, code2)
      assert.is_truthy(bars:find("█", 1, true), bars)
      assert.is_truthy(bars:find("\ncountry (sessions)\n", 1, true), bars)
      assert.is_truthy(bars:find("\nevent_type (events)\n", 1, true), bars)
      for _, l in ipairs(lines(bars)) do assert.is_true(width(l) <= 60, l) end
      -- the same counts: every "label  N" row of the plain country table is a bar row with N
      local in_country = false
      local n = 0
      for _, l in ipairs(lines(plain)) do
        if l:find("^country ") then in_country = true
        elseif l == "" then in_country = false
        elseif in_country and not l:find("^%-") then
          local label, count = l:match("^(.-)%s+(%d+)$")
          local row = bars:match("\n(" .. label:gsub("%W", "%%%0") .. "%s[^\n]*)\n")
          assert.is_truthy(row, label)
          assert.is_truthy(row:find("%s" .. count .. "%s+[%d.]+%%$"), row)
          n = n + 1
        end
      end
      assert.is_true(n >= 3)
      -- durations stay a table
      assert.is_truthy(bars:find("\nduration_s  value\n", 1, true), bars)
    end)

    it("takes the width from $COLUMNS when no width is given", function()
      local code, out = run({ "--no-events" }, { stdout_tty = true, env = { COLUMNS = "44" } })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("█", 1, true))
      local widest = 0
      for _, l in ipairs(lines(out)) do
        if l:find("█", 1, true) then widest = math.max(widest, width(l)) end
      end
      assert.is_true(widest <= 44 and widest >= 36, tostring(widest))
    end)

    it("csv, ndjson and json are the same as in a pipe", function()
      for _, fmt in ipairs({ "csv", "ndjson", "json" }) do
        local _, a = run({ "--format", fmt, "--no-events" })
        local _, b = run({ "--format", fmt, "--no-events" }, { stdout_tty = true, columns = 80 })
        assert.are.equal(a, b)
      end
    end)
  end)

  describe("--from/--to or --last (no --period): the /data operations", function()
    local FROM_ATOM, TO_ATOM = "2023-12-05T00:00:00+00:00", "2023-12-20T00:00:00+00:00"
    local function expected(filter)
      local c = require("apivideo").new({ api_key = KEY, base_url = srv.url, auth = "basic" })
      local opts = { from = FROM_ATOM, to = TO_ATOM, filter_by = filter }
      local e = { breakdowns = {} }
      for _, f in ipairs({ { "plays", "play", "count" }, { "impressions", "impression", "count" },
        { "play_rate", "play", "rate" }, { "ends", "end", "count" }, { "watch_sum", "watch-time", "sum" },
        { "watch_average", "watch-time", "average" } }) do
        e[f[1]] = assert(c.analytics:get_aggregated_metrics(f[2], f[3], opts)).data
      end
      for _, b in ipairs({ { "country", "country" }, { "device_type", "device-type" },
        { "os", "operating-system" }, { "browser", "browser" }, { "referrer", "referrer" },
        { "media_id", "media-id" } }) do
        local t = {}
        for item in c.analytics:metrics_breakdown("play", b[2], opts) do t[item.dimension_value] = item.metric_value end
        e.breakdowns[b[1]] = t
      end
      c:close()
      srv:idle_reset()
      srv:config({ api_key = KEY })
      return e
    end

    it("the whole account: plays, impressions, rate, ends, watch time and plays by dimension", function()
      local e = expected(nil)
      local code, out, err = run({ "--from", "2023-12-05", "--to", "2023-12-20", "--format", "json" }, nil,
        { "summary" })
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      local got = cjson.decode(out)
      assert.are.equal(cjson.null, got.video_id)
      assert.are.equal(FROM_ATOM, got.from)
      assert.are.equal(TO_ATOM, got.to)
      assert.are.equal(e.plays, got.plays)
      assert.are.equal(e.impressions, got.impressions)
      assert.is_true(math.abs(e.play_rate - got.play_rate) < 0.001)
      assert.are.equal(e.ends, got.ends)
      assert.are.equal(e.watch_sum, got.watch_time_s.sum)
      assert.is_true(math.abs(e.watch_average - got.watch_time_s.average) < 0.001)
      for _, k in ipairs({ "country", "device_type", "os", "browser", "referrer", "media_id" }) do
        assert.are.same(e.breakdowns[k], got[k], k)
      end
      local n = 0
      for _, v in pairs(got.country) do n = n + v end
      assert.are.equal(got.plays, n)
      -- a few requests, none of them a session or event list
      local data, other = 0, 0
      for _, entry in ipairs(srv:log()) do
        if entry.path:find("^/data/") then data = data + 1
        elseif not entry.path:find("^/auth/") then other = other + 1 end
      end
      assert.are.equal(0, other)
      assert.is_true(data >= 12 and data <= 14, tostring(data))
      assert.is_true(got.plays > 10 * data) -- what walking every session would have cost
    end)

    it("--video ID is filterBy media_id on every request; csv rows; no media_id breakdown", function()
      local e = expected({ media_id = { "vi250" } })
      local code, out, err = run({ "--from", "2023-12-05", "--to", "2023-12-20", "--format", "csv" }, nil,
        { "summary", "--video", "vi250" })
      assert.are.equal(0, code, err)
      local rows = lines((out:gsub("\r\n", "\n")))
      assert.are.equal("metric,key,value", rows[1])
      assert.are.equal("plays,total," .. e.plays, rows[2])
      assert.are.equal("impressions,total," .. e.impressions, rows[3])
      assert.are.equal("ends,total," .. e.ends, rows[5])
      local countries = 0
      for _, r in ipairs(rows) do
        assert.is_nil(r:find("^media_id,"), r)
        local v = r:match("^country,%u%u,(%d+)$")
        if v then countries = countries + tonumber(v) end
      end
      assert.are.equal(e.plays, countries)
      local n = 0
      for _, entry in ipairs(srv:log()) do
        if entry.path:find("^/data/") then
          local ids = entry.args["filterBy[mediaId][]"]
          assert.are.same({ "vi250" }, type(ids) == "table" and ids or { ids }, entry.uri)
          n = n + 1
        end
      end
      assert.is_true(n >= 11)
    end)

    it("--last 7d ends at now; the table says what it is; a terminal gets bars", function()
      local code, out, err = run({ "--last", "7d" }, { now = function() return 1704067200 end,
        stdout_tty = true, columns = 70 }, { "summary" })
      assert.are.equal(0, code, err)
      assert.is_truthy(out:find("^Summary of the account, 2023%-12%-25T00:00:00%+00:00 to "
        .. "2024%-01%-01T00:00:00%+00:00 %(the /data operations%): [%d ]+ plays\n"), out)
      assert.is_truthy(out:find("\ncountry (plays)\n", 1, true), out)
      assert.is_truthy(out:find("█", 1, true))
      for _, entry in ipairs(srv:log()) do
        if entry.path:find("^/data/") then assert.are.equal("2023-12-25T00:00:00+00:00", entry.args.from) end
      end
    end)

    it("a window without data says so in the table, instead of six empty tables; json keeps its zeros", function()
      local code, out, err = run({ "--from", "2023-12-05", "--to", "2023-12-20" }, nil,
        { "summary", "--video", "viEmpty" })
      assert.are.equal(0, code, err)
      assert.is_truthy(out:find("^Summary of media viEmpty, 2023%-12%-05T00:00:00%+00:00 to "
        .. "2023%-12%-20T00:00:00%+00:00 %(the /data operations%): 0 plays\n\nno data in this window\n$"), out)
      code, out = run({ "--from", "2023-12-05", "--to", "2023-12-20", "--format", "json" }, nil,
        { "summary", "--video", "viEmpty" })
      assert.are.equal(0, code)
      assert.are.equal(0, cjson.decode(out).plays)
      code, out = run({ "--from", "2023-12-05", "--to", "2023-12-20" }, nil, { "summary", "--video", "vi250" })
      assert.are.equal(0, code)
      assert.is_nil(out:find("no data", 1, true), out)
      assert.is_truthy(out:find("\ncountry  plays\n", 1, true), out)
    end)

    it("--metadata, --no-events and --strict need the sessions walk: usage errors", function()
      for _, flag in ipairs({ { "--metadata", "plan=pro" }, { "--no-events" }, { "--strict" } }) do
        local args = { "--from", "2023-12-05" }
        for _, a in ipairs(flag) do args[#args + 1] = a end
        local code, out, err = run(args, nil, { "summary" })
        assert.are.equal(2, code)
        assert.are.equal("", out)
        assert.are.equal("apivideo-analytics: option " .. flag[1] .. " does not apply to 'summary' with "
          .. "--from/--to/--last (the /data operations have no sessions, events or metadata)",
          err:match("^([^\n]*)\n"))
      end
      assert.are.equal(0, srv:stats().requests)
    end)
  end)

  describe("the figures, against the client's own iterators", function()
    -- the figures, computed here from the client's iterators
    local function expected_summary(id, period, metadata)
      local c = client()
      local exp = {
        sessions = 0, country = {}, device_type = {}, os = {}, browser = {}, referrer_medium = {},
        events = {}, events_total = 0,
      }
      local durations = {}
      local function inc(t, k) t[k] = (t[k] or 0) + 1 end
      for s in c.analytics:video_sessions(id, { period = period, metadata = metadata }) do
        exp.sessions = exp.sessions + 1
        inc(exp.country, s.location.country)
        inc(exp.device_type, s.device.type)
        inc(exp.os, s.os.name)
        inc(exp.browser, s.client.name)
        inc(exp.referrer_medium, s.referrer.medium)
        durations[#durations + 1] = (iso_ms(s.session.ended_at) - iso_ms(s.session.loaded_at)) / 1000
        for _, e in ipairs(iterator_events(c, s.session.session_id)) do
          inc(exp.events, e.type)
          exp.events_total = exp.events_total + 1
        end
      end
      c:close()
      table.sort(durations)
      local n, sum = #durations, 0
      for _, d in ipairs(durations) do sum = sum + d end
      exp.count, exp.mean = n, sum / n
      exp.median = n % 2 == 1 and durations[(n + 1) / 2] or (durations[n / 2] + durations[n / 2 + 1]) / 2
      exp.p90 = durations[math.ceil(n * 9 / 10)] -- nearest rank
      return exp
    end

    local exp
    setup(function()
      srv:reset({ api_key = KEY })
      exp = expected_summary("vi250", "2023-01")
    end)

    it("--format json: counts by country, device, OS, browser, medium; durations; events by type", function()
      assert.are.equal(count_in(250, T0, JAN_END), exp.sessions)
      local code, out, err = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local got = cjson.decode(out)
      assert.are.equal("vi250", got.video_id)
      assert.are.equal("2023-01", got.period)
      assert.are.equal(exp.sessions, got.sessions)
      for _, g in ipairs({ "country", "device_type", "os", "browser", "referrer_medium" }) do
        assert.are.same(exp[g], got[g], g)
      end
      assert.are.equal(exp.count, got.duration_s.count)
      assert.is_true(math.abs(exp.median - got.duration_s.median) < 0.0005)
      assert.is_true(math.abs(exp.mean - got.duration_s.mean) < 0.0005)
      assert.is_true(math.abs(exp.p90 - got.duration_s.p90) < 0.0005)
      assert.are.same(exp.events, got.events.by_type)
      assert.are.equal(exp.events_total, got.events.total)
      -- the contract: session i has 3 + i%8 events
      local total = 0
      for i = 1, 250 do
        if loaded(250, i) < JAN_END then total = total + 3 + i % 8 end
      end
      assert.are.equal(total, got.events.total)
    end)

    it("--format csv and ndjson carry the same figures as metric,key,value rows", function()
      local code, out = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "csv" })
      assert.are.equal(0, code)
      local header, recs = csv_records(out)
      assert.are.same({ "metric", "key", "value" }, header)
      local code2, out2 = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "ndjson" })
      assert.are.equal(0, code2)
      local nd = lines(out2)
      assert.are.equal(#recs, #nd)
      local seen = {}
      for k, r in ipairs(recs) do
        local o = cjson.decode(nd[k])
        assert.are.equal(r.metric, o.metric)
        assert.are.equal(r.key, o.key)
        assert.are.equal(tonumber(r.value), o.value)
        seen[r.metric] = seen[r.metric] or {}
        seen[r.metric][r.key] = tonumber(r.value)
      end
      assert.are.equal(exp.sessions, seen.sessions.total)
      for _, g in ipairs({ "country", "device_type", "os", "browser", "referrer_medium" }) do
        assert.are.same(exp[g], seen[g], g)
      end
      for k, v in pairs(exp.events) do assert.are.equal(v, seen.events[k], k) end
      assert.are.equal(exp.events_total, seen.events.total)
      assert.are.equal(exp.count, seen.duration_s.count)
      assert.is_true(math.abs(exp.mean - seen.duration_s.mean) < 0.0005)
      assert.is_true(math.abs(exp.median - seen.duration_s.median) < 0.0005)
      assert.is_true(math.abs(exp.p90 - seen.duration_s.p90) < 0.0005)
    end)

    it("--format table: a title line and one section per figure", function()
      local code, out, err = run_cli({ "summary", "--video", "vi250", "--period", "2023-01" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local ls = lines(out)
      assert.are.equal(("Summary of video vi250, period 2023-01: %d sessions"):format(exp.sessions), ls[1])
      for country, n in pairs(exp.country) do
        local pat = "\n" .. country:gsub("%p", "%%%0") .. " +" .. n .. "\n"
        assert.is_truthy(out:find(pat), country)
      end
      assert.is_truthy(out:find("\nevent_type +events\n", 1))
      assert.is_truthy(out:find("\ntotal +" .. exp.events_total .. "\n", 1))
      assert.is_truthy(out:find("\np90 +" .. formats.number_text(exp.p90) .. "\n", 1))
    end)

    it("--metadata narrows the sessions summarized", function()
      local code, out = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
        "--metadata", "tag=café au lait" })
      assert.are.equal(0, code)
      local got = cjson.decode(out)
      local n = 0
      for i = 1, 250 do
        if i % 11 == 0 and loaded(250, i) < JAN_END then n = n + 1 end
      end
      assert.are.equal(n, got.sessions)
      assert.are.equal(n, got.duration_s.count)
    end)

    it("walks the events of up to --concurrency sessions at once", function()
      srv:config({ latency_ms = 30 })
      local code, out = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
        "--concurrency", "4" })
      assert.are.equal(0, code)
      assert.are.equal(exp.events_total, cjson.decode(out).events.total)
      local st = srv:stats()
      assert.are.equal(1 + exp.sessions, st.api_requests) -- one page of sessions, one page per session
      assert.is_true(st.max_in_flight >= 2, "several sessions at once: " .. st.max_in_flight)
      assert.is_true(st.max_in_flight <= 4, "never more than --concurrency: " .. st.max_in_flight)
    end)

    it("--concurrency 1 walks one session at a time", function()
      srv:config({ latency_ms = 10 })
      local code, out = run_cli({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
        "--concurrency", "1" })
      assert.are.equal(0, code)
      assert.are.equal(exp.events_total, cjson.decode(out).events.total)
      assert.are.equal(1, srv:stats().max_in_flight)
    end)

    it("of an empty video, as a table: the title line and 'no sessions in this period', no empty tables", function()
      local code, out = run_cli({ "summary", "--video", "viEmpty", "--period", "2023" })
      assert.are.equal(0, code)
      assert.are.equal("Summary of video viEmpty, period 2023: 0 sessions\n\nno sessions in this period\n", out)
      code, out = run_cli({ "summary", "--video", "vi250", "--period", "2023-01" })
      assert.are.equal(0, code)
      assert.is_nil(out:find("no sessions", 1, true), out)
    end)

    it("of an empty video: zero counts and null durations", function()
      local code, out = run_cli({ "summary", "--video", "viEmpty", "--period", "2023", "--format", "json" })
      assert.are.equal(0, code)
      local got = cjson.decode(out)
      assert.are.equal(0, got.sessions)
      assert.are.equal(0, got.duration_s.count)
      assert.are.equal(cjson.null, got.duration_s.median)
      assert.are.equal(0, got.events.total)
    end)
  end)

end)
