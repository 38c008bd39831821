-- Shared set-up of the examples: find the module (an installed one, or this
-- checkout's build), and make a client from the environment:
--   APIVIDEO_API_KEY   (default: the stand-in's key)
--   APIVIDEO_BASE_URL  (default: APIVIDEO_STANDIN_URL, else production)
local here = (arg and arg[0] or ""):match("^(.*)[/\\]examples[/\\]") or "."
local version = _VERSION:match("%d+%.%d+")
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. package.path
package.cpath = here .. "/build/lua" .. version .. "/?.so;" .. package.cpath

local apivideo = require("apivideo")

local M = { apivideo = apivideo }

function M.client(extra)
  local opts = {
    api_key = os.getenv("APIVIDEO_API_KEY") or "standin-key",
    base_url = os.getenv("APIVIDEO_BASE_URL") or os.getenv("APIVIDEO_STANDIN_URL"),
  }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return apivideo.new(opts)
end

--- The first command-line argument, or a default.
function M.arg(i, default)
  return (arg and arg[i]) or default
end

return M
