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
-- @module apivideo
local client = require("apivideo.client")
local core = require("apivideo.core")
local errors = require("apivideo.errors")
local store = require("apivideo.store")
local time = require("apivideo.time")

local M = {
  _VERSION = client.VERSION,
  --- The value JSON null takes inside arrays (null object fields become nil).
  null = core.null,
}

--- Creates a client. See README.md for every option.
M.new = client.new

--- True when v is an error object of this library.
M.is_error = errors.is_error

--- A token store in process memory (the interface of ngx.shared.DICT):
-- clients given the same store share one bearer token.
M.memory_store = store.new

--- Seconds since the epoch (with milliseconds) of an ISO-8601 timestamp, or nil, err.
M.parse_time = time.parse

return M
