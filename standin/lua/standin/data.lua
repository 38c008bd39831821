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
  -- the ids of api.video's own documentation, so that README's examples run as written
  vi4k0jvEUuaTdRAEjQ4Prklg = { id = "vi4k0jvEUuaTdRAEjQ4Prklg", kind = "video", n = 120 },
  li400mYKSgQ6xs7taUeSaEKr = { id = "li400mYKSgQ6xs7taUeSaEKr", kind = "live", n = 60 },
}
M.SOURCES = SOURCES

-- The titles of the videos (GET /videos/{videoId}: `title`) and the names of
-- the live streams (GET /live-streams/{liveStreamId}: `name`).
local TITLES = {
  vi10k = "Ten thousand plays", vi100k = "The big one", vi250 = "Café tour: 250 sessions", viEmpty = "Nobody watched",
  li500 = "Weekly live show", liEmpty = "Rehearsal", vi4k0jvEUuaTdRAEjQ4Prklg = "Maths video",
  li400mYKSgQ6xs7taUeSaEKr = "My Live Stream",
}
function M.title(id) return TITLES[id] end

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

-- Each list also carries the value the /data/* operations report for it
-- (ISO-3166 alpha2 country and continent, deviceType, operatingSystem, browser).
local LOCATIONS = {
  { "France", "Paris", "FR", "EU" }, { "Germany", "Berlin", "DE", "EU" },
  { "United States", "New York", "US", "NA" }, { "Japan", "Tokyo", "JP", "AS" },
  { "Brazil", "São Paulo", "BR", "SA" }, { "Canada", "Montréal", "CA", "NA" },
}
local MEDIUMS = { "organic", "paid", "direct", "social" }
local SOURCES_REF = { "https://google.com", "https://bing.com", "https://duckduckgo.com", "https://t.co" }
local SEARCH_TERMS = { "video encoding hosting and delivery", "lua analytics client", "api.video", "how to stream" }
local DEVICES = {
  { "desktop", "Dell", "unknown", "computer" }, { "mobile", "Apple", "iPhone", "phone" },
  { "tablet", "Samsung", "Galaxy Tab S8", "tablet" }, { "tv", "LG", "OLED55C3", "tv" },
}
local OSES = {
  { "Microsoft Windows", "W10", "Windows10", "windows" }, { "Mac", "MAC", "14.1", "mac osx" },
  { "iOS", "IOS", "17.1", "ios" }, { "Android", "AND", "14", "android" }, { "GNU/Linux", "LIN", "6.1", "linux" },
}
local CLIENTS = {
  { "browser", "Firefox", "67.0", "firefox" }, { "browser", "Chrome", "119.0.6045.105", "chrome" },
  { "browser", "Safari", "17.1", "safari" }, { "mobile app", "api.video player", "1.4.0", "unknown" },
  { "browser", "Edge", "119.0", "edge" },
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

-- referrer.url of session i (JSON null when i % 5 == 0, i.e. this returns nil).
local function referrer_url(i)
  if i % 5 == 0 then return nil end
  return "https://example.com/watch/" .. (i % 50)
end
M.referrer_url = referrer_url

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
  p[#p + 1] = (i % 5 == 0) and "null" or ('"' .. referrer_url(i) .. '"')
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
local rcache, rcache_n = {}, 0   -- M.records

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

function M.clear_cache() cache, cache_n, rcache, rcache_n = {}, 0, {}, 0 end

------------------------------------------------------------------------------
-- Events.
local TYPES = { "ready", "play", "pause", "resume", "seek.forward", "seek.backward", "end" }
M.EVENT_TYPES = TYPES

local SPECIAL = {
  psManyEvents = { n = 1000, loaded = T0 + 180 * periods.DAY_MS, dur = 1800 },
  psNoEvents   = { n = 0,    loaded = T0 + 181 * periods.DAY_MS, dur = 60 },
  -- a day-long session with 100 000 events (make bench: the CLI's events output)
  psEvents100k = { n = 100000, loaded = T0 + 182 * periods.DAY_MS, dur = 86400 },
  -- api.video's documented sample session id
  psEmFwGQUAXR2lFHj5nDOpy = { n = 12, loaded = T0 + 20 * periods.DAY_MS, dur = 300 },
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

------------------------------------------------------------------------------
-- The project-wide view of the /data/* operations (metrics, buckets, time
-- series): every session of every source, with the dimensions and measures
-- the Analytics operations aggregate.  Everything below is derived from the
-- same index rules as the session JSON above, so the two never disagree.

-- Sources in a fixed order (ties of loadedAt are broken by it).
local ORDER = { "vi10k", "vi100k", "vi250", "viEmpty", "li500", "liEmpty", "vi4k0jvEUuaTdRAEjQ4Prklg",
  "li400mYKSgQ6xs7taUeSaEKr" }
M.SOURCE_ORDER = ORDER
local RANK = {}
for k, id in ipairs(ORDER) do RANK[id] = k end

-- Impressions of session i: the player loaded once, twice when i % 4 == 0.
function M.impressions(i) return (i % 4 == 0) and 2 or 1 end
-- Time to the first frame of session i, in ms.
function M.impression_ms(i) return 150 + (i * 53) % 850 end
-- Whether session i has an `end` event (it has 3 + i % 8 events, the 7th is `end`).
function M.has_end(i) return 3 + i % 8 >= 7 end
-- The viewer of session i (what `unique` counts): one of 100.
function M.viewer(i) return i % 100 end

-- Dimensions of session i of src, keyed by the filterBy names.
function M.dims(src, i)
  local loc = LOCATIONS[i % #LOCATIONS + 1]
  local tag
  if has_metadata(src, i) and i % 11 == 0 then tag = TAG_VALUE end
  return {
    mediaId = src.id,
    mediaType = src.kind == "video" and "video" or "live-stream",
    continent = loc[4],
    country = loc[3],
    deviceType = DEVICES[floor(i / 5) % #DEVICES + 1][4],
    operatingSystem = OSES[floor(i / 7) % #OSES + 1][4],
    browser = CLIENTS[floor(i / 11) % #CLIENTS + 1][4],
    referrer = referrer_url(i) or "",
    tag = tag,
  }
end


-- Every session of every source whose loadedAt is in [start_ms, end_ms), as
-- records {t = loadedAt ms, e = endedAt ms, dur = s, src =, i =, d = dims},
-- ordered by t, then source order, then i.  Cached (8 ranges).
function M.records(start_ms, end_ms)
  local key = start_ms .. ":" .. end_ms
  local hit = rcache[key]
  if hit then return hit end
  local list = {}
  for _, id in ipairs(ORDER) do
    local src = SOURCES[id]
    if src.n > 0 then
      local lo, hi = M.range(src, start_ms, end_ms)
      for i = lo, hi do
        local t = loaded_ms(src.n, i)
        local dur = duration_s(i)
        list[#list + 1] = { t = t, e = t + dur * 1000, dur = dur, src = src, i = i, d = M.dims(src, i) }
      end
    end
  end
  table.sort(list, function(a, b)
    if a.t ~= b.t then return a.t < b.t end
    if a.src ~= b.src then return RANK[a.src.id] < RANK[b.src.id] end
    return a.i < b.i
  end)
  if rcache_n >= 8 then rcache, rcache_n = {}, 0 end
  rcache[key] = list
  rcache_n = rcache_n + 1
  return list
end

return M
