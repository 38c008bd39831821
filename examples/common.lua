-- Shared set-up of the examples: find the module (an installed one, or this
-- checkout's build), and make a client from the environment:
--   APIVIDEO_API_KEY      your key: the examples then talk to api.video
--                         (APIVIDEO_BASE_URL, default production)
--   APIVIDEO_STANDIN_URL  without a key: the built-in stand-in at that URL
--                         (`eval "$(standin/start)"`, or `make demo`), with its key
-- With neither, an example says so and stops: the stand-in's key is never
-- sent to api.video.
local here = (arg and arg[0] or ""):match("^(.*)[/\\]examples[/\\]") or "."
local version = _VERSION:match("%d+%.%d+")
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. package.path
package.cpath = here .. "/build/lua" .. version .. "/?.so;" .. package.cpath

local apivideo = require("apivideo")

local M = { apivideo = apivideo }

local key, standin = os.getenv("APIVIDEO_API_KEY"), os.getenv("APIVIDEO_STANDIN_URL")
--- True when the examples talk to the stand-in (whose clock stands at
-- 2024-01-01T00:00:00Z: the metrics examples ask for December 2023 there).
M.standin = key == nil and standin ~= nil

function M.client(extra)
  local opts
  if key then
    opts = { api_key = key, base_url = os.getenv("APIVIDEO_BASE_URL") }
  elseif standin then
    opts = { api_key = "standin-key", base_url = standin }
  else
    io.stderr:write("set APIVIDEO_API_KEY (api.video), or APIVIDEO_STANDIN_URL for the stand-in:\n",
      "  eval \"$(standin/start)\"; export APIVIDEO_STANDIN_URL\n")
    os.exit(2)
  end
  for k, v in pairs(extra or {}) do opts[k] = v end
  return apivideo.new(opts)
end

--- A default timeframe for the metrics examples: the last 7 days, or the
-- last 7 days of the stand-in's year.
function M.timeframe()
  if M.standin then return "2023-12-25T00:00:00Z", "2024-01-01T00:00:00Z" end
  local now = os.time()
  return now - 7 * 86400, now
end

--- The first command-line argument, or a default.
function M.arg(i, default)
  return (arg and arg[i]) or default
end

return M
