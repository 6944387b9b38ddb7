/*
 * rawcurl.c: the Lua module "rawcurl", written for the bench only: the
 * reference client of limit.c made callable from Lua, so that the limit
 * with JSON decoding is libcurl plus lua-cjson and nothing else.
 *
 *   local h = rawcurl.new(key, user_agent)   -- both may be nil
 *   local status, body, head = h:get(url)    -- or nil, message
 *   h:close()                                -- also run by __gc
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "limit.h"

#define MT "bench.rawcurl"

#if LUA_VERSION_NUM < 502
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#elif LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif

static limit *check(lua_State *L) {
  limit *l = luaL_checkudata(L, 1, MT);
  if (l->easy == NULL)
    luaL_error(L, "rawcurl: closed");
  return l;
}

static int h_close(lua_State *L) {
  limit_close(luaL_checkudata(L, 1, MT));
  return 0;
}

static int h_get(lua_State *L) {
  limit *l = check(L);
  const char *url = luaL_checkstring(L, 2);
  char err[CURL_ERROR_SIZE];
  long status = limit_get(l, url, err, sizeof(err));
  if (status < 0) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)status);
  lua_pushlstring(L, l->body.data ? l->body.data : "", l->body.len);
  lua_pushlstring(L, l->head.data ? l->head.data : "", l->head.len);
  return 3;
}

static int m_new(lua_State *L) {
  const char *key = luaL_optstring(L, 1, NULL);
  const char *ua = luaL_optstring(L, 2, NULL);
  limit *l = lua_newuserdatauv(L, sizeof(*l), 0);
  memset(l, 0, sizeof(*l));
  luaL_getmetatable(L, MT);
  lua_setmetatable(L, -2);
  if (limit_open(l, key, ua) != 0) {
    limit_close(l);
    return luaL_error(L, "rawcurl: could not set up libcurl");
  }
  return 1;
}

int luaopen_rawcurl(lua_State *L);

int luaopen_rawcurl(lua_State *L) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "rawcurl: curl_global_init failed");
  luaL_newmetatable(L, MT);          /* mt */
  lua_pushcfunction(L, h_close);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);                   /* mt, methods */
  lua_pushcfunction(L, h_get);
  lua_setfield(L, -2, "get");
  lua_pushcfunction(L, h_close);
  lua_setfield(L, -2, "close");
  lua_setfield(L, -2, "__index");    /* mt */
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, m_new);
  lua_setfield(L, -2, "new");
  return 1;
}
