--- Page walks with prefetch.
--
-- The first page is fetched alone (it tells how many pages there are); from
-- then on up to `concurrency` following pages are in flight while the caller
-- works on the current one, and pages are handed out strictly in order. The
-- walk ends after the page whose current_page is not below pages_total.
-- Closing the pager (break on 5.4 through the for-loop's closing value,
-- garbage collection elsewhere, or an error) cancels whatever is in flight.
-- @module apivideo.pager
local M = {}

local Pager = {}
Pager.__index = Pager

--- client: the client; fetch(n): inside a task, returns page n or nil, err;
-- first: the first page number.
function M.new(client, fetch, first)
  local self = setmetatable({
    client = client, fetch = fetch, next = first, tasks = {}, concurrency = client.concurrency,
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
    self.tasks[n] = self.client.engine:spawn(self.fetch, n)
  end
end

--- Keeps pages from..to in flight (never beyond pages_total).
function Pager:_fill(from, to)
  if self.total and to > self.total then to = self.total end
  for n = from, to do self:_launch(n) end
end

--- The next page, or nil after the last one. Raises the error object when
-- a page cannot be fetched.
function Pager:next_page()
  if self.finished then return nil end
  local n = self.next
  self:_launch(n)
  if self.total then self:_fill(n + 1, n + self.concurrency - 1) end
  local task = self.tasks[n]
  self.client.engine:run_until(function() return task.done end)
  self.tasks[n] = nil
  local ok, page, err = pcall(task.outcome, task)
  if not ok or not page then
    self:close()
    error(ok and err or page, 0)
  end
  local p = page.pagination
  self.total = p.pages_total
  local current = p.current_page or n
  if current < self.total then
    self.next = n + 1
    self:_fill(n + 1, n + self.concurrency)
    -- start those requests now, so they travel while the caller works
    self.client.engine:kick()
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
  for i = 1, #list do list[i]:cancel() end
end

--- A generic-for iterator over pages: fn, nil, nil, closer.
function M.pages(pager)
  return function() return pager:next_page() end, nil, nil, pager.closer
end

--- A generic-for iterator over the items of every page, in order.
function M.items(pager)
  local data, i = nil, 0
  return function()
    if pager.closed then return nil end
    while true do
      if data then
        i = i + 1
        local item = data[i]
        if item ~= nil then return item end
      end
      local page = pager:next_page()
      if not page then return nil end
      data, i = page.data, 0
    end
  end, nil, nil, pager.closer
end

return M
