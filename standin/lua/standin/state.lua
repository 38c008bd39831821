-- Per-worker mutable state: configuration, counters, request log, rate window.
-- The stand-in runs exactly one worker, so module state is the whole truth.
local M = {}

local DEFAULTS = {
  latency_ms = 0,
  token_ttl_s = 3600,
  api_key = "standin-key",
  rate_limit = { limit = 100000, window_s = 60 },
  -- the clock of the /data/* operations ("now": default `to`, the 30-day
  -- limit of `from`, ccv/live): fixed, so their answers are deterministic
  now_ms = 1704067200000,   -- 2024-01-01T00:00:00Z, just after the data set
  -- the Date header: "real" (nginx's, the machine's time) or "clock" (now_ms)
  date = "clock",
}

local function copy(t)
  if type(t) ~= "table" then return t end
  local r = {}
  for k, v in pairs(t) do r[k] = copy(v) end
  return r
end

M.start_config = copy(DEFAULTS)   -- what the start flags asked for
M.config = copy(DEFAULTS)         -- what is in force now

local LOG_MAX = 1000

local function fresh_counters()
  return {
    requests = 0, api_requests = 0, auth_api_key = 0, auth_refresh = 0,
    max_in_flight = 0, status = {}, connections = {}, n_connections = 0,
  }
end

M.counters = fresh_counters()
M.in_flight = 0        -- a gauge: never reset, requests in progress stay counted
M.log = {}             -- ring buffer
M.log_next = 1
M.log_count = 0
M.rate = { start = nil, count = 0 }

-- Reads the start flags (passed through the environment by standin/start).
function M.init_from_env()
  local function num(name)
    local v = os.getenv(name)
    if v and v ~= "" then return tonumber(v) end
  end
  local c = copy(DEFAULTS)
  c.latency_ms = num("APIVIDEO_STANDIN_LATENCY_MS") or c.latency_ms
  c.token_ttl_s = num("APIVIDEO_STANDIN_TOKEN_TTL") or c.token_ttl_s
  local k = os.getenv("APIVIDEO_STANDIN_API_KEY")
  if k and k ~= "" then c.api_key = k end
  local now = os.getenv("APIVIDEO_STANDIN_NOW")
  if now and now ~= "" then
    c.now_ms = require("standin.periods").parse_datetime(now)
      or error("APIVIDEO_STANDIN_NOW is not an RFC 3339 date-time: " .. now)
  end
  M.start_config = c
  M.config = copy(c)
end

-- Merges a /_standin/config request.  Returns true or nil, message.
function M.merge_config(t)
  if type(t) ~= "table" then return nil, "body must be a JSON object" end
  local function nonneg(name)
    local v = t[name]
    if v ~= nil and (type(v) ~= "number" or v < 0 or v ~= v) then
      return nil, name .. " must be a number >= 0"
    end
    return true
  end
  for _, name in ipairs({ "latency_ms", "token_ttl_s" }) do
    local ok, err = nonneg(name)
    if not ok then return nil, err end
  end
  if t.api_key ~= nil and (type(t.api_key) ~= "string" or t.api_key == "") then
    return nil, "api_key must be a non-empty string"
  end
  local now_ms
  if t.now ~= nil then
    if type(t.now) == "number" and t.now == t.now and t.now >= 0 then
      now_ms = math.floor(t.now * 1000)
    else
      now_ms = require("standin.periods").parse_datetime(t.now)
    end
    if not now_ms then return nil, "now must be an RFC 3339 date-time or epoch seconds >= 0" end
  end
  if t.date ~= nil and t.date ~= "real" and t.date ~= "clock" then
    return nil, 'date must be "real" or "clock"'
  end
  local rl = t.rate_limit
  if rl ~= nil then
    if type(rl) ~= "table" then return nil, "rate_limit must be an object" end
    if rl.limit ~= nil and (type(rl.limit) ~= "number" or rl.limit < 0) then
      return nil, "rate_limit.limit must be a number >= 0"
    end
    if rl.window_s ~= nil and (type(rl.window_s) ~= "number" or rl.window_s <= 0) then
      return nil, "rate_limit.window_s must be a number > 0"
    end
  end
  local c = M.config
  if t.latency_ms ~= nil then c.latency_ms = t.latency_ms end
  if t.token_ttl_s ~= nil then c.token_ttl_s = t.token_ttl_s end
  if t.api_key ~= nil then c.api_key = t.api_key end
  if now_ms then c.now_ms = now_ms end
  if t.date ~= nil then c.date = t.date end
  if rl ~= nil then
    if rl.limit ~= nil then c.rate_limit.limit = math.floor(rl.limit) end
    if rl.window_s ~= nil then c.rate_limit.window_s = rl.window_s end
    M.rate = { start = nil, count = 0 }   -- a new limit starts a new window
  end
  return true
end

function M.reset()
  M.config = copy(M.start_config)
  M.counters = fresh_counters()
  M.counters.max_in_flight = M.in_flight
  M.log, M.log_next, M.log_count = {}, 1, 0
  M.rate = { start = nil, count = 0 }
end

-- Request accounting --------------------------------------------------------
function M.begin_request(conn)
  local c = M.counters
  c.requests = c.requests + 1
  if conn and not c.connections[conn] then
    c.connections[conn] = true
    c.n_connections = c.n_connections + 1
  end
  M.in_flight = M.in_flight + 1
  if M.in_flight > c.max_in_flight then c.max_in_flight = M.in_flight end
end

function M.end_request(status, entry)
  M.in_flight = M.in_flight - 1
  if M.in_flight < 0 then M.in_flight = 0 end
  local st = M.counters.status
  local key = tostring(status)
  st[key] = (st[key] or 0) + 1
  if entry then
    M.log[M.log_next] = entry
    M.log_next = M.log_next % LOG_MAX + 1
    if M.log_count < LOG_MAX then M.log_count = M.log_count + 1 end
  end
end

-- Log entries, oldest first.
function M.log_entries()
  local out = {}
  local n = M.log_count
  local first = (n < LOG_MAX) and 1 or M.log_next
  for k = 0, n - 1 do
    out[#out + 1] = M.log[(first - 1 + k) % LOG_MAX + 1]
  end
  return out
end

function M.stats()
  local c = M.counters
  return {
    requests = c.requests, api_requests = c.api_requests,
    auth_api_key = c.auth_api_key, auth_refresh = c.auth_refresh,
    connections = c.n_connections, in_flight = M.in_flight,
    max_in_flight = c.max_in_flight, status = c.status,
  }
end

-- Fixed-window rate limit ----------------------------------------------------
-- hit(now): counts one request; returns allowed, limit, remaining, retry_after.
-- hit(now, true): same numbers without counting (for fault answers).
function M.rate_hit(now, peek)
  local rl, r = M.config.rate_limit, M.rate
  if not r.start or now >= r.start + rl.window_s then
    r.start, r.count = now, 0
  end
  if not peek then r.count = r.count + 1 end
  local remaining = rl.limit - r.count
  if remaining < 0 then remaining = 0 end
  local retry = math.ceil(r.start + rl.window_s - now)
  if retry < 1 then retry = 1 end
  return r.count <= rl.limit, rl.limit, remaining, retry
end

return M
