--- The answer cache: `apivideo.new{ cache = { store = S, ttl = 30, neg_ttl = 5, stale_ttl = 300 } }`.
--
-- Every GET the operations send (one-request operations and every page of
-- a walk) goes through `Cache:fetch`, called by the transport: the one
-- place answers are cached. An entry is the answer's raw body (decoded
-- again on a hit, by the same C decoder, so a hit gives exactly what a
-- request gives), its status and its `X-RateLimit-*` headers, kept in the
-- store (`apivideo.store`: ngx.shared.DICT, memory or Redis) under
--
--     apivideo:c:<account>:<operation>:<path>?<query, pairs sorted>
--
-- where `<account>` is a digest of the base URL and the API key (never
-- the key): two accounts never share an answer. Whether it is still fresh
-- is a second key, `<key>:f`, with the freshness as its ttl: the store's
-- own clock decides (nginx's for a shared dict, the Redis server's for a
-- fleet), never the hosts' clocks against each other.
--
-- * Fresh for `ttl` seconds; a window that closed more than 15 minutes ago
--   (its `to`, or the end of its `period`, before now - 900 s: api.video's
--   own guide polls every 15 minutes, late events land within that) stays
--   fresh for `closed_ttl` (default 3600 s, never less than `ttl`).
-- * One flight: the first process to miss takes a lock in the store
--   (`add`, so one winner across workers, and across hosts with Redis) and
--   asks upstream; the others poll the store (5 ms, doubling to 50 ms) for
--   at most `wait_ms` (default: the client's `timeout_ms`), then serve
--   what it stored. Past `wait_ms` they serve a stale answer if there is
--   one, else ask upstream themselves.
-- * A 404 is kept for `neg_ttl` seconds (0: never) and given back as the
--   same error object.
-- * When upstream fails (429, 5xx, network, timeout: after the client's own
--   retries) and an answer younger than `ttl + stale_ttl` exists, it is
--   returned with `stale = true` (the page's, or the result's, field) and an
--   `on_event` event `{ type = "stale", operation, method, path, status,
--   kind, age_ms }`. For `min(ttl, 5)` seconds after such a failure the
--   other requests for that answer get the stale one at once, without
--   asking upstream again (one probe per interval, not one per page view).
-- * A store that fails (Redis down) counts as a miss: requests go upstream,
--   nothing fails because the store did.
-- @module apivideo.cache
local calendar = require("apivideo.calendar")
local core = require("apivideo.core")
local cjson = require("cjson.safe").new()
local errors = require("apivideo.errors")
local fields = require("apivideo.fields")
local store_mod = require("apivideo.store")
local time = require("apivideo.time")

local M = {}

local renames
local function decode(body)
  renames = renames or core.renames(fields.RENAMES)
  return core.decode(body, renames)
end

local wall_ms = store_mod.wall_ms

local SETTLE_S = 900
M.SETTLE_S = SETTLE_S

local Cache = {}
Cache.__index = Cache

--- A client's cache. opts: `store`, `ttl`, `neg_ttl`, `stale_ttl`,
-- `closed_ttl`, `wait_ms` (checked by the client), `account` (the digest
-- naming the account), `engine` (its tasks sleep while another flight
-- runs), `base_url` (for errors), `emit(event)`, `metrics` (or nil),
-- `server_time()` (the API's clock, or nil).
-- @local
function M.new(opts)
  return setmetatable({
    store = opts.store, ttl = opts.ttl, neg_ttl = opts.neg_ttl, stale_ttl = opts.stale_ttl,
    closed_ttl = opts.closed_ttl, wait_ms = opts.wait_ms, prefix = "apivideo:c:" .. opts.account .. ":",
    engine = opts.engine, base_url = opts.base_url, emit = opts.emit, metrics = opts.metrics,
    server_time = opts.server_time,
  }, Cache)
end

local function unescape(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- The query with its pairs sorted ("?b=2&a=1" -> "?a=1&b=2").
function M.canonical_query(query)
  if query == nil or query == "" or query == "?" then return "" end
  local parts = {}
  for p in query:gsub("^%?", ""):gmatch("[^&]+") do parts[#parts + 1] = p end
  table.sort(parts)
  return "?" .. table.concat(parts, "&")
end

-- The end of a period as api.video reads it (in UTC), or nil (junk).
local function period_end(p)
  local _, ends = calendar.parse_period(p)
  return type(ends) == "number" and ends or nil
end

--- The end (seconds since the epoch) of the window a query asks about:
-- its `to`, or the end of its `period`; nil when it has none (the window
-- still fills: `to` defaults to now).
function M.window_end(query)
  if not query then return nil end
  local to = query:match("[?&]to=([^&]*)")
  if to then return (time.parse(unescape(to))) end
  local period = query:match("[?&]period=([^&]*)")
  if period then return period_end(unescape(period)) end
  return nil
end

--- How long an answer to `query` stays fresh, in seconds.
function Cache:fresh_s(query)
  local ends = M.window_end(query)
  if ends then
    local now = (self.server_time and self.server_time()) or wall_ms() / 1000
    if ends <= now - SETTLE_S and self.closed_ttl > self.ttl then return self.closed_ttl end
  end
  return self.ttl
end

-- An entry: "1\t<status>\t<stored ms>\t<fresh until ms>\t<limit>\t<remaining>\t<retry after>\t<kind>\n<payload>";
-- kind B: a 2xx body, P: a 404's problem JSON, T: a 404's other body.
local RL = { "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-retry-after" }

local function encode_entry(status, stored, fresh_until, headers, kind, payload)
  local h = headers or {}
  return table.concat({ "1", string.format("%d", status), string.format("%d", math.floor(stored)),
    string.format("%d", math.floor(fresh_until)), h[RL[1]] or "", h[RL[2]] or "", h[RL[3]] or "", kind }, "\t")
    .. "\n" .. payload
end

local function decode_entry(s)
  if type(s) ~= "string" then return nil end
  local nl = s:find("\n", 1, true)
  if not nl then return nil end
  local status, stored, fresh, limit, remaining, after, kind =
    s:sub(1, nl - 1):match("^1\t(%d+)\t(%d+)\t(%d+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([BPT])$")
  if not status then return nil end
  local headers = {}
  if limit ~= "" then headers[RL[1]] = limit end
  if remaining ~= "" then headers[RL[2]] = remaining end
  if after ~= "" then headers[RL[3]] = after end
  return { status = tonumber(status), stored = tonumber(stored), fresh_until = tonumber(fresh), headers = headers,
    kind = kind, payload = s:sub(nl + 1) }
end

--- What a hit gives: a transfer result (as the requester's) or nil, err.
function Cache:_answer(req, e, stale)
  if e.kind == "B" then
    local json = decode(e.payload)
    if json == nil then return nil end -- a broken entry: a miss
    if stale and type(json) == "table" then json.stale = true end
    return { status = e.status, headers = e.headers, json = json, attempts = 0, cached = true }
  end
  local resp = { status = e.status, headers = e.headers }
  if e.kind == "P" then resp.json = cjson.decode(e.payload) else resp.body = e.payload end
  local err = errors.from_response("http", req.method, self.base_url .. req.path .. (req.query or ""), resp)
  err.attempts = 0
  return false, err
end

local function count(self, result)
  if self.metrics then self.metrics:cache(result) end
end

-- A failure that a stale answer may cover.
local function upstream_failed(err)
  if err.kind == "network" or err.kind == "timeout" then return true end
  return err.kind == "http" and (err.status == 429 or (err.status or 0) >= 500)
end

function Cache:_stale(req, e, err, now)
  if not e or e.kind ~= "B" or now - e.stored > (self.ttl + self.stale_ttl) * 1000 then return nil end
  local resp = self:_answer(req, e, true)
  if not resp then return nil end
  count(self, "stale")
  self.emit({ type = "stale", operation = req.operation, method = req.method, path = req.path,
    status = err and err.status, kind = err and err.kind or "wait", age_ms = now - e.stored })
  return resp
end

-- A hit of e (fresh at now): the answer, or nil (a broken entry).
function Cache:_hit(req, e)
  local resp, err = self:_answer(req, e, false)
  if resp then
    count(self, "hit")
    return resp
  end
  if resp == false then
    count(self, "negative")
    return false, err
  end
  return nil
end

--- Inside a task: the answer to `req` from the store, or from `requester`
-- (`apivideo.request`) once for every process that shares the store.
-- Returns what the requester returns: a transfer result, or nil, err.
function Cache:fetch(req, requester)
  local store, key = self.store, self.prefix .. (req.operation or "") .. ":" .. req.path
    .. M.canonical_query(req.query)
  local e = decode_entry((store:get(key)))
  local now = wall_ms()
  if e and store:get(key .. ":f") then
    local resp, err = self:_hit(req, e)
    if resp then return resp end
    if resp == false then return nil, err end
  end
  if e and store:get(key .. ":down") then
    local resp = self:_stale(req, e, nil, now)
    if resp then return resp end
  end
  local engine, waited, nap = self.engine, 0, 5
  local lock = key .. ":lock"
  while true do
    local ok, why = store:add(lock, 1, math.ceil(self.wait_ms / 1000))
    if ok then
      -- a flight may have landed between our look and our lock: serve what it
      -- left (its answer, or the stale one it served when the upstream failed);
      -- the lock goes whatever happens (an on_event hook that raises included)
      local done, resp, err = pcall(self._landed, self, req, key, e)
      if not done or resp ~= nil then store:delete(lock) end
      if not done then error(resp, 0) end
      if resp ~= nil then return resp or nil, err end
      return self:_flight(req, requester, key, lock, decode_entry((store:get(key))) or e)
    end
    if why ~= "exists" then return self:_flight(req, requester, key, nil, e) end
    if waited >= self.wait_ms then
      local resp = self:_stale(req, e, nil, wall_ms())
      if resp then return resp end
      return self:_flight(req, requester, key, nil, e) -- the flight takes too long: go alone
    end
    engine:sleep(nap)
    waited = waited + nap
    nap = nap * 2 > 50 and 50 or nap * 2
    local fresh = decode_entry((store:get(key)))
    if fresh and store:get(key .. ":f") then
      local resp, err = self:_hit(req, fresh)
      if resp then return resp end
      if resp == false then return nil, err end
    end
    e = fresh or e
    if e and store:get(key .. ":down") then
      -- the flight we waited for failed and served the stale answer: so do we
      local resp = self:_stale(req, e, nil, wall_ms())
      if resp then return resp end
    end
  end
end

-- What a flight that landed while we looked left for req: its fresh answer
-- (or false, err: a negative one), the stale answer it served when the
-- upstream failed, or nil (nothing: ask upstream).
function Cache:_landed(req, key, e)
  local store = self.store
  local fresh = decode_entry((store:get(key)))
  if fresh and store:get(key .. ":f") then
    local resp, err = self:_hit(req, fresh)
    if resp ~= nil then return resp, err end
  end
  e = fresh or e
  if e and store:get(key .. ":down") then return self:_stale(req, e, nil, wall_ms()) end
  return nil
end

--- Inside a task: asks upstream (holding `lock`, or alone when nil) and
-- keeps what it answered.
function Cache:_flight(req, requester, key, lock, old)
  local store, engine = self.store, self.engine
  local unlock
  if lock then
    -- cancelled mid-flight (a walk dropped, the client closed): the lock goes
    -- at once, the others need not wait it out
    unlock = function() store:delete(lock) end
    engine:guard(unlock)
  end
  req.keep_body = true
  local resp, err = requester:send(req)
  local now = wall_ms()
  if resp then
    local body = resp.body
    resp.body = nil
    if body then
      local fresh = self:fresh_s(req.query)
      store:set(key, encode_entry(resp.status, now, now + fresh * 1000, resp.headers, "B", body),
        fresh + self.stale_ttl)
      store:set(key .. ":f", 1, fresh)
    end
    store:delete(key .. ":down")
  elseif err.kind == "http" and err.status == 404 and self.neg_ttl > 0 then
    local kind, payload = "T", err.body or ""
    if err.problem then
      local text = cjson.encode(err.problem)
      if text then kind, payload = "P", text end
    end
    store:set(key, encode_entry(404, now, now + self.neg_ttl * 1000, nil, kind, payload), self.neg_ttl)
    store:set(key .. ":f", 1, self.neg_ttl)
  elseif upstream_failed(err) then
    local stale = self:_stale(req, old, err, now)
    if stale then
      store:set(key .. ":down", 1, math.max(1, math.min(self.ttl, 5)))
      resp, err = stale, nil
    end
  end
  if lock then
    engine:unguard(unlock)
    store:delete(lock)
  end
  if resp and not resp.cached then count(self, "miss") elseif not resp then count(self, "miss") end
  return resp, err
end

return M
