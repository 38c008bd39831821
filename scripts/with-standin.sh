#!/bin/sh
# Runs a command with a fresh stand-in: APIVIDEO_STANDIN_URL is exported to it.
#   scripts/with-standin.sh [standin/start flags --] command args...
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
flags=""
case "$*" in *" -- "*)
  while [ "$1" != "--" ]; do flags="$flags $1"; shift; done
  shift ;;
esac
# shellcheck disable=SC2086
eval "$(standin/start $flags)"
trap 'standin/stop "$APIVIDEO_STANDIN_PREFIX"' EXIT INT TERM
export APIVIDEO_STANDIN_URL
"$@"
