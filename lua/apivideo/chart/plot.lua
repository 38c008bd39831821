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
-- `sep` (digit group separator).
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
  local label_w, gap, value_w, row_h, bar_h, top_m = 136, 6, 96, 24, 16, 6
  local x0 = label_w + gap
  local bar_max = WIDTH - x0 - value_w
  local max = 0
  for _, r in ipairs(list) do max = math.max(max, r.value) end
  local h = top_m + #list * row_h + 30
  local children = { hatch(id), el("defs", nil, label_clip(id, label_w + 1, h)) }
  for i, r in ipairs(list) do
    local y = top_m + (i - 1) * row_h
    local wbar = max > 0 and r.value / max * bar_max or 0
    if r.value > 0 and wbar < 1 then wbar = 1 end -- a non-zero value stays visible
    local share = total > 0 and r.value / total or nil
    local value_text = format.compact(r.value, opts.sep) .. " · " .. format.percent(share)
    local shown = text.fit(r.label, label_w / SIZE)
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

--- A time series: one line (with the area under it when it is alone) per
-- series, a point per bucket drawn at the bucket's middle, a UTC time axis.
-- `series` is an array of `{ label = "sessions", points = { { t =, t_end =,
-- value = }, ... } }` (stats.buckets gives such points).
-- opts: `id`, `title`, `y_label` (default the first series' label),
-- `x_label` (default "Time (UTC)"), `interval_name` ("hour": said in the
-- description), `sep`.
---@param series table
---@param opts table?
---@return string svg
function M.time_series(series, opts)
  opts = opts or {}
  local id = chart_id("time_series", opts.id)
  local title = opts.title or "Over time"
  if type(series) ~= "table" then fail("time_series", "series must be an array") end
  local t0, t1, vmax, npoints = math.huge, -math.huge, 0, 0
  for i, s in ipairs(series) do
    for _, p in ipairs(points_of(s, i)) do
      t0 = math.min(t0, p.t)
      t1 = math.max(t1, p.t_end or p.t)
      vmax = math.max(vmax, p.value)
      npoints = npoints + 1
    end
  end
  if npoints == 0 then return empty(id, title, "No data") end
  local h = 230
  local box = { x0 = 50, x1 = WIDTH - 14, y0 = 14, y1 = h - 52, h = h }
  local x = scale.time({ domain = { t0, t1 }, range = { box.x0, box.x1 }, ticks = 5 })
  local y = scale.linear({ domain = { 0, vmax }, range = { box.y1, box.y0 }, ticks = 4, zero = true })
  local xticks = {}
  for i, t in ipairs(x.ticks) do
    local px = x.map(t.t)
    xticks[i] = { x = px, label = t.label, sub = t.sub }
  end
  local children = axes(box, y, xticks, {
    x_label = opts.x_label or "Time (UTC)", y_label = opts.y_label or tostring(series[1].label or "count"),
    sep = opts.sep })
  for i, s in ipairs(series) do
    local style = SERIES[(i - 1) % #SERIES + 1]
    local line, dots = {}, {}
    local pts = s.points
    for j, p in ipairs(pts) do
      local px = x.map(p.t_end and (p.t + p.t_end) / 2 or p.t)
      local py = y.map(p.value)
      line[j] = (j == 1 and "M" or "L") .. markup.num(px) .. " " .. markup.num(py)
      dots[j] = el("circle", { "cx", px, "cy", py, "r", 2.5, "class", "point", "fill", style[1] },
        el("title", nil, (s.label and text.clean(s.label) .. ": " or "") .. format.integer(p.value, opts.sep)
          .. " at " .. calendar.stamp(p.t)))
    end
    local d = table.concat(line, " ")
    if #series == 1 and #pts > 1 then
      local first = x.map(pts[1].t_end and (pts[1].t + pts[1].t_end) / 2 or pts[1].t)
      local last = x.map(pts[#pts].t_end and (pts[#pts].t + pts[#pts].t_end) / 2 or pts[#pts].t)
      children[#children + 1] = el("path", { "d", d .. " L" .. markup.num(last) .. " " .. markup.num(box.y1)
        .. " L" .. markup.num(first) .. " " .. markup.num(box.y1) .. " Z", "fill", style[1],
        "fill-opacity", 0.15, "class", "area" })
    end
    children[#children + 1] = el("path", { "d", d, "fill", "none", "stroke", style[1], "stroke-width", 2,
      "stroke-dasharray", style[2], "class", "line" })
    children[#children + 1] = el("g", { "class", "points" }, dots)
    if #series > 1 and s.label then
      local p = pts[#pts]
      if p then
        children[#children + 1] = el("text", { "x", box.x1, "y", y.map(p.value) - 6, "text-anchor", "end",
          "class", "series-label", "fill", style[1] }, text.clean(s.label))
      end
    end
  end
  local desc = title .. ": " .. npoints .. " points"
    .. (opts.interval_name and (", one per " .. opts.interval_name) or "") .. ", times in UTC, from "
    .. calendar.stamp(t0) .. " to " .. calendar.stamp(t1)
  return root(id, WIDTH, h, title, desc, children)
end

--- A histogram of values (stats.bins: Freedman-Diaconis, nice widths, an
-- overflow bin past the 95th percentile when the tail is long) with the
-- median and the p90 (nearest rank) marked and labelled.
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
  local fmt = opts.duration and format.duration or function(v) return format.compact(v, opts.sep) end
  local h = 250
  local box = { x0 = 50, x1 = WIDTH - 14, y0 = 40, y1 = h - 46, h = h }
  local lo = b.bins[1].lo
  local hi = b.bins[#b.bins].hi + (b.overflow and b.width or 0)
  local cmax = 0
  for _, bin in ipairs(b.bins) do cmax = math.max(cmax, bin.count) end
  if b.overflow then cmax = math.max(cmax, b.overflow.count) end
  local x = scale.linear({ domain = { lo, hi }, range = { box.x0, box.x1 }, ticks = 4, step = step })
  -- the scale may widen the domain: bins stay where their values are
  local y = scale.linear({ domain = { 0, cmax }, range = { box.y1, box.y0 }, ticks = 4, zero = true,
    step = function(v) return math.max(1, scale.nice_step(v)) end })
  local xticks = {}
  local xlabels = opts.duration and {} or x.labels(opts.sep)
  for i, t in ipairs(x.ticks) do
    xticks[i] = { x = x.map(t), label = opts.duration and format.duration_short(t) or xlabels[i] }
  end
  local children = { hatch(id) }
  for _, c in ipairs(axes(box, y, xticks, { x_label = opts.x_label or (opts.duration and "duration" or "value"),
    y_label = opts.y_label or "sessions", sep = opts.sep })) do children[#children + 1] = c end
  local bars, overflow_label = {}, nil
  for _, bin in ipairs(b.bins) do
    local bx0, bx1 = x.map(bin.lo), x.map(bin.hi)
    bars[#bars + 1] = el("rect", { "x", bx0, "y", y.map(bin.count), "width", math.max(bx1 - bx0 - 1, 0.5),
      "height", box.y1 - y.map(bin.count), "class", "bin", "fill", C.sky, "stroke", C.blue, "stroke-width", 0.5 },
      el("title", nil, fmt(bin.lo) .. " to " .. fmt(bin.hi) .. ": " .. format.integer(bin.count, opts.sep)))
  end
  if b.overflow then
    local o = b.overflow
    local bx0, bx1 = x.map(o.lo), x.map(o.lo + b.width)
    bars[#bars + 1] = el("rect", { "x", bx0, "y", y.map(o.count), "width", math.max(bx1 - bx0 - 1, 0.5),
      "height", box.y1 - y.map(o.count), "class", "bin overflow", "fill", "url(#" .. id .. "-hatch)",
      "stroke", "#4D4D4D" }, el("title", nil, fmt(o.lo) .. " or more: " .. format.integer(o.count, opts.sep)))
    overflow_label = el("text", { "x", (bx0 + bx1) / 2, "y", y.map(o.count) - 4, "text-anchor", "end",
      "font-size", 11, "class", "overflow-label", "stroke", "#ffffff", "stroke-width", 3,
      "paint-order", "stroke" }, "≥ " .. fmt(o.lo))
  end
  children[#children + 1] = el("g", { "class", "bins" }, bars)
  -- markers: median (solid, vermillion) and p90 (dashed, black), labelled
  local marks = {
    { "median", sum.median, C.vermillion, nil, 14 },
    { "p90", sum.p90, C.black, "5 3", 28 },
  }
  for _, m in ipairs(marks) do
    local px = math.min(math.max(x.map(m[2]), box.x0), box.x1)
    local right = px > (box.x0 + box.x1) / 2
    children[#children + 1] = el("g", { "class", "marker " .. m[1] },
      el("line", { "x1", px, "y1", m[5] + 4, "x2", px, "y2", box.y1, "stroke", m[3], "stroke-width", 2,
        "stroke-dasharray", m[4] }),
      el("text", { "x", right and px - 4 or px + 4, "y", m[5], "text-anchor", right and "end" or "start",
        "fill", m[3], "font-weight", "bold", "stroke", "#ffffff", "stroke-width", 3, "paint-order", "stroke" },
        m[1] .. " " .. fmt(m[2])))
  end
  children[#children + 1] = overflow_label -- over the markers' lines
  local desc = title .. ": " .. #b.bins .. " bins of " .. fmt(b.width) .. (b.overflow and " and one overflow bin"
    or "") .. " over " .. format.integer(b.n, opts.sep) .. " values; median " .. fmt(sum.median) .. ", p90 "
    .. fmt(sum.p90)
  return root(id, WIDTH, h, title, desc, children), b
end

--- A funnel: one bar per step, its length the step's share of the first
-- step, and under each step after the first its rate from the previous
-- step and from the first ("83% of ready").
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
  if #list == 0 then return empty(id, title, "No data") end
  local label_w, value_w, row_h, bar_h, top_m = 96, 56, 44, 18, 6
  local x0 = label_w + 6
  local bar_max = WIDTH - x0 - value_w
  local max = 0
  for _, s in ipairs(list) do max = math.max(max, s.value) end
  local h = top_m + #list * row_h + 14
  local children = {}
  local first = list[1]
  children[1] = el("defs", nil, label_clip(id, label_w + 1, h))
  children[2] = el("text", { "x", x0, "y", h - 6, "class", "axis-title", "font-size", 12 },
    what .. "; bar length: share of the largest step")
  for i, s in ipairs(list) do
    local y = top_m + (i - 1) * row_h
    local wbar = max > 0 and s.value / max * bar_max or 0
    if s.value > 0 and wbar < 1 then wbar = 1 end
    local shown = text.fit(s.label, label_w / SIZE / 1.1) -- bold
    local parts = {
      el("text", { "x", label_w, "y", y + bar_h / 2 + 4, "text-anchor", "end", "class", "label",
        "font-weight", "bold", "clip-path", "url(#" .. id .. "-labels)" }, shown),
      el("rect", { "x", x0, "y", y, "width", wbar, "height", bar_h, "class", "step", "fill", C.blue }),
      el("text", { "x", x0 + wbar + 4, "y", y + bar_h / 2 + 4, "class", "value" },
        format.compact(s.value, opts.sep)),
    }
    if i > 1 then
      local prev = list[i - 1]
      local rate = prev.value > 0 and s.value / prev.value or nil
      local overall = first.value > 0 and s.value / first.value or nil
      local note = format.percent(rate) .. " of " .. prev.label
      if i > 2 then note = note .. " · " .. format.percent(overall) .. " of " .. first.label end
      parts[#parts + 1] = el("text", { "x", x0, "y", y + bar_h + 14, "class", "rate", "font-size", 12,
        "fill", "#333333" }, "↳ " .. note)
    end
    children[#children + 1] = el("g", { "class", "funnel-step" }, el("title", nil, s.label .. ": "
      .. format.integer(s.value, opts.sep) .. " " .. what), parts)
  end
  local desc = title .. ": " .. #list .. " steps from " .. first.label .. " (" .. format.integer(first.value, opts.sep)
    .. " " .. what .. ")"
  return root(id, WIDTH, h, title, desc, children)
end

return M
