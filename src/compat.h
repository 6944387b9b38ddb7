/*
 * compat.h: the few shims that let one source build against Lua 5.3, 5.4
 * and LuaJIT 2.1 (the 5.1 ABI). Only calls the core uses are covered.
 */
#ifndef KUPE_COMPAT_H
#define KUPE_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* LuaJIT 2.1 already has luaL_setfuncs, luaL_setmetatable, luaL_testudata;
 * PUC 5.1 does not, but it is not a supported target. */
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define lua_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif

#if LUA_VERSION_NUM < 504
#if LUA_VERSION_NUM >= 503
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif
#endif

#if LUA_VERSION_NUM < 503
/* No integer subtype: every number is a double. */
#define lua_isinteger(L, i) 0
#endif

#endif
