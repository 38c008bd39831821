-- The API reference (`make docs`: LDoc over config.ld) as a reader gets it:
-- LDoc is run into a temporary folder and its HTML is read back. It must show
-- the public API only (nothing `_`-prefixed, no maintainer notes), summaries
-- that are whole sentences (one for each module and topic of the index), every
-- method of client.analytics, the command-line and time-zone pages, relative
-- links that all lead somewhere, and code blocks that fit the page.
local S = require("spec.support.standin")
local operations = require("apivideo.operations")
local shell = require("spec.support.shell")

local ROOT = S.root()

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'", nbsp = " ", rsquo = "'", lsquo = "'",
  rdquo = '"', ldquo = '"', hellip = "...", ndash = "-", mdash = "-" }

-- The text of an HTML fragment: tags dropped, character references decoded.
local function text_of(html)
  local s = html:gsub("<[^>]*>", "")
  s = s:gsub("&#(%d+);", function(n)
    n = tonumber(n)
    return n < 128 and string.char(n) or "?"
  end)
  return (s:gsub("&(%a+);", function(name) return ENTITIES[name] or "&" .. name .. ";" end))
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Code points of a UTF-8 string (what a reader sees as its length).
local function width(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- The longest line a code block may have: what the stylesheet (docs/ldoc.css:
-- a content column of up to 1000 px, code at .85em) shows without scrolling.
local MAX_PRE = 110

-- #once: the reference does not depend on the Lua version.
describe("the API reference (LDoc) #once", function()
  local dir, pages, out, code = nil, {}, nil, nil

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    out, code = shell.run("cd " .. shell.quote(ROOT) .. " && ldoc --fatalwarnings -d " .. shell.quote(dir) .. " .")
    for file in assert(io.popen("cd '" .. dir .. "' 2>/dev/null && find . -name '*.html' | sort")):lines() do
      pages[file:gsub("^%./", "")] = shell.read_file(dir .. "/" .. file)
    end
  end)

  teardown(function()
    if dir then shell.remove_tree(dir) end
  end)

  local function page(name)
    local html = pages[name]
    assert.is_string(html, name .. " was not generated; ldoc said:\n" .. tostring(out))
    return html
  end

  local function each_page(fn)
    local names = {}
    for name in pairs(pages) do names[#names + 1] = name end
    table.sort(names)
    assert.is_true(#names > 0, "no page generated; ldoc said:\n" .. tostring(out))
    for _, name in ipairs(names) do fn(name, pages[name]) end
  end

  it("is generated without a warning", function()
    assert.are.equal(0, code, out)
  end)

  it("has a page for each public module, and none for an internal one", function()
    for _, m in ipairs({ "apivideo", "apivideo.client", "apivideo.analytics", "apivideo.errors", "apivideo.store",
      "apivideo.report", "apivideo.chart", "apivideo.chart.plot", "apivideo.chart.term" }) do
      page("modules/" .. m .. ".html")
      assert.is_truthy(page("index.html"):find('href="modules/' .. m:gsub("%.", "%%.") .. '%.html"'),
        "index.html does not link to " .. m)
    end
    for _, m in ipairs({ "auth", "check", "cli", "engine", "hub", "operations", "pager", "ratelimit", "request",
      "retry", "time", "types", "url", "waiter" }) do
      assert.is_nil(pages["modules/apivideo." .. m .. ".html"], "apivideo." .. m .. " is internal")
    end
  end)

  it("documents no `_`-prefixed function, field or metamethod", function()
    each_page(function(name, html)
      -- every documented item has an anchor <a name = "..."> (one per function,
      -- table, field); its last part is what the reader calls (a topic's
      -- anchors are its headings)
      if name:match("^topics/") then return end
      for anchor in html:gmatch('<a name%s*=%s*"([^"]+)"') do
        local last = anchor:match("[%.:]([^%.:]+)$") or anchor
        if last ~= "_VERSION" then -- the conventional version field of a module
          assert.is_nil(last:match("^_"), name .. " documents " .. anchor)
        end
      end
      for cell in html:gmatch('<td class="name"[^>]*>(.-)</td>') do
        local label = text_of(cell)
        assert.is_nil(label:match("[%.:]_[%w_]*%(") or label:match("^_[%w_]*%("), name .. " lists " .. label)
      end
    end)
    local client = page("modules/apivideo.client.html")
    for _, internal in ipairs({ "_check_open", "_run", "_send" }) do
      assert.is_nil(client:find(internal, 1, true), "apivideo.client shows " .. internal)
    end
  end)

  it("has no maintainer notes: no internal module, spec or build file is named in the module pages", function()
    local internal = { "waiter", "engine", "request", "retry", "ratelimit", "auth", "pager", "operations", "check",
      "hub", "url", "time", "types" }
    each_page(function(name, html)
      if name:match("^topics/") then return end
      local text = text_of(html)
      for _, m in ipairs(internal) do
        assert.is_nil(text:find("apivideo%." .. m .. "%f[^%w_]"), name .. " names the internal apivideo." .. m)
      end
      for _, file in ipairs({ "config.ld", "types.lua", "_spec.lua", "spec/" }) do
        assert.is_nil(text:find(file, 1, true), name .. " names " .. file)
      end
    end)
  end)

  it("has summaries that are whole sentences (none cut after 'e.g.', 'i.e.' or inside brackets)", function()
    local n = 0
    each_page(function(name, html)
      for label, cell in html:gmatch('<td class="name"[^>]*>(.-)</td>%s*<td class="summary"[^>]*>(.-)</td>') do
        n = n + 1
        local s = trim(text_of(cell))
        assert.is_nil(s:match("%f[%w]e%.g%.?$") or s:match("%f[%w]i%.e%.?$"), name .. ": summary '" .. s .. "'")
        -- a summary cut at a ". " inside brackets leaves them open
        local bare = s:gsub("%b()", ""):gsub("%b[]", ""):gsub("%b{}", "")
        assert.is_nil(bare:find("[%(%[{]"), name .. ": summary cut inside brackets: '" .. s .. "'")
        assert.is_true(s ~= "", name .. ": " .. text_of(label) .. " has an empty summary")
      end
    end)
    assert.is_true(n > 50, "only " .. n .. " summaries found")
  end)

  it("never says that an option or parameter is both required and optional", function()
    each_page(function(name, html)
      for item in html:gmatch("<li>(.-)</li>") do
        local s = text_of(item)
        assert.is_false(s:find("required", 1, true) ~= nil and s:find("(optional)", 1, true) ~= nil,
          name .. ": " .. trim(s:gsub("%s+", " ")))
      end
    end)
  end)

  it("documents every method of client.analytics (and client.videos, client.live_streams), from the operation table",
    function()
    local html = page("modules/apivideo.analytics.html")
    local count = 0
    for _, op in ipairs(operations.list) do
      for _, m in ipairs({ op.name, op.items, op.pages }) do
        if m then
          count = count + 1
          local anchor = ({ analytics = "Analytics", videos = "Videos", live_streams = "LiveStreams" })[op.api]
            .. ":" .. m
          local at = html:find('<a name%s*=%s*"' .. anchor .. '"')
          assert.is_number(at, anchor .. " is not documented")
          local entry = html:match("<dd>(.-)</dd>", at)
          assert.is_truthy(entry and trim(text_of(entry)) ~= "", anchor .. " has no description")
          assert.is_truthy(html:find('href="#' .. anchor .. '"', 1, true), anchor .. " is not in the summary table")
        end
      end
    end
    assert.is_true(count >= 16, count .. " methods")
  end)

  it("has the command-line and time-zone pages, linked from the index and from apivideo's page", function()
    local cli = page("topics/cli.md.html")
    assert.is_truthy(cli:find("apivideo-analytics", 1, true))
    local time = page("topics/time.md.html")
    local text = text_of(time)
    for _, want in ipairs({ "period", "UTC", "ATOM", "parse_time", "2023-01" }) do
      assert.is_truthy(text:find(want, 1, true), "the time page does not mention " .. want)
    end
    for _, from in ipairs({ "index.html" }) do
      assert.is_truthy(page(from):find('href="topics/cli%.md%.html"'), from .. " does not link the CLI page")
      assert.is_truthy(page(from):find('href="topics/time%.md%.html"'), from .. " does not link the time page")
    end
    local overview = page("modules/apivideo.html")
    assert.is_truthy(overview:find('href="../topics/time.md.html"', 1, true), "apivideo's page does not link time")
    assert.is_truthy(overview:find('href="../topics/cli.md.html"', 1, true), "apivideo's page does not link cli")
  end)

  it("gives every module and topic of its index a one-line summary: a topic's is its first heading", function()
    local rows = {}
    for href, cell in page("index.html"):gmatch('<td class="name"[^>]*><a href="([^"]+)">.-</td>%s*'
      .. '<td class="summary"[^>]*>(.-)</td>') do
      rows[href] = trim(text_of(cell):gsub("%s+", " ")) -- one line as a browser shows it
    end
    local n = 0
    for name in pairs(pages) do
      if name:match("^modules/") or name:match("^topics/") then
        n = n + 1
        assert.is_string(rows[name], "index.html has no row for " .. name)
        assert.are_not.equal("", rows[name], "index.html: " .. name .. " has an empty summary")
      end
    end
    assert.is_true(n >= 17, n .. " modules and topics")
    for _, topic in ipairs({ "cli.md", "time.md" }) do
      local heading = shell.read_file(ROOT .. "/docs/" .. topic):match("^#%s*([^\n]+)")
      assert.are.equal(heading, rows["topics/" .. topic .. ".html"])
    end
  end)

  -- Where a relative link of a generated page leads: the page's name ("topics/cli.md.html") and the
  -- anchor, or nil for a link out of the reference (a scheme, or a leading slash).
  local function target(from, href)
    if href:match("^%a[%w+.-]*:") or href:match("^/") then return nil end
    local file, anchor = href:match("^([^#]*)#?(.*)$")
    if file == "" then return from, anchor end
    local parts = {}
    for part in (from:gsub("[^/]*$", "") .. file):gmatch("[^/]+") do
      if part == ".." then
        parts[#parts] = nil
      elseif part ~= "." then
        parts[#parts + 1] = part
      end
    end
    return table.concat(parts, "/"), anchor
  end

  it("has no broken relative link: each leads to a generated page, and to an anchor there", function()
    local n = 0
    each_page(function(name, html)
      for href in html:gmatch('<a[^>]-href="([^"]*)"') do
        local file, anchor = target(name, href)
        if file then
          n = n + 1
          assert.is_string(pages[file], name .. " links " .. href .. ": no page " .. file)
          if anchor ~= "" then
            assert.is_truthy(pages[file]:find('name%s*=%s*"' .. anchor:gsub("%p", "%%%0") .. '"'),
              name .. " links " .. href .. ": no anchor " .. anchor .. " in " .. file)
          end
        end
      end
    end)
    assert.is_true(n > 100, "only " .. n .. " relative links found")
  end)

  it("links the topics to each other as their markdown files do (docs/time.md's cli.md#time-zones)", function()
    assert.is_truthy(page("topics/time.md.html"):find('href="cli.md.html#Time_zones"', 1, true))
    assert.is_truthy(page("topics/cli.md.html"):find('href="time.md.html"', 1, true))
  end)

  -- The code lines over MAX_PRE of one page, as messages.
  local function long_lines(name, html)
    local found = {}
    for pre in html:gmatch("<pre[^>]*>(.-)</pre>") do
      for line in (text_of(pre) .. "\n"):gmatch("([^\n]*)\n") do
        if width(line) > MAX_PRE then
          found[#found + 1] = name .. ": a code line of " .. width(line) .. " characters: " .. line
        end
      end
    end
    return found
  end

  it("has no code line longer than " .. MAX_PRE .. " characters", function()
    local blocks = 0
    each_page(function(name, html)
      local _, n = html:gsub("<pre[^>]*>", "")
      blocks = blocks + n
      if name ~= "topics/cli.md.html" then
        assert.are.same({}, long_lines(name, html))
      end
    end)
    assert.is_true(blocks > 10, "only " .. blocks .. " code blocks found")
  end)

  it("has no code line longer than " .. MAX_PRE .. " characters on the command-line page", function()
    local found = long_lines("topics/cli.md.html", page("topics/cli.md.html"))
    assert.are.same({}, found)
  end)

  it("uses the project's stylesheet, whose content column fits such lines", function()
    local css = assert(shell.read_file(dir .. "/ldoc.css"))
    local content = css:match("#content%s*{(.-)}")
    assert.is_string(content)
    local px = tonumber(content:match("max%-width:%s*(%d+)px") or content:match("[^-]width:%s*(%d+)px"))
    assert.is_true(px ~= nil and px >= 1000, "the content column is " .. tostring(px) .. " px")
  end)
end)

-- The rockspecs: the released one is the development one at a tag, both pass
-- `luarocks lint`, the description names both generations of the API, and
-- CHANGELOG.md has a section for each release.
describe("rockspecs and CHANGELOG.md #once", function()
  local function load_spec(name)
    local env = {}
    local text = assert(shell.read_file(ROOT .. "/rockspec/" .. name), name)
    local chunk = assert((loadstring or load)(text, "=" .. name, "t", env)) -- luacheck: ignore 113
    if setfenv then setfenv(chunk, env) end -- luacheck: ignore 113
    chunk()
    return env
  end

  it("the 0.1.0 rockspec is the scm one at tag v0.1.0, the client's own version; both lint", function()
    local scm, rel = load_spec("lua-apivideo-scm-1.rockspec"), load_spec("lua-apivideo-0.1.0-1.rockspec")
    assert.are.equal("0.1.0-1", rel.version)
    assert.are.equal(require("apivideo")._VERSION .. "-1", rel.version)
    assert.are.same({ url = scm.source.url, tag = "v0.1.0" }, rel.source)
    for _, k in ipairs({ "package", "description", "dependencies", "external_dependencies", "build" }) do
      assert.are.same(scm[k], rel[k], k)
    end
    for _, name in ipairs({ "lua-apivideo-scm-1.rockspec", "lua-apivideo-0.1.0-1.rockspec" }) do
      local out, code = shell.run("cd " .. shell.quote(ROOT) .. " && luarocks lint rockspec/" .. name)
      assert.are.equal(0, code, name .. ": " .. out)
    end
  end)

  it("the description names both generations of the API", function()
    local d = load_spec("lua-apivideo-scm-1.rockspec").description.detailed:gsub("%s+", " ")
    for _, w in ipairs({ "/data", "aggregated metrics", "breakdowns", "time series", "player sessions",
      "events of a session" }) do
      assert.is_truthy(d:find(w, 1, true), w .. " not in: " .. d)
    end
  end)

  it("CHANGELOG.md has a section for each released rockspec", function()
    local log = assert(shell.read_file(ROOT .. "/CHANGELOG.md"), "no CHANGELOG.md")
    local p = io.popen("cd " .. shell.quote(ROOT .. "/rockspec") .. " && ls")
    local n = 0
    for f in p:lines() do
      local v = f:match("^lua%-apivideo%-(%d[%d.]*)%-%d+%.rockspec$")
      if v then
        n = n + 1
        assert.is_truthy(log:find("\n## " .. v:gsub("%.", "%%.") .. "\n"), "CHANGELOG.md has no section ## " .. v)
      end
    end
    p:close()
    assert.is_true(n >= 1)
  end)
end)

-- docs/cli.md's quoted refusals are the CLI's own, line by line, and the
-- report's header line it names is the report's.
describe("docs/cli.md #once", function()
  local CLI_MD = assert(shell.read_file(ROOT .. "/docs/cli.md"))
  local BIN = "env LUA_PATH=" .. shell.quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")
    .. " LUA_CPATH=" .. shell.quote(ROOT .. "/build/lua5.4/?.so;;")
    .. " APIVIDEO_API_KEY=docs-key APIVIDEO_BASE_URL=http://127.0.0.1:9 lua5.4 "
    .. shell.quote(ROOT .. "/bin/apivideo-analytics")

  -- the command lines whose refusals the block after "flag (" quotes, in its order
  local REFUSED = {
    "metrics --metric play --aggregation peak --from 2023-12-25",
    "metrics --metric play --aggregation count --unique --from 2023-12-25",
    "buckets --metric play --breakdown country --unique --from 2023-12-25",
    "timeseries --metric play --interval minute --from 2023-12-01 --to 2023-12-16",
    "metrics --metric play --aggregation count --filter country=fr --from 2023-12-25",
    "metrics --metric play --aggregation total --filter country=FR",
    "metrics --metric play --aggregation count --from 2023-12-20 --to 2023-12-10",
    "metrics --metric play --aggregation count --from 2023-12-32",
  }

  -- Its fenced shell blocks, in order: arrays of lines.
  local function sh_blocks()
    local out, cur = {}, nil
    for line in (CLI_MD .. "\n"):gmatch("(.-)\n") do
      if cur then
        if line == "```" then
          out[#out + 1] = cur
          cur = nil
        else
          cur[#cur + 1] = line
        end
      elseif line == "```sh" then
        cur = {}
      end
    end
    return out
  end

  it("its command lines run as written against the stand-in: the stand-in session from the checkout's root, "
    .. "the others with the installed command's name", function()
    local blocks = sh_blocks()
    assert.are.equal(3, #blocks)
    -- the session with a stand-in of its own, as written, from the checkout's root
    local out, code = shell.run("cd " .. shell.quote(ROOT) .. " && env -u APIVIDEO_API_KEY -u APIVIDEO_BASE_URL"
      .. " LUA_PATH=" .. shell.quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")
      .. " LUA_CPATH=" .. shell.quote(ROOT .. "/build/lua5.4/?.so;;") .. " sh -c "
      .. shell.quote("set -e\n" .. table.concat(blocks[2], "\n")))
    assert.are.equal(0, code, out)
    assert.is_truthy(out:find("ps", 1, true), out)
    -- the others: `apivideo-analytics` on PATH, the key and the base URL of the suite's stand-in
    local srv = S.shared()
    local dir = shell.tmpdir()
    local env = "env PATH=" .. shell.quote(ROOT .. "/bin:" .. os.getenv("PATH"))
      .. " LUA_PATH=" .. shell.quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")
      .. " LUA_CPATH_5_4=" .. shell.quote(ROOT .. "/build/lua5.4/?.so;;")
      .. " APIVIDEO_API_KEY=standin-key APIVIDEO_BASE_URL=" .. shell.quote(srv.url)
    local n = 0
    for _, i in ipairs({ 1, 3 }) do
      for _, line in ipairs(blocks[i]) do
        if line:find("^apivideo%-analytics ") then
          n = n + 1
          local o, c = shell.run("cd " .. shell.quote(dir) .. " && " .. env .. " sh -c " .. shell.quote(line))
          assert.are.equal(0, c, line .. "\n" .. o)
          assert.is_true(#o > 0 or line:find(" > ", 1, true) ~= nil, line .. " printed nothing")
        end
      end
    end
    assert.is_true(n >= 8, n .. " command lines")
    for _, f in ipairs({ "report.html", "jan.json", "jan.html" }) do
      assert.is_true(shell.exists(dir .. "/" .. f), f .. " was not written")
    end
    shell.remove_tree(dir)
  end)

  it("quotes the refusals of the /data commands as the CLI prints them", function()
    local block = CLI_MD:match("what it refuses is a usage error naming the\nflag.-\n```\n(.-)\n```")
    assert.is_string(block, "docs/cli.md's block of refusals")
    local quoted = {}
    for line in block:gsub("\n  ", " "):gmatch("[^\n]+") do quoted[#quoted + 1] = line end
    assert.are.equal(#REFUSED, #quoted)
    for i, args in ipairs(REFUSED) do
      local out, code = shell.run(BIN .. " " .. args)
      assert.are.equal(2, code, args .. "\n" .. out)
      assert.are.equal(quoted[i], out:match("^[^\n]+"), args)
    end
  end)

  it("names the window report's header line as the report writes it", function()
    local name = CLI_MD:match("the window, plays %(its `(%w+)` line%)")
    assert.is_string(name, "docs/cli.md's report table names no header line of plays")
    local srv = S.shared()
    local dir = shell.tmpdir()
    local out, code = shell.run("cd " .. shell.quote(dir) .. " && " .. BIN:gsub("APIVIDEO_API_KEY=docs%-key "
      .. "APIVIDEO_BASE_URL=http://127.0.0.1:9", "APIVIDEO_API_KEY=standin-key APIVIDEO_BASE_URL=" .. srv.url)
      .. " report --from 2023-12-25 --to 2024-01-01 --out r.html")
    local html = shell.read_file(dir .. "/r.html") or ""
    shell.remove_tree(dir)
    assert.are.equal(0, code, out)
    assert.is_truthy(html:find("<dt>" .. name .. "</dt>", 1, true), "the report has no " .. name .. " line")
  end)
end)

-- The markdown files as GitHub shows them: every relative link of docs/*.md
-- (and README.md) names a file of the checkout, and an anchor in it names one
-- of its headings, as GitHub makes them (config.ld turns the links between
-- topics into links between their pages, checked above).
describe("the links of docs/*.md and README.md #once", function()
  -- GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen.
  local function anchor_of(title)
    return (title:gsub("%s+$", ""):lower():gsub("[^%w%s_-]", ""):gsub("%s", "-"))
  end

  -- The text of a markdown file without its code (fenced blocks, `spans`), where `[x](y)` is no link.
  local function prose(md)
    return (("\n" .. md):gsub("\n```.-\n```", "\n"):gsub("``.-``", ""):gsub("`[^`\n]*`", ""))
  end

  local files = {}
  local p = assert(io.popen("cd " .. shell.quote(ROOT) .. " && ls docs/*.md README.md"))
  for f in p:lines() do files[#files + 1] = f end
  p:close()

  it("each relative link names a file of the checkout, and a heading of it", function()
    assert.is_true(#files >= 4, table.concat(files, " "))
    local n = 0
    for _, file in ipairs(files) do
      local md = assert(shell.read_file(ROOT .. "/" .. file))
      for href in prose(md):gmatch("%]%(([^)%s]+)[^)]*%)") do
        if not href:match("^%a[%w+.-]*:") then
          n = n + 1
          local path, anchor = href:match("^([^#]*)#?(.*)$")
          assert.is_nil(path:match("^/"), file .. " links " .. href .. ": an absolute path")
          local to = path == "" and file or (file:gsub("[^/]*$", "") .. path)
          local text = shell.read_file(ROOT .. "/" .. to)
          assert.is_string(text, file .. " links " .. href .. ": no file " .. to)
          if anchor ~= "" then
            local found = false
            for title in prose(text):gmatch("\n#+%s+([^\n]+)") do
              found = found or anchor_of(title) == anchor
            end
            assert.is_true(found, file .. " links " .. href .. ": " .. to .. " has no heading #" .. anchor)
          end
        end
      end
    end
    assert.is_true(n >= 3, "only " .. n .. " relative links found")
  end)
end)
