/*
 * form.c: multipart/form-data bodies through libcurl's MIME API. A file
 * part is streamed from disk by libcurl (curl_mime_filedata), so an upload
 * never passes through Lua memory whole.
 *
 * Names, file names and types end up inside part headers; CR, LF and NUL
 * there would let a value forge headers, so they are refused. libcurl
 * escapes double quotes itself.
 */
#include <string.h>

#include "fieldtext.h"
#include "kupe.h"

#define text_ok(s, n) kupe_field_ok(KUPE_FIELD_VALUE, (s), (n))

/* Reads string field name of the table at idx; NULL when absent. Leaves
 * nothing on the stack (the string stays referenced by the table). */
static const char *field(lua_State *L, int idx, const char *name,
                         size_t *len, int *bad) {
  const char *s = NULL;
  lua_getfield(L, idx, name);
  if (lua_type(L, -1) == LUA_TSTRING)
    s = lua_tolstring(L, -1, len);
  else if (!lua_isnil(L, -1))
    *bad = 1;
  lua_pop(L, 1);
  return s;
}

/* On failure pushes a message and returns NULL; *is_io tells a local file
 * problem (1) or an allocation failure (2), both run-time failures, from
 * a malformed part (0, a caller mistake). */
curl_mime *kupe_form_build(lua_State *L, CURL *easy, int idx, int *is_io) {
  curl_mime *mime = curl_mime_init(easy);
  size_t i, n = lua_rawlen(L, idx);
  *is_io = 0;
  if (mime == NULL) {
    *is_io = 2; /* not the caller's mistake */
    lua_pushliteral(L, "out of memory");
    return NULL;
  }
  if (n == 0) {
    curl_mime_free(mime);
    lua_pushliteral(L, "at least one part is needed");
    return NULL;
  }
  for (i = 1; i <= n; i++) {
    size_t nlen = 0, vlen = 0, plen = 0, flen = 0, tlen = 0;
    const char *name, *value, *path, *filename, *type;
    int bad = 0, part_idx;
    curl_mimepart *part;
    CURLcode rc;
    lua_rawgeti(L, idx, (lua_Integer)i);
    part_idx = lua_gettop(L);
    if (!lua_istable(L, part_idx)) {
      curl_mime_free(mime);
      lua_pushfstring(L, "part %d must be a table", (int)i);
      return NULL;
    }
    name = field(L, part_idx, "name", &nlen, &bad);
    value = field(L, part_idx, "value", &vlen, &bad);
    path = field(L, part_idx, "path", &plen, &bad);
    filename = field(L, part_idx, "filename", &flen, &bad);
    type = field(L, part_idx, "type", &tlen, &bad);
    lua_pop(L, 1);
    if (bad || name == NULL || nlen == 0 || (value == NULL) == (path == NULL)
        || !text_ok(name, nlen) || (filename && !text_ok(filename, flen)) ||
        (type && !text_ok(type, tlen)) || (path && !text_ok(path, plen))) {
      curl_mime_free(mime);
      lua_pushfstring(L, "part %d needs a name and exactly one of "
                      "'value' or 'path' (strings without CR, LF or NUL)",
                      (int)i);
      return NULL;
    }
    part = curl_mime_addpart(mime);
    if (part == NULL)
      rc = CURLE_OUT_OF_MEMORY;
    else if ((rc = curl_mime_name(part, name)) == CURLE_OK) {
      if (path != NULL)
        rc = curl_mime_filedata(part, path); /* streamed at send time */
      else
        rc = curl_mime_data(part, value, vlen);
    }
    if (rc == CURLE_OK && filename != NULL)
      rc = curl_mime_filename(part, filename);
    if (rc == CURLE_OK && type != NULL)
      rc = curl_mime_type(part, type);
    if (rc != CURLE_OK) {
      curl_mime_free(mime);
      if (rc == CURLE_READ_ERROR) {
        *is_io = 1;
        lua_pushfstring(L, "cannot read '%s'", path);
      } else {
        lua_pushfstring(L, "part %d: %s", (int)i,
                        curl_easy_strerror(rc));
      }
      return NULL;
    }
  }
  return mime;
}
