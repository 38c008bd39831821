--- The command-line tool `apivideo-analytics`.
--
--     apivideo-analytics sessions --video ID --period P [--metadata k=v ...]
--     apivideo-analytics live-sessions --live-stream ID --period P
--     apivideo-analytics events --session ID
--     apivideo-analytics summary --video ID --period P [--metadata k=v ...]
--     apivideo-analytics summary [--video ID] --from T [--to T] | --last 7d
--     apivideo-analytics metrics --metric M --aggregation A [--from T --to T] [--filter k=v ...]
--     apivideo-analytics buckets --metric M --breakdown B [...]
--     apivideo-analytics timeseries --metric M [--interval I] [...]
--     apivideo-analytics report --video ID --period P --out FILE (or a window)
--
-- `main(argv, streams)` runs one command and returns the exit code (0 ok,
-- 1 API or network error, 2 usage error); it never calls os.exit, so specs
-- can run it in-process with captured streams. bin/apivideo-analytics is the
-- thin script around it. The work is split by job, one module each:
-- `apivideo.cli.options` (the commands and options, as data),
-- `apivideo.cli.help` (the help texts), `apivideo.cli.args` (argv into
-- options, every check the CLI makes), `apivideo.cli.run` (the client and
-- the context), `apivideo.cli.commands` (one function per command),
-- `apivideo.cli.walk` (page walks, several at once), `apivideo.cli.data`
-- (the /data requests), `apivideo.cli.stats` (the summary's figures),
-- `apivideo.cli.output` (what is printed) over `apivideo.cli.formats` (the
-- one row writer: table, csv, ndjson, json), `apivideo.cli.report` (the
-- HTML report) and `apivideo.cli.messages` (the library's errors in the
-- CLI's words, from their fields). docs/cli.md is the reference.
-- @module apivideo.cli
local apivideo = require("apivideo")
local args = require("apivideo.cli.args")
local formats = require("apivideo.cli.formats")
local help = require("apivideo.cli.help")
local messages = require("apivideo.cli.messages")
local run = require("apivideo.cli.run")

local M = {}

local PROG = args.PROG

--- Runs the tool. argv: the arguments (like `arg`; argv[1] is the command);
-- streams (all optional): stdout, stderr (objects with :write), getenv
-- (function(name)), tty (boolean: show progress; default: is stderr a
-- terminal, when stderr is io.stderr), progress_interval_ms, stdout_tty
-- (boolean: draw the summary's bars; default: is stdout a terminal, when
-- stdout is io.stdout), columns (the bars' width; default $COLUMNS, else
-- `tput cols`, else 80), now (function giving the seconds since the epoch
-- that --last ends at; default os.time). Returns the exit code. Every
-- message on stderr starts with "apivideo-analytics: ".
---@param argv string[]
---@param streams? table
---@return integer code
function M.main(argv, streams)
  streams = streams or {}
  local out = streams.stdout or io.stdout
  local errs = streams.stderr or io.stderr
  local emit = formats.emitter(out)
  local ok, res = pcall(function()
    local o = args.parse(argv or {})
    if o.help then
      emit(help.help(o.help ~= true and o.help or nil))
      return 0
    end
    if o.version then
      emit(PROG .. " " .. tostring(apivideo._VERSION) .. "\n")
      return 0
    end
    return run.run(o, streams, emit)
  end)
  if out.flush then
    local flushed, ferr = out:flush()
    if ok and not flushed then ok, res = false, { write = tostring(ferr) } end
  end
  if ok then return res end
  if type(res) == "table" and res.usage then
    errs:write(PROG .. ": " .. res.usage .. "\n" .. help.usage(args.command_of(argv or {})))
    return 2
  end
  if apivideo.is_error(res) then
    errs:write(PROG .. ": " .. messages.error_line(res) .. "\n")
  elseif type(res) == "table" and res.write then
    errs:write(PROG .. ": write error: " .. res.write .. "\n")
  else
    errs:write(PROG .. ": internal error: " .. tostring(res) .. "\n")
  end
  return 1
end

return M
