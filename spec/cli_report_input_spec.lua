-- apivideo-analytics report --input FILE (issue 18): the report drawn from
-- what `sessions` / `live-sessions` wrote with --format json or ndjson is
-- the report fetched live with --no-events for the same media and period
-- (the data table given to apivideo.report.html, captured by wrapping it,
-- and the file's bytes), and nothing is sent: the stand-in's request log
-- stays empty and no API key is set. Works on every Lua the suite runs
-- under (no 5.3+ syntax).
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local shell = require("spec.support.shell")

local srv = S.shared()

local KEY = "CliRepIn-SeCrEt-5b2e8c10"
local NOW = 1704067200 -- the report's generation time, the same for both

local dir
local last = C.capture_reports() -- the latest report's data and page

local run_cli = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

-- Runs cli.main at NOW; opts.env: the environment (default: the key).
local function run(args, opts)
  opts = opts or {}
  last.clear()
  return run_cli(args, { env = opts.env, streams = { now = function() return NOW end } })
end

-- No API key in the environment: --input must not need one.
local NO_KEY = { env = {} }

local function fresh()
  srv:idle_reset()
  srv:config({ api_key = KEY })
end

local read = shell.read_file

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- A usage error: exit 2, nothing on stdout, the message first on stderr, nothing sent.
local usage_fails = C.usage_fails(run, srv)

--- The dump `args` writes (a sessions command), in dir/name.
local function dump(args, name)
  local code, out, err = run(args)
  assert.are.equal(0, code, err)
  fresh()
  return write(dir .. "/" .. name, out), out
end

describe("apivideo-analytics report --input", function()
  setup(function()
    dir = shell.tmpdir()
    last.install()
  end)
  teardown(function()
    last.restore()
    os.execute("rm -rf '" .. dir .. "'")
    srv:reset()
  end)
  before_each(fresh)

  it("a 'sessions --format json' dump: the live report's data and page, no request, no key", function()
    local path, text = dump({ "sessions", "--video", "vi250", "--period", "2023", "--format", "json" }, "year.json")
    assert.is_truthy(text:find('"session_id"', 1, true))
    local live_out = dir .. "/live.html"
    local code, out, err = run({ "report", "--video", "vi250", "--period", "2023", "--no-events", "--out", live_out })
    assert.are.equal(0, code, err)
    assert.are.equal(live_out .. "\n", out)
    local live = last.data
    assert.is_true(srv:stats().requests > 0)
    assert.is_true(live.sessions > 10)
    fresh()
    local from_dump = dir .. "/dump.html"
    code, out, err = run({ "report", "--video", "vi250", "--period", "2023", "--input", path, "--out", from_dump },
      NO_KEY)
    assert.are.equal(0, code, err)
    assert.are.equal("", err)
    assert.are.equal(from_dump .. "\n", out)
    assert.are.equal(0, srv:stats().requests)
    assert.are.same(live, last.data)
    assert.is_true(#last.data.breakdowns.country > 1)
    assert.are.equal(live.sessions, #last.data.over_time.times)
    assert.are.equal(read(live_out), read(from_dump))
    assert.is_nil(read(from_dump .. ".tmp"))
    -- --no-events changes nothing; --strict neither (nothing is fetched)
    code = run({ "report", "--video", "vi250", "--period", "2023", "--input", path, "--out", from_dump,
      "--no-events", "--strict" }, NO_KEY)
    assert.are.equal(0, code)
    assert.are.same(live, last.data)
    assert.are.equal(0, srv:stats().requests)
  end)

  it("a 'live-sessions --format ndjson' dump of an ISO week: the live stream's report", function()
    local path = dump({ "live-sessions", "--live-stream", "li500", "--period", "2023-W05", "--format", "ndjson" },
      "week.ndjson")
    local code, _, err = run({ "report", "--live-stream", "li500", "--period", "2023-W05", "--no-events", "--out",
      dir .. "/live-week.html" })
    assert.are.equal(0, code, err)
    local live = last.data
    assert.is_true(live.sessions > 0)
    fresh()
    code, _, err = run({ "report", "--live-stream", "li500", "--period", "2023-W05", "--input", path, "--out",
      dir .. "/dump-week.html" }, NO_KEY)
    assert.are.equal(0, code, err)
    assert.are.same(live, last.data)
    assert.are.same({ kind = "live-stream", id = "li500" }, last.data.media)
    assert.are.equal(0, srv:stats().requests)
  end)

  it("an empty dump ([] or an empty ndjson file): a report of no session", function()
    for _, text in ipairs({ "[]\n", "" }) do
      local path = write(dir .. "/empty.json", text)
      local code, _, err = run({ "report", "--video", "vi1", "--period", "2023-01", "--input", path, "--out",
        dir .. "/empty.html" }, NO_KEY)
      assert.are.equal(0, code, err)
      assert.are.equal(0, last.data.sessions)
      assert.are.same({}, last.data.over_time.times)
    end
    assert.are.equal(0, srv:stats().requests)
  end)

  it("a file that is not a dump: one line naming it, exit 2, no report, nothing sent", function()
    local function bad(name, text, message)
      local path = text and write(dir .. "/" .. name, text) or dir .. "/" .. name
      local out = dir .. "/bad.html"
      local err = usage_fails({ "report", "--video", "vi250", "--period", "2023", "--input", path, "--out", out },
        message:gsub("FILE", path), NO_KEY)
      assert.is_nil(err:find("traceback", 1, true))
      assert.is_nil(err:find("internal error", 1, true))
      assert.is_nil(read(out))
      assert.is_nil(read(out .. ".tmp"))
    end
    bad("missing.json", nil, "--input: the dump 'FILE' does not exist")
    os.execute("mkdir -p '" .. dir .. "/adir'")
    bad("adir", nil, "--input: the dump 'FILE' is a directory, not a file")
    bad("page.html", "<html></html>\n", "--input: 'FILE' is not JSON (line 1: Expected value but found invalid "
      .. "token at character 1)")
    bad("cut.json", '[{"session":{"session_id":"ps1"}', "--input: 'FILE' is not JSON (Expected comma or object end "
      .. "but found T_END at character 33)")
    bad("object.json", '{"data":[]}', "--input: 'FILE' is not a dump of sessions (item 1 has no session object; "
      .. "make it with 'sessions --format json')")
    bad("numbers.json", "[1, 2]", "--input: 'FILE' is not a dump of sessions (item 1 has no session object; "
      .. "make it with 'sessions --format json')")
    bad("events.ndjson", '{"session":{"session_id":"ps1"}}\n{"type":"play"}\n', "--input: 'FILE' is not a dump of "
      .. "sessions (item 2 has no session object; make it with 'sessions --format json')")
  end)

  it("--input goes with --period and --video or --live-stream, not with a window, --db or --metadata", function()
    local path = write(dir .. "/one.json", "[]")
    local base = { "report", "--video", "vi250", "--input", path, "--out", dir .. "/x.html" }
    local function with(...)
      local a = {}
      for i, v in ipairs(base) do a[i] = v end
      for _, v in ipairs({ ... }) do a[#a + 1] = v end
      return a
    end
    local why = " exclude each other (the dump is the sessions of one --period, as 'sessions' chose and wrote them)"
    usage_fails(with("--from", "2023-12-05"), "--input and --from" .. why, NO_KEY)
    usage_fails(with("--last", "7d"), "--input and --last" .. why, NO_KEY)
    usage_fails(with("--period", "2023", "--metadata", "plan=pro"), "--input and --metadata" .. why, NO_KEY)
    usage_fails(with("--period", "2023", "--db", dir .. "/a.db"), "--input and --db" .. why, NO_KEY)
    usage_fails(with(), "'report --input' needs --period (the period of the dump's sessions)", NO_KEY)
    usage_fails({ "report", "--period", "2023", "--input", path, "--out", dir .. "/x.html" },
      "'report' needs --video or --live-stream", NO_KEY)
    usage_fails({ "summary", "--video", "vi250", "--period", "2023", "--input", path },
      "option --input does not apply to 'summary'", NO_KEY)
    local code, out = run({ "report", "--help" })
    assert.are.equal(0, code)
    assert.matches("\n  %-%-input FILE ", out)
    assert.is_truthy(out:find("--input jan.json", 1, true))
  end)
end)
