-- Phone lines: the list, agent/workflow mappings and the carrier-facing
-- TwiML routes. Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UUID, UNKNOWN, raises = kit.UUID, kit.UNKNOWN, kit.raises

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function setup()
    local info = emu.info()
    return t.client(), info.agents[2].id, info.phone_numbers[1], info.phone_numbers[2]
  end

  case("lists the caller's phone lines, unwrapped from {success, phone_numbers}", function()
    local c = t.client()
    local lines, resp = assert(c.phone:list())
    assert.equal(200, resp.status)
    assert.is_nil(lines.success)
    assert.is_true(#lines >= 2)
    for _, l in ipairs(lines) do
      assert.matches(UUID, l.id)
      assert.matches("^%+%d+$", l.phone_number)
      assert.is_boolean(l.is_active)
    end
  end)

  case("maps an agent to a line and reads the mapping back both ways", function()
    local c, agent, line = setup()
    local m, resp = assert(c.phone:map { agent_id = agent, phone_number_id = line.id })
    assert.equal(200, resp.status)
    assert.matches(UUID, m.id)
    assert.equal(agent, m.agent_id)
    assert.equal(line.id, m.phone_number_id)
    assert.is_nil(m.webhook_url)
    assert.is_nil(m.config_source)
    assert.same(m, assert(c.phone:mapping(line.id)))
    local for_agent = assert(c.phone:mappings_for_agent(agent))
    assert.equal(1, #for_agent)
    assert.equal(line.id, for_agent[1].phone_number_id)
  end)

  case("maps a line again to a workflow, replacing its agent", function()
    local c, agent, line = setup()
    local first = assert(c.phone:map { agent_id = agent, phone_number_id = line.id })
    local second = assert(c.phone:map { workflow_id = UNKNOWN, phone_number_id = line.id })
    assert.equal(first.id, second.id)
    assert.equal(UNKNOWN, second.workflow_id)
    assert.equal(0, #assert(c.phone:mappings_for_agent(agent)))
  end)

  case("raises unless exactly one of agent_id and workflow_id, and a line, are given", function()
    local c, agent, line = setup()
    local before = t.requests("POST /api/v1/phone/mapping")
    raises("give exactly one of agent_id or workflow_id",
      function() c.phone:map { phone_number_id = line.id } end)
    raises("give exactly one of agent_id or workflow_id", function()
      c.phone:map { agent_id = agent, workflow_id = UNKNOWN, phone_number_id = line.id }
    end)
    raises("phone_number_id is required", function() c.phone:map { agent_id = agent } end)
    raises("unknown field 'phone'", function()
      c.phone:map { agent_id = agent, phone_number_id = line.id, phone = "+1" }
    end)
    raises("agent_id must be a non%-empty string",
      function() c.phone:map { agent_id = "", phone_number_id = line.id } end)
    assert.equal(before, t.requests("POST /api/v1/phone/mapping"))
  end)

  case("answers 404 for an unknown line or agent and 422 for a malformed id", function()
    local c, agent, line = setup()
    local m, err = c.phone:map { agent_id = agent, phone_number_id = UNKNOWN }
    assert.is_nil(m)
    assert.equal(404, err.status)
    assert.equal("Phone number not found", err.message)
    m, err = c.phone:map { agent_id = UNKNOWN, phone_number_id = line.id }
    assert.is_nil(m)
    assert.equal(404, err.status)
    m, err = c.phone:map { agent_id = "agent-7", phone_number_id = line.id }
    assert.is_nil(m)
    assert.equal(422, err.status)
    m, err = c.phone:mapping(line.id)
    assert.is_nil(m)
    assert.equal(404, err.status)
    m, err = c.phone:mappings_for_agent(UNKNOWN)
    assert.is_nil(m)
    assert.equal(404, err.status)
    m, err = c.phone:mapping("line-1")
    assert.is_nil(m)
    assert.equal(422, err.status)
  end)

  case("answers TwiML that streams a mapped line to its agent", function()
    local c, agent, line = setup()
    assert(c.phone:map { agent_id = agent, phone_number_id = line.id })
    local xml, resp = assert(c.phone:incoming_twiml { To = line.phone_number,
      From = "+15550001111", CallSid = "CA123" })
    assert.equal(200, resp.status)
    assert.matches("xml", resp.content_type)
    assert.matches("^<%?xml", xml)
    assert.matches("<Connect><Stream url=\"ws://[^\"]+/api/call/media%-stream\">", xml)
    assert.matches('<Parameter name="agent_id" value="' .. agent:gsub("%-", "%%-") .. '"/>', xml)
    assert.matches('<Parameter name="call_sid" value="CA123"/>', xml)
    assert.equal("CallSid=CA123&From=%2B15550001111&To=" .. line.phone_number:gsub("%+", "%%2B"),
      emu.stats().last_request.query)
  end)

  case("answers TwiML for a line nobody answers", function()
    local c, _, _, other = setup()
    local xml = assert(c.phone:incoming_twiml { To = other.phone_number })
    assert.matches("<Say>This number is not configured", xml)
    assert.matches("<Hangup/>", xml)
    xml = assert(c.phone:incoming_twiml())
    assert.matches("<Hangup/>", xml)
  end)

  case("posts the carrier's fields form-urlencoded, as Twilio does", function()
    local c, agent, line = setup()
    assert(c.phone:map { agent_id = agent, phone_number_id = line.id })
    local xml = assert(c.phone:incoming_twiml_post { To = line.phone_number, From = "+1 555 000" })
    assert.matches('<Parameter name="from" value="%+1 555 000"/>', xml)
    local last = emu.stats().last_request
    assert.equal("POST", last.method)
    assert.equal("application/x-www-form-urlencoded", last.headers["content-type"])
    assert.equal("From=%2B1%20555%20000&To=" .. line.phone_number:gsub("%+", "%%2B"), last.body)
    raises("fields must be name = string or number",
      function() c.phone:incoming_twiml_post { To = { "a" } } end)
  end)

  case("raises for bad TwiML fields at the line that called the method", function()
    local c = t.client()
    kit.raise_at_caller {
      function() c.phone:incoming_twiml "To=+1" end,
      function() c.phone:incoming_twiml { To = true } end,
      function() c.phone:incoming_twiml_post(42) end,
      function() c.phone:incoming_twiml_post { To = { "a" } } end,
    }
  end)

  case("reports a TwiML route that answers something else than XML", function()
    local c = t.client()
    emu.fault("GET /api/call/incoming_call", { status = 200, json = { ok = true } }, 1)
    local xml, err = c.phone:incoming_twiml { To = "+1" }
    assert.is_nil(xml)
    assert.equal("decode", err.kind)
    assert.matches("expected TwiML", err.message)
    emu.fault("POST /api/call/incoming_call", { status = 500, body = "<h1>oops</h1>" }, 1)
    xml, err = t.client { max_retries = 0 }.phone:incoming_twiml_post { To = "+1" }
    assert.is_nil(xml)
    assert.equal(500, err.status)
  end)

  return cases
end
