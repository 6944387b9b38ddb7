-- The emulator's JSON module: array identity with Debian's lua-cjson 2.1.0,
-- stable key order, and the round trip of empty arrays over the wire.

local emu = require "spec.helpers.emulator"
local json = require "emu.json"

describe("emu.json", function()
  it("encodes marked empty tables as [] and unmarked ones as {}", function()
    assert.equal("[]", json.encode(json.array()))
    assert.equal("{}", json.encode({}))
    assert.equal('{"a":[],"b":{}}', json.encode({ a = json.array(), b = {} }))
  end)

  it("decodes [] as a marked array that encodes back as []", function()
    local v = assert(json.decode('{"variable_names":[],"meta":{},"deep":[[],[1,[ ]]]}'))
    assert.is_true(json.is_array(v.variable_names))
    assert.equal(0, #v.variable_names)
    assert.is_false(json.is_array(v.meta))
    assert.equal('{"deep":[[],[1,[]]],"meta":{},"variable_names":[]}', json.encode(v))
  end)

  it("leaves brackets inside strings alone", function()
    local text = '{"s":"a [] b \\" [ ] c","t":["[]"]}'
    local v = assert(json.decode(text))
    assert.equal('a [] b " [ ] c', v.s)
    assert.same({ "[]" }, { v.t[1] })
    assert.equal(text, json.encode(v))
  end)

  it("sorts object keys, or follows a given order", function()
    assert.equal('{"a":1,"b":2,"c":3}', json.encode({ c = 3, a = 1, b = 2 }))
    local order = json.order { "z", "a" }
    assert.equal('{"z":1,"a":2,"b":3}', json.encode(setmetatable({ a = 2, b = 3, z = 1 }, order)))
  end)

  it("writes integers without a fraction and floats in their shortest form", function()
    assert.equal("[200,0.1,-3,1.5,1e+300]", json.encode({ 200, 0.1, -3, 1.5, 1e300 }))
    local v = json.decode('{"status":200}')
    assert.equal("200", tostring(v.status))
  end)

  it("does not escape / and escapes control characters", function()
    assert.equal('"https://x.test/a\\n\\u0001\\"q\\\\"',
      json.encode('https://x.test/a\n\1"q\\'))
  end)

  it("keeps JSON null and embeds raw fragments", function()
    assert.equal('{"a":null,"b":[1, 2]}', json.encode({ a = json.null, b = json.raw("[1, 2]") }))
    assert.equal(json.null, json.decode('{"a":null}').a)
  end)

  it("reports invalid JSON as nil and a message", function()
    local v, err = json.decode("{bad")
    assert.is_nil(v)
    assert.matches("character", err)
  end)
end)

describe("empty arrays over the wire", function()
  setup(function()
    emu.start()
  end)
  before_each(function()
    emu.reset()
  end)

  it("echoes an empty array sent in an agent as []", function()
    local status, raw = emu.request("POST", "/api/v1/agents", { body =
      '{"agent":{"name":"Echo"},"agent_specific_config":'
      .. '{"conversation_stop_words":[],"inbound_transfer_routes":[ ]}}' })
    assert.equal(201, status)
    assert.matches('"conversation_stop_words":%[%]', raw)
    assert.matches('"inbound_transfer_routes":%[%]', raw)
    local id = json.decode(raw).agent.id
    local _, again = emu.request("GET", "/api/v1/agents/" .. id)
    assert.matches('"conversation_stop_words":%[%]', again)
  end)

  it("replaces a stored list by an empty one on update", function()
    local _, raw = emu.request("POST", "/api/v1/agents/simple", { body = { name = "Lists" } })
    local id = json.decode(raw).agent.id
    local status = emu.request("PUT", "/api/v1/agents/" .. id, {
      query = { force_update = "true" },
      body = '{"agent_specific_config":{"conversation_stop_words":["bye","stop"]}}' })
    assert.equal(200, status)
    local _, updated = emu.request("PUT", "/api/v1/agents/" .. id, {
      query = { force_update = "true" },
      body = '{"agent_specific_config":{"conversation_stop_words":[]}}' })
    assert.matches('"conversation_stop_words":%[%]', updated)
  end)

  it("stores variable_values with nested empty arrays and objects as sent", function()
    local status = emu.request("POST", "/api/call/create_call", {
      query = { phoneNumber = "+15551234567" },
      body = '{"variable_values":{"tags":[],"meta":{},"name":"Alex"}}' })
    assert.equal(200, status)
    local _, page = emu.request("GET", "/api/v1/call-analytics",
      { query = { page = 1, page_size = 1 } })
    assert.matches('"variable_values":{"meta":{},"name":"Alex","tags":%[%]}', page)
  end)
end)
