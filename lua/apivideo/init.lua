--- lua-apivideo: api.video's Analytics API for Lua.
--
--     local apivideo = require("apivideo")
--     local client = apivideo.new({ api_key = os.getenv("APIVIDEO_API_KEY") })
--     for s in client.analytics:video_sessions("vi123", { period = "2023-01" }) do
--       print(s.session.session_id, s.location.country)
--     end
--
-- Runtime failures come back as `nil, err` (iterators raise `err`), where
-- `err` is an error object (`apivideo.is_error`); bad arguments raise at once.
-- The client is `apivideo.client`, its operations `apivideo.analytics`, the
-- error object `apivideo.errors`. `apivideo.report` builds an HTML report,
-- and `apivideo.chart` SVG charts and terminal bars, from any data.
--
-- Also: [the command line](../topics/cli.md.html) (`apivideo-analytics`),
-- and [time zones](../topics/time.md.html) (how periods are read, and in
-- which zone timestamps come and are shown).
-- @module apivideo
local client = require("apivideo.client")
local core = require("apivideo.core")
local errors = require("apivideo.errors")
local store = require("apivideo.store")
local time = require("apivideo.time")

local M = {
  --- The library's version as a string (`"0.1.0"`), also sent as `AV-Origin-Client: lua:0.1.0`.
  _VERSION = client.VERSION,
  --- The value JSON null takes inside arrays (null object fields become nil).
  -- It is lua-cjson's `cjson.null` (a light userdata).
  null = core.null,
}

--- Creates a client. It raises on a bad option: an unknown key (a typo is
-- never ignored), a wrong type, a missing or empty `api_key`, an unknown
-- environment, a bad `application`; see `Options` in `apivideo.client`.
-- Nothing is sent until the first call.
-- @function new
-- @usage local client = apivideo.new({ api_key = os.getenv("APIVIDEO_API_KEY"), environment = "sandbox" })
---@param opts apivideo.Options the options; only `api_key` is required
---@return apivideo.Client client # the new client
M.new = client.new

--- True when v is an error object of this library.
-- @function is_error
-- @usage if not ok and apivideo.is_error(err) then print(err.kind, err.status) end
---@param v any any value
---@return boolean is_error # true for an error object, false for anything else
M.is_error = errors.is_error

--- A token store in process memory (the interface of ngx.shared.DICT):
-- clients given the same store share one bearer token.
-- @function memory_store
-- @usage local shared = apivideo.memory_store()
-- local a = apivideo.new({ api_key = key, token_store = shared })
-- local b = apivideo.new({ api_key = key, token_store = shared }) -- no second token exchange
---@return apivideo.MemoryStore store # a new, empty store
M.memory_store = store.new

--- A store on Redis, shared by every host of a fleet (the interface of
-- ngx.shared.DICT; see `apivideo.redis_store`): for `token_store`,
-- `cache.store`, `rate_limit_store` and `metrics_store`. Inside nginx it uses
-- lua-resty-redis on cosockets, elsewhere redis-lua.
-- @function redis_store
-- @usage local shared = apivideo.redis_store({ host = "127.0.0.1", port = 6379,
--   password = os.getenv("REDIS_PASSWORD"), db = 0, prefix = "apivideo:", timeout_ms = 200 })
-- local client = apivideo.new({ api_key = key, rate_limit_store = shared,
--   cache = { store = shared, ttl = 30 } })
-- @param opts {host:string?, port:integer?, password:string?, db:integer?, prefix:string?, timeout_ms:integer?}
M.redis_store = require("apivideo.redis_store").new

--- UTC seconds since the epoch of an RFC 3339 (ISO 8601) timestamp, or nil, err.
-- Takes the API's timestamps, `"2019-06-24T11:45:01.109Z"` and the older
-- `"2019-06-24T11:45:01.109+00"`: a fraction of any length or none, and a
-- zone `Z`, `+hh`, `+hhmm` or `+hh:mm` (or `-`; hours 00-23, minutes 00-59).
-- The result is always a float (also for whole seconds) counted from
-- 1970-01-01T00:00:00Z, whatever the timestamp's own offset; the message says
-- what is wrong: no time zone, a bad UTC offset, a date that does not exist...
-- @function parse_time
-- @usage apivideo.parse_time("2019-06-24T11:45:01.109Z") --> 1561376701.109
-- apivideo.parse_time("2019-06-24T13:45:01.109+02:00") --> 1561376701.109
---@param s string the timestamp
---@return number? seconds # UTC seconds since 1970-01-01T00:00:00Z (a float), nil when `s` is refused
---@return string? err # why `s` was refused, e.g. "bad UTC offset '+2500' in '...'"
M.parse_time = time.parse

return M
