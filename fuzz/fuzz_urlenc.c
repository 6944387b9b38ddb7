/*
 * fuzz_urlenc.c: percent-encoding and query numbers (src/urlenc.c).
 *
 * Properties: the encoding holds only unreserved bytes and %XX escapes
 * with upper-case hex digits, has the predicted length, and decodes back
 * to the input; it appends to what the buffer held. A number is formatted
 * in at most 63 bytes, is refused exactly when it is NaN or infinite, and
 * reads back as the same double.
 *
 * Built with: src/urlenc.c src/buffer.c
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "urlenc.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond))                                                           \
      abort();                                                             \
  } while (0)

static int is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1; /* lower case is never produced */
}

static void check_component(const uint8_t *data, size_t size) {
  kupe_buffer b;
  size_t i, j, want = 0;
  kupe_buffer_init(&b);
  CHECK(kupe_buffer_append(&b, "k=", 2) == 0);
  CHECK(kupe_urlenc_component(&b, (const char *)data, size) == 0);
  for (i = 0; i < size; i++)
    want += is_unreserved(data[i]) ? 1 : 3;
  CHECK(b.len == 2 + want && memcmp(b.data, "k=", 2) == 0);
  for (i = 0, j = 2; j < b.len; i++) {
    unsigned char c = (unsigned char)b.data[j];
    CHECK(i < size);
    if (c == '%') {
      int hi, lo;
      CHECK(j + 2 < b.len);
      hi = hexval(b.data[j + 1]);
      lo = hexval(b.data[j + 2]);
      CHECK(hi >= 0 && lo >= 0);
      CHECK(!is_unreserved(data[i]) && data[i] == (uint8_t)(hi * 16 + lo));
      j += 3;
    } else {
      CHECK(is_unreserved(c) && c == data[i]);
      j++;
    }
  }
  CHECK(i == size);
  kupe_buffer_free(&b);
}

static void check_number(const uint8_t *data, size_t size) {
  double v;
  char out[64];
  int n;
  char *end;
  if (size < sizeof(v))
    return;
  memcpy(&v, data, sizeof(v));
  memset(out, 'x', sizeof(out));
  n = kupe_urlenc_number(out, v);
  if (isnan(v) || isinf(v)) {
    CHECK(n == -1);
    return;
  }
  CHECK(n > 0 && n < 64 && out[n] == '\0' && (int)strlen(out) == n);
  CHECK(strspn(out, "0123456789-+.e") == (size_t)n);
  CHECK(strtod(out, &end) == v && *end == '\0');
  if (v == floor(v) && fabs(v) < 9.2e18) /* integral: no fraction, no exponent */
    CHECK(strspn(out, "0123456789-") == (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_component(data, size);
  check_number(data, size);
  return 0;
}
