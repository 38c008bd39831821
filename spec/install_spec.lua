-- The rockspec installs offline into a fresh tree, and the installed module
-- loads from there (not from this checkout) and works against the stand-in.
local S = require("spec.support.standin")

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  return out, (ok == true or ok == 0) and 0 or (code or 1)
end

-- #once: LuaRocks installs into a Lua 5.4 tree whatever Lua runs the suite;
-- `make test-all` runs this file under 5.4 only (--exclude-tags=once elsewhere).
describe("rockspec #once", function()
  local tree

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

  it("installs offline and the installed module serves a request", function()
    local out, code = sh("luarocks --lua-version=5.4 --tree='" .. tree
      .. "' make --deps-mode=none rockspec/lua-apivideo-scm-1.rockspec")
    assert.are.equal(0, code, out)
    local srv = S.shared()
    local script = table.concat({
      "package.path = '" .. tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua;' .. package.path",
      "package.cpath = '" .. tree .. "/lib/lua/5.4/?.so;' .. package.cpath",
      "local apivideo = require('apivideo')",
      "print(package.searchpath('apivideo.core', package.cpath))",
      "print(package.searchpath('apivideo', package.path))",
      "local c = apivideo.new({ api_key = 'standin-key', base_url = '" .. srv.url .. "' })",
      "local page = assert(c.analytics:list_video_sessions('vi250', { period = '2023', page_size = 3 }))",
      "print(apivideo._VERSION, #page.data, page.data[1].session.session_id)",
    }, "\n")
    local f = assert(io.open(tree .. ".lua", "w"))
    f:write(script)
    f:close()
    -- run from / so nothing of this checkout is on the default paths
    out, code = sh("cd / && lua5.4 '" .. tree .. ".lua'")
    os.remove(tree .. ".lua")
    assert.are.equal(0, code, out)
    local so, init, rest = out:match("^([^\n]+)\n([^\n]+)\n([^\n]+)")
    assert.are.equal(tree .. "/lib/lua/5.4/apivideo/core.so", so)
    assert.are.equal(tree .. "/share/lua/5.4/apivideo/init.lua", init)
    assert.are.equal("0.1.0\t3\tpsvi250_000001", rest)
  end)
end)
