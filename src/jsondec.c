/*
 * jsondec.c: core.json_decode(s, array_mt, all), a JSON decoder that
 * gives exactly what lua-cjson 2.1.0 (as kupe.json configures it) and
 * the empty-array passes give, in one pass over the text and one over
 * its structure instead of a rewrite, a decode and a walk:
 *
 * - objects and arrays are tables; an empty array gets array_mt (every
 *   array when all is true, as cjson's decode_array_with_array_mt does);
 * - numbers are pushed with lua_pushnumber, from strtod as cjson reads
 *   them (floats under Lua 5.3 and 5.4, as cjson 2.1.0 gives);
 * - strings with cjson's escapes, \u escapes and surrogate pairs decoded
 *   as cjson decodes them; null is the light userdata NULL (cjson.null);
 * - a repeated key keeps its last value.
 *
 * It declines (returns no value) for text it would have to judge the way
 * cjson judges malformed or unusual JSON: any syntax error, a number
 * outside JSON's grammar, a NUL byte, an unpaired surrogate, nesting
 * deeper than DEPTH, text after the value, a locale whose decimal point
 * is not '.'. The caller then decodes with cjson, which gives the value
 * or its error message as before. So anything accepted here is accepted
 * by cjson with the same result.
 *
 * Tables are created at their final size: a first pass counts the
 * elements of every container (in the order they open), the second
 * builds. Nothing is malloc'd: the counts live on the C stack or, for
 * texts with many containers, in a userdata the collector owns.
 */
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "kupe.h"

/* Deeper nesting is left to cjson (whose own limit is 1000). */
#define DEPTH 200
/* Container counts kept on the C stack. */
#define SMALL_COUNTS 256

typedef struct counts {
  uint32_t small[SMALL_COUNTS];
  uint32_t *n;   /* small or a userdata */
  size_t len, cap;
  lua_State *L;  /* where a larger array is made (kept in stack slot 4) */
} counts;

typedef struct dec {
  lua_State *L;
  const char *p, *end;
  const counts *c;
  size_t next;   /* the next container's index in c */
  int depth;
  int mt;        /* stack index of array_mt, 0 for none */
  int all;       /* array_mt on every array */
} dec;

static int is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && is_ws(*p))
    p++;
  return p;
}

/* The first byte from p on that is '"', '\\' or NUL, or end. */
#if defined(__SSE2__) && defined(__GNUC__)
static const char *string_stop(const char *p, const char *end) {
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                zero = _mm_setzero_si128();
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    int m = _mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
        _mm_cmpeq_epi8(v, zero)));
    if (m != 0)
      return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
  while (p < end && *p != '"' && *p != '\\' && *p != '\0')
    p++;
  return p;
}
#else
static const char *string_stop(const char *p, const char *end) {
  while (p < end && *p != '"' && *p != '\\' && *p != '\0')
    p++;
  return p;
}
#endif

/* ---- Pass 1: the element count of every container ---------------------- */

/* A new container's slot. The array doubles when full (a userdata in
 * stack slot 4, which the collector owns), so its size follows the number
 * of containers, not the length of the text. -1 past INT_MAX slots. */
static int count_add(counts *c) {
  if (c->len == c->cap) {
    uint32_t *n;
    if (c->cap > (size_t)INT_MAX / 2)
      return -1;
    n = lua_newuserdatauv(c->L, 2 * c->cap * sizeof(uint32_t), 0);
    memcpy(n, c->n, c->len * sizeof(uint32_t));
    lua_replace(c->L, 4);
    c->n = n;
    c->cap *= 2;
  }
  c->n[c->len] = 0;
  return (int)c->len++;
}

/*
 * Counts the elements of each container: commas at its level, plus one
 * when it is not empty. Returns the greatest depth, or -1 when the text is
 * deeper than DEPTH or its brackets do not pair (pass 2 would decline).
 */
static int count_all(const char *s, size_t len, counts *c) {
  const char *p = s, *end = s + len;
  int stack[DEPTH];
  int depth = 0, max = 0, fresh = 0; /* fresh: nothing seen in the top one */
  while (p < end) {
    char ch = *p;
    if (is_ws(ch)) {
      p++;
      continue;
    }
    if (fresh && ch != ']' && ch != '}')
      c->n[stack[depth - 1]] = 1;
    fresh = 0;
    switch (ch) {
    case '"':
      for (p++;;) {
        p = string_stop(p, end);
        if (p >= end || *p == '\0')
          return -1;
        if (*p == '"')
          break;
        p += 2; /* a backslash and the byte it escapes */
      }
      p++;
      break;
    case '[':
    case '{':
      if (depth == DEPTH || (stack[depth] = count_add(c)) < 0)
        return -1;
      depth++;
      if (depth > max)
        max = depth;
      fresh = 1;
      p++;
      break;
    case ']':
    case '}':
      if (depth == 0)
        return -1;
      depth--;
      p++;
      break;
    case ',':
      if (depth > 0)
        c->n[stack[depth - 1]]++;
      p++;
      break;
    default:
      p++;
    }
  }
  return depth == 0 ? max : -1;
}

/* ---- Pass 2: the values --------------------------------------------- */

static int value(dec *d);

static int hex4(const char *p) {
  int i, v = 0;
  for (i = 0; i < 4; i++) {
    char ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9')
      v |= ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      v |= ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F')
      v |= ch - 'A' + 10;
    else
      return -1;
  }
  return v;
}

/* A \u escape at p (at the backslash), as cjson decodes it: a surrogate
 * pair gives one code point, anything else unpaired is refused. Writes
 * UTF-8 to out; returns its length and sets *used, or 0. */
static int unicode_escape(const char *p, const char *end, char *out,
                          size_t *used) {
  int cp, low;
  if (end - p < 6 || (cp = hex4(p + 2)) < 0)
    return 0;
  *used = 6;
  if ((cp & 0xF800) == 0xD800) {
    if ((cp & 0x400) || end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
        (low = hex4(p + 8)) < 0 || (low & 0xFC00) != 0xDC00)
      return 0;
    cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
    *used = 12;
  }
  if (cp <= 0x7F) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp <= 0x7FF) {
    out[0] = (char)((cp >> 6) | 0xC0);
    out[1] = (char)((cp & 0x3F) | 0x80);
    return 2;
  }
  if (cp <= 0xFFFF) {
    out[0] = (char)((cp >> 12) | 0xE0);
    out[1] = (char)(((cp >> 6) & 0x3F) | 0x80);
    out[2] = (char)((cp & 0x3F) | 0x80);
    return 3;
  }
  out[0] = (char)((cp >> 18) | 0xF0);
  out[1] = (char)(((cp >> 12) & 0x3F) | 0x80);
  out[2] = (char)(((cp >> 6) & 0x3F) | 0x80);
  out[3] = (char)((cp & 0x3F) | 0x80);
  return 4;
}

/* The rest of a string whose first escape is at p (start: its first
 * byte), through a luaL_Buffer. */
static int escaped_string(dec *d, const char *start, const char *p) {
  luaL_Buffer b;
  luaL_buffinit(d->L, &b);
  luaL_addlstring(&b, start, (size_t)(p - start));
  for (;;) {
    char ch, utf8[4];
    size_t used;
    int n;
    if (p >= d->end || *p == '\0')
      return -1;
    if (*p == '"')
      break;
    /* *p == '\\' */
    if (d->end - p < 2)
      return -1;
    switch (p[1]) {
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case '/': ch = '/'; break;
    case 'b': ch = '\b'; break;
    case 'f': ch = '\f'; break;
    case 'n': ch = '\n'; break;
    case 'r': ch = '\r'; break;
    case 't': ch = '\t'; break;
    case 'u':
      if ((n = unicode_escape(p, d->end, utf8, &used)) == 0)
        return -1;
      luaL_addlstring(&b, utf8, (size_t)n);
      p += used;
      goto run;
    default:
      return -1;
    }
    luaL_addchar(&b, ch);
    p += 2;
  run:
    start = p;
    p = string_stop(p, d->end);
    luaL_addlstring(&b, start, (size_t)(p - start));
  }
  luaL_pushresult(&b);
  d->p = p + 1;
  return 0;
}

/* A string; d->p is at its opening quote. */
static int string(dec *d) {
  const char *start = d->p + 1;
  const char *p = string_stop(start, d->end);
  if (p < d->end && *p == '"') {
    lua_pushlstring(d->L, start, (size_t)(p - start));
    d->p = p + 1;
    return 0;
  }
  if (p >= d->end || *p == '\0')
    return -1;
  return escaped_string(d, start, p);
}

/* A number in JSON's grammar, read by strtod as cjson reads it. */
static int number(dec *d) {
  const char *p = d->p, *start = p, *end = d->end;
  int simple = 1, digits = 0;
  double v;
  if (*p == '-')
    p++;
  if (p >= end || *p < '0' || *p > '9')
    return -1;
  if (*p == '0') {
    p++;
  } else {
    while (p < end && *p >= '0' && *p <= '9')
      p++, digits++;
  }
  if (p < end && *p == '.') {
    simple = 0;
    if (++p >= end || *p < '0' || *p > '9')
      return -1;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    simple = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || *p < '0' || *p > '9')
      return -1;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  if (simple && digits <= 15) {
    /* An integer below 10^15: exact in a double, as strtod gives it. */
    const char *q = start + (*start == '-');
    int64_t n = 0;
    for (; q < p; q++)
      n = n * 10 + (*q - '0');
    v = (double)n;
    if (*start == '-')
      v = -v;
  } else {
    char tmp[64], *e;
    size_t len = (size_t)(p - start);
    if (len >= sizeof(tmp))
      return -1; /* cjson reads it; so does the fallback */
    memcpy(tmp, start, len);
    tmp[len] = '\0';
    v = strtod(tmp, &e);
    if (e != tmp + len)
      return -1;
  }
  lua_pushnumber(d->L, (lua_Number)v);
  d->p = p;
  return 0;
}

static int literal(dec *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
    return -1;
  d->p += n;
  return 0;
}

static uint32_t next_count(dec *d) {
  return d->next < d->c->len ? d->c->n[d->next++] : 0;
}

static int array(dec *d) {
  lua_State *L = d->L;
  uint32_t n = next_count(d);
  lua_Integer i = 0;
  lua_createtable(L, (int)(n < 1u << 24 ? n : 0), 0);
  d->p = skip_ws(d->p + 1, d->end);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
  } else {
    for (;;) {
      if (value(d) != 0)
        return -1;
      lua_rawseti(L, -2, (int)++i);
      d->p = skip_ws(d->p, d->end);
      if (d->p >= d->end)
        return -1;
      if (*d->p == ']') {
        d->p++;
        break;
      }
      if (*d->p != ',')
        return -1;
      d->p = skip_ws(d->p + 1, d->end);
    }
  }
  if (d->mt != 0 && (d->all || i == 0)) {
    lua_pushvalue(L, d->mt);
    lua_setmetatable(L, -2);
  }
  return 0;
}

static int object(dec *d) {
  lua_State *L = d->L;
  uint32_t n = next_count(d);
  lua_createtable(L, 0, (int)(n < 1u << 24 ? n : 0));
  d->p = skip_ws(d->p + 1, d->end);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    return 0;
  }
  for (;;) {
    if (d->p >= d->end || *d->p != '"' || string(d) != 0)
      return -1;
    d->p = skip_ws(d->p, d->end);
    if (d->p >= d->end || *d->p != ':')
      return -1;
    d->p = skip_ws(d->p + 1, d->end);
    if (value(d) != 0)
      return -1;
    lua_rawset(L, -3);
    d->p = skip_ws(d->p, d->end);
    if (d->p >= d->end)
      return -1;
    if (*d->p == '}') {
      d->p++;
      return 0;
    }
    if (*d->p != ',')
      return -1;
    d->p = skip_ws(d->p + 1, d->end);
  }
}

/* One value at d->p (no blanks before it), pushed. */
static int value(dec *d) {
  int rc;
  if (d->p >= d->end)
    return -1;
  switch (*d->p) {
  case '{':
  case '[':
    if (++d->depth > DEPTH)
      return -1;
    rc = *d->p == '{' ? object(d) : array(d);
    d->depth--;
    return rc;
  case '"':
    return string(d);
  case 't':
    if (literal(d, "true", 4) != 0)
      return -1;
    lua_pushboolean(d->L, 1);
    return 0;
  case 'f':
    if (literal(d, "false", 5) != 0)
      return -1;
    lua_pushboolean(d->L, 0);
    return 0;
  case 'n':
    if (literal(d, "null", 4) != 0)
      return -1;
    lua_pushlightuserdata(d->L, NULL);
    return 0;
  default:
    return number(d);
  }
}

/* core.json_decode(s, array_mt, all) -> value, or nothing to let cjson
 * decide (see the top of this file; also for s that is not a string). */
int kupe_json_decode(lua_State *L) {
  size_t len;
  const char *s;
  const struct lconv *lc;
  counts c;
  dec d;
  int depth;
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 4); /* slot 4: the counts when they outgrow the stack */
  if (lua_type(L, 1) != LUA_TSTRING)
    return 0; /* cjson converts a number, or raises its own error */
  s = lua_tolstring(L, 1, &len);
  lc = localeconv();
  if (lc == NULL || lc->decimal_point == NULL ||
      strcmp(lc->decimal_point, ".") != 0)
    return 0;
  c.n = c.small;
  c.len = 0;
  c.cap = SMALL_COUNTS;
  c.L = L;
  depth = count_all(s, len, &c);
  if (depth < 0 || !lua_checkstack(L, 3 * depth + 24))
    return 0;
  d.L = L;
  d.p = skip_ws(s, s + len);
  d.end = s + len;
  d.c = &c;
  d.next = 0;
  d.depth = 0;
  d.mt = lua_isnil(L, 2) ? 0 : 2;
  d.all = lua_toboolean(L, 3);
  if (value(&d) != 0 || skip_ws(d.p, d.end) != d.end) {
    lua_settop(L, 4);
    return 0;
  }
  return 1;
}
