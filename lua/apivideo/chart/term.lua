--- Ranked rows as text: horizontal bars of Unicode blocks for a terminal,
-- plain aligned columns otherwise.
--
--     local term = require("apivideo.chart.term")
--     io.write(term.bars({ { "FR", 812 }, { "US", 301 } }, { width = 60 }))
--     -- FR  ████████████████████████████████▉    812  73%
--     -- US  ████████████▏                        301  27%
--
-- The caller decides what the output is: `width` (the terminal's columns)
-- draws bars; no width gives the plain columns (label, value, share), for
-- pipes and files. Labels are cleaned (apivideo.chart.text.clean): an
-- escape sequence in an API value prints as "␛[...", never reaches the
-- terminal as one.
-- @module apivideo.chart.term
local format = require("apivideo.chart.format")
local plot = require("apivideo.chart.plot")
local text = require("apivideo.chart.text")

local M = {}

-- The partial blocks, one to seven eighths, and the full block.
M.EIGHTHS = { "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█" }

--- A bar of `value / max * cols` columns, in eighths of a column (rounded
-- to the nearest eighth; a non-zero value gets at least one eighth).
---@param value number
---@param max number
---@param cols integer
---@return string
function M.bar(value, max, cols)
  if max <= 0 or value <= 0 or cols <= 0 then return "" end
  local eighths = math.floor(value / max * cols * 8 + 0.5)
  if eighths < 1 then eighths = 1 end
  local full, part = math.floor(eighths / 8), eighths % 8
  return M.EIGHTHS[8]:rep(full) .. (part > 0 and M.EIGHTHS[part] or "")
end

--- Ranked rows as lines of text (each ending with "\n").
-- rows: array of {label, value} or {label=, value=}; they are sorted (largest
-- first) and cut to `top` + one "other" row (apivideo.chart.plot.ranked).
-- opts: `width` (columns of the whole line: draws bars; nil: plain columns),
-- `top` (default 8), `total` (the denominator of the shares; default the
-- sum), `sep` (digit group separator, default " "), `max_label` (default:
-- a third of the width, or 40 without width).
-- Each line: the label padded, [the bar padded,] the value right-aligned,
-- the share right-aligned. When the width leaves fewer than 4 columns for
-- the bar, no bar is drawn.
---@param rows table
---@param opts table?
---@return string
function M.bars(rows, opts)
  opts = opts or {}
  local width = opts.width
  if width ~= nil and (type(width) ~= "number" or width < 1 or width ~= math.floor(width)) then
    error("apivideo.chart.term.bars: opts.width must be a positive integer or nil, got " .. tostring(width), 2)
  end
  local list, sum = plot.ranked(rows, opts.top)
  local total = opts.total or sum
  if #list == 0 then return "" end
  local max_label = opts.max_label or (width and math.max(8, math.floor(width / 3)) or 40)
  local labels, values, shares = {}, {}, {}
  local lw, vw, sw, max = 0, 0, 0, 0
  for i, r in ipairs(list) do
    labels[i] = text.truncate(r.label, max_label)
    values[i] = format.integer(r.value, opts.sep)
    shares[i] = format.percent(total > 0 and r.value / total or nil)
    lw = math.max(lw, text.width(labels[i]))
    vw = math.max(vw, text.width(values[i]))
    sw = math.max(sw, text.width(shares[i]))
    max = math.max(max, r.value)
  end
  local cols = width and (width - lw - vw - sw - 6) or 0
  local out = {}
  for i, r in ipairs(list) do
    local line = text.pad(labels[i], lw) .. "  "
    if cols >= 4 then line = line .. text.pad(M.bar(r.value, max, cols), cols) .. "  " end
    out[i] = line .. text.pad(values[i], vw, true) .. "  " .. text.pad(shares[i], sw, true) .. "\n"
  end
  return table.concat(out)
end

return M
