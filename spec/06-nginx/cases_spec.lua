-- Every shared case (spec/cases/*.lua) run inside a real nginx, through the
-- cosocket transport, with the same expectations as under libcurl. The
-- host nginx runs one case per request (/t/case, spec/nginx/app.lua);
-- each case is reported here as its own test.
local nginx = require "spec.helpers.nginx"
local cases = require "spec.helpers.cases"
local emu = require "spec.helpers.emulator"

local function case_modules()
  local out = {}
  local p = io.popen("ls '" .. nginx.root .. "/spec/cases/'")
  for file in p:lines() do
    local name = file:match("^([%w_]+)%.lua$")
    if name then out[#out + 1] = "spec.cases." .. name end
  end
  p:close()
  table.sort(out)
  return out
end

describe("inside nginx (cosocket transport)", function()
  local host
  setup(function() host = nginx.host() end)
  teardown(function() if host then host:stop() end end)

  -- The names come from the same case files the host nginx runs.
  local names = cases.context()
  for _, module in ipairs(case_modules()) do
    describe(module:match("[%w_]+$"), function()
      for _, c in ipairs(require(module)(names)) do
        it(c[1], function()
          local r = host:json(("/t/case?module=%s&name=%s"):format(module, emu.encode_component(c[1])))
          if not r.ok then error(r.error, 0) end
        end)
      end
    end)
  end
end)
