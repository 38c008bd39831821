-- The list commands of apivideo-analytics (sessions, live-sessions, events)
-- against the stand-in, run in-process (cli.main) with captured streams.
-- Expected values come from the stand-in's documented data
-- (notes/standin-contract.md) and from the client's own iterators, computed
-- here independently of the CLI's code.
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local formats = require("apivideo.cli.formats")
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local clients = require("spec.support.clients")
local model = require("spec.support.model")

local srv = S.shared()

-- A distinctive key: it must never show up in anything the tool prints.
local KEY = "CliList-SeCrEt-2c81f04d"

local T0 = model.T0 -- 2023-01-01T00:00:00Z in ms
local JAN_END = T0 + 31 * model.DAY_MS

-- loadedAt of session i of n, as the contract spreads them over 2023; timestamps
-- read independently of apivideo.parse_time
local count_in, iso_ms, index_of = model.count_in, model.iso_ms, model.index_of
local lines, width, parse_csv, csv_records = C.lines, C.width, C.parse_csv, C.csv_records

local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

local client = clients.builder({ api_key = KEY, base_url = srv.url })

-- Every session of a video in a period, through the client's iterator.
local function sessions_of(id, period, live)
  local c, list = client(), {}
  local method = live and "live_stream_sessions" or "video_sessions"
  for s in c.analytics[method](c.analytics, id, { period = period, page_size = 100 }) do list[#list + 1] = s end
  c:close()
  return list
end

local function events_of(c, sid)
  local list = {}
  for e in c.analytics:session_events(sid, { page_size = 100 }) do list[#list + 1] = e end
  return list
end

local function api_entries() return srv:requests("^/analytics/") end

local SESSION_HEADER = {
  "session_id", "loaded_at", "ended_at", "duration_s", "country", "city", "device_type", "device_vendor",
  "device_model", "os_name", "os_shortname", "os_version", "client_type", "browser", "client_version",
  "referrer_url", "referrer_medium", "referrer_source", "search_term", "metadata",
}

describe("apivideo-analytics lists", function()
  before_each(function() srv:idle_reset({ api_key = KEY }) end)
  teardown(function() srv:reset() end) -- the stand-in's own key again for the next file

  describe("sessions", function()
    local jan -- the sessions of vi250 whose loaded_at is in 2023-01, from a walk of all of 2023

    setup(function()
      srv:reset({ api_key = KEY })
      jan = {}
      for _, s in ipairs(sessions_of("vi250", "2023")) do
        if s.session.loaded_at:sub(1, 7) == "2023-01" then jan[#jan + 1] = s end
      end
    end)

    it("--format csv: one RFC 4180 row per session of vi250 in 2023-01, with the iterator's values", function()
      assert.are.equal(count_in(250, T0, JAN_END), #jan)
      local code, out, err = run({ "sessions", "--video", "vi250", "--period", "2023-01", "--format", "csv" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local header, recs = csv_records(out)
      assert.are.same(SESSION_HEADER, header)
      assert.are.equal(#jan, #recs)
      for r, s in ipairs(jan) do
        local rec = recs[r]
        local i = index_of(s.session.session_id)
        assert.are.equal(s.session.session_id, rec.session_id)
        assert.are.equal(s.session.loaded_at, rec.loaded_at)
        assert.are.equal(s.session.ended_at, rec.ended_at)
        local secs = (iso_ms(s.session.ended_at) - iso_ms(s.session.loaded_at)) / 1000
        assert.are.equal(secs, tonumber(rec.duration_s))
        assert.are.equal(s.location.country, rec.country)
        assert.are.equal(s.location.city or "", rec.city)
        assert.are.equal(i % 7 == 0, rec.city == "") -- contract: city is null when i%7==0
        assert.are.equal(s.device.type, rec.device_type)
        assert.are.equal(s.device.model, rec.device_model)
        assert.are.equal(s.os.name, rec.os_name)
        assert.are.equal(s.client.name, rec.browser)
        assert.are.equal(s.referrer.medium, rec.referrer_medium)
        assert.are.equal(s.referrer.url or "", rec.referrer_url)
        assert.are.equal(i % 5 == 0, rec.referrer_url == "") -- contract: url is null when i%5==0
        assert.are.equal(s.referrer.search_term, rec.search_term)
        -- the metadata column is the API's list of pairs as JSON, in the API's order; contract values
        local md = cjson.decode(rec.metadata)
        local want = { { key = "user", value = "user" .. (i % 100) },
          { key = "plan", value = i % 3 == 0 and "pro" or "free" } }
        if i % 11 == 0 then want[3] = { key = "tag", value = "café au lait" } end
        assert.are.same(want, md)
        assert.are.same(s.session.metadata, md)
      end
    end)

    it("--format csv quotes a field with commas and quotes, doubles the quotes, and nothing else", function()
      local code, out = run({ "sessions", "--video", "vi250", "--period", "2023-01-15", "--format", "csv" })
      assert.are.equal(0, code)
      assert.are.equal("\r\n", out:sub(-2)) -- the last record ends with CRLF too
      local rows = lines(out, "\r\n")
      assert.are.equal(2, #rows) -- the header and session 11, the only one of that day
      assert.is_nil(out:gsub("\r\n", ""):find("[\r\n]"), "no bare CR or LF")
      -- session 11 (2023-01-15): user11, plan free (11%3~=0), tag (11%11==0), from the contract
      local expected = table.concat({
        "psvi250_000011", "2023-01-15T14:24:00.000Z", "2023-01-15T14:31:17.000Z",
      }, ",")
      local line = rows[2]
      assert.are.equal(expected, line:sub(1, #expected))
      local tail = ',"[{""key"":""user"",""value"":""user11""},{""key"":""plan"",""value"":""free""},'
        .. '{""key"":""tag"",""value"":""café au lait""}]"'
      assert.are.equal(tail, line:sub(-#tail))
      assert.is_truthy(line:find(",Montréal,", 1, true)) -- non-ASCII needs no quoting
    end)

    it("csv_record quotes comma, quote, CR and LF per RFC 4180", function()
      local rec = formats.csv_record({ "a,b", 'say "hi"', "x\ry", "l1\nl2", "plain", "", "é" })
      assert.are.equal('"a,b","say ""hi""","x\ry","l1\nl2",plain,,é\r\n', rec)
      assert.are.same({ { "a,b", 'say "hi"', "x\ry", "l1\nl2", "plain", "", "é" } }, parse_csv(rec))
    end)

    it("--format ndjson: one JSON object per line, the same sessions as the iterator", function()
      local code, out, err = run({ "sessions", "--video", "vi250", "--period", "2023-01", "--format", "ndjson" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.are.equal("\n", out:sub(-1))
      local ls = lines(out)
      assert.are.equal(#jan, #ls)
      for k, l in ipairs(ls) do
        local obj = cjson.decode(l)
        assert.are.equal(jan[k].session.session_id, obj.session.session_id)
        assert.are.same(jan[k], obj) -- every field, unknown ones (x-extra) included
      end
    end)

    it("--format json: one array of the sessions; an empty result is []", function()
      local code, out = run({ "sessions", "--video", "vi250", "--period", "2023-01", "--format", "json" })
      assert.are.equal(0, code)
      local arr = cjson.decode(out)
      assert.are.equal(#jan, #arr)
      for k, s in ipairs(jan) do assert.are.same(s, arr[k]) end
      code, out = run({ "sessions", "--video", "viEmpty", "--period", "2023", "--format", "json" })
      assert.are.equal(0, code)
      assert.are.equal("[]\n", out)
    end)

    it("--format table (default): a header, a rule and one aligned row per session", function()
      local code, out, err = run({ "sessions", "--video", "vi250", "--period", "2023-01" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local ls = lines(out)
      assert.are.equal(#jan + 2, #ls)
      assert.is_truthy(ls[1]:match("^session_id%s+loaded_at%s+duration_s%s+country"))
      assert.is_truthy(ls[2]:match("^%-+  %-+"))
      local col = width(ls[1]:match("^(session_id%s+)")) -- where loaded_at starts
      local col_country = width(ls[1]:match("^(.-)country"))
      for k, s in ipairs(jan) do
        local l = ls[k + 2]
        assert.are.equal(s.session.session_id, l:match("^(%S+)"))
        assert.are.equal(s.session.loaded_at, l:sub(col + 1, col + #s.session.loaded_at))
        -- display columns stay aligned after multi-byte text (São Paulo, Montréal, café)
        local prefix = l:match("^(.-)" .. s.location.country:gsub("%p", "%%%0"))
        assert.are.equal(col_country, width(prefix))
      end
    end)

    it("--metadata filters on every pair (AND), sent to the API as metadata[k]=v", function()
      local code, out = run({ "sessions", "--video", "vi250", "--period", "2023", "--format", "csv",
        "--metadata", "tag=café au lait", "--metadata=plan=pro" })
      assert.are.equal(0, code)
      local _, recs = csv_records(out)
      local ids = {}
      for k, r in ipairs(recs) do ids[k] = r.session_id end
      -- contract: tag when i%11==0, pro when i%3==0; all 250 sessions are in 2023
      local expected = {}
      for i = 1, 250 do
        if i % 33 == 0 then expected[#expected + 1] = string.format("psvi250_%06d", i) end
      end
      assert.are.same(expected, ids)
      local entries = api_entries()
      assert.are.equal(1, #entries)
      assert.are.equal("café au lait", entries[1].args["metadata[tag]"])
      assert.are.equal("pro", entries[1].args["metadata[plan]"])
    end)

    it("--page-size is the size of every request", function()
      local code, out = run({ "sessions", "--video", "vi250", "--period", "2023", "--format", "ndjson",
        "--page-size", "7" })
      assert.are.equal(0, code)
      assert.are.equal(250, #lines(out))
      local entries = api_entries()
      assert.are.equal(math.ceil(250 / 7), #entries)
      for _, e in ipairs(entries) do assert.are.equal("7", e.args.pageSize) end
    end)
  end)

  describe("live-sessions", function()
    it("lists a live stream's sessions; odd sessions carry no metadata", function()
      local expected = sessions_of("li500", "2023-01", true)
      assert.are.equal(count_in(500, T0, JAN_END), #expected)
      srv:reset({ api_key = KEY })
      local code, out, err = run({ "live-sessions", "--live-stream", "li500", "--period", "2023-01",
        "--format", "ndjson" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local ls = lines(out)
      assert.are.equal(#expected, #ls)
      for k, l in ipairs(ls) do
        local obj = cjson.decode(l)
        local even = index_of(obj.session.session_id) % 2 == 0
        -- one metadata shape: the list of pairs, [] for a session without metadata
        assert.are.equal(even, #obj.session.metadata > 0)
        if not even then obj.session.metadata = expected[k].session.metadata end
        assert.are.same(expected[k], obj)
      end
      code, out = run({ "live-sessions", "--live-stream", "li500", "--period", "2023-01", "--format", "csv" })
      assert.are.equal(0, code)
      local _, recs = csv_records(out)
      assert.are.equal(#expected, #recs)
      for _, r in ipairs(recs) do
        assert.are.equal(index_of(r.session_id) % 2 == 0, r.metadata ~= "[]")
        assert.are.equal("table", type(cjson.decode(r.metadata)))
      end
      assert.are.equal("/analytics/live-streams/li500", api_entries()[1].path)
    end)
  end)

  describe("events", function()
    it("--format csv: psManyEvents' 1000 events in 10 requests of 100, as the iterator gives them", function()
      local c = client()
      local expected = events_of(c, "psManyEvents")
      c:close()
      assert.are.equal(1000, #expected)
      srv:reset({ api_key = KEY })
      local code, out, err = run({ "events", "--session", "psManyEvents", "--page-size", "100", "--format", "csv" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      local header, recs = csv_records(out)
      assert.are.same({ "type", "emitted_at", "at", "from", "to" }, header)
      assert.are.equal(1000, #recs)
      local function s(v) return v == nil and "" or string.format("%d", v) end
      for k, e in ipairs(expected) do
        local r = recs[k]
        assert.are.equal(e.type, r.type)
        assert.are.equal(e.emitted_at, r.emitted_at)
        assert.are.equal(s(e.at), r.at)
        assert.are.equal(s(e.from), r.from)
        assert.are.equal(s(e.to), r.to)
      end
      assert.are.equal(10, srv:stats().api_requests)
    end)

    it("--format table: one row per event (session 3 has 3 + 3%8 = 6)", function()
      local code, out = run({ "events", "--session", "psvi250_000003" })
      assert.are.equal(0, code)
      local ls = lines(out)
      assert.are.equal(2 + 6, #ls)
      assert.is_truthy(ls[1]:match("^type%s+emitted_at%s+at%s+from%s+to$"))
      local c = client()
      local expected = events_of(c, "psvi250_000003")
      c:close()
      for k, e in ipairs(expected) do
        assert.are.equal(e.type, ls[k + 2]:match("^(%S+)"))
        assert.is_truthy(ls[k + 2]:find(e.emitted_at, 1, true))
      end
    end)

    for _, case in ipairs({
      { format = "csv", out = "type,emitted_at,at,from,to\r\n", what = "a CSV header only" },
      { format = "ndjson", out = "", what = "no ndjson line" },
      { format = "json", out = "[]\n", what = "an empty JSON array" },
      { format = "table", out = "type  emitted_at  at  from  to\n----  ----------  --  ----  --\n",
        what = "the table's header and rule" },
    }) do
      it("an empty session: " .. case.what, function()
        local code, out, err = run({ "events", "--session", "psNoEvents", "--format", case.format })
        assert.are.equal(0, code)
        assert.are.equal("", err)
        assert.are.equal(case.out, out)
      end)
    end
  end)
end)
