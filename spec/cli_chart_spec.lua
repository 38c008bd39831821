-- apivideo-analytics timeseries --chart and buckets --chart (issue 18):
-- the chart's characters read back against the items the library's own
-- iterators give for the same window (called here, not through the CLI),
-- from the stand-in (its clock is 2024-01-01: windows in December 2023).
-- The columns of apivideo.chart.term are also read directly for what the
-- stand-in's near-even series cannot show (uneven values, more points than
-- columns). Works on every Lua the suite runs under (no 5.3+ syntax).
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local term = require("apivideo.chart.term")

local srv = S.shared()

local KEY = "CliChart-SeCrEt-71c0a9d4"
local FROM, TO = "2023-12-05", "2023-12-20"
local FROM_ATOM, TO_ATOM = "2023-12-05T00:00:00+00:00", "2023-12-20T00:00:00+00:00"
local DEC5 = 1701734400 -- 2023-12-05T00:00:00Z

local run_cli = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

-- Runs cli.main with stdout a buffer (not a terminal) and `width` columns.
local function run(args, width)
  return run_cli(args, { streams = { columns = width } })
end

local usage_fails = C.usage_fails(function(args) return run_cli(args) end, srv)

local function fresh()
  srv:idle_reset()
  srv:config({ api_key = KEY })
end

local function client()
  return apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic" })
end

-- The library's own points of plays over opts ({ t, value } each) and their sum; the stand-in's
-- counters reset afterwards.
local function library_points(opts)
  local c = client()
  local points, sum = {}, 0
  for p in c.analytics:metrics_over_time("play", opts) do
    points[#points + 1] = { t = apivideo.parse_time(p.emitted_at), value = p.metric_value }
    sum = sum + p.metric_value
  end
  c:close()
  fresh()
  return points, sum
end

-- The code points of a UTF-8 line.
local function chars(s)
  local out = {}
  for ch in s:gmatch("[\1-\127\194-\244][\128-\191]*") do out[#out + 1] = ch end
  return out
end

-- Eighths of a cell's height, by block character.
local FILL = { [" "] = 0 }
for i, b in ipairs({ "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }) do FILL[b] = i end
-- Eighths of a column's width, by block character (bars).
local WIDE = {}
for i, b in ipairs({ "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█" }) do WIDE[b] = i end

--- A columns chart read back: `ticks` ({row =, label =}, row 0 the axis),
-- `rows` (bar rows, top first, as char arrays after the axis), `axis` (the
-- axis character's position), `labels` and `context` (the two lines under
-- the axis, plot part), `height`, `footer`.
local function read_columns(lines)
  local axis_line
  for i, l in ipairs(lines) do
    if l:find("└", 1, true) then axis_line = i end
  end
  assert.is_truthy(axis_line, "no axis line")
  local ac = chars(lines[axis_line])
  local a
  for i, ch in ipairs(ac) do
    if ch == "└" then a = i end
  end
  local chart = { rows = {}, ticks = {}, axis = a, height = 0 }
  local first = axis_line
  while first > 1 and (lines[first - 1]:find("┤", 1, true) or lines[first - 1]:find("│", 1, true)) do
    first = first - 1
  end
  chart.height = axis_line - first
  for i = first, axis_line - 1 do
    local cs = chars(lines[i])
    local row = {}
    for j = a + 1, #cs do row[#row + 1] = cs[j] end
    chart.rows[#chart.rows + 1] = row
    local label = table.concat(cs, "", 1, a - 1):match("^%s*(.-)%s*$")
    if cs[a] == "┤" then chart.ticks[#chart.ticks + 1] = { row = axis_line - i, label = label } end
    assert.are.equal(label ~= "", cs[a] == "┤", lines[i])
  end
  chart.ticks[#chart.ticks + 1] = { row = 0, label = table.concat(ac, "", 1, a - 1):match("^%s*(.-)%s*$") }
  local function plot_part(l)
    local cs = chars(l or "")
    local out = {}
    for j = a + 1, #cs do out[#out + 1] = cs[j] end
    for j = 1, math.min(a, #cs) do assert.are.equal(" ", cs[j]) end
    return table.concat(out)
  end
  chart.labels = plot_part(lines[axis_line + 1])
  chart.context = plot_part(lines[axis_line + 2])
  chart.footer = lines[axis_line + 3]
  return chart
end

--- The height in eighths of the column starting at plot position x (0-based).
local function eighths_at(chart, x)
  local n = 0
  for _, row in ipairs(chart.rows) do
    local f = FILL[row[x + 1] or " "]
    assert.is_truthy(f, "not a block: " .. tostring(row[x + 1]))
    n = n + f
  end
  return n
end

--- Words of a label line with their plot positions (0-based): { {at =, text =} }.
local function words(line)
  local out = {}
  local cs = chars(line)
  local i = 1
  while i <= #cs do
    if cs[i] ~= " " then
      local j = i
      while j + 1 <= #cs and not (cs[j + 1] == " " and (cs[j + 2] == nil or cs[j + 2] == " "
        or not cs[j + 2]:match("^%a"))) do
        j = j + 1
      end
      out[#out + 1] = { at = i - 1, text = table.concat(cs, "", i, j) }
      i = j + 1
    else
      i = i + 1
    end
  end
  return out
end

local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
local function day_label(t)
  local d = os.date("!*t", t)
  return d.day .. " " .. MONTHS[d.month]
end

-- "4 559"
local function grouped(n)
  local s = tostring(math.floor(n))
  local out = s:reverse():gsub("(%d%d%d)", "%1 "):reverse()
  return (out:gsub("^ ", ""))
end

--- Checks a columns chart against `points` ({t =, value =}, time order) drawn
-- `width` wide, one column per `k` points (the largest of them).
local function check_columns(out_lines, points, width, k, step)
  local chart = read_columns(out_lines)
  for _, l in ipairs(out_lines) do assert.is_true(C.width(l) <= width, l) end
  -- the ticks: whole numbers when the values are, from 0, evenly spaced, at least two rows apart
  local ticks = chart.ticks
  local whole = true
  for _, p in ipairs(points) do
    if p.value ~= math.floor(p.value) then whole = false end
  end
  assert.are.equal("0", ticks[#ticks].label)
  local gap
  for i = #ticks - 1, 1, -1 do
    if whole then assert.matches("^%d+$", ticks[i].label) end
    assert.is_true(ticks[i].row - ticks[i + 1].row >= 2)
    local d = tonumber(ticks[i].label) - tonumber(ticks[i + 1].label)
    gap = gap or d
    assert.are.equal(gap, d)
  end
  assert.are.equal(chart.height, ticks[1].row) -- the top tick is the top of the scale
  local hi = tonumber(ticks[1].label)
  -- the columns: each as tall as its value (the largest of its k points) over the scale
  local ncols = math.ceil(#points / k)
  local cw = math.floor((width - chart.axis) / ncols)
  assert.is_true(cw >= 1)
  local tallest, biggest, biggest_height = -1, -1, nil
  for c = 1, ncols do
    local v = -math.huge
    for j = (c - 1) * k + 1, math.min(c * k, #points) do v = math.max(v, points[j].value) end
    local want = v > 0 and math.max(1, math.floor(v / hi * chart.height * 8 + 0.5)) or 0
    local got = eighths_at(chart, (c - 1) * cw)
    assert.are.equal(want, got, "column " .. c)
    tallest = math.max(tallest, got)
    if v > biggest then biggest, biggest_height = v, got end
  end
  assert.are.equal(tallest, biggest_height) -- no column is taller than the biggest point's
  -- the time labels: at column starts, each the time of its column's first point, never touching
  local labels = words(chart.labels)
  assert.is_true(#labels >= 2)
  assert.are.equal(0, labels[1].at)
  local prev_end = -1
  for _, w in ipairs(labels) do
    assert.are.equal(0, w.at % cw, w.text)
    assert.is_true(w.at > prev_end, "labels touch at " .. w.text)
    prev_end = w.at + C.width(w.text)
    local t = points[w.at / cw * k + 1].t
    if step < 86400 then
      assert.are.equal(os.date("!%H:%M", t), w.text)
    else
      assert.are.equal(day_label(t), w.text)
    end
  end
  local context = words(chart.context)
  assert.are.equal(0, context[1].at)
  local first_t = points[1].t
  assert.are.equal(step < 86400 and day_label(first_t) or os.date("!%Y", first_t), context[1].text)
  return chart
end

describe("apivideo-analytics --chart", function()
  before_each(fresh)
  teardown(function() srv:reset() end)

  describe("timeseries", function()
    it("one column per day, as tall as its count, integer ticks, day labels, into a pipe", function()
      local points, sum = library_points({ from = FROM_ATOM, to = TO_ATOM, interval = "day" })
      assert.are.equal(15, #points)
      local code, out, err = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO, "--interval", "day",
        "--chart", "--page-size", "4" }, 70)
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      local lines = C.lines(out)
      assert.are.equal("play per day: 15 points, total " .. grouped(sum), lines[1])
      check_columns(lines, points, 70, 1, 86400)
      assert.are.equal(4, #srv:requests("^/data/timeseries/")) -- every page before the chart
    end)

    it("hours over two days: HH:MM under the columns, the day under the first and where it changes", function()
      local points, sum = library_points({ from = FROM_ATOM, to = "2023-12-07T00:00:00+00:00" })
      assert.are.equal(48, #points)
      for _, width in ipairs({ 100, 40 }) do
        local code, out, err = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", "2023-12-07",
          "--chart" }, width)
        assert.are.equal(0, code, err)
        local lines = C.lines(out)
        -- no --interval: the points' spacing names it
        assert.are.equal("play per hour: 48 points, total " .. grouped(sum), lines[1])
        local k = math.ceil(48 / (width - read_columns(lines).axis))
        local chart = check_columns(lines, points, width, k, 3600)
        local days = {}
        for _, w in ipairs(words(chart.context)) do days[#days + 1] = w.text end
        if width == 100 then
          assert.are.same({ "5 Dec", "6 Dec" }, days)
          assert.is_nil(chart.footer)
        else
          assert.is_true(k > 1)
          assert.are.equal("(each column: the largest of " .. k .. " points)", chart.footer)
        end
      end
    end)

    it("an empty series: the one line 'no data in this window'", function()
      local code, out, err = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO,
        "--filter", "media_id=vi-none-such", "--chart" }, 80)
      assert.are.equal(0, code, err)
      assert.are.equal("no data in this window\n", out)
      assert.are.equal(1, #srv:requests("^/data/timeseries/"))
    end)

    it("term.columns: uneven values, fractions (ticks in one format), more points than columns", function()
      local pts = {}
      for i = 0, 14 do pts[#pts + 1] = { t = DEC5 + i * 86400, value = (i * 7) % 11 } end
      check_columns(C.lines(term.columns(pts, { width = 60 })), pts, 60, 1, 86400)
      local frac = {}
      for i = 0, 199 do frac[#frac + 1] = { t = DEC5 + i * 3600, value = (i % 5) * 0.25 + 0.1 } end
      local lines = C.lines(term.columns(frac, { width = 70 }))
      local chart = check_columns(lines, frac, 70, 4, 3600)
      -- one format: multiples of the step, written with the decimals the step needs (0.5: one)
      for _, t in ipairs(chart.ticks) do
        assert.matches("^%d+%.?5?$", t.label)
        assert.are.equal(0, tonumber(t.label) % 0.5)
      end
      assert.are.equal("0.5", chart.ticks[#chart.ticks - 1].label)
      -- in any order: drawn in time order
      local shuffled = { pts[3], pts[1], pts[2] }
      assert.are.equal(term.columns({ pts[1], pts[2], pts[3] }, { width = 40 }), term.columns(shuffled,
        { width = 40 }))
      assert.are.equal(term.EMPTY, term.columns({}, { width = 40 }))
      -- two rows for ticks 0, 2, 4: the middle one would sit next to both, so it is not labelled
      local low = C.lines(term.columns({ { t = DEC5, value = 3 }, { t = DEC5 + 86400, value = 1 } },
        { width = 20, height = 2 }))
      assert.are.same({ "4 ┤", "  │", "0 └" }, { low[1]:sub(1, #"4 ┤"), low[2]:sub(1, #"  │"),
        low[3]:sub(1, #"0 └") })
      check_columns(low, { { t = DEC5, value = 3 }, { t = DEC5 + 86400, value = 1 } }, 20, 1, 86400)
    end)
  end)

  describe("buckets", function()
    it("one bar per value, largest first, the largest full width, values and shares", function()
      local c = client()
      local expected, sum = {}, 0
      for b in c.analytics:metrics_breakdown("play", "country", { from = FROM_ATOM, to = TO_ATOM }) do
        expected[#expected + 1] = { label = b.dimension_value, value = b.metric_value }
        sum = sum + b.metric_value
      end
      c:close()
      fresh()
      table.sort(expected, function(a, b)
        if a.value ~= b.value then return a.value > b.value end
        return a.label < b.label
      end)
      for _, width in ipairs({ 60, 100 }) do
        local code, out, err = run({ "buckets", "--metric", "play", "--breakdown", "country", "--from", FROM,
          "--to", TO, "--chart", "--page-size", "2", "--sort-by", "dimensionValue", "--sort-order", "asc" }, width)
        assert.are.equal(0, code, err)
        local lines = C.lines(out)
        assert.are.equal("play by country: " .. #expected .. " values, total " .. grouped(sum), lines[1])
        assert.are.equal(#expected + 1, #lines)
        local full
        for i, want in ipairs(expected) do
          local line = lines[i + 1]
          local cs = chars(line)
          local label = line:match("^(%S+)")
          local value, share = line:match("(%d[%d ]-)%s%s+(%d+%%)$")
          assert.are.same({ want.label, grouped(want.value),
            string.format("%d%%", math.floor(want.value / sum * 100 + 0.5)) }, { label, value, share })
          local bar = 0
          for _, ch in ipairs(cs) do bar = bar + (WIDE[ch] or 0) end
          if i == 1 then
            full = bar
            assert.are.equal(width, C.width(line)) -- the largest fills the line
            assert.is_true(full >= 8 * 20)
          else
            assert.are.equal(math.max(1, math.floor(want.value / expected[1].value * full + 0.5)), bar)
          end
        end
      end
    end)

    it("a rate: values with their decimals, no share, no total", function()
      local c = client()
      local expected = {}
      for b in c.analytics:metrics_breakdown("play-rate", "device-type", { from = FROM_ATOM, to = TO_ATOM }) do
        expected[#expected + 1] = b
      end
      c:close()
      fresh()
      local code, out, err = run({ "buckets", "--metric", "play-rate", "--breakdown", "device-type", "--from", FROM,
        "--to", TO, "--chart" }, 70)
      assert.are.equal(0, code, err)
      local lines = C.lines(out)
      assert.are.equal("play-rate by device-type: " .. #expected .. " values", lines[1])
      local prev = math.huge
      for i = 2, #lines do
        assert.is_nil(lines[i]:find("%", 1, true))
        local v = tonumber(lines[i]:match("(%d+%.%d+)$"))
        assert.is_truthy(v, lines[i])
        assert.is_true(v <= prev)
        prev = v
      end
    end)

    it("no bucket: 'no data in this window'", function()
      local code, out = run({ "buckets", "--metric", "play", "--breakdown", "country", "--from", FROM, "--to", TO,
        "--filter", "media_id=vi-none-such", "--chart" }, 80)
      assert.are.equal(0, code)
      assert.are.equal("no data in this window\n", out)
    end)
  end)

  describe("timeseries --db --chart #db", function()
    local archive = require("apivideo.archive")
    local shell = require("spec.support.shell")
    local dir
    before_each(function()
      srv:idle_reset({ date = "clock", now = "2024-01-01T00:00:00Z" })
      srv:config({ api_key = KEY })
    end)
    after_each(function()
      if dir then shell.remove_tree(dir) end
      srv:reset()
    end)

    it("draws the archive's points as timeseries --db prints them, with no request", function()
      dir = shell.tmpdir()
      local db = dir .. "/chart.db"
      local code, out, err = run_cli({ "archive", "--db", db, "--metrics", "play", "--breakdowns", "country" })
      assert.are.equal(0, code, err)
      assert.matches("^archived ", out)
      local from, to = 1703980800 - 2 * 86400, 1703980800 -- 2023-12-29 .. 2023-12-31
      local a = assert(archive.open(db, { read_only = true }))
      local series = a:series("play", "hour", nil, from, to)
      a:close()
      local points = {}
      for i, p in ipairs(series) do points[i] = { t = apivideo.parse_time(p.emitted_at), value = p.metric_value } end
      assert.are.equal(48, #points)
      srv:idle_reset({ date = "clock", now = "2024-01-01T00:00:00Z" })
      code, out, err = run({ "timeseries", "--db", db, "--metric", "play", "--interval", "hour", "--from",
        "2023-12-29", "--to", "2023-12-31", "--chart" }, 100)
      assert.are.equal(0, code, err)
      local lines = C.lines(out)
      assert.matches("^play per hour: 48 points, total [%d ]+$", lines[1])
      check_columns(lines, points, 100, 1, 3600)
      assert.are.equal(0, srv:stats().requests)
    end)
  end)

  describe("usage errors, before anything is sent", function()
    it("--chart with another --format, or on another command", function()
      for _, f in ipairs({ "csv", "ndjson", "json" }) do
        usage_fails({ "timeseries", "--metric", "play", "--last", "7d", "--chart", "--format", f },
          "--chart and --format " .. f .. " exclude each other (a chart is text for a terminal)")
        usage_fails({ "buckets", "--metric", "play", "--breakdown", "country", "--last", "7d", "--format", f,
          "--chart" }, "--chart and --format " .. f .. " exclude each other (a chart is text for a terminal)")
      end
      usage_fails({ "metrics", "--metric", "play", "--aggregation", "count", "--chart" },
        "option --chart does not apply to 'metrics'")
      usage_fails({ "timeseries", "--metric", "play", "--chart=yes" }, "option --chart takes no value")
      -- --format table is the chart's own
      local code = run({ "timeseries", "--metric", "play", "--from", FROM, "--to", TO, "--chart", "--format",
        "table" }, 80)
      assert.are.equal(0, code)
    end)

    it("--help of both says what --chart draws", function()
      for _, cmd in ipairs({ "timeseries", "buckets" }) do
        local code, out = run_cli({ cmd, "--help" })
        assert.are.equal(0, code)
        assert.matches("\n  %-%-chart ", out)
        assert.is_truthy(out:find("no data in this window", 1, true))
      end
    end)
  end)
end)
