/*
 * kupe.h: declarations shared by the C core's files. Everything here has
 * hidden visibility: the only exported symbol is luaopen_kupe_core, so
 * the module cannot collide with others loaded in the same nginx worker.
 */
#ifndef KUPE_H
#define KUPE_H

#include <curl/curl.h>

#include "buffer.h"
#include "compat.h"

#define KUPE_VERSION "0.1.0"
#define KUPE_CLIENT_MT "kupe.client"
#define KUPE_INFLATER_MT "kupe.inflater"

/* Bodies up to this size keep their buffer between requests. */
#define KUPE_BUFFER_KEEP (1024 * 1024)

/*
 * The connection: one easy handle reused for every request (keep-alive),
 * a share handle for the DNS, TLS-session and connection caches, and the
 * credential. The credential exists only as the header line inside
 * secret_header and the two slists built from it; close() wipes all three.
 * Every pointer is NULL once closed.
 */
typedef struct kupe_client {
  CURL *easy;
  CURLSH *share;
  char *secret_header;           /* "x-api-key: ..." / "Authorization: ..." */
  char *origin;                  /* "https://host:port" of the base URL */
  size_t origin_len;
  struct curl_slist *plain;      /* Accept, Expect: (no credential) */
  struct curl_slist *plain_json; /* plain + Content-Type: application/json */
  struct curl_slist *auth;       /* plain + credential */
  struct curl_slist *auth_json;  /* auth + Content-Type: application/json */
  kupe_buffer body;              /* response body, reused */
  kupe_buffer head;              /* response head, reused */
  /* Options as last applied, so an unchanged value costs no setopt. */
  long timeout_ms, connect_timeout_ms, stall_limit, stall_time;
  curl_off_t max_size;
  int nobody;                    /* the last request was a HEAD */
  long fresh;                    /* CURLOPT_FRESH_CONNECT as last set */
  char errbuf[CURL_ERROR_SIZE];
  /* For render.c: the User-Agent (NULL when none was given), and the pool
   * fingerprint of the credential (empty until the first render). */
  char *user_agent;
  char fingerprint[33];
} kupe_client;

/* client.c */
int kupe_client_open(lua_State *L);
kupe_client *kupe_client_check(lua_State *L, int idx);
void kupe_client_register(lua_State *L);
/* 1 if url belongs to the base URL's origin, so the credential may go. */
int kupe_client_same_origin(const kupe_client *c, const char *url);

/* request.c */
int kupe_request(lua_State *L);
/* The validation conn:request applies, shared with render.c; the header
 * check raises for a bad caller header. */
int kupe_request_valid_method(const char *m, size_t n);
int kupe_request_valid_url(const char *u, size_t n);
void kupe_request_check_headers(lua_State *L, int idx);

/* render.c: conn:render_head(method, url, opts) */
int kupe_render_head(lua_State *L);

/* transfer.c: the per-request state libcurl's callbacks see. */
typedef struct kupe_transfer {
  lua_State *L;
  kupe_client *c;
  int sink_idx;          /* stack index of a sink function, or 0 */
  int progress_idx;      /* stack index of a progress function, or 0 */
  const char *path;      /* sink file path (a string on the Lua stack) */
  const char *sink_type; /* content type a sink accepts (prefix), or NULL */
  FILE *file;            /* the sink file, opened at the first sunk byte */
  int decided;           /* whether the first body byte was seen */
  int to_sink;           /* body goes to the sink, not to c->body */
  curl_off_t received;   /* body bytes received */
  curl_off_t max_size;   /* 0 for no limit */
  int too_large, aborted, io_failed;
  kupe_buffer why;       /* message for aborted / io_failed */
} kupe_transfer;

CURLcode kupe_transfer_setup(kupe_client *c);
CURLcode kupe_transfer_begin(kupe_transfer *t, lua_State *L, kupe_client *c);
void kupe_transfer_end(kupe_transfer *t);
/* Sets the message reported for an aborted or failed transfer. */
void kupe_transfer_why(kupe_transfer *t, const char *msg);

/* form.c: builds a curl_mime from a Lua array of parts at idx, or returns
 * NULL with a message on the stack top when a part is unusable (*is_io 0:
 * the caller raises it) or a file or memory failed (*is_io 1 or 2: the
 * caller returns it as an "io" or "internal" failure). */
curl_mime *kupe_form_build(lua_State *L, CURL *easy, int idx, int *is_io);

/* error.c */
const char *kupe_error_kind(CURLcode code);
int kupe_error_push(lua_State *L, const char *kind, const char *message,
                    int sent);

/* query.c, encode.c, jsondec.c, util.c, crypto.c, inflate.c:
 * module functions */
int kupe_encode_query(lua_State *L);
int kupe_request_url(lua_State *L);
int kupe_visible(lua_State *L);
int kupe_escape(lua_State *L);
int kupe_utf8_valid(lua_State *L);
int kupe_parse_head(lua_State *L);
int kupe_is_json_type(lua_State *L);
int kupe_json_decode(lua_State *L);
int kupe_json_mark_empty(lua_State *L);
int kupe_json_fix_empty(lua_State *L);
int kupe_now(lua_State *L);
int kupe_sleep(lua_State *L);
int kupe_getdate(lua_State *L);
int kupe_resolve_url(lua_State *L);
int kupe_hmac_sha256_hex(lua_State *L);
int kupe_equal_ct(lua_State *L);
int kupe_inflater_new(lua_State *L);
void kupe_inflater_register(lua_State *L);

/* Wipes n bytes so a secret does not linger in freed memory. */
void kupe_wipe(void *p, size_t n);

#endif
