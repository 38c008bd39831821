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
-- The rule: the Freedman-Diaconis width 2 IQR n^(-1/3) (IQR by linear
-- interpolation), rounded up to a nice width (`opts.step`, default 1, 2 or
-- 5 x 10^k; scale.duration_step for durations); when the IQR is 0, Sturges'
-- ceil(log2 n) + 1 bins over the range; when all values are equal, one bin
-- of a nice width holding them. Bins start at a multiple of the width at or
-- below the minimum. When that makes more than `opts.max_bins` (default
-- 40), the bins stop at the 95th percentile (nearest rank) and the values
-- beyond go to one open-ended overflow bin; if still too many, the width
-- grows to the next nice width until they fit.
---@param values number[]
---@param opts table? `step` (function x -> nice width >= x), `max_bins`
---@return apivideo.chart.Bins
function M.bins(values, opts)
  opts = opts or {}
  local d = sorted(values, "apivideo.chart.stats.bins")
  local n = #d
  local step_up = opts.step or scale.nice_up
  local max_bins = opts.max_bins or 40
  if n == 0 then return { width = 1, bins = {}, n = 0 } end
  local lo, hi = d[1], d[n]
  local width
  if lo == hi then
    width = step_up(math.max(math.abs(lo) * 0.1, 1e-9))
    if lo == 0 then width = step_up(1) end
  else
    local iqr = quantile7(d, 0.75) - quantile7(d, 0.25)
    local raw = 2 * iqr * n ^ (-1 / 3)
    if raw <= 0 then raw = (hi - lo) / (ceil(math.log(n) / math.log(2)) + 1) end
    width = step_up(raw)
  end
  local top, overflow = hi, nil
  local function count_for(w, upper) return floor(upper / w) - floor(lo / w) + 1 end
  if count_for(width, top) > max_bins then
    local p95 = d[ceil(0.95 * n)]
    if p95 < hi then top = p95 end
    while count_for(width, top) > max_bins do width = step_up(width * 1.000001) end
  end
  local first = floor(lo / width)
  local last = floor(top / width)
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
