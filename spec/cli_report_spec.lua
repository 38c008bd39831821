-- apivideo-analytics report: the data table it builds for apivideo.report
-- (captured by wrapping report.html, which still renders it) and the file it
-- writes, in both modes, against the stand-in. Expected figures come from
-- the library's own iterators and operations, called here, and from the
-- stand-in's contract (notes/standin-contract.md). The page itself (charts,
-- escaping, Chromium) is report_spec's. Works on every Lua the suite runs
-- under (no 5.3+ syntax).
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local shell = require("spec.support.shell")

local srv = S.shared()

local KEY = "CliRep-SeCrEt-6a0c94b2"
local DAY = 86400
local JAN_FROM, JAN_TO = 1672531200, 1675209600 -- 2023-01-01, 2023-02-01 UTC
local FROM, TO = "2023-12-05", "2023-12-20"
local FROM_ATOM, TO_ATOM = "2023-12-05T00:00:00+00:00", "2023-12-20T00:00:00+00:00"
local FROM_S, TO_S = 1701734400, 1703030400

local tmpdir = shell.tmpdir

local read = shell.read_file

local dir
local last = C.capture_reports() -- the latest report's data and page

local run_cli = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

-- Runs cli.main; returns code, stdout, stderr.
local function run(args, streams_extra)
  last.clear()
  return run_cli(args, { streams = streams_extra })
end

local function entries(prefix) return srv:requests("^" .. prefix:gsub("%p", "%%%0")) end

local function fresh()
  srv:idle_reset()
  srv:config({ api_key = KEY })
end

local function client()
  return apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic" })
end

local function sum(rows)
  local n = 0
  for _, r in ipairs(rows) do n = n + r.value end
  return n
end

-- The funnel and event counts of sessions, from the library's own iterators.
local function expected_events(c, ids)
  local steps = { ready = "ready", play = "play", pause = "pause_or_seek", ["seek.forward"] = "pause_or_seek",
    ["seek.backward"] = "pause_or_seek", ["end"] = "end" }
  local funnel, total, lists = { ready = 0, play = 0, pause_or_seek = 0, ["end"] = 0 }, 0, {}
  for _, id in ipairs(ids) do
    local seen, list = {}, {}
    lists[#lists + 1] = list
    for e in c.analytics:session_events(id) do
      list[#list + 1] = e
      total = total + 1
      if steps[e.type] then seen[steps[e.type]] = true end
    end
    for k in pairs(seen) do funnel[k] = funnel[k] + 1 end
  end
  return funnel, total, lists
end

local as_list = C.as_list

describe("apivideo-analytics report", function()
  setup(function()
    dir = tmpdir()
    last.install()
  end)
  teardown(function()
    last.restore()
    os.execute("rm -rf '" .. dir .. "'")
    srv:reset()
  end)
  before_each(fresh)

  describe("--video ID --period P: the sessions walk", function()
    it("writes the report of the sessions and their events and prints its path", function()
      local c = client()
      local sessions = {}
      for s in c.analytics:video_sessions("vi250", { period = "2023-01" }) do sessions[#sessions + 1] = s end
      local ids = {}
      for i, s in ipairs(sessions) do ids[i] = s.session.session_id end
      local funnel, events, lists = expected_events(c, ids)
      c:close()
      fresh()
      assert.is_true(#sessions > 10)
      local path = dir .. "/video.html"
      local code, out, err = run({ "report", "--video", "vi250", "--period", "2023-01", "--out", path },
        { now = function() return 1704067200 end })
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      assert.are.equal(path .. "\n", out)
      assert.are.equal(last.html, read(path))
      assert.is_nil(read(path .. ".tmp"))
      local d = last.data
      assert.are.same({ kind = "video", id = "vi250" }, d.media)
      assert.are.equal("2023-01", d.period)
      assert.are.equal(JAN_FROM, d.from)
      assert.are.equal(JAN_TO, d.to)
      assert.are.equal(1704067200, d.generated_at)
      assert.are.equal(#sessions, d.sessions)
      assert.are.equal(events, d.events)
      assert.are.equal("sessions", d.metric)
      assert.are.same(funnel, d.funnel)
      assert.are.equal(events, sum(d.event_types))
      -- audience retention from every session's events, in the order they were emitted
      assert.are.same(require("apivideo.chart.stats").retention(lists), d.retention)
      assert.are.equal(#sessions, d.retention.sessions) -- every session of the stand-in plays
      assert.is_true(#d.retention.steps > 2)
      assert.is_truthy(last.html:find('<figure id="retention-figure">', 1, true))
      assert.are.equal(#sessions, #d.over_time.times)
      for i, s in ipairs(sessions) do
        assert.are.equal(apivideo.parse_time(s.session.loaded_at), d.over_time.times[i])
      end
      assert.are.equal(#sessions, #d.durations)
      for _, name in ipairs({ "country", "device_type", "os", "browser", "referrer_medium" }) do
        assert.are.equal(#sessions, sum(d.breakdowns[name]), name)
      end
      local france = 0
      for _, s in ipairs(sessions) do
        if s.location.country == "France" then france = france + 1 end
      end
      local got_france
      for _, r in ipairs(d.breakdowns.country) do
        if r.label == "France" then got_france = r.value end
      end
      assert.are.equal(france, got_france)
      assert.are.same({}, d.left_out)
      assert.are.equal(0, #entries("/data/"))
    end)

    it("a session whose events failed is in the footer; the report is still written; --strict exits 1", function()
      local bad = "psvi250_000003"
      local path = dir .. "/left.html"
      for _, strict in ipairs({ false, true }) do
        fresh()
        srv:faults({ { match = "/analytics/sessions/" .. bad .. "/events", kind = "invalid_json", count = -1 } })
        os.remove(path)
        local args = { "report", "--video", "vi250", "--period", "2023-01", "--out", path, "--max-retries", "0" }
        if strict then args[#args + 1] = "--strict" end
        local code, out, err = run(args)
        assert.are.equal(strict and 1 or 0, code, err)
        assert.are.equal(path .. "\n", out)
        assert.are.equal(last.html, read(path))
        assert.are.equal(1, #last.data.left_out)
        assert.are.equal("events of session " .. bad, last.data.left_out[1].what)
        assert.is_truthy(last.data.left_out[1].reason:find("/analytics/sessions/" .. bad .. "/events", 1, true))
        assert.is_truthy(err:find("left out the events of session " .. bad, 1, true))
        assert.is_truthy(last.html:find("events of session " .. bad, 1, true))
      end
    end)

    it("--live-stream ID over an ISO week, --no-events: no event request, no funnel", function()
      local week_from = 1675036800 -- Monday 2023-01-30
      local c = client()
      local n = 0
      for _ in c.analytics:live_stream_sessions("li500", { period = "2023-W05" }) do n = n + 1 end
      c:close()
      fresh()
      assert.is_true(n > 0)
      local path = dir .. "/live.html"
      local code, out, err = run({ "report", "--live-stream", "li500", "--period", "2023-W05", "--out", path,
        "--no-events" })
      assert.are.equal(0, code, err)
      assert.are.equal(path .. "\n", out)
      local d = last.data
      assert.are.same({ kind = "live-stream", id = "li500" }, d.media)
      assert.are.equal(week_from, d.from)
      assert.are.equal(week_from + 7 * DAY, d.to)
      assert.are.equal(n, d.sessions)
      assert.is_nil(d.events)
      assert.is_nil(d.funnel)
      assert.is_nil(d.event_types)
      assert.is_nil(d.retention)
      -- no events: no event panels, not even empty ones
      for _, fig in ipairs({ "retention", "funnel", "event-types" }) do
        assert.is_nil(last.html:find('<figure id="' .. fig .. '-figure">', 1, true), fig)
      end
      assert.is_nil(last.html:find("<h2>Events</h2>", 1, true))
      assert.are.equal(0, #entries("/analytics/sessions/"))
      assert.are.equal(#entries("/analytics/live-streams/li500"), srv:stats().api_requests)
    end)
  end)

  describe("--from/--to or --last: the /data operations", function()
    it("plays over time and plays by dimension, for the whole account", function()
      local c = client()
      local plays = assert(c.analytics:get_aggregated_metrics("play", "count", { from = FROM_ATOM, to = TO_ATOM })).data
      c:close()
      fresh()
      local path = dir .. "/account.html"
      local code, out, err = run({ "report", "--from", FROM, "--to", TO, "--out", path })
      assert.are.equal(0, code, err)
      assert.are.equal(path .. "\n", out)
      assert.are.equal(last.html, read(path))
      local d = last.data
      assert.is_nil(d.media)
      assert.are.equal("plays", d.metric)
      assert.are.equal(FROM_S, d.from)
      assert.are.equal(TO_S, d.to)
      assert.are.equal(plays, d.sessions)
      assert.are.equal("day", d.over_time.interval)
      assert.are.equal(15, #d.over_time.points)
      local total = 0
      for _, p in ipairs(d.over_time.points) do
        total = total + p.value
        assert.are.equal(DAY, p.t_end - p.t)
      end
      assert.are.equal(plays, total)
      assert.are.equal(FROM_S, d.over_time.points[1].t)
      for _, name in ipairs({ "country", "device_type", "os", "browser", "referrer" }) do
        assert.are.equal(plays, sum(d.breakdowns[name]), name)
      end
      -- the referrer panel from /data/buckets/play/referrer; a play without one is "(none)", not ""
      local referrers = {}
      for _, r in ipairs(d.breakdowns.referrer) do referrers[r.label] = r.value end
      assert.is_nil(referrers[""])
      assert.is_true((referrers["(none)"] or 0) > 0)
      assert.is_true((referrers["https://example.com/watch/13"] or 0) > 0)
      assert.are.equal(1, #entries("/data/buckets/play/referrer"))
      assert.is_nil(d.breakdowns.referrer_medium)
      assert.is_nil(d.durations)
      assert.is_nil(d.funnel)
      assert.is_nil(d.events)
      assert.are.equal(0, #entries("/analytics/"))
      -- one request per figure / breakdown / series page: far fewer than the sessions of the window
      assert.is_true(#entries("/data/") <= 7, tostring(#entries("/data/")))
      -- only the panels the /data operations fill: no empty panel for what this mode cannot have
      for _, fig in ipairs({ "over-time", "by-country", "by-device-type", "by-os", "by-browser", "by-referrer" }) do
        assert.is_truthy(last.html:find('<figure id="' .. fig .. '-figure">', 1, true), fig)
      end
      for _, fig in ipairs({ "duration", "retention", "funnel", "event-types", "by-referrer-medium" }) do
        assert.is_nil(last.html:find('<figure id="' .. fig .. '-figure">', 1, true), fig)
      end
      assert.is_nil(last.html:find("No data", 1, true))
      assert.is_nil(last.html:find("Freedman", 1, true)) -- no word of duration bins without durations
      assert.is_truthy(last.html:find("Not in the data: durations, audience retention, event funnel, events by type.",
        1, true))
    end)

    it("--video ID filters every request by media_id; --last ends at now", function()
      local now = 1704067200
      local path = dir .. "/one.html"
      local code, _, err = run({ "report", "--video", "vi10k", "--last", "7d", "--out", path },
        { now = function() return now end })
      assert.are.equal(0, code, err)
      assert.are.same({ kind = "video", id = "vi10k" }, last.data.media)
      assert.are.equal(now - 7 * DAY, last.data.from)
      assert.are.equal(now, last.data.to)
      local log = entries("/data/")
      assert.is_true(#log >= 6)
      for _, e in ipairs(log) do
        assert.are.same({ "vi10k" }, as_list(e.args["filterBy[mediaId][]"]), e.uri)
        assert.are.equal("2023-12-25T00:00:00+00:00", e.args.from)
        assert.are.equal("2024-01-01T00:00:00+00:00", e.args.to)
      end
      assert.is_true(last.data.sessions > 0)
    end)
  end)

  describe("usage errors, before anything is sent", function()
    local function usage_fails(args, message)
      local code, out, err = run(args)
      assert.are.equal(2, code, err)
      assert.are.equal("", out)
      assert.are.equal("apivideo-analytics: " .. message, err:match("^([^\n]*)\n"))
      assert.are.equal(0, srv:stats().requests)
      assert.is_nil(last.data)
    end

    it("names what is wrong", function()
      local path = dir .. "/x.html"
      usage_fails({ "report", "--video", "vi250", "--period", "2023-01" }, "'report' needs --out")
      usage_fails({ "report", "--period", "2023-01", "--out", path }, "'report' needs --video or --live-stream")
      usage_fails({ "report", "--out", path }, "'report' needs --period (or --from/--last for the /data operations)")
      usage_fails({ "report", "--video", "vi250", "--period", "2023-01", "--from", FROM, "--out", path },
        "--period and --from exclude each other (--period walks the sessions; --from/--to/--last use the /data "
          .. "operations)")
      usage_fails({ "report", "--video", "vi250", "--live-stream", "li500", "--period", "2023", "--out", path },
        "--video and --live-stream exclude each other")
      usage_fails({ "report", "--video", "vi250", "--period", "2023-01", "--out", path, "--format", "csv" },
        "option --format does not apply to 'report'")
      usage_fails({ "report", "--from", FROM, "--out", path, "--no-events" },
        "option --no-events does not apply to 'report' with --from/--to/--last (the /data operations have no "
          .. "sessions, events or metadata)")
      usage_fails({ "report", "--live-stream", "li500", "--period", "2023", "--metadata", "a=b", "--out", path },
        "option --metadata does not apply to live streams (their sessions have no metadata filter)")
      usage_fails({ "report", "--video", "vi250", "--period", "2023-01", "--out", dir .. "/missing/x.html" },
        "--out: cannot write '" .. dir .. "/missing/x.html' (No such file or directory)")
      usage_fails({ "report", "--from", TO, "--to", FROM, "--out", path },
        "bad --from (must be before --to: the timeframe is empty)")
      assert.is_nil(read(path))
      assert.is_nil(read(path .. ".tmp"))
    end)

    it("--help: both modes, what each shows, examples", function()
      local code, out = run({ "report", "--help" })
      assert.are.equal(0, code)
      assert.are.equal("Usage: apivideo-analytics report --video ID --period P --out FILE [OPTIONS]\n",
        out:match("^[^\n]*\n"))
      for _, s in ipairs({ "--live-stream ID", "--out FILE", "--from TIME", "--last SPAN", "referrer medium",
        "/data/timeseries/play", "Examples:\n  apivideo-analytics report " }) do
        assert.is_truthy(out:find(s, 1, true), s)
      end
      assert.is_nil(out:find("\n  --format", 1, true)) -- no such option (its --input example has sessions')
    end)
  end)
end)
