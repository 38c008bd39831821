--- The archive's schema: a contract other tools query (Grafana's SQL data
-- sources, `sqlite3`, `psql`), and the migrations that build it.
--
-- `archive_meta.schema_version` says which migrations a target has had.
-- Opening a target applies the missing ones in one transaction; a target
-- whose version is newer than this library's is refused, nothing changed.
-- Migrations are only ever added at the end of `MIGRATIONS`, never edited.
--
-- Times are UTC text: `YYYY-MM-DDTHH:MM:SSZ` (`bucket`, `fetched_at`,
-- `updated_at`, the cursors), `YYYY-MM-DD` (`day`), and the API's own text
-- for the times of sessions and events. `{real}` is SQLite's REAL and
-- PostgreSQL's DOUBLE PRECISION (8 bytes in both).
-- @module apivideo.archive.schema
-- @local
local M = {}

M.MIGRATIONS = {
  -- 1: today's analytics: time series, daily breakdowns, the cursors
  {
    [[CREATE TABLE timeseries (
  metric TEXT NOT NULL, interval TEXT NOT NULL, filter TEXT NOT NULL, bucket TEXT NOT NULL,
  value {real}, fetched_at TEXT NOT NULL,
  PRIMARY KEY (metric, interval, filter, bucket))]],
    [[CREATE TABLE buckets (
  metric TEXT NOT NULL, breakdown TEXT NOT NULL, filter TEXT NOT NULL, day TEXT NOT NULL,
  dimension_value TEXT NOT NULL, value {real}, fetched_at TEXT NOT NULL,
  PRIMARY KEY (metric, breakdown, filter, day, dimension_value))]],
    [[CREATE TABLE archive_state (stream TEXT PRIMARY KEY, cursor TEXT, updated_at TEXT NOT NULL)]],
  },
  -- 2: the raw statistics (sessions, their events) and the media's titles
  {
    [[CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY, media_kind TEXT NOT NULL, media_id TEXT NOT NULL,
  loaded_at TEXT, ended_at TEXT, country TEXT, city TEXT,
  referrer_url TEXT, referrer_medium TEXT, referrer_source TEXT, referrer_search_term TEXT,
  device_type TEXT, device_vendor TEXT, device_model TEXT,
  os_name TEXT, os_shortname TEXT, os_version TEXT,
  client_type TEXT, client_name TEXT, client_version TEXT,
  metadata TEXT NOT NULL, fetched_at TEXT NOT NULL)]],
    [[CREATE INDEX sessions_media ON sessions (media_id, loaded_at)]],
    [[CREATE TABLE events (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, emitted_at TEXT,
  at {real}, from_position {real}, to_position {real}, fetched_at TEXT NOT NULL,
  PRIMARY KEY (session_id, seq))]],
    [[CREATE TABLE media (media_id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT, fetched_at TEXT NOT NULL)]],
  },
}

--- The version this library writes.
M.VERSION = #M.MIGRATIONS

local META = "CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT)"

--- The target's schema version (0: a new target), read without writing
-- (outside a transaction: a failed statement would abort PostgreSQL's).
function M.version(db)
  local ok, rows = pcall(db.rows, db, "SELECT value FROM archive_meta WHERE key = ?", "schema_version")
  if not ok then return 0 end
  return rows[1] and tonumber(rows[1][1]) or 0
end

-- The version, inside the migration's transaction.
local function locked_version(db)
  db:exec(META)
  local rows = db:rows("SELECT value FROM archive_meta WHERE key = ?", "schema_version")
  return rows[1] and tonumber(rows[1][1]) or 0
end

--- The error of a target written by a newer version.
function M.newer(db, had)
  return require("apivideo.archive.db").error(db.target.text, "the archive " .. db.target.text
    .. " has schema version " .. had .. ", written by a newer lua-apivideo (this one knows up to "
    .. M.VERSION .. "); nothing was changed", { schema_version = had })
end

--- Brings the target to `upto` (default `VERSION`) in one transaction.
-- Returns the version it had. Raises an error of kind "archive" for a
-- target of a newer version (nothing changed) or a failing database.
function M.migrate(db, upto)
  upto = upto or M.VERSION
  local had
  db:transaction(function()
    had = locked_version(db)
    if had > M.VERSION then error(M.newer(db, had), 0) end
    for v = had + 1, upto do
      for _, sql in ipairs(M.MIGRATIONS[v]) do db:exec((sql:gsub("{real}", db.dialect.real))) end
    end
    if upto > had then
      db:upsert("archive_meta", { "key" }, { "value" }, {}, { "schema_version", tostring(upto) })
    end
  end)
  return had
end

return M
