--- Text that came from outside (API values): made valid, visible UTF-8.
--
-- Every label a chart, the report or the terminal bars show goes through
-- `clean` first. The result is valid UTF-8 with nothing in it that a
-- terminal or an HTML/XML parser treats as anything but a character:
--
-- * C0 controls (U+0000-U+001F, NUL, tab, newline and ESC included) become
--   their Control Pictures (U+2400-U+241F: NUL shows as "␀"), DEL becomes "␡";
-- * C1 controls (U+0080-U+009F), the bidi embeddings, overrides and isolates
--   (U+202A-U+202E, U+2066-U+2069: they could reorder what a reader sees) and
--   the noncharacters U+FFFE/U+FFFF become U+FFFD "�";
-- * every byte that is not part of a well-formed UTF-8 sequence (stray
--   continuation bytes, overlong forms, surrogates, code points above
--   U+10FFFF, truncated sequences) becomes one U+FFFD.
--
-- Markup escaping (`&`, `<`, ...) is not done here: see apivideo.chart.markup.
-- @module apivideo.chart.text
local M = {}

local byte, char, concat = string.byte, string.char, table.concat

M.REPLACEMENT = "\239\191\189" -- U+FFFD
M.ELLIPSIS = "\226\128\166" -- U+2026

-- The Control Picture of a C0 control byte b (U+2400 + b) and of DEL.
local function picture(b)
  if b == 0x7F then return "\226\144\161" end -- U+2421
  return char(0xE2, 0x90, 0x80 + b)
end

--- `s` as valid UTF-8 with every control shown as a character (see above).
-- Numbers are accepted (as `tostring` writes them); anything else raises.
---@param s string|number
---@return string
function M.clean(s)
  local t = type(s)
  if t == "number" then s = tostring(s) elseif t ~= "string" then
    error("apivideo.chart.text.clean: string expected, got " .. t, 2)
  end
  -- the common case, printable ASCII only, needs no copy
  if not s:find("[^\32-\126]") then return s end
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local b = byte(s, i)
    local piece, step = nil, 1
    if b < 0x20 or b == 0x7F then
      piece = picture(b)
    elseif b < 0x80 then
      piece = char(b)
    else
      local b2, b3, b4 = byte(s, i + 1, i + 3)
      local function cont(x) return x and x >= 0x80 and x <= 0xBF end
      if b >= 0xC2 and b <= 0xDF and cont(b2) then
        step = 2
        if b == 0xC2 and b2 <= 0x9F then piece = M.REPLACEMENT end -- C1 control
      elseif b >= 0xE0 and b <= 0xEF and cont(b2) and cont(b3)
        and not (b == 0xE0 and b2 < 0xA0) -- overlong
        and not (b == 0xED and b2 > 0x9F) then -- UTF-16 surrogate
        step = 3
        if (b == 0xE2 and b2 == 0x80 and b3 >= 0xAA and b3 <= 0xAE) -- U+202A-U+202E
          or (b == 0xE2 and b2 == 0x81 and b3 >= 0xA6 and b3 <= 0xA9) -- U+2066-U+2069
          or (b == 0xEF and b2 == 0xBF and b3 >= 0xBE) then -- U+FFFE, U+FFFF
          piece = M.REPLACEMENT
        end
      elseif b >= 0xF0 and b <= 0xF4 and cont(b2) and cont(b3) and cont(b4)
        and not (b == 0xF0 and b2 < 0x90) -- overlong
        and not (b == 0xF4 and b2 > 0x8F) then -- above U+10FFFF
        step = 4
      else
        piece = M.REPLACEMENT
      end
      if not piece then piece = s:sub(i, i + step - 1) end
    end
    n = n + 1
    out[n] = piece
    i = i + step
  end
  return concat(out)
end

--- The number of code points of a valid UTF-8 string (what `clean`
-- returns): its width in a terminal, ignoring double-width characters.
---@param s string
---@return integer
function M.width(s)
  return #s - select(2, s:gsub("[\128-\191]", ""))
end

--- `s` (valid UTF-8) cut to at most `n` code points, the last one an
-- ellipsis when something was cut.
---@param s string
---@param n integer at least 1
---@return string
---@return boolean cut # true when the string was shortened
function M.truncate(s, n)
  if M.width(s) <= n then return s, false end
  local count, stop = 0, #s
  for pos in s:gmatch("()[^\128-\191]") do
    count = count + 1
    if count == n then
      stop = pos - 1
      break
    end
  end
  return s:sub(1, stop) .. M.ELLIPSIS, true
end

-- Advance widths in em of a wide sans-serif (DejaVu Sans, the widest of
-- the usual fallbacks), by class of ASCII character; any other code point
-- counts as 1 em (CJK, emoji), which errs on the safe side.
local EM = {}
for c in ("iljI'|.,:;! "):gmatch(".") do EM[c] = 0.34 end
for c in ("ft()[]{}/\\r`-"):gmatch(".") do EM[c] = 0.44 end
for c in ("mwMW@%"):gmatch(".") do EM[c] = 0.98 end
for c in ("<>=+~&#_^*\"?$"):gmatch(".") do EM[c] = 0.84 end
for c in ("ABCDEFGHJKLNOPQRSTUVXYZ"):gmatch(".") do EM[c] = 0.74 end
for c in ("0123456789"):gmatch(".") do EM[c] = 0.64 end

--- The estimated drawn width of a valid UTF-8 string, in em.
---@param s string
---@return number
function M.em_width(s)
  local w = 0
  for c in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    w = w + (#c > 1 and 1 or EM[c] or 0.62)
  end
  return w
end

--- `s` (valid UTF-8) cut, with an ellipsis, to an estimated width of at
-- most `em` em (see em_width).
---@param s string
---@param em number
---@return string
---@return boolean cut # true when the string was shortened
function M.fit(s, em)
  if M.em_width(s) <= em then return s, false end
  local w, stop = 0.8, 0 -- the ellipsis
  for pos, c in s:gmatch("()([%z\1-\127\194-\244][\128-\191]*)") do
    w = w + (#c > 1 and 1 or EM[c] or 0.62)
    if w > em then break end
    stop = pos + #c - 1
  end
  return s:sub(1, stop) .. M.ELLIPSIS, true
end

--- `s` (valid UTF-8) cut in the middle, with an ellipsis, to an
-- estimated width of at most `em` em: the start and the end stay, which
-- tells apart labels that share a long prefix (URLs of one site).
---@param s string
---@param em number
---@return string
---@return boolean cut # true when the string was shortened
function M.fit_middle(s, em)
  if M.em_width(s) <= em then return s, false end
  local chars = {}
  for c in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do chars[#chars + 1] = c end
  local function w(c) return #c > 1 and 1 or EM[c] or 0.62 end
  local budget = em - 0.8 -- the ellipsis
  local head, tail, i, j, used = {}, {}, 1, #chars, 0
  -- a third of the room to the start, the rest to the end (where URLs differ)
  while i <= j and used + w(chars[i]) <= budget / 3 do
    used = used + w(chars[i])
    head[#head + 1] = chars[i]
    i = i + 1
  end
  while j >= i and used + w(chars[j]) <= budget do
    used = used + w(chars[j])
    table.insert(tail, 1, chars[j])
    j = j - 1
  end
  return table.concat(head) .. M.ELLIPSIS .. table.concat(tail), true
end

--- `s` (valid UTF-8) padded with spaces to `n` code points, on the right,
-- or on the left when `left` is true.
---@param s string
---@param n integer
---@param left boolean?
---@return string
function M.pad(s, n, left)
  local gap = n - M.width(s)
  if gap <= 0 then return s end
  if left then return (" "):rep(gap) .. s end
  return s .. (" "):rep(gap)
end

return M
