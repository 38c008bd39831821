--- A store on Redis: the store interface of `apivideo.store` (the shape of
-- `ngx.shared.DICT`) shared by every host of a fleet.
--
--     local shared = apivideo.redis_store({ host = "10.0.0.5", port = 6379, password = os.getenv("REDIS_PASSWORD"),
--       db = 0, prefix = "apivideo:", timeout_ms = 200 })
--
-- Inside nginx it talks through lua-resty-redis (`resty.redis`, in Debian
-- `lua-nginx-redis` as `nginx.redis`) on cosockets, one connection from the
-- worker's keepalive pool per call. Outside nginx it uses redis-lua (Debian
-- `lua-redis`, on luasocket; Debian installs it for Lua 5.1-5.3: on 5.4 add
-- `/usr/share/lua/5.3/?.lua` to `package.path`, it runs unchanged), one
-- blocking connection per store, opened at the first call. A store made
-- without either raises a message naming the package.
--
-- Every key is put under `prefix`. `incr` is one server-side script (atomic
-- across hosts); `add` is `SET NX`. A failed call (Redis down, a timeout)
-- answers nil, err like `ngx.shared.DICT` does when full: the client then
-- acts as if the key were absent (a cache miss, an unknown budget) and
-- never fails a request because Redis did. The password never appears in
-- an error, an event or `tostring`.
-- @module apivideo.redis_store
local check = require("apivideo.check")

local M = {}

local FN = "apivideo.redis_store"

-- incr(key, n, init, ttl_ms) as ngx.shared.DICT:incr: INCRBYFLOAT keeps the
-- key's ttl; a missing key is created from init (when given) with ttl_ms.
local INCR = [[
local v = redis.call('GET', KEYS[1])
if not v then
  if ARGV[2] == '' then return false end
  local n = tonumber(ARGV[2]) + tonumber(ARGV[1])
  if tonumber(ARGV[3]) > 0 then
    redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
  else
    redis.call('SET', KEYS[1], ARGV[4])
  end
  return ARGV[4]
end
if not tonumber(v) then return {err = 'not a number'} end
return redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
]]

local function num(n)
  if n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return string.format("%d", n) end
  return string.format("%.17g", n)
end

local function ttl_ms(ttl)
  if ttl == nil or ttl == 0 then return 0 end
  if type(ttl) ~= "number" or ttl ~= ttl or ttl < 0 then
    error(FN .. ": bad ttl (a number >= 0 expected, got " .. tostring(ttl) .. ")", 3)
  end
  local ms = math.ceil(ttl * 1000)
  return ms < 1 and 1 or ms
end

local Store = {}
Store.__index = Store

function Store:__tostring()
  return "apivideo.redis_store (" .. self.host .. ":" .. self.port .. "/" .. self.db .. ")"
end

-- Runs fn(conn) on a connection: a pooled cosocket inside nginx, the store's
-- own socket elsewhere. Returns fn's results, or nil, err.
local function with_conn(self, fn)
  local driver = self.driver
  if driver.nginx then
    local red = driver.new()
    red:set_timeouts(self.timeout_ms, self.timeout_ms, self.timeout_ms)
    local ok, err = red:connect(self.host, self.port, { pool = self.pool })
    if not ok then return nil, "redis connect: " .. tostring(err) end
    if (red:get_reused_times() or 0) == 0 then
      local password = self.secret and self.secret()
      if password then
        ok, err = red:auth(password)
        if not ok then
          red:close()
          return nil, "redis AUTH refused" .. (err and err:find("WRONGPASS", 1, true) and " (wrong password)" or "")
        end
      end
      if self.db ~= 0 then
        ok, err = red:select(self.db)
        if not ok then
          red:close()
          return nil, "redis SELECT: " .. tostring(err)
        end
      end
    end
    local res, rerr = fn(red)
    if res == nil and rerr and not tostring(rerr):find("^ERR") and tostring(rerr) ~= "not found" then
      red:close() -- a timeout or a broken connection: never back into the pool
    else
      red:set_keepalive(self.keepalive_ms, self.pool_size)
    end
    return res, rerr
  end
  local conn = self.conn
  if not conn then
    local ok, c = pcall(driver.connect, self.host, self.port, self.timeout_ms / 1000)
    if not ok then return nil, "redis connect: " .. tostring(c):gsub("^.-: ", "") end
    local password = self.secret and self.secret()
    if password then
      local aok = pcall(c.auth, c, password)
      if not aok then
        pcall(c.quit, c)
        return nil, "redis AUTH refused"
      end
    end
    if self.db ~= 0 and not pcall(c.select, c, self.db) then
      pcall(c.quit, c)
      return nil, "redis SELECT " .. self.db .. " refused"
    end
    conn = c
    self.conn = c
  end
  local ok, res, rerr = pcall(fn, conn)
  if not ok then
    local msg = tostring(res)
    if not msg:find("ERR", 1, true) then
      pcall(conn.quit, conn) -- a broken connection: the next call reconnects
      self.conn = nil
    end
    return nil, "redis: " .. msg:gsub("^.-:%d+: ", "")
  end
  return res, rerr
end

local function null(v)
  if v == nil or v == false then return nil end
  local ngx = rawget(_G, "ngx")
  if ngx and v == ngx.null then return nil end
  return v
end

--- The value under `key` (a string), or nil when there is none (or nil, err).
function Store:get(key)
  local k = self.prefix .. key
  local v, err = with_conn(self, function(c) return c:get(k) end)
  if err then return nil, err end
  return null(v)
end

local function set(self, key, value, ttl, nx)
  local k, ms = self.prefix .. key, ttl_ms(ttl)
  local v = type(value) == "number" and num(value) or tostring(value)
  local res, err = with_conn(self, function(c)
    if self.driver.nginx then
      if ms > 0 and nx then return c:set(k, v, "PX", ms, "NX") end
      if ms > 0 then return c:set(k, v, "PX", ms) end
      if nx then return c:set(k, v, "NX") end
      return c:set(k, v)
    end
    local args = { k, v }
    if ms > 0 then args[#args + 1], args[#args + 2] = "PX", ms end
    if nx then args[#args + 1] = "NX" end
    return c:set((table.unpack or unpack)(args)) -- luacheck: ignore 113
  end)
  if err then return false, err end
  if null(res) == nil then return false, "exists" end
  return true
end

--- Stores `value` under `key` for `ttl` seconds (nil or 0: no expiry).
function Store:set(key, value, ttl)
  return set(self, key, value, ttl, false)
end

--- Stores `value` unless `key` holds a value: true, or false, "exists".
function Store:add(key, value, ttl)
  return set(self, key, value, ttl, true)
end

--- Adds `n` atomically (one script on the server); a missing key starts
-- at `init` with `init_ttl` when `init` is given, else nil, "not found".
function Store:incr(key, n, init, init_ttl)
  if type(n) ~= "number" then error(FN .. ":incr: bad value (a number expected, got " .. type(n) .. ")", 2) end
  local k, ms = self.prefix .. key, ttl_ms(init_ttl)
  local first = init ~= nil and num(init + n) or ""
  local res, err = with_conn(self, function(c)
    return c:eval(INCR, 1, k, num(n), init ~= nil and num(init) or "", ms, first)
  end)
  if err then return nil, err end
  res = null(res)
  if res == nil then return nil, "not found" end
  return tonumber(res)
end

--- Removes `key`.
function Store:delete(key)
  local k = self.prefix .. key
  local _, err = with_conn(self, function(c) return c:del(k) end)
  if err then return false, err end
  return true
end

--- The keys under the store's prefix (without it), at most `max` (0 or nil:
-- all), through SCAN (never the blocking KEYS).
function Store:get_keys(max)
  local pattern = self.prefix:gsub("[%*%?%[%]\\]", "\\%0") .. "*"
  local out, cursor, plen = {}, "0", #self.prefix
  repeat
    local res, err = with_conn(self, function(c)
      if self.driver.nginx then return c:scan(cursor, "MATCH", pattern, "COUNT", 500) end
      return c:scan(cursor, { match = pattern, count = 500 })
    end)
    if err then return nil, err end
    cursor = res[1]
    for _, k in ipairs(res[2]) do
      out[#out + 1] = k:sub(plen + 1)
      if max and max > 0 and #out >= max then return out end
    end
  until cursor == "0"
  return out
end

--- Closes the store's own connection (outside nginx; inside, connections
-- go back to the worker's pool after every call). Idempotent.
function Store:close()
  if self.conn then pcall(self.conn.quit, self.conn) end
  self.conn = nil
end

-- The driver: lua-resty-redis in nginx (where cosockets exist), redis-lua elsewhere.
local function driver()
  local ngx = rawget(_G, "ngx")
  if ngx and ngx.socket and ngx.socket.tcp then
    local ok, redis = pcall(require, "resty.redis")
    if not ok then ok, redis = pcall(require, "nginx.redis") end
    if not ok then
      return nil, "inside nginx it needs lua-resty-redis (OpenResty's resty.redis, Debian lua-nginx-redis)"
    end
    return { nginx = true, new = function() return redis:new() end }
  end
  local ok, redis = pcall(require, "redis")
  if not ok or type(redis) ~= "table" or type(redis.connect) ~= "function" then
    return nil, "outside nginx it needs redis-lua (Debian lua-redis, with lua-socket; on Lua 5.4 add"
      .. " /usr/share/lua/5.3/?.lua to package.path)"
  end
  return { nginx = false, connect = redis.connect }
end

--- A Redis store (`apivideo.redis_store`). opts: `host` (default
-- "127.0.0.1"), `port` (6379), `password` (optional; never shown),
-- `db` (0), `prefix` ("apivideo:"), `timeout_ms` (1000: connect, send and
-- read each), `keepalive_ms` (60000) and `pool_size` (100) for nginx's pool.
-- Raises an argument error on a bad option, or when no driver is installed.
-- @local
function M.new(opts)
  return check.checked(2, function()
    opts = check.options(FN, "options", opts, { host = true, port = true, password = true, db = true,
      prefix = true, timeout_ms = true, keepalive_ms = true, pool_size = true })
    local host = opts.host or "127.0.0.1"
    if type(host) ~= "string" or host == "" or host:find("[%s/]") then
      check.bad_option(FN, "host", "a host name or address expected")
    end
    local port = opts.port == nil and 6379 or check.integer(FN, "port", opts.port, 1, 65535)
    local db = opts.db == nil and 0 or check.integer(FN, "db", opts.db, 0, 65535)
    local password = opts.password
    if password ~= nil and (type(password) ~= "string" or password == "") then
      check.bad_option(FN, "password", "a non-empty string expected")
    end
    local prefix = opts.prefix == nil and "apivideo:" or opts.prefix
    if type(prefix) ~= "string" then check.bad_option(FN, "prefix", "string expected, got " .. type(prefix)) end
    local timeout_ms = opts.timeout_ms == nil and 1000 or check.integer(FN, "timeout_ms", opts.timeout_ms, 1, 600000)
    local keepalive_ms = opts.keepalive_ms == nil and 60000
      or check.integer(FN, "keepalive_ms", opts.keepalive_ms, 0, 86400000)
    local pool_size = opts.pool_size == nil and 100 or check.integer(FN, "pool_size", opts.pool_size, 1, 100000)
    local d, why = driver()
    if not d then check.fail(FN, "options", why) end
    local store = setmetatable({ host = host, port = port, db = db, prefix = prefix, timeout_ms = timeout_ms,
      keepalive_ms = keepalive_ms, pool_size = pool_size, driver = d }, Store)
    -- the password lives in a closure, never in a field a dump would show; pools
    -- are per host, port, db and password digest (a pooled connection is already authenticated)
    if password then store.secret = function() return password end end
    store.pool = "apivideo:" .. host .. ":" .. port .. ":" .. db .. ":"
      .. (password and require("apivideo.store").sha1(password):sub(1, 12) or "")
    return store
  end)
end

return M
