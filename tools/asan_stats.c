/*
 * asan_stats.c: the Lua module kupe_asan_stats, built by tools/asan next
 * to the sanitized core (build/asan-<lua>/kupe_asan_stats.so) and loaded
 * only under ASan. It returns a function giving the bytes the process has
 * allocated and not freed, from ASan's allocator: under ASan, RSS also
 * holds the quarantine of freed memory, so specs that watch memory
 * growth read this instead. The symbol comes from the preloaded runtime.
 */
#include <stddef.h>

#include <lua.h>

size_t __sanitizer_get_current_allocated_bytes(void);

static int allocated(lua_State *L) {
  lua_pushnumber(L, (lua_Number)__sanitizer_get_current_allocated_bytes());
  return 1;
}

int luaopen_kupe_asan_stats(lua_State *L);

int luaopen_kupe_asan_stats(lua_State *L) {
  lua_pushcfunction(L, allocated);
  return 1;
}
