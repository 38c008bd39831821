--- The client object and its options.
--
-- `apivideo.new(options)` makes a `Client`; `Options` lists what it takes.
-- A client sends the requests of its `analytics` operations
-- (`apivideo.analytics`), retries what can be retried, honours the rate
-- limit and keeps the bearer token fresh. `client:run_all` runs several
-- walks at once; `client:step` serves hosts with their own event loop.
-- @module apivideo.client

-- For maintainers: the client only checks its options and builds its parts,
-- bottom up, each from the ones it uses (`assemble`); each part owns one job:
--
--   * `apivideo.transport` — what the operations see: send, run, walk;
--   * `apivideo.waiter` — how the client waits (poll, a host's yield, nginx);
--   * `apivideo.engine` — tasks, timers, transfers in flight; `apivideo.group` — run_all;
--   * `apivideo.request` — one logical request, with its retries and replay;
--   * `apivideo.retry` — what is retried, and how long to wait; `apivideo.clock` — the API's time;
--   * `apivideo.ratelimit` — the rate-limit budget;
--   * `apivideo.auth` — Basic, or bearer tokens (shared through a store);
--   * `apivideo.pager` — walks over pages; `apivideo.analytics` — the operations.
local core = require("apivideo.core")
local analytics = require("apivideo.analytics")
local auth = require("apivideo.auth")
local cache_mod = require("apivideo.cache")
local check = require("apivideo.check")
local clock = require("apivideo.clock")
local engine_mod = require("apivideo.engine")
local group = require("apivideo.group")
local metrics = require("apivideo.metrics")
local ratelimit = require("apivideo.ratelimit")
local request = require("apivideo.request")
local retry = require("apivideo.retry")
local store_mod = require("apivideo.store")
local transport_mod = require("apivideo.transport")
local url = require("apivideo.url")
local waiter_mod = require("apivideo.waiter")

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
---@field token_store? apivideo.MemoryStore|table share one bearer token: `ngx.shared.DICT`,
--- `apivideo.memory_store()` or `apivideo.redis_store{}`
---@field cache? apivideo.CacheOptions the answer cache: one answer per TTL for every worker
--- and host sharing its store
---@field rate_limit_store? table share the account's rate-limit budget through this store
---@field metrics_store? table count requests, retries, cache results and durations into this store
--- (`apivideo.prometheus` writes them)

--- The `cache` option of `apivideo.new`.
-- @table CacheOptions
---@class apivideo.CacheOptions
---@field store table `ngx.shared.DICT`, `apivideo.memory_store()` or `apivideo.redis_store{}` (required)
---@field ttl? number seconds an answer stays fresh (default 30)
---@field neg_ttl? number seconds a 404 is kept (default 5; 0: never)
---@field stale_ttl? number seconds past `ttl` an answer may still be served when api.video fails (default 300)
---@field closed_ttl? number seconds an answer about a window that closed 15 minutes ago stays fresh (default 3600)
---@field wait_ms? integer how long a request waits for another one's flight (default: `timeout_ms`)

--- What the `on_event` option is told. It never carries a credential.
-- @table ClientEvent
---@class apivideo.ClientEvent
---@field type "retry"|"reauth"|"throttle"|"token"|"stale" a retry, a replay after a 401, a rate-limit wait, a token
--- exchange, a stale answer served from the cache because api.video failed
---@field method string the request's method
---@field path string the request's path
---@field status? integer the HTTP status that caused a retry or a replay
---@field kind? string retries: the error's kind
---@field attempt? integer retries: the attempt that failed
---@field wait_ms? number retries and throttling: how long the client waits
---@field action? "api-key"|"refresh" tokens: which exchange
---@field expires_in? number tokens: the token's lifetime in seconds
---@field operation? string retries, replays and stale answers: the operation's name
---@field age_ms? number stale answers: the answer's age
---@field shared? boolean throttling: the wait is for the budget shared through `rate_limit_store`

--- The options of `client:run_all`.
-- @table RunAllOptions
---@class apivideo.RunAllOptions
---@field limit? integer at most this many functions run at once (default: all of them)
---@field on_error? fun(err:any, index:integer):boolean? told of a function that raised (its error, its
--- position); true goes on with the others, anything else stops them all
---@field tick? fun() called about every `tick_ms` while they run (progress, a heartbeat)
---@field tick_ms? integer how often `tick` is called, in milliseconds (default 100)

local OPTIONS = {
  api_key = true, environment = true, base_url = true, auth = true, timeout_ms = true,
  connect_timeout_ms = true, stall_timeout_ms = true, max_retries = true,
  max_retry_wait_ms = true, concurrency = true, application = true, ca_file = true,
  max_body_bytes = true, on_event = true, allow_insecure_http = true, yield = true,
  token_store = true, cache = true, rate_limit_store = true, metrics_store = true,
}

local DEFAULTS = {
  environment = "production", auth = "bearer", timeout_ms = 30000, connect_timeout_ms = 10000,
  stall_timeout_ms = 15000, max_retries = 3, max_retry_wait_ms = 60000, concurrency = 4,
  max_body_bytes = 64 * 1024 * 1024,
}

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
-- (`local c <close> = apivideo.new(...)`). `tostring(client)` is
-- `"apivideo.client (<base_url>, <auth mode>)"`, never the key.
-- @type Client
---@class apivideo.Client
---@field analytics apivideo.Analytics the Analytics operations
---@field videos apivideo.Videos a video's title (`client.videos:get(id)`)
---@field live_streams apivideo.LiveStreams a live stream's title (`client.live_streams:get(id)`)
---@field base_url string the API's base URL, without a trailing slash
local Client = {}
Client.__index = Client
Client.__name = "apivideo.client"

--- `tostring(client)`: `"apivideo.client (<base_url>, <auth mode>)"`; never the key.
-- @local
---@return string
function Client:__tostring()
  return tostring(self.transport)
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
    check.bad_option(FN, name, table.concat(names, " or ")
      .. " expected, got " .. (type(v) == "string" and "'" .. v .. "'" or type(v)))
  end
  return v
end

local function opt_type(opts, name, t)
  local v = opts[name]
  if v ~= nil and type(v) ~= t then
    check.bad_option(FN, name, t .. " expected, got " .. type(v))
  end
  return v
end

local function application_header(app)
  if app == nil then return nil end
  if type(app) ~= "table" then
    check.bad_option(FN, "application", "table expected, got " .. type(app))
  end
  check.options(FN, "application", app, { name = true, version = true })
  local name, version = app.name, app.version
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") or #name > 50 then
    check.bad_option(FN, "application.name", "1-50 letters, digits, '_' or '-' expected")
  end
  if type(version) ~= "string" or not (version:match("^%d%d?%d?$")
      or version:match("^%d%d?%d?%.%d%d?%d?$") or version:match("^%d%d?%d?%.%d%d?%d?%.%d%d?%d?$")) then
    check.bad_option(FN, "application.version", "1 to 3 dot-separated numbers of 1-3 digits expected")
  end
  return "AV-Origin-App: " .. name .. ":" .. version
end

local function base_url_of(opts, env)
  local base = opts.base_url
  if base == nil then return ENVIRONMENTS[env] end
  if type(base) ~= "string" then
    check.bad_option(FN, "base_url", "string expected, got " .. type(base))
  end
  base = url.trim_base(base)
  local authority = base:match("^[hH][tT][tT][pP][sS]?://([^/?#]*)")
  if not authority or authority == "" or authority:find("[@%s]") or base:find("[?#%s]") then
    check.bad_option(FN, "base_url", "http:// or https:// URL without credentials, query or fragment expected")
  end
  return base
end

local STORE_METHODS = { "get", "set", "add", "incr", "delete" }
local CACHE_OPTIONS = { store = true, ttl = true, neg_ttl = true, stale_ttl = true, closed_ttl = true, wait_ms = true }

local function seconds(name, v, default, min)
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or v > 31536000 then
    check.bad_option(FN, name, "a number of seconds " .. (min > 0 and "> 0" or ">= 0")
      .. " (at most a year) expected, got " .. tostring(v))
  end
  if min > 0 and v <= 0 then check.bad_option(FN, name, "a number of seconds > 0 expected, got " .. tostring(v)) end
  return v
end

local function cache_of(c, timeout_ms)
  if c == nil then return nil end
  if type(c) ~= "table" then check.bad_option(FN, "cache", "table expected, got " .. type(c)) end
  check.options(FN, "cache", c, CACHE_OPTIONS)
  if c.store == nil then check.bad_option(FN, "cache.store", "required: ngx.shared.DICT, apivideo.memory_store()"
    .. " or apivideo.redis_store{...}") end
  local ttl = seconds("cache.ttl", c.ttl, 30, 0.001)
  local closed = seconds("cache.closed_ttl", c.closed_ttl, 3600, 0)
  return {
    store = store_mod.check(FN, "cache.store", c.store, STORE_METHODS),
    ttl = ttl, neg_ttl = seconds("cache.neg_ttl", c.neg_ttl, 5, 0),
    stale_ttl = seconds("cache.stale_ttl", c.stale_ttl, 300, 0),
    closed_ttl = closed < ttl and ttl or closed,
    wait_ms = c.wait_ms == nil and timeout_ms or check.integer(FN, "cache.wait_ms", c.wait_ms, 0, MAX_MS),
  }
end

--- The options, checked: a table of every option's value (defaults filled
-- in), and the API key apart (it never goes into a table field).
local function options_of(opts)
  if type(opts) ~= "table" then
    check.fail(FN, "options", "table expected, got " .. type(opts))
  end
  check.options(FN, "options", opts, OPTIONS)
  local key = opts.api_key
  if type(key) ~= "string" or key == "" then
    check.raise({ fn = FN, arg = "api_key", reason = "required (non-empty string)",
      text = FN .. ": option 'api_key' is required (non-empty string)" })
  end
  local env = opt_enum(opts, "environment", ENVIRONMENTS)
  local o = {
    auth = opt_enum(opts, "auth", { bearer = true, basic = true }),
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
    yield = opt_type(opts, "yield", "function"),
    token_store = opts.token_store,
    application_header = application_header(opts.application),
  }
  local insecure = opt_type(opts, "allow_insecure_http", "boolean")
  if o.base_url:match("^[hH][tT][tT][pP]://") and not insecure
      and not url.is_loopback(url.host(o.base_url)) then
    check.raise({ fn = FN, arg = "base_url", unless = "allow_insecure_http",
      reason = "plain http:// to a non-loopback host (use https://, or set"
      .. " allow_insecure_http = true)", text = FN .. ": refusing to send the API key over plain http:// to a"
      .. " non-loopback host (use https://, or set allow_insecure_http = true)" })
  end
  local store = o.token_store
  if store ~= nil then
    for _, m in ipairs({ "get", "set", "add", "delete" }) do
      local ok, f = pcall(function() return store[m] end)
      if not ok or type(f) ~= "function" then
        check.bad_option(FN, "token_store", "an object with get, set, add and delete expected,"
          .. " e.g. ngx.shared.DICT or apivideo.memory_store()")
      end
    end
  end
  o.cache = cache_of(opts.cache, o.timeout_ms)
  if opts.rate_limit_store ~= nil then
    o.rate_limit_store = store_mod.check(FN, "rate_limit_store", opts.rate_limit_store, STORE_METHODS)
  end
  if opts.metrics_store ~= nil then
    o.metrics_store = store_mod.check(FN, "metrics_store", opts.metrics_store, { "get", "set", "incr" })
  end
  return o, key
end

--- Builds the client's parts from checked options, each from the ones it
-- uses, bottom up: the engine (how it waits), the authenticator's own
-- requester, the authenticator, the operations' requester (which uses the
-- authenticator and the budget), the transport the operations see, and the
-- operations. Nothing is wired into anything after it is built.
local function assemble(o, key)
  local self = setmetatable({ base_url = o.base_url, on_event = o.on_event }, Client)
  local function emit(event)
    local on_event = self.on_event
    if on_event then on_event(event) end
  end
  local headers = { "Accept: application/json", "AV-Origin-Client: lua:" .. M.VERSION }
  if o.application_header then headers[#headers + 1] = o.application_header end
  local engine = engine_mod.new(waiter_mod.for_host({
    yield = o.yield, share = shared_pool(), max_body = o.max_body_bytes,
  }))
  local api_clock = clock.new()
  local transfer = {
    timeout_ms = o.timeout_ms, connect_timeout_ms = o.connect_timeout_ms,
    stall_timeout_ms = o.stall_timeout_ms, ca_file = o.ca_file,
    user_agent = "lua-apivideo/" .. M.VERSION .. " (" .. _VERSION .. ") "
      .. (core.curl_version():match("^(%S+)") or "libcurl"),
  }
  local function requester(parts)
    parts.engine, parts.emit, parts.clock = engine, emit, api_clock
    parts.base_url, parts.headers, parts.transfer = o.base_url, headers, transfer
    return request.new(parts)
  end
  local tokens = requester({ policy = retry.new({
    max_retries = o.max_retries, max_retry_wait_ms = o.max_retry_wait_ms, max_body_bytes = o.max_body_bytes,
    tokens = true,
  }) })
  local authenticator = auth.new({
    mode = o.auth, store = o.token_store, base_url = o.base_url, engine = engine, emit = emit,
    send = function(req) return tokens:send(req) end,
  }, key)
  local account = (o.cache or o.rate_limit_store) and store_mod.account(o.base_url, key)
  local recorder = o.metrics_store and metrics.new(o.metrics_store)
  local limits = { engine = engine, max_wait_ms = o.max_retry_wait_ms, emit = emit, metrics = recorder,
    store = o.rate_limit_store, account = account }
  local operations = requester({
    auth = authenticator,
    limiter = o.rate_limit_store and ratelimit.shared(limits) or ratelimit.new(limits),
    policy = retry.new(o),
    metrics = recorder,
  })
  local answers = o.cache and cache_mod.new({
    store = o.cache.store, ttl = o.cache.ttl, neg_ttl = o.cache.neg_ttl, stale_ttl = o.cache.stale_ttl,
    closed_ttl = o.cache.closed_ttl, wait_ms = o.cache.wait_ms, account = account, engine = engine,
    base_url = o.base_url, emit = emit, metrics = recorder, server_time = function() return api_clock:now() end,
  })
  self.engine, self.auth = engine, authenticator
  self.transport = transport_mod.new({
    engine = engine, requester = operations, clock = api_clock, concurrency = o.concurrency,
    base_url = o.base_url, label = "apivideo.client (" .. o.base_url .. ", " .. o.auth .. ")", cache = answers,
  })
  self.analytics = analytics.new(self.transport)
  self.videos = analytics.new(self.transport, "videos")
  self.live_streams = analytics.new(self.transport, "live_streams")
  return self
end

--- Validates the options and builds a client (see apivideo.new). A bad
-- option raises an argument error positioned at the caller.
-- @local
---@param opts apivideo.Options
---@return apivideo.Client
function M.new(opts)
  local o, key = check.checked(2, options_of, opts)
  return assemble(o, key)
end

--- The API's current time, in seconds since the epoch: the `Date` header
-- of the latest answer, advanced by the local monotonic clock since. Nil
-- before any answer. It does not depend on this machine's clock being
-- right (the archive reckons its windows from it).
---@return number? seconds
function Client:server_time()
  return self.transport:server_time()
end

local RUN_ALL = "client:run_all"

-- run_all's arguments, checked: the source of functions and the group's options.
local function run_all_args(fns, opts)
  local source
  if type(fns) == "function" then
    source = fns
  elseif type(fns) == "table" then
    for i = 1, #fns do
      if type(fns[i]) ~= "function" then
        check.fail(RUN_ALL, "fns", "item " .. i .. " is a " .. type(fns[i]) .. ", not a function")
      end
    end
    local k = 0
    source = function()
      k = k + 1
      return fns[k]
    end
  else
    check.fail(RUN_ALL, "fns", "array of functions or function expected, got " .. type(fns))
  end
  opts = check.options(RUN_ALL, "options", opts, { limit = true, on_error = true, tick = true, tick_ms = true })
  for _, name in ipairs({ "on_error", "tick" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      check.bad_option(RUN_ALL, name, "function expected, got " .. type(opts[name]))
    end
  end
  return source, {
    fn = RUN_ALL, on_error = opts.on_error, tick = opts.tick,
    limit = opts.limit ~= nil and check.integer(RUN_ALL, "limit", opts.limit, 1, MAX_MS) or math.huge,
    tick_ms = opts.tick_ms ~= nil and check.integer(RUN_ALL, "tick_ms", opts.tick_ms, 1, MAX_MS) or 100,
  }
end

--- Runs several functions at once and waits until all have returned. Each
-- runs as a task of this client: it may call operations and walk iterators,
-- and while one waits for the network the others go on, so their requests
-- overlap (and each walk still keeps `concurrency` pages in flight). This is
-- how to walk several sessions' events, or several videos, at once. Call it
-- from outside any of the client's tasks.
--
-- On plain Lua 5.1 (not LuaJIT) a generic `for` cannot wait inside a task:
-- call the iterator function directly there (`local page = next_page()`).
-- @usage local counts = { vi1 = 0, vi2 = 0 }
-- local function count(id)
--   return function()
--     for _ in client.analytics:video_sessions(id, { period = "2023" }) do counts[id] = counts[id] + 1 end
--   end
-- end
-- local ok, err = client:run_all({ count("vi1"), count("vi2") })
---@param fns function[]|fun():function? the functions (called with no argument), or a function
--- giving the next one (nil: no more), for long lists
---@param opts? apivideo.RunAllOptions
---@return boolean|nil ok # true when every function returned (or `on_error` let it go on)
---@return any err # else the error that stopped it, as the function raised it (the library's error object,
--- or your own error value); the others were cancelled
function Client:run_all(fns, opts)
  self.transport:check_open(2)
  local source, group_opts = check.checked(2, run_all_args, fns, opts)
  if self.engine:current() then
    check.raise({ fn = RUN_ALL, reason = "called from inside one of the client's tasks",
      text = "apivideo: client:run_all was called from inside one of the client's tasks" }, 2)
  end
  local ok, err = group.run(self.engine, source, group_opts)
  return ok, err
end

--- One non-blocking step of the client's work (for hosts with their own loop):
-- moves data, resumes finished requests. Waits at most timeout_ms (default 0).
-- Returns true while work is pending.
---@param timeout_ms? integer the longest wait, in milliseconds (default 0: do not wait)
---@return boolean pending # true while transfers, timers or walks are pending
function Client:step(timeout_ms)
  self.transport:check_open(2)
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
