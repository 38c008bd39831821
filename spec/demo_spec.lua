-- `make demo` (scripts/demo.sh) stops the stand-in it started, whatever ends
-- it: its own end, or a reader that goes away (`make demo | head`).
local shell = require("spec.support.shell")
local S = require("spec.support.standin")

local ROOT = S.root()
local q = shell.quote

-- The stand-ins a demo run under TMPDIR=dir left behind (their prefixes).
local function left_in(dir)
  local out = shell.run("ls -d " .. q(dir) .. "/apivideo-standin.* 2>/dev/null")
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

describe("make demo #once", function()
  local dir
  before_each(function() dir = shell.tmpdir() end)
  after_each(function()
    for _, p in ipairs(left_in(dir)) do shell.run(q(ROOT .. "/standin/stop") .. " " .. q(p)) end
    shell.remove_tree(dir)
  end)

  it("runs to its end and stops the stand-in", function()
    local out, code = shell.run("cd " .. q(ROOT) .. " && TMPDIR=" .. q(dir) .. " sh scripts/demo.sh")
    assert.are.equal(0, code, out)
    assert.truthy(out:find("Sessions of vi250 in 2023-01", 1, true), out)
    assert.truthy(out:find("(open it in a browser", 1, true), out)
    assert.are.same({}, left_in(dir))
  end)

  -- each cut ends a different writer: the Lua client, an echo of the shell, the CLI
  for _, lines in ipairs({ 1, 20, 40, 60 }) do
    it("stops the stand-in when its reader goes away after " .. lines .. " lines", function()
      -- (busted's luasocket ignores SIGPIPE, and children inherit that: a
      -- user's shell does not, so the demo runs with the default again)
      local _, code = shell.run("cd " .. q(ROOT) .. " && (TMPDIR=" .. q(dir)
        .. " env --default-signal=PIPE sh scripts/demo.sh 2>/dev/null"
        .. " | head -n " .. lines .. " >/dev/null)")
      assert.are.equal(0, code)
      assert.are.same({}, left_in(dir))
    end)
  end
end)
