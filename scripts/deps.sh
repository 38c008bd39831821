#!/bin/sh
# Installs the Debian packages a make target needs, when they are missing.
#   scripts/deps.sh build|demo|test|all|browser
# Runs apt-get only when something is missing (and only as root; otherwise it
# names the packages and fails).
set -eu

# the Lua a build is for (make LUA_VERSION=...): its interpreter and headers
case "${LUA_VERSION:-5.4}" in
  5.1) lua="lua5.1 liblua5.1-0-dev" ;;
  5.2) lua="lua5.2 liblua5.2-dev" ;;
  5.3) lua="lua5.3 liblua5.3-dev" ;;
  jit) lua="luajit2 libluajit2-5.1-dev" ;;
  *) lua="lua5.4 liblua5.4-dev" ;;
esac
build="gcc libc6-dev make pkg-config lua5.4 liblua5.4-dev $lua libcurl4-openssl-dev lua-cjson"
standin="nginx libnginx-mod-http-lua lua-resty-core lua-socket"
# the suite: busted, lint, TLS certificates, wrk and LuaJIT for the nginx spec,
# LuaRocks and the 5.1 / 5.3 headers for the install spec, node for Prism and the benchmark, perf for its profile
test="lua-busted lua-check clang-format cppcheck clang-tidy lua-ldoc lua-discount openssl curl wrk luajit2 libluajit2-5.1-dev luarocks nodejs npm lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev linux-perf"
# the fleet specs (issue 20): Redis for the shared stores (lua-resty-redis in nginx, redis-lua outside),
# and two real readers of the Prometheus text format
fleet="redis-server redis-tools lua-nginx-redis lua-redis python3-prometheus-client prometheus"
# the archive specs (issue 19): LuaDBI's two drivers, a real PostgreSQL 15 server (initdb into a temporary directory)
archive="lua-dbi-sqlite3 lua-dbi-postgresql postgresql-15 sqlite3"
# the rest of CI: every Lua ABI, sanitizers, valgrind, libFuzzer
multi="lua5.2 liblua5.2-dev valgrind clang libclang-rt-14-dev"
# the report spec opens the HTML report in a real browser
browser="chromium"

case "${1:-build}" in
  build) want="$build" ;;
  demo) want="$build $standin" ;;
  test) want="$build $standin $test $fleet $archive $browser" ;;
  all) want="$build $standin $test $fleet $archive $multi $browser" ;;
  browser) want="$browser" ;;
  *) echo "usage: $0 build|demo|test|all|browser" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  # node may come from another Debian source (nodesource): accept a working binary.
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
