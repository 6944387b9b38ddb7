-- The rockspec builds and installs the same module as CMake: every C
-- source and every Lua module is listed, and `luarocks make` into a fresh
-- tree gives a `require "kupe"` that works.
local ROCKSPEC = "rockspec/kupe-scm-1.rockspec"

local function lines(cmd)
  local p = io.popen(cmd)
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

local function load_rockspec()
  local env = {}
  local chunk = assert(loadfile and (function()
    local f = assert(io.open(ROCKSPEC))
    local src = f:read("a")
    f:close()
    return load(src, "=" .. ROCKSPEC, "t", env)
  end)())
  chunk()
  return env
end

describe("the rockspec", function()
  local spec = load_rockspec()
  local modules = spec.build.modules

  it("lists every C source of src/", function()
    local listed = {}
    for _, s in ipairs(modules["kupe.core"].sources) do listed[s] = true end
    for _, file in ipairs(lines("ls src/*.c")) do
      assert.is_true(listed[file], file .. " is missing from the rockspec")
    end
  end)

  it("lists every Lua module of lua/kupe", function()
    for _, file in ipairs(lines("cd lua && find kupe -name '*.lua' | sort")) do
      local name = file:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.equal("lua/" .. file, modules[name], name .. " is missing from the rockspec")
    end
  end)

  it("builds with luarocks and installs a kupe that loads", function()
    local tree = lines("mktemp -d")[1]
    local out = lines(("luarocks --lua-version=5.4 make --tree %s --deps-mode=none %s 2>&1; echo rc=$?")
      :format(tree, ROCKSPEC))
    assert.equal("rc=0", out[#out], table.concat(out, "\n"))
    local run = lines(("LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so;;' lua5.4 -e "
      .. "'local k = require \"kupe\"; local c = k.new{base_url=\"http://127.0.0.1:1\"}; "
      .. "print(k._VERSION, package.searchpath(\"kupe.core\", package.cpath), c.call_logs ~= nil)' 2>&1")
      :format(tree, tree, tree))
    os.execute("rm -rf '" .. tree .. "'")
    assert.matches("^kupe%-lua [%d.]+\t" .. tree:gsub("%p", "%%%0") .. "/lib/lua/5.4/kupe/core.so\ttrue$", run[1])
  end)
end)
