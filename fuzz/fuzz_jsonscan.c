/*
 * fuzz_jsonscan.c: the empty-array scanner (src/jsonscan.c).
 *
 * Properties, on any bytes (valid JSON or not):
 * - count: kupe_json_count_empty (memchr fast path included) equals the
 *   number of empty arrays outside strings found by a separate, plain
 *   reference walk;
 * - rewrite: the output is the input with each of those arrays, and only
 *   those, replaced by "[" sentinel "]": a parallel walk over input and
 *   output matches every other byte exactly;
 * - exactly count sentinels: with a one-byte sentinel that does not occur
 *   in the input, the output holds that byte exactly count times;
 * - idempotence: with the production sentinel (a complete JSON string),
 *   the output has no empty array left to mark.
 *
 * Built with: src/jsonscan.c src/buffer.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond))                                                           \
      abort();                                                             \
  } while (0)

static const char production[] = "\"\\u0000kupe:[]\"";

static int ws(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reference: marks in close_of[i] the index of the ']' that closes an
 * empty array opened at i (outside strings), or 0. Returns their number. */
static size_t reference(const uint8_t *s, size_t n, size_t *close_of) {
  size_t i = 0, count = 0;
  int in_string = 0;
  memset(close_of, 0, n * sizeof(*close_of));
  while (i < n) {
    if (in_string) {
      if (s[i] == '\\')
        i += 2; /* the escaped byte, whatever it is */
      else {
        if (s[i] == '"')
          in_string = 0;
        i++;
      }
    } else if (s[i] == '"') {
      in_string = 1;
      i++;
    } else if (s[i] == '[') {
      size_t j = i + 1;
      while (j < n && ws(s[j]))
        j++;
      if (j < n && s[j] == ']') {
        close_of[i] = j;
        count++;
        i = j + 1;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return count;
}

/* Walks input and output side by side; returns the replacements seen. */
static size_t walk(const uint8_t *in, size_t n, const size_t *close_of,
                   const kupe_buffer *out, const char *sent, size_t slen) {
  size_t i = 0, j = 0, k = 0;
  while (i < n) {
    if (close_of[i] != 0) {
      CHECK(out->len - j >= slen + 2);
      CHECK(out->data[j] == '[');
      CHECK(memcmp(out->data + j + 1, sent, slen) == 0);
      CHECK(out->data[j + 1 + slen] == ']');
      j += slen + 2;
      i = close_of[i] + 1;
      k++;
    } else {
      CHECK(j < out->len && (uint8_t)out->data[j] == in[i]);
      i++;
      j++;
    }
  }
  CHECK(j == out->len);
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  size_t *close_of, count, want, i, seen;
  kupe_buffer out;
  uint8_t present[256];
  int absent = -1, c;

  close_of = malloc((size ? size : 1) * sizeof(*close_of));
  CHECK(close_of != NULL);
  want = reference(data, size, close_of);
  count = kupe_json_count_empty(s, size);
  CHECK(count == want);

  /* Production sentinel: structure, then nothing left to mark. */
  kupe_buffer_init(&out);
  CHECK(kupe_json_rewrite_empty(&out, s, size, production,
                                sizeof(production) - 1) == 0);
  CHECK(walk(data, size, close_of, &out, production,
             sizeof(production) - 1) == count);
  if (count == 0)
    CHECK(out.len == size && (size == 0 || memcmp(out.data, s, size) == 0));
  else
    CHECK(kupe_json_count_empty(out.data, out.len) == 0);
  kupe_buffer_free(&out);

  /* A one-byte sentinel absent from the input: counted exactly. */
  memset(present, 0, sizeof(present));
  for (i = 0; i < size; i++)
    present[data[i]] = 1;
  for (c = 255; c >= 0 && absent < 0; c--)
    if (!present[c] && c != '[' && c != ']')
      absent = c;
  if (absent >= 0) {
    char sent = (char)absent;
    kupe_buffer_init(&out);
    CHECK(kupe_json_rewrite_empty(&out, s, size, &sent, 1) == 0);
    for (i = 0, seen = 0; i < out.len; i++)
      seen += out.data[i] == sent;
    CHECK(seen == count);
    CHECK(walk(data, size, close_of, &out, &sent, 1) == count);
    kupe_buffer_free(&out);
  }
  free(close_of);
  return 0;
}
