-- What makes the charts readable (issue 18): marker labels that never
-- collide, histogram bins that suit small counts, integer ticks for counts,
-- one number format per chart, one empty state, and the audience retention
-- curve. Each case reads the SVG the chart library writes: positions, tick
-- labels, texts. Pure Lua, no network.
local chart = require("apivideo.chart")
local format, scale, stats, text, plot = chart.format, chart.scale, chart.stats, chart.text, chart.plot

-- The start tags of svg, each { name =, attrs = {}, text = the text right after it }.
local function tags(svg)
  local out = {}
  for name, attrs, after in svg:gmatch("<([%w]+)([^<>]*)>([^<]*)") do
    local t = { name = name, attrs = {}, text = after }
    for k, v in attrs:gmatch('([%w:%-]+)="([^"]*)"') do t.attrs[k] = v end
    out[#out + 1] = t
  end
  return out
end

local function unescape(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&"))
end

-- The texts of the tick labels of one axis ("y" or "x"), in order.
local function tick_labels(svg, axis)
  local out = {}
  for g in svg:gmatch('<g class="tick ' .. axis .. '">(.-)</g>') do
    out[#out + 1] = unescape(g:match("<text[^>]*>([^<]*)</text>"))
  end
  return out
end

-- Stand-in-like session durations: 30 + (37 i) mod 1771 seconds.
local function durations(n, first)
  local v = {}
  for i = first or 1, (first or 1) + n - 1 do v[#v + 1] = 30 + (37 * i) % 1771 end
  return v
end

describe("marker labels of the histogram", function()
  -- the label boxes (estimated as the chart estimates them) and the marker lines
  local function layout(svg)
    local labels, lines, others = {}, {}, {}
    local list = tags(svg)
    local function label(t, size)
      local s = unescape(t.text)
      local w = text.em_width(s) * size
      local x, anchor = tonumber(t.attrs.x), t.attrs["text-anchor"]
      local x0 = anchor == "end" and x - w or anchor == "middle" and x - w / 2 or x
      local y = tonumber(t.attrs.y)
      return { text = s, x0 = x0, x1 = x0 + w, y0 = y - 11, y1 = y + 3 }
    end
    for i, t in ipairs(list) do
      local class = t.attrs.class or ""
      if class == "overflow-label" then
        others[#others + 1] = label(t, 11)
      elseif class:match("^marker ") then -- <g class="marker median"><line/><text>median ...</text></g>
        local l, lt = list[i + 1], list[i + 2]
        lines[#lines + 1] = { x = tonumber(l.attrs.x1), y0 = tonumber(l.attrs.y1), y1 = tonumber(l.attrs.y2) }
        labels[#labels + 1] = label(lt, 13 * 1.1) -- bold
      end
    end
    for _, o in ipairs(others) do labels[#labels + 1] = o end
    return labels, lines
  end

  local cases = {
    { "median and p90 close together, near the right edge (a live stream's week)",
      { 1603, 1617, 1632, 1646, 1661, 1675, 1689, 1704, 1732, 300, 200, 100 } },
    { "eleven sessions", durations(11) },
    { "ten thousand sessions", durations(10000) },
    { "p90 on the median", { 60, 60, 60, 60, 60, 60, 60, 60, 60, 61 } },
    { "everything near zero", { 1, 1, 2, 2, 3, 3, 4, 5, 6, 7 } },
    { "a long tail (overflow bin)", (function()
      local v = durations(300)
      for i = 1, 20 do v[#v + 1] = 86400 * i end
      return v
    end)() },
  }
  for _, case in ipairs(cases) do
    it("never overlap nor cross a line: " .. case[1], function()
      local svg = plot.histogram(case[2], { id = "d", duration = true })
      local labels, lines = layout(svg)
      assert.are.equal(2, #lines)
      assert.is_true(#labels >= 2)
      for i, a in ipairs(labels) do
        assert.is_true(a.x0 >= 0 and a.x1 <= 420, a.text .. " is outside the chart")
        for j = i + 1, #labels do
          local b = labels[j]
          local overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
          assert.is_false(overlap, a.text .. " overlaps " .. b.text)
        end
        for _, l in ipairs(lines) do
          local crosses = l.x > a.x0 - 1 and l.x < a.x1 + 1 and l.y0 < a.y1 and l.y1 > a.y0
          assert.is_false(crosses, "a marker line crosses " .. a.text)
        end
      end
      -- each marker's label touches its own line: it names that line
      for k, l in ipairs(lines) do
        local a = labels[k]
        assert.is_true(math.abs(a.x0 - l.x) < 6 or math.abs(a.x1 - l.x) < 6, a.text .. " is away from its line")
        assert.is_true(l.y0 >= a.y1 - 2 and l.y0 <= a.y1 + 4, a.text .. " is not at the top of its line")
      end
    end)
  end

  it("are placed by a search over rows and sides", function()
    -- two lines 60 apart, labels 100 wide, the second near the right edge: the second
    -- label goes left of its line, above the first, which stays on its left too
    local placed, rows = plot.place_labels({ { x = 300, width = 100, prefer = "left" },
      { x = 360, width = 100, prefer = "right" } }, 420)
    assert.are.equal(2, rows)
    assert.are.same({ row = 2, side = "left" }, { row = placed[1].row, side = placed[1].side })
    assert.are.same({ row = 1, side = "left" }, { row = placed[2].row, side = placed[2].side })
    -- room for both in one row
    placed, rows = plot.place_labels({ { x = 100, width = 60, prefer = "left" }, { x = 300, width = 60 } }, 420)
    assert.are.equal(1, rows)
    assert.are.equal("left", placed[1].side)
    assert.are.equal("right", placed[2].side)
  end)
end)

describe("histogram bins", function()
  it("are several for a handful of values, and about as many for ten as for eleven", function()
    for n = 2, 12 do
      local b = stats.bins(durations(n), { step = scale.duration_step })
      assert.is_true(#b.bins >= 5, n .. " values: " .. #b.bins .. " bins")
      assert.is_true(#b.bins <= 12, n .. " values: " .. #b.bins .. " bins")
    end
    -- the report's two cases: ten sessions (median 26:43) were one bin of 30 min, eleven two
    local ten = { 1603, 1617, 1632, 1646, 1661, 1675, 1689, 1704, 1732, 1769 }
    local b10 = stats.bins(ten, { step = scale.duration_step })
    local eleven = { 1603, 1617, 1632, 1646, 1661, 1675, 1689, 1704, 1732, 1769, 120 }
    local b11 = stats.bins(eleven, { step = scale.duration_step })
    assert.is_true(#b10.bins >= 5, #b10.bins .. " bins")
    assert.is_true(#b11.bins >= 5, #b11.bins .. " bins")
    assert.is_true(b10.width <= 60, "width " .. b10.width)
  end)

  it("grow smoothly with n, on nice widths", function()
    local prev
    for n = 5, 400, 5 do
      local b = stats.bins(durations(n), { step = scale.duration_step })
      local k = #b.bins + (b.overflow and 1 or 0)
      assert.is_true(k >= 5 and k <= 41, n .. ": " .. k)
      if prev then assert.is_true(k / prev <= 3 and prev / k <= 3, n .. ": " .. prev .. " then " .. k) end
      prev = k
      local nice = false
      for _, w in ipairs(scale.DURATION_STEPS) do nice = nice or w == b.width end
      assert.is_true(nice, "width " .. b.width)
    end
  end)

  it("put a maximum on a bin edge into the bin below (no bin of one value past the end)", function()
    local v = {}
    for i = 0, 100, 5 do v[#v + 1] = i end -- 0, 5, ..., 100
    local b = stats.bins(v)
    assert.are.equal(100, b.bins[#b.bins].hi)
    local total = 0
    for _, bin in ipairs(b.bins) do total = total + bin.count end
    assert.are.equal(#v, total)
  end)

  it("rounds the width down to a nice one", function()
    assert.are.equal(10, stats.nice_down(12.4))
    assert.are.equal(5, stats.nice_down(9.9))
    assert.are.equal(20, stats.nice_down(20))
    assert.are.equal(300, stats.nice_down(359, scale.duration_step))
    assert.are.equal(900, stats.nice_down(1700, scale.duration_step))
  end)
end)

describe("count axes", function()
  local DAY = 86400
  local function series(values)
    local pts = {}
    for i, v in ipairs(values) do pts[i] = { t = i * DAY, t_end = (i + 1) * DAY, value = v } end
    return { { label = "sessions", points = pts } }
  end

  it("have integer ticks only, from 0 to at least 1", function()
    assert.are.same({ "0", "1" }, tick_labels(plot.time_series(series({ 0, 1, 0, 1, 1 })), "y"))
    assert.are.same({ "0", "1", "2", "3" }, tick_labels(plot.time_series(series({ 0, 3, 1 })), "y"))
    assert.are.same({ "0", "1" }, tick_labels(plot.histogram({ 100, 400, 900 }, { duration = true }), "y"))
    for _, l in ipairs(tick_labels(plot.time_series(series({ 2, 7, 5 })), "y")) do
      assert.is_truthy(l:match("^%d+$"), l)
    end
  end)

  it("keep fractional ticks for values that are not counts", function()
    local labels = tick_labels(plot.time_series(series({ 0.25, 0.5, 0.75 })), "y")
    assert.is_truthy(labels[2]:find(".", 1, true), table.concat(labels, " "))
  end)
end)

describe("one number format per chart", function()
  local function values(svg, class)
    local out = {}
    for v in svg:gmatch('class="' .. class .. '">([^<]*)</text>') do out[#out + 1] = v:gsub(" · .*$", "") end
    return out
  end

  it("bars take their unit from the largest value", function()
    local rows = { { "ready", 13800 }, { "play", 12500 }, { "pause", 11200 }, { "resume", 8750 },
      { "seek", 7500 }, { "end", 5000 } }
    assert.are.same({ "13.8k", "12.5k", "11.2k", "8.8k", "7.5k", "5k" }, values(plot.bars(rows), "value"))
    -- below 10 000, digits grouped, for every bar
    assert.are.same({ "9\194\160999", "12" }, values(plot.bars({ { "a", 9999 }, { "b", 12 } },
      { sep = "\194\160" }), "value"))
  end)

  it("the funnel too", function()
    local svg = plot.funnel({ { "ready", 10000 }, { "play", 10000 }, { "pause/seek", 10000 }, { "end", 5000 } })
    assert.are.same({ "10k", "10k", "10k", "5k" }, values(svg, "value"))
  end)

  it("format.scaled chooses the unit and decimals once", function()
    local f = format.scaled({ 13800, 8750, 42 })
    assert.are.same({ "13.8k", "8.8k", "<0.1k", "0" }, { f(13800), f(8750), f(42), f(0) })
    f = format.scaled({ 999950, 5000 })
    assert.are.same({ "1M", "<0.1M" }, { f(999950), f(5000) })
    f = format.scaled({ 250000, 12000 })
    assert.are.same({ "250k", "12k" }, { f(250000), f(12000) })
    f = format.scaled({ 9999, 12 })
    assert.are.same({ "9 999", "12" }, { f(9999), f(12) })
  end)
end)

describe("the empty state", function()
  local function is_empty(svg)
    local list = tags(svg)
    local texts = {}
    for _, t in ipairs(list) do
      if t.attrs.class == "empty" then texts[#texts + 1] = t.text end
    end
    return #texts == 1 and texts[1] == "No data" and list[1].attrs.viewBox == "0 0 420 60"
  end

  it("is the same for every chart with nothing to draw", function()
    local zero = { { label = "sessions", points = { { t = 0, t_end = 3600, value = 0 }, { t = 3600, t_end = 7200,
      value = 0 } } } }
    assert.is_true(is_empty(plot.time_series(zero)), "time series of zeros")
    assert.is_true(is_empty(plot.time_series({})), "time series of nothing")
    assert.is_true(is_empty(plot.bars({})), "bars")
    assert.is_true(is_empty(plot.bars({ { "a", 0 } })), "bars of zeros")
    assert.is_true(is_empty((plot.histogram({}))), "histogram")
    assert.is_true(is_empty(plot.funnel({ { "ready", 0 }, { "play", 0 } })), "funnel of zeros")
    assert.is_true(is_empty(plot.retention({ sessions = 0, steps = {} })), "retention")
    assert.is_false(is_empty(plot.funnel({ { "ready", 1 }, { "play", 0 } })))
  end)

  it("the funnel says no rate of a step that had no sessions", function()
    local svg = plot.funnel({ { "ready", 0 }, { "play", 3 }, { "pause/seek", 0 }, { "end", 0 } })
    assert.is_nil(svg:find("n/a", 1, true))
    local rates = {}
    for r in svg:gmatch('class="rate"[^>]*>([^<]*)<') do rates[#rates + 1] = r end
    assert.are.same({ "↳ 0% of play" }, rates) -- play has no rate (ready is 0), nor has end (pause/seek is 0)
  end)
end)

describe("audience retention", function()
  local function ev(t, a, b)
    if b then return { type = t, from = a, to = b } end
    return { type = t, at = a }
  end

  it("watched: the parts of the video one session played, from its events", function()
    -- play 0..30, pause, resume 30..60, end: one stretch 0..60
    assert.are.same({ played = true, segments = { { 0, 60 } } },
      stats.watched({ ev("ready", 0), ev("play", 0), ev("pause", 30), ev("resume", 30), ev("end", 60) }))
    -- a forward seek skips 10..40
    assert.are.same({ played = true, segments = { { 0, 10 }, { 40, 50 } } },
      stats.watched({ ev("play", 0), ev("seek.forward", 10, 40), ev("pause", 50) }))
    -- a backward seek replays 5..20: counted once
    assert.are.same({ played = true, segments = { { 0, 25 } } },
      stats.watched({ ev("play", 0), ev("seek.backward", 20, 5), ev("end", 25) }))
    -- a seek while paused moves nothing played; what follows the last event is not known
    assert.are.same({ played = true, segments = { { 0, 10 }, { 100, 120 } } },
      stats.watched({ ev("play", 0), ev("pause", 10), ev("seek.forward", 10, 100), ev("resume", 100),
        ev("pause", 120), ev("resume", 120) }))
    -- no play: nothing; a position missing (JSON null) ends the stretch it would close
    assert.are.same({ played = false, segments = {} }, stats.watched({ ev("ready", 0), ev("pause", 10) }))
    assert.are.same({ played = true, segments = { { 20, 30 } } },
      stats.watched({ ev("play", 0), { type = "pause", at = chart.markup }, ev("resume", 20), ev("end", 30) }))
  end)

  it("retention: how many of the sessions that played watched each position", function()
    local A = { ev("ready", 0), ev("play", 0), ev("pause", 30), ev("resume", 30), ev("end", 60) } -- 0..60
    local B = { ev("ready", 0), ev("play", 0), ev("seek.forward", 10, 40), ev("pause", 50) } -- 0..10, 40..50
    local C = { ev("ready", 0) } -- never played: not counted
    local D = { ev("play", 0), ev("seek.backward", 20, 5), ev("end", 25) } -- 0..25
    local r = stats.retention({ A, B, C, D })
    assert.are.equal(3, r.sessions)
    assert.are.same({ { position = 0, count = 3 }, { position = 10, count = 2 }, { position = 25, count = 1 },
      { position = 40, count = 2 }, { position = 50, count = 1 }, { position = 60, count = 0 } }, r.steps)
    -- watched results give the same curve
    assert.are.same(r, stats.retention({ stats.watched(A), stats.watched(B), stats.watched(C), stats.watched(D) }))
    -- a start past 0: nobody watched 0..15
    assert.are.same({ sessions = 1, steps = { { position = 0, count = 0 }, { position = 15, count = 1 },
      { position = 45, count = 0 } } }, stats.retention({ { ev("play", 15), ev("end", 45) } }))
    assert.are.same({ sessions = 0, steps = {} }, stats.retention({ C, {} }))
  end)

  it("is a step line from 100 % down, positions in m:ss", function()
    local r = stats.retention({ { ev("play", 0), ev("end", 600) }, { ev("play", 0), ev("pause", 300) } })
    local svg = plot.retention(r, { id = "r" })
    assert.are.same({ "0%", "25%", "50%", "75%", "100%" }, tick_labels(svg, "y"))
    local xl = tick_labels(svg, "x")
    assert.are.equal("0:00", xl[1])
    assert.are.equal("10:00", xl[#xl])
    for _, l in ipairs(xl) do assert.is_truthy(l:match("^%d+:%d%d$"), l) end
    -- the y of each tick, by label
    local ty = {}
    for g in svg:gmatch('<g class="tick y">(.-)</g>') do
      ty[g:match("<text[^>]*>([^<]*)</text>")] = tonumber(g:match('y1="([%d.]+)"'))
    end
    local d = svg:match('class="line retention"') and svg:match('<path d="([^"]*)" fill="none"')
    local x0, y0 = d:match("^M([%d.]+) ([%d.]+)")
    assert.are.equal(ty["100%"], tonumber(y0)) -- both sessions watch the start
    local vs = {}
    for v in d:gmatch("V([%d.]+)") do vs[#vs + 1] = tonumber(v) end
    assert.are.same({ ty["50%"], ty["0%"] }, vs) -- one left at 5:00, the other at 10:00
    assert.is_true(tonumber(x0) == 50)
    assert.is_truthy(svg:find("of 2 sessions that played, 100% at 2:30, 50% at 5:00, 50% at 7:30", 1, true))
  end)

  it("draws at most one vertex pair per pixel for long curves", function()
    local sessions = {}
    for i = 1, 3000 do sessions[i] = { ev("play", 0), ev("end", i) } end
    local svg = plot.retention(stats.retention(sessions))
    local d = svg:match('<path d="([^"]*)" fill="none"')
    local n = select(2, d:gsub("H", ""))
    assert.is_true(n <= 400, n .. " steps drawn")
    assert.is_true(n >= 300, n .. " steps drawn")
  end)
end)
