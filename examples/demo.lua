-- A tour of kupe-lua against a Kupe API (the local emulator when run by
-- `./run.sh demo`): who am I, agents, an outbound call, the call logs,
-- a streamed export, a batch campaign, the knowledge base, and what an
-- error looks like.
--
--   KUPE_BASE_URL=... KUPE_API_KEY=... lua5.4 examples/demo.lua
-- (`./run.sh demo` starts the emulator and sets both.)
local kupe = require "kupe"

local base = os.getenv("KUPE_BASE_URL") or os.getenv("KUPE_EMULATOR_URL")
local client = kupe.new {
  base_url = base,
  api_key = os.getenv("KUPE_API_KEY") or "emu_test_key",
}

local function say(fmt, ...) io.write((fmt):format(...), "\n") end
local function section(title) io.write("\n== ", title, "\n") end

section("Who am I")
local me = assert(client:me())
say("user %s (%s), authenticated by %s", me.user_id, tostring(me.email), me.auth)

section("Agents")
local agents = assert(client.agents:list())
for _, a in ipairs(agents) do
  local agent = a.agent or a
  say("  %-28s active=%-5s %s", agent.name, tostring(agent.is_active), agent.id)
end
local created = assert(client.agents:create_simple { name = "Demo reception",
  description = "Books appointments" })
local agent_id = created.agent.id
say("created agent %s (%s)", created.agent.name, agent_id)

section("An outbound call")
local phones = assert(client.phone:list())
local line = phones[1]
local call = assert(client.calls:create { to = "+919800000001", agent_id = agent_id,
  phone_number_id = line.id, variables = { patient = "R. Iyer", slot = "4 pm" } })
say("call %s: %s from %s to %s", call.status, call.request_id, tostring(call.from_phone_number),
  call.target_number)
local session = assert(client.call_logs:get(call.request_id))
say("its session is in the call logs: %s, %s", session.call_type, session.status)

section("Call logs, every page")
local by_type, total_seconds, n = {}, 0, 0
for s in client.call_logs:sessions { page_size = 100 } do
  by_type[s.call_type] = (by_type[s.call_type] or 0) + 1
  total_seconds = total_seconds + (s.duration_seconds or 0)
  n = n + 1
end
say("%d sessions, %.1f hours of calls", n, total_seconds / 3600)
for kind, count in pairs(by_type) do say("  %-9s %d", kind, count) end

section("Export one session as a ZIP, streamed to disk")
local dir = os.getenv("TMPDIR") or "/tmp"
local path = ("%s/kupe-demo-%d.zip"):format(dir, os.time())
local export = assert(client.call_logs:export { request_id = call.request_id, path = path,
  on_progress = function(got, total) io.write(("\r  %d / %s bytes"):format(got, tostring(total))) end })
io.write("\n")
say("wrote %s (%d bytes, %s)", export.path, export.bytes, export.content_type)
os.remove(path)

section("A batch campaign")
local batch = assert(client.batches:create { agent_id = agent_id, caller_phone_id = line.id,
  batch_name = "Demo reminders", variable_names = { "first_name" }, batch_size = 2 })
local batch_id = batch.data.id
assert(client.batches:upload(batch_id, {
  { to_phonenumber = "+919800000011", first_name = "Meera" },
  { to_phonenumber = "+919800000012", first_name = "Arjun" },
  { to_phonenumber = "+919800000013", first_name = "Divya" },
}))
assert(client.batches:start(batch_id))
local counts = assert(client.batches:wait(batch_id, { interval = 0.2, timeout = 30,
  on_progress = function(c) io.write(("\r  calling %d, completed %d, failed %d, no answer %d  ")
    :format(c.calling, c.completed, c.failed, c.no_answer)) end }))
io.write("\n")
say("batch finished: %d completed, %d failed, %d no answer of %d", counts.completed, counts.failed,
  counts.no_answer, counts.total)

section("Knowledge base")
local doc = ("%s/kupe-demo-%d.txt"):format(dir, os.time())
local f = assert(io.open(doc, "w"))
f:write("Visitors may park in lot B behind the clinic.\n",
  "The clinic is open Monday to Saturday, 9 am to 6 pm.\n")
f:close()
local upload = assert(client.files:upload { path = doc, agent_id = agent_id })
os.remove(doc)
say("uploaded %s (%d bytes, %d chunks)", upload.original_filename, upload.file_size, upload.chunk_count)
local hits = assert(client.knowledge:search { agent_id = agent_id, query = "where can I park",
  mode = "semantic", limit = 2 })
for _, hit in ipairs(hits) do say("  %.3f  %s", hit.score, hit.text) end

section("Errors are values")
local _, err = client.call_logs:get("no-such-request")
say("%s", tostring(err))
local _, err2 = client:request("GET", "/api/v1/call-analytics", { query = { page = 0, page_size = 10 } })
say("%s", tostring(err2))
local ok, msg = pcall(client.call_logs.list, client.call_logs, { page = 1, page_size = 500 })
say("a caller mistake raises before anything is sent: %s", ok and "?" or msg)

assert(client.agents:delete(agent_id, { force = true }))
client:close()
say("\ndone")
