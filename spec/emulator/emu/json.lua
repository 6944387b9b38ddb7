--- JSON for the emulator, with array identity.
--
-- Debian's lua-cjson 2.1.0 decodes `[]` and `{}` alike and encodes every
-- empty table as `{}`. An API that stores what a client sent must echo
-- `"variable_names": []` back as `[]`, so this module keeps track of arrays:
--
-- * decode: cjson does the parsing. Empty arrays outside strings are first
--   rewritten to a one-element array holding a sentinel string; a walk over
--   the result then empties those and gives every array `array_mt`.
-- * encode: a small encoder that knows `array_mt` (so an empty marked
--   table is `[]`), raw pre-encoded fragments (`raw`), and key orders
--   (`order`). Objects without an order have their keys sorted, so the same
--   value always gives the same bytes, whatever the hash seed. `/` is not
--   escaped (FastAPI does not), numbers are integers when integral.
--
-- Plain Lua 5.1 to 5.4 and LuaJIT: the spec helper uses it under busted too.
-- JSON null is `json.null` (cjson's lightuserdata).

local cjson = require "cjson.safe"

local type, pairs, next, tostring, tonumber = type, pairs, next, tostring, tonumber
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local concat, sort = table.concat, table.sort
local format, byte, floor = string.format, string.byte, math.floor
local math_type, tointeger = math.type, math.tointeger

local M = {}

M.null = cjson.null

--- Metatable that marks a table as a JSON array (empty or not).
local array_mt = { __name = "emu.json.array" }
M.array_mt = array_mt

--- Metatable of a pre-encoded JSON fragment (`{text}`).
local raw_mt = { __name = "emu.json.raw" }

--- Mark `t` (or a new table) as an array and return it.
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

--- A JSON text inserted as is (it must be valid JSON).
function M.raw(text)
  return setmetatable({ text }, raw_mt)
end

--- A metatable that makes objects list `keys` first, in that order (the
-- remaining keys follow, sorted). Share one per shape: `setmetatable(t, m)`.
function M.order(keys)
  local rank = {}
  for i, k in ipairs(keys) do rank[k] = i end
  return { __name = "emu.json.object", __order = keys, __rank = rank }
end

------------------------------------------------------------------------
-- Encoder

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
local function escape_char(c)
  return escapes[c] or format("\\u%04x", byte(c))
end

-- True when `s` has a character JSON must escape. LuaJIT compiles a byte
-- loop into fast code; PUC Lua is faster with a pattern.
local needs_escape
if jit then
  local special = {}
  for c = 0, 31 do special[c] = true end
  special[34], special[92], special[127] = true, true, true
  needs_escape = function(s)
    for i = 1, #s do
      if special[byte(s, i)] then return true end
    end
    return false
  end
else
  needs_escape = function(s)
    return s:find('[%c"\\]') ~= nil
  end
end

local function escape(s)
  if needs_escape(s) then s = s:gsub('[%c"\\]', escape_char) end
  return s
end

local function encode_string(s)
  return '"' .. escape(s) .. '"'
end

local integer_text
if math_type then                     -- Lua 5.3+: tostring(2.0) is "2.0"
  integer_text = function(x) return format("%d", x) end
else                                  -- LuaJIT/5.1: tostring uses %.14g
  integer_text = function(x)
    if x > -1e14 and x < 1e14 then return tostring(x) end
    return format("%d", x)
  end
end

local function encode_number(x)
  if math_type and math_type(x) == "integer" then
    return tostring(x)
  end
  if x == floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then
    return integer_text(x)
  end
  if x ~= x or x == math.huge or x == -math.huge then
    return "null"                     -- JSON has no NaN or infinity
  end
  local s = format("%.15g", x)        -- shortest form that reads back equal
  if tonumber(s) ~= x then
    s = format("%.16g", x)
    if tonumber(s) ~= x then s = format("%.17g", x) end
  end
  return s
end

local function key_less(a, b)
  return tostring(a) < tostring(b)
end

-- `"key":` for each key of an order, made once per order metatable.
local key_text_cache = setmetatable({}, { __mode = "k" })

local encode_value

local function encode_object(t, mt, buf, n, depth)
  local keys, nk = {}, 0
  local rank = mt and mt.__rank
  local ktext
  if rank then
    ktext = key_text_cache[mt]
    if not ktext then
      ktext = {}
      for _, k in ipairs(mt.__order) do ktext[k] = encode_string(k) .. ":" end
      key_text_cache[mt] = ktext
    end
    for _, k in ipairs(mt.__order) do
      if rawget(t, k) ~= nil then nk = nk + 1; keys[nk] = k end
    end
  end
  local first_rest, all_strings = nk + 1, true
  for k in pairs(t) do
    if not (rank and rank[k]) then
      nk = nk + 1; keys[nk] = k
      if type(k) ~= "string" then all_strings = false end
    end
  end
  if nk > first_rest then
    if first_rest == 1 then
      sort(keys, not all_strings and key_less or nil)
    else
      local rest = {}
      for i = first_rest, nk do rest[#rest + 1] = keys[i] end
      sort(rest, not all_strings and key_less or nil)
      for i = 1, #rest do keys[first_rest + i - 1] = rest[i] end
    end
  end
  n = n + 1; buf[n] = "{"
  for i = 1, nk do
    local k = keys[i]
    if i > 1 then n = n + 1; buf[n] = "," end
    local text = ktext and ktext[k]
    if not text then
      local tk = type(k)
      if tk ~= "string" and tk ~= "number" then
        error("cannot encode a " .. tk .. " key as JSON", 0)
      end
      text = encode_string(tostring(k)) .. ":"
    end
    n = n + 1; buf[n] = text
    n = encode_value(t[k], buf, n, depth)
  end
  n = n + 1; buf[n] = "}"
  return n
end

local function encode_array(t, len, buf, n, depth)
  n = n + 1; buf[n] = "["
  for i = 1, len do
    if i > 1 then n = n + 1; buf[n] = "," end
    n = encode_value(t[i], buf, n, depth)
  end
  n = n + 1; buf[n] = "]"
  return n
end

-- Length of `t` when it is a plain sequence (keys 1..n), else nil.
local function sequence_length(t)
  local len = #t
  if len == 0 then return nil end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  if count == len then return len end
  return nil
end

encode_value = function(v, buf, n, depth)
  local tv = type(v)
  if tv == "string" then
    buf[n + 1] = '"'; buf[n + 2] = escape(v); buf[n + 3] = '"'
    n = n + 3
  elseif tv == "number" then
    n = n + 1; buf[n] = encode_number(v)
  elseif tv == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif v == nil or v == M.null then
    n = n + 1; buf[n] = "null"
  elseif tv == "table" then
    if depth > 100 then error("JSON nesting too deep (a cycle?)", 0) end
    local mt = getmetatable(v)
    if mt == raw_mt then
      n = n + 1; buf[n] = v[1]
    elseif mt == array_mt then
      n = encode_array(v, #v, buf, n, depth + 1)
    elseif mt and mt.__rank then
      n = encode_object(v, mt, buf, n, depth + 1)
    elseif next(v) == nil then
      n = n + 1; buf[n] = "{}"
    else
      local len = sequence_length(v)
      if len then
        n = encode_array(v, len, buf, n, depth + 1)
      else
        n = encode_object(v, nil, buf, n, depth + 1)
      end
    end
  else
    error("cannot encode a " .. tv .. " as JSON", 0)
  end
  return n
end

--- Encode a Lua value as JSON text. Raises on values JSON cannot hold.
function M.encode(v)
  local buf = {}
  local n = encode_value(v, buf, 0, 0)
  return concat(buf, "", 1, n)
end

------------------------------------------------------------------------
-- Decoder

-- Placeholder for an empty array: a string no client sends (NUL bytes).
local SENTINEL = "\0emu-empty-array\0"
local SENTINEL_JSON = '"\\u0000emu-empty-array\\u0000"'

-- Rewrite every `[ ]` outside strings to `["<sentinel>"]`.
local function mark_empty(s)
  local out, n, pos, last = {}, 0, 1, 1
  while true do
    local a = s:find('["%[]', pos)
    if not a then break end
    if byte(s, a) == 34 then          -- a string: jump past its end
      local i = a + 1
      while true do
        local q = s:find('["\\]', i)
        if not q then return s end    -- unterminated; cjson will say so
        if byte(s, q) == 92 then
          i = q + 2
        else
          pos = q + 1
          break
        end
      end
    else
      local after = s:match("^[ \t\r\n]*%]()", a + 1)
      if after then
        n = n + 1; out[n] = s:sub(last, a)
        n = n + 1; out[n] = SENTINEL_JSON .. "]"
        last, pos = after, after
      else
        pos = a + 1
      end
    end
  end
  if n == 0 then return s end
  n = n + 1; out[n] = s:sub(last)
  return concat(out, "", 1, n)
end

-- Give arrays array_mt, empty the sentinel arrays, and (Lua 5.3+) turn
-- integral floats back into integers.
local function fix(v)
  local tv = type(v)
  if tv == "table" then
    if rawget(v, 1) ~= nil then
      if v[1] == SENTINEL and #v == 1 then
        v[1] = nil
      else
        for i = 1, #v do v[i] = fix(v[i]) end
      end
      return setmetatable(v, array_mt)
    end
    for k, x in pairs(v) do
      local tx = type(x)
      if tx == "table" or (tointeger and tx == "number") then
        v[k] = fix(x)
      end
    end
    return v
  elseif tointeger and tv == "number" then
    return tointeger(v) or v
  end
  return v
end

--- Decode JSON text. Returns the value, or nil and cjson's message.
function M.decode(s)
  if type(s) ~= "string" then return nil, "expected a string" end
  if s:find("[", 1, true) and s:find("%[[ \t\r\n]*%]") then
    s = mark_empty(s)
  end
  local v, err = cjson.decode(s)
  if v == nil then return nil, err end
  return fix(v)
end

return M
