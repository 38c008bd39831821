--- Handlers of the OpenResty test (test/openresty/nginx.conf.in).
--
-- Every request builds its own client and closes it at the end: a client's
-- engine runs its tasks on coroutines of the request that drives it, so a
-- client must never be shared by two requests at once. The bearer token is
-- still shared, across requests and workers, through ngx.shared.apivideo
-- (unless the request says store=0).
--
-- A walk answers { count, pages, md5, first, last, driver, phase, worker,
-- elapsed_ms, ... } where md5 is over the lines "session_id loaded_at
-- ended_at" of every item, in order, joined by "\n"; the spec computes the
-- same checksum from the stand-in's documented data.
local apivideo = require("apivideo")
local core = require("apivideo.core")
local waiter = require("apivideo.waiter")
local cjson = require("cjson.safe")

local ngx = ngx
local M = {}

local function standin_url()
  local u = os.getenv("APIVIDEO_STANDIN_URL")
  if not u or u == "" then error("APIVIDEO_STANDIN_URL is not set in the environment of nginx", 0) end
  return u
end

local function api_key()
  local k = os.getenv("APIVIDEO_STANDIN_API_KEY")
  return (k and k ~= "") and k or "standin-key"
end

local function int_arg(args, name, default, min, max)
  local v = args[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= math.floor(n) or n < min or n > max then
    error({ status = 400, message = "bad argument " .. name .. ": " .. tostring(v) })
  end
  return n
end

--- Wraps a client's engine to record how long the worker was held between
-- two yields to nginx: wall time and the worker's CPU time (os.clock), which
-- preemption by other processes does not inflate. The engine yields in its
-- waiter: its wait (for data) and, for a lane, its turn (after a time slice);
-- a call that returned at once does not end the hold.
local function traced(eng)
  local trace = { naps = 0, max_hold_ms = 0, max_hold_cpu_ms = 0, held_cpu_ms = 0 }
  local last, last_cpu = core.now_ms(), os.clock()
  local lane = eng.waiter.kind == "lane" and eng.waiter or nil
  local function around(f)
    return function(...)
      local held, cpu = core.now_ms() - last, (os.clock() - last_cpu) * 1000
      local before = lane and lane.yields
      f(...)
      if lane == nil or lane.yields ~= before then
        if held > trace.max_hold_ms then trace.max_hold_ms = held end
        if cpu > trace.max_hold_cpu_ms then trace.max_hold_cpu_ms = cpu end
        trace.held_cpu_ms = trace.held_cpu_ms + cpu
        trace.naps = trace.naps + 1
        last, last_cpu = core.now_ms(), os.clock()
      end
    end
  end
  local w = eng.waiter
  w.wait = around(w.wait)
  if lane then lane.turn = around(lane.turn) end
  return trace
end

local function new_client(args, driver)
  local client = apivideo.new({
    api_key = api_key(),
    base_url = standin_url(),
    concurrency = int_arg(args, "concurrency", 4, 1, 64),
    token_store = args.store ~= "0" and ngx.shared.apivideo or nil,
    timeout_ms = 20000,
  })
  local trace
  if driver == "blocking" then
    -- the control: an engine with its own multi handle that blocks in
    -- poll(), as a client unaware of nginx would
    local eng = client.engine
    eng.waiter:close()
    eng.waiter = waiter.blocking({ max_body = client.max_body_bytes })
  elseif args.trace == "1" then
    trace = traced(client.engine)
  end
  return client, trace
end

--- Walks at most `pages` pages of a video's sessions; returns the result
-- table or raises.
local function do_walk(args, driver)
  local video = args.video or "vi250"
  local max_pages = int_arg(args, "pages", 10, 1, 100000)
  local page_size = int_arg(args, "page_size", 10, 1, 100)
  local client, trace = new_client(args, driver)
  local lines, n_pages = {}, 0
  local started = core.now_ms()
  local ok, err = pcall(function()
    local iter, state, ctl, closer = client.analytics:video_session_pages(video, {
      period = args.period or "2023", page_size = page_size,
    })
    for page in iter, state, ctl do
      n_pages = n_pages + 1
      for _, item in ipairs(page.data) do
        local s = item.session
        lines[#lines + 1] = s.session_id .. " " .. s.loaded_at .. " " .. s.ended_at
      end
      if n_pages >= max_pages then break end
    end
    closer:close() -- LuaJIT has no closing value: end the prefetch explicitly
  end)
  local in_flight_after = client:in_flight()
  client:close()
  if not ok then error(err, 0) end
  if trace then
    for k, v in pairs(trace) do trace[k] = math.floor(v * 100 + 0.5) / 100 end
  end
  return {
    count = #lines,
    pages = n_pages,
    md5 = ngx.md5(table.concat(lines, "\n")),
    first = lines[1] and lines[1]:match("^%S+") or cjson.null,
    last = lines[#lines] and lines[#lines]:match("^%S+") or cjson.null,
    driver = driver,
    phase = ngx.get_phase(),
    worker = ngx.worker.pid(),
    elapsed_ms = math.floor(core.now_ms() - started + 0.5),
    in_flight_after = in_flight_after,
    trace = trace,
  }
end

local function reply(status, tbl)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(tbl))
  return ngx.exit(status)
end

local function fail(err)
  if type(err) == "table" and err.status and err.message then
    return reply(err.status, { error = err.message })
  end
  local msg = tostring(err)
  ngx.log(ngx.ERR, "apivideo walk failed: ", msg)
  return reply(502, { error = msg, kind = apivideo.is_error(err) and err.kind or nil })
end

--- /walk, /walk_blocking, /walk_access, /walk_rewrite.
function M.walk(driver)
  local ok, res = pcall(do_walk, ngx.req.get_uri_args(), driver)
  if not ok then return fail(res) end
  return reply(200, res)
end

--- /walk_timer: the walk runs in an ngx.timer; the request waits for its result.
local timer_seq = 0
function M.walk_in_timer()
  local args = ngx.req.get_uri_args()
  local dict = ngx.shared.apivideo
  timer_seq = timer_seq + 1
  local key = "test:timer:" .. ngx.worker.pid() .. ":" .. timer_seq
  local ok, terr = ngx.timer.at(0, function(premature)
    if premature then return end
    local wok, res = pcall(do_walk, args, "ngx")
    dict:set(key, cjson.encode(wok and res or { error = tostring(res) }), 60)
  end)
  if not ok then return fail("ngx.timer.at: " .. tostring(terr)) end
  local deadline = ngx.now() + 20
  while ngx.now() < deadline do
    local v = dict:get(key)
    if v then
      dict:delete(key)
      local res = cjson.decode(v)
      if res.error then return fail(res.error) end
      return reply(200, res)
    end
    ngx.sleep(0.005)
  end
  return fail("timer walk did not finish within 20 s")
end

--- Calls the client from whatever phase this runs in; returns one line: the
-- error message (or "no error ...") and how long the call took.
function M.call_from_this_phase()
  local started = core.now_ms()
  local ok, client = pcall(new_client, {}, "ngx")
  if not ok then return "apivideo.new failed: " .. tostring(client) end
  local cok, page, err = pcall(client.analytics.list_video_sessions, client.analytics, "vi250",
    { period = "2023", page_size = 1 })
  client:close()
  local msg
  if not cok then
    msg = tostring(page)
  elseif page == nil then
    msg = "returned nil, err: " .. tostring(err)
  else
    msg = "no error: got " .. #page.data .. " item(s)"
  end
  return (msg:gsub("[\r\n]+", " | ")) .. (" [%.1f ms]"):format(core.now_ms() - started)
end

--- A reference walk without lua-apivideo: ngx.socket.tcp (cosockets, the
-- OpenResty-native way) with a keepalive pool, HTTP Basic, cjson, the same
-- pages with up to `concurrency` in flight. It is the yardstick for the
-- /ping figures: what the same walks cost the worker with a client that is
-- woken by nginx's own events. Not used by the library.
local function cosocket_get(host, port, path, auth)
  local sock = ngx.socket.tcp()
  sock:settimeout(20000)
  local ok, err = sock:connect(host, port)
  if not ok then error("connect: " .. tostring(err), 0) end
  ok, err = sock:send("GET " .. path .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port
    .. "\r\nAuthorization: " .. auth .. "\r\nAccept: application/json\r\n\r\n")
  if not ok then error("send: " .. tostring(err), 0) end
  local line = sock:receive("*l")
  local status = tonumber(line and line:match("^HTTP/1%.%d (%d+)"))
  local length, chunked
  while true do
    local h = sock:receive("*l")
    if not h then error("headers: connection lost", 0) end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.*)$")
    name = name and name:lower()
    if name == "content-length" then length = tonumber(value) end
    if name == "transfer-encoding" and value:lower():find("chunked", 1, true) then chunked = true end
  end
  local body
  if chunked then
    local parts = {}
    while true do
      local size = tonumber((sock:receive("*l") or ""):match("^%x+"), 16)
      if not size then error("bad chunk", 0) end
      if size == 0 then
        sock:receive("*l")
        break
      end
      parts[#parts + 1] = sock:receive(size)
      sock:receive("*l")
    end
    body = table.concat(parts)
  else
    body = sock:receive(length or "*a")
  end
  sock:setkeepalive(10000, 64)
  if status ~= 200 then error("HTTP " .. tostring(status) .. ": " .. tostring(body), 0) end
  return cjson.decode(body)
end

local function cosocket_walk(args)
  local host, port = standin_url():match("^http://([^:/]+):(%d+)")
  port = tonumber(port)
  local auth = "Basic " .. ngx.encode_base64(api_key() .. ":")
  local video = args.video or "vi250"
  local max_pages = int_arg(args, "pages", 10, 1, 100000)
  local page_size = int_arg(args, "page_size", 10, 1, 100)
  local conc = int_arg(args, "concurrency", 4, 1, 64)
  local function path(n)
    return "/analytics/videos/" .. video .. "?period=" .. (args.period or "2023")
      .. "&currentPage=" .. n .. "&pageSize=" .. page_size
  end
  local started = core.now_ms()
  local pages = { cosocket_get(host, port, path(1), auth) }
  local last = math.min(pages[1].pagination.pagesTotal, max_pages)
  local next_n = 2
  local function worker()
    while next_n <= last do
      local n = next_n
      next_n = n + 1
      pages[n] = cosocket_get(host, port, path(n), auth)
    end
  end
  local threads = {}
  for i = 1, math.min(conc, last - 1) do threads[i] = ngx.thread.spawn(worker) end
  for _, th in ipairs(threads) do
    local ok, err = ngx.thread.wait(th)
    if not ok then error(err, 0) end
  end
  local lines = {}
  for n = 1, last do
    for _, item in ipairs(pages[n].data) do
      local s = item.session
      lines[#lines + 1] = s.sessionId .. " " .. s.loadedAt .. " " .. s.endedAt
    end
  end
  return {
    count = #lines, pages = last, md5 = ngx.md5(table.concat(lines, "\n")),
    first = lines[1] and lines[1]:match("^%S+") or cjson.null,
    last = lines[#lines] and lines[#lines]:match("^%S+") or cjson.null,
    driver = "cosocket", phase = ngx.get_phase(), worker = ngx.worker.pid(),
    elapsed_ms = math.floor(core.now_ms() - started + 0.5),
  }
end

--- /walk_cosocket: the reference walk.
function M.walk_cosocket()
  local ok, res = pcall(cosocket_walk, ngx.req.get_uri_args())
  if not ok then return fail(res) end
  return reply(200, res)
end

return M
