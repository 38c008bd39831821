-- Specs of the C core apivideo.core: JSON decoding and shaping, and the rename
-- lists (the multi/transfer step API against the stand-in:
-- spec/core_multi_spec.lua).
local core = require("apivideo.core")
local fields = require("apivideo.fields")
local apivideo = require("apivideo")
local V = require("spec.support.compat")

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
end)
