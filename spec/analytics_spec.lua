-- The three Analytics operations, one call = one page: page and record shapes,
-- what reaches the server (period, metadata, paging, ids as one path segment),
-- error objects of every kind, and argument checks that raise before any request.
-- Expected values come from the stand-in's documented data scheme
-- (notes/standin-contract.md), computed independently of the stand-in's code (spec/support/model.lua).
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local raised = require("spec.support.expect").raised
local model = require("spec.support.model")
local socket = require("socket")
local V = require("spec.support.compat")

local srv = S.shared()

local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })

local function last_api_entry()
  local api = srv:requests("^/analytics/")
  return api[#api]
end

-- Sessions of an n-session source whose loadedAt lies in [from, to) (dates as {y, m, d}).
local function expected_count(n, from, to)
  local a = model.days(from[1], from[2], from[3]) * model.DAY_MS
  local b = model.days(to[1], to[2], to[3]) * model.DAY_MS
  return model.count_in(n, a, b)
end

describe("analytics pages", function()
  local c
  before_each(function()
    srv:idle_reset()
    c = new_client()
  end)

  it("list_video_sessions returns data, snake_case pagination with links, and integer rate_limit", function()
    srv:config({ rate_limit = { limit = 500, window_s = 30 } })
    local page, err = c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 10, current_page = 2 })
    assert.is_nil(err)
    assert.are.equal(10, #page.data)
    local p = page.pagination
    assert.are.same({ 250, 25, 10, 2, 10 },
      { p.items_total, p.pages_total, p.page_size, p.current_page, p.current_page_items })
    for _, k in ipairs({ "items_total", "pages_total", "page_size", "current_page", "current_page_items" }) do
      assert.is_true(V.is_integer(p[k]), k)
    end
    for _, k in ipairs({ "itemsTotal", "pagesTotal", "pageSize", "currentPage", "currentPageItems" }) do
      assert.is_nil(p[k], k)
    end
    local rels = {}
    for k, link in ipairs(p.links) do
      assert.is_string(link.rel)
      assert.is_string(link.uri)
      rels[k] = link.rel
    end
    assert.are.same({ "self", "first", "previous", "next", "last" }, rels)
    assert.matches("currentPage=3&pageSize=10$", p.links[4].uri)
    local rl = page.rate_limit
    assert.are.same({ limit = 500, remaining = 499, retry_after = 30 }, rl)
    for _, k in ipairs({ "limit", "remaining", "retry_after" }) do
      assert.is_true(V.is_integer(rl[k]), k)
    end
    assert.are.equal("psvi250_000011", page.data[1].session.session_id)
  end)

  it("video session records have the documented snake_case shape, nil for null, unknown fields kept", function()
    local page = assert(c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 100 }))
    assert.are.equal(100, #page.data)
    local seen_null_city, seen_null_url, seen_extra, seen_tag = 0, 0, 0, 0
    for k, s in ipairs(page.data) do
      local i = model.index_of(s.session.session_id)
      assert.are.equal(k, i)
      assert.are.equal(string.format("psvi250_%06d", k), s.session.session_id)
      assert.matches("^2023%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", s.session.loaded_at)
      assert.is_string(s.session.ended_at)
      local dur = apivideo.parse_time(s.session.ended_at) - apivideo.parse_time(s.session.loaded_at)
      assert.is_true(dur >= 30 and dur <= 1800)
      assert.is_nil(s.session.sessionId)
      assert.is_nil(s.session.loadedAt)
      assert.is_nil(s.session.endedAt)
      -- metadata: array of {key, value}
      local md = s.session.metadata
      assert.are.same({ key = "user", value = "user" .. (i % 100) }, md[1])
      assert.are.same({ key = "plan", value = i % 3 == 0 and "pro" or "free" }, md[2])
      if i % 11 == 0 then
        assert.are.same({ key = "tag", value = "café au lait" }, md[3])
        seen_tag = seen_tag + 1
      else
        assert.are.equal(2, #md)
      end
      assert.is_string(s.location.country)
      if i % 7 == 0 then
        assert.is_nil(s.location.city)
        seen_null_city = seen_null_city + 1
      else
        assert.is_string(s.location.city)
      end
      if i % 5 == 0 then
        assert.is_nil(s.referrer.url)
        seen_null_url = seen_null_url + 1
      else
        assert.is_string(s.referrer.url)
      end
      for _, f in ipairs({ "medium", "source", "search_term" }) do assert.is_string(s.referrer[f], f) end
      assert.is_nil(s.referrer.searchTerm)
      for _, f in ipairs({ "type", "vendor", "model" }) do assert.is_string(s.device[f]) end
      for _, f in ipairs({ "name", "shortname", "version" }) do assert.is_string(s.os[f]) end
      for _, f in ipairs({ "type", "name", "version" }) do assert.is_string(s.client[f]) end
      if i % 13 == 0 then
        assert.are.same({ kept = true }, s["x-extra"])
        seen_extra = seen_extra + 1
      else
        assert.is_nil(s["x-extra"])
      end
    end
    assert.are.same({ 14, 20, 7, 9 }, { seen_null_city, seen_null_url, seen_extra, seen_tag })
  end)

  it("list_live_stream_sessions: same shape; metadata an empty array when the API sends none", function()
    local page = assert(c.analytics:list_live_stream_sessions("li500", { period = "2023", page_size = 20 }))
    assert.are.equal(20, #page.data)
    assert.are.equal(500, page.pagination.items_total)
    assert.are.equal(25, page.pagination.pages_total)
    for k, s in ipairs(page.data) do
      assert.are.equal(string.format("psli500_%06d", k), s.session.session_id)
      assert.is_string(s.session.loaded_at)
      assert.is_string(s.session.ended_at)
      if k % 2 == 0 then
        assert.are.same({ key = "user", value = "user" .. k }, s.session.metadata[1])
      else
        assert.are.same({}, s.session.metadata) -- always a table, as the annotations say
      end
      assert.is_string(s.referrer.search_term)
      if k % 7 == 0 then assert.is_nil(s.location.city) else assert.is_string(s.location.city) end
      if k % 5 == 0 then assert.is_nil(s.referrer.url) else assert.is_string(s.referrer.url) end
    end
  end)

  it("list_session_events: every event type, seek events with integer from/to, others with integer at", function()
    local page = assert(c.analytics:list_session_events("psManyEvents", { page_size = 14 }))
    assert.are.equal(14, #page.data)
    assert.are.equal(1000, page.pagination.items_total)
    assert.are.equal(72, page.pagination.pages_total)
    local types = { "ready", "play", "pause", "resume", "seek.forward", "seek.backward", "end" }
    local seen = {}
    for j, ev in ipairs(page.data) do
      assert.are.equal(types[(j - 1) % 7 + 1], ev.type)
      seen[ev.type] = true
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT[%d:.]+Z$", ev.emitted_at)
      assert.is_nil(ev.emittedAt)
      if ev.type:find("^seek") then
        assert.is_nil(ev.at)
        assert.is_true(V.is_integer(ev.from))
        assert.is_true(V.is_integer(ev.to))
        if ev.type == "seek.forward" then assert.is_true(ev.to > ev.from) else assert.is_true(ev.to < ev.from) end
      else
        assert.is_true(V.is_integer(ev.at))
        assert.is_nil(ev.from)
        assert.is_nil(ev.to)
      end
    end
    for _, t in ipairs(types) do assert.is_true(seen[t], t) end
    -- an ordinary session: 3 + i % 8 events
    local small = assert(c.analytics:list_session_events("psvi250_000005"))
    assert.are.equal(8, #small.data)
    assert.are.equal(8, small.pagination.items_total)
    assert.are.equal(25, small.pagination.page_size) -- the API's default
  end)

  it("a page beyond the last one is an empty page", function()
    local page = assert(c.analytics:list_session_events("psvi250_000001", { current_page = 9 }))
    assert.are.same({}, page.data)
    assert.are.equal(9, page.pagination.current_page)
    assert.are.equal(0, page.pagination.current_page_items)
  end)
end)

describe("what the server receives", function()
  local c
  before_each(function()
    srv:idle_reset()
    c = new_client()
  end)

  local PERIODS = {
    { "2023-01-01", { 2023, 1, 1 }, { 2023, 1, 2 } },
    { "2023-W02", { 2023, 1, 9 }, { 2023, 1, 16 } },
    { "2023-01", { 2023, 1, 1 }, { 2023, 2, 1 } },
    { "2023", { 2023, 1, 1 }, { 2024, 1, 1 } },
    { "2023-01-01/2023-01-15", { 2023, 1, 1 }, { 2023, 1, 16 } },
  }
  for _, case in ipairs(PERIODS) do
    local period, from, to = case[1], case[2], case[3]
    it("sends period " .. period .. " and gets the sessions of that period", function()
      local page = assert(c.analytics:list_video_sessions("vi250", { period = period, page_size = 100 }))
      local e = last_api_entry()
      assert.are.equal(period, e.args.period)
      assert.are.equal("/analytics/videos/vi250?period=" .. period:gsub("/", "%%2F") .. "&pageSize=100", e.uri)
      assert.are.equal(expected_count(250, from, to), page.pagination.items_total)
      local live = assert(c.analytics:list_live_stream_sessions("li500", { period = period, page_size = 1 }))
      assert.are.equal(period, last_api_entry().args.period)
      assert.are.equal(expected_count(500, from, to), live.pagination.items_total)
    end)
  end

  it("sends metadata as metadata[k]=v, keys sorted, percent-encoded, decoded exactly by the server", function()
    local page = assert(c.analytics:list_video_sessions("vi250", {
      period = "2023", metadata = { user = "user77", tag = "café au lait", plan = "free" },
    }))
    local e = last_api_entry()
    assert.are.equal("user77", e.args["metadata[user]"])
    assert.are.equal("café au lait", e.args["metadata[tag]"])
    assert.are.equal("free", e.args["metadata[plan]"])
    local uri = e.uri
    local p1, p2, p3 = uri:find("metadata[plan]", 1, true), uri:find("metadata[tag]", 1, true),
      uri:find("metadata[user]", 1, true)
    assert.is_true(p1 < p2 and p2 < p3, uri)
    assert.truthy(uri:find("metadata[tag]=caf%C3%A9%20au%20lait", 1, true), uri)
    -- the filter the server applied: user77 (i % 100 == 77), tag (i % 11 == 0), free (i % 3 ~= 0)
    local want = {}
    for i = 1, 250 do
      if i % 100 == 77 and i % 11 == 0 and i % 3 ~= 0 then want[#want + 1] = string.format("psvi250_%06d", i) end
    end
    local got = {}
    for k, s in ipairs(page.data) do got[k] = s.session.session_id end
    assert.are.same(want, got)
    assert.are.equal(1, #got)
  end)

  it("percent-encodes metadata keys and values with reserved characters", function()
    local key, value = "a b&c=d", "x=y&z #1+2%"
    local page = assert(c.analytics:list_video_sessions("vi250", { period = "2023", metadata = { [key] = value } }))
    local e = last_api_entry()
    assert.are.equal(value, e.args["metadata[" .. key .. "]"])
    assert.are.equal("2023", e.args.period)
    local n = 0
    for _ in pairs(e.args) do n = n + 1 end
    assert.are.equal(2, n) -- nothing leaked into other arguments
    assert.are.equal(0, page.pagination.items_total)
  end)

  it("sends current_page and page_size as currentPage and pageSize", function()
    local page = assert(c.analytics:list_video_sessions("vi250", { period = "2023", current_page = 3, page_size = 7 }))
    local e = last_api_entry()
    assert.are.equal("3", e.args.currentPage)
    assert.are.equal("7", e.args.pageSize)
    assert.is_nil(e.args.current_page)
    assert.is_nil(e.args.page_size)
    assert.are.equal(3, page.pagination.current_page)
    assert.are.equal("psvi250_000015", page.data[1].session.session_id)
    assert(c.analytics:list_session_events("psManyEvents", { current_page = 2, page_size = 100 }))
    e = last_api_entry()
    assert.are.same({ currentPage = "2", pageSize = "100" }, e.args)
    assert(c.analytics:list_session_events("psManyEvents"))
    e = last_api_entry()
    assert.are.equal("/analytics/sessions/psManyEvents/events", e.uri)
  end)

  it("sends Accept, AV-Origin-Client, AV-Origin-App and a User-Agent naming the library and libcurl", function()
    local app = new_client({ application = { name = "my-app", version = "1.2.3" } })
    assert(app.analytics:list_session_events("psNoEvents"))
    local h = last_api_entry().headers
    assert.are.equal("application/json", h.accept)
    assert.are.equal("lua:" .. apivideo._VERSION, h["av-origin-client"])
    assert.are.equal("my-app:1.2.3", h["av-origin-app"])
    assert.matches("lua%-apivideo/" .. apivideo._VERSION:gsub("%.", "%%."), h["user-agent"])
    assert.matches("libcurl/", h["user-agent"])
  end)

  local IDS = { "../x", "..%2F", "x?y=1", "x#frag", "a/b", "a b", "100%", "%41", "a+b", "vidé🎬", "../../auth/api-key" }
  local OPS = {
    { "list_video_sessions", "/analytics/videos/", "", "videoId", { period = "2023" } },
    { "list_live_stream_sessions", "/analytics/live-streams/", "", "liveStreamId", { period = "2023" } },
    { "list_session_events", "/analytics/sessions/", "/events", "sessionId", nil },
  }
  for _, op in ipairs(OPS) do
    local name, prefix, suffix, param, opts = op[1], op[2], op[3], op[4], op[5]
    it(name .. ": ids with reserved characters reach the server as one path segment, decoded exactly", function()
      for _, id in ipairs(IDS) do
        local page, err = c.analytics[name](c.analytics, id, opts)
        assert.is_nil(page)
        assert.are.equal(404, err.status, id)
        assert.are.equal(param, err.name, id)
        local e = last_api_entry()
        assert.are.equal(prefix .. id .. suffix, e.path, id)
        local raw = e.uri:match("^([^?]*)")
        local seg = raw:sub(#prefix + 1, #raw - #suffix)
        assert.are.equal(prefix .. seg .. suffix, raw, id)
        assert.is_nil(seg:find("[/?#]"), id)
      end
      assert.are.equal(#IDS, srv:stats().api_requests)
    end)
  end

  -- Left unencoded, the ids "." and ".." would be dot-segments that libcurl
  -- removes: list_session_events("..") would request GET /analytics/events.
  it("dot-segment ids: '.' and '..' reach the server as one path segment, decoded exactly", function()
    for _, op in ipairs(OPS) do
      local name, prefix, suffix, param, opts = op[1], op[2], op[3], op[4], op[5]
      for _, id in ipairs({ ".", ".." }) do
        local _, err = c.analytics[name](c.analytics, id, opts)
        local e = last_api_entry()
        assert.are.equal(prefix .. id .. suffix, e.path, name .. " " .. id)
        assert.are.equal(404, err.status)
        assert.are.equal(param, err.name, name .. " " .. id)
      end
    end
  end)
end)

describe("errors", function()
  local c
  before_each(function()
    srv:idle_reset()
    c = new_client()
  end)

  it("404 for an unknown id: kind http, the API's problem fields, one-line tostring", function()
    local page, err = c.analytics:list_video_sessions("viNope", { period = "2023-01", metadata = { user = "bob" } })
    assert.is_nil(page)
    assert.is_true(apivideo.is_error(err))
    assert.are.equal("http", err.kind)
    assert.are.equal(404, err.status)
    assert.are.equal("The requested resource was not found.", err.title)
    assert.are.equal("videoId", err.name)
    assert.are.equal("https://docs.api.video/docs/resourcenot_found", err.type)
    assert.are.equal("GET", err.method)
    assert.are.equal(srv.url .. "/analytics/videos/viNope?period=2023-01&metadata[user]=bob", err.url)
    assert.are.equal(1, err.attempts)
    assert.are.equal(
      "apivideo: HTTP 404 The requested resource was not found. (videoId) GET /analytics/videos/viNope",
      tostring(err))
    local _, e2 = c.analytics:list_live_stream_sessions("liNope", { period = "2023" })
    assert.are.equal("liveStreamId", e2.name)
    local _, e3 = c.analytics:list_session_events("psNope")
    assert.are.equal("sessionId", e3.name)
    assert.are.equal(
      "apivideo: HTTP 404 The requested resource was not found. (sessionId) GET /analytics/sessions/psNope/events",
      tostring(e3))
    assert.is_false(apivideo.is_error({ kind = "http", status = 404 }))
    assert.is_false(apivideo.is_error("apivideo: HTTP 404"))
  end)

  it("400 when the server refuses a parameter the client cannot judge (year 0000)", function()
    -- "0000" has the YYYY shape the client checks; the API (and the stand-in)
    -- refuse year 0, so the answer is the API's 400 problem naming the parameter.
    local page, err = c.analytics:list_video_sessions("vi250", { period = "0000" })
    assert.is_nil(page)
    assert.are.equal("http", err.kind)
    assert.are.equal(400, err.status)
    assert.are.equal("period", err.name)
    assert.are.equal("https://docs.api.video/reference/invalid-attribute", err.type)
    assert.is_string(err.title)
    assert.is_string(err.detail)
    assert.are.equal(1, srv:stats().status["400"])
    local line = tostring(err)
    assert.is_nil(line:find("\n"))
    assert.matches("^apivideo: HTTP 400 .+ %(period%) %- .+ GET /analytics/videos/vi250$", line)
  end)

  it("network: connection refused on a dead port", function()
    local sock = assert(socket.bind("127.0.0.1", 0))
    local _, port = sock:getsockname()
    sock:close()
    local dead = new_client({ base_url = "http://127.0.0.1:" .. port, auth = "basic" })
    local page, err = dead.analytics:list_session_events("psvi250_000001")
    assert.is_nil(page)
    assert.is_true(apivideo.is_error(err))
    assert.are.equal("network", err.kind)
    assert.are.equal(7, err.curl_code) -- CURLE_COULDNT_CONNECT
    assert.is_nil(err.status)
    assert.are.equal("GET", err.method)
    assert.are.equal("http://127.0.0.1:" .. port .. "/analytics/sessions/psvi250_000001/events", err.url)
    assert.matches("^apivideo: network error: .+ GET /analytics/sessions/psvi250_000001/events$", tostring(err))
    -- in bearer mode the failing request is the token exchange: still a network error
    local dead_bearer = new_client({ base_url = "http://127.0.0.1:" .. port })
    local _, e2 = dead_bearer.analytics:list_session_events("psvi250_000001")
    assert.are.equal("network", e2.kind)
  end)

  it("timeout: a response delayed past timeout_ms", function()
    srv:faults({ { match = "/analytics/", kind = "delay", delay_ms = 1500 } })
    local slow = new_client({ timeout_ms = 300 })
    local t0 = socket.gettime()
    local page, err = slow.analytics:list_session_events("psvi250_000001")
    local elapsed = socket.gettime() - t0
    assert.is_nil(page)
    assert.are.equal("timeout", err.kind)
    assert.are.equal(28, err.curl_code) -- CURLE_OPERATION_TIMEDOUT
    assert.are.equal("GET", err.method)
    assert.is_true(elapsed < 1.4, "gave up after " .. elapsed .. " s")
    assert.matches("^apivideo: timeout error: ", tostring(err))
    assert.are.equal(1, srv:stats().api_requests)
  end)

  it("decode: invalid JSON in a 200 answer", function()
    srv:faults({ { match = "/analytics/", kind = "invalid_json" } })
    local page, err = c.analytics:list_video_sessions("vi250", { period = "2023" })
    assert.is_nil(page)
    assert.are.equal("decode", err.kind)
    assert.are.equal(200, err.status)
    assert.matches("^invalid JSON", err.title)
    assert.are.equal('{"data": [', err.body)
    assert.are.equal("GET", err.method)
    assert.matches("/analytics/videos/vi250%?period=2023$", err.url)
    assert.are.equal(1, srv:stats().api_requests)
  end)

  it("decode: an empty 200 answer", function()
    srv:faults({ { match = "/analytics/", kind = "empty" } })
    local page, err = c.analytics:list_session_events("psvi250_000001")
    assert.is_nil(page)
    assert.are.equal("decode", err.kind)
    assert.are.equal(200, err.status)
    assert.are.equal("empty response body", err.title)
    assert.is_nil(err.body)
    assert.matches("^apivideo: decode error: empty response body GET /analytics/sessions/psvi250_000001/events$",
      tostring(err))
  end)
end)

describe("bad arguments raise before any request", function()
  local c
  before_each(function()
    srv:idle_reset()
    c = new_client()
  end)
  after_each(function()
    assert.are.equal(0, srv:stats().requests)
  end)

  -- method(id, opts) must raise a message naming "analytics:<method>" and `arg`,
  -- positioned at the caller (not inside the library).
  local function expect(method, arg, id, opts)
    local msg = raised(function() return c.analytics[method](c.analytics, id, opts) end)
    local fname = "analytics:" .. method
    assert.truthy(msg:find(fname, 1, true), "no function name in: " .. msg)
    assert.truthy(msg:find("'" .. arg .. "'", 1, true), "no argument name '" .. arg .. "' in: " .. msg)
    assert.is_nil(msg:find("apivideo/[%w_]+%.lua"), msg)
  end

  local function with(base, k, v)
    local t = {}
    for kk, vv in pairs(base) do t[kk] = vv end
    t[k] = v
    return t
  end

  local P = { period = "2023" }

  it("list_video_sessions", function()
    local M = "list_video_sessions"
    for _, id in ipairs({ 42, true, {} }) do expect(M, "video_id", id, P) end
    expect(M, "video_id", nil, P)
    expect(M, "video_id", "", P)
    expect(M, "options", "vi250", "2023")
    expect(M, "period", "vi250", nil)
    expect(M, "period", "vi250", {})
    for _, bad in ipairs({ 2023, "", "2023-13", "2023-00", "2023-W00", "2023-W53", "2023-02-29", "23-01-01",
      "2023-1", "2023-01-01/2023-01-32", "2023-02-01/2023-01-01", "2023-01-01/", "last month",
      "2023-01-01T00:00" }) do
      expect(M, "period", "vi250", { period = bad })
    end
    for _, bad in ipairs({ 0, -1, 1.5, "1", math.huge, 0 / 0 }) do
      expect(M, "current_page", "vi250", with(P, "current_page", bad))
    end
    for _, bad in ipairs({ 0, 101, 2.5, "10" }) do
      expect(M, "page_size", "vi250", with(P, "page_size", bad))
    end
    for _, bad in ipairs({ "user=bob", { user = 7 }, { user = true }, { "bob" }, { [""] = "x" } }) do
      expect(M, "metadata", "vi250", with(P, "metadata", bad))
    end
    expect(M, "pagesize", "vi250", with(P, "pagesize", 10))
    expect(M, "currentPage", "vi250", with(P, "currentPage", 2))
  end)

  it("list_live_stream_sessions", function()
    local M = "list_live_stream_sessions"
    expect(M, "live_stream_id", nil, P)
    expect(M, "live_stream_id", 500, P)
    expect(M, "live_stream_id", "", P)
    expect(M, "period", "li500", {})
    expect(M, "period", "li500", { period = "2023-W99" })
    expect(M, "current_page", "li500", with(P, "current_page", 0))
    expect(M, "current_page", "li500", with(P, "current_page", 1.5))
    expect(M, "page_size", "li500", with(P, "page_size", 0))
    expect(M, "page_size", "li500", with(P, "page_size", 101))
    expect(M, "metadata", "li500", with(P, "metadata", { a = "b" })) -- no metadata filter on live streams
    expect(M, "page", "li500", with(P, "page", 2))
  end)

  it("list_session_events", function()
    local M = "list_session_events"
    expect(M, "session_id", nil, nil)
    expect(M, "session_id", 1, nil)
    expect(M, "session_id", "", nil)
    expect(M, "options", "psManyEvents", 10)
    expect(M, "current_page", "psManyEvents", { current_page = 0 })
    expect(M, "current_page", "psManyEvents", { current_page = 1.5 })
    expect(M, "page_size", "psManyEvents", { page_size = 0 })
    expect(M, "page_size", "psManyEvents", { page_size = 101 })
    expect(M, "period", "psManyEvents", { period = "2023" }) -- no period on events
    expect(M, "pagesize", "psManyEvents", { pagesize = 5 })
  end)

  it("the iterators check their arguments when they are created", function()
    expect("video_sessions", "video_id", "", P)
    expect("video_sessions", "pagesize", "vi250", with(P, "pagesize", 1))
    expect("video_session_pages", "period", "vi250", { period = "2023-13" })
    expect("live_stream_sessions", "page_size", "li500", with(P, "page_size", 101))
    expect("live_stream_session_pages", "live_stream_id", nil, P)
    expect("session_events", "current_page", "psManyEvents", { current_page = 0 })
    expect("session_event_pages", "session_id", {}, nil)
  end)
end)
