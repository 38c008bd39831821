--- Page walks with prefetch.
--
-- A walk decides its pages itself. The first page is fetched alone (it tells
-- how many pages there are); from then on up to `concurrency` following pages
-- are in flight while the caller works on the current one, and pages are
-- handed out strictly in order. The walk asks only for pages it has not had,
-- never beyond the `pages_total` the last page handed out announced, and each
-- answer must be the page it asked for: a server that answers page 1 when
-- asked for page 3 ends the walk with an error of kind `"decode"` (naming both
-- pages) instead of walking for ever. When `pages_total` changes mid-walk
-- (items added or removed meanwhile) the walk follows the newest figure:
-- requests beyond a smaller total are cancelled, a larger one is walked to its
-- end; no page is handed out twice.
--
-- Closing the pager (break on 5.4 through the for-loop's closing value,
-- garbage collection elsewhere, or an error) cancels whatever is in flight.
-- @module apivideo.pager
local errors = require("apivideo.errors")

local M = {}

local Pager = {}
Pager.__index = Pager

--- A walk. opts:
-- `engine` (the engine whose tasks get the pages), `page(n)` (inside a
-- task: page n or nil, err), `first` (the first page number),
-- `concurrency` (pages in flight), `url_of(n)` (the URL of page n, for
-- errors).
-- @local
function M.new(opts)
  local self = setmetatable({
    engine = opts.engine, get_page = opts.page, url_of = opts.url_of,
    next = opts.first, tasks = {}, concurrency = opts.concurrency,
  }, Pager)
  local function close() self:close() end
  -- The closing value of a generic for (5.4) and a finalizer for the others.
  -- closer:close() ends the walk explicitly on any version.
  local closer
  local methods = { close = close }
  if newproxy then -- luacheck: ignore 113
    closer = newproxy(true) -- luacheck: ignore 113
    local mt = getmetatable(closer)
    mt.__gc, mt.__index = close, methods
  else
    closer = setmetatable({}, { __close = close, __gc = close, __index = methods })
  end
  self.closer = closer
  return self
end

function Pager:_launch(n)
  if self.tasks[n] == nil then
    self.tasks[n] = self.engine:spawn(self.get_page, n)
  end
end

--- Keeps pages from..to in flight, never beyond the last known pages_total.
function Pager:_fill(from, to)
  if self.total and to > self.total then to = self.total end
  for n = from, to do self:_launch(n) end
end

--- Cancels the requests for pages after `last` (pages_total shrank).
function Pager:_drop_after(last)
  local doomed = {}
  for n in pairs(self.tasks) do
    if n > last then doomed[#doomed + 1] = n end
  end
  local list = {}
  for _, n in ipairs(doomed) do
    list[#list + 1] = self.tasks[n]
    self.tasks[n] = nil
  end
  self.engine:cancel_tasks(list)
end

local function whole(v, min)
  return type(v) == "number" and v == v and v >= min and v < 2 ^ 53 and math.floor(v) == v
end

--- The walk's own check of an answer: the page asked for, with sane numbers.
function Pager:_contradiction(n, page)
  local p = page.pagination
  local current, total = p.current_page, p.pages_total
  local what
  if not whole(total, 0) then
    what = "'pagination.pages_total' is not a whole number >= 0 (" .. tostring(total) .. ")"
  elseif current ~= n then
    what = "asked for page " .. n .. ", the server answered page " .. tostring(current)
  end
  if not what then return nil end
  return errors.new({ kind = "decode", method = "GET", url = self.url_of and self.url_of(n) or nil,
    title = "unexpected response: " .. what, page_asked = n,
    page_answered = type(current) == "number" and current or nil })
end

--- The next page, or nil after the last one. Raises the error object when
-- a page cannot be fetched or contradicts the walk.
function Pager:next_page()
  if self.finished then return nil end
  local n = self.next
  self:_launch(n)
  if self.total then self:_fill(n + 1, n + self.concurrency - 1) end
  local task = self.tasks[n]
  self.engine:join(task)
  self.tasks[n] = nil
  local ok, page, err = pcall(task.outcome, task)
  if ok and page then err = self:_contradiction(n, page) end
  if not ok or not page or err then
    self:close()
    error(ok and err or page, 0)
  end
  local total = page.pagination.pages_total
  if self.total and total < self.total then self:_drop_after(total) end
  self.total = total
  if n < total then
    self.next = n + 1
    self:_fill(n + 1, n + self.concurrency)
    -- start those requests now, so they travel while the caller works
    self.engine:kick()
  else
    self:_stop() -- the last page: its items are still to be handed out
  end
  return page
end

--- Ends the walk and cancels every request still in flight. Idempotent.
-- An items iterator of a closed walk ends at once, even in the middle of a
-- page it holds.
function Pager:close()
  self.closed = true
  self:_stop()
end

--- No more pages: cancels every request still in flight.
function Pager:_stop()
  self.finished = true
  local tasks = self.tasks
  self.tasks = {}
  -- collect first, cancel after: LuaJIT 2.1 (Debian's luajit2) can spin for
  -- ever in a compiled pairs() loop over a table changed during the walk
  local list, n, task = {}, next(tasks)
  while n ~= nil do
    list[#list + 1] = task
    n, task = next(tasks, n)
  end
  self.engine:cancel_tasks(list)
end

--- A generic-for iterator over pages: fn, nil, nil, closer.
local function pages(pager)
  return function() return pager:next_page() end, nil, nil, pager.closer
end

--- A generic-for iterator over the items of every page, in order. A page is
-- let go as soon as its last item is handed out, before the next one is
-- waited for and decoded: only one page is ever alive in the iterator.
local function items(pager)
  local data, i, count = nil, 0, 0
  return function()
    if pager.closed then return nil end
    while true do
      if i < count then
        i = i + 1
        local item = data[i]
        if i == count then data = nil end -- the page's last item: let go of it
        return item
      end
      local page = pager:next_page()
      if not page then return nil end
      data, i, count = page.data, 0, #page.data
      if count == 0 then data = nil end
    end
  end, nil, nil, pager.closer
end

--- The walk as a generic-for iterator over its pages: fn, nil, nil, closer.
Pager.pages = pages

--- The walk as a generic-for iterator over the items of its pages: fn, nil, nil, closer.
Pager.items = items

return M
