#!/usr/bin/env bash
# Where a walk's CPU goes (what `make profile` runs, and bench/run.sh as part of `make bench`).
#   bench/profile.sh [RESULTS_FILE]     appends RESULT lines to RESULTS_FILE, or prints the table
# For Lua 5.4 and LuaJIT, at concurrency 1 and 8: whole walks of vi10k (the real client against the
# stand-in, 100 pages of 100 items) and their cjson.decode yardsticks (bench/decode_walk.lua), each
# under `perf record -e cpu-clock --call-graph dwarf` on a statically linked copy of the same
# interpreter that keeps its symbols (scripts/lua-main.c); bench/profile_split.lua splits the samples
# taken during the walk into decode, shaping, GC, zlib, libcurl, kernel, glue and the Lua layer.
# Then bulk walks (100 000 sessions, c=8) under each Lua 5.4 collector mode (incremental,
# generational, pause400; PROFILE_REPS rounds, modes interleaved), for the collector's own cost.
# Environment:
#   PROFILE_REPS        walks per configuration, their figures averaged (default 3; BENCH_QUICK=1: 1)
#   PROFILE_HZ          sampling frequency (default 2000)
#   BENCH_LATENCY_MS    the stand-in's latency when this script starts it (default 20)
#   BENCH_EXTRA_KIB_<interp>_C<c>   (interp 54 or jit) the live heap a walk holds above its base when it
#                       decodes a body (KiB), or kN (N pages), for
#                       the yardstick; measured here with walk_lua.lua ... live when unset
# Uses the stand-in named by APIVIDEO_STANDIN_URL / APIVIDEO_STANDIN_PREFIX, or starts its own.
# When perf cannot sample here (perf stat -e cpu-clock fails), says so and prints "profile.skipped 1".
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench/out
QUICK=${BENCH_QUICK:-0}
REPS=${PROFILE_REPS:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
HZ=${PROFILE_HZ:-2000}
L=${BENCH_LATENCY_MS:-20}
TARGET=${1:-}
say() { printf 'profile: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
emit() { if [ -n "$TARGET" ]; then cat >> "$TARGET"; else cat >> "$OUT/profile.txt"; fi; }

mkdir -p "$OUT/bodies" build/prof
[ -n "$TARGET" ] || : > "$OUT/profile.txt"

if ! command -v perf >/dev/null 2>&1 || ! perf stat -e cpu-clock true >/dev/null 2>&1; then
  say "perf cannot sample on this machine: no profile"
  echo "RESULT profile.skipped 1" | emit
  exit 0
fi

# the C core for both interpreters (-O2 -g: json.c's functions are found by their debug info)
for v in 5.4 jit; do
  so=build/lua$v/apivideo/core.so
  [ "$v" = jit ] && so=build/luajit/apivideo/core.so
  if [ ! -f "$so" ] || [ -n "$(find src -newer "$so" -name '*.[ch]' 2>/dev/null)" ]; then
    make --no-print-directory LUA_VERSION=$v all >&2
  fi
done
# the interpreters, linked with Debian's static libraries (the packaged binaries are stripped)
build_prof() { # NAME INCDIR ARCHIVE
  if [ ! -x "build/prof/$1" ] || [ scripts/lua-main.c -nt "build/prof/$1" ]; then
    cc -std=c99 -Wall -Wextra -Werror -O2 -g -I"$2" scripts/lua-main.c -Wl,-E "$3" -lm -ldl -o "build/prof/$1" \
      || die "linking build/prof/$1"
  fi
}
build_prof lua5.4 /usr/include/lua5.4 /usr/lib/x86_64-linux-gnu/liblua5.4.a
build_prof luajit /usr/include/luajit-2.1 /usr/lib/x86_64-linux-gnu/libluajit-5.1.a

if [ -z "${APIVIDEO_STANDIN_URL:-}" ]; then
  line=$(standin/start --latency-ms "$L") || die "the stand-in did not start"
  eval "$line"
  export APIVIDEO_STANDIN_URL APIVIDEO_STANDIN_PREFIX
  trap 'standin/stop "$APIVIDEO_STANDIN_PREFIX" >/dev/null 2>&1 || true' EXIT
  say "stand-in at $APIVIDEO_STANDIN_URL, latency $L ms"
fi
if [ ! -f "$OUT/bodies/page-100.json" ]; then
  lua5.4 bench/cpu.lua fetch "$OUT/bodies" 100 || die "fetching the bodies"
fi

field() { sed -n "s/^RESULT walk\.$1 //p"; }

for interp in 54 jit; do
  if [ "$interp" = 54 ]; then lua=build/prof/lua5.4; so=build/lua5.4/apivideo/core.so
  else lua=build/prof/luajit; so=build/luajit/apivideo/core.so; fi
  for c in 1 8; do
    var=BENCH_EXTRA_KIB_${interp}_C$c
    extra=${!var:-}
    if [ -z "$extra" ]; then
      extra=$("$lua" bench/walk_lua.lua vi10k 10000 "$c" default live | awk '
        /walk.base_kib/ { b = $3 } /walk.decode_live_kib/ { l = $3 } END { printf "%.1f", l - b }') \
        || die "live heap walk ($interp, c=$c)"
    fi
    for kind in walk decode; do
      tag=prof_${interp}_${kind}_c$c
      say "$tag: $REPS walk(s) under perf ($HZ Hz)"
      for rep in $(seq 1 "$REPS"); do
        if [ "$kind" = walk ]; then set -- "$lua" bench/walk_lua.lua vi10k 10000 "$c"
        else set -- "$lua" bench/decode_walk.lua "$OUT/bodies" "$c" "$L" "$extra"; fi
        res=$(perf record -q -F "$HZ" -e cpu-clock -k CLOCK_MONOTONIC --call-graph dwarf,16384 \
              -o "$OUT/perf.data" -- "$@" 2>"$OUT/perf.log") || { cat "$OUT/perf.log" >&2; die "$tag"; }
        t0=$(field t0_ms <<< "$res"); t1=$(field t1_ms <<< "$res")
        cpu=$(field cpu_s <<< "$res"); rd=$(field read_s <<< "$res")
        perf script -i "$OUT/perf.data" -F time,period,ip,sym,dso 2>/dev/null \
          | lua5.4 bench/profile_split.lua "$tag" "$t0" "$t1" 100 "$so" | emit \
          || die "$tag: splitting the samples"
        # the walk's own os.clock in the same run (the yardstick's without its reads taken out)
        lua5.4 -e "print(('RESULT $tag.cpu_us %.1f'):format(($cpu + ${rd:-0}) * 1e4))" | emit
      done
    done
  done
done
# the Lua 5.4 collector modes in a bulk walk (100 000 sessions, c=8): what the collector itself costs
# (modes interleaved, PROFILE_REPS rounds: the machine's load moves the collector's cost most)
for rep in $(seq 1 "$REPS"); do
 for mode in incremental generational pause400; do
  tag=prof_gc_$mode
  say "$tag: walk $rep/$REPS of 100 000 sessions under perf"
  res=$(perf record -q -F "$HZ" -e cpu-clock -k CLOCK_MONOTONIC --call-graph dwarf,16384 \
        -o "$OUT/perf.data" -- build/prof/lua5.4 bench/walk_lua.lua vi100k 100000 8 "$mode" 2>"$OUT/perf.log") \
    || { cat "$OUT/perf.log" >&2; die "$tag"; }
  t0=$(field t0_ms <<< "$res"); t1=$(field t1_ms <<< "$res"); cpu=$(field cpu_s <<< "$res")
  perf script -i "$OUT/perf.data" -F time,period,ip,sym,dso 2>/dev/null \
    | lua5.4 bench/profile_split.lua "$tag" "$t0" "$t1" 1000 build/lua5.4/apivideo/core.so | emit \
    || die "$tag: splitting the samples"
  lua5.4 -e "print(('RESULT $tag.cpu_us %.1f'):format($cpu * 1e3))" | emit
 done
done
rm -f "$OUT/perf.data" "$OUT/perf.data.old"
if [ -z "$TARGET" ]; then
  lua5.4 bench/report.lua "$OUT/profile.txt" profile
fi
