--- Numbers for people.
--
--     format.integer(1234)        "1 234"    (digits grouped by three)
--     format.compact(12345)       "12.3k"    (k, M, G, T from 10 000 on)
--     format.compact(1234567)     "1.2M"
--     format.percent(0.8312)      "83%"      (one decimal under 10 %)
--     format.duration(3725)       "1 h 02 min"
--     format.ticks({0, 5000, 10000}, 5000)  { "0", "5k", "10k" }
--
-- The group separator is an argument (`sep`, default one ASCII space): the
-- report passes a no-break space so that a number never wraps.
-- The minus sign is ASCII "-". Non-finite numbers format as "n/a".
-- @module apivideo.chart.format
local M = {}

M.NA = "n/a"

local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end
M.finite = finite

local function round(x) return math.floor(x + 0.5) end

-- string.format("%.Nf") without trailing zeros (and without "-0").
local function fixed(x, decimals)
  local s = string.format("%." .. decimals .. "f", x)
  if decimals > 0 then s = s:gsub("0+$", ""):gsub("%.$", "") end
  if s == "-0" then s = "0" end
  return s
end

local function group(digits, sep)
  local head = #digits % 3
  local parts = {}
  if head > 0 then parts[1] = digits:sub(1, head) end
  for i = head + 1, #digits, 3 do parts[#parts + 1] = digits:sub(i, i + 2) end
  return table.concat(parts, sep)
end

--- `n` rounded to an integer, digits grouped by three: "1 234 567".
---@param n number
---@param sep string? group separator (default " ")
---@return string
function M.integer(n, sep)
  if not finite(n) then return M.NA end
  local s = string.format("%.0f", n)
  local sign, digits = s:match("^(%-?)(%d+)$")
  if digits == "0" then sign = "" end
  return sign .. group(digits, sep or " ")
end

local UNITS = { { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" } }

--- A count or an amount, short: "1 234", "12.3k", "1.2M".
-- Under 10 000 as `integer` does (fractions
-- with two significant decimals at most: "1.5", "12.3"); from 10 000 on three
-- significant digits and a suffix k (10^3), M (10^6), G (10^9), T (10^12),
-- a trailing ".0" dropped: "12.3k", "123k", "1.2M", "10M". From 10^15 on,
-- scientific notation ("1.2e15").
---@param n number
---@param sep string? group separator (default " ")
---@return string
function M.compact(n, sep)
  if not finite(n) then return M.NA end
  local a, sign = math.abs(n), n < 0 and "-" or ""
  if a < 1e4 then
    if a == math.floor(a) then return M.integer(n, sep) end
    local d = a < 10 and 2 or a < 100 and 1 or 0
    local s = fixed(a, d)
    if s == "0" then return "0" end
    if tonumber(s) >= 1e4 then return sign .. "10k" end
    return sign .. (tonumber(s) >= 1000 and M.integer(tonumber(s), sep) or s)
  end
  if a >= 1e15 then
    local m, e = string.format("%.1e", a):match("^([%d.]+)e%+?(%-?%d+)$")
    return sign .. m:gsub("%.0$", "") .. "e" .. tonumber(e)
  end
  for i, u in ipairs(UNITS) do
    if a >= u[1] then
      local v = a / u[1]
      local d = v < 100 and 1 or 0
      local s = fixed(v, d)
      if tonumber(s) >= 1000 and i > 1 then -- 999 950 is "1M", not "1000k"
        u = UNITS[i - 1]
        s = fixed(a / u[1], 1)
      end
      return sign .. s .. u[2]
    end
  end
end

--- One format for every number of a chart: a function v -> string whose
-- unit (none, k, M, G, T) and decimals are chosen once, from the largest
-- of `values`, as `compact` writes that one. So a chart never mixes "13.8k"
-- with "8 750": it reads "13.8k", "8.8k" (and "10k", "5k", not "5 000").
-- Trailing zeros are dropped; a value too small for the unit reads "<0.1M"
-- (never "0M"). Below 10 000 it is `compact`.
---@param values number[]
---@param sep string? group separator (default " ")
---@return fun(v: number): string
function M.scaled(values, sep)
  local top = 0
  for _, v in ipairs(values) do
    if finite(v) then top = math.max(top, math.abs(v)) end
  end
  if top < 1e4 or top >= 1e15 then return function(v) return M.compact(v, sep) end end
  local unit, suffix, d
  for i, u in ipairs(UNITS) do
    if top >= u[1] then
      unit, suffix = u[1], u[2]
      d = top / unit < 100 and 1 or 0
      if tonumber(fixed(top / unit, d)) >= 1000 and i > 1 then -- 999 950 is "1M", not "1000k"
        unit, suffix, d = UNITS[i - 1][1], UNITS[i - 1][2], 1
      end
      break
    end
  end
  return function(v)
    if not finite(v) then return M.NA end
    if v == 0 then return "0" end
    local t = fixed(math.abs(v) / unit, d)
    if t == "0" then t = "<" .. (d == 1 and "0.1" or "1") end -- not zero, yet too small for the unit
    return (v < 0 and "-" or "") .. t .. suffix
  end
end

--- A ratio as a percentage: 0.8312 -> "83%", 0.0567 -> "5.7%", 1 -> "100%";
-- above 0 and under 0.1 % -> "<0.1%", under 100 % but above 99.9 % -> ">99.9%"
-- (so that rounding never claims all or nothing). Ratios above 1 are shown
-- as they are ("120%"). nil or non-finite -> "n/a".
---@param r number?
---@return string
function M.percent(r)
  if not finite(r) then return M.NA end
  local p = r * 100
  local a = math.abs(p)
  if a == 0 then return "0%" end
  if a < 0.1 then return (p < 0 and ">-0.1%" or "<0.1%") end
  if p > 99.9 and p < 100 then return ">99.9%" end
  if a < 10 then return fixed(p, 1) .. "%" end
  return fixed(round(p), 0) .. "%"
end

--- A duration in seconds, in the two largest units that matter:
-- "0.8 s", "12 s", "4 min 05 s", "1 h 02 min", "2 d 03 h". The value is
-- rounded to the smallest unit shown first (59.96 s is "1 min 00 s").
---@param s number seconds
---@return string
function M.duration(s)
  if not finite(s) then return M.NA end
  if s < 0 then return "-" .. M.duration(-s) end
  if s < 10 then
    local t = fixed(s, 1)
    if t ~= "10" then return t .. " s" end
  end
  local sec = round(s)
  if sec < 60 then return sec .. " s" end
  if sec < 3600 then return string.format("%d min %02d s", math.floor(sec / 60), sec % 60) end
  local min = round(s / 60)
  if min < 1440 then return string.format("%d h %02d min", math.floor(min / 60), min % 60) end
  local h = round(s / 3600)
  return string.format("%d d %02d h", math.floor(h / 24), h % 24)
end

--- A duration as an axis tick: like `duration`, without a zero second
-- part ("2 min", "1 h", "1 h 30 min", "45 s").
---@param s number seconds
---@return string
function M.duration_short(s)
  local long = M.duration(s)
  return (long:gsub(" 00 %a+$", ""))
end

--- A position in a video, as a player shows it: "0:00", "1:05", "12:30",
-- "1:02:03" (rounded to the second).
---@param s number seconds
---@return string
function M.clock(s)
  if not finite(s) then return M.NA end
  if s < 0 then return "-" .. M.clock(-s) end
  local sec = round(s)
  local h, m = math.floor(sec / 3600), math.floor(sec / 60) % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, sec % 60) end
  return string.format("%d:%02d", m, sec % 60)
end

local log10 = math.log10 or function(x) return math.log(x, 10) end -- luacheck: ignore 143

--- The labels of a set of axis ticks that are `step` apart, all in one unit.
-- The unit (none, k, M, G, T) is that of the largest tick from 10 000 on, and there are
-- as many decimals as the step needs in that unit ({0, 0.5, 1} ->
-- "0", "0.5", "1"; {0, 20000, 40000} -> "0", "20k", "40k"). Below 10 000
-- the digits are grouped. Ticks from 10^15 on, or with a step under 10^-6,
-- are in scientific notation.
---@param ticks number[]
---@param step number
---@param sep string? group separator (default " ")
---@return string[]
function M.ticks(ticks, step, sep)
  local top = 0
  for _, t in ipairs(ticks) do top = math.max(top, math.abs(t)) end
  local out = {}
  if top >= 1e15 or (step > 0 and step < 1e-6) then
    -- as many significant digits as tell the ticks apart
    local digits = 3
    if step > 0 and top > 0 then
      digits = math.max(1, math.min(17, math.floor(log10(top)) - math.floor(log10(step)) + 1))
    end
    for i, t in ipairs(ticks) do
      if t == 0 then out[i] = "0" else
        local m, e = string.format("%." .. (digits - 1) .. "e", t):match("^(%-?[%d.]+)e%+?(%-?%d+)$")
        out[i] = m:gsub("0+$", ""):gsub("%.$", "") .. "e" .. tonumber(e)
      end
    end
    return out
  end
  local unit, suffix = 1, ""
  if top >= 1e4 then
    for _, u in ipairs(UNITS) do
      if top >= u[1] then unit, suffix = u[1], u[2] break end
    end
  end
  -- the fewest decimals (at most 6) that write the step exactly
  local decimals, x = 0, step / unit
  while decimals < 6 and x > 0 and math.abs(x - math.floor(x + 0.5)) > 1e-9 * math.max(1, x) do
    decimals, x = decimals + 1, x * 10
  end
  for i, t in ipairs(ticks) do
    local v = t / unit
    if t == 0 then
      out[i] = "0"
    elseif decimals == 0 and suffix == "" then
      out[i] = M.integer(v, sep)
    else
      out[i] = fixed(v, decimals) .. suffix
    end
  end
  return out
end

return M
