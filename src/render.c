/*
 * render.c: conn:render_head(method, url, opts), the request head for a
 * transport that speaks HTTP/1.1 itself (the nginx cosocket transport).
 *
 *   head, pool, host, port, tls = conn:render_head(method, url, opts)
 *
 * head  the bytes that go on the wire before the body: request line, Host,
 *       User-Agent, Accept, Accept-Encoding: gzip, the credential, then
 *       Content-Type, Content-Length and the caller's headers, and the
 *       blank line. opts: headers, content_type, body (its length only).
 * pool  a name for the transport's connection pool: scheme, host, port,
 *       and the fingerprint of the credential when the head carries it, so
 *       kept-alive connections to other hosts or for other credentials
 *       never mix.
 * host, port, tls   where to connect (an IPv6 host keeps its brackets).
 *
 * A URL that cannot be used gives nil, "invalid_url", message, false.
 *
 * The rules are conn:request's: the same method, URL and header checks
 * (a caller mistake raises before anything is rendered), the credential
 * only when the URL has the base URL's origin (kupe_client_same_origin),
 * the fragment dropped and dot segments removed as libcurl's URL parser
 * does, Host without the scheme's default port.
 *
 * The credential goes from C memory into the head; it is in no Lua table.
 * The head is written into a userdata (so a Lua memory error cannot leak
 * it) and that memory is wiped once the string is made. Two passes over
 * the same writer: the first only counts bytes, the second writes them.
 *
 * Fingerprint: HMAC-SHA256 of the credential line under a key drawn once
 * per process, truncated to 128 bits, in hex. It tells credentials apart
 * and cannot be checked against a guessed key outside the process.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fieldtext.h"
#include "kupe.h"
#include "urlparse.h"

/* Counts (p == NULL) or writes bytes. */
typedef struct writer {
  char *p;
  size_t n;
} writer;

static void emit(writer *w, const char *s, size_t len) {
  if (w->p != NULL)
    memcpy(w->p + w->n, s, len);
  w->n += len;
}

static void emits(writer *w, const char *s) { emit(w, s, strlen(s)); }

/* 1 when the caller's headers (table at idx, or 0) name this header. */
static int caller_has(lua_State *L, int idx, const char *name) {
  int found = 0;
  if (idx == 0)
    return 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING &&
        strcasecmp(lua_tostring(L, -1), name) == 0)
      found = 1;
  }
  return found;
}

/* The part of opts the head depends on. */
typedef struct head_opts {
  int headers_idx;          /* 0 if none */
  const char *content_type; /* NULL if none */
  int has_body;             /* Content-Length is sent */
  size_t body_len;
  int auth;                 /* the credential goes in */
  int own_ua, own_accept, own_encoding, own_ctype;
} head_opts;

static void render(lua_State *L, writer *w, kupe_client *c,
                   const char *method, size_t mlen, const kupe_url_parts *u,
                   const head_opts *o) {
  char num[32];
  size_t path_at;
  emit(w, method, mlen);
  emit(w, " ", 1);
  path_at = w->n;
  if (u->path_len == 0)
    emit(w, "/", 1);
  else
    emit(w, u->path, u->path_len);
  if (w->p != NULL && u->path_len > 0)
    w->n = path_at + kupe_url_remove_dots(w->p + path_at, w->n - path_at);
  if (u->query != NULL) {
    emit(w, "?", 1);
    emit(w, u->query, u->query_len);
  }
  emits(w, " HTTP/1.1\r\nHost: ");
  emit(w, u->host, u->host_len);
  if (!u->default_port) {
    snprintf(num, sizeof(num), ":%ld", u->port);
    emits(w, num);
  }
  emits(w, "\r\n");
  if (c->user_agent != NULL && !o->own_ua) {
    emits(w, "User-Agent: ");
    emits(w, c->user_agent);
    emits(w, "\r\n");
  }
  if (!o->own_accept)
    emits(w, "Accept: application/json\r\n");
  if (!o->own_encoding)
    emits(w, "Accept-Encoding: gzip\r\n");
  if (o->auth) {
    emits(w, c->secret_header);
    emits(w, "\r\n");
  }
  if (o->content_type != NULL && !o->own_ctype) {
    emits(w, "Content-Type: ");
    emits(w, o->content_type);
    emits(w, "\r\n");
  }
  if (o->has_body) {
    snprintf(num, sizeof(num), "Content-Length: %lu\r\n",
             (unsigned long)o->body_len);
    emits(w, num);
  }
  if (o->headers_idx != 0) {
    lua_pushnil(L);
    while (lua_next(L, o->headers_idx) != 0) {
      size_t nlen, vlen;
      const char *name = lua_tolstring(L, -2, &nlen);
      const char *value = lua_tolstring(L, -1, &vlen); /* numbers too */
      emit(w, name, nlen);
      emit(w, ": ", 2);
      emit(w, value, vlen);
      emit(w, "\r\n", 2);
      lua_pop(L, 1);
    }
  }
  emit(w, "\r\n", 2);
}

/* Computes c->fingerprint once; 0, or -1 when OpenSSL failed. */
static int fingerprint(kupe_client *c) {
  static unsigned char key[32];
  static int key_ready = 0;
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;
  if (c->fingerprint[0] != '\0')
    return 0;
  if (!key_ready) {
    if (RAND_bytes(key, (int)sizeof(key)) != 1)
      return -1;
    key_ready = 1;
  }
  if (HMAC(EVP_sha256(), key, (int)sizeof(key),
           (const unsigned char *)c->secret_header,
           strlen(c->secret_header), md, &mdlen) == NULL ||
      mdlen < 16)
    return -1;
  for (i = 0; i < 16; i++) {
    c->fingerprint[2 * i] = hex[md[i] >> 4];
    c->fingerprint[2 * i + 1] = hex[md[i] & 15];
  }
  c->fingerprint[32] = '\0';
  OPENSSL_cleanse(md, sizeof(md));
  return 0;
}

/* Reads opts.field, leaving a string on the stack (it must stay alive);
 * 0 when absent. Raises for another type. */
static int opt_string(lua_State *L, int idx, const char *name) {
  lua_getfield(L, idx, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L, "request: option '%s' has the wrong type (%s)", name,
                      luaL_typename(L, -1));
  return lua_gettop(L);
}

int kupe_render_head(lua_State *L) {
  kupe_client *c = kupe_client_check(L, 1);
  size_t mlen, ulen, n;
  const char *method = luaL_checklstring(L, 2, &mlen);
  const char *url = luaL_checklstring(L, 3, &ulen);
  const char *why, *ct;
  kupe_url_parts u;
  head_opts o;
  writer w;
  luaL_Buffer pool;
  int idx, i;

  if (!kupe_request_valid_method(method, mlen))
    return luaL_argerror(L, 2, "an upper-case HTTP method");
  if (!kupe_request_valid_url(url, ulen))
    return luaL_argerror(L, 3, "a URL without blanks or control characters");
  memset(&o, 0, sizeof(o));
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 4);
    if ((idx = opt_string(L, 4, "content_type")) != 0) {
      ct = lua_tolstring(L, idx, &n);
      if (!kupe_field_ok(KUPE_FIELD_VALUE, ct, n))
        return luaL_error(L, "request: content_type contains CR, LF or NUL");
      o.content_type = ct;
    }
    if ((idx = opt_string(L, 4, "body")) != 0) {
      lua_tolstring(L, idx, &o.body_len);
      o.has_body = 1;
    }
    lua_getfield(L, 4, "headers");
    if (lua_type(L, -1) == LUA_TTABLE) {
      o.headers_idx = lua_gettop(L);
      kupe_request_check_headers(L, o.headers_idx);
    } else if (!lua_isnil(L, -1)) {
      return luaL_error(L, "request: option 'headers' has the wrong type "
                        "(%s)", luaL_typename(L, -1));
    }
  }
  /* conn:request's rule: GET and HEAD never carry a body; POST, PUT and
   * PATCH always say how long theirs is, even when it is empty. */
  if ((mlen == 3 && memcmp(method, "GET", 3) == 0) ||
      (mlen == 4 && memcmp(method, "HEAD", 4) == 0))
    o.has_body = 0, o.body_len = 0;
  else if ((mlen == 4 && memcmp(method, "POST", 4) == 0) ||
           (mlen == 3 && memcmp(method, "PUT", 3) == 0) ||
           (mlen == 5 && memcmp(method, "PATCH", 5) == 0))
    o.has_body = 1;

  if ((why = kupe_url_split(url, &u)) != NULL)
    return kupe_error_push(L, "invalid_url", why, 0);
  o.auth = c->secret_header != NULL && kupe_client_same_origin(c, url);
  if (o.auth && fingerprint(c) != 0)
    return kupe_error_push(L, "internal", "OpenSSL could not make the pool "
                           "fingerprint", 0);
  o.own_ua = caller_has(L, o.headers_idx, "user-agent");
  o.own_accept = caller_has(L, o.headers_idx, "accept");
  o.own_encoding = caller_has(L, o.headers_idx, "accept-encoding");
  o.own_ctype = caller_has(L, o.headers_idx, "content-type");

  w.p = NULL;
  w.n = 0;
  render(L, &w, c, method, mlen, &u, &o);                 /* count */
  w.p = lua_newuserdatauv(L, w.n, 0);                     /* ..., scratch */
  n = w.n;
  w.n = 0;
  render(L, &w, c, method, mlen, &u, &o);                 /* write */
  lua_pushlstring(L, w.p, w.n);                           /* ..., s, head */
  kupe_wipe(w.p, n);
  lua_remove(L, -2);                                      /* ..., head */

  luaL_buffinit(L, &pool);
  luaL_addstring(&pool, u.tls ? "kupe:https://" : "kupe:http://");
  for (i = 0; i < (int)u.host_len; i++) {
    char ch = u.host[i];
    luaL_addchar(&pool, (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch);
  }
  lua_pushfstring(L, ":%d:", (int)u.port);
  luaL_addvalue(&pool);
  luaL_addstring(&pool, o.auth ? c->fingerprint : "-");
  luaL_pushresult(&pool);                                 /* ..., head, pool */
  lua_pushlstring(L, u.host, u.host_len);
  lua_pushinteger(L, (lua_Integer)u.port);
  lua_pushboolean(L, u.tls);
  return 5;
}
