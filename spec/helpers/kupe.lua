-- Spec helper: clients wired to the emulator. The key comes from
-- KUPE_TEST_KEY when set, so the secret-hygiene run can use a canary key
-- for the whole suite; every reset registers it with the emulator.
local emu = require "spec.helpers.emulator"
local kupe = require "kupe"

local M = {}

M.KEY = os.getenv("KUPE_TEST_KEY") or "emu_test_key"
M.BEARER = os.getenv("KUPE_TEST_BEARER") or "emu_test_jwt"
M.emu = emu

--- The running emulator's addresses (started on first use).
function M.env()
  return emu.start()
end

--- Resets the emulator's state with the test credentials registered.
function M.reset(opts)
  opts = opts or {}
  local keys = opts.api_keys or {}
  local has = false
  for _, k in ipairs(keys) do if k.key == M.KEY then has = true end end
  if not has then keys[#keys + 1] = { key = M.KEY, scopes = true } end
  opts.api_keys = keys
  opts.bearer_tokens = opts.bearer_tokens or { M.BEARER }
  M.env()
  return emu.reset(opts)
end

--- A client for the emulator. Pass api_key = false for none. Backoff is
-- short so retry tests stay quick; Retry-After waits are real.
function M.client(opts)
  local env = M.env()
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.api_key == false then
    o.api_key = nil
  elseif o.api_key == nil and o.bearer == nil then
    o.api_key = M.KEY
  end
  o.base_url = o.base_url or env.url
  if o.backoff_base == nil then o.backoff_base = 0.01 end
  if o.backoff_max == nil then o.backoff_max = 0.05 end
  return kupe.new(o)
end

--- Decodes a raw query string ("a=1&b=x%20y") into a table; repeated
-- keys become arrays.
function M.parse_query(q)
  local out = {}
  local function unescape(s)
    return (s:gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end))
  end
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    if out[k] == nil then out[k] = v
    elseif type(out[k]) == "table" then table.insert(out[k], v)
    else out[k] = { out[k], v } end
  end
  return out
end

--- The query of the emulator's last request, decoded.
function M.last_query()
  return M.parse_query(emu.stats().last_request.query)
end

--- Resident set size of this process in KiB (Linux).
function M.rss_kib()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

--- Seconds elapsed while running fn, and its results.
local function pack(...) return { n = select("#", ...), ... } end

function M.timed(fn, ...)
  local core = require "kupe.core"
  local t0 = core.now()
  local r = pack(fn(...))
  return core.now() - t0, r
end

return M
