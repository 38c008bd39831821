--- Building SVG and HTML where every string is text unless said otherwise.
--
-- `el(name, attrs, ...)` returns a node; its children are nodes or strings,
-- and a string child is always TEXT: it goes through `escape`. Attribute
-- values are escaped the same way. The only way to put markup in is `raw`,
-- used for constants of this library (the report's CSS, the doctype), never
-- for data. So forgetting to escape is not possible: an API value such as
-- `"><svg onload=alert(1)>` ends up as characters in a text node or inside
-- a quoted attribute value.
--
--     local m = require("apivideo.chart.markup")
--     local node = m.el("text", { "x", 10, "y", 20, "class", "label" }, country)
--     print(m.render(node))
-- @module apivideo.chart.markup
local text = require("apivideo.chart.text")

local M = {}

local Node = {}
Node.__index = Node
Node.__tostring = function(n) return n[1] end

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- `s` cleaned (apivideo.chart.text.clean: valid UTF-8, controls shown as
-- characters) and with `& < > " '` as character references: safe as HTML or
-- XML text and inside a quoted attribute value.
---@param s string|number
---@return string
function M.escape(s)
  return (text.clean(s):gsub("[&<>\"']", ENTITIES))
end
local escape = M.escape

--- A number for a coordinate or a length: at most two decimals, no
-- exponent. NaN and infinities raise (they would make invalid SVG).
---@param x number
---@return string
function M.num(x)
  if type(x) ~= "number" or x ~= x or x == math.huge or x == -math.huge then
    error("apivideo.chart.markup: finite number expected, got " .. tostring(x), 2)
  end
  local s = string.format("%.2f", x):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

-- The HTML elements that have no end tag.
local VOID = { meta = true, br = true, hr = true, img = true, input = true, link = true, col = true, wbr = true }

--- Trusted markup (a constant of this library). Never pass data to it.
---@param s string
---@return table node
function M.raw(s)
  return setmetatable({ s }, Node)
end

local function is_node(v) return getmetatable(v) == Node end
M.is_node = is_node

--- An element. `attrs` is a flat array of names and values, in output order
-- (`{ "x", 1, "class", "bar" }`); a false or nil value leaves the attribute
-- out. Names are fixed identifiers of the calling code (`[%a][%w:-]*`; event
-- handlers `on...` are refused). Values: numbers through `num`, strings
-- escaped. Children: nodes as they are, strings escaped, arrays of children
-- flattened, false/nil skipped.
---@param name string
---@param attrs table?
---@param ... any children
---@return table node
function M.el(name, attrs, ...)
  if type(name) ~= "string" or not name:match("^%a[%w%-]*$") then
    error("apivideo.chart.markup.el: bad element name " .. tostring(name), 2)
  end
  local parts = { "<", name }
  attrs = attrs or {}
  -- (the highest index, not #attrs: a nil value leaves a hole, where LuaJIT's # may stop)
  local n = 0
  for k in pairs(attrs) do
    if type(k) == "number" and k > n then n = k end
  end
  for i = 1, n, 2 do
    local k, v = attrs[i], attrs[i + 1]
    if type(k) ~= "string" or not k:match("^%a[%w:%-]*$") or k:lower():match("^on") then
      error("apivideo.chart.markup.el: bad attribute name " .. tostring(k), 2)
    end
    if v ~= nil and v ~= false then
      local value = type(v) == "number" and M.num(v) or escape(v)
      parts[#parts + 1] = " " .. k .. '="' .. value .. '"'
    end
  end
  parts[#parts + 1] = ">"
  if VOID[name] then
    if select("#", ...) > 0 then error("apivideo.chart.markup.el: <" .. name .. "> has no children", 2) end
    return setmetatable({ table.concat(parts) }, Node)
  end
  local function add(child)
    if child == nil or child == false then return end
    if is_node(child) then
      parts[#parts + 1] = child[1]
    elseif type(child) == "table" then
      for j = 1, #child do add(child[j]) end
    else
      parts[#parts + 1] = escape(child)
    end
  end
  for j = 1, select("#", ...) do add((select(j, ...))) end
  parts[#parts + 1] = "</" .. name .. ">"
  return setmetatable({ table.concat(parts) }, Node)
end

--- Several nodes (or strings, escaped) as one node.
---@param list table
---@return table node
function M.join(list)
  local parts = {}
  for i = 1, #list do
    local v = list[i]
    parts[i] = is_node(v) and v[1] or escape(v)
  end
  return setmetatable({ table.concat(parts) }, Node)
end

--- The markup of a node, as a string.
---@param node table
---@return string
function M.render(node)
  if not is_node(node) then error("apivideo.chart.markup.render: node expected", 2) end
  return node[1]
end

return M
