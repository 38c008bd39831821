-- apivideo-analytics metrics, buckets, timeseries: today's /data operations
-- from the command line, against the stand-in. What is sent is read from the
-- stand-in's request log; expected figures come from the library's own
-- operations (called here, not through the CLI) and from the stand-in's
-- contract (notes/standin-contract.md: session i of n loaded at
-- 2023-01-01 + (i-1)*365d/n). The stand-in's clock is 2024-01-01T00:00:00Z
-- and it refuses a `from` more than 30 days before it: the windows are in
-- December 2023. Works on every Lua the suite runs under (no 5.3+ syntax).
local apivideo = require("apivideo")
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")

local srv = S.shared()

local KEY = "CliData-SeCrEt-3e8d1f27"
local NOW = 1704067200 -- 2024-01-01T00:00:00Z, the stand-in's clock

local FROM, TO = "2023-12-05", "2023-12-20"
local FROM_ATOM, TO_ATOM = "2023-12-05T00:00:00+00:00", "2023-12-20T00:00:00+00:00"

local run_cli = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

-- Runs cli.main with --base-url; streams_extra: more stream fields (now, ...).
local function run(args, streams_extra)
  return run_cli(args, { streams = streams_extra })
end

local function data_entries() return srv:requests("^/data/") end

local lines, as_list = C.lines, C.as_list

-- A usage error: exit 2, nothing on stdout, the message first on stderr, nothing sent.
local usage_fails = C.usage_fails(run, srv)

local function client()
  return apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic" })
end

-- A clean log and counters (after the expected figures were fetched).
local function fresh()
  srv:idle_reset()
  srv:config({ api_key = KEY })
end

describe("apivideo-analytics on the /data operations", function()
  before_each(fresh)
  teardown(function() srv:reset() end)

  describe("metrics", function()
    it("one figure in every format, with the window and the filter sent as asked", function()
      local c = client()
      local expected = assert(c.analytics:get_aggregated_metrics("play", "count",
        { from = FROM_ATOM, to = TO_ATOM, filter_by = { media_id = "vi250" } }))
      c:close()
      assert.is_true(expected.data > 0)
      fresh()
      local base = { "metrics", "--metric", "play", "--aggregation", "count", "--from", FROM, "--to", TO,
        "--filter", "media_id=vi250" }
      local function with(fmt)
        local a = {}
        for i, v in ipairs(base) do a[i] = v end
        a[#a + 1] = "--format"
        a[#a + 1] = fmt
        local code, out, err = run(a)
        assert.are.equal(0, code, err)
        assert.are.equal("", err)
        return out
      end
      assert.are.equal("metric,aggregation,from,to,value\r\nplay,count," .. FROM_ATOM .. "," .. TO_ATOM .. ","
        .. expected.data .. "\r\n", with("csv"))
      local got = cjson.decode(with("json"))
      assert.are.equal(expected.data, got.data)
      assert.are.same({ metric = "play", aggregation = "count", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        got.context)
      assert.is_nil(got.rate_limit)
      local nd = with("ndjson")
      assert.are.equal(1, #lines(nd))
      assert.are.same(got, cjson.decode(nd))
      local t = lines(with("table"))
      assert.are.equal(3, #t)
      assert.is_truthy(t[1]:find("^metric%s+aggregation%s+from%s+to%s+value$"), t[1])
      local cells = {}
      for w in t[3]:gmatch("%S+") do cells[#cells + 1] = w end
      assert.are.same({ "play", "count", FROM_ATOM, TO_ATOM, tostring(expected.data) }, cells)
      local log = data_entries()
      assert.are.equal(4, #log)
      for _, e in ipairs(log) do
        assert.are.equal("/data/metrics/play/count", e.path)
        assert.are.equal(FROM_ATOM, e.args.from)
        assert.are.equal(TO_ATOM, e.args.to)
        assert.are.same({ "vi250" }, as_list(e.args["filterBy[mediaId][]"]))
      end
    end)

    it("--unique and --view-duration go out as unique=true and viewDuration; the echoed metric is printed", function()
      local code, out, err = run({ "metrics", "--metric", "view", "--aggregation", "count", "--unique",
        "--view-duration", "10s", "--from", FROM, "--to", TO, "--format", "csv" })
      assert.are.equal(0, code, err)
      local row = lines(out)[2]
      assert.is_truthy(row:find("^unique%-view%-10,count,"), row)
      local args = data_entries()[1].args
      assert.are.equal("true", args.unique)
      assert.are.equal("10s", args.viewDuration)
    end)

    it("an RFC 3339 time with an offset goes out in UTC; a date is its midnight UTC", function()
      local code, _, err = run({ "metrics", "--metric", "start", "--aggregation", "count",
        "--from", "2023-12-05T10:00:00+02:00", "--to", "2023-12-06" })
      assert.are.equal(0, code, err)
      local args = data_entries()[1].args
      assert.are.equal("2023-12-05T08:00:00+00:00", args.from)
      assert.are.equal("2023-12-06T00:00:00+00:00", args.to)
    end)
  end)

  describe("buckets", function()
    it("walks every page and prints every bucket; they sum to the metric of the same window", function()
      local c = client()
      local opts = { from = FROM_ATOM, to = TO_ATOM, filter_by = { media_type = "video" } }
      local total = assert(c.analytics:get_aggregated_metrics("play", "count", opts)).data
      local expected = {}
      for b in c.analytics:metrics_breakdown("play", "device-type", opts) do expected[#expected + 1] = b end
      c:close()
      fresh()
      local code, out, err = run({ "buckets", "--metric", "play", "--breakdown", "device-type", "--from", FROM,
        "--to", TO, "--filter", "media_type=video", "--page-size", "2", "--format", "ndjson" })
      assert.are.equal(0, code, err)
      local got, sum = {}, 0
      for i, l in ipairs(lines(out)) do
        got[i] = cjson.decode(l)
        sum = sum + got[i].metric_value
      end
      assert.are.same(expected, got)
      assert.is_true(#got > 2) -- more than one page
      assert.are.equal(total, sum)
      local log = data_entries()
      assert.are.equal(math.ceil(#got / 2), #log)
      for i, e in ipairs(log) do
        assert.are.equal("/data/buckets/play/device-type", e.path)
        assert.are.equal("2", e.args.pageSize)
        assert.are.equal(tostring(i), e.args.currentPage)
        assert.are.equal("video", e.args["filterBy[mediaType]"])
      end
    end)

    it("csv and table: dimension_value, metric_value in the order asked with --sort-by/--sort-order", function()
      local code, out, err = run({ "buckets", "--metric", "play", "--breakdown", "country", "--from", FROM,
        "--to", TO, "--sort-by", "dimensionValue", "--sort-order", "asc", "--format", "csv" })
      assert.are.equal(0, code, err)
      local rows = lines((out:gsub("\r\n", "\n")))
      assert.are.equal("dimension_value,metric_value", rows[1])
      local prev = ""
      for i = 2, #rows do
        local dim, v = rows[i]:match("^(%u%u),(%d+)$")
        assert.is_truthy(dim, rows[i])
        assert.is_true(dim > prev)
        prev = dim
        assert.is_true(tonumber(v) > 0)
      end
      local args = data_entries()[1].args
      assert.are.equal("dimensionValue", args.sortBy)
      assert.are.equal("asc", args.sortOrder)
      code, out = run({ "buckets", "--metric", "play", "--breakdown", "country", "--from", FROM, "--to", TO })
      assert.are.equal(0, code)
      local t = lines(out)
      assert.is_truthy(t[1]:find("^dimension_value%s+metric_value$"), t[1])
      assert.are.equal(#rows, #t - 1) -- header + rule vs header
    end)
  end)

  describe("timeseries", function()
    it("every point of the series, in csv and json, with --interval sent", function()
      local c = client()
      local expected = {}
      for p in c.analytics:metrics_over_time("play", { from = FROM_ATOM, to = TO_ATOM, interval = "day" }) do
        expected[#expected + 1] = p
      end
      c:close()
      fresh()
      assert.are.equal(15, #expected)
      local code, out, err = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO,
        "--interval", "day", "--format", "json", "--page-size", "4" })
      assert.are.equal(0, code, err)
      assert.are.same(expected, cjson.decode(out))
      for _, e in ipairs(data_entries()) do assert.are.equal("day", e.args.interval) end
      code, out = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO, "--interval", "day",
        "--format", "csv" })
      assert.are.equal(0, code)
      local rows = lines((out:gsub("\r\n", "\n")))
      assert.are.equal("emitted_at,metric_value", rows[1])
      assert.are.equal(#expected + 1, #rows)
      assert.are.equal(expected[1].emitted_at .. "," .. expected[1].metric_value, rows[2])
    end)
  end)

  describe("--last", function()
    it("is the window of that span ending now: from = now - span, to = now", function()
      local code, _, err = run({ "timeseries", "--metric", "play", "--last", "7d" },
        { now = function() return NOW end })
      assert.are.equal(0, code, err)
      local args = data_entries()[1].args
      assert.are.equal("2023-12-25T00:00:00+00:00", args.from)
      assert.are.equal("2024-01-01T00:00:00+00:00", args.to)
      fresh()
      code, _, err = run({ "timeseries", "--metric", "play", "--last", "30m", "--interval", "minute" },
        { now = function() return NOW end })
      assert.are.equal(0, code, err)
      args = data_entries()[1].args
      assert.are.equal("2023-12-31T23:30:00+00:00", args.from)
      assert.are.equal("minute", args.interval)
    end)

    it("without an injected clock, ends at the machine's now", function()
      local before = os.time()
      local code, _, err = run({ "metrics", "--metric", "play", "--aggregation", "count", "--last", "24h" })
      local after = os.time()
      assert.are.equal(0, code, err)
      local args = data_entries()[1].args
      local from, to = apivideo.parse_time(args.from), apivideo.parse_time(args.to)
      assert.are.equal(86400, to - from)
      assert.is_true(to >= before and to <= after)
    end)

    it("a bad span, or one with --from or --to, is a usage error", function()
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--last", "7x" },
        "bad --last (a number and a unit s, m, h, d or w, such as 30m, 24h or 7d, at most 10 years, "
          .. "expected; got '7x')")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--last", "0d" },
        "bad --last (a number and a unit s, m, h, d or w, such as 30m, 24h or 7d, at most 10 years, "
          .. "expected; got '0d')")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--last", "7d", "--from", FROM },
        "--last and --from exclude each other (--last ends now)")
    end)
  end)

  describe("--filter", function()
    it("array keys accumulate values (OR), keys AND; a string key goes out once", function()
      local code, _, err = run({ "metrics", "--metric", "play", "--aggregation", "count", "--from", FROM, "--to", TO,
        "--filter", "country=FR", "--filter", "browser=firefox", "--filter", "country=DE",
        "--filter", "media_type=video", "--filter", "tag=café au lait", "--filter", "referrer=" })
      assert.are.equal(0, code, err)
      local e = data_entries()[1]
      assert.are.same({ "FR", "DE" }, as_list(e.args["filterBy[country][]"]))
      assert.are.same({ "firefox" }, as_list(e.args["filterBy[browser][]"]))
      assert.are.equal("video", e.args["filterBy[mediaType]"])
      assert.are.equal("café au lait", e.args["filterBy[tag]"])
      assert.are.same({ "" }, as_list(e.args["filterBy[referrer][]"]))
      -- the document's order of keys (mediaType before country before browser before tag)
      local uri = e.uri
      local order = { "mediaType", "country", "browser", "tag", "referrer" }
      local last = 0
      for _, k in ipairs(order) do
        local at = uri:find("filterBy[" .. k .. "]", 1, true) or uri:find("filterBy%5B" .. k .. "%5D", 1, true)
        assert.is_truthy(at, k .. " in " .. uri)
        assert.is_true(at > last, k)
        last = at
      end
    end)

    it("a second value for media_type or tag, a repeated pair, an unknown key: usage errors", function()
      local m = { "metrics", "--metric", "play", "--aggregation", "count" }
      local function with(...)
        local a = {}
        for i, v in ipairs(m) do a[i] = v end
        for _, v in ipairs({ ... }) do a[#a + 1] = v end
        return a
      end
      usage_fails(with("--filter", "tag=a", "--filter", "tag=b"),
        "--filter key 'tag' given twice (tag takes one value)")
      usage_fails(with("--filter", "media_type=video", "--filter", "media_type=live-stream"),
        "--filter key 'media_type' given twice (media_type takes one value)")
      usage_fails(with("--filter", "country=FR", "--filter", "country=FR"), "--filter country=FR given twice")
      usage_fails(with("--filter", "city=Paris"), "--filter: unknown key 'city' (the keys are media_id, media_type, "
        .. "continent, country, device_type, operating_system, browser, tag, referrer)")
      usage_fails(with("--filter", "mediaId=vi1"), "--filter: unknown key 'mediaId' (the keys are media_id, "
        .. "media_type, continent, country, device_type, operating_system, browser, tag, referrer)")
      usage_fails(with("--filter", "=FR"), "--filter expects KEY=VALUE with a non-empty KEY, got '=FR'")
    end)
  end)

  describe("what the library refuses before sending is a usage error naming the option", function()
    it("pairs, options that do not go with the metric, bad values, empty windows", function()
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "peak" }, "bad --aggregation ('peak' cannot be "
        .. "used with metric 'play'; the aggregations of 'play' are 'count', 'rate', 'total')")
      usage_fails({ "metrics", "--metric", "plays", "--aggregation", "count" }, "bad --metric (one of 'play', "
        .. "'start', 'end', 'impression', 'impression-time', 'watch-time', 'ccv', 'view' expected, got 'plays')")
      usage_fails({ "buckets", "--metric", "play-total", "--breakdown", "country" }, "bad --breakdown ('country' "
        .. "cannot be used with metric 'play-total'; the breakdowns of 'play-total' are 'media-id')")
      usage_fails({ "timeseries", "--metric", "play", "--unique" },
        "bad --unique (only with metric 'ccv-peak', 'ccv-average', 'view', not with 'play')")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--view-duration", "10s" },
        "bad --view-duration (only with metric 'view', not with 'play')")
      usage_fails({ "metrics", "--metric", "view", "--aggregation", "count", "--view-duration", "7s" },
        "bad --view-duration (one of '3s', '5s', '10s', '30s' expected, got '7s')")
      usage_fails({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO, "--interval", "minute" },
        "bad --interval ('minute' needs a timeframe of at most 60 minutes; this one is 21600 min 00 s)")
      -- the library names the window's ends as its arguments: said as flags
      usage_fails({ "timeseries", "--metric", "play", "--interval", "minute" },
        "bad --interval ('minute' needs a timeframe of at most 60 minutes; --from defaults to 1 day before --to)")
      usage_fails({ "timeseries", "--metric", "play", "--interval", "second" },
        "bad --interval (one of 'minute', 'hour', 'day' expected, got 'second')")
      usage_fails({ "timeseries", "--metric", "play", "--sort-by", "dimensionValue" },
        "bad --sort-by (one of 'metricValue', 'emittedAt' expected, got 'dimensionValue')")
      usage_fails({ "buckets", "--metric", "play", "--breakdown", "country", "--sort-order", "up" },
        "bad --sort-order (one of 'asc', 'desc' expected, got 'up')")
      -- a value the user gave stays as given, even one spelt like an argument of the library
      usage_fails({ "buckets", "--metric", "play", "--breakdown", "country", "--sort-order", "to" },
        "bad --sort-order (one of 'asc', 'desc' expected, got 'to')")
      usage_fails({ "timeseries", "--metric", "play", "--filter", "country=fr" },
        "bad --filter country (an ISO-3166 alpha-2 code such as 'FR' expected, got 'fr')")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "total", "--filter", "country=FR" },
        "bad --filter (key 'country' cannot be used with play/total; only 'media_id', 'media_type')")
      usage_fails({ "timeseries", "--metric", "play", "--from", TO, "--to", FROM },
        "bad --from (must be before --to: the timeframe is empty)")
    end)

    it("times that are not RFC 3339 or a real date; missing and foreign options", function()
      usage_fails({ "timeseries", "--metric", "play", "--from", "2023-12-32" },
        "bad --from (the date 2023-12-32 does not exist: December 2023 has 31 days; got '2023-12-32')")
      local err = usage_fails({ "timeseries", "--metric", "play", "--to", "2023-12-05T10:00" },
        "bad --to (not an RFC 3339 timestamp: '2023-12-05T10:00' (expected YYYY-MM-DDThh:mm:ss, an optional "
          .. ".fraction, and Z, [+-]hh, [+-]hhmm or [+-]hh:mm); or a date such as 2023-12-05, meaning midnight UTC)")
      assert.is_truthy(err:find("\nUsage: apivideo-analytics timeseries --metric M [OPTIONS]\n", 1, true))
      usage_fails({ "metrics", "--metric", "play" }, "'metrics' needs --aggregation")
      usage_fails({ "buckets", "--metric", "play" }, "'buckets' needs --breakdown")
      usage_fails({ "timeseries" }, "'timeseries' needs --metric")
      usage_fails({ "timeseries", "--metric", "play", "--breakdown", "country" },
        "option --breakdown does not apply to 'timeseries'")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--interval", "day" },
        "option --interval does not apply to 'metrics'")
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--page-size", "10" },
        "option --page-size does not apply to 'metrics'") -- one figure, no pages
      usage_fails({ "sessions", "--video", "vi250", "--period", "2023", "--filter", "country=FR" },
        "option --filter does not apply to 'sessions'")
      usage_fails({ "timeseries", "--metric", "play", "--metric", "start" },
        "option --metric given twice (every option but --metadata and --filter is given at most once)")
    end)
  end)

  describe("help", function()
    it("each command has its usage, output columns and examples", function()
      for cmd, needles in pairs({
        metrics = { "Usage: apivideo-analytics metrics --metric M --aggregation A [OPTIONS]\n",
          "metric, aggregation, from, to, value", "--unique", "--view-duration D", "--filter KEY=VALUE" },
        buckets = { "Usage: apivideo-analytics buckets --metric M --breakdown B [OPTIONS]\n",
          "dimension_value, metric_value", "--sort-by FIELD", "--sort-order ORDER", "--page-size N" },
        timeseries = { "Usage: apivideo-analytics timeseries --metric M [OPTIONS]\n", "emitted_at, metric_value",
          "--interval I", "--last SPAN" },
      }) do
        local code, out, err = run({ cmd, "--help" })
        assert.are.equal(0, code)
        assert.are.equal("", err)
        assert.are.equal(needles[1], out:match("^[^\n]*\n"))
        for _, s in ipairs(needles) do assert.is_truthy(out:find(s, 1, true), cmd .. ": " .. s) end
        assert.is_truthy(out:find("Examples:\n  apivideo-analytics " .. cmd .. " ", 1, true), cmd)
        assert.is_nil(out:find("--period", 1, true), cmd)
        assert.are.equal(cmd ~= "metrics", out:find("--page-size", 1, true) ~= nil, cmd)
      end
      assert.are.equal(0, srv:stats().requests)
    end)
  end)
end)
