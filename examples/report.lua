-- Writes examples/report.html: the HTML report (lua/apivideo/report.lua)
-- from fixed sample data, the same on every run and every Lua version.
--   lua5.4 examples/report.lua [out.html]
-- No network, no C module: only the report and chart modules.
local here = (arg and arg[0] or ""):gsub("[^/\\]+$", "")
if here == "" then here = "./" end
package.path = here .. "../lua/?.lua;" .. here .. "../lua/?/init.lua;" .. package.path
local report = require("apivideo.report")
local calendar = require("apivideo.chart.calendar")

-- Park-Miller "minimal standard" generator: exact in doubles, so Lua 5.1
-- and LuaJIT give the same sequence as 5.4.
local seed = 20230101
local function random()
  seed = 16807 * seed % 2147483647
  return seed / 2147483647
end

-- An item of `choices` ({ value, weight }, ...) drawn by weight.
local function pick(choices)
  local total = 0
  for _, c in ipairs(choices) do total = total + c[2] end
  local r = random() * total
  for _, c in ipairs(choices) do
    r = r - c[2]
    if r <= 0 then return c[1] end
  end
  return choices[#choices][1]
end

local COUNTRIES = { { "France", 34 }, { "United States", 21 }, { "Germany", 9 }, { "United Kingdom", 8 },
  { "Canada", 5 }, { "Spain", 5 }, { "Italy", 4 }, { "Brazil", 3 }, { "Japan", 3 }, { "Belgium", 2 },
  { "Switzerland", 2 }, { "Netherlands", 2 }, { "Côte d'Ivoire", 1 }, { "Morocco", 1 } }
local DEVICES = { { "computer", 52 }, { "phone", 38 }, { "tablet", 7 }, { "tv", 2 }, { "console", 1 } }
local OSES = { { "Windows", 34 }, { "Android", 22 }, { "iOS", 17 }, { "Mac OS X", 16 }, { "Linux", 6 },
  { "Chrome OS", 3 }, { "unknown", 2 } }
local BROWSERS = { { "Chrome", 48 }, { "Safari", 22 }, { "Firefox", 11 }, { "Edge", 9 }, { "Samsung Internet", 5 },
  { "Opera", 3 }, { "Chrome Mobile WebView", 2 } }
local MEDIUMS = { { "unknown", 31 }, { "search", 26 }, { "social", 19 }, { "website", 14 }, { "email", 6 },
  { "paid", 4 } }

local function sample()
  local from = calendar.days_from_civil(2023, 1, 1) * 86400
  local to = calendar.days_from_civil(2023, 2, 1) * 86400
  local counts = { country = {}, device_type = {}, os = {}, browser = {}, referrer_medium = {} }
  local function count(group, v) counts[group][v] = (counts[group][v] or 0) + 1 end
  local times, durations = {}, {}
  local funnel = { ready = 0, play = 0, pause_or_seek = 0, ["end"] = 0 }
  local events = 0
  local types = { ready = 0, play = 0, pause = 0, resume = 0, ["seek.forward"] = 0, ["seek.backward"] = 0,
    ["end"] = 0 }
  local n = 1873
  for i = 1, n do
    -- more sessions in the evening (UTC) and as the month goes on
    local day = math.floor(random() ^ 0.8 * 31)
    local hour = pick({ { 7, 2 }, { 9, 3 }, { 12, 4 }, { 15, 4 }, { 18, 7 }, { 20, 9 }, { 22, 5 }, { 1, 1 } })
    times[i] = from + day * 86400 + hour * 3600 + math.floor(random() * 7200)
    count("country", pick(COUNTRIES))
    count("device_type", pick(DEVICES))
    count("os", pick(OSES))
    count("browser", pick(BROWSERS))
    count("referrer_medium", pick(MEDIUMS))
    -- durations: log-normal-ish, a few very long ones
    local d = math.exp(2.5 + random() * 3.5 + (random() < 0.03 and 2.5 or 0))
    if random() < 0.95 then durations[#durations + 1] = math.floor(d * 10 + 0.5) / 10 end
    funnel.ready = funnel.ready + 1
    types.ready = types.ready + 1
    if random() < 0.86 then
      funnel.play = funnel.play + 1
      types.play = types.play + 1
      if random() < 0.58 then
        funnel.pause_or_seek = funnel.pause_or_seek + 1
        for _ = 1, 1 + math.floor(random() * 6) do
          local t = pick({ { "pause", 5 }, { "seek.forward", 3 }, { "seek.backward", 2 } })
          types[t] = types[t] + 1
          if t == "pause" then types.resume = types.resume + 1 end
        end
      end
      if random() < 0.47 then
        funnel["end"] = funnel["end"] + 1
        types["end"] = types["end"] + 1
      end
    end
  end
  local event_types = {}
  for t, c in pairs(types) do
    event_types[#event_types + 1] = { t, c }
    events = events + c
  end
  table.sort(event_types, function(a, b) return a[1] < b[1] end)
  local breakdowns = {}
  for group, c in pairs(counts) do
    local rows = {}
    for k, v in pairs(c) do rows[#rows + 1] = { k, v } end
    table.sort(rows, function(a, b) return a[1] < b[1] end) -- any order: the report ranks them
    breakdowns[group] = rows
  end
  return {
    media = { kind = "video", id = "vi4k0jvEUuaTdRAEjQ4Prklg", name = "Product launch keynote" },
    period = "2023-01", from = from, to = to,
    filters = { { key = "campaign", value = "launch-2023" } },
    generated_at = calendar.days_from_civil(2023, 2, 1) * 86400 + 9 * 3600 + 30 * 60,
    sessions = n, events = events,
    over_time = { times = times },
    breakdowns = breakdowns,
    durations = durations,
    funnel = funnel,
    event_types = event_types,
    left_out = { { what = "events of session psOuB2sW6bBKtbDVTEyVIMjo", reason = "apivideo: HTTP 500 Internal"
      .. " Server Error GET /analytics/sessions/psOuB2sW6bBKtbDVTEyVIMjo/events (after 4 attempts)" } },
  }
end

local out = arg and arg[1] or (here .. "report.html")
local f = assert(io.open(out, "wb"))
f:write(report.html(sample()))
f:close()
print(out)
