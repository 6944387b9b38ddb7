#!/bin/sh
# Installs the Debian packages kupe-lua needs to build, test and run its
# demo, when any is missing. Safe to run again: it does nothing when all
# are present. Extra package names on the command line are added (the
# benchmark and fuzzing commands use that).
set -eu

PACKAGES="build-essential cmake pkg-config ca-certificates curl unzip openssl
iproute2 lua5.4 liblua5.4-dev lua5.3 liblua5.3-dev luajit2 libluajit2-5.1-dev
libcurl4-openssl-dev libssl-dev zlib1g-dev lua-cjson lua-busted lua-check
lua-socket luarocks nginx libnginx-mod-http-lua lua-resty-core
lua-resty-lrucache valgrind"

missing=""
for p in $PACKAGES "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: these packages are missing and this user cannot install them:$missing" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
