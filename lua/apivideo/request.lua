--- One logical request, from start to answer: the request pipeline.
--
-- Inside an engine task: Authorization → rate-limit budget → transfer →
-- classification → (401: one re-authentication and replay) → (retryable:
-- wait, then again). Its collaborators are passed in: the engine (transfers
-- and sleeps), the retry policy, the API's clock, and optionally the
-- authenticator and the rate limiter.
--
-- A client has two requesters. The authenticator's own (token exchanges:
-- no Authorization, no rate-limit budget, a policy that retries network
-- failures only and never keeps a body) is built first; the authenticator
-- is built on it; then the operations' requester, which uses the
-- authenticator. Nothing is wired after construction, and no part reaches
-- back into another.
-- @module apivideo.request
local M = {}

local Requester = {}
Requester.__index = Requester

--- A requester. opts: `engine`, `policy` (apivideo.retry), `clock`
-- (apivideo.clock: told every answer's Date), `emit(event)`, `base_url`,
-- `headers` (the header lines of every request), `transfer` (the
-- per-request transfer options: timeouts, ca_file, user_agent), and, for
-- the operations' requester, `auth` (apivideo.auth: sets Authorization
-- where `req.auth`), `limiter` (apivideo.ratelimit: the budget) and
-- `metrics` (apivideo.metrics: counts every attempt, its code and duration,
-- and every retry).
-- @local
function M.new(opts)
  local t = opts.transfer
  return setmetatable({
    engine = opts.engine, limiter = opts.limiter, policy = opts.policy, emit = opts.emit, auth = opts.auth,
    metrics = opts.metrics,
    clock = opts.clock, base_url = opts.base_url, headers = opts.headers,
    timeout_ms = t.timeout_ms, connect_timeout_ms = t.connect_timeout_ms,
    stall_timeout_ms = t.stall_timeout_ms, ca_file = t.ca_file, user_agent = t.user_agent,
    header_cache = {}, header_cache_n = 0,
  }, Requester)
end

--- The header lines of one attempt: the client's, then Authorization and
-- Content-Type where they apply. The list is built once per Authorization
-- line (the C core copies it into each transfer), not once per request.
local function header_lines(self, auth_line, has_body)
  local key = (auth_line or "") .. (has_body and "\n+body" or "")
  local cache = self.header_cache
  local headers = cache[key]
  if headers then return headers end
  local base = self.headers
  local n = #base
  headers = {}
  for i = 1, n do headers[i] = base[i] end
  if auth_line then
    n = n + 1
    headers[n] = auth_line
  end
  if has_body then headers[n + 1] = "Content-Type: application/json" end
  -- a token lives for an hour: keep the lists of the last few lines only
  if self.header_cache_n >= 4 then cache, self.header_cache_n = {}, 0 end
  cache[key] = headers
  self.header_cache, self.header_cache_n = cache, self.header_cache_n + 1
  return headers
end

--- Inside a task: performs one logical request. req: `method`, `path`,
-- `query`, `body`, `auth` (send Authorization), `operation` (its name, told
-- in events), `keep_body` (the answer's raw body stays in the result, for
-- the answer cache). Returns the transfer result (with `attempts`) or nil, err. A
-- 401 that no re-authentication healed is an error of kind "auth", whether
-- the key went as Basic or was exchanged for a token.
function Requester:send(req)
  local full_url = self.base_url .. req.path .. (req.query or "")
  local auth, limiter, policy = self.auth, self.limiter, self.policy
  local attempts, retries, waited, replayed = 0, 0, 0, false
  while true do
    attempts = attempts + 1
    local line, tok
    if req.auth and auth then
      local tok_or_err
      line, tok_or_err = auth:header()
      if not line then return nil, tok_or_err end
      tok = tok_or_err
    end
    local headers = header_lines(self, line, req.body ~= nil)
    local engine = self.engine
    local forget, ticket
    if limiter then
      ticket = limiter:acquire(req)
      -- a task cancelled while its request is out never sees the answer: its
      -- slot of the budget is given back then
      forget = function() limiter:forget(ticket) end
      engine:guard(forget)
    end
    local resp = engine:transfer({
      method = req.method, url = full_url, headers = headers, body = req.body,
      timeout_ms = self.timeout_ms, connect_timeout_ms = self.connect_timeout_ms,
      stall_timeout_ms = self.stall_timeout_ms, ca_file = self.ca_file,
      user_agent = self.user_agent, accept_encoding = true, keep_body = req.keep_body,
    })
    if forget then
      engine:unguard(forget)
      limiter:release(resp, ticket)
    end
    if self.metrics then self.metrics:request(req.operation, resp) end
    if self.clock then self.clock:learn(resp.headers) end
    local err, retryable = policy:classify(req, full_url, resp)
    if not err then
      resp.attempts = attempts
      return resp
    end
    local unauthorized = err.status == 401 and req.auth and auth ~= nil
    if unauthorized and auth.mode == "bearer" and not replayed then
      replayed = true
      auth:invalidate(tok)
      self.emit({ type = "reauth", operation = req.operation, method = req.method, path = req.path, status = 401 })
    else
      -- a 401 replay is not a retry: max_retries counts retries of faults
      local wait = retryable and policy:wait_before(err, retries + 1, waited)
      if not wait then
        err.attempts = attempts
        if unauthorized then err.kind = "auth" end -- the key was refused, however it went
        return nil, err
      end
      retries = retries + 1
      if self.metrics then self.metrics:retry(req.operation) end
      self.emit({ type = "retry", operation = req.operation, method = req.method, path = req.path,
        status = err.status, kind = err.kind, attempt = attempts, wait_ms = wait })
      waited = waited + wait
      if wait > 0 then engine:sleep(wait) end
    end
  end
end

return M
