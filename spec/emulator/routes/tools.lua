-- Tools and MCP (kupe-api.md 12.1, 12.2): HTTP tool definitions, MCP
-- server definitions, and the tools attached to each agent.
--
-- Definitions are free-form objects; the emulator requires `name` and a
-- URL (`url` for HTTP tools, `server_url` for MCP servers, http or https)
-- and checks the types of the fields it knows; other fields are kept as
-- sent. Create answers 201, list {tools = [...], total = n}, get/put/delete
-- 404 for an unknown id; PUT merges the fields sent; DELETE also detaches
-- the definition from every agent.
-- Agent tools: the body of POST and PATCH is a JSON array of
-- {tool_type = "endpoint" | "mcp_server", tool_id = <definition id>,
-- config = {...}?}; POST appends (skipping tools already attached), PATCH
-- replaces the list and needs ?force_update=true on an active agent
-- (400 otherwise). Both answer {message, tools = [...]}. DELETE takes the
-- definition id (or the mapping id); 404 when the tool is not attached.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"

local db = state.store("tools")

local DEF_ORDER = json.order {
  "id", "user_id", "name", "description", "url", "server_url", "method", "headers",
  "timeout_seconds", "tool_schema", "is_active", "created_at", "updated_at",
}
local MAPPING_ORDER = json.order {
  "id", "agent_id", "tool_type", "tool_id", "name", "config", "created_at",
}

local KINDS = {
  http = {
    label = "Tool", type = "endpoint",
    fields = { { "name", "str", required = true }, { "url", "str", required = true },
      { "description", "str" }, { "tool_schema", "object" }, { "headers", "object" },
      { "request_schema", "object" }, { "response_schema", "object" },
      { "method", "str", enum = { "GET", "POST", "PUT", "PATCH", "DELETE" } },
      { "timeout_seconds", "number", gt = 0, le = 300 }, { "is_active", "bool" } },
    url = "url",
  },
  mcp = {
    label = "MCP server", type = "mcp_server",
    fields = { { "name", "str", required = true }, { "server_url", "str", required = true },
      { "description", "str" }, { "headers", "object" },
      { "timeout_seconds", "number", gt = 0, le = 600 }, { "allowed_tools", "array" },
      { "is_active", "bool" } },
    url = "server_url",
  },
}

state.on_reset(function()
  db.http, db.mcp, db.agents = {}, {}, {}
end)

local function optional_specs(fields)
  local out = {}
  for i, f in ipairs(fields) do
    out[i] = {}
    for k, x in pairs(f) do out[i][k] = x end
    out[i].required = nil
  end
  return out
end

local function check_url(kind, def)
  local u = def[kind.url]
  if u ~= nil and (u == json.null or not tostring(u):match("^[Hh][Tt][Tt][Pp][Ss]?://[^/%s]+")) then
    v.fail(400, kind.url .. " must be an http or https URL")
  end
  if def.name ~= nil and (def.name == json.null or tostring(def.name):match("^%s*$")) then
    v.fail(400, "name must not be empty")
  end
end

local function list_of(kind_name)
  local list = db[kind_name]
  local out = json.array()
  for i, d in ipairs(list) do out[i] = d end
  return out
end

local function find(ctx, kind_name)
  local id = params.uuid(ctx, "tool_id")
  for i, d in ipairs(db[kind_name]) do
    if d.id == id then return d, i end
  end
  v.fail(404, KINDS[kind_name].label .. " not found")
end

local function def_routes(router, base, kind_name)
  local kind = KINDS[kind_name]
  local updatable = optional_specs(kind.fields)

  router:add("GET", base, function()
    local list = list_of(kind_name)
    return 200, { tools = list, total = #list }
  end)

  router:add("POST", base, function(ctx)
    local body = v.body(ctx, kind.fields)
    check_url(kind, body)
    local now = state.now_iso()
    local d = {}
    for k, x in pairs(body) do d[k] = x end
    d.id, d.user_id, d.created_at, d.updated_at = state.new_uuid(), state.user.user_id, now, now
    if kind_name == "http" and d.method == nil then d.method = "POST" end
    if d.is_active == nil then d.is_active = true end
    setmetatable(d, DEF_ORDER)
    local list = db[kind_name]
    list[#list + 1] = d
    return 201, d
  end)

  router:add("GET", base .. "/{tool_id}", function(ctx)
    return 200, (find(ctx, kind_name))
  end)

  router:add("PUT", base .. "/{tool_id}", function(ctx)
    local d = find(ctx, kind_name)
    local body = v.body(ctx, updatable)
    check_url(kind, body)
    for k, x in pairs(body) do
      if k ~= "id" and k ~= "user_id" and k ~= "created_at" then d[k] = x end
    end
    d.updated_at = state.now_iso()
    return 200, d
  end)

  router:add("DELETE", base .. "/{tool_id}", function(ctx)
    local d, i = find(ctx, kind_name)
    table.remove(db[kind_name], i)
    for _, list in pairs(db.agents) do
      for j = #list, 1, -1 do
        if list[j].tool_id == d.id then table.remove(list, j) end
      end
    end
    return 200, { message = kind.label .. " deleted", id = d.id }
  end)
end

------------------------------------------------------------------------
-- Agent tools

local function agent_of(ctx)
  local id = params.uuid(ctx, "agent_id")
  local rec = state.agents_by_id[id]
  if not rec then v.fail(404, "Agent not found") end
  db.agents[id] = db.agents[id] or {}
  return id, rec
end

local BY_TYPE = { endpoint = "http", mcp_server = "mcp" }

-- The mappings an array body asks for; raises 422 (shape) or 404 (ids).
local function mappings_from(ctx, agent_id)
  local body = v.body(ctx, nil, { array = true })
  local problems = {}
  for i, item in ipairs(body) do
    local at = { "body", i - 1 }
    if type(item) ~= "table" or json.is_array(item) then
      problems[#problems + 1] = v.problem("model_attributes_type", at,
        "Input should be a valid dictionary or object to extract fields from", item)
    else
      if not BY_TYPE[item.tool_type] then
        local loc = { "body", i - 1, "tool_type" }
        problems[#problems + 1] = item.tool_type == nil
          and v.problem("missing", loc, "Field required", item)
          or v.problem("enum", loc, "Input should be 'endpoint' or 'mcp_server'", item.tool_type,
            { expected = "'endpoint' or 'mcp_server'" })
      end
      if not v.is_uuid(item.tool_id) then
        local loc = { "body", i - 1, "tool_id" }
        problems[#problems + 1] = item.tool_id == nil
          and v.problem("missing", loc, "Field required", item)
          or v.problem("uuid_parsing", loc, "Input should be a valid UUID", item.tool_id)
      end
    end
  end
  if #problems > 0 then v.fail_422(problems) end
  local out = {}
  for _, item in ipairs(body) do
    local id, def = item.tool_id:lower(), nil
    for _, d in ipairs(db[BY_TYPE[item.tool_type]]) do
      if d.id == id then def = d break end
    end
    if not def then v.fail(404, ("Tool %s not found"):format(id)) end
    out[#out + 1] = setmetatable({ id = state.new_uuid(), agent_id = agent_id,
      tool_type = item.tool_type, tool_id = id, name = def.name,
      config = item.config or json.null, created_at = state.now_iso() }, MAPPING_ORDER)
  end
  return out
end

local function agent_tools(agent_id)
  local out = json.array()
  for i, m in ipairs(db.agents[agent_id]) do out[i] = m end
  return out
end

return function(router)
  def_routes(router, "/api/v1/tool-endpoint-defs", "http")
  def_routes(router, "/api/v1/tools-mcp-server-defs", "mcp")

  router:add("GET", "/api/v1/agents/{agent_id}/tools", function(ctx)
    local id = agent_of(ctx)
    return 200, agent_tools(id)
  end)

  router:add("POST", "/api/v1/agents/{agent_id}/tools", function(ctx)
    local id = agent_of(ctx)
    local list = db.agents[id]
    for _, m in ipairs(mappings_from(ctx, id)) do
      local dup = false
      for _, old in ipairs(list) do
        if old.tool_id == m.tool_id and old.tool_type == m.tool_type then dup = true break end
      end
      if not dup then list[#list + 1] = m end
    end
    return 200, { message = "Tools added to the agent", tools = agent_tools(id) }
  end)

  router:add("PATCH", "/api/v1/agents/{agent_id}/tools", function(ctx)
    local id, rec = agent_of(ctx)
    local q = v.query(ctx, { { "force_update", "bool", default = false } })
    local new = mappings_from(ctx, id)
    if rec.agent.is_active and not q.force_update then
      v.fail(400, "Agent is active: pass force_update=true to replace its tools")
    end
    db.agents[id] = new
    return 200, { message = "Agent tools replaced", tools = agent_tools(id) }
  end)

  router:add("DELETE", "/api/v1/agents/{agent_id}/tools/{tool_id}", function(ctx)
    local id = agent_of(ctx)
    local tool_id = params.uuid(ctx, "tool_id")
    local list = db.agents[id]
    for i, m in ipairs(list) do
      if m.tool_id == tool_id or m.id == tool_id then
        table.remove(list, i)
        return 200, { message = "Tool removed from the agent", agent_id = id,
          tool_id = m.tool_id }
      end
    end
    v.fail(404, "Tool is not attached to this agent")
  end)
end
