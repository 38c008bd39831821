--- The SVG charts: time series, ranked bars, histogram, funnel.
--
-- Each function returns one `<svg>` element as a string, standalone (it has
-- `xmlns`, a `viewBox`, `width`/`height` in user units, a `<title>` and a
-- `<desc>`) and ready to inline in HTML, where CSS `width:100%; max-width:
-- 100%; height:auto` scales it. Every string that reaches the output went
-- through apivideo.chart.markup (escaped text or attribute values).
--
-- Colours are from the Okabe-Ito palette (distinguishable with the common
-- colour-vision deficiencies), and nothing is told by colour alone: every
-- bar carries its label and value as text, the "other" bar is also hatched,
-- the median and p90 markers differ in dash pattern and are labelled, extra
-- series differ in dash pattern and are labelled at their end.
--
-- The elements have classes tests and stylesheets can count on: `bar`
-- (`bar other` for the rest), `bin` (`bin overflow`), `marker median`,
-- `marker p90`, `point`, `line`, `area`, `step`, `rate`, `tick`.
-- @module apivideo.chart.plot
local calendar = require("apivideo.chart.calendar")
local format = require("apivideo.chart.format")
local markup = require("apivideo.chart.markup")
local scale = require("apivideo.chart.scale")
local stats = require("apivideo.chart.stats")
local text = require("apivideo.chart.text")

local el = markup.el

local M = {}

-- The Okabe-Ito colours used.
M.COLORS = {
  blue = "#0072B2", sky = "#56B4E9", vermillion = "#D55E00", orange = "#E69F00",
  green = "#009E73", purple = "#CC79A7", black = "#000000", grey = "#6E6E6E",
}
local C = M.COLORS
local SERIES = { { C.blue, nil }, { C.orange, "6 3" }, { C.green, "2 3" }, { C.purple, "8 3 2 3" } }

local FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
local WIDTH = 420
local SIZE = 13 -- the font size of labels, in user units

local function fail(fname, msg) error("apivideo.chart." .. fname .. ": " .. msg, 3) end

-- An id prefix for the ids inside one chart (unique per document).
local function chart_id(fname, id)
  id = id or "chart"
  if type(id) ~= "string" or not id:match("^%a[%w%-]*$") then
    fail(fname, "opts.id must match [A-Za-z][A-Za-z0-9-]*, got " .. tostring(id))
  end
  return id
end

local function root(id, w, h, title, desc, ...)
  return markup.render(el("svg", {
    "xmlns", "http://www.w3.org/2000/svg", "viewBox", "0 0 " .. markup.num(w) .. " " .. markup.num(h),
    "width", w, "height", h, "role", "img", "aria-labelledby", id .. "-title " .. id .. "-desc",
    "class", "chart", "id", id, "font-family", FONT, "font-size", SIZE, "fill", "#1a1a1a",
  }, el("title", { "id", id .. "-title" }, title), el("desc", { "id", id .. "-desc" }, desc), ...))
end

local function hatch(id)
  return el("defs", nil, el("pattern", { "id", id .. "-hatch", "width", 6, "height", 6,
    "patternUnits", "userSpaceOnUse", "patternTransform", "rotate(45)" },
    el("rect", { "width", 6, "height", 6, "fill", "#D9D9D9" }),
    el("line", { "x1", 0, "y1", 0, "x2", 0, "y2", 6, "stroke", "#4D4D4D", "stroke-width", 2 })))
end

-- A clip path for the label column [0, width): a label the truncation
-- estimate let through too wide (wide glyphs) is cut, not drawn outside.
local function label_clip(id, width, height)
  return el("clipPath", { "id", id .. "-labels" }, el("rect", { "x", 0, "y", 0, "width", width, "height", height }))
end

local function empty(id, title, message)
  return root(id, WIDTH, 60, title, message,
    el("text", { "x", WIDTH / 2, "y", 34, "text-anchor", "middle", "class", "empty" }, message))
end

-- {label, value} or {label=, value=} rows: checked, labels cleaned.
local function rows_of(fname, rows)
  if type(rows) ~= "table" then fail(fname, "rows must be an array, got " .. type(rows)) end
  local out = {}
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then fail(fname, "row " .. i .. " must be a table") end
    local label, value = r.label, r.value
    if label == nil and value == nil then label, value = r[1], r[2] end
    if label == nil then label = "(unknown)" end
    if type(label) ~= "string" and type(label) ~= "number" then
      fail(fname, "row " .. i .. ": label must be a string, got " .. type(label))
    end
    if not format.finite(value) or value < 0 then
      fail(fname, "row " .. i .. ": value must be a finite number >= 0, got " .. tostring(value))
    end
    out[i] = { label = text.clean(label), value = value }
  end
  return out
end

--- Rows sorted by value (largest first, then label), the first `top` kept
-- and the rest summed into one row `{ label = "other (K more)", value =,
-- other = true, count = K }`. Used by `bars` and by the terminal bars.
---@param rows table array of {label, value} or {label=, value=}
---@param top integer? rows to keep (default 8; the "other" row comes on top)
---@return table rows
---@return number total the sum of all values
function M.ranked(rows, top)
  local list = rows_of("ranked", rows)
  table.sort(list, function(a, b)
    if a.value ~= b.value then return a.value > b.value end
    return a.label < b.label
  end)
  top = top or 8
  local total = 0
  for _, r in ipairs(list) do total = total + r.value end
  if #list <= top then return list, total end
  local kept, rest = {}, 0
  for i = 1, top do kept[i] = list[i] end
  for i = top + 1, #list do rest = rest + list[i].value end
  local k = #list - top
  kept[top + 1] = { label = "other (" .. k .. " more)", value = rest, other = true, count = k }
  return kept, total
end

--- Horizontal bars, largest first, top N + "other".
-- opts: `id` (unique per document; default "chart"), `title`, `top`
-- (default 8), `total` (the denominator of the shares; default the sum of
-- the values), `value_label` (what the values count, e.g. "sessions"),
-- `sep` (digit group separator), `urls` (true: the labels are URLs, shown
-- without their scheme and cut in the middle; whole in each bar's title).
---@param rows table array of {label, value} or {label=, value=}
---@param opts table?
---@return string svg
function M.bars(rows, opts)
  opts = opts or {}
  local id = chart_id("bars", opts.id)
  local title = opts.title or "Bars"
  local list, sum = M.ranked(rows, opts.top)
  local total = opts.total or sum
  local what = opts.value_label or "count"
  if #list == 0 or sum == 0 then return empty(id, title, "No data") end
  local label_w, gap, value_w, row_h, bar_h, top_m = opts.urls and 180 or 136, 6, 96, 24, 16, 6
  local x0 = label_w + gap
  local bar_max = WIDTH - x0 - value_w
  local max = 0
  for _, r in ipairs(list) do max = math.max(max, r.value) end
  local h = top_m + #list * row_h + 30
  local children = { hatch(id), el("defs", nil, label_clip(id, label_w + 1, h)) }
  local values = {}
  for i, r in ipairs(list) do values[i] = r.value end
  local fmt = format.scaled(values, opts.sep) -- one unit for every bar
  for i, r in ipairs(list) do
    local y = top_m + (i - 1) * row_h
    local wbar = max > 0 and r.value / max * bar_max or 0
    if r.value > 0 and wbar < 1 then wbar = 1 end -- a non-zero value stays visible
    local share = total > 0 and r.value / total or nil
    local value_text = fmt(r.value) .. " · " .. format.percent(share)
    local shown
    if opts.urls and not r.other then -- the scheme says nothing; the end tells URLs apart
      shown = text.fit_middle((r.label:gsub("^%a[%w+.-]*://", ""):gsub("^www%.", "")), label_w / SIZE)
    else
      shown = text.fit(r.label, label_w / SIZE)
    end
    children[#children + 1] = el("g", { "class", r.other and "row other" or "row" },
      el("title", nil, r.label .. ": " .. format.integer(r.value, opts.sep) .. " " .. what
        .. " (" .. format.percent(share) .. ")"),
      el("text", { "x", label_w, "y", y + bar_h / 2 + 4, "text-anchor", "end", "class", "label",
        "clip-path", "url(#" .. id .. "-labels)" }, shown),
      el("rect", { "x", x0, "y", y, "width", wbar, "height", bar_h, "class", r.other and "bar other" or "bar",
        "fill", r.other and "url(#" .. id .. "-hatch)" or C.blue, "stroke", r.other and "#4D4D4D" or nil }),
      el("text", { "x", x0 + wbar + 4, "y", y + bar_h / 2 + 4, "class", "value" }, value_text))
  end
  local base_y = top_m + #list * row_h - (row_h - bar_h)
  children[#children + 1] = el("line", { "x1", x0, "y1", top_m - 2, "x2", x0, "y2", base_y + 2,
    "stroke", "#1a1a1a", "class", "axis" })
  children[#children + 1] = el("text", { "x", x0, "y", h - 8, "class", "axis-title", "font-size", 12 },
    what .. " (share of " .. format.integer(total, opts.sep) .. ")")
  local desc = title .. ": " .. #list .. " bars, largest first"
  return root(id, WIDTH, h, title, desc, children)
end

--- A tick step for counts: a nice step of at least 1 (counts are ticked
-- 0, 1, 2 ..., never 0, 0.2, 0.4).
---@param x number
---@return number
function M.count_step(x) return math.max(1, scale.nice_step(x)) end

-- Axes of an x/y plot: y ticks with grid lines, x ticks (with an optional
-- second line), axis titles.
local function axes(box, y, xticks, opts)
  local out = {}
  local ylabels = y.labels(opts.sep)
  for i, t in ipairs(y.ticks) do
    local py = y.map(t)
    out[#out + 1] = el("g", { "class", "tick y" },
      el("line", { "x1", box.x0, "y1", py, "x2", box.x1, "y2", py, "stroke", t == 0 and "#1a1a1a" or "#D0D0D0" }),
      el("text", { "x", box.x0 - 5, "y", py + 4, "text-anchor", "end" }, ylabels[i]))
  end
  for _, t in ipairs(xticks) do
    -- a label at either end of the axis is anchored inside the chart
    t.anchor = t.x < box.x0 + 20 and "start" or t.x > box.x1 - 20 and "end" or nil
    out[#out + 1] = el("g", { "class", "tick x" },
      el("line", { "x1", t.x, "y1", box.y1, "x2", t.x, "y2", box.y1 + 4, "stroke", "#1a1a1a" }),
      el("text", { "x", t.x, "y", box.y1 + 16, "text-anchor", t.anchor or "middle" }, t.label),
      t.sub and el("text", { "x", t.x, "y", box.y1 + 29, "text-anchor", t.anchor or "middle",
        "class", "sub", "font-size", 12 }, t.sub) or nil)
  end
  out[#out + 1] = el("text", { "x", (box.x0 + box.x1) / 2, "y", box.h - 4, "text-anchor", "middle",
    "class", "axis-title", "font-size", 12 }, opts.x_label)
  out[#out + 1] = el("text", { "x", 0, "y", 0, "transform", "translate(11 " .. markup.num((box.y0 + box.y1) / 2)
    .. ") rotate(-90)", "text-anchor", "middle", "class", "axis-title", "font-size", 12 }, opts.y_label)
  return out
end

-- Points of a series: checked; the x of a point is its bucket's middle.
local function points_of(s, i)
  if type(s) ~= "table" or type(s.points) ~= "table" then
    fail("time_series", "series " .. i .. " must be a table with an array 'points'")
  end
  for j, p in ipairs(s.points) do
    if type(p) ~= "table" or not format.finite(p.t) or not format.finite(p.value)
      or (p.t_end ~= nil and not (format.finite(p.t_end) and p.t_end >= p.t)) then
      fail("time_series", "series " .. i .. ", point " .. j .. " must be { t = number, value = number"
        .. " [, t_end = number >= t] }")
    end
  end
  return s.points
end

-- calendar.stamp, with the zone's name in place of UTC (zone_name: see time_series).
local function zoned_stamp(t, zone_name)
  local s = calendar.stamp(t)
  if zone_name then s = s:gsub(" UTC$", " " .. zone_name) end
  return s
end

--- A time series: one line (with the area under it when it is alone) per
-- series, a point per bucket drawn at the bucket's middle, a UTC time axis.
-- `series` is an array of `{ label = "sessions", points = { { t =, t_end =,
-- value = }, ... } }` (stats.buckets gives such points). A series with
-- `faint = true` (a previous period laid over the current one) is drawn thin,
-- grey and dashed, without the area or the points. With several series a
-- legend above the plot names them.
-- opts: `id`, `title`, `y_label` (default the first series' label),
-- `x_label` (default "Time (UTC)"), `interval_name` ("hour": said in the
-- description), `sep`, `zone_name` (the times are a zone's local times
-- shifted onto the epoch, as apivideo.report does for a time zone: the
-- description says "times in" that name instead of UTC).
---@param series table
---@param opts table?
---@return string svg
function M.time_series(series, opts)
  opts = opts or {}
  local id = chart_id("time_series", opts.id)
  local title = opts.title or "Over time"
  if type(series) ~= "table" then fail("time_series", "series must be an array") end
  local t0, t1, vmax, npoints, shown = math.huge, -math.huge, 0, 0, 0 -- (shown: of the series not faint)
  for i, s in ipairs(series) do
    for _, p in ipairs(points_of(s, i)) do
      t0 = math.min(t0, p.t)
      t1 = math.max(t1, p.t_end or p.t)
      vmax = math.max(vmax, p.value)
      npoints = npoints + 1
      if not s.faint then shown = shown + 1 end
    end
  end
  if npoints == 0 or vmax == 0 then return empty(id, title, "No data") end
  local integer = opts.integer
  if integer == nil then -- counts: every value an integer
    integer = true
    for _, s in ipairs(series) do
      for _, p in ipairs(s.points) do
        if p.value ~= math.floor(p.value) then integer = false end
      end
    end
  end
  local h = 230
  local box = { x0 = 50, x1 = WIDTH - 14, y0 = #series > 1 and 28 or 14, y1 = h - 52, h = h }
  local x = scale.time({ domain = { t0, t1 }, range = { box.x0, box.x1 }, ticks = 5 })
  local y = scale.linear({ domain = { 0, vmax }, range = { box.y1, box.y0 }, ticks = 4, zero = true,
    step = integer and M.count_step or nil })
  local xticks = {}
  for i, t in ipairs(x.ticks) do
    local px = x.map(t.t)
    xticks[i] = { x = px, label = t.label, sub = t.sub }
  end
  local children = axes(box, y, xticks, {
    x_label = opts.x_label or "Time (UTC)", y_label = opts.y_label or tostring(series[1].label or "count"),
    sep = opts.sep })
  local solid = 0 -- series drawn in full (the others are faint: a previous period)
  for _, s in ipairs(series) do
    if not s.faint then solid = solid + 1 end
  end
  local legend = {}
  for i, s in ipairs(series) do
    local style = s.faint and { C.grey, "4 3" } or SERIES[(i - 1) % #SERIES + 1]
    local line, dots = {}, {}
    local pts = s.points
    for j, p in ipairs(pts) do
      local px = x.map(p.t_end and (p.t + p.t_end) / 2 or p.t)
      local py = y.map(p.value)
      line[j] = (j == 1 and "M" or "L") .. markup.num(px) .. " " .. markup.num(py)
      if not s.faint then
        dots[j] = el("circle", { "cx", px, "cy", py, "r", 2.5, "class", "point", "fill", style[1] },
          el("title", nil, (s.label and text.clean(s.label) .. ": " or "") .. format.integer(p.value, opts.sep)
            .. " at " .. calendar.stamp(p.t)))
      end
    end
    local d = table.concat(line, " ")
    if solid == 1 and not s.faint and #pts > 1 then
      local first = x.map(pts[1].t_end and (pts[1].t + pts[1].t_end) / 2 or pts[1].t)
      local last = x.map(pts[#pts].t_end and (pts[#pts].t + pts[#pts].t_end) / 2 or pts[#pts].t)
      children[#children + 1] = el("path", { "d", d .. " L" .. markup.num(last) .. " " .. markup.num(box.y1)
        .. " L" .. markup.num(first) .. " " .. markup.num(box.y1) .. " Z", "fill", style[1],
        "fill-opacity", 0.15, "class", "area" })
    end
    children[#children + 1] = el("path", { "d", d, "fill", "none", "stroke", style[1],
      "stroke-width", s.faint and 1.5 or 2, "stroke-opacity", s.faint and 0.7 or false,
      "stroke-dasharray", style[2] or false, "class", s.faint and "line faint" or "line" })
    if #dots > 0 then children[#children + 1] = el("g", { "class", "points" }, dots) end
    if #series > 1 then
      legend[#legend + 1] = { label = text.clean(s.label or ("series " .. i)), style = style, faint = s.faint }
    end
  end
  -- with several series, a legend above the plot (a swatch of each line and
  -- its label, left to right): never over the lines, never over each other
  local lx = box.x0
  for _, l in ipairs(legend) do
    if box.x1 - lx - 22 < 3 * SIZE then break end -- no room for another: the description names them all
    local label = text.fit(l.label, (box.x1 - lx - 22) / SIZE)
    children[#children + 1] = el("path", { "d", "M" .. markup.num(lx) .. " 9 L" .. markup.num(lx + 18) .. " 9",
      "stroke", l.style[1], "stroke-width", l.faint and 1.5 or 2, "stroke-dasharray", l.style[2] or false,
      "class", l.faint and "legend-line faint" or "legend-line" })
    children[#children + 1] = el("text", { "x", lx + 22, "y", 13, "class", "series-label", "fill", "#1a1a1a" },
      label)
    lx = lx + 22 + text.em_width(label) * SIZE + 16
  end
  local names = {}
  for i, l in ipairs(legend) do names[i] = l.label end
  local desc = title .. ": " .. shown .. " points"
    .. (#names > 0 and (" in " .. #names .. " series (" .. table.concat(names, "; ") .. ")") or "")
    .. (opts.interval_name and (", one per " .. opts.interval_name) or "") .. ", times in "
    .. (opts.zone_name or "UTC") .. ", from " .. zoned_stamp(t0, opts.zone_name) .. " to "
    .. zoned_stamp(t1, opts.zone_name)
  return root(id, WIDTH, h, title, desc, children)
end

-- Where marker labels go: above the plot, in rows (row 1 the highest),
-- each label beside its marker's line (right of it, or left), so that no
-- label overlaps another and no line crosses a label: a marker's line runs
-- from under its label down to the axis, through the rows below its own.
-- marks: array of { x =, width = (user units), line = false for a label
-- without a line (centred on x), prefer = "left"/"right" }. Every
-- combination is tried (there are two or three marks); the one with the
-- fewest rows, then the lowest rows, then the preferred sides wins. Returns,
-- per mark, { row =, side = "left"/"right"/"middle", x0 =, x1 = } and the
-- number of rows used (nil when nothing fits: the caller widens nothing, it
-- gets the lowest rows, labels clamped inside the chart). Widths are
-- estimates (apivideo.chart.text.em_width), hence the gaps.
local LABEL_GAP, LINE_GAP = 4, 3
function M.place_labels(marks, width, max_rows)
  max_rows = max_rows or 3
  local function box(m, side)
    if side == "right" then return m.x + LABEL_GAP, m.x + LABEL_GAP + m.width end
    if side == "left" then return m.x - LABEL_GAP - m.width, m.x - LABEL_GAP end
    return m.x - m.width / 2, m.x + m.width / 2
  end
  local function clash(m, p, q, o)
    if p.row == o.row and p.x0 < o.x1 + LABEL_GAP and p.x1 > o.x0 - LABEL_GAP then return true end
    -- a line passes through the rows below its label
    if o.row < p.row and q.line ~= false and q.x > p.x0 - LINE_GAP and q.x < p.x1 + LINE_GAP then return true end
    if o.row > p.row and m.line ~= false and m.x > o.x0 - LINE_GAP and m.x < o.x1 + LINE_GAP then return true end
    return false
  end
  local best, best_cost, chosen = nil, math.huge, {}
  local function try(i, cost, rows)
    if i > #marks then
      cost = cost + rows * 100
      if cost < best_cost then
        best_cost, best = cost, {}
        for k, c in ipairs(chosen) do best[k] = c end
      end
      return
    end
    local m = marks[i]
    local sides = m.line == false and { "middle", "right", "left" } or { "right", "left" }
    for row = 1, max_rows do
      for k, side in ipairs(sides) do
        local x0, x1 = box(m, side)
        if x0 >= 1 and x1 <= width - 1 then
          local p = { row = row, side = side, x0 = x0, x1 = x1 }
          local ok = true
          for j = 1, i - 1 do
            if clash(m, p, marks[j], chosen[j]) or clash(marks[j], chosen[j], m, p) then
              ok = false
              break
            end
          end
          if ok then
            chosen[i] = p
            local penalty = (m.prefer and m.prefer ~= side) and 1 or (m.line == false and k - 1 or 0)
            try(i + 1, cost + row * 3 + penalty, math.max(rows, row))
          end
        end
      end
    end
    chosen[i] = nil
  end
  try(1, 0, 1)
  if best then
    local rows = 1
    for _, p in ipairs(best) do rows = math.max(rows, p.row) end
    return best, rows
  end
  local out = {} -- nowhere free: one row each, clamped inside the chart
  for i, m in ipairs(marks) do
    local side = m.line == false and "middle" or (m.prefer or "right")
    local x0, x1 = box(m, side)
    local shift = math.max(0, 1 - x0) - math.max(0, x1 - (width - 1))
    out[i] = { row = math.min(i, max_rows), side = side, x0 = x0 + shift, x1 = x1 + shift }
  end
  return out, math.min(#marks, max_rows)
end

local LABEL_ROW = 15 -- the height of a row of marker labels

--- A histogram of values (stats.bins: the smaller of the Freedman-Diaconis
-- and the Sturges width, at least five bins, nice widths, an overflow bin
-- past the 95th percentile when the tail is long) with the median and the
-- p90 (nearest rank) marked and labelled (labels laid out by
-- `place_labels`: they never overlap each other nor cross a line).
-- opts: `id`, `title`, `duration` (true: the values are seconds; widths
-- and ticks on duration steps, labels as durations), `x_label`, `y_label`
-- (default "sessions"), `max_bins`, `sep`.
---@param values number[]
---@param opts table?
---@return string svg
---@return apivideo.chart.Bins bins
function M.histogram(values, opts)
  opts = opts or {}
  local id = chart_id("histogram", opts.id)
  local title = opts.title or "Distribution"
  local step = opts.duration and scale.duration_step or nil
  local b = stats.bins(values, { step = step, max_bins = opts.max_bins })
  if b.n == 0 then return empty(id, title, "No data"), b end
  local sum = stats.summary(values)
  local fmt = opts.duration and format.duration or format.scaled({ sum.min, sum.max }, opts.sep)
  local lo = b.bins[1].lo
  local hi = b.bins[#b.bins].hi + (b.overflow and b.width or 0)
  local cmax = 0
  for _, bin in ipairs(b.bins) do cmax = math.max(cmax, bin.count) end
  if b.overflow then cmax = math.max(cmax, b.overflow.count) end
  -- x first (it does not depend on the height), then the labels, then y
  local x0, x1 = 50, WIDTH - 14
  local x = scale.linear({ domain = { lo, hi }, range = { x0, x1 }, ticks = 4, step = step })
  local function clamp(px) return math.min(math.max(px, x0), x1) end
  local marks = {
    { "median", sum.median, C.vermillion, nil },
    { "p90", sum.p90, C.black, "5 3" },
  }
  local items = {}
  for i, m in ipairs(marks) do
    m.text = m[1] .. " " .. fmt(m[2])
    items[i] = { x = clamp(x.map(m[2])), width = text.em_width(m.text) * SIZE * 1.1 }
  end
  items[1].prefer = items[2].x > items[1].x and "left" or "right" -- away from the other
  items[2].prefer = items[2].x >= items[1].x and "right" or "left"
  local overflow_text
  if b.overflow then
    overflow_text = "≥ " .. fmt(b.overflow.lo)
    local bx0, bx1 = x.map(b.overflow.lo), x.map(b.overflow.lo + b.width)
    items[3] = { x = (bx0 + bx1) / 2, width = text.em_width(overflow_text) * 11, line = false }
  end
  local placed, nrows = M.place_labels(items, WIDTH)
  local top = 12 + nrows * LABEL_ROW
  local h = top + 196
  local box = { x0 = x0, x1 = x1, y0 = top, y1 = h - 46, h = h }
  -- the scale may widen the domain: bins stay where their values are
  local y = scale.linear({ domain = { 0, cmax }, range = { box.y1, box.y0 }, ticks = 4, zero = true,
    step = M.count_step })
  local xticks = {}
  local xlabels = opts.duration and {} or x.labels(opts.sep)
  for i, t in ipairs(x.ticks) do
    xticks[i] = { x = x.map(t), label = opts.duration and format.duration_short(t) or xlabels[i] }
  end
  local children = { hatch(id) }
  for _, c in ipairs(axes(box, y, xticks, { x_label = opts.x_label or (opts.duration and "duration" or "value"),
    y_label = opts.y_label or "sessions", sep = opts.sep })) do children[#children + 1] = c end
  local bars = {}
  for _, bin in ipairs(b.bins) do
    local bx0, bx1 = x.map(bin.lo), x.map(bin.hi)
    bars[#bars + 1] = el("rect", { "x", bx0, "y", y.map(bin.count), "width", math.max(bx1 - bx0 - 1, 0.5),
      "height", box.y1 - y.map(bin.count), "class", "bin", "fill", C.sky, "stroke", C.blue, "stroke-width", 0.5 },
      el("title", nil, fmt(bin.lo) .. " to " .. fmt(bin.hi) .. ": " .. format.integer(bin.count, opts.sep)))
  end
  local function row_y(row) return 4 + row * LABEL_ROW end
  local overflow_label
  if b.overflow then
    local o = b.overflow
    local bx0, bx1 = x.map(o.lo), x.map(o.lo + b.width)
    bars[#bars + 1] = el("rect", { "x", bx0, "y", y.map(o.count), "width", math.max(bx1 - bx0 - 1, 0.5),
      "height", box.y1 - y.map(o.count), "class", "bin overflow", "fill", "url(#" .. id .. "-hatch)",
      "stroke", "#4D4D4D" }, el("title", nil, fmt(o.lo) .. " or more: " .. format.integer(o.count, opts.sep)))
    local p = placed[3]
    overflow_label = el("text", { "x", p.x0, "y", row_y(p.row), "font-size", 11, "class", "overflow-label",
      "text-anchor", "start" }, overflow_text)
  end
  children[#children + 1] = el("g", { "class", "bins" }, bars)
  -- markers: median (solid, vermillion) and p90 (dashed, black), labelled
  for i, m in ipairs(marks) do
    local px, p = items[i].x, placed[i]
    local ty = row_y(p.row)
    children[#children + 1] = el("g", { "class", "marker " .. m[1] },
      el("line", { "x1", px, "y1", ty + 4, "x2", px, "y2", box.y1, "stroke", m[3], "stroke-width", 2,
        "stroke-dasharray", m[4] }),
      el("text", { "x", p.side == "left" and p.x1 or p.x0, "y", ty,
        "text-anchor", p.side == "left" and "end" or "start",
        "fill", m[3], "font-weight", "bold", "class", "marker-label" }, m.text))
  end
  children[#children + 1] = overflow_label
  local desc = title .. ": " .. #b.bins .. " bins of " .. fmt(b.width) .. (b.overflow and " and one overflow bin"
    or "") .. " over " .. format.integer(b.n, opts.sep) .. " values; median " .. fmt(sum.median) .. ", p90 "
    .. fmt(sum.p90)
  return root(id, WIDTH, h, title, desc, children), b
end

--- A funnel: one bar per step, its length the step's share of the first
-- step, and under each step after the first its rate from the previous
-- step and from the first ("83% of ready"; a rate of a step with no
-- sessions is left out). All steps 0 (or none): the empty state.
-- `steps` is an array of {label, value} (or {label=, value=}), in order.
-- opts: `id`, `title`, `value_label` (default "sessions"), `sep`.
---@param steps table
---@param opts table?
---@return string svg
function M.funnel(steps, opts)
  opts = opts or {}
  local id = chart_id("funnel", opts.id)
  local title = opts.title or "Funnel"
  local list = rows_of("funnel", steps)
  local what = opts.value_label or "sessions"
  local max, values = 0, {}
  for i, st in ipairs(list) do
    max = math.max(max, st.value)
    values[i] = st.value
  end
  if #list == 0 or max == 0 then return empty(id, title, "No data") end
  local fmt = format.scaled(values, opts.sep)
  local label_w, value_w, row_h, bar_h, top_m = 96, 56, 44, 18, 6
  local x0 = label_w + 6
  local bar_max = WIDTH - x0 - value_w
  local h = top_m + #list * row_h + 14
  local children = {}
  local first = list[1]
  children[1] = el("defs", nil, label_clip(id, label_w + 1, h))
  children[2] = el("text", { "x", x0, "y", h - 6, "class", "axis-title", "font-size", 12 },
    what .. "; bar length: share of the largest step")
  for i, st in ipairs(list) do
    local y = top_m + (i - 1) * row_h
    local wbar = st.value / max * bar_max
    if st.value > 0 and wbar < 1 then wbar = 1 end
    local shown = text.fit(st.label, label_w / SIZE / 1.1) -- bold
    local parts = {
      el("text", { "x", label_w, "y", y + bar_h / 2 + 4, "text-anchor", "end", "class", "label",
        "font-weight", "bold", "clip-path", "url(#" .. id .. "-labels)" }, shown),
      el("rect", { "x", x0, "y", y, "width", wbar, "height", bar_h, "class", "step", "fill", C.blue }),
      el("text", { "x", x0 + wbar + 4, "y", y + bar_h / 2 + 4, "class", "value" }, fmt(st.value)),
    }
    local prev = list[i - 1]
    if prev and prev.value > 0 then
      local note = format.percent(st.value / prev.value) .. " of " .. prev.label
      if i > 2 and first.value > 0 then
        note = note .. " · " .. format.percent(st.value / first.value) .. " of " .. first.label
      end
      parts[#parts + 1] = el("text", { "x", x0, "y", y + bar_h + 14, "class", "rate", "font-size", 12,
        "fill", "#333333" }, "↳ " .. note)
    end
    children[#children + 1] = el("g", { "class", "funnel-step" }, el("title", nil, st.label .. ": "
      .. format.integer(st.value, opts.sep) .. " " .. what), parts)
  end
  local desc = title .. ": " .. #list .. " steps from " .. first.label .. " (" .. format.integer(first.value, opts.sep)
    .. " " .. what .. ")"
  return root(id, WIDTH, h, title, desc, children)
end

--- Audience retention: the share of the sessions that played still
-- watching at each position of the video, a step line from 0 to the last
-- position anyone watched; x in m:ss, y 0-100 %.
-- `r` is what apivideo.chart.stats.retention returns ({ sessions =,
-- steps = { { position =, count = }, ... } }). No session that played: the
-- empty state.
-- opts: `id`, `title`, `sep`, `what` (default "sessions").
---@param r apivideo.chart.Retention
---@param opts table?
---@return string svg
function M.retention(r, opts)
  opts = opts or {}
  local id = chart_id("retention", opts.id)
  local title = opts.title or "Audience retention"
  if type(r) ~= "table" or type(r.steps) ~= "table" or not format.finite(r.sessions) then
    fail("retention", "a table { sessions =, steps = } expected (apivideo.chart.stats.retention)")
  end
  local steps, n = r.steps, r.sessions
  local last = steps[#steps]
  if n <= 0 or not last or last.position <= 0 then return empty(id, title, "No data") end
  for i, st in ipairs(steps) do
    if not (format.finite(st.position) and format.finite(st.count))
      or (i > 1 and st.position <= steps[i - 1].position) then
      fail("retention", "step " .. i .. " must be { position =, count = }, positions ascending")
    end
  end
  local h = 230
  local box = { x0 = 50, x1 = WIDTH - 14, y0 = 14, y1 = h - 46, h = h }
  local x = scale.linear({ domain = { 0, last.position }, range = { box.x0, box.x1 }, ticks = 5,
    step = scale.duration_step, label = format.clock })
  local y = scale.linear({ domain = { 0, 1 }, range = { box.y1, box.y0 }, ticks = 4,
    step = function() return 0.25 end, label = function(v) return format.percent(v) end })
  local xticks, xlabels = {}, x.labels()
  for i, t in ipairs(x.ticks) do xticks[i] = { x = x.map(t), label = xlabels[i] } end
  local children = axes(box, y, xticks, { x_label = "position in the video (m:ss)",
    y_label = "share still watching", sep = opts.sep })
  -- the step line; with more steps than pixels, the value at each pixel's start
  local pts = steps
  local cols = math.floor(box.x1 - box.x0)
  if #steps > 2 * cols then
    pts = {}
    local j = 1
    for c = 0, cols do
      local pos = last.position * c / cols
      while steps[j + 1] and steps[j + 1].position <= pos do j = j + 1 end
      if c == cols then pts[#pts + 1] = last
      elseif not pts[#pts] or pts[#pts].count ~= steps[j].count then
        pts[#pts + 1] = { position = pos, count = steps[j].count }
      end
    end
  end
  local d = {}
  for i, st in ipairs(pts) do
    local px, py = x.map(st.position), y.map(st.count / n)
    if i == 1 then d[1] = "M" .. markup.num(px) .. " " .. markup.num(py)
    else d[#d + 1] = "H" .. markup.num(px) .. " V" .. markup.num(py) end
  end
  local line = table.concat(d, " ")
  local area = line .. " V" .. markup.num(box.y1) .. " H" .. markup.num(x.map(0)) .. " Z"
  children[#children + 1] = el("path", { "d", area,
    "fill", C.blue, "fill-opacity", 0.15, "class", "area" })
  children[#children + 1] = el("path", { "d", line, "fill", "none", "stroke", C.blue, "stroke-width", 2,
    "class", "line retention" })
  -- the share at the quarters of the video, in the description (the chart's text alternative)
  local function share_at(pos)
    local c = 0
    for _, st in ipairs(steps) do
      if st.position <= pos then c = st.count else break end
    end
    return format.percent(c / n)
  end
  local q = {}
  for i = 1, 3 do
    local pos = last.position * i / 4
    q[i] = share_at(pos) .. " at " .. format.clock(pos)
  end
  local desc = title .. ": of " .. format.integer(n, opts.sep) .. " " .. (opts.what or "sessions")
    .. " that played, " .. table.concat(q, ", ") .. "; the last stopped at " .. format.clock(last.position)
  return root(id, WIDTH, h, title, desc, children)
end

return M
