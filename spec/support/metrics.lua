-- Test helper: what the specs of today's Analytics metrics operations
-- (spec/metrics_spec.lua, metrics_wire_spec.lua, metrics_args_spec.lua) share.
--
--   local Mx = require("spec.support.metrics")
--   Mx.FROM, Mx.TO               the day the figures are taken from (December 20,
--                                2023: the stand-in refuses a from older than 30 days)
--   Mx.FROM_ATOM, Mx.TO_ATOM     the same as the API's ATOM date-times
--   Mx.FROM_Q, Mx.TO_Q           the same as percent-encoded query parameters
--   Mx.DAY                       { from = FROM, to = TO }
--   Mx.data_log()                the stand-in's /data/* log entries, oldest first
--   Mx.last_entry()              the newest of them
--   Mx.pages_requested()         their currentPage values, in arrival order
--   Mx.sum(items)                the sum of the items' metric_value
--   Mx.collect(iter)             every item of an items iterator, in a list
--   Mx.raw_answer(uri)           the answer to uri read with luasocket + cjson,
--                                keys turned to snake_case the way the API's
--                                camelCase maps to the client's names (a 200)
--
-- The stand-in is S.shared(), the one the specs use. Nothing here uses syntax
-- newer than Lua 5.1.
local assert = require("luassert") -- busted's assert is in each spec file's environment only
local cjson = require("cjson")
local S = require("spec.support.standin")
local D = require("spec.support.drive")

local M = {}

M.FROM, M.TO = "2023-12-20T00:00:00Z", "2023-12-21T00:00:00Z"
M.FROM_ATOM, M.TO_ATOM = "2023-12-20T00:00:00+00:00", "2023-12-21T00:00:00+00:00"
M.FROM_Q, M.TO_Q = "from=2023-12-20T00%3A00%3A00%2B00%3A00", "to=2023-12-21T00%3A00%3A00%2B00%3A00"
M.DAY = { from = M.FROM, to = M.TO }

function M.data_log()
  local out = {}
  for _, e in ipairs(S.shared():log()) do
    if e.path:find("^/data/") then out[#out + 1] = e end
  end
  return out
end

function M.last_entry()
  local log = M.data_log()
  return log[#log]
end

function M.pages_requested()
  local out = {}
  for _, e in ipairs(M.data_log()) do out[#out + 1] = tonumber(e.args.currentPage) end
  return out
end

function M.sum(items)
  local s = 0
  for _, it in ipairs(items) do s = s + it.metric_value end
  return s
end

function M.collect(iter)
  local out = {}
  for it in iter do out[#out + 1] = it end
  return out
end

local function snake_keys(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" then k = k:gsub("(%l)(%u)", function(a, b) return a .. "_" .. b:lower() end) end
    out[k] = snake_keys(x)
  end
  return out
end

function M.raw_answer(uri)
  local auth = D.AUTH:match("^Authorization: (.*)$")
  local code, body = S.http("GET", S.shared().url .. uri, nil, { authorization = auth })
  assert.are.equal(200, code, uri)
  return snake_keys(cjson.decode(body))
end

return M
