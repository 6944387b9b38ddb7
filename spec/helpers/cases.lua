-- Shared test cases. A case module returns a function that, given a
-- context, returns a list of { "name", fn(t) }. The same list runs under
-- busted with the libcurl transport (spec/03-*, spec/04-*) and inside a
-- real nginx with the cosocket transport (spec/06-nginx), so both
-- transports meet the same expectations without a forked copy.
--
-- The context t: t.client(opts) (a client on the emulator), t.reset(opts),
-- t.emu (the emulator's control API), t.KEY, t.tmpdir() (a fresh folder),
-- t.transport ("curl" or "ngx"), t.lua54 (true when plain Lua 5.4 runs
-- it), and the emulator helpers of spec/helpers/case_kit.lua (t.requests,
-- t.last_query, t.admin, t.agent_id, t.active_and_idle).
local kit = require "spec.helpers.case_kit"

local M = {}

function M.context(extra)
  local h = require "spec.helpers.kupe"
  local t = {
    client = h.client, reset = h.reset, emu = h.emu, KEY = h.KEY, env = h.env,
    transport = "curl", lua54 = _VERSION == "Lua 5.4",
  }
  t.tmpdir = kit.tmpdir
  function t.ls(dir)
    local p = io.popen("ls -A '" .. dir .. "'")
    local out = {}
    for line in p:lines() do out[#out + 1] = line end
    p:close()
    return out
  end
  for k, v in pairs(extra or {}) do t[k] = v end
  return kit.extend(t)
end

--- The body of a busted `describe` that registers every case of a
-- module as a test (busted's functions live in the spec file's
-- environment, so the spec passes them in):
--     describe("call logs", cases.suite("spec.cases.call_logs", it, before_each))
function M.suite(module, it, before_each)
  return function()
    local t = M.context()
    local list = require(module)(t)
    before_each(function() t.reset() end)
    for _, case in ipairs(list) do
      it(case[1], function() case[2](t) end)
    end
  end
end

return M
