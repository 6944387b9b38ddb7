--- Contender: kupe-lua (Lua 5.4 or LuaJIT), as a user would write it.
local B = require "benchlib"
local kupe = require "kupe"

local a = B.args(arg)
local client = kupe.new { api_key = B.key, base_url = a.base }
local logs = client.call_logs

if a.mode == "small" then
  local rid = a.request_id
  for _ = 1, a.warm do assert(logs:get(rid)) end
  local bytes = 0
  local stop = B.timer()
  for _ = 1, a.n do
    local session, err = logs:get(rid)
    if not session then B.fail(err) end
    bytes = bytes + #session.request_id
  end
  local wall, cpu = stop()
  B.report(a, a.n, bytes, wall, cpu)
elseif a.mode == "pages" then
  local items = 0
  local stop = B.timer()
  local ok, err = logs:sessions { page_size = a.size, limit = a.pages * a.size }:each(function()
    items = items + 1
  end)
  local wall, cpu = stop()
  if not ok then B.fail(err) end
  B.report(a, items, 0, wall, cpu)
else
  local stop = B.timer()
  local result, err = logs:export { request_id = "bulk", size = a.size, path = a.path }
  local wall, cpu = stop()
  if not result then B.fail(err) end
  B.report(a, 0, result.bytes, wall, cpu)
end
