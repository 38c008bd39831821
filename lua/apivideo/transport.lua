--- What the operations see of a client: a narrow transport.
--
-- The operations (`apivideo.analytics`) know nothing else of the client
-- that made them. They build a request and hand it here:
--
--     transport:send(req)         inside a task: one logical request -> resp | nil, err
--                                 (through the answer cache, `apivideo.cache`, when the client has one)
--     transport:run(fn, ...)      runs fn(...) as a task of the client and waits for it
--     transport:walk(spec)        a walk over pages (`apivideo.pager`), `concurrency` pages ahead
--     transport:check_open(level) raises "the client is closed" at `level`, as error() counts
--     transport:url(path, query)  the full URL of a request, for errors
--     transport:server_time()     the API's clock (its Date header), or nil before any answer
--
-- Where a request is built: `apivideo.analytics` (from the rows of
-- `apivideo.operations`). Where it is sent, authenticated, rate limited and
-- retried: `apivideo.request`. Where it waits: `apivideo.engine`, through
-- its waiter (`apivideo.waiter`, `apivideo.hub`). Where an error is made:
-- `apivideo.retry` (a failed answer), `apivideo.check` (a bad argument),
-- both as objects of `apivideo.errors`.
-- @module apivideo.transport
local check = require("apivideo.check")
local pager = require("apivideo.pager")

local M = {}

local Transport = {}
Transport.__index = Transport

--- A client's transport. opts: `engine` (its tasks), `requester`
-- (`apivideo.request`: the pipeline every operation's request goes
-- through), `clock` (`apivideo.clock`), `concurrency` (pages in flight in a
-- walk), `base_url`, `label` (what tostring says: the client's own text),
-- `cache` (`apivideo.cache`, or nil: every GET is asked of it first).
-- @local
function M.new(opts)
  return setmetatable({
    engine = opts.engine, requester = opts.requester, clock = opts.clock, concurrency = opts.concurrency,
    base_url = opts.base_url, label = opts.label, cache = opts.cache,
  }, Transport)
end

function Transport:__tostring()
  return self.label
end

--- Raises the argument error "apivideo: the client is closed" once the
-- client was closed, positioned at `level` (1: the function calling
-- check_open, 2: its caller...).
function Transport:check_open(level)
  if self.engine.closed then
    check.raise({ text = "apivideo: the client is closed", reason = "the client is closed" }, level + 1)
  end
end

--- Inside a task: one logical request through the client's pipeline. With
-- a cache, every GET (each one-request operation, each page of a walk: they
-- all come here) is answered by it, and it asks the pipeline on a miss.
function Transport:send(req)
  local cache = self.cache
  if cache and req.method == "GET" then return cache:fetch(req, self.requester) end
  return self.requester:send(req)
end

--- Runs fn(...) as a task and waits until it is done: from outside any task
-- by driving the engine, from inside one by waiting for it.
function Transport:run(fn, ...)
  return self.engine:run(fn, ...)
end

--- A walk: `spec.first` (the first page number), `spec.page(n)` (inside a
-- task: page n, or nil, err), `spec.url_of(n)` (its URL, for errors).
function Transport:walk(spec)
  return pager.new({
    engine = self.engine, concurrency = self.concurrency, first = spec.first, page = spec.page,
    url_of = spec.url_of,
  })
end

--- The full URL of a request.
function Transport:url(path, query)
  return self.base_url .. path .. (query or "")
end

--- The API's current time in seconds since the epoch, from the Date header
-- of its latest answer, or nil before any.
function Transport:server_time()
  return self.clock:now()
end

return M
