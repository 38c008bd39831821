--- The CLI's walks: every request of a command goes through the library's
-- public client API; several walks run at once through `client:run_all`.
-- Also the wording of the library's refusals in the CLI's terms (flags, not
-- argument names). The commands (apivideo.cli.run, .data, .report) use it.
-- @module apivideo.cli.walk
local apivideo = require("apivideo")
local args = require("apivideo.cli.args")
local output = require("apivideo.cli.output")
local stats = require("apivideo.cli.stats")

local M = {}

local usage_error = args.usage_error
local unpack_ = table.unpack or unpack -- luacheck: ignore 143

--- Strips the "file.lua:12: " position a raised message may start with.
local function bare(msg)
  msg = tostring(msg)
  return (msg:gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^%[string [^\n]-%]:%d+: ", ""))
end
M.bare = bare

--- An error object's one line without the library's "apivideo: " prefix
-- (the CLI puts its own in front).
function M.error_text(err)
  return (tostring(err):gsub("^apivideo: ", ""))
end


--- Runs tasks, at most `limit` at once, until all have returned.
-- next_task() gives the next task (a function, and a value handed to
-- on_error) or nil when there are no more. A task that raises ends; then
-- on_error(err, info) decides: true goes on with the others, false stops
-- (the others are cancelled). Returns true, or false and the error.
function M.drive(client, next_task, limit, on_error, tick)
  local infos, k = {}, 0
  local ok, err = client:run_all(function()
    local fn, info = next_task()
    if fn then
      k = k + 1
      infos[k] = info
    end
    return fn
  end, {
    limit = limit, tick = tick,
    on_error = on_error and function(e, i) return on_error(e, infos[i]) end,
  })
  if ok then return true end
  return false, err
end

--- drive() over a fixed list of functions.
local function drive_list(client, fns, tick)
  local k = 0
  return M.drive(client, function()
    k = k + 1
    return fns[k]
  end, #fns, nil, tick)
end

M.drive_list = drive_list

local ARG_OPTION = {
  period = "--period", video_id = "--video", live_stream_id = "--live-stream", session_id = "--session",
  metadata = "--metadata", page_size = "--page-size", metric = "--metric", aggregation = "--aggregation",
  breakdown = "--breakdown", from = "--from", to = "--to", unique = "--unique", view_duration = "--view-duration",
  interval = "--interval", sort_by = "--sort-by", sort_order = "--sort-order", filter_by = "--filter",
}

--- A library message about an argument, in the CLI's words: "bad argument
-- 'filter_by.country[1]' (...)" -> "bad --filter country (...)".
function M.usage_text(msg)
  msg = bare(msg)
  local arg_name, rest = msg:match("^analytics:[%w_]+: bad argument '([^']+)' (.*)$")
  if not arg_name then return (msg:gsub("^analytics:[%w_]+: ", "")) end
  rest = rest:gsub("'to'", "--to"):gsub("'from'", "--from")
  local base, key = arg_name:match("^([%w_]+)%.([%w_]+)")
  if base == "filter_by" then return "bad --filter " .. key .. " " .. rest end
  if ARG_OPTION[arg_name] then return "bad " .. ARG_OPTION[arg_name] .. " " .. rest end
  return "bad " .. arg_name .. " " .. rest
end

--- Calls client.analytics:method(...) (an iterator, or a one-request
-- method outside any task); an argument the library refuses is a usage
-- error naming the option.
function M.call(client, method, ...)
  local res = { pcall(client.analytics[method], client.analytics, ...) }
  if not res[1] then usage_error(M.usage_text(res[2])) end
  return unpack_(res, 2, 4)
end

local function iterator(client, method, id, opts)
  return (M.call(client, method, id, opts))
end
M.iterator = iterator

--- The sessions of o.id (a video, or a live stream when o.kind is
-- "live-stream") in o.period, then (unless --no-events) the events of every
-- session, up to --concurrency sessions at once. A session whose events
-- cannot be fetched is left out and named on stderr. Returns the figures
-- (apivideo.cli.stats result) and the number of sessions.
function M.collect_sessions(ctx)
  local client, o = ctx.client, ctx.o
  local opts = { period = o.period, page_size = o.page_size }
  if o.metadata then opts.metadata = o.metadata end
  local method = o.kind == "live-stream" and "live_stream_session_pages" or "video_session_pages"
  local next_page = iterator(client, method, o.id, opts)
  local p = ctx.progress
  local acc = stats.new()

  -- 1. the sessions (pages prefetched by the iterator)
  p.phase("sessions", "page")
  local pages, total = 0, nil
  local ok, err = drive_list(client, { function()
    while true do
      local page = next_page()
      if not page then break end
      pages, total = pages + 1, page.pagination.pages_total
      for _, s in ipairs(page.data) do acc.add_session(s) end
      p.update(pages, total, acc.sessions)
    end
  end }, function() p.update(pages, total, acc.sessions) end)
  p.clear()
  if not ok then error(err, 0) end

  local ids, n = acc.ids, acc.sessions
  local done = 0
  local function left_out(id, reason)
    acc.left_out(id, reason)
    p.clear()
    ctx.stderr:write(args.PROG .. ": left out the events of session " .. tostring(id) .. ": " .. reason .. "\n")
  end

  -- 2. the events of every session, one task per session
  if not o.no_events then
    local k = 0
    local function next_task()
      while true do
        k = k + 1
        if k > n then return nil end
        local sid = ids[k]
        if type(sid) == "string" and sid ~= "" then
          return function()
            local next_events = iterator(client, "session_event_pages", sid, { page_size = o.page_size })
            local counter = acc.session_events()
            while true do
              local page = next_events()
              if not page then break end
              for _, e in ipairs(page.data) do counter.add(e) end
            end
            counter.commit()
            done = done + 1
            p.update(done, n, acc.events_total())
          end, sid
        end
        done = done + 1
        left_out("#" .. k, "the session has no session_id")
      end
    end
    local function on_error(e, sid)
      -- a refused key or a forbidden account will not heal for the next session: stop
      if apivideo.is_error(e) and e.kind ~= "auth" and e.status ~= 401 and e.status ~= 403 then
        done = done + 1
        left_out(sid, M.error_text(e))
        return true
      end
      return false
    end
    p.phase("events", "session")
    ok, err = M.drive(client, next_task, o.concurrency, on_error, function() p.update(done, n, acc.events_total()) end)
    p.clear()
    if not ok then error(err, 0) end
  end
  return acc.result(not o.no_events), n
end

--- The exit status after sessions were left out (stderr says how many):
-- 1 with --strict, or when no session's events could be counted.
function M.left_out_status(ctx, r, n)
  local o = ctx.o
  local left = #r.events.left_out
  if left > 0 then
    ctx.stderr:write(string.format("%s: the events of %d of %d sessions were left out\n", args.PROG, left, n))
    if o.strict then return 1 end
    if r.events.sessions_counted == 0 then return 1 end
  end
  return 0
end

--- Walks pages of `method`, handing items to the writer; with progress.
-- argv: the method's arguments (default: { o.id, the options of o }).
local function list_command(ctx, method, kind, label, argv)
  local client, o = ctx.client, ctx.o
  if not argv then
    local opts = { page_size = o.page_size }
    if o.period then opts.period = o.period end
    if o.metadata then opts.metadata = o.metadata end
    argv = { o.id, opts }
  end
  local next_page = M.call(client, method, unpack_(argv, 1, #argv))
  local w = output.item_writer(o.format, ctx.emit, kind)
  local p = ctx.progress
  p.phase(label, "page")
  local pages, items, total, started = 0, 0, nil, false
  local ok, err = drive_list(client, { function()
    while true do
      local page = next_page()
      if not page then break end
      if not started then
        started = true
        w.begin()
      end
      pages, total = pages + 1, page.pagination.pages_total
      for _, x in ipairs(page.data) do
        w.item(x)
        items = items + 1
      end
      w.page_done()
      ctx.emit.flush() -- each page reaches a pipe at once
      p.update(pages, total, items)
    end
  end }, function() p.update(pages, total, items) end)
  p.clear()
  if not ok then error(err, 0) end
  if not started then w.begin() end
  w.finish()
  return 0
end
M.list_command = list_command

return M
