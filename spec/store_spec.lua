-- The in-memory token store (apivideo.memory_store, lua/apivideo/store.lua):
-- its own contract, the part of ngx.shared.DICT that the client relies on
-- (get, set, add, delete; ttl in whole seconds; add answers false, "exists"
-- for a live key), the value types auth puts there (the encoded token string
-- and the lock's 1), and its tostring. What lua-nginx-module documents and
-- what Debian's module answers (checked by hand in init_worker_by_lua):
--   set, add, delete      -> true, nil, false     (success, err, forcible)
--   add of a live key     -> false, "exists", false
--   get                   -> value (nil: missing or expired)
--   exptime 0 (default)   -> never expires; a negative exptime raises
--                            'bad "exptime" argument'
-- The store reads os.time on every call, so the clock is made controllable by
-- replacing os.time (restored in after_each): no test sleeps for seconds.
-- The last block is end to end against the stand-in: clients that share one
-- store exchange the key once (not covered by auth_spec, which never passes
-- a token_store).
local apivideo = require("apivideo")
local store_mod = require("apivideo.store")
local V = require("spec.support.compat")
local S = require("spec.support.standin")
local clients = require("spec.support.clients")
local core = require("apivideo.core")

local real_time = os.time
local clock -- the frozen wall clock, in seconds

-- Freezes os.time() at t; os.time(tbl) still converts a date.
local function freeze(t)
  clock = t
  os.time = function(tbl) -- luacheck: ignore 122
    if tbl ~= nil then return real_time(tbl) end
    return clock
  end
end

local function advance(s) clock = clock + s end

after_each(function()
  os.time = real_time -- luacheck: ignore 122
  clock = nil
end)

local T0 = 1700000000 -- an integral wall-clock second

-- What auth stores: "access\trefresh\texpires_at\trenew_at" (wall-clock
-- seconds) under "apivideo:token:<fingerprint>", and 1 under that key .. ":lock".
local TOKEN_VALUE = "sta_0123abcd\tstr_4567ef89\t1700003600.000\t1700003240.000"
local TOKEN_KEY = "apivideo:token:" .. require("apivideo.auth").fingerprint("https://ws.api.video\nk")
local LOCK_KEY = TOKEN_KEY .. ":lock"

describe("apivideo.store (memory)", function()
  local s
  before_each(function()
    freeze(T0)
    s = apivideo.memory_store()
  end)

  describe("construction and tostring", function()
    it("apivideo.memory_store is the store module's constructor; each call gives an empty, separate store", function()
      assert.are.equal(store_mod.new, apivideo.memory_store)
      local a, b = apivideo.memory_store(), store_mod.new()
      assert.are_not.equal(a, b)
      assert.is_true((a:set("k", "from a")))
      assert.is_nil(b:get("k"))
      assert.is_true((b:add("k", "from b")))
      assert.are.equal("from a", a:get("k"))
      assert.are.equal("from b", b:get("k"))
    end)

    it("tostring is 'apivideo.store (memory)' and never shows what it holds", function()
      assert.are.equal("apivideo.store (memory)", tostring(s))
      s:set(TOKEN_KEY, TOKEN_VALUE, 3600)
      s:add(LOCK_KEY, 1, 30)
      local text = tostring(s)
      assert.are.equal("apivideo.store (memory)", text)
      assert.is_nil(text:find("sta_", 1, true))
      assert.is_nil(text:find("apivideo:token:", 1, true))
    end)
  end)

  describe("get", function()
    it("gives nil for a key that was never stored, and stores nothing by asking", function()
      assert.are.equal(1, select("#", s:get("missing")))
      assert.is_nil(s:get("missing"))
      assert.is_nil(s:get(TOKEN_KEY))
      assert.is_true((s:add("missing", "now there"))) -- the look-up did not take the key
      assert.are.equal("now there", s:get("missing"))
    end)
  end)

  describe("set", function()
    it("stores a value that get returns, and answers true", function()
      local ok = s:set("k", "v")
      assert.are.equal(true, ok)
      assert.are.equal("v", s:get("k"))
      assert.are.equal("v", s:get("k")) -- reading does not consume it
    end)

    it("keeps the values auth stores exactly: the encoded token string and the lock's integer 1", function()
      s:set(TOKEN_KEY, TOKEN_VALUE, 3600)
      s:set(LOCK_KEY, 1, 30)
      local tok = s:get(TOKEN_KEY)
      assert.are.equal("string", type(tok))
      assert.are.equal(TOKEN_VALUE, tok)
      local lock = s:get(LOCK_KEY)
      assert.are.equal(1, lock)
      assert.are.equal(V.INTEGER, V.math_type(lock))
    end)

    it("keeps false as a value (ngx.shared.DICT stores booleans), distinct from a missing key", function()
      s:set("flag", false)
      assert.are.equal(false, s:get("flag"))
      local ok, err = s:add("flag", true)
      assert.are.equal(false, ok)
      assert.are.equal("exists", err)
    end)

    it("replaces the value under a key, the other keys untouched", function()
      s:set("k", "first")
      s:set("other", "kept")
      assert.are.equal(true, (s:set("k", "second")))
      assert.are.equal("second", s:get("k"))
      assert.are.equal("kept", s:get("other"))
    end)

    it("replaces the ttl too: a set without ttl makes an expiring key permanent, and the reverse", function()
      s:set("a", "expiring", 5)
      s:set("a", "permanent")
      s:set("b", "permanent")
      s:set("b", "expiring", 5)
      advance(5)
      assert.are.equal("permanent", s:get("a"))
      assert.is_nil(s:get("b"))
    end)
  end)

  describe("add", function()
    it("stores a new key and answers true", function()
      local ok, err = s:add("k", "v", 10)
      assert.are.equal(true, ok)
      assert.is_nil(err)
      assert.are.equal("v", s:get("k"))
    end)

    it("refuses a live key with what ngx.shared.DICT:add answers: false, 'exists' (not forcible)", function()
      s:set("k", "old", 10)
      advance(9) -- one second left: still live
      local ok, err, forcible = s:add("k", "new", 10)
      assert.are.equal(false, ok)
      assert.are.equal("exists", err)
      assert.is_falsy(forcible) -- ngx answers false: nothing was evicted
      assert.are.equal("old", s:get("k"))
      advance(1) -- the refused add did not extend the old ttl either
      assert.is_nil(s:get("k"))
    end)

    it("succeeds over an expired key, with the new value and the new ttl", function()
      s:set("k", "old", 2)
      advance(2)
      local ok, err = s:add("k", "new", 3)
      assert.are.equal(true, ok)
      assert.is_nil(err)
      assert.are.equal("new", s:get("k"))
      advance(2)
      assert.are.equal("new", s:get("k"))
      advance(1)
      assert.is_nil(s:get("k"))
    end)

    it("is a lock the way auth uses it: one holder until delete, or until its ttl lapses", function()
      assert.is_true((s:add(LOCK_KEY, 1, 30)))
      local ok, err = s:add(LOCK_KEY, 1, 30)
      assert.are.same({ false, "exists" }, { ok, err })
      assert.is_true((s:delete(LOCK_KEY)))
      assert.is_true((s:add(LOCK_KEY, 1, 30))) -- released: the next process takes it
      advance(29)
      assert.are.equal(false, (s:add(LOCK_KEY, 1, 30)))
      advance(1) -- a holder that died without deleting it: the lock lapses after 30 s
      assert.is_true((s:add(LOCK_KEY, 1, 30)))
    end)
  end)

  describe("delete", function()
    it("removes the key, answers true, and leaves the other keys", function()
      s:set("k", "v")
      s:set("other", "kept")
      assert.are.equal(true, (s:delete("k")))
      assert.is_nil(s:get("k"))
      assert.are.equal("kept", s:get("other"))
      assert.is_true((s:add("k", "again"))) -- a deleted key is free for add
      assert.are.equal("again", s:get("k"))
    end)

    it("answers true for a key that is not there, as ngx.shared.DICT does", function()
      assert.are.equal(true, (s:delete("never stored")))
      assert.is_nil(s:get("never stored"))
    end)
  end)

  describe("ttl (whole seconds of os.time)", function()
    it("nil or 0 means no expiry, for set and for add", function()
      s:set("set nil", "v")
      s:set("set 0", "v", 0)
      s:add("add nil", "v")
      s:add("add 0", "v", 0)
      advance(10 * 365 * 86400)
      for _, k in ipairs({ "set nil", "set 0", "add nil", "add 0" }) do
        assert.are.equal("v", s:get(k), k)
      end
      assert.are.equal(false, (s:add("add 0", "w"))) -- still live for add too
    end)

    it("keeps a value for ttl seconds and no longer", function()
      s:set("k", "v", 5)
      advance(4)
      assert.are.equal("v", s:get("k"))
      advance(1)
      assert.is_nil(s:get("k"))
      advance(-1) -- an expired entry is dropped, not merely hidden
      assert.is_nil(s:get("k"))
    end)

    it("counts from the set: each key expires on its own clock", function()
      s:set("early", "v", 10)
      advance(5)
      s:set("late", "v", 10)
      advance(5)
      assert.is_nil(s:get("early"))
      assert.are.equal("v", s:get("late"))
      advance(5)
      assert.is_nil(s:get("late"))
    end)

    it("treats a fraction of a second as a ttl (gone by the next second), not as no expiry", function()
      s:set("k", "v", 0.5)
      assert.are.equal("v", s:get("k"))
      advance(1)
      assert.is_nil(s:get("k"))
    end)

    it("refuses a negative ttl, as ngx.shared.DICT does ('bad \"exptime\" argument')", function()
      local ok = pcall(s.set, s, "k", "v", -1)
      assert.is_false(ok)
      assert.is_false((pcall(s.add, s, "k2", "v", -1)))
      assert.is_nil(s:get("k"))
      assert.is_nil(s:get("k2"))
    end)
  end)
end)

describe("clients sharing one memory store (against the stand-in)", function()
  local srv = S.shared()
  local ONE = { period = "2023", page_size = 1 }

  before_each(function() srv:idle_reset() end)

  local new_client = clients.builder({ base_url = srv.url, max_retries = 0 })

  -- Internal read: the keys a memory store holds, sorted (to show that the
  -- lock is gone and that the API key names nothing).
  local function keys_of(store)
    local out = {}
    for k in pairs(store.entries) do out[#out + 1] = k end
    table.sort(out)
    return out
  end

  local function token_events(events)
    local n = 0
    for _, ev in ipairs(events) do
      if ev.type == "token" then n = n + 1 end
    end
    return n
  end

  it("two clients given one store make one POST /auth/api-key; the second uses the stored token", function()
    local shared = apivideo.memory_store()
    local events_a, events_b = {}, {}
    local a = new_client({ token_store = shared, on_event = function(ev) events_a[#events_a + 1] = ev end })
    local b = new_client({ token_store = shared, on_event = function(ev) events_b[#events_b + 1] = ev end })
    assert.is_table((a.analytics:list_video_sessions("vi250", ONE)))
    assert.is_table((b.analytics:list_video_sessions("vi250", ONE)))
    assert.is_table((b.analytics:list_session_events("psvi250_000001", { page_size = 1 })))
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key)
    assert.are.equal(0, st.auth_refresh)
    assert.are.equal(3, st.api_requests)
    assert.are.equal(1, token_events(events_a))
    assert.are.equal(0, token_events(events_b))
    local log = srv:log()
    assert.are.equal("/auth/api-key", log[1].path)
    for i = 2, 4 do assert.are.same({ "bearer", 200 }, { log[i].auth, log[i].status }) end
  end)

  it("without a shared store the same two clients make two exchanges", function()
    local a = new_client({ token_store = apivideo.memory_store() })
    local b = new_client()
    assert.is_table((a.analytics:list_video_sessions("vi250", ONE)))
    assert.is_table((b.analytics:list_video_sessions("vi250", ONE)))
    assert.are.equal(2, srv:stats().auth_api_key)
  end)

  it("holds one token entry that expires with the token, no lock, and never the API key", function()
    local shared = apivideo.memory_store()
    local c = new_client({ token_store = shared })
    assert.is_table((c.analytics:list_video_sessions("vi250", ONE)))
    local keys = keys_of(shared)
    assert.are.equal(1, #keys) -- the lock was deleted after the exchange
    assert.matches("^apivideo:token:%x%x%x%x%x%x%x%x$", keys[1])
    local value = shared:get(keys[1])
    assert.are.equal("string", type(value))
    local access, expires = value:match("^(sta_[^\t]+)\t[^\t]*\t([%d.]+)\t[%d.]+$")
    assert.is_string(access)
    local now = real_time()
    assert.is_true(math.abs(tonumber(expires) - (now + 3600)) <= 2, "expires_at " .. expires)
    for _, text in ipairs({ keys[1], value, tostring(shared) }) do
      assert.is_nil(text:find("standin-key", 1, true))
    end
    -- the entry's ttl is the token's lifetime (the stand-in's 3600 s)
    freeze(now + 3597)
    local before = shared:get(keys[1])
    freeze(now + 3601)
    local after = shared:get(keys[1])
    os.time = real_time -- luacheck: ignore 122
    assert.are.equal(value, before)
    assert.is_nil(after)
  end)

  it("does not hand a stored token to a client with another key", function()
    local shared = apivideo.memory_store()
    local good = new_client({ token_store = shared })
    local bad = new_client({ token_store = shared, api_key = "not-the-key" })
    assert.is_table((good.analytics:list_video_sessions("vi250", ONE)))
    local page, err = bad.analytics:list_video_sessions("vi250", ONE)
    assert.is_nil(page)
    assert.are.equal("auth", err.kind)
    assert.are.equal(400, err.status)
    local st = srv:stats()
    assert.are.equal(2, st.auth_api_key)
    assert.are.equal(1, st.api_requests)
    assert.are.equal(1, #keys_of(shared)) -- the refused key left neither a token nor its lock
  end)

  it("releases the lock when the exchange fails: the next call exchanges at once instead of waiting", function()
    local shared = apivideo.memory_store()
    local c = new_client({ token_store = shared, api_key = "not-the-key" })
    local _, err1 = c.analytics:list_video_sessions("vi250", ONE)
    assert.are.equal("auth", err1.kind)
    assert.are.same({}, keys_of(shared))
    local t0 = core.now_ms()
    local _, err2 = c.analytics:list_video_sessions("vi250", ONE)
    assert.are.equal("auth", err2.kind)
    assert.is_true(core.now_ms() - t0 < 20000, "waited for a lock nobody holds")
    assert.are.equal(2, srv:stats().auth_api_key)
  end)

  it("waits (polling) while another holder has the lock, then uses the token it stored", function()
    -- Process A: a real exchange leaves its encoded token in `donor`.
    local donor = apivideo.memory_store()
    local a = new_client({ token_store = donor })
    assert.is_table((a.analytics:list_video_sessions("vi250", ONE)))
    local key = keys_of(donor)[1]
    local value = donor:get(key)
    -- Process B's view: A holds the lock and publishes its token while B
    -- polls (on B's third look at the token key).
    local inner = apivideo.memory_store()
    assert.is_true((inner:add(key .. ":lock", 1, 30)))
    local looks = 0
    local view = {
      get = function(_, k)
        if k == key then
          looks = looks + 1
          if looks == 3 then
            inner:set(key, value, 3600)
            inner:delete(key .. ":lock")
          end
        end
        return inner:get(k)
      end,
      set = function(_, ...) return inner:set(...) end,
      add = function(_, ...) return inner:add(...) end,
      delete = function(_, ...) return inner:delete(...) end,
    }
    local b = new_client({ token_store = view })
    local t0 = core.now_ms()
    local page, err = b.analytics:list_video_sessions("vi250", ONE)
    local waited = core.now_ms() - t0
    assert.is_nil(err)
    assert.is_table(page)
    assert.are.equal(3, looks)
    assert.is_true(waited >= 40, "two 20 ms polls, waited " .. waited .. " ms")
    local st = srv:stats()
    assert.are.equal(1, st.auth_api_key) -- A's only: B never exchanged
    assert.are.equal(2, st.api_requests)
    local log = srv:log()
    assert.are.same({ "bearer", 200 }, { log[#log].auth, log[#log].status })
  end)
end)
