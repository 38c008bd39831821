-- Specs of the stand-in's /data/* operations (notes/analytics-2025.md,
-- notes/standin-contract.md "Today's Analytics"), over HTTP with luasocket only.
-- Figures are checked against each other and against the stand-in's own
-- session lists, never against numbers written here.
--   lua5.4 /usr/bin/busted spec/standin_data_spec.lua
local S = require("spec.support.standin")
local mime = require("mime")
local socket = require("socket")
local cjson = require("cjson")
local V = require("spec.support.compat")
local shell = require("spec.support.shell")

local KEY = "standin-key"
local BASIC = "Basic " .. mime.b64(KEY .. ":")

local srv

local function enc(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- GET path (relative) -> status, decoded json (or nil), headers, raw body
local function get(path, auth)
  local code, body, h = S.http("GET", srv.url .. path, nil, { authorization = auth or BASIC })
  assert(code, "request failed: " .. tostring(body))
  local ok, t = pcall(cjson.decode, body)
  return code, ok and t or nil, h, body
end

local function ok_json(path, auth)
  local code, t, _, body = get(path, auth)
  assert.are.equal(200, code, path .. " -> " .. tostring(body))
  return t
end

-- query string from an array of {name, value} (values percent-encoded)
local function qs(list)
  local out = {}
  for k, p in ipairs(list) do out[k] = p[1] .. "=" .. enc(p[2]) end
  return #out > 0 and ("?" .. table.concat(out, "&")) or ""
end

local function with(list, extra)
  local t = {}
  for _, p in ipairs(list) do t[#t + 1] = p end
  for _, p in ipairs(extra or {}) do t[#t + 1] = p end
  return t
end

local function metric(m, agg, params) return ok_json("/data/metrics/" .. m .. "/" .. agg .. qs(params or {})).data end

-- every item of a paginated /data list, walking currentPage until pagesTotal
local function all_items(path, params, page_size)
  local items, page, pages = {}, 1
  repeat
    local t = ok_json(path .. qs(with(params, { { "currentPage", page }, { "pageSize", page_size or 100 } })))
    pages = t.pagination.pagesTotal
    for _, it in ipairs(t.data) do items[#items + 1] = it end
    page = page + 1
  until page > pages
  return items
end

local function sum(items)
  local s = 0
  for _, it in ipairs(items) do s = s + it.metricValue end
  return s
end

-- A day of June 2023, inside the 30 days before the clock set below.
local DAY = "2023-06-20"
local FROM, TO = DAY .. "T00:00:00+00:00", "2023-06-21T00:00:00+00:00"
local RANGE = { { "from", FROM }, { "to", TO } }
local NOW = "2023-07-01T00:00:00Z"

local VIDEOS = { "vi10k", "vi100k", "vi250", "viEmpty", "vi4k0jvEUuaTdRAEjQ4Prklg" }
local LIVES = { "li500", "liEmpty", "li400mYKSgQ6xs7taUeSaEKr" }

-- Sessions of every source listed by the raw-statistics operations for a period.
local function listed(period)
  local n = 0
  for _, id in ipairs(VIDEOS) do
    n = n + ok_json("/analytics/videos/" .. id .. "?period=" .. period).pagination.itemsTotal
  end
  for _, id in ipairs(LIVES) do
    n = n + ok_json("/analytics/live-streams/" .. id .. "?period=" .. period).pagination.itemsTotal
  end
  return n
end

-- Every session of every source loaded on DAY, from the raw-statistics lists.
local function sessions_of_day()
  local out = {}
  local function walk(kind, id)
    local page, pages = 1
    repeat
      local t = ok_json(("/analytics/%s/%s?period=%s&pageSize=100&currentPage=%d"):format(kind, id, DAY, page))
      pages = t.pagination.pagesTotal
      for _, s in ipairs(t.data) do
        s.media_id, s.media_type = id, kind == "videos" and "video" or "live-stream"
        out[#out + 1] = s
      end
      page = page + 1
    until page > pages
  end
  for _, id in ipairs(VIDEOS) do walk("videos", id) end
  for _, id in ipairs(LIVES) do walk("live-streams", id) end
  return out
end

local PROBLEM_Q = "https://docs.api.video/reference/request-invalid-query-parameter"
local PROBLEM_A = "https://docs.api.video/reference/invalid-attribute"

local function problem(path, auth)
  local code, t, h = get(path, auth)
  assert.are.equal(400, code, path)
  assert.are.equal("application/problem+json", h["content-type"])
  assert.are.equal(400, V.tointeger(t.status))
  return t
end

describe("stand-in /data/* #once", function()
  setup(function()
    srv = S.shared()
    srv:idle_reset()
  end)
  teardown(function() srv:reset() end)
  before_each(function()
    srv:reset()
    srv:config({ now = NOW })
  end)

  describe("consistency with the sessions", function()
    it("plays, starts and sessions of a day agree with the session lists of every source", function()
      local n = listed(DAY)
      assert.is_true(n > 250)
      assert.are.equal(n, metric("play", "count", RANGE))
      assert.are.equal(n, metric("start", "count", RANGE))
      local ten = { { "from", "2023-06-10T00:00:00Z" }, { "to", "2023-06-20T00:00:00Z" } }
      assert.are.equal(listed("2023-06-10/2023-06-19"), metric("play", "count", ten))
    end)

    it("every filterBy key selects the sessions that carry its value", function()
      local sessions = sessions_of_day()
      local COUNTRY = { France = "FR", Germany = "DE", ["United States"] = "US", Japan = "JP", Brazil = "BR",
        Canada = "CA" }
      local CONTINENT = { FR = "EU", DE = "EU", US = "NA", CA = "NA", JP = "AS", BR = "SA" }
      local DEVICE = { desktop = "computer", mobile = "phone", tablet = "tablet", tv = "tv" }
      local OS = { ["Microsoft Windows"] = "windows", Mac = "mac osx", iOS = "ios", Android = "android",
        ["GNU/Linux"] = "linux" }
      local BROWSER = { Firefox = "firefox", Chrome = "chrome", Safari = "safari", Edge = "edge",
        ["api.video player"] = "unknown" }
      local function tag_of(s)
        for _, m in ipairs(s.session.metadata or {}) do if m.key == "tag" then return m.value end end
      end
      local function ref_of(s)
        local u = s.referrer.url
        if u == cjson.null or u == nil then return "" end
        return u
      end
      local cases = {
        { "mediaId", "vi10k", function(s) return s.media_id == "vi10k" end, true },
        { "mediaType", "live-stream", function(s) return s.media_type == "live-stream" end, false },
        { "continent", "EU", function(s) return CONTINENT[COUNTRY[s.location.country]] == "EU" end, true },
        { "country", "JP", function(s) return COUNTRY[s.location.country] == "JP" end, true },
        { "deviceType", "phone", function(s) return DEVICE[s.device.type] == "phone" end, true },
        { "operatingSystem", "mac osx", function(s) return OS[s.os.name] == "mac osx" end, true },
        { "browser", "firefox", function(s) return BROWSER[s.client.name] == "firefox" end, true },
        { "tag", "café au lait", function(s) return tag_of(s) == "café au lait" end, false },
        { "referrer", "https://example.com/watch/3", function(s) return ref_of(s) == "https://example.com/watch/3" end,
          true },
        { "referrer", "", function(s) return ref_of(s) == "" end, true },
      }
      for _, c in ipairs(cases) do
        local want = 0
        for _, s in ipairs(sessions) do if c[3](s) then want = want + 1 end end
        assert.is_true(want > 0, c[1] .. " selects something")
        local name = "filterBy[" .. c[1] .. "]" .. (c[4] and "[]" or "")
        assert.are.equal(want, metric("play", "count", with(RANGE, { { name, c[2] } })), c[1] .. "=" .. c[2])
      end
      -- an array key given as a scalar, and two values of one key (OR), and two keys (AND)
      local fr, jp, fr_phone = 0, 0, 0
      for _, s in ipairs(sessions) do
        local c = COUNTRY[s.location.country]
        if c == "FR" then fr = fr + 1 end
        if c == "JP" then jp = jp + 1 end
        if c == "FR" and DEVICE[s.device.type] == "phone" then fr_phone = fr_phone + 1 end
      end
      assert.are.equal(fr, metric("play", "count", with(RANGE, { { "filterBy[country]", "FR" } })))
      assert.are.equal(fr + jp, metric("play", "count",
        with(RANGE, { { "filterBy[country][]", "FR" }, { "filterBy[country][]", "JP" } })))
      assert.are.equal(fr_phone, metric("play", "count",
        with(RANGE, { { "filterBy[country][0]", "FR" }, { "filterBy[deviceType][]", "phone" } })))
      -- an unknown value matches nothing
      assert.are.equal(0, metric("play", "count", with(RANGE, { { "filterBy[country][]", "ZZ" } })))
    end)

    it("the buckets of every breakdown sum to the metric and each equals the filtered metric", function()
      local total = metric("play", "count", RANGE)
      local BD = { ["media-id"] = "mediaId", ["media-type"] = "mediaType", continent = "continent",
        country = "country", ["device-type"] = "deviceType", ["operating-system"] = "operatingSystem",
        browser = "browser", referrer = "referrer" }
      for breakdown, key in pairs(BD) do
        local items = all_items("/data/buckets/play/" .. breakdown, RANGE, 7)
        assert.is_true(#items > 1, breakdown)
        assert.are.equal(total, sum(items), breakdown)
        local it = items[2]
        local name = "filterBy[" .. key .. "]" .. (key == "mediaType" and "" or "[]")
        assert.are.equal(it.metricValue, metric("play", "count", with(RANGE, { { name, it.dimensionValue } })),
          breakdown .. "=" .. it.dimensionValue)
      end
      -- with a filter, impressions and ends too
      local f = { { "filterBy[browser][]", "chrome" }, { "filterBy[browser][]", "edge" } }
      for _, m in ipairs({ "impression", "end" }) do
        assert.are.equal(metric(m, "count", with(RANGE, f)), sum(all_items("/data/buckets/" .. m .. "/country",
          with(RANGE, f))), m)
      end
    end)

    it("time series sum to the metric at every interval, points aligned and ascending", function()
      local day_plays = metric("play", "count", RANGE)
      local hours = all_items("/data/timeseries/play", with(RANGE, { { "interval", "hour" } }), 10)
      assert.are.equal(24, #hours)
      assert.are.equal(day_plays, sum(hours))
      for k, p in ipairs(hours) do
        assert.are.equal(("2023-06-20T%02d:00:00+00:00"):format(k - 1), p.emittedAt)
        -- each point is the metric of its own hour
        local hour = { { "from", p.emittedAt }, { "to", ("2023-06-20T%02d:59:59+00:00"):format(k - 1) } }
        local last = metric("play", "count", { { "from", ("2023-06-20T%02d:59:59+00:00"):format(k - 1) },
          { "to", k < 24 and ("2023-06-20T%02d:00:00+00:00"):format(k) or TO } })
        assert.are.equal(p.metricValue, metric("play", "count", hour) + last, p.emittedAt)
      end
      local ten = { { "from", "2023-06-10T00:00:00Z" }, { "to", "2023-06-20T00:00:00Z" } }
      local days = all_items("/data/timeseries/play", ten)
      assert.are.equal(10, #days)               -- default interval over 2 days: day
      assert.are.equal(metric("play", "count", ten), sum(days))
      local hour = { { "from", "2023-06-20T10:00:00Z" }, { "to", "2023-06-20T11:00:00Z" } }
      local minutes = all_items("/data/timeseries/impression", with(hour, { { "interval", "minute" } }))
      assert.is_true(#minutes > 5)
      assert.are.equal(metric("impression", "count", hour), sum(minutes))
      local f = { { "filterBy[operatingSystem][]", "linux" } }
      assert.are.equal(metric("play", "count", with(RANGE, f)), sum(all_items("/data/timeseries/play", with(RANGE, f))))
    end)

    it("rates, averages and ccv follow from the sums and the hourly points", function()
      local plays, imps = metric("play", "count", RANGE), metric("impression", "count", RANGE)
      assert.is_true(imps > plays)
      assert.is_true(math.abs(metric("play", "rate", RANGE) - plays / imps) < 1e-9)
      local wsum = metric("watch-time", "sum", RANGE)
      assert.is_true(math.abs(metric("watch-time", "average", RANGE) - wsum / plays) < 1e-6)
      local isum = metric("impression-time", "sum", RANGE)
      assert.is_true(math.abs(metric("impression-time", "average", RANGE) - isum / plays) < 1e-6)
      local peaks = all_items("/data/timeseries/ccv-peak", with(RANGE, { { "interval", "hour" } }))
      local maxp = 0
      for _, p in ipairs(peaks) do if p.metricValue > maxp then maxp = p.metricValue end end
      assert.is_true(maxp >= 2)
      assert.are.equal(maxp, metric("ccv", "peak", RANGE))
      local avgs = all_items("/data/timeseries/ccv-average", with(RANGE, { { "interval", "hour" } }))
      assert.are.equal(24, #avgs)
      local dayavg = ok_json("/data/buckets/ccv-average/media-type" .. qs(RANGE)).data
      local s = 0
      for _, b in ipairs(dayavg) do s = s + b.metricValue end
      assert.is_true(math.abs(sum(avgs) / 24 - s) < 1e-9)
      -- unique counts the first session of a viewer on a day only
      local views = metric("view", "count", RANGE)
      local uniq = ok_json("/data/metrics/view/count" .. qs(with(RANGE, { { "unique", "true" } }))).data
      assert.are.equal(plays, views)   -- every session lasts 30 s or more
      assert.is_true(uniq < views and uniq > 0)
    end)

    it("play/total and play-total/media-id count every session up to the clock, from/to ignored", function()
      srv:config({ now = "2024-01-01T00:00:00Z" })
      local n = listed("2023")
      assert.are.equal(n, metric("play", "total"))
      assert.are.equal(n, metric("play", "total", { { "from", "2023-12-31T00:00:00Z" } }))
      assert.are.equal(n, metric("play", "total", { { "from", "not a date" }, { "to", "2023-01-01T00:00:00Z" } }))
      assert.are.equal(n, sum(all_items("/data/buckets/play-total/media-id", {})))
      local live = 0
      for _, id in ipairs(LIVES) do
        live = live + ok_json("/analytics/live-streams/" .. id .. "?period=2023").pagination.itemsTotal
      end
      assert.are.equal(live, metric("play", "total", { { "filterBy[mediaType]", "live-stream" } }))
    end)
  end)

  describe("answers", function()
    it("context echoes the request in UTC, data numbers; the default window is the day before the clock", function()
      local t = ok_json("/data/metrics/impression/count" .. qs({ { "from", "2023-06-20T02:00:00+02:00" },
        { "to", "2023-06-21T02:00:00+02:00" } }))
      assert.are.same({ metric = "impression", aggregation = "count", timeframe = { from = FROM, to = TO } }, t.context)
      assert.are.equal("number", type(t.data))
      local d = ok_json("/data/metrics/play/count")
      assert.are.same({ from = "2023-06-30T00:00:00+00:00", to = "2023-07-01T00:00:00+00:00" }, d.context.timeframe)
      assert.are.equal(d.data, metric("play", "count", { { "from", "2023-06-30T00:00:00Z" } }))
      local v = ok_json("/data/buckets/view/country" .. qs(with(RANGE, { { "unique", "true" },
        { "viewDuration", "10s" } })))
      assert.are.equal("unique-view-10", v.context.metric)
      assert.are.equal("country", v.context.breakdown)
      local ts = ok_json("/data/timeseries/ccv-peak" .. qs(with(RANGE, { { "unique", "true" } })))
      assert.are.equal("unique-ccv-peak", ts.context.metric)
      assert.are.equal("hour", ts.context.interval)
      -- the same request twice: the same body
      local _, _, _, b1 = get("/data/buckets/play/browser" .. qs(RANGE))
      local _, _, _, b2 = get("/data/buckets/play/browser" .. qs(RANGE))
      assert.are.equal(b1, b2)
    end)

    it("sorts buckets by metric value (default desc) or dimension, and series by time or value", function()
      local items = ok_json("/data/buckets/play/operating-system" .. qs(RANGE)).data
      for k = 2, #items do assert.is_true(items[k - 1].metricValue >= items[k].metricValue) end
      items = ok_json("/data/buckets/play/operating-system" .. qs(with(RANGE, { { "sortBy", "dimensionValue" },
        { "sortOrder", "asc" } }))).data
      for k = 2, #items do assert.is_true(items[k - 1].dimensionValue < items[k].dimensionValue) end
      items = ok_json("/data/timeseries/play" .. qs(with(RANGE, { { "sortBy", "metricValue" },
        { "sortOrder", "asc" }, { "pageSize", 100 } }))).data
      assert.are.equal(24, #items)
      for k = 2, #items do assert.is_true(items[k - 1].metricValue <= items[k].metricValue) end
      items = ok_json("/data/timeseries/play" .. qs(with(RANGE, { { "sortOrder", "desc" } }))).data
      assert.are.equal("2023-06-20T23:00:00+00:00", items[1].emittedAt)
    end)

    it("paginates like the other lists", function()
      local two = { { "from", "2023-06-19T00:00:00Z" }, { "to", "2023-06-21T00:00:00Z" } }
      local seen = {}
      for page = 1, 5 do
        local t = ok_json("/data/timeseries/play" .. qs(with(two, { { "currentPage", page }, { "pageSize", 10 } })))
        local p = t.pagination
        assert.are.equal(48, p.itemsTotal)
        assert.are.equal(5, p.pagesTotal)
        assert.are.equal(page, p.currentPage)
        assert.are.equal(10, p.pageSize)
        assert.are.equal(page < 5 and 10 or 8, p.currentPageItems)
        assert.are.equal(p.currentPageItems, #t.data)
        local rels = {}
        for _, l in ipairs(p.links) do rels[l.rel] = l.uri end
        assert.truthy(rels.self and rels.first and rels.last)
        assert.are.equal(page > 1, rels.previous ~= nil)
        assert.are.equal(page < 5, rels.next ~= nil)
        if rels.next then
          assert.truthy(rels.next:find("currentPage=" .. (page + 1) .. "&pageSize=10", 1, true))
          assert.truthy(rels.next:find("from=2023-06-19T00%3A00%3A00Z", 1, true))
        end
        for _, it in ipairs(t.data) do
          assert.is_nil(seen[it.emittedAt])
          seen[it.emittedAt] = true
        end
      end
      local beyond = ok_json("/data/timeseries/play" .. qs(with(two, { { "currentPage", 6 }, { "pageSize", 10 } })))
      assert.are.same({}, beyond.data)
      assert.are.equal(0, beyond.pagination.currentPageItems)
      local d = ok_json("/data/buckets/play/referrer" .. qs(RANGE))
      assert.are.equal(25, d.pagination.pageSize)
      assert.are.equal(25, #d.data)
    end)
  end)

  describe("400 problems", function()
    it("names both values of a wrong pair and lists the valid ones", function()
      local t = problem("/data/metrics/play/sum")
      assert.are.equal(PROBLEM_A, t.type)
      assert.are.equal("An attribute is invalid.", t.title)
      assert.are.equal("aggregation", t.name)
      assert.are.equal('The aggregation "sum" cannot be used with the metric "play". Use one of "count", "rate", '
        .. '"total".', t.detail)
      t = problem("/data/metrics/watch-time/peak")
      assert.truthy(t.detail:find('Use one of "average", "sum".', 1, true))
      t = problem("/data/buckets/play-total/country")
      assert.are.equal("breakdown", t.name)
      assert.are.equal('The breakdown "country" cannot be used with the metric "play-total". Use one of "media-id".',
        t.detail)
      t = problem("/data/metrics/plays/count")
      assert.are.equal("metric", t.name)
      assert.truthy(t.detail:find('"impression-time", "watch-time", "ccv", "view"', 1, true))
      assert.are.equal("aggregation", problem("/data/metrics/play/median").name)
      assert.are.equal("breakdown", problem("/data/buckets/play/city").name)
      assert.are.equal("metric", problem("/data/timeseries/play-total").name)
      assert.are.equal("metric", problem("/data/buckets/watch-time/country").name)
    end)

    it("answers the document's bodies for dates, ranges, intervals and view durations", function()
      local function q(path, params, name, detail)
        local t = problem(path .. qs(params))
        assert.are.equal(PROBLEM_Q, t.type)
        assert.are.equal("A query parameter is invalid.", t.title)
        assert.are.equal(name, t.name)
        if detail then assert.are.equal(detail, t.detail) end
        return t
      end
      q("/data/metrics/play/count", { { "from", "2023-06-20" } }, "from")
      q("/data/metrics/play/count", { { "from", "2023-06-20 00:00:00+00:00" } }, "from")
      q("/data/metrics/play/count", { { "to", "2023-02-30T00:00:00Z" } }, "to")
      q("/data/metrics/play/count", { { "from", TO }, { "to", FROM } }, "from")
      local old = q("/data/buckets/play/country", { { "from", "2023-05-31T23:59:59Z" } }, "from")
      assert.truthy(old.detail:find("30 days", 1, true))
      ok_json("/data/buckets/play/country" .. qs({ { "from", "2023-06-01T00:00:00Z" } }))
      q("/data/timeseries/play", with(RANGE, { { "interval", "week" } }), "interval",
        'This interval is invalid. Use one of "minute", "hour", "day".')
      q("/data/timeseries/play", { { "from", "2023-06-20T10:00:00Z" }, { "to", "2023-06-20T11:00:01Z" },
        { "interval", "minute" } }, "interval", "This interval cannot be used with a timeframe over 60 minutes.")
      ok_json("/data/timeseries/play" .. qs({ { "from", "2023-06-20T10:00:00Z" }, { "to", "2023-06-20T11:00:00Z" },
        { "interval", "minute" } }))
      q("/data/metrics/view/count", { { "viewDuration", "4s" } }, "viewDuration",
        'This view duration is invalid. Use one of "3s", "5s", "10s", "30s".')
      q("/data/metrics/play/count", { { "viewDuration", "5s" } }, "viewDuration", "This field was not expected.")
      q("/data/buckets/play/country", { { "unique", "true" } }, "unique", "This field was not expected.")
      q("/data/metrics/ccv/peak", { { "unique", "yes" } }, "unique")
      q("/data/metrics/play/count", { { "period", "2023" } }, "period", "This field was not expected.")
      q("/data/metrics/play/count", { { "interval", "hour" } }, "interval", "This field was not expected.")
      q("/data/buckets/play/country", { { "sortBy", "emittedAt" } }, "sortBy")
      q("/data/timeseries/play", { { "sortOrder", "up" } }, "sortOrder")
      q("/data/buckets/play/country", { { "pageSize", 0 } }, "pageSize")
      q("/data/buckets/play/country", { { "pageSize", 101 } }, "pageSize")
      q("/data/timeseries/play", { { "currentPage", 0 } }, "currentPage")
    end)

    it("refuses filters the document does not allow", function()
      local function q(path, params, name, detail)
        local t = problem(path .. qs(params))
        assert.are.equal(PROBLEM_Q, t.type)
        assert.are.equal(name, t.name)
        if detail then assert.are.equal(detail, t.detail) end
      end
      q("/data/metrics/play/total", { { "filterBy[country][]", "FR" } }, "filterBy[country]",
        "This field was not expected.")
      q("/data/buckets/play-total/media-id", { { "filterBy[tag]", "x" } }, "filterBy[tag]")
      q("/data/metrics/play/count", { { "filterBy[city][]", "Paris" } }, "filterBy[city]",
        "This field was not expected.")
      q("/data/metrics/play/count", { { "filterBy[continent][]", "OC" } }, "filterBy[continent]")
      q("/data/metrics/play/count", { { "filterBy[mediaType]", "audio" } }, "filterBy[mediaType]")
      q("/data/metrics/play/count", { { "filterBy[tag]", "a" }, { "filterBy[tag]", "b" } }, "filterBy[tag]")
      q("/data/metrics/play/count", { { "filterBy[referrer][]", "https://x/" .. string.rep("a", 2040) } },
        "filterBy[referrer]", "This value should not contain more than 2048 characters.")
      ok_json("/data/metrics/play/count" .. qs({ { "filterBy[referrer][]", "https://x/" .. string.rep("a", 2038) } }))
    end)
  end)

  describe("like the other operations", function()
    local PATHS = { "/data/metrics/play/count", "/data/buckets/play/country", "/data/timeseries/play" }

    it("accepts Basic and Bearer, answers 401 otherwise, with X-RateLimit-* on every answer", function()
      local code, body = S.http("POST", srv.url .. "/auth/api-key", cjson.encode({ apiKey = KEY }))
      assert.are.equal(200, code)
      local bearer = "Bearer " .. cjson.decode(body).access_token
      for _, p in ipairs(PATHS) do
        local c1, _, h1 = get(p, BASIC)
        assert.are.equal(200, c1)
        assert.truthy(tonumber(h1["x-ratelimit-limit"]) and tonumber(h1["x-ratelimit-remaining"])
          and tonumber(h1["x-ratelimit-retry-after"]))
        assert.are.equal(200, (get(p, bearer)))
        for _, bad in ipairs({ "Basic " .. mime.b64("nope:"), "Bearer sta_nope", "" }) do
          local c, t, h = get(p, bad)
          assert.are.equal(401, c)
          assert.are.equal("https://docs.api.video/reference/unauthorized", t.type)
          assert.truthy(h["x-ratelimit-limit"])
        end
      end
      local _, _, h = get("/data/metrics/play/sum")
      assert.truthy(h["x-ratelimit-remaining"])
      srv:revoke()
      assert.are.equal(401, (get(PATHS[1], bearer)))
    end)

    it("counts them against the rate limit", function()
      srv:config({ rate_limit = { limit = 2, window_s = 60 } })
      assert.are.equal(200, (get(PATHS[1])))
      assert.are.equal(400, (get("/data/timeseries/play?interval=week")))
      local c, t, h = get(PATHS[2])
      assert.are.equal(429, c)
      assert.are.same({ type = "https://docs.api.video/reference/too-many-requests", title = "Too many requests.",
        status = 429 }, { type = t.type, title = t.title, status = V.tointeger(t.status) })
      assert.are.equal("0", h["x-ratelimit-remaining"])
      assert.are.equal(3, srv:stats().api_requests)
    end)

    it("applies faults, latency and unknown paths", function()
      srv:faults({ { match = "/data/buckets", kind = "502" }, { match = "/data/timeseries", kind = "truncated" },
        { match = "/data/metrics", kind = "invalid_json" } })
      local c, _, h, body = get(PATHS[2])
      assert.are.equal(502, c)
      assert.are.equal("text/html", h["content-type"])
      assert.truthy(body:find("502 Bad Gateway", 1, true))
      -- truncated: the declared Content-Length is never reached, the connection closes
      local host, port = srv.url:match("^http://([^:/]+):(%d+)")
      local sock = assert(socket.tcp())
      sock:settimeout(5)
      assert(sock:connect(host, tonumber(port)))
      assert(sock:send("GET " .. PATHS[3] .. " HTTP/1.1\r\nHost: " .. host .. "\r\nAuthorization: " .. BASIC
        .. "\r\n\r\n"))
      assert.are.equal("HTTP/1.1 200 OK", sock:receive("*l"))
      local len
      while true do
        local l = assert(sock:receive("*l"))
        if l == "" then break end
        len = len or tonumber(l:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)"))
      end
      local got, rerr, partial = sock:receive(len)
      sock:close()
      assert.is_nil(got)
      assert.are.equal("closed", rerr)
      assert.is_true(#partial > 0 and #partial < len)
      local c3, t3, _, b3 = get(PATHS[1])
      assert.are.equal(200, c3)
      assert.is_nil(t3)
      assert.are.equal('{"data": [', b3)
      -- each fired once: the next ones answer normally
      for _, p in ipairs(PATHS) do assert.are.equal(200, (get(p))) end
      srv:config({ latency_ms = 150 })
      local t0 = socket.gettime()
      assert.are.equal(200, (get(PATHS[3])))
      assert.is_true(socket.gettime() - t0 >= 0.14)
      srv:config({ latency_ms = 0 })
      local c4, t4 = get("/data/metrics/play")
      assert.are.equal(404, c4)
      assert.are.same({ type = "https://docs.api.video/reference/unrecognized-request-url",
        title = "Unrecognized request URL.", status = 404 }, { type = t4.type, title = t4.title,
        status = V.tointeger(t4.status) })
      local log = srv:log()
      assert.are.equal("/data/metrics/play", log[#log].path)
      assert.are.equal("basic", log[#log].auth)
    end)

    it("takes its clock from config now and refuses a bad one", function()
      srv:config({ now = 1687824000 })             -- 2023-06-27T00:00:00Z as epoch seconds
      local t = ok_json("/data/metrics/play/count")
      assert.are.same({ from = "2023-06-26T00:00:00+00:00", to = "2023-06-27T00:00:00+00:00" }, t.context.timeframe)
      local code = S.http("POST", srv.url .. "/_standin/config", cjson.encode({ now = "yesterday" }))
      assert.are.equal(400, code)
      srv:reset()
      t = ok_json("/data/metrics/play/count")
      assert.are.equal("2024-01-01T00:00:00+00:00", t.context.timeframe.to)
    end)

    it("takes a start clock from standin/start --now, which reset restores", function()
      local own = S.start({ now = "2023-03-10T12:00:00+01:00" })
      local url = own.url
      local ok, err = pcall(function()
        local code, body = S.http("GET", url .. "/data/metrics/play/count", nil, { authorization = BASIC })
        assert.are.equal(200, code)
        assert.are.equal("2023-03-10T11:00:00+00:00", cjson.decode(body).context.timeframe.to)
        own:config({ now = "2023-04-01T00:00:00Z" })
        own:reset()
        code, body = S.http("GET", url .. "/data/metrics/play/count", nil, { authorization = BASIC })
        assert.are.equal(200, code)
        assert.are.equal("2023-03-10T11:00:00+00:00", cjson.decode(body).context.timeframe.to)
      end)
      own:stop()
      assert(ok, err)
      local text, code = shell.run(shell.quote(S.root() .. "/standin/start") .. " --now 2023-03-10")
      assert.truthy(text:find("bad --now", 1, true))
      assert.are.equal(1, code)
    end)
  end)
end)
