/*
 * urlenc.h: percent-encoding per RFC 3986 and the number format used in
 * query strings. Pure functions over bytes (no Lua), so they can be fuzzed
 * on their own.
 */
#ifndef KUPE_URLENC_H
#define KUPE_URLENC_H

#include <stddef.h>

#include "buffer.h"

/* Writes s at out with every byte outside the unreserved set as %XX;
 * out must have room for 3 * len bytes. Returns the length written. */
size_t kupe_urlenc_write(char *out, const char *s, size_t len);

/* Appends s with every byte outside the unreserved set (ALPHA DIGIT - . _ ~)
 * written as %XX. Returns 0, or -1 when memory ran out. */
int kupe_urlenc_component(kupe_buffer *out, const char *s, size_t len);

/* Writes a number as a query value: integral values (including floats such
 * as 2.0 that lua-cjson produces) without a fraction, others with enough
 * digits to round-trip. Returns the length, or -1 for NaN and infinities,
 * which have no meaning in a query. out must hold 64 bytes. */
int kupe_urlenc_number(char *out, double v);

#endif
