/*
 * fuzz_jsondec.c: the JSON decoder of kupe.core (src/jsondec.c), against
 * lua-cjson.
 *
 * Property, on any bytes: when core.json_decode gives a value, lua-cjson
 * (configured as kupe.json configures it, with the empty-array passes of
 * src/encode.c) decodes the same text to the same value: same types, same
 * numbers (the sign of a zero included), same strings, same keys, and
 * array_mt on exactly the tables cjson and the passes give it. When it
 * declines, nothing is checked but that it did not crash: kupe.json then
 * asks cjson. A difference aborts with both values described on stderr.
 * The reference runs on every input, so the empty-array scan that records
 * paths (kupe_json_mark_paths, behind core.json_mark_empty) meets any
 * bytes too, and where the decoder accepts, its paths must put array_mt
 * exactly where the decoder does.
 *
 * The Lua state lives for the whole run; cjson is Debian's lua-cjson for
 * Lua 5.4, loaded from its usual place.
 *
 * Built with: src/jsondec.c src/encode.c src/jsonscan.c src/fieldtext.c src/head.c src/urlenc.c src/buffer.c fuzz/lua_harness.c
 * Links with: lua5.4
 */
#include <stdint.h>

#include "kupe.h"
#include "lua_harness.h"

static const char harness[] =
  "local fast, mark, fix = ...\n"
  "local cjson = require 'cjson.safe'\n"
  "local J = cjson.new()\n"
  "J.decode_invalid_numbers(false)\n"
  "local MT = { __name = 'kupe.array' }\n"
  "local function reference(s)\n"
  "  local marked, n, paths = mark(s)\n"
  "  local v, err = J.decode(marked)\n"
  "  if v == nil then return nil, err end\n"
  "  if n > 0 then fix(v, n, MT, paths) end\n"
  "  return v\n"
  "end\n"
  "local function same(a, b, where)\n"
  "  if type(a) ~= type(b) then error(where .. ': type ' .. type(a) .. ' vs ' .. type(b)) end\n"
  "  if getmetatable(a) ~= getmetatable(b) then error(where .. ': metatable differs') end\n"
  "  if type(a) == 'number' then\n"
  "    if math.type(a) ~= math.type(b) then error(where .. ': number subtype') end\n"
  "    if a == a and (a ~= b or 1 / a ~= 1 / b) then\n"
  "      error(where .. (': %.17g vs %.17g'):format(a, b))\n"
  "    end\n"
  "    if a ~= a and b == b then error(where .. ': nan vs number') end\n"
  "  elseif type(a) == 'table' then\n"
  "    for k, v in pairs(a) do same(v, b[k], where .. '.' .. tostring(k)) end\n"
  "    for k in pairs(b) do\n"
  "      if a[k] == nil then error(where .. ': missing key ' .. tostring(k)) end\n"
  "    end\n"
  "  elseif a ~= b then\n"
  "    error(where .. (': %q vs %q'):format(tostring(a), tostring(b)))\n"
  "  end\n"
  "end\n"
  "return function(s)\n"
  "  local ref, err = reference(s)\n"
  "  local v = fast(s, MT, false)\n"
  "  if v == nil then return end\n"
  "  if ref == nil then error('accepted what cjson refuses: ' .. tostring(err)) end\n"
  "  same(v, ref, 'value')\n"
  "end\n";

static const lua_CFunction under_test[] = {kupe_json_decode, kupe_json_mark_empty, kupe_json_fix_empty};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_check("jsondec", harness, sizeof(harness) - 1, under_test,
                 (int)(sizeof(under_test) / sizeof(under_test[0])), data, size);
  return 0;
}
