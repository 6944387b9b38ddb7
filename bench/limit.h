/*
 * limit.h: the bench's reference client, libcurl with nothing on top.
 *
 * One easy handle reused for every request, set up with the options and
 * request headers kupe.core uses (so both send the same bytes and get the
 * same, gzip-encoded, answers), the response head and body kept in two
 * growable buffers. It decodes nothing. raw.c drives it from C and
 * rawcurl.c from Lua; neither is part of kupe-lua.
 */
#ifndef BENCH_LIMIT_H
#define BENCH_LIMIT_H

#include <stdio.h>
#include <curl/curl.h>

typedef struct limit_buf {
  char *data;
  size_t len, cap;
} limit_buf;

typedef struct limit {
  CURL *easy;
  struct curl_slist *headers;
  limit_buf head, body;
  FILE *file;          /* when set, the body goes there instead */
  long long received;  /* body bytes of the last request */
} limit;

/* Sets up l (zeroed first). key and ua may be NULL. 0 or -1. */
int limit_open(limit *l, const char *key, const char *ua);
/* One GET; returns the HTTP status, or -1 with a message in err. */
long limit_get(limit *l, const char *url, char *err, size_t errlen);
/* Frees everything; safe on a half-opened or closed l. */
void limit_close(limit *l);

#endif
