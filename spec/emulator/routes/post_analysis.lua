-- Post-call analysis (kupe-api.md 12.3): the caller's rules and, per
-- agent, a post-analysis configuration and a list of attached rules.
--
-- After a reset there is one rule, "Call outcome" (the rule id the seeded
-- sessions' analyses carry), attached to the agents that run the clinic
-- and sales scripts. Rules are free-form: `name` is required, `type` is
-- summary | structured_output | integration (default summary; integration
-- needs `tool_id`), other fields are kept as sent. Create and duplicate
-- answer 200; get/put/delete/duplicate 404 for an unknown id; DELETE also
-- detaches the rule. Agent routes 404 for an unknown agent.
-- POST /agents/{id}/post-analysis upserts the agent's one row; the body
-- must carry agent_id equal to the path id (400 otherwise).
-- PUT attached-rules takes {rule_ids = [...]} (the full list; unknown ids
-- 404) and answers {agent_id, rule_ids}.

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local rng = require "emu.rng"
local v = require "emu.validate"
local params = require "emu.params"

local db = state.store("post_analysis")

local RULE_ORDER = json.order {
  "id", "user_id", "name", "type", "description", "prompt", "output_schema", "tool_id",
  "is_active", "created_at", "updated_at",
}
local ROW_ORDER = json.order {
  "id", "agent_id", "enabled", "prompt", "output_schema", "created_at", "updated_at",
}

local RULE_FIELDS = {
  { "name", "str", required = true }, { "type", "str",
    enum = { "summary", "structured_output", "integration" } },
  { "description", "str" }, { "prompt", "str" }, { "output_schema", "object" },
  { "tool_id", "uuid" }, { "is_active", "bool" },
}
local UPDATE_FIELDS = {}
for i, f in ipairs(RULE_FIELDS) do
  UPDATE_FIELDS[i] = { f[1], f[2], enum = f.enum }
end

state.on_reset(function(s)
  db.rules, db.configs, db.attached = {}, {}, {}
  local created = dataset.iso(dataset.ANCHOR - 60 * 86400)
  local rule = setmetatable({
    id = rng.new(s.seed, "rule", 0):uuid(), user_id = state.user.user_id, name = "Call outcome",
    type = "structured_output", description = "Did the call go well, and does the caller want a callback?",
    prompt = "From the transcript, decide the outcome (positive or declined) and whether the "
      .. "caller asked for a callback.",
    output_schema = { type = "object", properties = {
      outcome = { type = "string", enum = json.array { "positive", "declined" } },
      callback_requested = { type = "boolean" } } },
    tool_id = json.null, is_active = true, created_at = created, updated_at = created,
  }, RULE_ORDER)
  db.rules[1] = rule
  for _, rec in ipairs(state.agents) do
    if rec.script == "clinic" or rec.script == "sales" then
      db.attached[rec.agent.id] = { rule.id }
    end
  end
end)

local function find_rule(id)
  for i, r in ipairs(db.rules) do
    if r.id == id then return r, i end
  end
end

local function rule_of(ctx)
  local r, i = find_rule(params.uuid(ctx, "rule_id"))
  if not r then v.fail(404, "Rule not found") end
  return r, i
end

local function agent_of(ctx)
  local id = params.uuid(ctx, "agent_id")
  if not state.agents_by_id[id] then v.fail(404, "Agent not found") end
  return id
end

local function check_rule(r)
  if r.name ~= nil and (r.name == json.null or r.name:match("^%s*$")) then
    v.fail(400, "name must not be empty")
  end
  if r.type == "integration" and (r.tool_id == nil or r.tool_id == json.null) then
    v.fail(400, "An integration rule needs tool_id")
  end
end

local function copy_rule(src)
  local r = {}
  for k, x in pairs(src) do r[k] = x end
  return setmetatable(r, RULE_ORDER)
end

local function rule_ids(agent_id)
  local out = json.array()
  for i, id in ipairs(db.attached[agent_id] or {}) do out[i] = id end
  return out
end

return function(router)
  router:add("GET", "/api/v1/post-analysis/rules", function()
    local out = json.array()
    for i, r in ipairs(db.rules) do out[i] = r end
    return 200, out
  end)

  router:add("POST", "/api/v1/post-analysis/rules", function(ctx)
    local body = v.body(ctx, RULE_FIELDS)
    local r = copy_rule(body)
    if r.type == nil then r.type = "summary" end
    check_rule(r)
    local now = state.now_iso()
    r.id, r.user_id, r.created_at, r.updated_at = state.new_uuid(), state.user.user_id, now, now
    if r.is_active == nil then r.is_active = true end
    db.rules[#db.rules + 1] = r
    return 200, r
  end)

  router:add("GET", "/api/v1/post-analysis/rules/{rule_id}", function(ctx)
    return 200, (rule_of(ctx))
  end)

  router:add("PUT", "/api/v1/post-analysis/rules/{rule_id}", function(ctx)
    local r = rule_of(ctx)
    local body = v.body(ctx, UPDATE_FIELDS)
    local merged = copy_rule(r)
    for k, x in pairs(body) do
      if k ~= "id" and k ~= "user_id" and k ~= "created_at" then merged[k] = x end
    end
    check_rule(merged)
    for k, x in pairs(merged) do r[k] = x end
    r.updated_at = state.now_iso()
    return 200, r
  end)

  router:add("DELETE", "/api/v1/post-analysis/rules/{rule_id}", function(ctx)
    local r, i = rule_of(ctx)
    table.remove(db.rules, i)
    for _, ids in pairs(db.attached) do
      for j = #ids, 1, -1 do
        if ids[j] == r.id then table.remove(ids, j) end
      end
    end
    return 200, { message = "Rule deleted", id = r.id }
  end)

  router:add("POST", "/api/v1/post-analysis/rules/{rule_id}/duplicate", function(ctx)
    local r = rule_of(ctx)
    local copy = copy_rule(r)
    local now = state.now_iso()
    copy.id, copy.name, copy.created_at, copy.updated_at = state.new_uuid(),
      r.name .. " (copy)", now, now
    db.rules[#db.rules + 1] = copy
    return 200, copy
  end)

  router:add("GET", "/api/v1/agents/{agent_id}/post-analysis", function(ctx)
    local id = agent_of(ctx)
    local out = json.array()
    if db.configs[id] then out[1] = db.configs[id] end
    return 200, out
  end)

  router:add("POST", "/api/v1/agents/{agent_id}/post-analysis", function(ctx)
    local id = agent_of(ctx)
    local body = v.body(ctx, { { "agent_id", "uuid", required = true }, { "enabled", "bool" },
      { "prompt", "str" }, { "output_schema", "object" } })
    if body.agent_id ~= id then
      v.fail(400, "agent_id in the body must match the agent in the path")
    end
    local now = state.now_iso()
    local row = db.configs[id]
    if not row then
      row = setmetatable({ id = state.new_uuid(), agent_id = id, enabled = true,
        created_at = now }, ROW_ORDER)
      db.configs[id] = row
    end
    for k, x in pairs(body) do
      if k ~= "id" and k ~= "created_at" then row[k] = x end
    end
    row.updated_at = now
    return 200, row
  end)

  router:add("GET", "/api/v1/agents/{agent_id}/post-analysis/attached-rules", function(ctx)
    local id = agent_of(ctx)
    local out = json.array()
    for _, rid in ipairs(db.attached[id] or {}) do
      local r = find_rule(rid)
      if r then out[#out + 1] = r end
    end
    return 200, out
  end)

  router:add("PUT", "/api/v1/agents/{agent_id}/post-analysis/attached-rules", function(ctx)
    local id = agent_of(ctx)
    local body = v.body(ctx, { { "rule_ids", "array", required = true } })
    local problems = {}
    for i, rid in ipairs(body.rule_ids) do
      if not v.is_uuid(rid) then
        problems[#problems + 1] = v.problem("uuid_parsing", { "body", "rule_ids", i - 1 },
          "Input should be a valid UUID", rid)
      end
    end
    if #problems > 0 then v.fail_422(problems) end
    local ids, seen = {}, {}
    for _, rid in ipairs(body.rule_ids) do
      rid = rid:lower()
      if not find_rule(rid) then v.fail(404, ("Rule %s not found"):format(rid)) end
      if not seen[rid] then
        seen[rid] = true
        ids[#ids + 1] = rid
      end
    end
    db.attached[id] = ids
    return 200, { agent_id = id, rule_ids = rule_ids(id) }
  end)

  router:add("GET", "/api/v1/agents/{agent_id}/post-analysis/attached-rule-ids", function(ctx)
    return 200, rule_ids(agent_of(ctx))
  end)
end
