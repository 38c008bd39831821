#!/bin/sh
# Starts Stoplight Prism (pinned) on both official API descriptions:
#   scripts/prism.sh start DIR   -> prints APIVIDEO_PRISM_BASIC_URL=... APIVIDEO_PRISM_BEARER_URL=...
#   scripts/prism.sh stop DIR
# Prism is installed with npm into .cache/prism the first time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${APIVIDEO_SHARED:-$root/../shared}/apivideo
cache=$root/.cache/prism
version=5.14.2

free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0)); local _, p = s:getsockname(); print(p); s:close()'
}

case "$1" in
start)
  dir=$2
  mkdir -p "$dir" "$cache"
  if [ ! -x "$cache/node_modules/.bin/prism" ]; then
    (cd "$cache" && [ -f package.json ] || echo '{"private":true}' > "$cache/package.json"
     cd "$cache" && npm install --no-audit --no-fund --silent --save-exact "@stoplight/prism-cli@$version" >&2)
  fi
  pb=$(free_port); pr=$(free_port)
  "$cache/node_modules/.bin/prism" mock "$shared/openapi.yaml" -h 127.0.0.1 -p "$pb" -v error >"$dir/basic.log" 2>&1 &
  echo $! > "$dir/basic.pid"
  "$cache/node_modules/.bin/prism" mock "$shared/openapi-bearer.yaml" -h 127.0.0.1 -p "$pr" -v error >"$dir/bearer.log" 2>&1 &
  echo $! > "$dir/bearer.pid"
  for port in $pb $pr; do
    i=0
    until lua5.4 -e "assert(require('socket').connect('127.0.0.1', $port))" 2>/dev/null; do
      i=$((i + 1)); [ $i -lt 300 ] || { echo "prism did not start on $port" >&2; cat "$dir"/*.log >&2; exit 1; }
      sleep 0.1
    done
  done
  echo "APIVIDEO_PRISM_BASIC_URL=http://127.0.0.1:$pb APIVIDEO_PRISM_BEARER_URL=http://127.0.0.1:$pr"
  ;;
stop)
  for f in "$2"/basic.pid "$2"/bearer.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  ;;
*) echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
