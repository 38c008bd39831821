-- Keeps secrets out of the request log: Authorization headers are dropped,
-- apiKey / refreshToken values in bodies become "<redacted>", and any literal
-- occurrence of the configured API key anywhere in the entry is replaced too.
local cjson = require("cjson")

local M = {}

local find, sub, gsub = string.find, string.sub, string.gsub
local concat = table.concat

local RED = "<redacted>"
local SECRET_FIELDS = { "apiKey", "refreshToken" }
local DROP_HEADERS = { authorization = true, ["proxy-authorization"] = true }

-- Replaces the value of every "name": ... member in a JSON-ish text, without
-- needing the text to be valid JSON.
local function redact_field(s, name)
  local out, pos, n = {}, 1, #s
  local needle = '"' .. name .. '"'
  while true do
    local a, b = find(s, needle, pos, true)
    if not a then break end
    local _, colon = find(s, "^%s*:%s*", b + 1)
    if not colon then
      out[#out + 1] = sub(s, pos, b)
      pos = b + 1
    else
      local v = colon + 1
      if sub(s, v, v) == '"' then
        local k = v + 1
        while k <= n do
          local ch = sub(s, k, k)
          if ch == "\\" then k = k + 2
          elseif ch == '"' then break
          else k = k + 1 end
        end
        out[#out + 1] = sub(s, pos, v) .. RED .. '"'
        pos = k + 1
      else
        local _, ve = find(s, "^[^,}%]]*", v)
        out[#out + 1] = sub(s, pos, v - 1) .. '"' .. RED .. '"'
        pos = ve + 1
      end
    end
  end
  out[#out + 1] = sub(s, pos)
  return concat(out)
end

local function literal(s, secrets)
  if type(s) ~= "string" then return s end
  for _, k in ipairs(secrets) do
    if find(s, k, 1, true) then
      s = gsub(s, gsub(k, "%p", "%%%0"), RED)
    end
  end
  return s
end

function M.body(body, secrets)
  if type(body) ~= "string" or body == "" then return body end
  for _, f in ipairs(SECRET_FIELDS) do
    if find(body, f, 1, true) then body = redact_field(body, f) end
  end
  return literal(body, secrets)
end

-- Scrubs a log entry in place.  state gives the current and start API keys.
function M.entry(e, state)
  local secrets = {}
  for _, k in ipairs({ state.config.api_key, state.start_config.api_key }) do
    if type(k) == "string" and #k >= 4 then secrets[#secrets + 1] = k end
  end
  e.uri = literal(e.uri, secrets)
  e.path = literal(e.path, secrets)
  local args = {}
  for k, v in pairs(e.args or {}) do
    if type(v) == "table" then
      local t = {}
      for i, x in ipairs(v) do t[i] = literal(x, secrets) end
      v = t
    else
      v = literal(v, secrets)
    end
    args[literal(k, secrets)] = v
  end
  e.args = args
  local h = {}
  for k, v in pairs(e.headers or {}) do
    if not DROP_HEADERS[k] then
      if type(v) == "table" then
        local t = {}
        for i, x in ipairs(v) do t[i] = literal(x, secrets) end
        v = t
      else
        v = literal(v, secrets)
      end
      h[k] = v
    end
  end
  e.headers = h
  if e.body == nil then
    e.body = cjson.null
  else
    e.body = M.body(e.body, secrets)
  end
  return e
end

return M
