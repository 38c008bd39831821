--- Counting for Prometheus: `apivideo.new{ metrics_store = S }`.
--
-- Every client given the same store (every worker of an nginx with a
-- `lua_shared_dict`, every host with Redis) counts into it, with the
-- store's atomic `incr`:
--
--     apivideo_requests_total{operation, code}    every attempt sent (code: the HTTP status, or
--                                                 "network" / "timeout")
--     apivideo_retries_total{operation}           every retry
--     apivideo_cache_total{result}                hit, miss, stale, negative (the answer cache)
--     apivideo_rate_limit_remaining               the latest X-RateLimit-Remaining
--     apivideo_request_duration_seconds{operation} a histogram of the attempts' durations
--
-- Labels are bounded: operation names (the library's own list), HTTP
-- statuses, four cache results. Nothing here ever sees a key or a token.
-- Each series is one store key, `apivideo:m:<name>|<label>=<value>|...`; a
-- histogram keeps one counter per bucket (not cumulative: one `incr` per
-- request) plus its sum and count, and `apivideo.prometheus` adds the
-- buckets up when it writes them.
-- @module apivideo.metrics
local M = {}

M.PREFIX = "apivideo:m:"
--- The histogram's bucket bounds, in seconds.
M.BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }

local PREFIX, BUCKETS = M.PREFIX, M.BUCKETS

local Metrics = {}
Metrics.__index = Metrics

--- A recorder over `store`.
-- @local
function M.new(store)
  return setmetatable({ store = store }, Metrics)
end

local function label_value(v)
  v = tostring(v or "other")
  if not v:match("^[%w_%.%-%+]+$") or #v > 64 then return "other" end
  return v
end

--- One series key: name and label pairs, in the order given.
function M.key(name, ...)
  local parts = { PREFIX .. name }
  local n = select("#", ...)
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    parts[#parts + 1] = k .. "=" .. label_value(v)
  end
  return table.concat(parts, "|")
end
local key = M.key

local function add(self, k, n)
  -- a full store (ngx.shared) or one that fails (Redis down) loses a count, never a request
  pcall(self.store.incr, self.store, k, n, 0)
end

--- One attempt and its answer (a transfer result).
function Metrics:request(operation, resp)
  local code
  if resp.curl_code and resp.curl_code ~= 0 then
    code = resp.curl_code == 28 and "timeout" or "network"
  else
    code = string.format("%d", resp.status or 0)
  end
  add(self, key("apivideo_requests_total", "operation", operation, "code", code), 1)
  local s = (resp.time_ms or 0) / 1000
  local le = "+Inf"
  for _, b in ipairs(BUCKETS) do
    if s <= b then
      le = tostring(b)
      break
    end
  end
  add(self, key("apivideo_request_duration_seconds_bucket", "operation", operation, "le", le), 1)
  add(self, key("apivideo_request_duration_seconds_sum", "operation", operation), s)
  add(self, key("apivideo_request_duration_seconds_count", "operation", operation), 1)
end

--- One retry of an operation.
function Metrics:retry(operation)
  add(self, key("apivideo_retries_total", "operation", operation), 1)
end

--- One answer of the cache: "hit", "miss", "stale" or "negative".
function Metrics:cache(result)
  add(self, key("apivideo_cache_total", "result", result), 1)
end

--- The latest X-RateLimit-Remaining the account was told.
function Metrics:remaining(n)
  pcall(self.store.set, self.store, key("apivideo_rate_limit_remaining"), n)
end

return M
