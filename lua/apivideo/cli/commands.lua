--- The CLI's commands: one function per command, each taking the context
-- of apivideo.cli.run (`client`, `o` the parsed options, `emit`, `stderr`,
-- `progress`, `now`, `bars_width`, `chart`) and returning the exit status. Errors
-- are raised (the library's error objects, `{usage = ...}`, `{write = ...}`)
-- and worded by apivideo.cli.main.
-- @module apivideo.cli.commands
local archive = require("apivideo.cli.archive")
local data = require("apivideo.cli.data")
local output = require("apivideo.cli.output")
local report = require("apivideo.cli.report")
local walk = require("apivideo.cli.walk")

local M = {}

--- The options of a sessions or events walk.
local function walk_options(o)
  return { page_size = o.page_size, period = o.period, metadata = o.metadata }
end

M.sessions = function(ctx)
  return walk.list(ctx, { method = "video_session_pages", args = { ctx.o.id, walk_options(ctx.o) },
    kind = "session", label = "sessions" })
end

M["live-sessions"] = function(ctx)
  return walk.list(ctx, { method = "live_stream_session_pages", args = { ctx.o.id, walk_options(ctx.o) },
    kind = "session", label = "sessions" })
end

M.events = function(ctx)
  return walk.list(ctx, { method = "session_event_pages", args = { ctx.o.id, walk_options(ctx.o) },
    kind = "event", label = "events" })
end

--- `summary`: of a video's sessions in a period (--period), or of a window
-- (--from/--to, --last) from the /data operations.
M.summary = function(ctx)
  local o = ctx.o
  if o.db then return archive.summary(ctx) end
  if o.mode == "data" then
    local res = data.collect(ctx, { breakdowns = { country = true, device_type = true, os = true, browser = true,
      referrer = true, media_id = true } })
    output.write_data_summary(ctx.emit, o, res, ctx.bars_width)
    return 0
  end
  local r = walk.collect_sessions(ctx)
  output.write_summary(ctx.emit, o, r, ctx.bars_width)
  return walk.left_out_status(ctx, r)
end

--- `metrics`: one aggregated figure.
M.metrics = function(ctx)
  local o = ctx.o
  local result, err = walk.call(ctx.client, "get_aggregated_metrics", o.metric, o.aggregation,
    data.options(o, "aggregated"))
  if not result then error(err, 0) end
  output.write_metric(ctx.emit, o.format, result, o.tz)
  return 0
end

--- `buckets`: every page of the breakdown.
M.buckets = function(ctx)
  local o = ctx.o
  return walk.list(ctx, { method = "metrics_breakdown_pages",
    args = { o.metric, o.breakdown, data.options(o, "breakdown") }, kind = "bucket", label = "buckets" })
end

--- `timeseries`: every page of the series.
M.timeseries = function(ctx)
  local o = ctx.o
  if o.db then return archive.timeseries(ctx) end
  return walk.list(ctx, { method = "metrics_over_time_pages", args = { o.metric, data.options(o, "over_time") },
    kind = "point", label = "points" })
end

--- `archive`: copy the analytics into a database (apivideo.cli.archive).
M.archive = archive.run

--- `report`: the HTML report (apivideo.cli.report).
M.report = report.run

return M
