--- The scheduler between the Lua layer and the C core.
--
-- Every logical request (with its authentication, retries and waits) runs as
-- a task: a coroutine that yields whenever it waits for a transfer, a timer or
-- another task. The engine resumes tasks as transfers finish, which is what
-- lets an iterator keep several pages in flight and lets one token exchange
-- serve any number of concurrent requests.
--
-- How the engine waits is one function, the driver: by default it blocks in
-- poll() (libcurl's sockets); a host with its own loop (nginx, a game's frame loop)
-- passes a driver that yields to it between non-blocking steps.
-- @module apivideo.engine
local core = require("apivideo.core")
local hub_mod = require("apivideo.hub")

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 143
local now_ms = core.now_ms

local function pack(...)
  return { n = select("#", ...), ... }
end

local Task = {}
Task.__index = Task

local Engine = {}
Engine.__index = Engine

--- The blocking driver: wait in poll() for a transfer or the next timer.
local function blocking_driver(engine, wait_ms)
  engine.multi:perform(wait_ms or 1000)
end
M.blocking_driver = blocking_driver

--- A driver for hosts with their own loop: one non-blocking step, then hand
-- control back through `yield(wait_ms)` until the host calls again.
function M.yielding_driver(yield)
  return function(engine, wait_ms)
    local _, finished = engine.multi:perform(0)
    if finished == 0 then
      local hint = engine.multi:timeout()
      if hint >= 0 and (wait_ms == nil or hint < wait_ms) then wait_ms = hint end
      yield(wait_ms)
      engine.multi:perform(0)
    end
  end
end

-- nginx phases where ngx.sleep may yield to the event loop.
local NGX_YIELDABLE = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}
local NAP_MIN_MS, NAP_MAX_MS = 1, 16

--- The nginx driver: never blocks the worker. One non-blocking step, then
-- ngx.sleep for a short nap that grows (1 → 16 ms) while nothing finishes
-- and shrinks to libcurl's own timeout hint or the next timer. In a phase
-- where ngx.sleep cannot yield it raises instead of blocking the worker.
-- The nginx request running now (a coroutine is tied to the request that
-- created it: resuming it from another request crashes the worker).
local function ngx_request(ngx_)
  local ok, base = pcall(require, "resty.core.base")
  if ok and type(base.get_request) == "function" then
    return function() return base.get_request() end
  end
  return function() return ngx_.ctx end
end

--- Raises unless this nginx phase can yield and this request may drive the
-- engine: tasks created by one request must never be resumed by another.
local function ngx_check(ngx_)
  local current_request = ngx_request(ngx_)
  return function(engine)
    local phase = ngx_.get_phase()
    if not NGX_YIELDABLE[phase] then
      error("apivideo: cannot wait for the network in nginx phase '" .. tostring(phase)
        .. "' (it cannot yield); call from rewrite, access or content handlers, or an ngx.timer", 0)
    end
    local req = current_request()
    if engine.owner ~= req then
      if next(engine.tasks) ~= nil then
        error("apivideo: this client is busy in another nginx request; create one client per request"
          .. " (share the token with token_store = ngx.shared.DICT)", 0)
      end
      engine.owner = req
    end
  end
end

function M.ngx_driver(ngx_)
  local nap = NAP_MIN_MS
  return function(engine, wait_ms)
    local _, finished = engine.multi:perform(0)
    if finished > 0 then
      nap = NAP_MIN_MS
      return
    end
    local ms = nap
    local hint = engine.multi:timeout()
    if hint >= 0 and hint < ms then ms = hint end
    if wait_ms and wait_ms < ms then ms = wait_ms end
    ngx_.sleep((ms < NAP_MIN_MS and NAP_MIN_MS or ms) / 1000)
    nap = nap * 2 > NAP_MAX_MS and NAP_MAX_MS or nap * 2
    engine.multi:perform(0)
  end
end

--- The nginx driver over the worker's hub (apivideo.hub): the engine's
-- transfers go through the worker's one multi handle and the request sleeps
-- on a semaphore until one of them finishes or its next timer is due.
function M.hub_driver(engine, wait_ms)
  engine.multi:wait(wait_ms)
end

--- The driver for this host: `yield` when given, nginx's when running inside
-- nginx with the Lua module, else blocking; the check every new task must
-- pass first (nil when none); and, inside nginx, the ngx table the worker's
-- hub runs on (nil elsewhere, or when this nginx lacks ngx.semaphore).
function M.default_driver(yield)
  if yield then return M.yielding_driver(yield) end
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and type(ngx_.get_phase) == "function" and type(ngx_.sleep) == "function" then
    if hub_mod.available(ngx_) then return M.hub_driver, ngx_check(ngx_), ngx_ end
    return M.ngx_driver(ngx_), ngx_check(ngx_)
  end
  return blocking_driver
end

--- Creates an engine. opts: max_body (bytes), share (a core.share() pool),
-- driver (function(engine, wait_ms)), check (function(engine)), hub (the
-- ngx table: send through the nginx worker's hub instead of an own multi).
function M.new(opts)
  opts = opts or {}
  local driver, check, hub_ngx = opts.driver, opts.check, opts.hub
  if not driver then driver, check, hub_ngx = M.default_driver() end
  local multi
  if hub_ngx then
    multi = hub_mod.lane({ ngx = hub_ngx, share = opts.share, max_body = opts.max_body })
  else
    multi = core.multi({ max_body = opts.max_body, share = opts.share })
  end
  return setmetatable({
    multi = multi, -- a core.multi, or a lane of the nginx worker's hub
    lane = hub_ngx and multi or nil,
    driver = driver,
    check = check, -- raises when tasks may not start here (an nginx phase that cannot yield)
    waiting = {}, -- transfer -> task
    tasks = {}, -- coroutine -> task
    ready = {}, -- queue of { task, args }
    timers = {}, -- sorted by .at
  }, Engine)
end

--- The task running the calling code, or nil outside of any task.
function Engine:current()
  local co, main = coroutine.running()
  if co == nil or main then return nil end
  return self.tasks[co]
end

local function in_task(self, what)
  local task = self:current()
  if not task then error("apivideo: internal: " .. what .. " outside of a task", 3) end
  return task
end

function Engine:_schedule(task, ...)
  self.ready[#self.ready + 1] = { task, pack(...) }
end

--- Starts fn(...) as a task; it first runs at the engine's next step.
function Engine:spawn(fn, ...)
  if self.check then self.check(self) end
  local task = setmetatable({ engine = self, watchers = {} }, Task)
  task.co = coroutine.create(function(...)
    return fn(...)
  end)
  self.tasks[task.co] = task
  self:_schedule(task, ...)
  return task
end

local function finish(self, task)
  task.done = true
  self.tasks[task.co] = nil
  for _, w in ipairs(task.watchers) do self:_schedule(w) end
  task.watchers = {}
end

function Engine:_resume(task, args)
  if task.done then return end
  local res = pack(coroutine.resume(task.co, unpack(args, 1, args.n)))
  if not res[1] then
    local e = res[2]
    task.error = type(e) == "string" and debug.traceback(task.co, e) or e
    finish(self, task)
  elseif coroutine.status(task.co) == "dead" then
    task.results = pack(unpack(res, 2, res.n))
    finish(self, task)
  end
end

function Engine:_run_ready()
  while #self.ready > 0 do
    local queue = self.ready
    self.ready = {}
    for _, item in ipairs(queue) do self:_resume(item[1], item[2]) end
  end
end

--- Inside a task: sends a transfer (a spec for apivideo.core) and waits for
-- its result table.
function Engine:fetch(spec)
  local task = in_task(self, "fetch")
  local t = self.multi:add(spec)
  self.waiting[t] = task
  task.transfer = t
  return coroutine.yield()
end

--- Inside a task: waits ms milliseconds.
function Engine:sleep(ms)
  local task = in_task(self, "sleep")
  local timer = { at = now_ms() + ms, task = task }
  local timers = self.timers
  local i = #timers
  while i > 0 and timers[i].at > timer.at do i = i - 1 end
  table.insert(timers, i + 1, timer)
  task.timer = timer
  coroutine.yield()
end

--- Inside a task: waits for another task and returns its results (it raises
-- the other task's error, if it failed).
function Engine:await(other)
  local task = in_task(self, "await")
  if not other.done then
    other.watchers[#other.watchers + 1] = task
    coroutine.yield()
  end
  return other:outcome()
end

--- Waits until another task is done: inside a task by sleeping until it
-- finishes, outside by driving the engine. Its results are `other:outcome()`.
function Engine:join(other)
  if other.done then return end
  local task = self:current()
  if task then
    other.watchers[#other.watchers + 1] = task
    coroutine.yield()
  else
    self:run_until(function() return other.done end)
  end
end

--- The results of a finished task (raises if it failed or was cancelled).
function Task:outcome()
  if self.error then error(self.error, 0) end
  if self.cancelled then error("apivideo: internal: task was cancelled", 0) end
  return unpack(self.results, 1, self.results.n)
end

--- Stops a task: its transfer is cancelled, its timer dropped. Idempotent.
function Task:cancel()
  if self.done then return end
  local engine = self.engine
  self.cancelled = true
  if self.transfer then
    engine.waiting[self.transfer] = nil
    if engine.lane then engine.lane:cancel(self.transfer) else self.transfer:close() end
    self.transfer = nil
  end
  if self.timer then self.timer.task = nil end
  finish(engine, self)
end

--- Hands finished transfers and due timers to their tasks. With pred, stops
-- as soon as pred() holds: the other finished transfers stay queued (and
-- undecoded) while the caller gets its result and sends the next requests.
function Engine:_collect(pred)
  local multi = self.multi
  local t = multi:next_done()
  while t do
    local task = self.waiting[t]
    self.waiting[t] = nil
    local result = t:result(true)
    t:close()
    if task then
      task.transfer = nil
      self:_schedule(task, result)
      if pred then
        self:_run_ready()
        if pred() then return end
      end
    end
    t = multi:next_done()
  end
  local timers, now = self.timers, now_ms()
  while timers[1] and timers[1].at <= now do
    local timer = table.remove(timers, 1)
    if timer.task then
      timer.task.timer = nil
      self:_schedule(timer.task)
    end
  end
end

--- Milliseconds until the next timer (nil when none).
function Engine:_next_wait()
  local timer = self.timers[1]
  if not timer then return nil end
  local wait = timer.at - now_ms()
  return wait > 0 and wait or 0
end

--- Does any work without waiting longer than timeout_ms (default 0). Returns
-- true while anything is still pending.
function Engine:step(timeout_ms)
  self:_run_ready()
  local wait = self:_next_wait()
  timeout_ms = timeout_ms or 0
  if wait == nil or wait > timeout_ms then wait = timeout_ms end
  self.multi:perform(wait)
  self:_collect()
  self:_run_ready()
  return self:pending()
end

--- True while transfers, timers or runnable tasks remain.
function Engine:pending()
  return self.multi:count() > 0 or self.multi:queued() > 0 or #self.timers > 0 or #self.ready > 0
end

--- Drives the engine with its driver until pred() is true.
function Engine:run_until(pred)
  if self:current() then
    error("apivideo: a blocking call was made from inside an apivideo task", 3)
  end
  local lane = self.lane
  while true do
    if lane then lane:take_turn() end -- inside nginx: never hold the worker long
    self:_run_ready()
    if pred() then return end
    self:_collect(pred) -- what already finished comes first
    if pred() then return end
    local wait = self:_next_wait()
    if wait == nil and self.multi:count() == 0 and #self.ready == 0 then
      error("apivideo: internal: waiting with nothing in flight", 2)
    end
    self.driver(self, wait)
    self:_collect(pred)
  end
end

--- Starts what runnable tasks want to send, without waiting or collecting.
function Engine:kick()
  if self:current() then return end -- inside a task: the engine's loop sends them
  self:_run_ready()
  self.multi:perform(0)
end

--- Runs fn(...) as a task to completion and returns its results.
function Engine:run(fn, ...)
  local task = self:spawn(fn, ...)
  self:run_until(function() return task.done end)
  return task:outcome()
end

--- Cancels every task and closes the multi handle. Idempotent.
function Engine:close()
  self.closed = true
  -- collected before cancelling (cancel removes from self.tasks; see Pager:close)
  local list, co, task = {}, next(self.tasks)
  while co ~= nil do
    list[#list + 1] = task
    co, task = next(self.tasks, co)
  end
  for i = 1, #list do list[i]:cancel() end
  self.ready, self.timers, self.waiting = {}, {}, {}
  self.multi:close()
end

--- Transfers in flight.
function Engine:in_flight()
  if self.closed then return 0 end
  return self.multi:count()
end

return M
