-- README.md runs as written: every fenced block is run here, or named with
-- the spec that runs it. The shell lines of the command-line section run after
-- its setup block (itself run as written), the Lua snippets against a client
-- of the stand-in, and what a snippet shows after `-- prints:` is what it
-- prints; the refusals quoted in the text are what the library raises.
local S = require("spec.support.standin")
local shell = require("spec.support.shell")

local srv = S.shared()
local ROOT = S.root()

local q = shell.quote

local README = assert(shell.read_file(ROOT .. "/README.md"))

-- Every fenced block: { heading =, n = (its rank under that heading), lang =, body =, line = }.
local function all_blocks()
  local out, heading, rank = {}, "(top)", {}
  local lang, body, start
  local ln = 0
  for line in (README .. "\n"):gmatch("(.-)\n") do
    ln = ln + 1
    if lang then
      if line == "```" then
        rank[heading] = (rank[heading] or 0) + 1
        out[#out + 1] = { heading = heading, n = rank[heading], lang = lang, body = table.concat(body, "\n"),
          line = start }
        lang = nil
      else
        body[#body + 1] = line
      end
    elseif line:find("^```") then
      lang, body, start = line:match("^```(.*)$"), {}, ln
    elseif line:find("^#+ ") then
      heading = line
    end
  end
  return out
end

-- What a snippet says it prints: the comment lines after `-- prints:`, spaces folded.
local function shown_output(body)
  local at = body:find("\n%-%- prints:\n")
  if not at then return nil end
  local lines = {}
  for l in body:sub(at + 1):gmatch("([^\n]*)\n?") do
    if l ~= "-- prints:" then
      if not l:find("^%-%- ") then break end
      lines[#lines + 1] = (l:gsub("^%-%- ", ""):gsub("%s+", " "))
    end
  end
  return lines
end

local unpack = table.unpack or unpack -- luacheck: ignore 113

local CLI = "### The command line: `apivideo-analytics`"
local ARCHIVE = "### The archive: what api.video forgets after 30 days"

-- Runs a Lua snippet in an environment of stand-in values; returns its printed lines.
local function run_lua(b, extra)
  local apivideo = require("apivideo")
  local client = apivideo.new({ api_key = "standin-key", base_url = srv.url })
  local printed = {}
  local made = {}
  local proxy = setmetatable({ new = function(o)
    local c = apivideo.new(o)
    made[#made + 1] = c
    return c
  end }, { __index = apivideo })
  local env = setmetatable({
    apivideo = proxy, client = client,
    require = function(name) return name == "apivideo" and proxy or require(name) end,
    video_id = "vi4k0jvEUuaTdRAEjQ4Prklg", live_stream_id = "li400mYKSgQ6xs7taUeSaEKr",
    session_id = "psEmFwGQUAXR2lFHj5nDOpy",
    os = setmetatable({ getenv = function(k) return k == "APIVIDEO_API_KEY" and "standin-key" or nil end },
      { __index = os }),
    print = function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      printed[#printed + 1] = (table.concat(parts, "\t"):gsub("%s+", " "))
    end,
    io = { stderr = { write = function() end } },
  }, { __index = _G })
  for k, v in pairs(extra or {}) do env[k] = v end
  local name = "=README:" .. b.line
  local chunk = assert((loadstring or load)(b.body, name, "t", env)) -- luacheck: ignore 113
  if setfenv then setfenv(chunk, env) end -- luacheck: ignore 113
  local ok, err = pcall(chunk)
  client:close()
  for _, c in ipairs(made) do c:close() end
  assert.is_true(ok, b.heading .. ": " .. tostring(err) .. "\n" .. b.body)
  return printed, made
end

-- How each block is checked, by heading and rank: a function(b), or the name of
-- the spec that runs it there.
local CASES = {
  ["## Quick start (Debian 12)"] = { "spec/demo_spec.lua" },  -- make demo; make test is the suite itself
  ["## Use"] = {
    function(b) -- every option shown is one apivideo.new accepts (it raises on an unknown or wrong one)
      local before = srv:stats().api_requests
      local _, made = run_lua(b)
      assert.are.equal(1, #made)
      assert.are.equal(before, srv:stats().api_requests)
    end,
  },
  ["### One call, one request, one page"] = { "sends" },
  ["### Today's Analytics: metrics, breakdowns and time series"] = {
    "sends",
    function(b) -- the refusals quoted are the library's own
      local text = b.body:gsub("\n  ", " ")
      local c = require("apivideo").new({ api_key = "standin-key", base_url = srv.url })
      local a = c.analytics
      local calls = {
        get_aggregated_metrics = function() return a:get_aggregated_metrics("play", "sum") end,
        get_metrics_breakdown = function() return a:get_metrics_breakdown("play-total", "country") end,
        get_metrics_over_time = function()
          return a:get_metrics_over_time("play", { interval = "minute", from = "2023-12-31T00:00:00Z",
            to = "2023-12-31T02:00:00Z" })
        end,
      }
      local n = 0
      for line in text:gmatch("[^\n]+") do
        local fn = assert(line:match("^analytics:([%w_]+): "), line)
        local ok, err = pcall(calls[fn])
        assert.is_false(ok, line)
        local want = line:gsub("%.%.%.%)$", "")
        assert.is_truthy(tostring(err):find(want, 1, true), "README: " .. line .. "\nlibrary: " .. tostring(err))
        n = n + 1
      end
      c:close()
      assert.are.equal(3, n)
    end,
  },
  ["### Iterators"] = { "sends", "sends" },
  ["### Several walks at once: `client:run_all`"] = { "sends" },
  ["### Event loops, OpenResty and game loops"] = { "spec/nginx_example_spec.lua", "spec/nginx_example_spec.lua" },
  ["### A fleet: one cache, one rate-limit budget, Prometheus"] = {
    function(b) -- its options, with stores in place of nginx's dicts, are accepted
      local apivideo = require("apivideo")
      local fake_ngx = { shared = { apivideo = apivideo.memory_store(), apivideo_metrics = apivideo.memory_store() } }
      local _, made = run_lua(b, { ngx = fake_ngx })
      assert.are.equal(1, #made)
    end,
  },
  [CLI] = { "cli", "cli setup" },
  [ARCHIVE] = { "spec/archive_spec.lua", "archive cli", "spec/archive_spec.lua" },
}

describe("README.md #once", function()
  local blocks = all_blocks()
  before_each(function() srv:idle_reset() end)

  it("has no block that this spec does not run or name", function()
    assert.is_true(#blocks >= 13, #blocks .. " blocks")
    for _, b in ipairs(blocks) do
      local case = CASES[b.heading] and CASES[b.heading][b.n]
      assert.is_truthy(case, "README.md:" .. b.line .. " (" .. b.heading .. ", block " .. b.n .. ") is not checked")
      if type(case) == "string" and case:find("^spec/") then
        local text = assert(shell.read_file(ROOT .. "/" .. case), case)
        local marker = b.lang == "nginx" and "```nginx" or b.body:match("^(%S+ %S+)")
        assert.is_truthy(text:find(marker, 1, true), case .. " does not run README.md:" .. b.line)
      end
    end
  end)

  it("its Lua snippets run against the stand-in and print what they show", function()
    local n = 0
    for _, b in ipairs(blocks) do
      local case = CASES[b.heading] and CASES[b.heading][b.n]
      if type(case) == "function" then
        case(b)
        n = n + 1
      elseif case == "sends" then
        local before = srv:stats().api_requests
        local printed = run_lua(b)
        assert.is_true(srv:stats().api_requests > before, b.heading .. " sent no request:\n" .. b.body)
        local shown = shown_output(b.body)
        if shown then -- what it prints first
          assert.are.same(shown, { unpack(printed, 1, #shown) },
            "README.md:" .. b.line .. " shows another output than it prints")
        end
        n = n + 1
      end
    end
    assert.are.equal(8, n)
  end)

  it("shows what the run_all and metrics snippets print: a failure as a failure, a figure that is not 0", function()
    local shown = {}
    for _, b in ipairs(blocks) do shown[b.heading] = shown[b.heading] or shown_output(b.body) end
    local walks = assert(shown["### Several walks at once: `client:run_all`"])
    assert.are.same({ "vi250 250 sessions", "viEmpty 0 sessions" }, { walks[1], walks[2] })
    assert.matches("^viGone failed: apivideo: HTTP 404 ", walks[3])
    local figure = assert(shown["### Today's Analytics: metrics, breakdowns and time series"])
    assert.is_truthy(tonumber(figure[1]:match("^(%d+) plays of videos in FR or DE on firefox")) > 0, figure[1])
  end)

  it("the options it says every command takes (all but one) are those of each command's --help", function()
    local start = README:find("\n" .. CLI .. "\n", 1, true)
    local section = README:sub(start, README:find("\n#+ ", start + 2) or #README):gsub("%s+", " ")
    local every, rest = section:match("Every command takes (.-); (all but .-); each has its own `%-%-help`")
    assert.is_string(every, "README's sentence on the options every command takes")
    local env = "env LUA_PATH=" .. q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")
      .. " LUA_CPATH=" .. q(ROOT .. "/build/lua5.4/?.so;;") .. " lua5.4 " .. q(ROOT .. "/bin/apivideo-analytics")
    local function options_of(cmd)
      local out, code = shell.run(env .. " " .. cmd .. " --help")
      assert.are.equal(0, code, out)
      local set = {}
      for o in (out:match("\nOptions:\n(.*)$") or ""):gmatch("\n?  (%-%-[%w-]+)") do set[o] = true end
      return set
    end
    local commands = {}
    for c in (shell.run(env .. " --help")):match("\nCommands:\n(.-)\n\n"):gmatch("\n?  ([%w-]+) ") do
      commands[#commands + 1] = c
    end
    assert.is_true(#commands >= 8, table.concat(commands, " "))
    local all = {}
    for o in every:gmatch("`(%-%-[%w-]+)") do all[#all + 1] = o end
    assert.is_true(#all >= 9, every)
    local but = {}
    for cmds, o in rest:gmatch("all but (.-) take `(%-%-[%w-]+)") do
      for cmd in cmds:gmatch("`([%w-]+)`") do but[#but + 1] = { cmd, o } end
    end
    assert.are.equal(4, #but, rest)
    for _, cmd in ipairs(commands) do
      local has = options_of(cmd)
      for _, o in ipairs(all) do assert.is_true(has[o], cmd .. " has no " .. o) end
      local lacks = {}
      for _, b in ipairs(but) do
        if b[1] == cmd then lacks[b[2]] = true end
      end
      for _, b in ipairs(but) do
        assert.are.equal(not lacks[b[2]], has[b[2]] == true, cmd .. " " .. b[2])
      end
    end
    -- and the exceptions refuse them
    local base = { report = "--video vi1 --period 2023 --out x.html", metrics = "--metric play --aggregation count",
      archive = "--db x.db" }
    for _, b in ipairs(but) do
      local out, code = shell.run(env .. " " .. b[1] .. " " .. assert(base[b[1]], b[1]) .. " " .. b[2] .. " 1")
      assert.are.equal(2, code, out)
      assert.matches(b[2], out, 1, true)
    end
  end)

  it("its command lines run as written, after its setup block, against the stand-in that block starts", function()
    local lines, archive_lines, setup = {}, {}, nil
    for _, b in ipairs(blocks) do
      if b.heading == CLI and CASES[CLI][b.n] == "cli" then
        for line in b.body:gmatch("[^\n]+") do
          if line:find("^apivideo%-analytics ") then lines[#lines + 1] = line end
        end
      elseif b.heading == CLI and CASES[CLI][b.n] == "cli setup" then
        setup = b.body
      elseif b.heading == ARCHIVE and CASES[ARCHIVE][b.n] == "archive cli" then
        for line in b.body:gmatch("[^\n]+") do
          if line:find("^apivideo%-analytics ") then archive_lines[#archive_lines + 1] = line end
        end
      end
    end
    assert.is_true(#archive_lines >= 5, #archive_lines .. " archive command lines found")
    assert.is_true(#lines >= 8, #lines .. " command lines found")
    assert.is_string(setup)
    -- the setup, as written, from the checkout's root; then the environment it made
    local out, code = shell.run("cd " .. q(ROOT) .. " && env -u APIVIDEO_API_KEY -u APIVIDEO_BASE_URL -u LUA_PATH"
      .. " -u LUA_CPATH sh -c " .. q("set -e\n" .. setup .. "\nprintf '\\nENV\\n'; env"))
    assert.are.equal(0, code, out)
    local env = {}
    for k, v in (out:match("\nENV\n(.*)$") or ""):gmatch("([%w_]+)=([^\n]*)") do env[k] = v end
    local own = assert(env.APIVIDEO_STANDIN_URL and env.APIVIDEO_STANDIN_PREFIX and S.attach(env.APIVIDEO_STANDIN_URL),
      "the setup started no stand-in:\n" .. out)
    local ok, err = pcall(function()
      assert.are.equal(env.APIVIDEO_STANDIN_URL, env.APIVIDEO_BASE_URL)
      local dir = shell.tmpdir()
      local vars = {}
      local names = { "PATH", "LUA_PATH", "LUA_CPATH", "LUA_CPATH_5_4", "APIVIDEO_API_KEY", "APIVIDEO_BASE_URL" }
      for _, k in ipairs(names) do
        assert.is_string(env[k], k .. " not set by the setup")
        vars[#vars + 1] = k .. "=" .. q(env[k])
      end
      for _, line in ipairs(lines) do
        local before = own:stats().api_requests
        local o, c = shell.run("cd " .. q(dir) .. " && env " .. table.concat(vars, " ") .. " sh -c " .. q(line))
        assert.are.equal(0, c, line .. "\n" .. o)
        assert.is_true(#o > 0, line .. " printed nothing")
        assert.is_true(own:stats().api_requests > before, line .. " sent no request")
      end
      local html = shell.read_file(dir .. "/report.html")
      assert.is_string(html, "the report line wrote no report.html")
      assert.is_truthy(html:find("<svg", 1, true))
      -- the archive's lines, in the same place: the first archives, the others read what it wrote
      for _, line in ipairs(archive_lines) do
        local o, c = shell.run("cd " .. q(dir) .. " && env " .. table.concat(vars, " ") .. " sh -c " .. q(line))
        assert.are.equal(0, c, line .. "\n" .. o)
        assert.is_true(#o > 0, line .. " printed nothing")
      end
      assert.is_true(shell.exists(dir .. "/analytics.db"), "no archive written")
      local year = shell.read_file(dir .. "/year.html")
      assert.is_string(year, "the archive's report line wrote no year.html")
      assert.is_truthy(year:find("(from the archive)", 1, true))
      shell.remove_tree(dir)
    end)
    shell.run(q(ROOT .. "/standin/stop") .. " " .. q(env.APIVIDEO_STANDIN_PREFIX))
    assert(ok, err)
  end)
end)
