--- Rate limiting: what api.video's `X-RateLimit-*` headers say, and the
-- client's budget of requests.
--
-- Open this file to change how the client limits its rate. The bookkeeping
-- is conservative on purpose (a 429 costs more than a short wait): within a
-- window the budget is the lowest `X-RateLimit-Remaining` any answer
-- reported (answers are handled in no particular order, and a stale one must
-- never raise it), minus every request still in flight (the server may count
-- one late). Once the window's reset time has passed, the budget is unknown
-- again and the next answers set it.
--
-- With `rate_limit_store = S` the budget lives in the store instead, shared
-- by every client, worker and host given that store (`M.shared`): a count
-- of the requests left in the account's window, spent atomically
-- (`incr(key, -1)`) before each request, so together they never send more
-- than the window allows. The first answer of a window sets it
-- (`X-RateLimit-Remaining`, with the window's end from
-- `X-RateLimit-Retry-After` as the key's ttl, plus 250 ms); a later answer
-- only lowers it. Once it is spent, requests wait for the window's end
-- (each wait within `max_retry_wait_ms`, then the request goes and the
-- server decides). While no window is known (at the start, after a window
-- ended) one request at a time goes out across the fleet (a probe, a lock
-- in the store) and the others wait for its answer. Answers without
-- rate-limit headers make every client go freely for 60 s. A store that
-- fails is today's behaviour: no shared budget.
-- @module apivideo.ratelimit
local core = require("apivideo.core")
local store_mod = require("apivideo.store")

local M = {}

--- A header's value as a number, or nil (absent, not a number, NaN).
-- @local
---@param headers table<string,string> response headers, lower-case names
---@param name string
---@return number?
function M.header_number(headers, name)
  local n = tonumber(headers[name])
  if n == nil or n ~= n then return nil end
  return n
end
local header_number = M.header_number

--- The rate-limit facts of a response, or nil when it carried none: what a
-- page's `rate_limit` field holds.
-- @local
---@param headers table<string,string> response headers, lower-case names
---@return apivideo.RateLimit?
function M.facts(headers)
  local limit = header_number(headers, "x-ratelimit-limit")
  local remaining = header_number(headers, "x-ratelimit-remaining")
  local after = header_number(headers, "x-ratelimit-retry-after")
  if limit == nil and remaining == nil and after == nil then return nil end
  local function int(v) return v and math.floor(v) end
  return { limit = int(limit), remaining = int(remaining), retry_after = int(after) }
end

local Limiter = {}
Limiter.__index = Limiter

--- A client's budget. opts: `engine` (its tasks sleep while the budget is
-- spent), `max_wait_ms` (the longest window it believes a server),
-- `emit(event)` (told of every throttling wait).
-- @local
function M.new(opts)
  return setmetatable({
    engine = opts.engine, max_wait_ms = opts.max_wait_ms, emit = opts.emit, metrics = opts.metrics,
    in_flight = 0, reset_at = 0, remaining = nil,
  }, Limiter)
end

--- Inside a task: waits until the budget allows one more request. Returns
-- the request's ticket, for `release` and `forget` (none here).
function Limiter:acquire(req)
  while true do
    local now = core.now_ms()
    if self.reset_at <= now then self.remaining = nil end
    if self.remaining == nil or self.remaining - self.in_flight > 0 then break end
    local wait = self.reset_at - now
    self.emit({ type = "throttle", method = req.method, path = req.path, wait_ms = wait })
    self.engine:sleep(wait)
  end
  self.in_flight = self.in_flight + 1
end

--- A request that was counted but whose answer will never come (its task
-- was cancelled): its slot is given back, nothing is learnt.
function Limiter:forget()
  self.in_flight = self.in_flight - 1
end

--- Takes what an answer (a transfer result) says about the budget.
function Limiter:release(resp)
  self.in_flight = self.in_flight - 1
  if self.metrics then
    local r = header_number(resp.headers, "x-ratelimit-remaining")
    if r then self.metrics:remaining(r) end
  end
  local headers = resp.headers
  local remaining = header_number(headers, "x-ratelimit-remaining")
  if resp.status == 429 then remaining = 0 end
  if remaining == nil then return end
  local after = header_number(headers, "x-ratelimit-retry-after")
    or (resp.status == 429 and header_number(headers, "retry-after")) or 1
  if after < 0 then after = 0 end
  if after * 1000 > self.max_wait_ms then after = self.max_wait_ms / 1000 end
  local now = core.now_ms()
  local reset_at = now + after * 1000
  if self.remaining == nil or self.reset_at <= now or resp.status == 429 then
    -- a new window, or a 429: its Retry-After is the one that counts
    self.remaining, self.reset_at = remaining, reset_at
  else
    if remaining < self.remaining then self.remaining = remaining end
    if reset_at > self.reset_at then self.reset_at = reset_at end
  end
end

local Shared = {}
Shared.__index = Shared

local wall_ms = store_mod.wall_ms
local PROBE_S, NO_HEADERS_S, MARGIN_MS = 30, 60, 250

--- A budget shared through a store. opts: as `new`, plus `store` and
-- `account` (the digest naming the account: the budget is the account's).
-- @local
function M.shared(opts)
  local prefix = "apivideo:rl:" .. opts.account .. ":"
  return setmetatable({
    engine = opts.engine, max_wait_ms = opts.max_wait_ms, emit = opts.emit, metrics = opts.metrics,
    store = opts.store, budget = prefix .. "b", reset = prefix .. "r", probe = prefix .. "p", free = prefix .. "n",
    flying = prefix .. "f",
  }, Shared)
end

-- Tickets: FREE (nothing spent), a spent slot, the probe (the request that
-- learns a new window). Spent and probe tickets are counted in the store
-- while they are out (`flying`): a request spent in one window may reach
-- the API in the next, so a new window's budget is what the API says is
-- left, less the requests still out. The count is kept per minute of
-- departure (a key per minute, living three): a ticket lands in its own
-- minute's count, so a count that expires never takes requests of another
-- minute with it, and a process that died with requests out does not
-- shrink the budget for ever.
local FREE = {}
local FLY_MINUTE_MS, FLY_TTL_S = 60000, 180

local function fly(self, probe)
  local key = self.flying .. math.floor(wall_ms() / FLY_MINUTE_MS)
  self.store:incr(key, 1, 0, FLY_TTL_S)
  return { probe = probe, key = key }
end

local function landed(self, ticket)
  -- without init: a count that expired is not brought back below zero
  if ticket ~= FREE then self.store:incr(ticket.key, -1) end
end

-- The requests out now: the counts of the last three minutes.
local function flying(self)
  local minute, n = math.floor(wall_ms() / FLY_MINUTE_MS), 0
  for m = minute - 2, minute do
    local v = tonumber(self.store:get(self.flying .. m))
    if v and v > 0 then n = n + v end
  end
  return n
end

-- Spends one slot of the budget: "spent", "over" (the budget is spent; nothing
-- was taken), or nil, why (no budget in the store: "not found", or the
-- store's error).
local function spend(self)
  local left, why = self.store:incr(self.budget, -1)
  if not left then return nil, why end
  if left >= 0 then return "spent" end
  self.store:incr(self.budget, 1) -- nothing was spent
  return "over"
end

--- Inside a task: spends one request of the shared budget, waiting for the
-- window's end while it is spent. Returns the ticket.
function Shared:acquire(req)
  local store, engine = self.store, self.engine
  local waited, nap = 0, 5
  while true do
    local got, why = spend(self)
    if got == "spent" then return fly(self, false) end
    if got == "over" then
      local wait = (tonumber(store:get(self.reset)) or 0) - wall_ms()
      if wait < 5 then wait = 5 end
      if waited + wait > self.max_wait_ms then wait = self.max_wait_ms - waited end
      if wait <= 0 then return FREE end -- waited long enough: the server decides
      self.emit({ type = "throttle", method = req.method, path = req.path, wait_ms = wait, shared = true })
      engine:sleep(wait)
      waited = waited + wait
    else
      if why ~= "not found" then return FREE end -- the store fails: no shared budget
      if store:get(self.free) then return FREE end
      if store:add(self.probe, 1, PROBE_S) then
        -- the lock is free once the last probe's window is in the store: a
        -- window learnt between the spend above and the lock is spent from
        got = spend(self)
        if got == nil then return fly(self, true) end
        store:delete(self.probe)
        if got == "spent" then return fly(self, false) end
      else
        if waited >= self.max_wait_ms then return FREE end
        engine:sleep(nap)
        waited = waited + nap
        nap = nap * 2 > 40 and 40 or nap * 2
      end
    end
  end
end

--- A request whose answer will never come: a probe lets the next one go.
-- (A spent slot is not given back: the request may have reached the API.)
function Shared:forget(ticket)
  landed(self, ticket)
  if ticket.probe then self.store:delete(self.probe) end
end

--- Takes what an answer says about the account's window.
function Shared:release(resp, ticket)
  local store, headers = self.store, resp.headers
  landed(self, ticket)
  local remaining = header_number(headers, "x-ratelimit-remaining")
  if resp.status == 429 then remaining = 0 end
  -- a probe's lock goes only once what it learnt is in the store: else a
  -- second probe could go out into the same window
  local probe = ticket.probe and self.probe
  if remaining == nil then
    if probe and resp.status ~= 0 then store:set(self.free, 1, NO_HEADERS_S) end
    if probe then store:delete(probe) end
    return
  end
  if self.metrics then self.metrics:remaining(remaining) end
  local after = header_number(headers, "x-ratelimit-retry-after")
    or (resp.status == 429 and header_number(headers, "retry-after")) or 1
  if after < 0 then after = 0 end
  local ms = after * 1000
  if ms > self.max_wait_ms then ms = self.max_wait_ms end
  ms = ms + MARGIN_MS
  local ttl, reset_at = ms / 1000, wall_ms() + ms
  if resp.status == 429 then
    store:set(self.budget, 0, ttl)
    store:set(self.reset, reset_at, ttl)
  elseif store:add(self.budget, math.max(0, remaining - flying(self)), ttl) then
    store:set(self.reset, reset_at, ttl) -- a new window
  else
    local current = tonumber(store:get(self.budget))
    if current and remaining < current then store:incr(self.budget, remaining - current) end
  end
  if probe then store:delete(probe) end
end

return M
