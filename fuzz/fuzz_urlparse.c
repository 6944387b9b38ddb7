/*
 * fuzz_urlparse.c: URL splitting and dot-segment removal (src/urlparse.c),
 * which render.c applies to URLs a server can choose (a redirect).
 *
 * Split, on the input as a C string without blanks or controls (the
 * caller's precondition; other bytes are dropped): on success the host is
 * non-empty and inside the input, holds no '/', '?', '#' or '@', only
 * name or address characters, and is bracketed exactly when it is IPv6; the port is 1..65535 (default_port
 * matching the scheme's); the path starts at the host's end and holds no
 * '?' or '#'; the query follows a '?' and holds no '#'.
 * Remove dots, on the path (or the raw bytes after a '/'): the result is
 * no longer, starts with '/', has no "." or ".." segment left, and a
 * second pass changes nothing.
 *
 * Built with: src/urlparse.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "urlparse.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond))                                                           \
      abort();                                                             \
  } while (0)

static int inside(const char *s, size_t n, const char *p, size_t len) {
  return p >= s && p <= s + n && len <= (size_t)(s + n - p);
}

static void check_dots(const char *in, size_t n) {
  char *a = malloc(n + 1), *b;
  size_t la, lb, i;
  CHECK(a != NULL);
  a[0] = '/';
  memcpy(a + 1, in, n);
  la = kupe_url_remove_dots(a, n + 1);
  CHECK(la >= 1 && la <= n + 1 && a[0] == '/');
  for (i = 0; i < la; i++) {
    if (a[i] != '/')
      continue;
    /* No "/." or "/.." segment (followed by '/' or the end) is left. */
    CHECK(!(i + 1 < la && a[i + 1] == '.' && (i + 2 == la || a[i + 2] == '/')));
    CHECK(!(i + 2 < la && a[i + 1] == '.' && a[i + 2] == '.' &&
            (i + 3 == la || a[i + 3] == '/')));
  }
  b = malloc(la);
  CHECK(b != NULL);
  memcpy(b, a, la);
  lb = kupe_url_remove_dots(b, la);
  CHECK(lb == la && memcmp(a, b, la) == 0);
  free(b);
  free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *url = malloc(size + 1);
  size_t n = 0, i;
  kupe_url_parts u;
  const char *why;
  CHECK(url != NULL);
  for (i = 0; i < size; i++)
    if (data[i] > ' ' && data[i] != 0x7f)
      url[n++] = (char)data[i];
  url[n] = '\0';
  why = kupe_url_split(url, &u);
  if (why == NULL) {
    CHECK(u.host_len > 0 && inside(url, n, u.host, u.host_len));
    CHECK(memchr(u.host, '/', u.host_len) == NULL);
    CHECK(memchr(u.host, '?', u.host_len) == NULL);
    CHECK(memchr(u.host, '#', u.host_len) == NULL);
    CHECK(memchr(u.host, '@', u.host_len) == NULL);
    CHECK((u.host[0] == '[') == (u.host[u.host_len - 1] == ']'));
    for (i = 0; i < u.host_len; i++) /* no byte a name look-up could choke on */
      CHECK(strchr("[]:.-_", u.host[i]) != NULL ||
            (u.host[i] >= '0' && u.host[i] <= '9') ||
            (u.host[i] >= 'a' && u.host[i] <= 'z') ||
            (u.host[i] >= 'A' && u.host[i] <= 'Z'));
    CHECK(u.port >= 1 && u.port <= 65535);
    CHECK(u.default_port == (u.port == (u.tls ? 443 : 80)));
    CHECK(inside(url, n, u.path, u.path_len));
    CHECK(u.path_len == 0 || u.path[0] == '/');
    CHECK(memchr(u.path, '?', u.path_len) == NULL);
    CHECK(memchr(u.path, '#', u.path_len) == NULL);
    if (u.query != NULL) {
      CHECK(u.query[-1] == '?' && inside(url, n, u.query, u.query_len));
      CHECK(memchr(u.query, '#', u.query_len) == NULL);
    }
    if (u.path_len > 0)
      check_dots(u.path + 1, u.path_len - 1);
  } else {
    CHECK(strlen(why) > 0);
  }
  check_dots((const char *)data, size);
  free(url);
  return 0;
}
