-- examples/*.lua run as written against the stand-in (and without a key or a
-- stand-in they refuse to run rather than send the stand-in's key anywhere).
local S = require("spec.support.standin")
local shell = require("spec.support.shell")

local srv = S.shared()
local ROOT = S.root()

local q = shell.quote

local LUA = arg and arg[-1] or "lua5.4"

-- Runs an example with the given environment; returns stdout, exit code.
local function run(example, env)
  local vars = { "env -u APIVIDEO_API_KEY -u APIVIDEO_BASE_URL -u APIVIDEO_STANDIN_URL" }
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
  return shell.run(table.concat(vars, " ") .. " " .. q(LUA) .. " " .. q(ROOT .. "/examples/" .. example))
end

local function examples()
  local p = io.popen("cd " .. q(ROOT .. "/examples") .. " && ls *.lua")
  local list = {}
  for f in p:lines() do
    if f ~= "common.lua" and f ~= "report.lua" then list[#list + 1] = f end
  end
  p:close()
  return list
end

-- What each example must print (a line that only a real answer produces).
local EXPECT = {
  ["demo.lua"] = "sessions in all",
  ["get_aggregated_metrics.lua"] = "^play / count where media_type=video, from 2023%-12%-25T00:00:00%+00:00 to "
    .. "2024%-01%-01T00:00:00%+00:00: %d+",
  ["get_metrics_breakdown.lua"] = "play by country, page 1/%d+",
  ["get_metrics_over_time.lua"] = "2023%-12%-25T00:00:00%+00:00\t%d+",
  ["list_live_stream_sessions.lua"] = "psli500_%d+",
  ["list_session_events.lua"] = "ready",
  ["list_video_sessions.lua"] = "page 1/%d+, %d+ sessions in all",
  ["live_stream_session_pages.lua"] = "page 1: first session psli500_000001",
  ["live_stream_sessions.lua"] = "psli500_000001",
  ["metrics_breakdown.lua"] = "buckets, %d+ in all",
  ["metrics_breakdown_pages.lua"] = "page 1/%d+: 5 buckets",
  ["metrics_over_time.lua"] = "^168 points, %d+ in all",
  ["metrics_over_time_pages.lua"] = "page 1/4: 50 points",
  ["session_event_pages.lua"] = "in flight after break: 0",
  ["session_events.lua"] = "play\t%d+",
  ["video_session_pages.lua"] = "page 2/%d+: 50 sessions",
  ["video_sessions.lua"] = "10000 sessions",
}

describe("examples #once", function()
  before_each(function() srv:idle_reset() end)

  it("every example has an expectation here", function()
    for _, f in ipairs(examples()) do assert.is_string(EXPECT[f], f .. " is not checked by this spec") end
  end)

  for f, pattern in pairs(EXPECT) do
    it(f .. " runs as written against the stand-in", function()
      local out, code = run(f, { APIVIDEO_STANDIN_URL = srv.url })
      assert.are.equal(0, code, out)
      local found = false
      for line in out:gmatch("[^\n]+") do
        if line:find(pattern) then found = true end
      end
      assert.is_true(found, f .. " printed no line matching " .. pattern .. ":\n" .. out)
      assert.is_true(srv:stats().api_requests >= 1)
    end)
  end

  it("session_events.lua of a session without events says so", function()
    local out, code = shell.run("env APIVIDEO_STANDIN_URL=" .. q(srv.url) .. " " .. q(LUA) .. " "
      .. q(ROOT .. "/examples/session_events.lua") .. " psNoEvents")
    assert.are.equal(0, code, out)
    assert.are.equal("no events for session psNoEvents\n", out)
  end)

  it("without APIVIDEO_API_KEY nor APIVIDEO_STANDIN_URL an example stops and says what to set", function()
    local out, code = run("list_video_sessions.lua", {})
    assert.are.equal(2, code)
    assert.matches("set APIVIDEO_API_KEY", out, 1, true)
    assert.is_nil(out:find("standin%-key"))
  end)
end)
