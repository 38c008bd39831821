-- apivideo.retry: how a transfer result is classified and what is retried,
-- and how long the client waits before a retry (unit specs; the end-to-end
-- fault matrix is spec/reliability_spec.lua).
local retry = require("apivideo.retry")

local policy = retry.new({ max_retries = 3, max_retry_wait_ms = 1000, max_body_bytes = 1024 })
local GET = { method = "GET", path = "/analytics/videos/x" }
local TOKEN = { method = "POST", path = "/auth/api-key" }
-- the policy of the authenticator's own requester
local tokens = retry.new({ max_retries = 3, max_retry_wait_ms = 1000, max_body_bytes = 1024, tokens = true })
local URL = "https://ws.api.video/analytics/videos/x"

describe("apivideo.retry", function()
  it("a 2xx with JSON is a success; a 5xx and a 429 are retried, a 404 is not", function()
    assert.is_nil(policy:classify(GET, URL, { curl_code = 0, status = 200, json = {}, headers = {} }))
    for _, status in ipairs({ 429, 500, 502, 503, 504 }) do
      local e, again = policy:classify(GET, URL, { curl_code = 0, status = status, headers = {}, body = "" })
      assert.are.equal("http", e.kind)
      assert.is_true(again, "status " .. status)
    end
    local _, again = policy:classify(GET, URL, { curl_code = 0, status = 404, headers = {}, body = "" })
    assert.is_false(again)
  end)

  it("a token call's HTTP failure is not retried, its network failure is", function()
    local _, op_again = policy:classify(TOKEN, URL, { curl_code = 0, status = 503, headers = {}, body = "" })
    assert.is_true(op_again) -- (the same answer to an operation is)
    local _, again = tokens:classify(TOKEN, URL, { curl_code = 0, status = 503, headers = {}, body = "" })
    assert.is_false(again)
    local e, net_again = tokens:classify(TOKEN, URL, { curl_code = 56, curl_error = "reset", headers = {} })
    assert.are.equal("network", e.kind)
    assert.is_true(net_again)
  end)

  it("never puts the body of a token call in an error (a broken one may still hold a token)", function()
    local body = '{"access_token":"eyJsecret-token","refresh_token":"def50200secret"'
    local e = tokens:classify(TOKEN, URL, { curl_code = 0, status = 200, json = nil, json_error = "truncated",
      body = body, headers = {} })
    assert.are.equal("decode", e.kind)
    assert.is_nil(e.body)
    assert.is_nil(tostring(e):find("secret", 1, true))
    -- an operation's broken body is kept (its first 4 KiB), for the user to look at
    local e2 = policy:classify(GET, URL, { curl_code = 0, status = 200, json = nil, json_error = "truncated",
      body = '{"data": [', headers = {} })
    assert.are.equal('{"data": [', e2.body)
  end)

  it("a body over max_body_bytes and headers over their cap are decode errors, never retried", function()
    local e, again = policy:classify(GET, URL, { curl_code = 23, too_large = true, headers = {} })
    assert.are.equal("decode", e.kind)
    assert.is_false(again)
    assert.matches("max_body_bytes %(1024%)", e.title)
    local h, h_again = policy:classify(GET, URL, { curl_code = 23, headers_too_large = true, headers = {} })
    assert.are.equal("decode", h.kind)
    assert.is_false(h_again)
    assert.is_false(h.retryable)
    assert.matches("headers too large", h.title)
  end)

  it("waits what the server asked for (bounded), else a jittered backoff, and stops when the budget is spent",
    function()
      assert.are.equal(300, policy:wait_before({ retry_after = 0.3 }, 1, 0))
      assert.are.equal(1000, policy:wait_before({ retry_after = 30 }, 1, 0))
      for attempt = 1, 3 do
        local w = policy:wait_before({}, attempt, 0)
        assert.is_true(w >= 0 and w <= retry.BACKOFF_BASE_MS * 2 ^ (attempt - 1), tostring(w))
      end
      assert.is_nil(policy:wait_before({}, 4, 0)) -- max_retries = 3
      assert.is_nil(policy:wait_before({ retry_after = 0.5 }, 1, 600)) -- 600 + 500 > 1000
    end)
end)

describe("apivideo.waiter (yielding)", function()
  it("hands the host whole milliseconds", function()
    local waiter = require("apivideo.waiter")
    local got = {}
    local w = waiter.yielding(function(ms) got[#got + 1] = ms end, {})
    w:wait(12.3)
    w:wait(nil)
    w:close()
    assert.are.equal(13, got[1])
    assert.are.equal(math.floor(got[1]), got[1])
    if math.type then assert.are.equal("integer", math.type(got[1])) end
    assert.is_nil(got[2])
  end)
end)
