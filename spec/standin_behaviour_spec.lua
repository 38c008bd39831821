-- Specs of the api.video stand-in itself (see spec/standin_spec.lua), driven
-- with luasocket only: rate limiting, faults, latency and concurrency, stats
-- and log, transport.
--   lua5.4 /usr/bin/busted spec/standin_behaviour_spec.lua
local S = require("spec.support.standin")
local H = require("spec.support.standin_http")
local shell = require("spec.support.shell")
local socket = require("socket")
local mime = require("mime")
local cjson = require("cjson")

local KEY, BASIC = H.KEY, H.BASIC
local connect, send_req, read_resp, raw = H.connect, H.send, H.read, H.raw
local int, same = H.int, H.same
local PROBLEM_401 = H.PROBLEM_401

local srv
local get, api, post_json, token = H.on(function() return srv end)

-- a file's text ("" when it cannot be read)
local function read_file(p) return shell.read_file(p) or "" end

-- #once: the stand-in runs on nginx whatever Lua runs the suite; `make test-all`
-- runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("stand-in: behaviour #once", function()
  setup(function()
    local t = socket.gettime()
    srv = S.start()
    srv.start_time = socket.gettime() - t
  end)
  teardown(function() if srv then srv:stop() end end)
  before_each(function() srv:reset() end)

  describe("rate limiting", function()
    it("puts X-RateLimit-* on every analytics answer", function()
      local a = api("/analytics/videos/vi250?period=2023")
      local b = get("/analytics/videos/vi250?period=2023", nil)
      local c = api("/analytics/videos/nope?period=2023")
      for _, r in ipairs({ a, b, c }) do
        assert.are.equal("100000", r.headers["x-ratelimit-limit"])
        assert.matches("^%d+$", r.headers["x-ratelimit-remaining"])
        assert.matches("^%d+$", r.headers["x-ratelimit-retry-after"])
      end
      assert.is_true(tonumber(a.headers["x-ratelimit-remaining"]) > tonumber(c.headers["x-ratelimit-remaining"]))
    end)

    it("enforces a configured limit with 429 and a new window", function()
      srv:config({ rate_limit = { limit = 3, window_s = 1 } })
      for n = 1, 3 do
        local r = api("/analytics/videos/vi250?period=2023")
        assert.are.equal(200, r.status)
        assert.are.equal("3", r.headers["x-ratelimit-limit"])
        assert.are.equal(tostring(3 - n), r.headers["x-ratelimit-remaining"])
      end
      local r = api("/analytics/videos/vi250?period=2023")
      assert.are.equal(429, r.status)
      assert.matches("^application/problem%+json", r.headers["content-type"])
      same({ type = "https://docs.api.video/reference/too-many-requests", title = "Too many requests.", status = 429 },
           r.json)
      assert.are.equal("0", r.headers["x-ratelimit-remaining"])
      local wait = tonumber(r.headers["x-ratelimit-retry-after"])
      assert.is_true(wait >= 1 and wait <= 1)
      assert.are.equal(200, post_json("/auth/api-key", { apiKey = KEY }).status, "/auth/* is not limited")
      socket.sleep(1.05)
      assert.are.equal(200, api("/analytics/videos/vi250?period=2023").status)
    end)
  end)

  describe("faults", function()
    local PATH = "/analytics/videos/vi250?period=2023&pageSize=2"

    for _, code in ipairs({ 500, 502, 503 }) do
      it("kind " .. code .. " answers an HTML error", function()
        srv:faults({ { match = "vi250", kind = tostring(code) } })
        local r = api(PATH)
        assert.are.equal(code, r.status)
        assert.matches("^text/html", r.headers["content-type"])
        assert.matches("<html>", r.body)
        assert.are.equal(200, api(PATH).status, "count defaults to 1")
      end)
    end

    it("kind 429 answers a problem with X-RateLimit-Retry-After: 1", function()
      srv:faults({ { kind = "429" } })
      local r = api(PATH)
      assert.are.equal(429, r.status)
      assert.are.equal("1", r.headers["x-ratelimit-retry-after"])
      assert.are.equal("https://docs.api.video/reference/too-many-requests", r.json.type)
    end)

    it("kind 401 answers as for a bad token", function()
      srv:faults({ { kind = "401" } })
      local r = api(PATH)
      assert.are.equal(401, r.status)
      same(PROBLEM_401, r.json)
    end)

    it("kind truncated declares more bytes than it sends, then closes", function()
      srv:faults({ { kind = "truncated" } })
      local c = connect(srv.url)
      send_req(c, srv.url, "GET", PATH, { Authorization = BASIC })
      local r = read_resp(c)
      assert.are.equal(200, r.status)
      assert.is_true(r.truncated)
      assert.are.equal("closed", r.err)
      assert.is_true(#r.body < tonumber(r.headers["content-length"]))
      c:close()
    end)

    it("kind invalid_json answers 200 with a cut JSON body", function()
      srv:faults({ { kind = "invalid_json" } })
      local r = api(PATH)
      assert.are.equal(200, r.status)
      assert.matches("^application/json", r.headers["content-type"])
      assert.are.equal('{"data": [', r.body)
    end)

    it("kind empty answers 200 with an empty body", function()
      srv:faults({ { kind = "empty" } })
      local r = api(PATH)
      assert.are.equal(200, r.status)
      assert.matches("^application/json", r.headers["content-type"])
      assert.are.equal("", r.body)
    end)

    it("kind delay waits delay_ms and answers normally", function()
      srv:faults({ { kind = "delay", delay_ms = 250 } })
      local t = socket.gettime()
      local r = api(PATH)
      assert.is_true(socket.gettime() - t >= 0.24)
      assert.are.equal(200, r.status)
      assert.are.equal(2, #r.json.data)
    end)

    it("kind reset closes without any answer", function()
      srv:faults({ { kind = "reset" } })
      local r = raw(srv.url, "GET", PATH, { Authorization = BASIC })
      assert.is_true(r.closed)
      assert.are.equal(200, api(PATH).status)
    end)

    it("honours match, skip and count; a new list replaces the old", function()
      srv:faults({ { match = "vi250", kind = "503", skip = 1, count = 2 } })
      local seq = {}
      for _ = 1, 2 do
        seq[#seq + 1] = api(PATH).status
        seq[#seq + 1] = api("/analytics/videos/vi10k?period=2023").status
      end
      seq[#seq + 1] = api(PATH).status
      seq[#seq + 1] = api(PATH).status
      assert.are.same({ 200, 200, 503, 200, 503, 200 }, seq)
      srv:faults({ { match = "/auth/", kind = "502" } })
      assert.are.equal(200, api(PATH).status)
      assert.are.equal(502, post_json("/auth/api-key", { apiKey = KEY }).status)
      srv:faults({ { kind = "500", count = 5 } })
      srv:faults({})
      assert.are.equal(200, api(PATH).status)
      srv:faults({ { kind = "500", count = 5 } })
      srv:reset()
      assert.are.equal(200, api(PATH).status)
    end)

    it("rejects an unknown kind", function()
      local code = S.http("POST", srv.url .. "/_standin/faults", cjson.encode({ faults = { { kind = "boom" } } }))
      assert.are.equal(400, code)
    end)
  end)

  describe("latency and concurrency", function()
    it("sleeps without blocking: two 300 ms requests overlap", function()
      srv:config({ latency_ms = 300 })
      local t = socket.gettime()
      local a, b = connect(srv.url), connect(srv.url)
      send_req(a, srv.url, "GET", "/analytics/videos/vi250?period=2023", { Authorization = BASIC })
      send_req(b, srv.url, "GET", "/analytics/videos/vi250?period=2023", { Authorization = BASIC })
      local ra, rb = read_resp(a), read_resp(b)
      local elapsed = socket.gettime() - t
      a:close(); b:close()
      assert.are.equal(200, ra.status)
      assert.are.equal(200, rb.status)
      assert.is_true(elapsed >= 0.29 and elapsed < 0.55, ("elapsed %.3f s"):format(elapsed))
      local st = srv:stats()
      assert.are.equal(2, int(st.max_in_flight))
      assert.are.equal(0, int(st.in_flight))
    end)
  end)

  describe("stats and log", function()
    it("counts requests, connections and statuses; control calls are not counted", function()
      local c = connect(srv.url)
      for _ = 1, 3 do
        send_req(c, srv.url, "GET", "/analytics/videos/vi250?period=2023", { Authorization = BASIC })
        assert.are.equal(200, read_resp(c).status)
      end
      send_req(c, srv.url, "GET", "/analytics/videos/vi250?period=2023")
      assert.are.equal(401, read_resp(c).status)
      c:close()
      local t = token()
      post_json("/auth/refresh", { refreshToken = t.refresh_token })
      post_json("/auth/refresh", { refreshToken = "bad" })
      srv:stats()
      srv:log()
      local st = srv:stats()
      assert.are.equal(7, int(st.requests))
      assert.are.equal(4, int(st.api_requests))
      assert.are.equal(1, int(st.auth_api_key))
      assert.are.equal(2, int(st.auth_refresh))
      assert.are.equal(4, int(st.connections))
      assert.are.equal(0, int(st.in_flight))
      assert.are.equal(1, int(st.max_in_flight))
      same({ ["200"] = 5, ["401"] = 1, ["400"] = 1 }, st.status)
      srv:reset()
      st = srv:stats()
      assert.are.equal(0, int(st.requests))
      assert.are.same({}, st.status)
    end)

    it("logs requests oldest first with decoded path and args and the auth kind", function()
      local t = token()
      get("/analytics/videos/vi250?period=2023&x=a+b%20c&x=2&metadata%5Bk%5D=v", "Bearer " .. t.access_token)
      get("/analytics/videos/vi%2B250?period=2023", BASIC, { ["X-Custom"] = "yes" })
      get("/analytics/videos/vi250?period=2023", nil)
      get("/analytics/videos/vi250?period=2023", "Bearer bogus")
      local log = srv:log()
      assert.are.equal(5, #log)
      local e1, e2, e3, e4, e5 = log[1], log[2], log[3], log[4], log[5]
      assert.are.equal("/auth/api-key", e1.path)
      assert.are.equal("POST", e1.method)
      assert.are.equal(200, int(e1.status))
      assert.are.equal("none", e1.auth)
      assert.are.equal("GET", e2.method)
      assert.are.equal("/analytics/videos/vi250?period=2023&x=a+b%20c&x=2&metadata%5Bk%5D=v", e2.uri)
      assert.are.equal("/analytics/videos/vi250", e2.path)
      assert.are.same({ period = "2023", x = { "a b c", "2" }, ["metadata[k]"] = "v" }, e2.args)
      assert.are.equal("bearer", e2.auth)
      assert.are.equal(cjson.null, e2.body)
      assert.is_number(e2.connection)
      assert.are.equal("/analytics/videos/vi%2B250?period=2023", e3.uri)
      assert.are.equal("/analytics/videos/vi+250", e3.path)
      assert.are.equal(404, int(e3.status))
      assert.are.equal("basic", e3.auth)
      assert.are.equal("yes", e3.headers["x-custom"])
      assert.is_nil(e3.headers.authorization)
      assert.are.equal("none", e4.auth)
      assert.are.equal("invalid", e5.auth)
      assert.are.equal(401, int(e5.status))
    end)

    it("keeps secrets out of the log, the log files and the control output", function()
      local t = token()
      post_json("/auth/refresh", { refreshToken = t.refresh_token })
      raw(srv.url, "POST", "/auth/api-key", {}, '{ "apiKey" : "' .. KEY .. '"')   -- not even valid JSON
      get("/analytics/videos/vi250?period=2023", "Bearer " .. t.access_token)
      get("/analytics/videos/vi250?period=2023", BASIC)
      local log = srv:log()
      assert.are.equal('{"apiKey":"<redacted>"}', log[1].body)
      assert.are.equal('{"refreshToken":"<redacted>"}', log[2].body)
      assert.matches("<redacted>", log[3].body)
      local _, text = S.http("GET", srv.url .. "/_standin/log")
      local _, stats = S.http("GET", srv.url .. "/_standin/stats")
      local files = read_file(srv.prefix .. "/logs/access.log") .. read_file(srv.prefix .. "/logs/error.log")
        .. read_file(srv.prefix .. "/nginx.conf")
      for _, secret in ipairs({ KEY, t.access_token, t.refresh_token, mime.b64(KEY .. ":") }) do
        for _, hay in ipairs({ text, stats, files }) do
          assert.is_nil(hay:find(secret, 1, true), "secret leaked")
        end
      end
    end)

    it("keeps the last 1000 entries", function()
      local c = connect(srv.url)
      for n = 1, 1003 do
        send_req(c, srv.url, "GET", "/nope/" .. n)
        read_resp(c)
      end
      c:close()
      local log = srv:log()
      assert.are.equal(1000, #log)
      assert.are.equal("/nope/4", log[1].path)
      assert.are.equal("/nope/1003", log[1000].path)
      assert.are.equal(1, int(srv:stats().connections))
    end)
  end)

  describe("transport", function()
    it("keeps connections alive and gzips on request", function()
      local c = connect(srv.url)
      send_req(c, srv.url, "GET", "/analytics/videos/vi250?period=2023&pageSize=100",
        { Authorization = BASIC, ["Accept-Encoding"] = "gzip" })
      local r = read_resp(c)
      assert.are.equal(200, r.status)
      assert.are.equal("gzip", r.headers["content-encoding"])
      send_req(c, srv.url, "GET", "/analytics/videos/vi250?period=2023", { Authorization = BASIC })
      local r2 = read_resp(c)
      assert.are.equal(200, r2.status)
      assert.is_nil(r2.headers["content-encoding"])
      assert.is_truthy(cjson.decode(r2.body).data)
      c:close()
      assert.are.equal(1, int(srv:stats().connections))
    end)

    it("answers unknown paths with a 404 problem", function()
      local r = api("/nothing/here")
      assert.are.equal(404, r.status)
      assert.matches("^application/problem%+json", r.headers["content-type"])
    end)
  end)

  describe("support module", function()
    it("S.shared() attaches to APIVIDEO_STANDIN_URL when set", function()
      -- run in a child so the environment variable is really set
      local cmd = ("cd %s && APIVIDEO_STANDIN_URL=%s lua5.4 -e '%s'"):format(S.root(), srv.url,
        [[local S = require("spec.support.standin"); local s = S.shared(); ]] ..
        [[io.write(s.url, " ", tostring(s.external), " ", math.tointeger(s:stats().requests))]])
      local p = io.popen(cmd)
      local out = p:read("*a")
      p:close()
      assert.are.equal(srv.url .. " true 0", out)
    end)

    it("S.shared() starts one server otherwise and stops it at exit", function()
      local cmd = ("cd / && env -u APIVIDEO_STANDIN_URL lua5.4 -e '%s'"):format(
        [[package.path = "]] .. S.root() .. [[/?.lua;" .. package.path; ]] ..
        [[local S = require("spec.support.standin"); local a = S.shared(); local b = S.shared(); ]] ..
        [[assert(a == b); io.write(a.prefix)]])
      local p = io.popen(cmd)
      local prefix = p:read("*a")
      p:close()
      assert.matches("apivideo%-standin", prefix)
      assert.is_nil(io.open(prefix .. "/nginx.pid"), "stopped and cleaned at exit")
    end)
  end)
end)
