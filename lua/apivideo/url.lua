--- URL building: percent-encoding of path segments and query components.
-- Everything but RFC 3986's unreserved characters is encoded, so an id such
-- as "../x?y#z" or "a/b" can never change the path the server sees.
-- @module apivideo.url
local M = {}

local function hex(c)
  return string.format("%%%02X", c:byte())
end

--- Percent-encodes one path segment or query component.
function M.encode(s)
  return (s:gsub("[^%w%-%._~]", hex))
end

--- Percent-encodes one path segment: like encode, and "." or ".." become
-- "%2E" / "%2E%2E", which no client or server may read as a dot-segment.
function M.segment(s)
  local e = M.encode(s)
  if e == "." or e == ".." then e = e:gsub("%.", "%%2E") end
  return e
end

--- Builds "?k=v&..." from an array of {key, value} pairs (already ordered).
-- Keys are used as given (the caller encodes them); values are encoded here.
function M.query(pairs_list)
  if #pairs_list == 0 then return "" end
  local out = {}
  for i, kv in ipairs(pairs_list) do
    out[i] = kv[1] .. "=" .. M.encode(kv[2])
  end
  return "?" .. table.concat(out, "&")
end

--- Strips the trailing slashes of a base URL.
function M.trim_base(base)
  return (base:gsub("/+$", ""))
end

--- The host part of an http(s) URL, lower-cased, without brackets or port.
function M.host(u)
  local authority = u:match("^[%a][%w+.-]*://([^/?#]*)")
  if not authority then return nil end
  authority = authority:gsub("^.*@", "")
  local v6 = authority:match("^%[([^%]]+)%]")
  if v6 then return v6:lower() end
  return (authority:gsub(":%d*$", "")):lower()
end

--- True for loopback hosts: 127.0.0.0/8, ::1 and localhost.
function M.is_loopback(host)
  if not host then return false end
  if host == "localhost" or host == "::1" then return true end
  local parts = { host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return false end
  for i, p in ipairs(parts) do
    -- a leading zero makes libcurl read the part as octal (0127 is 87)
    if #p > 1 and p:sub(1, 1) == "0" then return false end
    parts[i] = tonumber(p)
    if parts[i] > 255 then return false end
  end
  return parts[1] == 127
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Base64 (RFC 4648, with padding).
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(n / 262144) % 64
    local c2 = math.floor(n / 4096) % 64
    local c3 = math.floor(n / 64) % 64
    local c4 = n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

return M
