-- Pagination shared by every paginated operation: currentPage / pageSize
-- parsing and the api.video `pagination` object with absolute links.
local util = require("standin.util")

local M = {}

local floor, ceil = math.floor, math.ceil
local concat = table.concat

local function int_arg(req, name, default, min, max)
  local v = util.last_arg(req.args, name)
  if v == nil then return default end
  if not v:match("^%d+$") then return nil end
  local n = tonumber(v)
  if n < min or (max and n > max) then return nil end
  return n
end

-- Returns page, size, or nil, problem response (built by problem(name, detail, h)).
function M.paging(req, h, problem)
  local size = int_arg(req, "pageSize", 25, 1, 100)
  if not size then
    return nil, problem("pageSize", "This value should be between 1 and 100.", h)
  end
  local page = int_arg(req, "currentPage", 1, 1, nil)
  if not page then
    return nil, problem("currentPage", "This value should be greater than or equal to 1.", h)
  end
  return page, size
end

function M.num(n)
  if n == floor(n) and n < 1e15 then return string.format("%d", n) end
  return tostring(n)
end

-- pagination object with absolute links that keep the other query arguments.
function M.pagination_json(req, page, size, total, count)
  local pages = total == 0 and 1 or ceil(total / size)
  local kept = {}
  for _, q in ipairs(req.qlist) do
    if q.key ~= "currentPage" and q.key ~= "pageSize" then kept[#kept + 1] = q.raw end
  end
  kept[#kept + 1] = ""
  local base = req.base .. req.raw_path .. "?" .. concat(kept, "&")
  local function link(rel, p)
    local uri = base .. "currentPage=" .. M.num(p) .. "&pageSize=" .. M.num(size)
    return '{"rel":"' .. rel .. '","uri":' .. util.enc(uri) .. "}"
  end
  local links = { link("self", page), link("first", 1) }
  if page > 1 then links[#links + 1] = link("previous", page - 1) end
  if page < pages then links[#links + 1] = link("next", page + 1) end
  links[#links + 1] = link("last", pages)
  return '{"currentPage":' .. M.num(page) .. ',"currentPageItems":' .. count .. ',"pageSize":' .. M.num(size)
    .. ',"pagesTotal":' .. M.num(pages) .. ',"itemsTotal":' .. total .. ',"links":[' .. concat(links, ",") .. "]}"
end

-- 200 with data = item_at(k) for the items of the page (already-encoded JSON
-- texts).  head: optional JSON text of members written before "data"
-- (e.g. '"context":{...},').
function M.page_response(req, h, page, size, total, item_at, head)
  local first = (page - 1) * size + 1
  local last = page * size
  if last > total then last = total end
  local items = {}
  for k = first, last do items[#items + 1] = item_at(k) end
  local body = "{" .. (head or "") .. '"data":' .. util.array_of(items) .. ',"pagination":'
    .. M.pagination_json(req, page, size, total, #items) .. "}"
  return util.json_response(200, body, h)
end

return M
