-- apivideo-analytics as a whole (lua/apivideo/cli.lua, bin/apivideo-analytics)
-- against the stand-in: usage errors, API and network errors, the API key,
-- progress, and the script itself (run as a subprocess at the end). The
-- commands have their own specs (cli_lists, cli_summary, cli_metrics,
-- cli_report); cli.main runs in-process with captured streams.
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local cli_args = require("apivideo.cli.args")
local cjson = require("cjson")
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local clients = require("spec.support.clients")
local model = require("spec.support.model")
local shell = require("spec.support.shell")
local V = require("spec.support.compat")

local srv = S.shared()

-- A distinctive key: it must never show up in anything the tool prints.
local KEY = "Cli-SeCrEt-7f3a9c0e-dd41"
local WRONG_KEY = "Cli-WrOnG-5b2e8a71-0c9f"

local T0 = model.T0 -- 2023-01-01T00:00:00Z in ms
local JAN_END = T0 + 31 * model.DAY_MS
local lines = C.lines

-- Runs cli.main in-process. opts: env (table), tty, interval, no_base_url.
-- Every run checks that neither key appears in what was printed.
local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY, WRONG_KEY } })

local client = clients.builder({ api_key = KEY, base_url = srv.url })

-- The ids of a video's sessions in a period, through the client's iterator.
local function session_ids(id, period)
  local c, list = client(), {}
  for s in c.analytics:video_sessions(id, { period = period, page_size = 100 }) do
    list[#list + 1] = s.session.session_id
  end
  c:close()
  return list
end

describe("apivideo-analytics", function()
  before_each(function() srv:idle_reset({ api_key = KEY }) end)
  teardown(function() srv:reset() end) -- the stand-in's own key again for the next file

  describe("usage errors", function()
    local ev = { "events", "--session", "psNoEvents" }
    local function with(base, ...)
      local t = {}
      for i, x in ipairs(base) do t[i] = x end
      for _, x in ipairs({ ... }) do t[#t + 1] = x end
      return t
    end
    -- { what, argv, the message (stderr's first line after the prefix), run's opts }
    local cases = {
      { "no command", {}, "missing command" },
      { "unknown command", { "frobnicate" }, "unknown command 'frobnicate'" },
      { "missing --period", { "sessions", "--video", "vi250" }, "'sessions' needs --period" },
      { "missing --video", { "summary", "--period", "2023" }, "'summary' needs --video" },
      { "missing --session", { "events" }, "'events' needs --session" },
      { "option without its value", { "events", "--session" }, "option --session needs a value" },
      { "option of another command", with(ev, "--period", "2023"), "option --period does not apply to 'events'" },
      { "unknown option", with(ev, "--bogus"), "unknown option '--bogus'" },
      { "extra argument", with(ev, "extra"), "unexpected argument 'extra'" },
      { "bad --format", with(ev, "--format", "xml"), "--format must be table, csv, ndjson or json, got 'xml'" },
      { "--page-size 0", with(ev, "--page-size", "0"), "--page-size must be an integer from 1 to 100, got '0'" },
      { "--page-size 101", with(ev, "--page-size", "101"),
        "--page-size must be an integer from 1 to 100, got '101'" },
      { "--page-size abc", with(ev, "--page-size", "abc"),
        "--page-size must be an integer from 1 to 100, got 'abc'" },
      { "--concurrency 0", with(ev, "--concurrency", "0"), "--concurrency must be an integer from 1 to 64, got '0'" },
      { "--metadata without =", { "sessions", "--video", "vi250", "--period", "2023", "--metadata", "x" },
        "--metadata expects KEY=VALUE with a non-empty KEY, got 'x'" },
      { "--sandbox with --base-url", with(ev, "--sandbox"), "--sandbox and --base-url exclude each other" },
      { "a period the library refuses", { "sessions", "--video", "vi250", "--period", "2023-13" },
        "bad --period (there is no month 13 (01 to 12); got '2023-13')" },
      { "a reversed range", { "summary", "--video", "vi250", "--period", "2023-02-01/2023-01-01" },
        "bad --period (range '2023-02-01/2023-01-01' ends before it starts)" },
      { "a base URL the client refuses (plain http to another host)", with(ev, "--base-url", "http://example.com"),
        "refusing to send the API key over plain http:// to a non-loopback host (use https://, or use "
          .. "--allow-insecure-http)", { no_base_url = true } },
      { "a base URL that is not one", with(ev, "--base-url", "ftp:x"),
        "bad --base-url (http:// or https:// URL without credentials, query or fragment expected)",
        { no_base_url = true } },
    }
    for _, case in ipairs(cases) do
      local what, argv, message, opts = case[1], case[2], case[3], case[4]
      it("exit 2, message and usage on stderr, nothing sent: " .. what, function()
        local code, out, err = run(argv, opts)
        assert.are.equal(2, code)
        assert.are.equal("", out)
        assert.are.equal("apivideo-analytics: " .. message, err:match("^([^\n]*)\n"))
        assert.is_truthy(err:match("^[^\n]+\nUsage: apivideo%-analytics "), err)
        assert.is_truthy(err:match("\nTry 'apivideo%-analytics [%a%- ]*%-%-help' for more%.\n$"), err)
        assert.are.equal(0, srv:stats().requests)
      end)
    end

    it("without a key: exit 2 naming APIVIDEO_API_KEY and --api-key-file", function()
      local code, out, err = run({ "events", "--session", "psNoEvents" }, { env = {} })
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.is_truthy(err:find("APIVIDEO_API_KEY", 1, true))
      assert.is_truthy(err:find("--api-key-file", 1, true))
      assert.are.equal(0, srv:stats().requests)
    end)

    it("an unknown option never echoes what follows '='", function()
      local code, _, err = run({ "events", "--session", "psNoEvents", "--api-key=" .. KEY })
      assert.are.equal(2, code)
      assert.is_truthy(err:find("unknown option '--api-key'", 1, true), err)
    end)

    it("--help prints the help on stdout and exits 0", function()
      local code, out, err = run({ "--help" })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      for _, cmd in ipairs({ "sessions", "live-sessions", "events", "summary", "--format", "--api-key-file" }) do
        assert.is_truthy(out:find(cmd, 1, true), cmd)
      end
      assert.are.equal(0, srv:stats().requests)
    end)

    it("--sandbox selects the sandbox environment", function()
      local o = cli_args.parse({ "events", "--session", "psNoEvents", "--sandbox" })
      assert.is_true(o.sandbox)
      assert.is_nil(o.base_url)
      o = cli_args.parse({ "events", "--session", "psNoEvents" })
      assert.is_nil(o.sandbox)
    end)
  end)

  describe("API and network errors", function()
    it("an unknown video: exit 1, the error's one line on stderr, nothing on stdout", function()
      local c = client()
      local page, e = c.analytics:list_video_sessions("viNope", { period = "2023-01" })
      c:close()
      assert.is_nil(page)
      assert.are.equal(404, e.status)
      for _, fmt in ipairs({ "table", "csv", "ndjson", "json" }) do
        for _, cmd in ipairs({ "sessions", "summary" }) do
          local code, out, err = run({ cmd, "--video", "viNope", "--period", "2023-01", "--format", fmt })
          assert.are.equal(1, code)
          assert.are.equal("", out)
          assert.are.equal("apivideo-analytics: " .. tostring(e):gsub("^apivideo: ", "") .. "\n", err)
        end
      end
    end)

    -- { what, argv, run's opts, stderr (a pattern when `pattern`) }
    local cases = {
      { "an unknown session: the 404 (sessionId)", { "events", "--session", "psNope" }, nil,
        "apivideo-analytics: HTTP 404 The requested resource was not found. (sessionId) "
          .. "GET /analytics/sessions/psNope/events\n" },
      { "a refused key: the authentication error, neither key printed", { "events", "--session", "psNoEvents" },
        { env = { APIVIDEO_API_KEY = WRONG_KEY } },
        "apivideo-analytics: authentication failed: HTTP 400 The user credentials were incorrect. "
          .. "POST /auth/api-key\n" },
      { "a server that is not there: a network error",
        { "events", "--session", "psNoEvents", "--base-url", "http://127.0.0.1:1" }, { no_base_url = true },
        "^apivideo%-analytics: network error: [^\n]*\n$", pattern = true },
    }
    for _, case in ipairs(cases) do
      local what, argv, opts, want = case[1], case[2], case[3], case[4]
      it("exit 1, nothing on stdout, one line on stderr: " .. what, function()
        local code, out, err = run(argv, opts)
        assert.are.equal(1, code)
        assert.are.equal("", out)
        if case.pattern then
          assert.is_truthy(err:match(want), err)
        else
          assert.are.equal(want, err)
        end
      end)
    end
  end)

  describe("the API key", function()
    local path
    before_each(function() path = os.tmpname() end)
    after_each(function() os.remove(path) end)

    local function write(text)
      local f = assert(io.open(path, "w"))
      f:write(text)
      f:close()
    end

    it("--api-key-file: the first line, trimmed, and it wins over APIVIDEO_API_KEY", function()
      write("  " .. KEY .. " \t\nsecond line\n")
      local code, out, err = run({ "events", "--session", "psvi250_000003", "--format", "ndjson",
        "--api-key-file", path }, { env = {} })
      assert.are.equal(0, code, err)
      assert.are.equal(6, #lines(out))
      code, out, err = run({ "events", "--session", "psvi250_000003", "--format", "ndjson",
        "--api-key-file", path }, { env = { APIVIDEO_API_KEY = WRONG_KEY } })
      assert.are.equal(0, code, err)
      assert.are.equal(6, #lines(out))
      assert.are.equal(0, srv:stats().status["400"] or 0) -- the wrong key was never tried
    end)

    it("an empty or missing key file is a usage error", function()
      write("\nsecond line\n")
      local code, _, err = run({ "events", "--session", "psNoEvents", "--api-key-file", path })
      assert.are.equal(2, code)
      assert.is_truthy(err:find("empty", 1, true), err)
      os.remove(path)
      code = run({ "events", "--session", "psNoEvents", "--api-key-file", path })
      assert.are.equal(2, code)
      assert.are.equal(0, srv:stats().requests)
    end)

    it("never appears in any output, whatever happens", function()
      -- run() asserts the absence of both keys on every run; here a mix of outcomes
      local outcomes = {}
      outcomes[#outcomes + 1] = run({ "summary", "--video", "vi250", "--period", "2023-01-05" })
      outcomes[#outcomes + 1] = run({ "sessions", "--video", "vi250", "--period", "2023-01", "--format", "ndjson" })
      outcomes[#outcomes + 1] = run({ "sessions", "--video", "viNope", "--period", "2023-01" })
      outcomes[#outcomes + 1] = run({ "events", "--session", "psNoEvents" }, { env = { APIVIDEO_API_KEY = WRONG_KEY } })
      outcomes[#outcomes + 1] = run({ "events", "--session", "psNoEvents", "--bogus" })
      outcomes[#outcomes + 1] = run({ "--help" })
      assert.are.same({ 0, 0, 1, 1, 2, 0 }, outcomes)
    end)
  end)

  describe("progress", function()
    it("nothing on stderr when it is not a terminal", function()
      local code, out, err = run({ "summary", "--video", "vi250", "--period", "2023-01", "--page-size", "5" })
      assert.are.equal(0, code)
      assert.is_true(#out > 0)
      assert.are.equal("", err)
    end)

    it("on a terminal: pages done / total, items per second, time left on stderr; stdout unchanged", function()
      local args = { "sessions", "--video", "vi250", "--period", "2023", "--format", "csv", "--page-size", "100" }
      local code, plain = run(args)
      assert.are.equal(0, code)
      local code2, out, err = run(args, { tty = true, interval = 0 })
      assert.are.equal(0, code2)
      assert.are.equal(plain, out)
      for n = 1, 3 do
        assert.is_truthy(err:find("sessions: page " .. n .. "/3, ", 1, true), err)
      end
      assert.is_truthy(err:find("250 items, %d+ items/s, %d+:%d%d left"), err)
      assert.is_nil(err:find("\n", 1, true)) -- one line redrawn with CR, cleared at the end
      assert.are.equal("\r\27[K", err:sub(-4))
    end)

    it("the summary reports sessions, then events by session", function()
      local code, _, err = run({ "summary", "--video", "vi250", "--period", "2023-01", "--format", "json" },
        { tty = true, interval = 0 })
      assert.are.equal(0, code)
      assert.is_truthy(err:find("sessions: page 1/1, ", 1, true), err)
      local n = model.count_in(250, T0, JAN_END)
      assert.is_truthy(err:find("events: session " .. n .. "/" .. n .. ", ", 1, true), err)
    end)
  end)

  describe("the script bin/apivideo-analytics", function()
    local root = S.root()
    local lua = V.interpreter()
    local q = shell.quote

    -- stdout with stderr merged in, and the exit status
    local function script(args, dir)
      return shell.run("cd " .. q(dir or root) .. " && env APIVIDEO_API_KEY=" .. q(KEY) .. " " .. lua .. " "
        .. q(root .. "/bin/apivideo-analytics") .. " " .. args .. " --base-url " .. q(srv.url))
    end

    it("exit 0 and stdout (stderr merged in) holds data only", function()
      local expected = session_ids("vi250", "2023-01")
      local out, code = script("sessions --video vi250 --period 2023-01 --format ndjson", "/")
      assert.are.equal(0, code, out)
      local ids = {}
      for k, l in ipairs(lines(out)) do ids[k] = cjson.decode(l).session.session_id end
      assert.are.same(expected, ids)
      assert.is_nil(out:find(KEY, 1, true))
    end)

    it("exit 1 with the error line, exit 2 with the usage", function()
      local out, code = script("sessions --video viNope --period 2023-01 --format csv")
      assert.are.equal(1, code)
      assert.are.equal("apivideo-analytics: HTTP 404 The requested resource was not found. (videoId) "
        .. "GET /analytics/videos/viNope\n", out)
      out, code = script("sessions --video vi250")
      assert.are.equal(2, code)
      assert.is_truthy(out:match("^apivideo%-analytics: 'sessions' needs %-%-period\nUsage:"), out)
    end)

    it("runs through its #! line from any directory", function()
      local out, code = shell.run("cd / && env APIVIDEO_API_KEY=" .. q(KEY) .. " "
        .. q(root .. "/bin/apivideo-analytics") .. " events --session psNoEvents --format csv"
        .. " --base-url " .. q(srv.url))
      assert.are.equal(0, code, out)
      assert.are.equal("type,emitted_at,at,from,to\r\n", out)
    end)
  end)
end)
