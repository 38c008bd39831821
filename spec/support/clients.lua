-- Test helper: clients for the stand-in, and what their on_event reports.
--
--   local clients = require("spec.support.clients")
--   local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })
--   new_client(opts)            apivideo.new() with api_key "standin-key", then the
--                               builder's defaults, then opts (later keys win)
--   clients.options(a, b, ...)  a new table: the keys of a, then of b, ... (nil ones skipped)
--   local events, on_event = clients.recorder(type)
--                               on_event appends each event (of that type only, when
--                               given) to events
--   clients.of_type(events, t)  the events whose type is t, in order
--
-- builder() copies its defaults: changing that table afterwards changes nothing.
local apivideo = require("apivideo")

local M = {}

M.KEY = "standin-key" -- the stand-in's own key (standin/start without --api-key)

function M.options(...)
  local o = {}
  for i = 1, select("#", ...) do
    for k, v in pairs(select(i, ...) or {}) do o[k] = v end
  end
  return o
end

function M.builder(defaults)
  local base = M.options({ api_key = M.KEY }, defaults)
  return function(opts)
    return apivideo.new(M.options(base, opts))
  end
end

function M.recorder(only)
  local events = {}
  return events, function(ev)
    if only == nil or ev.type == only then events[#events + 1] = ev end
  end
end

function M.of_type(events, t)
  local out = {}
  for _, ev in ipairs(events) do
    if ev.type == t then out[#out + 1] = ev end
  end
  return out
end

return M
