-- Test helper: a fleet of nginx "hosts" (issue 20) for spec/fleet_spec.lua and bench/fleet.lua: each
-- host is Debian's nginx with the Lua module, two workers, the library from this checkout (LuaJIT
-- build), in front of the stand-in and sharing one redis-server.
--
--   local F = require("spec.support.fleet")
--   local h = F.start_host("a", srv, redis)   -- h.url, h.dir; F.stop_host(h)
--   F.parallel({ url, ... })                  -- every URL at once (curl --parallel): decoded answers
--
-- Locations of a host: /page (one client per request, as the README shows: ?cache=1 &store=redis
-- &id=VIDEO &page=N &ttl= &neg= &budget=1 &retries= &wait= &key=), /metrics (apivideo.prometheus),
-- /ping, and /shared (the yardstick of a cached answer: one ngx.shared lookup of a stored page).
local S = require("spec.support.standin")
local sh = require("spec.support.shell")
local cjson = require("cjson")
local socket = require("socket")

local M = {}

local q = sh.quote
local ROOT = S.root()

local APP = [==[
-- the page handler of the fleet spec: one client per request, as the README shows
local apivideo = require("apivideo")
local cjson = require("cjson")
local CONFIG = %s
local M = {}

local redis
local function shared_store()
  redis = redis or apivideo.redis_store({ port = CONFIG.redis_port, prefix = "fleet:", timeout_ms = 500 })
  return redis
end

function M.page()
  local a = ngx.req.get_uri_args()
  local store = a.store == "redis" and shared_store() or ngx.shared.cache
  local events = {}
  local opts = {
    api_key = a.key or CONFIG.api_key, base_url = CONFIG.standin, auth = "basic",
    max_retries = tonumber(a.retries or 1), max_retry_wait_ms = tonumber(a.wait or 200),
    metrics_store = ngx.shared.metrics,
    on_event = function(e) events[#events + 1] = e.type end,
  }
  if a.cache then
    -- (the stand-in's sessions are all of 2023, a closed window: closed_ttl = 0 keeps them at ttl)
    opts.cache = { store = store, ttl = tonumber(a.ttl or 30), neg_ttl = tonumber(a.neg or 5), stale_ttl = 300,
      closed_ttl = 0 }
  end
  if a.budget then opts.rate_limit_store = store end
  local client = apivideo.new(opts)
  local page, err = client.analytics:list_video_sessions(a.id or "vi250", {
    period = "2023", page_size = 2, current_page = tonumber(a.page or 1) })
  client:close()
  local out = { worker = ngx.worker.pid(), host = CONFIG.name, events = table.concat(events, ",") }
  if page then
    out.first = page.data[1] and page.data[1].session.session_id
    out.stale = page.stale == true
  else
    out.status, out.kind = err.status, err.kind
  end
  ngx.say(cjson.encode(out))
end

function M.metrics()
  require("apivideo.prometheus").serve(ngx.shared.metrics)
end

-- the yardstick of a cached answer: one lookup of a stored answer in a lua_shared_dict
function M.shared()
  local dict = ngx.shared.cache
  local body = dict:get("yardstick")
  if not body then
    body = cjson.encode({ worker = ngx.worker.pid(), host = CONFIG.name, events = "", first = "psvi250_000001",
      stale = false })
    dict:set("yardstick", body)
  end
  ngx.say(body)
end

return M
]==]

local CONF = [==[
%s
worker_processes 2;
master_process on;
daemon on;
pid nginx.pid;
error_log logs/error.log warn;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;%s/?.lua;/usr/share/lua/5.1/?.lua;;";
    lua_package_cpath "%s/build/luajit/?.so;/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
    lua_shared_dict cache 4m;
    lua_shared_dict metrics 1m;
    server {
        listen 127.0.0.1:%d reuseport;
        location = /page { content_by_lua_block { require("app").page() } }
        location = /metrics { content_by_lua_block { require("app").metrics() } }
        location = /ping { content_by_lua_block { ngx.say("pong") } }
        location = /shared { content_by_lua_block { require("app").shared() } }
    }
}
]==]

local free_port = sh.free_port

local function start_host(name, srv, redis)
  local dir = sh.tmpdir()
  assert(os.execute("mkdir -p " .. q(dir .. "/logs") .. " " .. q(dir .. "/tmp")))
  local config = ("{ name = %q, standin = %q, api_key = %q, redis_port = %d }"):format(name, srv.url,
    "standin-key", redis.port)
  local f = assert(io.open(dir .. "/app.lua", "w"))
  f:write(APP:format(config))
  f:close()
  local port = free_port()
  local user = sh.run("id -u"):match("^0") and "user root root;" or ""
  f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(CONF:format(user, ROOT, ROOT, dir, ROOT, port))
  f:close()
  local out, code = sh.run("/usr/sbin/nginx -p " .. q(dir .. "/") .. " -c " .. q(dir .. "/nginx.conf")
    .. " -e " .. q(dir .. "/logs/error.log"))
  assert(code == 0, "nginx did not start: " .. out)
  local url = "http://127.0.0.1:" .. port
  for _ = 1, 150 do
    local status = S.http("GET", url .. "/ping")
    if status == 200 then return { name = name, url = url, dir = dir } end
    socket.sleep(0.02)
  end
  error("nginx " .. name .. " does not answer: " .. tostring(sh.read_file(dir .. "/logs/error.log")))
end

local function stop_host(h)
  local pid = sh.read_file(h.dir .. "/nginx.pid")
  if pid then
    os.execute("kill -QUIT " .. pid:match("%d+") .. " 2>/dev/null")
    for _ = 1, 100 do
      if not sh.exists(h.dir .. "/nginx.pid") then break end
      socket.sleep(0.02)
    end
  end
  sh.remove_tree(h.dir)
end

-- Every url at once (curl --parallel): the decoded JSON answers.
local function parallel(urls)
  local list = {}
  for i, u in ipairs(urls) do list[i] = q(u) end
  local out, code = sh.run("curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max 100 "
    .. table.concat(list, " ") .. " 2>/dev/null")
  assert(code == 0, "curl failed: " .. out)
  local answers = {}
  for line in out:gmatch("[^\n]+") do
    local ok, v = pcall(cjson.decode, line)
    assert(ok, "not JSON: " .. line)
    answers[#answers + 1] = v
  end
  if #answers ~= #urls then error(#answers .. " answers to " .. #urls .. " requests:\n" .. out, 2) end
  return answers
end

function M.api_requests(srv, pattern)
  return #srv:requests(pattern or "^/analytics/")
end

M.start_host, M.stop_host, M.parallel = start_host, stop_host, parallel

return M
