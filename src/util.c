/*
 * util.c: small module functions the Lua layer needs and plain Lua lacks:
 * a monotonic clock, a sleep for the blocking transport, HTTP dates and
 * URL resolution for redirects.
 */
#include <errno.h>
#include <time.h>

#include "kupe.h"

/* core.now() -> seconds on a monotonic clock (for elapsed times). */
int kupe_now(lua_State *L) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return luaL_error(L, "clock_gettime failed");
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* core.sleep(seconds): blocks the thread; the curl transport only. */
int kupe_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec req, rem;
  if (!(s >= 0 && s <= 86400))
    return luaL_argerror(L, 1, "seconds between 0 and 86400");
  req.tv_sec = (time_t)s;
  req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
  while (nanosleep(&req, &rem) != 0) {
    if (errno != EINTR)
      return luaL_error(L, "nanosleep failed");
    req = rem;
  }
  return 0;
}

/* core.getdate(s) -> Unix time of an HTTP date, or nil. */
int kupe_getdate(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  time_t t = curl_getdate(s, NULL);
  if (t == (time_t)-1)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

/* core.resolve_url(base, ref) -> absolute URL, or nil, err. */
int kupe_resolve_url(lua_State *L) {
  const char *base = luaL_checkstring(L, 1);
  const char *ref = luaL_checkstring(L, 2);
  CURLU *u = curl_url();
  CURLUcode rc;
  char *out = NULL;
  if (u == NULL)
    return luaL_error(L, "resolve_url: out of memory");
  rc = curl_url_set(u, CURLUPART_URL, base, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(u, CURLUPART_URL, ref, CURLU_URLENCODE);
  if (rc == CURLUE_OK)
    rc = curl_url_get(u, CURLUPART_URL, &out, 0);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK) {
    lua_pushnil(L);
    lua_pushstring(L, curl_url_strerror(rc));
    return 2;
  }
  lua_pushstring(L, out);
  curl_free(out);
  return 1;
}
