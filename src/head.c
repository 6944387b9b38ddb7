/*
 * head.c: response head parser. It never reads past len and never writes;
 * every pointer it hands out points into the caller's buffer.
 */
#include <string.h>
#include <strings.h>

#include "head.h"

int kupe_head_is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9'))
    return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Length of the line starting at p, without its LF or CRLF; *next is set
 * to the start of the following line. */
static size_t line_len(const char *p, const char *end, const char **next) {
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  size_t n;
  if (nl == NULL) {
    *next = end;
    return (size_t)(end - p);
  }
  *next = nl + 1;
  n = (size_t)(nl - p);
  if (n > 0 && p[n - 1] == '\r')
    n--;
  return n;
}

/* "HTTP/1.1 200 OK", "HTTP/2 404", "HTTP/1.0 503 Service Unavailable". */
static int parse_status(const char *p, size_t n, kupe_head_status *st) {
  size_t i = 5;
  int code = 0, digits = 0;
  if (n < 5 || memcmp(p, "HTTP/", 5) != 0)
    return -1;
  while (i < n && p[i] != ' ')
    i++;
  while (i < n && p[i] == ' ')
    i++;
  while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 3) {
    code = code * 10 + (p[i] - '0');
    i++;
    digits++;
  }
  if (digits != 3 || code < 100 || (i < n && p[i] != ' '))
    return -1;
  while (i < n && p[i] == ' ')
    i++;
  st->code = code;
  st->reason = p + i;
  st->reason_len = n - i;
  return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

int kupe_head_parse(const char *raw, size_t len, kupe_head_status *st,
                    kupe_head_cb cb, void *ud) {
  const char *p = raw, *end = raw + len, *next, *start = NULL;
  size_t n;
  /* Find the last status line: interim responses precede the final one. */
  while (p < end) {
    n = line_len(p, end, &next);
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
      start = p;
    p = next;
  }
  if (start == NULL)
    return -1;
  n = line_len(start, end, &next);
  if (parse_status(start, n, st) != 0)
    return -1;
  for (p = next; p < end; p = next) {
    const char *colon, *v, *vend;
    size_t i;
    int rc;
    n = line_len(p, end, &next);
    if (n == 0)
      break; /* end of the head */
    colon = memchr(p, ':', n);
    if (colon == NULL || colon == p)
      continue;
    for (i = 0; p + i < colon; i++)
      if (!kupe_head_is_tchar((unsigned char)p[i]))
        break;
    if (p + i != colon)
      continue;
    v = colon + 1;
    vend = p + n;
    while (v < vend && is_blank(*v))
      v++;
    while (vend > v && is_blank(vend[-1]))
      vend--;
    if (cb != NULL) {
      rc = cb(ud, p, (size_t)(colon - p), v, (size_t)(vend - v));
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}

int kupe_head_is_json_type(const char *ct) {
  size_t n;
  const char *semi;
  if (ct == NULL)
    return 0;
  semi = strchr(ct, ';');
  n = semi ? (size_t)(semi - ct) : strlen(ct);
  while (n > 0 && ct[n - 1] == ' ')
    n--;
  return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
         (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}
