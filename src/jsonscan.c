/*
 * jsonscan.c: the empty-array scan. The scanner tracks only whether it is
 * inside a string (and after a backslash there); it does not validate the
 * JSON, which lua-cjson does afterwards. Malformed input is scanned the
 * same way and cannot read out of bounds.
 */
#include <string.h>

#include "jsonscan.h"

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* If s[i] is '[' followed by optional blanks and ']', returns the index of
 * the ']', else 0 (never a valid answer, since ']' follows '['). */
static size_t empty_at(const char *s, size_t len, size_t i) {
  size_t j = i + 1;
  while (j < len && is_ws(s[j]))
    j++;
  return (j < len && s[j] == ']') ? j : 0;
}

static int has_candidate(const char *s, size_t len) {
  const char *p = s, *end = s + len;
  while (p < end && (p = memchr(p, '[', (size_t)(end - p))) != NULL) {
    if (empty_at(s, len, (size_t)(p - s)))
      return 1;
    p++;
  }
  return 0;
}

/* Walks s, calling emit for plain runs and for each empty array found
 * outside strings. With out == NULL it only counts. */
static size_t scan(const char *s, size_t len, kupe_buffer *out,
                   const char *sentinel, size_t slen, int *failed) {
  size_t i = 0, run = 0, count = 0, close;
  int in_string = 0, escaped = 0;
  while (i < len) {
    char c = s[i];
    if (in_string) {
      if (escaped)
        escaped = 0;
      else if (c == '\\')
        escaped = 1;
      else if (c == '"')
        in_string = 0;
      i++;
      continue;
    }
    if (c == '"') {
      in_string = 1;
      i++;
      continue;
    }
    if (c == '[' && (close = empty_at(s, len, i)) != 0) {
      count++;
      if (out != NULL) {
        if (kupe_buffer_append(out, s + run, i - run) != 0 ||
            kupe_buffer_putc(out, '[') != 0 ||
            kupe_buffer_append(out, sentinel, slen) != 0 ||
            kupe_buffer_putc(out, ']') != 0) {
          *failed = 1;
          return count;
        }
      }
      i = close + 1;
      run = i;
      continue;
    }
    i++;
  }
  if (out != NULL && kupe_buffer_append(out, s + run, len - run) != 0)
    *failed = 1;
  return count;
}

size_t kupe_json_count_empty(const char *s, size_t len) {
  int failed = 0;
  if (!has_candidate(s, len))
    return 0;
  return scan(s, len, NULL, NULL, 0, &failed);
}

int kupe_json_rewrite_empty(kupe_buffer *out, const char *s, size_t len,
                            const char *sentinel, size_t slen) {
  int failed = 0;
  scan(s, len, out, sentinel, slen, &failed);
  return failed ? -1 : 0;
}
