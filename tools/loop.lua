-- A request loop for leak and soak checks: n library calls through one
-- client against the emulator, cycling through every kind of exchange the
-- C core handles (JSON, gzip, POST and DELETE, HEAD, custom headers,
-- streaming to a function and to a file, multipart upload, size limits,
-- an aborting sink), with a share of them hit by a random injected fault.
--
--   lua5.4 tools/loop.lua N [fault_rate] [--soak] [--record=PATH]
--
-- Every call must end in a result or a kupe error value: a raised error or
-- a missing answer is counted as unaccounted and fails the run. With
-- --soak it also samples RSS and open file descriptors after the first
-- 1,000 calls and at the end, and fails when RSS grew by more than 10% or
-- a descriptor is still open after the client was closed. Prints one summary line (and key=value figures);
-- --record writes the figures as JSON too (tools/soak does).
-- Needs the emulator (tools/with-emulator sets KUPE_EMULATOR_URL).
local kupe = require "kupe"
local emu = require "spec.helpers.emulator"

local n = tonumber(arg[1]) or 1000
local rate = tonumber(arg[2]) or 0
local soak, record = false, nil
for i = 3, #arg do
  if arg[i] == "--soak" then soak = true end
  record = arg[i]:match("^%-%-record=(.+)$") or record
end
local key = os.getenv("KUPE_TEST_KEY") or "emu_test_key"

local rss_kib = require("spec.helpers.kupe").rss_kib

-- This process's open descriptors: their count, and "fd -> target" lines
-- (for naming a leaked one). $PPID in the shell that popen starts is this
-- process. A descriptor whose link cannot be read was closed while the
-- shell looked: the write end of popen's own pipe, which this process
-- closes only after the shell has started, so the shell sometimes still
-- sees it. It is not counted.
local function fd_count()
  local p = assert(io.popen("cd /proc/$PPID/fd && for f in *; do t=$(readlink $f) && echo \"$f -> $t\"; done"))
  local count, lines = 0, {}
  for line in p:lines() do
    count = count + 1
    lines[#lines + 1] = line
  end
  p:close()
  return count, lines
end

local env = emu.start()
emu.reset { api_keys = { { key = key, scopes = true } }, sessions = 20 }
local fd_base, fd_base_list = fd_count()
local client = kupe.new { api_key = key, base_url = env.url, backoff_base = 0.001,
  backoff_max = 0.002, max_retry_after = 1, timeout = 10 }

local tmp = os.tmpname()
os.remove(tmp)
local upload = tmp .. ".upload"
do
  local f = assert(io.open(upload, "wb"))
  f:write(("upload bytes\n"):rep(100))
  f:close()
end

-- Faults for any API route; drawn at random, one request each.
local FAULTS = {
  { status = 503, headers = { ["Retry-After"] = "0" } },
  { status = 500, json = { detail = "boom" } },
  { status = 429, headers = { ["Retry-After"] = "0" } },
  { status = 404, json = { detail = "Not Found" } },
  { status = 502, content_type = "text/html", body = "<html><title>502 Bad Gateway</title></html>" },
  { drop = true },
  { malformed = true },
  { cut = 10 },
  { truncate_chunked = 5 },
  { content_type = "text/plain", body = "OK" },
  { oversize = 64 * 1024 },
  { redirect = "other" },
  { redirect = "same" },
  { delay = 0.01 },
}

-- The exchanges, in turn. Each is one library call.
local agent_id
local SHAPES = {
  function() return client:me() end,
  function() return client.call_logs:list { page = 1, page_size = 5 } end,
  function()
    local a, err = client:request("POST", "/api/v1/agents/simple",
      { json = { name = "loop agent", description = "soak" } })
    if type(a) == "table" then agent_id = a.agent and a.agent.id or a.id end
    return a, err
  end,
  function()
    local id = agent_id or "missing"
    agent_id = nil
    return client:request("DELETE", "/api/v1/agents/" .. kupe.escape(id),
      { query = { force_delete = true } })
  end,
  function()
    local got = 0
    return client.call_logs:export { request_id = "bulk", size = 20000,
      sink = function(chunk) got = got + #chunk end,
      on_progress = function() end }
  end,
  function()
    local r, err = client.call_logs:export { request_id = "bulk", size = 5000, path = tmp }
    os.remove(tmp)
    return r, err
  end,
  function() return client:request("HEAD", "/health") end,
  function()
    return client:request("GET", "/api/v1/providers/all",
      { headers = { ["X-Request-Id"] = "loop-1", ["X-Note"] = "a b" }, query = { q = "x y", n = 3 } })
  end,
  function()
    return client:request("POST", "/api/v1/me", { form = {
      { name = "field", value = "value" },
      { name = "file", path = upload, filename = "u.txt", type = "text/plain" },
    } })
  end,
  function() return client:request("GET", "/api/v1/me", { max_size = 10 }) end,
  function()
    return client.call_logs:export { request_id = "bulk", size = 20000,
      sink = function() return false, "enough" end }
  end,
  function() return client:request("PUT", "/api/v1/agents/missing", { json = { agent = {} } }) end,
}

math.randomseed(7)
local ok, failed, raised, faults = 0, 0, 0, 0
local kinds = {}
local rss_first, fd_first
local core = require "kupe.core"
local t0 = core.now()
for i = 1, n do
  if rate > 0 and math.random() < rate then
    emu.fault("* /api/*", FAULTS[math.random(#FAULTS)], 1)
    faults = faults + 1
  end
  local shape = SHAPES[(i - 1) % #SHAPES + 1]
  local done, data, err = pcall(shape)
  if not done then
    raised = raised + 1
    io.stderr:write(("loop: call %d raised: %s\n"):format(i, tostring(data)))
  elseif data ~= nil then
    ok = ok + 1
  elseif kupe.is_error(err) then
    failed = failed + 1
    local k = err.kind == "http" and tostring(err.status) or err.kind
    kinds[k] = (kinds[k] or 0) + 1
  else
    io.stderr:write(("loop: call %d returned neither a result nor an error\n"):format(i))
  end
  if i == 1000 and soak then
    collectgarbage()
    rss_first, fd_first = rss_kib(), fd_count()
  end
end
emu.clear_faults()
collectgarbage()
local rss_last, fd_last = rss_kib(), fd_count()
client:close()
os.remove(upload)
collectgarbage()
local fd_closed, fd_closed_list = fd_count()

local list = {}
for k, v in pairs(kinds) do list[#list + 1] = k .. "=" .. v end
table.sort(list)
local accounted = ok + failed
local seconds = core.now() - t0
io.write(("loop: %d calls, %d ok, %d errors, %d raised, %d unaccounted, %d faults injected, %.1f s\n")
  :format(n, ok, failed, raised, n - accounted - raised, faults, seconds))
io.write("loop: errors by kind: ", table.concat(list, " "), "\n")
local good = accounted == n
if soak and rss_first then
  local growth = (rss_last - rss_first) / rss_first * 100
  io.write(("loop: rss_after_1000=%d KiB rss_end=%d KiB growth=%.1f%% fds: before=%d after_1000=%d "
    .. "end=%d closed=%d\n"):format(rss_first, rss_last, growth, fd_base, fd_first, fd_last, fd_closed))
  if growth > 10 then
    io.write("loop: FAILED: RSS grew by more than 10%\n")
    good = false
  end
  -- Open connections come and go (the API host, the other host after a
  -- redirect); once the client is closed every descriptor must be back.
  if fd_closed ~= fd_base then
    io.write("loop: FAILED: file descriptors leaked\n")
    io.write("loop: before: ", table.concat(fd_base_list, ", "), "\n")
    io.write("loop: after close: ", table.concat(fd_closed_list, ", "), "\n")
    good = false
  end
end
if record then
  local json = require "kupe.json"
  local f = assert(io.open(record, "w"))
  f:write(assert(json.encode {
    calls = n, ok = ok, errors = failed, raised = raised, unaccounted = n - accounted,
    faults = faults, fault_rate = rate, fault_kinds = #FAULTS, kinds = table.concat(list, " "),
    rss_first = rss_first, rss_last = rss_last, fd_base = fd_base, fd_first = fd_first,
    fd_last = fd_last, fd_closed = fd_closed,
    growth = rss_first and (rss_last - rss_first) / rss_first * 100 or nil,
    seconds = seconds, passed = good,
    lua = rawget(_G, "jit") and jit.version or _VERSION,
    command = os.getenv("KUPE_LOOP_COMMAND") or ("tools/loop.lua " .. table.concat(arg, " ")),
    date = os.date("!%Y-%m-%d %H:%M UTC"),
  }), "\n")
  f:close()
end
os.exit(good and 0 or 1, true)
