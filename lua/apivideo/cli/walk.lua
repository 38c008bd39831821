--- The CLI's walks: every request of a command goes through the library's
-- public client API (`client.analytics`), and several walks run at once as
-- the tasks of one `client:run_all`. The commands (apivideo.cli.commands,
-- apivideo.cli.data, apivideo.cli.report) are built on these.
-- @module apivideo.cli.walk
local errors = require("apivideo.errors")
local args = require("apivideo.cli.args")
local messages = require("apivideo.cli.messages")
local output = require("apivideo.cli.output")
local stats = require("apivideo.cli.stats")

local M = {}

local unpack_ = table.unpack or unpack -- luacheck: ignore 143

--- Calls client.analytics:method(...) (an iterator, or a one-request
-- method outside any task). An argument the library refuses is a value the
-- user gave: a usage error naming the option (apivideo.cli.messages).
-- Returns what the method returns (a walk; a result, or nil and the error).
function M.call(client, method, ...)
  return M.checked(client.analytics[method], client.analytics, ...)
end

--- Calls f(...) (a library function that checks its arguments first): an
-- argument it refuses is a usage error naming the option; anything else it
-- raises goes on. Returns what f returns (two values).
function M.checked(f, ...)
  local ok, res, err = pcall(f, ...)
  if not ok then
    if errors.is_argument(res) then args.usage_error(messages.usage_text(res)) end
    error(res, 0)
  end
  return res, err
end

--- Every item of every page of a walk (`pages`: a page iterator of
-- client.analytics, called directly: a generic `for` cannot wait inside a
-- task on plain Lua 5.1), in order: on_item(item) for each, then
-- on_page(page) once the page's items are done (both optional). Raises
-- what the walk raises (its error object).
function M.each(pages, on_item, on_page)
  while true do
    local page = pages()
    if not page then return end
    if on_item then
      for _, item in ipairs(page.data) do on_item(item) end
    end
    if on_page then on_page(page) end
  end
end

--- Runs one walk (a function) as a task of the client, calling tick()
-- about every 100 ms meanwhile (progress). Raises the walk's error.
local function run_one(client, walk_fn, tick)
  local ok, err = client:run_all({ walk_fn }, { tick = tick })
  if not ok then error(err, 0) end
end

--- The sessions of o.id (a video, or a live stream when o.kind is
-- "live-stream") in o.period, then (unless --no-events) the events of every
-- session, up to --concurrency sessions at once. A session whose events
-- cannot be fetched is left out and named on stderr; a failure that cannot
-- heal for the next session (apivideo.cli.messages.heals) ends the command.
-- opts: `funnel_steps` (see apivideo.cli.stats.new). Returns the figures
-- (apivideo.cli.stats result).
function M.collect_sessions(ctx, opts)
  local client, o, p = ctx.client, ctx.o, ctx.progress
  local wanted = { period = o.period, page_size = o.page_size, metadata = o.metadata }
  local method = o.kind == "live-stream" and "live_stream_session_pages" or "video_session_pages"
  local sessions = M.call(client, method, o.id, wanted)
  local acc = stats.new(opts)

  -- 1. the sessions (pages prefetched by the iterator)
  p.phase("sessions", "page")
  local pages, total = 0, nil
  local function show() p.update(pages, total, acc.sessions) end
  run_one(client, function()
    M.each(sessions, acc.add_session, function(page)
      pages, total = pages + 1, page.pagination.pages_total
      show()
    end)
  end, show)
  p.clear()
  if o.no_events then return acc.result(false) end

  -- 2. the events of every session, one task per session
  local ids, n = acc.ids, acc.sessions
  local done, k, task_ids = 0, 0, {}
  local function show_events() p.update(done, n, acc.events_total()) end
  local function left_out(id, reason)
    done = done + 1
    acc.left_out(id, reason)
    p.clear()
    ctx.stderr:write(args.PROG .. ": left out the events of session " .. tostring(id) .. ": " .. reason .. "\n")
  end
  local function events_of(sid)
    return function()
      local counter = acc.session_events()
      M.each(M.call(client, "session_event_pages", sid, { page_size = o.page_size }), counter.add)
      counter.commit()
      done = done + 1
      show_events()
    end
  end
  local function next_task()
    while k < n do
      k = k + 1
      local sid = ids[k]
      if type(sid) == "string" and sid ~= "" then
        task_ids[#task_ids + 1] = sid
        return events_of(sid)
      end
      left_out("#" .. k, "the session has no session_id")
    end
    return nil
  end
  p.phase("events", "session")
  local ok, err = client:run_all(next_task, {
    limit = o.concurrency, tick = show_events,
    on_error = function(e, i)
      if not messages.heals(e) then return false end
      left_out(task_ids[i], messages.error_line(e))
      return true
    end,
  })
  p.clear()
  if not ok then error(err, 0) end
  return acc.result(true)
end

--- The exit status after sessions were left out (stderr says how many):
-- 1 with --strict, or when no session's events could be counted.
function M.left_out_status(ctx, r)
  local left = #r.events.left_out
  if left == 0 then return 0 end
  ctx.stderr:write(string.format("%s: the events of %d of %d sessions were left out\n", args.PROG, left,
    r.sessions))
  if ctx.o.strict or r.events.sessions_counted == 0 then return 1 end
  return 0
end

--- A list command: walks the pages of `list.method` (called with
-- `list.args`), each item written at once in o.format as a `list.kind`
-- (apivideo.cli.output.item_writer; with --chart, ctx.chart: drawn at the
-- end), with progress counting `list.label`.
-- Returns the exit status.
function M.list(ctx, list)
  local client, o, p = ctx.client, ctx.o, ctx.progress
  local pages_of = M.call(client, list.method, unpack_(list.args))
  local w = output.item_writer(o.format, ctx.emit, list.kind, o.tz, ctx.chart)
  local pages, items, total, started = 0, 0, nil, false
  -- nothing is written before the first page came (an error then leaves stdout empty)
  local function start()
    if started then return end
    started = true
    w.begin()
  end
  local function show() p.update(pages, total, items) end
  p.phase(list.label, "page")
  run_one(client, function()
    M.each(pages_of, function(x)
      start()
      w.row(x)
      items = items + 1
    end, function(page)
      start()
      pages, total = pages + 1, page.pagination.pages_total
      w.page_done()
      ctx.emit.flush() -- each page reaches a pipe at once
      show()
    end)
  end, show)
  p.clear()
  start()
  w.finish()
  return 0
end

return M
