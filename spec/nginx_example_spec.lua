-- examples/nginx/ runs as its header says: the commands of nginx.conf's
-- comment start a stand-in and Debian's nginx (2 workers); its locations
-- answer what the library answers for the same request, errors have their
-- statuses and never a key. The example listens on 127.0.0.1:8080, which a busy
-- machine may be using: the commands run as written but for a port free at run
-- time, in a copy of examples/nginx/ (in a temporary prefix) whose `listen` line
-- alone names it, and the prefix and file of that copy. And README's two
-- blocks, pasted into a copy of Debian's stock /etc/nginx/nginx.conf, pass
-- `nginx -t`, and their package paths let LuaJIT load the library (nginx -t
-- does not run init_by_lua). Whatever happens, the header's stop lines run at the end, and an
-- nginx that survives them is killed by its pid.
-- #once: nginx runs LuaJIT whatever Lua runs busted.
-- Needs Debian's nginx, libnginx-mod-http-lua, lua-resty-core, lua-cjson,
-- libluajit2-5.1-dev (make LUA_VERSION=jit), curl, promtool (prometheus).
local S = require("spec.support.standin")
local cjson = require("cjson")
local shell = require("spec.support.shell")
local socket = require("socket")

local ROOT = S.root()
local q = shell.quote
local EXAMPLE = ROOT .. "/examples/nginx"
local CONF = EXAMPLE .. "/nginx.conf"

-- The header's command lines ("#   cmd"), split at the first curl line:
-- those that start everything, the curl lines, those that stop everything.
local function header()
  local text = assert(shell.read_file(CONF), CONF)
  local start, try, stop = {}, {}, {}
  for line in text:gmatch("[^\n]+") do
    if not line:find("^#") then break end
    local cmd = line:match("^#   (%S.*)$")
    if cmd then
      if cmd:find("^curl ") then
        try[#try + 1] = cmd
      elseif #try == 0 then
        start[#start + 1] = cmd
      else
        stop[#stop + 1] = cmd
      end
    end
  end
  return start, try, stop
end

-- A copy of examples/nginx/ in dir that listens on port: apivideo.conf's `listen` line is the only change.
local function render(dir, port)
  local listens = 0
  for name in assert(io.popen("ls " .. q(EXAMPLE))):lines() do
    local text = assert(shell.read_file(EXAMPLE .. "/" .. name), name)
    local n
    text, n = text:gsub("\n(%s*listen%s+127%.0%.0%.1:)8080;", function(listen)
      return "\n" .. listen .. port .. ";"
    end)
    listens = listens + n
    local f = assert(io.open(dir .. "/" .. name, "w"))
    f:write(text)
    f:close()
  end
  assert(listens == 1, "examples/nginx/ has " .. listens .. " lines `listen 127.0.0.1:8080;`, not one")
end

-- A line of the header as it runs on the copy: its prefix for /tmp/apivideo-nginx, its nginx.conf for
-- the example's, its port for 8080. Nothing of the example's may be left.
local function on_copy(line, prefix, port)
  local s = line:gsub("/tmp/apivideo%-nginx", function() return prefix end)
    :gsub('"%$PWD/examples/nginx/nginx%.conf"', function() return q(prefix .. "/nginx.conf") end)
    :gsub("127%.0%.0%.1:8080", function() return "127.0.0.1:" .. port end)
  assert(not s:find("apivideo-nginx", 1, true) and not s:find("examples/nginx", 1, true)
    and not s:find(":8080", 1, true), "a header line the copy cannot run: " .. line)
  return s
end

local function alive(pid)
  local _, code = shell.run("kill -0 " .. pid)
  return code == 0
end

-- One line run in the checkout's root with the stand-in's variables.
local function env_run(env, line)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = "export " .. k .. "=" .. q(v) .. ";" end
  return shell.run("cd " .. q(ROOT) .. " && " .. table.concat(vars, " ") .. " timeout 60 sh -c " .. q(line))
end

local function no_secret(body)
  assert.is_nil(body:find("standin-key", 1, true), "the key is in an answer:\n" .. body)
  assert.is_nil(body:find("st[ar]_%x%x%x%x%x%x%x%x"), "a token is in an answer:\n" .. body)
end

describe("examples/nginx #once", function()
  local start, try, stop = header()
  local env, started, start_out = nil, false, nil
  local srv, prefix, port, pid, BASE
  local ran = false -- the start lines ran on the copy: the stop lines are for what they started

  setup(function()
    port, prefix = shell.free_port(), shell.tmpdir()
    BASE = "http://127.0.0.1:" .. port
    render(prefix, port)
    for _, lines in ipairs({ start, try, stop }) do
      for i, line in ipairs(lines) do lines[i] = on_copy(line, prefix, port) end
    end
    -- the header's lines on the copy; the trap tells what they started, even when one fails
    local script = "trap 'printf \"\\nENV %s %s %s\\n\" \"$APIVIDEO_STANDIN_URL\" \"$APIVIDEO_STANDIN_PREFIX\""
      .. " \"$APIVIDEO_BASE_URL\"' EXIT\nset -e\n" .. table.concat(start, "\n")
    ran = true
    local out, code = shell.run("cd " .. q(ROOT) .. " && env -u APIVIDEO_API_KEY -u APIVIDEO_BASE_URL"
      .. " -u APIVIDEO_STANDIN_URL -u APIVIDEO_STANDIN_PREFIX sh -c " .. q(script))
    start_out = out .. "\n" .. prefix .. "/error.log:\n" .. tostring(shell.read_file(prefix .. "/error.log"))
    pid = (shell.read_file(prefix .. "/nginx.pid") or ""):match("%d+")
    local url, standin, base = out:match("\nENV (%S+) (%S+) (%S+)\n")
    if url then
      env = { APIVIDEO_STANDIN_URL = url, APIVIDEO_STANDIN_PREFIX = standin, APIVIDEO_BASE_URL = base,
        APIVIDEO_API_KEY = "standin-key" }
      srv = S.attach(url)
    end
    started = code == 0 and url ~= nil and pid ~= nil
  end)

  teardown(function()
    if not ran then -- the copy could not be made: nothing was started
      if prefix then shell.remove_tree(prefix) end
      return
    end
    for _, line in ipairs(stop) do
      if env or not line:find("standin/stop", 1, true) then env_run(env or {}, line) end
    end
    local deadline = socket.gettime() + 5
    while pid and alive(pid) and socket.gettime() < deadline do socket.sleep(0.05) end
    if pid and alive(pid) then shell.run("kill -9 " .. pid) end
    if env and shell.exists(env.APIVIDEO_STANDIN_PREFIX .. "/nginx.pid") then
      shell.run(q(ROOT .. "/standin/stop") .. " " .. q(env.APIVIDEO_STANDIN_PREFIX))
    end
    shell.remove_tree(prefix)
  end)

  -- GET path; returns status, decoded JSON (or the text), the raw body.
  local function get(path)
    local status, body = S.http("GET", BASE .. path)
    assert.is_number(status, "no answer from nginx for " .. path .. ": " .. tostring(body))
    no_secret(body)
    local ok, json = pcall(cjson.decode, body)
    return status, ok and json or body, body
  end

  local function library()
    return require("apivideo").new({ api_key = "standin-key", base_url = env.APIVIDEO_STANDIN_URL })
  end

  it("its header starts a stand-in and nginx, and names every location it serves", function()
    assert.is_true(#start >= 4 and #try >= 3 and #stop >= 2, "header lines: " .. #start .. "/" .. #try .. "/" .. #stop)
    assert.is_true(started, "the header's start lines failed:\n" .. tostring(start_out))
    assert.are.equal(200, (get("/sessions?video=vi250&period=2023")))
  end)

  it("its curl lines, on the copy's port, answer what the library answers", function()
    assert.is_true(started, tostring(start_out))
    local c = library()
    local seen = {}
    for _, line in ipairs(try) do
      local out, code = env_run(env, line)
      assert.are.equal(0, code, line .. "\n" .. out)
      no_secret(out)
      local path = line:match("'" .. BASE:gsub("%p", "%%%0") .. "(/[^?']*)")
      seen[path] = true
      if path == "/sessions" then
        local video, period = line:match("video=(%w+)"), line:match("period=([%w-]+)")
        local page = assert(c.analytics:list_video_sessions(video, { period = period, page_size = 1 }))
        local got = cjson.decode(out)
        assert.are.same({ video = video, period = period, sessions = page.pagination.items_total }, got)
        assert.is_true(got.sessions > 0)
      elseif path == "/plays" then
        local from, to = line:match("from=([^&']+)"), line:match("to=([^&']+)")
        local r = assert(c.analytics:get_aggregated_metrics("play", "count", { from = from, to = to }))
        assert.are.same({ metric = "play", aggregation = "count", from = r.context.timeframe.from,
          to = r.context.timeframe.to, plays = r.data }, cjson.decode(out))
        assert.is_true(r.data > 0)
      elseif path == "/metrics" then
        local page = assert(c.analytics:get_metrics_breakdown("play", "country",
          { sort_by = "metric_value", sort_order = "desc", page_size = 100 }))
        assert.is_true(#page.data > 0)
        for _, b in ipairs(page.data) do
          local v = out:match('\napivideo_figure_plays_by_country{country="' .. b.dimension_value .. '"} (%d+)\n')
          assert.are.equal(b.metric_value, tonumber(v), b.dimension_value .. " in\n" .. out)
        end
        assert.matches('\napivideo_figure_up{figure="plays_by_country"} 1\n', out, 1, true)
        assert.matches('apivideo_requests_total{operation="list_video_sessions",code="200"} ', out, 1, true)
        local file = os.tmpname()
        local f = assert(io.open(file, "w"))
        f:write(out)
        f:close()
        local pout, pcode = shell.run("promtool check metrics < " .. q(file))
        os.remove(file)
        assert.are.equal(0, pcode, pout)
      end
    end
    c:close()
    assert.are.same({ ["/sessions"] = true, ["/plays"] = true, ["/metrics"] = true }, seen)
  end)

  it("answers a bad argument 400, api.video's 404 404, and other failures 502, in JSON", function()
    assert.is_true(started, tostring(start_out))
    local status, json = get("/sessions?video=vi250")
    assert.are.equal(400, status)
    assert.are.equal("argument", json.error.kind)
    assert.matches("period", json.error.message, 1, true)

    status, json = get("/sessions?video=viNowhere&period=2023")
    assert.are.equal(404, status)
    assert.are.same({ "http", 404 }, { json.error.kind, json.error.status })

    status, json = get("/plays?from=2023-12-31T00:00:00Z&to=2023-12-25T00:00:00Z")
    assert.are.equal(400, status, "from after to")
    assert.are.equal("argument", json.error.kind)

    srv:faults({ { match = "vi10k", kind = "503", count = -1 } })
    status, json = get("/sessions?video=vi10k&period=2023")
    srv:faults({})
    assert.are.equal(502, status)
    assert.are.same({ "http", 503 }, { json.error.kind, json.error.status })
    assert.matches("503", json.error.message, 1, true)
  end)

  it("README's two blocks, pasted into Debian's stock nginx.conf, pass nginx -t from any directory", function()
    local readme = assert(shell.read_file(ROOT .. "/README.md"))
    local blocks = {}
    for body in readme:gmatch("```nginx\n(.-)\n```") do blocks[#blocks + 1] = body end
    assert.are.equal(2, #blocks, "README's nginx blocks")
    local main_block, http_block = blocks[1], blocks[2]
    assert.matches("/opt/lua-apivideo/examples/nginx/apivideo.conf", http_block, 1, true)
    local function here(b) return (b:gsub("/opt/lua%-apivideo", function() return ROOT end)) end
    local stock = assert(shell.read_file("/etc/nginx/nginx.conf"), "no /etc/nginx/nginx.conf (apt-get install nginx)")
    local conf, n1 = stock:gsub("(include /etc/nginx/modules%-enabled/%*%.conf;)", function(inc)
      return inc .. "\n" .. here(main_block)
    end)
    local n2
    conf, n2 = conf:gsub("\nhttp {\n", function(h) return h .. here(http_block) .. "\n" end, 1)
    assert.are.same({ 1, 1 }, { n1, n2 }, "the stock nginx.conf changed shape:\n" .. stock)
    local dir = shell.tmpdir()
    local file = dir .. "/nginx.conf"
    local f = assert(io.open(file, "w"))
    f:write(conf)
    f:close()
    local out, code = shell.run("cd / && nginx -t -c " .. q(file))
    shell.remove_tree(dir)
    assert.are.equal(0, code, out .. "\n" .. conf)
    assert.matches("test is successful", out, 1, true)
    -- what nginx -t leaves unchecked: the pasted paths find the library, from any directory
    local lpath = here(http_block):match('lua_package_path%s+"([^"]+)"')
    local cpath = here(http_block):match('lua_package_cpath%s+"([^"]+)"')
    assert.is_string(lpath, http_block)
    assert.is_string(cpath, http_block)
    -- ";;" is the default path, as nginx expands it
    out, code = shell.run("cd / && luajit -e " .. q("local function p(s, d) return (s:gsub(';;', ';' .. d .. ';')) end"
      .. " package.path = p(" .. ("%q"):format(lpath) .. ", package.path)"
      .. " package.cpath = p(" .. ("%q"):format(cpath) .. ", package.cpath)"
      .. " local a = require('apivideo') assert(a.new and require('apivideo.core')) print('ok')"))
    assert.are.equal(0, code, out)
    assert.are.equal("ok", out:match("(%S+)%s*$"))
  end)
end)
