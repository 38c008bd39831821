-- Splits the CPU samples of one whole walk (perf record --call-graph dwarf, CLOCK_MONOTONIC) into
-- the parts of a page's cost; used by bench/profile.sh.
--   perf script -F time,period,ip,sym,dso | lua5.4 bench/profile_split.lua TAG T0_MS T1_MS PAGES CORE_SO
-- Only samples between T0_MS and T1_MS (the walk itself, as walk_lua.lua / decode_walk.lua print
-- them) count. Each sample's call chain is read from the leaf towards main. A collector frame, or
-- else an io.read frame, anywhere in it decides first, whichever is nearer the leaf (so the collector
-- running inside cjson's table building or inside a read is "gc", and so is a page fault it takes);
-- otherwise the first frame that belongs to a part decides (a syscall made by libcurl is "kernel"):
--   read      io.read of a body outside any collector step: decode_walk.lua only, whose cpu_s leaves
--             out about as much (it measures its reads beforehand)
--   kernel    [kernel.kallsyms]: syscalls (poll, recv, send, sleep), page faults
--   gc        the Lua collector: lgc.c of Lua 5.4 (luaC_step, singlestep, propagatemark, sweep*,
--             atomic, youngcollection, ...), lj_gc.c of LuaJIT (gc_*, lj_gc_*); allocation is not
--   zlib      libz (gunzip of the bodies)
--   decode    lua-cjson (parsing and building the tables: the Lua API it calls counts here)
--   shaping   src/json.c of our core.so (the walk that renames, drops nulls, makes integers)
--   libcurl   libcurl (and what it calls, but zlib and the kernel)
--   glue      the rest of our core.so (transfers, multi, headers, the body buffer)
--   lua       everything else: the Lua VM (or LuaJIT's interpreter and traces) running the pager,
--             engine, client and the caller's loop, with the allocations and libc calls they make
-- Prints RESULT lines under TAG: <part>_us (µs of CPU per page), total_us, samples.
local B = dofile("bench/common.lua")

local tag, t0, t1, pages, core_so = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4]), arg[5]
if not (tag and t0 and t1 and pages and core_so) then
  B.fail("usage: profile_split.lua TAG T0_MS T1_MS PAGES CORE_SO < perf-script-output")
end

-- which source file each function of our core.so comes from (it is built with -g)
local json_fns = {}
do
  local p = io.popen("nm -l " .. core_so .. " 2>/dev/null")
  for line in p:lines() do
    local sym, file = line:match("^%x+ [tTwW] (%S+)%s+(%S+):%d+$")
    if sym and file:match("/json%.c$") then json_fns[sym] = true end
  end
  p:close()
  if next(json_fns) == nil then B.fail("no src/json.c functions in " .. core_so .. " (built without -g?)") end
end

local GC54 = {}
for name in ([[getgclist linkgclist_ clearkey iscleared luaC_barrier_ luaC_barrierback_ reallymarkobject
  markmt markbeingfnz remarkupvals cleargraylists restartcollection genlink traverseweakvalue
  traverseephemeron traversestrongtable traversetable traverseudata traverseproto traverseLclosure
  traverseCclosure traversethread propagatemark propagateall convergeephemerons clearbykeys
  clearbyvalues freeupval freeobj sweeplist sweeptolive checkSizes udata2finalize dothecall GCTM
  runafewfinalizers callallpendingfinalizers findlast separatetobefnz correctpointers
  luaC_checkfinalizer setpause sweep2old sweepgen whitelist correctgraylist correctgraylists markold
  finishgencycle youngcollection atomic2gen entergen enterinc luaC_changemode fullinc fullgen
  setminordebt stepgenfull genstep entersweep deletelist luaC_freeallobjects atomic sweepstep
  singlestep luaC_runtilstate incstep luaC_step luaC_fullgc]]):gmatch("%S+") do
  GC54[name] = true
end
local READ = { g_read = true, read_chars = true, f_read = true, io_read = true,
  lj_cf_io_method_read = true, io_file_read = true }

local function frame_part(sym, dso)
  if dso == "[kernel.kallsyms]" then return "kernel" end
  if GC54[sym] or sym:match("^gc_") or sym:match("^lj_gc_") then return "gc" end
  if dso:match("/libz%.so") then return "zlib" end
  if dso:match("cjson") then return "decode" end
  if dso:match("/core%.so$") then return json_fns[sym] and "shaping" or "glue" end
  if dso:match("/libcurl") then return "libcurl" end
  return nil
end

local PARTS = { "read", "kernel", "gc", "zlib", "decode", "shaping", "libcurl", "glue", "lua" }
local sum, samples = {}, 0
for _, p in ipairs(PARTS) do sum[p] = 0 end

local cur_t, cur_period, frames = nil, 0, {}
local function flush()
  if cur_t and cur_t >= t0 and cur_t <= t1 then
    local part
    for i = 1, #frames do
      local sym = frames[i][1]
      if frame_part(sym, "") == "gc" then part = "gc" break end
      if READ[sym] then part = "read" break end
    end
    if not part then
      for i = 1, #frames do
        part = frame_part(frames[i][1], frames[i][2])
        if part then break end
      end
    end
    part = part or "lua"
    sum[part] = sum[part] + cur_period
    samples = samples + 1
  end
  cur_t, frames = nil, {}
end

for line in io.lines() do
  local t, period = line:match("^%s*(%d+%.%d+):%s+(%d+)")
  if t then
    flush()
    cur_t, cur_period = tonumber(t) * 1000, tonumber(period)
  else
    local sym, dso = line:match("^%s+%x+ (.-) %((.*)%)$")
    if sym then frames[#frames + 1] = { sym:gsub("%+0x%x+$", ""), dso } end
  end
end
flush()
if samples == 0 then B.fail(tag .. ": no samples inside the walk") end

local total = 0
for _, p in ipairs(PARTS) do
  total = total + sum[p]
  B.emit(tag, p .. "_us", sum[p] / 1000 / pages) -- period: ns
end
B.emit(tag, "total_us", total / 1000 / pages)
B.emit(tag, "samples", samples)
