-- Post-call analysis: rules, an agent's configuration and its attached
-- rules. Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local json = require "kupe.json"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local RULE = {
    name = "Lead summary", type = "summary",
    prompt = "Summarise the call in two sentences for the sales team.",
  }

  -- The agent that runs the clinic script has the seeded rule attached.
  local function agent_with_rule(c)
    for _, a in ipairs(emu.info().agents) do
      if #assert(c.post_analysis:attached_rule_ids(a.id)) > 0 then return a.id end
    end
  end

  case("lists the seeded rule, the one the sessions' analyses name", function()
    local c = t.client()
    local rules = assert(c.post_analysis:list())
    assert.equal(1, #rules)
    assert.equal("Call outcome", rules[1].name)
    local named = false
    for s in c.call_logs:sessions { limit = 100 } do
      for _, a in ipairs(s.post_call_analysis_results or {}) do
        if a.rule_id == rules[1].id then named = true end
      end
    end
    assert.is_true(named)
  end)

  case("creates (200), reads, updates, duplicates and deletes a rule", function()
    local c = t.client()
    local rule, resp = c.post_analysis:create(RULE)
    assert.is_table(rule, tostring(resp))
    assert.equal(200, resp.status)
    assert.is_string(rule.id)
    assert.equal("summary", rule.type)
    assert.equal(RULE.prompt, assert(c.post_analysis:get(rule.id)).prompt)
    local up = assert(c.post_analysis:update(rule.id, { name = "Lead summary v2" }))
    assert.equal("Lead summary v2", up.name)
    assert.equal(RULE.prompt, up.prompt)

    local copy = assert(c.post_analysis:duplicate(rule.id))
    assert.are_not.equal(rule.id, copy.id)
    assert.equal("Lead summary v2 (copy)", copy.name)
    assert.equal(3, #assert(c.post_analysis:list()))

    assert.equal(rule.id, assert(c.post_analysis:delete(rule.id)).id)
    for _, call in ipairs {
      function() return c.post_analysis:get(rule.id) end,
      function() return c.post_analysis:update(rule.id, { name = "x" }) end,
      function() return c.post_analysis:delete(rule.id) end,
      function() return c.post_analysis:duplicate(rule.id) end,
    } do
      local none, err = call()
      assert.is_nil(none)
      assert.equal(404, err.status)
    end
    assert.equal(copy.id, assert(c.post_analysis:get(copy.id)).id)
  end)

  case("answers 422 and 400 for rules the API refuses", function()
    local c = t.client()
    local none, err = c.post_analysis:create { prompt = "no name" }
    assert.is_nil(none)
    assert.equal(422, err.status)
    none, err = c.post_analysis:create { name = "Push to CRM", type = "integration" }
    assert.is_nil(none)
    assert.equal(400, err.status)
    assert.matches("tool_id", err.message)
    none, err = c.post_analysis:create { name = "x", type = "sentiment" }
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.has_error(function() c.post_analysis:create "Lead summary" end,
      "bad argument #1 to 'create' (rule table expected, got string)")
    assert.has_error(function() c.post_analysis:get() end,
      "bad argument #1 to 'get' (rule_id must be a non-empty string, got nil)")
  end)

  case("upserts an agent's configuration, filling in the agent id", function()
    local c = t.client()
    local agent = t.agent_id()
    assert.same({}, assert(c.post_analysis:for_agent(agent)))
    local config = { enabled = true, prompt = "Extract the caller's city." }
    local row = assert(c.post_analysis:set_for_agent(agent, config))
    assert.equal(agent, row.agent_id)
    assert.is_nil(config.agent_id, "the caller's table is not changed")
    assert.equal(agent, json.decode(emu.stats().last_request.body).agent_id)
    local again = assert(c.post_analysis:set_for_agent(agent, { enabled = false }))
    assert.equal(row.id, again.id, "one row per agent")
    assert.is_false(again.enabled)
    assert.equal(config.prompt, again.prompt)
    local rows = assert(c.post_analysis:for_agent(agent))
    assert.equal(1, #rows)
    assert.is_false(rows[1].enabled)
  end)

  case("refuses a configuration for another agent: raises here, 400 from the API", function()
    local c = t.client()
    local agent = t.agent_id()
    assert.has_error(function() c.post_analysis:set_for_agent(agent, { agent_id = t.agent_id(2) }) end,
      "bad argument #2 to 'set_for_agent' (config.agent_id differs from the agent_id argument)")
    local none, err = c:request("POST", "/api/v1/agents/" .. agent .. "/post-analysis",
      { json = { agent_id = t.agent_id(2), enabled = true } })
    assert.is_nil(none)
    assert.equal(400, err.status)
    none, err = c.post_analysis:set_for_agent(UNKNOWN, { enabled = true })
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("sets the attached rules as a whole; an empty list goes out as []", function()
    local c = t.client()
    local agent = agent_with_rule(c)
    local seeded = assert(c.post_analysis:attached_rule_ids(agent))[1]
    local extra = assert(c.post_analysis:create(RULE))
    local res = assert(c.post_analysis:attach_rules(agent, { extra.id, seeded }))
    assert.same({ extra.id, seeded }, res.rule_ids)
    assert.same({ extra.id, seeded }, assert(c.post_analysis:attached_rule_ids(agent)))
    local rules = assert(c.post_analysis:attached_rules(agent))
    assert.equal("Lead summary", rules[1].name)
    assert.equal("Call outcome", rules[2].name)

    res = assert(c.post_analysis:attach_rules(agent, {}))
    assert.equal('{"rule_ids":[]}', emu.stats().last_request.body)
    assert.same({}, res.rule_ids)
    local ids = assert(c.post_analysis:attached_rule_ids(agent))
    assert.same({}, ids)
    assert.equal(json.array_mt, getmetatable(ids), "an empty JSON array stays an array")
    assert.same({}, assert(c.post_analysis:attached_rules(agent)))
  end)

  case("detaches a deleted rule; 404 for unknown rules and agents", function()
    local c = t.client()
    local agent = agent_with_rule(c)
    local extra = assert(c.post_analysis:create(RULE))
    assert(c.post_analysis:attach_rules(agent, { extra.id }))
    assert(c.post_analysis:delete(extra.id))
    assert.same({}, assert(c.post_analysis:attached_rule_ids(agent)))
    local none, err = c.post_analysis:attach_rules(agent, { UNKNOWN })
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.post_analysis:attached_rules(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.post_analysis:attached_rule_ids("agent-1")
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  case("raises for rule ids that are not UUID strings, before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.post_analysis:attach_rules(t.agent_id(), { "rule-1" }) end,
      "bad argument #2 to 'attach_rules' (rule_ids[1] must be a UUID string, got 'rule-1')")
    assert.has_error(function() c.post_analysis:attach_rules(t.agent_id(), UNKNOWN) end,
      "bad argument #2 to 'attach_rules' (rule_ids must be a list of strings, got string)")
    local ok, msg = pcall(function() c.post_analysis:attached_rules("") end)
    assert.is_false(ok)
    assert.matches("post_analysis%.lua:%d+: bad argument #1 to 'attached_rules'", msg)
    assert.has_error(function() c.post_analysis:set_for_agent(t.agent_id()) end)
    assert.equal(before, t.requests())
  end)

  return cases
end
