/*
 * head.h: parsing of a raw HTTP/1.x response head (status line and header
 * lines) as libcurl's header callback or a cosocket delivers it. Pure C,
 * no Lua, so it can be fuzzed alone.
 */
#ifndef KUPE_HEAD_H
#define KUPE_HEAD_H

#include <stddef.h>

/* Called once per valid header line; name is not NUL-terminated and keeps
 * its case, value is trimmed of surrounding blanks. Return non-zero to stop. */
typedef int (*kupe_head_cb)(void *ud, const char *name, size_t nlen,
                            const char *value, size_t vlen);

typedef struct kupe_head_status {
  int code;           /* 100..999 */
  const char *reason; /* points into the input */
  size_t reason_len;
} kupe_head_status;

/* Parses the LAST response head in raw (interim 1xx heads come first when
 * a server sends them). Lines may end in CRLF or LF. Header lines whose
 * name is not a token, or that have no colon, are skipped. Returns 0, -1
 * when there is no valid status line, or the callback's non-zero value. */
int kupe_head_parse(const char *raw, size_t len, kupe_head_status *st,
                    kupe_head_cb cb, void *ud);

/* 1 if c may appear in a header field name (RFC 9110 tchar). */
int kupe_head_is_tchar(unsigned char c);

/* 1 if a Content-Type value (NUL-terminated, as libcurl reports it) is
 * JSON: application/json or a +json type, parameters ignored. */
int kupe_head_is_json_type(const char *ct);

#endif
