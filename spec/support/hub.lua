-- Test helper: what the specs of apivideo.hub under the fake nginx loop
-- (spec/hub_spec.lua, hub_failures_spec.lua, hub_client_spec.lua) share.
--
--   local H = require("spec.support.hub")
--   H.SLICE_MS             hub.lua's time slice (ms)
--   H.BOUND_MS             how long any one run of the fake loop may take
--                          (APIVIDEO_SLOW=1, valgrind: much longer)
--   H.SLOW_VIDEO, H.SLOW_MS  requests for this video are held that long by the
--                          specs' delay faults
--   H.page_spec(srv)       function(n, video): page n of video (default vi250),
--                          10 a page, with the stand-in key
--   H.page_of(t)           the page number a finished transfer answered (a 200)
--   H.page_of_result(r)    the same for a result table
--   H.pages_of(ts)         the sorted page numbers of finished transfers
--   H.sid(i)               session i of vi250
--   H.busy(ms)             spins for ms (a request thread that holds the worker)
--   H.spy_on(h)            replaces hub h's multi with a proxy recording which
--                          transfers each pump step (perform) handed out:
--                          spy.steps, spy.done = { { t, step } }; spy.fail = msg
--                          makes the next perform raise msg. Before the pump starts.
--   H.idle()               the hub has nothing in flight, owns nothing, no pump
--   H.drain(lane, got)     inside a light thread: waits for and takes every
--                          transfer of the lane until none is left; got (a new
--                          list when nil) in the order they were taken
--   H.serve(fake, name, specs, got)  spawns a request thread whose new lane sends
--                          specs and drains into got; the lane is th.lane once
--                          the thread ran
--
-- Nothing here uses syntax newer than Lua 5.1.
local assert = require("luassert") -- busted's assert is in each spec file's environment only
local core = require("apivideo.core")
local hub_mod = require("apivideo.hub")
local L = require("spec.support.lists")
local model = require("spec.support.model")
local D = require("spec.support.drive")

local M = {}

M.SLICE_MS = 0.5 -- hub.lua's
M.BOUND_MS = os.getenv("APIVIDEO_SLOW") == "1" and 60000 or 10000
M.SLOW_VIDEO, M.SLOW_MS = "vi10k", 300

--- The hub's counts of transfers, turns and its pump (hub.stats() without
-- the pump's sleep counters, which the spec that counts sleeps reads).
function M.counts(stats)
  return { in_flight = stats.in_flight, owned = stats.owned, turns_waiting = stats.turns_waiting,
    pumping = stats.pumping }
end

function M.page_spec(srv)
  return D.page_specs(srv.url, 10)
end

function M.page_of_result(r)
  assert.are.equal(200, r.status)
  return r.json.pagination.current_page
end

function M.page_of(t)
  return M.page_of_result(assert(t:result(true)))
end

function M.pages_of(transfers)
  local out = {}
  for i, t in ipairs(transfers) do out[i] = M.page_of(t) end
  return L.sorted(out)
end

function M.sid(i)
  return model.session_id("vi250", i)
end

function M.busy(ms)
  local t0 = core.now_ms()
  while core.now_ms() - t0 < ms do end
end

function M.spy_on(h)
  local real = h.multi
  local spy = { steps = 0, done = {}, fail = false }
  setmetatable(spy, {
    __index = function(_, k)
      local f = real[k]
      return function(_, ...) return f(real, ...) end
    end,
  })
  function spy.perform(_, ms)
    spy.steps = spy.steps + 1
    if spy.fail then
      local msg = spy.fail
      spy.fail = false
      error(msg, 0)
    end
    return real:perform(ms)
  end
  function spy.next_done()
    local t = real:next_done()
    if t then spy.done[#spy.done + 1] = { t = t, step = spy.steps } end
    return t
  end
  h.multi = spy
  return spy
end

function M.idle()
  local s = hub_mod.stats()
  return s.in_flight == 0 and s.owned == 0 and not s.pumping
end

function M.drain(lane, got)
  got = got or {}
  while lane:count() > 0 or lane:queued() > 0 do
    lane:wait()
    local t = lane:next_done()
    while t do
      got[#got + 1] = t
      t = lane:next_done()
    end
  end
  return got
end

function M.serve(fake, name, specs, got)
  local th
  th = fake:spawn(name, function()
    local lane = hub_mod.lane({ ngx = fake.ngx })
    th.lane = lane
    for _, spec in ipairs(specs) do lane:add(spec) end
    M.drain(lane, got)
  end)
  return th
end

return M
