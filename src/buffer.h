/*
 * buffer.h: a growable byte buffer (lua-cjson's strbuf idea). Unlike
 * strbuf it never exits the process: a failed allocation is reported to
 * the caller, which turns it into a Lua error or an error return.
 *
 * Invariant: data is NULL when cap is 0; len <= cap.
 */
#ifndef KUPE_BUFFER_H
#define KUPE_BUFFER_H

#include <stddef.h>

typedef struct kupe_buffer {
  char *data;
  size_t len;
  size_t cap;
} kupe_buffer;

void kupe_buffer_init(kupe_buffer *b);
/* Makes room for n more bytes. Returns 0, or -1 when memory ran out. */
int kupe_buffer_reserve(kupe_buffer *b, size_t n);
int kupe_buffer_append(kupe_buffer *b, const char *s, size_t n);
int kupe_buffer_putc(kupe_buffer *b, char c);
/* Empties the buffer; gives memory back if it grew past keep bytes. */
void kupe_buffer_reset(kupe_buffer *b, size_t keep);
void kupe_buffer_free(kupe_buffer *b);

#endif
