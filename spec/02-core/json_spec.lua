-- kupe.json: empty arrays stay arrays, wherever they are in the text; the
-- post-pass goes to them by their recorded paths and walks the value only
-- for those it cannot reach that way.
local core = require "kupe.core"
local json = require "kupe.json"

local function is_array(t)
  return type(t) == "table" and next(t) == nil and getmetatable(t) == json.array_mt
end

describe("kupe.json.decode", function()
  it("marks empty arrays at the root, in objects and in arrays", function()
    assert.is_true(is_array(json.decode("[]")))
    local v = json.decode('{"a": [ ], "b": {"c": [1, [], {"d": []}]}, "e": {}}')
    assert.is_true(is_array(v.a))
    assert.is_true(is_array(v.b.c[2]))
    assert.is_true(is_array(v.b.c[3].d))
    assert.equal(1, v.b.c[1])
    assert.is_nil(getmetatable(v.e))
    assert.is_nil(getmetatable(v.b))
  end)

  it("leaves [] inside strings alone", function()
    local v = json.decode('{"s": "[]", "t": "a\\"[]", "u": "\\\\", "a": []}')
    assert.equal("[]", v.s)
    assert.equal('a"[]', v.t)
    assert.equal("\\", v.u)
    assert.is_true(is_array(v.a))
  end)

  it("reaches arrays under keys with escapes, and under repeated keys", function()
    local v = json.decode('{"x\\"y": {"k\\\\": []}, "a": [], "a": [[]]}')
    assert.is_true(is_array(v['x"y']["k\\"]))
    assert.is_true(is_array(v.a[1]))
  end)

  it("reaches arrays nested deeper than the paths follow", function()
    local depth = 150
    local v = json.decode(("["):rep(depth) .. "[]" .. ("]"):rep(depth))
    for _ = 1, depth do v = v[1] end
    assert.is_true(is_array(v))
  end)

  it("marks every empty array of a page of many", function()
    local items = {}
    for i = 1, 200 do
      items[i] = ('{"id": %d, "transcript": [], "tags": [[], {"x": []}]}'):format(i)
    end
    local v = json.decode('{"items": [' .. table.concat(items, ",") .. '], "total": 200}')
    for i = 1, 200 do
      local it = v.items[i]
      assert.equal(i, it.id)
      assert.is_true(is_array(it.transcript))
      assert.is_true(is_array(it.tags[1]))
      assert.is_true(is_array(it.tags[2].x))
    end
  end)
end)

describe("core.json_fix_empty", function()
  local text = '{"a": [], "b": {"c": [ ], "d": [1, [], {"e": []}]}}'

  local function marked()
    local s, n, paths = core.json_mark_empty(text)
    return require("cjson").decode(s), n, paths
  end

  it("fixes the same tables with paths, without them, or with damaged ones", function()
    local _, n, paths = marked()
    assert.equal(4, n)
    assert.equal("string", type(paths))
    for _, p in ipairs { paths, false, paths:sub(1, 9), ("\255"):rep(40), "" } do
      local v = marked()
      core.json_fix_empty(v, n, json.array_mt, p or nil)
      assert.is_true(is_array(v.a))
      assert.is_true(is_array(v.b.c))
      assert.is_true(is_array(v.b.d[2]))
      assert.is_true(is_array(v.b.d[3].e))
      assert.equal(1, v.b.d[1])
    end
  end)

  it("returns the text itself and no paths when there is no empty array", function()
    local s = '{"a": [1], "b": "[]"}'
    local out, n, paths = core.json_mark_empty(s)
    assert.equal(s, out)
    assert.equal(0, n)
    assert.is_nil(paths)
  end)
end)
