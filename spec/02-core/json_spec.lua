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

describe("core.json_decode", function()
  local cjson = require "cjson.safe"
  local J = cjson.new()
  J.decode_invalid_numbers(false)
  local mtype = math.type or function() return "float" end

  -- What kupe.json gives without the C decoder: cjson and the passes.
  local function reference(s)
    if json.native_arrays then return J.decode(s) end
    local marked, n, paths = core.json_mark_empty(s)
    local v, err = J.decode(marked)
    if v == nil then return nil, err end
    if n > 0 then core.json_fix_empty(v, n, json.array_mt, paths) end
    return v
  end

  local function same(a, b, where)
    assert.equal(type(a), type(b), where)
    assert.equal(getmetatable(a), getmetatable(b), where)
    if type(a) == "number" then
      assert.equal(mtype(a), mtype(b), where)
      if a == a then
        assert.equal(a, b, where)
        assert.equal(1 / a, 1 / b, where) -- the sign of a zero
      else
        assert.is_true(b ~= b, where)
      end
    elseif type(a) == "table" then
      for k, v in pairs(a) do same(v, b[k], where .. "." .. tostring(k)) end
      for k in pairs(b) do assert.is_not_nil(a[k], where .. ": extra " .. tostring(k)) end
    else
      assert.equal(a, b, where)
    end
  end

  local function check(s)
    local v = core.json_decode(s, json.array_mt, json.native_arrays)
    if v == nil then return false end
    local ref, err = reference(s)
    assert.is_not_nil(ref, ("accepted what cjson refuses (%s): %q"):format(tostring(err), s))
    same(v, ref, ("%q"):format(s))
    return true
  end

  it("is what kupe.json.decode uses with Debian's lua-cjson", function()
    assert.is_true(json.fast_decode)
  end)

  it("decodes escapes, surrogate pairs, numbers and nesting as cjson does", function()
    for _, s in ipairs {
      '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\te"', '"\\u0000\\u007f\\u0080\\u07FF\\u0800\\uFFFF"',
      '"\\ud800\\udc00 \\uDBFF\\uDFFF"', '"raw \1 \31 é"',
      "[0, -0, 1, -1, 0.5, -2.5e-3, 1E+2, 123456789012345, 1234567890123456, 12345678901234567890]",
      "[1e400, -1e400, 1e-400, 4.9e-324, 2.2250738585072014e-308]",
      '  {"a" : [ ] , "b":{ } ,"c":[[],[[]]],"d":null,"e":true,"f":false}\n',
      '{"k":1,"k":2,"k":[]}', '"[]"', "[[[[[[[[[[[[]]]]]]]]]]]]",
    } do
      assert.is_true(check(s), s)
    end
  end)

  it("leaves malformed and unusual text to cjson", function()
    for _, s in ipairs {
      "", " ", "[", "]", "[1,]", "{,}", '{"a"}', '{"a":}', "{1:2}", "[1 2]", "01", "-", "1.", ".5",
      "+1", "0x10", "1e", "NaN", "Infinity", "-Infinity", "tru", "nul", "[1]x", "[1]\0", '"a\0b"',
      '"\\x"', '"\\u12"', '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"abc', "[1] [2]",
      ("["):rep(300) .. ("]"):rep(300),
    } do
      assert.is_nil(core.json_decode(s, json.array_mt, false), ("%q"):format(s))
      local a, ea = json.decode(s)
      local b, eb = reference(s)
      if a == nil then
        assert.equal(eb, ea)
      else
        same(a, b, ("%q"):format(s))
      end
    end
  end)

  it("gives what cjson gives for random text, malformed or not", function()
    math.randomseed(20261126)
    local function rstring()
      local parts = {}
      for i = 1, math.random(0, 6) do
        local r = math.random()
        if r < 0.5 then parts[i] = string.char(math.random(97, 122))
        elseif r < 0.65 then
          parts[i] = ({ '\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t" })[math.random(8)]
        elseif r < 0.75 then parts[i] = ("\\u%04x"):format(math.random(0, 0xFFFF))
        elseif r < 0.8 then
          parts[i] = ("\\u%04X\\u%04X"):format(math.random(0xD800, 0xDBFF), math.random(0xDC00, 0xDFFF))
        elseif r < 0.9 then parts[i] = "é€😀"
        else parts[i] = string.char(math.random(1, 31)) end
      end
      return '"' .. table.concat(parts) .. '"'
    end
    local NUMBERS = { "0", "-0", "7", "-12", "3.25", "1e5", "-1.5E-7", "1e400", "01", "1.", "-", "9007199254740993" }
    local function rvalue(depth)
      local r = math.random()
      if depth > 4 then r = r * 0.5 end
      if r < 0.2 then return rstring()
      elseif r < 0.4 then return NUMBERS[math.random(#NUMBERS)]
      elseif r < 0.5 then return ({ "true", "false", "null" })[math.random(3)]
      elseif r < 0.75 then
        local t = {}
        for i = 1, math.random(0, 4) do t[i] = rvalue(depth + 1) end
        return "[" .. table.concat(t, math.random() < 0.5 and "," or " , ") .. "]"
      end
      local t = {}
      for i = 1, math.random(0, 4) do t[i] = rstring() .. ":" .. rvalue(depth + 1) end
      return "{" .. table.concat(t, ",") .. "}"
    end
    local accepted = 0
    for _ = 1, 3000 do
      local s = rvalue(0)
      if math.random() < 0.2 then
        local i = math.random(#s)
        s = s:sub(1, i - 1) .. ({ "", "]", "}", ",", '"', "\\", "\0", ":" })[math.random(8)] .. s:sub(i + 1)
      end
      if check(s) then accepted = accepted + 1 end
    end
    assert.is_true(accepted > 1500, "accepted " .. accepted)
  end)

  it("decodes a page of sessions as cjson does, and a deep text through cjson", function()
    local items = {}
    for i = 1, 300 do
      items[i] = ('{"id": %d, "name": "caller \\u00e9 %d", "cost": %d.25, "transcript": [],'
        .. ' "tags": [[], {"x": [], "y": null}], "ok": %s}'):format(i, i, i, i % 2 == 0 and "true" or "false")
    end
    assert.is_true(check('{"items": [' .. table.concat(items, ",") .. '], "total": 300}'))
    local deep = ("["):rep(500) .. "[]" .. ("]"):rep(500)
    assert.is_nil(core.json_decode(deep, json.array_mt, false))
    local v = json.decode(deep)
    for _ = 1, 500 do v = v[1] end
    assert.equal(json.array_mt, getmetatable(v))
  end)
end)

describe("kupe.json.encode", function()
  it("refuses a NUL character and text that is not UTF-8, keeps an escaped \\u0000", function()
    local s, err = json.encode { name = "a\0b" }
    assert.is_nil(s)
    assert.equal("a string contains a NUL character", err)
    s, err = json.encode { name = "caf\233" }
    assert.is_nil(s)
    assert.equal("a string is not valid UTF-8", err)
    -- the six characters \u0000 are text, not a NUL
    s = assert(json.encode { name = "\\u0000" })
    assert.equal("\\u0000", json.decode(s).name)
    assert.equal('{"name":"plain"}', json.encode { name = "plain" })
  end)
end)
