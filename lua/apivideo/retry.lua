--- The retry policy: which answers are failures, which failures are worth
-- another attempt, and how long to wait before it.
--
-- Open this file to change what the client retries. Retried: HTTP 429 and
-- 5xx (500, 502, 503, 504), timeouts and the network failures that may heal
-- (not a host name that does not resolve, a refused certificate, a bad CA
-- file...: `errors.PERMANENT` lists them). A token exchange is retried on
-- those network failures and timeouts only: its HTTP status is for the
-- authenticator to judge. Never retried: a body that is not the JSON it
-- should be, a body over `max_body_bytes` or headers over their cap, and the
-- other HTTP statuses. The wait is what the server asked for (bounded by
-- `max_retry_wait_ms`), else exponential backoff with full jitter.
-- @module apivideo.retry
local errors = require("apivideo.errors")
local ratelimit = require("apivideo.ratelimit")

local M = {}

local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
local BACKOFF_BASE_MS, BACKOFF_CAP_MS = 200, 10000
M.BACKOFF_BASE_MS, M.BACKOFF_CAP_MS = BACKOFF_BASE_MS, BACKOFF_CAP_MS

local header_number = ratelimit.header_number

--- Seconds the server asks us to wait before trying again, or nil.
-- api.video sends X-RateLimit-Retry-After on every response (the time until
-- its window resets), so it only means "wait" on a 429 or once the budget
-- is spent (X-RateLimit-Remaining: 0); Retry-After always does. A value that
-- is not a number is ignored; a negative one counts as 0.
local function retry_after(status, headers)
  local n = header_number(headers, "retry-after")
  if status == 429 or header_number(headers, "x-ratelimit-remaining") == 0 then
    n = header_number(headers, "x-ratelimit-retry-after") or n
  end
  if n == nil then return nil end
  return n < 0 and 0 or n
end

local Policy = {}
Policy.__index = Policy

--- A requester's policy. opts: `max_retries`, `max_retry_wait_ms`,
-- `max_body_bytes` (named in the error of a body too large), and
-- `tokens = true` for the authenticator's own requester: its HTTP statuses
-- are for the authenticator to judge (never retried here), and a body is
-- never kept in an error (a broken token answer may still hold a token).
-- @local
function M.new(opts)
  return setmetatable({
    max_retries = opts.max_retries, max_retry_wait_ms = opts.max_retry_wait_ms,
    max_body_bytes = opts.max_body_bytes, tokens = opts.tokens == true,
  }, Policy)
end

--- Classifies a transfer result: nil for a success, else the error object
-- and whether the request may be retried.
function Policy:classify(req, full_url, resp)
  local method = req.method
  if resp.curl_code ~= 0 then
    if resp.too_large or resp.headers_too_large then
      return errors.new({ kind = "decode", method = method, url = full_url, status = resp.status,
        curl_code = resp.curl_code, retryable = false,
        title = resp.too_large and ("response body larger than max_body_bytes (" .. self.max_body_bytes .. ")")
          or "response headers too large" }), false
    end
    local kind = resp.curl_code == 28 and "timeout" or "network"
    local retryable = errors.retryable(resp.curl_code) -- false: DNS name not found, certificate refused...
    return errors.new({ kind = kind, method = method, url = full_url, curl_code = resp.curl_code,
      title = resp.curl_error, retryable = retryable }), retryable
  end
  local status = resp.status
  if status >= 200 and status < 300 then
    if resp.json == nil then
      local e = errors.new({ kind = "decode", method = method, url = full_url, status = status,
        title = resp.json_error and ("invalid JSON: " .. resp.json_error) or "empty response body" })
      -- (never the body of a token call: a broken one may still hold a token)
      if resp.body and #resp.body > 0 and not self.tokens then e.body = resp.body:sub(1, 4096) end
      return e, false
    end
    return nil
  end
  local e = errors.from_response("http", method, full_url, resp)
  e.retry_after = retry_after(status, resp.headers)
  return e, RETRY_STATUS[status] == true and not self.tokens
end

--- Milliseconds to wait before retry number `retry` (1 for the first), or
-- nil when no retry is left: the count is spent, or the wait would take the
-- total waited (`waited`, ms) past max_retry_wait_ms.
function Policy:wait_before(err, retry, waited)
  if retry > self.max_retries then return nil end
  local ms
  if err.retry_after then
    ms = err.retry_after * 1000
    if ms > self.max_retry_wait_ms then ms = self.max_retry_wait_ms end
  else
    local cap = BACKOFF_BASE_MS * 2 ^ (retry - 1)
    if cap > BACKOFF_CAP_MS then cap = BACKOFF_CAP_MS end
    ms = math.random() * cap -- full jitter
  end
  if waited + ms > self.max_retry_wait_ms then return nil end
  return ms
end

return M
