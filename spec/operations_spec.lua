-- The operation table (apivideo.operations) against what is declared of it
-- (lua/apivideo/types.lua, read by LDoc and the language server) and what
-- analytics.lua builds from it; and the shape of the Lua layer: no module of
-- lua/apivideo requires another in a cycle.
local S = require("spec.support.standin")
local operations = require("apivideo.operations")
local shell = require("spec.support.shell")

local ROOT = S.root()

-- the text of a file of the repository (path relative to its root)
local function read(path)
  return assert(shell.read_file(ROOT .. "/" .. path), path)
end

-- The api of a row (operations.lua) each class of types.lua declares.
local API_OF = { Analytics = "analytics", Videos = "videos", LiveStreams = "live_streams" }

-- types.lua: methods ("api:name") with their parameter names and the class
-- of `opts`, and every class with its parent and fields.
local function declarations()
  local text = read("lua/apivideo/types.lua")
  local methods, classes = {}, {}
  local params = {}
  local current
  for line in text:gmatch("[^\n]*") do
    local pname, ptype = line:match("^%-%-%-@param ([%w_]+)%?? ([%w_.]+)")
    if pname then params[pname] = ptype end
    local class, name, args = line:match("^function (%w+):([%w_]+)%(([^)]*)%)")
    if name then
      local list = {}
      for a in args:gmatch("[%w_]+") do list[#list + 1] = a end
      methods[API_OF[class] .. ":" .. name] = { args = list, opts_class = params.opts }
      params = {}
    end
    local cls, parent = line:match("^%-%-%-@class ([%w_.]+):? ?([%w_.]*)")
    if cls then
      current = { parent = parent ~= "" and parent or nil, fields = {} }
      classes[cls] = current
    end
    local field = line:match("^%-%-%-@field ([%w_]+)")
    if field and current then current.fields[field] = true end
  end
  return methods, classes
end

local function has_field(classes, cls, field)
  while cls do
    local c = classes[cls]
    if not c then return false end
    if c.fields[field] then return true end
    cls = c.parent
  end
  return false
end

describe("the operation table", function()
  local methods, classes = declarations()

  -- "api:name" of every method a row builds
  local function built_by(op)
    local list = {}
    for _, n in ipairs({ op.name, op.items, op.pages }) do list[#list + 1] = op.api .. ":" .. n end
    return list
  end

  it("has the three raw-statistics operations, today's three, and the two media, each with a unique name", function()
    local names, seen = {}, {}
    for _, op in ipairs(operations.list) do
      for _, n in ipairs(built_by(op)) do
        assert.is_nil(seen[n], "two rows build " .. tostring(n))
        seen[n] = true
      end
      names[#names + 1] = op.api .. ":" .. op.name
    end
    assert.are.same({ "analytics:list_video_sessions", "analytics:list_live_stream_sessions",
      "analytics:list_session_events", "analytics:get_aggregated_metrics", "analytics:get_metrics_breakdown",
      "analytics:get_metrics_over_time", "videos:get", "live_streams:get" }, names)
  end)

  for _, op in ipairs(operations.list) do
    local expected_args = {}
    for i, a in ipairs(op.args) do expected_args[i] = a.name end
    expected_args[#expected_args + 1] = "opts"

    it(op.name .. ": its methods are declared in types.lua with the row's arguments", function()
      for _, n in ipairs(built_by(op)) do
        assert.is_table(methods[n], n .. " is not declared in types.lua")
        assert.are.same(expected_args, methods[n].args, n)
      end
    end)

    it(op.name .. ": every option of the row is a field of the declared options class", function()
      for _, n in ipairs(built_by(op)) do
        local cls = methods[n] and methods[n].opts_class
        assert.is_string(cls, n .. " declares no type for opts")
        for _, q in ipairs(op.query) do
          assert.is_true(has_field(classes, cls, q.option),
            n .. ": option '" .. q.option .. "' is not a field of " .. cls)
        end
      end
    end)

    it(op.name .. ": the path names every positional argument once", function()
      local path = op.path
      for _, a in ipairs(op.args) do
        local _, count = path:gsub("{" .. a.name .. "}", "")
        assert.are.equal(1, count, op.path)
      end
      assert.is_nil(path:gsub("{[%w_]+}", ""):find("[{}]"), op.path)
    end)
  end

  it("types.lua declares no method the table does not build, and analytics builds each", function()
    local built = {}
    for _, op in ipairs(operations.list) do
      for _, n in ipairs(built_by(op)) do built[n] = true end
    end
    local analytics = require("apivideo.analytics")
    for n in pairs(methods) do assert.is_true(built[n] == true, n .. " is declared but no row builds it") end
    for n in pairs(built) do
      local api, name = n:match("^([%w_]+):([%w_]+)$")
      assert.is_function(analytics.new({}, api)[name], n)
    end
  end)

  it("every filter_by key is a field of apivideo.FilterBy, and no other", function()
    local fields = {}
    for f in pairs(classes["apivideo.FilterBy"].fields) do fields[#fields + 1] = f end
    table.sort(fields)
    local keys = {}
    for i, k in ipairs(operations.FILTER_KEYS) do keys[i] = k.key end
    table.sort(keys)
    assert.are.same(keys, fields)
  end)

  it("every aggregation a metric takes exists, and every metric has one", function()
    local aggregations = {}
    for _, a in ipairs(operations.AGGREGATIONS) do aggregations[a] = true end
    for _, m in ipairs(operations.METRICS_AGGREGATED) do
      local pairs_of = operations.AGGREGATION_PAIRS[m]
      assert.is_table(pairs_of, m)
      for _, a in ipairs(pairs_of) do assert.is_true(aggregations[a], m .. "/" .. a) end
    end
  end)
end)

-- A module's code without its comments and string literals (a rough cut,
-- enough for what is looked up below).
local function code_of(path)
  local s = read(path)
  s = s:gsub("%-%-%[(=*)%[.-%]%1%]", ""):gsub("%-%-[^\n]*", "")
  s = s:gsub('"[^"\n]*"', '""'):gsub("'[^'\n]*'", "''")
  return s
end

local function lua_files()
  local p = io.popen("cd " .. ROOT .. "/lua && find apivideo -name '*.lua' | sort")
  local files = {}
  for f in p:lines() do files[#files + 1] = f end
  p:close()
  return files
end

describe("lua/apivideo", function()
  it("has no require cycle", function()
    local graph = {}
    for _, file in ipairs(lua_files()) do
      local mod = file:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      local deps = {}
      local text = read("lua/" .. file):gsub("%-%-[^\n]*", "")
      for dep in text:gmatch('require%("(apivideo[%w_.]*)"%)') do deps[#deps + 1] = dep end
      graph[mod] = deps
    end
    assert.is_table(graph["apivideo.client"])
    local state, stack = {}, {}
    local function visit(m)
      if state[m] == "done" then return end
      if state[m] == "open" then
        local cycle = {}
        for i = #stack, 1, -1 do
          table.insert(cycle, 1, stack[i])
          if stack[i] == m then break end
        end
        error("require cycle: " .. table.concat(cycle, " -> ") .. " -> " .. m, 0)
      end
      state[m] = "open"
      stack[#stack + 1] = m
      for _, d in ipairs(graph[m] or {}) do visit(d) end
      stack[#stack] = nil
      state[m] = "done"
    end
    for m in pairs(graph) do visit(m) end
  end)

  -- (and the two whose job is nginx's own objects: lua-resty-redis cosockets, a content handler's answer)
  it("only hub.lua, redis_store.lua and prometheus.lua know nginx (their code, not comments, names ngx)", function()
    local files = {}
    for _, file in ipairs(lua_files()) do
      if code_of("lua/" .. file):find("ngx") then files[#files + 1] = file end
    end
    assert.are.same({ "apivideo/hub.lua", "apivideo/prometheus.lua", "apivideo/redis_store.lua" }, files)
  end)
end)
