-- Test helper: assertions the specs share beyond luassert's own.
--
--   local expect = require("spec.support.expect")
--   expect.raised(fn, ...)   calls fn(...), fails the test unless it raised, and
--                            returns the message (which must be a string)
--
-- Nothing here uses syntax newer than Lua 5.1.

-- busted's assert lives in each spec file's environment, not in _G: the same
-- luassert object, required here.
local assert = require("luassert")
local M = {}

function M.raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, got a success")
  assert.is_string(err)
  return err
end

return M
