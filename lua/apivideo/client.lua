--- The client object: options, the request pipeline and the engine driver.
--
-- One request goes through `Client:_exchange` inside an engine task:
-- rate-limit budget → Authorization → transfer → classification → (401:
-- one re-authentication and replay) → (retryable: wait, then again).
--
-- For users: `apivideo.new(options)` makes a `Client`; `Options` lists what it
-- takes. The methods whose names start with `_` are internal.
-- @module apivideo.client
local core = require("apivideo.core")
local auth = require("apivideo.auth")
local check = require("apivideo.check")
local engine_mod = require("apivideo.engine")
local errors = require("apivideo.errors")
local url = require("apivideo.url")

local M = {}

M.VERSION = "0.1.0"

local ENVIRONMENTS = {
  production = "https://ws.api.video",
  sandbox = "https://sandbox.api.video",
}

--- The options of `apivideo.new`. Every key is checked: an unknown one (a
-- typo) or a value of the wrong type raises; only `api_key` is required.
-- @table Options
---@class apivideo.Options
---@field api_key string the API key (required, non-empty); never printed, logged or put in an error
---@field environment? "production"|"sandbox" `https://ws.api.video` (default) or `https://sandbox.api.video`
---@field base_url? string overrides `environment`: an http(s) URL without credentials, query or fragment
---@field auth? "bearer"|"basic" a token from `POST /auth/api-key` (default), or HTTP Basic on every request
---@field timeout_ms? integer the whole request, >= 1 (default 30000)
---@field connect_timeout_ms? integer connecting, >= 1 (default 10000)
---@field stall_timeout_ms? integer abort a transfer that receives nothing for this long; 0 turns it off (default 15000)
---@field max_retries? integer retries of 429, 5xx, network failures and timeouts, 0 to 100 (default 3)
---@field max_retry_wait_ms? integer total time spent waiting between the retries of one call (default 60000)
---@field concurrency? integer pages in flight while walking, 1 to 64; 1 = one request at a time (default 4)
---@field application? {name:string,version:string} sent as `AV-Origin-App`: name `[A-Za-z0-9_-]{1,50}`, version `1.2.3`
---@field ca_file? string a CA bundle to trust (TLS verification is always on)
---@field max_body_bytes? integer larger responses end with an error of kind `"decode"` (default 64 MiB)
---@field on_event? fun(event:apivideo.ClientEvent) told of retries, waits, token exchanges and throttling
---@field allow_insecure_http? boolean allow the key over plain `http://` to a host that is not loopback (default false)
---@field yield? fun(wait_ms:integer?) cooperative mode: called (e.g. `coroutine.yield`) whenever the client would wait
---@field token_store? apivideo.MemoryStore|table share one bearer token: `ngx.shared.DICT` or `apivideo.memory_store()`

--- What the `on_event` option is told. It never carries a credential.
-- @table ClientEvent
---@class apivideo.ClientEvent
---@field type "retry"|"reauth"|"throttle"|"token" a retry, a replay after a 401, a rate-limit wait, a token exchange
---@field method string the request's method
---@field path string the request's path
---@field status? integer the HTTP status that caused a retry or a replay
---@field kind? string retries: the error's kind
---@field attempt? integer retries: the attempt that failed
---@field wait_ms? number retries and throttling: how long the client waits
---@field action? "api-key"|"refresh" tokens: which exchange
---@field expires_in? number tokens: the token's lifetime in seconds

local OPTIONS = {
  api_key = true, environment = true, base_url = true, auth = true, timeout_ms = true,
  connect_timeout_ms = true, stall_timeout_ms = true, max_retries = true,
  max_retry_wait_ms = true, concurrency = true, application = true, ca_file = true,
  max_body_bytes = true, on_event = true, allow_insecure_http = true, yield = true,
  token_store = true,
}

local DEFAULTS = {
  environment = "production", auth = "bearer", timeout_ms = 30000, connect_timeout_ms = 10000,
  stall_timeout_ms = 15000, max_retries = 3, max_retry_wait_ms = 60000, concurrency = 4,
  max_body_bytes = 64 * 1024 * 1024,
}

local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
local BACKOFF_BASE_MS, BACKOFF_CAP_MS = 200, 10000
local MAX_MS = 2147483647

-- One pool per Lua state (an nginx worker, a game): every client shares its
-- DNS answers and TLS sessions. Connections stay with each client's own multi
-- handle: a connection cache shared between multi handles deadlocked (a
-- transfer waiting on a connection another multi was setting up) and lost
-- reuse once many clients had come and gone.
local pool
local function shared_pool()
  pool = pool or core.share({ connections = false })
  return pool
end

--- A client: what `apivideo.new` returns.
-- `client.analytics` holds the operations (`apivideo.analytics`). Clients
-- of one Lua state share one pool of connections, DNS answers and TLS
-- sessions. On Lua 5.4 a client can be a to-be-closed variable
-- (`local c <close> = apivideo.new(...)`).
-- @type Client
---@class apivideo.Client
---@field analytics apivideo.Analytics the Analytics operations
---@field base_url string the API's base URL, without a trailing slash
local Client = {}
Client.__index = Client
Client.__name = "apivideo.client"

--- `tostring(client)`: `"apivideo.client (<base_url>, <auth mode>)"`; never the key.
---@return string
function Client:__tostring()
  return "apivideo.client (" .. self.base_url .. ", " .. self.auth.mode .. ")"
end

local FN = "apivideo.new"

local function opt_integer(opts, name, min, max)
  local v = opts[name]
  if v == nil then return DEFAULTS[name] end
  return check.integer(FN, name, v, min, max)
end

local function opt_enum(opts, name, allowed)
  local v = opts[name]
  if v == nil then return DEFAULTS[name] end
  if type(v) ~= "string" or not allowed[v] then
    local names = {}
    for k in pairs(allowed) do names[#names + 1] = "'" .. k .. "'" end
    table.sort(names)
    check.fail(FN, "bad option '" .. name .. "' (" .. table.concat(names, " or ")
      .. " expected, got " .. (type(v) == "string" and "'" .. v .. "'" or type(v)) .. ")")
  end
  return v
end

local function opt_type(opts, name, t)
  local v = opts[name]
  if v ~= nil and type(v) ~= t then
    check.fail(FN, "bad option '" .. name .. "' (" .. t .. " expected, got " .. type(v) .. ")")
  end
  return v
end

local function application_header(app)
  if app == nil then return nil end
  if type(app) ~= "table" then
    check.fail(FN, "bad option 'application' (table expected, got " .. type(app) .. ")")
  end
  check.options(FN, "application", app, { name = true, version = true })
  local name, version = app.name, app.version
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") or #name > 50 then
    check.fail(FN, "bad option 'application.name' (1-50 letters, digits, '_' or '-' expected)")
  end
  if type(version) ~= "string" or not (version:match("^%d%d?%d?$")
      or version:match("^%d%d?%d?%.%d%d?%d?$") or version:match("^%d%d?%d?%.%d%d?%d?%.%d%d?%d?$")) then
    check.fail(FN, "bad option 'application.version' (1 to 3 dot-separated numbers of 1-3 digits expected)")
  end
  return "AV-Origin-App: " .. name .. ":" .. version
end

local function base_url_of(opts, env)
  local base = opts.base_url
  if base == nil then return ENVIRONMENTS[env] end
  if type(base) ~= "string" then
    check.fail(FN, "bad option 'base_url' (string expected, got " .. type(base) .. ")")
  end
  base = url.trim_base(base)
  local authority = base:match("^[hH][tT][tT][pP][sS]?://([^/?#]*)")
  if not authority or authority == "" or authority:find("[@%s]") or base:find("[?#%s]") then
    check.fail(FN, "bad option 'base_url' (http:// or https:// URL without credentials, query or fragment expected)")
  end
  return base
end

--- Validates the options and builds a client (see apivideo.new).
-- @local
---@param opts apivideo.Options
---@return apivideo.Client
function M.new(opts)
  if type(opts) ~= "table" then
    check.fail(FN, "bad argument 'options' (table expected, got " .. type(opts) .. ")")
  end
  check.options(FN, "options", opts, OPTIONS)
  local key = opts.api_key
  if type(key) ~= "string" or key == "" then
    check.fail(FN, "option 'api_key' is required (non-empty string)")
  end
  local env = opt_enum(opts, "environment", ENVIRONMENTS)
  local mode = opt_enum(opts, "auth", { bearer = true, basic = true })
  local self = setmetatable({
    base_url = base_url_of(opts, env),
    timeout_ms = opt_integer(opts, "timeout_ms", 1, MAX_MS),
    connect_timeout_ms = opt_integer(opts, "connect_timeout_ms", 1, MAX_MS),
    stall_timeout_ms = opt_integer(opts, "stall_timeout_ms", 0, MAX_MS),
    max_retries = opt_integer(opts, "max_retries", 0, 100),
    max_retry_wait_ms = opt_integer(opts, "max_retry_wait_ms", 0, MAX_MS),
    concurrency = opt_integer(opts, "concurrency", 1, 64),
    max_body_bytes = opt_integer(opts, "max_body_bytes", 1, 4294967296),
    ca_file = opt_type(opts, "ca_file", "string"),
    on_event = opt_type(opts, "on_event", "function"),
    rate = { in_flight = 0, reset_at = 0 },
  }, Client)
  local insecure = opt_type(opts, "allow_insecure_http", "boolean")
  if self.base_url:match("^[hH][tT][tT][pP]://") and not insecure
      and not url.is_loopback(url.host(self.base_url)) then
    check.fail(FN, "refusing to send the API key over plain http:// to a non-loopback host"
      .. " (use https://, or set allow_insecure_http = true)")
  end
  local yield = opt_type(opts, "yield", "function")
  local store = opts.token_store
  if store ~= nil then
    for _, m in ipairs({ "get", "set", "add", "delete" }) do
      local ok, f = pcall(function() return store[m] end)
      if not ok or type(f) ~= "function" then
        check.fail(FN, "bad option 'token_store' (an object with get, set, add and delete expected,"
          .. " e.g. ngx.shared.DICT or apivideo.memory_store())")
      end
    end
  end
  local app = application_header(opts.application)

  self.user_agent = "lua-apivideo/" .. M.VERSION .. " (" .. _VERSION .. ") "
    .. (core.curl_version():match("^(%S+)") or "libcurl")
  local headers = { "Accept: application/json", "AV-Origin-Client: lua:" .. M.VERSION }
  if app then headers[#headers + 1] = app end
  self.base_headers = headers
  local driver, driver_check, hub_ngx = engine_mod.default_driver(yield)
  self.engine = engine_mod.new({
    max_body = self.max_body_bytes, share = shared_pool(), driver = driver, check = driver_check,
    hub = hub_ngx,
  })
  self.auth = auth.new(self, mode, key, store)
  self.analytics = require("apivideo.analytics").new(self)
  return self
end

--- Reports an event to the on_event option, if set. Events never carry a
-- credential: only type, method, path, status, attempt, wait_ms and the like.
-- @local
---@param event apivideo.ClientEvent
function Client:_emit(event)
  if self.on_event then self.on_event(event) end
end

local function header_number(headers, name)
  local n = tonumber(headers[name])
  if n == nil or n ~= n then return nil end
  return n
end

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

--- The rate-limit facts of a response, or nil when it carried none.
-- @local
---@param headers table<string,string> response headers, lower-case names
---@return apivideo.RateLimit?
function M.rate_limit(headers)
  local limit = header_number(headers, "x-ratelimit-limit")
  local remaining = header_number(headers, "x-ratelimit-remaining")
  local after = header_number(headers, "x-ratelimit-retry-after")
  if limit == nil and remaining == nil and after == nil then return nil end
  local function int(v) return v and math.floor(v) end
  return { limit = int(limit), remaining = int(remaining), retry_after = int(after) }
end

-- Rate-limit bookkeeping, conservative on purpose (a 429 costs more than a
-- short wait): within a window the budget is the lowest X-RateLimit-Remaining
-- any answer reported (answers are handled in no particular order, and a
-- stale one must never raise it), minus every request still in flight (the
-- server may count one late). Once the window's reset time has passed, the
-- budget is unknown again and the next answers set it.

--- Inside a task: waits until the budget allows one more request.
-- @local
function Client:_acquire(req)
  local rate = self.rate
  while true do
    local now = core.now_ms()
    if rate.reset_at <= now then rate.remaining = nil end
    if rate.remaining == nil or rate.remaining - rate.in_flight > 0 then break end
    local wait = rate.reset_at - now
    self:_emit({ type = "throttle", method = req.method, path = req.path, wait_ms = wait })
    self.engine:sleep(wait)
  end
  rate.in_flight = rate.in_flight + 1
end

--- Takes what an answer says about the budget.
-- @local
function Client:_release(resp)
  local rate = self.rate
  rate.in_flight = rate.in_flight - 1
  local headers = resp.headers
  local remaining = header_number(headers, "x-ratelimit-remaining")
  if resp.status == 429 then remaining = 0 end
  if remaining == nil then return end
  local after = header_number(headers, "x-ratelimit-retry-after") or 1
  if after < 0 then after = 0 end
  if after * 1000 > self.max_retry_wait_ms then after = self.max_retry_wait_ms / 1000 end
  local now = core.now_ms()
  local reset_at = now + after * 1000
  if rate.remaining == nil or rate.reset_at <= now or resp.status == 429 then
    -- a new window, or a 429: its Retry-After is the one that counts
    rate.remaining, rate.reset_at = remaining, reset_at
  else
    if remaining < rate.remaining then rate.remaining = remaining end
    if reset_at > rate.reset_at then rate.reset_at = reset_at end
  end
end

--- Classifies a transfer result: nil for a success, else the error object
-- and whether the request may be retried.
-- @local
function Client:_classify(req, full_url, resp)
  local method = req.method
  if resp.curl_code ~= 0 then
    if resp.too_large then
      return errors.new({ kind = "decode", method = method, url = full_url, status = resp.status,
        curl_code = resp.curl_code, retryable = false,
        title = "response body larger than max_body_bytes (" .. self.max_body_bytes .. ")" }), false
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
      if resp.body and #resp.body > 0 then e.body = resp.body:sub(1, 4096) end
      return e, false
    end
    return nil
  end
  local e = errors.from_response("http", method, full_url, resp)
  e.retry_after = retry_after(status, resp.headers)
  return e, RETRY_STATUS[status] == true and not req.token_call
end

--- Milliseconds to wait before attempt n+1: what the server asked for
-- (bounded by max_retry_wait_ms), else exponential backoff with full jitter.
-- @local
function Client:_retry_wait(err, attempt)
  if err.retry_after then
    local ms = err.retry_after * 1000
    return ms < self.max_retry_wait_ms and ms or self.max_retry_wait_ms
  end
  local cap = BACKOFF_BASE_MS * 2 ^ (attempt - 1)
  if cap > BACKOFF_CAP_MS then cap = BACKOFF_CAP_MS end
  return math.random() * cap -- full jitter
end

--- Inside a task: performs one logical request (with auth, throttling and
-- retries). req: method, path, query, body, auth (bool), token_call (bool).
-- Returns the transfer result or nil, err.
-- @local
function Client:_exchange(req)
  local full_url = self.base_url .. req.path .. (req.query or "")
  local attempts, retries, waited, replayed = 0, 0, 0, false
  while true do
    attempts = attempts + 1
    local headers = {}
    for i, h in ipairs(self.base_headers) do headers[i] = h end
    local tok
    if req.auth then
      local line, tok_or_err = self.auth:header()
      if not line then return nil, tok_or_err end
      headers[#headers + 1] = line
      tok = tok_or_err
    end
    if req.body then headers[#headers + 1] = "Content-Type: application/json" end
    if not req.token_call then self:_acquire(req) end
    local resp = self.engine:fetch({
      method = req.method, url = full_url, headers = headers, body = req.body,
      timeout_ms = self.timeout_ms, connect_timeout_ms = self.connect_timeout_ms,
      stall_timeout_ms = self.stall_timeout_ms, ca_file = self.ca_file,
      user_agent = self.user_agent, accept_encoding = true,
    })
    if not req.token_call then self:_release(resp) end
    local err, retryable = self:_classify(req, full_url, resp)
    if not err then
      resp.attempts = attempts
      return resp
    end
    if err.status == 401 and req.auth and self.auth.mode == "bearer" and not replayed then
      replayed = true
      self.auth:invalidate(tok)
      self:_emit({ type = "reauth", method = req.method, path = req.path, status = 401 })
    else
      -- a 401 replay is not a retry: max_retries counts retries of faults
      local wait = retryable and retries < self.max_retries and self:_retry_wait(err, retries + 1)
      if not wait or waited + wait > self.max_retry_wait_ms then
        err.attempts = attempts
        return nil, err
      end
      retries = retries + 1
      self:_emit({ type = "retry", method = req.method, path = req.path, status = err.status,
        kind = err.kind, attempt = attempts, wait_ms = wait })
      waited = waited + wait
      if wait > 0 then self.engine:sleep(wait) end
    end
  end
end

--- Runs fn(...) as a task and drives the engine until it is done.
-- @local
function Client:_run(fn, ...)
  self:_check_open(4)
  return self.engine:run(fn, ...)
end

--- Raises "the client is closed" (at the given level) once close() was called.
function Client:_check_open(level)
  if self.engine.closed then error("apivideo: the client is closed", level or 3) end
end

--- One non-blocking step of the engine (for hosts with their own loop):
-- moves data, resumes finished requests. Waits at most timeout_ms (default 0).
-- Returns true while work is pending.
---@param timeout_ms? integer the longest wait, in milliseconds (default 0: do not wait)
---@return boolean pending # true while transfers, timers or walks are pending
function Client:step(timeout_ms)
  self:_check_open()
  return self.engine:step(timeout_ms)
end

--- Transfers in flight right now.
---@return integer count # 0 once the client is closed
function Client:in_flight()
  return self.engine:in_flight()
end

--- Cancels everything in flight and frees the libcurl handles. Idempotent.
-- A closed client raises on any further call.
function Client:close()
  self.engine:close()
end
Client.__close = Client.close

return M
