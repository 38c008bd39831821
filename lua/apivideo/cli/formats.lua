--- The CLI's four formats and the one row writer that every command's rows
-- go through: table (aligned, streamed), csv (RFC 4180), ndjson and json.
-- What the rows are (the columns of sessions, events, buckets, points, the
-- summaries' metric,key,value rows) is apivideo.cli.output's; how a row is
-- written in each format is here.
--
-- JSON text is lua-cjson's text of every value in a layout with sorted keys
-- (the output is stable), JSON null for apivideo.null and JSON_NULL, and `[]`
-- for an empty table under one of the array names the API documents
-- (ARRAY_KEYS).
-- @module apivideo.cli.formats
local apivideo = require("apivideo")
local cjson = require("cjson")

local M = {}

local NULL = apivideo.null
--- Encodes as JSON null (for summary fields without a value).
M.JSON_NULL = setmetatable({}, { __tostring = function() return "null" end })

--- Display width of a UTF-8 string (code points; no wide-character tables).
local function width(s)
  if not s:find("[\128-\255]") then return #s end
  return #s - select(2, s:gsub("[\128-\191]", ""))
end

local function is_integral(n)
  return n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53
end

--- A number for people and spreadsheets: integers as such, else at most
-- three decimals, trailing zeros dropped ("" for NaN and infinities).
---@param n number
---@return string
function M.number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return "" end
  if is_integral(n) then return string.format("%d", n) end
  local s = string.format("%.3f", n):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end
local number_text = M.number_text

--- A figure of a summary as the number its JSON shows: number_text's
-- rounding (nil, JSON null, for NaN and the infinities).
function M.figure(n)
  local s = number_text(n)
  return s ~= "" and tonumber(s) or nil
end

------------------------------------------------------------------------------
-- JSON.

local ARRAY_KEYS = { metadata = true, problems = true, links = true, data = true, left_out = true }

-- lua-cjson writes every value (strings, numbers, booleans, null); this
-- module writes only the layout around them: objects with their keys in
-- sorted order, which lua-cjson has no way to keep. Its own instance, so
-- that the settings do not leak into the caller's `cjson`: NaN and the
-- infinities are null, numbers keep lua-cjson's 14 significant digits.
local json = cjson.new()
json.encode_invalid_numbers("null")
local value_text = json.encode

-- The JSON text of string s. lua-cjson escapes '/' as '\/'; the API's
-- URLs read better without, and JSON allows both.
local function string_text(s)
  local text = value_text(s)
  if s:find("/", 1, true) then text = text:gsub("\\/", "/") end
  return text
end

-- Memos of the layout: the `"key":` text of each key met, and the sorted
-- keys of each shape of object met (by the field it is the value of and its
-- key count). Keys come from a small vocabulary, the API's field names; the
-- memos are cleared if they ever hold more than 4096 entries.
local key_text, shapes, memo_size = {}, {}, 0
local function remember()
  memo_size = memo_size + 1
  if memo_size > 4096 then key_text, shapes, memo_size = {}, {}, 0 end
end

-- The `"k":` text of key k, and with first false the `,"k":` text.
local function key_of(k, first)
  local t = key_text[k]
  if t == nil then
    remember()
    local text = string_text(tostring(k)) .. ":"
    t = { text, "," .. text }
    key_text[k] = t
  end
  return first and t[1] or t[2]
end

-- The keys of object v (count of them) in sorted order, as strings. The
-- list of the last object of the same field and count is used again when v
-- has each of its keys: count distinct keys, all in v, are all of v's.
local function sorted_keys(v, field, count)
  local of_field = shapes[field]
  local keys = of_field and of_field[count]
  if keys then
    for i = 1, count do
      if v[keys[i]] == nil then keys = nil break end
    end
    if keys then return keys end
  end
  keys = {}
  local k = 0
  for name in pairs(v) do k = k + 1; keys[k] = tostring(name) end
  table.sort(keys)
  if not of_field then
    remember()
    of_field = {}
    shapes[field] = of_field
  end
  of_field[count] = keys
  return keys
end

local JSON_NULL = M.JSON_NULL

-- Appends the JSON text of v to buf (from index n + 1); returns the new n.
-- key: the field v is the value of (an empty table under an ARRAY_KEYS
-- name is []); figure: a function applied to every number before it is
-- written (the summaries round theirs), or nil.
local function put(buf, n, v, key, figure)
  local t = type(v)
  if t == "string" then
    buf[n + 1] = string_text(v)
    return n + 1
  elseif t == "boolean" then
    buf[n + 1] = value_text(v)
    return n + 1
  elseif t == "number" then
    if figure then v = figure(v) end
    buf[n + 1] = value_text(v)
    return n + 1
  elseif v == nil or v == NULL or v == JSON_NULL then
    buf[n + 1] = "null"
    return n + 1
  elseif t ~= "table" then
    error("cannot encode a " .. t .. " as JSON")
  end
  local len, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if (len > 0 and len == count) or (count == 0 and ARRAY_KEYS[key]) then
    buf[n + 1] = "["
    n = n + 1
    for i = 1, len do
      if i > 1 then buf[n + 1] = ","; n = n + 1 end
      n = put(buf, n, v[i], nil, figure)
    end
    buf[n + 1] = "]"
    return n + 1
  end
  local keys = sorted_keys(v, key or "", count)
  buf[n + 1] = "{"
  n = n + 1
  for i = 1, count do
    local name = keys[i]
    local val = v[name]
    if val == nil then val = v[tonumber(name)] end
    buf[n + 1] = key_of(name, i == 1)
    if type(val) == "string" then
      buf[n + 2] = string_text(val)
      n = n + 2
    else
      n = put(buf, n + 1, val, name, figure)
    end
  end
  buf[n + 1] = "}"
  return n + 1
end

local concat = table.concat
local buffer = {}

--- JSON text of v: its layout (objects with sorted keys) written here, every
-- value by lua-cjson. key: the field v is the value of (an empty table under
-- an ARRAY_KEYS name is []); figure: applied to every number first (e.g.
-- M.figure, the summaries' rounding), or nil.
function M.json_encode(v, key, figure)
  return concat(buffer, "", 1, put(buffer, 0, v, key, figure))
end

------------------------------------------------------------------------------
-- CSV (RFC 4180): fields with a comma, quote, CR or LF are quoted, quotes
-- doubled; records end with CRLF.

local function csv_field(s)
  s = s == nil and "" or tostring(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- One CSV record (with its CRLF) from an array of field strings (nil: an
-- empty field; n: how many fields, when the last ones may be nil).
function M.csv_record(fields, n)
  local parts = {}
  for i = 1, n or #fields do parts[i] = csv_field(fields[i]) end
  return table.concat(parts, ",") .. "\r\n"
end

------------------------------------------------------------------------------
-- Aligned tables. A column: { name =, right = true for right-aligned }.

--- The text of one table cell: "-" for nothing, control characters as spaces.
local function cell(v)
  if v == nil or v == "" then return "-" end
  v = tostring(v)
  if not v:find("%c") then return v end
  return (v:gsub("%c", " "))
end

-- n spaces ("" for n <= 0), each length made once.
local SPACES = setmetatable({}, { __index = function(t, n)
  local s = n > 0 and string.rep(" ", n) or ""
  if n >= 0 and n <= 256 then t[n] = s end
  return s
end })
local function spaces(n) return SPACES[n] end

-- One line of the table. With grow, a value wider than its column widens
-- it first (from this line on).
local function table_line(cols, widths, values, grow)
  local parts, n = {}, #cols
  for i = 1, n do
    local v = values[i]
    local w = width(v)
    if grow and w > widths[i] then widths[i] = w end
    local pad = spaces(widths[i] - w)
    if cols[i].right then parts[i] = pad .. v
    elseif i < n then parts[i] = v .. pad
    else parts[i] = v end
  end
  return table.concat(parts, "  ", 1, n) .. "\n"
end

--- The header line and the rule under it.
local function table_head(emit, cols, widths)
  local head, rule = {}, {}
  for i, c in ipairs(cols) do
    head[i] = c.name
    rule[i] = string.rep("-", widths[i])
  end
  emit(table_line(cols, widths, head))
  emit(table_line(cols, widths, rule))
end

--- A table whose widths come from the header and the rows held back until
-- start() (the first page: at most --page-size rows); after that every row
-- is written as it comes. A later value wider than its column is never cut:
-- the column widens from that row on. row(cells): an array of cell texts.
local function streamed_table(emit, cols)
  local t, held, widths = {}, {}, nil
  local function grow(cells)
    for i = 1, #cols do
      local w = width(cells[i])
      if w > widths[i] then widths[i] = w end
    end
  end
  function t.start()
    if widths then return end
    widths = {}
    for i, c in ipairs(cols) do widths[i] = width(c.name) end
    for _, cells in ipairs(held) do grow(cells) end
    table_head(emit, cols, widths)
    for _, cells in ipairs(held) do emit(table_line(cols, widths, cells)) end
    held = nil
  end
  function t.row(cells)
    if widths then
      emit(table_line(cols, widths, cells, true))
    else
      held[#held + 1] = cells
    end
  end
  return t
end

--- An aligned text table, all rows at once (the summaries' small tables).
-- cols: as above; rows: arrays of texts (nil: "-").
function M.render_table(emit, cols, rows)
  local t = streamed_table(emit, cols)
  for _, row in ipairs(rows) do
    local cells = {}
    for i = 1, #cols do cells[i] = cell(row[i]) end
    t.row(cells)
  end
  t.start()
end

------------------------------------------------------------------------------
-- The row writer.

--- A writer of rows in `format`. spec: `columns` (csv, and table unless
-- `table_columns` names others), each { name =, text = function(row) ->
-- string or nil, right = bool (table: right-aligned), json = function(row)
-- -> JSON text (optional) }; `json` (ndjson, json): function(row) -> the
-- row's JSON text (default: an object of the columns in column order, each
-- its `json`, else its text as a JSON string, null for nil).
--
-- The writer: begin() before the first row (csv: the header; json: "["),
-- row(x) per row, page_done() after each page (table: the first page sizes
-- the columns, then the header goes out), finish() at the end. Every write
-- goes through emit.
function M.writer(format, emit, spec)
  local w = {}
  local columns = spec.columns
  local function noop() end
  w.begin, w.page_done, w.finish = noop, noop, noop
  if format == "ndjson" or format == "json" then
    local buf = {} -- its own: a column's json may call json_encode
    local to_json = spec.json or function(x)
      local n = 0
      for i, c in ipairs(columns) do
        buf[n + 1] = i == 1 and "{" .. key_of(c.name, true) or key_of(c.name)
        if c.json then
          buf[n + 2] = c.json(x)
          n = n + 2
        else
          n = put(buf, n + 1, c.text(x))
        end
      end
      buf[n + 1] = "}"
      return concat(buf, "", 1, n + 1)
    end
    if format == "ndjson" then
      function w.row(x) emit(to_json(x) .. "\n") end
    else
      local count = 0
      function w.begin() emit("[") end
      function w.row(x)
        emit((count == 0 and "\n" or ",\n") .. to_json(x))
        count = count + 1
      end
      function w.finish() emit(count == 0 and "]\n" or "\n]\n") end
    end
  elseif format == "csv" then
    local names = {}
    for i, c in ipairs(columns) do names[i] = c.name end
    function w.begin() emit(M.csv_record(names)) end
    function w.row(x)
      local fields = {}
      for i, c in ipairs(columns) do fields[i] = c.text(x) end
      emit(M.csv_record(fields, #columns))
    end
  else
    local cols = spec.table_columns or columns
    local t = streamed_table(emit, cols)
    function w.row(x)
      local cells = {}
      for i, c in ipairs(cols) do cells[i] = cell(c.text(x)) end
      t.row(cells)
    end
    w.page_done, w.finish = t.start, t.start
  end
  return w
end

--- Writes every row of `rows` with a writer of `format` (one page).
function M.write_rows(format, emit, spec, rows)
  local w = M.writer(format, emit, spec)
  w.begin()
  for _, row in ipairs(rows) do w.row(row) end
  w.page_done()
  w.finish()
end

------------------------------------------------------------------------------
-- The stream.

--- emit(s) writes s to stream; emit.flush() pushes it out (a pipe sees
-- each page at once). A failed write raises {write = message}.
function M.emitter(stream)
  local e = {}
  local function check(ok, err)
    if not ok then error({ write = tostring(err) }, 0) end
  end
  setmetatable(e, { __call = function(_, s) check(stream:write(s)) end })
  function e.flush()
    if stream.flush then check(stream:flush()) end
  end
  return e
end

return M
