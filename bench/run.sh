#!/usr/bin/env bash
# lua-apivideo benchmark (what `make bench` runs). Starts the stand-in with latency L, runs every
# measurement several times, stops the stand-in and prints one table of medians and ratios.
#
#   bench/run.sh                    full run: 5 repetitions, writes bench/RESULTS.md
#   BENCH_QUICK=1 bench/run.sh      CI smoke: 1 repetition, fewer CPU rounds,
#                                   one profiled walk per configuration (< 2 min), no RESULTS.md
# Every figure is printed in both; bench/README.md says how each is measured and how to read it.
# The profile (bench/profile.sh, also `make profile` alone) needs perf; without it the table says so.
#
# Environment:
#   BENCH_LATENCY_MS   stand-in latency L in ms (default 20)
#   BENCH_RUNS         repetitions (default 5, quick 1)
#   BENCH_CALLGRIND    0 skips the callgrind instruction counts (default: on when valgrind exists)
#   BENCH_SAVE         0 keeps a full run from rewriting bench/RESULTS.md
#   BENCH_NICE         run everything (stand-in included) at this nice value, e.g. -10 on a shared
#                      machine (negative values need root); unset: the caller's priority
# Exits non-zero when a measurement fails (a walk that does not see exactly its 10 000 / 100 000
# items in order, a non-200 answer, a wrong request count, a missing tool). Missed targets do not
# fail the script: they are reported in the table.
#
# Working files go to bench/out/ (git-ignored); the Node client goes to bench/node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${BENCH_QUICK:-0}
L=${BENCH_LATENCY_MS:-20}
if [ "$QUICK" = 1 ]; then
  RUNS=${BENCH_RUNS:-1}; CPU_ROUNDS=3; CPU_PASSES=2
else
  RUNS=${BENCH_RUNS:-5}; CPU_ROUNDS=5; CPU_PASSES=5
fi
LUA=lua5.4
OUT=bench/out
RESULTS=$OUT/results.txt
START=$(date +%s)
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

case "$L" in ''|*[!0-9]*) die "BENCH_LATENCY_MS must be a whole number of milliseconds" ;; esac
case "$RUNS" in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive whole number" ;; esac
if [ -n "${BENCH_NICE:-}" ]; then
  renice -n "$BENCH_NICE" -p $$ >/dev/null || die "renice -n $BENCH_NICE failed (negative values need root)"
fi

# ---- prerequisites -----------------------------------------------------------------------------------
for tool in "$LUA" luajit node npm curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps / scripts/deps.sh test installs it)"
done
"$LUA" -e 'require("socket.http"); require("cjson")' 2>/dev/null \
  || die "lua-socket and lua-cjson are needed (scripts/deps.sh demo)"
for v in 5.4 jit; do
  so=build/lua$v/apivideo/core.so
  [ "$v" = jit ] && so=build/luajit/apivideo/core.so
  if [ ! -f "$so" ] || [ -n "$(find src -newer "$so" -name '*.[ch]' 2>/dev/null)" ]; then
    say "building the C core (Lua $v)"
    make --no-print-directory LUA_VERSION=$v all >&2
  fi
done

NODE_PKG=bench/node_modules/@api.video/nodejs-client/package.json
node_client_ok() {
  [ -f "$NODE_PKG" ] && node -e 'process.exit(require(process.argv[1]).version === "2.5.4" ? 0 : 1)' "$PWD/$NODE_PKG"
}
if ! node_client_ok; then
  say "installing @api.video/nodejs-client@2.5.4 into bench/node_modules (npm)"
  if [ -f bench/package-lock.json ]; then
    (cd bench && npm ci --no-audit --no-fund --loglevel=error >&2)
  else
    (cd bench && npm install --no-audit --no-fund --loglevel=error --save-exact @api.video/nodejs-client@2.5.4 >&2)
  fi
  node_client_ok || die "@api.video/nodejs-client 2.5.4 could not be installed"
fi

CALLGRIND=${BENCH_CALLGRIND:-1}
if [ "$CALLGRIND" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
  say "valgrind not found: skipping the callgrind counts"
  CALLGRIND=0
fi

mkdir -p "$OUT/bodies"
: > "$RESULTS"

# ---- the stand-in ------------------------------------------------------------------------------------
line=$(standin/start --latency-ms "$L") || die "the stand-in did not start"
eval "$line"
export APIVIDEO_STANDIN_URL APIVIDEO_STANDIN_PREFIX
stop_standin() {
  if [ -n "${APIVIDEO_STANDIN_PREFIX:-}" ]; then
    standin/stop "$APIVIDEO_STANDIN_PREFIX" >/dev/null 2>&1 || true
    APIVIDEO_STANDIN_PREFIX=
  fi
}
trap stop_standin EXIT
trap 'exit 130' INT TERM
say "stand-in at $APIVIDEO_STANDIN_URL, latency $L ms; $RUNS run(s)$( [ "$QUICK" = 1 ] && echo ', quick')"

measure() { # TAG EXPECTED_REQUESTS COMMAND...
  local tag=$1 n=$2
  shift 2
  "$LUA" bench/measure.lua "$tag" "$n" -- "$@" >> "$RESULTS" || die "$tag"
}

# ---- once: the bytes on the wire for one page, and the bodies for the CPU measurement --------------
PAGE_URL="$APIVIDEO_STANDIN_URL/analytics/videos/vi10k?period=2023&pageSize=100&currentPage=2"
read -r id_bytes _ < <(curl -sS -f -u standin-key: -o /dev/null -w '%{size_download} %{size_header}\n' "$PAGE_URL") \
  || die "curl (identity)"
read -r gz_bytes gz_headers < <(curl -sS -f --compressed -u standin-key: -o /dev/null -w '%{size_download} %{size_header}\n' "$PAGE_URL") \
  || die "curl (gzip)"
[ "${gz_bytes:-0}" -gt 0 ] && [ "${id_bytes:-0}" -gt "$gz_bytes" ] || die "gzip was not negotiated ($id_bytes vs $gz_bytes bytes)"
printf 'RESULT wire.page_identity_bytes %s\nRESULT wire.page_gzip_bytes %s\nRESULT wire.header_bytes %s\n' \
  "$id_bytes" "$gz_bytes" "$gz_headers" >> "$RESULTS"

rm -f "$OUT"/bodies/page-*.json
"$LUA" bench/cpu.lua fetch "$OUT/bodies" 100 || die "fetching the bodies for the CPU measurement"

# ---- once: the live heap a walk holds when a page is handed over, and the yardstick's -------------
# decode_walk.lua keeps as many decoded pages alive as makes up the same live heap (bench/README.md).
declare -A EXTRA
live() { # INTERP_TAG LUA CONCURRENCY
  local tag=$1 lua=$2 c=$3 res extra
  res=$("$lua" bench/walk_lua.lua vi10k 10000 "$c" default live) || die "live heap walk ($tag c=$c)"
  sed -n "s/^RESULT walk\./RESULT live_${tag}_c$c./p" <<< "$res" >> "$RESULTS"
  extra=$(awk '/walk.base_kib/ { b = $3 } /walk.decode_live_kib/ { l = $3 } END { printf "%.1f", l - b }' <<< "$res")
  res=$("$lua" bench/decode_walk.lua "$OUT/bodies" "$c" "$L" "$extra" live) || die "live heap yardstick ($tag c=$c)"
  sed -n "s/^RESULT walk\./RESULT livedec_${tag}_c$c./p" <<< "$res" >> "$RESULTS"
  # K pages held, fixed from here on (one decoded page's size moves a little from process to process)
  EXTRA[${tag}_$c]=k$(sed -n 's/^RESULT walk\.hold //p' <<< "$res")
}
say "live heap at each page: lua-apivideo and its decode yardstick (Lua 5.4 c=1, 8, 16; LuaJIT c=1, 8)"
for c in 1 8 16; do live 54 "$LUA" "$c"; done
for c in 1 8; do live jit luajit "$c"; done

decode_walk() { # TAG LUA CONCURRENCY EXTRA_KIB
  local tag=$1 lua=$2 c=$3 extra=$4
  "$lua" bench/decode_walk.lua "$OUT/bodies" "$c" "$L" "$extra" \
    | sed -n "s/^RESULT walk\./RESULT $tag./p" >> "$RESULTS" || die "$tag"
}

callgrind_decode() { # instructions per page: (decode run - baseline run) / 100 pages
  local mode n base=
  for mode in base cjson core; do
    n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$LUA" bench/cpu.lua count "$OUT/bodies" "$mode" 1 2>&1 >/dev/null \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
    [ -n "$n" ] || die "callgrind ($mode)"
    if [ "$mode" = base ]; then base=$n
    else printf 'RESULT callgrind.%s_ir %s\n' "$mode" $(( (n - base) / 100 )) >> "$RESULTS"; fi
  done
}

# ---- the repeated measurements -----------------------------------------------------------------------
for run in $(seq 1 "$RUNS"); do
  say "run $run/$RUNS: lua-apivideo at concurrency 1, 4, 8, 16, each c=1/8/16 next to its decode yardstick"
  for c in 1 4 8 16; do
    measure "lua_c$c" 100 "$LUA" bench/walk_lua.lua vi10k 10000 "$c"
    [ "$c" = 4 ] || decode_walk "dec_54_c$c" "$LUA" "$c" "${EXTRA[54_$c]}"
  done
  say "run $run/$RUNS: LuaJIT at concurrency 1, 8, each next to its decode yardstick"
  for c in 1 8; do
    measure "jit_c$c" 100 luajit bench/walk_lua.lua vi10k 10000 "$c"
    decode_walk "dec_jit_c$c" luajit "$c" "${EXTRA[jit_$c]}"
  done
  if [ "$run" = 1 ] || [ "$QUICK" != 1 ]; then
    say "run $run/$RUNS: Lua 5.4 collector modes (incremental, generational, setpause 400)"
    for mode in incremental generational pause400; do
      measure "gc_${mode}_c1" 100 "$LUA" bench/walk_lua.lua vi10k 10000 1 "$mode"
      measure "gc_${mode}_100k" 1000 "$LUA" bench/walk_lua.lua vi100k 100000 8 "$mode"
    done
  fi
  say "run $run/$RUNS: a time series of today's Analytics (720 hourly points, 8 pages) at concurrency 1 and 8"
  for c in 1 8; do measure "ts_c$c" 9 "$LUA" bench/walk_timeseries.lua "$c"; done
  say "run $run/$RUNS: the command line's four formats, each against the library walk of the same pages"
  for kind in sessions:1000 events:1000 timeseries:8 buckets:1; do
    # once untimed first: the stand-in builds and caches a /data window on its first request
    [ "$run" != 1 ] || "$LUA" bench/cli_output.lua "${kind%%:*}" walk "$OUT/cli.out" > /dev/null || die "cli warm-up"
    for what in walk table csv ndjson json; do
      measure "cli_${kind%%:*}_$what" "${kind#*:}" "$LUA" bench/cli_output.lua "${kind%%:*}" "$what" "$OUT/cli.out"
    done
  done
  rm -f "$OUT/cli.out"
  say "run $run/$RUNS: the archive, SQLite and PostgreSQL: a first 30-day run, a 15-minute incremental run"
  for kind in sqlite postgresql; do
    "$LUA" bench/archive.lua "$kind" >> "$RESULTS" || die "archive $kind"
  done
  say "run $run/$RUNS: Node client, socket.http loop"
  measure node 100 node bench/walk_node.js vi10k 10000
  measure luasocket 100 "$LUA" bench/walk_luasocket.lua vi10k 10000
  say "run $run/$RUNS: peak RSS 10 000 / 100 000 sessions"
  measure rss_10k 100 "$LUA" bench/walk_lua.lua vi10k 10000 8
  measure rss_100k 1000 "$LUA" bench/walk_lua.lua vi100k 100000 8
  say "run $run/$RUNS: CPU per page (os.clock, $CPU_ROUNDS rounds × $CPU_PASSES passes × 100 pages)"
  "$LUA" bench/cpu.lua time "$OUT/bodies" "$CPU_ROUNDS" "$CPU_PASSES" >> "$RESULTS" || die "cpu"
  if [ "$CALLGRIND" != 0 ]; then
    # Not quite deterministic: Lua 5.4 seeds its string hashes from the clock, which moves table
    # collisions (about 1% run to run), so these are repeated and reported as medians too.
    say "run $run/$RUNS: callgrind instructions per page (baseline, cjson.decode, core.decode)"
    callgrind_decode
  fi
done

# ---- once: a fleet (issue 20): 2 nginx hosts x 2 workers, one redis-server, a stand-in of its own ----
say "fleet: one flight, ttl, the shared budget, the upstream down, a cached answer's p99 (bench/fleet.lua)"
if [ "$QUICK" = 1 ]; then "$LUA" bench/fleet.lua quick >> "$RESULTS" || die "fleet"
else "$LUA" bench/fleet.lua >> "$RESULTS" || die "fleet"; fi

# ---- once: where the CPU goes (perf, whole walks, Lua 5.4 and LuaJIT) ---------------------------------
say "profile: perf over whole walks and their decode yardsticks (bench/profile.sh)"
BENCH_EXTRA_KIB_54_C1=${EXTRA[54_1]} BENCH_EXTRA_KIB_54_C8=${EXTRA[54_8]} \
BENCH_EXTRA_KIB_jit_C1=${EXTRA[jit_1]} BENCH_EXTRA_KIB_jit_C8=${EXTRA[jit_8]} \
  bash bench/profile.sh "$RESULTS" || die "profile"

stop_standin

# ---- the table ---------------------------------------------------------------------------------------
ELAPSED=$(( $(date +%s) - START ))
COMMAND="bench/run.sh (make bench)"
[ "$L" = 20 ] || COMMAND="BENCH_LATENCY_MS=$L $COMMAND"
[ "$QUICK" != 1 ] || COMMAND="BENCH_QUICK=1 $COMMAND"
[ -z "${BENCH_NICE:-}" ] || COMMAND="BENCH_NICE=$BENCH_NICE $COMMAND"
export BENCH_LATENCY_MS=$L BENCH_RUNS=$RUNS BENCH_QUICK=$QUICK BENCH_COMMAND="$COMMAND" BENCH_ELAPSED_S=$ELAPSED
"$LUA" bench/report.lua "$RESULTS" > "$OUT/table.md" || die "report"

{
  echo "# lua-apivideo benchmark results"
  echo
  echo "- command: \`$COMMAND\` — $RUNS run(s), took ${ELAPSED} s"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- code: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git status --porcelain -- src lua 2>/dev/null)" ] && echo ' plus uncommitted changes under src/ or lua/')"
  echo "- machine: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
  echo "- load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d" " -f1-3 /proc/loadavg) (anything else running on these CPUs slows the walks down)"
  echo "- software: $("$LUA" -v 2>&1 | cut -d' ' -f1-2), $("$LUA" -e 'package.cpath="build/lua5.4/?.so;"..package.cpath; print((require("apivideo.core").curl_version():match("^(%S+)")))'), lua-cjson $("$LUA" -e 'print(require("cjson")._VERSION)' | sed 's/^[^0-9]*//'), LuaSocket $("$LUA" -e 'print((require("socket")._VERSION:gsub("LuaSocket ","")))'), node $(node --version), @api.video/nodejs-client 2.5.4 (axios $(node -p "require('$PWD/bench/node_modules/axios/package.json').version")), $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //') stand-in"
  echo
  cat "$OUT/table.md"
} > "$OUT/RESULTS.md"

cat "$OUT/RESULTS.md"
if [ "$QUICK" != 1 ] && [ "${BENCH_SAVE:-1}" != 0 ]; then
  {
    cat "$OUT/RESULTS.md"
    echo
    echo "How each figure is measured: bench/README.md."
  } > bench/RESULTS.md
  say "wrote bench/RESULTS.md"
fi
say "done in ${ELAPSED} s"
