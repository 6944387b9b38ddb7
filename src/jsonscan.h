/*
 * jsonscan.h: finds empty JSON arrays ("[]", "[ ]") outside strings, and
 * rewrites each to hold one sentinel element, so that the decoded table
 * can be told apart from an empty object after lua-cjson 2.1.0 (which
 * decodes both to the same empty table). Pure C, fuzzable.
 */
#ifndef KUPE_JSONSCAN_H
#define KUPE_JSONSCAN_H

#include <stddef.h>

#include "buffer.h"

/* Number of empty arrays outside strings. A memchr pass answers 0 for the
 * common text without one; only a candidate triggers the full scan. */
size_t kupe_json_count_empty(const char *s, size_t len);

/* Appends s to out with every empty array replaced by [sentinel]; sentinel
 * is JSON text (a string literal). Returns 0, or -1 when memory ran out. */
int kupe_json_rewrite_empty(kupe_buffer *out, const char *s, size_t len,
                            const char *sentinel, size_t slen);

#endif
