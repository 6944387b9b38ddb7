/*
 * lua_harness.c: one Lua 5.4 state per run, holding the check a harness
 * chunk returns (see lua_harness.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_harness.h"

static lua_State *L;

static void die(const char *name) {
  fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
  abort();
}

static void setup(const char *name, const char *chunk, size_t len,
                  const lua_CFunction *fns, int n) {
  int i;
  L = luaL_newstate();
  if (L == NULL)
    abort();
  luaL_openlibs(L);
  if (luaL_loadbuffer(L, chunk, len, "=harness") != LUA_OK)
    die(name);
  for (i = 0; i < n; i++)
    lua_pushcfunction(L, fns[i]);
  if (lua_pcall(L, n, 1, 0) != LUA_OK)
    die(name);
  lua_setfield(L, LUA_REGISTRYINDEX, "kupe.fuzz.check");
}

void fuzz_lua_check(const char *name, const char *chunk, size_t len,
                    const lua_CFunction *fns, int n, const uint8_t *data,
                    size_t size) {
  if (L == NULL)
    setup(name, chunk, len, fns, n);
  lua_getfield(L, LUA_REGISTRYINDEX, "kupe.fuzz.check");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    die(name);
  lua_settop(L, 0);
}
