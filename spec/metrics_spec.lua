-- Today's Analytics operations (openapi-2025.yaml, tag Analytics) against the
-- stand-in with the real libcurl: get_aggregated_metrics,
-- get_metrics_breakdown, get_metrics_over_time and their iterators. This file:
--
--   * results: the figures agree with each other (the stand-in's guarantee,
--     notes/standin-contract.md), the shapes are snake_case, nothing the
--     server sent is dropped (compared with the raw body read with luasocket);
--   * iterators: order, prefetch, errors, 429, cancel, a contradicting server;
--   * the stand-in's 400 problem bodies as error objects.
--
-- The stand-in's clock is fixed at 2024-01-01T00:00:00Z and it refuses a
-- `from` older than 30 days, so the figures here are those of a day in
-- December 2023 (about 300 sessions of the whole project per day), the day
-- of spec/support/metrics.lua. The vocabularies are written from
-- notes/analytics-2025.md, not read from apivideo.operations, so a wrong row
-- there shows up as a failure.
-- What reaches the server: spec/metrics_wire_spec.lua; bad arguments raising
-- before any request: spec/metrics_args_spec.lua.
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local L = require("spec.support.lists")
local Mx = require("spec.support.metrics")
local socket = require("socket")
local V = require("spec.support.compat")

local srv = S.shared()
local function fresh_server() srv:idle_reset() end
local new_client = clients.builder({ base_url = srv.url, max_retries = 0, auth = "basic" })
local with = clients.options
local sorted = L.sorted
local range = L.range
local TO, FROM_ATOM, TO_ATOM, DAY = Mx.TO, Mx.FROM_ATOM, Mx.TO_ATOM, Mx.DAY
local data_log, last_entry, pages_requested = Mx.data_log, Mx.last_entry, Mx.pages_requested
local sum, collect, raw_answer = Mx.sum, Mx.collect, Mx.raw_answer

describe("metrics: results", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)

  it("a breakdown of plays sums to the plays of the metric, for every breakdown, with and without filters", function()
    local FILTERS = { {}, { device_type = { "phone", "tablet" } }, { country = "US", browser = "chrome" },
      { media_type = "live-stream" } }
    for _, f in ipairs(FILTERS) do
      local opts = with(DAY, { filter_by = f })
      local plays = assert(A:get_aggregated_metrics("play", "count", opts)).data
      if next(f) == nil then assert.is_true(plays > 100, plays) end
      for _, b in ipairs({ "media-id", "media-type", "continent", "country", "device-type", "operating-system",
        "browser", "referrer" }) do
        local items = collect(A:metrics_breakdown("play", b, with(opts, { page_size = 100 })))
        assert.are.equal(plays, sum(items), b)
      end
      -- other count metrics
      for _, m in ipairs({ "start", "end", "impression" }) do
        local total = assert(A:get_aggregated_metrics(m, "count", opts)).data
        assert.are.equal(total, sum(collect(A:metrics_breakdown(m, "country", with(opts, { page_size = 100 })))), m)
        assert.are.equal(total, sum(collect(A:metrics_over_time(m, with(opts, { page_size = 100 })))), m)
      end
    end
  end)

  it("a time series of plays sums to the plays of the metric, at every interval", function()
    local three = { from = "2023-12-18T00:00:00Z", to = TO }
    local plays3 = assert(A:get_aggregated_metrics("play", "count", three)).data
    local daily = collect(A:metrics_over_time("play", three))
    assert.are.equal(3, #daily)
    assert.are.equal(plays3, sum(daily))
    local hourly = collect(A:metrics_over_time("play", with(three, { interval = "hour", page_size = 10 })))
    assert.are.equal(72, #hourly)
    assert.are.equal(plays3, sum(hourly))
    local hour = { from = "2023-12-20T10:00:00Z", to = "2023-12-20T11:00:00Z" }
    local plays1 = assert(A:get_aggregated_metrics("play", "count", hour)).data
    assert.is_true(plays1 > 0)
    assert.are.equal(plays1, sum(collect(A:metrics_over_time("play", with(hour, { interval = "minute" })))))
    -- the first day of the series equals the metric of that day
    local first = assert(A:get_aggregated_metrics("play", "count", { from = "2023-12-18T00:00:00Z",
      to = "2023-12-19T00:00:00Z" })).data
    assert.are.equal(first, daily[1].metric_value)
  end)

  it("play/total and play-total/media-id count all time and agree with each other", function()
    local total = assert(A:get_aggregated_metrics("play", "total", { filter_by = { media_type = "video" } }))
    local buckets = collect(A:metrics_breakdown("play-total", "media-id", { filter_by = { media_type = "video" } }))
    assert.are.equal(total.data, sum(buckets))
    -- every session of 2023 is before now: each video with sessions has a bucket of all of them
    local want, n = {}, 0
    for id, src in pairs(S.data().SOURCES) do
      if src.kind == "video" and src.n > 0 then
        want[id] = assert(A:list_video_sessions(id, { period = "2023", page_size = 1 })).pagination.items_total
        n = n + 1
      end
    end
    for _, b in ipairs(buckets) do assert.are.equal(want[b.dimension_value], b.metric_value, b.dimension_value) end
    assert.are.equal(n, #buckets)
    local one = assert(A:get_aggregated_metrics("play", "total", { filter_by = { media_id = "li500" } }))
    assert.are.equal(500, one.data)
  end)

  it("shapes: snake_case fields, context and timeframe kept as sent, integer counts, float rates and averages",
    function()
      local r = assert(A:get_metrics_breakdown("play", "country", DAY))
      assert.are.same({ metric = "play", breakdown = "country", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        r.context)
      for _, it in ipairs(r.data) do
        assert.are.same({ "dimension_value", "metric_value" }, sorted((function()
          local ks = {}
          for k in pairs(it) do ks[#ks + 1] = k end
          return ks
        end)()))
        assert.is_string(it.dimension_value)
        assert.is_true(V.is_integer(it.metric_value), tostring(it.metric_value))
      end
      local ts = assert(A:get_metrics_over_time("play", DAY))
      for _, it in ipairs(ts.data) do
        assert.is_nil(it.emittedAt)
        assert.is_nil(it.metricValue)
        assert.matches("^2023%-12%-20T%d%d:00:00%+00:00$", it.emitted_at)
        assert.is_true(V.is_integer(it.metric_value))
      end
      local p = ts.pagination
      for _, k in ipairs({ "current_page", "current_page_items", "page_size", "pages_total", "items_total" }) do
        assert.is_true(V.is_integer(p[k]), k)
      end
      assert.is_nil(p.pagesTotal)
      assert.are.equal("self", p.links[1].rel)
      local m = assert(A:get_aggregated_metrics("watch-time", "sum", DAY))
      assert.is_true(V.is_integer(m.data))
      assert.are.same({ metric = "watch-time", aggregation = "sum", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        m.context)
      -- floats on 5.3+ (every number is a float before that), 1.0 included
      local FLOATS = {
        { "get_aggregated_metrics", "play", "rate" }, { "get_aggregated_metrics", "impression-time", "average" },
        { "get_aggregated_metrics", "watch-time", "average" },
      }
      for _, f in ipairs(FLOATS) do
        local x = assert(A[f[1]](A, f[2], f[3], DAY)).data
        assert.are.equal("float", V.math_type(x), f[2] .. "/" .. f[3])
        assert.is_true(x > 0)
      end
      -- (a rate or an average that happens to be whole: the next test)
      local fractions = 0
      for _, it in ipairs(assert(A:get_metrics_breakdown("play-rate", "country", DAY)).data) do
        assert.is_true(it.metric_value > 0 and it.metric_value <= 1)
        if it.metric_value < 1 then
          assert.are.equal("float", V.math_type(it.metric_value), it.dimension_value)
          fractions = fractions + 1
        end
      end
      assert.is_true(fractions >= 3, fractions)
      for _, it in ipairs(assert(A:get_metrics_over_time("ccv-average", DAY)).data) do
        if it.metric_value ~= math.floor(it.metric_value) then
          assert.are.equal("float", V.math_type(it.metric_value))
        end
      end
      for _, it in ipairs(assert(A:get_metrics_over_time("ccv-peak", DAY)).data) do
        assert.is_true(V.is_integer(it.metric_value))
      end
    end)

  it("a rate or an average that happens to be whole (the stand-in sends 1.0) is still a float on 5.3+", function()
    -- vi250 and li500 have one session on that day: a play rate of 1 / 1 or 1 / 2
    local rates = assert(A:get_metrics_breakdown("play-rate", "media-id", DAY)).data
    local whole = {}
    for _, it in ipairs(rates) do
      if it.metric_value == 1 then whole[#whole + 1] = it end
    end
    assert.is_true(#whole > 0, "no rate of exactly 1.0 to check")
    local one = assert(A:get_aggregated_metrics("play", "rate", with(DAY,
      { filter_by = { media_id = whole[1].dimension_value } }))).data
    assert.are.equal(1, one)
    local wrong = {}
    for _, it in ipairs(whole) do
      if V.math_type(it.metric_value) ~= "float" then wrong[#wrong + 1] = "play-rate " .. it.dimension_value end
    end
    if V.math_type(one) ~= "float" then wrong[#wrong + 1] = "play/rate" end
    assert.are.same({}, wrong)
  end)

  it("nothing the server sent is dropped (the raw body, keys in snake_case) and rate_limit is added", function()
    srv:config({ rate_limit = { limit = 500, window_s = 30 } })
    local CALLS = {
      function() return A:get_aggregated_metrics("ccv", "peak", with(DAY, { unique = true })) end,
      function() return A:get_metrics_breakdown("view", "referrer", with(DAY, { page_size = 7, current_page = 2 })) end,
      function() return A:get_metrics_over_time("play-rate", with(DAY, { page_size = 5 })) end,
    }
    for k, call in ipairs(CALLS) do
      local r = assert(call())
      local uri = last_entry().uri
      local rl = r.rate_limit
      -- the raw reads here count against the limit too: 2 requests per call
      assert.are.same({ limit = 500, remaining = 500 - (2 * k - 1), retry_after = 30 }, rl)
      for _, f in ipairs({ "limit", "remaining", "retry_after" }) do assert.is_true(V.is_integer(rl[f]), f) end
      r.rate_limit = nil
      assert.are.same(raw_answer(uri), r)
    end
  end)
end)

describe("metrics: iterators", function()
  before_each(fresh_server)

  it("every item once, in order, across pages (items and pages, both operations)", function()
    local c = new_client({ concurrency = 3 })
    local A = c.analytics
    local full = assert(A:get_metrics_over_time("play", with(DAY, { page_size = 100 }))).data
    srv:reset()
    local items = collect(A:metrics_over_time("play", with(DAY, { page_size = 5 })))
    assert.are.same(full, items)
    assert.are.same(range(1, 5), sorted(pages_requested()))
    -- buckets, sorted by the dimension: about 50 referrers over 8 pages of 7
    srv:reset()
    local opts = with(DAY, { sort_by = "dimension_value", sort_order = "asc", page_size = 7 })
    local pages, values = {}, {}
    for page in A:metrics_breakdown_pages("view", "referrer", opts) do
      pages[#pages + 1] = page.pagination.current_page
      assert.are.same({ metric = "view-5", breakdown = "referrer", timeframe = { from = FROM_ATOM, to = TO_ATOM } },
        page.context)
      for _, it in ipairs(page.data) do values[#values + 1] = it.dimension_value end
    end
    local total = #values
    assert.is_true(total > 14, total)
    assert.are.same(range(1, math.ceil(total / 7)), pages)
    assert.are.same(sorted(values), values)
    local seen = {}
    for _, v in ipairs(values) do
      assert.is_nil(seen[v], v)
      seen[v] = true
    end
    assert.are.equal("", values[1]) -- the sessions without a referrer
    -- the items iterator of the same walk, starting at page 3
    local rest = collect(A:metrics_breakdown("view", "referrer", with(opts, { current_page = 3 })))
    assert.are.equal(total - 14, #rest)
    assert.are.equal(values[15], rest[1].dimension_value)
    -- time series pages
    local nums = {}
    for page in A:metrics_over_time_pages("play", with(DAY, { page_size = 10 })) do
      nums[#nums + 1] = page.pagination.current_page
      assert.are.equal("hour", page.context.interval)
    end
    assert.are.same({ 1, 2, 3 }, nums)
  end)

  it("a single empty page: no item, one request", function()
    local c = new_client()
    local n = 0
    for _ in c.analytics:metrics_breakdown("play", "country", with(DAY, { filter_by = { country = "ZZ" } })) do
      n = n + 1
    end
    for _ in c.analytics:metrics_over_time("play", with(DAY, { filter_by = { tag = "none" } })) do n = n + 1 end
    assert.are.equal(0, n)
    assert.are.same({ 1, 1 }, pages_requested())
  end)

  for _, conc in ipairs({ 1, 3 }) do
    it("prefetch keeps " .. conc .. " pages in flight at once (the stand-in's max_in_flight), never more", function()
      srv:config({ latency_ms = 80 })
      local c = new_client({ concurrency = conc })
      local n = 0
      for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 3 })) do n = n + 1 end
      assert.are.equal(24, n)
      assert.are.equal(conc, srv:stats().max_in_flight)
      assert.are.same(range(1, 8), sorted(pages_requested()))
      if conc == 1 then assert.are.same(range(1, 8), pages_requested()) end
    end)
  end

  it("an error mid-walk raises the error object after the items before it", function()
    srv:faults({ { match = "/data/timeseries/play", kind = "500", skip = 2, count = 1 } })
    local c = new_client({ concurrency = 1 })
    local n = 0
    local ok, err = pcall(function()
      for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 4 })) do n = n + 1 end
    end)
    assert.is_false(ok)
    assert.is_true(apivideo.is_error(err), tostring(err))
    assert.are.equal("http", err.kind)
    assert.are.equal(500, err.status)
    assert.matches("/data/timeseries/play%?.*currentPage=3&pageSize=4$", err.url)
    assert.are.equal(8, n)
    assert.are.equal(0, c:in_flight())
    assert.are.same({ 1, 2, 3 }, pages_requested())
    -- a page iterator too, and it is finished afterwards
    fresh_server()
    srv:faults({ { match = "/data/buckets/", kind = "invalid_json", skip = 1, count = -1 } })
    local f = c.analytics:metrics_breakdown_pages("play", "referrer", with(DAY, { page_size = 5 }))
    assert.are.equal(1, f().pagination.current_page)
    local ok2, err2 = pcall(f)
    assert.is_false(ok2)
    assert.are.equal("decode", err2.kind)
    assert.is_nil(f())
  end)

  it("a 429 is waited out (X-RateLimit-Retry-After: 1) and the page asked again", function()
    srv:faults({ { match = "/data/buckets/", kind = "429", skip = 1, count = 1 } })
    local c = new_client({ concurrency = 1, max_retries = 2 })
    local t0 = socket.gettime()
    local items = collect(c.analytics:metrics_breakdown("play", "referrer", with(DAY, { page_size = 10 })))
    local elapsed = socket.gettime() - t0
    local want = assert(c.analytics:get_metrics_breakdown("play", "referrer", with(DAY, { page_size = 100 }))).data
    assert.are.same(want, items)
    assert.is_true(elapsed >= 0.9, "waited only " .. elapsed .. " s")
    local log = data_log()
    assert.are.equal(429, log[2].status)
    assert.are.equal("2", log[2].args.currentPage)
    assert.are.equal("2", log[3].args.currentPage)
    assert.are.equal(200, log[3].status)
  end)

  describe("leaving a walk early cancels the pages in flight", function()
    -- As in pager_spec: on 5.4 the generic for closes the walk at the break,
    -- elsewhere the walk ends when its iterator is collected.
    local function closed_at_once(c)
      if V.CLOSES_LOOPS then assert.are.equal(0, c:in_flight()) end
    end
    local function closed_once_collected(c)
      if not V.CLOSES_LOOPS then V.collect() end
      assert.are.equal(0, c:in_flight())
    end

    it("break (items and pages)", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 4 })
      local during
      local function items()
        for _ in c.analytics:metrics_over_time("play", with(DAY, { page_size = 2 })) do -- luacheck: ignore 512
          c:step(0)
          during = c:in_flight()
          break
        end
        closed_at_once(c)
      end
      items()
      closed_once_collected(c)
      assert.are.equal(4, during) -- pages 2..5
      local function pages()
        local opts = with(DAY, { page_size = 2 })
        for _ in c.analytics:metrics_breakdown_pages("play", "referrer", opts) do -- luacheck: ignore 512
          c:step(0)
          during = c:in_flight()
          break
        end
        closed_at_once(c)
      end
      pages()
      closed_once_collected(c)
      assert.are.equal(4, during)
      local sent = srv:stats().requests
      assert.is_true(sent <= 2 * (1 + 4), sent)
      socket.sleep(0.3)
      assert.are.equal(sent, srv:stats().requests) -- nothing new was started
      -- the client is still usable
      assert(c.analytics:get_aggregated_metrics("play", "count", DAY))
    end)

    it("close(), the fourth value of the iterator call, on every Lua", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 3 })
      local f, _, _, walk = c.analytics:metrics_breakdown("play", "referrer", with(DAY, { page_size = 5 }))
      assert.is_string(f().dimension_value)
      c:step(0)
      assert.are.equal(3, c:in_flight())
      walk:close()
      assert.are.equal(0, c:in_flight())
      assert.is_nil(f())
      local pf, _, _, pwalk = c.analytics:metrics_over_time_pages("play", with(DAY, { page_size = 2 }))
      assert.are.equal(1, pf().pagination.current_page)
      c:step(0)
      assert.are.equal(3, c:in_flight())
      pwalk:close()
      assert.are.equal(0, c:in_flight())
      assert.is_nil(pf())
    end)
  end)

  for _, kind in ipairs({ "items", "pages" }) do
    it("a server that contradicts itself ('page 1 of 2' whatever is asked) ends with a decode error (" .. kind .. ")",
      function()
        srv:faults({ { match = "/data/", kind = "pagination", current_page = 1, pages_total = 2, count = -1 } })
        local c = new_client({ concurrency = 4 })
        local A = c.analytics
        local walks = kind == "items" and {
          function() return A:metrics_breakdown("play", "referrer", with(DAY, { page_size = 5 })) end,
          function() return A:metrics_over_time("play", with(DAY, { page_size = 5 })) end,
        } or {
          function() return A:metrics_breakdown_pages("play", "referrer", with(DAY, { page_size = 5 })) end,
          function() return A:metrics_over_time_pages("play", with(DAY, { page_size = 5 })) end,
        }
        for _, walk in ipairs(walks) do
          local n = 0
          local ok, err = pcall(function()
            for _ in walk() do n = n + 1 end
          end)
          assert.is_false(ok)
          assert.is_true(apivideo.is_error(err), tostring(err))
          assert.are.equal("decode", err.kind)
          assert.are.equal(2, err.page_asked)
          assert.are.equal(1, err.page_answered)
          assert.matches("currentPage=2", err.url, 1, true)
          assert.are.equal(kind == "items" and 5 or 1, n)
          assert.are.equal(0, c:in_flight())
        end
      end)
  end
end)

describe("metrics: the stand-in's 400 problem bodies", function()
  local c, A
  before_each(function()
    fresh_server()
    c = new_client()
    A = c.analytics
  end)

  it("from older than 30 days (let through by design, D8): kind http, status 400, name and detail kept", function()
    local old = { from = "2023-11-20T00:00:00Z", to = TO }
    local CALLS = {
      function() return A:get_aggregated_metrics("play", "count", old) end,
      function() return A:get_metrics_breakdown("play", "country", old) end,
      function() return A:get_metrics_over_time("play", old) end,
    }
    for _, call in ipairs(CALLS) do
      local r, err = call()
      assert.is_nil(r)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal("http", err.kind)
      assert.are.equal(400, err.status)
      assert.are.equal("from", err.name)
      assert.are.equal("https://docs.api.video/reference/request-invalid-query-parameter", err.type)
      assert.are.equal("A query parameter is invalid.", err.title)
      assert.are.equal("The period must not start more than 30 days ago (2023-12-02T00:00:00+00:00).", err.detail)
      assert.are.equal("GET", err.method)
      assert.are.equal(srv.url .. last_entry().uri, err.url)
      assert.are.equal(1, err.attempts)
      assert.is_nil(tostring(err):find("\n"))
      assert.matches("^apivideo: HTTP 400 A query parameter is invalid%. %(from%) %- The period", tostring(err))
    end
    assert.are.equal(3, srv:stats().status["400"])
    -- only `to`, old: the default from (to - 1 day) is too old, so the API names `to`
    local _, err = A:get_metrics_over_time("play", { to = "2023-12-02T12:00:00Z" })
    assert.are.equal(400, err.status)
    assert.are.equal("to", err.name)
    -- an iterator raises the same error object
    local ok, e2 = pcall(function()
      for _ in A:metrics_breakdown("play", "country", old) do end
    end)
    assert.is_false(ok)
    assert.is_true(apivideo.is_error(e2))
    assert.are.equal(400, e2.status)
    assert.are.equal("from", e2.name)
    -- play/total ignores from/to and play-total/media-id is not bound by the 30 days
    -- every session of every source the stand-in has, as its raw-statistics operations list them
    local all = 0
    for id, src in pairs(S.data().SOURCES) do
      local list = src.kind == "video" and A.list_video_sessions or A.list_live_stream_sessions
      all = all + assert(list(A, id, { period = "2023", page_size = 1 })).pagination.items_total
    end
    assert.is_true(all > 0)
    local total = assert(A:get_aggregated_metrics("play", "total", old))
    assert.are.equal(all, total.data)
    local buckets = assert(A:get_metrics_breakdown("play-total", "media-id", { from = "2023-01-01T00:00:00Z" }))
    assert.are.equal(all, sum(buckets.data))
  end)
end)
