-- Iterators (items and pages, all three operations) against the stand-in:
-- empty results, one page, many pages in order, a mid-way start, leaving a loop
-- early, finished iterators, errors mid-walk, prefetch overlap (measured by the
-- server's in-flight counter), connection reuse, and where the walk stops.
-- Expected ids follow the data scheme of notes/standin-contract.md:
-- session i of source X is "psX_" .. six-digit i, in loadedAt order.
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local L = require("spec.support.lists")
local model = require("spec.support.model")
local socket = require("socket")
local V = require("spec.support.compat")

local srv = S.shared()

local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })
local sid, sorted, range = model.session_id, L.sorted, L.range

-- currentPage values the server was asked for (analytics requests only), in arrival order.
local function pages_requested()
  local out = {}
  for _, e in ipairs(srv:requests("^/analytics/")) do out[#out + 1] = tonumber(e.args.currentPage) end
  return out
end

-- The page a walk must end at: pages in arrival order at the server (the
-- k-th request's page is asked[k]) and total_of(k), the pages_total the k-th
-- answer said. The walk hands pages 1, 2, ... out in order and stops at the
-- first page p whose own answer says p >= pages_total.
local function last_page(asked, total_of)
  local said = {}
  for k, p in ipairs(asked) do if said[p] == nil then said[p] = total_of(k) end end
  local p = 1
  while said[p] and p < said[p] do p = p + 1 end
  return p
end

describe("iterators", function()
  before_each(function() srv:idle_reset() end)

  describe("an empty result", function()
    it("yields no item for video_sessions, live_stream_sessions and session_events", function()
      local c = new_client()
      local n = 0
      for _ in c.analytics:video_sessions("viEmpty", { period = "2023" }) do n = n + 1 end
      for _ in c.analytics:video_sessions("vi250", { period = "2022" }) do n = n + 1 end
      for _ in c.analytics:live_stream_sessions("liEmpty", { period = "2023" }) do n = n + 1 end
      for _ in c.analytics:session_events("psNoEvents") do n = n + 1 end
      assert.are.equal(0, n)
      assert.are.equal(4, srv:stats().api_requests) -- one request each, nothing beyond pages_total (1)
      assert.are.same({ 1, 1, 1, 1 }, pages_requested())
    end)

    it("gives the API's single empty page to the page iterators, then ends", function()
      local c = new_client()
      local iters = {
        function() return c.analytics:video_session_pages("viEmpty", { period = "2023" }) end,
        function() return c.analytics:live_stream_session_pages("liEmpty", { period = "2023" }) end,
        function() return c.analytics:session_event_pages("psNoEvents") end,
      }
      for _, make in ipairs(iters) do
        local pages = {}
        for page in make() do pages[#pages + 1] = page end
        assert.are.equal(1, #pages)
        assert.are.same({}, pages[1].data)
        assert.are.equal(0, pages[1].pagination.items_total)
        assert.are.equal(1, pages[1].pagination.pages_total)
      end
      assert.are.equal(3, srv:stats().api_requests)
    end)
  end)

  describe("one page", function()
    it("yields every item of a single page and makes one request", function()
      local c = new_client()
      local ids = {}
      for s in c.analytics:video_sessions("vi250", { period = "2023-01", page_size = 100 }) do
        ids[#ids + 1] = s.session.session_id
      end
      local want = {}
      for i = 1, 22 do want[i] = sid("vi250", i) end -- January: sessions 1..22 of 250
      assert.are.same(want, ids)
      local types = {}
      for e in c.analytics:session_events("psvi250_000003") do types[#types + 1] = e.type end
      -- 3 + 3 % 8 = 6 events, types cycling from "ready"
      assert.are.same({ "ready", "play", "pause", "resume", "seek.forward", "seek.backward" }, types)
      assert.are.equal(2, srv:stats().api_requests)
    end)
  end)

  describe("many pages", function()
    it("video_sessions: every id once, in order, across 36 pages of 7", function()
      local c = new_client({ concurrency = 4 })
      local ids = {}
      for s in c.analytics:video_sessions("vi250", { period = "2023", page_size = 7 }) do
        ids[#ids + 1] = s.session.session_id
      end
      local want = {}
      for i = 1, 250 do want[i] = sid("vi250", i) end
      assert.are.same(want, ids)
      -- each page requested exactly once, and nothing after pages_total = ceil(250 / 7) = 36
      assert.are.same(range(1, 36), sorted(pages_requested()))
      assert.are.equal(36, srv:stats().api_requests)
    end)

    it("live_stream_sessions and the page iterators of all three operations", function()
      local c = new_client()
      local ids = {}
      for s in c.analytics:live_stream_sessions("li500", { period = "2023", page_size = 60 }) do
        ids[#ids + 1] = s.session.session_id
      end
      assert.are.equal(500, #ids)
      for i = 1, 500 do assert.are.equal(sid("li500", i), ids[i]) end

      local function page_numbers(iter, ...)
        local nums, items = {}, 0
        for page in iter(c.analytics, ...) do
          nums[#nums + 1] = page.pagination.current_page
          items = items + #page.data
        end
        return nums, items
      end
      local nums, items = page_numbers(c.analytics.video_session_pages, "vi250", { period = "2023", page_size = 50 })
      assert.are.same({ { 1, 2, 3, 4, 5 }, 250 }, { nums, items })
      nums, items = page_numbers(c.analytics.live_stream_session_pages, "li500", { period = "2023", page_size = 100 })
      assert.are.same({ { 1, 2, 3, 4, 5 }, 500 }, { nums, items })
      nums, items = page_numbers(c.analytics.session_event_pages, "psManyEvents", { page_size = 100 })
      assert.are.same({ range(1, 10), 1000 }, { nums, items })
    end)

    it("walks psManyEvents completely (1000 events, 40 pages of the default size)", function()
      local c = new_client()
      local types = { "ready", "play", "pause", "resume", "seek.forward", "seek.backward", "end" }
      local n, last = 0, nil
      for e in c.analytics:session_events("psManyEvents") do
        n = n + 1
        assert.are.equal(types[(n - 1) % 7 + 1], e.type)
        local t = apivideo.parse_time(e.emitted_at)
        if last then assert.is_true(t >= last) end
        last = t
      end
      assert.are.equal(1000, n)
      assert.are.same(range(1, 40), sorted(pages_requested()))
    end)
  end)

  describe("current_page", function()
    it("starts the walk there", function()
      local c = new_client()
      local ids = {}
      for s in c.analytics:video_sessions("vi250", { period = "2023", page_size = 7, current_page = 30 }) do
        ids[#ids + 1] = s.session.session_id
      end
      local want = {}
      for i = 29 * 7 + 1, 250 do want[#want + 1] = sid("vi250", i) end
      assert.are.same(want, ids)
      assert.are.same(range(30, 36), sorted(pages_requested()))
    end)

    it("past the last page: one empty page, nothing else", function()
      local c = new_client()
      local n = 0
      for _ in c.analytics:session_events("psManyEvents", { current_page = 41 }) do n = n + 1 end
      assert.are.equal(0, n)
      assert.are.same({ 41 }, pages_requested())
    end)
  end)

  describe("leaving a loop early", function()
    -- Inside the loop the caller drives the engine once (c:step(0), as a host
    -- loop would): the prefetched pages the pager spawned then have their
    -- transfers in flight, and with 100 ms of latency none can be done yet.
    --
    -- How the walk ends depends on the Lua version (README, "Iterators"):
    -- on 5.4 the generic for closes its fourth value (the walk's closer) at
    -- the break or error itself; elsewhere the walk is cancelled when its
    -- iterator is garbage collected. Each loop therefore sits in a function
    -- of its own: right after the loop, 5.4 must have nothing in flight;
    -- once that function has returned nothing references the iterator, and
    -- after two full collections the other versions must have nothing in
    -- flight either.
    local function closed_at_once(c)
      if V.CLOSES_LOOPS then assert.are.equal(0, c:in_flight()) end
    end
    local function closed_once_collected(c)
      if not V.CLOSES_LOOPS then V.collect() end
      assert.are.equal(0, c:in_flight())
    end

    it("break cancels what is in flight (at once on 5.4, when the iterator is collected elsewhere; items)", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 4 })
      local n, during = 0, nil
      local function walk()
        for _ in c.analytics:video_sessions("vi10k", { period = "2023", page_size = 10 }) do
          n = n + 1
          if n == 15 then
            c:step(0)
            during = c:in_flight()
            break
          end
        end
        closed_at_once(c)
      end
      walk()
      closed_once_collected(c)
      assert.are.equal(15, n)
      assert.is_true(during > 0, "prefetched pages were in flight at the break")
      local sent = srv:stats().requests
      socket.sleep(0.3)
      assert.are.equal(sent, srv:stats().requests) -- nothing new was started
      assert.is_true(sent <= 1 + 2 + 4, sent) -- token, pages 1-2, at most 4 prefetched
      assert.is_nil(srv:log()[sent + 1])

      -- the client is still usable afterwards
      local page, err = c.analytics:list_session_events("psvi250_000001")
      assert.is_nil(err)
      assert.are.equal(4, #page.data)
      assert.are.equal(0, c:in_flight())
    end)

    it("break cancels what is in flight (at once on 5.4, when the iterator is collected elsewhere; pages)", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 3 })
      local got = 0
      local function videos()
        for page in c.analytics:video_session_pages("vi250", { period = "2023", page_size = 10 }) do
          got = page.pagination.current_page
          c:step(0)
          if got == 2 then
            assert.is_true(c:in_flight() > 0)
            break
          end
        end
        closed_at_once(c)
      end
      videos()
      closed_once_collected(c)
      assert.are.equal(2, got)
    end)

    -- A break at the first item or page of the other operations, after a
    -- first walk of the same client: its prefetched pages (as many as the
    -- concurrency) are in flight at the break and cancelled by it.
    local BREAKS = {
      { method = "session_events", id = "psManyEvents", opts = { page_size = 5 }, concurrency = 4 }, -- pages 2..5
      { method = "live_stream_sessions", id = "li500", opts = { period = "2023", page_size = 5 }, concurrency = 4 },
      { method = "live_stream_session_pages", id = "li500", opts = { period = "2023", page_size = 10 },
        concurrency = 3 },
      { method = "session_event_pages", id = "psManyEvents", opts = { page_size = 10 }, concurrency = 3 },
    }
    for _, case in ipairs(BREAKS) do
      it("break at the first value of " .. case.method .. " cancels its " .. case.concurrency .. " prefetched pages",
        function()
          srv:config({ latency_ms = 100 })
          local c = new_client({ concurrency = case.concurrency })
          local first = c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 10 })
          assert.are.equal(10, #first.data)
          local function walk()
            for _ in c.analytics[case.method](c.analytics, case.id, case.opts) do -- luacheck: ignore 512
              c:step(0)
              assert.are.equal(case.concurrency, c:in_flight())
              break
            end
            closed_at_once(c)
          end
          walk()
          closed_once_collected(c)
        end)
    end

    it("an error raised in the loop body cancels what is in flight (at once on 5.4, when collected elsewhere)",
      function()
        srv:config({ latency_ms = 100 })
        local c = new_client({ concurrency = 4 })
        local ok, msg = pcall(function()
          for _ in c.analytics:session_events("psManyEvents", { page_size = 5 }) do
            c:step(0)
            assert(c:in_flight() == 4)
            error("caller failed")
          end
        end)
        assert.is_false(ok)
        assert.matches("caller failed", msg)
        closed_at_once(c)
        closed_once_collected(c)
      end)

    it("the fourth value of the iterator call ends the walk at once on every Lua (close())", function()
      srv:config({ latency_ms = 100 })
      local c = new_client({ concurrency = 4 })
      -- items: page 1 is handed out, pages 2..5 are in flight
      local f, _, _, walk = c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 })
      assert.are.equal(sid("vi250", 1), f().session.session_id)
      c:step(0)
      assert.are.equal(4, c:in_flight())
      walk:close()
      assert.are.equal(0, c:in_flight())
      walk:close() -- idempotent
      assert.are.equal(0, c:in_flight())
      -- the iterator ends at once, the rest of the page it holds included
      assert.is_nil(f())
      assert.is_nil(f())
      -- pages: the same, and the page iterator returns nil at once
      local pf, _, _, pwalk = c.analytics:session_event_pages("psManyEvents", { page_size = 10 })
      assert.are.equal(1, pf().pagination.current_page)
      c:step(0)
      assert.are.equal(4, c:in_flight())
      pwalk:close()
      assert.are.equal(0, c:in_flight())
      assert.is_nil(pf())
      local sent = srv:stats().requests
      assert.is_true(sent <= 1 + 2 * (1 + 4), sent) -- token, two first pages, at most 4 prefetched each
      socket.sleep(0.2)
      assert.are.equal(sent, srv:stats().requests) -- nothing new was started
    end)
  end)

  describe("cooperative mode (option yield)", function()
    -- The host's loop resumes the walk's coroutine once per "frame"; with
    -- yield = coroutine.yield the client hands control back between
    -- non-blocking steps instead of blocking while requests travel.
    -- A generic for can carry such a walk wherever an iterator may yield;
    -- on Lua 5.1 the for loop calls its iterator across a C boundary, so the
    -- walk calls the iterator function directly there (on every Lua as well).
    local function host_loop(c, co)
      local resumes, with_requests_in_flight, waits = 0, 0, {}
      while true do
        local ok, v = coroutine.resume(co)
        assert(ok, v)
        resumes = resumes + 1
        if coroutine.status(co) == "dead" then return v, resumes, with_requests_in_flight, waits end
        waits[#waits + 1] = v == nil and "nil" or v
        if c:in_flight() > 0 then with_requests_in_flight = with_requests_in_flight + 1 end
        socket.sleep(0.002) -- the rest of the host's frame
      end
    end

    local forms = { "direct calls" }
    if V.YIELD_IN_FOR then forms[2] = "a generic for" end
    local P = { period = "2023", page_size = 25 }

    it("walks in a coroutine: every item in order, control back to the host while pages travel ("
      .. table.concat(forms, ", ") .. ")", function()
      local want = {}
      for i = 1, 250 do want[i] = sid("vi250", i) end
      for _, form in ipairs(forms) do
        srv:idle_reset()
        srv:config({ latency_ms = 50 })
        local c = new_client({ concurrency = 4, auth = "basic", yield = coroutine.yield })
        local co = coroutine.create(function()
          local ids = {}
          if form == "a generic for" then
            for s in c.analytics:video_sessions("vi250", P) do ids[#ids + 1] = s.session.session_id end
          else
            local f = c.analytics:video_sessions("vi250", P)
            while true do
              local s = f()
              if s == nil then break end
              ids[#ids + 1] = s.session.session_id
            end
          end
          return ids
        end)
        local ids, resumes, in_flight, waits = host_loop(c, co)
        assert.are.same(want, ids, form)
        -- 10 requests of 50 ms each: the client yielded while they travelled
        assert.is_true(resumes > 10, form .. ": " .. resumes .. " resumes")
        assert.is_true(in_flight > 0, form .. ": the host never had control while a request was in flight")
        for _, w in ipairs(waits) do
          assert.is_true(w == "nil" or (type(w) == "number" and w >= 0), form .. ": yield(" .. tostring(w) .. ")")
        end
        assert.are.equal(0, c:in_flight())
        local st = srv:stats()
        assert.are.equal(10, st.api_requests, form)
        assert.are.equal(4, st.max_in_flight, form) -- prefetch works the same in cooperative mode
        assert.are.same(range(1, 10), sorted(pages_requested()))
      end
    end)
  end)

  describe("a finished iterator", function()
    it("keeps returning nil and sends nothing more", function()
      local c = new_client()
      local f = c.analytics:session_events("psvi250_000001") -- 4 events, one page
      local n = 0
      while f() do n = n + 1 end
      assert.are.equal(4, n)
      assert.is_nil(f())
      assert.is_nil(f())
      local pf = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 100 })
      assert.are.same({ 1, 2, 3 }, { pf().pagination.current_page, pf().pagination.current_page,
        pf().pagination.current_page })
      assert.is_nil(pf())
      assert.is_nil(pf())
      assert.are.equal(4, srv:stats().api_requests)
      assert.are.equal(0, c:in_flight())
    end)
  end)

  describe("an error mid-walk", function()
    it("raises the error object after the pages before it (items)", function()
      -- pages 1 and 2 pass, the third request (page 3) gets an HTML 500
      srv:faults({ { match = "/analytics/videos/vi250", kind = "500", skip = 2, count = 1 } })
      local c = new_client({ concurrency = 1 })
      local n = 0
      local ok, err = pcall(function()
        for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do n = n + 1 end
      end)
      assert.is_false(ok)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal("http", err.kind)
      assert.are.equal(500, err.status)
      assert.matches("currentPage=3", err.url)
      assert.matches("<html>", err.body)
      assert.are.equal(20, n)
      assert.are.equal(0, c:in_flight())
      assert.are.same({ 1, 2, 3 }, pages_requested())
    end)

    it("raises from a page iterator, cancels the prefetched pages, and is finished afterwards", function()
      srv:config({ latency_ms = 50 })
      srv:faults({ { match = "/events", kind = "502", skip = 1, count = -1 } })
      local c = new_client({ concurrency = 4 })
      local f = c.analytics:session_event_pages("psManyEvents", { page_size = 10 })
      local first = f()
      assert.are.equal(1, first.pagination.current_page)
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.is_true(apivideo.is_error(err))
      assert.are.equal(502, err.status)
      assert.are.equal(0, c:in_flight())
      assert.is_nil(f())
      local sent = srv:stats().api_requests
      assert.is_true(sent <= 1 + 4)
      socket.sleep(0.15)
      assert.are.equal(sent, srv:stats().api_requests)
    end)
  end)

  describe("prefetch", function()
    -- The pages after the one handed out must already be on the wire while
    -- the caller works on it, not merely scheduled for its next call.
    it("prefetch: the next pages are requested while the caller works on the first page", function()
      srv:config({ latency_ms = 50 })
      local c = new_client({ concurrency = 4, auth = "basic" })
      local f = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 })
      assert.are.equal(1, f().pagination.current_page)
      socket.sleep(0.25) -- the caller works on page 1
      assert.is_true(srv:stats().api_requests >= 2, "the server saw only page 1")
    end)

    for _, conc in ipairs({ 2, 4 }) do
      it("keeps " .. conc .. " pages in flight at once (the stand-in's in-flight counter), never more", function()
        srv:config({ latency_ms = 100 })
        local c = new_client({ concurrency = conc, auth = "basic" })
        local n = 0
        for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 25 }) do n = n + 1 end
        assert.are.equal(250, n)
        assert.are.equal(conc, srv:stats().max_in_flight)
        assert.are.same(range(1, 10), sorted(pages_requested()))
      end)
    end

    it("concurrency 1 is strictly sequential: one request in flight at a time", function()
      srv:config({ latency_ms = 30 })
      local c = new_client({ concurrency = 1 })
      local n = 0
      for _ in c.analytics:session_events("psManyEvents", { page_size = 100 }) do n = n + 1 end
      assert.are.equal(1000, n)
      local st = srv:stats()
      assert.are.equal(1, st.max_in_flight)
      assert.are.same(range(1, 10), pages_requested()) -- in order
    end)

    it("a sequential walk uses one connection (token exchange included)", function()
      local c = new_client({ concurrency = 1 })
      local n = 0
      for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do n = n + 1 end
      assert.are.equal(250, n)
      local st = srv:stats()
      assert.are.equal(26, st.requests) -- the token exchange and 25 pages
      assert.are.equal(1, st.auth_api_key)
      assert.are.equal(1, st.connections)
    end)
  end)

  describe("a server that contradicts itself", function()
    -- api.video's walk takes no page number from the answer: it asks for the
    -- pages it has not had and checks each answer is the page it asked for.
    local WALKS = {
      { "video_sessions", "video_session_pages", "vi250", { period = "2023", page_size = 25 }, "/analytics/videos/" },
      { "live_stream_sessions", "live_stream_session_pages", "li500", { period = "2023", page_size = 25 },
        "/analytics/live-streams/" },
      { "session_events", "session_event_pages", "psManyEvents", { page_size = 100 }, "/events" },
    }
    for _, w in ipairs(WALKS) do
      local items, pages, id, opts, match = w[1], w[2], w[3], w[4], w[5]
      for _, kind in ipairs({ "items", "pages" }) do
        local method = kind == "items" and items or pages
        it(method .. ": 'page 1 of 2' whatever is asked ends with a decode error naming both pages", function()
          srv:faults({ { match = match, kind = "pagination", current_page = 1, pages_total = 2, count = -1 } })
          local c = new_client({ concurrency = 4 })
          local n = 0
          local ok, err = pcall(function()
            for _ in c.analytics[method](c.analytics, id, opts) do n = n + 1 end
          end)
          assert.is_false(ok)
          assert.is_true(apivideo.is_error(err), tostring(err))
          assert.are.equal("decode", err.kind)
          assert.are.equal(2, err.page_asked)
          assert.are.equal(1, err.page_answered)
          assert.matches("asked for page 2, the server answered page 1", tostring(err), 1, true)
          assert.matches("currentPage=2", err.url, 1, true)
          -- page 1 was handed out whole (its items, or itself), then the walk stopped
          assert.are.equal(kind == "items" and opts.page_size or 1, n)
          assert.are.equal(0, c:in_flight())
          -- page 1 and page 2 (never a page 3: pages_total said 2)
          assert.are.same({ 1, 2 }, sorted(pages_requested()))
        end)
      end
    end

    it("a page that answers another page number on the first request is refused too", function()
      srv:faults({ { match = "/analytics/videos/", kind = "pagination", current_page = 7, count = -1 } })
      local c = new_client()
      local f = c.analytics:video_session_pages("vi250", { period = "2023", current_page = 3 })
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.are.equal("decode", err.kind)
      assert.are.equal(3, err.page_asked)
      assert.are.equal(7, err.page_answered)
    end)

    it("a pages_total that is not a whole number ends the walk with a decode error", function()
      srv:faults({ { match = "/analytics/videos/", kind = "pagination", pages_total = -3, count = -1 } })
      local c = new_client()
      local ok, err = pcall(function()
        for _ in c.analytics:video_sessions("vi250", { period = "2023" }) do end
      end)
      assert.is_false(ok)
      assert.are.equal("decode", err.kind)
      assert.matches("pages_total", tostring(err), 1, true)
    end)

    for _, conc in ipairs({ 1, 4 }) do
      it("pages_total shrinking mid-walk (10 -> 6): every page to the end once, in order, at concurrency " .. conc,
        function()
          -- the 4th request and every later one says pages_total = 6
          srv:faults({ { match = "/analytics/videos/", kind = "pagination", pages_total = 6, skip = 3, count = -1 } })
          local c = new_client({ concurrency = conc })
          local ids = {}
          for s in c.analytics:video_sessions("vi250", { period = "2023", page_size = 25 }) do
            ids[#ids + 1] = s.session.session_id
          end
          local asked = pages_requested()
          -- Which answer said 6 depends on the order the requests reached the
          -- server (a prefetched page can overtake another on a warmer
          -- connection): the walk must end at the first page that says it is
          -- the last, whatever that order was.
          local last = last_page(asked, function(k) return k <= 3 and 10 or 6 end)
          assert.is_true(last >= 6 and last <= 10, "last page " .. last)
          if conc == 1 then assert.are.equal(6, last) end
          assert.are.equal(25 * last, #ids)
          for i = 1, 25 * last do assert.are.equal(sid("vi250", i), ids[i]) end
          assert.are.equal(0, c:in_flight())
          if conc == 1 then assert.are.same(range(1, 6), asked) end
          for _, p in ipairs(asked) do assert.is_true(p <= 10, "page " .. p .. " beyond the first pages_total") end
        end)

      it("pages_total growing mid-walk (5 -> 10): every page to the end once, in order, at concurrency " .. conc,
        function()
          -- the first two requests say pages_total = 5, later ones tell the truth (10)
          srv:faults({ { match = "/analytics/videos/", kind = "pagination", pages_total = 5, count = 2 } })
          local c = new_client({ concurrency = conc })
          local ids, pages = {}, {}
          for page in c.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 }) do
            pages[#pages + 1] = page.pagination.current_page
            for _, s in ipairs(page.data) do ids[#ids + 1] = s.session.session_id end
          end
          -- (as above: the walk ends at the first page that says it is the last,
          -- in the order the answers were given)
          local last = last_page(pages_requested(), function(k) return k <= 2 and 5 or 10 end)
          if conc == 1 then assert.are.equal(10, last) end
          assert.are.same(range(1, last), pages)
          assert.are.equal(25 * last, #ids)
          for i = 1, 25 * last do assert.are.equal(sid("vi250", i), ids[i]) end
          for _, p in ipairs(pages_requested()) do assert.is_true(p <= 10, "page " .. p .. " beyond 10") end
        end)
    end
  end)

  describe("the end of the walk", function()
    it("comes after pages_total: no request for page pages_total + 1, even with prefetch", function()
      srv:config({ latency_ms = 20 })
      local c = new_client({ concurrency = 8 })
      local pages = 0
      for page in c.analytics:video_session_pages("vi250", { period = "2023", page_size = 20 }) do
        pages = pages + 1
        assert.are.equal(13, page.pagination.pages_total)
      end
      assert.are.equal(13, pages)
      local asked = sorted(pages_requested())
      assert.are.same(range(1, 13), asked)
      for _, e in ipairs(srv:log()) do assert.are_not.equal("14", e.args.currentPage) end
    end)
  end)
end)
