#!/usr/bin/env bash
# Builds the libFuzzer targets of the C core and runs each one for FUZZ_SECONDS.
#   fuzz/run.sh [decode] [headers]        (no argument: both; works from any directory)
# Environment:
#   FUZZ_SECONDS=60    time per target (-max_total_time)
#   FUZZ_FRESH=1       throw the work corpora away and start again from the seeds
#   FUZZ_GC_EVERY=1    full Lua GC + heap check every N inputs (read by the targets)
#   FUZZ_ARGS=...      extra libFuzzer flags, e.g. "-seed=1 -jobs=4"
#   FUZZ_CC=clang  LUA_INCDIR=/usr/include/lua5.4  CJSON_LIB=/usr/lib/<multiarch>/liblua5.4-cjson.a
# Output: build/fuzz/ (binaries, work corpora, artifacts, logs). The committed
# seed corpora under fuzz/corpus/ are only read, never written.
# Prints one line per target; exits non-zero on any crash, leak, timeout,
# out-of-memory, sanitizer report or broken invariant.
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$ROOT/build/fuzz
CC=${FUZZ_CC:-clang}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
LUA_INCDIR=${LUA_INCDIR:-/usr/include/lua5.4}
first() { for f in "$@"; do [ -e "$f" ] && { echo "$f"; return 0; }; done; return 0; } # nothing found: empty
CJSON_LIB=${CJSON_LIB:-$(first /usr/lib/*/liblua5.4-cjson.a)}

die() { echo "fuzz/run.sh: $*" >&2; exit 2; }
[ -z "${FUZZ_STRICT:-}" ] || echo "fuzz/run.sh: FUZZ_STRICT is gone, every check is always on" >&2
[[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ && "$SECONDS_PER_TARGET" -gt 0 ]] || die "FUZZ_SECONDS must be a positive integer"
command -v "$CC" >/dev/null || die "$CC not found (apt-get install clang libclang-rt-dev)"
[ -f "$LUA_INCDIR/lua.h" ] || die "no lua.h in $LUA_INCDIR (apt-get install liblua5.4-dev)"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode headers)
for t in "${targets[@]}"; do
  case "$t" in decode|headers) ;; *) die "unknown target '$t' (decode, headers)" ;; esac
done

# --- build ----------------------------------------------------------------
SAN="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
WARN="-std=c99 -Wall -Wextra -Werror"
DEFS=""
CJSON_LINK=()
if [ -n "$CJSON_LIB" ] && [ -f "$CJSON_LIB" ]; then
  CJSON_LINK=("$CJSON_LIB")
else
  echo "fuzz/run.sh: no static liblua5.4-cjson.a; fuzz_decode will require the system cjson.so" >&2
  DEFS="$DEFS -DFUZZ_SYSTEM_CJSON"
fi
mkdir -p "$OUT/logs"

build() { # name, sources...
  local name=$1; shift
  local bin="$OUT/fuzz_$name"
  # shellcheck disable=SC2086
  "$CC" $SAN $WARN $DEFS -I"$ROOT/src" -I"$LUA_INCDIR" -o "$bin" "$@" \
    >"$OUT/logs/build-$name.log" 2>&1 || { cat "$OUT/logs/build-$name.log" >&2; die "building fuzz_$name failed"; }
}
S=$ROOT/src
# fuzz_decode.c includes src/transfer.c (white-box): every other source is linked as usual
NOT_TRANSFER=()
for f in "$S"/*.c; do [ "$f" = "$S/transfer.c" ] || NOT_TRANSFER+=("$f"); done
for t in "${targets[@]}"; do
  case "$t" in
    decode)  build decode "$HERE/fuzz_decode.c" "${NOT_TRANSFER[@]}" "${CJSON_LINK[@]}" -lcurl -llua5.4 -lm ;;
    headers) build headers "$HERE/fuzz_headers.c" "$S"/*.c -lcurl -llua5.4 -lm ;;
  esac
done

# --- run --------------------------------------------------------------------
SYMBOLIZER=$(command -v llvm-symbolizer || first /usr/lib/llvm-*/bin/llvm-symbolizer)
export ASAN_OPTIONS="detect_leaks=1:symbolize=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
[ -n "$SYMBOLIZER" ] && export ASAN_SYMBOLIZER_PATH="$SYMBOLIZER"

# the functions each target is there for: their edge coverage goes into the summary
declare -A FOCUS=(
  [decode]="shape float_integral integral rename_of avc_json_decode avc_l_decode l_result write_cb avc_buf_append avc_headers_push"
  [headers]="avc_headers_add_line is_tchar is_ws avc_headers_push avc_buf_append"
)
declare -A MAXLEN=([decode]=16384 [headers]=4096)

status=0
for t in "${targets[@]}"; do
  bin="$OUT/fuzz_$t"
  work="$OUT/corpus/$t"
  art="$OUT/artifacts/$t"
  log="$OUT/logs/$t.log"
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
  mkdir -p "$work" "$art"
  cp -f "$HERE/corpus/$t"/* "$work"/
  extra=()
  # open findings (fuzz/crashes/<target>/, see fuzz/README.md) are replayed
  # read-only on every run; fixed ones are seeds in fuzz/corpus/ (copied above)
  if compgen -G "$HERE/crashes/$t/*" >/dev/null; then extra=("$HERE/crashes/$t"); fi
  rc=0
  # shellcheck disable=SC2086
  (cd "$OUT" && "$bin" -max_total_time="$SECONDS_PER_TARGET" -detect_leaks=1 -print_final_stats=1 \
     -timeout=10 -rss_limit_mb=2048 -max_len="${MAXLEN[$t]}" -dict="$HERE/$t.dict" \
     -artifact_prefix="$art/" ${FUZZ_ARGS:-} "$work" "${extra[@]}") >"$log" 2>&1 || rc=$?

  bad=""
  [ "$rc" -eq 0 ] || bad="exit status $rc"
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken|^SUMMARY: ' "$log"; then
    bad="${bad:+$bad, }sanitizer/invariant report"
  fi
  # (a crash can come before any of these lines: every lookup may find nothing)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  [ -n "$execs" ] || execs=$( (grep -oE '^#[0-9]+' "$log" || true) | tail -n 1 | tr -d '#')
  total=$( (grep -oE 'Loaded 1 modules +\([0-9]+ inline 8-bit counters\)' "$log" || true) | (grep -oE '[0-9]+ inline' || true) | (grep -oE '[0-9]+' || true) | head -n 1)
  last=$( (grep -E '^#[0-9]+.*cov: ' "$log" || true) | tail -n 1)
  cov=$( (grep -oE 'cov: [0-9]+' <<<"$last" || true) | (grep -oE '[0-9]+' || true))
  ft=$( (grep -oE 'ft: [0-9]+' <<<"$last" || true) | (grep -oE '[0-9]+' || true))
  corp=$( (grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" || true) | sed 's/corp: //')
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1 || true)
  [ -n "$secs" ] || secs=$SECONDS_PER_TARGET
  rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
  pct=""
  if [ -n "$cov" ] && [ -n "$total" ]; then pct=" ($(awk -v a="$cov" -v b="$total" 'BEGIN{printf "%.1f", 100*a/b}')%)"; fi

  # coverage of the functions under test, over the whole work corpus
  focus=""
  if [ -z "$bad" ]; then
    covlog="$OUT/logs/$t.coverage"
    (cd "$OUT" && "$bin" -runs=0 -print_coverage=1 -max_len="${MAXLEN[$t]}" "$work") >"$covlog" 2>&1 || true
    focus=$(awk -v want="${FOCUS[$t]}" '
      BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
      /_FUNC: / && $0 ~ /\/src\// {
        split($5, e, "/"); f = $6
        if (f in keep && !(f in seen)) { seen[f] = 1; c += e[1]; a += e[2]; s = s sprintf(" %s %s", f, $5) }
      }
      END { if (a) printf "%d/%d edges (%.0f%%):%s", c, a, 100 * c / a, s }' "$covlog")
  fi
  line="fuzz_$t: ${execs:-0} execs in ${secs} s (${rate}/s), corpus ${corp:-?} inputs/bytes, coverage ${cov:-?}/${total:-?} edges${pct}, ${ft:-?} features"
  [ -n "$focus" ] && line="$line; target functions $focus"
  if [ -n "$bad" ]; then
    status=1
    reason=$( (grep -hoE 'invariant broken: .*|runtime error: .*|ERROR: [A-Za-z]+: [a-z-]+.*' "$log" || true) | head -n 1)
    echo "fuzz_$t: FAILED after ${execs:-0} execs, coverage ${cov:-?}/${total:-?} edges: ${reason:-$bad} ($bad; log $log)"
    echo "---- $log (last 60 lines) ----" >&2
    tail -n 60 "$log" >&2
    for a in "$art"/*; do [ -e "$a" ] && echo "artifact: $a" >&2; done
  else
    note=""
    grep -q 'disabled leak detection after every mutation' "$log" && note="per-input leak detection was switched off by libFuzzer (LSan still ran at exit)"
    echo "$line; OK${note:+ ($note)}"
  fi
done
exit "$status"
