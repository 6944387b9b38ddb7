-- The C core under valgrind's memcheck, from the spec suite. A planted
-- leak first proves that the check sees one; then 1,000 calls of every
-- kind, 5% of them hit by an injected fault (tools/loop.lua), must end
-- with no definite or indirect leak and no memcheck error. The interpreter
-- is the one running this spec, with the plain (not sanitized) build.
local h = require "spec.helpers.kupe"
local emu = h.emu

local ROOT = emu.root
local IMPL = rawget(_G, "jit") and "luajit" or "lua5.4"
local q = emu.shell_quote

local kit = require "spec.helpers.case_kit"
local tmpdir = kit.tmpdir

local function slurp(path)
  return kit.read(path) or ""
end

-- Children run without the sanitizer preload of tools/asan: valgrind and
-- ASan cannot share a process, and the compiler is not ours to check.
local PLAIN = "env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS -u UBSAN_OPTIONS"

-- Runs `IMPL args` under memcheck; returns exit code, valgrind log, output.
local function memcheck(args, cpath, dir)
  local log = dir .. "/valgrind.log"
  local cmd = table.concat({
    "cd", q(ROOT), "&&", PLAIN,
    "LUA_PATH=" .. q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. ROOT .. "/?.lua;;"),
    "LUA_CPATH=" .. q(cpath .. "/?.so;;"),
    "valgrind --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect --log-file=" .. q(log),
    IMPL, args, "2>&1; echo \"rc=$?\"",
  }, " ")
  local out = emu.sh(cmd)
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, slurp(log), out
end

local function lost(log, kind)
  local bytes = log:match(kind .. " lost: ([%d,]+) bytes")
  return bytes and tonumber((bytes:gsub(",", ""))) or 0
end

describe("valgrind", function()
  local dir

  setup(function() dir = tmpdir() end)
  teardown(function() if dir then emu.sh("rm -rf " .. q(dir)) end end)

  it("reports a planted definite leak (the check is live)", function()
    local src = dir .. "/leaky.c"
    local f = assert(io.open(src, "w"))
    f:write([[
#include <lua.h>
#include <stdlib.h>
#include <string.h>
static int leak(lua_State *L) {
  char *p = malloc(4242);
  if (p != NULL) memset(p, 7, 4242);
  (void)L;
  return 0;
}
int luaopen_leaky(lua_State *L) { lua_pushcfunction(L, leak); return 1; }
]])
    f:close()
    local pc = IMPL == "luajit" and "luajit" or "lua5.4"
    local _, built = emu.sh(("%s cc -O0 -shared -fPIC $(pkg-config --cflags %s) -o %s %s 2>&1")
      :format(PLAIN, pc, q(dir .. "/leaky.so"), q(src)))
    assert.is_true(built, "building the leaking module")
    local rc, log = memcheck("-e " .. q("require('leaky')()"), dir, dir)
    assert.equal(9, rc)
    assert.equal(4242, lost(log, "definitely"))
  end)

  it("finds no leak and no invalid access over 1,000 calls with faults", function()
    local rc, log, out = memcheck("tools/loop.lua 1000 0.05", ROOT .. "/build/" .. IMPL, dir)
    assert.matches("loop: 1000 calls, %d+ ok, %d+ errors, 0 raised, 0 unaccounted", out)
    assert.equal(0, lost(log, "definitely"), log)
    assert.equal(0, lost(log, "indirectly"), log)
    assert.matches("ERROR SUMMARY: 0 errors", log)
    assert.equal(0, rc, out)
  end)
end)
