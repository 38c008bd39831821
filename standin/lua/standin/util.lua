-- Small helpers shared by the stand-in modules: URI decoding, query parsing,
-- JSON text building and response tables.
--
-- Responses are plain tables {status=, headers={}, body=""} so that a fault can
-- take a finished response and mangle it (see faults.lua) before it is sent.
local cjson = require("cjson")

local M = {}

local char, find, sub, gsub, gmatch = string.char, string.find, string.sub, string.gsub, string.gmatch
local concat = table.concat

local function hexchar(h) return char(tonumber(h, 16)) end

-- Percent-decoding only ("+" stays "+"): what the path gets, once.
function M.pct_decode(s)
  return (gsub(s, "%%(%x%x)", hexchar))
end

-- Query component decoding: "+" and "%20" both become a space.
function M.query_decode(s)
  return (gsub(gsub(s, "+", " "), "%%(%x%x)", hexchar))
end

-- "/a/b?x=1" -> "/a/b", "x=1" (query nil when there is no "?").
function M.split_uri(raw)
  local q = find(raw, "?", 1, true)
  if q then return sub(raw, 1, q - 1), sub(raw, q + 1) end
  return raw, nil
end

-- Decodes a raw query string.  Returns
--   args: object of decoded key -> decoded value (repeated keys -> array, bare key -> true)
--   list: array of {raw=, key=, value=} in the order received (for rebuilding links)
function M.parse_query(q)
  local args, list = {}, {}
  if not q or q == "" then return args, list end
  for part in gmatch(q, "[^&]+") do
    local eq = find(part, "=", 1, true)
    local rk, rv
    if eq then rk, rv = sub(part, 1, eq - 1), sub(part, eq + 1) else rk = part end
    local k = M.query_decode(rk)
    local v = true
    if rv then v = M.query_decode(rv) end
    list[#list + 1] = { raw = part, key = k, value = v }
    local old = args[k]
    if old == nil then
      args[k] = v
    elseif type(old) == "table" then
      old[#old + 1] = v
    else
      args[k] = { old, v }
    end
  end
  return args, list
end

-- Last value of a (possibly repeated) query argument, as a string or nil.
function M.last_arg(args, name)
  local v = args[name]
  if type(v) == "table" then v = v[#v] end
  if v == true then return "" end
  return v
end

-- JSON encoding of one value.  Debian's lua-cjson 2.1.0 escapes "/" as "\/";
-- that is valid JSON but api.video does not do it, so undo it.  The only way
-- "\/" can appear in cjson output is an escaped slash (a literal backslash is
-- always written as "\\"), so the substitution is exact.
local function enc(v)
  return (gsub(cjson.encode(v), "\\/", "/"))
end
M.enc = enc

-- Encodes ordered pairs {k1, v1, k2, v2, ...} as a JSON object (keeps key order).
function M.obj(pairs_list)
  local out = {}
  for i = 1, #pairs_list, 2 do
    out[#out + 1] = enc(pairs_list[i]) .. ":" .. enc(pairs_list[i + 1])
  end
  return "{" .. concat(out, ",") .. "}"
end

-- JSON array text from already-encoded element texts (cjson would turn {} into "{}").
function M.array_of(texts)
  return "[" .. concat(texts, ",") .. "]"
end

function M.json_response(status, body, headers)
  local h = headers or {}
  h["Content-Type"] = "application/json"
  return { status = status, headers = h, body = body }
end

function M.problem(status, ordered_pairs, headers)
  local h = headers or {}
  h["Content-Type"] = "application/problem+json"
  return { status = status, headers = h, body = M.obj(ordered_pairs) }
end

-- The canned api.video problem bodies used by the contract.
function M.invalid_credentials()
  return M.problem(400, {
    "type", "https://docs.api.video/docs/authenticationinvalid_credentials",
    "title", "The user credentials were incorrect.",
    "name", "",
    "status", 400,
  })
end

function M.unauthorized(headers)
  return M.problem(401, {
    "type", "https://docs.api.video/reference/unauthorized",
    "title", "Unauthorized request",
    "status", 401,
  }, headers)
end

function M.too_many(headers)
  return M.problem(429, {
    "type", "https://docs.api.video/reference/too-many-requests",
    "title", "Too many requests.",
    "status", 429,
  }, headers)
end

function M.not_found(name, headers)
  local p = {
    "type", "https://docs.api.video/docs/resourcenot_found",
    "title", "The requested resource was not found.",
  }
  if name then p[#p + 1] = "name"; p[#p + 1] = name end
  p[#p + 1] = "status"; p[#p + 1] = 404
  return M.problem(404, p, headers)
end

function M.invalid_attribute(name, detail, headers)
  return M.problem(400, {
    "type", "https://docs.api.video/reference/invalid-attribute",
    "title", "An attribute is invalid.",
    "name", name,
    "status", 400,
    "detail", detail,
  }, headers)
end

function M.method_not_allowed(headers)
  return M.problem(405, {
    "type", "https://docs.api.video/reference/method-not-allowed",
    "title", "Method not allowed.",
    "status", 405,
  }, headers)
end

return M
