-- apivideo.core's multi handle and transfers against the stand-in: results,
-- raw bodies, timeouts, methods and bodies, perform's waits, several transfers
-- at once, cancel, close, limits, refused connections and connection reuse.
-- (JSON decoding and the rename lists: spec/core_spec.lua.)
local core = require("apivideo.core")
local fields = require("apivideo.fields")
local socket = require("socket")
local S = require("spec.support.standin")
local D = require("spec.support.drive")
local V = require("spec.support.compat")

local AUTH = D.AUTH
local PAGE = "/analytics/videos/vi250?period=2023&pageSize=3"

local RENAMES = core.renames(fields.RENAMES)

local function decode(s)
  return core.decode(s, RENAMES)
end

describe("apivideo.core: multi and transfers against the stand-in", function()
  local srv

  setup(function()
    srv = S.shared()
  end)

  before_each(function()
    srv:idle_reset()
  end)

  -- Drives m until t is no longer running (at most 5 s); t's state.
  local wait_for = D.perform

  local function get(m, path, extra)
    local spec = { url = srv.url .. path, headers = { AUTH } }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return m:add(spec)
  end

  local function free_port()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    return port
  end

  it("a GET returns status, lower-cased headers and the decoded, shaped JSON", function()
    local m = core.multi({ renames = fields.RENAMES }) -- a plain list: the multi prepares it
    local t = m:add({ url = srv.url .. PAGE, headers = { AUTH, "X-Spec: core" } })
    assert.equal("done", wait_for(m, t))
    local r = assert(t:result(true))
    assert.equal(200, r.status)
    assert.equal(0, r.curl_code)
    assert.is_nil(r.curl_error)
    assert.is_nil(r.too_large)
    assert.equal("1.1", r.http_version)
    assert.is_number(r.time_ms)
    assert.matches("^application/json", r.headers["content-type"])
    assert.is_truthy(tonumber(r.headers["x-ratelimit-limit"]))
    assert.is_truthy(tonumber(r.headers["x-ratelimit-remaining"]))
    for name in pairs(r.headers) do assert.equal(name:lower(), name) end
    assert.is_nil(r.body) -- decoded: no raw body kept
    assert.is_true(r.body_size > 0)
    local json = r.json
    assert.equal(3, #json.data)
    assert.equal(250, json.pagination.items_total)
    assert.is_true(V.is_integer(json.pagination.page_size))
    assert.equal("psvi250_000001", json.data[1].session.session_id)
    -- what the server saw
    local log = srv:log()
    assert.equal(1, #log)
    assert.equal("GET", log[1].method)
    assert.equal("/analytics/videos/vi250", log[1].path)
    assert.equal("basic", log[1].auth)
    assert.equal("core", log[1].headers["x-spec"])
    t:close()
    m:close()
  end)

  it("a burst to a new plain-http host goes out at once, on as many connections", function()
    srv:config({ latency_ms = 100 }) -- (the next idle_reset puts the start flags back)
    local m = core.multi()
    local ts = {}
    for i = 1, 4 do ts[i] = m:add({ url = srv.url .. PAGE .. "&currentPage=" .. i, headers = { AUTH } }) end
    while m:count() > 0 do m:perform(1000) end
    local stats = srv:stats()
    srv:idle_reset()
    for i = 1, 4 do assert.equal(200, ts[i]:result(false).status) end
    m:close()
    -- nothing waited for the first answer to learn whether HTTP/1.1 multiplexes
    assert.equal(4, stats.max_in_flight)
    assert.equal(4, stats.connections)
  end)

  it("many sockets: new transfers start while earlier answers are being read, and complete", function()
    -- 20 half answers wait in their sockets (their transfers go on) while
    -- 20 more transfers are added: the step that reads the half answers
    -- also starts the new connections, so the list of watched sockets grows
    -- from inside libcurl's callbacks, halfway through the step's own loop
    -- (a use-after-free under ASan when the poll array grew with it)
    srv:config({ latency_ms = 200 }) -- (the next idle_reset puts the start flags back)
    srv:faults({ { match = "/analytics/videos/vi10k", kind = "stall", count = 20, delay_ms = 3000 } })
    local m = core.multi()
    local held = {}
    for i = 1, 20 do
      held[i] = m:add({ url = srv.url .. "/analytics/videos/vi10k?period=2023&pageSize=3&currentPage=" .. i,
        headers = { AUTH } })
    end
    local t0 = core.now_ms()
    while core.now_ms() - t0 < 60 do m:perform(5) end -- connected, requests sent
    socket.sleep(0.3) -- the 20 half answers arrive meanwhile
    local ts = {}
    for i = 1, 20 do ts[i] = m:add({ url = srv.url .. PAGE .. "&currentPage=" .. i, headers = { AUTH } }) end
    local deadline = core.now_ms() + 10000
    local function pending()
      for i = 1, 20 do if ts[i]:state() == "running" then return true end end
      return false
    end
    while pending() and core.now_ms() < deadline do m:perform(100) end
    local statuses, still = {}, 0
    for i = 1, 20 do statuses[i] = ts[i]:result(false) and ts[i]:result(false).status end
    for i = 1, 20 do if held[i]:state() == "running" then still = still + 1 end end
    m:close()
    srv:idle_reset()
    for i = 1, 20 do assert.equal(200, statuses[i], "transfer " .. i) end
    assert.equal(20, still) -- the stalled ones were still going
  end)

  it("result(false) keeps the raw body and decodes nothing", function()
    local m = core.multi()
    local t = get(m, PAGE)
    wait_for(m, t)
    local r = t:result(false)
    assert.is_nil(r.json)
    assert.is_string(r.body)
    assert.equal(r.body_size, #r.body)
    assert.equal(3, #core.decode(r.body).data)
    m:close()
  end)

  it("result(true, true) keeps the raw body next to the decoded JSON", function()
    local m = core.multi({ renames = RENAMES })
    local t = get(m, PAGE)
    wait_for(m, t)
    local r = t:result(true, true)
    assert.equal(200, r.status)
    assert.is_string(r.body)
    assert.equal(r.body_size, #r.body)
    assert.equal(3, #r.json.data)
    assert.equal("psvi250_000001", r.json.data[1].session.session_id)
    assert.same(r.json, decode(r.body))
    assert.is_nil(t:result(true).body) -- without keep_body: the decoded result only
    assert.equal(r.body, t:result(false, true).body)
    m:close()
  end)

  it("a multi without renames decodes without renaming; one with a custom list renames by it", function()
    local plain, custom = core.multi(), core.multi({ renames = { pageSize = "size", sessionId = "sid" } })
    local a, b = get(plain, PAGE), get(custom, PAGE)
    wait_for(plain, a)
    wait_for(custom, b)
    local ja, jb = a:result(true).json, b:result(true).json
    assert.equal(3, ja.pagination.pageSize)
    assert.equal(250, ja.pagination.itemsTotal)
    assert.is_nil(ja.pagination.page_size)
    assert.equal("psvi250_000001", ja.data[1].session.sessionId)
    assert.equal(3, jb.pagination.size)
    assert.equal(250, jb.pagination.itemsTotal) -- not in the custom list
    assert.equal("psvi250_000001", jb.data[1].session.sid)
    plain:close()
    custom:close()
  end)

  it("stall_timeout_ms ends a transfer that receives nothing for that long, and perform wakes up for it", function()
    -- both answers stop halfway for 1.5 s
    srv:faults({ { match = "/analytics/videos/vi250", kind = "stall", count = 2, delay_ms = 1500 } })
    local m = core.multi()
    local slow = get(m, PAGE, { stall_timeout_ms = 250 })
    local patient = get(m, PAGE) -- no stall limit: still running when the other one ends
    local t0 = core.now_ms()
    local finished = 0
    while finished == 0 and core.now_ms() - t0 < 2500 do
      local _, f = m:perform(2500)
      finished = finished + f
    end
    local took = core.now_ms() - t0
    assert.equal(1, finished)
    assert.equal("done", slow:state())
    assert.equal("running", patient:state())
    assert.equal(slow, m:next_done())
    -- measured from the last byte (half the body came at once): about 250 ms, never libcurl's seconds
    assert.is_true(took >= 240 and took < 1500, "ended after " .. took .. " ms")
    local r = slow:result(true)
    assert.equal(28, r.curl_code)
    assert.equal("no data received for 250 ms (stall_timeout_ms)", r.curl_error)
    assert.equal(200, r.status)
    assert.is_nil(r.json)
    assert.is_true(r.body_size > 0) -- the half that came
    m:close()
    assert.equal("cancelled", patient:state())
  end)

  it("a body that is not JSON gives json_error and keeps the body", function()
    srv:faults({ { kind = "invalid_json" } })
    local m = core.multi()
    local t = get(m, PAGE)
    wait_for(m, t)
    local r = t:result(true)
    assert.equal(200, r.status)
    assert.is_nil(r.json)
    assert.is_string(r.json_error)
    assert.equal('{"data": [', r.body)
    m:close()
  end)

  it("POSTs a body with its headers", function()
    local m = core.multi()
    local t = m:add({ method = "POST", url = srv.url .. "/auth/api-key",
      headers = { "Content-Type: application/json" }, body = '{"apiKey":"standin-key"}' })
    wait_for(m, t)
    local r = t:result(true)
    assert.equal(200, r.status)
    assert.is_string(r.json.access_token)
    assert.is_true(V.is_integer(r.json.expires_in))
    local log = srv:log()
    assert.equal("POST", log[1].method)
    assert.equal("/auth/api-key", log[1].path)
    assert.equal(1, srv:stats().auth_api_key)
    m:close()
  end)

  it("raises on a spec without url, an unsupported method or a field of the wrong type", function()
    local m = core.multi()
    assert.has_error(function() m:add({}) end)
    assert.has_error(function() m:add({ url = srv.url, method = "DELETE" }) end)
    assert.has_error(function() m:add({ url = srv.url, timeout_ms = "1" }) end)
    assert.has_error(function() m:add({ url = srv.url, timeout_ms = -1 }) end)
    assert.has_error(function() m:add({ url = srv.url, headers = { 12 } }) end)
    assert.equal(0, m:count())
    m:close()
  end)

  it("perform(0) returns at once while a delayed response is held by the server", function()
    srv:faults({ { match = "/analytics/videos/vi250", kind = "delay", delay_ms = 500 } })
    local m = core.multi()
    local t = get(m, PAGE)
    local t0 = core.now_ms()
    local in_flight, finished = m:perform(0)
    local elapsed = core.now_ms() - t0
    -- a blocking call would take the whole 500 ms the server holds the response
    assert.is_true(elapsed < 250, "perform(0) took " .. elapsed .. " ms")
    assert.equal(1, in_flight)
    assert.equal(0, finished)
    assert.equal(1, m:count())
    assert.equal("running", t:state())
    assert.is_nil(m:next_done())
    -- more non-blocking steps while the server still holds the response
    for _ = 1, 3 do
      socket.sleep(0.02)
      local s = core.now_ms()
      in_flight, finished = m:perform(0)
      assert.is_true(core.now_ms() - s < 250)
      assert.equal(1, in_flight)
      assert.equal(0, finished)
    end
    assert.is_true(core.now_ms() - t0 < 450) -- all of it while the server still held the response
    assert.equal("running", t:state())
    local r, msg = t:result(true)
    assert.is_nil(r)
    assert.equal("transfer is running, not done", msg)
    m:close()
  end)

  it("perform(ms) waits up to ms, and returns as soon as a transfer finishes", function()
    srv:faults({ { match = "/analytics/videos/vi250", kind = "delay", delay_ms = 500 } })
    local m = core.multi()
    local t = get(m, PAGE)
    local t0 = core.now_ms()
    local in_flight, finished = m:perform(100)
    local waited = core.now_ms() - t0
    assert.is_true(waited >= 90 and waited < 450, "perform(100) took " .. waited .. " ms")
    assert.equal(1, in_flight)
    assert.equal(0, finished)
    in_flight, finished = m:perform(3000)
    local total = core.now_ms() - t0
    assert.equal(0, in_flight)
    assert.equal(1, finished)
    assert.is_true(total >= 450 and total < 2500, "finished after " .. total .. " ms")
    assert.equal("done", t:state())
    assert.equal(t, m:next_done())
    assert.is_nil(m:next_done())
    assert.equal(200, t:result(true).status)
    m:close()
  end)

  it("perform(ms) with nothing in flight sleeps about ms (the scheduler's timer)", function()
    local m = core.multi()
    assert.equal(-1, m:timeout())
    local t0 = core.now_ms()
    local in_flight, finished = m:perform(60)
    local waited = core.now_ms() - t0
    assert.equal(0, in_flight)
    assert.equal(0, finished)
    assert.is_true(waited >= 50 and waited < 1000, "slept " .. waited .. " ms")
    m:close()
  end)

  it("runs several transfers at once: the stand-in sees them in flight together", function()
    srv:config({ latency_ms = 300 })
    local m = core.multi({ renames = RENAMES }) -- a prepared list, shared
    for i = 1, 4 do get(m, "/analytics/videos/vi250?period=2023&pageSize=2&currentPage=" .. i) end
    assert.equal(4, m:count())
    local done, deadline = {}, core.now_ms() + 5000
    while m:count() > 0 and core.now_ms() < deadline do
      m:perform(200)
      local t = m:next_done()
      while t do
        done[#done + 1] = t
        t = m:next_done()
      end
    end
    assert.equal(4, #done)
    local pages = {}
    for _, t in ipairs(done) do
      local r = t:result(true)
      assert.equal(200, r.status)
      pages[#pages + 1] = r.json.pagination.current_page
    end
    table.sort(pages)
    assert.same({ 1, 2, 3, 4 }, pages)
    local st = srv:stats()
    assert.equal(4, st.requests)
    assert.is_true(st.max_in_flight >= 3, "max_in_flight " .. st.max_in_flight)
    m:close()
  end)

  it("cancel() removes a running transfer; the server and the multi carry on", function()
    srv:faults({ { match = "/analytics/videos/vi250", kind = "delay", delay_ms = 400 } })
    local m = core.multi()
    local t = get(m, PAGE)
    -- step until the server is processing it
    local deadline = core.now_ms() + 2000
    repeat
      m:perform(0)
      socket.sleep(0.01)
    until srv:stats().in_flight == 1 or core.now_ms() > deadline
    assert.equal(1, srv:stats().in_flight)
    assert.equal(1, m:count())
    assert.is_true(t:cancel())
    assert.equal(0, m:count())
    assert.equal("cancelled", t:state())
    assert.is_false(t:cancel()) -- nothing left to cancel
    local r, msg = t:result(true)
    assert.is_nil(r)
    assert.equal("transfer is cancelled, not done", msg)
    local in_flight, finished = m:perform(0)
    assert.equal(0, in_flight)
    assert.equal(0, finished)
    assert.is_nil(m:next_done())
    -- the server finishes its side and is still healthy; the multi still works
    deadline = core.now_ms() + 2000
    while srv:stats().in_flight > 0 and core.now_ms() < deadline do socket.sleep(0.05) end
    assert.equal(0, srv:stats().in_flight)
    local t2 = get(m, PAGE)
    assert.equal("done", wait_for(m, t2))
    assert.equal(200, t2:result(true).status)
    local st = srv:stats()
    for code in pairs(st.status) do assert.is_true(tonumber(code) < 500, "server answered " .. code) end
    t:close()
    m:close()
  end)

  it("close() is idempotent for transfers (running or done) and for the multi", function()
    local m = core.multi()
    local running = get(m, PAGE)
    local t = get(m, PAGE)
    assert.equal(2, m:count())
    running:close()
    assert.equal(1, m:count())
    assert.equal("closed", running:state())
    running:close()
    assert.equal("closed", running:state())
    wait_for(m, t)
    t:close()
    t:close()
    local r, msg = t:result(true)
    assert.is_nil(r)
    assert.equal("transfer is closed, not done", msg)
    local pending = get(m, PAGE)
    m:close()
    m:close()
    assert.equal("cancelled", pending:state()) -- detached by the multi's close
    pending:close()
    assert.equal("closed", pending:state())
    assert.has_error(function() m:count() end, "apivideo.core: multi handle is closed")
    assert.has_error(function() m:add({ url = srv.url }) end)
  end)

  it("tostring names the multi and the transfer with their state", function()
    local m = core.multi()
    assert.equal("apivideo.core.multi (0 in flight)", tostring(m))
    local t = get(m, PAGE)
    assert.equal("apivideo.core.multi (1 in flight)", tostring(m))
    assert.equal("apivideo.core.transfer #" .. t:id() .. " (running)", tostring(t))
    local t2 = get(m, PAGE)
    assert.equal(t:id() + 1, t2:id())
    wait_for(m, t)
    wait_for(m, t2)
    assert.equal("apivideo.core.transfer #" .. t:id() .. " (done)", tostring(t))
    t2:cancel()
    t:close()
    assert.equal("apivideo.core.transfer #" .. t:id() .. " (closed)", tostring(t))
    m:close()
    assert.equal("apivideo.core.multi (closed)", tostring(m))
  end)

  it("a body above max_body ends the transfer with too_large and a curl error", function()
    -- size of the response, measured once
    local m0 = core.multi()
    local t0 = get(m0, PAGE)
    wait_for(m0, t0)
    local size = t0:result(false).body_size
    m0:close()
    assert.is_true(size > 200)

    local m = core.multi({ max_body = size - 1 })
    local t = get(m, PAGE)
    assert.equal("done", wait_for(m, t))
    local r = t:result(true)
    assert.is_true(r.too_large)
    assert.is_true(r.curl_code ~= 0)
    assert.is_string(r.curl_error)
    assert.is_nil(r.json)
    assert.is_true(r.body_size <= size - 1)
    m:close()

    -- exactly at the limit is fine; the per-transfer max_body overrides the multi's
    m = core.multi({ max_body = size })
    local ok = get(m, PAGE)
    local small = get(m, PAGE, { max_body = 100 })
    wait_for(m, ok)
    wait_for(m, small)
    local rok = ok:result(true)
    assert.equal(0, rok.curl_code)
    assert.is_nil(rok.too_large)
    assert.equal(3, #rok.json.data)
    local rsmall = small:result(true)
    assert.is_true(rsmall.too_large)
    assert.is_true(rsmall.curl_code ~= 0)
    m:close()
  end)

  it("refuses max_body outside 1 byte .. 4 GiB", function()
    assert.has_error(function() core.multi({ max_body = 0 }) end)
    assert.has_error(function() core.multi({ max_body = 4294967297 }) end)
    assert.has_error(function() core.multi("big") end)
  end)

  it("refuses a header line with CR, LF or NUL, and nothing is sent", function()
    local m = core.multi()
    for _, h in ipairs({ "X-A: b\r\nX-Injected: 1", "X-A: b\nX-Injected: 1", "X-A: b\r", "X-A: b\0c" }) do
      local ok, err = pcall(m.add, m, { url = srv.url .. PAGE, headers = { AUTH, h } })
      assert.is_false(ok)
      assert.matches("header line contains CR, LF or NUL", err)
    end
    assert.equal(0, m:count())
    m:perform(50)
    assert.equal(0, srv:stats().requests)
    -- the multi is still usable
    local t = get(m, PAGE)
    wait_for(m, t)
    assert.equal(200, t:result(true).status)
    m:close()
  end)

  it("a refused connection gives curl_code 7 and curl_error, status 0", function()
    local m = core.multi()
    local t = m:add({ url = "http://127.0.0.1:" .. free_port() .. "/x" })
    assert.equal("done", wait_for(m, t))
    local r = t:result(true)
    assert.equal(7, r.curl_code)
    assert.is_string(r.curl_error)
    assert.is_true(#r.curl_error > 0)
    assert.equal(0, r.status)
    m:close()
  end)

  it("reuses the connection: a second sequential transfer opens none", function()
    local m = core.multi()
    local t1 = get(m, PAGE)
    wait_for(m, t1)
    local r1 = t1:result(true)
    t1:close()
    local t2 = get(m, "/analytics/videos/vi250?period=2023&pageSize=3&currentPage=2")
    wait_for(m, t2)
    local r2 = t2:result(true)
    assert.equal(200, r1.status)
    assert.equal(200, r2.status)
    assert.equal(1, r1.new_connections)
    assert.equal(0, r2.new_connections)
    local st = srv:stats()
    assert.equal(2, st.requests)
    assert.equal(1, st.connections)
    local log = srv:log()
    assert.equal(log[1].connection, log[2].connection)
    m:close()
  end)
end)
