--- `/metrics` for Prometheus: `require("apivideo.prometheus").serve(S, opts)`.
--
--     location = /metrics {
--         content_by_lua_block {
--             require("apivideo.prometheus").serve(ngx.shared.apivideo_metrics, {
--                 client = client,   -- one with a cache, for the figures
--                 figures = {
--                     { name = "plays_last_hour_by_country", metric = "play", breakdown = "country",
--                       window_s = 3600, max_values = 10 },
--                     { name = "concurrent_viewers", metric = "ccv", aggregation = "peak", window_s = 300 },
--                 },
--             })
--         }
--     }
--
-- It writes, in the text format 0.0.4, what the clients counted into `S`
-- (`apivideo.metrics`: requests, retries, cache results, the rate-limit
-- budget, request durations), then one gauge per figure:
-- `apivideo_figure_<name>` (a breakdown: one series per dimension value,
-- label named after the breakdown, e.g. `country="FR"`; the `max_values`
-- largest (default 10), the rest summed as `"other"`) and
-- `apivideo_figure_up{figure="<name>"}` (1, or 0 when it could not be
-- fetched: the scrape never fails because api.video did). A figure's window
-- is its `from` / `to`, or the last `window_s` seconds ending at the whole
-- `step_s` (default 60) before the API's time, so successive scrapes ask
-- the same question and the client's cache answers them: each figure is
-- fetched at most once per cache TTL. No label ever carries a key or a
-- token: label values are operation names, statuses, cache results, bucket
-- bounds and dimension values.
--
-- `M.text(S, opts)` returns the same text (scripts, tests).
-- @module apivideo.prometheus
local check = require("apivideo.check")
local metrics = require("apivideo.metrics")

local M = {}

local FN = "apivideo.prometheus.serve"

local META = {
  apivideo_requests_total = { "counter", "Requests sent to api.video, by operation and HTTP status" },
  apivideo_retries_total = { "counter", "Retries of requests to api.video, by operation" },
  apivideo_cache_total = { "counter", "Answers of the api.video answer cache: hit, miss, stale, negative" },
  apivideo_rate_limit_remaining = { "gauge", "The latest X-RateLimit-Remaining api.video announced" },
  apivideo_request_duration_seconds = { "histogram", "Duration of requests to api.video, in seconds" },
}
local ORDER = { "apivideo_requests_total", "apivideo_retries_total", "apivideo_cache_total",
  "apivideo_rate_limit_remaining", "apivideo_request_duration_seconds" }

local function escape(v)
  return (tostring(v):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"'))
end

local function number(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
  return string.format("%.17g", v)
end

local function labels_text(list)
  if #list == 0 then return "" end
  local out = {}
  for i, kv in ipairs(list) do out[i] = kv[1] .. '="' .. escape(kv[2]) .. '"' end
  return "{" .. table.concat(out, ",") .. "}"
end

local function bound_of(le)
  if le == "+Inf" then return math.huge end
  return tonumber(le) or math.huge
end

-- The counted series of the store: { name = { { labels, value }, ... } }.
local function read_series(store)
  local keys, err = store:get_keys(0)
  if not keys then return {}, err end
  local prefix = metrics.PREFIX
  local series = {}
  for _, k in ipairs(keys) do
    if k:sub(1, #prefix) == prefix then
      local v = tonumber(store:get(k))
      if v then
        local name, rest = k:sub(#prefix + 1):match("^([%w_]+)(.*)$")
        if name then
          local labels = {}
          for lk, lv in rest:gmatch("|([%w_]+)=([^|]*)") do labels[#labels + 1] = { lk, lv } end
          series[name] = series[name] or {}
          table.insert(series[name], { labels = labels, value = v })
        end
      end
    end
  end
  return series
end

local function sort_series(list)
  table.sort(list, function(a, b) return labels_text(a.labels) < labels_text(b.labels) end)
end

local function histogram(out, name, series)
  -- per operation: the buckets stored one by one, added up here
  local ops, names = {}, {}
  local function op_of(labels)
    for _, kv in ipairs(labels) do if kv[1] == "operation" then return kv[2] end end
    return "other"
  end
  local function entry(op)
    if not ops[op] then
      ops[op] = { buckets = {}, sum = 0, count = 0 }
      names[#names + 1] = op
    end
    return ops[op]
  end
  for _, s in ipairs(series[name .. "_bucket"] or {}) do
    local le
    for _, kv in ipairs(s.labels) do if kv[1] == "le" then le = kv[2] end end
    local e = entry(op_of(s.labels))
    local b = bound_of(le)
    e.buckets[b] = (e.buckets[b] or 0) + s.value
  end
  for _, s in ipairs(series[name .. "_sum"] or {}) do entry(op_of(s.labels)).sum = s.value end
  for _, s in ipairs(series[name .. "_count"] or {}) do entry(op_of(s.labels)).count = s.value end
  table.sort(names)
  for _, op in ipairs(names) do
    local e, running = ops[op], 0
    for _, b in ipairs(metrics.BUCKETS) do
      running = running + (e.buckets[b] or 0)
      out[#out + 1] = name .. "_bucket" .. labels_text({ { "operation", op }, { "le", tostring(b) } }) .. " "
        .. number(running)
    end
    running = running + (e.buckets[math.huge] or 0)
    local count = e.count > running and e.count or running
    out[#out + 1] = name .. "_bucket" .. labels_text({ { "operation", op }, { "le", "+Inf" } }) .. " " .. number(count)
    out[#out + 1] = name .. "_sum" .. labels_text({ { "operation", op } }) .. " " .. number(e.sum)
    out[#out + 1] = name .. "_count" .. labels_text({ { "operation", op } }) .. " " .. number(count)
  end
end

-- The figures' options, checked.
local FIGURE_KEYS = { name = true, help = true, metric = true, aggregation = true, breakdown = true,
  window_s = true, from = true, to = true, filter_by = true, max_values = true, step_s = true }

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then check.fail(FN, "opts", "table expected, got " .. type(opts)) end
  check.options(FN, "opts", opts, { figures = true, client = true })
  local figures = opts.figures
  if figures == nil then return opts end
  if type(figures) ~= "table" then check.fail(FN, "figures", "array expected, got " .. type(figures)) end
  if opts.client == nil or type(opts.client) ~= "table" or type(opts.client.analytics) ~= "table" then
    check.fail(FN, "client", "a client (apivideo.new, best with a cache) is needed to fetch figures")
  end
  local seen = {}
  for i, f in ipairs(figures) do
    local arg = "figures[" .. i .. "]"
    if type(f) ~= "table" then check.fail(FN, arg, "table expected, got " .. type(f)) end
    check.options(FN, arg, f, FIGURE_KEYS)
    if type(f.name) ~= "string" or not f.name:match("^[a-z_][a-z0-9_]*$") or #f.name > 64 then
      check.fail(FN, arg .. ".name", "1-64 of a-z, 0-9 and _ expected (not starting with a digit)")
    end
    if seen[f.name] then check.fail(FN, arg .. ".name", "'" .. f.name .. "' is used twice") end
    seen[f.name] = true
    if type(f.metric) ~= "string" then check.fail(FN, arg .. ".metric", "string expected") end
    if (f.aggregation == nil) == (f.breakdown == nil) then
      check.fail(FN, arg, "one of 'aggregation' or 'breakdown' expected")
    end
    if f.window_s ~= nil then check.integer(FN, arg .. ".window_s", f.window_s, 60, 30 * 86400) end
    if f.step_s ~= nil then check.integer(FN, arg .. ".step_s", f.step_s, 1, 86400) end
    if f.max_values ~= nil then check.integer(FN, arg .. ".max_values", f.max_values, 1, 100) end
    if f.help ~= nil and type(f.help) ~= "string" then check.fail(FN, arg .. ".help", "string expected") end
  end
  return opts
end

local function window(client, f)
  if f.window_s == nil then return f.from, f.to end
  local step = f.step_s or 60
  local now = client:server_time() or os.time()
  local to = math.floor(now / step) * step
  return to - f.window_s, to
end

local MAX_PAGES = 10

-- Fetches one figure: { { labels, value }, ... } or nil, err.
local function fetch(client, f)
  local from, to = window(client, f)
  local a = client.analytics
  if f.aggregation then
    local r, err = a:get_aggregated_metrics(f.metric, f.aggregation, { from = from, to = to, filter_by = f.filter_by })
    if not r then return nil, err end
    return { { labels = {}, value = r.data } }, nil, r.stale
  end
  local cap = f.max_values or 10
  local label = f.breakdown:gsub("[^%w]", "_")
  local values, stale = {}, false
  local page_n = 1
  while page_n <= MAX_PAGES do
    local page, err = a:get_metrics_breakdown(f.metric, f.breakdown, { from = from, to = to, filter_by = f.filter_by,
      sort_by = "metric_value", sort_order = "desc", page_size = 100, current_page = page_n })
    if not page then return nil, err end
    stale = stale or page.stale == true
    for _, b in ipairs(page.data) do
      if type(b.metric_value) == "number" then values[#values + 1] = b end
    end
    if page_n >= (page.pagination.pages_total or 1) then break end
    page_n = page_n + 1
  end
  table.sort(values, function(x, y)
    if x.metric_value ~= y.metric_value then return x.metric_value > y.metric_value end
    return tostring(x.dimension_value) < tostring(y.dimension_value)
  end)
  local out, other, others = {}, 0, false
  for i, b in ipairs(values) do
    local v = b.dimension_value
    if i <= cap and v ~= nil and tostring(v) ~= "other" then
      out[#out + 1] = { labels = { { label, tostring(v):sub(1, 128) } }, value = b.metric_value }
    else
      other, others = other + b.metric_value, true
    end
  end
  if others then out[#out + 1] = { labels = { { label, "other" } }, value = other } end
  return out, nil, stale
end

local function write_figures(out, opts)
  local figures = opts.figures
  if not figures or #figures == 0 then return end
  local ups = {}
  for _, f in ipairs(figures) do
    local name = "apivideo_figure_" .. f.name
    local ok, series = pcall(fetch, opts.client, f)
    if not ok or not series then
      ups[#ups + 1] = { f.name, 0 }
    else
      ups[#ups + 1] = { f.name, 1 }
      out[#out + 1] = "# HELP " .. name .. " " .. escape(f.help or ("api.video " .. f.metric .. " "
        .. (f.aggregation or ("by " .. f.breakdown))))
      out[#out + 1] = "# TYPE " .. name .. " gauge"
      for _, s in ipairs(series) do
        out[#out + 1] = name .. labels_text(s.labels) .. " " .. number(s.value)
      end
    end
  end
  out[#out + 1] = "# HELP apivideo_figure_up Whether the last fetch of an api.video figure succeeded"
  out[#out + 1] = "# TYPE apivideo_figure_up gauge"
  for _, u in ipairs(ups) do
    out[#out + 1] = "apivideo_figure_up" .. labels_text({ { "figure", u[1] } }) .. " " .. u[2]
  end
end

--- The exposition text of `store` (and of `opts.figures`, fetched through
-- `opts.client`).
function M.text(store, opts)
  check.checked(2, function()
    if store == nil or type(store) == "string" or type(store) == "number" then
      check.fail(FN, "store", "a store (ngx.shared.DICT, apivideo.memory_store(), apivideo.redis_store{})"
        .. " expected, got " .. type(store))
    end
    require("apivideo.store").check(FN, "store", store, { "get", "get_keys" })
    opts = check_opts(opts)
  end)
  local series = read_series(store)
  local out = {}
  for _, name in ipairs(ORDER) do
    local meta = META[name]
    local present = series[name] or (meta[1] == "histogram" and series[name .. "_count"])
    if present then
      out[#out + 1] = "# HELP " .. name .. " " .. meta[2]
      out[#out + 1] = "# TYPE " .. name .. " " .. meta[1]
      if meta[1] == "histogram" then
        histogram(out, name, series)
      else
        local list = series[name]
        sort_series(list)
        for _, s in ipairs(list) do out[#out + 1] = name .. labels_text(s.labels) .. " " .. number(s.value) end
      end
    end
  end
  write_figures(out, opts)
  return table.concat(out, "\n") .. "\n"
end

--- In a `content_by_lua` handler: writes `M.text(store, opts)` as the
-- answer, with `Content-Type: text/plain; version=0.0.4`.
function M.serve(store, opts)
  local text = M.text(store, opts)
  local ngx = rawget(_G, "ngx")
  if not ngx or type(ngx.print) ~= "function" then
    check.raise({ fn = FN, reason = "outside nginx", text = FN .. ": needs nginx (use apivideo.prometheus.text)" }, 2)
  end
  ngx.header["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
  ngx.print(text)
  return true
end

return M
