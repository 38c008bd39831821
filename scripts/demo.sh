#!/bin/sh
# `make demo`: start the stand-in, print a video's sessions and the events of
# its first session with the client, the CLI's summary, a breakdown from the
# /data operations, and an HTML report (its path is printed); stop the stand-in.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(standin/start)"
# Whatever ends the demo stops the stand-in, a closed pipe included
# (`make demo | head`): a signal the shell dies of would skip an EXIT trap, so
# each becomes an exit.
trap 'standin/stop "$APIVIDEO_STANDIN_PREFIX" >/dev/null 2>&1' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
APIVIDEO_STANDIN_URL=$APIVIDEO_STANDIN_URL lua5.4 examples/demo.lua "$@"
cli() {
  echo
  echo "apivideo-analytics $*"
  APIVIDEO_API_KEY=standin-key lua5.4 bin/apivideo-analytics "$@" --base-url "$APIVIDEO_STANDIN_URL"
}
cli summary --video vi250 --period 2023-01
# the stand-in's clock is 2024-01-01T00:00:00Z: its /data answers cover December 2023
cli buckets --metric play --breakdown country --from 2023-12-02 --to 2024-01-01
mkdir -p build/demo
cli report --video vi250 --period 2023-01 --out "$root/build/demo/report.html"
echo "(open it in a browser: it loads nothing, no script)"
