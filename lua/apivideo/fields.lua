--- The API's field names the library renames: policy, so it lives in Lua.
--
-- api.video's Analytics answers name their fields in camelCase; the library
-- gives them in snake_case, like its options and like Lua code around them.
-- Only the fields the API documents are renamed, each into the name the
-- README and `types.lua` promise: a field this list does not name keeps
-- its wire name, so nothing the API sends is lost or guessed at.
--
-- The renaming itself is done in C, in the one walk that also drops JSON
-- null fields and makes integral numbers integers (`src/json.c`): the list
-- is handed to `apivideo.core` when a client's multi handle is made
-- (`core.multi({ renames = fields.RENAMES })`, in `waiter.lua` and
-- `hub.lua`), prepared there once, and every page decodes with it.
-- `core.renames(fields.RENAMES)` prepares it for `core.decode(body, renames)`.
--
-- The rules the C side enforces: old and new names are non-empty strings, an
-- old name is at most 40 bytes (the longest string Lua interns: the walk
-- finds keys by pointer), at most 32 names, no new name is also an old one,
-- and no two old names share a new one.
-- @module apivideo.fields
-- @local

local M = {}

--- camelCase wire name -> snake_case name, by where the API sends it.
M.RENAMES = {
  -- a player session (GET /analytics/videos/{videoId}, /analytics/live-streams/{liveStreamId}):
  -- `session = { sessionId, loadedAt, endedAt, metadata }`, `referrer = { url, medium, source, searchTerm }`
  sessionId = "session_id",
  loadedAt = "loaded_at",
  endedAt = "ended_at",
  searchTerm = "search_term",
  -- a session event (GET /analytics/sessions/{sessionId}/events) and a timeseries point
  -- (GET /data/timeseries/{metric}): `emittedAt`
  emittedAt = "emitted_at",
  -- `pagination` of every paginated answer
  itemsTotal = "items_total",
  pagesTotal = "pages_total",
  pageSize = "page_size",
  currentPage = "current_page",
  currentPageItems = "current_page_items",
  -- a metric (GET /data/metrics/...), a bucket (GET /data/buckets/...) and a timeseries point
  metricValue = "metric_value",
  dimensionValue = "dimension_value",
}

return M
