-- Runs fault-matrix rows in a child process and prints their records as
-- one JSON line. The spec starts it inside `unshare -n` (a network
-- namespace with only its own loopback, and an emulator started there),
-- so a name look-up fails without any packet leaving the machine.
--   lua5.4 spec/helpers/fault_matrix_child.lua ROW_ID...
local json = require "kupe.json"
local matrix = require "spec.helpers.fault_matrix"

local out = {}
for _, id in ipairs(arg) do
  for _, row in ipairs(matrix.ROWS) do
    if row.id == id then
      for _, method in ipairs { "GET", "POST" } do
        local ok, rec = pcall(matrix.run, row, method)
        out[#out + 1] = ok and rec or { fault = id, method = method, crashed = tostring(rec) }
      end
    end
  end
end
io.write(assert(json.encode(out)), "\n")
os.exit(0, true)
