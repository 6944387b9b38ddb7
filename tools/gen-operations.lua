-- Prints the README's table of operations, generated from
-- lua/kupe/operations.lua. `./run.sh readme` (tools/gen-readme) puts it
-- between the markers in README.md; spec/04-resources/operations_spec.lua
-- fails when the README is out of date.
local ops = require "kupe.operations"

local SOURCE = { doc = "", nav = " (narrative docs)", inv = " (route inventory only)",
  ws = " (WebSocket)" }

local out = { "| Lua | HTTP | group |", "|---|---|---|" }
for _, op in ipairs(ops) do
  local method, path, lua, source, group = op[1], op[2], op[3], op[4], op[5]
  local call
  if lua == nil then
    call = ("`client:request(\"%s\", ...)`"):format(method)
  elseif lua:find("^client:") then
    call = "`" .. lua .. "()`"
  else
    call = "`client." .. lua .. "()`"
  end
  out[#out + 1] = ("| %s | `%s %s` | %s%s |"):format(call, method, path, group, SOURCE[source])
end
io.write(table.concat(out, "\n"), "\n")
