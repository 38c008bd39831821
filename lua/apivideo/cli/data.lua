--- The CLI's commands on today's Analytics operations (`/data/*`):
-- `metrics`, `buckets`, `timeseries`, and the `summary` of a time window
-- (--from/--to or --last, no --period).
--
-- Every request goes through the library (`client.analytics`), which checks
-- every argument before sending: what it refuses becomes the CLI's usage
-- error naming the option (apivideo.cli.walk.usage_text).
-- @module apivideo.cli.data
local output = require("apivideo.cli.output")

local M = {}

local walk = require("apivideo.cli.walk")

--- The library's options of a /data call, from the parsed options o
-- (only those given; `which`: the option names the operation takes).
function M.options(o, which)
  local opts = {}
  local all = {
    from = o.from, to = o.to, filter_by = o.filter, unique = o.unique or nil, view_duration = o.view_duration,
    interval = o.interval, sort_by = o.sort_by, sort_order = o.sort_order, page_size = o.page_size,
  }
  for _, k in ipairs(which) do opts[k] = all[k] end
  return opts
end

local AGGREGATED = { "from", "to", "filter_by", "unique", "view_duration" }
local BREAKDOWN = { "from", "to", "filter_by", "unique", "view_duration", "sort_by", "sort_order", "page_size" }
local OVER_TIME = { "from", "to", "filter_by", "unique", "view_duration", "interval", "sort_by", "sort_order",
  "page_size" }

--- `metrics`: one aggregated figure.
function M.metrics(ctx)
  local o, client = ctx.o, ctx.client
  local result, err = walk.call(client, "get_aggregated_metrics", o.metric, o.aggregation,
    M.options(o, AGGREGATED))
  if not result then error(err, 0) end
  output.write_metric(ctx.emit, o.format, result)
  return 0
end

--- `buckets`: every page of the breakdown.
function M.buckets(ctx)
  local o = ctx.o
  return walk.list_command(ctx, "metrics_breakdown_pages", "bucket", "buckets",
    { o.metric, o.breakdown, M.options(o, BREAKDOWN) })
end

--- `timeseries`: every page of the series.
function M.timeseries(ctx)
  local o = ctx.o
  return walk.list_command(ctx, "metrics_over_time_pages", "point", "points",
    { o.metric, M.options(o, OVER_TIME) })
end

------------------------------------------------------------------------------
-- The summary of a window: a few /data requests, run at once.

--- The aggregated figures of the summary: { key, metric, aggregation }.
M.SUMMARY_FIGURES = {
  { "plays", "play", "count" },
  { "impressions", "impression", "count" },
  { "play_rate", "play", "rate" },
  { "ends", "end", "count" },
  { "watch_time_sum", "watch-time", "sum" },
  { "watch_time_average", "watch-time", "average" },
}

--- The breakdowns of plays in the summary: { key, breakdown }.
M.SUMMARY_BREAKDOWNS = {
  { "country", "country" },
  { "device_type", "device-type" },
  { "os", "operating-system" },
  { "browser", "browser" },
  { "referrer", "referrer" },
  { "media_id", "media-id" },
}

--- The media filter of a summary or report in data mode: --video or
-- --live-stream ID becomes filter_by media_id.
function M.media_filter(o)
  if o.id then return { media_id = { o.id } } end
  return nil
end

--- Fetches the figures and breakdowns of the window [o.from, o.to) at
-- once (up to --concurrency requests in flight). figures: the keys of
-- SUMMARY_FIGURES; breakdowns: the keys of SUMMARY_BREAKDOWNS wanted.
-- Returns { figures = {key = number}, breakdowns = {key = {{label, value}...}},
-- over_time = {points, interval} (when over_time is asked) }.
function M.collect(ctx, want)
    local o, client = ctx.o, ctx.client
  local filter = M.media_filter(o)
  local window = { from = o.from, to = o.to, filter_by = filter }
  local res = { figures = {}, breakdowns = {}, timeframe = nil }
  local tasks = {}
  for _, f in ipairs(M.SUMMARY_FIGURES) do
    if not want.figures or want.figures[f[1]] then
      tasks[#tasks + 1] = function()
        local r, err = client.analytics:get_aggregated_metrics(f[2], f[3], window)
        if not r then error(err, 0) end
        res.figures[f[1]] = r.data
        if f[1] == "plays" and r.context then res.timeframe = r.context.timeframe end
      end
    end
  end
  for _, b in ipairs(M.SUMMARY_BREAKDOWNS) do
    if want.breakdowns[b[1]] and not (b[1] == "media_id" and filter) then
      local opts = { from = o.from, to = o.to, filter_by = filter, page_size = 100 }
      local next_page = walk.call(client, "metrics_breakdown_pages", "play", b[2], opts)
      tasks[#tasks + 1] = function()
        local rows = {}
        while true do
          local page = next_page()
          if not page then break end
          for _, item in ipairs(page.data) do rows[#rows + 1] = { item.dimension_value, item.metric_value } end
        end
        res.breakdowns[b[1]] = rows
      end
    end
  end
  if want.over_time then
    local next_page = walk.call(client, "metrics_over_time_pages", "play",
      { from = o.from, to = o.to, filter_by = filter, page_size = 100 })
    tasks[#tasks + 1] = function()
      local points, interval = {}, nil
      while true do
        local page = next_page()
        if not page then break end
        interval = interval or (page.context and page.context.interval)
        for _, item in ipairs(page.data) do points[#points + 1] = item end
      end
      res.over_time = { points = points, interval = interval }
    end
  end
  local p = ctx.progress
  p.phase("requests", "request")
  local done = 0
  local wrapped = {}
  for i, t in ipairs(tasks) do
    wrapped[i] = function()
      t()
      done = done + 1
      p.update(done, #tasks, done)
    end
  end
  local k = 0
  local ok, err = walk.drive(client, function()
    k = k + 1
    return wrapped[k]
  end, o.concurrency, nil, function() p.update(done, #tasks, done) end)
  p.clear()
  if not ok then error(err, 0) end
  return res
end

--- `summary --from/--to` or `--last`: the figures and breakdowns of plays.
function M.summary(ctx)
  local o = ctx.o
  local res = M.collect(ctx, { breakdowns = { country = true, device_type = true, os = true, browser = true,
    referrer = true, media_id = true } })
  output.write_data_summary(ctx.emit, o, res, ctx.bars_width)
  return 0
end

return M
