--- Post-call analysis: the caller's rules, and what runs for each agent.
--
-- Rules are free-form JSON (a call summary prompt, a structured output
-- with its schema, or an integration trigger) and are sent as given.
-- An agent has its own post-analysis configuration (upserted with
-- `set_for_agent`, whose body must repeat the agent id: filled in here)
-- and a list of attached rules, set as a whole (`attach_rules`).
-- A system default "lead" analysis runs on every ended call anyway.
-- @module kupe.resources.post_analysis

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local RULES, RULE = "/api/v1/post-analysis/rules", "/api/v1/post-analysis/rules/{rule_id}"
local AGENT = "/api/v1/agents/{agent_id}/post-analysis"

local G = resource.group("post_analysis", {
  { "list", "GET", RULES, custom = true, doc = "the caller's rules" },
  { "create", "POST", RULES, custom = true, doc = "create a rule" },
  { "get", "GET", RULE, custom = true, doc = "one rule" },
  { "update", "PUT", RULE, custom = true, doc = "change a rule" },
  { "delete", "DELETE", RULE, custom = true, doc = "delete a rule" },
  { "duplicate", "POST", RULE .. "/duplicate", custom = true, doc = "copy a rule" },
  { "for_agent", "GET", AGENT, custom = true, doc = "an agent's post-analysis rows" },
  { "set_for_agent", "POST", AGENT, custom = true, doc = "upsert an agent's post-analysis" },
  { "attached_rules", "GET", AGENT .. "/attached-rules", custom = true,
    doc = "rules attached to an agent" },
  { "attach_rules", "PUT", AGENT .. "/attached-rules", custom = true,
    doc = "set the rules attached to an agent" },
  { "attached_rule_ids", "GET", AGENT .. "/attached-rule-ids", custom = true,
    doc = "ids of the rules attached to an agent" },
})

--- The caller's rules.
-- @return array of rules, resp | nil, err
function G:list()
  return self._client:request("GET", RULES)
end

--- Creates a rule (the API answers 200, not 201).
-- @tparam table rule e.g. `{name = "Lead summary", type = "summary", prompt = "..."}`
-- @return the rule with its `id`, resp | nil, err
function G:create(rule)
  A.table(rule, "rule", "create", 1)
  return self._client:request("POST", RULES, { json = rule })
end

--- One rule.
-- @tparam string rule_id
-- @return the rule, resp | nil, err (404 when unknown)
function G:get(rule_id)
  A.id(rule_id, "rule_id", "get", 1)
  return self._client:request("GET", resource.path(RULE, "get", rule_id))
end

--- Changes a rule (the fields given replace those stored).
-- @tparam string rule_id
-- @tparam table fields
-- @return the rule, resp | nil, err (404 when unknown)
function G:update(rule_id, fields)
  A.id(rule_id, "rule_id", "update", 1)
  if type(fields) ~= "table" then A.fail("update", 2, "table of fields expected, got " .. type(fields)) end
  return self._client:request("PUT", resource.path(RULE, "update", rule_id), { json = fields })
end

--- Deletes a rule (and detaches it from every agent).
-- @tparam string rule_id
-- @return the answer, resp | nil, err (404 when unknown)
function G:delete(rule_id)
  A.id(rule_id, "rule_id", "delete", 1)
  return self._client:request("DELETE", resource.path(RULE, "delete", rule_id))
end

--- Copies a rule under a new id.
-- @tparam string rule_id
-- @return the copy, resp | nil, err (404 when unknown)
function G:duplicate(rule_id)
  A.id(rule_id, "rule_id", "duplicate", 1)
  return self._client:request("POST", resource.path(RULE .. "/duplicate", "duplicate", rule_id))
end

--- The post-analysis rows of an agent.
-- @tparam string agent_id
-- @return array of rows, resp | nil, err
function G:for_agent(agent_id)
  A.id(agent_id, "agent_id", "for_agent", 1)
  return self._client:request("GET", resource.path(AGENT, "for_agent", agent_id))
end

--- Creates or updates an agent's post-analysis configuration. The API
-- wants `agent_id` in the body equal to the one in the path; it is filled
-- in here (the caller's table is not changed).
-- @tparam string agent_id
-- @tparam table config the backend's PostCallAnalysis fields, e.g.
--   `{enabled = true, prompt = "...", output_schema = {...}}`
-- @return the stored row, resp | nil, err
-- @raise when config carries a different agent_id
function G:set_for_agent(agent_id, config)
  A.id(agent_id, "agent_id", "set_for_agent", 1)
  A.table(config, "config", "set_for_agent", 2)
  if config.agent_id ~= nil and config.agent_id ~= agent_id then
    A.fail("set_for_agent", 2, "config.agent_id differs from the agent_id argument")
  end
  local body = A.copy(config)
  body.agent_id = agent_id
  return self._client:request("POST", resource.path(AGENT, "set_for_agent", agent_id),
    { json = body })
end

--- The rule objects attached to an agent.
-- @tparam string agent_id
-- @return array of rules, resp | nil, err
function G:attached_rules(agent_id)
  A.id(agent_id, "agent_id", "attached_rules", 1)
  return self._client:request("GET", resource.path(AGENT .. "/attached-rules", "attached_rules",
    agent_id))
end

--- Sets the full list of rules attached to an agent (an empty list
-- detaches them all; it goes out as `"rule_ids": []`).
-- @tparam string agent_id
-- @tparam table rule_ids list of rule ids (UUID strings)
-- @return the answer, resp | nil, err
-- @raise when rule_ids is not a list of UUID strings
function G:attach_rules(agent_id, rule_ids)
  A.id(agent_id, "agent_id", "attach_rules", 1)
  local ids = A.string_list(rule_ids, "rule_ids", "attach_rules", 2, A.is_uuid)
  return self._client:request("PUT", resource.path(AGENT .. "/attached-rules", "attach_rules",
    agent_id), { json = { rule_ids = ids } })
end

--- The ids of the rules attached to an agent.
-- @tparam string agent_id
-- @return array of UUID strings, resp | nil, err
function G:attached_rule_ids(agent_id)
  A.id(agent_id, "agent_id", "attached_rule_ids", 1)
  return self._client:request("GET", resource.path(AGENT .. "/attached-rule-ids",
    "attached_rule_ids", agent_id))
end

return G
