--- The statistics the charts draw: quantiles, histogram bins, time buckets.
-- @module apivideo.chart.stats
local calendar = require("apivideo.chart.calendar")
local format = require("apivideo.chart.format")
local scale = require("apivideo.chart.scale")

local M = {}

local floor, ceil = math.floor, math.ceil

-- A sorted copy of the finite numbers of `values`; raises on anything else.
local function sorted(values, fname)
  if type(values) ~= "table" then error(fname .. ": array of numbers expected, got " .. type(values), 3) end
  local out = {}
  for i = 1, #values do
    local v = values[i]
    if not format.finite(v) then
      error(fname .. ": value " .. i .. " is not a finite number (" .. tostring(v) .. ")", 3)
    end
    out[i] = v
  end
  table.sort(out)
  return out
end

--- What `summary` returns.
-- @table Summary
---@class apivideo.chart.Summary
---@field count integer
---@field min? number the smallest value
---@field max? number the largest value
---@field median? number the middle value (the mean of the two middle ones for an even count)
---@field p90? number nearest rank: the ceil(0.9 n)-th smallest value
---@field mean? number the arithmetic mean

--- Count, min, max, median, p90 (nearest rank, as `summary` prints it) and
-- mean of an array of numbers (not modified).
---@param values number[]
---@return apivideo.chart.Summary
function M.summary(values)
  local d = sorted(values, "apivideo.chart.stats.summary")
  local n = #d
  if n == 0 then return { count = 0 } end
  local sum = 0
  for i = 1, n do sum = sum + d[i] end
  local median = n % 2 == 1 and d[(n + 1) / 2] or (d[n / 2] + d[n / 2 + 1]) / 2
  return { count = n, min = d[1], max = d[n], median = median, p90 = d[ceil(0.9 * n)], mean = sum / n }
end

-- Quantile of sorted data by linear interpolation between closest ranks
-- (Hyndman & Fan type 7, what R and NumPy do by default).
local function quantile7(d, p)
  local h = (#d - 1) * p + 1
  local lo = floor(h)
  if lo >= #d then return d[#d] end
  return d[lo] + (h - lo) * (d[lo + 1] - d[lo])
end

--- One histogram bin.
-- @table Bin
---@class apivideo.chart.Bin
---@field lo number inclusive
---@field hi number exclusive (the last ordinary bin includes the maximum)
---@field count integer

--- What `bins` returns.
-- @table Bins
---@class apivideo.chart.Bins
---@field width number
---@field bins apivideo.chart.Bin[]
---@field overflow? table `{ lo=, count= }`: the values from `lo` on, when the tail was cut
---@field n integer how many values

--- Histogram bins.
--
-- The rule: the width is the smaller of the Freedman-Diaconis width
-- 2 IQR n^(-1/3) (IQR by linear interpolation) and the range cut into
-- max(5, ceil(log2 n) + 1) bins (Sturges' count, at least `opts.min_bins`,
-- default 5), rounded down to a nice width (`opts.step`, default 1, 2 or
-- 5 x 10^k; scale.duration_step for durations). So a handful of values
-- still gets several bins, and the count grows smoothly with n (no jump from
-- one bin to two between 10 and 11 values). When the IQR is 0 the Sturges
-- width alone applies; when all values are equal, one bin of a nice width
-- holds them. Bins start at a multiple of the width at or below the
-- minimum; the last bin includes its upper edge when the maximum falls on
-- it. When that makes more than `opts.max_bins` (default 40), the bins stop
-- at the 95th percentile (nearest rank) and the values beyond go to one
-- open-ended overflow bin; if still too many, the width grows to the next
-- nice width until they fit.
---@param values number[]
---@param opts table? `step` (function x -> nice width >= x), `max_bins`, `min_bins`
---@return apivideo.chart.Bins
function M.bins(values, opts)
  opts = opts or {}
  local d = sorted(values, "apivideo.chart.stats.bins")
  local n = #d
  local step_up = opts.step or scale.nice_up
  local max_bins = opts.max_bins or 40
  local min_bins = opts.min_bins or 5
  if n == 0 then return { width = 1, bins = {}, n = 0 } end
  local lo, hi = d[1], d[n]
  local width
  if lo == hi then
    width = step_up(math.max(math.abs(lo) * 0.1, 1e-9))
    if lo == 0 then width = step_up(1) end
  else
    local k = math.max(min_bins, ceil(math.log(n) / math.log(2)) + 1)
    local raw = (hi - lo) / k
    local fd = 2 * (quantile7(d, 0.75) - quantile7(d, 0.25)) * n ^ (-1 / 3)
    if fd > 0 and fd < raw then raw = fd end
    width = M.nice_down(raw, step_up)
  end
  local top, overflow = hi, nil
  -- the index of the last bin: a maximum on a bin's lower edge belongs to the bin below
  local function last_of(w, upper)
    local i = floor(upper / w)
    if upper == i * w and upper > lo then i = i - 1 end
    return i
  end
  local function count_for(w, upper) return last_of(w, upper) - floor(lo / w) + 1 end
  if count_for(width, top) > max_bins then
    local p95 = d[ceil(0.95 * n)]
    if p95 < hi then top = p95 end
    while count_for(width, top) > max_bins do width = step_up(width * 1.000001) end
  end
  local first = floor(lo / width)
  local last = last_of(width, top)
  if top < hi then last = floor(top / width) end -- the overflow bin starts past p95
  local bins = {}
  for i = first, last do bins[#bins + 1] = { lo = i * width, hi = (i + 1) * width, count = 0 } end
  local cut = (last + 1) * width
  for _, v in ipairs(d) do
    if top < hi and v >= cut then
      overflow = overflow or { lo = cut, count = 0 }
      overflow.count = overflow.count + 1
    else
      local i = floor(v / width) - first + 1
      if i > #bins then i = #bins end -- the maximum, on the last edge
      bins[i].count = bins[i].count + 1
    end
  end
  return { width = width, bins = bins, overflow = overflow, n = n }
end

--- The largest nice width at or below x (x > 0), for a `step` function
-- that gives the smallest nice width at or above its argument.
---@param x number
---@param step_up function? default scale.nice_up
---@return number
function M.nice_down(x, step_up)
  step_up = step_up or scale.nice_up
  local up = step_up(x)
  if up <= x * (1 + 1e-12) then return up end
  local best
  for _, f in ipairs({ 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1 }) do
    local c = step_up(x * f)
    if c <= x * (1 + 1e-12) and (not best or c > best) then best = c end
  end
  return best or up
end

------------------------------------------------------------------------------
-- Audience retention: which parts of the video each session watched.

local function position(v)
  if format.finite(v) then return v end
  return nil
end

--- What `watched` returns.
-- @table Watched
---@class apivideo.chart.Watched
---@field played boolean the session emitted a `play` event
---@field segments number[][] the positions watched, `{ from, to }` in seconds, sorted, merged, disjoint

--- The parts of the video one session watched, from its events in the
-- order they were emitted (`{ type =, at =, from =, to = }`, as
-- list_session_events gives them; other fields are ignored).
--
-- Playing starts at the `at` of a `play` or `resume` and stops at the `at`
-- of a `pause` or an `end`; a `seek.forward` or `seek.backward` while
-- playing stops at its `from` and goes on at its `to`. What was played after
-- the last event is not known and not counted. A position that is missing
-- or not a number ends the stretch it would close (and a seek without `to`
-- stops playing until the next `play` or `resume`); stretches of no length
-- or backwards are dropped. A part watched twice counts once.
---@param events table[]
---@return apivideo.chart.Watched
function M.watched(events)
  if type(events) ~= "table" then error("apivideo.chart.stats.watched: array of events expected", 2) end
  local segs, playing, start, played = {}, false, nil, false
  local function close(p)
    if playing and start and p and p > start then segs[#segs + 1] = { start, p } end
  end
  for _, e in ipairs(events) do
    local t = type(e) == "table" and e.type or nil
    if t == "play" or t == "resume" then
      if t == "play" then played = true end
      local at = position(e.at)
      close(at)
      playing, start = at ~= nil, at
    elseif t == "pause" or t == "end" then
      close(position(e.at))
      playing, start = false, nil
    elseif t == "seek.forward" or t == "seek.backward" then
      if playing then
        close(position(e.from))
        start = position(e.to)
        playing = start ~= nil
      end
    end
  end
  table.sort(segs, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local merged = {}
  for _, s in ipairs(segs) do
    local m = merged[#merged]
    if m and s[1] <= m[2] then
      if s[2] > m[2] then m[2] = s[2] end
    else
      merged[#merged + 1] = { s[1], s[2] }
    end
  end
  return { played = played, segments = merged }
end

--- One step of a retention curve: from `position` (seconds into the video)
-- to the next step's, `count` sessions were watching.
-- @table RetentionStep
---@class apivideo.chart.RetentionStep
---@field position number
---@field count integer

--- What `retention` returns.
-- @table Retention
---@class apivideo.chart.Retention
---@field sessions integer the sessions that played (the 100 %)
---@field steps apivideo.chart.RetentionStep[] from position 0, ascending; the last has count 0

--- Audience retention: at each position of the video, how many of the
-- sessions that played (a `play` event) watched it. `sessions` is an array
-- of `watched` results, or of event arrays (then `watched` is applied to
-- each). The curve is a step function: `steps[i].count` sessions watched
-- every position from `steps[i].position` up to `steps[i + 1].position`;
-- it starts at position 0 and ends with a count of 0 where the last
-- session stopped. No session that played: `{ sessions = 0, steps = {} }`.
---@param sessions table[]
---@return apivideo.chart.Retention
function M.retention(sessions)
  if type(sessions) ~= "table" then error("apivideo.chart.stats.retention: array of sessions expected", 2) end
  local n, delta, positions = 0, {}, {}
  for _, s in ipairs(sessions) do
    local w = s
    if type(s) ~= "table" or s.segments == nil then w = M.watched(s) end
    if w.played then
      n = n + 1
      for _, seg in ipairs(w.segments) do
        for k, p in ipairs(seg) do
          if delta[p] == nil then
            delta[p] = 0
            positions[#positions + 1] = p
          end
          delta[p] = delta[p] + (k == 1 and 1 or -1)
        end
      end
    end
  end
  if n == 0 then return { sessions = 0, steps = {} } end
  table.sort(positions)
  local steps, count = {}, 0
  if positions[1] == nil or positions[1] > 0 then steps[1] = { position = 0, count = 0 } end
  for _, p in ipairs(positions) do
    count = count + delta[p]
    local last = steps[#steps]
    if last and last.position == p then
      last.count = count
    elseif not last or last.count ~= count then
      steps[#steps + 1] = { position = p, count = count }
    end
  end
  return { sessions = n, steps = steps }
end

-- Bucket intervals of time series, shortest first.
M.BUCKETS = {
  { unit = "minute", step = 1, name = "minute" }, { unit = "minute", step = 5, name = "5 minutes" },
  { unit = "minute", step = 15, name = "15 minutes" }, { unit = "hour", step = 1, name = "hour" },
  { unit = "hour", step = 3, name = "3 hours" }, { unit = "hour", step = 6, name = "6 hours" },
  { unit = "hour", step = 12, name = "12 hours" }, { unit = "day", step = 1, name = "day" },
  { unit = "week", step = 1, name = "week" }, { unit = "month", step = 1, name = "month" },
  { unit = "year", step = 1, name = "year" },
}

--- The bucket interval for a span of time.
-- It is the shortest of 1, 5, 15 min, 1, 3, 6,
-- 12 h, 1 day, 1 week (Monday), 1 month, 1 year that gives at most
-- `max_buckets` (default 60) calendar-aligned buckets over [from, to).
---@param from number
---@param to number
---@param max_buckets integer?
---@return table interval { unit=, step=, name= }
function M.bucket_interval(from, to, max_buckets)
  max_buckets = max_buckets or 60
  for _, iv in ipairs(M.BUCKETS) do
    local t, count = calendar.floor(from, iv), 0
    while t < to and count <= max_buckets do
      t = calendar.add(t, iv)
      count = count + 1
    end
    if count <= max_buckets then return iv end
  end
  return M.BUCKETS[#M.BUCKETS]
end

--- One time bucket.
-- @table Point
---@class apivideo.chart.Point
---@field t number the bucket's start
---@field t_end number the bucket's end (exclusive)
---@field value number

--- What `buckets` returns.
-- @table Buckets
---@class apivideo.chart.Buckets
---@field interval table { unit=, step=, name= }
---@field points apivideo.chart.Point[] every bucket over [from, to), the empty ones included
---@field outside integer times before `from` or at/after `to` (not counted)

--- Counts times (seconds since the epoch) per calendar bucket (UTC).
-- The buckets cover [from, to) (default: from the earliest to just past the latest time),
-- with the interval of `bucket_interval` unless `opts.interval` is given.
---@param times number[]
---@param opts table? `from`, `to`, `interval`, `max_buckets`
---@return apivideo.chart.Buckets
function M.buckets(times, opts)
  opts = opts or {}
  local d = sorted(times, "apivideo.chart.stats.buckets")
  local from, to = opts.from, opts.to
  if not from then from = d[1] or 0 end
  if not to then to = (d[#d] or from) + 1 end
  if not (format.finite(from) and format.finite(to)) or to <= from then
    error("apivideo.chart.stats.buckets: 'from' must be before 'to'", 2)
  end
  local iv = opts.interval or M.bucket_interval(from, to, opts.max_buckets)
  local points, t = {}, calendar.floor(from, iv)
  while t < to do
    local nxt = calendar.add(t, iv)
    points[#points + 1] = { t = t, t_end = nxt, value = 0 }
    t = nxt
  end
  local outside, j = 0, 1
  for _, v in ipairs(d) do
    if v < from or v >= to then
      outside = outside + 1
    else
      while points[j].t_end <= v do j = j + 1 end
      points[j].value = points[j].value + 1
    end
  end
  return { interval = iv, points = points, outside = outside }
end

return M
