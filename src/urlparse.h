/*
 * urlparse.h: splitting an absolute http(s) URL and removing dot segments
 * from its path, for the request heads render.c writes. The URL may come
 * from a server (a redirect's Location, resolved against the request), so
 * this is parsing of untrusted bytes: pure C, no Lua, fuzzed alone.
 */
#ifndef KUPE_URLPARSE_H
#define KUPE_URLPARSE_H

#include <stddef.h>

/* A URL split into pointers into the caller's string (nothing owned). */
typedef struct kupe_url_parts {
  int tls;
  const char *host;   /* with IPv6 brackets */
  size_t host_len;
  long port;
  int default_port;   /* port is the scheme's: Host leaves it out */
  const char *path;   /* from the first '/' (or empty) to '?' or '#' */
  size_t path_len;
  const char *query;  /* after '?' up to '#', or NULL */
  size_t query_len;
} kupe_url_parts;

/* Splits a NUL-terminated absolute http(s) URL; returns NULL, or a message
 * saying what is wrong. The caller has checked it holds no blanks or
 * control characters. */
const char *kupe_url_split(const char *url, kupe_url_parts *u);

/* RFC 3986 5.2.4 remove_dot_segments, in place on the n bytes at s, which
 * start with '/' (the result is never longer); returns the new length. */
size_t kupe_url_remove_dots(char *s, size_t n);

#endif
