-- Specs of the C core apivideo.core: JSON decoding and shaping, and the
-- multi/transfer step API against the stand-in (nginx on 127.0.0.1).
local core = require("apivideo.core")
local fields = require("apivideo.fields")
local apivideo = require("apivideo")
local mime = require("mime")
local socket = require("socket")
local S = require("spec.support.standin")
local V = require("spec.support.compat")

local AUTH = "Authorization: Basic " .. mime.b64("standin-key:")
local PAGE = "/analytics/videos/vi250?period=2023&pageSize=3"
-- the library's rename list, prepared once (as the client's multi handle does)
local RENAMES = core.renames(fields.RENAMES)

-- core.decode with the library's renames
local function decode(s)
  return core.decode(s, RENAMES)
end

local function keys_of(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return ks
end

local function nested(depth, open, close)
  return string.rep(open, depth) .. string.rep(close, depth)
end

describe("apivideo.core", function()
  it("exposes its version, null, max_depth, a monotonic clock and the libcurl version", function()
    assert.equal("0.1.0", core._VERSION)
    assert.equal(apivideo.null, core.null)
    assert.equal(V.INTEGER, V.math_type(core.max_depth))
    assert.is_true(V.is_integer(core.max_depth))
    assert.is_true(core.max_depth >= 16)
    assert.matches("^libcurl/%d+%.%d+", core.curl_version())
    local a = core.now_ms()
    local b = core.now_ms()
    assert.is_true(b >= a)
  end)

  describe("decode", function()
    it("renames the documented camelCase fields to snake_case", function()
      local v = assert(decode([[{"sessionId":"s","loadedAt":"l","endedAt":"e","searchTerm":"q",
        "emittedAt":"m","itemsTotal":1,"pagesTotal":2,"pageSize":3,"currentPage":4,"currentPageItems":5}]]))
      assert.same({ "current_page", "current_page_items", "emitted_at", "ended_at", "items_total", "loaded_at",
        "page_size", "pages_total", "search_term", "session_id" }, keys_of(v))
      assert.same({ session_id = "s", loaded_at = "l", ended_at = "e", search_term = "q", emitted_at = "m",
        items_total = 1, pages_total = 2, page_size = 3, current_page = 4, current_page_items = 5 }, v)
    end)

    it("renames at any depth, inside objects and arrays", function()
      local v = assert(decode([==[{"data":[{"session":{"sessionId":"a","loadedAt":"b",
        "metadata":[{"key":"k","value":"v"}]},"referrer":{"searchTerm":"t"}}],
        "pagination":{"currentPage":1,"links":[{"rel":"self","uri":"u"}]},
        "deep":[[[{"x":{"emittedAt":"z"}}]]]}]==]))
      local s = v.data[1]
      assert.equal("a", s.session.session_id)
      assert.equal("b", s.session.loaded_at)
      assert.is_nil(s.session.sessionId)
      assert.equal("t", s.referrer.search_term)
      assert.is_nil(s.referrer.searchTerm)
      assert.same({ { key = "k", value = "v" } }, s.session.metadata)
      assert.equal(1, v.pagination.current_page)
      assert.same({ { rel = "self", uri = "u" } }, v.pagination.links)
      assert.same({ emitted_at = "z" }, v.deep[1][1][1].x)
    end)

    it("keeps unknown fields under their wire names and never renames values", function()
      local v = assert(decode([[{"x-extra":{"kept":true},"fooBar":1,"sessionid":"lower",
        "SessionId":"upper","name":"sessionId","list":["pageSize"]}]]))
      assert.same({ kept = true }, v["x-extra"])
      assert.equal(1, v.fooBar)
      assert.equal("lower", v.sessionid)
      assert.equal("upper", v.SessionId)
      assert.equal("sessionId", v.name)
      assert.same({ "pageSize" }, v.list)
      assert.is_nil(v.session_id)
    end)

    it("turns null object fields into absent keys, also for renamed fields", function()
      local v = assert(decode([[{"location":{"country":"France","city":null},
        "referrer":{"url":null,"searchTerm":null},"endedAt":null}]]))
      assert.same({ "country" }, keys_of(v.location))
      assert.same({}, keys_of(v.referrer))
      assert.same({ "location", "referrer" }, keys_of(v))
    end)

    it("with both spellings, a non-null camelCase value wins and a null one leaves snake_case alone", function()
      local v = assert(decode([[{"a":{"pageSize":2,"page_size":1},"b":{"page_size":1,"pageSize":null},
        "c":{"endedAt":null,"ended_at":"kept","loadedAt":"new","loaded_at":"old"}}]]))
      assert.same({ page_size = 2 }, v.a)
      assert.is_true(V.is_integer(v.a.page_size))
      assert.same({ page_size = 1 }, v.b)
      assert.same({ ended_at = "kept", loaded_at = "new" }, v.c)
    end)

    it("renames all documented fields of one object at every depth down to max_depth, shaping their values", function()
      -- every level holds the ten renamed names at once: a table, integral floats, a null, strings
      local level = [["sessionId":{"x":null,"n":[2.0,null,{"pageSize":3}]},"loadedAt":"l","endedAt":null,]]
        .. [["searchTerm":"q","emittedAt":"e","itemsTotal":10,"pagesTotal":2.5,"pageSize":1e2,]]
        .. [["currentPage":-4,"currentPageItems":0,"next":]]
      local d = core.max_depth - 3 -- the sessionId value adds three levels at the bottom
      local v = assert(decode(string.rep("{" .. level, d) .. "null" .. string.rep("}", d)))
      for depth = 1, d do
        local want = { "current_page", "current_page_items", "emitted_at", "items_total", "loaded_at", "next",
          "page_size", "pages_total", "search_term", "session_id" }
        if depth == d then table.remove(want, 6) end -- "next" was null there
        assert.same(want, keys_of(v), "depth " .. depth)
        assert.same({ n = { 2, core.null, { page_size = 3 } } }, v.session_id)
        assert.equal(V.INTEGER, V.math_type(v.session_id.n[1]))
        assert.equal(V.INTEGER, V.math_type(v.session_id.n[3].page_size))
        assert.equal(V.INTEGER, V.math_type(v.items_total))
        assert.equal(V.INTEGER, V.math_type(v.page_size))
        assert.equal(V.INTEGER, V.math_type(v.current_page))
        assert.equal(100, v.page_size)
        assert.equal(-4, v.current_page)
        assert.equal(2.5, v.pages_total)
        assert.equal("float", V.math_type(v.pages_total))
        v = v.next
      end
    end)

    it("keeps null inside arrays as core.null, so lengths and positions hold", function()
      local v = assert(decode([[{"a":[1,null,3,null],"b":[null]}]]))
      assert.equal(4, #v.a)
      assert.equal(core.null, v.a[2])
      assert.equal(core.null, v.a[4])
      assert.equal(3, v.a[3])
      assert.equal(core.null, v.b[1])
    end)

    it("makes integral numbers Lua integers (5.3+; doubles elsewhere) and keeps the others floats", function()
      local v = assert(decode([[{"i":[0,1,-7,42,1.0,1e3,-2E2,9007199254740992,123456789012],
        "f":[1.5,-0.25,1e-3,3.14159,1e300,9.5e15]}]]))
      local ints = { 0, 1, -7, 42, 1, 1000, -200, 9007199254740992, 123456789012 }
      for i, n in ipairs(v.i) do
        assert.equal(V.INTEGER, V.math_type(n), "i[" .. i .. "]")
        assert.is_true(V.is_integer(n), "i[" .. i .. "]")
        assert.equal(ints[i], n)
      end
      assert.equal(#ints, #v.i)
      local floats = { 1.5, -0.25, 1e-3, 3.14159, 1e300, 9.5e15 }
      for i, n in ipairs(v.f) do
        assert.equal("float", V.math_type(n), "f[" .. i .. "]")
        assert.equal(floats[i], n)
      end
      local w = assert(decode('{"pagination":{"itemsTotal":10000,"currentPage":2}}'))
      assert.is_true(V.is_integer(w.pagination.items_total))
      assert.is_true(V.is_integer(w.pagination.current_page))
    end)

    it("decodes strings, booleans and escapes", function()
      local v = assert(decode([[{"s":"caf\u00e9 \"q\" \\ \/","t":true,"f":false,"e":"","u":"\ud83c\udfac"}]]))
      assert.equal('café "q" \\ /', v.s)
      assert.is_true(v.t)
      assert.is_false(v.f)
      assert.equal("", v.e)
      assert.equal("🎬", v.u)
    end)

    it("accepts nesting up to core.max_depth and refuses one level more with nil, err", function()
      local d = core.max_depth
      assert.is_table(decode(nested(d, "[", "]")))
      local v, err = decode(nested(d + 1, "[", "]"))
      assert.is_nil(v)
      assert.is_string(err)
      local objs = string.rep('{"a":', d + 1) .. "1" .. string.rep("}", d + 1)
      v, err = decode(objs)
      assert.is_nil(v)
      assert.is_string(err)
      objs = string.rep('{"a":', d) .. "1" .. string.rep("}", d)
      v = decode(objs)
      for _ = 1, d - 1 do v = v.a end
      assert.equal(1, v.a)
    end)

    it("returns nil and a message for invalid or truncated JSON", function()
      for _, s in ipairs({ "", "{", '{"data": [', '{"a":1', '{"a":1} x', "[1,]", "{'a':1}", "NaN", "Infinity",
        "0x10", "[1 2]", '{"a" 1}', "nul", '"unterminated', "\239\187\191" }) do
        local v, err = decode(s)
        assert.is_nil(v, s)
        assert.is_string(err, s)
        assert.is_true(#err > 0)
      end
    end)
  end)

  describe("rename lists (the policy is Lua's: apivideo.fields)", function()
    local WIRE = [[{"sessionId":"s","pageSize":3.0,"fooBar":{"pageSize":1},"list":[{"sessionId":"t"}]}]]

    it("renames nothing without a list: the C core has no list of its own", function()
      local v = assert(core.decode(WIRE))
      assert.same({ "fooBar", "list", "pageSize", "sessionId" }, keys_of(v))
      assert.same({ pageSize = 1 }, v.fooBar)
      assert.same({ sessionId = "t" }, v.list[1])
      assert.is_true(V.is_integer(v.pageSize)) -- the rest of the shaping still happens
      assert.same(v, assert(core.decode(WIRE, nil)))
    end)

    it("renames by the list it is handed, prepared (core.renames) or plain", function()
      local list = { sessionId = "sid", fooBar = "foo_bar" }
      for _, renames in ipairs({ core.renames(list), list }) do
        local v = assert(core.decode(WIRE, renames))
        assert.same({ "foo_bar", "list", "pageSize", "sid" }, keys_of(v))
        assert.same({ pageSize = 1 }, v.foo_bar) -- not in this list: kept
        assert.same({ sid = "t" }, v.list[1])
      end
      -- the same body with the library's list
      local v = assert(core.decode(WIRE, RENAMES))
      assert.same({ "fooBar", "list", "page_size", "session_id" }, keys_of(v))
      assert.same({ page_size = 1 }, v.fooBar)
    end)

    it("apivideo.fields names the API's documented fields, each once, camelCase to snake_case", function()
      local n = 0
      for from, to in pairs(fields.RENAMES) do
        n = n + 1
        assert.matches("^%l+%u", from)
        assert.equal(from:gsub("(%l)(%u)", function(a, b) return a .. "_" .. b:lower() end), to)
      end
      assert.equal(12, n)
      assert.equal("apivideo.core.renames (12 names)", tostring(RENAMES))
      assert.equal(n, #keys_of(assert(decode([[{"sessionId":1,"loadedAt":1,"endedAt":1,"searchTerm":1,
        "emittedAt":1,"itemsTotal":1,"pagesTotal":1,"pageSize":1,"currentPage":1,"currentPageItems":1,
        "metricValue":1,"dimensionValue":1}]]))))
    end)

    it("refuses a list whose result would not be well defined, naming the argument", function()
      local cases = {
        { { a = 1 }, "every name must be a string" },
        { { [1] = "a" }, "every name must be a string" },
        { { a = "" }, "a name is empty" },
        { { a = "a" }, "'a' is renamed to itself" },
        { { a = "b", b = "c" }, "'b' is both a new name and an old one" },
        { { a = "x", b = "x" }, "two names are renamed to 'x'" },
        { { [string.rep("k", 41)] = "y" }, "is longer than 40 bytes" },
      }
      local many = {}
      for i = 1, 33 do many["f" .. i] = "g" .. i end
      cases[#cases + 1] = { many, "more than 32 names" }
      for _, c in ipairs(cases) do
        local ok, err = pcall(core.renames, c[1])
        assert.is_false(ok)
        assert.matches("bad argument #1 .*" .. c[2]:gsub("%p", "%%%0"), err)
        ok, err = pcall(core.decode, "{}", c[1])
        assert.is_false(ok)
        assert.matches("bad argument #2 .*" .. c[2]:gsub("%p", "%%%0"), err)
        ok, err = pcall(core.multi, { renames = c[1] })
        assert.is_false(ok)
        assert.matches("bad argument #1 .*renames: .*" .. c[2]:gsub("%p", "%%%0"), err)
      end
      assert.has_error(function() core.decode("{}", 5) end)
      assert.has_error(function() core.multi({ renames = "sessionId" }) end)
      assert.has_error(function() core.renames() end)
      local forty = string.rep("k", 40) -- the longest name Lua interns
      assert.same({ y = 1 }, core.decode('{"' .. forty .. '":1}', { [forty] = "y" }))
    end)
  end)

  describe("multi and transfers against the stand-in", function()
    local srv

    setup(function()
      srv = S.shared()
    end)

    before_each(function()
      srv:idle_reset()
    end)

    -- Drives m until t is no longer running (at most ms milliseconds).
    local function wait_for(m, t, ms)
      local deadline = core.now_ms() + (ms or 5000)
      while t:state() == "running" and core.now_ms() < deadline do m:perform(100) end
      return t:state()
    end

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
end)
