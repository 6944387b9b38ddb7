-- Rewrites the Lua module list of rockspec/kupe-scm-1.rockspec from the
-- files under lua/kupe (spec/02-core/rockspec_spec.lua fails when they
-- differ).   lua5.4 tools/gen-rockspec.lua
local path = "rockspec/kupe-scm-1.rockspec"
local p = io.popen("cd lua && find kupe -name '*.lua' | sort")
local rows = {}
for file in p:lines() do
  local name = file:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
  rows[#rows + 1] = ('    ["%s"] = "lua/%s",'):format(name, file)
end
p:close()
local f = assert(io.open(path))
local s = f:read("a")
f:close()
local first = s:find('\n    ["kupe', s:find("},\n", s:find('["kupe.core"]', 1, true), true), true) + 1
local last = s:find("  },\n}\ntest", first, true)
s = s:sub(1, first - 1) .. table.concat(rows, "\n") .. "\n" .. s:sub(last)
f = assert(io.open(path, "w"))
f:write(s)
f:close()
