-- Specs of apivideo.new: option validation, environments, tostring, the headers
-- every request carries (as the stand-in saw them), and close().
local apivideo = require("apivideo")
local expect = require("spec.support.expect")
local core = require("apivideo.core")
local mime = require("mime")
local socket = require("socket")
local S = require("spec.support.standin")

local KEY = "standin-key"

describe("apivideo client", function()
  local srv

  setup(function()
    srv = S.shared()
  end)

  before_each(function()
    srv:idle_reset()
  end)

  -- Valid options with overrides applied (a value of `false` in `without` removes a key).
  local function opts_with(over, without)
    local o = { api_key = KEY, base_url = srv.url }
    for k, v in pairs(over or {}) do o[k] = v end
    for _, k in ipairs(without or {}) do o[k] = nil end
    return o
  end

  -- apivideo.new(opts) must raise an argument error of apivideo.new whose text contains `want`.
  local function refuses(opts, want)
    local e = expect.argument_error(apivideo.new, opts)
    assert.are.equal("apivideo.new", e.fn)
    local err = tostring(e)
    assert.is_truthy(err:find("apivideo.new: ", 1, true), err)
    assert.is_truthy(err:find(want, 1, true), "'" .. want .. "' not in: " .. err)
    return err, e
  end

  local function accepts(opts)
    local c = apivideo.new(opts)
    assert.is_table(c)
    c:close()
    return c
  end

  it("has version 0.1.0", function()
    assert.equal("0.1.0", apivideo._VERSION)
  end)

  describe("apivideo.new validation", function()
    after_each(function()
      -- building a client, even a refused one, never talks to the server
      assert.equal(0, srv:stats().requests)
    end)

    it("raises at the caller's line, naming apivideo.new, for every kind of option (integer options too)", function()
      local line
      local bad = {
        { concurrency = 0 }, { timeout_ms = 1.5 }, { max_retries = "3" }, -- integer options
        { auth = "digest" }, { pagesize = 10 }, { on_event = true }, { base_url = "ftp://127.0.0.1" },
        { application = { name = "" } },
      }
      for _, over in ipairs(bad) do
        local name = next(over)
        local ok, err = pcall(function()
          line = debug.getinfo(1, "l").currentline + 1
          local c = apivideo.new(opts_with(over)) -- not a tail call: this line is the position
          return c
        end)
        assert.is_false(ok, name)
        assert.are.equal("argument", err.kind, name)
        assert.matches("client_spec%.lua:" .. line .. "$", err.where, 1, false, name)
        assert.matches("^[^\n]*client_spec%.lua:" .. line .. ": apivideo%.new: ", tostring(err), 1, false, name)
      end
    end)

    it("wants a table of options", function()
      refuses(nil, "bad argument 'options' (table expected, got nil)")
      refuses(KEY, "bad argument 'options' (table expected, got string)")
    end)

    it("refuses unknown options, typos included", function()
      refuses(opts_with({ pagesize = 10 }), "unknown option 'pagesize'")
      refuses({ api_keys = KEY, base_url = srv.url }, "unknown option 'api_keys'")
      refuses(opts_with({ timeout = 1000 }), "unknown option 'timeout'")
      refuses(opts_with({ baseUrl = srv.url }), "unknown option 'baseUrl'")
      refuses(opts_with({ [1] = "x" }), "unknown option '1'")
    end)

    it("requires a non-empty string api_key", function()
      refuses(opts_with(nil, { "api_key" }), "option 'api_key' is required")
      refuses(opts_with({ api_key = "" }), "option 'api_key' is required")
      refuses(opts_with({ api_key = 12345 }), "option 'api_key' is required")
      refuses(opts_with({ api_key = { KEY } }), "option 'api_key' is required")
    end)

    it("knows only the production and sandbox environments", function()
      refuses({ api_key = KEY, environment = "staging" }, "bad option 'environment'")
      refuses({ api_key = KEY, environment = "Production" }, "got 'Production'")
      refuses({ api_key = KEY, environment = 1 }, "got number")
    end)

    it("knows only bearer and basic auth", function()
      refuses(opts_with({ auth = "digest" }), "bad option 'auth' ('basic' or 'bearer' expected, got 'digest')")
      refuses(opts_with({ auth = true }), "bad option 'auth'")
    end)

    it("checks every integer option's type and range", function()
      local cases = {
        { "timeout_ms", 1, 2147483647, { 0, -1, 2147483648 } },
        { "connect_timeout_ms", 1, 2147483647, { 0, -5 } },
        { "stall_timeout_ms", 0, 2147483647, { -1 } },
        { "max_retries", 0, 100, { -1, 101 } },
        { "max_retry_wait_ms", 0, 2147483647, { -1 } },
        { "concurrency", 1, 64, { 0, 65 } },
        { "max_body_bytes", 1, 4294967296, { 0, 4294967297 } },
      }
      for _, case in ipairs(cases) do
        local name, lo, hi, bad = case[1], case[2], case[3], case[4]
        accepts(opts_with({ [name] = lo }))
        accepts(opts_with({ [name] = hi }))
        accepts(opts_with({ [name] = lo + 0.0 })) -- an integral float is fine
        for _, v in ipairs(bad) do
          refuses(opts_with({ [name] = v }), "'" .. name .. "' (" .. lo .. ".." .. hi .. " expected, got ")
        end
        refuses(opts_with({ [name] = lo + 0.5 }), "'" .. name .. "' (integer expected, got number")
        refuses(opts_with({ [name] = tostring(hi) }), "'" .. name .. "' (integer expected, got string")
        refuses(opts_with({ [name] = 0 / 0 }), "'" .. name .. "' (integer expected")
        refuses(opts_with({ [name] = true }), "'" .. name .. "' (integer expected, got boolean")
      end
    end)

    it("checks the types of ca_file, on_event, yield and allow_insecure_http", function()
      refuses(opts_with({ ca_file = 1 }), "bad option 'ca_file' (string expected, got number)")
      refuses(opts_with({ on_event = "print" }), "bad option 'on_event' (function expected, got string)")
      refuses(opts_with({ yield = true }), "bad option 'yield' (function expected, got boolean)")
      refuses(opts_with({ allow_insecure_http = "yes" }), "bad option 'allow_insecure_http' (boolean expected")
      refuses(opts_with({ allow_insecure_http = 1 }), "bad option 'allow_insecure_http' (boolean expected")
      accepts(opts_with({ ca_file = "/etc/ssl/certs/ca-certificates.crt", on_event = function() end,
        yield = function() end, allow_insecure_http = false }))
    end)

    describe("application", function()
      it("must be a table with only name and version", function()
        refuses(opts_with({ application = "my-app:1.0" }), "bad option 'application' (table expected, got string)")
        refuses(opts_with({ application = { name = "a", version = "1", build = "7" } }), "unknown option 'build'")
      end)

      it("accepts names of 1-50 letters, digits, '_' or '-'", function()
        for _, name in ipairs({ "a", "Z", "9", "my-app", "My_App-2", string.rep("n", 50) }) do
          accepts(opts_with({ application = { name = name, version = "1.0.0" } }))
        end
      end)

      it("refuses other names", function()
        for _, name in ipairs({ "", string.rep("n", 51), "my app", "my.app", "my:app", "my/app", "café", "a\n" }) do
          refuses(opts_with({ application = { name = name, version = "1.0.0" } }), "'application.name'")
        end
        refuses(opts_with({ application = { version = "1.0.0" } }), "'application.name'")
        refuses(opts_with({ application = { name = 12, version = "1.0.0" } }), "'application.name'")
      end)

      it("accepts versions of one to three dot-separated numbers of 1-3 digits", function()
        for _, v in ipairs({ "0", "1", "12", "123", "1.2", "12.345", "1.2.3", "999.999.999", "0.0.0" }) do
          accepts(opts_with({ application = { name = "app", version = v } }))
        end
      end)

      it("refuses other versions", function()
        for _, v in ipairs({ "", "1234", "1.2.3.4", "1.", ".1", "1..2", "v1", "1.2.3-beta", "1.2.3 ", "1.0000",
          "a.b.c", "1,2" }) do
          refuses(opts_with({ application = { name = "app", version = v } }), "'application.version'")
        end
        refuses(opts_with({ application = { name = "app" } }), "'application.version'")
        refuses(opts_with({ application = { name = "app", version = 1 } }), "'application.version'")
      end)
    end)

    describe("base_url", function()
      it("accepts a trailing slash and a path prefix, and strips the slash", function()
        local c = accepts(opts_with({ base_url = srv.url .. "/" }))
        assert.equal("apivideo.client (" .. srv.url .. ", bearer)", tostring(c))
        c = accepts(opts_with({ base_url = "https://api.example.com/prefix//" }))
        assert.equal("apivideo.client (https://api.example.com/prefix, bearer)", tostring(c))
      end)

      it("refuses queries, fragments, other schemes and non-URLs", function()
        for _, u in ipairs({ "https://ws.api.video?x=1", "https://ws.api.video/#f", "ftp://127.0.0.1",
          "127.0.0.1:8080", "", "http://", "https:// ws.api.video", "//ws.api.video" }) do
          refuses(opts_with({ base_url = u }), "bad option 'base_url'")
        end
        refuses(opts_with({ base_url = 8080 }), "bad option 'base_url' (string expected, got number)")
      end)

      -- credentials in base_url would end up in tostring(client) and every error's url
      it("refuses credentials in base_url (user:pw@, user@, :pw@)", function()
        for _, u in ipairs({ "http://user:pw@127.0.0.1:1", "https://user@ws.api.video", "https://:pw@ws.api.video",
          "https://user:pw@ws.api.video/prefix" }) do
          refuses(opts_with({ base_url = u }), "bad option 'base_url'")
        end
      end)

      it("refuses plain http to a non-loopback host unless allow_insecure_http", function()
        for _, u in ipairs({ "http://example.com", "HTTP://example.com/", "http://10.0.0.1:8080",
          "http://localhost.example.com", "http://127.0.0.1.example.com" }) do
          refuses(opts_with({ base_url = u }), "refusing to send the API key over plain http://")
          accepts(opts_with({ base_url = u, allow_insecure_http = true }))
        end
        -- the option that lifts it is a field: programs (the CLI) need no text
        local ok, e = pcall(apivideo.new, opts_with({ base_url = "http://example.com" }))
        assert.is_false(ok)
        assert.are.same({ "argument", "base_url", "allow_insecure_http" }, { e.kind, e.arg, e.unless })
        ok, e = pcall(apivideo.new, opts_with({ base_url = "ftp://example.com" }))
        assert.is_false(ok)
        assert.are.same({ "argument", "base_url" }, { e.kind, e.arg, e.unless })
      end)

      it("allows plain http to loopback hosts", function()
        for _, u in ipairs({ "http://127.0.0.1:1", "http://127.9.8.7", "http://localhost:8080/",
          "http://[::1]:8080" }) do
          accepts(opts_with({ base_url = u }))
        end
      end)
    end)
  end)

  describe("environment and tostring", function()
    it("uses production by default and sandbox on request; base_url overrides both", function()
      assert.equal("apivideo.client (https://ws.api.video, bearer)", tostring(accepts({ api_key = KEY })))
      assert.equal("apivideo.client (https://ws.api.video, bearer)",
        tostring(accepts({ api_key = KEY, environment = "production" })))
      assert.equal("apivideo.client (https://sandbox.api.video, basic)",
        tostring(accepts({ api_key = KEY, environment = "sandbox", auth = "basic" })))
      assert.equal("apivideo.client (" .. srv.url .. ", bearer)",
        tostring(accepts({ api_key = KEY, environment = "sandbox", base_url = srv.url })))
    end)

    it("never shows the API key, in tostring or anywhere in the client's tables", function()
      local key = "Very-Secret-Key-4242"
      local enc = mime.b64(key .. ":")
      for _, mode in ipairs({ "bearer", "basic" }) do
        local c = apivideo.new({ api_key = key, base_url = srv.url, auth = mode })
        for _, s in ipairs({ tostring(c), tostring(c.analytics) }) do
          assert.is_nil(s:find(key, 1, true), s)
          assert.is_nil(s:find(enc, 1, true), s)
        end
        local seen = {}
        local function walk(v)
          if type(v) == "string" then
            assert.is_nil(v:find(key, 1, true), v)
            assert.is_nil(v:find(enc, 1, true), v)
          elseif type(v) == "table" and not seen[v] then
            seen[v] = true
            for k, x in pairs(v) do
              walk(k)
              walk(x)
            end
          end
        end
        walk(c)
        c:close()
      end
    end)
  end)

  describe("request headers", function()
    local function assert_common(h, what)
      assert.equal("application/json", h["accept"], what)
      assert.equal("lua:" .. apivideo._VERSION, h["av-origin-client"], what)
      assert.equal("lua:0.1.0", h["av-origin-client"], what)
      local ua = h["user-agent"]
      assert.is_string(ua, what)
      assert.is_truthy(ua:find("lua-apivideo", 1, true), ua)
      assert.is_truthy(ua:find("libcurl", 1, true), ua)
    end

    it("every request (token call and operation) carries Accept, AV-Origin-Client, AV-Origin-App, User-Agent",
      function()
        local c = apivideo.new({ api_key = KEY, base_url = srv.url,
          application = { name = "spec-app", version = "1.2.3" } })
        assert(c.analytics:list_video_sessions("vi250", { period = "2023", page_size = 1 }))
        assert(c.analytics:list_session_events("psvi250_000001", { page_size = 1 }))
        c:close()
        local log = srv:log()
        assert.equal(3, #log)
        assert.equal("/auth/api-key", log[1].path)
        assert.equal("/analytics/videos/vi250", log[2].path)
        assert.equal("/analytics/sessions/psvi250_000001/events", log[3].path)
        for i, entry in ipairs(log) do
          assert_common(entry.headers, "request " .. i)
          assert.equal("spec-app:1.2.3", entry.headers["av-origin-app"], "request " .. i)
        end
      end)

    it("sends no AV-Origin-App without an application; Basic mode sends the same headers", function()
      local c = apivideo.new({ api_key = KEY, base_url = srv.url .. "/", auth = "basic" })
      assert(c.analytics:list_live_stream_sessions("li500", { period = "2023", page_size = 1 }))
      c:close()
      local log = srv:log()
      assert.equal(1, #log)
      assert.equal("basic", log[1].auth)
      assert.equal("/analytics/live-streams/li500", log[1].path)
      assert.is_nil(log[1].uri:find("^//")) -- the trailing slash of base_url did not double
      assert_common(log[1].headers, "basic")
      assert.is_nil(log[1].headers["av-origin-app"])
    end)
  end)

  describe("close", function()
    it("cancels the pages in flight and can be called twice", function()
      srv:config({ latency_ms = 300 })
      local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic", concurrency = 3 })
      local next_page = c.analytics:video_session_pages("vi250", { period = "2023", page_size = 10 })
      local first = next_page()
      assert.equal(1, first.pagination.current_page)
      c:step(0) -- starts the prefetched pages
      assert.equal(3, c:in_flight())
      -- the server really has them
      local deadline = core.now_ms() + 2000
      while srv:stats().in_flight < 3 and core.now_ms() < deadline do
        c:step(0)
        socket.sleep(0.01)
      end
      assert.equal(3, srv:stats().in_flight)
      c:close()
      assert.matches("%(closed%)", tostring(c.engine.waiter))
      c:close() -- idempotent
      assert.matches("%(closed%)", tostring(c.engine.waiter))
    end)

    it("in_flight() returns 0 after close()", function()
      local c = apivideo.new({ api_key = KEY, base_url = srv.url, auth = "basic" })
      assert.equal(0, c:in_flight())
      c:close()
      c:close()
      local ok, n = pcall(c.in_flight, c)
      assert.is_true(ok, tostring(n))
      assert.equal(0, n)
    end)
  end)
end)
