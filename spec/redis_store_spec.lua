-- apivideo.redis_store (issue 20) outside nginx: the store interface of ngx.shared.DICT on a real
-- redis-server (started here on a free port, with a password, stopped at the end), through redis-lua
-- (Debian lua-redis, on luasocket). Inside nginx (lua-resty-redis) it is driven by spec/fleet_spec.lua.
local R = require("spec.support.redis")
package.path = package.path .. ";" .. R.driver_path()
local apivideo = require("apivideo")
local S = require("spec.support.standin")
local socket = require("socket")

local PASSWORD = "pw-0123-secret"

describe("apivideo.redis_store", function()
  local redis, s
  setup(function() redis = R.start({ password = PASSWORD }) end)
  teardown(function() if redis then redis:stop() end end)
  before_each(function()
    redis:cli("FLUSHALL")
    s = apivideo.redis_store({ port = redis.port, password = PASSWORD, db = 3, prefix = "t:", timeout_ms = 500 })
  end)
  after_each(function() s:close() end)

  it("get, set, add, delete with the answers of ngx.shared.DICT, under the prefix in the db", function()
    assert.is_nil(s:get("a"))
    assert.is_true(s:set("a", "x"))
    assert.are.equal("x", s:get("a"))
    local ok, why = s:add("a", "y")
    assert.is_false(ok)
    assert.are.equal("exists", why)
    assert.is_true(s:add("b", 1))
    assert.are.equal("1", s:get("b"))
    assert.are.equal("x", redis:cli("-n", "3", "GET", "t:a"))
    assert.are.equal("", redis:cli("-n", "0", "GET", "t:a"))
    assert.is_true(s:delete("a"))
    assert.is_nil(s:get("a"))
  end)

  it("ttls in (fractional) seconds, kept by incr", function()
    assert.is_true(s:set("a", "x", 0.3))
    assert.is_true(s:add("b", "y", 10))
    local pttl = tonumber(redis:cli("-n", "3", "PTTL", "t:b"))
    assert.is_true(pttl > 9000 and pttl <= 10000)
    assert.are.equal(4, s:incr("b2", 1, 3, 10))
    assert.are.equal(6, s:incr("b2", 2))
    assert.is_true(tonumber(redis:cli("-n", "3", "PTTL", "t:b2")) > 9000)
    socket.sleep(0.4)
    assert.is_nil(s:get("a"))
  end)

  it("incr: nil, 'not found' without init; atomic across connections", function()
    local v, why = s:incr("n", -1)
    assert.is_nil(v)
    assert.are.equal("not found", why)
    local other = apivideo.redis_store({ port = redis.port, password = PASSWORD, db = 3, prefix = "t:" })
    for _ = 1, 50 do
      s:incr("n", -1, 100)
      other:incr("n", -1, 100)
    end
    other:close()
    assert.are.equal(0, tonumber(s:get("n")))
    assert.are.equal(-0.5, s:incr("n", -0.5))
  end)

  it("get_keys lists the prefix's keys only", function()
    s:set("a", 1)
    s:set("b", 2)
    redis:cli("-n", "3", "SET", "other:c", "3")
    local keys = s:get_keys(0)
    table.sort(keys)
    assert.are.same({ "a", "b" }, keys)
  end)

  it("a wrong password or a dead server answers nil, err, never showing the password", function()
    local bad = apivideo.redis_store({ port = redis.port, password = "wrong-" .. PASSWORD })
    local v, err = bad:get("a")
    assert.is_nil(v)
    assert.is_truthy(err:find("AUTH", 1, true))
    assert.is_nil(err:find(PASSWORD, 1, true))
    assert.is_nil(tostring(s):find(PASSWORD, 1, true))
    assert.are.equal("apivideo.redis_store (127.0.0.1:" .. redis.port .. "/3)", tostring(s))
    for k, val in pairs(s) do
      assert.is_false(val == PASSWORD, "field " .. tostring(k) .. " holds the password")
    end
    local port = socket.bind("127.0.0.1", 0)
    local _, free = port:getsockname()
    port:close()
    local dead = apivideo.redis_store({ port = tonumber(free), timeout_ms = 200 })
    v, err = dead:get("a")
    assert.is_nil(v)
    assert.is_truthy(err:find("redis", 1, true))
  end)

  it("refuses bad options", function()
    for arg, opts in pairs({ port = { port = 0 }, db = { db = -1 }, password = { password = "" },
        prefix = { prefix = 1 }, timeout_ms = { timeout_ms = 0 }, options = { hots = "x" } }) do
      local ok, err = pcall(apivideo.redis_store, opts)
      assert.is_false(ok)
      assert.are.equal("argument", err.kind)
      assert.are.equal(arg, err.arg)
    end
  end)

  it("serves a client's cache and budget: a second client with its own connection reads the first's answer", function()
    local srv = S.shared()
    srv:idle_reset()
    local function client()
      return apivideo.new({ api_key = "standin-key", base_url = srv.url, auth = "basic",
        cache = { store = apivideo.redis_store({ port = redis.port, password = PASSWORD }), ttl = 30 },
        rate_limit_store = apivideo.redis_store({ port = redis.port, password = PASSWORD }) })
    end
    local a = assert(client().analytics:list_video_sessions("vi250", { period = "2023", page_size = 4 }))
    local b = assert(client().analytics:list_video_sessions("vi250", { period = "2023", page_size = 4 }))
    assert.are.same(a.data, b.data)
    assert.are.equal(1, #srv:requests("^/analytics/"))
    local budget = redis:cli("GET", "apivideo:apivideo:rl:" .. require("apivideo.store").account(srv.url,
      "standin-key") .. ":b")
    assert.are.equal(tostring(a.rate_limit.remaining), budget)
  end)
end)
