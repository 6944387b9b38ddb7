/*
 * fuzz_head.c: the response head parser (src/head.c) on arbitrary bytes.
 *
 * Besides memory safety (ASan, UBSan) it checks what the parser promises:
 * every pointer it hands out lies inside the input, a name is a non-empty
 * token, a value has no surrounding blanks and no line break, the status
 * is three digits from 100, and the callback's non-zero answer stops the
 * walk and is returned. The Content-Type test (kupe_head_is_json_type)
 * runs on the same bytes, as a C string, against a plain reference.
 *
 * Built with: src/head.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"

typedef struct seen {
  const char *start, *end;
  size_t fields;
  size_t stop_at; /* return non-zero at this field (1-based); 0 never */
} seen;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond))                                                           \
      abort();                                                             \
  } while (0)

static int inside(const seen *s, const char *p, size_t n) {
  return p >= s->start && p <= s->end && n <= (size_t)(s->end - p);
}

static int on_field(void *ud, const char *name, size_t nlen,
                    const char *value, size_t vlen) {
  seen *s = ud;
  size_t i;
  CHECK(inside(s, name, nlen) && inside(s, value, vlen));
  CHECK(nlen > 0);
  for (i = 0; i < nlen; i++)
    CHECK(kupe_head_is_tchar((unsigned char)name[i]));
  CHECK(memchr(value, '\n', vlen) == NULL);
  if (vlen > 0) {
    CHECK(value[0] != ' ' && value[0] != '\t');
    CHECK(value[vlen - 1] != ' ' && value[vlen - 1] != '\t');
  }
  /* The value follows the colon that ends the name. */
  CHECK(value > name + nlen && name[nlen] == ':');
  s->fields++;
  return s->stop_at != 0 && s->fields == s->stop_at ? 7 : 0;
}

/* Reference: the media type before any ';', trailing blanks dropped, is
 * application/json or ends in +json (case-insensitive). */
static int ref_json_type(const char *ct) {
  char low[64];
  size_t n = strcspn(ct, ";"), i;
  while (n > 0 && ct[n - 1] == ' ')
    n--;
  if (n == 16) {
    for (i = 0; i < 16; i++)
      low[i] = (char)((ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] + 32 : ct[i]);
    if (memcmp(low, "application/json", 16) == 0)
      return 1;
  }
  if (n <= 5)
    return 0;
  for (i = 0; i < 5; i++) {
    char c = ct[n - 5 + i];
    low[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  return memcmp(low, "+json", 5) == 0;
}

static void check_json_type(const uint8_t *data, size_t size) {
  char *ct = malloc(size + 1);
  CHECK(ct != NULL);
  memcpy(ct, data, size);
  ct[size] = '\0';
  CHECK(kupe_head_is_json_type(ct) == ref_json_type(ct));
  free(ct);
  CHECK(kupe_head_is_json_type(NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *raw = (const char *)data;
  kupe_head_status st;
  seen s;
  size_t lines = 1, i;
  int rc, c;
  for (c = 0; c < 256; c++) /* the token table agrees with RFC 9110 */
    CHECK(kupe_head_is_tchar((unsigned char)c) ==
          (c > 0 && c < 127 &&
           strchr("\"(),/:;<=>?@[\\]{} \t", c) == NULL && c > 32));
  for (i = 0; i < size; i++)
    lines += raw[i] == '\n';
  memset(&s, 0, sizeof(s));
  s.start = raw;
  s.end = raw + size;
  rc = kupe_head_parse(raw, size, &st, on_field, &s);
  CHECK(rc == 0 || rc == -1);
  if (rc == 0) {
    CHECK(st.code >= 100 && st.code <= 999);
    CHECK(inside(&s, st.reason, st.reason_len));
    CHECK(memchr(st.reason, '\n', st.reason_len) == NULL);
    CHECK(s.fields < lines);
    if (s.fields > 0) {
      /* Stopping at the first field returns the callback's value. */
      seen s2 = s;
      s2.fields = 0;
      s2.stop_at = 1;
      CHECK(kupe_head_parse(raw, size, &st, on_field, &s2) == 7);
      CHECK(s2.fields == 1);
    }
  }
  /* Without a callback the answer is the same. */
  CHECK(kupe_head_parse(raw, size, &st, NULL, NULL) == rc);
  check_json_type(data, size);
  return 0;
}
