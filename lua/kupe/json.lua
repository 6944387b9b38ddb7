--- JSON for kupe-lua: lua-cjson, with empty arrays that stay arrays.
--
-- Debian's lua-cjson 2.1.0 decodes `[]` and `{}` to the same empty table
-- and encodes every empty table as `{}`, so an agent read and written back
-- would turn `"variable_names": []` into an object. Here an empty array
-- decodes to a table carrying `array_mt`, and any empty table carrying it
-- encodes as `[]`. Where the installed lua-cjson has its own `array_mt`
-- (newer releases), that one is used and cjson does the work.
--
-- Decoding goes through kupe.core's decoder (src/jsondec.c), which gives
-- the same values as cjson and these passes in a fraction of the time,
-- and leaves malformed or unusual text to cjson.
-- @module kupe.json

local core = require "kupe.core"
local cjson = require "cjson.safe"

local M = {}

local J = cjson.new()
J.decode_invalid_numbers(false) -- NaN, Infinity and hex are not JSON
J.encode_invalid_numbers(false)

local native = rawget(cjson, "array_mt") ~= nil
  and rawget(cjson, "decode_array_with_array_mt") ~= nil

--- Metatable that marks a table as a JSON array.
M.array_mt = native and cjson.array_mt or { __name = "kupe.array" }
--- The JSON null value (lua-cjson's light userdata).
M.null = cjson.null
--- Whether lua-cjson itself keeps empty arrays (else the C passes do).
M.native_arrays = native

if native then
  J.decode_array_with_array_mt(true)
end

local mark_empty, fix_empty = core.json_mark_empty, core.json_fix_empty
local utf8_valid = core.utf8_valid
local find = string.find
local jdecode, jencode = J.decode, J.encode
local fast_decode = core.json_decode

--- Marks t as an array (so an empty t encodes as `[]`) and returns it.
function M.array(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then
    error("bad argument #1 to 'array' (table expected, got " .. type(t) .. ")", 2)
  end
  return setmetatable(t, M.array_mt)
end

-- cjson, with the empty-array passes when cjson lacks array_mt.
local function cjson_decode(s)
  if native then return jdecode(s) end
  local marked, n, paths = mark_empty(s)
  local v, err = jdecode(marked)
  if v == nil then return nil, err end
  if n > 0 then fix_empty(v, n, M.array_mt, paths) end
  return v
end

-- core.json_decode gives what cjson_decode gives, faster, and declines
-- (returns nil) for text it leaves to cjson: malformed or unusual JSON.
-- Whether this lua-cjson is the one it matches is checked once, here, on
-- a text with every kind of value: otherwise cjson decodes everything.
local function same(a, b)
  if type(a) ~= type(b) or getmetatable(a) ~= getmetatable(b) then return false end
  if type(a) == "number" then
    return (math.type == nil or math.type(a) == math.type(b)) and a == b and 1 / a == 1 / b
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local PROBE = '{"n":[1,-0,2.5,1e2,-3E-2,12345678901234567],"s":"a\\"\\\\\\/\\b\\f\\n\\r\\t'
  .. '\\u00e9\\u20ac\\ud83d\\ude00","e":[],"o":{},"a":[[],{}],"l":[true,false,null]}'
local use_fast = fast_decode ~= nil and same(fast_decode(PROBE, M.array_mt, native), cjson_decode(PROBE))

--- Decodes JSON text; returns the value, or nil and cjson's message.
function M.decode(s)
  if use_fast then
    local v = fast_decode(s, M.array_mt, native)
    if v ~= nil then return v end
  end
  return cjson_decode(s)
end

--- Whether decode uses kupe.core's decoder (else cjson for everything).
M.fast_decode = use_fast

local SENTINEL = "\0kupe:[]"
local SENTINEL_JSON = '%["\\u0000kupe:%[%]"%]'

local function has_empty_array(v, depth)
  if depth > 1000 then return false end
  if getmetatable(v) == M.array_mt and next(v) == nil then return true end
  for _, x in pairs(v) do
    if type(x) == "table" and has_empty_array(x, depth + 1) then return true end
  end
  return false
end

-- A copy in which every empty marked array holds the sentinel; the
-- caller's table is never changed.
local function with_sentinels(v, seen)
  if getmetatable(v) == M.array_mt and next(v) == nil then return { SENTINEL } end
  if seen[v] then error("json: cannot encode a table that contains itself", 0) end
  seen[v] = true
  local out = {}
  for k, x in pairs(v) do
    out[k] = type(x) == "table" and with_sentinels(x, seen) or x
  end
  seen[v] = nil
  return out
end

-- cjson copies bytes of 0x80 and above as they are: JSON text must be
-- UTF-8 (RFC 8259), so anything else is refused, not sent. So is a NUL
-- character (cjson writes \u0000; text columns refuse it, and in a name
-- or a number it is only ever a mistake). A \u0000 preceded by an odd
-- number of backslashes is one; by an even number, the text "\u0000".
local function checked(s, err)
  if s == nil then return nil, err end
  if not utf8_valid(s) then return nil, "a string is not valid UTF-8" end
  if not find(s, "u0000", 1, true) then return s end -- the usual body: one plain scan
  for slashes in s:gmatch("(\\+)u0000") do
    if #slashes % 2 == 1 then return nil, "a string contains a NUL character" end
  end
  return s
end

--- Encodes a value; returns the text, or nil and cjson's message (or
-- why a string cannot be sent: not valid UTF-8, or a NUL character).
function M.encode(v)
  if native or type(v) ~= "table" or not has_empty_array(v, 0) then
    return checked(jencode(v))
  end
  local ok, copy = pcall(with_sentinels, v, {})
  if not ok then return nil, copy end
  local s, err = jencode(copy)
  if not s then return nil, err end
  return checked((s:gsub(SENTINEL_JSON, "[]")))
end

return M
