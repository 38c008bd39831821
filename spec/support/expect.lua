-- Test helper: assertions the specs share beyond luassert's own.
--
--   local expect = require("spec.support.expect")
--   expect.raised(fn, ...)   calls fn(...), fails the test unless it raised, and
--                            returns the message: a string, or the text of the
--                            library's argument error (tostring of it)
--   expect.argument_error(fn, ...)  the same, but the error must be the
--                            library's argument error; returns the object
--
-- Nothing here uses syntax newer than Lua 5.1.

-- busted's assert lives in each spec file's environment, not in _G: the same
-- luassert object, required here.
local assert = require("luassert")
local M = {}

local errors = require("apivideo.errors")

function M.raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, got a success")
  if errors.is_argument(err) then return tostring(err) end
  assert.is_string(err)
  return err
end

function M.argument_error(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error, got a success")
  assert.is_true(errors.is_argument(err), "expected an argument error, got " .. tostring(err))
  return err
end

return M
