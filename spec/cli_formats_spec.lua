-- apivideo.cli.formats: JSON text is lua-cjson's values in a layout written
-- by the module (sorted keys at every depth), so the output is stable from
-- run to run and decodes back to what was encoded. Works on every Lua the
-- suite runs under (no 5.3+ syntax).
local cjson = require("cjson")
local apivideo = require("apivideo")
local formats = require("apivideo.cli.formats")

local encode = formats.json_encode

describe("apivideo.cli.formats", function()
  describe("json_encode", function()
    it("writes the keys of every object in sorted order, at every depth", function()
      local v = { zeta = 1, alpha = { delta = "d", beta = "b", gamma = { y = true, x = false } }, mid = "m" }
      assert.are.equal(
        '{"alpha":{"beta":"b","delta":"d","gamma":{"x":false,"y":true}},"mid":"m","zeta":1}', encode(v))
    end)

    it("gives each object its own keys when another of the same field had as many", function()
      -- the memo of sorted keys is per field and key count; a second object
      -- with other keys must not be written with the first one's
      assert.are.equal('{"o":{"a":1,"b":2}}', encode({ o = { a = 1, b = 2 } }))
      assert.are.equal('{"o":{"a":1,"c":3}}', encode({ o = { a = 1, c = 3 } }))
      assert.are.equal('{"o":{"b":2,"c":3}}', encode({ o = { c = 3, b = 2 } }))
    end)

    it("leaves the values to lua-cjson: escapes, numbers, null", function()
      local s = 'quote " backslash \\ tab \t newline \n café \1'
      assert.are.equal(cjson.encode(s), encode(s))
      assert.are.equal("3", encode(3))
      assert.are.equal(cjson.encode(0.1), encode(0.1))
      assert.are.equal("null", encode(0 / 0))
      assert.are.equal("null", encode(math.huge))
      assert.are.equal("null", encode(-math.huge))
      assert.are.equal("[1,null,2]", encode({ 1, apivideo.null, 2 }))
      assert.are.equal('{"v":null}', encode({ v = formats.JSON_NULL }))
      -- the caller's cjson keeps its own settings: NaN still refused there
      assert.has_error(function() cjson.encode(0 / 0) end)
    end)

    it("writes '/' as it is, and a backslash before it escaped", function()
      assert.are.equal('"https://example.com/watch/1"', encode("https://example.com/watch/1"))
      assert.are.equal('"a\\\\/b"', encode("a\\/b"))
      assert.are.equal("a\\/b", cjson.decode(encode("a\\/b")))
      assert.are.equal('{"a/b":"/"}', encode({ ["a/b"] = "/" }))
    end)

    it("writes [] for an empty list the API documents, {} for another empty table", function()
      assert.are.equal('{"metadata":[],"other":{}}', encode({ metadata = {}, other = {} }))
      assert.are.equal("[]", encode({}, "left_out"))
    end)

    it("decodes back to the value encoded, and leaves a column's own JSON whole", function()
      local v = {
        session = { session_id = "ps1", metadata = { { key = "k", value = "v/w" } } },
        n = { 1, 2.5, -3 }, ["x-extra"] = { kept = true },
      }
      assert.are.same(v, cjson.decode(encode(v)))
      -- a column whose json calls json_encode itself, inside the row writer's
      -- own encoding of the row
      local parts = {}
      local emit = function(s) parts[#parts + 1] = s end
      local w = formats.writer("ndjson", emit, { columns = {
        { name = "a", text = function(x) return x.a end },
        { name = "obj", json = function(x) return encode(x.obj) end },
        { name = "z", text = function(x) return x.z end },
      } })
      w.row({ a = "1/2", obj = { q = 1, p = { 2 } }, z = nil })
      assert.are.equal('{"a":"1/2","obj":{"p":[2],"q":1},"z":null}\n', parts[1])
    end)

    it("applies a figure function to every number (the summaries' rounding)", function()
      assert.are.equal('{"a":1.235,"b":[2,null]}',
        encode({ a = 1.23456, b = { 2.0001, 0 / 0 } }, nil, formats.figure))
    end)

    it("stays right past the memo's size (keys met are forgotten, not confused)", function()
      for i = 1, 5000 do
        local v = { ["k" .. i] = i, ["j" .. i] = { ["m" .. i] = "x" } }
        local want = '{"j' .. i .. '":{"m' .. i .. '":"x"},"k' .. i .. '":' .. i .. "}"
        assert.are.equal(want, encode(v))
      end
    end)

    it("refuses a value JSON has no text for, naming its type", function()
      assert.has_error(function() encode({ f = print }) end, "cannot encode a function as JSON")
    end)
  end)
end)
