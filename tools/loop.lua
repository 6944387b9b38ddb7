-- A request loop for leak and soak checks: n requests through one client,
-- with a share of them hit by injected faults. Prints one summary line;
-- exits non-zero if any request is unaccounted for.
--   lua5.4 tools/loop.lua N [fault_rate]
-- Needs KUPE_EMULATOR_URL (tools/with-emulator sets it).
local kupe = require "kupe"
local emu = require "spec.helpers.emulator"

local n = tonumber(arg[1]) or 1000
local rate = tonumber(arg[2]) or 0
local key = os.getenv("KUPE_TEST_KEY") or "emu_test_key"

local env = emu.start()
emu.reset { api_keys = { { key = key, scopes = true } } }
local client = kupe.new { api_key = key, base_url = env.url, backoff_base = 0.001,
  backoff_max = 0.002, timeout = 5 }

local FAULTS = {
  { status = 503, headers = { ["Retry-After"] = "0" } },
  { status = 500 },
  { drop = true },
  { malformed = true },
  { status = 404, json = { detail = "Not Found" } },
  { cut = 10 },
}
math.randomseed(7)
local ok, failed, queued = 0, 0, 0
for i = 1, n do
  if rate > 0 and math.random() < rate then
    emu.fault("GET /api/v1/me", FAULTS[(queued % #FAULTS) + 1], 1)
    queued = queued + 1
  end
  local data, err = client:me()
  if data then ok = ok + 1 elseif kupe.is_error(err) then failed = failed + 1 end
  if i % 1000 == 0 then collectgarbage() end
end
client:close()
io.write(("loop: %d requests, %d ok, %d errors, %d faults injected\n"):format(n, ok, failed, queued))
os.exit(ok + failed == n and 0 or 1)
