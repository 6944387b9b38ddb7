/*
 * fuzz_fieldtext.c: the header-line and query text rules (src/fieldtext.c).
 *
 * The first byte picks the rule, the rest is the text. The answer must
 * equal a byte-by-byte reference: a value is accepted exactly when it has
 * no CR, LF or NUL; a name exactly when it is one or more RFC 9110 tchars;
 * UTF-8 exactly when a decoder that computes each code point accepts it
 * (shortest form, no surrogate, at most U+10FFFF); text when it is both a
 * value and UTF-8. An accepted name or value, put into a header line,
 * leaves exactly one line: the property that keeps a value from forging
 * headers.
 *
 * Built with: src/fieldtext.c src/head.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fieldtext.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond))                                                           \
      abort();                                                             \
  } while (0)

static int ref_tchar(uint8_t c) {
  return c > 32 && c < 127 && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/* Reference UTF-8 check: decode each code point, then judge it. */
static int ref_utf8(const uint8_t *s, size_t n) {
  size_t i = 0, len, k;
  while (i < n) {
    uint32_t cp;
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07;
    else
      return 0;
    if (n - i < len)
      return 0;
    for (k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000))
      return 0; /* overlong */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return 0;
    i += len;
  }
  return 1;
}

static int ref_value(const uint8_t *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kupe_field_rule rule;
  const uint8_t *s;
  size_t n, i;
  int want = 1, got;
  char *copy;
  if (size == 0)
    return 0;
  switch (data[0] & 3) {
  case 0: rule = KUPE_FIELD_VALUE; break;
  case 1: rule = KUPE_FIELD_NAME; break;
  case 2: rule = KUPE_FIELD_UTF8; break;
  default: rule = KUPE_FIELD_TEXT; break;
  }
  /* Copy the text so it ends exactly at the heap block's end: a read
   * past n is then an ASan report. */
  n = size - 1;
  copy = calloc(n ? n : 1, 1);
  CHECK(copy != NULL);
  if (n)
    memcpy(copy, data + 1, n);
  s = (const uint8_t *)copy;
  if (rule == KUPE_FIELD_NAME) {
    want = n > 0;
    for (i = 0; i < n; i++)
      if (!ref_tchar(s[i]))
        want = 0;
  } else if (rule == KUPE_FIELD_VALUE) {
    want = ref_value(s, n);
  } else if (rule == KUPE_FIELD_UTF8) {
    want = ref_utf8(s, n);
  } else {
    want = ref_value(s, n) && ref_utf8(s, n);
  }
  got = kupe_field_ok(rule, copy, n);
  CHECK(got == want);
  if (got && rule != KUPE_FIELD_UTF8) {
    /* "Name: value\r\n" or "X: value\r\n" holds exactly one line break
     * and no NUL before its end. */
    size_t len = n + 5, breaks = 0;
    char *line = malloc(len);
    CHECK(line != NULL);
    memcpy(line, "X: ", 3);
    if (n)
      memcpy(line + 3, copy, n);
    memcpy(line + 3 + n, "\r\n", 2);
    for (i = 0; i < len; i++) {
      breaks += line[i] == '\r' || line[i] == '\n';
      CHECK(line[i] != '\0');
    }
    CHECK(breaks == 2);
    free(line);
  }
  free(copy);
  return 0;
}
