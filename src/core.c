/*
 * core.c: luaopen_kupe_core, the module table. libcurl's global state is
 * initialised once per process (curl_global_init is not thread-safe, and
 * nginx loads the module in each worker's single Lua VM).
 */
#include "kupe.h"

#if defined(__GNUC__)
#define KUPE_EXPORT __attribute__((visibility("default")))
#else
#define KUPE_EXPORT
#endif

static const luaL_Reg core_functions[] = {
  {"new", kupe_client_open},
  {"encode_query", kupe_encode_query},
  {"request_url", kupe_request_url},
  {"visible", kupe_visible},
  {"escape", kupe_escape},
  {"utf8_valid", kupe_utf8_valid},
  {"parse_head", kupe_parse_head},
  {"is_json_type", kupe_is_json_type},
  {"json_decode", kupe_json_decode},
  {"json_mark_empty", kupe_json_mark_empty},
  {"json_fix_empty", kupe_json_fix_empty},
  {"resolve_url", kupe_resolve_url},
  {"getdate", kupe_getdate},
  {"now", kupe_now},
  {"sleep", kupe_sleep},
  {"hmac_sha256_hex", kupe_hmac_sha256_hex},
  {"equal_ct", kupe_equal_ct},
  {"inflater", kupe_inflater_new},
  {NULL, NULL}
};

KUPE_EXPORT int luaopen_kupe_core(lua_State *L);

int luaopen_kupe_core(lua_State *L) {
  static int curl_ready = 0;
  const curl_version_info_data *info;
  if (!curl_ready) {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
      return luaL_error(L, "kupe.core: curl_global_init: %s",
                        curl_easy_strerror(rc));
    curl_ready = 1;
  }
  info = curl_version_info(CURLVERSION_NOW);
  kupe_client_register(L);
  kupe_inflater_register(L);
  luaL_newlib(L, core_functions);
  lua_pushliteral(L, KUPE_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, info->version);
  lua_setfield(L, -2, "curl_version");
  lua_pushstring(L, info->ssl_version ? info->ssl_version : "none");
  lua_setfield(L, -2, "ssl_version");
  return 1;
}
