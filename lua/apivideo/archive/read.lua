--- Reading an archive back: the figures of a window of any length (a
-- quarter, a year: longer than the API's 30 days), in the shape the CLI's
-- summary and report draw from the API (`apivideo.cli.data.collect`), with
-- the previous period of equal length beside it and the media's titles.
--
-- Sums over the buckets that start inside `[from, to)`: the time series at
-- the finest interval archived ("hour", else "day"), the breakdowns by day.
-- @module apivideo.archive.read
-- @local
local M = {}

--- UTC text of seconds since the epoch: `YYYY-MM-DDTHH:MM:SSZ` (the archive's times).
local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end
M.iso = iso
--- UTC date of seconds since the epoch: `YYYY-MM-DD` (the archive's days).
local function day_text(t) return os.date("!%Y-%m-%d", math.floor(t)) end
M.day_text = day_text
local function ceil_day(t) return math.ceil(t / 86400) * 86400 end

-- A count read back as a double (SQLite 0.7.2 binds numbers as doubles): an
-- integer again where it is whole.
local function number(v)
  v = tonumber(v)
  if v and math.tointeger then return math.tointeger(v) or v end
  return v
end
M.number = number

--- The interval archived for metric under filter ("hour" before "day"), or nil.
function M.interval_of(db, metric, filter)
  for _, interval in ipairs({ "hour", "day" }) do
    local r = db:rows("SELECT 1 FROM timeseries WHERE metric = ? AND interval = ? AND filter = ? LIMIT 1", metric,
      interval, filter)
    if r[1] then return interval end
  end
  return nil
end

--- The points of a time series in [from, to) (nil: unbounded), oldest
-- first: `{ emitted_at =, metric_value = }`.
function M.series(db, metric, interval, filter, from, to)
  local rows = db:rows("SELECT bucket, value FROM timeseries WHERE metric = ? AND interval = ? AND filter = ?"
    .. " AND bucket >= ? AND bucket < ? ORDER BY bucket", metric, interval, filter,
    from and iso(from) or "", to and iso(to) or "~")
  local out = {}
  for i, r in ipairs(rows) do out[i] = { emitted_at = r[1], metric_value = number(r[2]) } end
  return out
end

local function total(db, metric, interval, filter, from, to)
  if not interval then return nil end
  local r = db:rows("SELECT SUM(value), COUNT(*) FROM timeseries WHERE metric = ? AND interval = ? AND filter = ?"
    .. " AND bucket >= ? AND bucket < ?", metric, interval, filter, iso(from), iso(to))
  if not r[1] or tonumber(r[1][2]) == 0 then return nil end
  return number(r[1][1])
end

--- A breakdown of plays summed over the days that start in [from, to),
-- largest first: `{ label =, value = }`.
function M.breakdown(db, breakdown, filter, from, to)
  local rows = db:rows("SELECT dimension_value, SUM(value) AS v FROM buckets WHERE metric = 'play' AND breakdown = ?"
    .. " AND filter = ? AND day >= ? AND day < ? GROUP BY dimension_value ORDER BY v DESC, dimension_value",
    breakdown, filter, day_text(ceil_day(from)), day_text(ceil_day(to)))
  local out = {}
  for i, r in ipairs(rows) do out[i] = { label = r[1], value = number(r[2]) } end
  return out
end

--- Every title the archive knows: media_id -> title.
function M.titles(db)
  local t = {}
  for _, r in ipairs(db:rows("SELECT media_id, title FROM media WHERE title IS NOT NULL")) do t[r[1]] = r[2] end
  return t
end

--- What the archive holds of the time series under filter: first bucket, last bucket (text), or nil.
function M.coverage(db, filter)
  local r = db:rows("SELECT MIN(bucket), MAX(bucket) FROM timeseries WHERE filter = ?", filter)
  if r[1] and r[1][1] then return r[1][1], r[1][2] end
  return nil
end

--- The breakdowns the CLI's summary shows: its key, the archive's breakdown.
M.BREAKDOWNS = {
  { key = "country", breakdown = "country" }, { key = "device_type", breakdown = "device-type" },
  { key = "os", breakdown = "operating-system" }, { key = "browser", breakdown = "browser" },
  { key = "referrer", breakdown = "referrer" }, { key = "media_id", breakdown = "media-id" },
}

local function figures(db, filter, from, to)
  local f = {}
  for key, metric in pairs({ plays = "play", impressions = "impression", ends = "end", starts = "start",
    views = "view" }) do
    f[key] = total(db, metric, M.interval_of(db, metric, filter), filter, from, to)
  end
  if f.plays and f.impressions and f.impressions > 0 then f.play_rate = f.plays / f.impressions end
  return f
end

--- The window [from, to) of the archive, for `media_id` (its streams
-- archived with `--filter media_id=ID`) or the whole account: `figures`
-- (plays, impressions, play_rate, ends, starts, views: nil where nothing
-- is archived), `breakdowns` (key -> rows), `over_time` (plays: `points`,
-- `interval`), `timeframe` (`from`, `to`), and the same figures and
-- breakdowns of the previous period of equal length in `previous`;
-- `titles` (media_id -> title), `coverage` (first and last bucket held).
function M.window(db, from, to, media_id)
  local filter = media_id and ("media_id=" .. media_id) or ""
  local len = to - from
  local res = {
    figures = figures(db, filter, from, to), breakdowns = {},
    timeframe = { from = iso(from), to = iso(to) },
    previous = { figures = figures(db, filter, from - len, from), breakdowns = {},
      timeframe = { from = iso(from - len), to = iso(from) } },
    titles = M.titles(db),
  }
  for _, b in ipairs(M.BREAKDOWNS) do
    if not (b.key == "media_id" and media_id) then
      res.breakdowns[b.key] = M.breakdown(db, b.breakdown, filter, from, to)
      res.previous.breakdowns[b.key] = M.breakdown(db, b.breakdown, filter, from - len, from)
    end
  end
  local interval = M.interval_of(db, "play", filter)
  res.over_time = { interval = interval, points = interval and M.series(db, "play", interval, filter, from, to) or {} }
  res.previous.over_time = { interval = interval,
    points = interval and M.series(db, "play", interval, filter, from - len, from) or {} }
  res.coverage = { M.coverage(db, filter) }
  return res
end

return M
