-- apivideo-analytics: the client options as flags (--auth, --ca-file,
-- --allow-insecure-http, --timeout, --max-retries), the one rule for repeated
-- options, precise messages for bad files and periods, per-command help.
-- cli.main runs in-process against the stand-in, with captured streams.
-- Works on every Lua the suite runs under (no 5.3+ syntax).
local S = require("spec.support.standin")
local C = require("spec.support.cli")
local cli_args = require("apivideo.cli.args")
local shell = require("spec.support.shell")

local srv = S.shared()

local KEY = "CliOpt-SeCrEt-91c2e77a"

-- Runs cli.main; opts.no_base_url leaves --base-url out. The key never shows.
local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY } })

local function api_entries() return srv:requests("^/analytics/") end

local function count_lines(s)
  local n = 0
  for _ in s:gmatch("\n") do n = n + 1 end
  return n
end

-- A usage error: exit 2, nothing on stdout, the message first on stderr, nothing sent.
local usage_fails = C.usage_fails(run, srv)

local function is_root()
  local p = io.popen("id -u")
  local uid = p:read("*l")
  p:close()
  return uid == "0"
end

describe("apivideo-analytics options", function()
  before_each(function()
    srv:idle_reset({ api_key = KEY })
  end)
  teardown(function() srv:reset() end)

  describe("--auth", function()
    it("basic: the key on every request, no token exchange", function()
      local code, out, err = run({ "events", "--session", "psvi250_000003", "--format", "ndjson", "--auth", "basic" })
      assert.are.equal(0, code, err)
      assert.are.equal(6, count_lines(out))
      local st = srv:stats()
      assert.are.equal(0, st.auth_api_key)
      for _, e in ipairs(api_entries()) do assert.are.equal("basic", e.auth) end
    end)

    it("bearer (the default): one token exchange, then bearer requests", function()
      local code = run({ "events", "--session", "psvi250_000003", "--auth", "bearer" })
      assert.are.equal(0, code)
      assert.are.equal(1, srv:stats().auth_api_key)
      for _, e in ipairs(api_entries()) do assert.are.equal("bearer", e.auth) end
    end)

    it("anything else is a usage error naming the value", function()
      usage_fails({ "events", "--session", "psNoEvents", "--auth", "digest" },
        "--auth must be basic or bearer, got 'digest'")
    end)
  end)

  describe("--max-retries and --timeout", function()
    it("--max-retries N: a 500 is retried N times, then reported", function()
      for _, n in ipairs({ 0, 2 }) do
        srv:idle_reset({ api_key = KEY })
        srv:faults({ { match = "/analytics/sessions/psNoEvents", kind = "500", count = -1 } })
        local code, out, err = run({ "events", "--session", "psNoEvents", "--max-retries", tostring(n) })
        assert.are.equal(1, code)
        assert.are.equal("", out)
        assert.is_truthy(err:match("^apivideo%-analytics: HTTP 500"), err)
        assert.are.equal(n + 1, #api_entries())
      end
    end)

    it("--timeout MS ends a request that takes longer", function()
      srv:config({ latency_ms = 400 })
      local code, out, err = run({ "events", "--session", "psNoEvents", "--timeout", "100", "--max-retries", "0",
        "--auth", "basic" })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.is_truthy(err:match("^apivideo%-analytics: timeout"), err)
      srv:config({ latency_ms = 0 })
    end)

    it("refuse what is not a whole number in range, naming the flag and the value", function()
      for _, case in ipairs({
        { "--timeout", "0", "--timeout must be a whole number of milliseconds from 1 to 2147483647, got '0'" },
        { "--timeout", "1.5", "--timeout must be a whole number of milliseconds from 1 to 2147483647, got '1.5'" },
        { "--timeout", "2147483648",
          "--timeout must be a whole number of milliseconds from 1 to 2147483647, got '2147483648'" },
        { "--timeout", "10s", "--timeout must be a whole number of milliseconds from 1 to 2147483647, got '10s'" },
        { "--max-retries", "101", "--max-retries must be an integer from 0 to 100, got '101'" },
        { "--max-retries", "-1", "--max-retries must be an integer from 0 to 100, got '-1'" },
      }) do
        usage_fails({ "events", "--session", "psNoEvents", case[1], case[2] }, case[3])
      end
    end)
  end)

  describe("--ca-file", function()
    it("a readable file is accepted (and handed to the client)", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
      f:close()
      local o = cli_args.parse({ "events", "--session", "psNoEvents", "--ca-file", path })
      assert.are.equal(path, o.ca_file)
      local code = run({ "events", "--session", "psNoEvents", "--ca-file", path }) -- plain http: unused
      os.remove(path)
      assert.are.equal(0, code)
    end)

    it("a missing file or a directory is a usage error saying which", function()
      local dir = shell.tmpdir()
      usage_fails({ "events", "--session", "psNoEvents", "--ca-file", dir .. "/nope.pem" },
        "--ca-file: the CA file '" .. dir .. "/nope.pem' does not exist")
      usage_fails({ "events", "--session", "psNoEvents", "--ca-file", dir },
        "--ca-file: the CA file '" .. dir .. "' is a directory, not a file")
      os.execute("rmdir '" .. dir .. "'")
    end)
  end)

  describe("--allow-insecure-http", function()
    it("without it, a plain http:// host that is not loopback is refused, naming the flag", function()
      usage_fails({ "events", "--session", "psNoEvents", "--base-url", "http://analytics.invalid" },
        "refusing to send the API key over plain http:// to a non-loopback host"
          .. " (use https://, or use --allow-insecure-http)", { no_base_url = true })
    end)

    it("with it, the request is sent (and fails here: the name does not resolve)", function()
      local code, out, err = run({ "events", "--session", "psNoEvents", "--base-url", "http://analytics.invalid",
        "--allow-insecure-http", "--max-retries", "0" }, { no_base_url = true })
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.is_truthy(err:match("^apivideo%-analytics: network error"), err)
    end)
  end)

  describe("repeated options: one rule", function()
    it("a single-valued option given twice is an error naming it, even with the same value", function()
      local rule = " given twice (every option but --metadata and --filter is given at most once)"
      usage_fails({ "sessions", "--video", "vi250", "--video", "vi10k", "--period", "2023" },
        "option --video" .. rule)
      usage_fails({ "sessions", "--video", "vi250", "--period", "2023", "--period", "2023" },
        "option --period" .. rule)
      usage_fails({ "events", "--session", "psNoEvents", "--format", "csv", "--format=json" },
        "option --format" .. rule)
      usage_fails({ "events", "--session", "psNoEvents", "--sandbox", "--sandbox" }, "option --sandbox" .. rule,
        { no_base_url = true })
      usage_fails({ "events", "--session", "psNoEvents", "--base-url", srv.url }, "option --base-url" .. rule)
    end)

    it("--metadata repeats with different keys; a key given twice is an error naming the key", function()
      usage_fails({ "sessions", "--video", "vi250", "--period", "2023", "--metadata", "plan=pro",
        "--metadata", "plan=free" }, "--metadata key 'plan' given twice (a session has one value per key)")
      local code, out = run({ "sessions", "--video", "vi250", "--period", "2023", "--format", "ndjson",
        "--metadata", "plan=pro", "--metadata", "user=user33" })
      assert.are.equal(0, code)
      assert.is_true(count_lines(out) > 0)
      local args = api_entries()[1].args
      assert.are.equal("pro", args["metadata[plan]"])
      assert.are.equal("user33", args["metadata[user]"])
    end)
  end)

  describe("--api-key-file", function()
    it("a directory, a missing file and an empty first line each say so", function()
      local dir = shell.tmpdir()
      usage_fails({ "events", "--session", "psNoEvents", "--api-key-file", dir },
        "--api-key-file: the API key file '" .. dir .. "' is a directory, not a file")
      usage_fails({ "events", "--session", "psNoEvents", "--api-key-file", dir .. "/key" },
        "--api-key-file: the API key file '" .. dir .. "/key' does not exist")
      local f = assert(io.open(dir .. "/key", "w"))
      f:write("\n" .. KEY .. "\n")
      f:close()
      usage_fails({ "events", "--session", "psNoEvents", "--api-key-file", dir .. "/key" },
        "--api-key-file: the API key file '" .. dir .. "/key' has an empty first line")
      os.remove(dir .. "/key")
      os.execute("rmdir '" .. dir .. "'")
    end)

    it("an unreadable file says it cannot be read", function()
      local path = os.tmpname()
      if is_root() then
        -- permissions do not stop root: the real program, as the user nobody
        local f = assert(io.open(path, "w"))
        f:write(KEY .. "\n")
        f:close()
        os.execute("chmod 600 '" .. path .. "'")
        local p = io.popen("runuser -u nobody -- lua5.4 '" .. S.root() .. "/bin/apivideo-analytics' events --session "
          .. "psNoEvents --api-key-file '" .. path .. "' 2>&1; echo \"rc=$?\"")
        local out = p:read("*a")
        p:close()
        os.remove(path)
        assert.are.equal("apivideo-analytics: --api-key-file: the API key file '" .. path .. "' cannot be read "
          .. "(permission denied)", out:match("^[^\n]*"))
        assert.matches("\nrc=2\n$", out)
        return
      end
      local f = assert(io.open(path, "w"))
      f:write(KEY .. "\n")
      f:close()
      os.execute("chmod 000 '" .. path .. "'")
      usage_fails({ "events", "--session", "psNoEvents", "--api-key-file", path },
        "--api-key-file: the API key file '" .. path .. "' cannot be read (permission denied)")
      os.remove(path)
    end)
  end)

  describe("--period", function()
    it("a date that does not exist says so, not 'bad format'", function()
      local err = usage_fails({ "sessions", "--video", "vi250", "--period", "2023-02-30" },
        "bad --period (the date 2023-02-30 does not exist: February 2023 has 28 days; got '2023-02-30')")
      assert.is_nil(err:find("YYYY", 1, true))
    end)
  end)

  describe("help", function()
    local function help_of(args)
      local code, out, err = run(args, { no_base_url = true })
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.are.equal(0, srv:stats().requests)
      return out
    end

    it("COMMAND --help: that command's usage, its options only, the output and examples", function()
      local out = help_of({ "sessions", "--help" })
      assert.are.equal("Usage: apivideo-analytics sessions --video ID --period P [OPTIONS]\n",
        out:match("^[^\n]*\n"))
      for _, s in ipairs({ "--video ID", "--period P", "--metadata KEY=VALUE", "--auth MODE", "--ca-file FILE",
        "--allow-insecure-http", "--timeout MS", "--max-retries N", "Examples:", "referrer_medium",
        'metadata is [{"key":K,"value":V},...]' }) do
        assert.is_truthy(out:find(s, 1, true), s)
      end
      for _, s in ipairs({ "--session ID", "--live-stream ID", "--no-events", "--strict" }) do
        assert.is_nil(out:find(s, 1, true), s)
      end
      assert.are.equal(out, help_of({ "help", "sessions" }))
      assert.are.equal(out, help_of({ "sessions", "--video", "x", "-h" }))
    end)

    it("each command has its own help", function()
      local seen = {}
      for _, cmd in ipairs({ "sessions", "live-sessions", "events", "summary" }) do
        local out = help_of({ cmd, "--help" })
        assert.is_truthy(out:find("^Usage: apivideo%-analytics " .. cmd:gsub("%-", "%%-") .. " "), out)
        assert.is_truthy(out:find("Examples:\n  apivideo-analytics " .. cmd .. " ", 1, true), cmd)
        assert.is_nil(seen[out], cmd)
        seen[out] = true
      end
      local summary = help_of({ "summary", "--help" })
      for _, s in ipairs({ "--no-events", "--strict", '"sessions_left_out"', "metric,key,value" }) do
        assert.is_truthy(summary:find(s, 1, true), s)
      end
      local events = help_of({ "events", "--help" })
      assert.is_truthy(events:find("type, emitted_at, at, from, to", 1, true))
      assert.is_nil(events:find("--period", 1, true))
    end)

    it("the global help lists the commands and states the rule for repeated options", function()
      local out = help_of({ "--help" })
      for _, s in ipairs({ "sessions ", "live-sessions ", "events ", "summary ", "COMMAND --help",
        "Every option may be given at most once, except --metadata" }) do
        assert.is_truthy(out:find(s, 1, true), s)
      end
    end)

    it("a usage error ends with the command's usage line and where its help is", function()
      local err = usage_fails({ "summary", "--video", "vi250" },
        "'summary' needs --period (or --from/--last for the /data operations)")
      assert.are.equal("apivideo-analytics: 'summary' needs --period (or --from/--last for the /data operations)\n"
        .. "Usage: apivideo-analytics summary --video ID --period P [OPTIONS]\n"
        .. "Try 'apivideo-analytics summary --help' for more.\n", err)
    end)
  end)
end)
