--- The scheduler between the Lua layer and the C core.
--
-- Every logical request (with its authentication, retries and waits) runs as
-- a task: a coroutine that yields whenever it waits for a transfer, a timer or
-- another task. The engine resumes tasks as transfers finish, which is what
-- lets an iterator keep several pages in flight and lets one token exchange
-- serve any number of concurrent requests.
--
-- How the engine waits is not its business: it waits only through its
-- waiter (`apivideo.waiter`), which blocks in poll(), yields to a host's
-- loop, or sleeps on an nginx semaphore. Inside a task, waiting for another
-- task suspends the task; outside any task, the engine drives its waiter.
-- @module apivideo.engine
local core = require("apivideo.core")

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

--- Creates an engine over a waiter (`apivideo.waiter`: the client's own
-- multi handle, blocking or yielding, or a lane of the nginx worker's hub).
-- @local
function M.new(waiter)
  return setmetatable({
    waiter = waiter,
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
  self.waiter:check(next(self.tasks) ~= nil)
  local task = setmetatable({ engine = self, watchers = {}, children = {} }, Task)
  local parent = self:current()
  if parent then
    task.parent = parent
    parent.children[task] = true
  end
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
  if task.parent then task.parent.children[task] = nil end
  for _, w in ipairs(task.watchers) do
    if not w.done then self:_schedule(w) end
  end
  task.watchers = {}
end

function Engine:_resume(task, args)
  if task.done then return end
  if coroutine.status(task.co) ~= "suspended" then
    return false -- running, or resuming another task (kick): it takes this later
  end
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
  local deferred
  while #self.ready > 0 do
    local queue = self.ready
    self.ready = {}
    for _, item in ipairs(queue) do
      if self:_resume(item[1], item[2]) == false then
        deferred = deferred or {}
        deferred[#deferred + 1] = item
      end
    end
  end
  if deferred then
    for _, item in ipairs(deferred) do self.ready[#self.ready + 1] = item end
  end
end

--- Inside a task: sends a transfer (a spec for apivideo.core) and waits for
-- its result table.
function Engine:transfer(spec)
  local task = in_task(self, "transfer")
  local t = self.waiter:add(spec)
  self.waiting[t] = task
  task.transfer = t
  task.keep_body = spec.keep_body -- the answer cache stores the raw body
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
  in_task(self, "await")
  self:join(other)
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

--- Stops a task: its guards run, its transfer is released, its timer
-- dropped, and the tasks it started that no other live task waits for (its
-- sub-requests, a walk's prefetched pages) are cancelled too. Idempotent.
function Task:cancel()
  if self.done then return end
  local engine = self.engine
  self.cancelled, self.cancelling = true, true
  -- what the task set up and would have undone itself (a rate-limit slot, a
  -- store lock): undone now, newest first
  local guards = self.guards
  if guards then
    self.guards = nil
    for i = #guards, 1, -1 do guards[i]() end
  end
  if self.transfer then
    engine.waiting[self.transfer] = nil
    engine.waiter:release(self.transfer)
    self.transfer = nil
  end
  if self.timer then
    local timers = engine.timers
    for i = 1, #timers do
      if timers[i] == self.timer then
        table.remove(timers, i)
        break
      end
    end
    self.timer = nil
  end
  finish(engine, self)
  engine:cancel_orphans(self)
end

--- Cancels the tasks `task` started that no other live task waits for (its
-- sub-requests, a walk's prefetched pages): for a task cancelled, or one
-- that ended (with an error, or returning while a walk of its was open).
function Engine.cancel_orphans(_, task)
  local list = {}
  for child in pairs(task.children) do list[#list + 1] = child end
  for i = 1, #list do
    local child, shared = list[i], false
    for _, w in ipairs(child.watchers) do
      -- (a watcher cancelled in the same batch does not keep it alive)
      if not w.done and not w.cancelling then shared = true end
    end
    if not shared then child:cancel() end
  end
end

--- Cancels a batch of tasks: all are marked first, so that none of them
-- keeps a sub-task of another alive by still waiting for it.
function M.cancel_all(list)
  for i = 1, #list do list[i].cancelling = true end
  for i = 1, #list do list[i]:cancel() end
end

--- Engine:cancel_tasks(list): `cancel_all` for the engine's users (the pager, run_all).
function Engine.cancel_tasks(_, list) M.cancel_all(list) end

--- Inside a task: fn runs if the task is cancelled before `unguard(fn)`
-- (what the task would otherwise undo itself: a rate-limit slot, a lock).
function Engine:guard(fn)
  local task = in_task(self, "guard")
  local guards = task.guards
  if not guards then
    guards = {}
    task.guards = guards
  end
  guards[#guards + 1] = fn
end

--- Inside a task: fn no longer runs on cancel.
function Engine:unguard(fn)
  local task = self:current()
  local guards = task and task.guards
  if not guards then return end
  for i = #guards, 1, -1 do
    if guards[i] == fn then
      table.remove(guards, i)
      return
    end
  end
end

--- Hands finished transfers and due timers to their tasks. With pred, stops
-- as soon as pred() holds: the other finished transfers stay queued (and
-- undecoded) while the caller gets its result and sends the next requests.
function Engine:_collect(pred)
  local waiter = self.waiter
  local t = waiter:next_done()
  while t do
    local task = self.waiting[t]
    self.waiting[t] = nil
    local result = t:result(true, task and task.keep_body)
    t:close()
    if task then
      task.transfer = nil
      self:_schedule(task, result)
      if pred then
        self:_run_ready()
        if pred() then return end
      end
    end
    t = waiter:next_done()
  end
  local timers, now = self.timers, now_ms()
  while timers[1] and timers[1].at <= now do
    local timer = table.remove(timers, 1)
    timer.task.timer = nil -- (a cancelled task's timer is removed from the list)
    self:_schedule(timer.task)
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
  self.waiter:check(next(self.tasks) ~= nil)
  self:_run_ready()
  local wait = self:_next_wait()
  timeout_ms = timeout_ms or 0
  if wait == nil or wait > timeout_ms then wait = timeout_ms end
  self.waiter:poll(wait)
  self:_collect()
  self:_run_ready()
  return self:pending()
end

--- True while transfers, timers or runnable tasks remain.
function Engine:pending()
  local waiter = self.waiter
  return waiter:count() > 0 or waiter:queued() > 0 or #self.timers > 0 or #self.ready > 0
end

--- Outside any task: drives the engine through its waiter until pred() is
-- true.
function Engine:run_until(pred)
  if self:current() then
    error("apivideo: internal: run_until inside a task (join or await instead)", 3)
  end
  local waiter = self.waiter
  -- (inside nginx: only the request that owns the tasks may resume them;
  -- with a host's yield: only where it can yield)
  waiter:check(next(self.tasks) ~= nil, true)
  while true do
    waiter:turn() -- a cooperative host (nginx) may take the worker back here
    self:_run_ready()
    if pred() then return end
    self:_collect(pred) -- what already finished comes first
    if pred() then return end
    local wait = self:_next_wait()
    if wait == nil and waiter:count() == 0 and #self.ready == 0 then
      error("apivideo: internal: waiting with nothing in flight", 2)
    end
    waiter:wait(wait)
    self:_collect(pred)
  end
end

--- Starts what runnable tasks want to send, without waiting or collecting.
-- Inside a task too: the tasks it started (the next pages of a walk) run
-- now, from within it, up to their first wait, so that their requests travel
-- while it goes on with its work.
function Engine:kick()
  self:_run_ready()
  self.waiter:poll(0)
end

--- Runs fn(...) as a task to completion and returns its results (from
-- inside another task too: that task waits for it).
function Engine:run(fn, ...)
  local task = self:spawn(fn, ...)
  self:join(task)
  return task:outcome()
end

--- Cancels every task and closes the waiter. Idempotent.
function Engine:close()
  self.closed = true
  -- collected before cancelling (cancel removes from self.tasks; see Pager:close)
  local list, co, task = {}, next(self.tasks)
  while co ~= nil do
    list[#list + 1] = task
    co, task = next(self.tasks, co)
  end
  M.cancel_all(list)
  self.ready, self.timers, self.waiting = {}, {}, {}
  self.waiter:close()
end

--- Transfers in flight.
function Engine:in_flight()
  if self.closed then return 0 end
  return self.waiter:count()
end

return M
