/*
 * fieldtext.h: the rule for caller text that ends up inside the request's
 * header lines: header names and values, the content type, multipart part
 * names, file names and types, the credential and the User-Agent. A CR,
 * LF or NUL there could end the line and forge headers (or a whole
 * request), so such text is refused before anything is sent. Pure C, no
 * Lua, so it can be fuzzed alone. Query keys and values follow the
 * stricter TEXT rule: the API reads them as UTF-8 text.
 */
#ifndef KUPE_FIELDTEXT_H
#define KUPE_FIELDTEXT_H

#include <stddef.h>

/* What the text is. */
typedef enum kupe_field_rule {
  KUPE_FIELD_VALUE, /* any bytes except CR, LF and NUL; may be empty */
  KUPE_FIELD_NAME,  /* a header field name: one or more tchars (RFC 9110) */
  KUPE_FIELD_UTF8,  /* well-formed UTF-8 (RFC 3629: no overlong forms, no
                       surrogates, nothing above U+10FFFF); may be empty */
  KUPE_FIELD_TEXT   /* UTF8 and VALUE both: a query key or value */
} kupe_field_rule;

/* 1 when the n bytes at s obey the rule, else 0. Reads exactly n bytes;
 * s need not be NUL-terminated. */
int kupe_field_ok(kupe_field_rule rule, const char *s, size_t n);

#endif
