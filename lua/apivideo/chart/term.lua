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
--
-- `columns` draws a time series as vertical bars, one per bucket, over a
-- value axis (ticks of apivideo.chart.scale, one number format) and time
-- labels that never overlap:
--
--     io.write(term.columns({ { t = 1701734400, value = 3 }, ... }, { width = 60 }))
-- @module apivideo.chart.term
local calendar = require("apivideo.chart.calendar")
local format = require("apivideo.chart.format")
local plot = require("apivideo.chart.plot")
local scale = require("apivideo.chart.scale")
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
-- a third of the width, or 40 without width), `value_text` (a function
-- value -> text; default format.integer), `shares` (false: no share column).
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
    values[i] = opts.value_text and opts.value_text(r.value) or format.integer(r.value, opts.sep)
    shares[i] = opts.shares == false and "" or format.percent(total > 0 and r.value / total or nil)
    lw = math.max(lw, text.width(labels[i]))
    vw = math.max(vw, text.width(values[i]))
    sw = math.max(sw, text.width(shares[i]))
    max = math.max(max, r.value)
  end
  local share_cols = opts.shares == false and 0 or sw + 2
  local cols = width and (width - lw - vw - share_cols - 4) or 0
  local out = {}
  for i, r in ipairs(list) do
    local line = text.pad(labels[i], lw) .. "  "
    if cols >= 4 then line = line .. text.pad(M.bar(r.value, max, cols), cols) .. "  " end
    line = line .. text.pad(values[i], vw, true)
    if opts.shares ~= false then line = line .. "  " .. text.pad(shares[i], sw, true) end
    out[i] = line .. "\n"
  end
  return table.concat(out)
end

-- A time series as columns: the lower blocks, one to eight eighths of a cell's height.
M.LOWER = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

--- What `columns` prints for a series with no point.
M.EMPTY = "no data in this window\n"

-- The label of time t under a column, and its context (the day under
-- times of day, the year under days), for buckets `step` seconds long.
local function time_label(t, step)
  local f = calendar.fields(t)
  local day = f.day .. " " .. calendar.MONTHS[f.month]
  if step < 86400 then return string.format("%02d:%02d", f.hour, f.min), day end
  return day, tostring(f.year)
end

-- Lays labels on a line `n` columns wide: each { at = column (0-based),
-- text = }, in order; a label is left out when it would touch the one
-- before it (one space at least between two) or pass the end. Returns the
-- line and the labels laid.
local function label_line(labels, n)
  local line, laid, used = {}, {}, 0
  for _, l in ipairs(labels) do
    local w = text.width(l.text)
    if (used == 0 and l.at >= 0 or l.at > used) and l.at + w <= n then
      line[#line + 1] = string.rep(" ", l.at - used) .. l.text
      laid[#laid + 1] = l
      used = l.at + w
    end
  end
  return table.concat(line), laid
end

--- A time series as vertical bars, one per point, as lines of text (each
-- ending with "\n"); M.EMPTY for no point.
-- points: array of { t = seconds since the epoch (UTC), value = number }
-- (sorted here by t). opts: `width` (columns of the whole chart, default
-- 80), `height` (rows of bars, default 10), `step` (the buckets' length in
-- seconds; default the shortest gap between two points, else a day), `sep`
-- (digit group separator).
--
-- The value axis starts at 0; its ticks come from apivideo.chart.scale and
-- are written in one format (apivideo.chart.format.ticks); when every
-- value is a whole number (a count) the ticks are whole numbers too. Ticks
-- are at least two rows apart. When there are more points than columns,
-- each column shows the largest value of `k` consecutive points, and the
-- last line says so ("(each column: the largest of 2 points)"). Times are labelled in UTC under the columns where
-- they fit, never touching; the line under them gives the day (or year)
-- at the first label and wherever it changes.
---@param points table
---@param opts table?
---@return string
function M.columns(points, opts)
  opts = opts or {}
  local width, height = opts.width or 80, opts.height or 10
  if type(width) ~= "number" or width < 1 or width ~= math.floor(width) then
    error("apivideo.chart.term.columns: opts.width must be a positive integer, got " .. tostring(width), 2)
  end
  local list = {}
  for _, p in ipairs(points) do
    if format.finite(p.t) and format.finite(p.value) then list[#list + 1] = { t = p.t, value = p.value } end
  end
  if #list == 0 then return M.EMPTY end
  table.sort(list, function(a, b) return a.t < b.t end)
  local step = opts.step
  if not step then
    for i = 2, #list do
      local d = list[i].t - list[i - 1].t
      if d > 0 and (not step or d < step) then step = d end
    end
    step = step or 86400
  end
  local top, whole = 0, true
  for _, p in ipairs(list) do
    top = math.max(top, p.value)
    if p.value ~= math.floor(p.value) then whole = false end
  end
  -- the value axis: about one tick per 3 rows, whole steps for counts
  local nice = whole and function(x) return math.max(1, scale.nice_step(x)) end or nil
  local ys = scale.linear({ domain = { 0, math.max(top, 0) }, range = { 0, height },
    ticks = math.max(1, math.floor(height / 3)), zero = true, step = nice })
  local labels = ys.labels(opts.sep)
  local tick_at, lw = {}, 0
  local last_row
  for i, t in ipairs(ys.ticks) do
    local row = math.floor(ys.map(t) + 0.5)
    if row >= 0 and row <= height and (not last_row or row - last_row >= 2) then
      tick_at[row] = labels[i]
      last_row = row
      lw = math.max(lw, text.width(labels[i]))
    end
  end
  local hi = ys.domain[2]
  -- the columns: one per point, or the largest of k points per column
  local plot_w = math.max(1, width - lw - 2)
  local k = math.max(1, math.ceil(#list / plot_w))
  local cols = {}
  for i = 1, #list, k do
    local c = { t = list[i].t, value = list[i].value }
    for j = i + 1, math.min(i + k - 1, #list) do c.value = math.max(c.value, list[j].value) end
    cols[#cols + 1] = c
  end
  local cw = math.max(1, math.floor(plot_w / #cols))
  local bw = cw >= 3 and cw - 1 or cw
  local used = cw * #cols
  local out = {}
  for row = height, 1, -1 do
    local cells = {}
    for i, c in ipairs(cols) do
      local eighths = hi > 0 and c.value > 0 and math.max(1, math.floor(c.value / hi * height * 8 + 0.5)) or 0
      local fill = math.max(0, math.min(8, eighths - (row - 1) * 8))
      cells[i] = (fill > 0 and M.LOWER[fill] or " "):rep(bw) .. (" "):rep(cw - bw)
    end
    local axis = tick_at[row] and "┤" or "│"
    out[#out + 1] = (text.pad(tick_at[row] or "", lw, true) .. " " .. axis .. table.concat(cells)):gsub("%s+$", "")
      .. "\n"
  end
  out[#out + 1] = text.pad(tick_at[0] or "0", lw, true) .. " └" .. ("─"):rep(used) .. "\n"
  -- the time labels, then their context where it changes
  local main, sub, prev = {}, {}, nil
  for i, c in ipairs(cols) do
    local m, ctx = time_label(c.t, step)
    main[i] = { at = (i - 1) * cw, text = m, ctx = ctx }
  end
  local pad = (" "):rep(lw + 2)
  local line, laid = label_line(main, used)
  out[#out + 1] = pad .. line .. "\n"
  for _, l in ipairs(laid) do
    if l.ctx ~= prev then sub[#sub + 1] = { at = l.at, text = l.ctx } end
    prev = l.ctx
  end
  out[#out + 1] = (pad .. label_line(sub, used)):gsub("%s+$", "") .. "\n"
  if k > 1 then
    out[#out + 1] = text.truncate(string.format("(each column: the largest of %d points)", k), width) .. "\n"
  end
  return table.concat(out)
end

return M
