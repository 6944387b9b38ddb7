--- What every Lua contender of the bench shares: the arguments, the
-- clocks and the one result line the driver reads. Works under Lua 5.1,
-- 5.4 and LuaJIT, and loads nothing of kupe-lua (lua-curl's process must
-- not load a second libcurl).
--
-- Arguments (the same for every contender, C and Python included):
--   small BASE REQUEST_ID N WARM   N timed GETs of one session, after WARM
--   pages BASE PAGES SIZE          pages 1..PAGES of SIZE sessions
--   export BASE SIZE PATH          the bulk ZIP of SIZE bytes into PATH
-- The API key is in BENCH_KEY.
local socket = require "socket.core"

local M = {}

M.gettime = socket.gettime
M.key = os.getenv("BENCH_KEY") or "emu_test_key"
M.ua = os.getenv("BENCH_UA")

--- The parsed command line: {mode=, base=, ...}.
function M.args(argv)
  local mode, base = argv[1], argv[2]
  local a = { mode = mode, base = base }
  if mode == "small" then
    a.request_id, a.n, a.warm = argv[3], tonumber(argv[4]), tonumber(argv[5])
    a.url = base .. "/api/v1/call-analytics?request_id=" .. a.request_id
  elseif mode == "pages" then
    a.pages, a.size = tonumber(argv[3]), tonumber(argv[4])
    a.n = a.pages
  elseif mode == "export" then
    a.size, a.path = tonumber(argv[3]), argv[4]
    a.url = ("%s/api/v1/call-analytics/export?request_id=bulk&size=%d"):format(base, a.size)
    a.n = 1
  end
  if not (base and (a.url or a.pages)) then
    io.stderr:write("usage: small BASE REQUEST_ID N WARM | pages BASE PAGES SIZE | export BASE SIZE PATH\n")
    os.exit(2)
  end
  return a
end

--- The URL of page p (query keys in the order kupe-lua sorts them).
function M.page_url(a, p)
  return ("%s/api/v1/call-analytics?page=%d&page_size=%d"):format(a.base, p, a.size)
end

--- Peak resident set size of this process, in KiB.
function M.rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or -1
end

--- A timer: t.stop() returns wall and CPU seconds since start.
function M.timer()
  local w0, c0 = M.gettime(), os.clock()
  return function() return M.gettime() - w0, os.clock() - c0 end
end

--- Prints the result line and exits 0.
function M.report(a, items, bytes, wall, cpu)
  io.write(("bench n=%d items=%d bytes=%d wall=%.6f cpu=%.6f rss_kb=%d\n"):format(
    a.n, items, bytes, wall, cpu, M.rss_kb()))
  io.stdout:flush()
  os.exit(0)
end

--- Exits 1 with a message on stderr.
function M.fail(msg)
  io.stderr:write("bench: ", tostring(msg), "\n")
  os.exit(1)
end

--- The small and pages workloads for a contender whose get(url) returns
-- the decoded JSON: warm-up, timed loop, report. Returns false for the
-- export mode, which each contender runs its own way.
function M.run_json(a, get)
  if a.mode == "small" then
    local url = a.url
    for _ = 1, a.warm do get(url) end
    local bytes = 0
    local stop = M.timer()
    for _ = 1, a.n do
      bytes = bytes + #get(url).request_id
    end
    local wall, cpu = stop()
    M.report(a, a.n, bytes, wall, cpu)
    return true
  elseif a.mode == "pages" then
    local items = 0
    local stop = M.timer()
    for p = 1, a.pages do
      items = items + #get(M.page_url(a, p)).items
    end
    local wall, cpu = stop()
    M.report(a, items, 0, wall, cpu)
    return true
  end
  return false
end

return M
