--- A small SVG chart library (pure Lua, no I/O): scales, number formats,
-- statistics, charts, terminal bars.
--
--     local chart = require("apivideo.chart")
--     local svg = chart.bars({ { "FR", 812 }, { "US", 301 } }, { id = "country", title = "Country" })
--     io.write(chart.term.bars(rows, { width = 80 }))
--
-- The modules, each usable on its own, and fields of this one
-- (`chart.plot`, `chart.term`...):
--
-- * [apivideo.chart.text](apivideo.chart.text.html): API strings made valid, visible UTF-8
-- * [apivideo.chart.markup](apivideo.chart.markup.html): SVG/HTML building where every string is escaped
-- * [apivideo.chart.format](apivideo.chart.format.html): numbers, percentages, durations for people
-- * [apivideo.chart.calendar](apivideo.chart.calendar.html): UTC calendar arithmetic
-- * [apivideo.chart.scale](apivideo.chart.scale.html): linear and time scales with readable ticks
-- * [apivideo.chart.stats](apivideo.chart.stats.html): quantiles, histogram bins, time buckets
-- * [apivideo.chart.plot](apivideo.chart.plot.html): time series, bars, histogram, funnel (SVG)
-- * [apivideo.chart.term](apivideo.chart.term.html): ranked rows as Unicode bars or plain columns
--
-- Shortcuts: `chart.time_series`, `chart.bars`, `chart.histogram`,
-- `chart.funnel` and `chart.ranked` are the functions of
-- `apivideo.chart.plot`; `chart.escape` is `apivideo.chart.markup.escape`.
-- Times are seconds since the epoch, and every time is shown in UTC.
-- @module apivideo.chart
local plot = require("apivideo.chart.plot")

local M = {
  text = require("apivideo.chart.text"),
  markup = require("apivideo.chart.markup"),
  format = require("apivideo.chart.format"),
  calendar = require("apivideo.chart.calendar"),
  scale = require("apivideo.chart.scale"),
  stats = require("apivideo.chart.stats"),
  plot = plot,
  term = require("apivideo.chart.term"),
}

M.escape = M.markup.escape
M.time_series = plot.time_series
M.bars = plot.bars
M.histogram = plot.histogram
M.funnel = plot.funnel
M.ranked = plot.ranked

return M
