-- Test helper: driving apivideo.core transfers to their end, one copy of the
-- loop the specs of the core, the waiter, the engine, the errors and the
-- contract share, and the request specs they add.
--
--   local D = require("spec.support.drive")
--   D.until_true(pred, step, max_ms)   calls step() until pred() holds or max_ms
--                                      (default 3000) passed; true when it held
--   D.until_done(t, step, max_ms)      calls step() while t:state() is "running"
--                                      (at most max_ms, default 5000); returns
--                                      t:state() ("done", "cancelled", or still
--                                      "running" when the time ran out)
--   D.perform(m, t, max_ms, slice_ms)  until_done with m:perform(slice_ms or 100)
--                                      (m:next_done() is left to the caller)
--   D.get(spec, opts)                  one transfer on a new multi (opts: the
--                                      multi's options), driven to its end;
--                                      returns t:result(true) (r, or nil and
--                                      the error); both are closed
--                                      (max_ms 10000)
--   D.AUTH                             the stand-in key's Basic header line
--   D.page_spec(url, n, opts)          a transfer spec for page n (default 1) of
--                                      opts.video (default vi250), period 2023,
--                                      opts.page_size (default 3), with AUTH
--   D.page_specs(url, page_size)       function(n, video): D.page_spec for that url
--                                      and page size
--
-- Nothing here uses syntax newer than Lua 5.1.
local core = require("apivideo.core")
local mime = require("mime")

local M = {}

M.AUTH = "Authorization: Basic " .. mime.b64("standin-key:")

function M.until_true(pred, step, max_ms)
  local deadline = core.now_ms() + (max_ms or 3000)
  while not pred() do
    if core.now_ms() > deadline then return false end
    step()
  end
  return true
end

function M.until_done(t, step, max_ms)
  M.until_true(function() return t:state() ~= "running" end, step, max_ms or 5000)
  return t:state()
end

function M.perform(m, t, max_ms, slice_ms)
  return M.until_done(t, function() m:perform(slice_ms or 100) end, max_ms)
end

function M.get(spec, opts)
  local m = core.multi(opts or {})
  local t = m:add(spec)
  M.perform(m, t, 10000, 200)
  local r, err = t:result(true)
  t:close()
  m:close()
  return r, err
end

function M.page_spec(url, n, opts)
  opts = opts or {}
  return {
    url = url .. "/analytics/videos/" .. (opts.video or "vi250") .. "?period=2023&pageSize=" .. (opts.page_size or 3)
      .. "&currentPage=" .. (n or 1),
    headers = { M.AUTH },
  }
end

function M.page_specs(url, page_size)
  return function(n, video) return M.page_spec(url, n, { video = video, page_size = page_size }) end
end

return M
