/*
 * query.c: query strings. core.encode_query(t), and
 * core.request_url(base, path, query, max), which builds the URL of one
 * request (base, path, "?" or "&", the encoded query) and names its path
 * (without query or fragment) in one call.
 *
 * A query is read in two passes. The first validates every key and value,
 * raising before anything is written, and collects the pairs, sorted by
 * key, with an upper bound of their encoded length. The second writes
 * into memory of that size: a buffer on the C stack for the usual short
 * URL, else a userdata the collector owns. Nothing is allocated with
 * malloc, so no path can leak.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fieldtext.h"
#include "kupe.h"
#include "urlenc.h"

/* Pairs kept on the C stack; more go in a userdata. */
#define SMALL_QUERY 8
/* URLs up to this length are written on the C stack. */
#define STACK_URL 512
/* The longest text kupe_urlenc_number or an integer format writes, NUL
 * included. */
#define NUMBER_MAX 64

typedef struct qpair {
  const char *key;
  size_t klen;
  int type;          /* of the value: LUA_TSTRING, LUA_TNUMBER,
                        LUA_TBOOLEAN, LUA_TTABLE (an array), LUA_TNIL
                        (kupe.null: left out) */
  const char *s;     /* a string value */
  size_t slen;
  int isint, b;      /* number subtype, boolean value */
  lua_Integer i;
  lua_Number n;
} qpair;

typedef struct query {
  qpair small[SMALL_QUERY];
  qpair *pairs;
  size_t npairs;
  size_t bound; /* upper bound of the encoded length */
} query;

static int is_null(lua_State *L, int idx) {
  /* cjson.null (and so kupe.null) is a light userdata holding NULL. */
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA &&
         lua_touserdata(L, idx) == NULL;
}

static size_t add_bound(lua_State *L, size_t a, size_t b) {
  if (a > (size_t)-1 - b)
    luaL_error(L, "query: too long");
  return a + b;
}

/* Checks one value (raising naming the key when it is unusable) and
 * fills p's value fields. */
static void read_scalar(lua_State *L, int idx, const char *key, qpair *p) {
  p->type = lua_type(L, idx);
  switch (p->type) {
  case LUA_TSTRING:
    /* The API reads the query as UTF-8 text; NUL, CR and LF have no
     * meaning there (they could only be a mistake or an attack). */
    p->s = lua_tolstring(L, idx, &p->slen);
    if (!kupe_field_ok(KUPE_FIELD_TEXT, p->s, p->slen))
      luaL_error(L, "query: '%s' must be UTF-8 text without NUL, CR or LF",
                 key);
    return;
  case LUA_TBOOLEAN:
    p->b = lua_toboolean(L, idx);
    return;
  case LUA_TNUMBER:
    p->isint = lua_isinteger(L, idx);
    if (p->isint) {
      p->i = lua_tointeger(L, idx);
    } else {
      p->n = lua_tonumber(L, idx);
      if (isnan(p->n) || isinf(p->n))
        luaL_error(L, "query: '%s' is not a finite number", key);
    }
    return;
  default:
    if (is_null(L, idx)) {
      p->type = LUA_TNIL;
      return;
    }
    luaL_error(L, "query: '%s' must be a string, number, boolean or an "
               "array of them (got %s)", key, luaL_typename(L, idx));
  }
}

/* Upper bound of "key=value&" for one scalar. */
static size_t pair_bound(lua_State *L, const qpair *p) {
  size_t v = p->type == LUA_TSTRING ? p->slen : NUMBER_MAX;
  if (v > (size_t)-1 / 3 || p->klen > (size_t)-1 / 3)
    luaL_error(L, "query: too long");
  return add_bound(L, add_bound(L, 3 * p->klen, 3 * v), 2);
}

/* Validates the elements of the array at the top of the stack; returns
 * the bound of all its pairs. */
static size_t read_array(lua_State *L, const char *key, qpair *p) {
  size_t len = lua_rawlen(L, -1), entries = 0, j, bound = 0;
  qpair e;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    entries++;
    lua_pop(L, 1);
  }
  if (entries != len)
    luaL_error(L, "query: '%s' must be an array (a table with keys 1..n)",
               key);
  e.key = p->key;
  e.klen = p->klen;
  for (j = 1; j <= len; j++) {
    lua_rawgeti(L, -1, (int)j);
    if (lua_istable(L, -1))
      luaL_error(L, "query: '%s' cannot nest tables", key);
    read_scalar(L, -1, key, &e);
    bound = add_bound(L, bound, pair_bound(L, &e));
    lua_pop(L, 1);
  }
  return bound;
}

static int cmp_pair(const void *a, const void *b) {
  const qpair *x = a, *y = b;
  size_t n = x->klen < y->klen ? x->klen : y->klen;
  int c = memcmp(x->key, y->key, n);
  return c != 0 ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Pass 1 over the table at idx; slot (both absolute) receives the
 * userdata holding the pairs when there are more than SMALL_QUERY. */
static void query_read(lua_State *L, int idx, int slot, query *q) {
  size_t n = 0;
  q->pairs = q->small;
  q->npairs = 0;
  q->bound = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    qpair *p;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "query: keys must be strings (got %s)",
                 luaL_typename(L, -2));
    if (n == SMALL_QUERY && q->pairs == q->small) {
      /* Count the rest, then start again into a userdata. */
      size_t total = n + 1; /* this one and those read */
      lua_pop(L, 1);
      while (lua_next(L, idx) != 0) {
        total++;
        lua_pop(L, 1);
      }
      if (total > (size_t)-1 / sizeof(qpair))
        luaL_error(L, "query: too many keys");
      q->pairs = lua_newuserdatauv(L, total * sizeof(qpair), 0);
      lua_replace(L, slot);
      n = 0;
      q->bound = 0;
      lua_pushnil(L);
      continue;
    }
    p = &q->pairs[n];
    p->key = lua_tolstring(L, -2, &p->klen);
    if (p->klen == 0 || !kupe_field_ok(KUPE_FIELD_TEXT, p->key, p->klen))
      luaL_error(L, "query: keys must be non-empty UTF-8 text without NUL, "
                 "CR or LF");
    if (lua_istable(L, -1)) {
      p->type = LUA_TTABLE;
      q->bound = add_bound(L, q->bound, read_array(L, p->key, p));
    } else {
      read_scalar(L, -1, p->key, p);
      if (p->type != LUA_TNIL)
        q->bound = add_bound(L, q->bound, pair_bound(L, p));
    }
    n++;
    lua_pop(L, 1);
  }
  /* The key and string pointers stay valid: the table holds them. */
  q->npairs = n;
  if (n > 1)
    qsort(q->pairs, n, sizeof(qpair), cmp_pair);
}

static char *write_scalar(char *out, const qpair *p) {
  int n;
  switch (p->type) {
  case LUA_TBOOLEAN:
    if (p->b) {
      memcpy(out, "true", 4);
      return out + 4;
    }
    memcpy(out, "false", 5);
    return out + 5;
  case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
    if (p->isint) {
      n = snprintf(out, NUMBER_MAX, LUA_INTEGER_FMT, (LUAI_UACINT)p->i);
      return out + n;
    }
#endif
    n = kupe_urlenc_number(out, p->n);
    return out + n;
  default:
    return out + kupe_urlenc_write(out, p->s, p->slen);
  }
}

static char *write_pair(char *out, char *start, const qpair *key,
                        const qpair *value) {
  if (out > start)
    *out++ = '&';
  out += kupe_urlenc_write(out, key->key, key->klen);
  *out++ = '=';
  return write_scalar(out, value);
}

/* Pass 2: writes the pairs at out (room for q->bound bytes); returns the
 * end. Arrays are read again from the table at idx. */
static char *query_write(lua_State *L, int idx, const query *q, char *out) {
  char *start = out;
  size_t i, j, len;
  qpair e;
  for (i = 0; i < q->npairs; i++) {
    const qpair *p = &q->pairs[i];
    if (p->type == LUA_TNIL)
      continue;
    if (p->type != LUA_TTABLE) {
      out = write_pair(out, start, p, p);
      continue;
    }
    lua_pushlstring(L, p->key, p->klen);
    lua_rawget(L, idx);
    len = lua_rawlen(L, -1);
    for (j = 1; j <= len; j++) {
      lua_rawgeti(L, -1, (int)j);
      read_scalar(L, -1, p->key, &e); /* validated: cannot raise */
      if (e.type != LUA_TNIL)
        out = write_pair(out, start, p, &e);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return out;
}

/* Room for n bytes: buf when it is large enough, else a userdata left on
 * the stack. */
static char *room(lua_State *L, char *buf, size_t cap, size_t n) {
  if (n <= cap)
    return buf;
  return lua_newuserdatauv(L, n, 0);
}

/* core.encode_query(t) -> "a=1&b=x%20y" (keys sorted; arrays repeat the
 * key; kupe.null values are left out). */
int kupe_encode_query(lua_State *L) {
  char buf[STACK_URL], *out, *end;
  query q;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2); /* slot 2: the pairs, when they need a userdata */
  query_read(L, 1, 2, &q);
  out = room(L, buf, sizeof(buf), q.bound);
  end = query_write(L, 1, &q, out);
  lua_pushlstring(L, out, (size_t)(end - out));
  return 1;
}

/* 1 when every byte of s is visible ASCII (33..126). */
static int visible(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 33 || c > 126)
      return 0;
  }
  return 1;
}

/* core.visible(s) -> whether s is made of visible ASCII only. */
int kupe_visible(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushboolean(L, visible(s, n));
  return 1;
}

/*
 * core.request_url(base, path, query, max) -> url, qpath | nil, length
 *
 * url = base .. path, then "?" (or "&" when base or path already has a
 * query) and the encoded query unless it is empty. qpath is path without
 * its query or fragment. A url longer than max bytes is not made: the
 * answer is nil and its length. query may be nil; it raises as
 * encode_query does.
 */
int kupe_request_url(lua_State *L) {
  size_t blen, plen, head, total, qlen = 0, cut;
  const char *base = luaL_checklstring(L, 1, &blen);
  const char *path = luaL_checklstring(L, 2, &plen);
  lua_Integer max = luaL_checkinteger(L, 4);
  char buf[STACK_URL], *out, *end;
  const char *q_mark, *hash;
  query q;
  int has_query = !lua_isnoneornil(L, 3);
  if (has_query)
    luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 5); /* slot 5: the pairs, when they need a userdata */
  head = blen + plen;
  if (head < blen)
    return luaL_error(L, "request_url: too long");
  total = head;
  if (has_query) {
    query_read(L, 3, 5, &q);
    total = add_bound(L, head, add_bound(L, q.bound, 1));
  }
  out = room(L, buf, sizeof(buf), total);
  memcpy(out, base, blen);
  memcpy(out + blen, path, plen);
  end = out + head;
  if (has_query) {
    *end = (memchr(base, '?', blen) || memchr(path, '?', plen)) ? '&' : '?';
    end = query_write(L, 3, &q, end + 1);
    qlen = (size_t)(end - (out + head + 1));
    if (qlen == 0)
      end = out + head; /* nothing to add: no separator either */
  }
  total = (size_t)(end - out);
  if (max >= 0 && total > (size_t)max) {
    lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)total);
    return 2;
  }
  lua_pushlstring(L, out, total);
  /* The path without query or fragment: up to the first '?' or '#'. */
  q_mark = memchr(path, '?', plen);
  hash = memchr(path, '#', q_mark ? (size_t)(q_mark - path) : plen);
  cut = hash ? (size_t)(hash - path)
             : q_mark ? (size_t)(q_mark - path) : plen;
  if (cut == plen)
    lua_pushvalue(L, 2);
  else
    lua_pushlstring(L, path, cut);
  return 2;
}
