/*
 * fieldtext.c: validation of text bound for header lines. A value is
 * checked with three memchr passes (the common case is a short clean
 * string, for which this is the fastest portable way); a name byte by byte
 * against the token table of head.c.
 */
#include <string.h>

#include "fieldtext.h"
#include "head.h"

int kupe_field_ok(kupe_field_rule rule, const char *s, size_t n) {
  size_t i;
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
