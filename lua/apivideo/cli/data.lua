--- The CLI's requests of today's Analytics operations (`/data/*`): the
-- library's options of each call from the parsed options, and the figures of
-- a time window (--from/--to or --last) that `summary` and `report` show,
-- fetched at once.
--
-- Every request goes through the library (`client.analytics`), which checks
-- every argument before sending: what it refuses becomes the CLI's usage
-- error naming the option (apivideo.cli.walk.call).
-- @module apivideo.cli.data
local walk = require("apivideo.cli.walk")

local M = {}

--- The options each /data operation takes, by the kind of call.
M.TAKES = {
  aggregated = { "from", "to", "filter_by", "unique", "view_duration" },
  breakdown = { "from", "to", "filter_by", "unique", "view_duration", "sort_by", "sort_order", "page_size" },
  over_time = { "from", "to", "filter_by", "unique", "view_duration", "interval", "sort_by", "sort_order",
    "page_size" },
}

--- The library's options of a /data call of kind `takes` (a key of TAKES),
-- from the parsed options o (only those given).
function M.options(o, takes)
  local all = {
    from = o.from, to = o.to, filter_by = o.filter, unique = o.unique or nil, view_duration = o.view_duration,
    interval = o.interval, sort_by = o.sort_by, sort_order = o.sort_order, page_size = o.page_size,
  }
  local opts = {}
  for _, k in ipairs(M.TAKES[takes]) do opts[k] = all[k] end
  return opts
end

------------------------------------------------------------------------------
-- The figures of a window: a few /data requests, run at once.

--- The aggregated figures: `key` (in the result), `metric`, `aggregation`.
M.SUMMARY_FIGURES = {
  { key = "plays", metric = "play", aggregation = "count" },
  { key = "impressions", metric = "impression", aggregation = "count" },
  { key = "play_rate", metric = "play", aggregation = "rate" },
  { key = "ends", metric = "end", aggregation = "count" },
  { key = "watch_time_sum", metric = "watch-time", aggregation = "sum" },
  { key = "watch_time_average", metric = "watch-time", aggregation = "average" },
}

--- The breakdowns of plays: `key` (in the result), `breakdown`.
M.SUMMARY_BREAKDOWNS = {
  { key = "country", breakdown = "country" },
  { key = "device_type", breakdown = "device-type" },
  { key = "os", breakdown = "operating-system" },
  { key = "browser", breakdown = "browser" },
  { key = "referrer", breakdown = "referrer" },
  { key = "media_id", breakdown = "media-id" },
}

--- Fetches the figures and breakdowns of the window [o.from, o.to) of
-- --video or --live-stream ID (as filterBy media_id; without one, the whole
-- account), up to --concurrency requests in flight. want: `figures` (a set
-- of SUMMARY_FIGURES keys; nil: all), `breakdowns` (a set of
-- SUMMARY_BREAKDOWNS keys; media_id only for the whole account),
-- `over_time` (true: plays over time). Returns { figures = {key = number},
-- breakdowns = {key = list of {label =, value =}}, timeframe = what the API
-- echoed, over_time = {points =, interval =} (when asked) }.
function M.collect(ctx, want)
  local o, client = ctx.o, ctx.client
  local filter = o.id and { media_id = { o.id } } or nil
  local window = { from = o.from, to = o.to, filter_by = filter }
  local res = { figures = {}, breakdowns = {}, timeframe = nil }
  local tasks = {}
  for _, f in ipairs(M.SUMMARY_FIGURES) do
    if not want.figures or want.figures[f.key] then
      tasks[#tasks + 1] = function()
        local r, err = client.analytics:get_aggregated_metrics(f.metric, f.aggregation, window)
        if not r then error(err, 0) end
        res.figures[f.key] = r.data
        if f.key == "plays" and r.context then res.timeframe = r.context.timeframe end
      end
    end
  end
  -- the walks are made here, outside the tasks: an argument they refuse is
  -- a usage error before anything is sent
  local function paged() return { from = o.from, to = o.to, filter_by = filter, page_size = 100 } end
  for _, b in ipairs(M.SUMMARY_BREAKDOWNS) do
    if want.breakdowns[b.key] and not (b.key == "media_id" and filter) then
      local pages = walk.call(client, "metrics_breakdown_pages", "play", b.breakdown, paged())
      tasks[#tasks + 1] = function()
        local rows = {}
        walk.each(pages, function(item)
          rows[#rows + 1] = { label = item.dimension_value, value = item.metric_value }
        end)
        res.breakdowns[b.key] = rows
      end
    end
  end
  if want.over_time then
    local pages = walk.call(client, "metrics_over_time_pages", "play", paged())
    tasks[#tasks + 1] = function()
      local over_time = { points = {}, interval = nil }
      walk.each(pages, function(item) over_time.points[#over_time.points + 1] = item end, function(page)
        over_time.interval = over_time.interval or (page.context and page.context.interval)
      end)
      res.over_time = over_time
    end
  end
  local p, done = ctx.progress, 0
  local function show() p.update(done, #tasks, done) end
  local counted = {}
  for i, t in ipairs(tasks) do
    counted[i] = function()
      t()
      done = done + 1
      show()
    end
  end
  p.phase("requests", "request")
  local ok, err = client:run_all(counted, { limit = o.concurrency, tick = show })
  p.clear()
  if not ok then error(err, 0) end
  return res
end

return M
