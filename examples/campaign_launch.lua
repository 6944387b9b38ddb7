-- Launch a calling campaign from a CSV of contacts: a people group, the
-- upload, a campaign on the first agent and active line, readiness, start,
-- wait for the last call, and the results as CSV.
--
--   KUPE_API_KEY=... lua5.4 examples/campaign_launch.lua contacts.csv results.csv
local kupe = require "kupe"

local contacts, results = arg[1], arg[2] or "results.csv"
local client = kupe.new { base_url = os.getenv("KUPE_BASE_URL") or os.getenv("KUPE_EMULATOR_URL") }

local made
if not contacts or contacts == "" then
  -- No file given: write a small one, so the example runs as it is.
  contacts = ("%s/kupe-contacts-%d.csv"):format(os.getenv("TMPDIR") or "/tmp", os.time())
  made = contacts
  local f = assert(io.open(contacts, "w"))
  f:write("name,phone,plan\n", "Meera,+919800000021,gold\n", "Arjun,+919800000022,silver\n",
    "Divya,+919800000023,gold\n")
  f:close()
end

local group = assert(client.people_groups:create { name = "Renewals " .. os.date("%Y-%m-%d") }).group
local imported = assert(client.people_groups:upload(group.id, { path = contacts }))
if made then os.remove(made) end
print(("imported %d contacts (%d skipped) into %q"):format(imported.inserted_count,
  imported.skipped_count, group.name))

local agent = assert(client.agents:list())[1]
local line
for _, p in ipairs(assert(client.phone:list())) do
  if p.is_active then line = p break end
end
local campaign = assert(client.campaigns:create {
  agent_id = agent.id, caller_phone_id = line.id, batch_name = "Renewal reminders",
  variable_names = { "name", "plan" }, batch_size = 2,
}).campaign
assert(client.campaigns:add_group(campaign.id, group.id))

local ready = assert(client.campaigns:readiness(campaign.id))
if not ready.can_start then
  error("the campaign cannot start: " .. table.concat(ready.blockers, "; "), 0)
end
assert(client.campaigns:start(campaign.id))
local done = assert(client.campaigns:wait(campaign.id, { interval = 0.2, timeout = 120,
  on_poll = function(c) io.write(("\r  %s  "):format(c.status)) end }))
io.write("\n")
local file = assert(client.campaigns:export(campaign.id, { format = "csv", path = results }))
print(("campaign %s %s; results in %s (%d bytes)"):format(campaign.id, done.campaign.status,
  file.path, file.bytes))
