-- Failures that no retry can heal (a host name that does not exist, a
-- certificate that names another host, a bad CA file) are sent once, and their
-- error says so (err.retryable == false); timeouts, resets and refused
-- connections are still retried. End to end: the real libcurl, the real DNS
-- resolver of the machine, the stand-in over plain HTTP and over TLS.
local apivideo = require("apivideo")
local errors = require("apivideo.errors")
local socket = require("socket")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local tls_files = require("spec.support.tls")

local srv = S.shared()
local KEY = "standin-key"

-- the retry events a client reports
local function recorder() return clients.recorder("retry") end

local client = clients.builder({ api_key = KEY, base_url = srv.url, auth = "basic", max_retries = 3 })

-- libcurl's header, to check the table against the real enum.
local function curl_header()
  for _, p in ipairs({ "/usr/include/curl/curl.h", "/usr/include/x86_64-linux-gnu/curl/curl.h",
    "/usr/include/aarch64-linux-gnu/curl/curl.h" }) do
    local f = io.open(p)
    if f then
      local text = f:read("*a")
      f:close()
      return text
    end
  end
end

describe("errors.retryable and errors.PERMANENT", function()
  it("refuse DNS names that do not exist, certificates and bad CA files, bad URLs", function()
    for _, code in ipairs({ 1, 3, 5, 6, 60, 77 }) do
      assert.is_false(errors.retryable(code), "code " .. code)
      assert.is_string(errors.PERMANENT[code], "code " .. code)
    end
  end)

  it("keep timeouts, resets, refused connections and cut transfers retryable", function()
    -- 7 refused, 28 timed out, 52 nothing received (a reset), 55/56 send/receive
    -- failures, 18 a partial body, 35 a TLS handshake cut short, 16/92 HTTP/2 framing
    for _, code in ipairs({ 7, 16, 18, 28, 35, 52, 55, 56, 92 }) do
      assert.is_true(errors.retryable(code), "code " .. code)
      assert.is_nil(errors.PERMANENT[code], "code " .. code)
    end
  end)

  it("name each code as libcurl's curl.h does, with a reason", function()
    local header = curl_header()
    assert.is_string(header, "curl.h not found (libcurl4-openssl-dev)")
    -- "CURLE_OK = 0," then one enumerator per line, each with its number in a comment
    local by_code = {}
    for name, n in header:gmatch("(CURLE_[%u_%d]+),%s*/%*%s*(%d+)") do by_code[tonumber(n)] = name end
    assert.equal("CURLE_COULDNT_RESOLVE_HOST", by_code[6]) -- the parse itself works
    local count = 0
    for code, reason in pairs(errors.PERMANENT) do
      count = count + 1
      local name, why = reason:match("^(CURLE_[%u_%d]+): (.+)$")
      assert.is_string(name, "reason of " .. code .. " is not 'CURLE_NAME: why': " .. reason)
      assert.equal(by_code[code], name, "code " .. code)
      assert.is_true(#why > 10, reason)
    end
    assert.is_true(count >= 6)
  end)
end)

describe("no retry of what cannot heal", function()
  before_each(function() srv:idle_reset() end)

  it("a host name that does not resolve is tried once (basic and bearer)", function()
    -- .invalid never resolves (RFC 6761); this machine's resolver says so in milliseconds
    for _, mode in ipairs({ "basic", "bearer" }) do
      local events, on_event = recorder()
      local c = client({ base_url = "https://no-such-host.invalid", auth = mode, on_event = on_event })
      local t0 = socket.gettime()
      local page, err = c.analytics:list_session_events("psManyEvents")
      local took = socket.gettime() - t0
      c:close()
      assert.is_nil(page)
      assert.is_true(apivideo.is_error(err))
      assert.equal("network", err.kind, mode)
      assert.equal(6, err.curl_code, mode) -- CURLE_COULDNT_RESOLVE_HOST
      assert.equal(1, err.attempts, mode)
      assert.is_false(err.retryable, mode)
      assert.equal(0, #events, mode)
      assert.matches("no%-such%-host%.invalid", err.title)
      assert.is_true(took < 5, mode .. " took " .. took .. " s")
    end
  end)

  it("a refused connection is still retried, and says it may heal", function()
    local sock = assert(socket.bind("127.0.0.1", 0))
    local _, port = sock:getsockname()
    sock:close()
    local events, on_event = recorder()
    local c = client({ base_url = "http://127.0.0.1:" .. port, max_retries = 2, on_event = on_event })
    local page, err = c.analytics:list_session_events("psManyEvents")
    c:close()
    assert.is_nil(page)
    assert.equal(7, err.curl_code) -- CURLE_COULDNT_CONNECT
    assert.equal(3, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(2, #events)
  end)

  it("a reset connection is still retried, and heals", function()
    srv:faults({ { match = "/analytics/", kind = "reset", count = 1 } })
    local events, on_event = recorder()
    local c = client({ on_event = on_event })
    local page, err = c.analytics:list_session_events("psManyEvents", { page_size = 3 })
    c:close()
    assert.is_nil(err)
    assert.equal(3, #page.data)
    assert.equal(1, #events)
    assert.equal("network", events[1].kind)
    assert.equal(2, #srv:log())
  end)

  it("a connection reset on every attempt ends retryable after max_retries", function()
    srv:faults({ { match = "/analytics/", kind = "reset", count = -1 } })
    local c = client({ max_retries = 2 })
    local page, err = c.analytics:list_session_events("psManyEvents")
    c:close()
    assert.is_nil(page)
    assert.equal("network", err.kind)
    assert.equal(52, err.curl_code) -- CURLE_GOT_NOTHING
    assert.equal(3, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(3, #srv:log())
  end)

  it("a timeout is still retried", function()
    srv:faults({ { match = "/analytics/", kind = "delay", delay_ms = 1000, count = 2 } })
    local c = client({ timeout_ms = 200, max_retries = 1 })
    local page, err = c.analytics:list_session_events("psManyEvents")
    c:close()
    assert.is_nil(page)
    assert.equal("timeout", err.kind)
    assert.equal(28, err.curl_code)
    assert.equal(2, err.attempts)
    assert.is_true(err.retryable)
  end)
end)

describe("no retry of a refused certificate or CA file", function()
  local dir, tls, port

  setup(function()
    -- a private CA and a server certificate that names localhost only (no IP address)
    dir = tls_files.make_ca({ "DNS:localhost" })
    tls = S.start({ tls_cert = dir .. "/srv.pem", tls_key = dir .. "/srv.key" })
    port = assert(tls.tls_url:match("^https://localhost:(%d+)$"), tls.tls_url)
  end)

  teardown(function()
    if tls then tls:stop() end
    tls_files.remove(dir)
  end)

  local function tls_client(base_url, opts)
    return client(clients.options({ base_url = base_url, ca_file = dir .. "/ca.pem" }, opts))
  end

  it("the certificate and CA are good for the name they give", function()
    local c = tls_client(tls.tls_url)
    local page, err = c.analytics:list_session_events("psManyEvents", { page_size = 2 })
    c:close()
    assert.is_nil(err)
    assert.equal(2, #page.data)
  end)

  it("a certificate that names another host is tried once", function()
    local events, on_event = recorder()
    local c = tls_client("https://127.0.0.1:" .. port, { on_event = on_event })
    local page, err = c.analytics:list_session_events("psManyEvents")
    c:close()
    assert.is_nil(page)
    assert.equal("network", err.kind)
    assert.equal(60, err.curl_code) -- CURLE_PEER_FAILED_VERIFICATION
    assert.matches("127.0.0.1", err.title, 1, true) -- the name it did not match
    assert.matches("name", err.title, 1, true)
    assert.equal(1, err.attempts)
    assert.is_false(err.retryable)
    assert.equal(0, #events)
  end)

  it("a CA file that cannot be read is tried once", function()
    local c = tls_client(tls.tls_url, { ca_file = dir .. "/missing.pem" })
    local page, err = c.analytics:list_session_events("psManyEvents")
    c:close()
    assert.is_nil(page)
    assert.equal(77, err.curl_code) -- CURLE_SSL_CACERT_BADFILE
    assert.equal(1, err.attempts)
    assert.is_false(err.retryable)
  end)
end)
