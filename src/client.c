/*
 * client.c: the kupe.client userdata, the connection.
 *
 * Lifetime: the userdata is created zeroed (all pointers NULL = closed),
 * given its metatable, and only then are libcurl handles and the secret
 * attached, so a failure half-way leaves an object that __gc frees safely.
 * close(), __gc and __close are the same idempotent function.
 *
 * Secret: the credential is copied into C memory as a complete header line
 * and never handed back to Lua. No method returns it, __tostring does not
 * show it, and errors name the option, never its value.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kupe.h"

void kupe_wipe(void *p, size_t n) {
  /* A volatile pointer keeps the compiler from dropping a store to memory
   * that is freed right after. */
  volatile unsigned char *v = p;
  while (n--)
    *v++ = 0;
}

static void free_slist(struct curl_slist **list, int wipe) {
  struct curl_slist *l;
  if (*list == NULL)
    return;
  if (wipe)
    for (l = *list; l != NULL; l = l->next)
      kupe_wipe(l->data, strlen(l->data));
  curl_slist_free_all(*list);
  *list = NULL;
}

static void client_release(kupe_client *c) {
  if (c->easy != NULL) {
    curl_easy_cleanup(c->easy);
    c->easy = NULL;
  }
  if (c->share != NULL) {
    curl_share_cleanup(c->share);
    c->share = NULL;
  }
  free_slist(&c->plain, 0);
  free_slist(&c->plain_json, 0);
  free_slist(&c->auth, 1);
  free_slist(&c->auth_json, 1);
  if (c->secret_header != NULL) {
    kupe_wipe(c->secret_header, strlen(c->secret_header));
    free(c->secret_header);
    c->secret_header = NULL;
  }
  free(c->origin);
  c->origin = NULL;
  free(c->user_agent);
  c->user_agent = NULL;
  kupe_wipe(c->fingerprint, sizeof(c->fingerprint));
  kupe_buffer_free(&c->body);
  kupe_buffer_free(&c->head);
}

kupe_client *kupe_client_check(lua_State *L, int idx) {
  kupe_client *c = luaL_checkudata(L, idx, KUPE_CLIENT_MT);
  if (c->easy == NULL)
    luaL_error(L, "attempt to use a closed kupe.client");
  return c;
}

int kupe_client_same_origin(const kupe_client *c, const char *url) {
  char next;
  if (c->origin == NULL || strncasecmp(url, c->origin, c->origin_len) != 0)
    return 0;
  /* "https://api.kupe.in" must not match "https://api.kupe.in.evil". */
  next = url[c->origin_len];
  return next == '\0' || next == '/' || next == '?' || next == '#';
}

/* Appends a header line; on failure the list is left as it was. */
static int add_header(struct curl_slist **list, const char *line) {
  struct curl_slist *l = curl_slist_append(*list, line);
  if (l == NULL)
    return -1;
  *list = l;
  return 0;
}

/* Builds one of the four cached header lists. */
static int build_list(struct curl_slist **out, const char *secret, int json) {
  struct curl_slist *l = NULL;
  if (add_header(&l, "Accept: application/json") != 0 ||
      add_header(&l, "Expect:") != 0 ||
      (json && add_header(&l, "Content-Type: application/json") != 0) ||
      (secret != NULL && add_header(&l, secret) != 0)) {
    free_slist(&l, secret != NULL);
    return -1;
  }
  *out = l;
  return 0;
}

/* A value that goes into a header line must not be able to end it. */
static int header_safe(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      return 0;
  return 1;
}

/* Reads an optional string field; raises naming the field when it is
 * not a string. */
static const char *opt_string(lua_State *L, int idx, const char *name,
                              size_t *len) {
  const char *s = NULL;
  lua_getfield(L, idx, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "kupe.core.new: option '%s' must be a string", name);
    s = lua_tolstring(L, -1, len);
  }
  lua_pop(L, 1); /* the string stays alive in the options table */
  return s;
}

/* Origin = scheme "://" authority of the base URL. */
static int set_origin(kupe_client *c, const char *base, size_t len) {
  const char *p = strstr(base, "://"), *a, *e;
  if (p == NULL)
    return -1;
  a = p + 3;
  e = a + strcspn(a, "/?#");
  if (e == a || memchr(a, '@', (size_t)(e - a)) != NULL)
    return -1; /* no host, or user info that could disguise the host */
  (void)len;
  c->origin_len = (size_t)(e - base);
  c->origin = malloc(c->origin_len + 1);
  if (c->origin == NULL)
    return -2;
  memcpy(c->origin, base, c->origin_len);
  c->origin[c->origin_len] = '\0';
  return 0;
}

static int make_secret(kupe_client *c, const char *prefix, const char *v,
                       size_t vlen) {
  size_t plen = strlen(prefix);
  c->secret_header = malloc(plen + vlen + 1);
  if (c->secret_header == NULL)
    return -1;
  memcpy(c->secret_header, prefix, plen);
  memcpy(c->secret_header + plen, v, vlen);
  c->secret_header[plen + vlen] = '\0';
  return 0;
}

#define SETOPT(opt, val)                                                   \
  do {                                                                     \
    if ((rc = curl_easy_setopt(c->easy, opt, val)) != CURLE_OK)            \
      goto curl_fail;                                                      \
  } while (0)

/* core.new{base_url=, api_key=|bearer=, user_agent=, ca_file=} */
int kupe_client_open(lua_State *L) {
  const char *base, *key, *bearer, *ua, *ca;
  size_t base_len, key_len = 0, bearer_len = 0, ua_len, ca_len;
  kupe_client *c;
  CURLcode rc;
  CURLSHcode src;
  int r;

  luaL_checktype(L, 1, LUA_TTABLE);
  base = opt_string(L, 1, "base_url", &base_len);
  key = opt_string(L, 1, "api_key", &key_len);
  bearer = opt_string(L, 1, "bearer", &bearer_len);
  ua = opt_string(L, 1, "user_agent", &ua_len);
  ca = opt_string(L, 1, "ca_file", &ca_len);
  if (base == NULL)
    return luaL_error(L, "kupe.core.new: option 'base_url' is required");
  if (key != NULL && bearer != NULL)
    return luaL_error(L, "kupe.core.new: give 'api_key' or 'bearer', not both");
  if ((key != NULL && (key_len == 0 || !header_safe(key, key_len))) ||
      (bearer != NULL && (bearer_len == 0 || !header_safe(bearer, bearer_len))))
    return luaL_error(L, "kupe.core.new: option '%s' must be a non-empty "
                      "string without CR, LF or NUL",
                      key != NULL ? "api_key" : "bearer");
  if ((ua != NULL && !header_safe(ua, ua_len)) ||
      (ca != NULL && !header_safe(ca, ca_len)) ||
      !header_safe(base, base_len))
    return luaL_error(L, "kupe.core.new: options must not contain CR, LF "
                      "or NUL");

  c = lua_newuserdatauv(L, sizeof(*c), 0);
  memset(c, 0, sizeof(*c));
  kupe_buffer_init(&c->body);
  kupe_buffer_init(&c->head);
  luaL_setmetatable(L, KUPE_CLIENT_MT);

  r = set_origin(c, base, base_len);
  if (r == -1)
    return luaL_error(L, "kupe.core.new: option 'base_url' has no usable "
                      "host");
  if (r != 0)
    goto oom;
  if (key != NULL && make_secret(c, "x-api-key: ", key, key_len) != 0)
    goto oom;
  if (bearer != NULL &&
      make_secret(c, "Authorization: Bearer ", bearer, bearer_len) != 0)
    goto oom;
  if (ua != NULL && (c->user_agent = strdup(ua)) == NULL)
    goto oom;
  if (build_list(&c->plain, NULL, 0) != 0 ||
      build_list(&c->plain_json, NULL, 1) != 0)
    goto oom;
  if (c->secret_header != NULL &&
      (build_list(&c->auth, c->secret_header, 0) != 0 ||
       build_list(&c->auth_json, c->secret_header, 1) != 0))
    goto oom;

  c->share = curl_share_init();
  c->easy = curl_easy_init();
  if (c->share == NULL || c->easy == NULL)
    goto oom;
  if ((src = curl_share_setopt(c->share, CURLSHOPT_SHARE,
                               CURL_LOCK_DATA_DNS)) != CURLSHE_OK ||
      (src = curl_share_setopt(c->share, CURLSHOPT_SHARE,
                               CURL_LOCK_DATA_SSL_SESSION)) != CURLSHE_OK ||
      (src = curl_share_setopt(c->share, CURLSHOPT_SHARE,
                               CURL_LOCK_DATA_CONNECT)) != CURLSHE_OK) {
    client_release(c);
    return luaL_error(L, "kupe.core.new: curl_share_setopt: %s",
                      curl_share_strerror(src));
  }

  SETOPT(CURLOPT_SHARE, c->share);
  SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
  SETOPT(CURLOPT_NOSIGNAL, 1L);
  SETOPT(CURLOPT_NOPROGRESS, 1L);
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L); /* redirects: the pipeline decides */
  SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl decodes */
  SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
  SETOPT(CURLOPT_BUFFERSIZE, 128L * 1024L); /* fewer callbacks on exports */
  if (ua != NULL)
    SETOPT(CURLOPT_USERAGENT, ua);
  if (ca != NULL)
    SETOPT(CURLOPT_CAINFO, ca);
  if ((rc = kupe_transfer_setup(c)) != CURLE_OK)
    goto curl_fail;
  return 1;

curl_fail:
  client_release(c);
  return luaL_error(L, "kupe.core.new: curl_easy_setopt: %s",
                    curl_easy_strerror(rc));
oom:
  client_release(c);
  return luaL_error(L, "kupe.core.new: out of memory");
}

static int client_close(lua_State *L) {
  kupe_client *c = luaL_checkudata(L, 1, KUPE_CLIENT_MT);
  client_release(c);
  return 0;
}

static int client_is_closed(lua_State *L) {
  kupe_client *c = luaL_checkudata(L, 1, KUPE_CLIENT_MT);
  lua_pushboolean(L, c->easy == NULL);
  return 1;
}

static int client_tostring(lua_State *L) {
  kupe_client *c = luaL_checkudata(L, 1, KUPE_CLIENT_MT);
  if (c->easy == NULL)
    lua_pushliteral(L, "kupe.client (closed)");
  else
    lua_pushfstring(L, "kupe.client (%s)", c->origin);
  return 1;
}

static const luaL_Reg client_methods[] = {
  {"request", kupe_request},
  {"render_head", kupe_render_head},
  {"close", client_close},
  {"is_closed", client_is_closed},
  {NULL, NULL}
};

static const luaL_Reg client_meta[] = {
  {"__gc", client_close},
  {"__close", client_close},
  {"__tostring", client_tostring},
  {NULL, NULL}
};

void kupe_client_register(lua_State *L) {
  luaL_newmetatable(L, KUPE_CLIENT_MT);   /* mt */
  luaL_setfuncs(L, client_meta, 0);
  luaL_newlib(L, client_methods);         /* mt, methods */
  lua_setfield(L, -2, "__index");         /* mt */
  lua_pushliteral(L, "the credential is not readable");
  lua_setfield(L, -2, "__metatable");     /* hides the metatable */
  lua_pop(L, 1);
}
