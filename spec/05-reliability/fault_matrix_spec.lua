-- The fault matrix (spec/helpers/fault_matrix.lua): every fault kind
-- against a GET and a POST, provoked for real over sockets. For each it
-- checks the error's kind and message, the attempts the client reports
-- and the requests the emulator saw, that a POST that reached the server
-- was not repeated, and that the same client works normally on the next
-- request. The DNS case runs in a child process inside `unshare -n`, with
-- an emulator of its own there.
--
-- The records go to build/reliability/fault_matrix-<lua>.json;
-- tools/reliability_doc.lua turns them into the table of docs/RELIABILITY.md.
local h = require "spec.helpers.kupe"
local matrix = require "spec.helpers.fault_matrix"
local json = require "kupe.json"
local emu = h.emu

local q = emu.shell_quote
local ROOT = emu.root
local IMPL = rawget(_G, "jit") and "luajit" or (_VERSION:gsub("^Lua ", "lua"))
local SUFFIX = os.getenv("KUPE_SANITIZED") and "-asan" or ""

-- Runs rows in a fresh network namespace; returns their records by
-- "id/METHOD". Under tools/asan the Lua child gets the sanitizer preload
-- back (tools/asan_preload.c keeps it in KUPE_ASAN_PRELOAD), with this
-- process's cpath; the emulator's nginx never gets it.
local function run_in_namespace(ids)
  local cmd = table.concat({
    "cd", q(ROOT), "&&",
    "unshare -n sh -c",
    q(table.concat({
      "ip link set lo up && tools/with-emulator env LD_PRELOAD=\"${KUPE_ASAN_PRELOAD:-}\"",
      "LUA_PATH=" .. q(package.path), "LUA_CPATH=" .. q(package.cpath),
      IMPL, "spec/helpers/fault_matrix_child.lua", table.concat(ids, " "),
    }, " ")),
  }, " ")
  local out = emu.sh(cmd)
  local line = out:match("(%[.*%])%s*$")
  assert(line, "the namespace child printed no records:\n" .. out)
  local by = {}
  for _, rec in ipairs(assert(json.decode(line))) do
    by[rec.fault .. "/" .. rec.method] = rec
  end
  return by
end

describe("fault matrix", function()
  local records = {}
  local child

  teardown(function()
    local dir = ROOT .. "/build/reliability"
    os.execute("mkdir -p " .. q(dir))
    local f = assert(io.open(("%s/fault_matrix-%s%s.json"):format(dir, IMPL, SUFFIX), "w"))
    f:write(assert(json.encode(records)), "\n")
    f:close()
  end)

  for _, row in ipairs(matrix.ROWS) do
    for _, method in ipairs { "GET", "POST" } do
      it(("%s, %s"):format(row.name, method), function()
        local rec
        if row.child then
          if not child then
            local ids = {}
            for _, r in ipairs(matrix.ROWS) do
              if r.child then ids[#ids + 1] = r.id end
            end
            child = run_in_namespace(ids)
          end
          rec = child[row.id .. "/" .. method]
          assert(rec, "no record for " .. row.id .. "/" .. method)
          assert.is_nil(rec.crashed)
        else
          h.reset()
          rec = matrix.run(row, method)
        end
        records[#records + 1] = rec
        matrix.check(row, method, rec)
        if row.waits and rec.outcome == "ok" then
          assert.is_true(rec.elapsed >= row.waits * 0.9, "waited Retry-After: " .. rec.elapsed)
        end
      end)
    end
  end
end)
