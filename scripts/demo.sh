#!/bin/sh
# `make demo`: start the stand-in, print a video's sessions and the events of
# its first session with the client, stop the stand-in.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(standin/start)"
trap 'standin/stop "$APIVIDEO_STANDIN_PREFIX"' EXIT INT TERM
APIVIDEO_STANDIN_URL=$APIVIDEO_STANDIN_URL lua5.4 examples/demo.lua "$@"
echo
echo "apivideo-analytics summary --video vi250 --period 2023-01"
APIVIDEO_API_KEY=standin-key lua5.4 bin/apivideo-analytics summary --video vi250 --period 2023-01 \
  --base-url "$APIVIDEO_STANDIN_URL"
