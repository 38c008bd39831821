#!/bin/sh
# Starts Stoplight Prism (pinned) on the official API descriptions:
#   scripts/prism.sh start DIR [all|2023|2025]   (default all) -> prints one line
#     APIVIDEO_PRISM_BASIC_URL=... APIVIDEO_PRISM_BEARER_URL=...            (2023: openapi.yaml, openapi-bearer.yaml)
#     APIVIDEO_PRISM_2025_BASIC_URL=... APIVIDEO_PRISM_2025_BEARER_URL=...  (2025: openapi-2025.yaml, + a Bearer variant)
#   scripts/prism.sh stop DIR
# Prism is installed with npm into .cache/prism the first time.
#
# openapi-2025.yaml defines `bearerAuth` but lists only `apiKey` (Basic) on its
# operations; its Bearer variant (DIR/openapi-2025-bearer.yaml) adds
# `- bearerAuth: []` beside every `- apiKey: []` of an operation's `security:`
# and changes nothing else, so a mock of it accepts Basic or Bearer.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${APIVIDEO_SHARED:-$root/../shared}/apivideo
cache=$root/.cache/prism
version=5.14.2

free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0)); local _, p = s:getsockname(); print(p); s:close()'
}

# mock NAME DOC PORT: one Prism in the background, pid in DIR/NAME.pid
mock() {
  "$cache/node_modules/.bin/prism" mock "$2" -h 127.0.0.1 -p "$3" -v error >"$dir/$1.log" 2>&1 &
  echo $! > "$dir/$1.pid"
}

bearer_2025() {
  awk '
    /^      security:$/ { print; insec = 1; next }
    insec && /^ *- apiKey: \[\]$/ { print; ind = $0; sub(/-.*/, "", ind); print ind "- bearerAuth: []"; insec = 0; next }
    { insec = 0; print }
  ' "$shared/openapi-2025.yaml" > "$dir/openapi-2025-bearer.yaml"
  n=$(grep -c -- '- bearerAuth: \[\]$' "$dir/openapi-2025-bearer.yaml" || true)
  m=$(grep -c -- '- apiKey: \[\]$' "$shared/openapi-2025.yaml" || true)
  [ "$n" -eq "$m" ] || { echo "openapi-2025 Bearer variant: $n of $m security blocks changed" >&2; exit 1; }
}

case "${1:-}" in
start)
  dir=$2
  which=${3:-all}
  case "$which" in all|2023|2025) ;; *) echo "usage: $0 start DIR [all|2023|2025]" >&2; exit 2 ;; esac
  mkdir -p "$dir" "$cache"
  if [ ! -x "$cache/node_modules/.bin/prism" ]; then
    (cd "$cache" && [ -f package.json ] || echo '{"private":true}' > "$cache/package.json"
     cd "$cache" && npm install --no-audit --no-fund --silent --save-exact "@stoplight/prism-cli@$version" >&2)
  fi
  ports= line=
  if [ "$which" != 2025 ]; then
    pb=$(free_port); pr=$(free_port)
    mock basic "$shared/openapi.yaml" "$pb"
    mock bearer "$shared/openapi-bearer.yaml" "$pr"
    ports="$pb $pr"
    line="APIVIDEO_PRISM_BASIC_URL=http://127.0.0.1:$pb APIVIDEO_PRISM_BEARER_URL=http://127.0.0.1:$pr"
  fi
  if [ "$which" != 2023 ]; then
    bearer_2025
    qb=$(free_port); qr=$(free_port)
    mock basic-2025 "$shared/openapi-2025.yaml" "$qb"
    mock bearer-2025 "$dir/openapi-2025-bearer.yaml" "$qr"
    ports="$ports $qb $qr"
    line="${line:+$line }APIVIDEO_PRISM_2025_BASIC_URL=http://127.0.0.1:$qb APIVIDEO_PRISM_2025_BEARER_URL=http://127.0.0.1:$qr"
  fi
  for port in $ports; do
    i=0
    until lua5.4 -e "assert(require('socket').connect('127.0.0.1', $port))" 2>/dev/null; do
      i=$((i + 1)); [ $i -lt 600 ] || { echo "prism did not start on $port" >&2; cat "$dir"/*.log >&2; exit 1; }
      sleep 0.1
    done
  done
  echo "$line"
  ;;
stop)
  for f in "$2"/basic.pid "$2"/bearer.pid "$2"/basic-2025.pid "$2"/bearer-2025.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  ;;
*) echo "usage: $0 start DIR [all|2023|2025] | stop DIR" >&2; exit 2 ;;
esac
