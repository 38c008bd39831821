--- Error objects: every runtime failure of a request is one of these.
-- They are plain tables sharing one metatable, so they print as one line,
-- compare with `apivideo.is_error`, and carry everything the API said:
-- `kind` ("http", "network", "timeout", "decode", "auth"), `status`, `type`,
-- `title`, `name`, `detail`, `problems`, `method`, `url`, `retry_after`,
-- `body` (first 4 KiB when the body was not problem JSON), `curl_code`,
-- `attempts`. No credential is ever stored in one.
-- @module apivideo.errors
local M = {}

local BODY_LIMIT = 4096

--- An error object. Runtime failures return `nil, err` (walks raise `err`).
-- `tostring(err)` is one line, e.g. `apivideo: HTTP 404 The requested
-- resource was not found. (videoId) GET /analytics/videos/vi123`. Fields
-- that do not apply are nil.
-- @usage local page, err = client.analytics:list_session_events(id)
-- if not page then
--   if err.kind == "http" and err.status == 404 then ... end
--   error(tostring(err))
-- end
-- @table Error
---@class apivideo.Error
---@field kind "http"|"network"|"timeout"|"decode"|"auth" what failed: the API, the network, a time limit, a body, auth
---@field status? integer the HTTP status
---@field type? string from the API's problem+json body: the problem's URI
---@field title? string from the problem body (or the reason phrase, or what went wrong)
---@field name? string from the problem body: the parameter at fault
---@field detail? string from the problem body
---@field problems? table[] from the problem body: one problem per parameter
---@field method? string the request's method
---@field url? string the request's URL (no credentials, ever)
---@field retry_after? number seconds to wait, from `X-RateLimit-Retry-After` / `Retry-After`
---@field body? string the first 4 KiB of a body that was not problem JSON
---@field curl_code? integer libcurl's error code, for network failures and timeouts
---@field attempts? integer how many times the request was sent
local Error = { __name = "apivideo.error" }
Error.__index = Error
M.Error = Error

local KINDS = { http = true, network = true, timeout = true, decode = true, auth = true }

local function path_of(url)
  if not url then return nil end
  local path = url:match("^%a[%w+.-]*://[^/?#]*([^?#]*)") or url
  return path ~= "" and path or "/"
end

--- One line: "apivideo: HTTP 404 <title> (<name>) GET /path".
-- @local
---@param e apivideo.Error
---@return string
function Error.__tostring(e)
  local parts = { "apivideo:" }
  if e.kind == "http" or (e.kind == "auth" and e.status) then
    if e.kind == "auth" then parts[#parts + 1] = "authentication failed:" end
    parts[#parts + 1] = "HTTP " .. tostring(e.status)
    if e.title then parts[#parts + 1] = e.title end
    if e.name and e.name ~= "" then parts[#parts + 1] = "(" .. e.name .. ")" end
    if e.detail then parts[#parts + 1] = "- " .. e.detail end
  else
    parts[#parts + 1] = e.kind .. " error:"
    if e.title then parts[#parts + 1] = e.title end
  end
  if e.attempts and e.attempts > 1 then
    parts[#parts + 1] = "[after " .. e.attempts .. " attempts]"
  end
  if e.method then parts[#parts + 1] = e.method end
  local path = path_of(e.url)
  if path then parts[#parts + 1] = path end
  return (table.concat(parts, " "):gsub("[\r\n]+", " "))
end

--- Is `v` an error object of this library? (`apivideo.is_error`)
---@param v any any value
---@return boolean is_error # true for an error object, false for anything else
function M.is_error(v)
  return type(v) == "table" and getmetatable(v) == Error
end

--- Creates an error; `fields.kind` must be one of the five kinds.
-- @local
---@param fields table the error's fields
---@return apivideo.Error
function M.new(fields)
  assert(KINDS[fields.kind], "apivideo: internal: bad error kind")
  return setmetatable(fields, Error)
end

local PROBLEM_FIELDS = { "type", "title", "name", "detail", "status" }

--- Builds the error for a completed HTTP response with a non-2xx status.
-- `resp` is a transfer result from apivideo.core.
-- @local
---@return apivideo.Error
function M.from_response(kind, method, url, resp)
  local e = { kind = kind, method = method, url = url, status = resp.status }
  local json = resp.json
  if type(json) == "table" and (json.title or json.type) then
    for _, k in ipairs(PROBLEM_FIELDS) do
      local v = json[k]
      if type(v) == "string" or (k == "status" and type(v) == "number") then e[k] = v end
    end
    e.status = resp.status -- the status line wins over the body's claim
    if type(json.problems) == "table" then e.problems = json.problems end
  else
    local body = resp.body
    if body == nil and json ~= nil then body = "(JSON without a problem title)" end
    if body and #body > 0 then e.body = body:sub(1, BODY_LIMIT) end
    if not e.title then e.title = M.reason(resp.status) end
  end
  return M.new(e)
end

local REASONS = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Payload Too Large", [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

--- The standard reason phrase of a status, or "HTTP error".
-- @local
---@param status integer
---@return string
function M.reason(status)
  return REASONS[status] or "HTTP error"
end

return M
