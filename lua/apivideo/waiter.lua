--- How the client waits: the one interface the engine waits through.
--
-- Open this file to change how the client waits for the network. A waiter
-- carries a client's transfers and knows how this host may wait for them:
--
--     waiter:add(spec)       -> transfer   send a transfer (a spec for apivideo.core)
--     waiter:next_done()     -> transfer?  the oldest finished transfer not yet taken
--     waiter:count()         -> n          transfers in flight
--     waiter:queued()        -> n          finished transfers not yet taken
--     waiter:poll(ms)                      move data, blocking at most ms (0: not at all); never yields
--     waiter:wait(ms)                      wait the host's way until a transfer finishes, at most ms
--                                          (nil: until one does); may hand control to the host
--     waiter:turn()                        the point where a cooperative host gets control back
--                                          before more work is done (a no-op where there is none)
--     waiter:release(transfer)             the engine no longer wants this transfer
--     waiter:check(busy, waits)            raises when tasks may not start here and now (waits: the
--                                          caller is about to wait, through wait())
--     waiter:close()                       drops every transfer; idempotent
--
-- Three implementations: `blocking` (the client's own multi handle, waiting in
-- poll()), `yielding` (the same multi handle, handing control to the host's
-- `yield` between non-blocking steps: a game's frame loop) and, inside nginx,
-- a lane of the worker's hub (`apivideo.hub`, where everything that knows
-- nginx lives). `M.for_host` picks one.
-- @module apivideo.waiter
local check = require("apivideo.check")
local core = require("apivideo.core")
local hub = require("apivideo.hub")

local M = {}

-- the longest blocking wait when nothing else bounds it (a safety net: the
-- engine always passes its next timer)
local WAIT_MAX_MS = 1000

local Own = {}
Own.__index = Own

local function own(opts)
  return setmetatable({
    multi = core.multi({ max_body = opts.max_body, share = opts.share, renames = require("apivideo.fields").RENAMES }),
  }, Own)
end

function Own:add(spec) return self.multi:add(spec) end
function Own:next_done() return self.multi:next_done() end
function Own:count() return self.multi:count() end
function Own:queued() return self.multi:queued() end
function Own:poll(ms) self.multi:perform(ms or 0) end
function Own.turn() end
function Own.check() end
function Own.release(_, t) t:close() end
function Own:close() self.multi:close() end
function Own:wait(ms) self.multi:perform(ms or WAIT_MAX_MS) end

function Own:__tostring()
  return "apivideo.waiter (" .. self.kind .. ", " .. tostring(self.multi) .. ")"
end

--- The blocking waiter: the client's own multi handle; waiting is poll() on
-- libcurl's sockets.
-- @local
function M.blocking(opts)
  local w = own(opts)
  w.kind = "blocking"
  return w
end

-- Whether the running code may call coroutine.yield: coroutine.isyieldable
-- where it exists (5.3, 5.4, LuaJIT), else inside a coroutine other than the
-- main thread (5.1: running() is nil there; 5.2: it returns the main thread
-- and true).
local function can_yield()
  if coroutine.isyieldable then return coroutine.isyieldable() end
  local co, main = coroutine.running()
  return co ~= nil and not main
end

--- The yielding waiter: the client's own multi handle; waiting is one
-- non-blocking step, then `yield(wait_ms)` (the host's loop runs meanwhile),
-- then another step.
-- @local
function M.yielding(yield, opts)
  local w = own(opts)
  w.kind = "yielding"
  -- With coroutine.yield itself, a wait outside a coroutine would end in Lua's
  -- bare "attempt to yield from outside a coroutine": say it in the library's
  -- words, before anything is sent.
  function w.check(_, _, waits)
    if waits and yield == coroutine.yield and not can_yield() then
      check.raise({ fn = "apivideo", arg = "yield", noun = "option", reason = "outside a coroutine",
        text = "apivideo: the option 'yield' is coroutine.yield, which cannot wait outside a coroutine:"
          .. " make this call inside a coroutine that your loop resumes (coroutine.wrap), or leave 'yield' unset"
          .. " to wait by blocking" })
    end
  end
  function w:wait(ms)
    local multi = self.multi
    local _, finished = multi:perform(0)
    if finished > 0 then return end
    local hint = multi:timeout()
    if hint >= 0 and (ms == nil or hint < ms) then ms = hint end
    yield(ms and math.ceil(ms)) -- whole milliseconds, as the option says
    multi:perform(0)
  end
  return w
end

--- The waiter for this host. opts: `yield` (the client option), `share` (a
-- core.share() pool), `max_body` (bytes). With `yield`: the yielding
-- waiter; inside nginx with the Lua module: a lane of the worker's hub;
-- else the blocking waiter.
-- @local
function M.for_host(opts)
  if opts.yield then return M.yielding(opts.yield, opts) end
  return hub.host_lane(opts) or M.blocking(opts)
end

return M
