/*
 * inflate.c: a streaming gzip/deflate decoder for transports that read
 * raw bytes (the nginx cosocket transport); libcurl decodes by itself.
 *
 * The z_stream lives inside the userdata, so the collector frees it even
 * when a Lua error interrupts a caller; finish() and __gc release zlib's
 * state once.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "kupe.h"

typedef struct inflater {
  z_stream z;
  int open;   /* inflateInit2 succeeded and inflateEnd has not run */
  int done;   /* the end of the compressed stream was reached */
} inflater;

/* core.inflater() -> object with :update(chunk) -> text, :finish() */
int kupe_inflater_new(lua_State *L) {
  inflater *f = lua_newuserdatauv(L, sizeof(*f), 0);
  memset(f, 0, sizeof(*f));
  luaL_setmetatable(L, KUPE_INFLATER_MT);
  /* 32 + MAX_WBITS: detect gzip or zlib headers automatically. */
  if (inflateInit2(&f->z, 32 + MAX_WBITS) != Z_OK)
    return luaL_error(L, "inflater: zlib could not start");
  f->open = 1;
  return 1;
}

static inflater *check(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, KUPE_INFLATER_MT);
  if (!f->open)
    luaL_error(L, "attempt to use a finished kupe.inflater");
  return f;
}

/* :update(chunk) -> decoded text, or nil, err for corrupt input. */
static int inflater_update(lua_State *L) {
  inflater *f = check(L);
  size_t left;
  const char *in = luaL_checklstring(L, 2, &left);
  luaL_Buffer b;
  unsigned char out[16384];
  int rc = Z_OK;
  luaL_buffinit(L, &b);
  f->z.next_in = (Bytef *)(uintptr_t)in;
  f->z.avail_in = 0;
  while (!f->done) {
    if (f->z.avail_in == 0 && left > 0) {
      /* zlib counts input in uInt: feed a huge string in pieces. */
      uInt piece = left > (size_t)UINT_MAX ? UINT_MAX : (uInt)left;
      f->z.avail_in = piece;
      left -= piece;
    }
    f->z.next_out = out;
    f->z.avail_out = sizeof(out);
    rc = inflate(&f->z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END)
      f->done = 1;
    else if (rc == Z_BUF_ERROR)
      rc = Z_OK; /* needs more input: not an error */
    else if (rc != Z_OK) {
      lua_pushnil(L);
      lua_pushfstring(L, "corrupt compressed body: %s",
                      f->z.msg ? f->z.msg : "zlib error");
      return 2;
    }
    luaL_addlstring(&b, (const char *)out, sizeof(out) - f->z.avail_out);
    if (f->z.avail_out != 0 && f->z.avail_in == 0 && left == 0)
      break; /* all input consumed and output drained */
  }
  luaL_pushresult(&b);
  return 1;
}

/* :finish() -> true if the stream was complete, else nil, err. */
static int inflater_finish(lua_State *L) {
  inflater *f = check(L);
  int complete = f->done;
  (void)inflateEnd(&f->z); /* fails only for a corrupt z_stream */
  f->open = 0;
  if (!complete) {
    lua_pushnil(L);
    lua_pushliteral(L, "the compressed body ended early");
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int inflater_gc(lua_State *L) {
  inflater *f = luaL_checkudata(L, 1, KUPE_INFLATER_MT);
  if (f->open) {
    (void)inflateEnd(&f->z);
    f->open = 0;
  }
  return 0;
}

static const luaL_Reg inflater_methods[] = {
  {"update", inflater_update},
  {"finish", inflater_finish},
  {NULL, NULL}
};

void kupe_inflater_register(lua_State *L) {
  luaL_newmetatable(L, KUPE_INFLATER_MT);
  lua_pushcfunction(L, inflater_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, inflater_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
