-- The Lua side of examples/host: a session walk a frame-loop host resumes once per frame.
--
-- host.c runs this chunk once with a table of its key=value arguments and gets back a
-- coroutine. The client is created with `yield = coroutine.yield`: every time it would
-- wait for the network it does one non-blocking libcurl step and yields (the wait hint
-- in ms) to the host instead of blocking. The coroutine returns a table of counts:
--   { requests, pages, items, checksum }
-- requests = pages + token exchanges + retries + 401 replays (from the on_event hook);
-- checksum = FNV-1a (32 bit) over the session ids in the order they came, each followed
-- by "\n", as 8 hex digits.
--
-- Arguments (key=value on the host's command line), with their defaults:
--   video=vi250 period=2023 page_size=25 concurrency=4 auth=bearer
--   base_url=$APIVIDEO_BASE_URL or $APIVIDEO_STANDIN_URL (else production)
-- The API key comes from $APIVIDEO_API_KEY (default: the stand-in's key), never argv.
local args = ... or {}
local apivideo = require("apivideo")

local function number_arg(name, default)
  local v = args[name]
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n then error("walk.lua: " .. name .. " must be an integer, got '" .. tostring(v) .. "'", 0) end
  return n
end

local stats = { requests = 0, pages = 0, items = 0, checksum = nil }

local client = apivideo.new({
  api_key = os.getenv("APIVIDEO_API_KEY") or "standin-key",
  base_url = args.base_url or os.getenv("APIVIDEO_BASE_URL") or os.getenv("APIVIDEO_STANDIN_URL"),
  auth = args.auth,
  concurrency = number_arg("concurrency", 4),
  -- The whole point: wait by yielding to the host, never by blocking it.
  yield = coroutine.yield,
  on_event = function(e)
    -- every one of these sends one more request than the pages themselves
    if e.type == "token" or e.type == "retry" or e.type == "reauth" then
      stats.requests = stats.requests + 1
    end
  end,
})

local video = args.video or "vi250"
local opts = { period = args.period or "2023", page_size = number_arg("page_size", 25) }

return coroutine.create(function()
  local h = 0x811c9dc5
  for page in client.analytics:video_session_pages(video, opts) do
    stats.pages = stats.pages + 1
    stats.requests = stats.requests + 1
    for _, s in ipairs(page.data) do
      stats.items = stats.items + 1
      local id = s.session.session_id .. "\n"
      for i = 1, #id do
        h = ((h ~ id:byte(i)) * 0x01000193) & 0xffffffff
      end
    end
  end
  client:close()
  stats.checksum = string.format("%08x", h)
  return stats
end)
