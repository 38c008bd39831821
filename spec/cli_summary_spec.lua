-- apivideo-analytics summary: --no-events, and sessions whose events cannot be
-- fetched (left out, named on stderr, counted in the output; exit 1 only with
-- --strict). Faults come from the stand-in (POST /_standin/faults with match).
-- Expected figures come from the stand-in's contract (notes/standin-contract.md):
-- session i of vi250 has 3 + i%8 events. Works on every Lua the suite runs under.
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local cli = require("apivideo.cli")
local model = require("spec.support.model")

local srv = S.shared()

local KEY = "CliSum-SeCrEt-4d0b6a13"

-- the indexes of vi250's sessions loaded in 2023-01 (the contract spreads them over 2023)
local JAN = model.indexes_in(250, model.T0, model.T0 + 31 * model.DAY_MS)

local events_of = model.events_of

local function total_events(except)
  local t = 0
  for _, i in ipairs(JAN) do
    if not (except and except[i]) then t = t + events_of(i) end
  end
  return t
end

local function sid(i) return model.session_id("vi250", i) end

local run_cli = C.runner({ url = srv.url, key = KEY })

-- The summary of vi250 in 2023-01, with these arguments too.
local function run(args)
  local argv = { "summary", "--video", "vi250", "--period", "2023-01" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return run_cli(argv)
end

local function lines(s)
  local out = {}
  for l in s:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function event_requests() return #srv:requests("/events$") end

describe("apivideo-analytics summary", function()
  before_each(function()
    srv:idle_reset({ api_key = KEY })
  end)
  teardown(function() srv:reset() end)

  it("counts every session's events (the baseline the cases below change)", function()
    local code, out, err = run({ "--format", "json" })
    assert.are.equal(0, code)
    assert.are.equal("", err)
    local got = cjson.decode(out)
    assert.are.equal(#JAN, got.sessions)
    assert.are.equal(total_events(), got.events.total)
    assert.is_true(got.events.fetched)
    assert.are.equal(#JAN, got.events.sessions_counted)
    assert.are.equal(0, got.events.sessions_left_out)
    assert.are.same({}, got.events.left_out)
    assert.are.same({}, got.metadata)
  end)

  describe("--no-events", function()
    it("sends no event request and says the events were not fetched, in every format", function()
      local code, out, err = run({ "--no-events", "--format", "json" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.are.equal(0, event_requests())
      assert.are.equal(1, srv:stats().api_requests) -- the one page of sessions
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.sessions)
      assert.are.equal(#JAN, got.duration_s.count)
      assert.is_false(got.events.fetched)
      assert.are.equal(cjson.null, got.events.total)
      assert.are.equal(cjson.null, got.events.by_type)

      code, out = run({ "--no-events", "--format", "csv" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\r\nevents,fetched,0\r\n", 1, true), out)
      assert.is_truthy(out:find("\r\nevents,total,\r\n", 1, true), out)
      assert.is_nil(out:find("\r\nevents,play,", 1, true))

      code, out = run({ "--no-events" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\nEvents: not fetched (--no-events)\n", 1, true), out)
      assert.is_nil(out:find("event_type", 1, true))
      assert.are.equal(0, event_requests())
    end)

    it("is refused by the other commands", function()
      local out, err = C.buffer(), C.buffer()
      local code = cli.main({ "sessions", "--video", "vi250", "--period", "2023", "--no-events" },
        { stdout = out, stderr = err, getenv = function() return KEY end })
      assert.are.equal(2, code)
      assert.is_truthy(err:text():find("option --no-events does not apply to 'sessions'", 1, true))
    end)
  end)

  describe("a session whose events cannot be fetched", function()
    local bad = JAN[3]

    it("is left out: named on stderr, the rest counted, the output says how many; exit 0", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0" })
      assert.are.equal(0, code, err)
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.sessions) -- the session itself still counts
      assert.are.equal(total_events({ [bad] = true }), got.events.total)
      assert.are.equal(#JAN - 1, got.events.sessions_counted)
      assert.are.equal(1, got.events.sessions_left_out)
      assert.are.same({ sid(bad) }, got.events.left_out)
      local ls = lines(err)
      assert.are.equal(2, #ls, err)
      assert.is_truthy(ls[1]:find("^apivideo%-analytics: left out the events of session " .. sid(bad) .. ": "), err)
      assert.is_truthy(ls[1]:find("/analytics/sessions/" .. sid(bad) .. "/events", 1, true), err)
      assert.are.equal("apivideo-analytics: the events of 1 of " .. #JAN .. " sessions were left out", ls[2])
    end)

    it("a session failing on a later page of its events counts none of them", function()
      -- page size 2: session `bad` has 3 + bad%8 events, so more than one page; the second fails
      assert.is_true(events_of(bad) > 2)
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "500", skip = 1, count = -1 } })
      local code, out = run({ "--format", "json", "--max-retries", "0", "--page-size", "2", "--concurrency", "1" })
      assert.are.equal(0, code)
      local got = cjson.decode(out)
      assert.are.equal(total_events({ [bad] = true }), got.events.total)
      assert.are.same({ sid(bad) }, got.events.left_out)
    end)

    it("with --strict: the same output and stderr, exit 1", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code1, out1, err1 = run({ "--format", "csv", "--max-retries", "0" })
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code2, out2, err2 = run({ "--format", "csv", "--max-retries", "0", "--strict" })
      assert.are.equal(0, code1)
      assert.are.equal(1, code2)
      assert.are.equal(out1, out2)
      assert.are.equal(err1, err2)
      assert.is_truthy(out2:find("\r\nevents,sessions_left_out,1\r\n", 1, true), out2)
      assert.is_truthy(out2:find("\r\nevents,total," .. total_events({ [bad] = true }) .. "\r\n", 1, true))
    end)

    it("the table says how many were left out", function()
      srv:faults({ { match = "/analytics/sessions/" .. sid(bad) .. "/events", kind = "invalid_json", count = -1 } })
      local code, out = run({ "--max-retries", "0" })
      assert.are.equal(0, code)
      assert.is_truthy(out:find("\nEvents of 1 of " .. #JAN .. " sessions left out", 1, true), out)
    end)

    it("when no session's events could be fetched there is nothing to summarize: exit 1", function()
      srv:faults({ { match = "/events", kind = "invalid_json", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0" })
      assert.are.equal(1, code)
      local got = cjson.decode(out)
      assert.are.equal(#JAN, got.events.sessions_left_out)
      assert.are.equal(0, got.events.sessions_counted)
      assert.are.equal(#JAN + 1, #lines(err))
    end)

    it("a refused key still ends the command (it cannot heal for the next session)", function()
      srv:faults({ { match = "/analytics/sessions/", kind = "401", count = -1 } })
      local code, out, err = run({ "--format", "json", "--max-retries", "0", "--auth", "basic" })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.are.equal(1, #lines(err), err)
    end)
  end)
end)
