-- README.md runs as written: the command lines of its command-line section
-- against the stand-in, and the Lua snippets of its usage sections against
-- a client of the stand-in.
local S = require("spec.support.standin")
local shell = require("spec.support.shell")

local srv = S.shared()
local ROOT = S.root()

local q = shell.quote

local README = assert(shell.read_file(ROOT .. "/README.md"))

-- The fenced blocks of `lang` in the section starting at `heading`.
local function blocks(heading, lang)
  local start = README:find("\n" .. heading .. "\n", 1, true)
  assert(start, "README has no section " .. heading)
  local stop = README:find("\n#+ ", start + #heading + 2) or #README
  local section = README:sub(start, stop)
  local out = {}
  for body in section:gmatch("```" .. lang .. "\n(.-)\n```") do out[#out + 1] = body end
  return out
end

local LUA = arg and arg[-1] or "lua5.4"

local sh = shell.run

describe("README.md #once", function()
  before_each(function() srv:idle_reset() end)

  it("its command lines run as written against the stand-in", function()
    local lines = {}
    for _, b in ipairs(blocks("### The command line: `apivideo-analytics`", "sh")) do
      for line in b:gmatch("[^\n]+") do
        if line:find("^apivideo%-analytics ") then lines[#lines + 1] = line end
      end
    end
    assert.is_true(#lines >= 8, #lines .. " command lines found")
    local dir = shell.tmpdir()
    local bin = q(LUA) .. " " .. q(ROOT .. "/bin/apivideo-analytics")
    for _, line in ipairs(lines) do
      local before = srv:stats().api_requests
      local cmd = "cd " .. q(dir) .. " && env APIVIDEO_API_KEY=standin-key APIVIDEO_BASE_URL=" .. q(srv.url)
        .. " LUA_PATH=" .. q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")
        .. " LUA_CPATH=" .. q(ROOT .. "/build/lua5.4/?.so;;")
        .. " " .. line:gsub("^apivideo%-analytics", bin)
      local out, code = sh(cmd)
      assert.are.equal(0, code, line .. "\n" .. out)
      assert.is_true(#out > 0, line .. " printed nothing")
      assert.is_true(srv:stats().api_requests > before, line .. " sent no request")
    end
    local html = shell.read_file(dir .. "/report.html")
    assert.is_string(html, "the report line wrote no report.html")
    assert.is_truthy(html:find("<svg", 1, true))
    shell.remove_tree(dir)
  end)

  it("its Lua snippets run against a client of the stand-in", function()
    local snippets = {}
    for _, h in ipairs({ "### One call, one request, one page",
        "### Today's Analytics: metrics, breakdowns and time series",
        "### Iterators", "### Several walks at once: `client:run_all`" }) do
      for _, b in ipairs(blocks(h, "lua")) do snippets[#snippets + 1] = { h, b } end
    end
    assert.is_true(#snippets >= 5, #snippets .. " snippets found")
    local apivideo = require("apivideo")
    for _, sn in ipairs(snippets) do
      local client = apivideo.new({ api_key = "standin-key", base_url = srv.url })
      local env = setmetatable({
        apivideo = apivideo, client = client,
        video_id = "vi4k0jvEUuaTdRAEjQ4Prklg", live_stream_id = "li400mYKSgQ6xs7taUeSaEKr",
        session_id = "psEmFwGQUAXR2lFHj5nDOpy",
        print = function() end, io = { stderr = { write = function() end } },
      }, { __index = _G })
      local before = srv:stats().api_requests
      local chunk = assert((loadstring or load)(sn[2], "=README " .. sn[1], "t", env))
      if setfenv then setfenv(chunk, env) end -- luacheck: ignore 113
      local ok, err = pcall(chunk)
      assert.is_true(ok, sn[1] .. ": " .. tostring(err) .. "\n" .. sn[2])
      assert.is_true(srv:stats().api_requests > before, sn[1] .. " sent no request:\n" .. sn[2])
      client:close()
    end
  end)
end)
