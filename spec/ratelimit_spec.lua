-- apivideo.ratelimit and what a cancel gives back: the budget's bookkeeping
-- (a 429's Retry-After, a request whose answer never comes) and, against the
-- stand-in, that a walk cut short or a cancelled token exchange leaves no
-- slot of the budget and no lock of a shared store behind.
local apivideo = require("apivideo")
local auth = require("apivideo.auth")
local core = require("apivideo.core")
local ratelimit = require("apivideo.ratelimit")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")

local srv = S.shared()
local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })

describe("apivideo.ratelimit", function()
  local function limiter(max_wait_ms)
    local emitted = {}
    local l = ratelimit.new({ engine = {}, max_wait_ms = max_wait_ms or 60000,
      emit = function(e) emitted[#emitted + 1] = e end })
    return l, emitted
  end

  it("facts: the three headers as integers, nil when none came", function()
    assert.are.same({ limit = 100, remaining = 7, retry_after = 30 }, ratelimit.facts({
      ["x-ratelimit-limit"] = "100", ["x-ratelimit-remaining"] = "7.0", ["x-ratelimit-retry-after"] = "30",
    }))
    assert.is_nil(ratelimit.facts({ ["content-type"] = "application/json" }))
    assert.is_nil(ratelimit.header_number({ a = "NaN" }, "a"))
  end)

  it("a 429 with only Retry-After sets the window to it (bounded by max_retry_wait_ms)", function()
    local l = limiter(60000)
    l.in_flight = 1
    local before = core.now_ms()
    l:release({ status = 429, headers = { ["retry-after"] = "30" } })
    assert.are.equal(0, l.in_flight)
    assert.are.equal(0, l.remaining)
    assert.is_true(l.reset_at >= before + 30000 and l.reset_at <= core.now_ms() + 30000, tostring(l.reset_at))
    local short = limiter(5000)
    short.in_flight = 1
    short:release({ status = 429, headers = { ["retry-after"] = "30" } })
    assert.is_true(short.reset_at <= core.now_ms() + 5000)
    -- X-RateLimit-Retry-After, when sent, is the one that counts
    local both = limiter()
    both.in_flight = 1
    both:release({ status = 429, headers = { ["retry-after"] = "30", ["x-ratelimit-retry-after"] = "2" } })
    assert.is_true(both.reset_at <= core.now_ms() + 2000)
  end)

  it("forget: a counted request whose answer never comes gives its slot back and teaches nothing", function()
    local l = limiter()
    l.in_flight, l.remaining, l.reset_at = 3, 5, core.now_ms() + 1000
    l:forget()
    assert.are.equal(2, l.in_flight)
    assert.are.equal(5, l.remaining)
  end)
end)

describe("a budget shared through a store", function()
  local HEADERS = { ["x-ratelimit-limit"] = "10", ["x-ratelimit-remaining"] = "9", ["x-ratelimit-retry-after"] = "2" }
  local function shared(store)
    return ratelimit.shared({ engine = { sleep = function() error("no wait expected") end }, max_wait_ms = 60000,
      emit = function() end, store = store, account = "acct" })
  end

  it("a window learnt between a request's look and its probe lock is spent from, not probed again", function()
    local store = apivideo.memory_store()
    local first, second = shared(store), shared(store)
    local probe = first:acquire({})
    assert.is_true(probe.probe)
    -- the second request finds no budget; the probe's answer lands just before
    -- it takes the lock (a store that runs the answer inside that add)
    local add = store.add
    store.add = function(st, key, ...)
      if key:find(":p$") then
        store.add = add
        first:release({ status = 200, headers = HEADERS }, probe)
      end
      return add(st, key, ...)
    end
    local ticket = second:acquire({})
    assert.is_falsy(ticket.probe)
    assert.are.equal(8, tonumber(store:get("apivideo:rl:acct:b")))
    assert.is_nil(store:get("apivideo:rl:acct:p"))
  end)

  it("requests still out shrink a new window's budget; a ticket whose count expired lands on nothing", function()
    local store = apivideo.memory_store()
    local old, probe = shared(store), shared(store)
    store:set("apivideo:rl:acct:b", 5, 60)
    local gone, straggler = old:acquire({}), old:acquire({})
    store:delete("apivideo:rl:acct:b") -- the window ends with both out
    local p = probe:acquire({})
    assert.is_true(p.probe)
    -- one left a minute ago and its minute's count has expired: its end
    -- must not count below zero (nor take the others' requests with it)
    store:incr(gone.key, -1)
    gone.key = "apivideo:rl:acct:f" .. (math.floor(require("apivideo.store").wall_ms() / 60000) - 1)
    old:forget(gone)
    assert.is_nil(store:get(gone.key))
    probe:release({ status = 200, headers = HEADERS }, p)
    -- 9 left, less the straggler still out
    assert.are.equal(8, tonumber(store:get("apivideo:rl:acct:b")))
    old:release({ status = 200, headers = HEADERS }, straggler)
    assert.are.equal(0, tonumber(store:get(straggler.key)))
  end)
end)

describe("what a cancel gives back", function()
  before_each(function() srv:idle_reset() end)

  it("a walk cut short gives back the budget slots of the pages it had in flight", function()
    srv:config({ latency_ms = 100 })
    local c = new_client({ concurrency = 4, auth = "basic" })
    local next_page, _, _, walk = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 })
    assert.are.equal(1, next_page().pagination.current_page)
    assert.is_true(c.transport.requester.limiter.in_flight >= 1, "no page was in flight to cancel")
    walk:close()
    assert.are.equal(0, c:in_flight())
    -- before the fix every cancelled page kept its slot for the client's life
    assert.are.equal(0, c.transport.requester.limiter.in_flight)
    -- and the budget still lets every request of a new walk go
    local n = 0
    for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 50 }) do n = n + 1 end
    assert.are.equal(250, n)
    assert.are.equal(0, c.transport.requester.limiter.in_flight)
    c:close()
  end)

  it("run_all stopped by an error gives back the slots of the other functions' requests", function()
    srv:config({ latency_ms = 150 })
    local c = new_client({ concurrency = 2, auth = "basic" })
    local ok = c:run_all({
      function() for _ in c.analytics:video_sessions("vi250", { period = "2023", page_size = 10 }) do end end,
      function() error("stop here", 0) end,
    })
    assert.is_nil(ok)
    assert.are.equal(0, c:in_flight())
    assert.are.equal(0, c.transport.requester.limiter.in_flight)
    c:close()
  end)

  it("a token exchange cancelled mid-flight releases the shared store's lock at once", function()
    srv:config({ latency_ms = 300 })
    local store = apivideo.memory_store()
    local c = new_client({ token_store = store })
    local lock = "apivideo:token:" .. auth.fingerprint(srv.url .. "\n" .. clients.KEY) .. ":lock"
    local t = c.engine:spawn(function() return c.auth:header() end)
    c:step(50) -- the exchange has started: the lock is taken
    assert.are.equal(1, store:get(lock))
    t:cancel() -- its exchange is waited for by nobody else: cancelled with it
    assert.is_nil(store:get(lock))
    assert.are.equal(0, c:in_flight())
    -- the next request exchanges at once (no 30 s wait for a lock nobody holds)
    local started = core.now_ms()
    assert(c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 1 }))
    assert.is_true(core.now_ms() - started < 5000)
    c:close()
  end)
end)
