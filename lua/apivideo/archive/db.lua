--- The archive's targets: a SQLite file or a PostgreSQL server, one code
-- path for both through LuaDBI (Debian `lua-dbi-sqlite3`,
-- `lua-dbi-postgresql`): prepared statements with `?` placeholders, explicit
-- transactions, `INSERT ... ON CONFLICT ... DO UPDATE` as both databases
-- take it. What differs between the two is in `DIALECTS` and nowhere else.
--
-- LuaDBI blocks the process while the database works: the archive is for
-- scripts, the CLI and cron, never for an nginx request.
--
-- A password in a PostgreSQL URL is a secret like the API key: `db.target`
-- (what messages print) never has it, and every message of the database is
-- stripped of it before it becomes an error.
-- @module apivideo.archive.db
-- @local
local errors = require("apivideo.errors")

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 143

--- What differs between the two databases.
M.DIALECTS = {
  sqlite = {
    driver = "SQLite3",
    begin = "BEGIN IMMEDIATE",       -- take the write lock now, not at the first write
    real = "REAL",                   -- 8 bytes in SQLite
    differs = "IS NOT",              -- NULL-safe "not equal"
  },
  postgresql = {
    driver = "PostgreSQL",
    begin = "BEGIN",
    real = "DOUBLE PRECISION",       -- PostgreSQL's REAL has 4 bytes: counts above 2^24 would be rounded
    differs = "IS DISTINCT FROM",
  },
}

-- The key of the PostgreSQL advisory lock that one archive run holds.
local PG_LOCK_KEY = 7316650207

local function pct_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- Reads a target: a PostgreSQL URL (`postgresql://user:password@host:port/db`,
-- or `postgres://`) or else a SQLite file path. Returns a table (`dialect`,
-- `text`: the target as messages print it, without a password; PostgreSQL:
-- `user`, `password`, `host`, `port`, `dbname`; SQLite: `path`), or nil and
-- why not (never quoting the password).
---@param s string
---@return table? target
---@return string? reason
function M.parse_target(s)
  if type(s) ~= "string" or s == "" then return nil, "a SQLite file path or a postgresql:// URL expected" end
  local scheme, rest = s:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then
    return { dialect = "sqlite", path = s, text = s }
  end
  if scheme ~= "postgresql" and scheme ~= "postgres" then
    return nil, "unknown scheme '" .. scheme .. "://' (a SQLite file path or a postgresql:// URL expected)"
  end
  local authority, path = rest:match("^([^/?#]*)/([^?#]*)$")
  if not authority or rest:find("[?#]") then
    return nil, "a PostgreSQL target is postgresql://user:password@host:port/database (no ?parameters)"
  end
  local userinfo, hostport = authority:match("^(.*)@([^@]*)$")
  if not userinfo then userinfo, hostport = "", authority end
  local user, password = userinfo:match("^([^:]*):(.*)$")
  if not user then user = userinfo end
  local host, port = hostport:match("^(.-):(%d+)$")
  if not host then
    if hostport:find(":") then return nil, "the port of a PostgreSQL URL is a number" end
    host = hostport
  end
  port = port and tonumber(port)
  if port and (port < 1 or port > 65535) then return nil, "the port of a PostgreSQL URL is 1 to 65535" end
  if path == "" then return nil, "a PostgreSQL URL names its database: postgresql://user@host:port/database" end
  user, password, path = pct_decode(user), password and pct_decode(password), pct_decode(path)
  local text = "postgresql://" .. (user ~= "" and user .. "@" or "") .. host .. (port and ":" .. port or "") .. "/"
    .. path
  return {
    dialect = "postgresql", user = user ~= "" and user or nil, password = password, host = host ~= "" and host or nil,
    port = port, dbname = path, text = text,
  }
end

local DB = {}
DB.__index = DB

-- `msg` without the password, on one line.
local function clean(self, msg)
  msg = tostring(msg or "?")
  local pw = self.target.password
  if pw and pw ~= "" then
    local out, i = {}, 1
    while true do
      local a, b = msg:find(pw, i, true)
      if not a then break end
      out[#out + 1] = msg:sub(i, a - 1) .. "***"
      i = b + 1
    end
    out[#out + 1] = msg:sub(i)
    msg = table.concat(out)
  end
  return (msg:gsub("[\r\n]+", " "):gsub("%s+$", ""))
end

--- An error of kind "archive": `title` what failed, `target` (no password),
-- and any other fields given (`stream`, `busy`, `schema_version`).
function M.error(target_text, title, fields)
  local e = { kind = "archive", title = title, target = target_text }
  for k, v in pairs(fields or {}) do e[k] = v end
  return errors.new(e)
end

--- The error of a target that another run holds.
function M.busy(text, timeout_ms)
  return M.error(text, "the archive " .. text .. " is busy: another run still holds it after "
    .. string.format("%g", timeout_ms / 1000) .. " s", { busy = true })
end

function DB:fail(what, msg, fields)
  error(M.error(self.target.text, what .. ": " .. clean(self, msg), fields), 0)
end

local function connect(target, what)
  local ok, DBI = pcall(require, "DBI")
  if not ok then
    return nil, M.error(target.text, "LuaDBI is not installed (Debian: apt-get install lua-dbi-sqlite3 "
      .. "lua-dbi-postgresql)")
  end
  local d = M.DIALECTS[target.dialect]
  local conn, err
  if target.dialect == "sqlite" then
    conn, err = DBI.Connect(d.driver, what or target.path)
  else
    conn, err = DBI.Connect(d.driver, target.dbname, target.user, target.password, target.host, target.port)
  end
  if not conn then return nil, err end
  conn:autocommit(true) -- transactions are begun and ended here, explicitly
  return conn
end

--- Opens a target (text as `parse_target` reads it). opts: `busy_timeout_ms`
-- (how long a statement waits for another writer of a SQLite file; default
-- 30000). Returns the connection, or nil and an error of kind "archive".
function M.open(text, opts)
  local target, why = M.parse_target(text)
  if not target then return nil, M.error(nil, "bad target: " .. why) end
  local self = setmetatable({ target = target, dialect = M.DIALECTS[target.dialect], statements = {}, upserts = {},
    busy_timeout_ms = (opts and opts.busy_timeout_ms) or 30000 }, DB)
  local conn, err = connect(target)
  if not conn then
    return nil, M.error(target.text, "cannot open the archive " .. target.text .. ": " .. clean(self, err))
  end
  self.conn = conn
  local ok, e = pcall(function()
    if target.dialect == "sqlite" then
      self:exec("PRAGMA busy_timeout = " .. string.format("%d", self.busy_timeout_ms))
      -- a commit waits for no fsync of the log: a power cut can undo the last commits, never tear one,
      -- and each commit moves its cursors with its rows, so the next run fetches them again
      self:exec("PRAGMA synchronous = NORMAL")
    else
      self:exec("SET client_min_messages = warning")
    end
  end)
  if not ok then
    self:close()
    return nil, errors.is_error(e) and M.error(target.text, "cannot open the archive " .. target.text .. ": "
      .. e.title:gsub("^[^:]*: ", "")) or e
  end
  return self
end

--- Before the first write, under the archive's lock (`lock`): SQLite's
-- write-ahead log, so that readers (report --db, sqlite3, Grafana) never
-- wait for a run, nor a run for them. (The mode is kept in the file. Its
-- switch takes the file for itself, without waiting for another
-- connection: two processes switching a new file at once would see
-- "database is locked", hence the lock.)
function DB:wal()
  if self.target.dialect == "sqlite" then self:rows("PRAGMA journal_mode = WAL") end
end

function DB:__tostring()
  return "apivideo.archive.db (" .. self.target.text .. ")"
end

-- The prepared statement of `sql` (kept: each is prepared once).
function DB:statement(sql)
  local st = self.statements[sql]
  if st then return st end
  local err
  st, err = self.conn:prepare(sql)
  if not st then self:fail("the database refused a statement", err) end
  self.statements[sql] = st
  return st
end

--- Runs one statement with its `?` values. Returns the number of rows it
-- changed. Raises an error of kind "archive" on failure.
function DB:exec(sql, ...)
  local st = self:statement(sql)
  local ok, err = st:execute(...)
  if not ok then self:fail("the database failed", err) end
  return st:affected() or 0
end

--- Runs a query; returns its rows, each an array of column values.
function DB:rows(sql, ...)
  local st = self:statement(sql)
  local ok, err = st:execute(...)
  if not ok then self:fail("the database failed", err) end
  local out = {}
  for row in st:rows() do
    local r = {}
    for i = 1, #st:columns() do r[i] = row[i] end
    out[#out + 1] = r
  end
  return out
end

function DB:begin() self:exec(self.dialect.begin) end
function DB:commit() self:exec("COMMIT") end
function DB:rollback() pcall(self.exec, self, "ROLLBACK") end

--- Runs fn() inside one transaction: committed when it returns, rolled back
-- when it raises (the error goes on).
function DB:transaction(fn)
  self:begin()
  local ok, err = pcall(fn)
  if not ok then
    self:rollback()
    error(err, 0)
  end
  self:commit()
end

--- `INSERT ... ON CONFLICT (keys) DO UPDATE` of one row, changing a row
-- only when one of `values` differs (so a run with nothing new changes
-- nothing). `always`: columns written with the others, not compared
-- (`fetched_at`). Returns 1 when a row was added or changed, else 0.
function DB:upsert(tbl, keys, values, always, row)
  return self:exec(self:upsert_sql(tbl, keys, values, always), unpack(row, 1, #keys + #values + #always))
end

-- The SQL of `upsert` (one row), built once.
function DB:upsert_sql(tbl, keys, values, always)
  local key = tbl .. "\0" .. table.concat(keys, ",") .. "\0" .. table.concat(values, ",")
  local sql = self.upserts[key]
  if not sql then
    local cols, marks, sets, diffs = {}, {}, {}, {}
    for _, list in ipairs({ keys, values, always }) do
      for _, c in ipairs(list) do
        cols[#cols + 1] = c
        marks[#marks + 1] = "?"
      end
    end
    for _, list in ipairs({ values, always }) do
      for _, c in ipairs(list) do sets[#sets + 1] = c .. " = excluded." .. c end
    end
    for _, c in ipairs(values) do
      diffs[#diffs + 1] = tbl .. "." .. c .. " " .. self.dialect.differs .. " excluded." .. c
    end
    sql = "INSERT INTO " .. tbl .. " (" .. table.concat(cols, ", ") .. ") VALUES (" .. table.concat(marks, ", ")
      .. ") ON CONFLICT (" .. table.concat(keys, ", ") .. ") DO UPDATE SET " .. table.concat(sets, ", ")
      .. " WHERE " .. table.concat(diffs, " OR ")
    self.upserts[key] = sql
  end
  return sql
end

-- The most `?` values one statement takes (SQLite's oldest limit is 999).
local MAX_VALUES = 900

--- `upsert` of many rows (arrays as `upsert` takes them), in statements of
-- many rows each: one statement per row costs several times the row's own
-- work. Rows with the key of an earlier row in the same statement go in the
-- next one (PostgreSQL refuses to change one row twice in a statement), so
-- the later row wins, as with one upsert each. Returns the number of rows
-- added or changed.
function DB:upsert_rows(tbl, keys, values, always, rows)
  local width = #keys + #values + #always
  local per = math.max(1, math.floor(MAX_VALUES / width))
  local written, batch, seen, args = 0, 0, {}, {}
  local function flush()
    if batch == 0 then return end
    local id = tbl .. "\0" .. table.concat(keys, ",") .. "\0" .. table.concat(values, ",") .. "\0" .. batch
    local sql = self.upserts[id]
    if not sql then
      local one = self:upsert_sql(tbl, keys, values, always)
      local head, row_marks, tail = one:match("^(.- VALUES )(%b())( ON CONFLICT .*)$")
      local marks = {}
      for i = 1, batch do marks[i] = row_marks end
      sql = head .. table.concat(marks, ", ") .. tail
      self.upserts[id] = sql
    end
    written = written + self:exec(sql, unpack(args, 1, batch * width))
    batch, seen, args = 0, {}, {}
  end
  for _, row in ipairs(rows) do
    local k = {}
    for i = 1, #keys do k[i] = tostring(row[i]) end
    k = table.concat(k, "\0")
    if seen[k] or batch == per then flush() end
    seen[k] = true
    for i = 1, width do args[batch * width + i] = row[i] end
    batch = batch + 1
  end
  flush()
  return written
end

--- Takes the lock that one archive run holds on the target, waiting at most
-- `timeout_ms` for another run to end. SQLite: a write transaction on the
-- file `<path>.lock` beside the archive (the archive itself stays open to
-- readers and to each commit); PostgreSQL: a session advisory lock. Both
-- end with the process, however it ends (SIGKILL included). Returns true,
-- or nil and an error of kind "archive" with `busy = true`.
function DB:lock(timeout_ms)
  local t = self.target
  if t.dialect == "sqlite" then
    local conn, err = connect(t, t.path .. ".lock")
    if not conn then return nil, M.error(t.text, "cannot open the lock " .. t.path .. ".lock: " .. clean(self, err)) end
    local bt = conn:prepare("PRAGMA busy_timeout = " .. string.format("%d", timeout_ms))
    bt:execute()
    local st = conn:prepare("BEGIN IMMEDIATE")
    local ok, e = st:execute()
    if not ok then
      conn:close()
      local busy = tostring(e):find("locked") or tostring(e):find("busy")
      return nil, busy and M.busy(t.text, timeout_ms)
        or M.error(t.text, "cannot take the lock " .. t.path .. ".lock: " .. clean(self, e))
    end
    self.lock_conn = conn
    return true
  end
  -- lock_timeout bounds the wait of pg_advisory_lock as any other lock's
  self:exec("SET lock_timeout = " .. string.format("%d", timeout_ms))
  local ok, e = pcall(self.rows, self, "SELECT pg_advisory_lock(" .. PG_LOCK_KEY .. ")")
  pcall(self.exec, self, "SET lock_timeout = 0")
  if ok then return true end
  if errors.is_error(e) and e.title:find("lock timeout", 1, true) then
    return nil, M.busy(t.text, timeout_ms)
  end
  error(e, 0)
end

--- Gives the lock back (closing the connection does too).
function DB:unlock()
  if self.lock_conn then
    pcall(function() self.lock_conn:close() end)
    self.lock_conn = nil
  elseif self.target.dialect == "postgresql" and self.conn then
    pcall(self.rows, self, "SELECT pg_advisory_unlock(" .. PG_LOCK_KEY .. ")")
  end
end

--- Closes the connection (and the lock). Idempotent.
function DB:close()
  if self.lock_conn then
    pcall(function() self.lock_conn:close() end)
    self.lock_conn = nil
  end
  if self.conn then
    for _, st in pairs(self.statements) do
      pcall(st.close, st)
    end
    self.statements = {}
    pcall(function() self.conn:close() end)
    self.conn = nil
  end
end
DB.__gc = DB.close

return M
