-- Entry points wired in nginx.conf: init, init_worker, content and log phases
-- of every counted (non-/_standin) request.
local util = require("standin.util")
local state = require("standin.state")
local auth = require("standin.auth")
local faults = require("standin.faults")
local handlers = require("standin.handlers")
local redact = require("standin.redact")

local M = {}

function M.init()
  state.init_from_env()
  -- load the rest now, in the master, so the worker never reads files lazily
  require("standin.data")
  require("standin.periods")
  require("standin.dataops")
  require("standin.control")
end

function M.init_worker()
  math.randomseed(math.floor(ngx.now() * 1000) + ngx.worker.pid())
end

local function send(res)
  local ctx = ngx.ctx
  ctx.status = res.status
  ngx.status = res.status
  for k, v in pairs(res.headers) do ngx.header[k] = v end
  -- config date = "clock": the Date header tells the clock's time, as api.video's tells its own
  if state.config.date == "clock" then ngx.header["Date"] = ngx.http_time(math.floor(state.config.now_ms / 1000)) end
  ngx.header["Content-Length"] = #res.body
  if #res.body > 0 then
    ngx.print(res.body)
  else
    ngx.send_headers()
  end
end

function M.content()
  local ctx = ngx.ctx
  local conn = tonumber(ngx.var.connection)
  ctx.counted = true
  state.begin_request(conn)

  local method = ngx.req.get_method()
  local raw_uri = ngx.var.request_uri
  local raw_path, raw_query = util.split_uri(raw_uri)
  local path = util.pct_decode(raw_path)
  local args, qlist = util.parse_query(raw_query)
  local body
  if method ~= "GET" and method ~= "HEAD" then
    ngx.req.read_body()
    body = ngx.req.get_body_data()
  end
  local headers = ngx.req.get_headers(100)
  local host = ngx.var.http_host or (ngx.var.server_addr .. ":" .. ngx.var.server_port)
  local req = {
    method = method, raw_uri = raw_uri, raw_path = raw_path, path = path,
    args = args, qlist = qlist, body = body,
    base = ngx.var.scheme .. "://" .. host,
    -- the raw-statistics operations and today's /data/* ones: rate limit,
    -- credentials, X-RateLimit-* headers alike
    analytics = raw_path:sub(1, 11) == "/analytics/" or raw_path:sub(1, 6) == "/data/"
      or raw_path:sub(1, 8) == "/videos/" or raw_path:sub(1, 14) == "/live-streams/",
  }
  ctx.req = req
  ctx.entry = {
    method = method, uri = raw_uri, path = path, args = args,
    headers = headers, body = body, connection = conn,
  }

  local c = state.counters
  if req.analytics then c.api_requests = c.api_requests + 1 end
  if raw_path == "/auth/api-key" then c.auth_api_key = c.auth_api_key + 1 end
  if raw_path == "/auth/refresh" then c.auth_refresh = c.auth_refresh + 1 end

  local latency = state.config.latency_ms
  if latency > 0 then ngx.sleep(latency / 1000) end

  local fault = faults.pick(raw_path, path)
  if fault and fault.kind == "delay" then
    if fault.delay_ms > 0 then ngx.sleep(fault.delay_ms / 1000) end
    fault = nil
  end

  req.auth = auth.classify(headers["authorization"])
  ctx.entry.auth = req.auth

  if fault then
    local kind = fault.kind
    if kind == "reset" then
      ctx.status = 0
      return ngx.exit(444)
    end
    local rate
    if req.analytics then rate = handlers.rate_headers(select(2, state.rate_hit(ngx.now(), true))) end
    local res = faults.response(kind, rate, fault)
    if res then return send(res) end
    res = handlers.route(req)
    if kind == "pagination" then return send(faults.rewrite_pagination(res, fault)) end
    -- truncated / stall: the normal answer, cut in half
    ctx.status = res.status
    if kind == "stall" then return faults.send_stalled(res, fault.delay_ms) end
    return faults.send_truncated(res)
  end

  return send(handlers.route(req))
end

function M.log()
  local ctx = ngx.ctx
  if not ctx.counted then return end
  local status = ctx.status or ngx.status
  local entry = ctx.entry
  if entry then
    entry.status = status
    entry.auth = entry.auth or "none"
    redact.entry(entry, state)
  end
  state.end_request(status, entry)
end

return M
