-- The table of operations (lua/kupe/operations.lua) against the code:
-- every documented operation has a method, an emulator route and a test,
-- and the README's reference table is the one generated from the table.
local h = require "spec.helpers.kupe"
local ops = require "kupe.operations"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- All spec sources, to look for a call of each method.
local function spec_sources()
  local p = io.popen("find spec -name '*.lua' -not -path 'spec/emulator/*' | sort")
  local all = {}
  for file in p:lines() do all[#all + 1] = read(file) end
  p:close()
  return table.concat(all, "\n")
end

local function split(lua)
  return lua:match("^([%w_]+):([%w_]+)$")
end

describe("the table of operations", function()
  it("lists 171 operations, each once", function()
    local seen = {}
    for _, op in ipairs(ops) do
      local key = op[1] .. " " .. op[2]
      assert.is_nil(seen[key], key)
      seen[key] = true
    end
    assert.equal(171, #ops)
  end)

  it("names a method for every documented and narrative operation", function()
    for _, op in ipairs(ops) do
      if op[4] == "doc" or op[4] == "nav" then
        assert.is_string(op[3], op[1] .. " " .. op[2])
      end
    end
  end)

  it("has each named method on the client", function()
    local c = h.client()
    for _, op in ipairs(ops) do
      if op[3] then
        local group, method = split(op[3])
        local owner = group == "client" and c or c[group]
        assert.is_table(owner, "client." .. group)
        assert.is_function(owner[method], op[3])
      end
    end
  end)

  it("has an emulator route for every operation with a method", function()
    h.reset()
    local routes = {}
    for _, r in ipairs(h.emu.routes()) do routes[r] = true end
    local missing = {}
    for _, op in ipairs(ops) do
      local key = op[1] .. " " .. op[2]
      if op[3] and not routes[key] then missing[#missing + 1] = key end
    end
    assert.same({}, missing)
  end)

  it("reaches inventory-only and WebSocket routes through client:request", function()
    h.reset()
    local c = h.client()
    local ID = "00000000-0000-4000-8000-000000000001"
    local seen = 0
    for _, op in ipairs(ops) do
      if op[4] == "inv" or op[4] == "ws" then
        local path = op[2]:gsub("{[^}]+}", ID)
        local data, err = c:request(op[1], path)
        local where = op[1] .. " " .. op[2]
        assert.is_nil(data, where)
        assert.equal("http", err.kind, where)
        if op[4] == "inv" then
          -- routed, behind the credential check, and saying why it has no answer
          assert.equal(501, err.status, where)
          assert.matches("^Not emulated: this route is known only from the API's route inventory",
            err.message, 1, where)
        else
          assert.equal(404, err.status, where) -- FastAPI's answer to plain HTTP
        end
        seen = seen + 1
      end
    end
    assert.equal(14, seen)
    local anon = h.client { api_key = "wrong-key-for-this-test" }
    local _, err = anon:request("GET", "/api/v1/agents/library")
    assert.equal(401, err.status)
  end)

  it("has a test that calls every method", function()
    local src = spec_sources()
    local missing = {}
    for _, op in ipairs(ops) do
      if op[3] then
        local group, method = split(op[3])
        local pattern = group == "client" and (":" .. method .. "%(")
          or ("%." .. group .. ":" .. method .. "%f[^%w_]")
        if not src:find(pattern) then missing[#missing + 1] = op[3] end
      end
    end
    assert.same({}, missing)
  end)

  it("is what every group module declares", function()
    local declared = {}
    for _, op in ipairs(ops) do
      if op[3] then declared[op[1] .. " " .. op[2] .. " " .. op[3]] = true end
    end
    local c = h.client()
    for _, op in ipairs(ops) do
      local group = op[3] and split(op[3])
      if group and group ~= "client" then
        for _, d in ipairs(c[group].operations) do
          local also = d.also or {}
          local names = { d.lua }
          for _, a in ipairs(also) do names[#names + 1] = a end
          local found = false
          for _, n in ipairs(names) do
            if declared[d.method .. " " .. d.path .. " " .. group .. ":" .. n] then found = true end
          end
          assert.is_true(found, group .. " declares " .. d.method .. " " .. d.path
            .. " as " .. d.lua .. ", which the table does not list")
        end
      end
    end
  end)

  it("matches the README's reference table", function()
    local p = io.popen((arg and arg[-1] or "lua5.4") .. " tools/gen-operations.lua")
    local table_md = p:read("a")
    p:close()
    local readme = read("README.md")
    local body = readme:match("<!%-%- operations:begin %-%->\n(.-)<!%-%- operations:end %-%->")
    assert.is_string(body, "README.md has the operations markers")
    assert.equal(table_md, body, "run tools/gen-readme")
  end)
end)
