/*
 * jsonscan.c: the empty-array scan. One pass over the text: outside
 * strings it follows the structure (objects, arrays, the current key or
 * element number of each); a string is skipped to its closing quote,
 * sixteen bytes at a time where SSE2 is available.
 * It does not validate the JSON, which lua-cjson does afterwards.
 * Malformed input is scanned the same way and cannot read out of bounds;
 * unbalanced brackets only make the recorded paths useless, and the
 * post-pass then falls back to a full walk.
 *
 * Path records (see jsonscan.h) are written only for arrays whose whole
 * chain of keys is free of escapes and not deeper than KUPE_JSON_DEPTH.
 */
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "jsonscan.h"

/* One open container: an object (its current key) or an array (the
 * number of the current element, from 1). */
typedef struct frame {
  char kind;       /* '{' or '[' */
  char key_ok;     /* object: the current key has no escapes */
  size_t index;    /* array: current element */
  size_t key_off;  /* object: current key, as offsets into the text */
  size_t key_len;
} frame;

typedef struct scan_state {
  const char *s;
  size_t len;
  kupe_buffer *out;    /* NULL: count only */
  kupe_buffer *paths;  /* NULL: no path records */
  const char *sentinel;
  size_t slen;
  frame stack[KUPE_JSON_DEPTH];
  size_t depth;        /* may exceed KUPE_JSON_DEPTH; frames stop there */
  int expect_key;      /* in an object, before a key */
  int failed;          /* out of memory */
} scan_state;

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

/* The first index from i on holding '"' or '\\', or len. With SSE2
 * (every x86-64) sixteen bytes are tested at once; most JSON strings are
 * shorter than that, so a string usually costs one step. */
#if defined(__SSE2__) && defined(__GNUC__)
static size_t next_special(const char *s, size_t len, size_t i) {
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  __m128i v;
  int m;
  while (len - i >= 16) {
    v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                       _mm_cmpeq_epi8(v, bslash)));
    if (m != 0)
      return i + (size_t)__builtin_ctz((unsigned)m);
    i += 16;
  }
  while (i < len && s[i] != '"' && s[i] != '\\')
    i++;
  return i;
}
#else
static size_t next_special(const char *s, size_t len, size_t i) {
  while (i < len && s[i] != '"' && s[i] != '\\')
    i++;
  return i;
}
#endif

/* Index of the quote closing the string whose first content byte is at
 * start, or len when the text ends first; *escaped tells whether it holds
 * a backslash. A backslash escapes the byte after it, whatever that is. */
static size_t string_end(const char *s, size_t len, size_t start,
                         int *escaped) {
  size_t i = start;
  *escaped = 0;
  for (;;) {
    i = next_special(s, len, i);
    if (i >= len)
      return len;
    if (s[i] == '"')
      return i;
    *escaped = 1;
    if (len - i <= 2)
      return len; /* the escaped byte ends the text */
    i += 2;
  }
}

static int put_size(kupe_buffer *b, size_t v) {
  return kupe_buffer_append(b, (const char *)&v, sizeof(v));
}

/* Appends the path of an empty array found at the current position. */
static void record_path(scan_state *st) {
  kupe_buffer *b = st->paths;
  size_t i, mark;
  if (st->depth > KUPE_JSON_DEPTH)
    return;
  for (i = 0; i < st->depth; i++)
    if (st->stack[i].kind == '{' && !st->stack[i].key_ok)
      return; /* a key with escapes: the post-pass walks instead */
  mark = b->len;
  if (put_size(b, st->depth) != 0)
    goto oom;
  for (i = 0; i < st->depth; i++) {
    const frame *f = &st->stack[i];
    if (f->kind == '[') {
      if (kupe_buffer_putc(b, 'i') != 0 || put_size(b, f->index) != 0)
        goto oom;
    } else if (kupe_buffer_putc(b, 'k') != 0 ||
               put_size(b, f->key_len) != 0 ||
               kupe_buffer_append(b, st->s + f->key_off, f->key_len) != 0) {
      goto oom;
    }
  }
  return;
oom:
  b->len = mark;
  st->failed = 1;
}

static void open_frame(scan_state *st, char kind) {
  if (st->depth < KUPE_JSON_DEPTH) {
    frame *f = &st->stack[st->depth];
    f->kind = kind;
    f->key_ok = 0;
    f->index = 1;
    f->key_off = f->key_len = 0;
  }
  st->depth++;
  st->expect_key = kind == '{';
}

static frame *top(scan_state *st) {
  if (st->depth == 0 || st->depth > KUPE_JSON_DEPTH)
    return NULL;
  return &st->stack[st->depth - 1];
}

/* Walks the text; returns the number of empty arrays outside strings.
 * With out, appends the rewritten text (only once one was found: the
 * caller uses the original when the count is 0). */
static size_t scan(scan_state *st) {
  const char *s = st->s;
  size_t len = st->len, i = 0, run = 0, count = 0, close, end;
  int escaped;
  frame *f;
  while (i < len && !st->failed) {
    switch (s[i]) {
    case '"':
      end = string_end(s, len, i + 1, &escaped);
      if (st->expect_key && (f = top(st)) != NULL && f->kind == '{') {
        f->key_off = i + 1;
        f->key_len = end - (i + 1);
        f->key_ok = !escaped;
      }
      st->expect_key = 0;
      i = end + 1;
      break;
    case '[':
      close = empty_at(s, len, i);
      if (close == 0) {
        open_frame(st, '[');
        i++;
        break;
      }
      count++;
      if (st->paths != NULL)
        record_path(st);
      if (st->out != NULL &&
          (kupe_buffer_append(st->out, s + run, i - run) != 0 ||
           kupe_buffer_putc(st->out, '[') != 0 ||
           kupe_buffer_append(st->out, st->sentinel, st->slen) != 0 ||
           kupe_buffer_putc(st->out, ']') != 0))
        st->failed = 1;
      i = close + 1;
      run = i;
      break;
    case '{':
      open_frame(st, '{');
      i++;
      break;
    case ']':
    case '}':
      if (st->depth > 0)
        st->depth--;
      st->expect_key = 0;
      i++;
      break;
    case ',':
      f = top(st);
      if (f != NULL && f->kind == '[')
        f->index++;
      st->expect_key = f != NULL && f->kind == '{';
      i++;
      break;
    default:
      i++;
    }
  }
  if (st->out != NULL && count > 0 && !st->failed &&
      kupe_buffer_append(st->out, s + run, len - run) != 0)
    st->failed = 1;
  return count;
}

static void state_init(scan_state *st, const char *s, size_t len,
                       kupe_buffer *out, kupe_buffer *paths,
                       const char *sentinel, size_t slen) {
  st->s = s;
  st->len = len;
  st->out = out;
  st->paths = paths;
  st->sentinel = sentinel;
  st->slen = slen;
  st->depth = 0;
  st->expect_key = 0;
  st->failed = 0;
}

size_t kupe_json_count_empty(const char *s, size_t len) {
  scan_state st;
  if (!has_candidate(s, len))
    return 0;
  state_init(&st, s, len, NULL, NULL, NULL, 0);
  return scan(&st);
}

int kupe_json_rewrite_empty(kupe_buffer *out, const char *s, size_t len,
                            const char *sentinel, size_t slen) {
  scan_state st;
  size_t count;
  state_init(&st, s, len, out, NULL, sentinel, slen);
  count = scan(&st);
  if (count == 0 && !st.failed && kupe_buffer_append(out, s, len) != 0)
    st.failed = 1;
  return st.failed ? -1 : 0;
}

int kupe_json_mark_paths(kupe_buffer *out, kupe_buffer *paths,
                         const char *s, size_t len, const char *sentinel,
                         size_t slen, size_t *count) {
  scan_state st;
  *count = 0;
  if (!has_candidate(s, len))
    return 0;
  /* Room for the text and a few sentinels: the copy grows in place. */
  if (kupe_buffer_reserve(out, len + 8 * (slen + 2)) != 0)
    return -1;
  state_init(&st, s, len, out, paths, sentinel, slen);
  *count = scan(&st);
  return st.failed ? -1 : 0;
}
