-- The rockspec installs offline into a fresh tree, and the installed module
-- loads from there (not from this checkout) and works against the stand-in.
local S = require("spec.support.standin")
local shell = require("spec.support.shell")

local sh = shell.run -- stdout and stderr of a command, and its exit status

-- #once: LuaRocks installs into a Lua 5.4 tree whatever Lua runs the suite;
-- `make test-all` runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("rockspec #once", function()
  local tree
  -- every module of lua/apivideo/ must be installed and load from the tree
  -- (types.lua is a declarations-only file for editors: nothing requires it)
  local names = {}
  -- (subfolders too: apivideo.archive.db is 'archive.db')
  for file in assert(io.popen("cd '" .. S.root() .. "/lua/apivideo' && find . -name '*.lua' | sort")):lines() do
    local m = file:match("^%./(.+)%.lua$")
    m = m and m:gsub("/init$", ""):gsub("/", ".")
    if m and m ~= "init" and m ~= "types" then names[#names + 1] = "'" .. m .. "'" end
  end
  local modules = table.concat(names, ", ")

  setup(function()
    tree = os.tmpname()
    os.remove(tree)
  end)

  teardown(function()
    if tree then sh("rm -rf '" .. tree .. "'") end
  end)

  it("passes luarocks lint", function()
    local out, code = sh("luarocks lint rockspec/lua-apivideo-scm-1.rockspec")
    assert.are.equal(0, code, out)
  end)

  for _, v in ipairs({ "5.1", "5.3", "5.4" }) do
    it("installs offline into a Lua " .. v .. " tree, CLI included, and the installed module serves a request",
      function()
        local t = tree .. "-" .. v
        local out, code = sh("luarocks --lua-version=" .. v .. " --tree='" .. t
          .. "' make --deps-mode=none rockspec/lua-apivideo-scm-1.rockspec")
        assert.are.equal(0, code, out)
        local f = io.open(t .. "/bin/apivideo-analytics", "r")
        assert.truthy(f, "the CLI script was not installed")
        f:close()
        local srv = S.shared()
        local script = table.concat({
          "package.path = '" .. t .. "/share/lua/" .. v .. "/?.lua;" .. t .. "/share/lua/" .. v
            .. "/?/init.lua;' .. package.path",
          "package.cpath = '" .. t .. "/lib/lua/" .. v .. "/?.so;' .. package.cpath",
          "local apivideo = require('apivideo')",
          "print(package.loaded['apivideo.core'] and 'core' or 'no core')",
          "for _, m in ipairs({ " .. modules .. " }) do require('apivideo.' .. m) end",
          "local c = apivideo.new({ api_key = 'standin-key', base_url = '" .. srv.url .. "' })",
          "local page = assert(c.analytics:list_video_sessions('vi250', { period = '2023', page_size = 3 }))",
          "print(apivideo._VERSION, #page.data, page.data[1].session.session_id)",
        }, "\n")
        local sf = assert(io.open(t .. ".lua", "w"))
        sf:write(script)
        sf:close()
        -- run from / so nothing of this checkout is on the default paths
        out, code = sh("cd / && lua" .. v .. " '" .. t .. ".lua'")
        os.remove(t .. ".lua")
        -- the installed command, from a clean shell: no LUA_PATH, no checkout
        local cli_out, cli_code = sh("cd / && env -i PATH=/usr/bin:/bin APIVIDEO_API_KEY=standin-key '" .. t
          .. "/bin/apivideo-analytics' sessions --video vi250 --period 2023 --page-size 3 --format csv"
          .. " --base-url '" .. srv.url .. "'")
        sh("rm -rf '" .. t .. "'")
        assert.are.equal(0, code, out)
        assert.are.equal("core\n0.1.0\t3\tpsvi250_000001\n", out)
        assert.are.equal(0, cli_code, cli_out)
        assert.truthy(cli_out:find("\npsvi250_000001,", 1, true), cli_out)
      end)
  end
end)
