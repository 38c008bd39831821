-- The HTML report (lua/apivideo/report.lua): built from sample data with
-- hostile strings in every place an API value can reach, checked as text,
-- then opened in headless Chromium (scripts/chromium.sh).
local report = require("apivideo.report")
local chart = require("apivideo.chart")
local calendar, stats, text, markup = chart.calendar, chart.stats, chart.text, chart.markup

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)spec/report_spec%.lua$") or "./"
if ROOT == "" then ROOT = "./" end

local HOSTILE = {
  script = "<script>alert('x')</script>",
  svg = '"><svg onload=alert(1)>',
  cdata = "]]><!-- -->",
  nul = "nul\0byte",
  utf8 = "bad \255\254 utf-8 \192\175",
  img = "</text></svg><img src=x onerror=alert(1)>",
  url = "https://evil.example/?q=<b>&x=\"1\"",
  style = "</style><style>body{display:none}</style>",
}

local FROM = calendar.days_from_civil(2023, 1, 1) * 86400
local TO = calendar.days_from_civil(2023, 1, 8) * 86400 -- one week: 3-hour buckets

local function sample()
  local times, durations = {}, {}
  for i = 1, 120 do times[i] = FROM + (i * 7919) % (TO - FROM) end
  times[#times + 1] = TO + 10 -- outside the period: said in the footer
  for i = 1, 300 do durations[i] = 5 + (i * 37) % 600 end
  for i = 1, 4 do durations[#durations + 1] = 86400 * i end -- a long tail: an overflow bin
  return {
    title = "Report " .. HOSTILE.script,
    media = { kind = "video", id = "vi" .. HOSTILE.svg, name = HOSTILE.cdata },
    period = "2023-01-01/2023-01-07", from = FROM, to = TO,
    filters = { { key = HOSTILE.nul, value = HOSTILE.utf8 } },
    generated_at = TO + 3600,
    sessions = 121, events = 845,
    over_time = { times = times },
    breakdowns = {
      country = { { "FR", 50 }, { "US", 30 }, { HOSTILE.img, 12 }, { "DE", 9 }, { "ES", 8 }, { "IT", 5 },
        { "BE", 4 }, { "CH", 3 } },
      device_type = { { "computer", 70 }, { "phone", 51 } },
      os = { { HOSTILE.style, 121 } },
      browser = { { "Chrome", 60 }, { HOSTILE.utf8, 61 } },
      referrer_medium = { { HOSTILE.url, 100 }, { "search", 21 } },
    },
    durations = durations,
    funnel = { ready = 121, play = 100, pause_or_seek = 60, ["end"] = 42 },
    event_types = { { "play", 300 }, { "pause", 200 }, { HOSTILE.svg, 345 } },
    left_out = { { what = "events of session " .. HOSTILE.script, reason = "HTTP 500 " .. HOSTILE.img } },
    top = 5,
  }
end

local function count(s, pattern)
  return select(2, s:gsub(pattern, ""))
end

describe("apivideo.report", function()
  local html = report.html(sample())

  it("is one HTML document with nothing that loads or runs anything", function()
    assert.are.equal("<!DOCTYPE html>\n<html lang=\"en\">", html:sub(1, 32))
    assert.are.equal("</html>\n", html:sub(-8))
    assert.is_nil(html:find("<script", 1, true))
    assert.is_nil(html:lower():find("<img", 1, true))
    -- every tag, read on the assumption that escaping is right (no raw < or >
    -- in text or attribute values): known elements, no src, href or on*
    local names, rest = {}, html:gsub("^<!DOCTYPE html>\n", "")
    for name, attrs in rest:gmatch("<(/?[%w%-]+)([^<>]*)>") do
      names[name:gsub("^/", "")] = true
      for k in attrs:gmatch('%s([^%s=]+)="[^"]*"') do
        assert.is_nil(k:lower():match("^on"), "event handler " .. k)
        assert.is_true(k ~= "src" and k ~= "href" and k ~= "xlink:href", "attribute " .. k)
      end
      assert.is_truthy(attrs:gsub('%s[^%s=]+="[^"]*"', ""):match("^%s*$"), "unparsed <" .. name .. attrs .. ">")
    end
    for _, bad in ipairs({ "script", "img", "a", "iframe", "object", "embed", "link", "base", "form",
      "foreignObject", "image", "use" }) do
      assert.is_nil(names[bad], "element <" .. bad .. ">")
    end
    assert.is_truthy(names.svg and names.rect and names.text and names.figure)
    assert.is_nil(html:find("@import", 1, true))
    for u in html:gmatch("url%(([^)]*)%)") do assert.are.equal("#", u:sub(1, 1), "url(" .. u .. ")") end
    -- the only URLs: the SVG namespace, and the hostile referrer as escaped text
    for u in html:gmatch("https?://[^\"<%s]*") do
      assert.is_truthy(u == "http://www.w3.org/2000/svg" or u:find("^https://evil%.exa"), u)
    end
    assert.is_truthy(html:find([[<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;]],
      1, true))
  end)

  it("has every hostile string only escaped", function()
    for name, h in pairs(HOSTILE) do
      if h:find("[<>\"]") then assert.is_nil(html:find(h, 1, true), name .. " appears unescaped") end
      assert.is_truthy(html:find(markup.escape(h), 1, true), name .. " does not appear escaped")
    end
    assert.is_nil(html:find("%z"))
    assert.are.equal(0, count(html, "<svg onload"))
    assert.are.equal(0, count(html, "<style><style>"))
    assert.are.equal(1, count(html, "<style>"))
    -- each <svg> opens one chart: 2 + 5 breakdowns + funnel + event types
    assert.are.equal(9, count(html, "<svg "))
    assert.are.equal(9, count(html, "</svg>"))
  end)

  it("says what was asked in the header and what was left out in the footer", function()
    local header = html:match("<header>(.-)</header>")
    assert.is_truthy(header:find("video vi&quot;&gt;&lt;svg onload=alert(1)&gt; (]]&gt;&lt;!-- --&gt;)", 1, true))
    assert.is_truthy(header:find("2023-01-01/2023-01-07 (2023-01-01 00:00 UTC to 2023-01-08 00:00 UTC)", 1, true))
    assert.is_truthy(header:find("<dd class=\"q-sessions\">121</dd>", 1, true))
    assert.is_truthy(header:find("<dd class=\"q-events\">845</dd>", 1, true))
    assert.is_truthy(header:find("2023-01-08 01:00 UTC", 1, true))
    assert.is_truthy(header:find("nul␀byte = bad �� utf-8 ��", 1, true))
    local footer = html:match("<footer>(.-)</footer>")
    assert.are.equal(2, count(footer, "<li class=\"left%-out\">"))
    assert.is_truthy(footer:find("1 × sessions outside the period", 1, true))
    assert.is_truthy(footer:find("events of session &lt;script&gt;", 1, true))
  end)

  it("names plays, not sessions, when the data counts plays (the /data operations)", function()
    local d = sample()
    d.metric = "plays"
    local out = report.html(d)
    local header = out:match("<header>(.-)</header>")
    assert.is_truthy(header:find("<dt>Plays</dt>", 1, true), header)
    assert.is_nil(header:find("<dt>Sessions</dt>", 1, true))
    assert.is_truthy(out:find("Plays by country", 1, true))
    assert.is_nil(out:find("Sessions by country", 1, true))
    assert.is_truthy(out:find("Shares are of the plays counted", 1, true))
    -- and the sample (sessions) says sessions
    assert.is_truthy(html:find("Sessions by country", 1, true))
  end)

  it("counts what it draws", function()
    local country = html:match('<figure id="by%-country%-figure">(.-)</figure>')
    assert.are.equal(5, count(country, 'class="bar"'))
    assert.are.equal(1, count(country, 'class="bar other"'))
    local b = stats.buckets(sample().over_time.times, { from = FROM, to = TO })
    assert.are.equal("3 hours", b.interval.name)
    assert.are.equal(56, #b.points)
    assert.are.equal(56, count(html:match('<figure id="over%-time%-figure">(.-)</figure>'), 'class="point"'))
    local d = html:match('<figure id="duration%-figure">(.-)</figure>')
    local bins = stats.bins(sample().durations, { step = chart.scale.duration_step })
    assert.are.equal(#bins.bins, count(d, 'class="bin"'))
    assert.are.equal(1, count(d, 'class="bin overflow"'))
    assert.are.equal(1, count(d, 'class="marker median"'))
    assert.are.equal(1, count(d, 'class="marker p90"'))
    assert.are.equal(4, count(html:match('<figure id="funnel%-figure">(.-)</figure>'), 'class="step"'))
  end)

  it("a time_zone labels every time in the zone and buckets on its local calendar", function()
    local tz = require("apivideo.tz")
    local d = { from = FROM, to = TO, generated_at = TO, sessions = 2,
      over_time = { times = { FROM + 3600, FROM + 7200 } } }
    local utc = report.html(d)
    assert.is_truthy(utc:find("times in UTC, from 2023-01-01 00:00 UTC to 2023-01-08 00:00 UTC", 1, true))
    d.time_zone = assert(tz.load("+05:30"))
    local page = report.html(d)
    -- from is 05:30 local: the first 3-hour bucket starts at local 03:00, the last ends at 06:00
    assert.is_truthy(page:find("times in +05:30, from 2023-01-01 03:00 +05:30 to 2023-01-08 06:00 +05:30", 1, true))
    assert.is_truthy(page:find('<dd class="q-period">2023-01-01 05:30 +05:30 to 2023-01-08 05:30 +05:30</dd>', 1, true))
    assert.is_truthy(page:find("Time (+05:30)", 1, true))
    assert.is_truthy(page:find("Times are in +05:30.", 1, true))
    d.time_zone = assert(tz.load("Asia/Kolkata"))
    assert.is_truthy(report.html(d):find("2023-01-01 05:30 Asia/Kolkata (+05:30) to", 1, true))
    d.time_zone = { name = "X" }
    local ok, err = pcall(report.html, d)
    assert.is_false(ok)
    assert.are.equal("apivideo.report.html: bad field 'data.time_zone.offset_at' (function expected, got nil)", err)
  end)

  it("refuses data it does not document, naming the field", function()
    local function fails(mutate, pattern)
      local d = sample()
      mutate(d)
      local ok, err = pcall(report.html, d)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(pattern), tostring(err))
    end
    fails(function(d) d.api_key = "secret" end, "bad field 'data.api_key' %(unknown field%)")
    fails(function(d) d.media.token = "x" end, "'data.media.token' %(unknown field%)")
    fails(function(d) d.generated_at = nil end, "'data.generated_at'")
    fails(function(d) d.media.kind = "channel" end, "'data.media.kind'")
    fails(function(d) d.sessions = -1 end, "'data.sessions' %(integer >= 0")
    fails(function(d) d.breakdowns.city = {} end, "'data.breakdowns.city' %(unknown field%)")
    fails(function(d) d.breakdowns.country[2] = { "US", 1.5 } end, "'data.breakdowns.country%[2%] count'")
    fails(function(d) d.funnel["end"] = nil end, "'data.funnel.end'")
    fails(function(d) d.over_time.points = {} end, "exactly one of times, points")
    fails(function(d) d.durations[3] = 0 / 0 end, "'data.durations%[3%]'")
    fails(function(d) d.to = d.from end, "'data.to' %(must be after data.from%)")
    fails(function(d) d.left_out[1].what = nil end, "'data.left_out%[1%]%.what'")
    assert.has_error(function() report.html(nil) end,
      "apivideo.report.html: bad field 'data' (table expected, got nil)")
  end)

  it("maps event types to funnel steps", function()
    local funnel = { ready = 0, play = 0, pause_or_seek = 0, ["end"] = 0 }
    local sessions = { { "ready", "play", "pause", "resume", "seek.forward", "end" }, { "ready", "play" }, { "ready" } }
    for _, types in ipairs(sessions) do
      local seen = {}
      for _, t in ipairs(types) do
        local step = report.FUNNEL_EVENTS[t]
        if step and not seen[step] then
          seen[step] = true
          funnel[step] = funnel[step] + 1
        end
      end
    end
    assert.are.same({ ready = 3, play = 2, pause_or_seek = 1, ["end"] = 1 }, funnel)
    for _, s in ipairs(report.FUNNEL) do assert.is_number(funnel[s[1]]) end
  end)

  it("builds a report from the least data: a count and a time, with no panel for what it lacks", function()
    local h = report.html({ sessions = 0, generated_at = 0 })
    assert.is_truthy(h:find("all videos and live streams of the account", 1, true))
    assert.is_truthy(h:find("Not in the data: sessions over time, breakdowns, durations, audience retention, "
      .. "event funnel, events by type.", 1, true))
    assert.are.equal(0, count(h, "<svg "))
    assert.are.equal(1, count(h, "<h2>"), "a heading without panels")
    assert.is_truthy(h:find("<h2>Left out</h2>", 1, true)) -- the footer's
  end)

  it("draws only the panels the data of a window (/data operations) fills, the referrer among them", function()
    local urls = {}
    for i = 1, 12 do urls[i] = { "https://example.com/watch/" .. i, 100 - i } end
    urls[#urls + 1] = { "(none)", 120 }
    local h = report.html({ title = "plays", from = FROM, to = TO, generated_at = TO, sessions = 900, metric = "plays",
      over_time = { points = { { t = FROM, t_end = FROM + 86400, value = 400 }, { t = FROM + 86400,
        t_end = FROM + 2 * 86400, value = 500 } }, interval = "day" },
      breakdowns = { country = { { "FR", 900 } }, device_type = { { "phone", 900 } }, os = { { "ios", 900 } },
        browser = { { "safari", 900 } }, referrer = urls } })
    local figs = {}
    for id in h:gmatch('<figure id="([%w%-]+)%-figure">') do figs[#figs + 1] = id end
    assert.are.same({ "over-time", "by-country", "by-device-type", "by-os", "by-browser", "by-referrer" }, figs)
    assert.is_nil(h:find("No data", 1, true))
    assert.is_nil(h:find("Freedman", 1, true)) -- no word of duration bins without durations
    assert.is_nil(h:find("<h2>Events</h2>", 1, true))
    assert.is_truthy(h:find("<h2>Over time</h2>", 1, true))
    -- the referrer bars: URLs without their scheme, cut in the middle, so they stay apart
    local ref = h:match('<figure id="by%-referrer%-figure">(.-)</figure>')
    local labels, seen = {}, {}
    for l in ref:gmatch('class="label"[^>]*>([^<]*)</text>') do
      assert.is_nil(seen[l], "two bars read " .. l)
      seen[l] = true
      labels[#labels + 1] = l
    end
    assert.are.equal("(none)", labels[1])
    assert.are.equal("example.com/watch/1", labels[2])
    assert.is_nil(ref:find('class="label"[^>]*>https://'))
    assert.is_truthy(ref:find("https://example.com/watch/1: 99 plays", 1, true)) -- whole in the title
  end)

  it("shows one empty state in every panel of an empty video, and no n/a", function()
    local h = report.html({ media = { kind = "video", id = "viEmpty" }, from = FROM, to = TO, generated_at = TO,
      sessions = 0, events = 0, over_time = { times = {} },
      breakdowns = { country = {}, device_type = {}, os = {}, browser = {}, referrer_medium = {} },
      durations = {}, funnel = { ready = 0, play = 0, pause_or_seek = 0, ["end"] = 0 }, event_types = {},
      retention = { sessions = 0, steps = {} } })
    local figs = 0
    for fig in h:gmatch('<figure id="[%w%-]+%-figure">(.-)</figure>') do
      figs = figs + 1
      assert.are.equal(1, count(fig, '<text x="210" y="34" text%-anchor="middle" class="empty">No data</text>'), fig)
      assert.is_nil(fig:find('class="tick', 1, true), fig)
    end
    assert.are.equal(10, figs)
    assert.is_nil(h:find("n/a", 1, true))
  end)

  it("draws audience retention from the data's curve, and checks it", function()
    local d = sample()
    d.retention = stats.retention({ { { type = "play", at = 0 }, { type = "pause", at = 90 } },
      { { type = "play", at = 0 }, { type = "end", at = 180 } } })
    local h = report.html(d)
    local fig = h:match('<figure id="retention%-figure">(.-)</figure>')
    assert.is_truthy(fig:find('class="line retention"', 1, true))
    assert.is_truthy(fig:find("Share of the 2 sessions that played", 1, true))
    assert.is_truthy(fig:find(">3:00</text>", 1, true))
    d.retention.steps[2].count = 5
    local ok, err = pcall(report.html, d)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("'data.retention.steps[2].count' (more than data.retention.sessions)", 1, true))
    d.retention.steps[2] = { position = 0, count = 1 }
    assert.is_false((pcall(report.html, d)))
  end)
end)

-- #once: the browser does not depend on the Lua version; `make test-all`
-- runs this under 5.4 only.
describe("the report in headless Chromium #once", function()
  local SELECTORS = { "svg.chart", "#by-country-figure rect.bar", "#by-country-figure rect.bar.other",
    "#by-browser-figure rect.bar", "#duration-figure rect.bin", "#duration-figure .marker.median",
    "#duration-figure .marker.p90", "#over-time-figure circle.point", "#funnel-figure rect.step",
    "#funnel-figure text.rate", "footer li.left-out" }
  local ALLOWED = { html = true, head = true, meta = true, title = true, style = true, body = true, main = true,
    header = true, h1 = true, h2 = true, dl = true, dt = true, dd = true, div = true, figure = true,
    figcaption = true, p = true, details = true, summary = true, table = true, thead = true, tbody = true,
    tr = true, th = true, td = true, footer = true, ul = true, li = true,
    svg = true, desc = true, g = true, rect = true, text = true, line = true, path = true, circle = true,
    defs = true, pattern = true, clippath = true }

  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end)
  teardown(function()
    if dir then os.execute("rm -rf '" .. dir .. "'") end
  end)

  local function png_size(path)
    local f = assert(io.open(path, "rb"))
    local head = f:read(24)
    f:close()
    assert.are.equal("\137PNG\r\n\26\n", head:sub(1, 8))
    local function u32(i)
      local a, b, c, d = head:byte(i, i + 3)
      return ((a * 256 + b) * 256 + c) * 256 + d
    end
    return u32(17), u32(21)
  end

  it("renders without console errors, every chart, hostile strings as text only, and screenshots", function()
    local cjson = require("cjson")
    local file = dir .. "/report.html"
    local f = assert(io.open(file, "wb"))
    f:write(report.html(sample()))
    f:close()
    local cmd = "APIVIDEO_COUNT='" .. cjson.encode(SELECTORS) .. "' sh '" .. ROOT .. "scripts/chromium.sh' '"
      .. file .. "' '" .. dir .. "' 2>'" .. dir .. "/stderr'; echo \"exit=$?\""
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    local code = tonumber(out:match("exit=(%d+)%s*$"))
    local ef = io.open(dir .. "/stderr")
    local stderr = ef and ef:read("*a") or ""
    if ef then ef:close() end
    if code == 3 then
      pending("chromium is not installed and could not be installed (scripts/deps.sh browser): " .. stderr)
      return
    end
    assert.are.equal(0, code, stderr)
    local r = cjson.decode(out:match("^(.-)\n"))

    assert.are.same({}, r.console)
    assert.are.same({}, r.pageerrors)
    assert.are.same({}, r.requests) -- nothing touched the network, nor any file but the report
    assert.are.same({}, r.handlers)
    for tag in pairs(r.tags) do assert.is_true(ALLOWED[tag] ~= nil, "unexpected element <" .. tag .. ">") end
    assert.are.equal(1, r.tags.style)
    assert.are.equal(9, r.tags.svg)

    local d = sample()
    local c = r.counts
    assert.are.equal(9, c["svg.chart"])
    assert.are.equal(d.top, c["#by-country-figure rect.bar"] - 1) -- N bars + "other"
    assert.are.equal(1, c["#by-country-figure rect.bar.other"])
    assert.are.equal(2, c["#by-browser-figure rect.bar"])
    local bins = stats.bins(d.durations, { step = chart.scale.duration_step })
    assert.are.equal(#bins.bins + 1, c["#duration-figure rect.bin"]) -- + the overflow bin
    assert.are.equal(1, c["#duration-figure .marker.median"])
    assert.are.equal(1, c["#duration-figure .marker.p90"])
    assert.are.equal(#stats.buckets(d.over_time.times, { from = FROM, to = TO }).points,
      c["#over-time-figure circle.point"])
    assert.are.equal(4, c["#funnel-figure rect.step"])
    assert.are.equal(3, c["#funnel-figure text.rate"])
    assert.are.equal(2, c["footer li.left-out"])

    -- every hostile string is, whole, the content of some text node
    for name, h in pairs(HOSTILE) do
      local want, found = text.clean(h), false
      for _, t in ipairs(r.texts) do
        if t:find(want, 1, true) then
          found = true
          break
        end
      end
      assert.is_true(found, name .. " is not in any text node")
    end

    -- readable at both widths: nothing wider than the window
    assert.are.equal(0, r.overflow["1280"])
    assert.are.equal(0, r.overflow["390"])
    for _, width in ipairs({ 1280, 390 }) do
      local w, h = png_size(r.screenshots[tostring(width)])
      assert.are.equal(width, w)
      assert.is_true(h > 800, "screenshot " .. width .. " is only " .. h .. " px high")
    end
    local keep = os.getenv("APIVIDEO_KEEP_SCREENSHOTS")
    if keep then os.execute("cp '" .. dir .. "'/report-*.png '" .. keep .. "'/") end
  end)
end)
