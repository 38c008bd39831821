-- apivideo.hub through apivideo.new with _G.ngx set, under the fake nginx
-- loop (see spec/hub_spec.lua's header): the engine gets a lane, a walk
-- returns every session in order, a second request is refused (ngx.ctx), and
-- without ngx.semaphore the engine keeps its own multi handle.
-- The fake loop, the helpers and what they map to: spec/support/hub.lua and
-- spec/support/fake_ngx.lua. The real nginx run is spec/openresty_spec.lua.
local apivideo = require("apivideo")
local hub_mod = require("apivideo.hub")
local F = require("spec.support.fake_ngx")
local S = require("spec.support.standin")
local H = require("spec.support.hub")

local srv = S.shared()
local sid, idle, BOUND_MS = H.sid, H.idle, H.BOUND_MS

describe("apivideo.hub under a fake nginx loop: through apivideo.new", function()
  local fake
  local pid = 70000

  setup(function() srv:idle_reset() end)
  -- the stand-in's start configuration again (latency, faults) for the next file
  teardown(function() srv:idle_reset() end)

  before_each(function()
    srv:idle_reset()
    pid = pid + 1 -- a new "worker": hub.get makes a new hub for a new pid
    fake = F.new({ pid = pid })
    package.loaded["ngx.semaphore"] = fake.semaphore
  end)

  after_each(function()
    package.loaded["ngx.semaphore"] = nil
  end)

  local function new_client(opts)
    local o = { api_key = "standin-key", base_url = srv.url, auth = "basic" }
    for k, v in pairs(opts or {}) do o[k] = v end
    return apivideo.new(o)
  end

  -- Inside a light thread: the rest of a walk. Generic-for is avoided: on
  -- PUC Lua 5.1 an iterator cannot yield (the call crosses a C boundary).
  local function walk(next_page, ids, pages)
    while true do
      local page = next_page()
      if not page then return end
      pages[#pages + 1] = page.pagination.current_page
      for _, s in ipairs(page.data) do ids[#ids + 1] = s.session.session_id end
    end
  end

  local function expect_all(ids, pages, per_page)
    assert.are.equal(250, #ids)
    for i = 1, 250 do
      if ids[i] ~= sid(i) then assert.are.equal(sid(i), ids[i], "item " .. i) end
    end
    local want = {}
    for p = 1, 250 / per_page do want[p] = p end
    assert.are.same(want, pages)
  end

  local saved_ngx

  before_each(function()
    saved_ngx = rawget(_G, "ngx")
    rawset(_G, "ngx", fake.ngx)
    -- so the engine ties a client's tasks to ngx.ctx (no FFI request here)
    assert.is_false((pcall(require, "resty.core.base")))
    package.loaded["resty.core.base"] = nil -- (Lua 5.1 leaves a marker after a failed require)
  end)

  after_each(function()
    rawset(_G, "ngx", saved_ngx)
    package.preload["ngx.semaphore"] = nil
    package.loaded["resty.core.base"] = nil
  end)

  it("gives the engine a lane of the worker's hub; a walk returns every session, in order", function()
    local client = new_client({ concurrency = 3 })
    local lane = client.engine.waiter
    assert.is_table(lane)
    assert.are.equal("lane", lane.kind)
    assert.is_false(lane.polling)
    assert.are.equal(getmetatable(hub_mod.lane({ ngx = fake.ngx })), getmetatable(lane))
    -- outside a request (a phase that cannot yield) it refuses to wait
    local ok, err = pcall(client.analytics.list_video_sessions, client.analytics, "vi250", { period = "2023" })
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("nginx phase 'init'", 1, true), tostring(err))

    local ids, pages = {}, {}
    local th = fake:spawn("walk", function()
      walk(client.analytics:video_session_pages("vi250", { period = "2023", page_size = 25 }), ids, pages)
      client:close()
    end)
    assert.is_true(fake:run(function() return th.dead and idle() end, BOUND_MS))
    expect_all(ids, pages, 25)
    assert.are.equal(10, srv:stats().api_requests)
    assert.is_true(lane.closed)
    -- it slept on its semaphore and the pump woke it
    local posts = 0
    for _, res in ipairs(th.resumes) do
      if res.why == "post" then posts = posts + 1 end
    end
    assert.is_true(posts >= 1)
    assert.is_true(lane.yields >= 1)
    assert.are.same({ in_flight = 0, owned = 0, turns_waiting = 0, pumping = false }, H.counts(hub_mod.stats()))
  end)

  it("refuses to be driven by a second request while the first one's walk is under way (ngx.ctx)", function()
    srv:config({ latency_ms = 20 })
    local client = new_client({ concurrency = 3 })
    local ids, pages, second = {}, {}, nil
    local first = fake:spawn("first", function()
      local next_page = client.analytics:video_session_pages("vi250", { period = "2023", page_size = 50 })
      local page = next_page()
      pages[1] = page.pagination.current_page
      for _, s in ipairs(page.data) do ids[#ids + 1] = s.session.session_id end
      -- pages 2-4 are in flight for this request; another request tries the client
      second = fake:spawn("second", function()
        local ok, err = pcall(client.analytics.list_video_sessions, client.analytics, "vi250",
          { period = "2023" })
        second.result = { ok = ok, err = tostring(err) }
      end)
      while not second.dead do fake.ngx.sleep(0.002) end
      walk(next_page, ids, pages) -- what finished meanwhile waited in its lane
      client:close()
    end)
    assert.is_true(fake:run(function() return first.dead and idle() end, BOUND_MS))
    assert.is_false(second.result.ok)
    assert.is_truthy(second.result.err:find("this client is busy in another nginx request", 1, true),
      second.result.err)
    expect_all(ids, pages, 50)
    assert.are.equal(5, srv:stats().api_requests) -- the refused call sent nothing
  end)

  it("without ngx.semaphore the lane polls for itself (no pump, no semaphore)", function()
    package.loaded["ngx.semaphore"] = nil
    -- (LuaJIT would otherwise find lua-resty-core's, which needs a real nginx)
    package.preload["ngx.semaphore"] = function() error("no ngx.semaphore here") end
    local client = new_client()
    local lane = client.engine.waiter
    assert.are.equal("lane", lane.kind)
    assert.is_true(lane.polling)
    local got
    local th = fake:spawn("r", function()
      got = client.analytics:list_video_sessions("vi250", { period = "2023", page_size = 5, current_page = 2 })
      client:close()
    end)
    assert.is_true(fake:run(function() return th.dead end, BOUND_MS))
    assert.are.equal(2, got.pagination.current_page)
    assert.are.same({ sid(6), sid(7), sid(8), sid(9), sid(10) },
      { got.data[1].session.session_id, got.data[2].session.session_id, got.data[3].session.session_id,
        got.data[4].session.session_id, got.data[5].session.session_id })
    assert.are.equal(0, #fake:threads_of("timer"))
    for k = 2, #th.resumes do assert.are.equal("sleep", th.resumes[k].why) end
  end)
end)
