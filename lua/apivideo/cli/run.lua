--- The CLI's command runner: the client, the walks, progress on stderr.
--
-- Every request goes through the public client API: each walk is a function
-- run by `client:run_all`, which is how `summary` walks the events of up to
-- `--concurrency` sessions at once with the ordinary iterators.
-- @module apivideo.cli.run
local apivideo = require("apivideo")
local args = require("apivideo.cli.args")
local data = require("apivideo.cli.data")
local output = require("apivideo.cli.output")
local report = require("apivideo.cli.report")
local walk = require("apivideo.cli.walk")

local M = {}

-- (what other modules and specs took from here before apivideo.cli.walk)
M.bare, M.error_text, M.drive, M.drive_list, M.usage_text, M.call, M.iterator =
  walk.bare, walk.error_text, walk.drive, walk.drive_list, walk.usage_text, walk.call, walk.iterator
M.collect_sessions, M.left_out_status, M.list_command = walk.collect_sessions, walk.left_out_status,
  walk.list_command

local usage_error = args.usage_error

------------------------------------------------------------------------------
-- Progress on stderr (only when it is a terminal).

local function clock()
  local ok, core = pcall(require, "apivideo.core")
  if ok and type(core) == "table" and core.now_ms then return core.now_ms end
  return function() return os.time() * 1000 end
end

local function clock_text(secs)
  secs = math.floor(secs + 0.5)
  local h, m, s = math.floor(secs / 3600), math.floor(secs / 60) % 60, secs % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s) end
  return string.format("%d:%02d", m, s)
end

--- label: "sessions"; unit: "page" | "session". update(done, total, items).
local function progress(stream, enabled, now, interval_ms)
  local p = { shown = false }
  local start, last, label, unit = now(), nil, "", "page"
  function p.phase(l, u)
    label, unit, start, last = l, u or "page", now(), nil
  end
  function p.update(done, total, items, force)
    if not enabled then return end
    local t = now()
    if not force and last and t - last < interval_ms then return end
    last = t
    local elapsed = (t - start) / 1000
    local rate = elapsed > 0 and items / elapsed or 0
    local left = "--:--"
    if total and done > 0 and total >= done then
      left = clock_text(elapsed / done * (total - done))
    end
    stream:write(string.format("\r%s: %s %d/%s, %d items, %d items/s, %s left\27[K", label, unit, done,
      total and tostring(total) or "?", items, math.floor(rate + 0.5), left))
    p.shown = true
  end
  function p.clear()
    if enabled and p.shown then stream:write("\r\27[K") end
    p.shown = false
  end
  return p
end

local function is_tty(fd)
  local r = os.execute("test -t " .. fd)
  return r == true or r == 0
end

--- The width of the terminal: $COLUMNS, else `tput cols`, else 80.
local function terminal_columns(getenv)
  local n = tonumber(getenv("COLUMNS") or "")
  if not n then
    local p = io.popen("tput cols 2>/dev/null")
    if p then
      n = tonumber(p:read("*l") or "")
      p:close()
    end
  end
  if not n or n < 20 then n = 80 end
  return math.floor(math.min(n, 400))
end

------------------------------------------------------------------------------
-- Running walks: through the client's own public API (client:run_all), which
-- runs each walk as a task of the client, so that their requests overlap.


--- The summary of a video's sessions in a period.
local function summary_command(ctx)
  local r, n = walk.collect_sessions(ctx)
  output.write_summary(ctx.emit, ctx.o, r, ctx.bars_width)
  return walk.left_out_status(ctx, r, n)
end

--- A library message about a client option, in the CLI's words.
local OPTION_FLAG = {
  base_url = "--base-url", ca_file = "--ca-file", timeout_ms = "--timeout", max_retries = "--max-retries",
  auth = "--auth", concurrency = "--concurrency", allow_insecure_http = "--allow-insecure-http",
}
local function client_message(msg)
  msg = walk.bare(msg):gsub("^apivideo%.new: ", "")
  msg = msg:gsub("set allow_insecure_http = true", "use --allow-insecure-http")
  msg = msg:gsub("^bad option '([%w_]+)'", function(name)
    return "bad " .. (OPTION_FLAG[name] or ("option '" .. name .. "'"))
  end)
  return msg
end

--- Runs the parsed command o. streams: as for apivideo.cli.main; emit: the
-- stdout emitter. Returns the exit code or raises.
function M.run(o, streams, emit)
  local getenv_ = streams.getenv or os.getenv
  local key = args.read_key(o, getenv_)
  local copts = { api_key = key, concurrency = o.concurrency }
  if o.sandbox then copts.environment = "sandbox" end
  -- --base-url, else $APIVIDEO_BASE_URL (not with --sandbox, which names its own root)
  local env_base = getenv_("APIVIDEO_BASE_URL")
  copts.base_url = o.base_url or (not o.sandbox and env_base ~= "" and env_base or nil)
  copts.auth = o.auth
  copts.ca_file = o.ca_file
  copts.timeout_ms = o.timeout_ms
  copts.max_retries = o.max_retries
  copts.allow_insecure_http = o.allow_insecure_http
  local ok, client = pcall(apivideo.new, copts)
  if not ok then usage_error(client_message(client)) end
  local err_stream = streams.stderr or io.stderr
  local tty = streams.tty
  if tty == nil then tty = err_stream == io.stderr and is_tty(2) end
  local getenv = streams.getenv or os.getenv
  -- bars for the summary's breakdowns: only in a terminal, only the table format
  local out_tty = streams.stdout_tty
  if out_tty == nil then out_tty = (streams.stdout or io.stdout) == io.stdout and is_tty(1) end
  local bars_width
  if out_tty and o.format == "table" then bars_width = streams.columns or terminal_columns(getenv) end
  local now = streams.now or os.time
  if o.last then
    local t = now()
    o.from, o.to = t - o.last, t
  elseif o.mode == "data" and not o.to then
    o.to = now() -- what the report and the summary say is what was asked
  end
  local ctx = {
    client = client, o = o, emit = emit, stderr = err_stream, now = now, bars_width = bars_width,
    progress = progress(err_stream, tty, clock(), streams.progress_interval_ms or 200),
  }
  local done, res = pcall(function()
    local cmd = o.command
    if cmd == "metrics" then return data.metrics(ctx)
    elseif cmd == "buckets" then return data.buckets(ctx)
    elseif cmd == "timeseries" then return data.timeseries(ctx)
    elseif cmd == "report" then return report.run(ctx)
    elseif cmd == "summary" and o.mode == "data" then return data.summary(ctx)
    elseif cmd == "sessions" then
      return walk.list_command(ctx, "video_session_pages", "session", "sessions")
    elseif cmd == "live-sessions" then
      return walk.list_command(ctx, "live_stream_session_pages", "session", "sessions")
    elseif cmd == "events" then
      return walk.list_command(ctx, "session_event_pages", "event", "events")
    end
    return summary_command(ctx)
  end)
  client:close()
  if not done then error(res, 0) end
  return res
end

return M
