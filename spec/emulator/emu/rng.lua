--- Deterministic pseudo-random numbers and UUIDs (LuaJIT `bit`).
--
-- Counter-based: a generator is a 32-bit counter that is hashed on every
-- draw (splitmix-style, with the "lowbias32" integer hash). A stream is
-- named by (seed, salt, index), so session 73 of seed 1 is the same draw
-- sequence however many sessions exist or in which order they are made.
-- All arithmetic stays exact in doubles (32x32 products are split).

local bit = require "bit"
local bxor, rshift = bit.bxor, bit.rshift
local floor, format = math.floor, string.format

local TWO32 = 4294967296

local M = {}

-- (a * b) mod 2^32 for 0 <= a, b < 2^32, without losing bits in a double.
local function mul32(a, b)
  local alo = a % 65536
  local ahi = (a - alo) / 65536
  return ((ahi * b % 65536) * 65536 + alo * b) % TWO32
end

local function hash32(x)
  x = bxor(x, rshift(x, 16)) % TWO32
  x = mul32(x, 0x7feb352d)
  x = bxor(x, rshift(x, 15)) % TWO32
  x = mul32(x, 0x846ca68b)
  x = bxor(x, rshift(x, 16)) % TWO32
  return x
end
M.hash32 = hash32

-- A 32-bit value from a string (FNV-1a, then hashed).
local function hash_string(s)
  local h = 2166136261
  for i = 1, #s do
    h = mul32(bxor(h, s:byte(i)) % TWO32, 16777619)
  end
  return hash32(h)
end

local salt_hashes = {}

local Rng = {}
Rng.__index = Rng

--- A generator for stream (seed, salt, index). `salt` is a string naming
-- the kind of thing generated ("session", "agent", ...).
function M.new(seed, salt, index)
  local s = hash32((seed % TWO32 + 0x2545f491) % TWO32)
  salt = salt or ""
  local hs = salt_hashes[salt]
  if not hs then hs = hash_string(salt); salt_hashes[salt] = hs end
  s = hash32(bxor(s, hs) % TWO32)
  s = hash32((s + (index or 0) * 0x9e3779b9) % TWO32)
  return setmetatable({ s = s }, Rng)
end

--- Next 32-bit unsigned value.
function Rng:u32()
  self.s = (self.s + 0x9e3779b9) % TWO32
  return hash32(self.s)
end

--- Integer in [lo, hi].
function Rng:int(lo, hi)
  return lo + floor(self:u32() / TWO32 * (hi - lo + 1))
end

--- Float in [0, 1).
function Rng:float()
  return self:u32() / TWO32
end

--- True with probability p.
function Rng:chance(p)
  return self:u32() < p * TWO32
end

--- A random element of `list`.
function Rng:pick(list)
  return list[1 + floor(self:u32() / TWO32 * #list)]
end

--- Pick from `{ {weight, value}, ... }`.
function Rng:weighted(choices)
  local total = 0
  for _, c in ipairs(choices) do total = total + c[1] end
  local x = self:float() * total
  for _, c in ipairs(choices) do
    x = x - c[1]
    if x < 0 then return c[2] end
  end
  return choices[#choices][2]
end

--- `n` random decimal digits.
function Rng:digits(n)
  local out = {}
  for i = 1, n do out[i] = self:int(0, 9) end
  return table.concat(out)
end

--- A version 4 UUID string.
function Rng:uuid()
  local a, b, c, d = self:u32(), self:u32(), self:u32(), self:u32()
  return format("%08x-%04x-%04x-%04x-%04x%08x",
    a, floor(b / 65536), 0x4000 + b % 4096,
    0x8000 + floor(c / 65536) % 0x4000, c % 65536, d)
end

--- Lower-case hex string of `n` characters.
function Rng:hex(n)
  local out = {}
  for i = 1, math.ceil(n / 8) do out[i] = format("%08x", self:u32()) end
  return table.concat(out):sub(1, n)
end

return M
