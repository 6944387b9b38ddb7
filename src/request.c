/*
 * request.c: conn:request(method, url, opts), one HTTP exchange.
 *
 * Returns status, body, head, content_type, bytes on any HTTP answer (the
 * body is nil when it went to a sink; bytes counts the body either way), or nil, kind, message, sent on failure.
 * Caller mistakes (a bad method, a header that could split the request, a
 * negative timeout) raise before anything is sent.
 *
 * Memory: everything allocated here (a temporary header list, a MIME
 * structure) is freed on every path before returning or raising; values
 * libcurl keeps pointers to (body, sink path) are strings held on the Lua
 * stack for the whole call.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "fieldtext.h"
#include "kupe.h"

/* Values read from the options table; strings point into Lua strings that
 * stay on the stack until the request returns. */
typedef struct req_opts {
  const char *body;
  size_t body_len;
  const char *content_type;
  int headers_idx;   /* 0 if none */
  int form_idx;      /* 0 if none */
  long timeout_ms, connect_timeout_ms, stall_limit, stall_time;
  curl_off_t max_size;
} req_opts;

/* The options conn:request reads, in the order they are checked. Each
 * gets a stack slot, OPT_BASE + its number, holding its value (or nil)
 * for the whole call, which keeps strings and functions alive. */
enum {
  OPT_BODY, OPT_CONTENT_TYPE, OPT_HEADERS, OPT_FORM, OPT_TIMEOUT,
  OPT_CONNECT_TIMEOUT, OPT_STALL_LIMIT, OPT_STALL_TIME, OPT_MAX_SIZE,
  OPT_SINK, OPT_PROGRESS, OPT_SINK_TYPE, OPT_COUNT
};
#define OPT_BASE 5
#define OPT_NAME(s) {s, sizeof(s) - 1}
static const struct {
  const char *name;
  size_t len;
} opt_names[OPT_COUNT] = {
  OPT_NAME("body"), OPT_NAME("content_type"), OPT_NAME("headers"),
  OPT_NAME("form"), OPT_NAME("timeout"), OPT_NAME("connect_timeout"),
  OPT_NAME("stall_limit"), OPT_NAME("stall_time"), OPT_NAME("max_size"),
  OPT_NAME("sink"), OPT_NAME("progress"), OPT_NAME("sink_type")
};

static int opt_index(const char *k, size_t n) {
  int i;
  for (i = 0; i < OPT_COUNT; i++)
    if (opt_names[i].len == n && memcmp(opt_names[i].name, k, n) == 0)
      return i;
  return -1;
}

/* Fills the option slots from the table at index 4 in one pass over it
 * (a dozen lua_getfield calls cost more than the few fields set). A table
 * with a metatable is read field by field, so that __index still works. */
static void gather_options(lua_State *L) {
  size_t n;
  const char *k;
  int i;
  luaL_checkstack(L, OPT_COUNT + 8, "request: options");
  lua_settop(L, OPT_BASE + OPT_COUNT - 1);   /* the slots, all nil */
  if (lua_getmetatable(L, 4)) {
    lua_pop(L, 1);
    for (i = 0; i < OPT_COUNT; i++) {
      lua_getfield(L, 4, opt_names[i].name);
      lua_replace(L, OPT_BASE + i);
    }
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, 4) != 0) {              /* slots, key, value */
    if (lua_type(L, -2) == LUA_TSTRING) {
      k = lua_tolstring(L, -2, &n);
      if ((i = opt_index(k, n)) >= 0) {
        lua_pushvalue(L, -1);
        lua_replace(L, OPT_BASE + i);
      }
    }
    lua_pop(L, 1);                           /* slots, key */
  }
}

/* Reads a non-negative number of seconds as milliseconds; absent is 0. */
static long opt_ms(lua_State *L, int opt) {
  int slot = OPT_BASE + opt;
  lua_Number v;
  long ms = 0;
  if (!lua_isnil(L, slot)) {
    if (lua_type(L, slot) != LUA_TNUMBER)
      luaL_error(L, "request: option '%s' must be a number",
                 opt_names[opt].name);
    v = lua_tonumber(L, slot);
    if (!(v >= 0 && v <= 31536000))
      luaL_error(L, "request: option '%s' must be between 0 and a year",
                 opt_names[opt].name);
    ms = (long)ceil(v * 1000.0);
  }
  return ms;
}

static lua_Number opt_count(lua_State *L, int opt, lua_Number max) {
  int slot = OPT_BASE + opt;
  lua_Number v = 0;
  if (!lua_isnil(L, slot)) {
    if (lua_type(L, slot) != LUA_TNUMBER)
      luaL_error(L, "request: option '%s' must be a number",
                 opt_names[opt].name);
    v = lua_tonumber(L, slot);
    if (!(v >= 0 && v <= max))
      luaL_error(L, "request: option '%s' is out of range",
                 opt_names[opt].name);
  }
  return v;
}

/* Returns the slot of an option that is set (its value stays there for
 * the whole call), or 0; raises when it has neither type. */
static int opt_keep(lua_State *L, int opt, int type1, int type2) {
  int slot = OPT_BASE + opt, t = lua_type(L, slot);
  if (t == LUA_TNIL)
    return 0;
  if (t != type1 && t != type2)
    luaL_error(L, "request: option '%s' has the wrong type (%s)",
               opt_names[opt].name, lua_typename(L, t));
  return slot;
}

static int valid_method(const char *m, size_t n) {
  size_t i;
  if (n == 0 || n > 16)
    return 0;
  for (i = 0; i < n; i++)
    if (m[i] < 'A' || m[i] > 'Z')
      return 0;
  return 1;
}

static int valid_url(const char *u, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)u[i];
    if (ch <= ' ' || ch == 0x7f)
      return 0; /* controls and blanks: nothing may be smuggled */
  }
  return n > 0;
}

/* An absolute http(s) URL: libcurl would otherwise guess a scheme for
 * "x" or "1.5" and look the name up, or connect to 1.0.0.5. */
static int has_http_scheme(const char *u, size_t n) {
  return (n > 7 && strncasecmp(u, "http://", 7) == 0) ||
         (n > 8 && strncasecmp(u, "https://", 8) == 0);
}

/* Header names the client manages itself. */
static int reserved_name(const char *name, size_t n) {
  static const char *const names[] = {"x-api-key", "authorization", "host",
                                      "content-length", "transfer-encoding",
                                      NULL};
  int i;
  for (i = 0; names[i] != NULL; i++)
    if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
      return 1;
  return 0;
}

/* Copies base into a fresh list; returns NULL when memory ran out. */
static struct curl_slist *copy_list(const struct curl_slist *base,
                                    int *failed) {
  struct curl_slist *out = NULL, *l;
  for (; base != NULL; base = base->next) {
    l = curl_slist_append(out, base->data);
    if (l == NULL) {
      *failed = 1;
      return out;
    }
    out = l;
  }
  return out;
}

static void free_list(struct curl_slist *l, int wipe) {
  struct curl_slist *p;
  if (wipe)
    for (p = l; p != NULL; p = p->next)
      kupe_wipe(p->data, strlen(p->data));
  curl_slist_free_all(l);
}

/*
 * Validates the caller's headers (a map of name -> string) and, when
 * there are any or the content type is not JSON, builds a temporary list
 * on top of the cached one. Raises for a bad header: nothing is sent.
 */
static void check_headers(lua_State *L, int idx) {
  size_t nlen, vlen;
  const char *name, *value;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "request: header names must be strings");
    name = lua_tolstring(L, -2, &nlen);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "request: header '%s' must have a string value", name);
    value = lua_tolstring(L, -1, &vlen); /* a number becomes a string */
    if (nlen == 0 || nlen > 256)
      luaL_error(L, "request: a header name is empty or too long");
    if (!kupe_field_ok(KUPE_FIELD_NAME, name, nlen))
      luaL_error(L, "request: header name '%s' is not a valid token", name);
    if (!kupe_field_ok(KUPE_FIELD_VALUE, value, vlen))
      luaL_error(L, "request: header '%s' contains CR, LF or NUL", name);
    if (reserved_name(name, nlen))
      luaL_error(L, "request: header '%s' is managed by the client", name);
    lua_pop(L, 1);
  }
}

static int append_line(struct curl_slist **list, const char *a, size_t alen,
                       const char *b, size_t blen) {
  kupe_buffer line;
  struct curl_slist *l;
  kupe_buffer_init(&line);
  if (kupe_buffer_append(&line, a, alen) != 0 ||
      kupe_buffer_append(&line, ": ", 2) != 0 ||
      kupe_buffer_append(&line, b, blen) != 0 ||
      kupe_buffer_putc(&line, '\0') != 0) {
    kupe_buffer_free(&line);
    return -1;
  }
  l = curl_slist_append(*list, line.data);
  kupe_buffer_free(&line);
  if (l == NULL)
    return -1;
  *list = l;
  return 0;
}

static struct curl_slist *build_headers(lua_State *L, kupe_client *c,
                                        int auth, const req_opts *o,
                                        int *failed) {
  struct curl_slist *list = copy_list(auth ? c->auth : c->plain, failed);
  size_t nlen, vlen;
  const char *name, *value;
  if (*failed)
    return list;
  if (o->content_type != NULL &&
      append_line(&list, "Content-Type", 12, o->content_type,
                  strlen(o->content_type)) != 0) {
    *failed = 1;
    return list;
  }
  if (o->headers_idx == 0)
    return list;
  lua_pushnil(L);
  while (lua_next(L, o->headers_idx) != 0) {
    name = lua_tolstring(L, -2, &nlen);
    value = lua_tolstring(L, -1, &vlen);
    lua_pop(L, 1);
    if (append_line(&list, name, nlen, value, vlen) != 0) {
      lua_pop(L, 1);
      *failed = 1;
      return list;
    }
  }
  return list;
}

#define TRY(expr)                                                          \
  do {                                                                     \
    if ((rc = (expr)) != CURLE_OK)                                         \
      goto setopt_failed;                                                  \
  } while (0)

/* Applies an option only when it differs from what the handle has. */
#define APPLY(field, opt, value)                                           \
  do {                                                                     \
    if (c->field != (value)) {                                             \
      TRY(curl_easy_setopt(c->easy, opt, value));                          \
      c->field = (value);                                                  \
    }                                                                      \
  } while (0)

static CURLcode set_method(kupe_client *c, const char *m, const req_opts *o,
                           curl_mime *mime) {
  CURLcode rc = CURLE_OK;
  int is_get = strcmp(m, "GET") == 0, is_head = strcmp(m, "HEAD") == 0;
  int is_post = strcmp(m, "POST") == 0;
  int is_patch = strcmp(m, "PATCH") == 0;
  int wants_body = o->body != NULL || is_post || strcmp(m, "PUT") == 0 ||
                   is_patch;
  /* libcurl silently re-sends a request whose reused connection dies
   * before any answer (it assumes the server closed an idle connection).
   * If the server had read it, a POST would run twice: a call placed
   * twice rings a person twice. A non-idempotent request therefore always
   * goes on a fresh connection, where libcurl never repeats it; the
   * connection is kept for the requests after it. */
  long fresh = (is_post || is_patch) ? 1L : 0L;
  if (c->fresh != fresh) {
    TRY(curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, fresh));
    c->fresh = fresh;
  }
  if (c->nobody && !is_head) {
    TRY(curl_easy_setopt(c->easy, CURLOPT_NOBODY, 0L));
    c->nobody = 0;
  }
  if (mime != NULL) {
    TRY(curl_easy_setopt(c->easy, CURLOPT_MIMEPOST, mime));
  } else if (is_head) {
    TRY(curl_easy_setopt(c->easy, CURLOPT_NOBODY, 1L));
    c->nobody = 1;
  } else if (wants_body && !is_get) {
    /* POSTFIELDS (no copy: the string lives on the Lua stack) */
    TRY(curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS,
                         o->body != NULL ? o->body : ""));
    TRY(curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(o->body != NULL ? o->body_len : 0)));
  } else {
    TRY(curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L));
  }
  TRY(curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST,
                       (is_get || is_post || is_head) ? NULL : m));
setopt_failed:
  return rc;
}

/* Releases what one request allocated. The handle is pointed back at
 * memory that outlives the call first; setting a pointer option cannot
 * fail, so those results carry no information. */
static void finish(kupe_client *c, kupe_transfer *t, curl_mime *mime,
                   struct curl_slist *temp, int auth) {
  kupe_transfer_end(t);
  if (mime != NULL) {
    (void)curl_easy_setopt(c->easy, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(mime);
  }
  if (temp != NULL) {
    (void)curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->plain);
    free_list(temp, auth);
  }
}

/* Pushes the failure for a perform that did not return CURLE_OK. */
static int push_failure(lua_State *L, kupe_client *c, kupe_transfer *t,
                        CURLcode code) {
  long req_size = 0;
  int sent;
  char msg[CURL_ERROR_SIZE + 96];
  if (curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &req_size) !=
      CURLE_OK)
    req_size = 1; /* unknown: assume it may have been sent */
  sent = req_size > 0;
  if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
    snprintf(msg, sizeof(msg), "the response is larger than max_size "
             "(%" CURL_FORMAT_CURL_OFF_T " bytes)", t->max_size);
    return kupe_error_push(L, "too_large", msg, sent);
  }
  if (t->aborted || t->io_failed)
    return kupe_error_push(L, t->aborted ? "aborted" : "io",
                           t->why.data != NULL ? t->why.data
                                               : "the transfer was aborted",
                           sent);
  /* Every URL reaching libcurl is http(s) (checked before), so once the
   * request has left, "unsupported protocol" is libcurl refusing the
   * answer's status line ("Unsupported HTTP version in response"): a
   * broken answer, as the nginx transport reports it, not a bad URL. */
  return kupe_error_push(L,
                         code == CURLE_UNSUPPORTED_PROTOCOL && sent
                             ? "network"
                             : kupe_error_kind(code),
                         c->errbuf[0] ? c->errbuf : curl_easy_strerror(code),
                         sent);
}

int kupe_request(lua_State *L) {
  kupe_client *c = kupe_client_check(L, 1);
  size_t mlen, ulen;
  const char *method = luaL_checklstring(L, 2, &mlen);
  const char *url = luaL_checklstring(L, 3, &ulen);
  req_opts o;
  kupe_transfer t;
  struct curl_slist *temp = NULL, *list;
  curl_mime *mime = NULL;
  int auth, failed = 0, nret, is_io = 0, sink_idx, progress_idx, slot;
  const char *sink_type = NULL;
  long status = 0;
  char *ct = NULL;
  CURLcode rc;

  if (!valid_method(method, mlen))
    return luaL_argerror(L, 2, "an upper-case HTTP method");
  if (!valid_url(url, ulen)) /* NUL included: it is a control byte */
    return luaL_argerror(L, 3, "a URL without blanks or control characters");
  memset(&o, 0, sizeof(o));
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    gather_options(L);
    if ((slot = opt_keep(L, OPT_BODY, LUA_TSTRING, LUA_TSTRING)) != 0)
      o.body = lua_tolstring(L, slot, &o.body_len);
    if ((slot = opt_keep(L, OPT_CONTENT_TYPE, LUA_TSTRING, LUA_TSTRING))) {
      size_t n;
      o.content_type = lua_tolstring(L, slot, &n);
      if (!kupe_field_ok(KUPE_FIELD_VALUE, o.content_type, n))
        return luaL_error(L, "request: content_type contains CR, LF or NUL");
    }
    o.headers_idx = opt_keep(L, OPT_HEADERS, LUA_TTABLE, LUA_TTABLE);
    o.form_idx = opt_keep(L, OPT_FORM, LUA_TTABLE, LUA_TTABLE);
    o.timeout_ms = opt_ms(L, OPT_TIMEOUT);
    o.connect_timeout_ms = opt_ms(L, OPT_CONNECT_TIMEOUT);
    o.stall_limit = (long)opt_count(L, OPT_STALL_LIMIT, 1e12);
    o.stall_time = (long)opt_count(L, OPT_STALL_TIME, 31536000);
    o.max_size = (curl_off_t)opt_count(L, OPT_MAX_SIZE, 9e15);
    sink_idx = opt_keep(L, OPT_SINK, LUA_TSTRING, LUA_TFUNCTION);
    if (sink_idx != 0 && lua_type(L, sink_idx) == LUA_TSTRING) {
      size_t n;
      const char *p = lua_tolstring(L, sink_idx, &n);
      if (n == 0 || strlen(p) != n)
        return luaL_error(L, "request: option 'sink' must be a non-empty "
                          "file path without NUL bytes");
    }
    progress_idx = opt_keep(L, OPT_PROGRESS, LUA_TFUNCTION, LUA_TFUNCTION);
    if ((slot = opt_keep(L, OPT_SINK_TYPE, LUA_TSTRING, LUA_TSTRING)) != 0) {
      size_t n;
      sink_type = lua_tolstring(L, slot, &n);
      if (strlen(sink_type) != n)
        return luaL_error(L, "request: option 'sink_type' contains NUL");
    }
    if (o.headers_idx)
      check_headers(L, o.headers_idx);
  } else {
    sink_idx = progress_idx = 0;
  }
  if ((o.stall_limit > 0) != (o.stall_time > 0))
    return luaL_error(L, "request: 'stall_limit' and 'stall_time' go "
                      "together");

  if (!has_http_scheme(url, ulen))
    return kupe_error_push(L, "invalid_url", "the URL must start with "
                           "http:// or https://", 0);

  /* Everything that can raise has run; from here on, free before return. */
  auth = c->secret_header != NULL && kupe_client_same_origin(c, url);
  if (o.headers_idx != 0 ||
      (o.content_type != NULL && strcmp(o.content_type, "application/json"))) {
    temp = build_headers(L, c, auth, &o, &failed);
    list = temp;
  } else if (o.content_type != NULL) {
    list = auth ? c->auth_json : c->plain_json;
  } else {
    list = auth ? c->auth : c->plain;
  }
  if (failed) {
    free_list(temp, auth);
    return kupe_error_push(L, "internal", "out of memory", 0);
  }
  if (o.form_idx != 0) {
    mime = kupe_form_build(L, c->easy, o.form_idx, &is_io);
    if (mime == NULL) {
      /* message on the stack top */
      const char *why = lua_tostring(L, -1);
      free_list(temp, auth);
      if (!is_io)
        return luaL_error(L, "request: option 'form': %s", why);
      return kupe_error_push(L, is_io == 2 ? "internal" : "io", why, 0);
    }
  }

  if ((rc = kupe_transfer_begin(&t, L, c)) != CURLE_OK)
    goto setopt_failed;
  t.max_size = o.max_size;
  if (sink_idx != 0) {
    if (lua_type(L, sink_idx) == LUA_TSTRING)
      t.path = lua_tostring(L, sink_idx);
    else
      t.sink_idx = sink_idx;
  }
  t.progress_idx = progress_idx;
  t.sink_type = sink_type;
  c->errbuf[0] = '\0';
  TRY(curl_easy_setopt(c->easy, CURLOPT_URL, url));
  TRY(curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, list));
  TRY(set_method(c, method, &o, mime));
  APPLY(timeout_ms, CURLOPT_TIMEOUT_MS, o.timeout_ms);
  APPLY(connect_timeout_ms, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
  APPLY(stall_limit, CURLOPT_LOW_SPEED_LIMIT, o.stall_limit);
  APPLY(stall_time, CURLOPT_LOW_SPEED_TIME, o.stall_time);
  /* max_size bounds what is held in memory; a sink streams unbounded, so
   * libcurl's own limit (which would also cut the sink) is set only when
   * there is no sink. The write callback checks buffered bodies. */
  APPLY(max_size, CURLOPT_MAXFILESIZE_LARGE,
        sink_idx != 0 ? (curl_off_t)0 : o.max_size);

  rc = curl_easy_perform(c->easy);

  if (t.file != NULL) {
    if (fclose(t.file) != 0 && rc == CURLE_OK) {
      kupe_transfer_why(&t, "closing the sink file failed");
      t.io_failed = 1;
      rc = CURLE_WRITE_ERROR;
    }
    t.file = NULL;
  }
  if (rc == CURLE_OK &&
      (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) !=
           CURLE_OK ||
       curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK))
    rc = CURLE_BAD_FUNCTION_ARGUMENT;
  if (rc != CURLE_OK) {
    nret = push_failure(L, c, &t, rc);
  } else {
    lua_pushinteger(L, (lua_Integer)status);
    if (t.to_sink)
      lua_pushnil(L);
    else
      lua_pushlstring(L, c->body.data ? c->body.data : "", c->body.len);
    lua_pushlstring(L, c->head.data ? c->head.data : "", c->head.len);
    if (ct != NULL)
      lua_pushstring(L, ct);
    else
      lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)t.received);
    nret = 5;
  }
  finish(c, &t, mime, temp, auth);
  return nret;

setopt_failed:
  finish(c, &t, mime, temp, auth);
  return kupe_error_push(L, "internal", curl_easy_strerror(rc), 0);
}

/* The checks above, for render.c: a head it renders must meet the same
 * rules as a request libcurl sends. */
int kupe_request_valid_method(const char *m, size_t n) {
  return valid_method(m, n);
}

int kupe_request_valid_url(const char *u, size_t n) {
  return valid_url(u, n);
}

void kupe_request_check_headers(lua_State *L, int idx) {
  check_headers(L, idx);
}
