-- Test helper: a fake nginx event loop with the parts of ngx_lua that
-- apivideo.hub and apivideo.engine use, for spec/hub_spec.lua.
--
-- How it maps to nginx (one worker):
--   iteration       one ngx_process_events_and_timers(): sleep until the nearest
--                   timer is due (epoll_wait's timeout), cache the time
--                   (ngx_current_msec), run every expired timer in due order
--                   (a timer added meanwhile that is already due runs in this same
--                   iteration, as in ngx_event_expire_timers), then the posted
--                   events until none is left (ngx_event_process_posted).
--   light thread    a coroutine: a "request" the spec spawns (phase "content", its
--                   own ngx.ctx), or an ngx.timer.at callback (phase "timer",
--                   called with premature = false).
--   ngx.sleep(s)    a timer at cached time + s; the thread resumes when it expires.
--   ngx.semaphore   as lua-resty-core's over ngx_http_lua_semaphore.c: wait() takes a
--                   resource at once only when nobody is queued; its timeout is cut
--                   to whole milliseconds (the FFI call takes an int), and 0 ms
--                   returns nil, "timeout" without yielding; post(n) adds resources
--                   and posts the semaphore's event (once), whose handler resumes
--                   the oldest waiters while resources remain, so a woken thread
--                   runs in the same iteration, after the handlers running now.
--   client abort    fake:kill(thread): the coroutine is dropped; its sleep timer is
--                   deleted and it leaves any semaphore queue (ngx_lua's cleanup).
--   ngx.get_phase   the running thread's phase; "init" between handlers (where
--                   ngx.ctx is nil), as code run by the spec itself sees it.
--   ngx.log         recorded in fake.logs as { level, message }.
--   pcall           yields through pcall as nginx's LuaJIT does: on PUC Lua 5.1
--                   (where it cannot) a timer callback runs with a coroutine-based
--                   pcall in its environment (the hub's pump calls its loop under pcall).
-- Time is real (apivideo.core's clock): the transfers are real libcurl I/O.
--
--   local F = require("spec.support.fake_ngx")
--   local fake = F.new({ pid = 4242 })
--   fake.ngx, fake.semaphore      the ngx table; the module for package.loaded["ngx.semaphore"]
--   fake:spawn(name, fn, ...)     a request thread, started like a 0 ms timer (at the
--                                 next iteration's timers, or this one's if they still run)
--   fake:run(until_fn, max_ms)    iterates until until_fn() is true (returns true)
--                                 or max_ms passed (returns false)
--   fake:kill(thread)
--   fake.refuse_timers = msg      ngx.timer.at returns nil, msg (fake.refused counts)
--   fake.logs                     { {level, message}... } of ngx.log (ngx.ERR = 4 ...)
--   fake.iter                     the current iteration number
--   fake.current                  the thread running now (nil between handlers)
--   fake.iterations[i].resumed    { {thread, name, why}... } in the order they ran;
--                                 why: "start", "sleep", "post" (a semaphore
--                                 wakeup) or "timeout" (a semaphore wait's timeout)
--   fake:resumes_by(why, from)    the most resumes for `why` in one iteration, and
--                                 { {iter, names}... } of the iterations with any
--   fake:threads_of(kind)         the threads of kind "request" or "timer"
--   thread.resumes                { {iter, why, at}... };  thread.blocks { {iter, what, at}... }
--   thread.finished / .killed (.killed_at: the iteration) / .dead
local core = require("apivideo.core")
local socket = require("socket")

local unpack = table.unpack or unpack
local now_ms = core.now_ms

local M = {}

-- ngx.log levels (ngx_log.h)
local LEVELS = { STDERR = 0, EMERG = 1, ALERT = 2, CRIT = 3, ERR = 4, WARN = 5, NOTICE = 6, INFO = 7, DEBUG = 8 }

-- PUC Lua 5.1 cannot yield across pcall; LuaJIT (nginx's) and 5.2+ can.
local PCALL_YIELDS = rawget(_G, "jit") ~= nil or _VERSION ~= "Lua 5.1"

local Fake = {}
Fake.__index = Fake

local Sema = {}
Sema.__index = Sema

local function pack(...)
  return { n = select("#", ...), ... }
end

local function remove_value(list, v)
  for i = 1, #list do
    if list[i] == v then
      table.remove(list, i)
      return true
    end
  end
  return false
end

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    pid = opts.pid or 1,
    iter = 0,
    now = now_ms(), -- the cached time of the current iteration
    timers = {}, seq = 0, -- { at, seq, fire, deleted }
    posted = {}, -- posted events: functions
    iterations = {},
    threads = {},
    n_timers = 0,
    refused = 0,
    logs = {},
  }, Fake)
  self.record = { iter = 0, resumed = {} } -- what runs before the first iteration
  self.ngx = self:_make_ngx()
  self.semaphore = { new = function(n) return self:_new_sema(n) end }
  return self
end

function Fake:_add_timer(ms, fire)
  self.seq = self.seq + 1
  local tm = { at = self.now + ms, seq = self.seq, fire = fire }
  self.timers[#self.timers + 1] = tm
  return tm
end

-- The earliest live timer (nil when none); drops deleted ones.
function Fake:_first_timer()
  local live, best = {}, nil
  for _, tm in ipairs(self.timers) do
    if not tm.deleted then
      live[#live + 1] = tm
      if not best or tm.at < best.at or (tm.at == best.at and tm.seq < best.seq) then best = tm end
    end
  end
  self.timers = live
  return best
end

-- The thread calling now (raises outside a light thread or from a coroutine of its own).
function Fake:_running(what)
  local th = self.current
  local co = coroutine.running()
  if not th or (co ~= th.co and not (th.nested and th.nested[co])) then
    error("fake ngx: " .. what .. " called outside a light thread (or inside a nested coroutine)", 3)
  end
  return th
end

function Fake:_thread(name, kind, fn, args)
  local th = {
    name = name, kind = kind, phase = kind == "timer" and "timer" or "content",
    ctx = {}, resumes = {}, blocks = {},
  }
  th.co = coroutine.create(function() return fn(unpack(args, 1, args.n)) end)
  self.threads[#self.threads + 1] = th
  return th
end

-- A pcall whose function may yield to the light thread's resumer (Lua 5.1):
-- f runs in a coroutine of its own, whose yields are passed through.
function Fake:_pcall(f, ...)
  local th = self.current
  local co = coroutine.create(f)
  th.nested = th.nested or {}
  th.nested[co] = true
  local res = pack(coroutine.resume(co, ...))
  while res[1] and coroutine.status(co) ~= "dead" do
    res = pack(coroutine.resume(co, coroutine.yield(unpack(res, 2, res.n))))
  end
  th.nested[co] = nil
  return unpack(res, 1, res.n)
end

-- On Lua 5.1: fn (a timer callback) gets an environment with the pcall above.
local base_env = setmetatable({}, { __mode = "k" }) -- function -> its own environment
function Fake:_yieldable_pcall(fn)
  if PCALL_YIELDS then return end
  local getfenv_, setfenv_ = getfenv, setfenv
  local env = base_env[fn]
  if not env then
    env = getfenv_(fn)
    base_env[fn] = env
  end
  local fake = self
  setfenv_(fn, setmetatable({ pcall = function(f, ...) return fake:_pcall(f, ...) end }, { __index = env }))
end

function Fake:_block(th, what)
  th.blocks[#th.blocks + 1] = { iter = self.iter, what = what, at = now_ms() }
end

function Fake:_resume(th, why, ...)
  if th.dead then error("fake ngx: " .. th.name .. " resumed after it ended", 0) end
  local rec = self.record
  rec.resumed[#rec.resumed + 1] = { thread = th, name = th.name, why = why }
  th.resumes[#th.resumes + 1] = { iter = self.iter, why = why, at = now_ms() }
  th.blocked = nil
  local prev = self.current
  self.current = th
  local ok, err = coroutine.resume(th.co, ...)
  self.current = prev
  if not ok then
    th.dead = true
    th.error = debug.traceback(th.co, tostring(err))
    error("fake ngx: light thread " .. th.name .. " failed: " .. th.error, 0)
  end
  if coroutine.status(th.co) == "dead" then
    th.dead, th.finished = true, true
  elseif not th.blocked then
    error("fake ngx: " .. th.name .. " yielded without ngx.sleep or a semaphore wait", 0)
  end
end

function Fake:_make_ngx()
  local fake = self
  local ngx_ = {
    log = function(level, ...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      fake.logs[#fake.logs + 1] = { level = level, message = table.concat(parts) }
    end,
    worker = { pid = function() return fake.pid end },
    get_phase = function()
      local th = fake.current
      return th and th.phase or "init"
    end,
    now = function() return fake.now / 1000 end,
    sleep = function(s)
      local th = fake:_running("ngx.sleep")
      th.blocked = fake:_add_timer(s * 1000, function() fake:_resume(th, "sleep") end)
      fake:_block(th, "sleep")
      coroutine.yield()
    end,
    timer = {
      at = function(delay, fn, ...)
        if fake.refuse_timers then
          fake.refused = fake.refused + 1
          return nil, fake.refuse_timers
        end
        fake.n_timers = fake.n_timers + 1
        local name, args = "timer#" .. fake.n_timers, pack(false, ...)
        fake:_yieldable_pcall(fn)
        fake:_add_timer(delay * 1000, function()
          fake:_resume(fake:_thread(name, "timer", fn, args), "start")
        end)
        return true
      end,
    },
  }
  for k, v in pairs(LEVELS) do ngx_[k] = v end
  -- ngx.ctx: the running light thread's own table
  return setmetatable(ngx_, {
    __index = function(_, k)
      if k == "ctx" and fake.current then return fake.current.ctx end
      return nil
    end,
  })
end

function Fake:_new_sema(n)
  return setmetatable({ fake = self, resources = n or 0, waiters = {}, posts = 0 }, Sema)
end

function Sema:post(n)
  n = n or 1
  self.resources = self.resources + n
  self.posts = self.posts + n
  if #self.waiters > 0 and not self.event_posted then
    self.event_posted = true
    local fake = self.fake
    fake.posted[#fake.posted + 1] = function()
      self.event_posted = false
      while #self.waiters > 0 and self.resources > 0 do
        local th = table.remove(self.waiters, 1)
        self.resources = self.resources - 1
        th.sema = nil
        if th.blocked then th.blocked.deleted = true end
        fake:_resume(th, "post", true)
      end
    end
  end
  return true
end

function Sema:wait(seconds)
  local fake = self.fake
  local th = fake:_running("semaphore:wait")
  if #self.waiters == 0 and self.resources > 0 then
    self.resources = self.resources - 1
    return true
  end
  local ms = math.floor(seconds * 1000)
  if ms <= 0 then return nil, "timeout" end
  self.waiters[#self.waiters + 1] = th
  th.sema = self
  th.blocked = fake:_add_timer(ms, function()
    remove_value(self.waiters, th)
    th.sema = nil
    fake:_resume(th, "timeout", nil, "timeout")
  end)
  fake:_block(th, "sema")
  return coroutine.yield()
end

function Sema:count()
  return self.resources - #self.waiters
end

--- A request light thread running fn(...), started like a 0 ms timer.
function Fake:spawn(name, fn, ...)
  local th = self:_thread(name, "request", fn, pack(...))
  th.blocked = self:_add_timer(0, function() self:_resume(th, "start") end)
  return th
end

--- Drops a thread as nginx does when the client aborts the request.
function Fake:kill(th)
  if th.dead then return end
  if th.blocked then th.blocked.deleted = true end
  if th.sema then remove_value(th.sema.waiters, th) end
  th.blocked, th.sema = nil, nil
  th.dead, th.killed, th.killed_at = true, true, self.iter
  th.co = nil
end

function Fake:_iterate(deadline)
  local first = self:_first_timer()
  if #self.posted == 0 then
    local wait = (first and first.at or deadline) - now_ms()
    if wait > 10 then wait = 10 end -- so that run()'s condition is looked at often
    if wait > 0 then socket.sleep(wait / 1000) end
  end
  self.iter = self.iter + 1
  self.now = now_ms()
  local rec = { iter = self.iter, resumed = {} }
  self.iterations[self.iter] = rec
  self.record = rec
  while true do
    local tm = self:_first_timer()
    if not tm or tm.at > self.now then break end
    tm.deleted = true
    tm.fire()
  end
  while #self.posted > 0 do
    table.remove(self.posted, 1)()
  end
end

--- Runs iterations until until_fn() holds (true) or max_ms passed (false).
function Fake:run(until_fn, max_ms)
  local deadline = now_ms() + (max_ms or 5000)
  while not until_fn() do
    if now_ms() > deadline then return false end
    self:_iterate(deadline)
  end
  return true
end

--- The threads of a kind ("request" or "timer").
function Fake:threads_of(kind)
  local out = {}
  for _, th in ipairs(self.threads) do
    if th.kind == kind then out[#out + 1] = th end
  end
  return out
end

--- Resumes of one reason per iteration (from iteration `from` on, default 1):
-- the largest count and the list of { iter = i, names = {...} } for the
-- iterations that had any.
function Fake:resumes_by(why, from)
  local max, list = 0, {}
  for i = from or 1, self.iter do
    local names = {}
    for _, r in ipairs(self.iterations[i].resumed) do
      if r.why == why then names[#names + 1] = r.name end
    end
    if #names > 0 then list[#list + 1] = { iter = i, names = names } end
    if #names > max then max = #names end
  end
  return max, list
end

return M
