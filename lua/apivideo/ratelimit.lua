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
-- @module apivideo.ratelimit
local core = require("apivideo.core")

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
    engine = opts.engine, max_wait_ms = opts.max_wait_ms, emit = opts.emit,
    in_flight = 0, reset_at = 0, remaining = nil,
  }, Limiter)
end

--- Inside a task: waits until the budget allows one more request.
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

return M
