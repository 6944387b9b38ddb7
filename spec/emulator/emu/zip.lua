--- ZIP archives for the call-log export: small ones built in memory, and
-- big ones streamed with a Content-Length and nothing held in memory.
--
-- Entries are stored (method 0), so sizes are known up front. CRC-32 comes
-- from zlib (linked into nginx) through the LuaJIT FFI. A bulk archive's
-- data is one block repeated plus a tail, so its CRC is precomputed with
-- `crc32_combine` in O(log n) and the local header needs no data
-- descriptor. ZIP32 only: archives stay under 4 GiB.

local ffi = require "ffi"

ffi.cdef [[
unsigned long crc32(unsigned long crc, const char *buf, unsigned int len);
unsigned long crc32_combine(unsigned long crc1, unsigned long crc2, long len2);
]]

local zlib = ffi.C
if not pcall(function() return zlib.crc32_combine end) then
  zlib = ffi.load("libz.so.1")
end

local char, floor, concat = string.char, math.floor, table.concat

local M = {}

M.MAX_SIZE = 4000000000

local function crc32(s, crc)
  return tonumber(zlib.crc32(crc or 0, s, #s))
end
M.crc32 = crc32

local function combine(crc1, crc2, len2)
  return tonumber(zlib.crc32_combine(crc1, crc2, len2))
end

local function u16(n)
  return char(n % 256, floor(n / 256) % 256)
end

local function u32(n)
  return char(n % 256, floor(n / 256) % 256, floor(n / 65536) % 256, floor(n / 16777216) % 256)
end

-- 2026-06-30 18:00:00 in MS-DOS form, for every entry (stable bytes).
local DOS_TIME = 18 * 2048
local DOS_DATE = (2026 - 1980) * 512 + 6 * 32 + 30

local function local_header(name, crc, size)
  return concat {
    u32(0x04034b50), u16(20), u16(0x0800), u16(0), u16(DOS_TIME), u16(DOS_DATE),
    u32(crc), u32(size), u32(size), u16(#name), u16(0), name,
  }
end

local function central_header(name, crc, size, offset)
  return concat {
    u32(0x02014b50), u16(0x031e), u16(20), u16(0x0800), u16(0), u16(DOS_TIME), u16(DOS_DATE),
    u32(crc), u32(size), u32(size), u16(#name), u16(0), u16(0), u16(0), u16(0),
    u32(0x81a40000), u32(offset), name,
  }
end

local function end_record(count, cd_size, cd_offset)
  return concat {
    u32(0x06054b50), u16(0), u16(0), u16(count), u16(count), u32(cd_size), u32(cd_offset), u16(0),
  }
end

--- An archive of `entries` ({{name, data}, ...}) as a string.
function M.build(entries)
  local parts, central, offset = {}, {}, 0
  for _, e in ipairs(entries) do
    local name, data = e[1], e[2]
    local crc = crc32(data)
    local head = local_header(name, crc, #data)
    parts[#parts + 1] = head
    parts[#parts + 1] = data
    central[#central + 1] = central_header(name, crc, #data, offset)
    offset = offset + #head + #data
  end
  local cd = concat(central)
  parts[#parts + 1] = cd
  parts[#parts + 1] = end_record(#entries, #cd, offset)
  return concat(parts)
end

--- A short WAV file (16-bit mono, 8 kHz, half a second of a quiet tone).
function M.wav()
  local rate, n = 8000, 4000
  local samples = {}
  for i = 1, n do
    local v = floor(math.sin(i * 2 * math.pi * 440 / rate) * 1200) % 65536
    samples[i] = u16(v)
  end
  local data = concat(samples)
  return concat {
    "RIFF", u32(36 + #data), "WAVE", "fmt ", u32(16), u16(1), u16(1), u32(rate),
    u32(rate * 2), u16(2), u16(16), "data", u32(#data), data,
  }
end

-- A block of exactly `len` bytes of JSON lines taken from `lines` (cycled),
-- ending with a padding line so the length is exact.
local function make_block(len, lines)
  local parts, used, i = {}, 0, 1
  while #lines > 0 do
    local line = lines[i]
    if used + #line + 1 + 11 > len then break end
    parts[#parts + 1] = line
    parts[#parts + 1] = "\n"
    used = used + #line + 1
    i = i % #lines + 1
  end
  local rest = len - used
  if rest >= 11 then
    parts[#parts + 1] = '{"pad":"' .. ("x"):rep(rest - 11) .. '"}\n'
  else
    parts[#parts + 1] = ("\n"):rep(rest)
  end
  return concat(parts)
end

local BLOCK = 256 * 1024

--- A streamed archive of about `size` bytes (exactly, when size is above
-- the few bytes of ZIP overhead): one entry `name` of JSON lines.
-- Returns `write(send)` and the total length.
function M.bulk(size, name, lines)
  local overhead = 30 + 46 + 22 + 2 * #name
  local data_len = math.max(0, size - overhead)
  local k, r = floor(data_len / BLOCK), data_len % BLOCK
  local block = k > 0 and make_block(BLOCK, lines) or ""
  local tail = make_block(r, lines)

  -- CRC of block^k .. tail by doubling: crc(XX) = combine(crc X, crc X, |X|)
  local crc, power, power_len, n = 0, crc32(block), #block, k
  while n > 0 do
    if n % 2 == 1 then crc = combine(crc, power, power_len) end
    power = combine(power, power, power_len)
    power_len = power_len * 2
    n = floor(n / 2)
  end
  crc = combine(crc, crc32(tail), #tail)

  local head = local_header(name, crc, data_len)
  local cd = central_header(name, crc, data_len, 0)
  local finish = cd .. end_record(1, #cd, #head + data_len)
  local total = #head + data_len + #finish

  local function write(send)
    if not send(head) then return end
    for _ = 1, k do
      if not send(block) then return end
    end
    if #tail > 0 and not send(tail) then return end
    send(finish)
  end
  return write, total
end

return M
