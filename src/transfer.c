/*
 * transfer.c: libcurl's write and header callbacks for one request.
 *
 * The body goes to one of three places, decided at its first byte: the
 * client's reusable buffer (the usual case), a file, or a Lua function.
 * A sink only ever receives the body of a 2xx answer that is not JSON (or,
 * when the caller names one, whose content type is sink_type):
 * an error page or a JSON answer (for example "the export will be
 * emailed") is buffered and decoded as usual, never written into a file
 * the caller expects to be a ZIP.
 *
 * Lua functions are called with lua_pcall only. An error there is kept in
 * t->why and the transfer is aborted; it is reported after
 * curl_easy_perform returns, never raised through libcurl's frames.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "head.h"
#include "kupe.h"

static void set_why(kupe_transfer *t, const char *msg, size_t n) {
  kupe_buffer_reset(&t->why, 0);
  if (kupe_buffer_append(&t->why, msg, n) != 0 ||
      kupe_buffer_putc(&t->why, '\0') != 0)
    kupe_buffer_free(&t->why); /* the caller then reports a generic text */
}

void kupe_transfer_why(kupe_transfer *t, const char *msg) {
  set_why(t, msg, strlen(msg));
}

/* At the first body byte: sink or buffer? The file is created only now,
 * so an answer that is not for the sink leaves no file behind. */
static int decide(kupe_transfer *t) {
  long status = 0;
  char *ct = NULL;
  t->decided = 1;
  if (t->sink_idx == 0 && t->path == NULL)
    return 0;
  if (curl_easy_getinfo(t->c->easy, CURLINFO_RESPONSE_CODE, &status) !=
          CURLE_OK ||
      curl_easy_getinfo(t->c->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
    return 0;
  t->to_sink = status >= 200 && status < 300 &&
               (t->sink_type != NULL
                    ? ct != NULL &&
                          strncasecmp(ct, t->sink_type, strlen(t->sink_type)) == 0
                    : !kupe_head_is_json_type(ct));
  if (t->to_sink && t->path != NULL) {
    t->file = fopen(t->path, "wb");
    if (t->file == NULL) {
      char msg[256];
      snprintf(msg, sizeof(msg), "cannot open the sink file: %s",
               strerror(errno));
      kupe_transfer_why(t, msg);
      t->io_failed = 1;
      return -1;
    }
  }
  return 0;
}

/* Calls the function at stack index fn with nargs values already pushed;
 * 0 to go on, -1 to abort (error or an explicit false, whose reason is
 * the function's second result, else `refused`). */
static int call_lua(kupe_transfer *t, int nargs, const char *refused) {
  lua_State *L = t->L;
  if (lua_pcall(L, nargs, 2, 0) != LUA_OK) {
    size_t n;
    const char *msg = lua_tolstring(L, -1, &n);
    if (msg == NULL)
      msg = "(error object is not a string)", n = strlen(msg);
    set_why(t, msg, n);
    lua_pop(L, 1);
    return -1;
  }
  if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
    size_t n = 0;
    const char *msg = lua_tolstring(L, -1, &n);
    if (msg == NULL)
      msg = refused, n = strlen(msg);
    set_why(t, msg, n);
    lua_pop(L, 2);
    return -1;
  }
  lua_pop(L, 2);
  return 0;
}

static int report_progress(kupe_transfer *t) {
  curl_off_t total = -1;
  lua_State *L = t->L;
  if (t->progress_idx == 0)
    return 0;
  if (!lua_checkstack(L, 4))
    return -1;
  curl_easy_getinfo(t->c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total);
  lua_pushvalue(L, t->progress_idx);
  lua_pushinteger(L, (lua_Integer)t->received);
  if (total >= 0)
    lua_pushinteger(L, (lua_Integer)total);
  else
    lua_pushnil(L);
  return call_lua(t, 2, "the progress function returned false");
}

static size_t on_write(char *data, size_t size, size_t n, void *ud) {
  kupe_transfer *t = ud;
  size_t len = size * n;
  if (!t->decided && decide(t) != 0)
    return 0;
  if (!t->to_sink && t->max_size > 0 &&
      (curl_off_t)t->c->body.len + (curl_off_t)len > t->max_size) {
    t->too_large = 1; /* chunked bodies have no length to check upfront */
    return 0;
  }
  t->received += (curl_off_t)len;
  if (!t->to_sink) {
    if (kupe_buffer_append(&t->c->body, data, len) != 0) {
      set_why(t, "out of memory", 13);
      t->io_failed = 1;
      return 0;
    }
  } else if (t->file != NULL) {
    if (fwrite(data, 1, len, t->file) != len) {
      char msg[256];
      snprintf(msg, sizeof(msg), "writing the sink file failed: %s",
               strerror(errno));
      kupe_transfer_why(t, msg);
      t->io_failed = 1;
      return 0;
    }
  } else {
    if (!lua_checkstack(t->L, 4)) {
      t->aborted = 1;
      set_why(t, "Lua stack overflow", 18);
      return 0;
    }
    lua_pushvalue(t->L, t->sink_idx);
    lua_pushlstring(t->L, data, len);
    if (call_lua(t, 1, "the sink returned false") != 0) {
      t->aborted = 1;
      return 0;
    }
  }
  if (report_progress(t) != 0) {
    t->aborted = 1;
    return 0;
  }
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  kupe_transfer *t = ud;
  size_t len = size * n;
  /* A new status line starts a new head (after a 100 Continue). */
  if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
    kupe_buffer_reset(&t->c->head, KUPE_BUFFER_KEEP);
  if (kupe_buffer_append(&t->c->head, data, len) != 0)
    return 0;
  return len;
}

CURLcode kupe_transfer_setup(kupe_client *c) {
  /* Function pointers never change; the data pointers are set per
   * request, since the transfer state lives on the caller's C stack. */
  CURLcode rc = curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
  return rc;
}

CURLcode kupe_transfer_begin(kupe_transfer *t, lua_State *L,
                             kupe_client *c) {
  CURLcode rc;
  memset(t, 0, sizeof(*t));
  t->L = L;
  t->c = c;
  kupe_buffer_init(&t->why);
  kupe_buffer_reset(&c->body, KUPE_BUFFER_KEEP);
  kupe_buffer_reset(&c->head, KUPE_BUFFER_KEEP);
  rc = curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, t);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, t);
  return rc;
}

/* The data pointers are left dangling on purpose: callbacks run only
 * inside curl_easy_perform, and every perform sets them anew. */
void kupe_transfer_end(kupe_transfer *t) {
  if (t->file != NULL) { /* error paths; request.c closes it otherwise */
    fclose(t->file);
    t->file = NULL;
  }
  kupe_buffer_free(&t->why);
}
