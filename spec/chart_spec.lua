-- The chart library (lua/apivideo/chart/): pure Lua, no network, so these
-- run under every Lua version of the suite.
local chart = require("apivideo.chart")
local format, scale, stats, calendar = chart.format, chart.scale, chart.stats, chart.calendar
local text, markup, plot, term = chart.text, chart.markup, chart.plot, chart.term

local HOSTILE = {
  "<script>alert(1)</script>",
  '"><svg onload=alert(1)>',
  "' onmouseover='alert(1)",
  "]]><x>",
  "a\0b",
  "\255\254 invalid \192\175 utf-8 \237\160\128",
  "&amp; &lt;already&gt; &#60;",
  "\27[31mred\27[0m",
  "\226\128\174evil\226\128\172", -- U+202E right-to-left override ... U+202C
  "</text></svg><img src=x onerror=alert(1)>",
}

-- The elements and attributes of markup, parsed on the assumption that
-- every '<' of it starts a tag and every '>' ends one (true of correctly
-- escaped output: text and attribute values hold no raw '<' or '>').
-- Returns the tags ({ name, attrs = { [name] = value }, closing }) and the
-- text between tags, entities decoded.
local function parse(s)
  local tags, texts = {}, {}
  local function decode(t)
    return (t:gsub("&(#?%w+);", function(e)
      local map = { amp = "&", lt = "<", gt = ">", quot = '"', ["#39"] = "'" }
      assert(map[e], "unexpected entity &" .. e .. ";")
      return map[e]
    end))
  end
  local pos = 1
  while true do
    local a, b, body = s:find("<([^<>]*)>", pos)
    local chunk = s:sub(pos, (a or #s + 1) - 1)
    assert(not chunk:find("[<>]"), "a raw < or > outside a tag: " .. chunk)
    if chunk ~= "" then texts[#texts + 1] = decode(chunk) end
    if not a then break end
    local closing, name, rest = body:match("^(/?)([%w%-!]+)(.*)$")
    assert(name, "malformed tag <" .. body .. ">")
    local attrs = {}
    -- every attribute is name="value" with no quote inside the value
    local leftover = rest:gsub('%s+([%w:%-]+)="([^"]*)"', function(k, v)
      attrs[k] = decode(v)
      return ""
    end)
    assert(leftover:match("^%s*/?$"), "unparsed attribute text in <" .. body .. ">")
    tags[#tags + 1] = { name = name, attrs = attrs, closing = closing == "/" }
    pos = b + 1
  end
  return tags, texts
end

local SVG_TAGS = { svg = true, title = true, desc = true, g = true, rect = true, text = true, line = true,
  path = true, circle = true, defs = true, pattern = true, clipPath = true }

local function count_class(tags, class)
  local n = 0
  for _, t in ipairs(tags) do
    if not t.closing and t.attrs.class == class then n = n + 1 end
  end
  return n
end

-- Asserts that svg is only SVG_TAGS with no event handler, and returns its tags and texts.
local function check_svg(svg)
  local tags, texts = parse(svg)
  local depth = 0
  for _, t in ipairs(tags) do
    assert.is_true(SVG_TAGS[t.name] ~= nil, "unexpected element <" .. t.name .. ">")
    for k in pairs(t.attrs) do assert.is_nil(k:lower():match("^on"), "event handler attribute " .. k) end
    depth = depth + (t.closing and -1 or 1)
  end
  assert.are.equal(0, depth, "unbalanced tags")
  return tags, texts
end

local function has_text(texts, s)
  for _, t in ipairs(texts) do
    if t:find(s, 1, true) then return true end
  end
  return false
end

describe("apivideo.chart.format", function()
  it("groups digits by three and rounds", function()
    assert.are.equal("0", format.integer(0))
    assert.are.equal("999", format.integer(999))
    assert.are.equal("1 234", format.integer(1234))
    assert.are.equal("1 234 567", format.integer(1234567))
    assert.are.equal("-12 345", format.integer(-12345))
    assert.are.equal("1\194\160235", format.integer(1234.6, "\194\160"))
    assert.are.equal("0", format.integer(-0.2))
    assert.are.equal("n/a", format.integer(0 / 0))
    assert.are.equal("n/a", format.integer(math.huge))
  end)

  it("writes large numbers short with k, M, G, T and three significant digits", function()
    assert.are.equal("9 999", format.compact(9999))
    assert.are.equal("10k", format.compact(10000))
    assert.are.equal("12.3k", format.compact(12345))
    assert.are.equal("123k", format.compact(123456))
    assert.are.equal("1M", format.compact(999950)) -- not "1000k"
    assert.are.equal("1.2M", format.compact(1234567))
    assert.are.equal("12.3M", format.compact(12345678))
    assert.are.equal("4.5G", format.compact(4.5e9))
    assert.are.equal("1.2e15", format.compact(1.2e15))
    assert.are.equal("-12.3k", format.compact(-12345))
    assert.are.equal("1.5", format.compact(1.5))
    assert.are.equal("12.3", format.compact(12.34))
    assert.are.equal("0", format.compact(0))
  end)

  it("writes ratios as percentages that never round to all or nothing", function()
    assert.are.equal("0%", format.percent(0))
    assert.are.equal("<0.1%", format.percent(0.0004))
    assert.are.equal("5.7%", format.percent(0.0567))
    assert.are.equal("83%", format.percent(0.8312))
    assert.are.equal(">99.9%", format.percent(0.9996))
    assert.are.equal("100%", format.percent(1))
    assert.are.equal("120%", format.percent(1.2))
    assert.are.equal("n/a", format.percent(nil))
    assert.are.equal("n/a", format.percent(0 / 0))
  end)

  it("writes durations in their two largest units", function()
    assert.are.equal("0 s", format.duration(0))
    assert.are.equal("0.8 s", format.duration(0.8))
    assert.are.equal("10 s", format.duration(9.96))
    assert.are.equal("12 s", format.duration(12.4))
    assert.are.equal("1 min 00 s", format.duration(59.96))
    assert.are.equal("4 min 05 s", format.duration(245))
    assert.are.equal("1 h 00 min", format.duration(3599.6))
    assert.are.equal("1 h 02 min", format.duration(3725))
    assert.are.equal("1 d 00 h", format.duration(86399))
    assert.are.equal("2 d 03 h", format.duration(2 * 86400 + 3 * 3600))
    assert.are.equal("-12 s", format.duration(-12))
    assert.are.equal("2 min", format.duration_short(120))
    assert.are.equal("1 h 30 min", format.duration_short(5400))
  end)

  it("labels ticks in one unit with the decimals the step needs", function()
    assert.are.same({ "0", "0.5", "1", "1.5" }, format.ticks({ 0, 0.5, 1, 1.5 }, 0.5))
    assert.are.same({ "0", "2 000", "4 000" }, format.ticks({ 0, 2000, 4000 }, 2000))
    assert.are.same({ "0", "5k", "10k", "15k" }, format.ticks({ 0, 5000, 10000, 15000 }, 5000))
    assert.are.same({ "0", "2.5M", "5M" }, format.ticks({ 0, 2.5e6, 5e6 }, 2.5e6))
    assert.are.same({ "-20", "0", "20" }, format.ticks({ -20, 0, 20 }, 20))
    assert.are.same({ "0", "5e299", "1e300" }, format.ticks({ 0, 5e299, 1e300 }, 5e299))
  end)
end)

describe("apivideo.chart.scale", function()
  local function check_ticks(s, lo, hi)
    -- the domain holds the data, ticks are `step` apart and cover the domain
    assert.is_true(s.domain[1] <= lo and s.domain[2] >= hi, "domain does not hold the data")
    assert.are.equal(s.domain[1], s.ticks[1])
    assert.are.equal(s.domain[2], s.ticks[#s.ticks])
    for i = 2, #s.ticks do
      assert.is_true(math.abs(s.ticks[i] - s.ticks[i - 1] - s.step) <= s.step * 1e-9, "uneven ticks")
    end
    -- the step is 1, 2 or 5 times a power of ten
    local m = s.step / 10 ^ math.floor(math.log(s.step) / math.log(10) + 1e-9)
    assert.is_true(math.abs(m - 1) < 1e-6 or math.abs(m - 2) < 1e-6 or math.abs(m - 5) < 1e-6,
      "step " .. s.step .. " is not 1/2/5 x 10^k")
  end

  it("puts linear ticks on nice numbers", function()
    local s = scale.linear({ domain = { 0, 97 }, range = { 0, 100 } })
    assert.are.same({ 0, 20, 40, 60, 80, 100 }, s.ticks)
    assert.are.same({ "0", "20", "40", "60", "80", "100" }, s.labels())
    check_ticks(s, 0, 97)
    s = scale.linear({ domain = { 3, 81 }, range = { 0, 100 }, ticks = 4, zero = true })
    assert.are.same({ 0, 20, 40, 60, 80, 100 }, s.ticks)
    s = scale.linear({ domain = { 0.1, 0.35 }, range = { 0, 100 } })
    check_ticks(s, 0.1, 0.35)
    assert.are.same({ "0.1", "0.15", "0.2", "0.25", "0.3", "0.35" }, s.labels())
  end)

  it("maps the domain onto the range, inverted ranges included", function()
    local s = scale.linear({ domain = { 0, 100 }, range = { 200, 0 } })
    assert.are.equal(200, s.map(0))
    assert.are.equal(100, s.map(50))
    assert.are.equal(0, s.map(100))
  end)

  it("handles degenerate domains", function()
    local s = scale.linear({ domain = { 0, 0 }, range = { 0, 1 } }) -- all zeros
    assert.are.same({ 0, 1 }, s.domain)
    check_ticks(s, 0, 0)
    s = scale.linear({ domain = { 5, 5 }, range = { 0, 1 } }) -- a single value
    check_ticks(s, 5, 5)
    assert.is_true(s.domain[1] < 5 and s.domain[2] > 5)
    s = scale.linear({ domain = { 5, 5 }, range = { 0, 1 }, zero = true })
    assert.are.equal(0, s.domain[1])
    s = scale.linear({ domain = { -3, -3 }, range = { 0, 1 } }) -- negative
    check_ticks(s, -3, -3)
    assert.is_true(s.domain[2] < 0)
    s = scale.linear({ domain = { 12, -37 }, range = { 0, 1 } }) -- reversed, across zero
    check_ticks(s, -37, 12)
    assert.are.same({ -40, -30, -20, -10, 0, 10, 20 }, s.ticks)
    s = scale.linear({ domain = { 0, 1e300 }, range = { 0, 1 } }) -- huge
    check_ticks(s, 0, 1e300)
    assert.are.equal(1e300, s.ticks[#s.ticks])
    s = scale.linear({ domain = { 1e15, 1e15 }, range = { 0, 1 } })
    check_ticks(s, 1e15, 1e15)
    s = scale.linear({ domain = { 1e-300, 3e-300 }, range = { 0, 1 } }) -- tiny
    check_ticks(s, 1e-300, 3e-300)
  end)

  it("refuses domains it cannot draw", function()
    assert.has_error(function() scale.linear({ domain = { 0, 0 / 0 }, range = { 0, 1 } }) end)
    assert.has_error(function() scale.linear({ domain = { 0, math.huge }, range = { 0, 1 } }) end)
    assert.has_error(function() scale.linear({ domain = { -1e308, 1e308 }, range = { 0, 1 } }) end)
  end)

  local T0 = calendar.days_from_civil(2023, 11, 15) * 86400 -- a Wednesday

  local function labels(s)
    local out = {}
    for i, t in ipairs(s.ticks) do out[i] = t.label .. (t.sub and ("/" .. t.sub) or "") end
    return out
  end

  it("puts time ticks on calendar boundaries in UTC for the span", function()
    local s = scale.time({ domain = { T0, T0 + 3000 }, range = { 0, 100 } })
    assert.are.same({ unit = "minute", step = 10 }, s.interval)
    assert.are.same({ "00:00/15 Nov", "00:10", "00:20", "00:30", "00:40", "00:50" }, labels(s))
    s = scale.time({ domain = { T0 + 1800, T0 + 86400 + 1800 }, range = { 0, 100 } })
    assert.are.same({ unit = "hour", step = 6 }, s.interval)
    assert.are.same({ "06:00/15 Nov", "12:00", "18:00", "00:00/16 Nov" }, labels(s))
    s = scale.time({ domain = { T0, T0 + 7 * 86400 }, range = { 0, 100 } })
    assert.are.same({ unit = "day", step = 2 }, s.interval)
    assert.are.same({ "15 Nov/2023", "17 Nov", "19 Nov", "21 Nov" }, labels(s))
    s = scale.time({ domain = { T0, T0 + 31 * 86400 }, range = { 0, 100 } })
    assert.are.equal("week", s.interval.unit)
    for _, t in ipairs(s.ticks) do assert.are.equal(1, calendar.fields(t.t).wday) end -- Mondays
    assert.are.same({ "20 Nov/2023", "27 Nov", "4 Dec", "11 Dec" }, labels(s))
    s = scale.time({ domain = { T0, T0 + 300 * 86400 }, range = { 0, 100 } })
    assert.are.same({ unit = "month", step = 3 }, s.interval)
    assert.are.same({ "Jan/2024", "Apr", "Jul" }, labels(s))
    s = scale.time({ domain = { 0, 3e9 }, range = { 0, 100 } })
    assert.are.same({ "1980", "2000", "2020", "2040", "2060" }, labels(s))
  end)

  it("widens a single instant to two hours", function()
    local s = scale.time({ domain = { T0 + 600, T0 + 600 }, range = { 0, 100 } })
    assert.are.same({ T0 + 600 - 3600, T0 + 600 + 3600 }, s.domain)
    assert.is_true(#s.ticks >= 2)
    assert.are.equal(50, s.map(T0 + 600))
  end)
end)

describe("apivideo.chart.calendar", function()
  it("converts dates and days both ways, leap years included", function()
    assert.are.equal(0, calendar.days_from_civil(1970, 1, 1))
    assert.are.equal(19358, calendar.days_from_civil(2023, 1, 1))
    assert.are.same({ 2024, 2, 29 }, { calendar.civil_from_days(calendar.days_from_civil(2024, 2, 29)) })
    assert.are.same({ 1969, 12, 31 }, { calendar.civil_from_days(-1) })
    for z = -800, 800, 7 do
      local y, m, d = calendar.civil_from_days(z * 53)
      assert.are.equal(z * 53, calendar.days_from_civil(y, m, d))
    end
  end)

  it("floors to calendar intervals and adds months", function()
    local t = calendar.days_from_civil(2023, 5, 17) * 86400 + 13 * 3600 + 125
    assert.are.equal("2023-05-01 00:00 UTC", calendar.stamp(calendar.floor(t, { unit = "month" })))
    assert.are.equal("2023-04-01 00:00 UTC", calendar.stamp(calendar.floor(t, { unit = "month", step = 3 })))
    assert.are.equal("2023-05-15 00:00 UTC", calendar.stamp(calendar.floor(t, { unit = "week" }))) -- Monday
    assert.are.equal("2023-05-17 12:00 UTC", calendar.stamp(calendar.floor(t, { unit = "hour", step = 6 })))
    local jan31 = calendar.days_from_civil(2023, 1, 1) * 86400
    assert.are.equal("2023-02-01 00:00 UTC", calendar.stamp(calendar.add(jan31, { unit = "month" })))
    assert.are.equal("2024-01-01 00:00 UTC", calendar.stamp(calendar.add(jan31, { unit = "year" })))
  end)
end)

describe("apivideo.chart.stats", function()
  it("summarizes with the median and the p90 by nearest rank", function()
    local s = stats.summary({ 10, 1, 9, 2, 8, 3, 7, 4, 6, 5 })
    assert.are.equal(10, s.count)
    assert.are.equal(5.5, s.median)
    assert.are.equal(9, s.p90)
    assert.are.equal(5.5, s.mean)
    assert.are.equal(3, stats.summary({ 3 }).p90)
    assert.are.same({ count = 0 }, stats.summary({}))
    assert.has_error(function() stats.summary({ 1, 0 / 0 }) end)
  end)

  it("bins with the smaller of the Freedman-Diaconis and Sturges widths, rounded down to a nice width", function()
    -- 1..100: FD 2 * 49.5 * 100^(-1/3) = 21.3; Sturges ceil(log2 100) + 1 = 8 bins: 99 / 8 = 12.4;
    -- the smaller, 12.4, down to 10: bins [0,10) ... [90,100], the maximum in the last one
    local v = {}
    for i = 1, 100 do v[i] = i end
    local b = stats.bins(v)
    assert.are.equal(10, b.width)
    assert.are.equal(10, #b.bins)
    assert.are.same({ 9, 10, 11 }, { b.bins[1].count, b.bins[2].count, b.bins[10].count })
    assert.are.equal(0, b.bins[1].lo)
    assert.are.equal(100, b.bins[10].hi)
    assert.is_nil(b.overflow)
    local total = 0
    for _, bin in ipairs(b.bins) do total = total + bin.count end
    assert.are.equal(100, total)
  end)

  it("falls back to Sturges when the IQR is 0, and to one bin when all values are equal", function()
    local b = stats.bins({ 5, 5, 5, 5, 5, 5, 5, 5, 5, 100 })
    -- IQR 0: (100 - 5) / max(5, ceil(log2 10) + 1 = 5) = 19 -> 10; 100 on the last edge
    assert.are.equal(10, b.width)
    assert.are.equal(10, #b.bins)
    assert.are.equal(9, b.bins[1].count)
    assert.are.equal(1, b.bins[#b.bins].count)
    b = stats.bins({ 42, 42, 42 })
    assert.are.equal(1, #b.bins)
    assert.are.equal(3, b.bins[1].count)
    assert.is_true(b.bins[1].lo <= 42 and b.bins[1].hi > 42)
    b = stats.bins({ 0, 0 })
    assert.are.same({ { lo = 0, hi = 1, count = 2 } }, b.bins)
    assert.are.same({ width = 1, bins = {}, n = 0 }, stats.bins({}))
  end)

  it("puts a long tail past the 95th percentile in one overflow bin", function()
    local v = {}
    for i = 1, 190 do v[i] = i end -- 1..190 s
    for i = 1, 10 do v[#v + 1] = 10000 * i end -- ten very long sessions
    local b = stats.bins(v, { step = scale.duration_step })
    assert.is_true(#b.bins <= 40)
    assert.is_not_nil(b.overflow)
    local total = b.overflow.count
    for _, bin in ipairs(b.bins) do total = total + bin.count end
    assert.are.equal(200, total)
    assert.is_true(b.overflow.count >= 10)
    for _, w in ipairs(scale.DURATION_STEPS) do
      if w == b.width then return end
    end
    error("width " .. b.width .. " is not a duration step")
  end)

  it("buckets times per calendar interval, empty buckets included", function()
    local day = calendar.days_from_civil(2023, 1, 10) * 86400
    local b = stats.buckets({ day + 10, day + 3700, day + 3800, day + 7300, day - 5, day + 86400 },
      { from = day, to = day + 86400 })
    assert.are.equal("hour", b.interval.name)
    assert.are.equal(24, #b.points)
    assert.are.same({ 1, 2, 1, 0 }, { b.points[1].value, b.points[2].value, b.points[3].value, b.points[4].value })
    assert.are.equal(2, b.outside)
    assert.are.equal(day + 3600, b.points[2].t)
    assert.are.equal(day + 7200, b.points[2].t_end)
    -- a month gives days, a year weeks, two hours five minutes, one hour minutes
    assert.are.equal("day", stats.bucket_interval(day, day + 31 * 86400).name)
    assert.are.equal("week", stats.bucket_interval(day, day + 365 * 86400).name)
    assert.are.equal("5 minutes", stats.bucket_interval(day, day + 7200).name)
    assert.are.equal("minute", stats.bucket_interval(day, day + 3600).name)
    assert.has_error(function() stats.buckets({}, { from = day, to = day }) end)
  end)
end)

describe("apivideo.chart.text and markup", function()
  it("keeps valid UTF-8 and shows controls and invalid bytes as characters", function()
    assert.are.equal("Côte d'Ivoire 日本 🎬", text.clean("Côte d'Ivoire 日本 🎬"))
    assert.are.equal("a␀b", text.clean("a\0b"))
    assert.are.equal("␛[31m␉␊␡", text.clean("\27[31m\t\n\127"))
    assert.are.equal("�x", text.clean("\194\128x")) -- a C1 control
    assert.are.equal("��", text.clean("\192\175")) -- overlong '/'
    assert.are.equal("���", text.clean("\237\160\128")) -- a surrogate
    assert.are.equal("��", text.clean("\226\130")) -- truncated: one per byte
    assert.are.equal("�evil�", text.clean("\226\128\174evil\226\128\172")) -- bidi override
    assert.are.equal("12.5", text.clean(12.5))
    assert.has_error(function() text.clean({}) end)
    assert.are.equal("Côte d…", text.truncate("Côte d'Ivoire", 7))
    assert.are.equal(7, text.width("Côte d…"))
    -- fitting by estimated width: wide characters take more room
    assert.are.equal("FR", text.fit("FR", 2))
    assert.are.equal("&lt;&lt;…", markup.escape((text.fit(("<"):rep(20), 2.5))))
    assert.are.equal("iiiii…", (text.fit(("i"):rep(20), 2.5)))
    assert.is_true(text.em_width("日本") > text.em_width("ab"))
  end)

  it("escapes every string, in text and in attribute values", function()
    for _, h in ipairs(HOSTILE) do
      local out = markup.escape(h)
      assert.is_nil(out:find("[<>\"'%z]"), "unescaped character in " .. out)
      local rest = out:gsub("&amp;", ""):gsub("&lt;", ""):gsub("&gt;", ""):gsub("&quot;", ""):gsub("&#39;", "")
      assert.is_nil(rest:find("&", 1, true), "a bare & in " .. out)
      local node = markup.render(markup.el("text", { "x", 1, "data-v", h }, h))
      local tags, texts = parse(node)
      assert.are.equal(2, #tags)
      assert.are.equal(text.clean(h), tags[1].attrs["data-v"])
      assert.are.same({ text.clean(h) }, texts)
    end
    assert.are.equal("&lt;script&gt;alert(1)&lt;/script&gt;", markup.escape("<script>alert(1)</script>"))
    assert.are.equal("&quot;&gt;&lt;svg onload=alert(1)&gt;", markup.escape('"><svg onload=alert(1)>'))
    assert.are.equal("]]&gt;", markup.escape("]]>"))
    assert.are.equal("&amp;amp;", markup.escape("&amp;"))
  end)

  it("refuses event handler attributes and bad names, and non-finite coordinates", function()
    assert.has_error(function() markup.el("rect", { "onload", "x" }) end)
    assert.has_error(function() markup.el("rect", { "OnClick", "x" }) end)
    assert.has_error(function() markup.el("rect", { 'x" y', "1" }) end)
    assert.has_error(function() markup.el("rect><script", nil) end)
    assert.has_error(function() markup.el("rect", { "x", 0 / 0 }) end)
    assert.are.equal('<rect x="1.5" y="-2"></rect>', markup.render(markup.el("rect", { "x", 1.5, "y", -2.004 })))
  end)
end)

describe("apivideo.chart.plot", function()
  local rows = {}
  for i, h in ipairs(HOSTILE) do rows[i] = { h, 100 - i } end
  rows[#rows + 1] = { "FR", 500 }
  rows[#rows + 1] = { "US", 300 }

  it("draws the top N bars and one 'other' bar, largest first, every label escaped", function()
    local svg = plot.bars(rows, { id = "t", title = "Country <b>", top = 5, value_label = "sessions" })
    local tags, texts = check_svg(svg)
    assert.are.equal(5, count_class(tags, "bar"))
    assert.are.equal(1, count_class(tags, "bar other"))
    assert.is_true(has_text(texts, "other (7 more)"))
    assert.is_true(has_text(texts, "Country <b>"))
    -- the labels in order: FR (500), US (300), then the hostile ones by count, cut to fit
    local labels = {}
    for l in svg:gmatch('class="label"[^>]*>([^<]*)</text>') do labels[#labels + 1] = l end
    local function cut(h) return markup.escape(text.fit(text.clean(h), 136 / 13)) end
    assert.are.same({ "FR", "US", cut(HOSTILE[1]), cut(HOSTILE[2]), cut(HOSTILE[3]), "other (7 more)" }, labels)
    -- the full labels are in the <title> of each row, escaped
    for i = 1, 3 do assert.is_true(has_text(texts, text.clean(HOSTILE[i])), HOSTILE[i]) end
    -- shares of the total: FR is 500 of 500 + 300 + (99 + ... + 90) = 1745
    assert.is_true(has_text(texts, "500 · 29%"))
    assert.is_nil(svg:find("<script", 1, true))
    assert.is_nil(svg:find("<svg onload", 1, true))
    assert.is_nil(svg:find("%z"))
  end)

  it("draws every bar when there are no more than N", function()
    local tags = check_svg(plot.bars({ { "a", 3 }, { "b", 0 }, { "c", 1 } }, { top = 3 }))
    assert.are.equal(3, count_class(tags, "bar"))
    assert.are.equal(0, count_class(tags, "bar other"))
    tags = check_svg(plot.bars({}, { title = "none" }))
    assert.are.equal(0, count_class(tags, "bar"))
    assert.has_error(function() plot.bars({ { "a", -1 } }) end)
    assert.has_error(function() plot.bars({ { "a", 1 } }, { id = 'x"' }) end)
  end)

  it("draws a histogram with its bins and labelled median and p90 markers", function()
    local v = {}
    for i = 1, 100 do v[i] = i * 6 end -- 6 s .. 10 min
    local svg, b = plot.histogram(v, { id = "h", title = "Durations", duration = true })
    local tags, texts = check_svg(svg)
    assert.are.equal(#b.bins, count_class(tags, "bin"))
    assert.are.equal(1, count_class(tags, "marker median"))
    assert.are.equal(1, count_class(tags, "marker p90"))
    assert.is_true(has_text(texts, "median 5 min 03 s")) -- (300 + 306) / 2
    assert.is_true(has_text(texts, "p90 9 min 00 s")) -- the 90th of 100
  end)

  it("draws a time series with one point per bucket and a UTC axis", function()
    local day = calendar.days_from_civil(2023, 1, 10) * 86400
    local b = stats.buckets({ day + 10, day + 3700, day + 3800 }, { from = day, to = day + 86400 })
    local svg = plot.time_series({ { label = "<sessions>", points = b.points } }, { id = "ts", interval_name = "hour" })
    local tags, texts = check_svg(svg)
    assert.are.equal(24, count_class(tags, "point"))
    assert.are.equal(1, count_class(tags, "line"))
    assert.are.equal(1, count_class(tags, "area"))
    assert.is_true(has_text(texts, "Time (UTC)"))
    assert.is_true(has_text(texts, "<sessions>"))
    assert.is_true(has_text(texts, "10 Jan"))
    assert.has_error(function() plot.time_series({ { points = { { t = 0 } } } }) end)
  end)

  it("lays a faint series (a previous period) under the current one, both named in a legend above the plot",
    function()
    local pts, old = {}, {}
    for i = 1, 10 do
      pts[i] = { t = i * 3600, value = 5 + i }
      old[i] = { t = i * 3600, value = 15 - i }
    end
    local svg = plot.time_series({ { label = "plays", points = pts }, { label = "previous period", points = old,
      faint = true } }, { id = "ts2" })
    local tags, texts = check_svg(svg)
    assert.are.equal(10, count_class(tags, "point")) -- the faint series has no points
    assert.are.equal(1, count_class(tags, "line"))
    assert.are.equal(1, count_class(tags, "line faint"))
    assert.are.equal(1, count_class(tags, "area")) -- one solid series: its area stays
    assert.is_true(has_text(texts, "previous period"))
    -- the legend sits above the plot's top line: it never crosses the data
    local top = math.huge
    for _, t in ipairs(tags) do
      if t.attrs.class == "point" then top = math.min(top, tonumber(t.attrs.cy)) end
    end
    local legend_y = {}
    for _, t in ipairs(tags) do
      if t.attrs.class == "series-label" then legend_y[#legend_y + 1] = tonumber(t.attrs.y) end
    end
    assert.are.equal(2, #legend_y)
    for _, y in ipairs(legend_y) do assert.is_true(y + 2 < top - 2.5, y .. " vs " .. top) end
  end)

  it("draws a funnel with the rate between steps", function()
    local svg = plot.funnel({ { "ready", 200 }, { "play", 150 }, { "pause/seek", 90 }, { "end", 0 } }, { id = "f" })
    local tags, texts = check_svg(svg)
    assert.are.equal(4, count_class(tags, "step"))
    assert.are.equal(3, count_class(tags, "rate"))
    assert.is_true(has_text(texts, "↳ 75% of ready"))
    assert.is_true(has_text(texts, "↳ 60% of play · 45% of ready"))
    assert.is_true(has_text(texts, "↳ 0% of pause/seek · 0% of ready"))
  end)
end)

describe("apivideo.chart.term", function()
  it("draws bars in eighths of a column", function()
    assert.are.equal(("█"):rep(10), term.bar(1, 1, 10))
    assert.are.equal("█▌", term.bar(0.5, 1, 3))
    assert.are.equal("▏", term.bar(0.0001, 1, 10)) -- visible
    assert.are.equal("", term.bar(0, 1, 10))
  end)

  it("fits the lines to the width given, and writes plain columns without one", function()
    local r = { { "FR", 812 }, { "US", 301 }, { "\27[2Jhostile", 5 }, { "DE", 1 } }
    local out = term.bars(r, { width = 60, top = 3 })
    local lines = {}
    for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    assert.are.equal(4, #lines)
    for _, line in ipairs(lines) do assert.are.equal(60, text.width(line)) end
    assert.are.equal("FR", lines[1]:sub(1, 2))
    assert.is_truthy(lines[1]:find(" 812 +73%%$"))
    assert.is_truthy(lines[1]:find("^FR +\226\150\136")) -- a full block after the label
    assert.is_truthy(lines[3]:find("^␛%[2Jhostile", 1))
    assert.is_truthy(lines[4]:find("^other %(1 more%)"))
    assert.is_nil(out:find("\27", 1, true))
    local plain = term.bars(r, { top = 3 })
    assert.is_nil(plain:find("[\226][\150][\136-\143]")) -- no block elements
    -- label padded to "other (1 more)", value to 3, share to "<0.1%"
    assert.are.equal("FR" .. (" "):rep(14) .. "812" .. (" "):rep(4) .. "73%\n", plain:match("^[^\n]*\n"))
    assert.are.equal("", term.bars({}, { width = 40 }))
    assert.has_error(function() term.bars(r, { width = 0 }) end)
  end)
end)
