-- Injected faults (POST /_standin/faults).  A fault matches requests whose path
-- contains `match`; it lets `skip` matching requests through, then fires
-- `count` times (on every `every`-th matching request, when given).  Only the
-- first eligible fault of the list fires for a request.
local util = require("standin.util")

local M = {}

local KINDS = {
  ["500"] = true, ["502"] = true, ["503"] = true, ["429"] = true, ["401"] = true,
  truncated = true, invalid_json = true, empty = true, delay = true, reset = true,
  -- bad answers for the reliability specs
  ["302"] = true, array = true, missing_data = true, bad_types = true, deep = true, stall = true,
  -- the normal answer with its pagination rewritten (current_page / pages_total):
  -- a server that contradicts itself, or whose result grows or shrinks mid-walk
  pagination = true,
}
M.KINDS = KINDS

local list = {}

-- Replaces the fault list.  Returns the number of faults or nil, message.
function M.set(faults)
  if type(faults) ~= "table" then return nil, "faults must be an array" end
  local new = {}
  for n, f in ipairs(faults) do
    if type(f) ~= "table" then return nil, "fault " .. n .. " must be an object" end
    local kind = f.kind
    if type(kind) == "number" then kind = string.format("%d", kind) end
    if not KINDS[kind] then return nil, "fault " .. n .. ": unknown kind " .. tostring(f.kind) end
    if f.match ~= nil and type(f.match) ~= "string" then
      return nil, "fault " .. n .. ": match must be a string"
    end
    for _, k in ipairs({ "location", "retry_after" }) do
      if f[k] ~= nil and type(f[k]) ~= "string" then
        return nil, "fault " .. n .. ": " .. k .. " must be a string"
      end
    end
    for _, k in ipairs({ "count", "skip", "delay_ms", "every", "current_page", "pages_total" }) do
      if f[k] ~= nil and type(f[k]) ~= "number" then
        return nil, "fault " .. n .. ": " .. k .. " must be a number"
      end
    end
    new[n] = {
      match = f.match, kind = kind,
      count = f.count or 1,           -- a negative count fires forever
      skip = f.skip or 0,
      delay_ms = f.delay_ms or 0,
      location = f.location, retry_after = f.retry_after,
      current_page = f.current_page, pages_total = f.pages_total,
      every = (f.every and f.every >= 1) and math.floor(f.every) or nil, -- fire on every Nth match
      seen = 0, fired = 0,
    }
  end
  list = new
  return #new
end

function M.clear() list = {} end

-- The fault list with its progress, for GET /_standin/faults.
function M.describe()
  local out = {}
  for n, f in ipairs(list) do
    out[n] = { match = f.match, kind = f.kind, count = f.count, skip = f.skip,
               delay_ms = f.delay_ms, seen = f.seen, fired = f.fired }
  end
  return out
end

-- Picks the fault for a request (raw and decoded path), advancing the counters.
function M.pick(raw_path, path)
  local chosen
  for _, f in ipairs(list) do
    local m = f.match
    if m == nil or m == "" or raw_path:find(m, 1, true) or path:find(m, 1, true) then
      f.seen = f.seen + 1
      local due = f.every == nil or (f.seen - f.skip) % f.every == 0
      if not chosen and due and f.seen > f.skip and (f.count < 0 or f.fired < f.count) then
        f.fired = f.fired + 1
        chosen = f
      end
    end
  end
  return chosen
end

local REASONS = {
  [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [404] = "Not Found",
  [405] = "Method Not Allowed", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
}
M.REASONS = REASONS

local function html(status)
  local line = status .. " " .. REASONS[status]
  return "<html>\r\n<head><title>" .. line .. "</title></head>\r\n<body>\r\n<center><h1>" .. line
    .. "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
end

-- The canned answer of a fault kind that answers by itself (not delay, reset or
-- truncated).  rate: headers table with X-RateLimit-* for analytics paths, or nil.
function M.response(kind, rate, fault)
  local h = {}
  if rate then for k, v in pairs(rate) do h[k] = v end end
  if kind == "500" or kind == "502" or kind == "503" then
    local status = tonumber(kind)
    h["Content-Type"] = "text/html"
    return { status = status, headers = h, body = html(status) }
  elseif kind == "429" then
    h["X-RateLimit-Retry-After"] = fault and fault.retry_after or "1"
    if rate then h["X-RateLimit-Remaining"] = "0" end
    return util.too_many(h)
  elseif kind == "401" then
    return util.unauthorized(h)
  elseif kind == "invalid_json" then
    return util.json_response(200, '{"data": [', h)
  elseif kind == "empty" then
    return util.json_response(200, "", h)
  elseif kind == "302" then
    h["Location"] = fault and fault.location or "http://127.0.0.1:9/elsewhere"
    return { status = 302, headers = h, body = "" }
  elseif kind == "array" then
    return util.json_response(200, "[1,2,3]", h)
  elseif kind == "missing_data" then
    return util.json_response(200, '{"pagination":{"currentPage":1,"pagesTotal":1}}', h)
  elseif kind == "bad_types" then
    return util.json_response(200, '{"data":"none","pagination":{"currentPage":"1","pagesTotal":"x"}}', h)
  elseif kind == "deep" then
    return util.json_response(200, '{"data":' .. string.rep("[", 200) .. string.rep("]", 200)
      .. ',"pagination":{"currentPage":1,"pagesTotal":1}}', h)
  end
  return nil
end

-- The pagination fault: res (a normal JSON answer) with pagination.currentPage
-- and/or pagination.pagesTotal replaced by the fault's numbers.
function M.rewrite_pagination(res, fault)
  local body = res.body
  if fault.current_page then
    body = body:gsub('"currentPage":%s*%d+', '"currentPage":' .. string.format("%d", fault.current_page))
  end
  if fault.pages_total then
    body = body:gsub('"pagesTotal":%s*%d+', '"pagesTotal":' .. string.format("%d", fault.pages_total))
  end
  res.body = body
  return res
end

-- Sends the headers and half of res's body, then nothing for delay_ms (or
-- 60 s): a stalled transfer.
function M.send_stalled(res, delay_ms)
  ngx.status = res.status
  for k, v in pairs(res.headers) do ngx.header[k] = v end
  ngx.header["Content-Length"] = #res.body
  ngx.print(res.body:sub(1, math.floor(#res.body / 2)))
  ngx.flush(true)
  ngx.sleep((delay_ms and delay_ms > 0 and delay_ms or 60000) / 1000)
  return ngx.exit(444)
end

-- Sends res with a Content-Length larger than the bytes written, then closes the
-- connection.  Uses the raw downstream socket, so nginx adds nothing.
function M.send_truncated(res)
  local sock, err = ngx.req.socket(true)
  if not sock then
    ngx.log(ngx.WARN, "truncated fault: no raw socket: ", err)
    return ngx.exit(444)
  end
  local body = res.body
  local sent = math.floor(#body / 2)
  local declared = #body
  if declared <= sent then declared = sent + 64 end
  local lines = { "HTTP/1.1 " .. res.status .. " " .. (REASONS[res.status] or "Unknown") }
  lines[#lines + 1] = "Date: " .. ngx.http_time(ngx.time())
  for k, v in pairs(res.headers) do lines[#lines + 1] = k .. ": " .. v end
  lines[#lines + 1] = "Content-Length: " .. declared
  lines[#lines + 1] = "Connection: keep-alive"
  sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body:sub(1, sent))
  return ngx.exit(444)
end

return M
