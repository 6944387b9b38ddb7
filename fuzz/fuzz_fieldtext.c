/*
 * fuzz_fieldtext.c: the header-line text rule (src/fieldtext.c).
 *
 * The first byte picks the rule, the rest is the text. The answer must
 * equal a byte-by-byte reference: a value is accepted exactly when it has
 * no CR, LF or NUL; a name exactly when it is one or more RFC 9110 tchars.
 * An accepted name or value, put into a header line, leaves exactly one
 * line: the property that keeps a value from forging headers.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kupe_field_rule rule;
  const uint8_t *s;
  size_t n, i;
  int want = 1, got;
  char *copy;
  if (size == 0)
    return 0;
  rule = (data[0] & 1) ? KUPE_FIELD_NAME : KUPE_FIELD_VALUE;
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
  } else {
    for (i = 0; i < n; i++)
      if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
        want = 0;
  }
  got = kupe_field_ok(rule, copy, n);
  CHECK(got == want);
  if (got) {
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
