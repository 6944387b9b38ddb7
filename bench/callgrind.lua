--- Per-request instruction counts from callgrind, split by layer.
--
-- A contender runs twice under `valgrind --tool=callgrind`, with 200 and
-- with 1,200 timed requests (and the same warm-up); the difference of the
-- two runs divided by 1,000 is the cost of one request, start-up and
-- tear-down cancelling out. Counts are user-space instructions (Ir), which
-- do not depend on the machine's load or on the emulator's speed.
--
-- Layers, from `callgrind_annotate --inclusive=yes`:
--   C     inclusive cost of the C entry point of one request: kupe.core's
--         `kupe_request` (conn:request), rawcurl's `h_get`; for the C
--         program, everything
--   JSON  inclusive cost of lua-cjson's decode entry (stripped: the
--         function of cjson.so with the highest inclusive cost) plus
--         kupe.core's decoder (json_decode) and the empty-array passes
--         that go with cjson (json_mark_empty, json_fix_empty)
--   Lua   the rest: the interpreter running the loop or kupe-lua's
--         pipeline (client.lua, transport, walkers), and the collector
--         (which also frees the decoded values)
local M = {}

M.SMALL, M.LARGE = 200, 1200

local function sh_read(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

-- The program total, from the "totals:" (or "summary:") line of the file.
local function total_of(file)
  local f = assert(io.open(file))
  local total
  for line in f:lines() do
    local t = line:match("^totals:%s+(%d+)") or line:match("^summary:%s+(%d+)")
    if t then total = tonumber(t) end
  end
  f:close()
  return total
end

--- Layer costs of one callgrind output file: {total=, c=, json=}.
function M.layers(file, c_entry)
  local out = sh_read("callgrind_annotate --inclusive=yes --threshold=100 " .. file .. " 2>/dev/null")
  local c, cjson_entry, passes = 0, 0, 0
  for line in out:gmatch("[^\n]+") do
    local count, rest = line:match("^%s*([%d,]+)%s+(.*)$")
    if count then
      count = tonumber((count:gsub(",", "")))
      local fn, obj = rest:match("(%S+)%s+%[([^%]]+)%]%s*$")
      if fn and not fn:find("'", 1, true) then
        local name = fn:match(":([^:]+)$") or fn
        if c_entry and name == c_entry then c = math.max(c, count) end
        if obj:find("cjson", 1, true) and count > cjson_entry then cjson_entry = count end
        if name == "kupe_json_decode" or name == "kupe_json_mark_empty"
          or name == "kupe_json_fix_empty" then
          passes = passes + count
        end
      end
    end
  end
  local total = total_of(file)
  return { total = total, c = c_entry and c or total, json = cjson_entry + passes }
end

--- Runs cmd_for(n) (the command with the request count filled in) under
-- callgrind for both counts, env (variable assignments) in front of
-- valgrind; returns the per-request layers {total=, c=, json=, lua=} or
-- nil, message.
function M.measure(tmpdir, tag, env, cmd_for, c_entry)
  local res = {}
  for _, n in ipairs { M.SMALL, M.LARGE } do
    local file = ("%s/callgrind.%s.%d"):format(tmpdir, tag, n)
    local cmd = ("%s valgrind --tool=callgrind --callgrind-out-file=%s %s >%s.log 2>&1")
      :format(env, file, cmd_for(n), file)
    local ok = os.execute(cmd)
    if not ok then return nil, "callgrind run failed: see " .. file .. ".log" end
    res[n] = M.layers(file, c_entry)
    if not res[n].total then return nil, "no totals in " .. file end
  end
  local span = M.LARGE - M.SMALL
  local a, b = res[M.SMALL], res[M.LARGE]
  local r = {
    total = (b.total - a.total) / span,
    c = (b.c - a.c) / span,
    json = (b.json - a.json) / span,
  }
  r.lua = r.total - r.c - r.json
  return r
end

return M
