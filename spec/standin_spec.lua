-- Specs of the api.video stand-in itself (standin/, notes/standin-contract.md),
-- driven with luasocket only: start / stop, auth, and the three list
-- operations. Rate limiting, faults, latency, stats, log and transport:
-- spec/standin_behaviour_spec.lua. The raw HTTP client: spec/support/standin_http.lua.
--   lua5.4 /usr/bin/busted spec/standin_spec.lua
local S = require("spec.support.standin")
local H = require("spec.support.standin_http")
local shell = require("spec.support.shell")
local socket = require("socket")
local mime = require("mime")
local cjson = require("cjson")
local V = require("spec.support.compat")
local model = require("spec.support.model")

local KEY, BASIC = H.KEY, H.BASIC
local hostport, raw = H.hostport, H.raw
local int, same, alive = H.int, H.same, H.alive
local PROBLEM_401, PROBLEM_CRED, not_found = H.PROBLEM_401, H.PROBLEM_CRED, H.not_found

-- loadedAt (ms) of session i of a source with n sessions, as the contract defines it;
-- "2023-03-15T01:02:03.456Z" -> ms (UTC) without os.time's local-time pitfalls
local loaded, count_in, iso_ms = model.loaded_ms, model.count_in, model.iso_ms

local srv
local get, api, post_json, token = H.on(function() return srv end)

-- a file's text ("" when it cannot be read)
local function read_file(p) return shell.read_file(p) or "" end

-- walks a list following rel=next links; returns the items
local function walk(path)
  local items, seen_pages = {}, 0
  local url = srv.url .. path
  while url do
    local r = api(url:sub(#srv.url + 1))
    assert.are.equal(200, r.status)
    seen_pages = seen_pages + 1
    for _, it in ipairs(r.json.data) do items[#items + 1] = it end
    url = nil
    for _, l in ipairs(r.json.pagination.links) do
      if l.rel == "next" then url = l.uri end
    end
  end
  return items, seen_pages
end

local function links_of(p)
  local t = {}
  for _, l in ipairs(p.links) do t[l.rel] = l.uri end
  return t
end

-- #once: the stand-in runs on nginx whatever Lua runs the suite; `make test-all`
-- runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("stand-in #once", function()
  setup(function()
    local t = socket.gettime()
    srv = S.start()
    srv.start_time = socket.gettime() - t
  end)
  teardown(function() if srv then srv:stop() end end)
  before_each(function() srv:reset() end)

  describe("start / stop", function()
    it("starts in under 2 s and prints URL and prefix", function()
      assert.is_true(srv.start_time < 2, "start took " .. srv.start_time)
      assert.matches("^http://127%.0%.0%.1:%d+$", srv.url)
      assert.is_truthy(read_file(srv.prefix .. "/nginx.conf"):match("worker_processes 1;"))
      assert.is_truthy(read_file(srv.prefix .. "/nginx.pid"):match("%d+"))
      assert.is_true(#read_file(srv.prefix .. "/logs/access.log") >= 0)
    end)

    it("works from any cwd and honours flags; stop leaves nothing behind", function()
      local root = S.root()
      local p = io.popen("cd / && " .. root .. "/standin/start --latency-ms 150 --token-ttl 77 --api-key other-key-1")
      local out = p:read("*a")
      p:close()
      local url, prefix = out:match("^APIVIDEO_STANDIN_URL=(%S+) APIVIDEO_STANDIN_PREFIX=(%S+)\n$")
      assert.is_truthy(url, out)
      local other = S.attach(url)
      local t = socket.gettime()
      local code, body = S.http("POST", url .. "/auth/api-key", cjson.encode({ apiKey = "other-key-1" }))
      assert.is_true(socket.gettime() - t >= 0.14)
      assert.are.equal(200, code)
      assert.are.equal(77, int(cjson.decode(body).expires_in))
      assert.are.equal(400, (S.http("POST", url .. "/auth/api-key", cjson.encode({ apiKey = KEY }))))
      assert.are.equal(2, int(other:stats().auth_api_key))

      local master = tonumber(read_file(prefix .. "/nginx.pid"))
      local procs = {}
      for line in io.popen("ps -o pid= --ppid " .. master):lines() do procs[#procs + 1] = tonumber(line) end
      procs[#procs + 1] = master
      assert.is_true(#procs >= 2)
      assert.is_true(os.execute(root .. "/standin/stop " .. prefix))
      for _, pid in ipairs(procs) do assert.is_false(alive(pid), "pid " .. pid .. " still alive") end
      local c = socket.tcp()
      c:settimeout(1)
      assert.is_nil(c:connect(hostport(url)))
      c:close()
      assert.is_nil(io.open(prefix .. "/nginx.conf"), "temp prefix removed")
    end)

    it("uses --prefix and --port when given", function()
      local port
      do
        local s = assert(socket.bind("127.0.0.1", 0))
        port = select(2, s:getsockname())
        s:close()
      end
      local dir = os.tmpname()
      os.remove(dir)
      local other = S.start({ prefix = dir, port = port })
      assert.are.equal("http://127.0.0.1:" .. port, other.url)
      assert.are.equal(dir, other.prefix)
      assert.is_truthy(read_file(dir .. "/nginx.conf"):match("listen 127.0.0.1:" .. port))
      other:stop()
      assert.is_truthy(io.open(dir .. "/logs/error.log"), "a given prefix is kept")
      os.execute("rm -rf '" .. dir .. "'")
    end)

    it("fails loudly on a bad flag", function()
      local p = io.popen(S.root() .. "/standin/start --latency-ms abc 2>&1; echo rc=$?")
      local out = p:read("*a")
      p:close()
      assert.matches("bad %-%-latency%-ms", out)
      assert.matches("rc=1", out)
    end)
  end)

  describe("auth", function()
    it("POST /auth/api-key issues a token pair", function()
      local r = post_json("/auth/api-key", { apiKey = KEY })
      assert.are.equal(200, r.status)
      assert.matches("^application/json", r.headers["content-type"])
      assert.are.equal("Bearer", r.json.token_type)
      assert.are.equal(3600, int(r.json.expires_in))
      assert.is_string(r.json.access_token)
      assert.is_string(r.json.refresh_token)
      assert.are_not.equal(r.json.access_token, r.json.refresh_token)
      assert.is_nil(r.headers["x-ratelimit-limit"], "no rate headers on /auth/*")
    end)

    it("rejects a wrong, missing or unparsable key with the api.video 400 body", function()
      for _, body in ipairs({ cjson.encode({ apiKey = "nope" }), "{}", "not json", cjson.encode({ apiKey = 5 }) }) do
        local r = raw(srv.url, "POST", "/auth/api-key", { ["Content-Type"] = "application/json" }, body)
        assert.are.equal(400, r.status)
        assert.matches("^application/problem%+json", r.headers["content-type"])
        same(PROBLEM_CRED, cjson.decode(r.body))
      end
    end)

    it("POST /auth/refresh rotates the pair; an old or unknown refresh token is rejected", function()
      local t1 = token()
      local r = post_json("/auth/refresh", { refreshToken = t1.refresh_token })
      assert.are.equal(200, r.status)
      assert.are.equal("Bearer", r.json.token_type)
      assert.are_not.equal(t1.access_token, r.json.access_token)
      assert.are_not.equal(t1.refresh_token, r.json.refresh_token)
      local again = post_json("/auth/refresh", { refreshToken = t1.refresh_token })
      assert.are.equal(400, again.status)
      same(PROBLEM_CRED, again.json)
      same(PROBLEM_CRED, post_json("/auth/refresh", { refreshToken = "unknown" }).json)
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "Bearer " .. r.json.access_token).status)
    end)

    it("accepts Bearer and Basic, answers 401 otherwise", function()
      local t = token()
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "Bearer " .. t.access_token).status)
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "bearer " .. t.access_token).status)
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", BASIC).status)
      for _, a in ipairs({ false, "Bearer nope", "Basic " .. mime.b64("wrong:"), "Basic " .. mime.b64(KEY),
                           "Token " .. t.access_token, "Bearer " .. t.refresh_token }) do
        local r = get("/analytics/videos/vi250?period=2023", a or nil)
        assert.are.equal(401, r.status, tostring(a))
        assert.matches("^application/problem%+json", r.headers["content-type"])
        same(PROBLEM_401, r.json)
      end
    end)

    it("expires tokens after token_ttl_s", function()
      srv:config({ token_ttl_s = 0.4 })
      local t = token()
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "Bearer " .. t.access_token).status)
      socket.sleep(0.5)
      assert.are.equal(401, get("/analytics/videos/vi250?period=2023", "Bearer " .. t.access_token).status)
      local r = post_json("/auth/refresh", { refreshToken = t.refresh_token })
      assert.are.equal(200, r.status, "refresh tokens outlive access tokens")
    end)

    it("revoke invalidates access tokens only; reset invalidates both", function()
      local t = token()
      srv:revoke()
      assert.are.equal(401, get("/analytics/videos/vi250?period=2023", "Bearer " .. t.access_token).status)
      local r = post_json("/auth/refresh", { refreshToken = t.refresh_token })
      assert.are.equal(200, r.status)
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "Bearer " .. r.json.access_token).status)
      srv:reset()
      assert.are.equal(401, get("/analytics/videos/vi250?period=2023", "Bearer " .. r.json.access_token).status)
      assert.are.equal(400, post_json("/auth/refresh", { refreshToken = r.json.refresh_token }).status)
    end)

    it("config api_key replaces the key for /auth/api-key and Basic; reset restores it", function()
      srv:config({ api_key = "rotated-key" })
      assert.are.equal(400, post_json("/auth/api-key", { apiKey = KEY }).status)
      assert.are.equal(200, post_json("/auth/api-key", { apiKey = "rotated-key" }).status)
      assert.are.equal(401, api("/analytics/videos/vi250?period=2023").status)
      assert.are.equal(200, get("/analytics/videos/vi250?period=2023", "Basic " .. mime.b64("rotated-key:")).status)
      srv:reset()
      assert.are.equal(200, api("/analytics/videos/vi250?period=2023").status)
    end)
  end)

  describe("GET /analytics/videos/{videoId}", function()
    it("returns sessions with the api.video shape", function()
      local r = api("/analytics/videos/vi250?period=2023")
      assert.are.equal(200, r.status)
      assert.matches("^application/json", r.headers["content-type"])
      local p = r.json.pagination
      same({ currentPage = 1, currentPageItems = 25, pageSize = 25, pagesTotal = 10, itemsTotal = 250,
             links = p.links }, p)
      assert.are.equal(25, #r.json.data)
      local s1 = r.json.data[1]
      assert.are.equal("psvi250_000001", s1.session.sessionId)
      assert.are.equal("2023-01-01T00:00:00.000Z", s1.session.loadedAt)
      for i, it in ipairs(r.json.data) do
        local s = it.session
        assert.are.equal(("psvi250_%06d"):format(i), s.sessionId)
        assert.are.equal(loaded(250, i), iso_ms(s.loadedAt))
        local dur = iso_ms(s.endedAt) - iso_ms(s.loadedAt)
        assert.is_true(dur >= 30000 and dur <= 1800000)
        assert.are.same({ key = "user", value = "user" .. i }, s.metadata[1])
        assert.are.same({ key = "plan", value = i % 3 == 0 and "pro" or "free" }, s.metadata[2])
        if i % 11 == 0 then
          assert.are.same({ key = "tag", value = "café au lait" }, s.metadata[3])
        else
          assert.is_nil(s.metadata[3])
        end
        assert.is_string(it.location.country)
        if i % 7 == 0 then assert.are.equal(cjson.null, it.location.city) else assert.is_string(it.location.city) end
        if i % 5 == 0 then assert.are.equal(cjson.null, it.referrer.url) else assert.is_string(it.referrer.url) end
        for _, f in ipairs({ "medium", "source", "searchTerm" }) do assert.is_string(it.referrer[f]) end
        for _, f in ipairs({ "type", "vendor", "model" }) do assert.is_string(it.device[f]) end
        for _, f in ipairs({ "name", "shortname", "version" }) do assert.is_string(it.os[f]) end
        for _, f in ipairs({ "type", "name", "version" }) do assert.is_string(it.client[f]) end
        if i % 13 == 0 then
          assert.are.same({ kept = true }, it["x-extra"])
        else
          assert.is_nil(it["x-extra"])
        end
      end
    end)

    it("has 10 000, 100 000 and 0 sessions in vi10k, vi100k and viEmpty", function()
      assert.are.equal(10000, int(api("/analytics/videos/vi10k?period=2023").json.pagination.itemsTotal))
      local big = api("/analytics/videos/vi100k?period=2023&pageSize=100&currentPage=1000")
      assert.are.equal(100000, int(big.json.pagination.itemsTotal))
      assert.are.equal(1000, int(big.json.pagination.pagesTotal))
      assert.are.equal("psvi100k_100000", big.json.data[100].session.sessionId)
      local last = iso_ms(big.json.data[100].session.loadedAt)
      assert.is_true(last <= iso_ms("2023-12-31T23:59:59.000Z"))
      local e = api("/analytics/videos/viEmpty?period=2023")
      assert.are.equal(200, e.status)
      assert.matches('"data":%[%]', e.body)
      same({ currentPage = 1, currentPageItems = 0, pageSize = 25, pagesTotal = 1, itemsTotal = 0,
             links = e.json.pagination.links }, e.json.pagination)
      local l = links_of(e.json.pagination)
      assert.is_string(l.self); assert.is_string(l.first); assert.is_string(l.last)
      assert.is_nil(l.next); assert.is_nil(l.previous)
    end)

    it("serves a 100-item page of vi100k fast", function()
      api("/analytics/videos/vi100k?period=2023&pageSize=100")
      local t = socket.gettime()
      for p = 1, 20 do
        assert.are.equal(200, api("/analytics/videos/vi100k?period=2023&pageSize=100&currentPage=" .. (p * 37)).status)
      end
      local per = (socket.gettime() - t) / 20
      assert.is_true(per < 0.02, ("%.1f ms per page"):format(per * 1000))
    end)

    it("paginates with absolute self/first/previous/next/last links that keep the query", function()
      local r = api("/analytics/videos/vi250?period=2023&metadata%5Bplan%5D=free&pageSize=10&currentPage=3")
      local p = r.json.pagination
      assert.are.equal(3, int(p.currentPage))
      local l = links_of(p)
      local base = srv.url .. "/analytics/videos/vi250?period=2023&metadata%5Bplan%5D=free&"
      assert.are.equal(base .. "currentPage=3&pageSize=10", l.self)
      assert.are.equal(base .. "currentPage=1&pageSize=10", l.first)
      assert.are.equal(base .. "currentPage=2&pageSize=10", l.previous)
      assert.are.equal(base .. "currentPage=4&pageSize=10", l.next)
      assert.are.equal(base .. "currentPage=17&pageSize=10", l.last)
      local order = {}
      for _, x in ipairs(p.links) do order[#order + 1] = x.rel end
      assert.are.same({ "self", "first", "previous", "next", "last" }, order)

      local first = links_of(api("/analytics/videos/vi250?period=2023").json.pagination)
      assert.is_nil(first.previous)
      assert.is_string(first.next)
      local lastp = links_of(api("/analytics/videos/vi250?period=2023&currentPage=10").json.pagination)
      assert.is_nil(lastp.next)
      assert.is_string(lastp.previous)
    end)

    it("walks every page through next links without gaps or repeats", function()
      local items, pages = walk("/analytics/videos/vi250?period=2023&pageSize=100")
      assert.are.equal(3, pages)
      assert.are.equal(250, #items)
      for i, it in ipairs(items) do assert.are.equal(("psvi250_%06d"):format(i), it.session.sessionId) end
    end)

    it("answers a page beyond the last with empty data", function()
      local r = api("/analytics/videos/vi250?period=2023&currentPage=11")
      assert.are.equal(200, r.status)
      assert.matches('"data":%[%]', r.body)
      assert.are.equal(0, int(r.json.pagination.currentPageItems))
      assert.are.equal(10, int(r.json.pagination.pagesTotal))
    end)

    it("filters on metadata (AND), with + and %20 decoding to spaces", function()
      local r = walk("/analytics/videos/vi250?period=2023&metadata[plan]=pro&pageSize=100")
      assert.are.equal(83, #r)
      for _, it in ipairs(r) do assert.are.equal("pro", it.session.metadata[2].value) end
      local two = walk("/analytics/videos/vi250?period=2023&metadata[user]=user7&metadata[plan]=free")
      local ids = {}
      for _, it in ipairs(two) do ids[#ids + 1] = it.session.sessionId end
      assert.are.same({ "psvi250_000007", "psvi250_000107" }, ids)
      for _, q in ipairs({ "caf%C3%A9+au+lait", "caf%C3%A9%20au%20lait" }) do
        local tag = walk("/analytics/videos/vi250?period=2023&pageSize=100&metadata%5Btag%5D=" .. q)
        assert.are.equal(22, #tag)
        assert.are.equal("psvi250_000011", tag[1].session.sessionId)
      end
      assert.are.equal(0, int(api("/analytics/videos/vi250?period=2023&metadata[nokey]=x").json.pagination.itemsTotal))
      local gold = api("/analytics/videos/vi250?period=2023&metadata[plan]=gold")
      assert.are.equal(0, int(gold.json.pagination.itemsTotal))
      local big = api("/analytics/videos/vi100k?period=2023-06&metadata[user]=user42&pageSize=100")
      local expected = 0
      for i = 1, 100000 do
        local t = loaded(100000, i)
        if i % 100 == 42 and t >= 1685577600000 and t < 1688169600000 then expected = expected + 1 end
      end
      assert.are.equal(expected, int(big.json.pagination.itemsTotal))
      for _, it in ipairs(big.json.data) do assert.are.equal("user42", it.session.metadata[1].value) end
    end)

    local PERIODS = {
      { "2023-03-15", 1678838400000, 1678924800000 },
      { "2023-W11", 1678665600000, 1679270400000 },
      { "2023-02", 1675209600000, 1677628800000 },
      { "2023", 1672531200000, 1704067200000 },
      { "2023-06-01/2023-06-30", 1685577600000, 1688169600000 },
      { "2022", 0, 0 },
      { "2024-01-01", 0, 0 },
    }
    for _, case in ipairs(PERIODS) do
      it("filters loadedAt on period " .. case[1], function()
        local r = api("/analytics/videos/vi10k?pageSize=100&period=" .. case[1])
        assert.are.equal(200, r.status)
        assert.are.equal(count_in(10000, case[2], case[3]), int(r.json.pagination.itemsTotal))
        local items = walk("/analytics/videos/vi10k?pageSize=100&period=" .. case[1])
        assert.are.equal(int(r.json.pagination.itemsTotal), #items)
        for _, it in ipairs(items) do
          local t = iso_ms(it.session.loadedAt)
          assert.is_true(t >= case[2] and t < case[3], it.session.loadedAt)
        end
      end)
    end

    it("rejects a missing or malformed period with a 400 naming period", function()
      for _, q in ipairs({ "", "?period=", "?period=2023-13", "?period=2023-02-30", "?period=2023-W54",
                           "?period=2023/01", "?period=23", "?period=2023-01-31/2023-01-01",
                           "?period=2023-01-01T00:00:00.000Z" }) do
        local r = api("/analytics/videos/vi250" .. q)
        assert.are.equal(400, r.status, q)
        assert.matches("^application/problem%+json", r.headers["content-type"])
        assert.are.equal("period", r.json.name)
        assert.are.equal(400, int(r.json.status))
        assert.is_string(r.json.type)
        assert.is_string(r.json.title)
      end
    end)

    it("bounds pageSize to 1..100 and currentPage to >= 1", function()
      for _, v in ipairs({ "0", "101", "abc", "-1", "1.5", "" }) do
        local r = api("/analytics/videos/vi250?period=2023&pageSize=" .. v)
        assert.are.equal(400, r.status, v)
        assert.are.equal("https://docs.api.video/reference/invalid-attribute", r.json.type)
        assert.are.equal("pageSize", r.json.name)
        assert.are.equal(400, int(r.json.status))
        assert.is_string(r.json.title)
      end
      for _, v in ipairs({ "0", "-2", "x" }) do
        local r = api("/analytics/videos/vi250?period=2023&currentPage=" .. v)
        assert.are.equal(400, r.status, v)
        assert.are.equal("currentPage", r.json.name)
      end
      assert.are.equal(1, #api("/analytics/videos/vi250?period=2023&pageSize=1").json.data)
      assert.are.equal(100, #api("/analytics/videos/vi250?period=2023&pageSize=100").json.data)
      assert.are.equal(400, api("/analytics/sessions/psvi250_000001/events?pageSize=101").status)
      assert.are.equal(400, api("/analytics/live-streams/li500?period=2023&currentPage=0").status)
    end)

    it("answers 404 for unknown ids, decoding the path once", function()
      same(not_found("videoId"), api("/analytics/videos/viNope?period=2023").json)
      same(not_found("videoId"), api("/analytics/videos/li500?period=2023").json)
      same(not_found("videoId"), api("/analytics/videos/vi+250?period=2023").json)
      assert.are.equal(200, api("/analytics/videos/vi%32%350?period=2023").status)
      local r = api("/analytics/videos/viNope?period=2023")
      assert.are.equal(404, r.status)
      assert.matches("^application/problem%+json", r.headers["content-type"])
    end)
  end)

  describe("GET /analytics/live-streams/{liveStreamId}", function()
    it("returns 500 sessions, metadata only on even ones, no x-extra", function()
      local items = walk("/analytics/live-streams/li500?period=2023&pageSize=100")
      assert.are.equal(500, #items)
      for i, it in ipairs(items) do
        assert.are.equal(("psli500_%06d"):format(i), it.session.sessionId)
        assert.are.equal(loaded(500, i), iso_ms(it.session.loadedAt))
        if i % 2 == 0 then assert.is_table(it.session.metadata) else assert.is_nil(it.session.metadata) end
        assert.is_nil(it["x-extra"])
        if i % 7 == 0 then assert.are.equal(cjson.null, it.location.city) end
      end
      local r = api("/analytics/live-streams/li500?period=2023-01")
      assert.are.equal(count_in(500, 1672531200000, 1675209600000), int(r.json.pagination.itemsTotal))
    end)

    it("handles liEmpty, a missing period and unknown ids", function()
      local e = api("/analytics/live-streams/liEmpty?period=2023")
      assert.are.equal(0, int(e.json.pagination.itemsTotal))
      assert.are.equal(1, int(e.json.pagination.pagesTotal))
      assert.are.equal("period", api("/analytics/live-streams/li500").json.name)
      same(not_found("liveStreamId"), api("/analytics/live-streams/vi250?period=2023").json)
      assert.are.equal(404, api("/analytics/live-streams/liNope?period=2023").status)
    end)
  end)

  describe("GET /analytics/sessions/{sessionId}/events", function()
    it("lists 3 + i%8 events cycling through every type inside the session", function()
      for _, i in ipairs({ 1, 13, 250 }) do
        local sid = ("psvi250_%06d"):format(i)
        local s = api("/analytics/videos/vi250?period=2023&pageSize=1&currentPage=" .. i).json.data[1].session
        local r = api("/analytics/sessions/" .. sid .. "/events")
        assert.are.equal(200, r.status)
        assert.are.equal(3 + i % 8, #r.json.data)
        assert.are.equal(3 + i % 8, int(r.json.pagination.itemsTotal))
        for _, ev in ipairs(r.json.data) do
          local t = iso_ms(ev.emittedAt)
          assert.is_true(t >= iso_ms(s.loadedAt) and t <= iso_ms(s.endedAt))
          if ev.type:match("^seek") then
            assert.is_nil(ev.at)
            assert.is_true(V.is_integer(int(ev.from)))
            assert.is_true(V.is_integer(int(ev.to)))
          else
            assert.is_true(V.is_integer(int(ev.at)))
          end
        end
      end
      local types = {}
      for _, ev in ipairs(walk("/analytics/sessions/psManyEvents/events?pageSize=100")) do types[ev.type] = true end
      assert.are.same({ ready = true, play = true, pause = true, resume = true, ["seek.forward"] = true,
                        ["seek.backward"] = true, ["end"] = true }, types)
    end)

    it("pages psManyEvents (1000) and psNoEvents (0); live sessions have events too", function()
      local r = api("/analytics/sessions/psManyEvents/events?pageSize=100&currentPage=10")
      same({ currentPage = 10, currentPageItems = 100, pageSize = 100, pagesTotal = 10, itemsTotal = 1000,
             links = r.json.pagination.links }, r.json.pagination)
      local n = api("/analytics/sessions/psNoEvents/events")
      assert.matches('"data":%[%]', n.body)
      assert.are.equal(1, int(n.json.pagination.pagesTotal))
      assert.are.equal(3 + 2 % 8, #api("/analytics/sessions/psli500_000002/events").json.data)
      assert.are.equal(3, #api("/analytics/sessions/psvi100k_100000/events").json.data)
    end)

    it("answers 404 naming sessionId", function()
      for _, sid in ipairs({ "psNope", "psvi250_000251", "psvi250_000000", "psvi250_1", "psviEmpty_000001" }) do
        local r = api("/analytics/sessions/" .. sid .. "/events")
        assert.are.equal(404, r.status, sid)
        same(not_found("sessionId"), r.json)
      end
    end)
  end)

end)
