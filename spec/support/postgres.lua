-- Test helper: a real PostgreSQL 15 server for one spec file: `initdb` into a
-- fresh temporary directory, listening on 127.0.0.1 and a free port, with a
-- password (scram-sha-256), stopped and removed at the end.
--
--   local PG = require("spec.support.postgres")
--   local srv = PG.start()        -- srv.url ("postgresql://archive:PW@127.0.0.1:PORT/archive"),
--   srv.port, srv.password, srv:psql("SELECT 1"), srv:url_with("wrong"), srv:stop()
--
-- Needs Debian's postgresql-15 (a missing one fails naming the package). The
-- server refuses to run as root: as root it runs as the user `postgres`.
local sh = require("spec.support.shell")

local M = {}

local BIN = "/usr/lib/postgresql/15/bin"
M.PASSWORD = "pg-pw-7f3a-secret"

local free_port = sh.free_port

local function is_root()
  local out = sh.run("id -u")
  return out:match("^0") ~= nil
end

local Server = {}
Server.__index = Server

-- Runs a command as the server's owner.
function Server:as_owner(cmd)
  if self.root then return sh.run("runuser -u postgres -- sh -c " .. sh.quote(cmd)) end
  return sh.run(cmd)
end

--- Runs SQL with psql as the superuser; returns its output (unaligned, tuples only) and exit code.
function Server:psql(sql, db)
  return self:as_owner("PGPASSWORD= " .. BIN .. "/psql -X -q -At -h " .. sh.quote(self.dir)
    .. " -p " .. self.port .. " -U postgres -d " .. (db or "archive") .. " -c " .. sh.quote(sql))
end

-- Every table an archive holds (lua/apivideo/archive/schema.lua).
M.ARCHIVE_TABLES = { "timeseries", "buckets", "sessions", "events", "media", "archive_state", "archive_meta" }

--- The archive's URL, its database emptied of every archive table: a fresh target.
function Server:emptied()
  for _, t in ipairs(M.ARCHIVE_TABLES) do self:psql("DROP TABLE IF EXISTS " .. t) end
  return self.url
end

--- fresh(kind): a fresh archive target of kind "sqlite" (a new file in dir) or
-- "postgresql" (pg's database emptied).
function M.fresh_targets(dir, pg)
  local n = 0
  return function(kind)
    if kind == "sqlite" then
      n = n + 1
      return dir .. "/t" .. n .. ".db"
    end
    return pg:emptied()
  end
end

--- The archive's URL with another password.
function Server:url_with(password)
  return "postgresql://archive:" .. password .. "@127.0.0.1:" .. self.port .. "/archive"
end

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  self:as_owner(BIN .. "/pg_ctl -D " .. sh.quote(self.dir .. "/data") .. " -m immediate -w stop")
  sh.remove_tree(self.dir)
end

--- Starts a server. opts.fsync: true for a server that syncs its writes to disk as a
-- production one does (the benchmark); the specs' default turns it off, for speed.
function M.start(opts)
  local fsync = opts and opts.fsync and "on" or "off"
  assert(sh.exists(BIN .. "/initdb"), "PostgreSQL 15 missing (apt-get install postgresql-15)")
  local root = is_root()
  local dir = sh.tmpdir()
  if root then sh.run("chown postgres " .. sh.quote(dir)) end
  local self = setmetatable({ dir = dir, root = root, password = M.PASSWORD }, Server)
  local pwfile = dir .. "/pw"
  local f = assert(io.open(pwfile, "w"))
  f:write("postgres-superuser-pw\n")
  f:close()
  if root then sh.run("chown postgres " .. sh.quote(pwfile)) end
  local out, code = self:as_owner(BIN .. "/initdb -D " .. sh.quote(dir .. "/data") .. " -U postgres"
    .. " --auth-local=trust --auth-host=scram-sha-256 --pwfile=" .. sh.quote(pwfile) .. " -E UTF8")
  assert(code == 0, "initdb failed: " .. out)
  for _ = 1, 5 do
    local port = free_port()
    self.port = port
    out, code = self:as_owner(BIN .. "/pg_ctl -D " .. sh.quote(dir .. "/data") .. " -l " .. sh.quote(dir .. "/log")
      .. " -w -t 30 -o "
      .. sh.quote("-p " .. port .. " -k " .. dir .. " -c listen_addresses=127.0.0.1 -c fsync=" .. fsync)
      .. " start")
    if code == 0 then
      local _, c1 = self:psql("CREATE ROLE archive LOGIN PASSWORD '" .. M.PASSWORD .. "'", "postgres")
      local _, c2 = self:psql("CREATE DATABASE archive OWNER archive", "postgres")
      assert(c1 == 0 and c2 == 0, "could not create the archive role and database")
      self.url = self:url_with(M.PASSWORD)
      return self
    end
  end
  local log = sh.read_file(dir .. "/log")
  sh.remove_tree(dir)
  error("PostgreSQL did not start: " .. tostring(out) .. "\n" .. tostring(log))
end

return M
