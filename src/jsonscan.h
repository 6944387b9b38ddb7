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

/* Nesting followed for path records; deeper arrays get none. */
#define KUPE_JSON_DEPTH 128

/* Number of empty arrays outside strings. A memchr pass answers 0 for the
 * common text without one; only a candidate triggers the full scan. */
size_t kupe_json_count_empty(const char *s, size_t len);

/* Appends s to out with every empty array replaced by [sentinel]; sentinel
 * is JSON text (a string literal). Returns 0, or -1 when memory ran out. */
int kupe_json_rewrite_empty(kupe_buffer *out, const char *s, size_t len,
                            const char *sentinel, size_t slen);

/*
 * Both at once, in one pass: sets *count; when it is not 0, out holds the
 * rewritten text (when it is 0, out is left empty: use s itself) and
 * paths one record per empty array that can be reached by keys and
 * element numbers. A record, in native byte order: size_t depth, then
 * depth steps, each 'k' size_t n and n key bytes (an object member, the
 * key as written, without escapes), or 'i' size_t index (an array
 * element, from 1). Returns 0, or -1 when memory ran out.
 */
int kupe_json_mark_paths(kupe_buffer *out, kupe_buffer *paths,
                         const char *s, size_t len, const char *sentinel,
                         size_t slen, size_t *count);

#endif
