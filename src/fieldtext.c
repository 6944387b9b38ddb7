/*
 * fieldtext.c: validation of text bound for header lines and queries. A
 * value is checked with three memchr passes (the common case is a short
 * clean string, for which this is the fastest portable way); a name byte
 * by byte against the token table of head.c; UTF-8 by a decoder that
 * skips ASCII runs and checks each multi-byte sequence's continuation
 * bytes and range (the table of RFC 3629, section 4).
 */
#include <string.h>

#include "fieldtext.h"
#include "head.h"

static int utf8_ok(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    size_t len, k;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0; /* overlong */
      else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90; /* overlong */
      else if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    } else {
      return 0; /* a continuation byte, C0, C1 or F5..FF */
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
      return 0;
    for (k = 2; k < len; k++)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF)
        return 0;
    i += len;
  }
  return 1;
}

int kupe_field_ok(kupe_field_rule rule, const char *s, size_t n) {
  size_t i;
  if (rule == KUPE_FIELD_UTF8)
    return utf8_ok((const unsigned char *)s, n);
  if (rule == KUPE_FIELD_TEXT)
    return kupe_field_ok(KUPE_FIELD_VALUE, s, n) &&
           utf8_ok((const unsigned char *)s, n);
  if (rule == KUPE_FIELD_NAME) {
    if (n == 0)
      return 0;
    for (i = 0; i < n; i++)
      if (!kupe_head_is_tchar((unsigned char)s[i]))
        return 0;
    return 1;
  }
  if (n == 0)
    return 1;
  return memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL &&
         memchr(s, '\0', n) == NULL;
}
