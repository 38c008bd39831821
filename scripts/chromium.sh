#!/bin/sh
# Opens an HTML file in headless Chromium and prints what the browser made of
# it as one JSON line (scripts/chromium-check.js says what is in it):
#   scripts/chromium.sh FILE.html OUTDIR      (screenshots go to OUTDIR)
# Installs what is missing first: Debian's chromium (scripts/deps.sh browser,
# as root) and playwright-core (pinned, with npm into .cache/playwright).
# Exit status 3: chromium is not installed and could not be installed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/playwright
version=1.65.1
chromium=${APIVIDEO_CHROMIUM:-/usr/bin/chromium}

[ $# -eq 2 ] || { echo "usage: $0 FILE.html OUTDIR" >&2; exit 2; }
if [ ! -x "$chromium" ]; then
  sh "$root/scripts/deps.sh" browser >&2 || true
  [ -x "$chromium" ] || { echo "chromium is not installed at $chromium and could not be installed" >&2; exit 3; }
fi
if [ ! -f "$cache/node_modules/playwright-core/package.json" ] \
  || ! grep -q "\"version\": \"$version\"" "$cache/node_modules/playwright-core/package.json"; then
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{"private":true}' > "$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --silent --save-exact "playwright-core@$version" >&2)
fi
mkdir -p "$2"
APIVIDEO_PLAYWRIGHT_DIR=$cache APIVIDEO_CHROMIUM=$chromium exec node "$root/scripts/chromium-check.js" "$1" "$2"
