-- Using the library from a checkout: `eval "$(make -s env)"` is the one
-- command (README), after which require("apivideo") and apivideo-analytics
-- work from any folder, in a shell that had neither.
local shell = require("spec.support.shell")
local S = require("spec.support.standin")

local ROOT = S.root()
local q = shell.quote

describe("a checkout's environment (make env) #once", function()
  local srv = S.shared()

  setup(function()
    -- (LuaJIT and Lua 5.1 share LUA_CPATH and the 5.1 ABI: the 5.1 build serves both)
    local out, code = shell.run("make -s -C " .. q(ROOT) .. " LUA_VERSION=5.1 all")
    assert(code == 0, out)
  end)

  -- cmd in a clean shell (no LUA_PATH, no checkout on PATH) after make env, from /
  local function after_env(cmd)
    return shell.run("env -i PATH=/usr/bin:/bin HOME=/nonexistent sh -c "
      .. q("eval \"$(make -s -C " .. q(ROOT) .. " env)\" && cd / && " .. cmd))
  end

  for _, lua in ipairs({ "lua5.4", "luajit" }) do
    it("gives " .. lua .. " the module and its C core from this checkout", function()
      local out, code = after_env(lua .. " -e " .. q("local a = require('apivideo') "
        .. "local c = a.new({ api_key = 'standin-key', base_url = '" .. srv.url .. "' }) "
        .. "local p = assert(c.analytics:list_video_sessions('vi250', { period = '2023', page_size = 2 })) "
        .. "print(package.searchpath('apivideo', package.path), package.searchpath('apivideo.core', package.cpath), "
        .. "p.data[1].session.session_id)"))
      assert.are.equal(0, code, out)
      -- this checkout's files, whatever else is installed on the machine
      local build = lua == "luajit" and "build/lua5.1" or "build/lua5.4"
      assert.are.equal(ROOT .. "/lua/apivideo/init.lua\t" .. ROOT .. "/" .. build
        .. "/apivideo/core.so\tpsvi250_000001\n", out)
    end)
  end

  it("puts apivideo-analytics on PATH", function()
    local out, code = after_env("APIVIDEO_API_KEY=standin-key apivideo-analytics sessions --video vi250"
      .. " --period 2023 --page-size 2 --format csv --base-url " .. q(srv.url))
    assert.are.equal(0, code, out)
    assert.truthy(out:find("\npsvi250_000001,", 1, true), out)
    out = after_env("command -v apivideo-analytics")
    assert.are.equal(ROOT .. "/bin/apivideo-analytics\n", out)
  end)
end)
