-- Test helper: small list functions the specs share.
--
--   local L = require("spec.support.lists")
--   L.sorted(list)       a sorted copy (table.sort order); list is left alone
--   L.range(a, b)        { a, a + 1, ..., b } ({} when b < a)
--
-- Nothing here uses syntax newer than Lua 5.1.
local M = {}

function M.sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end

function M.range(a, b)
  local t = {}
  for i = a, b do t[#t + 1] = i end
  return t
end

return M
