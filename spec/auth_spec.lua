-- Authentication against the stand-in: bearer token exchange, sharing, renewal
-- through /auth/refresh (and the fallback to /auth/api-key), re-authentication
-- on a 401, Basic mode, a refused key, the "token" events, and that no
-- credential ever shows up in anything the library hands back.
-- Every claim about requests is checked on what the SERVER saw (stats / log).
local apivideo = require("apivideo")
local core = require("apivideo.core")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local socket = require("socket")

local srv = S.shared()
local of_type = clients.of_type

-- A deterministic dump of any value (sorted keys), to search for secrets.
local function dump(v, seen)
  seen = seen or {}
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = dump(k, seen) .. "=" .. dump(v[k], seen) end
  local mt = getmetatable(v)
  local s = "{" .. table.concat(out, ",") .. "}"
  if type(mt) == "table" and mt.__tostring then s = s .. "<" .. tostring(v) .. ">" end
  return s
end

local function base64(s)
  local mime = require("mime")
  return (mime.b64(s))
end

local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })

local received_at = setmetatable({}, { __mode = "k" }) -- event -> core.now_ms() when reported

local function recorder()
  local events = {}
  return events, function(ev)
    received_at[ev] = core.now_ms()
    events[#events + 1] = ev
  end
end

-- Sleeps until `ms` after the client received its first token (its "token"
-- event): the renewal tests aim between renew_at and expires_at, which the
-- client counts from that moment, whatever the calls in between took.
local function sleep_after_first_token(events, ms)
  local first
  for _, ev in ipairs(events) do
    if ev.type == "token" then first = ev break end
  end
  assert(first, "no token event")
  local left = received_at[first] + ms - core.now_ms()
  if left > 0 then socket.sleep(left / 1000) end
end

local function auth_calls(stats)
  return stats.auth_api_key + stats.auth_refresh
end

local ONE = { period = "2023", page_size = 1 }

describe("bearer authentication", function()
  before_each(function() srv:idle_reset() end)

  it("exchanges the key once, on the first request, with POST /auth/api-key {apiKey}", function()
    local c = new_client()
    assert.are.equal(0, srv:stats().requests) -- creating a client sends nothing
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(err)
    assert.are.equal(1, #page.data)
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(0, st.auth_refresh)
    assert.are.equal(1, st.api_requests)
    local log = srv:log()
    assert.are.equal(2, #log)
    assert.are.equal("POST", log[1].method)
    assert.are.equal("/auth/api-key", log[1].path)
    assert.are.equal("application/json", log[1].headers["content-type"])
    -- the stand-in redacts the key's value in its log, but keeps the field name
    local body = require("cjson").decode(log[1].body)
    assert.are.equal("<redacted>", body.apiKey)
    assert.are.equal("GET", log[2].method)
    assert.are.equal("bearer", log[2].auth)
    assert.are.equal(200, log[2].status)
  end)

  it("reuses the token: three calls, one exchange", function()
    local c = new_client()
    for _ = 1, 3 do
      assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    end
    assert.is_table((c.analytics:list_session_events("psvi250_000001")))
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(0, st.auth_refresh)
    assert.are.equal(4, st.api_requests)
    for _, e in ipairs(srv:log()) do
      if e.path:find("^/analytics/") then assert.are.equal("bearer", e.auth) end
    end
  end)

  it("makes exactly one /auth/api-key call for a 50-page walk with 4 pages in flight", function()
    local c = new_client({ concurrency = 4 })
    local n, pages = 0, 0
    for page in c.analytics:video_session_pages("vi250", { period = "2023", page_size = 5 }) do
      pages = pages + 1
      n = n + #page.data
    end
    assert.are.equal(50, pages)
    assert.are.equal(250, n)
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(0, st.auth_refresh)
    assert.are.equal(50, st.api_requests)
    assert.is_nil(st.status["401"])
    local bearer = 0
    for _, e in ipairs(srv:log()) do
      if e.path:find("^/analytics/") and e.auth == "bearer" and e.status == 200 then bearer = bearer + 1 end
    end
    assert.are.equal(50, bearer)
  end)

  it("shares one re-authentication between concurrent requests refused with 401", function()
    -- The token is revoked while the first page is being read: the prefetched
    -- pages then all come back 401 at about the same time, while the new
    -- exchange (100 ms of latency) is still running. They must wait for that
    -- one exchange instead of each starting their own.
    srv:config({ latency_ms = 100 })
    local events, on_event = recorder()
    local c = new_client({ concurrency = 4, on_event = on_event })
    local n, revoked = 0, false
    for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do
      n = n + 1
      if not revoked then
        srv:revoke()
        revoked = true
      end
    end
    assert.are.equal(250, n)
    local st = srv:stats()
    local refused = st.status["401"] or 0
    assert.is_true(refused >= 2, "concurrent 401s: " .. refused)
    assert.are.equal(2, auth_calls(st)) -- the first exchange and ONE shared re-authentication
    assert.are.equal(25 + refused, st.api_requests) -- each refused page replayed once
    assert.are.equal(refused, #of_type(events, "reauth"))
  end)

  it("renews the token before it expires through POST /auth/refresh (margin: a tenth of the lifetime)", function()
    -- lifetime 2 s -> margin 0.2 s -> renewal due after 1.8 s, expiry at 2 s.
    srv:config({ token_ttl_s = 2 })
    local events, on_event = recorder()
    local c = new_client({ on_event = on_event })
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    -- still fresh: no renewal
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    assert.are.equal(0, srv:stats().auth_refresh)
    sleep_after_first_token(events, 1900)
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(err)
    assert.is_table(page)
    local st = srv:stats()
    assert.are.equal(1, st.auth_refresh)
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(3, st.api_requests)
    assert.is_nil(st.status["401"]) -- renewed ahead of expiry: the API never refused the token
    local log = srv:log()
    assert.are.equal("/auth/refresh", log[#log - 1].path)
    assert.are.equal(200, log[#log - 1].status)
    assert.are.equal("<redacted>", require("cjson").decode(log[#log - 1].body).refreshToken)
    assert.are.equal("bearer", log[#log].auth)
    assert.are.equal(200, log[#log].status)
    local tokens = of_type(events, "token")
    assert.are.equal(2, #tokens)
    assert.are.equal("api-key", tokens[1].action)
    assert.are.equal("refresh", tokens[2].action)
    assert.are.equal("/auth/refresh", tokens[2].path)
  end)

  it("falls back to /auth/api-key when the refresh token is refused", function()
    srv:config({ token_ttl_s = 2 }) -- renewal due after 1.8 s, expiry at 2 s
    local events, on_event = recorder()
    local c = new_client({ on_event = on_event })
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    -- reset revokes every token, refresh tokens included, and zeroes the counters
    srv:reset()
    sleep_after_first_token(events, 1900)
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(err)
    assert.is_table(page)
    local st = srv:stats()
    assert.are.equal(1, st.auth_refresh)
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(1, st.api_requests)
    local log = srv:log()
    assert.are.equal(3, #log)
    assert.are.same({ "/auth/refresh", 400 }, { log[1].path, log[1].status })
    assert.are.same({ "/auth/api-key", 200 }, { log[2].path, log[2].status })
    assert.are.same({ "bearer", 200 }, { log[3].auth, log[3].status })
    local tokens = of_type(events, "token")
    assert.are.equal(2, #tokens)
    assert.are.equal("api-key", tokens[2].action)
  end)

  it("re-authenticates once and replays once when the API answers 401 (revoked token)", function()
    local events, on_event = recorder()
    local c = new_client({ on_event = on_event })
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    srv:revoke()
    local page, err = c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 3 })
    assert.is_nil(err)
    assert.are.equal(3, #page.data)
    local st = srv:stats()
    assert.are.equal(2, auth_calls(st))
    assert.are.equal(3, st.api_requests)
    assert.are.equal(1, st.status["401"])
    local log = srv:log()
    assert.are.equal(5, #log)
    assert.are.same({ "invalid", 401 }, { log[3].auth, log[3].status })
    assert.matches("^/auth/", log[4].path)
    assert.are.same({ "bearer", 200 }, { log[5].auth, log[5].status })
    assert.are.equal(log[3].uri, log[5].uri) -- the same request, replayed
    local reauth = of_type(events, "reauth")
    assert.are.equal(1, #reauth)
    assert.are.equal(401, reauth[1].status)
    assert.are.equal("GET", reauth[1].method)
    assert.are.equal("/analytics/videos/vi250", reauth[1].path)
  end)

  it("re-authenticates once and replays once on an injected 401 fault", function()
    srv:faults({ { match = "/analytics/", kind = "401", count = 1 } })
    local c = new_client()
    local page, err = c.analytics:list_session_events("psvi250_000001", { page_size = 2 })
    assert.is_nil(err)
    assert.are.equal(2, #page.data)
    local st = srv:stats()
    assert.are.equal(2, auth_calls(st))
    assert.are.equal(2, st.api_requests)
    assert.are.equal(1, st.status["401"])
  end)

  it("gives an auth error (the 401's status and title) after exactly one replay when the 401 persists", function()
    srv:faults({ { match = "/analytics/", kind = "401", count = -1 } })
    local events, on_event = recorder()
    local c = new_client({ on_event = on_event })
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(page)
    assert.is_true(apivideo.is_error(err))
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("Unauthorized request", err.title)
    assert.are.equal(2, err.attempts)
    local st = srv:stats()
    assert.are.equal(2, st.api_requests)
    assert.are.equal(2, st.status["401"])
    assert.are.equal(2, auth_calls(st))
    assert.are.equal(1, #of_type(events, "reauth"))
  end)

  it("gives an error of kind 'auth' with the API's status and title when the key is refused", function()
    local c = new_client({ api_key = "not-the-key" })
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(page)
    assert.is_true(apivideo.is_error(err))
    assert.are.equal("auth", err.kind)
    assert.are.equal(400, err.status)
    assert.are.equal("The user credentials were incorrect.", err.title)
    assert.are.equal("https://docs.api.video/docs/authenticationinvalid_credentials", err.type)
    assert.are.equal("POST", err.method)
    assert.matches("/auth/api%-key$", err.url)
    assert.are.equal("apivideo: authentication failed: HTTP 400 The user credentials were incorrect."
      .. " POST /auth/api-key", tostring(err))
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key) -- a refused key is not retried
    assert.are.equal(0, st.api_requests) -- and no operation was attempted
  end)

  -- the three items iterators, each with a key the stand-in refuses
  local REFUSED_WALKS = {
    { method = "session_events", id = "psvi250_000001" },
    { method = "video_sessions", id = "vi250", opts = ONE },
    { method = "live_stream_sessions", id = "li500", opts = ONE },
  }
  for _, case in ipairs(REFUSED_WALKS) do
    it("raises the 'auth' error object from an iterator when the key is refused (" .. case.method .. ")", function()
      local c = new_client({ api_key = "not-the-key" })
      local ok, err = pcall(function()
        for _ in c.analytics[case.method](c.analytics, case.id, case.opts) do end
      end)
      assert.is_false(ok)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal("auth", err.kind)
      assert.are.equal(400, err.status)
      assert.are.equal(0, srv:stats().api_requests)
    end)
  end

  it("reports the token exchange through on_event", function()
    local events, on_event = recorder()
    local c = new_client({ on_event = on_event })
    for _ in c.analytics:video_sessions("vi250", { period = "2023-01", page_size = 5 }) do end
    local tokens = of_type(events, "token")
    assert.are.equal(1, #tokens)
    local ev = tokens[1]
    assert.are.equal("api-key", ev.action)
    assert.are.equal("POST", ev.method)
    assert.are.equal("/auth/api-key", ev.path)
    assert.are.equal(3600, ev.expires_in) -- the stand-in's default lifetime
  end)
end)

describe("basic authentication", function()
  before_each(function() srv:idle_reset() end)

  it("sends Authorization: Basic on every request and never calls /auth/*", function()
    local c = new_client({ auth = "basic", concurrency = 3 })
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    assert.is_table((c.analytics:list_live_stream_sessions("li500", ONE)))
    assert.is_table((c.analytics:list_session_events("psvi250_000002")))
    local n = 0
    for _ in c.analytics:video_sessions("vi250", { period = "2023-01", page_size = 5 }) do n = n + 1 end
    assert.are.equal(22, n) -- 5 pages
    local st = srv:stats()
    assert.are.equal(0, st.auth_api_key)
    assert.are.equal(0, st.auth_refresh)
    assert.are.equal(8, st.api_requests)
    assert.are.equal(8, st.requests)
    local log = srv:log()
    assert.are.equal(8, #log)
    for _, e in ipairs(log) do
      assert.matches("^/analytics/", e.path)
      assert.are.equal("basic", e.auth)
      assert.are.equal(200, e.status)
    end
  end)

  -- (the status is the API's: a 401 to Basic, the 400 that openapi.yaml documents for POST /auth/api-key)
  local WRONG_KEY = {
    { auth = "basic", status = 401, url = "/analytics/videos/vi250" },
    { auth = "bearer", status = 400, url = "/auth/api-key" },
  }
  for _, case in ipairs(WRONG_KEY) do
    it("gives a wrong key the same kind of error whatever the auth mode: auth (" .. case.auth .. ")", function()
      local c = new_client({ auth = case.auth, api_key = "wrong" })
      local page, err = c.analytics:list_video_sessions("vi250", ONE)
      assert.is_nil(page)
      assert.are.same({ "auth", case.status }, { err.kind, err.status })
      assert.is_truthy(err.url:find(case.url, 1, true), err.url)
      c:close()
    end)
  end

  it("answers a wrong key with an auth error (HTTP 401), without any token call or replay", function()
    local c = new_client({ auth = "basic", api_key = "wrong" })
    local page, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(page)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    local st = srv:stats()
    assert.are.equal(1, st.requests)
    assert.are.equal(0, auth_calls(st))
    assert.are.equal("invalid", srv:log()[1].auth)
  end)
end)

describe("credentials never leak", function()
  local KEY = "sk-LuaApivideo-Distinctive-7f3a9c1e5b"
  before_each(function()
    srv:idle_reset({ api_key = KEY })
  end)

  local function assert_clean(text, secrets)
    for _, s in ipairs(secrets) do
      assert.is_nil(text:find(s, 1, true), "secret found in: " .. text)
    end
    -- the stand-in's token formats, whatever their value
    assert.is_nil(text:find("sta_%x%x%x%x"), "access token found in: " .. text)
    assert.is_nil(text:find("str_%x%x%x%x"), "refresh token found in: " .. text)
  end

  it("in bearer mode: not in tostring(client), errors or event payloads", function()
    local events, on_event = recorder()
    local c = new_client({ api_key = KEY, on_event = on_event })
    local secrets = { KEY }
    local texts = { tostring(c), tostring(c.analytics), tostring(c.auth) }

    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    local tok = c.auth.token -- internal: read only to know which strings must not appear
    assert.is_string(tok.access)
    assert.is_string(tok.refresh)
    secrets[#secrets + 1] = tok.access
    secrets[#secrets + 1] = tok.refresh

    local _, e404 = c.analytics:list_video_sessions("nope", ONE)
    assert.are.equal(404, e404.status)
    srv:revoke() -- forces a reauth event and a new token
    assert.is_table((c.analytics:list_session_events("psvi250_000001")))
    secrets[#secrets + 1] = c.auth.token.access
    srv:faults({ { match = "/analytics/", kind = "401", count = -1 } })
    local _, e401 = c.analytics:list_video_sessions("vi250", ONE)
    assert.are.equal(401, e401.status)
    srv:faults({})
    local other = new_client({ api_key = KEY .. "-wrong" })
    local _, eauth = other.analytics:list_video_sessions("vi250", ONE)
    assert.are.equal("auth", eauth.kind)
    secrets[#secrets + 1] = KEY .. "-wrong"

    assert.is_true(#of_type(events, "token") >= 2)
    assert.are.equal(2, #of_type(events, "reauth")) -- the revoke, then the persistent 401
    for _, e in ipairs({ e404, e401, eauth }) do
      texts[#texts + 1] = tostring(e)
      texts[#texts + 1] = dump(e)
    end
    texts[#texts + 1] = dump(events)
    texts[#texts + 1] = tostring(c)
    for _, text in ipairs(texts) do assert_clean(text, secrets) end
  end)

  it("in basic mode: neither the key nor its base64 form appears anywhere", function()
    local events, on_event = recorder()
    local bad = KEY .. "-wrong"
    local c = new_client({ api_key = bad, auth = "basic", on_event = on_event })
    local _, err = c.analytics:list_video_sessions("vi250", ONE)
    assert.are.equal(401, err.status)
    local secrets = { KEY, bad, base64(bad .. ":"), base64(KEY .. ":") }
    for _, text in ipairs({ tostring(c), tostring(c.auth), tostring(err), dump(err), dump(events) }) do
      assert_clean(text, secrets)
    end
  end)

  it("not in the message of a bad option", function()
    local ok, e = pcall(apivideo.new, { api_key = KEY, base_url = srv.url, auth = "token" })
    assert.is_false(ok)
    assert.are.equal("auth", e.arg)
    for k, v in pairs(e) do assert.is_nil(tostring(v):find(KEY, 1, true), k) end
    assert.is_nil(tostring(e):find(KEY, 1, true))
    assert.are.equal(0, srv:stats().requests)
  end)
end)
