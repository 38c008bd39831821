-- Test helper: the stand-in's data set as notes/standin-contract.md ("Data")
-- defines it, computed here from the contract and never from the stand-in's
-- code (standin/lua/standin/data.lua): the specs of the stand-in check that
-- code against this, and the specs of the client and the CLI compute what the
-- server must have served without asking the thing they test.
--
--   local M = require("spec.support.model")
--   M.DAY_MS                 one day in ms
--   M.T0, M.SPAN             2023-01-01T00:00:00Z in ms; 365 days in ms
--   M.days(y, m, d)          days since 1970-01-01 (proleptic Gregorian)
--   M.iso_ms(s)              "2023-03-15T01:02:03.456Z" -> ms since the epoch,
--                            without os.time's local-time pitfalls
--   M.loaded_ms(n, i)        loadedAt of session i (1-based) of a source with n
--                            sessions: T0 + floor((i - 1) * SPAN / n)
--   M.duration_s(i)          endedAt - loadedAt of session i: 30 + 37 i mod 1771
--   M.ended_ms(n, i)         endedAt of session i of n
--   M.indexes_in(n, a, b)    the i (ascending) whose loadedAt is in [a, b) (ms)
--   M.count_in(n, a, b)      how many those are
--   M.session_id(src, i)     "ps" .. src .. "_" .. i zero-padded to 6 ("psvi250_000007")
--   M.index_of(id)           i of such an id (nil for any other shape)
--   M.events_of(i)           how many events session i has: 3 + i % 8
--
-- floor() is exact integer division (V.idiv): on 5.3+ it never goes through a
-- double. The stand-in divides in doubles; for the sources it serves (at most
-- 100 000 sessions, so (i - 1) * SPAN < 2^53) both give the same value for
-- every session. Nothing here uses syntax newer than Lua 5.1.
local V = require("spec.support.compat")

local idiv = V.idiv

local M = {}

M.DAY_MS = 86400000

function M.days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = idiv(y, 400)
  local yoe = y - era * 400
  local doy = idiv(153 * ((m + 9) % 12) + 2, 5) + d - 1
  return era * 146097 + yoe * 365 + idiv(yoe, 4) - idiv(yoe, 100) + doy - 719468
end

M.T0 = M.days(2023, 1, 1) * M.DAY_MS -- 1672531200000
M.SPAN = 365 * M.DAY_MS

function M.iso_ms(s)
  local y, m, d, H, Mi, Sec, ms = s:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.(%d+)Z$")
  assert(y, "bad timestamp " .. tostring(s))
  local days = M.days(tonumber(y), tonumber(m), tonumber(d))
  return ((days * 24 + tonumber(H)) * 60 + tonumber(Mi)) * 60000 + tonumber(Sec) * 1000 + tonumber(ms)
end

function M.loaded_ms(n, i)
  return M.T0 + idiv((i - 1) * M.SPAN, n)
end

function M.duration_s(i)
  return 30 + (37 * i) % 1771
end

function M.ended_ms(n, i)
  return M.loaded_ms(n, i) + M.duration_s(i) * 1000
end

function M.indexes_in(n, a_ms, b_ms)
  local out = {}
  for i = 1, n do
    local t = M.loaded_ms(n, i)
    if t >= a_ms and t < b_ms then out[#out + 1] = i end
  end
  return out
end

function M.count_in(n, a_ms, b_ms)
  return #M.indexes_in(n, a_ms, b_ms)
end

function M.session_id(src, i)
  return string.format("ps%s_%06d", src, i)
end

function M.index_of(session_id)
  local digits = session_id:match("_(%d%d%d%d%d%d)$")
  return digits and tonumber(digits)
end

function M.events_of(i)
  return 3 + i % 8
end

return M
