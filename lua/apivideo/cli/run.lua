--- The CLI's runner: the client from the parsed options, the context every
-- command runs in (apivideo.cli.commands), progress on stderr.
--
-- Every request goes through the public client API: each walk is a task of
-- `client:run_all`, which is how `summary` walks the events of up to
-- `--concurrency` sessions at once with the ordinary iterators.
-- @module apivideo.cli.run
local apivideo = require("apivideo")
local core = require("apivideo.core")
local args = require("apivideo.cli.args")
local commands = require("apivideo.cli.commands")
local messages = require("apivideo.cli.messages")

local M = {}

------------------------------------------------------------------------------
-- Progress on stderr (only when it is a terminal).

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
-- The client.

--- The client's options from the parsed options o and the API key.
local function client_options(o, key, getenv)
  local copts = {
    api_key = key, concurrency = o.concurrency, auth = o.auth, ca_file = o.ca_file, timeout_ms = o.timeout_ms,
    max_retries = o.max_retries, allow_insecure_http = o.allow_insecure_http,
  }
  if o.sandbox then copts.environment = "sandbox" end
  -- --base-url, else $APIVIDEO_BASE_URL (not with --sandbox, which names its own root)
  local env_base = getenv("APIVIDEO_BASE_URL")
  copts.base_url = o.base_url or (not o.sandbox and env_base ~= "" and env_base or nil)
  return copts
end

--- The client, or a usage error naming the flag of an option it refuses.
local function new_client(copts)
  local ok, client = pcall(apivideo.new, copts)
  if ok then return client end
  if not messages.is_argument(client) then error(client, 0) end
  args.usage_error(messages.client_refusal(client))
end

--- Runs the parsed command o. streams: as for apivideo.cli.main; emit: the
-- stdout emitter. Returns the exit code or raises.
function M.run(o, streams, emit)
  local getenv = streams.getenv or os.getenv
  -- reading an archive (summary, timeseries, report --db) or a dump (report --input) asks the API
  -- nothing: no key, no client
  local offline = (o.db ~= nil and o.command ~= "archive") or o.input ~= nil
  local client = not offline and new_client(client_options(o, args.read_key(o, getenv), getenv)) or nil
  local err_stream = streams.stderr or io.stderr
  local tty = streams.tty
  if tty == nil then tty = err_stream == io.stderr and is_tty(2) end
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
  -- --chart: drawn whatever stdout is (it was asked for), as wide as the terminal
  local chart
  if o.chart then
    chart = { width = streams.columns or terminal_columns(getenv), metric = o.metric, breakdown = o.breakdown,
      interval = o.interval }
  end
  local ctx = {
    client = client, o = o, emit = emit, stderr = err_stream, now = now, bars_width = bars_width, chart = chart,
    progress = progress(err_stream, tty, core.now_ms, streams.progress_interval_ms or 200),
  }
  local done, res = pcall(commands[o.command], ctx)
  if client then client:close() end
  if not done then error(res, 0) end
  return res
end

return M
