-- Every session of a video, pages fetched ahead: lua5.4 examples/video_sessions.lua [videoId] [period]
local ex = dofile((arg[0]:gsub("[^/\\]+$", "")) .. "common.lua")
local client = ex.client({ concurrency = 8 })

local countries, n = {}, 0
for s in client.analytics:video_sessions(ex.arg(1, "vi10k"), { period = ex.arg(2, "2023"), page_size = 100 }) do
  n = n + 1
  countries[s.location.country] = (countries[s.location.country] or 0) + 1
end
print(n .. " sessions")
for country, count in pairs(countries) do print(country, count) end
