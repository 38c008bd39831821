-- Deterministic data set of the stand-in: every field is computed from the
-- session index, nothing is random and nothing is stored.
--
-- Pure Lua (cjson only), no ngx dependency, so it can be timed from plain LuaJIT.
local cjson = require("cjson")
local periods = require("standin.periods")

local floor, format, match, tonumber, tostring = math.floor, string.format, string.match, tonumber, tostring
local concat = table.concat
local fmt = periods.format_ms

local M = {}

local T0 = periods.days_from_civil(2023, 1, 1) * periods.DAY_MS      -- 2023-01-01T00:00:00.000Z
local SPAN = 365 * periods.DAY_MS                                    -- .. 2023-12-31T23:59:59.999Z
M.T0, M.SPAN = T0, SPAN

-- Sources of sessions: videos and live streams.
local SOURCES = {
  vi10k   = { id = "vi10k",   kind = "video", n = 10000 },
  vi100k  = { id = "vi100k",  kind = "video", n = 100000 },
  vi250   = { id = "vi250",   kind = "video", n = 250 },
  viEmpty = { id = "viEmpty", kind = "video", n = 0 },
  li500   = { id = "li500",   kind = "live",  n = 500 },
  liEmpty = { id = "liEmpty", kind = "live",  n = 0 },
}
M.SOURCES = SOURCES

function M.source(kind, id)
  local s = SOURCES[id]
  if s and s.kind == kind then return s end
  return nil
end

-- loadedAt of session i (1-based) of a source with n sessions, spread evenly over 2023.
local function loaded_ms(n, i)
  return T0 + floor((i - 1) * SPAN / n)
end
M.loaded_ms = loaded_ms

-- Session length in seconds: 30 .. 1800.
local function duration_s(i)
  return 30 + (i * 37) % 1771
end
M.duration_s = duration_s

-- Smallest i in 1..n+1 with loaded_ms(n, i) >= t.
local function first_at_or_after(n, t)
  local lo, hi = 1, n + 1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if loaded_ms(n, mid) >= t then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- Index range [lo, hi] of the sessions whose loadedAt is in [start_ms, end_ms).
function M.range(src, start_ms, end_ms)
  return first_at_or_after(src.n, start_ms), first_at_or_after(src.n, end_ms) - 1
end

------------------------------------------------------------------------------
-- Fixed lists, pre-encoded once.
local function e(s) return (cjson.encode(s):gsub("\\/", "/")) end

local LOCATIONS = {
  { "France", "Paris" }, { "Germany", "Berlin" }, { "United States", "New York" },
  { "Japan", "Tokyo" }, { "Brazil", "São Paulo" }, { "Canada", "Montréal" },
}
local MEDIUMS = { "organic", "paid", "direct", "social" }
local SOURCES_REF = { "https://google.com", "https://bing.com", "https://duckduckgo.com", "https://t.co" }
local SEARCH_TERMS = { "video encoding hosting and delivery", "lua analytics client", "api.video", "how to stream" }
local DEVICES = {
  { "desktop", "Dell", "unknown" }, { "mobile", "Apple", "iPhone" },
  { "tablet", "Samsung", "Galaxy Tab S8" }, { "tv", "LG", "OLED55C3" },
}
local OSES = {
  { "Microsoft Windows", "W10", "Windows10" }, { "Mac", "MAC", "14.1" },
  { "iOS", "IOS", "17.1" }, { "Android", "AND", "14" }, { "GNU/Linux", "LIN", "6.1" },
}
local CLIENTS = {
  { "browser", "Firefox", "67.0" }, { "browser", "Chrome", "119.0.6045.105" },
  { "browser", "Safari", "17.1" }, { "mobile app", "api.video player", "1.4.0" },
  { "browser", "Edge", "119.0" },
}

local LOC_J, DEV_J, OS_J, CLI_J, MED_J, SRC_J, TERM_J = {}, {}, {}, {}, {}, {}, {}
for k, v in ipairs(LOCATIONS) do
  LOC_J[k] = { '"location":{"country":' .. e(v[1]) .. ',"city":', e(v[2]) }
end
for k, v in ipairs(DEVICES) do
  DEV_J[k] = '"device":{"type":' .. e(v[1]) .. ',"vendor":' .. e(v[2]) .. ',"model":' .. e(v[3]) .. '}'
end
for k, v in ipairs(OSES) do
  OS_J[k] = '"os":{"name":' .. e(v[1]) .. ',"shortname":' .. e(v[2]) .. ',"version":' .. e(v[3]) .. '}'
end
for k, v in ipairs(CLIENTS) do
  CLI_J[k] = '"client":{"type":' .. e(v[1]) .. ',"name":' .. e(v[2]) .. ',"version":' .. e(v[3]) .. '}'
end
for k, v in ipairs(MEDIUMS) do MED_J[k] = e(v) end
for k, v in ipairs(SOURCES_REF) do SRC_J[k] = e(v) end
for k, v in ipairs(SEARCH_TERMS) do TERM_J[k] = e(v) end

local TAG_VALUE = "café au lait"
local TAG_J = ',{"key":"tag","value":' .. e(TAG_VALUE) .. '}'

------------------------------------------------------------------------------
-- Metadata of session i.  Video sessions always carry it, live-stream sessions
-- only when i is even.
local function has_metadata(src, i)
  return src.kind == "video" or i % 2 == 0
end

local function metadata_json(i)
  local s = '[{"key":"user","value":"user' .. (i % 100) .. '"},{"key":"plan","value":"'
    .. (i % 3 == 0 and "pro" or "free") .. '"}'
  if i % 11 == 0 then s = s .. TAG_J end
  return s .. "]"
end

-- Metadata as a Lua array (for specs and tools).
function M.metadata(src, i)
  if not has_metadata(src, i) then return nil end
  local t = { { key = "user", value = "user" .. (i % 100) }, { key = "plan", value = i % 3 == 0 and "pro" or "free" } }
  if i % 11 == 0 then t[3] = { key = "tag", value = TAG_VALUE } end
  return t
end

function M.session_id(src, i)
  return format("ps%s_%06d", src.id, i)
end

-- JSON text of session i of src.
function M.session_json(src, i)
  local loaded = loaded_ms(src.n, i)
  local ended = loaded + duration_s(i) * 1000
  local loc = LOC_J[i % #LOC_J + 1]
  local p = {
    '{"session":{"sessionId":"', M.session_id(src, i),
    '","loadedAt":"', fmt(loaded), '","endedAt":"', fmt(ended), '"',
  }
  if has_metadata(src, i) then
    p[#p + 1] = ',"metadata":'
    p[#p + 1] = metadata_json(i)
  end
  p[#p + 1] = "},"
  p[#p + 1] = loc[1]
  p[#p + 1] = (i % 7 == 0) and "null" or loc[2]
  p[#p + 1] = '},"referrer":{"url":'
  p[#p + 1] = (i % 5 == 0) and "null" or ('"https://example.com/watch/' .. (i % 50) .. '"')
  p[#p + 1] = ',"medium":'
  p[#p + 1] = MED_J[i % #MED_J + 1]
  p[#p + 1] = ',"source":'
  p[#p + 1] = SRC_J[floor(i / 3) % #SRC_J + 1]
  p[#p + 1] = ',"searchTerm":'
  p[#p + 1] = TERM_J[floor(i / 2) % #TERM_J + 1]
  p[#p + 1] = "},"
  p[#p + 1] = DEV_J[floor(i / 5) % #DEV_J + 1]
  p[#p + 1] = ","
  p[#p + 1] = OS_J[floor(i / 7) % #OS_J + 1]
  p[#p + 1] = ","
  p[#p + 1] = CLI_J[floor(i / 11) % #CLI_J + 1]
  if src.kind == "video" and i % 13 == 0 then
    p[#p + 1] = ',"x-extra":{"kept":true}'
  end
  p[#p + 1] = "}"
  return concat(p)
end

------------------------------------------------------------------------------
-- Metadata filters: metadata[k]=v, AND-ed.  Each (k, v) compiles to a test on
-- the index; unknown keys or values match nothing.
local function compile_filter(k, v)
  if k == "user" then
    local d = match(v, "^user(%d+)$")
    local n = d and tonumber(d)
    if n and n < 100 and tostring(n) == d then
      return function(i) return i % 100 == n end
    end
  elseif k == "plan" then
    if v == "pro" then return function(i) return i % 3 == 0 end end
    if v == "free" then return function(i) return i % 3 ~= 0 end end
  elseif k == "tag" then
    if v == TAG_VALUE then return function(i) return i % 11 == 0 end end
  end
  return false
end

local cache, cache_n, CACHE_MAX = {}, 0, 64

-- Indexes (ascending) of src's sessions in [lo, hi] that pass every filter.
-- filters: array of {key, value}.  Cached per (source, range, filters).
function M.filtered(src, lo, hi, filters)
  local keyparts = { src.id, lo, hi }
  local sorted = {}
  for k, f in ipairs(filters) do sorted[k] = f[1] .. "\0" .. f[2] end
  table.sort(sorted)
  for _, s in ipairs(sorted) do keyparts[#keyparts + 1] = s end
  local key = concat(keyparts, "\1")
  local hit = cache[key]
  if hit then return hit end

  local preds, none = {}, false
  for _, f in ipairs(filters) do
    local p = compile_filter(f[1], f[2])
    if not p then none = true break end
    preds[#preds + 1] = p
  end
  local list, n = {}, 0
  if not none then
    local np = #preds
    for i = lo, hi do
      local ok = has_metadata(src, i)
      local j = 1
      while ok and j <= np do
        ok = preds[j](i)
        j = j + 1
      end
      if ok then n = n + 1; list[n] = i end
    end
  end
  if cache_n >= CACHE_MAX then cache, cache_n = {}, 0 end
  cache[key] = list
  cache_n = cache_n + 1
  return list
end

function M.clear_cache() cache, cache_n = {}, 0 end

------------------------------------------------------------------------------
-- Events.
local TYPES = { "ready", "play", "pause", "resume", "seek.forward", "seek.backward", "end" }
M.EVENT_TYPES = TYPES

local SPECIAL = {
  psManyEvents = { n = 1000, loaded = T0 + 180 * periods.DAY_MS, dur = 1800 },
  psNoEvents   = { n = 0,    loaded = T0 + 181 * periods.DAY_MS, dur = 60 },
}

-- Resolves a session id to {n = events, loaded = ms, dur = seconds} or nil.
function M.session(sid)
  local sp = SPECIAL[sid]
  if sp then return sp end
  local id, digits = match(sid, "^ps(.+)_(%d%d%d%d%d%d)$")
  if not id then return nil end
  local src = SOURCES[id]
  local i = tonumber(digits)
  if not src or i < 1 or i > src.n then return nil end
  return { n = 3 + i % 8, loaded = loaded_ms(src.n, i), dur = duration_s(i) }
end

-- JSON text of event j (1-based) of a resolved session.
function M.event_json(s, j)
  local n, dur = s.n, s.dur
  local t = TYPES[(j - 1) % #TYPES + 1]
  local emitted = s.loaded + floor(j * dur * 1000 / (n + 1))
  local pos = floor(j * dur / (n + 1))
  local head = '{"type":"' .. t .. '","emittedAt":"' .. fmt(emitted) .. '",'
  if t == "seek.forward" then
    local to = pos + 15
    if to > dur then to = dur end
    return head .. '"from":' .. pos .. ',"to":' .. to .. "}"
  elseif t == "seek.backward" then
    local to = pos - 15
    if to < 0 then to = 0 end
    return head .. '"from":' .. pos .. ',"to":' .. to .. "}"
  elseif t == "ready" then
    return head .. '"at":0}'
  end
  return head .. '"at":' .. pos .. "}"
end

return M
