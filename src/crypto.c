/*
 * crypto.c: HMAC-SHA256 for signing webhook bodies, and a constant-time
 * comparison for checking signatures, both from OpenSSL.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kupe.h"

/* core.hmac_sha256_hex(key, data) -> 64 lower-case hex digits */
int kupe_hmac_sha256_hex(lua_State *L) {
  static const char hex[] = "0123456789abcdef";
  size_t klen, dlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;
  char out[2 * EVP_MAX_MD_SIZE];
  if (klen > (size_t)INT_MAX)
    return luaL_argerror(L, 1, "key too long");
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, dlen,
           md, &mdlen) == NULL)
    return luaL_error(L, "hmac_sha256: OpenSSL failed");
  for (i = 0; i < mdlen; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  OPENSSL_cleanse(md, sizeof(md));
  lua_pushlstring(L, out, 2 * (size_t)mdlen);
  return 1;
}

/* core.equal_ct(a, b) -> boolean, in time independent of where they
 * differ (the length is not secret). */
int kupe_equal_ct(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
  return 1;
}
