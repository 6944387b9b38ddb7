--- The bench driver (Lua 5.4), started by bench/run inside
-- tools/with-emulator: runs every contender against the same emulator,
-- workload by workload, alternating contenders within each round, and
-- prints Markdown tables of medians and ratios, then the targets.
--
--   lua5.4 bench/driver.lua [--smoke] [--record] [--rounds N]
--                           [--only small,pages,export,callgrind]
--
-- --smoke: a few requests per contender, one round, no targets checked.
-- --record: also write the tables into bench/RESULTS.md (between the
-- bench:begin and bench:end markers; the rest of the file is kept).
-- Environment: BENCH_ROOT, BENCH_BUILD (the bench's C builds), BENCH_TMP,
-- KUPE_EMULATOR_URL and KUPE_EMULATOR_PID (from with-emulator);
-- BENCH_CLIENT_CPU / BENCH_SERVER_CPU override the pinning (0 and 1);
-- BENCH_VERBOSE=1 prints every run's result line on stderr.
local cjson = require "cjson"
local callgrind = require "callgrind"

local ROOT = assert(os.getenv("BENCH_ROOT"), "BENCH_ROOT is not set")
local BUILD = assert(os.getenv("BENCH_BUILD"), "BENCH_BUILD is not set")
local TMP = assert(os.getenv("BENCH_TMP"), "BENCH_TMP is not set")
local URL = assert(os.getenv("KUPE_EMULATOR_URL"), "run under tools/with-emulator")
local MASTER = os.getenv("KUPE_EMULATOR_PID")
local KEY = "emu_test_key"
local MiB = 1024 * 1024

---------------------------------------------------------------------------
-- Options

local opt = { smoke = false, record = false, only = nil, rounds = nil }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--smoke" then opt.smoke = true
    elseif a == "--record" then opt.record = true
    elseif a == "--rounds" then i = i + 1; opt.rounds = tonumber(arg[i])
    elseif a == "--only" then
      i = i + 1
      opt.only = {}
      for w in (arg[i] or ""):gmatch("[^,]+") do opt.only[w] = true end
    else
      io.stderr:write("driver: unknown argument ", a, "\n")
      os.exit(2)
    end
    i = i + 1
  end
end

local CFG = opt.smoke and {
  small = { n = 5, warm = 1, rounds = 1 },
  pages = { pages = 2, size = 100, rss_pages = 1, rounds = 1 },
  export = { size = MiB, rounds = 1 },
  callgrind = { small = 2, large = 4, only = { c = true, kupe54 = true } },
} or {
  small = { n = 1000, warm = 200, rounds = 21 },
  pages = { pages = 1000, size = 100, rss_pages = 100, rounds = 5 },
  export = { size = 512 * MiB, rounds = 5 },
  callgrind = { small = 200, large = 1200 },
}
if opt.rounds then
  for _, w in ipairs { "small", "pages", "export" } do CFG[w].rounds = opt.rounds end
end

local function wanted(workload)
  return opt.only == nil or opt.only[workload] == true
end

---------------------------------------------------------------------------
-- Shell helpers

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local function first_line(cmd)
  local out = sh(cmd)
  return (out:match("^[^\n]*"))
end

local function succeeds(cmd)
  return os.execute(cmd .. " >/dev/null 2>&1") == true
end

---------------------------------------------------------------------------
-- Pinning: the client on one CPU, the emulator's single worker on another.

local NCPU = tonumber(first_line("nproc")) or 1
local CLIENT_CPU = os.getenv("BENCH_CLIENT_CPU") or (NCPU >= 2 and "0" or nil)
local SERVER_CPU = os.getenv("BENCH_SERVER_CPU") or (NCPU >= 2 and "1" or nil)
local WORKER = MASTER and first_line("pgrep -P " .. MASTER .. " | head -1") or nil
if WORKER == "" then WORKER = nil end
local PIN = CLIENT_CPU and ("taskset -c " .. CLIENT_CPU .. " ") or ""
if WORKER and SERVER_CPU then
  sh(("taskset -pc %s %s; taskset -pc %s %s"):format(SERVER_CPU, WORKER, SERVER_CPU, MASTER))
end

-- CPU time of the emulator's worker, in seconds (schedstat: nanoseconds).
local function server_cpu()
  if not WORKER then return 0 end
  local f = io.open("/proc/" .. WORKER .. "/schedstat")
  if not f then return 0 end
  local ns = tonumber(f:read("n")) or 0
  f:close()
  return ns / 1e9
end

---------------------------------------------------------------------------
-- The emulator: data set, one request id, warm caches.

local function control(method, path, body)
  local out = sh(("curl -sS -X %s %s%s"):format(method, q(URL), path)
    .. (body and (" -H 'Content-Type: application/json' -d " .. q(body)) or ""))
  return out
end

local function api_get(path)
  return (sh(("curl -sS --fail -H %s %s"):format(q("x-api-key: " .. KEY), q(URL .. path))))
end

local SESSIONS = opt.smoke and 1000 or 100000
control("POST", "/__emulator/reset", ('{"sessions": %d}'):format(SESSIONS))
local first = cjson.decode(api_get("/api/v1/call-analytics?page=1&page_size=1"))
local REQUEST_ID = first.items[1].request_id
local SESSION_BYTES = #api_get("/api/v1/call-analytics?request_id=" .. REQUEST_ID)

---------------------------------------------------------------------------
-- Contenders

local LUA_PATH = ("%s/bench/?.lua;%s/lua/?.lua;%s/lua/?/init.lua;;"):format(ROOT, ROOT, ROOT)
local function lua_env(cpath)
  return ("LUA_PATH=%s LUA_CPATH=%s "):format(q(LUA_PATH), q(cpath and (cpath .. "/?.so;;") or ";;"))
end
local function ua(lua)
  return ("kupe-lua/%s libcurl/%s %s"):format(
    first_line(lua_env(ROOT .. "/build/lua5.4") .. "lua5.4 -e 'io.write(require\"kupe.core\".version)'"),
    first_line(lua_env(ROOT .. "/build/lua5.4") .. "lua5.4 -e 'io.write(require\"kupe.core\".curl_version)'"),
    lua)
end
-- The limit sends the User-Agent kupe-lua sends under the same Lua.
local UA54, UAJIT = ua("Lua/5.4"), ua("LuaJIT/2.1.0-beta3")

local ALL = { small = true, pages = true, export = true }
-- env: variable assignments put in front of the whole command line
-- (before /usr/bin/time, taskset or valgrind); prog: what runs.
local CONTENDERS = {
  { id = "c", name = "libcurl, C, no decoding", modes = ALL,
    env = "BENCH_UA=" .. q(UA54) .. " ", prog = BUILD .. "/raw" },
  { id = "limit54", name = "libcurl + lua-cjson, Lua 5.4 (limit)", modes = { small = true, pages = true },
    env = lua_env(BUILD .. "/lua5.4") .. "BENCH_UA=" .. q(UA54) .. " ",
    prog = "lua5.4 " .. ROOT .. "/bench/client_rawcurl.lua", c_entry = "h_get", vm = "5.4" },
  { id = "limitjit", name = "libcurl + lua-cjson, LuaJIT (limit)", modes = { small = true, pages = true },
    env = lua_env(BUILD .. "/luajit") .. "BENCH_UA=" .. q(UAJIT) .. " ",
    prog = "luajit " .. ROOT .. "/bench/client_rawcurl.lua", c_entry = "h_get", vm = "jit" },
  { id = "kupe54", name = "**kupe-lua, Lua 5.4**", modes = ALL, kupe = true, vm = "5.4",
    env = lua_env(ROOT .. "/build/lua5.4"), prog = "lua5.4 " .. ROOT .. "/bench/client_kupe.lua",
    c_entry = "kupe_request" },
  { id = "kupejit", name = "**kupe-lua, LuaJIT**", modes = ALL, kupe = true, vm = "jit",
    env = lua_env(ROOT .. "/build/luajit"), prog = "luajit " .. ROOT .. "/bench/client_kupe.lua",
    c_entry = "kupe_request" },
  { id = "luacurl", name = "lua-curl + lua-cjson, Lua 5.1", modes = ALL, peer = true,
    env = lua_env(nil), prog = "lua5.1 " .. ROOT .. "/bench/client_luacurl.lua",
    check = "lua5.1 -e 'require \"curl\"; require \"cjson\"; require \"socket.core\"'",
    missing = "lua5.1, lua-curl" },
  { id = "luasocket", name = "LuaSocket socket.http + lua-cjson, Lua 5.4", modes = ALL, peer = true,
    env = lua_env(nil), prog = "lua5.4 " .. ROOT .. "/bench/client_luasocket.lua",
    check = "lua5.4 -e 'require \"socket.http\"; require \"cjson\"'", missing = "lua-socket" },
  { id = "requests", name = "Python requests.Session", modes = ALL, peer = true,
    env = "", prog = "/usr/bin/python3 " .. ROOT .. "/bench/client_requests.py",
    check = "/usr/bin/python3 -c 'import requests'", missing = "python3-requests" },
  { id = "curl", name = "curl -o (command line)", modes = { export = true }, curl = true, env = "",
    check = "curl --version" },
}
local BY_ID = {}
local absent = {}
for _, c in ipairs(CONTENDERS) do
  BY_ID[c.id] = c
  if c.check and not succeeds(c.check) then
    c.absent = true
    absent[#absent + 1] = ("%s (not installed: %s)"):format(c.name, c.missing or c.id)
  end
end

-- The limit a contender's ratio is taken against: the same Lua VM for
-- the Lua rows, the Lua 5.4 limit for the others.
local function limit_of(c)
  return c.vm == "jit" and "limitjit" or "limit54"
end

---------------------------------------------------------------------------
-- Running one contender once

local function parse_kv(line)
  local t = {}
  for k, v in line:gmatch("([%w_]+)=([%d.]+)") do t[k] = tonumber(v) end
  return t
end

-- GNU time gives every contender's peak RSS and CPU the same way (curl's
-- too); without it (package "time") the contenders' own figures are used.
local GNU_TIME = succeeds("test -x /usr/bin/time")

local function run(c, mode, args, path)
  local tf = TMP .. "/time.out"
  local cmd
  if c.curl then
    cmd = ("curl -sS --fail -o %s -H %s -w %s %s"):format(q(path), q("x-api-key: " .. KEY),
      q("bench n=1 items=0 bytes=%{size_download} wall=%{time_total} cpu=0\\n"),
      q(("%s/api/v1/call-analytics/export?request_id=bulk&size=%d"):format(URL, args)))
  else
    cmd = ("%s %s %s"):format(c.prog, mode, args)
  end
  local s0 = server_cpu()
  os.remove(tf)
  local timer = GNU_TIME and ("/usr/bin/time -o " .. tf .. " -f 'rss_kb=%M user=%U sys=%S' ") or ""
  local out, ok = sh(("cd %s && %sBENCH_KEY=%s %s%s%s"):format(q(TMP), c.env, KEY, timer, PIN, cmd))
  local s1 = server_cpu()
  local line = out:match("bench [^\n]*")
  if not ok or not line then
    error(("%s (%s %s) did not finish:\n%s"):format(c.name, mode, tostring(args), out), 0)
  end
  if os.getenv("BENCH_VERBOSE") then io.stderr:write(c.id, " ", mode, ": ", line, "\n") end
  local r = parse_kv(line)
  local f = io.open(tf)
  local t = parse_kv(f and f:read("a") or "")
  if f then f:close() end
  r.rss_kb = t.rss_kb or r.rss_kb or 0
  r.process_cpu = (t.user or 0) + (t.sys or 0)
  if c.curl then r.cpu = r.process_cpu end
  r.server = s1 - s0
  return r
end

---------------------------------------------------------------------------
-- Statistics and formatting

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function commas(n)
  local s = ("%d"):format(math.floor(n + 0.5))
  local k
  repeat s, k = s:gsub("^(%-?%d+)(%d%d%d)", "%1,%2") until k == 0
  return s
end

-- A difference with its sign: "+1,234", "-567".
local function signed(n)
  local s = commas(n)
  return s:sub(1, 1) == "-" and s or "+" .. s
end

local function fmt(x, digits)
  if x == nil then return "–" end
  return ("%." .. (digits or 2) .. "f"):format(x)
end

local out = {}
local function emit(s) out[#out + 1] = s; io.write(s, "\n"); io.stdout:flush() end

local function table_md(head, rows)
  emit("| " .. table.concat(head, " | ") .. " |")
  local sep = {}
  for i = 1, #head do sep[i] = i == 1 and "---" or "---:" end
  emit("| " .. table.concat(sep, " | ") .. " |")
  for _, r in ipairs(rows) do emit("| " .. table.concat(r, " | ") .. " |") end
  emit("")
end

-- CPU time used on the whole machine, in seconds (all CPUs, /proc/stat).
local HZ = tonumber(first_line("getconf CLK_TCK")) or 100
local function machine_busy()
  local f = io.open("/proc/stat")
  if not f then return 0 end
  local line = f:read("l") or ""
  f:close()
  local v, busy = {}, 0
  for n in line:gmatch("%d+") do v[#v + 1] = tonumber(n) end
  -- user nice system idle iowait irq softirq steal
  for _, i in ipairs { 1, 2, 3, 6, 7, 8 } do busy = busy + (v[i] or 0) end
  return busy / HZ
end

local function wall_now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l")) or os.time()
  p:close()
  return t
end

-- Runs contenders for `rounds` rounds, the order rotated each round; calls
-- once(c, round), which returns a result table or nil. Returns the
-- results per contender id, indexed by round, and the CPU used by other
-- processes meanwhile (in CPUs: 0.5 = half a CPU on average), estimated
-- as the machine's busy time minus the client's and the emulator's.
local function rounds(list, n, once)
  local res, own = {}, 0
  for _, c in ipairs(list) do res[c.id] = {} end
  local b0, w0, s0 = machine_busy(), wall_now(), server_cpu()
  for r = 1, n do
    for i = 0, #list - 1 do
      local c = list[(i + r - 1) % #list + 1]
      local x = once(c, r)
      res[c.id][r] = x
      own = own + (x and x.process_cpu or 0)
    end
  end
  local b1, w1, s1 = machine_busy(), wall_now(), server_cpu()
  if not GNU_TIME then return res, nil end
  local other = (b1 - b0 - own - (s1 - s0)) / math.max(w1 - w0, 1e-3)
  return res, math.max(other, 0)
end

local function load_note(other)
  if not other then return "" end
  return (" Other processes used %.2f CPUs meanwhile."):format(other)
end

local function field(list, key)
  local t = {}
  for _, x in pairs(list) do t[#t + 1] = x[key] end
  return t
end

-- Per-round ratios raw[id][r][key] / raw[ref][r][key]: runs of the same
-- round are close in time, so a change of the machine's load between
-- rounds affects both. Returns median, min, max (or nil).
local function paired(raw, id, ref, key)
  local xs = {}
  for r, x in pairs(raw[id] or {}) do
    local y = raw[ref] and raw[ref][r]
    if y and y[key] and y[key] > 0 and x[key] then xs[#xs + 1] = x[key] / y[key] end
  end
  if #xs == 0 then return nil end
  table.sort(xs)
  local n = #xs
  local m = n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
  return m, xs[1], xs[n]
end

local function ratio_cells(raw, id, ref, key)
  local m, lo, hi = paired(raw, id, ref, key)
  if not m then return "–", "–" end
  return fmt(m), fmt(lo) .. "–" .. fmt(hi)
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

local function present(mode)
  local list = {}
  for _, c in ipairs(CONTENDERS) do
    if c.modes[mode] and not c.absent then list[#list + 1] = c end
  end
  return list
end

local results = {} -- results[workload][id] = medians

---------------------------------------------------------------------------
-- The machine

local function machine()
  local model = first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'")
  local mem = tonumber(first_line("awk '/MemTotal/ {print $2}' /proc/meminfo")) or 0
  local debian = first_line("cat /etc/debian_version 2>/dev/null")
  return ("%s, %d CPUs, %.0f GiB RAM; Linux %s, Debian %s; libcurl %s; %s; %s; Python %s; %s UTC")
    :format(model, NCPU, mem / 1024 / 1024, first_line("uname -r"), debian,
      first_line(lua_env(ROOT .. "/build/lua5.4") .. "lua5.4 -e 'io.write(require\"kupe.core\".curl_version)'"),
      first_line("lua5.4 -v"):match("^Lua %S+") or "Lua 5.4",
      (first_line("luajit -v"):match("^LuaJIT %S+") or "LuaJIT"),
      first_line("/usr/bin/python3 -c 'import platform; print(platform.python_version())'"),
      os.date("!%Y-%m-%d %H:%M"))
end

emit("Machine: " .. machine() .. ".")
emit(("Client pinned to CPU %s, the emulator's single nginx worker to CPU %s. Emulator: %s sessions; "
  .. "one session is %d bytes of JSON (sent gzip-encoded to clients that ask, as kupe-lua does).")
  :format(CLIENT_CPU or "none", (WORKER and SERVER_CPU) or "none", commas(SESSIONS), SESSION_BYTES))
if #absent > 0 then emit("Left out: " .. table.concat(absent, "; ") .. ".") end
if opt.smoke then emit("Smoke run: a few requests per contender, one round; the figures mean nothing.") end
emit("")

---------------------------------------------------------------------------
-- 1. Sequential small requests

if wanted("small") then
  local w = CFG.small
  local list = present("small")
  local raw, other = rounds(list, w.rounds, function(c)
    local r = run(c, "small", table.concat({ URL, REQUEST_ID, w.n, w.warm }, " "))
    return { rps = r.n / r.wall, cpu = r.cpu / r.n, server = r.server / r.n, rss = r.rss_kb / 1024,
      process_cpu = r.process_cpu }
  end)
  local med = {}
  for _, c in ipairs(list) do
    local xs = raw[c.id]
    med[c.id] = { rps = median(field(xs, "rps")), cpu = median(field(xs, "cpu")),
      server = median(field(xs, "server")), rss = median(field(xs, "rss")),
      ratio = paired(raw, c.id, limit_of(c), "rps") }
  end
  results.small, results.small_raw = med, raw
  emit(("### 1. Sequential small requests\n\n`GET /api/v1/call-analytics?request_id=…` (one session), keep-alive, "
    .. "%s timed requests per run after %d warm-up, %s; medians. `÷ limit` is the median of the per-round "
    .. "ratios to the limit on the same Lua (Lua 5.4 for the others), `range` their lowest and highest. "
    .. "%s\n"):format(commas(w.n), w.warm, plural(w.rounds, "round"), load_note(other)))
  local rows = {}
  for _, c in ipairs(list) do
    local m = med[c.id]
    local ratio, range = ratio_cells(raw, c.id, limit_of(c), "rps")
    rows[#rows + 1] = { c.name, commas(m.rps), ratio, range,
      fmt(m.cpu * 1e6, 0), fmt(m.server * 1e6, 0), fmt(m.rss, 1) }
  end
  table_md({ "contender", "req/s", "÷ limit", "range", "client CPU µs/req", "server CPU µs/req",
    "peak RSS MiB" }, rows)
end

---------------------------------------------------------------------------
-- 2. Walking every session, page by page

if wanted("pages") then
  local w = CFG.pages
  local list = present("pages")
  local raw, other = rounds(list, w.rounds, function(c)
    local r = run(c, "pages", table.concat({ URL, w.pages, w.size }, " "))
    local x = { sps = (r.items > 0 and r.items or w.pages * w.size) / r.wall, cpu = r.cpu,
      rss = r.rss_kb / 1024, server = r.server, process_cpu = r.process_cpu }
    if c.kupe then
      local small = run(c, "pages", table.concat({ URL, w.rss_pages, w.size }, " "))
      x.rss_small = small.rss_kb / 1024
      x.process_cpu = x.process_cpu + small.process_cpu
    end
    return x
  end)
  local med = {}
  for _, c in ipairs(list) do
    local xs = raw[c.id]
    med[c.id] = { sps = median(field(xs, "sps")), cpu = median(field(xs, "cpu")),
      rss = median(field(xs, "rss")), rss_small = median(field(xs, "rss_small")),
      server = median(field(xs, "server")), ratio = paired(raw, c.id, limit_of(c), "sps") }
  end
  results.pages, results.pages_raw = med, raw
  emit(("### 2. Walking %s sessions page by page\n\n`call_logs:sessions{page_size = %d}` for kupe-lua, "
    .. "the same %s for the others, each decoded; %s; medians, ratios as above. "
    .. "Peak RSS of the whole process, walking %s and %s sessions.%s\n")
    :format(commas(w.pages * w.size), w.size, plural(w.pages, "page"), plural(w.rounds, "round"),
      commas(w.pages * w.size), commas(w.rss_pages * w.size), load_note(other)))
  local rows = {}
  for _, c in ipairs(list) do
    local m = med[c.id]
    local ratio, range = ratio_cells(raw, c.id, limit_of(c), "sps")
    rows[#rows + 1] = { c.name, commas(m.sps), ratio, range, fmt(m.cpu, 2),
      fmt(m.server, 2), fmt(m.rss, 1), m.rss_small and fmt(m.rss_small, 1) or "–" }
  end
  table_md({ "contender", "sessions/s", "÷ limit", "range", "client CPU s", "server CPU s",
    ("peak RSS MiB (%s)"):format(commas(w.pages * w.size)),
    ("peak RSS MiB (%s)"):format(commas(w.rss_pages * w.size)) }, rows)
end

---------------------------------------------------------------------------
-- 3. A large export streamed to disk

if wanted("export") then
  local w = CFG.export
  local list = present("export")
  local path = TMP .. "/export.zip"
  -- the emulator builds the archive's constant parts once per size
  run(BY_ID.c, "export", table.concat({ URL, w.size, path }, " "))
  os.remove(path)
  local raw, other = rounds(list, w.rounds, function(c)
    os.execute("sync")
    local r = run(c, "export", c.curl and w.size or table.concat({ URL, w.size, path }, " "), path)
    local f = io.open(path, "rb")
    local size = f and f:seek("end")
    if f then f:close() end
    os.remove(path) -- freed before the next run, so its pages are never written back
    if size ~= w.size then error(("%s wrote %s bytes, not %d"):format(c.name, tostring(size), w.size), 0) end
    return { mibs = r.bytes / MiB / r.wall, cpu = r.cpu, rss = r.rss_kb / 1024, process_cpu = r.process_cpu }
  end)
  local med = {}
  for _, c in ipairs(list) do
    local xs = raw[c.id]
    med[c.id] = { mibs = median(field(xs, "mibs")), cpu = median(field(xs, "cpu")),
      rss = median(field(xs, "rss")), ratio = paired(raw, c.id, "curl", "mibs") }
  end
  results.export, results.export_raw = med, raw
  emit(("### 3. A %d MiB export streamed to disk\n\n`call_logs:export{request_id = \"bulk\", size = …, path = …}` "
    .. "for kupe-lua, the same URL for the others; %s; medians, ratios to `curl -o` per round as above. "
    .. "CPU of curl includes its start-up.%s\n")
    :format(w.size // MiB, plural(w.rounds, "round"), load_note(other)))
  local rows = {}
  for _, c in ipairs(list) do
    local m = med[c.id]
    local ratio, range = ratio_cells(raw, c.id, "curl", "mibs")
    rows[#rows + 1] = { c.name, commas(m.mibs), ratio, range, fmt(m.cpu, 2), fmt(m.rss, 1) }
  end
  table_md({ "contender", "MiB/s", "÷ curl -o", "range", "client CPU s", "peak RSS MiB" }, rows)
end

---------------------------------------------------------------------------
-- 4. Instructions per request, by layer

if wanted("callgrind") and succeeds("valgrind --version") then
  local w = CFG.callgrind
  callgrind.SMALL, callgrind.LARGE = w.small, w.large
  local med = {}
  local list = {}
  for _, id in ipairs { "c", "limit54", "kupe54", "limitjit", "kupejit" } do
    local c = BY_ID[id]
    if not w.only or w.only[id] then
      local m, err = callgrind.measure(TMP, id, c.env .. "BENCH_KEY=" .. KEY, function(n)
        return ("%s small %s %s %d 10"):format(c.prog, URL, REQUEST_ID, n)
      end, c.c_entry)
      if not m then error(c.name .. ": " .. err, 0) end
      med[id] = m
      list[#list + 1] = c
    end
  end
  results.callgrind = med
  emit(("### 4. Client cost per request (callgrind)\n\nUser-space instructions per request: the difference between a "
    .. "%s- and a %s-request run, divided by %s. C = the C entry point of a request with libcurl under it "
    .. "(kupe.core's `conn:request`, the bench binding's `get`); JSON = lua-cjson's decode, or kupe.core's "
    .. "decoder (`json_decode`, which kupe-lua uses) and the empty-array passes that go with cjson; Lua = the "
    .. "rest (the loop or kupe-lua's pipeline, and the garbage collector).\n")
    :format(commas(w.small), commas(w.large), commas(w.large - w.small)))
  local rows = {}
  local base = med.c
  for _, c in ipairs(list) do
    local m = med[c.id]
    local l = med[limit_of(c)]
    rows[#rows + 1] = { c.name, commas(m.total), commas(m.c), commas(m.json), commas(m.lua),
      (c.id ~= "c" and l) and fmt(m.total / l.total) or "–" }
    if c.kupe and base then
      rows[#rows + 1] = { "  beyond the C program", signed(m.total - base.total),
        signed(m.c - base.c), signed(m.json), signed(m.lua), "" }
    end
  end
  table_md({ "contender", "instructions/req", "C", "JSON", "Lua", "÷ limit" }, rows)
end

---------------------------------------------------------------------------
-- Targets

local function check(label, ok, detail)
  emit(("- %s %s: %s"):format(ok and "met" or "**MISSED**", label, detail))
end

if not opt.smoke then
  emit("### Targets\n")
  local s, p, e, g = results.small, results.pages, results.export, results.callgrind
  for _, vm in ipairs { { "kupe54", "limit54", "Lua 5.4" }, { "kupejit", "limitjit", "LuaJIT" } } do
    local k, l, name = vm[1], vm[2], vm[3]
    if g and g[k] and g[l] then
      local r = g[k].total / g[l].total
      check(("1. instructions/request, %s, at most 1.25 × the limit"):format(name), r <= 1.25, fmt(r))
    end
    if s and s[k] and s[k].ratio then
      local raw = results.small_raw
      local r, lo, hi = paired(raw, k, l, "rps")
      local cpu = paired(raw, k, l, "cpu")
      check(("1. req/s, %s, at least 0.90 × the limit"):format(name), r >= 0.90,
        ("%s (rounds %s–%s; client CPU per request %s × the limit's)"):format(fmt(r), fmt(lo), fmt(hi),
          fmt(cpu)))
      -- ahead of a peer: the median of the per-round ratios to it is above 1
      local worst, who, wlo, whi, wcpu = math.huge, nil, nil, nil, nil
      for _, c in ipairs(CONTENDERS) do
        if c.peer then
          local m, a, b = paired(raw, k, c.id, "rps")
          if m and m < worst then
            worst, who, wlo, whi, wcpu = m, c.name, a, b, paired(raw, k, c.id, "cpu")
          end
        end
      end
      if who then
        check(("1. req/s, %s, ahead of every peer"):format(name), worst > 1,
          ("%s × the closest, %s (rounds %s–%s; client CPU per request %s × its)")
            :format(fmt(worst), who, fmt(wlo), fmt(whi), fmt(wcpu)))
      end
    end
    if p and p[k] and p[k].ratio then
      local r, lo, hi = paired(results.pages_raw, k, l, "sps")
      check(("2. sessions/s, %s, at least 0.85 × the limit"):format(name), r >= 0.85,
        ("%s (rounds %s–%s)"):format(fmt(r), fmt(lo), fmt(hi)))
      local g10 = p[k].rss / p[k].rss_small
      check(("2. peak RSS, %s, 100,000 sessions at most 1.10 × 10,000"):format(name), g10 <= 1.10,
        ("%s MiB vs %s MiB (%s)"):format(fmt(p[k].rss, 1), fmt(p[k].rss_small, 1), fmt(g10)))
    end
    if e and e[k] and e[k].ratio then
      local r, lo, hi = paired(results.export_raw, k, "curl", "mibs")
      check(("3. export throughput, %s, at least 0.90 × curl -o"):format(name), r >= 0.90,
        ("%s (rounds %s–%s)"):format(fmt(r), fmt(lo), fmt(hi)))
      check(("3. export peak RSS, %s, under 32 MiB"):format(name), e[k].rss < 32, fmt(e[k].rss, 1) .. " MiB")
    end
  end
  emit("")
else
  emit("Smoke run: the harness ran every contender; no target is checked.")
end

---------------------------------------------------------------------------
-- Record

if opt.record and not opt.smoke then
  local file = ROOT .. "/bench/RESULTS.md"
  local f = io.open(file)
  local old = f and f:read("a") or ""
  if f then f:close() end
  local block = "<!-- bench:begin (written by ./run.sh bench --record) -->\n"
    .. table.concat(out, "\n") .. "\n<!-- bench:end -->"
  local new, n = old:gsub("<!%-%- bench:begin.-<!%-%- bench:end %-%->", function() return block end, 1)
  if n == 0 then
    -- no block yet: above the "Inside nginx" section, else at the end
    local at = old:find("\n## Inside nginx", 1, true)
    if at then
      new = old:sub(1, at) .. block .. "\n" .. old:sub(at)
    else
      new = old .. (old == "" and "" or "\n") .. block .. "\n"
    end
  end
  f = assert(io.open(file, "w"))
  f:write(new)
  f:close()
  io.write("recorded in bench/RESULTS.md\n")
end
