/*
 * error.c: libcurl's result codes folded into the small vocabulary of
 * failure kinds the Lua layer and its users see. The kinds are fixed
 * strings (LuaSocket's pierror idea): callers compare them, so they do
 * not change.
 */
#include "kupe.h"

const char *kupe_error_kind(CURLcode code) {
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return "resolve";
  case CURLE_OPERATION_TIMEDOUT:
    return "timeout";
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_USE_SSL_FAILED:
    return "tls";
  case CURLE_FILESIZE_EXCEEDED:
    return "too_large";
  case CURLE_BAD_CONTENT_ENCODING:
    return "decode";
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return "invalid_url";
  case CURLE_READ_ERROR:
    return "io";
  case CURLE_ABORTED_BY_CALLBACK:
    return "aborted";
  case CURLE_OUT_OF_MEMORY:
    return "internal";
  default:
    /* Refused, reset, closed early, truncated, nothing received, ... */
    return "network";
  }
}

/* Pushes nil, kind, message, sent: the run-time failure convention. */
int kupe_error_push(lua_State *L, const char *kind, const char *message,
                    int sent) {
  lua_pushnil(L);
  lua_pushstring(L, kind);
  lua_pushstring(L, message);
  lua_pushboolean(L, sent);
  return 4;
}
