-- The command-line tool (lua/apivideo/cli.lua, bin/apivideo-analytics) against the
-- stand-in. cli.main runs in-process with captured streams; the script itself
-- runs as a subprocess at the end. Expected values come from the stand-in's
-- documented data (notes/standin-contract.md) and from the client's own
-- iterators, computed here independently of the CLI's code.
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local cli_args = require("apivideo.cli.args")
local formats = require("apivideo.cli.formats")
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local clients = require("spec.support.clients")
local model = require("spec.support.model")
local shell = require("spec.support.shell")
local V = require("spec.support.compat")

local srv = S.shared()

-- A distinctive key: it must never show up in anything the tool prints.
local KEY = "Cli-SeCrEt-7f3a9c0e-dd41"
local WRONG_KEY = "Cli-WrOnG-5b2e8a71-0c9f"

local T0 = model.T0 -- 2023-01-01T00:00:00Z in ms
local JAN_END = T0 + 31 * model.DAY_MS

-- loadedAt of session i of n, as the contract spreads them over 2023; timestamps
-- read independently of apivideo.parse_time
local loaded, count_in, iso_ms, index_of = model.loaded_ms, model.count_in, model.iso_ms, model.index_of

-- display width of UTF-8 text
local function width(s)
  local n = 0
  for _ in s:gmatch("[^\128-\191]") do n = n + 1 end
  return n
end

local function lines(text, sep)
  local out = {}
  sep = sep or "\n"
  local i = 1
  while i <= #text do
    local j = text:find(sep, i, true)
    if not j then
      out[#out + 1] = text:sub(i)
      break
    end
    out[#out + 1] = text:sub(i, j - 1)
    i = j + #sep
  end
  return out
end

-- An RFC 4180 reader: CRLF record ends only, quoted fields with "" escapes,
-- no quote inside an unquoted field, no bare CR or LF outside quotes.
local function parse_csv(text)
  assert(text == "" or text:sub(-2) == "\r\n", "CSV must end with CRLF")
  local rows, row, i, n = {}, {}, 1, #text
  while i <= n do
    local value
    if text:sub(i, i) == '"' then
      local parts = {}
      i = i + 1
      while true do
        local q = text:find('"', i, true)
        assert(q, "unterminated quoted field")
        parts[#parts + 1] = text:sub(i, q - 1)
        if text:sub(q + 1, q + 1) == '"' then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      value = table.concat(parts)
    else
      local j = text:find('[,\r\n"]', i)
      assert(j, "field without a record end")
      assert(text:sub(j, j) ~= '"', "quote inside an unquoted field at byte " .. j)
      value = text:sub(i, j - 1)
      i = j
    end
    row[#row + 1] = value
    if text:sub(i, i) == "," then
      i = i + 1
    elseif text:sub(i, i + 1) == "\r\n" then
      rows[#rows + 1] = row
      row = {}
      i = i + 2
    else
      error("CSV: expected ',' or CRLF at byte " .. i)
    end
  end
  return rows
end

-- CSV text -> header, array of {column = value}
local function csv_records(text)
  local rows = parse_csv(text)
  local header = table.remove(rows, 1)
  local recs = {}
  for r, row in ipairs(rows) do
    assert.are.equal(#header, #row, "row " .. r .. " has the header's number of fields")
    local rec = {}
    for i, h in ipairs(header) do rec[h] = row[i] end
    recs[r] = rec
  end
  return header, recs
end

-- Runs cli.main in-process. opts: env (table), tty, interval, no_base_url.
-- Every run checks that neither key appears in what was printed.
local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY, WRONG_KEY } })

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

local function fresh_server()
  srv:idle_reset({ api_key = KEY })
end

local SESSION_HEADER = {
  "session_id", "loaded_at", "ended_at", "duration_s", "country", "city", "device_type", "device_vendor",
  "device_model", "os_name", "os_shortname", "os_version", "client_type", "browser", "client_version",
  "referrer_url", "referrer_medium", "referrer_source", "search_term", "metadata",
}

describe("apivideo-analytics", function()
  before_each(fresh_server)
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

    it("an empty session: a CSV header only, no ndjson line, an empty JSON array", function()
      local code, out = run({ "events", "--session", "psNoEvents", "--format", "csv" })
      assert.are.equal(0, code)
      assert.are.equal("type,emitted_at,at,from,to\r\n", out)
      code, out = run({ "events", "--session", "psNoEvents", "--format", "ndjson" })
      assert.are.equal(0, code)
      assert.are.equal("", out)
      code, out = run({ "events", "--session", "psNoEvents", "--format", "json" })
      assert.are.equal(0, code)
      assert.are.equal("[]\n", out)
    end)
  end)

  describe("summary", function()
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
        for _, e in ipairs(events_of(c, s.session.session_id)) do
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
      local code, out, err = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json" })
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
      local code, out = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "csv" })
      assert.are.equal(0, code)
      local header, recs = csv_records(out)
      assert.are.same({ "metric", "key", "value" }, header)
      local code2, out2 = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "ndjson" })
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
      local code, out, err = run({ "summary", "--video", "vi250", "--period", "2023-01" })
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
      local code, out = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
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
      local code, out = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
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
      local code, out = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json",
        "--concurrency", "1" })
      assert.are.equal(0, code)
      assert.are.equal(exp.events_total, cjson.decode(out).events.total)
      assert.are.equal(1, srv:stats().max_in_flight)
    end)

    it("of an empty video: zero counts and null durations", function()
      local code, out = run({ "summary", "--video", "viEmpty", "--period", "2023", "--format", "json" })
      assert.are.equal(0, code)
      local got = cjson.decode(out)
      assert.are.equal(0, got.sessions)
      assert.are.equal(0, got.duration_s.count)
      assert.are.equal(cjson.null, got.duration_s.median)
      assert.are.equal(0, got.events.total)
    end)
  end)

  describe("usage errors", function()
    local cases = {
      { "no command", {} },
      { "unknown command", { "frobnicate" } },
      { "missing --period", { "sessions", "--video", "vi250" } },
      { "missing --video", { "summary", "--period", "2023" } },
      { "missing --session", { "events" } },
      { "option without its value", { "events", "--session" } },
      { "option of another command", { "events", "--session", "psNoEvents", "--period", "2023" } },
      { "unknown option", { "events", "--session", "psNoEvents", "--bogus" } },
      { "extra argument", { "events", "--session", "psNoEvents", "extra" } },
      { "bad --format", { "events", "--session", "psNoEvents", "--format", "xml" } },
      { "--page-size 0", { "events", "--session", "psNoEvents", "--page-size", "0" } },
      { "--page-size 101", { "events", "--session", "psNoEvents", "--page-size", "101" } },
      { "--page-size abc", { "events", "--session", "psNoEvents", "--page-size", "abc" } },
      { "--concurrency 0", { "events", "--session", "psNoEvents", "--concurrency", "0" } },
      { "--metadata without =", { "sessions", "--video", "vi250", "--period", "2023", "--metadata", "x" } },
      { "--sandbox with --base-url", { "events", "--session", "psNoEvents", "--sandbox" } },
      { "a period the library refuses", { "sessions", "--video", "vi250", "--period", "2023-13" } },
      { "a reversed range", { "summary", "--video", "vi250", "--period", "2023-02-01/2023-01-01" } },
      { "a base URL the client refuses (plain http to another host)",
        { "events", "--session", "psNoEvents", "--base-url", "http://example.com" }, { no_base_url = true } },
      { "a base URL that is not one", { "events", "--session", "psNoEvents", "--base-url", "ftp:x" },
        { no_base_url = true } },
    }
    for _, case in ipairs(cases) do
      it("exit 2, message and usage on stderr, nothing sent: " .. case[1], function()
        local code, out, err = run(case[2], case[3])
        assert.are.equal(2, code)
        assert.are.equal("", out)
        assert.is_truthy(err:match("^apivideo%-analytics: [^\n]+\nUsage: apivideo%-analytics "), err)
        assert.is_truthy(err:match("\nTry 'apivideo%-analytics [%a%- ]*%-%-help' for more%.\n$"), err)
        assert.are.equal(0, srv:stats().requests)
      end)
    end

    it("a bad period is reported as --period", function()
      local _, _, err = run({ "sessions", "--video", "vi250", "--period", "2023-13" })
      assert.is_truthy(err:find("bad --period", 1, true), err)
      assert.is_truthy(err:find("'2023-13'", 1, true), err)
    end)

    it("without a key: exit 2 naming APIVIDEO_API_KEY and --api-key-file", function()
      local code, out, err = run({ "events", "--session", "psNoEvents" }, { env = {} })
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.is_truthy(err:find("APIVIDEO_API_KEY", 1, true))
      assert.is_truthy(err:find("--api-key-file", 1, true))
      assert.are.equal(0, srv:stats().requests)
    end)

    it("an unknown option never echoes what follows '='", function()
      local code, _, err = run({ "events", "--session", "psNoEvents", "--api-key=" .. KEY })
      assert.are.equal(2, code)
      assert.is_truthy(err:find("unknown option '--api-key'", 1, true), err)
    end)

    it("--help prints the help on stdout and exits 0", function()
      local code, out, err = run({ "--help" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      for _, cmd in ipairs({ "sessions", "live-sessions", "events", "summary", "--format", "--api-key-file" }) do
        assert.is_truthy(out:find(cmd, 1, true), cmd)
      end
      assert.are.equal(0, srv:stats().requests)
    end)

    it("--sandbox selects the sandbox environment", function()
      local o = cli_args.parse({ "events", "--session", "psNoEvents", "--sandbox" })
      assert.is_true(o.sandbox)
      assert.is_nil(o.base_url)
      o = cli_args.parse({ "events", "--session", "psNoEvents" })
      assert.is_nil(o.sandbox)
    end)
  end)

  describe("API and network errors", function()
    it("an unknown video: exit 1, the error's one line on stderr, nothing on stdout", function()
      local c = client()
      local page, e = c.analytics:list_video_sessions("viNope", { period = "2023-01" })
      c:close()
      assert.is_nil(page)
      assert.are.equal(404, e.status)
      for _, fmt in ipairs({ "table", "csv", "ndjson", "json" }) do
        for _, cmd in ipairs({ "sessions", "summary" }) do
          local code, out, err = run({ cmd, "--video", "viNope", "--period", "2023-01", "--format", fmt })
          assert.are.equal(1, code)
          assert.are.equal("", out)
          assert.are.equal("apivideo-analytics: " .. tostring(e):gsub("^apivideo: ", "") .. "\n", err)
        end
      end
    end)

    it("an unknown session: exit 1 with the 404 (sessionId)", function()
      local code, out, err = run({ "events", "--session", "psNope" })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal("apivideo-analytics: HTTP 404 The requested resource was not found. (sessionId) "
        .. "GET /analytics/sessions/psNope/events\n", err)
    end)

    it("a refused key: exit 1, the authentication error, neither key printed", function()
      local code, out, err = run({ "events", "--session", "psNoEvents" },
        { env = { APIVIDEO_API_KEY = WRONG_KEY } })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal("apivideo-analytics: authentication failed: HTTP 400 The user credentials were incorrect. "
        .. "POST /auth/api-key\n", err)
    end)

    it("a server that is not there: exit 1 with a network error", function()
      local code, out, err = run({ "events", "--session", "psNoEvents", "--base-url", "http://127.0.0.1:1" },
        { no_base_url = true })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.is_truthy(err:match("^apivideo%-analytics: network error: [^\n]*\n$"), err)
    end)
  end)

  describe("the API key", function()
    local path
    before_each(function() path = os.tmpname() end)
    after_each(function() os.remove(path) end)

    local function write(text)
      local f = assert(io.open(path, "w"))
      f:write(text)
      f:close()
    end

    it("--api-key-file: the first line, trimmed, and it wins over APIVIDEO_API_KEY", function()
      write("  " .. KEY .. " \t\nsecond line\n")
      local code, out, err = run({ "events", "--session", "psvi250_000003", "--format", "ndjson",
        "--api-key-file", path }, { env = {} })
      assert.are.equal(0, code, err)
      assert.are.equal(6, #lines(out))
      code, out, err = run({ "events", "--session", "psvi250_000003", "--format", "ndjson",
        "--api-key-file", path }, { env = { APIVIDEO_API_KEY = WRONG_KEY } })
      assert.are.equal(0, code, err)
      assert.are.equal(6, #lines(out))
      assert.are.equal(0, srv:stats().status["400"] or 0) -- the wrong key was never tried
    end)

    it("an empty or missing key file is a usage error", function()
      write("\nsecond line\n")
      local code, _, err = run({ "events", "--session", "psNoEvents", "--api-key-file", path })
      assert.are.equal(2, code)
      assert.is_truthy(err:find("empty", 1, true), err)
      os.remove(path)
      code = run({ "events", "--session", "psNoEvents", "--api-key-file", path })
      assert.are.equal(2, code)
      assert.are.equal(0, srv:stats().requests)
    end)

    it("never appears in any output, whatever happens", function()
      -- run() asserts the absence of both keys on every run; here a mix of outcomes
      local outcomes = {}
      outcomes[#outcomes + 1] = run({ "summary", "--video", "vi250", "--period", "2023-01-05" })
      outcomes[#outcomes + 1] = run({ "sessions", "--video", "vi250", "--period", "2023-01", "--format", "ndjson" })
      outcomes[#outcomes + 1] = run({ "sessions", "--video", "viNope", "--period", "2023-01" })
      outcomes[#outcomes + 1] = run({ "events", "--session", "psNoEvents" }, { env = { APIVIDEO_API_KEY = WRONG_KEY } })
      outcomes[#outcomes + 1] = run({ "events", "--session", "psNoEvents", "--bogus" })
      outcomes[#outcomes + 1] = run({ "--help" })
      assert.are.same({ 0, 0, 1, 1, 2, 0 }, outcomes)
    end)
  end)

  describe("progress", function()
    it("nothing on stderr when it is not a terminal", function()
      local code, out, err = run({ "summary", "--video", "vi250", "--period", "2023-01", "--page-size", "5" })
      assert.are.equal(0, code)
      assert.is_true(#out > 0)
      assert.are.equal("", err)
    end)

    it("on a terminal: pages done / total, items per second, time left on stderr; stdout unchanged", function()
      local args = { "sessions", "--video", "vi250", "--period", "2023", "--format", "csv", "--page-size", "100" }
      local code, plain = run(args)
      assert.are.equal(0, code)
      local code2, out, err = run(args, { tty = true, interval = 0 })
      assert.are.equal(0, code2)
      assert.are.equal(plain, out)
      for n = 1, 3 do
        assert.is_truthy(err:find("sessions: page " .. n .. "/3, ", 1, true), err)
      end
      assert.is_truthy(err:find("250 items, %d+ items/s, %d+:%d%d left"), err)
      assert.is_nil(err:find("\n", 1, true)) -- one line redrawn with CR, cleared at the end
      assert.are.equal("\r\27[K", err:sub(-4))
    end)

    it("the summary reports sessions, then events by session", function()
      local code, _, err = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json" },
        { tty = true, interval = 0 })
      assert.are.equal(0, code)
      assert.is_truthy(err:find("sessions: page 1/1, ", 1, true), err)
      local n = count_in(250, T0, JAN_END)
      assert.is_truthy(err:find("events: session " .. n .. "/" .. n .. ", ", 1, true), err)
    end)
  end)

  describe("the script bin/apivideo-analytics", function()
    local root = S.root()
    local lua = V.interpreter()
    local q = shell.quote

    -- stdout with stderr merged in, and the exit status
    local function script(args, dir)
      return shell.run("cd " .. q(dir or root) .. " && env APIVIDEO_API_KEY=" .. q(KEY) .. " " .. lua .. " "
        .. q(root .. "/bin/apivideo-analytics") .. " " .. args .. " --base-url " .. q(srv.url))
    end

    it("exit 0 and stdout (stderr merged in) holds data only", function()
      local expected = {}
      for _, s in ipairs(sessions_of("vi250", "2023-01")) do expected[#expected + 1] = s.session.session_id end
      local out, code = script("sessions --video vi250 --period 2023-01 --format ndjson", "/")
      assert.are.equal(0, code, out)
      local ids = {}
      for k, l in ipairs(lines(out)) do ids[k] = cjson.decode(l).session.session_id end
      assert.are.same(expected, ids)
      assert.is_nil(out:find(KEY, 1, true))
    end)

    it("exit 1 with the error line, exit 2 with the usage", function()
      local out, code = script("sessions --video viNope --period 2023-01 --format csv")
      assert.are.equal(1, code)
      assert.are.equal("apivideo-analytics: HTTP 404 The requested resource was not found. (videoId) "
        .. "GET /analytics/videos/viNope\n", out)
      out, code = script("sessions --video vi250")
      assert.are.equal(2, code)
      assert.is_truthy(out:match("^apivideo%-analytics: 'sessions' needs %-%-period\nUsage:"), out)
    end)

    it("runs through its #! line from any directory", function()
      local out, code = shell.run("cd / && env APIVIDEO_API_KEY=" .. q(KEY) .. " "
        .. q(root .. "/bin/apivideo-analytics") .. " events --session psNoEvents --format csv"
        .. " --base-url " .. q(srv.url))
      assert.are.equal(0, code, out)
      assert.are.equal("type,emitted_at,at,from,to\r\n", out)
    end)
  end)
end)
