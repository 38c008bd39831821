--- The library's errors in the CLI's words, read from their fields
-- (`kind`, `arg`, `reason`, `status`), never from their text.
--
-- An argument the library refuses (an error of kind "argument": `fn`, `arg`,
-- `reason`) is a value the user gave: the CLI says it as a usage error
-- naming the flag (`arg` "filter_by.country[1]" -> "bad --filter country
-- (reason)"). Any other error object (kind "http", "network", "timeout",
-- "decode", "auth") is one line, its own, after the CLI's prefix.
-- @module apivideo.cli.messages
local errors = require("apivideo.errors")
local options = require("apivideo.cli.options")

local M = {}

local FLAG_OF_ARG = options.FLAG_OF_ARG

--- The flag (with what follows it, for a filter key) that the library's
-- argument `arg` came from, or nil when no flag sets it.
function M.flag_of(arg)
  if type(arg) ~= "string" then return nil end
  local key = arg:match("^filter_by%.([%w_]+)")
  if key then return "--filter " .. key end
  return FLAG_OF_ARG[arg]
end

-- The window's rules name its ends as the library's arguments ("must be
-- before 'to'", "'from' defaults to..."): in the reasons of those rules
-- (a refused from, to or interval), they are flags. Elsewhere a quoted
-- 'to' is a value the user gave.
local WINDOW_ENDS = { from = true, to = true, interval = true }
local ENDS = { ["'from'"] = "--from", ["'to'"] = "--to" }

--- The usage message of an argument error e: "bad FLAG (reason)"; an
-- argument no flag sets keeps the library's name ("bad ARG (reason)").
function M.usage_text(e)
  local reason = tostring(e.reason)
  if WINDOW_ENDS[e.arg] then reason = reason:gsub("'[%w_]+'", ENDS) end
  if e.arg == nil then return reason end
  return "bad " .. (M.flag_of(e.arg) or e.arg) .. " (" .. reason .. ")"
end

--- The message when apivideo.new refused the base URL only for being plain
-- http:// to a host that is not loopback, which --allow-insecure-http lifts.
M.INSECURE_HTTP = "refusing to send the API key over plain http:// to a non-loopback host"
  .. " (use https://, or use --allow-insecure-http)"

--- The usage message of apivideo.new's refusal e. A refusal that the
-- option allow_insecure_http would lift (its field `unless`) says which flag
-- lifts it (the library's own message names the option).
function M.client_refusal(e)
  if e.unless == "allow_insecure_http" then return M.INSECURE_HTTP end
  return M.usage_text(e)
end

--- Is v an argument error of the library?
M.is_argument = errors.is_argument

--- One line for an error object of the library: its own text, without the
-- library's "apivideo: " (the CLI puts its own name in front).
function M.error_line(e)
  return (tostring(e):gsub("^apivideo: ", ""))
end

--- Can a failure of one session's events heal for the next session? Not a
-- refused key (kind "auth") nor a refused account (HTTP 401, 403): those
-- end the command; anything else of the library leaves that session out.
function M.heals(e)
  return errors.is_error(e) and e.kind ~= "auth" and e.status ~= 401 and e.status ~= 403
end

return M
