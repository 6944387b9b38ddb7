/*
 * reqcheck.c: core.check_request(method, path, opts, spec), the checks
 * Client:request makes on its arguments before anything else, in one
 * call. The pipeline raises the errors (with its messages and levels);
 * this only says which check failed first, in the pipeline's order:
 *
 *   method   not an upper-case word
 *   path     neither "/..." nor an http(s) URL
 *   chars    a byte outside visible ASCII (33..126) in the path
 *   opts     opts is neither nil nor a table (a: its type)
 *   unknown  an option spec does not name (a: the key)
 *   sink     option 'sink' is neither a string nor a function
 *   type     an option of the wrong type (a: key, b: wanted, c: given)
 *
 * spec maps each option to the name of its type, "any" or "sink". An
 * opts table with a metatable is left to the pipeline, which walks it
 * with pairs (its __pairs and __index may matter): the answer is then
 * relative, "meta".
 */
#include <ctype.h>
#include <string.h>

#include "kupe.h"

static int fail(lua_State *L, const char *why, int nextra) {
  lua_pushnil(L);
  lua_pushstring(L, why);
  lua_insert(L, -2 - nextra);
  lua_insert(L, -2 - nextra);
  return 2 + nextra;
}

/* 1 when s is one or more upper-case letters (Lua's %u). */
static int upper_word(const char *s, size_t n) {
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (!isupper((unsigned char)s[i]))
      return 0;
  return 1;
}

/* 1 when s starts with http:// or https://, letters in any case. */
static int http_url(const char *s, size_t n) {
  static const char scheme[] = "http";
  size_t i;
  if (n < 7)
    return 0;
  for (i = 0; i < 4; i++)
    if ((s[i] | 0x20) != scheme[i])
      return 0;
  if ((s[4] | 0x20) == 's')
    i = 5;
  return n - i >= 3 && memcmp(s + i, "://", 3) == 0;
}

static int visible(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 33 || c > 126)
      return 0;
  }
  return 1;
}

int kupe_check_request(lua_State *L) {
  size_t mlen, plen;
  const char *method, *path, *want, *got;
  int relative, t;
  luaL_checktype(L, 4, LUA_TTABLE);
  lua_settop(L, 4);
  if (lua_type(L, 1) != LUA_TSTRING)
    return fail(L, "method", 0);
  method = lua_tolstring(L, 1, &mlen);
  if (!upper_word(method, mlen))
    return fail(L, "method", 0);
  if (lua_type(L, 2) != LUA_TSTRING)
    return fail(L, "path", 0);
  path = lua_tolstring(L, 2, &plen);
  relative = plen > 0 && path[0] == '/';
  if (!relative && !http_url(path, plen))
    return fail(L, "path", 0);
  if (!visible(path, plen))
    return fail(L, "chars", 0);
  t = lua_type(L, 3);
  if (t == LUA_TNIL) {
    lua_pushboolean(L, relative);
    return 1;
  }
  if (t != LUA_TTABLE) {
    lua_pushstring(L, lua_typename(L, t));
    return fail(L, "opts", 1);
  }
  if (lua_getmetatable(L, 3)) {
    lua_pushboolean(L, relative);
    lua_pushliteral(L, "meta");
    return 2;
  }
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {  /* key, value */
    lua_pushvalue(L, -2);
    lua_rawget(L, 4);            /* key, value, want */
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      return fail(L, "unknown", 1);
    }
    want = lua_tostring(L, -1);
    t = lua_type(L, -2);
    got = lua_typename(L, t);
    if (strcmp(want, "sink") == 0) {
      if (t != LUA_TSTRING && t != LUA_TFUNCTION)
        return fail(L, "sink", 0);
    } else if (strcmp(want, "any") != 0 && strcmp(want, got) != 0) {
      lua_remove(L, -2);         /* key, want */
      lua_pushstring(L, got);
      return fail(L, "type", 3);
    }
    lua_pop(L, 2);               /* key */
  }
  lua_pushboolean(L, relative);
  return 1;
}
