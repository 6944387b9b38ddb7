/*
 * fuzz_query.c: query strings and request URLs (src/query.c), against a
 * reference written in Lua.
 *
 * The input bytes describe a query table (up to 15 keys, so both the
 * pairs on the C stack and the userdata path run): keys and string values
 * are raw bytes (valid UTF-8 or not, NUL, CR and LF included), numbers are
 * integers or floats (NaN, infinities, -0, huge, tiny), booleans,
 * kupe.null, arrays of those, and now and then a nested table, a hole or
 * a bad key type. Properties:
 * - core.encode_query raises exactly when the reference finds a reason
 *   (a key or string not UTF-8 text without NUL, CR, LF; a non-finite
 *   number; a nested table; a hole; a key that is not a string);
 * - otherwise its output is the pairs sorted by key bytes, arrays in
 *   order, kupe.null left out, each side an exact percent-encoding
 *   (unreserved bytes kept, upper-case hex), integers in decimal and
 *   floats as text that reads back as the same double;
 * - core.request_url(base, path, q, max) gives base .. path, then '?'
 *   (or '&' when either has a '?') and that query when it is not empty,
 *   and path cut at its first '?' or '#'; nil and the length when the URL
 *   is longer than max.
 *
 * Built with: src/query.c src/urlenc.c src/fieldtext.c src/head.c src/buffer.c fuzz/lua_harness.c
 * Links with: lua5.4
 */
#include <stdint.h>

#include "kupe.h"
#include "lua_harness.h"

static const char harness[] =
  "local encode_query, request_url = ...\n"
  "local NULL = require('cjson').null -- kupe.null\n"
  "local function enc(s)\n"
  "  return (s:gsub('[^%w%-%._~]', function(c) return ('%%%02X'):format(c:byte()) end))\n"
  "end\n"
  "local function text_ok(s)\n"
  "  return utf8.len(s) ~= nil and not s:find('[%z\\r\\n]')\n"
  "end\n"
  "-- Reads the input: the table, a path and a byte for the URL checks.\n"
  "local function build(b)\n"
  "  local pos = 1\n"
  "  local function byte()\n"
  "    local c = b:byte(pos) or 0\n"
  "    pos = pos + 1\n"
  "    return c\n"
  "  end\n"
  "  local function bytes(n)\n"
  "    local s = b:sub(pos, pos + n - 1)\n"
  "    pos = pos + n\n"
  "    return s\n"
  "  end\n"
  "  local FLOATS = { 0.5, -0.0, 1e300, -2.5e-310, 0/0, 1/0, -1/0, 2^63, -2^63, 2^53 + 1.0,\n"
  "    123456.789, 1e-7, 3.0, -7.25 }\n"
  "  local function scalar(k)\n"
  "    if k == 0 then\n"
  "      return bytes(byte() % 8)\n"
  "    elseif k == 1 then\n"
  "      local n = byte() * 16777216 + byte() * 65536 + byte() * 256 + byte()\n"
  "      return math.tointeger(n - 2147483648) * (byte() % 2 == 0 and 1 or 4294967296)\n"
  "    elseif k == 2 then\n"
  "      return FLOATS[byte() % #FLOATS + 1]\n"
  "    elseif k == 3 then\n"
  "      return byte() % 2 == 0\n"
  "    end\n"
  "    return NULL\n"
  "  end\n"
  "  local t = {}\n"
  "  for _ = 1, byte() % 16 do\n"
  "    local kb = byte()\n"
  "    local key\n"
  "    if kb % 37 == 36 then\n"
  "      key = kb -- a key that is not a string\n"
  "    else\n"
  "      key = bytes(kb % 6)\n"
  "    end\n"
  "    local k = byte() % 6\n"
  "    if k == 5 then\n"
  "      local a = {}\n"
  "      for i = 1, byte() % 4 do\n"
  "        local e = byte() % 6\n"
  "        if e == 5 then a[i] = {} else a[i] = scalar(e) end\n"
  "      end\n"
  "      if byte() % 11 == 10 then a[#a + 2] = 1 end -- a hole\n"
  "      t[key] = a\n"
  "    else\n"
  "      t[key] = scalar(k)\n"
  "    end\n"
  "  end\n"
  "  return t, bytes(byte() % 12), byte()\n"
  "end\n"
  "-- Whether the final table must be refused (a key seen twice keeps its\n"
  "-- last value, so this looks at the table, not at how it was made).\n"
  "local function scalar_bad(v)\n"
  "  if type(v) == 'string' then return not text_ok(v) end\n"
  "  if type(v) == 'number' then return v ~= v or v == 1/0 or v == -1/0 end\n"
  "  return not (type(v) == 'boolean' or v == NULL)\n"
  "end\n"
  "local function refused(t)\n"
  "  for k, v in pairs(t) do\n"
  "    if type(k) ~= 'string' or k == '' or not text_ok(k) then return true end\n"
  "    if type(v) == 'table' then\n"
  "      local n, max = 0, 0\n"
  "      for i, e in pairs(v) do\n"
  "        n = n + 1\n"
  "        if math.type(i) ~= 'integer' or i < 1 then return true end\n"
  "        if i > max then max = i end\n"
  "        if scalar_bad(e) then return true end\n"
  "      end\n"
  "      if n ~= max then return true end -- a hole\n"
  "    elseif scalar_bad(v) then\n"
  "      return true\n"
  "    end\n"
  "  end\n"
  "  return false\n"
  "end\n"
  "local function expected_pairs(t)\n"
  "  local keys = {}\n"
  "  for k in pairs(t) do keys[#keys + 1] = k end\n"
  "  table.sort(keys)\n"
  "  local out = {}\n"
  "  for _, k in ipairs(keys) do\n"
  "    local v = t[k]\n"
  "    local list = type(v) == 'table' and v or { v }\n"
  "    for i = 1, #list do\n"
  "      if list[i] ~= NULL then out[#out + 1] = { k, list[i] } end\n"
  "    end\n"
  "  end\n"
  "  return out\n"
  "end\n"
  "local function check_value(got, v, where)\n"
  "  if type(v) == 'string' then\n"
  "    assert(got == enc(v), where .. ': string')\n"
  "  elseif type(v) == 'boolean' then\n"
  "    assert(got == tostring(v), where .. ': boolean')\n"
  "  elseif math.type(v) == 'integer' then\n"
  "    assert(got == ('%d'):format(v), where .. ': integer')\n"
  "  else\n"
  "    assert(got:find('^%-?[%d.eE+%-]+$'), where .. ': float text ' .. got)\n"
  "    assert(tonumber(got) == v, where .. ': float ' .. got)\n"
  "  end\n"
  "end\n"
  "return function(b)\n"
  "  local t, path, maxb = build(b)\n"
  "  local bad = refused(t)\n"
  "  local ok, q = pcall(encode_query, t)\n"
  "  if bad then\n"
  "    assert(not ok, 'accepted a query the reference refuses')\n"
  "    assert(tostring(q):find('^query: '), 'error text: ' .. tostring(q))\n"
  "    return\n"
  "  end\n"
  "  assert(ok, 'refused a good query: ' .. tostring(q))\n"
  "  local want = expected_pairs(t)\n"
  "  local i = 0\n"
  "  for pair in (q .. '&'):gmatch('([^&]*)&') do\n"
  "    if q == '' then break end\n"
  "    i = i + 1\n"
  "    local w = want[i]\n"
  "    assert(w, 'extra pair ' .. pair)\n"
  "    local k, v = pair:match('^([^=]*)=(.*)$')\n"
  "    assert(k == enc(w[1]), 'key ' .. i)\n"
  "    check_value(v, w[2], 'pair ' .. i)\n"
  "  end\n"
  "  assert(i == #want, 'pairs missing')\n"
  "  local base = (maxb % 3 == 0) and 'http://127.0.0.1:1/x?y=1' or 'http://127.0.0.1:1'\n"
  "  local sep = (base:find('?', 1, true) or path:find('?', 1, true)) and '&' or '?'\n"
  "  local url = base .. path .. (q ~= '' and (sep .. q) or '')\n"
  "  local cut = path:find('[?#]')\n"
  "  local qpath = cut and path:sub(1, cut - 1) or path\n"
  "  local max = #url - maxb % 2\n"
  "  local u, p = request_url(base, path, t, max)\n"
  "  if #url > max then\n"
  "    assert(u == nil and p == #url, 'too long: nil and the length')\n"
  "  else\n"
  "    assert(u == url, 'url')\n"
  "    assert(p == qpath, 'qpath')\n"
  "  end\n"
  "  local u2, p2 = request_url(base, path, nil, -1)\n"
  "  assert(u2 == base .. path and p2 == qpath, 'url without a query')\n"
  "end\n";

static const lua_CFunction under_test[] = {kupe_encode_query, kupe_request_url};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_lua_check("query", harness, sizeof(harness) - 1, under_test,
                 (int)(sizeof(under_test) / sizeof(under_test[0])), data, size);
  return 0;
}
