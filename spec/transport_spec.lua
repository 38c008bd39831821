-- apivideo.transport (what the operations see of a client), apivideo.clock
-- (the API's time from its Date header) and the media operations built on
-- the same rows (client.videos:get, client.live_streams:get).
local apivideo = require("apivideo")
local clock = require("apivideo.clock")
local expect = require("spec.support.expect")
local S = require("spec.support.standin")

local srv = S.shared()

local function new_client(opts)
  local o = { api_key = "standin-key", base_url = srv.url, auth = "basic", max_retries = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return apivideo.new(o)
end

describe("apivideo.clock", function()
  it("reads RFC 9110 IMF-fixdates, and nothing else", function()
    for _, case in ipairs({
      { "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
      { "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
      { "Mon, 07 Dec 2026 01:21:39 GMT", 1796606499 },
      { "Sun, 06 Nov 1994 08:49:37 UTC", nil },
      { "Sunday, 06-Nov-94 08:49:37 GMT", nil },
      { "Sun, 06 Foo 1994 08:49:37 GMT", nil },
      { "Sun, 06 Nov 1994 25:49:37 GMT", nil },
      { 42, nil },
    }) do
      assert.are.equal(case[2], clock.parse_http_date(case[1]), tostring(case[1]))
    end
  end)

  it("knows nothing before an answer, then the Date it was told, advanced by the local monotonic time", function()
    local c = clock.new()
    assert.is_nil(c:now())
    c:learn({ date = "Sun, 06 Nov 1994 08:49:37 GMT" })
    local t = c:now()
    assert.is_true(t >= 784111777 and t < 784111777 + 1, tostring(t))
    c:learn({ ["content-type"] = "application/json" }) -- no Date: what it knew stays
    assert.is_true(c:now() >= 784111777)
  end)
end)

describe("the transport", function()
  it("client:server_time() is the API's Date header (the stand-in's clock) once an answer came", function()
    local c = new_client()
    assert.is_nil(c:server_time())
    assert.is_table((c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 1 })))
    local t = c:server_time()
    assert.is_number(t)
    -- the stand-in tells the clock of its data (2024-01-01T00:00:00Z), not this machine's time
    assert.is_true(t >= 1704067200 and t < 1704067200 + 2, tostring(t))
    c:close()
  end)

  it("a closed client raises at the caller's line, from every kind of call", function()
    local c = new_client()
    c:close()
    for name, call in pairs({ -- (none of them a tail call: the position is the line inside)
      one_request = function() local r = c.analytics:list_session_events("ps1") return r end,
      items = function() local r = c.analytics:session_events("ps1") return r end,
      pages = function() local r = c.analytics:metrics_over_time_pages("play") return r end,
      media = function() local r = c.videos:get("vi1") return r end,
      step = function() local r = c:step(0) return r end,
      run_all = function() local r = c:run_all({}) return r end,
    }) do
      local ok, e = pcall(call)
      assert.is_false(ok, name)
      assert.are.equal("apivideo: the client is closed", e.text, name)
      -- the position is the line calling the library (inside `call`), never a file of the library
      assert.is_nil(e.where:find("apivideo[/\\]"), name .. ": " .. e.where)
      assert.matches("transport_spec%.lua:%d+$", e.where, 1, false, name)
    end
  end)

  it("tostring of the operations names the client, never the key", function()
    local c = new_client({ api_key = "standin-key" })
    for _, obj in ipairs({ c, c.analytics, c.videos, c.live_streams }) do
      local text = tostring(obj)
      assert.is_truthy(text:find(srv.url, 1, true), text)
      assert.is_nil(text:find("standin-key", 1, true), text)
    end
    assert.matches("^apivideo%.videos %(apivideo%.client %(", tostring(c.videos))
    c:close()
  end)
end)

describe("client.videos:get and client.live_streams:get", function()
  it("check their argument before sending, naming the method", function()
    local c = new_client()
    local before = srv:stats().requests
    for _, case in ipairs({ { c.videos, "videos:get", "video_id" },
      { c.live_streams, "live_streams:get", "live_stream_id" } }) do
      local e = expect.argument_error(case[1].get, case[1], "")
      assert.are.same({ case[2], case[3], "empty string" }, { e.fn, e.arg, e.reason })
      e = expect.argument_error(case[1].get, case[1], "x", { title = true })
      assert.are.same({ case[2], "options" }, { e.fn, e.arg })
    end
    assert.are.equal(before, srv:stats().requests)
    c:close()
  end)

  it("GET /videos/{id} and /live-streams/{id}, a failure as an error object", function()
    local c = new_client()
    for _, case in ipairs({ { c.videos, "/videos/no-such" }, { c.live_streams, "/live-streams/no-such" } }) do
      local r, err = case[1]:get("no-such")
      if r then
        -- a stand-in that serves media: the object as the API wrote it
        assert.is_table(r)
      else
        assert.is_true(apivideo.is_error(err))
        assert.are.equal(404, err.status)
      end
      local log = srv:log()
      assert.are.equal("GET", log[#log].method)
      assert.are.equal(case[2], log[#log].path)
    end
    c:close()
  end)
end)
