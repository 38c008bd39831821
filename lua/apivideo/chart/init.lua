--- A small SVG chart library (pure Lua, no I/O): scales, number formats,
-- statistics, charts, terminal bars.
--
--     local chart = require("apivideo.chart")
--     local svg = chart.bars({ { "FR", 812 }, { "US", 301 } }, { id = "country", title = "Country" })
--     io.write(chart.term.bars(rows, { width = 80 }))
--
-- The modules, each usable on its own:
--
-- * apivideo.chart.text: API strings made valid, visible UTF-8
-- * apivideo.chart.markup: SVG/HTML building where every string is escaped
-- * apivideo.chart.format: numbers, percentages, durations for people
-- * apivideo.chart.calendar: UTC calendar arithmetic
-- * apivideo.chart.scale: linear and time scales with readable ticks
-- * apivideo.chart.stats: quantiles, histogram bins, time buckets
-- * apivideo.chart.plot: time series, bars, histogram, funnel (SVG)
-- * apivideo.chart.term: ranked rows as Unicode bars or plain columns
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
