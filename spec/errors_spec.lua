-- Specs of lua/apivideo/errors.lua: the error objects, their one-line form, and
-- building them from real responses of the stand-in.
local apivideo = require("apivideo")
local errors = require("apivideo.errors")
local core = require("apivideo.core")
local mime = require("mime")
local D = require("spec.support.drive")
local S = require("spec.support.standin")

local NOT_FOUND = {
  type = "https://docs.api.video/docs/resourcenot_found",
  title = "The requested resource was not found.",
  name = "videoId",
  status = 404,
}

-- Every string reachable from v (keys and values, nested tables, tostring of tables with metatables).
local function strings_of(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) end
    for k, x in pairs(v) do
      strings_of(k, out, seen)
      strings_of(x, out, seen)
    end
  end
  return out
end

local function assert_no_secret(v, secrets)
  for _, s in ipairs(strings_of(v)) do
    for _, secret in ipairs(secrets) do
      assert.is_nil(s:find(secret, 1, true), "secret found in: " .. s)
    end
  end
end

describe("apivideo.errors", function()
  describe("new and is_error", function()
    it("accepts exactly the five kinds", function()
      for _, kind in ipairs({ "http", "network", "timeout", "decode", "auth" }) do
        local e = errors.new({ kind = kind })
        assert.equal(kind, e.kind)
        assert.is_true(apivideo.is_error(e))
      end
      assert.has_error(function() errors.new({ kind = "oops" }) end)
      assert.has_error(function() errors.new({}) end)
    end)

    it("apivideo.is_error is false for anything not built by the library", function()
      assert.equal(errors.is_error, apivideo.is_error)
      for _, v in ipairs({ "apivideo: HTTP 404", 404, true, {}, { kind = "http", status = 404 },
        setmetatable({ kind = "http" }, { __name = "apivideo.error" }) }) do
        assert.is_false(apivideo.is_error(v), tostring(v))
      end
      assert.is_false(apivideo.is_error(nil))
    end)

    it("all errors share one metatable", function()
      assert.equal(getmetatable(errors.new({ kind = "http" })), getmetatable(errors.new({ kind = "network" })))
      assert.equal(errors.Error, getmetatable(errors.new({ kind = "decode" })))
    end)
  end)

  describe("tostring", function()
    it("is exactly the documented line for a 404 problem", function()
      local e = errors.from_response("http", "GET", "https://ws.api.video/analytics/videos/vi123?period=2023",
        { status = 404, headers = {}, json = NOT_FOUND })
      assert.equal("apivideo: HTTP 404 The requested resource was not found. (videoId) GET /analytics/videos/vi123",
        tostring(e))
    end)

    it("adds the detail after a dash and omits an empty name", function()
      local e = errors.new({ kind = "http", status = 400, title = "An attribute is invalid.", name = "",
        detail = "pageSize must be between 1 and 100", method = "GET", url = "http://127.0.0.1:1/a?x=1" })
      assert.equal("apivideo: HTTP 400 An attribute is invalid. - pageSize must be between 1 and 100 GET /a",
        tostring(e))
    end)

    it("has its own forms for auth, network, timeout and decode errors", function()
      assert.equal("apivideo: authentication failed: HTTP 400 The user credentials were incorrect. POST /auth/api-key",
        tostring(errors.new({ kind = "auth", status = 400, title = "The user credentials were incorrect.", name = "",
          method = "POST", url = "https://ws.api.video/auth/api-key" })))
      assert.equal("apivideo: network error: Failed to connect GET /analytics/sessions/ps1/events",
        tostring(errors.new({ kind = "network", title = "Failed to connect", method = "GET",
          url = "http://127.0.0.1:9/analytics/sessions/ps1/events?pageSize=1" })))
      assert.equal("apivideo: timeout error: Operation timed out",
        tostring(errors.new({ kind = "timeout", title = "Operation timed out" })))
      assert.equal("apivideo: decode error: invalid JSON GET /",
        tostring(errors.new({ kind = "decode", title = "invalid JSON", method = "GET", url = "http://h" })))
    end)

    it("counts attempts when there was more than one", function()
      local e = errors.new({ kind = "http", status = 503, title = "Service Unavailable", method = "GET",
        url = "http://h/x", attempts = 4 })
      assert.equal("apivideo: HTTP 503 Service Unavailable [after 4 attempts] GET /x", tostring(e))
      e.attempts = 1
      assert.equal("apivideo: HTTP 503 Service Unavailable GET /x", tostring(e))
    end)

    it("is one line even when the server's text holds CR or LF", function()
      local e = errors.new({ kind = "http", status = 500, title = "bad\r\nthing", detail = "line1\nline2\rline3",
        method = "GET", url = "http://h/x" })
      local s = tostring(e)
      assert.is_nil(s:find("[\r\n]"))
      assert.equal("apivideo: HTTP 500 bad thing - line1 line2 line3 GET /x", s)
    end)

    it("shows the path only: no scheme, host, query or user info", function()
      local e = errors.new({ kind = "http", status = 404, title = "Not Found", method = "GET",
        url = "https://user:s3cr3t@ws.api.video/analytics/videos/vi1?period=2023&metadata[k]=v#frag" })
      local s = tostring(e)
      assert.equal("apivideo: HTTP 404 Not Found GET /analytics/videos/vi1", s)
      assert.is_nil(s:find("s3cr3t", 1, true))
    end)
  end)

  describe("from_response", function()
    it("copies the problem JSON fields and problems, and keeps no body", function()
      local problems = { { title = "bad", name = "pageSize" } }
      local e = errors.from_response("http", "GET", "http://h/analytics/videos/vi1", {
        status = 400, headers = {},
        json = { type = "https://docs.api.video/reference/invalid-attribute", title = "An attribute is invalid.",
          name = "pageSize", detail = "too big", status = 400, problems = problems },
      })
      assert.equal("http", e.kind)
      assert.equal(400, e.status)
      assert.equal("https://docs.api.video/reference/invalid-attribute", e.type)
      assert.equal("An attribute is invalid.", e.title)
      assert.equal("pageSize", e.name)
      assert.equal("too big", e.detail)
      assert.equal(problems, e.problems)
      assert.equal("GET", e.method)
      assert.equal("http://h/analytics/videos/vi1", e.url)
      assert.is_nil(e.body)
    end)

    it("takes the status of the status line over the one the body claims", function()
      local e = errors.from_response("http", "GET", "http://h/x",
        { status = 404, headers = {}, json = { title = "t", status = 400 } })
      assert.equal(404, e.status)
    end)

    it("ignores problem fields of the wrong type", function()
      local e = errors.from_response("http", "GET", "http://h/x",
        { status = 400, headers = {}, json = { title = "t", name = { "x" }, detail = 12, problems = "no" } })
      assert.equal("t", e.title)
      assert.is_nil(e.name)
      assert.is_nil(e.detail)
      assert.is_nil(e.problems)
    end)

    it("keeps a non-JSON body truncated to its first 4096 bytes, with the reason phrase as title", function()
      local html = "<html><body>" .. string.rep("x", 10000) .. "</body></html>"
      local e = errors.from_response("http", "GET", "http://h/x", { status = 502, headers = {}, body = html })
      assert.equal(4096, #e.body)
      assert.equal(html:sub(1, 4096), e.body)
      assert.equal("Bad Gateway", e.title)
      assert.equal("apivideo: HTTP 502 Bad Gateway GET /x", tostring(e))
      local short = errors.from_response("http", "GET", "http://h/x", { status = 500, headers = {}, body = "oops" })
      assert.equal("oops", short.body)
      assert.equal("Internal Server Error", short.title)
    end)

    it("has no body for an empty one and a generic title for an unknown status", function()
      local e = errors.from_response("http", "GET", "http://h/x", { status = 599, headers = {}, body = "" })
      assert.is_nil(e.body)
      assert.equal("HTTP error", e.title)
      assert.equal("apivideo: HTTP 599 HTTP error GET /x", tostring(e))
    end)
  end)

  -- RFC 7807: a problem body may carry any extension member; api.video's own
  -- 400 example (openapi.yaml, GET /videos) has `range` at the top level and in
  -- each of its problems.
  describe("problem members", function()
    local PUBLISHED_400 = [[{"title":"This parameter is out of the allowed range of values.","name":"page",
      "status":400,"range":{"min":1},"problems":[
      {"title":"This parameter is out of the allowed range of values.","name":"page","range":{"min":1}},
      {"title":"This parameter is out of the allowed range of values.","name":"pageSize",
       "range":{"min":10,"max":100}}]}]]
    local URL = "https://ws.api.video/analytics/videos/vi1?currentPage=0"

    local function from(json, status)
      return errors.from_response("http", "GET", URL, { status = status or 400, headers = {}, json = json })
    end

    it("keeps every member of api.video's published 400 body, range included", function()
      local json = assert(core.decode(PUBLISHED_400)) -- the client's own decoder
      local e = from(json)
      assert.same({ min = 1 }, e.range)
      assert.equal("page", e.name)
      assert.equal(2, #e.problems)
      assert.same({ min = 10, max = 100 }, e.problems[2].range)
      assert.equal(json, e.problem) -- the whole body, as decoded
    end)

    it("keeps unknown and extension members under their own names", function()
      local e = from({ type = "https://example.net/probs/out-of-credit", title = "You do not have enough credit.",
        detail = "Your current balance is 30, but that costs 50.", instance = "/account/12345/msgs/abc",
        balance = 30, accounts = { "/account/12345", "/account/67890" }, ["trace-id"] = "t-1", retry = false },
        403)
      assert.equal("/account/12345/msgs/abc", e.instance)
      assert.equal(30, e.balance)
      assert.same({ "/account/12345", "/account/67890" }, e.accounts)
      assert.equal("t-1", e["trace-id"])
      assert.equal(false, e.retry)
      assert.equal("Your current balance is 30, but that costs 50.", e.detail)
    end)

    it("never lets a member overwrite the client's own fields; they stay in err.problem", function()
      local json = { title = "t", kind = "network", method = "DELETE", url = "http://evil.example/", status = 200,
        attempts = 99, curl_code = 7, retry_after = 0, body = "fake body", retryable = true, problem = "p" }
      local e = from(json, 429)
      assert.equal("http", e.kind)
      assert.equal("GET", e.method)
      assert.equal(URL, e.url)
      assert.equal(429, e.status)
      assert.is_nil(e.attempts)
      assert.is_nil(e.curl_code)
      assert.is_nil(e.retry_after)
      assert.is_nil(e.body)
      assert.is_nil(e.retryable)
      assert.equal(json, e.problem)
      assert.equal("network", e.problem.kind)
      assert.equal("DELETE", e.problem.method)
      assert.equal(200, e.problem.status)
      assert.equal("apivideo: HTTP 429 t GET /analytics/videos/vi1", tostring(e))
    end)

    it("keeps a standard member of the wrong type in err.problem only", function()
      local e = from({ title = "t", name = { "x" }, detail = 12, problems = "no", type = false })
      assert.is_nil(e.name)
      assert.is_nil(e.detail)
      assert.is_nil(e.problems)
      assert.is_nil(e.type)
      assert.same({ "x" }, e.problem.name)
      assert.equal(12, e.problem.detail)
      assert.equal("no", e.problem.problems)
    end)

    it("has no err.problem when the body was not a problem", function()
      local e = errors.from_response("http", "GET", URL, { status = 502, headers = {}, body = "<html>" })
      assert.is_nil(e.problem)
    end)

    it("tostring counts the problems and says what each one says, on one line", function()
      local e = from(assert(core.decode(PUBLISHED_400)))
      assert.equal("apivideo: HTTP 400 This parameter is out of the allowed range of values. (page)"
        .. " (2 problems: page: This parameter is out of the allowed range of values.;"
        .. " pageSize: This parameter is out of the allowed range of values.) GET /analytics/videos/vi1",
        tostring(e))
      local one = from({ title = "An attribute is invalid.", name = "period",
        problems = { { name = "period", title = "bad format", detail = "use YYYY-MM-DD" } } })
      assert.equal("apivideo: HTTP 400 An attribute is invalid. (period) (1 problem: period: bad format"
        .. " - use YYYY-MM-DD) GET /analytics/videos/vi1", tostring(one))
      local odd = from({ title = "t", problems = { { title = "no name" }, "plain\ntext", { name = "n" }, 7 } })
      assert.equal("apivideo: HTTP 400 t (4 problems: no name; plain text; n; ?) GET /analytics/videos/vi1",
        tostring(odd))
      assert.equal("apivideo: HTTP 400 t GET /analytics/videos/vi1", tostring(from({ title = "t", problems = {} })))
    end)

    it("tostring shows the first 10 problems and how many more there are", function()
      local list = {}
      for i = 1, 13 do list[i] = { name = "p" .. i, title = "bad" } end
      local s = tostring(from({ title = "t", problems = list }))
      assert.matches("^apivideo: HTTP 400 t %(13 problems: p1: bad; p2: bad; .* p10: bad; and 3 more%) GET /", s)
      assert.is_nil(s:find("p11", 1, true))
    end)
  end)

  describe("from real stand-in responses", function()
    local srv
    local KEY = "standin-key"

    setup(function()
      srv = S.shared()
    end)

    before_each(function()
      srv:idle_reset()
    end)

    local function get(path)
      return assert(D.get({ url = srv.url .. path, headers = { "Authorization: Basic " .. mime.b64(KEY .. ":") } }))
    end

    it("reads the stand-in's 404 problem+json", function()
      local url = srv.url .. "/analytics/videos/viNope?period=2023"
      local r = get("/analytics/videos/viNope?period=2023")
      local e = errors.from_response("http", "GET", url, r)
      assert.equal(404, e.status)
      assert.equal("The requested resource was not found.", e.title)
      assert.equal("videoId", e.name)
      assert.equal("https://docs.api.video/docs/resourcenot_found", e.type)
      assert.is_nil(e.body)
      assert.equal("apivideo: HTTP 404 The requested resource was not found. (videoId) GET /analytics/videos/viNope",
        tostring(e))
    end)

    it("keeps the HTML body of a 502 fault", function()
      srv:faults({ { kind = "502" } })
      local r = get("/analytics/videos/vi250?period=2023")
      assert.equal(502, r.status)
      local e = errors.from_response("http", "GET", srv.url .. "/analytics/videos/vi250?period=2023", r)
      assert.equal("Bad Gateway", e.title)
      assert.is_truthy(e.body:find("<html", 1, true))
      assert.equal(r.body:sub(1, 4096), e.body)
    end)

    it("a client's errors carry no credential: basic mode, 404", function()
      local key = "Basic-Secret-Key-0123456789"
      srv:config({ api_key = key })
      local c = apivideo.new({ api_key = key, base_url = srv.url, auth = "basic", max_retries = 0 })
      local page, err = c.analytics:list_video_sessions("viNope", { period = "2023" })
      c:close()
      assert.is_nil(page)
      assert.is_true(apivideo.is_error(err))
      assert.equal("http", err.kind)
      assert.equal(404, err.status)
      assert.equal(srv.url .. "/analytics/videos/viNope?period=2023", err.url)
      assert_no_secret(err, { key, mime.b64(key .. ":"), "Authorization", "authorization" })
      -- the server did see the Basic credentials (so the secret was really in play)
      assert.equal("basic", srv:log()[1].auth)
    end)

    it("a client's errors carry no credential: bearer mode, refused key", function()
      local key = "Wrong-Bearer-Key-9876543210"
      local c = apivideo.new({ api_key = key, base_url = srv.url, max_retries = 0 })
      local page, err = c.analytics:list_video_sessions("vi250", { period = "2023" })
      c:close()
      assert.is_nil(page)
      assert.equal("auth", err.kind)
      assert.equal(400, err.status)
      assert.equal("The user credentials were incorrect.", err.title)
      assert.is_truthy(tostring(err):find("^apivideo: authentication failed: HTTP 400 "))
      assert_no_secret(err, { key })
      assert.equal(1, srv:stats().auth_api_key)
    end)

    it("a client's 500 error keeps the HTML body and the attempt count", function()
      srv:faults({ { kind = "500" } })
      local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 0 })
      local _, err = c.analytics:list_video_sessions("vi250", { period = "2023" })
      c:close()
      assert.equal("http", err.kind)
      assert.equal(500, err.status)
      assert.equal("Internal Server Error", err.title)
      assert.is_truthy(err.body:find("500 Internal Server Error", 1, true))
      assert.equal(1, err.attempts)
      assert.equal("apivideo: HTTP 500 Internal Server Error GET /analytics/videos/vi250", tostring(err))
    end)
  end)
end)
