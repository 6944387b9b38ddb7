/*
 * encode.c: the Lua face of the pure encoders and parsers: path segments,
 * response heads and the JSON empty-array passes (query strings are in
 * query.c).
 *
 * Functions that allocate C memory validate their input completely first,
 * so any Lua error is raised before the allocation, never after it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fieldtext.h"
#include "head.h"
#include "jsonscan.h"
#include "kupe.h"
#include "urlenc.h"

/* The JSON text rewritten into an empty array, and the string cjson
 * decodes it to: a NUL cannot come from ordinary data by accident. */
static const char sentinel_json[] = "\"\\u0000kupe:[]\"";
static const char sentinel_value[] = "\0kupe:[]";
#define SENTINEL_VALUE_LEN 8

/* core.utf8_valid(s) -> true if s is well-formed UTF-8 (RFC 3629). */
int kupe_utf8_valid(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushboolean(L, kupe_field_ok(KUPE_FIELD_UTF8, s, n));
  return 1;
}

/* core.escape(s): one path segment. */
int kupe_escape(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  kupe_buffer b;
  kupe_buffer_init(&b);
  if (kupe_urlenc_component(&b, s, n) != 0) {
    kupe_buffer_free(&b);
    return luaL_error(L, "escape: out of memory");
  }
  lua_pushlstring(L, b.data ? b.data : "", b.len);
  kupe_buffer_free(&b);
  return 1;
}

/* parse_head callback: lower-cases the name and stores or joins. */
static int head_field(void *ud, const char *name, size_t nlen,
                      const char *value, size_t vlen) {
  lua_State *L = ud;
  char lower[256];
  size_t i;
  if (nlen > sizeof(lower))
    return 0; /* no real header name is this long; skip it */
  for (i = 0; i < nlen; i++) {
    char ch = name[i];
    lower[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
  }
  lua_pushlstring(L, lower, nlen);  /* h, name */
  lua_pushvalue(L, -1);             /* h, name, name */
  lua_rawget(L, -3);                /* h, name, old */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, value, vlen);
  } else {
    /* Repeated fields join with ", " (RFC 9110, 5.3). */
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, value, vlen);
    lua_concat(L, 3);
  }
  lua_rawset(L, -3);                /* h */
  return 0;
}

/* core.parse_head(raw) -> status, reason, headers | nil, err */
int kupe_parse_head(lua_State *L) {
  size_t n;
  const char *raw = luaL_checklstring(L, 1, &n);
  kupe_head_status st;
  lua_newtable(L);
  if (kupe_head_parse(raw, n, &st, head_field, L) != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "no HTTP status line in the response head");
    return 2;
  }
  lua_pushinteger(L, st.code);
  lua_pushlstring(L, st.reason, st.reason_len);
  lua_pushvalue(L, -3);
  return 3;
}

/* core.is_json_type(ct) -> whether a Content-Type value names JSON
 * (application/json or a +json type, parameters ignored): the rule the
 * transfer applies when it decides what a sink takes. */
int kupe_is_json_type(lua_State *L) {
  const char *ct = luaL_optstring(L, 1, NULL);
  lua_pushboolean(L, kupe_head_is_json_type(ct));
  return 1;
}

/* core.json_mark_empty(s) -> s2, n, paths: n empty arrays rewritten and
 * where they are (jsonscan.h); s itself (no copy) and 0 when n is 0. */
int kupe_json_mark_empty(lua_State *L) {
  size_t n, count;
  const char *s = luaL_checklstring(L, 1, &n);
  kupe_buffer b, paths;
  kupe_buffer_init(&b);
  kupe_buffer_init(&paths);
  if (kupe_json_mark_paths(&b, &paths, s, n, sentinel_json,
                           sizeof(sentinel_json) - 1, &count) != 0) {
    kupe_buffer_free(&b);
    kupe_buffer_free(&paths);
    return luaL_error(L, "json: out of memory");
  }
  if (count == 0) {
    kupe_buffer_free(&b);
    kupe_buffer_free(&paths);
    lua_settop(L, 1);
    lua_pushinteger(L, 0);
    return 2;
  }
  lua_pushlstring(L, b.data, b.len);
  lua_pushinteger(L, (lua_Integer)count);
  lua_pushlstring(L, paths.data ? paths.data : "", paths.len);
  kupe_buffer_free(&b);
  kupe_buffer_free(&paths);
  return 3;
}

static int is_marked(lua_State *L, int t) {
  size_t n;
  const char *s;
  int yes;
  if (lua_rawlen(L, t) != 1)
    return 0;
  lua_rawgeti(L, t, 1);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
  yes = s != NULL && n == SENTINEL_VALUE_LEN &&
        memcmp(s, sentinel_value, SENTINEL_VALUE_LEN) == 0;
  lua_pop(L, 1);
  return yes;
}

/* Makes the marked table at t an empty array (mt at stack index 3). */
static void unmark(lua_State *L, int t) {
  lua_pushnil(L);
  lua_rawseti(L, t, 1);
  lua_pushvalue(L, 3);
  lua_setmetatable(L, t);
}

/* Depth-first over tables; mt is at stack index 3. Stops once every
 * marked table was found. */
static void fix(lua_State *L, int t, lua_Integer *left, int depth) {
  if (depth > 1000)
    return; /* deeper than cjson decodes */
  if (!lua_checkstack(L, 4))
    luaL_error(L, "json: nesting too deep");
  if (is_marked(L, t)) {
    unmark(L, t);
    (*left)--;
    return;
  }
  lua_pushnil(L);
  while (*left > 0 && lua_next(L, t) != 0) {
    if (lua_istable(L, -1))
      fix(L, lua_gettop(L), left, depth + 1);
    lua_pop(L, 1);
  }
  if (*left <= 0 && lua_gettop(L) > t)
    lua_settop(L, t); /* left the loop early: drop the key */
}

static int get_size(const char **p, const char *end, size_t *v) {
  if ((size_t)(end - *p) < sizeof(*v))
    return -1;
  memcpy(v, *p, sizeof(*v));
  *p += sizeof(*v);
  return 0;
}

/* Follows one path record (jsonscan.h) from the value at index 1 and
 * unmarks the table it leads to, if that one is marked. Returns 1 when it
 * did, 0 when the path leads elsewhere, -1 for a malformed record. */
static int fix_path(lua_State *L, const char **p, const char *end) {
  size_t depth, i, n;
  int reach = 1, done = 0;
  char kind;
  if (get_size(p, end, &depth) != 0 || depth > KUPE_JSON_DEPTH)
    return -1;
  lua_pushvalue(L, 1);                       /* node */
  for (i = 0; i < depth; i++) {
    if (*p >= end || ((kind = *(*p)++) != 'k' && kind != 'i') ||
        get_size(p, end, &n) != 0 ||
        (kind == 'k' && (size_t)(end - *p) < n)) {
      lua_pop(L, 1);
      return -1;
    }
    reach = reach && lua_istable(L, -1);
    if (kind == 'k') {
      if (reach) {
        lua_pushlstring(L, *p, n);           /* node, key */
        lua_rawget(L, -2);                   /* node, child */
        lua_remove(L, -2);                   /* child */
      }
      *p += n;
    } else if (reach && n <= INT_MAX) {
      lua_rawgeti(L, -1, (int)n);            /* node, child */
      lua_remove(L, -2);                     /* child */
    } else {
      reach = 0;
    }
  }
  if (reach && lua_istable(L, -1) && is_marked(L, lua_gettop(L))) {
    unmark(L, lua_gettop(L));
    done = 1;
  }
  lua_pop(L, 1);
  return done;
}

/* core.json_fix_empty(value, n, mt[, paths]) -> value. With the paths
 * from json_mark_empty, goes straight to each marked table; walks the
 * whole value only for those it could not reach that way. */
int kupe_json_fix_empty(lua_State *L) {
  lua_Integer left = luaL_checkinteger(L, 2);
  size_t plen = 0;
  const char *paths, *p, *end;
  int r;
  luaL_checktype(L, 3, LUA_TTABLE);
  paths = luaL_optlstring(L, 4, NULL, &plen);
  lua_settop(L, 4);
  if (lua_istable(L, 1) && left > 0 && paths != NULL) {
    p = paths;
    end = paths + plen;
    while (left > 0 && p < end && (r = fix_path(L, &p, end)) >= 0)
      left -= r;
  }
  if (lua_istable(L, 1) && left > 0)
    fix(L, 1, &left, 0);
  lua_settop(L, 1);
  return 1;
}
