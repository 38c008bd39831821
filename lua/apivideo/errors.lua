--- Error objects: every failure the library reports is one of these.
-- They are plain tables sharing one metatable, so they print as one line,
-- compare with `apivideo.is_error`, and carry what went wrong as fields.
--
-- A failed request (returned as `nil, err`; raised by iterators) has the
-- `kind` "http", "network", "timeout", "decode" or "auth", and everything
-- the API said: `status`, `type`, `title`, `name`, `detail`, `problems`, the
-- whole problem body in `problem`, `method`, `url`, `retry_after`, `body`
-- (first 4 KiB when the body was not problem JSON), `curl_code`,
-- `retryable`, `attempts`.
--
-- A bad argument (raised at once, before anything is sent) has the kind
-- "argument" and says which function (`fn`), which argument (`arg`) and
-- why (`reason`); `where` is the caller's position, as `error()` gives it.
-- An archive's database failing (`apivideo.archive`: a file that cannot be
-- written, a refused connection, a target another run holds, a schema from a
-- newer version) has the kind "archive", `title` saying what failed,
-- `target` (never with its password), `busy`, `stream` where they apply.
-- No credential is ever stored in any of them.
-- @module apivideo.errors
local M = {}

local BODY_LIMIT = 4096

--- An error object. Runtime failures return `nil, err` (walks raise `err`).
-- `tostring(err)` is one line, e.g. `apivideo: HTTP 404 The requested
-- resource was not found. (videoId) GET /analytics/videos/vi123`; with a
-- `problems` array it counts them and says what each one says (the first
-- ten): `... (2 problems: page: <title>; pageSize: <title> - <detail>) GET ...`.
-- Fields that do not apply are nil.
--
-- An RFC 7807 problem body (`application/problem+json`, as api.video sends)
-- is kept whole, as decoded, in `err.problem`. Each of its top-level members
-- is also a field of `err` under its own name — the standard ones below, and
-- any other (api.video's `range`, an extension member such as `balance`) as
-- it came — except two cases, where the member is only in `err.problem`:
-- a name the client uses itself (`kind`, `status`, `method`, `url`,
-- `attempts`, `curl_code`, `retry_after`, `retryable`, `body`, `problem`:
-- the client's value wins; `status` is the status line's), and a standard
-- member of another type than the one listed here (e.g. a `name` that is not
-- a string).
-- @usage local page, err = client.analytics:list_session_events(id)
-- if not page then
--   if err.kind == "http" and err.status == 404 then ... end
--   error(tostring(err))
-- end
-- @table Error
---@class apivideo.Error
---@field kind "http"|"network"|"timeout"|"decode"|"auth"|"argument"|"archive" what failed: the API, the
--- network, a time limit, a body, auth, the call itself (a bad argument), or an archive's database
---@field target? string archive errors: the database, as `apivideo.archive` prints it (no password)
---@field stream? string archive errors: the stream being archived, when one was
---@field busy? boolean archive errors: another run holds the target
---@field status? integer the HTTP status
---@field type? string from the API's problem+json body: the problem's URI
---@field title? string from the problem body (or the reason phrase, or what went wrong)
---@field name? string from the problem body: the parameter at fault
---@field detail? string from the problem body
---@field instance? string from the problem body: the URI of this occurrence
---@field problems? table[] from the problem body: one problem per parameter (`name`, `title`, `range`...)
---@field problem? table the whole problem body as decoded, every member included (nil when there was none)
---@field method? string the request's method
---@field url? string the request's URL (no credentials, ever)
---@field retry_after? number seconds to wait, from `X-RateLimit-Retry-After` / `Retry-After`
---@field body? string the first 4 KiB of a body that was not problem JSON
---@field curl_code? integer libcurl's error code, for network failures and timeouts
---@field retryable? boolean with a `curl_code`: false when no retry can heal it (see `PERMANENT`), true when one may
---@field attempts? integer how many times the request was sent
---@field fn? string argument errors: the function called (`"analytics:list_video_sessions"`, `"apivideo.new"`)
---@field arg? string argument errors: the argument or option at fault (`"period"`,
--- `"filter_by.country[1]"`); nil when the call itself came at the wrong time (a closed client)
---@field reason? string argument errors: what is wrong with it (`"there is no month 13 (01 to 12); got '2023-13'"`)
---@field where? string argument errors: the caller's position (`"report.lua:12"`), when known
local Error = { __name = "apivideo.error" }
Error.__index = Error
M.Error = Error

local KINDS = { http = true, network = true, timeout = true, decode = true, auth = true, argument = true,
  archive = true }

local function path_of(url)
  if not url then return nil end
  local path = url:match("^%a[%w+.-]*://[^/?#]*([^?#]*)") or url
  return path ~= "" and path or "/"
end

local PROBLEMS_SHOWN = 10

-- What one entry of `problems` says: "<name>: <title> - <detail>".
local function problem_text(p)
  if type(p) == "string" then return p end
  if type(p) ~= "table" then return "?" end
  local function str(v) return type(v) == "string" and v ~= "" and v or nil end
  local name, title, detail = str(p.name), str(p.title), str(p.detail)
  local text = title or detail
  if title and detail then text = title .. " - " .. detail end
  if name then return text and name .. ": " .. text or name end
  return text or "?"
end

-- "(2 problems: a: ...; b: ...)", or nil for no problems.
local function problems_text(list)
  local n = #list
  if n == 0 then return nil end
  local shown = {}
  for i = 1, math.min(n, PROBLEMS_SHOWN) do shown[i] = problem_text(list[i]) end
  if n > PROBLEMS_SHOWN then shown[#shown + 1] = "and " .. (n - PROBLEMS_SHOWN) .. " more" end
  return "(" .. n .. (n == 1 and " problem: " or " problems: ") .. table.concat(shown, "; ") .. ")"
end

--- One line: "apivideo: HTTP 404 <title> (<name>) - <detail> (<n> problems: ...) GET /path".
-- @local
---@param e apivideo.Error
---@return string
function Error.__tostring(e)
  if e.kind == "argument" then
    return (e.where and e.where .. ": " or "") .. e.text
  end
  local parts = { "apivideo:" }
  if e.kind == "http" or (e.kind == "auth" and e.status) then
    if e.kind == "auth" then parts[#parts + 1] = "authentication failed:" end
    parts[#parts + 1] = "HTTP " .. tostring(e.status)
    if e.title then parts[#parts + 1] = e.title end
    if e.name and e.name ~= "" then parts[#parts + 1] = "(" .. e.name .. ")" end
    if e.detail then parts[#parts + 1] = "- " .. e.detail end
    if type(e.problems) == "table" then parts[#parts + 1] = problems_text(e.problems) end
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

--- Creates an error; `fields.kind` must be one of the seven kinds.
-- @local
---@param fields table the error's fields
---@return apivideo.Error
function M.new(fields)
  assert(KINDS[fields.kind], "apivideo: internal: bad error kind")
  return setmetatable(fields, Error)
end

--- Creates an argument error. fields: `fn`, `arg`, `reason`, and `text`,
-- the whole line after the position (default:
-- `"<fn>: bad <noun> '<arg>' (<reason>)"`, `noun` defaulting to "argument").
-- It is raised, not returned: see `apivideo.check`.
-- @local
---@param fields table
---@return apivideo.Error
function M.argument(fields)
  local text = fields.text
  if not text then
    text = fields.fn .. ": bad " .. (fields.noun or "argument") .. " '" .. fields.arg .. "' (" .. fields.reason .. ")"
  end
  return setmetatable({ kind = "argument", fn = fields.fn, arg = fields.arg, reason = fields.reason, text = text,
    key = fields.key, unless = fields.unless }, Error)
end

--- Is `v` an argument error of this library?
-- @local
---@param v any
---@return boolean
function M.is_argument(v)
  return type(v) == "table" and getmetatable(v) == Error and v.kind == "argument"
end

-- The standard problem members and the Lua type each must have to be copied.
local PROBLEM_TYPES = {
  type = "string", title = "string", name = "string", detail = "string", instance = "string",
  problems = "table",
}
-- The client's own fields: a problem member of one of these names stays in err.problem.
local OWN = {
  kind = true, status = true, method = true, url = true, attempts = true, curl_code = true,
  retry_after = true, retryable = true, body = true, problem = true,
}

--- Builds the error for a completed HTTP response with a non-2xx status.
-- `resp` is a transfer result from apivideo.core. A problem body (a JSON
-- object with a `title` or a `type`) is kept in `problem`, and its members
-- are copied as the Error table describes.
-- @local
---@return apivideo.Error
function M.from_response(kind, method, url, resp)
  local e = { kind = kind, method = method, url = url, status = resp.status }
  local json = resp.json
  if type(json) == "table" and (json.title or json.type) then
    e.problem = json
    for k, v in pairs(json) do
      local want = PROBLEM_TYPES[k]
      if type(k) == "string" and not OWN[k] and (want == nil or type(v) == want) then e[k] = v end
    end
  else
    local body = resp.body
    if body == nil and json ~= nil then body = "(JSON without a problem title)" end
    if body and #body > 0 then e.body = body:sub(1, BODY_LIMIT) end
    if not e.title then e.title = M.reason(resp.status) end
  end
  return M.new(e)
end

--- libcurl's error codes (`CURLE_*` in curl.h) of failures that no retry
-- can heal: the same request would fail the same way, so the client sends it
-- once, and its error (kind `"network"`) has `retryable = false`. Every other
-- code may heal — a timeout (28), a refused (7) or reset (52, 56) connection,
-- a TLS handshake cut short (35), HTTP/2 framing (16, 92) — and is retried up
-- to `max_retries` (`retryable = true`).
--
-- Code 6 is what libcurl reports when the resolver answers that the name does
-- not exist, and also when the system resolver gives up by itself (a DNS
-- server that fails); a name still unresolved after `connect_timeout_ms`
-- ends as a timeout (28), which is retried.
-- @usage if err.retryable == false then print(errors.PERMANENT[err.curl_code]) end
-- @table PERMANENT
M.PERMANENT = {
  [1] = "CURLE_UNSUPPORTED_PROTOCOL: this libcurl cannot speak the URL's scheme",
  [2] = "CURLE_FAILED_INIT: libcurl could not set the transfer up",
  [3] = "CURLE_URL_MALFORMAT: the URL cannot be parsed",
  [4] = "CURLE_NOT_BUILT_IN: this libcurl was built without a feature the request needs",
  [5] = "CURLE_COULDNT_RESOLVE_PROXY: the proxy's host name does not exist",
  [6] = "CURLE_COULDNT_RESOLVE_HOST: the host name does not exist",
  [43] = "CURLE_BAD_FUNCTION_ARGUMENT: an option value libcurl refuses, the same every time",
  [48] = "CURLE_UNKNOWN_OPTION: an option this libcurl does not know",
  [49] = "CURLE_SETOPT_OPTION_SYNTAX: an option value libcurl cannot parse",
  [53] = "CURLE_SSL_ENGINE_NOTFOUND: the TLS crypto engine is not installed",
  [54] = "CURLE_SSL_ENGINE_SETFAILED: the TLS crypto engine cannot be made the default",
  [58] = "CURLE_SSL_CERTPROBLEM: the local client certificate cannot be used",
  [59] = "CURLE_SSL_CIPHER: the requested TLS cipher cannot be used",
  [60] = "CURLE_PEER_FAILED_VERIFICATION: the server's certificate is not trusted or names another host",
  [66] = "CURLE_SSL_ENGINE_INITFAILED: the TLS crypto engine failed to start",
  [77] = "CURLE_SSL_CACERT_BADFILE: the CA file is missing or not a CA bundle",
  [82] = "CURLE_SSL_CRL_BADFILE: the CRL file is missing or not a CRL",
  [83] = "CURLE_SSL_ISSUER_ERROR: the server's certificate has not the required issuer",
  [90] = "CURLE_SSL_PINNEDPUBKEYNOTMATCH: the server's public key is not the pinned one",
  [93] = "CURLE_RECURSIVE_API_CALL: libcurl was called from its own callback (a bug)",
  [98] = "CURLE_SSL_CLIENTCERT: the server requires a client certificate",
}

--- May a failure with this libcurl code heal if the request is sent again?
-- False for the codes in `PERMANENT`, true for every other one.
---@param curl_code integer a libcurl error code (non-zero)
---@return boolean retryable # false when no retry can heal the failure
function M.retryable(curl_code)
  return M.PERMANENT[curl_code] == nil
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
