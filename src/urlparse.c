/*
 * urlparse.c: URL splitting and dot-segment removal for render.c. Every
 * pointer handed out points into the caller's string; nothing is read
 * past its NUL (split) or past n (remove_dots).
 */
#include <string.h>
#include <strings.h>

#include "urlparse.h"

/* A host name (letters, digits, '.', '-', '_'; an IDN comes as punycode)
 * or a bracketed IPv6 address (hex digits, ':' and '.'): nothing else
 * may reach a name look-up or a Host header. */
static int host_ok(const char *h, size_t n) {
  size_t i;
  int v6 = h[0] == '[';
  for (i = v6; i < n - v6; i++) {
    char c = h[i];
    int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
             (c >= 'A' && c <= 'F') || c == '.' || c == ':';
    if (!v6)
      ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_';
    if (!ok)
      return 0;
  }
  return 1;
}

const char *kupe_url_split(const char *url, kupe_url_parts *u) {
  const char *a, *end, *colon, *p;
  long port = 0;
  memset(u, 0, sizeof(*u));
  if (strncasecmp(url, "https://", 8) == 0)
    u->tls = 1, a = url + 8;
  else if (strncasecmp(url, "http://", 7) == 0)
    a = url + 7;
  else
    return "only http and https URLs are supported";
  end = a + strcspn(a, "/?#");
  if (memchr(a, '@', (size_t)(end - a)) != NULL)
    return "a URL with user information is refused";
  if (*a == '[') { /* IPv6 literal */
    const char *close = memchr(a, ']', (size_t)(end - a));
    if (close == NULL)
      return "unterminated IPv6 address";
    colon = close + 1 < end ? close + 1 : NULL;
    if (colon != NULL && *colon != ':')
      return "bad characters after an IPv6 address";
    u->host_len = (size_t)(close + 1 - a);
  } else {
    colon = memchr(a, ':', (size_t)(end - a));
    u->host_len = (size_t)((colon != NULL ? colon : end) - a);
  }
  u->host = a;
  if (u->host_len == 0 || (*a == '[' && u->host_len < 3))
    return "the URL has no host";
  if (!host_ok(a, u->host_len))
    return "the host holds characters no host name or address can have";
  if (colon != NULL && colon + 1 < end) {
    for (p = colon + 1; p < end; p++) {
      if (*p < '0' || *p > '9')
        return "the port is not a number";
      port = port * 10 + (*p - '0');
      if (port > 65535)
        return "the port is out of range";
    }
    if (port == 0)
      return "the port is out of range";
  }
  u->default_port = port == 0 || port == (u->tls ? 443 : 80);
  u->port = port != 0 ? port : (u->tls ? 443 : 80);
  u->path = end;
  u->path_len = strcspn(end, "?#");
  if (end[u->path_len] == '?') {
    u->query = end + u->path_len + 1;
    u->query_len = strcspn(u->query, "#");
  }
  return NULL;
}

size_t kupe_url_remove_dots(char *s, size_t n) {
  size_t in = 0, out = 0;
  while (in < n) {
    size_t seg = in + 1, e;
    while (seg < n && s[seg] != '/')
      seg++;
    e = seg - in; /* "/x" segment length including its slash */
    if (e == 2 && s[in + 1] == '.') {
      in = seg; /* "/." */
      if (in == n)
        s[out++] = '/';
    } else if (e == 3 && s[in + 1] == '.' && s[in + 2] == '.') {
      in = seg; /* "/..": drop the last output segment */
      while (out > 0 && s[out - 1] != '/')
        out--;
      if (out > 0)
        out--;
      if (in == n)
        s[out++] = '/';
    } else {
      memmove(s + out, s + in, e);
      out += e;
      in = seg;
    }
  }
  return out == 0 ? (s[0] = '/', 1) : out;
}
