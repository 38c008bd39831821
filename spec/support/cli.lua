-- Test helper: runs the command-line tool in-process (apivideo.cli.main) with
-- captured streams and an environment of the spec's choosing.
--
--   local C = require("spec.support.cli")
--   C.buffer()              a stream for cli.main: b:write(...) collects, b:text() is all of it
--   local run = C.runner({ url = srv.url, key = KEY, secrets = { KEY, ... } })
--   local code, out, err = run(args, opts)
--       cli.main(args followed by --base-url url), stdout and stderr captured, the
--       environment { APIVIDEO_API_KEY = key } and nothing else; fails the test when
--       one of the secrets shows up in stdout or stderr.
--       opts: env (the environment instead), more_env (more variables on top of it),
--       no_base_url (leave --base-url out), tty (stderr is a terminal),
--       interval (progress_interval_ms), streams (more fields of cli.main's streams:
--       stdout_tty, columns, now...)
--   C.usage_fails(run, srv)  a check: fails(args, message, opts) runs run(args, opts) and asserts
--       exit 2, nothing on stdout, "apivideo-analytics: " .. message as stderr's first line and
--       no request at srv; returns stderr
--   C.lines(text, sep)      text split at sep (default "\n"); a last separator ends the last line
--   C.width(s)              display width of UTF-8 text (code points)
--   C.parse_csv(text)       an RFC 4180 reader: CRLF record ends only, quoted fields with "" escapes,
--       no quote inside an unquoted field, no bare CR or LF outside quotes -> array of rows
--   C.csv_records(text)     the header, and an array of {column = value} (each row as wide as the header)
--   C.as_list(v)            v when a table, else { v } (a query argument given once or repeated)
--
-- args is not changed. Nothing here uses syntax newer than Lua 5.1.
-- busted's assert lives in each spec file's environment, not in _G: the same
-- luassert object, required here.
local assert = require("luassert")
local cli = require("apivideo.cli")

local M = {}

function M.buffer()
  local b = { parts = {} }
  function b:write(...)
    for i = 1, select("#", ...) do self.parts[#self.parts + 1] = tostring((select(i, ...))) end
    return self
  end
  function b:text() return table.concat(self.parts) end
  return b
end

function M.runner(conf)
  local secrets = conf.secrets or {}
  return function(args, opts)
    opts = opts or {}
    local argv = {}
    for i, a in ipairs(args) do argv[i] = a end
    if not opts.no_base_url then
      argv[#argv + 1] = "--base-url"
      argv[#argv + 1] = conf.url
    end
    local env = {}
    for k, v in pairs(opts.env or { APIVIDEO_API_KEY = conf.key }) do env[k] = v end
    for k, v in pairs(opts.more_env or {}) do env[k] = v end
    local out, err = M.buffer(), M.buffer()
    local streams = {
      stdout = out, stderr = err, getenv = function(name) return env[name] end,
      tty = opts.tty, progress_interval_ms = opts.interval,
    }
    for k, v in pairs(opts.streams or {}) do streams[k] = v end
    local code = cli.main(argv, streams)
    local o, e = out:text(), err:text()
    for _, s in ipairs(secrets) do
      assert.is_nil(o:find(s, 1, true), "a secret on stdout")
      assert.is_nil(e:find(s, 1, true), "a secret on stderr")
    end
    return code, o, e
  end
end

function M.usage_fails(run, srv)
  return function(args, message, opts)
    local code, out, err = run(args, opts)
    assert.are.equal(2, code, err)
    assert.are.equal("", out)
    assert.are.equal("apivideo-analytics: " .. message, err:match("^([^\n]*)\n"))
    assert.are.equal(0, srv:stats().requests)
    return err
  end
end

--- apivideo.report.html wrapped for a spec file's tests: `last.install()` (in setup) wraps it,
-- `last.restore()` (in teardown) puts the original back. `last.data` is the data table of the latest
-- report made, `last.html` the page it rendered; `last.clear()` forgets them.
function M.capture_reports()
  local report = require("apivideo.report")
  local original = report.html
  local last = {}
  function last.clear() last.data, last.html = nil, nil end
  function last.install()
    report.html = function(data)
      last.data = data
      last.html = original(data)
      return last.html
    end
  end
  function last.restore() report.html = original end
  return last
end

function M.lines(text, sep)
  local out = {}
  sep = sep or "\n"
  local i = 1
  while i <= #text do
    local j = text:find(sep, i, true)
    if not j then
      out[#out + 1] = text:sub(i)
      break
    end
    out[#out + 1] = text:sub(i, j - 1)
    i = j + #sep
  end
  return out
end

function M.width(s)
  local n = 0
  for _ in s:gmatch("[^\128-\191]") do n = n + 1 end
  return n
end

function M.parse_csv(text)
  assert(text == "" or text:sub(-2) == "\r\n", "CSV must end with CRLF")
  local rows, row, i, n = {}, {}, 1, #text
  while i <= n do
    local value
    if text:sub(i, i) == '"' then
      local parts = {}
      i = i + 1
      while true do
        local q = text:find('"', i, true)
        assert(q, "unterminated quoted field")
        parts[#parts + 1] = text:sub(i, q - 1)
        if text:sub(q + 1, q + 1) == '"' then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      value = table.concat(parts)
    else
      local j = text:find('[,\r\n"]', i)
      assert(j, "field without a record end")
      assert(text:sub(j, j) ~= '"', "quote inside an unquoted field at byte " .. j)
      value = text:sub(i, j - 1)
      i = j
    end
    row[#row + 1] = value
    if text:sub(i, i) == "," then
      i = i + 1
    elseif text:sub(i, i + 1) == "\r\n" then
      rows[#rows + 1] = row
      row = {}
      i = i + 2
    else
      error("CSV: expected ',' or CRLF at byte " .. i)
    end
  end
  return rows
end

function M.csv_records(text)
  local rows = M.parse_csv(text)
  local header = table.remove(rows, 1)
  local recs = {}
  for r, row in ipairs(rows) do
    assert.are.equal(#header, #row, "row " .. r .. " has the header's number of fields")
    local rec = {}
    for i, h in ipairs(header) do rec[h] = row[i] end
    recs[r] = rec
  end
  return header, recs
end

function M.as_list(v)
  if type(v) == "table" then return v end
  return { v }
end

return M
