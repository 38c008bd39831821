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

return M
