--- The CLI's four formats and the one row writer that every command's rows
-- go through: table (aligned, streamed), csv (RFC 4180), ndjson and json.
-- What the rows are (the columns of sessions, events, buckets, points, the
-- summaries' metric,key,value rows) is apivideo.cli.output's; how a row is
-- written in each format is here.
--
-- JSON text has sorted keys (the output is stable), JSON null for
-- apivideo.null and JSON_NULL, and `[]` for an empty table under one of the
-- array names the API documents (ARRAY_KEYS).
-- @module apivideo.cli.formats
local apivideo = require("apivideo")
local cjson = require("cjson")

local M = {}

local NULL = apivideo.null
--- Encodes as JSON null (for summary fields without a value).
M.JSON_NULL = setmetatable({}, { __tostring = function() return "null" end })

--- Display width of a UTF-8 string (code points; no wide-character tables).
local function width(s)
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

--- A figure of a summary in JSON: number_text, or null when it has none.
function M.figure_json(n)
  local s = number_text(n)
  return s == "" and "null" or s
end

------------------------------------------------------------------------------
-- JSON.

local ARRAY_KEYS = { metadata = true, problems = true, links = true, data = true, left_out = true }

local function json_string(s)
  -- cjson escapes '/' as '\/'; a raw '/' never appears in its output, so
  -- every '\/' is such an escape and can go back to '/'.
  return (cjson.encode(s):gsub("\\/", "/"))
end

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if is_integral(n) then return string.format("%d", n) end
  return string.format("%.14g", n)
end

--- JSON text of v (sorted keys). key: the field v is the value of (an empty
-- table under an ARRAY_KEYS name is []); number: a number formatter.
function M.json_encode(v, key, number)
  local t = type(v)
  if v == nil or v == NULL or v == M.JSON_NULL then return "null" end
  if t == "string" then return json_string(v) end
  if t == "number" then return (number or json_number)(v) end
  if t == "boolean" then return tostring(v) end
  if t ~= "table" then error("cannot encode a " .. t .. " as JSON") end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if (n > 0 and n == count) or (count == 0 and ARRAY_KEYS[key]) then
    local parts = {}
    for i = 1, n do parts[i] = M.json_encode(v[i], nil, number) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    parts[i] = json_string(k) .. ":" .. M.json_encode(val, k, number)
  end
  return "{" .. table.concat(parts, ",") .. "}"
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
  return (tostring(v):gsub("%c", " "))
end

local function table_line(cols, widths, values)
  local parts, n = {}, #cols
  for i, c in ipairs(cols) do
    local v = values[i]
    local pad = widths[i] - width(v)
    pad = pad > 0 and string.rep(" ", pad) or ""
    if c.right then parts[i] = pad .. v
    elseif i < n then parts[i] = v .. pad
    else parts[i] = v end
  end
  return table.concat(parts, "  ") .. "\n"
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
      grow(cells)
      emit(table_line(cols, widths, cells))
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
    local to_json = spec.json or function(x)
      local parts = {}
      for i, c in ipairs(columns) do
        local v
        if c.json then
          v = c.json(x)
        else
          v = c.text(x)
          v = v == nil and "null" or json_string(v)
        end
        parts[i] = json_string(c.name) .. ":" .. v
      end
      return "{" .. table.concat(parts, ",") .. "}"
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
