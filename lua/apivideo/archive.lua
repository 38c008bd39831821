--- Keep what api.video forgets: an archive of the analytics in SQLite, or in
-- PostgreSQL when one machine is outgrown.
--
-- api.video keeps analytics for 30 days. `archive:run` copies them into a
-- database, incrementally: each *stream* (a metric's time series at an
-- interval under a filter; a metric's breakdown per day; the sessions of a
-- video or a live stream in a period, with their events) has a cursor, the
-- end of the last closed bucket it wrote. A run fetches from
-- `max(cursor - lag, now - 30 days)` to now, upserts, and moves the cursor
-- in the same transaction as the rows; buckets still filling are written
-- but the cursor stays before them, so the next run fetches them again.
-- "Now" is the API's clock (its `Date` header), never the machine's.
--
-- Guarantees: a run with nothing new changes no row; a run killed at any
-- moment and run again leaves exactly the rows of an uninterrupted run; two
-- runs on one target never interleave (the second waits `busy_timeout_ms`,
-- then fails with `err.busy`); a failure beyond the client's retries keeps
-- what was committed and names the stream (`err.stream`), and the next run
-- resumes there.
--
-- The schema is in `apivideo.archive.schema`; the targets, LuaDBI and the
-- two dialects in `apivideo.archive.db`. LuaDBI blocks: use the archive in
-- scripts, the CLI and cron, never inside an nginx request.
-- @usage local archive = require("apivideo.archive")
-- local a = assert(archive.open("analytics.db"))   -- or "postgresql://user:pw@host:5432/db"
-- local summary, err = a:run(client, { metrics = { "play" }, breakdowns = { "country" } })
-- if not summary then error(tostring(err)) end
-- a:close()
-- @module apivideo.archive
local analytics = require("apivideo.analytics")
local calendar = require("apivideo.calendar")
local check = require("apivideo.check")
local db_mod = require("apivideo.archive.db")
local operations = require("apivideo.operations")
local schema = require("apivideo.archive.schema")
local time = require("apivideo.time")

local M = {}

--- How long api.video keeps analytics: `from` may be at most this old.
M.RETENTION_S = 30 * 86400
-- The first `from` of a window stays this far inside the retention limit:
-- the API reckons "30 days ago" when the request arrives, a little later.
local MARGIN_S = 120

local DAY, HOUR = 86400, 3600
local STEP = { hour = HOUR, day = DAY }

--- What a run archives when not told: plays, starts, ends, impressions and
-- views per hour; plays per day by every breakdown the summary shows.
M.DEFAULTS = {
  metrics = { "play", "start", "end", "impression", "view" },
  breakdowns = { "media-id", "country", "device-type", "operating-system", "browser", "referrer" },
  interval = "hour",
  lag = DAY,
}

local RUN = "archive:run"
local OPEN = "apivideo.archive.open"

local function floor_to(t, step) return t - t % step end
local function ceil_to(t, step) return floor_to(t + step - 1, step) end

local read = require("apivideo.archive.read")
M.read = read
local iso, day_text = read.iso, read.day_text
M.iso = iso

local function parse_iso(s)
  local t = s and time.parse(s)
  return t and math.floor(t)
end

--- The canonical text of a filter (`filter_by` table): `key=value` pairs
-- sorted by key, list values joined with `,` in their order, `&` between
-- pairs; `""` for none. It is the `filter` column of the tables.
---@param f table? a `filter_by` table
---@return string
function M.filter_text(f)
  if f == nil then return "" end
  local keys = {}
  for k in pairs(f) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = f[k]
    if type(v) == "table" then v = table.concat(v, ",") end
    parts[#parts + 1] = k .. "=" .. tostring(v)
  end
  return table.concat(parts, "&")
end

local Archive = {}
Archive.__index = Archive

--- Opens (and creates or migrates) an archive. `target`: a SQLite file path
-- or `postgresql://user:password@host:port/database`. opts:
-- `busy_timeout_ms` (how long a run waits for another on the same target,
-- default 30000). Returns the archive, or nil and an error of kind
-- "archive" (a file that cannot be written, a refused connection, a wrong
-- password, a schema written by a newer version: nothing changed).
-- `read_only = true`: for a dry run or for reading (`apivideo.archive.read`):
-- no migration, no new file.
---@param target string
---@param opts? table
---@return table? archive
---@return apivideo.Error? err
function M.open(target, opts)
  if type(target) ~= "string" or target == "" then
    check.fail(OPEN, "target", "a SQLite file path or a postgresql:// URL expected, got "
      .. (target == "" and "an empty string" or check.typename(target)), 2)
  end
  opts = check.options(OPEN, "options", opts, { busy_timeout_ms = true, read_only = true })
  local busy = opts.busy_timeout_ms ~= nil and check.integer(OPEN, "busy_timeout_ms", opts.busy_timeout_ms, 0,
    2147483647) or 30000
  local meta = { target = target, busy_timeout_ms = busy, read_only = opts.read_only and true or false }
  if meta.read_only then
    -- a dry run or a report: nothing is written, not even a new file
    local t = db_mod.parse_target(target)
    local f = t and t.dialect == "sqlite" and io.open(t.path, "rb")
    if t and t.dialect == "sqlite" and not f then
      meta.db, meta.target, meta.version = { target = t, close = function() end }, t.text, 0
      return setmetatable(meta, Archive)
    end
    if f then f:close() end
  end
  local db, err = db_mod.open(target, { busy_timeout_ms = busy })
  if not db then return nil, err end
  meta.db, meta.target = db, db.target.text
  local ok, e
  if meta.read_only then
    ok, e = pcall(schema.version, db)
    if ok and e > schema.VERSION then ok, e = false, schema.newer(db, e) end
    meta.version = e
  else
    -- one migration at a time: PostgreSQL's CREATE TABLE IF NOT EXISTS races with itself
    local locked, lerr = db:lock(busy)
    if locked then
      ok, e = pcall(function()
        db:wal()
        return schema.migrate(db)
      end)
      db:unlock()
    else
      ok, e = false, lerr
    end
    meta.version = schema.VERSION
  end
  if not ok then
    db:close()
    return nil, e
  end
  return setmetatable(meta, Archive)
end

function Archive:__tostring()
  return "apivideo.archive (" .. self.target .. ")"
end

--- Closes the archive's connection. Idempotent; also done by `__gc`.
function Archive:close()
  self.closed = true
  if self.db then self.db:close() end
end
Archive.__gc = Archive.close

------------------------------------------------------------------------------
-- Reading back (apivideo.archive.read).

-- Raises when the archive holds nothing to read.
local function readable(self)
  if self.closed then check.raise({ text = "apivideo: the archive is closed" }, 3) end
  if self.version == 0 then
    error(db_mod.error(self.target, "no archive in " .. self.target .. " yet (apivideo-analytics archive --db "
      .. self.target .. " makes one)"), 0)
  end
end

--- The figures of the window [from, to) (seconds since the epoch), of a
-- media (`media_id`: its streams archived with that filter) or of the
-- whole account, and of the previous period of equal length: see
-- `apivideo.archive.read.window`. Raises an error of kind "archive" when
-- the target holds no archive.
function Archive:window(from, to, media_id)
  readable(self)
  return read.window(self.db, from, to, media_id)
end

--- The points of a time series archived in [from, to) (nil: all):
-- `{ emitted_at =, metric_value = }`, oldest first. `interval` nil: the
-- finest archived. `filter`: a `filter_by` table or nil.
function Archive:series(metric, interval, filter_by, from, to)
  readable(self)
  local filter = M.filter_text(filter_by)
  interval = interval or read.interval_of(self.db, metric, filter)
  if not interval then return {} end
  return read.series(self.db, metric, interval, filter, from, to)
end

------------------------------------------------------------------------------
-- The plan: what a run archives, checked before anything is sent.

local function list_of(name, v, values)
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then check.fail(RUN, name, "a list expected, got " .. check.typename(v)) end
  local allowed = {}
  for _, x in ipairs(values) do allowed[x] = true end
  local out, seen = {}, {}
  for i, x in ipairs(v) do
    if not allowed[x] then
      check.fail(RUN, name, "item " .. i .. " is '" .. tostring(x) .. "', expected one of "
        .. operations.quoted(values))
    end
    if not seen[x] then
      seen[x] = true
      out[#out + 1] = x
    end
  end
  return out
end

local function seconds(name, v)
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
    check.fail(RUN, name, "seconds (a number >= 0) expected, got " .. tostring(v))
  end
  return math.floor(v)
end

local function ids(name, v)
  if v == nil then return {} end
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" then check.fail(RUN, name, "a list of ids expected, got " .. check.typename(v)) end
  for i, x in ipairs(v) do check.id(RUN, name .. "[" .. i .. "]", x) end
  return v
end

local RUN_OPTIONS = {
  metrics = true, breakdowns = true, interval = true, lag = true, since = true, filter_by = true,
  videos = true, live_streams = true, period = true, dry_run = true, on_progress = true,
}

-- The streams of a run, from its options (raising argument errors).
local function plan(opts)
  opts = check.options(RUN, "options", opts, RUN_OPTIONS)
  local p = {
    interval = opts.interval or M.DEFAULTS.interval,
    lag = opts.lag ~= nil and seconds("lag", opts.lag) or M.DEFAULTS.lag,
    since = opts.since ~= nil and seconds("since", opts.since) or nil,
    filter_by = opts.filter_by,
    filter = M.filter_text(opts.filter_by),
    dry_run = opts.dry_run and true or false,
    on_progress = opts.on_progress,
  }
  if not STEP[p.interval] then
    check.fail(RUN, "interval", "'hour' or 'day' expected, got '" .. tostring(p.interval) .. "'")
  end
  if p.on_progress ~= nil and type(p.on_progress) ~= "function" then
    check.fail(RUN, "on_progress", "function expected, got " .. check.typename(p.on_progress))
  end
  local videos, lives = ids("videos", opts.videos), ids("live_streams", opts.live_streams)
  local raw = #videos + #lives > 0
  -- the raw statistics alone unless /data streams are asked for too
  local metrics = opts.metrics or ((raw and opts.breakdowns == nil) and {} or M.DEFAULTS.metrics)
  local breakdowns = opts.breakdowns or ((raw and opts.metrics == nil) and {} or M.DEFAULTS.breakdowns)
  p.streams = {}
  for _, m in ipairs(list_of("metrics", metrics, operations.METRICS_TIMESERIES)) do
    p.streams[#p.streams + 1] = { kind = "timeseries", metric = m,
      name = "timeseries:" .. m .. ":" .. p.interval .. ":" .. p.filter }
  end
  for _, b in ipairs(list_of("breakdowns", breakdowns, operations.BREAKDOWNS)) do
    p.streams[#p.streams + 1] = { kind = "buckets", metric = "play", breakdown = b,
      name = "buckets:play:" .. b .. ":" .. p.filter }
  end
  if raw then
    if opts.period == nil then check.fail(RUN, "period", "required with videos or live_streams") end
    p.period = check.period(RUN, opts.period)
    for _, id in ipairs(videos) do
      p.streams[#p.streams + 1] = { kind = "sessions", owner = "video", id = id,
        name = "sessions:video:" .. id .. ":" .. p.period }
    end
    for _, id in ipairs(lives) do
      p.streams[#p.streams + 1] = { kind = "sessions", owner = "live-stream", id = id,
        name = "sessions:live-stream:" .. id .. ":" .. p.period }
    end
  elseif opts.period ~= nil then
    check.fail(RUN, "period", "only with videos or live_streams")
  end
  return p
end

------------------------------------------------------------------------------
-- A run.

-- Fields of a session item -> the columns of `sessions`.
local SESSION_COLUMNS = { "media_kind", "media_id", "loaded_at", "ended_at", "country", "city", "referrer_url",
  "referrer_medium", "referrer_source", "referrer_search_term", "device_type", "device_vendor", "device_model",
  "os_name", "os_shortname", "os_version", "client_type", "client_name", "client_version", "metadata" }
local EVENT_COLUMNS = { "type", "emitted_at", "at", "from_position", "to_position" }

local cjson = require("cjson")

-- The metadata of a session as one JSON object, keys in the API's order
-- (written by hand: the same session always gives the same text).
local function metadata_json(list)
  local parts = {}
  for _, kv in ipairs(list or {}) do
    if type(kv) == "table" and kv.key ~= nil then
      parts[#parts + 1] = cjson.encode(tostring(kv.key)) .. ":" .. cjson.encode(tostring(kv.value))
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function session_row(owner, id, s, fetched_at)
  local ses, loc, ref = s.session or {}, s.location or {}, s.referrer or {}
  local dev, os_, cli = s.device or {}, s.os or {}, s.client or {}
  return { ses.session_id, owner, id, ses.loaded_at, ses.ended_at, loc.country, loc.city, ref.url, ref.medium,
    ref.source, ref.search_term, dev.type, dev.vendor, dev.model, os_.name, os_.shortname, os_.version,
    cli.type, cli.name, cli.version, metadata_json(ses.metadata), fetched_at }
end

local Run = {}
Run.__index = Run

function Run:progress(event)
  if self.p.on_progress then self.p.on_progress(event) end
end

-- The stream's cursor, or nil. Every cursor is read at once, the first time
-- (the run holds the archive's lock: nobody else moves them).
function Run:cursor(stream)
  if self.empty then return nil end -- a dry run of a new target
  if not self.cursors then
    self.cursors = {}
    for _, r in ipairs(self.db:rows("SELECT stream, cursor FROM archive_state")) do self.cursors[r[1]] = r[2] end
  end
  return self.cursors[stream]
end

-- Inside a transaction: moves the stream's cursor (never backwards for time cursors).
function Run:set_cursor(stream, cursor)
  self.db:upsert("archive_state", { "stream" }, { "cursor" }, { "updated_at" }, { stream, cursor, self.now_text })
end

-- Walks every page of `method` of client.analytics with `args` (inside a
-- task). Returns the items. Raises the walk's error.
function Run:walk_items(method, ...)
  local next_page = self.client.analytics[method](self.client.analytics, ...)
  local items = {}
  while true do
    local page = next_page()
    if not page then break end
    self.requests = self.requests + 1
    for _, item in ipairs(page.data) do items[#items + 1] = item end
    self.pages, self.fetched_now = self.pages + 1, self.fetched_now + #page.data
    if not self.quiet then
      self:progress({ stream = self.current, index = self.index, streams = self.stream_count, page = self.pages,
        fetched = self.fetched_now })
    end
  end
  return items
end

-- Runs fns (functions) as tasks of the client, `concurrency` at once;
-- raises the first error.
function Run:all(fns)
  if #fns == 0 then return end
  local ok, err = self.client:run_all(fns, { limit = self.concurrency })
  if not ok then error(err, 0) end
end

function Run:timeseries(s)
  local p, step = self.p, STEP[self.p.interval]
  local cursor = parse_iso(self:cursor(s.name))
  local start = cursor and floor_to(cursor - p.lag, step) or floor_to(p.since or 0, step)
  if start < self.oldest[step] then start = self.oldest[step] end
  local open_start = floor_to(self.now, step)
  if start >= self.now then return {}, 0, 0 end
  local opts = { from = iso(start), interval = p.interval, filter_by = p.filter_by, page_size = 100 }
  if p.dry_run then
    return { analytics.url_of(self.client.analytics, "analytics:get_metrics_over_time", s.metric, opts)
      .. "  (and its further pages)" }
  end
  local items
  self:all({ function() items = self:walk_items("metrics_over_time_pages", s.metric, opts) end })
  local written = 0
  self.db:transaction(function()
    local rows = {}
    for _, it in ipairs(items) do
      local b = parse_iso(it.emitted_at)
      if b then rows[#rows + 1] = { s.metric, p.interval, p.filter, iso(b), it.metric_value, self.now_text } end
    end
    written = self.db:upsert_rows("timeseries", { "metric", "interval", "filter", "bucket" }, { "value" },
      { "fetched_at" }, rows)
    if not cursor or open_start > cursor then self:set_cursor(s.name, iso(open_start)) end
  end)
  return nil, #items, written
end

function Run:buckets(s)
  local p = self.p
  local cursor = parse_iso(self:cursor(s.name))
  local start = cursor and floor_to(cursor - p.lag, DAY) or floor_to(p.since or 0, DAY)
  if start < self.oldest[DAY] then start = self.oldest[DAY] end
  local today = floor_to(self.now, DAY)
  local days, fns = {}, {}
  for d = start, today, DAY do
    if d >= self.now then break end -- a day that has not begun
    local to = d + DAY
    local day = { d = d, closed = to <= self.now,
      opts = { from = iso(d), to = to <= self.now and iso(to) or nil, filter_by = p.filter_by, page_size = 100 } }
    days[#days + 1] = day
    fns[#fns + 1] = function()
      day.items = self:walk_items("metrics_breakdown_pages", s.metric, s.breakdown, day.opts)
    end
  end
  if p.dry_run then
    local out = {}
    for _, day in ipairs(days) do
      out[#out + 1] = analytics.url_of(self.client.analytics, "analytics:get_metrics_breakdown", s.metric,
        s.breakdown, day.opts)
    end
    return out
  end
  -- every day's pages at once; then the days fetched, in order up to the
  -- first that failed, in one transaction (the cursor at the last closed one)
  local ok, err = pcall(self.all, self, fns)
  local fetched, written = 0, 0
  local rows, closed_to = {}, nil
  for _, day in ipairs(days) do
    if not day.items then break end
    for _, it in ipairs(day.items) do
      rows[#rows + 1] = { s.metric, s.breakdown, p.filter, day_text(day.d), tostring(it.dimension_value),
        it.metric_value, self.now_text }
      if s.breakdown == "media-id" then self.media[tostring(it.dimension_value)] = true end
    end
    if day.closed and (not cursor or day.d + DAY > cursor) then closed_to = day.d + DAY end
    fetched = fetched + #day.items
  end
  if #rows > 0 or closed_to then
    self.db:transaction(function()
      written = self.db:upsert_rows("buckets", { "metric", "breakdown", "filter", "day", "dimension_value" },
        { "value" }, { "fetched_at" }, rows)
      if closed_to then self:set_cursor(s.name, iso(closed_to)) end
    end)
  end
  if not ok then error(err, 0) end
  return nil, fetched, written
end

function Run:sessions(s)
  local p, client = self.p, self.client
  local _, to_t = calendar.parse_period(p.period)
  local closed = to_t <= floor_to(self.now, DAY)
  local cursor = self:cursor(s.name)
  local method = s.owner == "video" and "video_session_pages" or "live_stream_session_pages"
  local one = s.owner == "video" and "analytics:list_video_sessions" or "analytics:list_live_stream_sessions"
  self.media[s.id] = s.owner
  if cursor == "complete" then return p.dry_run and {} or nil, 0, 0, "complete" end
  -- a closed period's pages do not change: a run cut short resumes after its last committed page
  local first = (closed and cursor and tonumber(cursor:match("^page (%d+)$")) or 0) + 1
  local opts = { period = p.period, page_size = 100, current_page = first }
  if p.dry_run then
    return { analytics.url_of(client.analytics, one, s.id, opts) .. "  (and its further pages)",
      client.transport:url("/analytics/sessions/{sessionId}/events", "") .. "  (for each session, every page)" }
  end
  local fetched, written = 0, 0
  -- the walk is made and driven here, outside any task (its pages ahead
  -- are the client's, not a task's); each page's events are walked at once
  local next_page = client.analytics[method](client.analytics, s.id, opts)
  local n = first - 1
  while true do
    local page = next_page()
    if not page then break end
    self.requests = self.requests + 1
    n = n + 1
    local events, fns = {}, {}
    for i, item in ipairs(page.data) do
      local sid = item.session and item.session.session_id
      fns[#fns + 1] = function() events[i] = self:walk_items("session_event_pages", sid, { page_size = 100 }) end
    end
    self.quiet = true -- (the events' pages: this page's line below counts them)
    local ok, err = pcall(self.all, self, fns)
    self.quiet = false
    if not ok then error(err, 0) end
    local last = page.pagination and page.pagination.current_page and page.pagination.pages_total
      and page.pagination.current_page >= page.pagination.pages_total
    self.db:transaction(function()
      local sessions, event_rows = {}, {}
      for i, item in ipairs(page.data) do
        local row = session_row(s.owner, s.id, item, self.now_text)
        sessions[i] = row
        for seq, e in ipairs(events[i]) do
          event_rows[#event_rows + 1] = { row[1], seq, e.type, e.emitted_at, e.at, e.from, e.to, self.now_text }
        end
        fetched = fetched + 1 + #events[i]
      end
      written = written + self.db:upsert_rows("sessions", { "session_id" }, SESSION_COLUMNS, { "fetched_at" }, sessions)
        + self.db:upsert_rows("events", { "session_id", "seq" }, EVENT_COLUMNS, { "fetched_at" }, event_rows)
      if closed then self:set_cursor(s.name, last and "complete" or ("page " .. n)) end
    end)
    self:progress({ stream = s.name, index = self.index, streams = self.stream_count, page = n, fetched = fetched })
    if last then break end
  end
  return nil, fetched, written
end

-- The titles of the media the run mentioned that the archive lacks (or
-- could not name, a day ago or more).
function Run:titles()
  local want = {}
  for id, kind in pairs(self.media) do
    local k = kind == true and (id:sub(1, 2) == "li" and "live-stream" or "video") or kind
    want[#want + 1] = { id = id, kind = k }
  end
  table.sort(want, function(a, b) return a.id < b.id end)
  local missing = {}
  local day_ago = iso(self.now - DAY)
  for _, m in ipairs(want) do
    local r = self.db:rows("SELECT title, fetched_at FROM media WHERE media_id = ?", m.id)
    if not r[1] or (r[1][1] == nil and r[1][2] <= day_ago) then missing[#missing + 1] = m end
  end
  if #missing == 0 then return end
  if self.p.dry_run then
    local out = {}
    for _, m in ipairs(missing) do
      out[#out + 1] = m.kind == "video" and analytics.url_of(self.client.videos, "videos:get", m.id)
        or analytics.url_of(self.client.live_streams, "live_streams:get", m.id)
    end
    return out
  end
  local fns = {}
  for _, m in ipairs(missing) do
    fns[#fns + 1] = function()
      local obj, err
      if m.kind == "video" then
        obj, err = self.client.videos:get(m.id)
      else
        obj, err = self.client.live_streams:get(m.id)
      end
      self.requests = self.requests + 1
      if obj then
        m.title = m.kind == "video" and obj.title or obj.name
      elseif not (err.kind == "http" and err.status == 404) then
        error(err, 0)
      end
      m.done = true
    end
  end
  local ok, err = pcall(self.all, self, fns)
  local written = 0
  self.db:transaction(function()
    for _, m in ipairs(missing) do
      if m.done then
        written = written + self.db:upsert("media", { "media_id" }, { "kind", "title" }, { "fetched_at" },
          { m.id, m.kind, type(m.title) == "string" and m.title or nil, self.now_text })
      end
    end
  end)
  if not ok then error(err, 0) end
  return nil, #missing, written
end

-- The API's time: its Date header, asked with the cheapest request when
-- the client has not heard from the API yet.
local function api_now(client)
  local now = client:server_time()
  if now then return now end
  local _, err = client.analytics:get_aggregated_metrics("play", "count")
  now = client:server_time()
  if now then
    return now, analytics.url_of(client.analytics, "analytics:get_aggregated_metrics", "play", "count")
      .. "  (sent: the API's clock, from its Date header)"
  end
  return nil, err or db_mod.error(nil, "the API's answer had no Date header: its clock is unknown")
end

--- Archives what `opts` asks for, with `client` (an `apivideo.new`
-- client). opts (all optional): `metrics` (time-series metrics, default
-- `DEFAULTS.metrics`), `breakdowns` (daily breakdowns of plays, default
-- `DEFAULTS.breakdowns`), `interval` ("hour" or "day"), `lag` (seconds
-- before the cursor that each run fetches again, default one day), `since`
-- (seconds since the epoch: the first run's start, default the retention
-- limit), `filter_by` (as the operations take it), `videos`, `live_streams`
-- (ids: their sessions and each session's events, in `period`, which they
-- require; with them and neither `metrics` nor `breakdowns`, only the raw
-- statistics), `dry_run` (return the requests a run would make, fetch and
-- write nothing), `on_progress` (function(event), called after each page
-- with `stream` (its name), `index` (1 for the first stream), `streams`
-- (how many this run walks), `page` (pages of this stream so far),
-- `fetched` (its items so far), and when a stream is committed with
-- `done = true`, `fetched` and `written` (rows added or changed)).
--
-- Returns a summary: `streams` (per stream: `name`, `fetched` items,
-- `written` rows added or changed, `status` "done" or "complete"),
-- `requests`, `fetched`, `written`, `now` (the API's time); with `dry_run`,
-- `requests` is the list of URLs instead. On failure: nil and the error
-- (the client's error object, or kind "archive"), with `err.stream` the
-- stream that failed; every stream before it is committed.
---@param client table
---@param opts? table
---@return table? summary
---@return apivideo.Error? err
function Archive:run(client, opts)
  if self.closed then check.raise({ text = "apivideo: the archive is closed" }, 2) end
  if type(client) ~= "table" or type(client.analytics) ~= "table" then
    check.fail(RUN, "client", "an apivideo client expected, got " .. check.typename(client), 2)
  end
  local p = check.checked(2, plan, opts)
  if self.read_only and not p.dry_run then
    check.raise({ text = "apivideo: archive:run: the archive was opened read_only (only a dry run)" }, 2)
  end
  local r = setmetatable({ db = self.db, empty = self.version == 0, client = client, p = p, requests = 0, media = {},
    concurrency = client.transport.concurrency or 4 }, Run)
  local now, err = api_now(client)
  if not now then return nil, err end
  local urls = { err }
  r.now, r.now_text = math.floor(now), iso(now)
  local oldest = now - M.RETENTION_S + MARGIN_S
  r.oldest = { [HOUR] = ceil_to(oldest, HOUR), [DAY] = ceil_to(oldest, DAY) }
  for _, v in ipairs(p.filter_by and type(p.filter_by.media_id) == "table" and p.filter_by.media_id or {}) do
    r.media[v] = true
  end
  if not p.dry_run then
    local ok, lerr = self.db:lock(self.busy_timeout_ms)
    if not ok then return nil, lerr end
  end
  local summary = { streams = {}, fetched = 0, written = 0, now = r.now_text }
  r.stream_count, r.index = #p.streams + 1, 0 -- (the last: the media's titles)
  local function one(name, fn, s)
    r.current, r.index, r.pages, r.fetched_now = name, r.index + 1, 0, 0
    local ok, list, fetched, written, status = pcall(fn, r, s)
    if not ok then
      local e = list
      if type(e) == "table" then e.stream = name end
      return nil, e
    end
    if p.dry_run then
      for _, u in ipairs(list or {}) do urls[#urls + 1] = u end
    else
      if fetched then
        summary.streams[#summary.streams + 1] = { name = name, fetched = fetched, written = written,
          status = status or "done" }
        summary.fetched, summary.written = summary.fetched + fetched, summary.written + written
      end
      r:progress({ stream = name, index = r.index, streams = r.stream_count, fetched = fetched or 0,
        written = written or 0, done = true })
    end
    return true
  end
  local failure
  for _, s in ipairs(p.streams) do
    local ok, e = one(s.name, Run[s.kind], s)
    if not ok then failure = e break end
  end
  if not failure then
    local ok, e = one("media", Run.titles)
    if not ok then failure = e end
  end
  if not p.dry_run then self.db:unlock() end
  if failure then return nil, failure end
  if p.dry_run then
    summary.requests = urls
    return summary
  end
  summary.requests = r.requests
  return summary
end

return M
