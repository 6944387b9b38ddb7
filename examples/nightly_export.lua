-- A nightly job: walk every call session, write a CSV summary, and keep a
-- ZIP of each failed call for review. Stops with a readable message and a
-- non-zero exit status if the API fails part-way: a half-written report is
-- never left looking complete.
--
--   KUPE_API_KEY=... lua5.4 examples/nightly_export.lua OUT_DIR
local kupe = require "kupe"

local out = arg[1] or "."
local client = kupe.new { base_url = os.getenv("KUPE_BASE_URL") or os.getenv("KUPE_EMULATOR_URL") }

local csv_path = out .. "/sessions.csv"
local tmp = csv_path .. ".part"
local csv = assert(io.open(tmp, "w"))
csv:write("request_id,call_type,status,started_at,duration_seconds,agent_name\n")

local function field(v)
  v = v == nil and "" or tostring(v)
  if v:find('[,"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local failed = {}
local ok, count = client.call_logs:sessions { page_size = 100 }:each(function(s)
  csv:write(table.concat({ field(s.request_id), field(s.call_type), field(s.status),
    field(s.started_at), field(s.duration_seconds), field(s.agent_name) }, ","), "\n")
  if s.status == "failed" then failed[#failed + 1] = s.request_id end
end)
csv:close()
if not ok then
  os.remove(tmp)
  io.stderr:write("nightly export failed: ", tostring(count), "\n")
  os.exit(1)
end
assert(os.rename(tmp, csv_path))

local saved = 0
for _, id in ipairs(failed) do
  local zip, zerr = client.call_logs:export { request_id = id, path = ("%s/failed-%s.zip"):format(out, id) }
  if zip then saved = saved + 1 else io.stderr:write("skipped ", id, ": ", tostring(zerr), "\n") end
end
print(("%d sessions in %s, %d failed calls saved as ZIPs"):format(count, csv_path, saved))
