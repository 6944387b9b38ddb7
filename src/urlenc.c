/*
 * urlenc.c: percent-encoding and query number formatting.
 *
 * Everything outside the unreserved set is escaped, including '/', '?',
 * '#' and '+': a path segment built from an id can then never change the
 * route, and a phone number keeps its '+' (the API reads a bare '+' in a
 * query as a space).
 */
#include <math.h>
#include <stdio.h>

#include "urlenc.h"

static const char hexdigits[] = "0123456789ABCDEF";

/* 1 for the unreserved characters of RFC 3986, section 2.3. */
static unsigned char unreserved[256];
static int unreserved_ready;

static void init_unreserved(void) {
  int c;
  for (c = 'a'; c <= 'z'; c++) unreserved[c] = 1;
  for (c = 'A'; c <= 'Z'; c++) unreserved[c] = 1;
  for (c = '0'; c <= '9'; c++) unreserved[c] = 1;
  unreserved['-'] = unreserved['.'] = unreserved['_'] = unreserved['~'] = 1;
  unreserved_ready = 1;
}

size_t kupe_urlenc_write(char *out, const char *s, size_t len) {
  char *p = out;
  size_t i;
  if (!unreserved_ready)
    init_unreserved();
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved[c]) {
      *p++ = (char)c;
    } else {
      *p++ = '%';
      *p++ = hexdigits[c >> 4];
      *p++ = hexdigits[c & 15];
    }
  }
  return (size_t)(p - out);
}

int kupe_urlenc_component(kupe_buffer *out, const char *s, size_t len) {
  /* Worst case every byte becomes three; reserve once, then write freely. */
  if (len > ((size_t)-1) / 3 || kupe_buffer_reserve(out, len * 3) != 0)
    return -1;
  out->len += kupe_urlenc_write(out->data + out->len, s, len);
  return 0;
}

int kupe_urlenc_number(char *out, double v) {
  if (isnan(v) || isinf(v))
    return -1;
  /* 2^63 bounds what long long holds exactly; beyond it %.17g is exact. */
  if (v == floor(v) && v > -9223372036854775808.0 && v < 9223372036854775808.0)
    return snprintf(out, 64, "%lld", (long long)v);
  return snprintf(out, 64, "%.17g", v);
}
