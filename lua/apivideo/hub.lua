--- Inside nginx: one multi handle per worker, shared by every client.
--
-- A worker serves many requests at once and each builds its own client. If
-- every client polled its own multi handle, each would wake the worker on its
-- own timer whether or not anything had arrived, their timers would fall due
-- in the same loop iteration, and every request would open (and close) its
-- own connections. Instead, every client of the worker sends its transfers
-- through the worker's hub:
--
--  * one multi handle, so connections stay open from one request to the next
--    (the keepalive pool lua-resty-http users expect) and one poll covers all;
--  * one pump, a light thread (`ngx.timer.at`) that moves the bytes while
--    anything is in flight. While bytes keep coming it naps 1-4 ms (or
--    less, on libcurl's hint); after a few idle ticks it sleeps until a
--    socket of the worker's transfers is ready or libcurl's own timer is
--    due: the module's watcher thread (src/wait.c) poll()s those sockets and
--    writes a byte to a cosocket the pump reads (connected to the watcher's
--    Unix socket), and whatever needs the pump sooner (a lane queueing for a
--    turn, an earlier timer) writes it at once. (Measured, issue 21: one walk
--    at a time at 300 ms, napping alone cost 22 ms of worker CPU a walk, the
--    watcher alone 16, both 12.5; twenty at once at 50 ms, the watcher alone
--    cost ~10 % more than napping.) Where it cannot watch (no cosocket to be
--    had) it naps, and says so once in the error log;
--  * each client sees a lane: its own transfers and its own queue of finished
--    ones. A request that waits sleeps on its lane's `ngx.semaphore` and is
--    woken only when one of its own transfers finishes (or its next timer is
--    due);
--  * turns: answers of many requests often arrive together, and waking them
--    all at once would hold the worker for as long as all of them take to
--    decode and handle. The pump wakes TURNS_PER_TICK lanes per loop
--    iteration (one more for every TURNS_BACKLOG queued), in the order their
--    data arrived, and a lane that has run for
--    SLICE_MS without waiting gives its turn back (`Lane:turn`) before it
--    decodes the next page. nginx's own events (other requests) get the
--    worker between any two turns.
--
-- Finished transfers are decoded by the request that owns them, in its own
-- coroutine: the pump never runs a request's Lua code. A transfer its client
-- no longer wants (a walk cut short, a request that ended) is not cut off:
-- it finishes in the hub, owned by nobody, so that its connection stays.
--
-- A lane is a waiter (`apivideo.waiter`: add, next_done, count, queued, poll,
-- wait, turn, release, check, close), so the engine drives it like any other.
-- Everything of the library that knows nginx lives in this file: finding
-- out that we run inside nginx, the phases that can yield, the request that
-- owns a client's tasks, the pump and the turns.
--
-- An nginx without `ngx.semaphore` still gets a lane, which then polls for
-- itself (short `ngx.sleep` naps and a step of the worker's multi handle)
-- instead of sleeping until the pump wakes it.
-- @module apivideo.hub
local core = require("apivideo.core")

local M = {}

local PUMP_NAP_MIN_MS, PUMP_NAP_MAX_MS = 1, 4
local TURNS_PER_TICK, SLICE_MS = 2, 0.5
-- one more turn per tick for every TURNS_BACKLOG lanes queued
local TURNS_BACKLOG = 16
local PUMP_LOST_MS = 100
local now_ms = core.now_ms
-- a lane with nothing due waits at most this long before it looks again (a
-- safety net: the pump wakes it as soon as one of its transfers finishes,
-- and a lane that looks again replaces a pump that was lost)
local LANE_WAIT_MAX_MS = 1000
-- the longest a pump waits for its watcher (it is woken before when anything changes)
local PUMP_WAIT_MAX_MS = 1000

local Hub = {}
Hub.__index = Hub

local Lane = {}
Lane.__index = Lane

--- Hands every finished transfer of the worker to the lane that sent it and
-- wakes that lane if it is waiting.
function Hub:_dispatch()
  local multi, lane_of = self.multi, self.lane_of
  local t = multi:next_done()
  while t do
    local lane = lane_of[t]
    if lane then
      lane_of[t] = nil
      lane.transfers[t] = nil
      lane.n = lane.n - 1
      local tail = lane.tail + 1
      lane.tail = tail
      lane.done[tail] = t
      if lane.waiting then self:_want_turn(lane) end
    else
      t:close() -- its lane was closed while it ran
    end
    t = multi:next_done()
  end
end

--- Puts a lane in the queue of lanes waiting for a turn (once).
function Hub:_want_turn(lane)
  if lane.in_turns then return end
  lane.in_turns = true
  local tail = self.turns_tail + 1
  self.turns_tail = tail
  self.turns[tail] = lane
end

--- Wakes up to n waiting lanes, oldest first. Returns how many still wait.
function Hub:_give_turns(n)
  local turns = self.turns
  local head, tail = self.turns_head, self.turns_tail
  while n > 0 and head <= tail do
    local lane = turns[head]
    turns[head] = nil
    head = head + 1
    lane.in_turns = false
    if lane.waiting then -- (a lane whose wait timed out meanwhile is skipped)
      lane.waiting = false
      lane.sema:post(1)
      n = n - 1
    end
  end
  if head > tail then head, tail = 1, 0 end
  self.turns_head, self.turns_tail = head, tail
  return tail - head + 1
end

--- Moves data on every transfer of the worker (waits at most ms: only the
-- blocking driver passes more than 0) and dispatches what finished.
function Hub:perform(ms)
  local multi = self.multi
  local _, finished = multi:perform(ms or 0)
  -- (queued: also what an earlier call collected before it raised)
  if finished > 0 or multi:queued() > 0 then self:_dispatch() end
  return finished
end

-- The pump's connection to the worker's watcher (a cosocket to its Unix
-- socket: see multi:watcher in src/multi.c), or nil when none can be had:
-- the pump naps from then on, and says so once.
local function watch_connection(hub)
  local ngx_ = hub.ngx
  -- (a loop without cosockets, such as the specs' fake one, naps without a word)
  if hub.watch == false or type(ngx_.socket) ~= "table" then return nil end
  local ok, sock = pcall(function()
    local path = hub.multi:watcher()
    local s = ngx_.socket.tcp()
    local connected, err = s:connect("unix:" .. path)
    if not connected then error(err, 0) end
    local accepted, aerr = hub.multi:watch_accept()
    if not accepted then
      s:close()
      error(aerr, 0)
    end
    return s
  end)
  if ok then return sock end
  hub.watch = false
  ngx_.log(ngx_.WARN, "apivideo: the worker's pump cannot watch its sockets (", tostring(sock),
    "); it naps 1-4 ms while requests are in flight")
  return nil
end

-- Sleeps until a socket is ready, libcurl's timer is due (within ms) or
-- something needs the pump (multi:wake). False when the watcher failed:
-- the pump naps from then on, and says so once.
local function wait_for_watcher(hub, sock, ms)
  hub.pump_at = now_ms() + ms -- (not lost while it waits)
  hub.multi:arm(ms)
  -- the watcher writes at ms at the latest: this timeout is for a watcher gone wrong
  sock:settimeout(ms + PUMP_WAIT_MAX_MS)
  local data, err
  if sock.receiveany then
    data, err = sock:receiveany(64) -- (every byte waiting at once)
  else
    data, err = sock:receive(1) -- (lua-nginx-module before 0.10.14)
  end
  if data then
    hub.waits = hub.waits + 1
    return true
  end
  hub.watch = false
  local ngx_ = hub.ngx
  ngx_.log(ngx_.WARN, "apivideo: the worker's pump lost its watcher (", tostring(err),
    "); it naps 1-4 ms while requests are in flight")
  return false
end

local function pump_loop(hub, gen)
  local ngx_ = hub.ngx
  local multi = hub.multi
  local nap = PUMP_NAP_MIN_MS
  local sock -- this pump's connection to the watcher (a cosocket lives in the timer that made it)
  while hub.pump_gen == gen do -- (a newer pump replaced this one: it stops)
    hub.pump_at = now_ms()
    local in_flight = multi:count() > 0
    if in_flight and hub:perform(0) > 0 then
      nap = PUMP_NAP_MIN_MS
    elseif nap < PUMP_NAP_MAX_MS then
      nap = nap + 1
    end
    -- a deep queue (an overloaded worker) drains faster, at a cost in latency
    -- to everything else the worker serves
    local queued = hub.turns_tail - hub.turns_head + 1
    local waiting = hub:_give_turns(TURNS_PER_TICK + math.floor(queued / TURNS_BACKLOG))
    if multi:count() == 0 and waiting == 0 then return end
    local hint = multi:timeout()
    if sock == nil or hub.watch == false then sock = watch_connection(hub) end
    -- while bytes keep coming (a busy worker) short naps cost less than the
    -- watcher's round trip; after a few idle ticks it sleeps until one comes
    if waiting > 0 or hint == 0 or nap < PUMP_NAP_MAX_MS or not sock or not wait_for_watcher(hub, sock,
        (hint < 0 or hint > PUMP_WAIT_MAX_MS) and PUMP_WAIT_MAX_MS or hint) then
      local ms = nap
      if waiting > 0 then
        ms = PUMP_NAP_MIN_MS
      elseif hint >= 0 and hint < ms then
        ms = hint
      end
      hub.naps = hub.naps + 1
      -- (at least 1 ms: a 0 s sleep would resume within this same loop iteration)
      ngx_.sleep((ms < PUMP_NAP_MIN_MS and PUMP_NAP_MIN_MS or ms) / 1000)
    end
  end
end

local function pump(premature, hub, gen)
  -- premature: the worker is exiting; the lanes poll for themselves
  local ok, err = true, nil
  if not premature then ok, err = pcall(pump_loop, hub, gen) end
  if hub.pump_gen == gen then hub.pumping = false end
  if not ok then -- the next lane that waits starts another pump
    hub.ngx.log(hub.ngx.ERR, "apivideo: the worker's pump stopped: ", tostring(err))
  end
end

--- Makes sure a pump runs; false when nginx refused the timer (too many
-- pending timers, the worker exiting): the lanes then poll for themselves.
-- A pump that has not ticked for PUMP_LOST_MS is taken for lost (nginx
-- accepts a timer but never runs it when lua_max_running_timers is
-- exhausted) and replaced; should it ever run, it sees it was replaced and stops.
function Hub:_ensure_pump()
  if self.pumping and now_ms() - self.pump_at < PUMP_LOST_MS then return true end
  if self.pumping then self.pumps_lost = self.pumps_lost + 1 end
  local gen = self.pump_gen + 1
  local ok = self.ngx.timer.at(0, pump, self, gen)
  if not ok then -- none runs (a lost one is as good as none): the lanes poll
    self.pumping = false
    return false
  end
  self.pump_gen, self.pumping, self.pump_at = gen, true, now_ms()
  return true
end

-- nginx phases where ngx.sleep may yield to the event loop.
local NGX_YIELDABLE = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

--- The ngx table when running inside nginx with the Lua module, else nil.
function M.host()
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and type(ngx_.get_phase) == "function" and type(ngx_.sleep) == "function" then
    return ngx_
  end
  return nil
end

--- A function naming the nginx request running now (a coroutine is tied to
-- the request that created it: resuming it from another request crashes the
-- worker).
local function request_of(ngx_)
  local ok, base = pcall(require, "resty.core.base")
  if ok and type(base.get_request) == "function" then
    return function() return base.get_request() end
  end
  return function() return ngx_.ctx end
end

local hub -- this worker's (a forked worker gets its own: see M.get)

--- The hub of this nginx worker, created on first use with the given share
-- pool (DNS answers and TLS sessions of the Lua state).
function M.get(ngx_, share)
  local pid = ngx_.worker and ngx_.worker.pid and ngx_.worker.pid() or 0
  if not hub or hub.pid ~= pid then
    hub = setmetatable({
      ngx = ngx_,
      pid = pid,
      multi = core.multi({ share = share, renames = require("apivideo.fields").RENAMES }),
      lane_of = {}, -- transfer -> the lane that sent it
      turns = {}, turns_head = 1, turns_tail = 0, -- lanes waiting for a turn
      pumping = false,
      pump_gen = 0, -- the current pump's number
      pump_at = 0, -- when it last ticked (or was started, or expects to, from a wait)
      watch = nil, -- false: the pump cannot watch its sockets and naps
      waits = 0, naps = 0, -- the pump's sleeps: until its watcher woke it, and naps
      pumps_lost = 0, -- pumps taken for lost and replaced
    }, Hub)
  end
  return hub
end

--- What this worker's hub holds now (nil before its first use):
-- `{ in_flight = n, owned = n, turns_waiting = n, pumping = bool, waits = n,
-- naps = n, watching = bool }`, where owned counts the transfers still tied
-- to a client (in flight, not yet handed over), turns_waiting the clients
-- queued for a turn, waits the pump's sleeps until its watcher woke it (a
-- socket ready, a timer due, a turn wanted), naps its fixed naps, watching
-- is false once the pump could not watch its sockets, and pumps_lost counts
-- the pumps taken for lost (silent for PUMP_LOST_MS) and replaced.
function M.stats()
  if not hub then return nil end
  local owned = 0
  for _ in pairs(hub.lane_of) do owned = owned + 1 end
  return {
    in_flight = hub.multi:count(), owned = owned,
    turns_waiting = hub.turns_tail - hub.turns_head + 1, pumping = hub.pumping,
    waits = hub.waits, naps = hub.naps, watching = hub.watch ~= false, pumps_lost = hub.pumps_lost,
  }
end

--- True when this nginx has what the hub needs (ngx.semaphore, ngx.timer).
function M.available(ngx_)
  if type(ngx_.timer) ~= "table" or type(ngx_.timer.at) ~= "function" then return false end
  local ok, sema = pcall(require, "ngx.semaphore")
  return ok and type(sema) == "table" and type(sema.new) == "function"
end

--- Inside nginx, a lane of the worker's hub for a new client (opts: share,
-- max_body); nil elsewhere.
function M.host_lane(opts)
  local ngx_ = M.host()
  if not ngx_ then return nil end
  return M.lane({ ngx = ngx_, share = opts.share, max_body = opts.max_body })
end

--- A lane for one client. opts: ngx, share, max_body.
function M.lane(opts)
  return setmetatable({
    kind = "lane",
    ngx = opts.ngx,
    request = request_of(opts.ngx),
    polling = not M.available(opts.ngx), -- no semaphore: the lane polls for itself
    share = opts.share,
    max_body = opts.max_body,
    transfers = {}, -- in flight: transfer -> true
    n = 0,
    done = {}, head = 1, tail = 0, -- finished, not yet taken
    waiting = false,
    yields = 0, -- times this lane handed the worker back to nginx
  }, Lane)
end

function Lane:_hub()
  local h = self.hub
  if not h then
    h = M.get(self.ngx, self.share)
    self.hub = h
    if not self.polling then self.sema = require("ngx.semaphore").new(0) end
  end
  return h
end

--- Sends a transfer through the worker's multi handle (like multi:add).
function Lane:add(spec)
  if self.closed then error("apivideo.core: multi handle is closed", 2) end
  local h = self:_hub()
  if spec.max_body == nil then spec.max_body = self.max_body end
  local t = h.multi:add(spec)
  h.lane_of[t] = self
  self.transfers[t] = true
  self.n = self.n + 1
  if not self.polling then h:_ensure_pump() end -- it sends the request at its next tick
  return t
end

--- Raises unless this nginx phase can yield and this request may drive the
-- lane: tasks created by one request must never be resumed by another. busy:
-- whether the engine still has tasks (of the request that owns it).
function Lane:check(busy)
  local phase = self.ngx.get_phase()
  if not NGX_YIELDABLE[phase] then
    error("apivideo: cannot wait for the network in nginx phase '" .. tostring(phase)
      .. "' (it cannot yield); call from rewrite, access or content handlers, or an ngx.timer", 0)
  end
  local req = self.request()
  if self.owner ~= req then
    if busy then
      error("apivideo: this client is busy in another nginx request; create one client per request"
        .. " (share the token with token_store = ngx.shared.DICT)", 0)
    end
    self.owner = req
  end
end

--- Moves data on the worker's transfers (ms > 0 blocks the worker: only
-- `client:step(ms)` asks for that). Returns in_flight, finished of this lane.
function Lane:poll(ms)
  if self.n > 0 or (ms and ms > 0) then
    self:_hub():perform(ms)
  end
  return self.n, self.tail - self.head + 1
end

--- Pops the oldest finished transfer of this lane (nil when none).
function Lane:next_done()
  local head = self.head
  if head > self.tail then return nil end
  local t = self.done[head]
  self.done[head] = nil
  if head == self.tail then
    self.head, self.tail = 1, 0
  else
    self.head = head + 1
  end
  return t
end

--- Transfers of this lane in flight.
function Lane:count()
  return self.n
end

--- Finished transfers of this lane not yet taken.
function Lane:queued()
  return self.tail - self.head + 1
end

-- nginx takes whole milliseconds (and truncates): a wait under 1 ms would
-- return at once without yielding, and the engine would spin until its
-- timer is due. Every wait here is at least 1 ms, rounded up.
local function whole_ms(ms)
  ms = math.ceil(ms)
  return ms < PUMP_NAP_MIN_MS and PUMP_NAP_MIN_MS or ms
end

-- Sleeps on the lane's semaphore until the pump gives it a turn, at most ms.
local function sleep_for_turn(self, h, ms)
  self.yields = self.yields + 1
  if not self.polling and h:_ensure_pump() then
    self.waiting = true
    local woken = self.sema:wait(whole_ms(ms) / 1000)
    self.waiting = false
    -- not woken: the engine's timer is due, or (a safety net) the pump is
    -- stuck; either way a step of our own costs little
    if not woken then h:perform(0) end
  else -- no pump (nginx refused a timer): poll for ourselves
    self.ngx.sleep(PUMP_NAP_MIN_MS / 1000)
    h:perform(0)
  end
  self.turn_at = now_ms()
end

--- Waits until a transfer of this lane finishes or wait_ms (the engine's
-- next timer) passes, yielding to nginx meanwhile.
function Lane:wait(wait_ms)
  local h = self:_hub()
  if self.head <= self.tail then return end
  if self.n == 0 then
    if not wait_ms then return end
    -- only a timer of the engine is due
    self.yields = self.yields + 1
    self.ngx.sleep(whole_ms(wait_ms) / 1000)
    self.turn_at = now_ms()
    return
  end
  if wait_ms == nil or wait_ms > LANE_WAIT_MAX_MS then wait_ms = LANE_WAIT_MAX_MS end
  sleep_for_turn(self, h, wait_ms)
end

--- Called by the engine before it does more work for this lane: once the
-- lane has held the worker for SLICE_MS since its turn began, it queues for
-- another turn and yields, so that one request never holds the worker long.
function Lane:turn()
  local at = self.turn_at
  if not at then
    self.turn_at = now_ms()
    return
  end
  if now_ms() - at < SLICE_MS then return end
  local h = self:_hub()
  -- (no pump, no turns: sleep_for_turn then naps and polls by itself)
  if not self.polling and h:_ensure_pump() then
    h:_want_turn(self)
    h.multi:wake() -- (a pump waiting for sockets gives the turn now)
  end
  sleep_for_turn(self, h, LANE_WAIT_MAX_MS)
end

-- A transfer this lane no longer wants. Over HTTP/1.1 closing a transfer
-- whose answer is on its way closes its connection too, and the next
-- request of the worker pays for a new one (TCP, TLS). So it is left to
-- finish, owned by nobody: the hub closes it when its answer is in, and its
-- connection goes back to the worker's pool. Its own timeouts still bound it.
local function disown(self, t)
  -- (without a pump nothing would step it once this lane is gone: cut it off)
  if self.hub and self.hub.lane_of[t] == self and self.hub.pumping then
    self.hub.lane_of[t] = nil
  else
    t:close()
  end
end

--- Stops one transfer of this lane (a cancelled task): it is never handed
-- to the lane; it finishes in the hub, which then closes it.
function Lane:release(t)
  if self.transfers[t] then
    self.transfers[t] = nil
    self.n = self.n - 1
    disown(self, t)
  elseif t:state() ~= "running" then -- (one cancelled before is left to finish)
    t:close()
  end
end

--- Drops every transfer of this lane (those in flight finish in the hub, as
-- with cancel; those already finished are closed); the hub stays. Idempotent.
function Lane:close()
  if self.closed then return end
  self.closed = true
  for t in pairs(self.transfers) do disown(self, t) end
  for i = self.head, self.tail do self.done[i]:close() end
  self.transfers, self.done, self.head, self.tail, self.n = {}, {}, 1, 0, 0
end

function Lane:__tostring()
  if self.closed then return "apivideo.hub.lane (closed)" end
  return ("apivideo.hub.lane (%d in flight%s)"):format(self.n, self.polling and ", polling" or "")
end

return M
