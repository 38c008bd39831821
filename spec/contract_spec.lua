-- Contract check against Stoplight Prism, a mock driven by api.video's own
-- OpenAPI documents (../shared/apivideo): openapi.yaml (Basic auth) and
-- openapi-bearer.yaml (Bearer accepted too). Every operation with every
-- parameter must get a 200 through our client, and Prism's `sl-violations`
-- response header must name no violation of the REQUEST (it also reports
-- defects of the document's own response examples, such as relative link
-- URIs: those are not ours, so only locations starting with "request" count).
--
-- `make test` exports APIVIDEO_PRISM_BASIC_URL / APIVIDEO_PRISM_BEARER_URL;
-- without them this file starts Prism itself with scripts/prism.sh.
--
-- How the sl-violations header is read: a page does not carry raw headers,
-- so each client's engine gets a pass-through wrapper around its `fetch`
-- (the one function every request of the client goes through, token calls
-- included). The wrapper records the transfer spec the client built (URL,
-- headers) and the raw transfer result (status, lower-cased headers) and
-- returns the result unchanged. The request Prism judges is therefore exactly
-- the one our client sends, with no copy of its URL or header building here.
local apivideo = require("apivideo")
local core = require("apivideo.core")
local cjson = require("cjson")
local S = require("spec.support.standin")
local V = require("spec.support.compat")
local shell = require("spec.support.shell")

local q = shell.quote

local BASIC = os.getenv("APIVIDEO_PRISM_BASIC_URL")
local BEARER = os.getenv("APIVIDEO_PRISM_BEARER_URL")
local own_prism -- directory of a Prism started here

local function start_prism()
  if BASIC and BASIC ~= "" and BEARER and BEARER ~= "" then return end
  own_prism = shell.tmpdir()
  local out = shell.run(q(S.root() .. "/scripts/prism.sh") .. " start " .. q(own_prism))
  BASIC = out:match("APIVIDEO_PRISM_BASIC_URL=(%S+)")
  BEARER = out:match("APIVIDEO_PRISM_BEARER_URL=(%S+)")
  assert(BASIC and BEARER, "scripts/prism.sh start failed:\n" .. out)
end

local function stop_prism()
  if own_prism then
    shell.run(q(S.root() .. "/scripts/prism.sh") .. " stop " .. q(own_prism))
    shell.remove_tree(own_prism)
    own_prism = nil
  end
end

-- Records every exchange of client c: { method, url, headers (spec), status, resp }.
local function record(c)
  local seen = {}
  local engine = c.engine
  local fetch = engine.fetch
  engine.fetch = function(self, spec)
    local resp = fetch(self, spec)
    seen[#seen + 1] = { method = spec.method or "GET", url = spec.url, headers = spec.headers, resp = resp }
    return resp
  end
  return seen
end

local function violations(resp)
  local h = resp.headers and resp.headers["sl-violations"]
  if not h or h == "" then return {} end
  local ok, list = pcall(cjson.decode, h)
  assert(ok and type(list) == "table", "unreadable sl-violations header: " .. tostring(h))
  return list
end

local function request_violations(resp)
  local out = {}
  for _, v in ipairs(violations(resp)) do
    local loc = v.location
    if type(loc) ~= "table" or loc[1] ~= "response" then
      -- anything not clearly about the response is counted against us
      out[#out + 1] = cjson.encode(v)
    end
  end
  return out
end

local function auth_line(headers)
  for _, h in ipairs(headers) do
    local v = h:match("^[Aa]uthorization:%s*(.*)$")
    if v then return v end
  end
end

local PERIODS = { "2018-01-01", "2018-W01", "2018-01", "2018", "2018-01-01/2018-01-15" }

-- Every operation with every parameter.
local function calls()
  local list = {}
  for _, period in ipairs(PERIODS) do
    list[#list + 1] = { "list_video_sessions", "vi4k0jvEUuaTdRAEjQ4Prklg",
      { period = period, metadata = { Author = "John Doe", Format = "Tutorial" }, current_page = 2, page_size = 25 } }
    list[#list + 1] = { "list_live_stream_sessions", "li400mYKSgQ6xs7taUeSaEKr",
      { period = period, current_page = 2, page_size = 25 } }
  end
  list[#list + 1] = { "list_video_sessions", "vi4k0jvEUuaTdRAEjQ4Prklg", { period = "2018-01" } }
  list[#list + 1] = { "list_live_stream_sessions", "li400mYKSgQ6xs7taUeSaEKr", { period = "2018" } }
  list[#list + 1] = { "list_session_events", "psEmFwGQUAXR2lFHj5nDOpy", { current_page = 2, page_size = 25 } }
  list[#list + 1] = { "list_session_events", "psEmFwGQUAXR2lFHj5nDOpy", nil }
  return list
end

local function check_mode(base_url, mode)
  local c = apivideo.new({ api_key = "prism-contract-key", base_url = base_url, auth = mode, max_retries = 0 })
  local seen = record(c)
  local report = {}
  for _, call in ipairs(calls()) do
    local name, id, opts = call[1], call[2], call[3]
    local page, err = c.analytics[name](c.analytics, id, opts)
    assert.is_nil(err, name .. ": " .. tostring(err))
    assert.is_table(page.data, name)
    assert.is_table(page.pagination, name)
  end
  local gets = 0
  for _, ex in ipairs(seen) do
    local what = ex.method .. " " .. ex.url
    assert.are.equal(200, ex.resp.status, what)
    assert.are.same({}, request_violations(ex.resp), what)
    local line = auth_line(ex.headers)
    if ex.method == "GET" then
      gets = gets + 1
      if mode == "basic" then
        assert.matches("^Basic ", line, what)
      else
        assert.matches("^Bearer %S+$", line, what)
      end
    else
      assert.is_nil(line, what) -- the token call carries no credentials header
    end
    for _, v in ipairs(violations(ex.resp)) do report[v.message or cjson.encode(v)] = true end
  end
  assert.are.equal(#calls(), gets)
  return seen, report
end

-- #once: the requests and the documents do not depend on the Lua version;
-- `make test-all` runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("contract check against Prism (api.video's OpenAPI documents) #once", function()
  setup(start_prism)
  teardown(stop_prism)

  it("basic mode on openapi.yaml: every operation and parameter gets a 200, no request violation", function()
    local seen = check_mode(BASIC, "basic")
    assert.are.equal(#calls(), #seen) -- no token calls in basic mode
    -- the query exactly as sent for the fullest call: metadata as a deepObject, keys sorted
    assert.matches("%?period=2018%-01%-01&metadata%[Author%]=John%%20Doe&metadata%[Format%]=Tutorial"
      .. "&currentPage=2&pageSize=25$", seen[1].url)
  end)

  it("bearer mode on openapi-bearer.yaml: token from /auth/api-key, then every operation gets a 200", function()
    local seen = check_mode(BEARER, "bearer")
    assert.are.equal(#calls() + 1, #seen)
    assert.are.equal("POST", seen[1].method)
    assert.matches("/auth/api%-key$", seen[1].url)
    assert.are.equal(200, seen[1].resp.status)
    assert.are.same({}, request_violations(seen[1].resp))
    -- the token Prism gave (its documented example) is the one the operations carry
    local token = seen[1].resp.json.access_token
    assert.is_string(token)
    assert.are.equal("Bearer " .. token, auth_line(seen[2].headers))
  end)

  it("decodes the documented examples into the documented snake_case shapes", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "basic" })
    local page = assert(c.analytics:list_video_sessions("vi4k0jvEUuaTdRAEjQ4Prklg", { period = "2018" }))
    local s = page.data[1]
    assert.are.equal("psEmFwGQUAXR2lFHj5nDOpy", s.session.session_id)
    assert.are.equal("2019-06-24T11:45:01.109Z", s.session.loaded_at)
    assert.are.equal("2019-06-24T11:49:19.243Z", s.session.ended_at)
    assert.are.equal("video encoding hosting and delivery", s.referrer.search_term)
    assert.is_true(V.is_integer(page.pagination.items_total))
    assert.is_true(V.is_integer(page.pagination.current_page_items))
    local events = assert(c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy"))
    local kinds = {}
    for _, e in ipairs(events.data) do
      kinds[e.type] = true
      assert.is_string(e.emitted_at)
      if e.type:find("^seek") then
        assert.is_true(V.is_integer(e.from))
        assert.is_true(V.is_integer(e.to))
      else
        assert.is_true(V.is_integer(e.at))
      end
    end
    assert.is_true(kinds["seek.forward"] and kinds["seek.backward"] and kinds.ready and true)
  end)

  -- Controls: the checks above could fail. Prism enforces the security scheme
  -- and rejects requests that break the document.
  it("control: Prism refuses a Bearer token on openapi.yaml (Basic only)", function()
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "bearer", max_retries = 0 })
    local page, err = c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy")
    assert.is_nil(page)
    assert.are.equal("http", err.kind)
    assert.are.equal(401, err.status)
  end)

  it("control: Prism answers 422 to a request outside the document (sent with the client's own headers)", function()
    -- The client cannot send this (it validates page_size first), so the
    -- request goes through apivideo.core with the header lines our client
    -- built for its last request.
    local c = apivideo.new({ api_key = "prism-contract-key", base_url = BASIC, auth = "basic" })
    local seen = record(c)
    assert(c.analytics:list_session_events("psEmFwGQUAXR2lFHj5nDOpy", { page_size = 25 }))
    local headers = seen[1].headers
    local m = core.multi({})
    local function get(url)
      local t = m:add({ url = url, method = "GET", headers = headers, timeout_ms = 10000 })
      local deadline = core.now_ms() + 10000
      while t:state() ~= "done" and core.now_ms() < deadline do
        m:perform(200)
        while m:next_done() do end
      end
      return t:result(true)
    end
    local ok = get(BASIC .. "/analytics/sessions/psEmFwGQUAXR2lFHj5nDOpy/events?pageSize=25")
    assert.are.equal(200, ok.status)
    local bad = get(BASIC .. "/analytics/sessions/psEmFwGQUAXR2lFHj5nDOpy/events?pageSize=abc")
    assert.are.equal(422, bad.status)
    local missing = get(BASIC .. "/analytics/videos/vi4k0jvEUuaTdRAEjQ4Prklg")
    assert.are.equal(422, missing.status) -- period is required
    m:close()
  end)
end)
