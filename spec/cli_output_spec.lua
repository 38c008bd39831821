-- apivideo-analytics output: the table format streams (widths from the header
-- and the first page, later rows written as they come), and metadata has one
-- shape in every format. Unit cases run apivideo.cli.output without the
-- network; the streaming cases run cli.main against the stand-in with a stdout
-- that behaves like `| head -1` (its write fails after the first line).
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local cjson = require("cjson")
local S = require("spec.support.standin")
local cli = require("apivideo.cli")
local output = require("apivideo.cli.output")

local srv = S.shared()

local KEY = "CliOut-SeCrEt-0be71d55"

local function collect()
  local parts = {}
  local emit = setmetatable({ flush = function() end }, {
    __call = function(_, s) parts[#parts + 1] = s end,
  })
  return emit, parts
end

local function event(t, at) return { type = t, emitted_at = "2023-01-01T00:00:00.000Z", at = at } end

describe("apivideo.cli.output", function()
  describe("the streaming table", function()
    it("holds back only the first page, then writes each row as it comes", function()
      local emit, parts = collect()
      local w = output.item_writer("table", emit, "event")
      w.begin()
      w.row(event("play", 1))
      w.row(event("pause", 22))
      assert.are.equal(0, #parts) -- the first page sizes the columns
      w.page_done()
      assert.are.equal(4, #parts) -- header, rule, the two rows
      w.row(event("end", 333))
      assert.are.equal(5, #parts) -- at once
      w.page_done()
      w.finish()
      assert.are.equal(5, #parts)
      assert.are.equal("type   emitted_at                at  from  to\n", parts[1])
      assert.are.equal("-----  ------------------------  --  ----  --\n", parts[2])
      assert.are.equal("play   2023-01-01T00:00:00.000Z   1     -   -\n", parts[3])
      assert.are.equal("pause  2023-01-01T00:00:00.000Z  22     -   -\n", parts[4])
      assert.are.equal("end    2023-01-01T00:00:00.000Z  333     -   -\n", parts[5]) -- wider: never cut
    end)

    it("a later value wider than its column is never cut: the column widens from that row on", function()
      local emit, parts = collect()
      local w = output.item_writer("table", emit, "event")
      w.row(event("play", 1))
      w.page_done()
      w.row(event("seek.backward", 4444))
      w.row(event("end", 5))
      w.finish()
      assert.are.equal("seek.backward  2023-01-01T00:00:00.000Z  4444     -   -\n", parts[4])
      assert.are.equal("end            2023-01-01T00:00:00.000Z     5     -   -\n", parts[5])
    end)

    it("an empty result still prints the header and the rule", function()
      local emit, parts = collect()
      local w = output.item_writer("table", emit, "event")
      w.begin()
      w.finish()
      assert.are.equal(2, #parts)
    end)
  end)

  describe("metadata", function()
    local session = { session = { session_id = "ps1", metadata = {
      { key = "user", value = "bob" }, { key = "tag", value = 'a "quoted", text' }, { key = "user", value = "eve" },
    } } }
    local bare = { session = { session_id = "ps2" } }

    it("is the API's list of pairs in every format, [] when absent", function()
      local expected = '[{"key":"user","value":"bob"},{"key":"tag","value":"a \\"quoted\\", text"},'
        .. '{"key":"user","value":"eve"}]'
      assert.are.equal(expected, output.metadata_json(session))
      assert.are.equal("[]", output.metadata_json(bare))
      for _, fmt in ipairs({ "ndjson", "json" }) do
        local emit, parts = collect()
        local w = output.item_writer(fmt, emit, "session")
        w.begin()
        w.row(session)
        w.row(bare)
        w.finish()
        local text = table.concat(parts)
        if fmt == "ndjson" then text = "[" .. text:gsub("\n$", ""):gsub("\n", ",") .. "]" end
        local got = cjson.decode(text)
        assert.are.same(cjson.decode(expected), got[1].session.metadata, fmt)
        assert.are.same({}, got[2].session.metadata, fmt)
        assert.is_truthy(table.concat(parts):find('"metadata":[]', 1, true), fmt)
      end
      local emit, parts = collect()
      local w = output.item_writer("csv", emit, "session")
      w.begin()
      w.row(session)
      w.row(bare)
      local header = parts[1]
      assert.are.equal("metadata\r\n", header:match("([^,]*)$"))
      local quoted = ',"' .. expected:gsub('"', '""') .. '"\r\n'
      assert.are.equal(quoted, parts[2]:sub(-#quoted))
      assert.are.equal(",[]\r\n", parts[3]:sub(-5))
      emit, parts = collect()
      w = output.item_writer("table", emit, "session")
      w.row(session)
      w.finish()
      assert.are.equal(expected .. "\n", parts[3]:sub(-(#expected + 1)))
    end)
  end)
end)

describe("apivideo-analytics sessions --format table", function()
  before_each(function()
    srv:idle_reset({ api_key = KEY })
  end)
  teardown(function() srv:reset() end)

  -- stdout like `| head -1`: the first write after a newline has been written fails
  local function head1()
    local s = { text = "", writes = 0 }
    function s.write(_, x)
      if s.text:find("\n", 1, true) then return nil, "Broken pipe" end
      s.writes = s.writes + 1
      s.text = s.text .. x
      return true
    end
    return s
  end

  for _, fmt in ipairs({ "table", "ndjson" }) do
    it(fmt .. ": the first line is out after the first page, not after the walk (like | head -1)", function()
      local out, err = head1(), { write = function() return true end }
      local code = cli.main({ "sessions", "--video", "vi10k", "--period", "2023", "--format", fmt,
        "--concurrency", "1", "--base-url", srv.url }, {
        stdout = out, stderr = err, getenv = function() return KEY end,
      })
      assert.are.equal(1, code) -- the write error once the reader is gone
      local pages = srv:stats().api_requests
      -- 10 000 sessions are 100 pages of 100: the walk stopped after the first (plus one prefetched)
      assert.is_true(pages <= 2, "pages fetched before the first line: " .. pages)
      if fmt == "table" then
        assert.is_truthy(out.text:match("^session_id%s+loaded_at%s+duration_s"), out.text)
      end
    end)
  end
end)
