/*
 * buffer.c: growable byte buffer. Growth doubles, so appending n bytes
 * one chunk at a time costs O(n) copies overall.
 */
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

void kupe_buffer_init(kupe_buffer *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

int kupe_buffer_reserve(kupe_buffer *b, size_t n) {
  size_t need, cap;
  char *p;
  if (n <= b->cap - b->len)
    return 0;
  if (n > (size_t)-1 - b->len)
    return -1;
  need = b->len + n;
  cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > (size_t)-1 / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (p == NULL)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int kupe_buffer_append(kupe_buffer *b, const char *s, size_t n) {
  if (n == 0)
    return 0;
  if (kupe_buffer_reserve(b, n) != 0)
    return -1;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

int kupe_buffer_putc(kupe_buffer *b, char c) {
  if (b->len == b->cap && kupe_buffer_reserve(b, 1) != 0)
    return -1;
  b->data[b->len++] = c;
  return 0;
}

void kupe_buffer_reset(kupe_buffer *b, size_t keep) {
  b->len = 0;
  if (b->cap > keep) {
    free(b->data);
    kupe_buffer_init(b);
  }
}

void kupe_buffer_free(kupe_buffer *b) {
  free(b->data);
  kupe_buffer_init(b);
}
