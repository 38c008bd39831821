--- The Analytics operations and their iterators: `client.analytics`.
--
-- api.video's raw statistics (player sessions and their events):
--
--     analytics:list_video_sessions(video_id, opts)            -> page | nil, err
--     analytics:list_live_stream_sessions(live_stream_id, opts) -> page | nil, err
--     analytics:list_session_events(session_id, opts)          -> page | nil, err
--     analytics:video_sessions / live_stream_sessions / session_events (items)
--     analytics:video_session_pages / live_stream_session_pages / session_event_pages
--
-- and today's aggregated metrics, breakdowns and time series:
--
--     analytics:get_aggregated_metrics(metric, aggregation, opts) -> result | nil, err
--     analytics:get_metrics_breakdown(metric, breakdown, opts)    -> page | nil, err
--     analytics:get_metrics_over_time(metric, opts)               -> page | nil, err
--     analytics:metrics_breakdown / metrics_over_time (items)
--     analytics:metrics_breakdown_pages / metrics_over_time_pages
--
-- A page is `{ data = {...}, pagination = {...}, rate_limit = {...} | nil }`
-- (and `context` for the metrics operations).
--
-- Bad arguments raise at once, naming the method and the argument: a wrong
-- type, an empty id, a value outside its enum (listing the valid ones), a
-- metric with an aggregation or breakdown it does not take, a `period` or a
-- date-time that does not exist, page numbers out of range, an unknown option
-- or filter key. Nothing is sent.
--
-- Periods are read by api.video, `from` and `to` go out in UTC, timestamps
-- come back as the API wrote them: see [time zones](../topics/time.md.html).
-- @module apivideo.analytics

-- For maintainers: every method is built from a row of `apivideo.operations`
-- (also `client.videos:get` and `client.live_streams:get`, rows of other
-- `api`s); their doc comments and LuaLS annotations live in types.lua (a
-- `---@meta` file, never loaded), which `config.ld` merges into this module,
-- and spec/operations_spec.lua checks the two agree. The operations know
-- nothing of the client: they send through its transport
-- (`apivideo.transport`: send, run, walk).
local check = require("apivideo.check")
local errors = require("apivideo.errors")
local operations = require("apivideo.operations")
local ratelimit = require("apivideo.ratelimit")
local time = require("apivideo.time")
local url = require("apivideo.url")

local M = {}

---@class apivideo.Analytics
local Analytics = {}
Analytics.__index = Analytics

-- The objects of the other `api`s of the rows: `client.videos`, `client.live_streams`.
local APIS = { analytics = Analytics }

--- The operations of one `api` of the rows (`"analytics"`: the client's
-- `analytics` field; `"videos"`, `"live_streams"`), sending through
-- `transport` (`apivideo.transport`).
-- @local
---@param transport table
---@param api? string default "analytics"
---@return apivideo.Analytics
function M.new(transport, api)
  api = api or "analytics"
  return setmetatable({ transport = transport }, APIS[api])
end

local MAX_PAGE = 2147483647
local quoted = operations.quoted

local function typename(v)
  if v == nil then return "nil" end
  return type(v)
end

--- "metricValue" -> "metric_value", "impression-time" -> "impression_time":
-- the snake_case spelling every enum value is also accepted in.
local function snake(s)
  return (s:gsub("%-", "_"):gsub("(%l)(%u)", function(a, b) return a .. "_" .. b:lower() end))
end

--- The wire value of an enum value given in its wire or snake_case form.
local function enum_value(fname, name, v, values)
  if type(v) == "string" then
    for _, w in ipairs(values) do
      if v == w or v == snake(w) then return w end
    end
  end
  check.fail(fname, name, "one of " .. quoted(values) .. " expected, got "
    .. (type(v) == "string" and "'" .. v .. "'" or typename(v)))
end

--- A date-time for `from` / `to`: an RFC 3339 / ATOM string, or seconds since
-- the epoch (`os.time()`). Returns the ATOM text the API takes (in UTC:
-- `2024-02-05T00:00:00+00:00`; a fraction of a second is dropped) and the
-- seconds.
local function datetime(fname, name, v)
  local secs
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      check.fail(fname, name, "a finite number of seconds expected, got " .. tostring(v))
    end
    secs = v
  elseif type(v) == "string" then
    local s, why = time.parse(v)
    if not s then check.fail(fname, name, tostring(why)) end
    secs = s
  else
    check.fail(fname, name, "an RFC 3339 date-time such as '2024-02-05T00:00:00+01:00'"
      .. " or os.time() seconds expected, got " .. typename(v))
  end
  secs = math.floor(secs)
  if secs < 0 or secs > 253402300799 then -- 9999-12-31T23:59:59Z
    check.fail(fname, name, "out of range: years 1970 to 9999")
  end
  return os.date("!%Y-%m-%dT%H:%M:%S+00:00", secs), secs
end

local FILTER_BY_KEY = {}
for _, k in ipairs(operations.FILTER_KEYS) do FILTER_BY_KEY[k.key] = k end

local function filter_value(fname, key, v, spec)
  local arg = "filter_by." .. key
  if type(v) ~= "string" then check.fail(fname, arg, "string expected, got " .. typename(v)) end
  if v == "" and not spec.empty_ok then check.fail(fname, arg, "empty string") end
  if spec.values then v = enum_value(fname, "filter_by." .. key, v, spec.values) end
  if spec.pattern and not v:match(spec.pattern) then
    check.fail(fname, arg, spec.pattern_doc .. " expected, got '" .. v .. "'")
  end
  if spec.max_len and #v > spec.max_len then
    check.fail(fname, arg, "at most " .. spec.max_len .. " characters, got " .. #v)
  end
  return v
end

--- filter_by: the document's deepObject, keys in its order; array keys as
-- repeated `filterBy[k][]=v` (a single string is a one-element array),
-- string keys as one `filterBy[k]=v`.
local function filter_pairs(fname, out, f)
  if type(f) ~= "table" then
    check.fail(fname, "filter_by", "table expected, got " .. typename(f))
  end
  for k in pairs(f) do
    if not FILTER_BY_KEY[k] then
      local names = {}
      for i, spec in ipairs(operations.FILTER_KEYS) do names[i] = spec.key end
      check.fail(fname, "filter_by", "unknown key '" .. tostring(k) .. "'; the keys are " .. quoted(names))
    end
  end
  for _, spec in ipairs(operations.FILTER_KEYS) do
    local key, wire, shape = spec.key, spec.wire, spec.shape
    local v = f[key]
    if v ~= nil then
      if shape == "string" then
        if type(v) == "table" then
          check.fail(fname, "filter_by." .. key, "one string expected: the API takes a single value")
        end
        out[#out + 1] = { "filterBy[" .. wire .. "]", filter_value(fname, key, v, spec) }
      else
        if type(v) ~= "table" then v = { v } end
        if #v == 0 then check.fail(fname, "filter_by." .. key, "empty list") end
        for i, item in ipairs(v) do
          out[#out + 1] = { "filterBy[" .. wire .. "][]", filter_value(fname, key .. "[" .. i .. "]", item, spec) }
        end
        for k in pairs(v) do
          if type(k) ~= "number" or k < 1 or k > #v or k ~= math.floor(k) then
            check.fail(fname, "filter_by." .. key, "a list of strings expected")
          end
        end
      end
    end
  end
end

--- Validates the arguments of a call. Returns the call: `path`, `pairs`
-- (the query pairs, without the page number), `first` (the first page),
-- `size` (the page size or nil), `float` (the figures are rates or
-- averages) and `explicit_page` (current_page was given).
local function prepare(op, fname, argv, opts)
  local args = {}
  local path = op.path
  for i, a in ipairs(op.args) do
    local v = argv[i]
    if a.kind == "id" then
      v = check.id(fname, a.name, v)
    else
      v = enum_value(fname, a.name, v, a.values)
    end
    args[a.name] = v
    path = path:gsub("{" .. a.name .. "}", function() return url.segment(v) end)
  end
  opts = check.options(fname, "options", opts, op.allowed)
  local query, values = {}, {}
  local first, size = 1, nil
  for _, q in ipairs(op.query) do
    local option, wire, kind = q.option, q.wire, q.kind
    local v = opts[option]
    if v == nil then
      if q.required then
        check.raise({ fn = fname, arg = option, reason = "required",
          text = fname .. ": option '" .. option .. "' is required" })
      end
    elseif kind == "period" then
      query[#query + 1] = { wire, check.period(fname, v) }
    elseif kind == "metadata" then
      local metadata = check.metadata(fname, v)
      local keys = {}
      for k in pairs(metadata) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do
        query[#query + 1] = { "metadata[" .. url.encode(k) .. "]", metadata[k] }
      end
    elseif kind == "datetime" then
      local text, secs = datetime(fname, option, v)
      values[option] = secs
      query[#query + 1] = { wire, text }
    elseif kind == "boolean" then
      if type(v) ~= "boolean" then
        check.fail(fname, option, "boolean expected, got " .. typename(v))
      end
      query[#query + 1] = { wire, v and "true" or "false" }
    elseif kind == "enum" then
      local w = enum_value(fname, option, v, q.values)
      values[option] = w
      query[#query + 1] = { wire, w }
    elseif kind == "filter" then
      filter_pairs(fname, query, v)
    elseif kind == "page" then
      first = check.integer(fname, option, v, 1, MAX_PAGE)
    elseif kind == "page_size" then
      size = check.integer(fname, option, v, 1, 100)
    end
  end
  if op.rule then op.rule(fname, args, opts, values) end
  return { path = path, pairs = query, first = first, size = size,
    float = op.float ~= nil and op.float(args), explicit_page = opts.current_page ~= nil }
end

--- The query string of one request of a call (a one-request call: its
-- current_page when given, its page size).
local function query_of(call)
  local q = {}
  for i, kv in ipairs(call.pairs) do q[i] = kv end
  if call.explicit_page then q[#q + 1] = { "currentPage", tostring(call.first) } end
  if call.size then q[#q + 1] = { "pageSize", tostring(call.size) } end
  return url.query(q)
end

--- The query strings of the pages of a walk, built once around the page number.
local function page_queries(call)
  local head = url.query(call.pairs)
  head = head .. (head == "" and "?currentPage=" or "&currentPage=")
  local tail = call.size and ("&pageSize=" .. call.size) or ""
  return function(n) return head .. string.format("%d", n) .. tail end
end

--- A number the API may have written as a string (openapi-2025's examples do).
local function numeric(v)
  if type(v) == "string" then return tonumber(v) or v end
  return v
end

--- Turns the answer `resp` to one request of `call` (its query string
-- `query`) into the result of its operation, or a decode error when it is
-- not one.
local function to_result(op, transport, call, query, resp)
  local json = resp.json
  local float = call.float
  local function bad(what)
    return nil, errors.new({ kind = "decode", method = "GET", url = transport:url(call.path, query),
      status = resp.status, attempts = resp.attempts, title = "unexpected response: " .. what })
  end
  if type(json) ~= "table" then return bad("not a JSON object") end
  if op.result == "object" then
    local v = numeric(json.data)
    if type(v) ~= "number" then return bad("'data' is missing or not a number") end
    json.data = float and v + 0.0 or v
    if json.context ~= nil and type(json.context) ~= "table" then return bad("'context' is not an object") end
  elseif op.result == "page" then
    if type(json.data) ~= "table" then return bad("'data' is missing or not an array") end
    local p = json.pagination
    if type(p) ~= "table" then return bad("'pagination' is missing or not an object") end
    for _, k in ipairs({ "current_page", "pages_total" }) do
      if type(p[k]) ~= "number" then return bad("'pagination." .. k .. "' is missing or not a number") end
    end
    if op.sessions then
      local data = json.data
      for i = 1, #data do
        local s = type(data[i]) == "table" and data[i].session
        if type(s) == "table" and s.metadata == nil then s.metadata = {} end
      end
    elseif op.numbers then
      local data = json.data
      for i = 1, #data do
        local item = data[i]
        if type(item) == "table" then
          local v = numeric(item.metric_value)
          if float and type(v) == "number" then v = v + 0.0 end
          item.metric_value = v
        end
      end
    end
  end
  json.rate_limit = ratelimit.facts(resp.headers)
  return json
end

--- Inside a task: GETs one result of `call` (the query string `query`).
local function get_result(op, transport, call, query)
  local resp, err = transport:send({ method = "GET", path = call.path, query = query, auth = true,
    operation = op.name })
  if not resp then return nil, err end
  return to_result(op, transport, call, query, resp)
end

local ROWS = {}
for _, op in ipairs(operations.list) do
  ROWS[op.api .. ":" .. op.name] = op
  local allowed = {}
  for _, q in ipairs(op.query) do allowed[q.option] = true end
  op.allowed = allowed
  op.numbers = op.path:find("^/data/") ~= nil
  local nargs = #op.args
  local methods = APIS[op.api]
  if not methods then
    methods = {}
    methods.__index = methods
    APIS[op.api] = methods
  end
  local prefix = op.api == "analytics" and "analytics:" or (op.api .. ":")

  -- (method, argv..., opts) -> argv table, opts
  local function split(...)
    local argv = { ... }
    return argv, argv[nargs + 1]
  end

  local list_name = prefix .. op.name
  methods[op.name] = function(self, ...)
    local transport = self.transport
    transport:check_open(2)
    local argv, opts = split(...)
    local call = check.checked(2, prepare, op, list_name, argv, opts)
    local result, err = transport:run(get_result, op, transport, call, query_of(call))
    return result, err
  end

  if op.items then
    -- (called by the iterator methods below: level 3 is their caller)
    local function walk(self, fname, ...)
      local transport = self.transport
      transport:check_open(3)
      local argv, opts = split(...)
      local call = check.checked(3, prepare, op, fname, argv, opts)
      local query_at = page_queries(call)
      return transport:walk({
        first = call.first,
        page = function(n) return get_result(op, transport, call, query_at(n)) end,
        url_of = function(n) return transport:url(call.path, query_at(n)) end,
      })
    end

    local pages_name = prefix .. op.pages
    methods[op.pages] = function(self, ...)
      return walk(self, pages_name, ...):pages()
    end

    local items_name = prefix .. op.items
    methods[op.items] = function(self, ...)
      return walk(self, items_name, ...):items()
    end
  end
end

--- The URL that a one-request call would GET, its arguments checked as the
-- call checks them (raising the same argument errors), nothing sent: what
-- `apivideo.archive`'s dry run prints.
-- @local
---@param object table `client.analytics`, `client.videos` or `client.live_streams`
---@param name string the object's api and one-request method, e.g. "analytics:get_metrics_over_time", "videos:get"
---@return string url
function M.url_of(object, name, ...)
  local op = ROWS[name]
  local argv = { ... }
  local call = check.checked(2, prepare, op, name, argv, argv[#op.args + 1])
  return object.transport:url(call.path, query_of(call))
end

for api, methods in pairs(APIS) do
  methods.__tostring = function(self) return "apivideo." .. api .. " (" .. tostring(self.transport) .. ")" end
end

return M
