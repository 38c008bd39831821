--- The CLI and the archive (apivideo.archive): the `archive` command, and
-- `summary --db`, `timeseries --db`, which read an archive instead of
-- asking the API.
--
-- `archive` prints one line on success (what it fetched and wrote), the
-- URLs with --dry-run, progress on stderr in a terminal. A failure is one
-- line on stderr naming the stream, exit 1: what was committed stays, and
-- the next run resumes there.
-- @module apivideo.cli.archive
local archive = require("apivideo.archive")
local args = require("apivideo.cli.args")
local formats = require("apivideo.cli.formats")
local messages = require("apivideo.cli.messages")
local output = require("apivideo.cli.output")
local walk = require("apivideo.cli.walk")

local M = {}

local PROG = args.PROG

-- The archive, or the failure raised (an error object: one line, exit 1).
local function open(o, read_only)
  local a, err = archive.open(o.db, { busy_timeout_ms = o.busy_timeout_ms, read_only = read_only })
  if not a then error(err, 0) end
  return a
end

--- `archive --db TARGET`.
function M.run(ctx)
  local o, p = ctx.o, ctx.progress
  local opts = {
    metrics = o.metrics, breakdowns = o.breakdowns, interval = o.interval, lag = o.lag, since = o.since,
    filter_by = o.filter, period = o.period, dry_run = o.dry_run or nil,
    videos = o.video and { o.video } or nil, live_streams = o.live_stream and { o.live_stream } or nil,
  }
  -- "archive: stream 3/12, 1520 items, 300 items/s, 0:12 left", after each page
  local committed = 0 -- items of the streams done
  p.phase("archive", "stream")
  opts.on_progress = function(e)
    if e.done then
      committed = committed + e.fetched
      p.update(e.index, e.streams, committed, true)
    else
      p.update(e.index - 1, e.streams, committed + e.fetched)
    end
  end
  local a = open(o, o.dry_run)
  local ok, summary, err = pcall(walk.checked, a.run, a, ctx.client, opts)
  p.clear()
  a:close()
  if not ok then error(summary, 0) end
  if not summary then
    if err.stream then
      ctx.stderr:write(PROG .. ": archive: stream " .. err.stream .. " failed (what was committed before it "
        .. "stays; the next run resumes there): " .. messages.error_line(err) .. "\n")
      return 1
    end
    error(err, 0)
  end
  if o.dry_run then
    for _, url in ipairs(summary.requests) do ctx.emit("GET " .. url .. "\n") end
    return 0
  end
  local complete = 0
  for _, s in ipairs(summary.streams) do
    if s.status == "complete" then complete = complete + 1 end
  end
  ctx.emit(string.format("archived %d streams%s into %s: %d requests, %d items fetched, %d rows added or "
    .. "changed (the API's time: %s)\n", #summary.streams,
    complete > 0 and (" (" .. complete .. " already complete)") or "", a.target, summary.requests,
    summary.fetched, summary.written, summary.now))
  return 0
end

--- `timeseries --db`: the archived points of --metric in the window (all of
-- them without one), as `timeseries` prints the API's.
function M.timeseries(ctx)
  local o = ctx.o
  local a = open(o, true)
  local ok, points = pcall(a.series, a, o.metric, o.interval, o.filter, o.from, o.to)
  a:close()
  if not ok then error(points, 0) end
  local w = output.item_writer(o.format, ctx.emit, "point", o.tz, ctx.chart) -- ctx.chart: --chart
  w.begin()
  for _, pt in ipairs(points) do w.row(pt) end
  w.page_done()
  w.finish()
  return 0
end

local function change(now, before)
  if not now or not before or before == 0 then return nil end
  return (now - before) / before * 100
end

local FIGURES = { { key = "plays", label = "plays" }, { key = "impressions", label = "impressions" },
  { key = "play_rate", label = "play rate" }, { key = "starts", label = "starts" }, { key = "ends", label = "ends" },
  { key = "views", label = "views" } }

--- `summary --db`: the window from the archive, the previous period of
-- equal length beside it, the media's titles beside their ids.
function M.summary(ctx)
  local o = ctx.o
  local a = open(o, true)
  local ok, res = pcall(a.window, a, o.from, o.to, o.id)
  a:close()
  if not ok then error(res, 0) end
  -- media ids with their titles
  local mids = res.breakdowns.media_id
  for _, list in ipairs({ mids or {}, res.previous.breakdowns.media_id or {} }) do
    for _, kv in ipairs(list) do
      local t = res.titles[kv.label]
      if t then kv.label = t .. " (" .. kv.label .. ")" end
    end
  end
  local rows = {}
  for _, f in ipairs(FIGURES) do
    local now, before = res.figures[f.key], res.previous.figures[f.key]
    rows[#rows + 1] = { figure = f.label, key = f.key, value = now, previous = before, change = change(now, before) }
  end
  if o.format == "json" then
    local obj = output.data_summary_object(o, res)
    obj.source = o.db_text
    obj.previous = output.data_summary_object({ id = o.id, from = o.from - (o.to - o.from), to = o.from },
      res.previous)
    obj.starts, obj.views = res.figures.starts or formats.JSON_NULL, res.figures.views or formats.JSON_NULL
    obj.previous.starts = res.previous.figures.starts or formats.JSON_NULL
    obj.previous.views = res.previous.figures.views or formats.JSON_NULL
    obj.watch_time_s, obj.previous.watch_time_s = nil, nil -- not archived
    local pct = {}
    for _, r in ipairs(rows) do pct[r.key] = r.change or formats.JSON_NULL end
    obj.change_pct = pct
    ctx.emit(formats.json_encode(obj, nil, formats.figure) .. "\n")
    return 0
  end
  local spec = { columns = {
    { name = "figure", text = function(r) return r.figure end },
    { name = "value", text = function(r) return r.value and formats.number_text(r.value) end, right = true },
    { name = "previous", text = function(r) return r.previous and formats.number_text(r.previous) end, right = true },
    { name = "change_pct", text = function(r) return r.change and string.format("%+.1f", r.change) end,
      right = true },
  } }
  if o.format == "table" then
    local first, last = res.coverage[1], res.coverage[2]
    ctx.emit(string.format("Summary of %s, %s to %s (the archive %s, which holds %s): %s plays\n",
      o.id and ("media " .. o.id) or "the account", res.timeframe.from, res.timeframe.to, a.target,
      first and (first .. " .. " .. last) or "no time series", res.figures.plays
        and formats.number_text(res.figures.plays) or "-"))
    ctx.emit("previous period: " .. res.previous.timeframe.from .. " to " .. res.previous.timeframe.to .. "\n\n")
  end
  formats.write_rows(o.format, ctx.emit, spec, rows)
  if o.format ~= "table" then return 0 end
  for _, b in ipairs(archive.read.BREAKDOWNS) do
    local list = res.breakdowns[b.key]
    if list then
      ctx.emit("\n")
      local trows = {}
      for i, kv in ipairs(list) do
        trows[i] = { kv.label == "" and "(none)" or kv.label, formats.number_text(kv.value) }
      end
      formats.render_table(ctx.emit, { { name = b.key }, { name = "plays", right = true } }, trows)
    end
  end
  return 0
end

return M
