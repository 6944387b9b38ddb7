#!/usr/bin/env bash
# kupe-lua's developer entry point. The README's two commands:
#   ./run.sh demo    run the demo against a local Kupe emulator
#   ./run.sh test    run every test (Lua 5.4, LuaJIT, nginx, sanitizers)
# Both install what is missing (Debian packages, the build) first.
# Other commands: build, lint, emulator start|stop, asan, valgrind, fuzz,
# bench, soak. See the README.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

build() {
  # build [impl...]: configure and build the C core for each Lua.
  local impl
  for impl in ${@:-lua5.4 luajit}; do
    cmake -S . -B "build/$impl" -DLUA_IMPL="$impl" >/dev/null
    cmake --build "build/$impl" -j2 >/dev/null
  done
}

lua_env() {
  # lua_env impl: the package paths for running from the source tree.
  export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/?.lua;;"
  export LUA_CPATH="$ROOT/build/$1/?.so;;"
}

totals() {
  # Sums the "busted: N passed, N failed, N skipped" lines of a log.
  awk '/^busted: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
       END { printf "%d passed, %d failed\n", p, f }' "$1"
}

cmd_deps() { tools/deps.sh "$@"; }
cmd_build() { cmd_deps; build "$@"; }
lint_dirs() { local d; for d in lua spec bin examples bench tools; do [ -d "$d" ] && echo "$d"; done; }
cmd_lint() { luacheck --no-color $(lint_dirs); }

cmd_demo() {
  cmd_deps
  build lua5.4
  lua_env lua5.4
  tools/with-emulator lua5.4 examples/demo.lua
}

cmd_test() {
  cmd_deps
  build lua5.4 luajit lua5.3
  local log; log=$(mktemp)
  local rc=0
  luacheck --no-color -q $(lint_dirs) >/dev/null || {
    luacheck --no-color $(lint_dirs) | tail -20 || true; rc=1; }
  tools/test-suite "$@" 2>&1 | tee "$log" || rc=1
  echo
  totals "$log"
  rm -f "$log"
  return $rc
}

cmd_emulator() { spec/emulator/kupe-emulator "$@"; }

case "${1:-}" in
  demo|test|build|deps|lint|emulator) c=$1; shift; "cmd_$c" "$@" ;;
  asan|valgrind|fuzz|bench|soak)
    c=$1; shift; cmd_deps; exec "tools/$c" "$@" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
