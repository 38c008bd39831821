--- The three Analytics operations and their iterators: `client.analytics`.
--
--     analytics:list_video_sessions(video_id, opts)            -> page | nil, err
--     analytics:list_live_stream_sessions(live_stream_id, opts) -> page | nil, err
--     analytics:list_session_events(session_id, opts)          -> page | nil, err
--     analytics:video_sessions / live_stream_sessions / session_events (items)
--     analytics:video_session_pages / live_stream_session_pages / session_event_pages
--
-- A page is { data = {...}, pagination = {...}, rate_limit = {...} | nil }.
--
-- The nine methods are built in a loop from the `OPS` table below, so their
-- doc comments and LuaLS annotations live in types.lua (a `---@meta` file,
-- never loaded), which `config.ld` merges into this module: keep the two in
-- step when an operation or an option changes.
--
-- Bad arguments raise at once, naming the method and the argument: a wrong
-- type, an empty id, a `period` outside the five formats, page numbers out of
-- range, metadata that is not strings, an unknown option key. Nothing is sent.
-- @module apivideo.analytics
local check = require("apivideo.check")
local errors = require("apivideo.errors")
local pager_mod = require("apivideo.pager")
local ratelimit = require("apivideo.ratelimit")
local url = require("apivideo.url")

local M = {}

---@class apivideo.Analytics
---@field client apivideo.Client the client whose requests these are
local Analytics = {}
Analytics.__index = Analytics

--- The Analytics object of a client (its `analytics` field).
-- @local
---@param client apivideo.Client
---@return apivideo.Analytics
function M.new(client)
  return setmetatable({ client = client }, Analytics)
end

function Analytics:__tostring()
  return "apivideo.analytics (" .. tostring(self.client) .. ")"
end

--- Operation descriptions: one table drives all nine public methods.
local OPS = {
  {
    list = "list_video_sessions", items = "video_sessions", pages = "video_session_pages",
    id_name = "video_id", prefix = "/analytics/videos/", suffix = "",
    period = true, metadata = true,
  },
  {
    list = "list_live_stream_sessions", items = "live_stream_sessions",
    pages = "live_stream_session_pages",
    id_name = "live_stream_id", prefix = "/analytics/live-streams/", suffix = "", period = true,
  },
  {
    list = "list_session_events", items = "session_events", pages = "session_event_pages",
    id_name = "session_id", prefix = "/analytics/sessions/", suffix = "/events",
  },
}

local function allowed_options(op)
  local allowed = { current_page = true, page_size = true }
  if op.period then allowed.period = true end
  if op.metadata then allowed.metadata = true end
  return allowed
end

local MAX_PAGE = 2147483647

--- Validates id and options; returns the path and the query pairs without
-- the page number, and the first page.
local function prepare(op, fname, id, opts)
  check.id(fname, op.id_name, id)
  opts = check.options(fname, "options", opts, op.allowed)
  local pairs_list = {}
  if op.period then
    if opts.period == nil then check.fail(fname, "option 'period' is required") end
    pairs_list[#pairs_list + 1] = { "period", check.period(fname, opts.period) }
  end
  local metadata = check.metadata(fname, opts.metadata)
  if metadata then
    local keys = {}
    for k in pairs(metadata) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      pairs_list[#pairs_list + 1] = { "metadata[" .. url.encode(k) .. "]", metadata[k] }
    end
  end
  local first = 1
  if opts.current_page ~= nil then first = check.integer(fname, "current_page", opts.current_page, 1, MAX_PAGE) end
  local size
  if opts.page_size ~= nil then size = check.integer(fname, "page_size", opts.page_size, 1, 100) end
  return op.prefix .. url.segment(id) .. op.suffix, pairs_list, first, size
end

local function query_for(pairs_list, page, size, explicit_page)
  local q = {}
  for i, kv in ipairs(pairs_list) do q[i] = kv end
  if explicit_page then q[#q + 1] = { "currentPage", tostring(page) } end
  if size then q[#q + 1] = { "pageSize", tostring(size) } end
  return url.query(q)
end

--- Turns a decoded body into a page, or a decode error when it is not one.
local function to_page(client, path, query, resp)
  local json = resp.json
  local function bad(what)
    return nil, errors.new({ kind = "decode", method = "GET", url = client.base_url .. path .. query,
      status = resp.status, attempts = resp.attempts, title = "unexpected response: " .. what })
  end
  if type(json) ~= "table" then return bad("not a JSON object") end
  if type(json.data) ~= "table" then return bad("'data' is missing or not an array") end
  local p = json.pagination
  if type(p) ~= "table" then return bad("'pagination' is missing or not an object") end
  for _, k in ipairs({ "current_page", "pages_total" }) do
    if type(p[k]) ~= "number" then return bad("'pagination." .. k .. "' is missing or not a number") end
  end
  local page = {}
  for k, v in pairs(json) do page[k] = v end
  page.rate_limit = ratelimit.facts(resp.headers)
  return page
end

--- Inside a task: GET one page.
local function fetch_page(client, path, query)
  local resp, err = client:_send({ method = "GET", path = path, query = query, auth = true })
  if not resp then return nil, err end
  return to_page(client, path, query, resp)
end

for _, op in ipairs(OPS) do
  op.allowed = allowed_options(op)
  local list_name = "analytics:" .. op.list

  Analytics[op.list] = function(self, id, opts)
    local path, pairs_list, first, size = prepare(op, list_name, id, opts)
    local query = query_for(pairs_list, first, size, opts ~= nil and opts.current_page ~= nil)
    local client = self.client
    return client:_run(fetch_page, client, path, query)
  end

  local function walker(self, fname, id, opts)
    local path, pairs_list, first, size = prepare(op, fname, id, opts)
    local client = self.client
    client:_check_open(4)
    return pager_mod.new({
      engine = client.engine, concurrency = client.concurrency, first = first,
      fetch = function(n) return fetch_page(client, path, query_for(pairs_list, n, size, true)) end,
      url_of = function(n) return client.base_url .. path .. query_for(pairs_list, n, size, true) end,
    })
  end

  local pages_name = "analytics:" .. op.pages
  Analytics[op.pages] = function(self, id, opts)
    return pager_mod.pages(walker(self, pages_name, id, opts))
  end

  local items_name = "analytics:" .. op.items
  Analytics[op.items] = function(self, id, opts)
    return pager_mod.items(walker(self, items_name, id, opts))
  end
end

return M
