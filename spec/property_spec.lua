-- Randomized property spec for what the Lua layer builds into a request:
-- ids (path segments), metadata keys and values, periods, page numbers.
-- Each generated input is either refused with an argument error (and then
-- nothing reaches the server) or sent so that the server decodes exactly the
-- value given.
local apivideo = require("apivideo")
local S = require("spec.support.standin")

local srv = S.shared()
local N = tonumber(os.getenv("APIVIDEO_PROPERTY_N")) or 1500

-- bytes that matter to URLs, plus UTF-8 and plain letters
local ALPHABET = {
  "a", "Z", "0", "9", "-", "_", ".", "~", " ", "/", "?", "#", "%", "&", "=", "+", "[", "]",
  ";", ":", "@", "!", "$", "'", "(", ")", "*", ",", '"', "<", ">", "\\", "^", "`", "{", "|", "}",
  "é", "ü", "日", "本", "\240\159\142\172", "..", "%2F", "%00",
}

local function random_string(max_len, allow_empty)
  local n = math.random(allow_empty and 0 or 1, max_len)
  local parts = {}
  for i = 1, n do parts[i] = ALPHABET[math.random(#ALPHABET)] end
  return table.concat(parts)
end

local function random_period()
  local y = math.random(1990, 2030)
  local kind = math.random(1, 7)
  if kind == 1 then return tostring(y) end
  if kind == 2 then return string.format("%04d-%02d", y, math.random(0, 13)) end
  if kind == 3 then return string.format("%04d-W%02d", y, math.random(0, 54)) end
  if kind == 4 then return string.format("%04d-%02d-%02d", y, math.random(1, 12), math.random(0, 32)) end
  if kind == 5 then
    return string.format("%04d-%02d-%02d/%04d-%02d-%02d", y, math.random(1, 12), math.random(1, 28),
      y + math.random(-1, 1), math.random(1, 12), math.random(1, 31))
  end
  if kind == 6 then return random_string(12) end
  return string.format("%04d-%02d-%02dT00:00:00Z", y, 1, 1) -- never a valid period
end

local function is_argument_error(e)
  return require("apivideo.errors").is_argument(e) and e.fn == "analytics:list_video_sessions"
end

describe("generated inputs #property", function()
  setup(function() math.randomseed(tonumber(os.getenv("APIVIDEO_PROPERTY_SEED")) or 20261126) end)

  it("every id, metadata entry and period is refused or reaches the server exactly", function()
    srv:idle_reset()
    local c = apivideo.new({ api_key = "standin-key", base_url = srv.url, auth = "basic", max_retries = 0 })
    local sent, refused = 0, 0
    for i = 1, N do
      local id = (math.random(4) == 1) and "" or random_string(8)
      local metadata = {}
      for _ = 1, math.random(0, 2) do
        metadata[random_string(6, math.random(8) == 1)] = random_string(6, true)
      end
      local period = random_period()
      local opts = { period = period, metadata = metadata, page_size = math.random(0, 101),
        current_page = math.random(0, 3) }
      local before = srv:stats().requests
      local ok, page, err = pcall(c.analytics.list_video_sessions, c.analytics, id, opts)
      if not ok then
        assert.is_true(is_argument_error(page), "input " .. i .. " raised something else: " .. tostring(page))
        assert.are.equal(before, srv:stats().requests, "a refused input reached the server")
        refused = refused + 1
      else
        sent = sent + 1
        local log = srv:log()
        local entry = log[#log]
        assert.are.equal("/analytics/videos/" .. id, entry.path, "input " .. i .. ": the path")
        assert.are.equal(period, entry.args.period, "input " .. i .. ": the period")
        for k, v in pairs(metadata) do
          assert.are.equal(v, entry.args["metadata[" .. k .. "]"], "input " .. i .. ": metadata " .. k)
        end
        assert.are.equal(tostring(opts.page_size), entry.args.pageSize)
        assert.are.equal(tostring(opts.current_page), entry.args.currentPage)
        -- a request that was sent either got a page or an HTTP error from the server
        assert.is_true(page ~= nil or (apivideo.is_error(err) and err.kind == "http"))
      end
    end
    print(string.format("\n# property: %d inputs, %d sent and decoded exactly, %d refused", N, sent, refused))
    -- both outcomes must have happened often enough to mean something
    assert.is_true(sent > N / 20, "only " .. sent .. " inputs were sent")
    assert.is_true(refused > N / 4, "only " .. refused .. " inputs were refused")
  end)
end)
