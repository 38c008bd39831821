-- Specs of the api.video stand-in itself (standin/, notes/standin-contract.md),
-- driven with luasocket only.  Run: cd /work/main && lua5.4 /usr/bin/busted spec/standin_spec.lua
local S = require("spec.support.standin")
local socket = require("socket")
local mime = require("mime")
local cjson = require("cjson")
local V = require("spec.support.compat")
local model = require("spec.support.model")

local KEY = "standin-key"
local BASIC = "Basic " .. mime.b64(KEY .. ":")

-- loadedAt (ms) of session i of a source with n sessions, as the contract defines it;
-- "2023-03-15T01:02:03.456Z" -> ms (UTC) without os.time's local-time pitfalls
local loaded, count_in, iso_ms = model.loaded_ms, model.count_in, model.iso_ms

local function int(x)
  if type(x) == "number" then return V.tointeger(x) or x end
  return x
end

------------------------------------------------------------------------------
-- A minimal raw HTTP/1.1 client (keep-alive, chunked, truncation aware).
local function hostport(url)
  local host, port = url:match("^http://([^:/]+):(%d+)")
  return host, tonumber(port)
end

local function connect(url)
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect(hostport(url)))
  return c
end

local function send_req(c, url, method, path, headers, body)
  local host, port = hostport(url)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
end

-- Reads one response.  Returns {status, headers (lower-case), body, truncated, err}
-- or {closed = true, err} when the server closed before any byte.
local function read_resp(c)
  local line, err = c:receive("*l")
  if not line then return { closed = true, err = err } end
  local r = { status = tonumber(line:match("^HTTP/1%.%d (%d+)")), headers = {} }
  while true do
    local l = assert(c:receive("*l"))
    if l == "" then break end
    local k, v = l:match("^([^:]+):%s*(.*)$")
    r.headers[k:lower()] = v
  end
  local h = r.headers
  if h["transfer-encoding"] == "chunked" then
    local parts = {}
    while true do
      local sz = tonumber(assert(c:receive("*l")):match("^%x+"), 16)
      if sz == 0 then c:receive("*l") break end
      parts[#parts + 1] = assert(c:receive(sz))
      c:receive("*l")
    end
    r.body = table.concat(parts)
  else
    local len = tonumber(h["content-length"] or "0")
    if len > 0 then
      local data, e, partial = c:receive(len)
      if data then r.body = data else r.body, r.truncated, r.err = partial, true, e end
    else
      r.body = ""
    end
  end
  return r
end

local function raw(url, method, path, headers, body)
  local c = connect(url)
  send_req(c, url, method, path, headers, body)
  local r = read_resp(c)
  c:close()
  return r
end

------------------------------------------------------------------------------
local srv

local function get(path, auth, extra)
  local h = { Authorization = auth }
  for k, v in pairs(extra or {}) do h[k] = v end
  local r = raw(srv.url, "GET", path, h)
  if r.body and r.body ~= "" and (r.headers["content-type"] or ""):match("json") then
    local ok, t = pcall(cjson.decode, r.body)
    if ok then r.json = t end
  end
  return r
end

local function api(path, extra) return get(path, BASIC, extra) end

local function post_json(path, tbl)
  local r = raw(srv.url, "POST", path, { ["Content-Type"] = "application/json" }, cjson.encode(tbl))
  if r.body and r.body ~= "" and (r.headers["content-type"] or ""):match("json") then
    r.json = cjson.decode(r.body)
  end
  return r
end

local function token()
  local r = post_json("/auth/api-key", { apiKey = KEY })
  assert.are.equal(200, r.status)
  return r.json
end

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

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return false end
  local s = f:read("*a")
  f:close()
  return not s:match("State:%s*Z")
end

local function read_file(p)
  local f = io.open(p)
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local PROBLEM_401 = {
  type = "https://docs.api.video/reference/unauthorized", title = "Unauthorized request", status = 401,
}
local PROBLEM_CRED = {
  type = "https://docs.api.video/docs/authenticationinvalid_credentials",
  title = "The user credentials were incorrect.", name = "", status = 400,
}
local function not_found(name)
  return { type = "https://docs.api.video/docs/resourcenot_found",
           title = "The requested resource was not found.", name = name, status = 404 }
end

local function same(expected, got)
  local t = {}
  for k, v in pairs(got) do t[k] = int(v) end
  assert.are.same(expected, t)
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
