-- examples/host: a C program with a 16 ms frame loop embeds Lua 5.4, walks a video's
-- sessions in a coroutine (client option yield = coroutine.yield) and resumes it once per
-- frame. Against the stand-in at 50 ms latency the walk must complete with the right items
-- while the frames keep coming: several frames per request, none longer than 40 ms.
local S = require("spec.support.standin")
local V = require("spec.support.compat")
local model = require("spec.support.model")
local shell = require("spec.support.shell")

local LATENCY_MS, FRAME_MS, MAX_FRAME_MS = 50, 16, 40

local q, sh = shell.quote, shell.run

-- FNV-1a (32 bit) over "id\n" for each id, as walk.lua computes it.
local function fnv(ids)
  return string.format("%08x", V.fnv1a32(table.concat(ids, "\n") .. "\n"))
end

local function expected_checksum(video, n)
  local ids = {}
  for i = 1, n do ids[i] = model.session_id(video, i) end
  return fnv(ids)
end

local function parse(line)
  local r = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  return r
end

-- #once: the host embeds Lua 5.4 whatever Lua runs the suite; `make test-all`
-- runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("examples/host (C frame loop embedding Lua 5.4) #once", function()
  local root, host, srv

  setup(function()
    root = S.root()
    host = root .. "/build/host/host"
    -- -Werror build, from another directory (the Makefile finds the checkout itself)
    local out, code = sh("cd / && make --no-print-directory -f " .. q(root .. "/examples/host/Makefile") .. " all 2>&1")
    assert.are.equal(0, code, out)
    srv = S.start({ latency_ms = LATENCY_MS })
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  -- Runs the host from / with key=value arguments; returns the parsed line, stdout+stderr,
  -- exit code and the stand-in's counters for the run.
  local function run(args)
    srv:reset()
    local cmd = { "cd / && env -u APIVIDEO_BASE_URL APIVIDEO_API_KEY=standin-key", q(host),
      "--timeout-ms 20000", q("base_url=" .. srv.url) }
    for _, a in ipairs(args) do cmd[#cmd + 1] = q(a) end
    local out, code = sh(table.concat(cmd, " ") .. " 2>&1")
    local line = out:match("(frames=[^\n]*)")
    return line and parse(line), out, code, srv:stats()
  end

  local results = {}

  for _, c in ipairs({ 1, 4 }) do
    it("walks vi250 (10 pages of 25) at concurrency " .. c .. " while the frames keep coming", function()
      local r, out, code, stats = run({ "video=vi250", "period=2023", "page_size=25", "concurrency=" .. c })
      assert.are.equal(0, code, out)
      assert.is_table(r, out)
      results[c] = r
      print(("\n  concurrency %d: %s"):format(c, out:gsub("\n$", "")))

      -- the walk completed, every item in API order
      assert.are.equal(250, r.items)
      assert.are.equal(10, r.pages)
      assert.are.equal(expected_checksum("vi250", 250), r.checksum)
      -- requests counted by the walk = what the stand-in served (10 pages + 1 token exchange)
      assert.are.equal(10, stats.api_requests)
      assert.are.equal(1, stats.auth_api_key)
      assert.are.equal(stats.api_requests + stats.auth_api_key, r.requests)
      assert.are.equal(c, stats.max_in_flight)

      -- the host never blocked on the network
      assert.is_true(r.max_frame_ms <= MAX_FRAME_MS, "a frame took " .. r.max_frame_ms .. " ms")
      -- a resume that waited for a response would last a whole latency (50 ms); on a quiet
      -- machine resumes take 0.2-2 ms, the margin is for a loaded one
      assert.is_true(r.max_resume_ms < LATENCY_MS / 2, "a resume took " .. r.max_resume_ms .. " ms")
      -- the frame rate held for the whole walk (frames ~ walk time / 16 ms)
      assert.is_true(r.frames >= 0.8 * r.walk_ms / FRAME_MS,
        r.frames .. " frames in " .. r.walk_ms .. " ms")
      -- many frames per request: each request waits 50 ms, three frames or more
      if c == 1 then
        assert.is_true(r.frames / r.requests >= 2, r.frames .. " frames for " .. r.requests .. " requests")
      else
        -- requests overlap here: token, page 1, then pages 2-5, 6-9, 10 in flight together
        -- make 5 sequential round trips; count the frames per round trip instead
        local rounds = 2 + math.ceil((r.pages - 1) / c)
        assert.is_true(r.frames / rounds >= 2, r.frames .. " frames for " .. rounds .. " round trips")
      end
    end)
  end

  it("walks faster with 4 pages in flight than with 1, still at the frame rate", function()
    local one, four = results[1], results[4]
    assert.is_table(one, "the concurrency 1 walk did not run")
    assert.is_table(four, "the concurrency 4 walk did not run")
    assert.is_true(four.walk_ms < 0.75 * one.walk_ms, four.walk_ms .. " ms vs " .. one.walk_ms .. " ms")
    assert.is_true(four.frames < one.frames)
  end)

  it("exits 1 with the Lua error when the walk fails, after frames kept coming", function()
    local r, out, code = run({ "video=viNope", "concurrency=1" })
    assert.are.equal(1, code, out)
    assert.is_nil(r)
    assert.truthy(out:find("HTTP 404", 1, true), out)
    assert.truthy(out:find("stack traceback", 1, true), out)
    -- token + one page at 50 ms each: the failure arrives several frames in
    local frames = tonumber(out:match("walk failed after (%d+) frames"))
    assert.is_true(frames and frames >= 4, out)
  end)

  it("exits 2 on a usage error", function()
    local _, out, code = run({ "not-a-key-value" })
    assert.are.equal(2, code, out)
    assert.truthy(out:find("usage:", 1, true), out)
  end)
end)
