#!/bin/sh
# Runs the busted suite against the real components: the module built for
# $LUA_VERSION, the nginx stand-in on 127.0.0.1, and Prism for the contract
# check. Ends with one line CI reads: "N passed, N failed[, N skipped]".
#   LUA_VERSION=5.4 scripts/test.sh [busted args...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LUA_VERSION=${LUA_VERSION:-5.4}
if [ "$LUA_VERSION" = jit ]; then lua=luajit; else lua=lua$LUA_VERSION; fi
lua=${LUA_BIN:-$lua} # another interpreter for the same ABI (the sanitizer build)
# BUILD_DIR: where apivideo/core.so is (the sanitizer build differs);
# TEST_WRAPPER: a command the interpreter runs under (valgrind ...).
BUILD_DIR=${BUILD_DIR:-build/lua$LUA_VERSION}

work=$(mktemp -d)
cleanup() {
  [ -n "${APIVIDEO_STANDIN_PREFIX:-}" ] && standin/stop "$APIVIDEO_STANDIN_PREFIX" || true
  scripts/prism.sh stop "$work/prism" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

eval "$(standin/start)"
export APIVIDEO_STANDIN_URL APIVIDEO_STANDIN_PREFIX
if [ "${APIVIDEO_SKIP_PRISM:-}" != 1 ]; then
  eval "$(scripts/prism.sh start "$work/prism")"
  export APIVIDEO_PRISM_BASIC_URL APIVIDEO_PRISM_BEARER_URL APIVIDEO_PRISM_2025_BASIC_URL APIVIDEO_PRISM_2025_BEARER_URL
fi

# spec files or folders among the arguments run instead of the whole spec/
paths=spec
for a in "$@"; do case "$a" in *.lua | spec | spec/*) paths= ;; esac; done

status=0
${TEST_WRAPPER:-} "$lua" /usr/bin/busted --lpath="$root/lua/?.lua;$root/lua/?/init.lua;$root/?.lua" \
  --cpath="$root/$BUILD_DIR/?.so" -o plainTerminal "$@" $paths >"$work/out" 2>&1 || status=$?
cat "$work/out"
line=$(grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$work/out" | tail -n 1 || true)
if [ -z "$line" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
set -- $line
passed=$1 failures=$4 errors=$7 pending=${10}
echo "$passed passed, $((failures + errors)) failed, $pending skipped"
[ "$status" -eq 0 ] && [ $((failures + errors)) -eq 0 ]
