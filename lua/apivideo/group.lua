--- A group of tasks run together: what `client:run_all` is made of.
--
-- Functions are taken from a source one by one and each runs as a task of
-- the engine, at most `limit` at once; while one waits for the network the
-- others go on. It is driven from outside any task and returns when every
-- function has returned, or one failed and `on_error` did not let it go on.
-- Whatever ends it, nothing of the group is left running: the tasks still
-- running are cancelled, with what they started (prefetched pages, token
-- exchanges only they wait for).
-- @module apivideo.group
local check = require("apivideo.check")
local core = require("apivideo.core")

local M = {}

local function cancel_all(engine, running, ticker)
  local list = {}
  if ticker then list[1] = ticker end
  for i = 1, #running do list[#list + 1] = running[i].task end
  engine:cancel_tasks(list)
end

--- Runs the functions of `source` (called with no argument: the next
-- function, or nil when there are no more) on `engine`. opts: `fn` (the
-- public function's name, for errors), `limit`, `on_error(err, index)`
-- (true: go on), `tick()` and `tick_ms`. The caller's callbacks (the
-- source, on_error, tick) run outside any task; one that raises stops
-- everything before its error goes on (the waiting itself is never inside a
-- pcall: a yielding host on Lua 5.1 could not yield through it). Returns
-- true, or nil and the error that stopped it, as the function raised it.
-- @local
function M.run(engine, source, opts)
  local limit, on_error, tick, tick_ms = opts.limit, opts.on_error, opts.tick, opts.tick_ms
  local running, n_running, count, exhausted = {}, 0, 0, false
  local ticker, next_tick
  local function callback(f, ...)
    local res = { pcall(f, ...) }
    if not res[1] then
      cancel_all(engine, running, ticker)
      error(res[2], 0)
    end
    return res[2]
  end
  local function refill()
    while not exhausted and n_running < limit do
      local fn = callback(source)
      if fn == nil then
        exhausted = true
      elseif type(fn) ~= "function" then
        cancel_all(engine, running, ticker)
        check.fail(opts.fn, "fns", "the function giving the next one returned a " .. type(fn))
      else
        count = count + 1
        running[#running + 1] = { task = engine:spawn(fn), index = count }
        n_running = n_running + 1
      end
    end
  end
  local function any_done()
    for i = 1, #running do
      if running[i].task.done then return true end
    end
    return false
  end
  if tick then
    -- wakes the loop below every tick_ms, whatever the network does
    ticker = engine:spawn(function()
      while true do engine:sleep(tick_ms) end
    end)
    next_tick = core.now_ms() + tick_ms
  end
  local stop
  refill()
  while stop == nil and n_running > 0 do
    engine:run_until(function() return any_done() or (next_tick ~= nil and core.now_ms() >= next_tick) end)
    local kept = {}
    for i = 1, #running do
      local r = running[i]
      if not r.task.done then
        kept[#kept + 1] = r
      else
        n_running = n_running - 1
        engine:cancel_orphans(r.task) -- what it left running (a walk it did not finish)
        local e = r.task.error
        if e ~= nil and stop == nil and not (on_error and callback(on_error, e, r.index)) then stop = e end
      end
    end
    running = kept
    if next_tick and core.now_ms() >= next_tick then
      callback(tick)
      next_tick = core.now_ms() + tick_ms
    end
    if stop == nil then refill() end
  end
  cancel_all(engine, running, ticker)
  if stop ~= nil then return nil, stop end
  return true
end

return M
