--- Tools: HTTP tool definitions, MCP server definitions, and which of them
-- an agent may call.
--
-- Definitions belong to the caller; their bodies are free-form (an HTTP
-- tool has `name`, `url`, `method`, `tool_schema`, ...; an MCP server
-- `name`, `server_url`, `headers`, `timeout_seconds`, ...) and are sent as
-- given. Creating one answers 201. The list routes answer an object
-- holding a `tools` array; `list_http` and `list_mcp` return that array
-- (the whole answer is `resp.data`).
--
-- An agent's tools are sent as a JSON array: `add_to_agent` appends,
-- `set_for_agent` replaces the whole list (`force = true` for an active
-- agent). An empty Lua table goes out as `[]`, never `{}`.
-- @module kupe.resources.tools

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local HTTP, HTTP_ONE = "/api/v1/tool-endpoint-defs", "/api/v1/tool-endpoint-defs/{tool_id}"
local MCP, MCP_ONE = "/api/v1/tools-mcp-server-defs", "/api/v1/tools-mcp-server-defs/{tool_id}"
local AGENT, AGENT_ONE = "/api/v1/agents/{agent_id}/tools", "/api/v1/agents/{agent_id}/tools/{tool_id}"

local G = resource.group("tools", {
  { "list_http", "GET", HTTP, custom = true, doc = "HTTP tool definitions" },
  { "create_http", "POST", HTTP, custom = true, doc = "create an HTTP tool (201)" },
  { "get_http", "GET", HTTP_ONE, custom = true, doc = "one HTTP tool" },
  { "update_http", "PUT", HTTP_ONE, custom = true, doc = "change an HTTP tool" },
  { "delete_http", "DELETE", HTTP_ONE, custom = true, doc = "delete an HTTP tool" },
  { "list_mcp", "GET", MCP, custom = true, doc = "MCP server definitions" },
  { "create_mcp", "POST", MCP, custom = true, doc = "create an MCP server definition (201)" },
  { "get_mcp", "GET", MCP_ONE, custom = true, doc = "one MCP server definition" },
  { "update_mcp", "PUT", MCP_ONE, custom = true, doc = "change an MCP server definition" },
  { "delete_mcp", "DELETE", MCP_ONE, custom = true, doc = "delete an MCP server definition" },
  { "for_agent", "GET", AGENT, custom = true, doc = "an agent's tool mappings" },
  { "add_to_agent", "POST", AGENT, custom = true, doc = "add tools to an agent" },
  { "set_for_agent", "PATCH", AGENT, custom = true, doc = "replace an agent's tools" },
  { "remove_from_agent", "DELETE", AGENT_ONE, custom = true, doc = "remove one tool from an agent" },
})

-- The list routes: an object with a `tools` array (or a bare array).
local function list(self, path)
  local data, resp = self._client:request("GET", path)
  if data == nil then return nil, resp end
  if type(data) == "table" then
    if type(data.tools) == "table" then
      resp.data = data
      return data.tools, resp
    end
    if data[1] ~= nil or getmetatable(data) == json.array_mt then return data, resp end
  end
  return nil, errors.new { kind = "decode", status = resp.status, method = "GET", path = path,
    body = resp.body, message = "expected an object with a 'tools' array" }
end

--- The caller's HTTP tool definitions.
-- @return array of definitions, resp | nil, err
function G:list_http() return list(self, HTTP) end

--- The caller's MCP server definitions.
-- @return array of definitions, resp | nil, err
function G:list_mcp() return list(self, MCP) end

--- Creates an HTTP tool definition (the API answers 201).
-- @tparam table def e.g. `{name =, description =, url =, method = "POST", tool_schema = {...}}`
-- @return the definition with its `id`, resp | nil, err
function G:create_http(def)
  A.table(def, "definition", "create_http", 1)
  return self._client:request("POST", HTTP, { json = def })
end

--- Creates an MCP server definition (the API answers 201).
-- @tparam table def e.g. `{name =, server_url =, headers = {...}, timeout_seconds = 20}`
-- @return the definition with its `id`, resp | nil, err
function G:create_mcp(def)
  A.table(def, "definition", "create_mcp", 1)
  return self._client:request("POST", MCP, { json = def })
end

--- One HTTP tool definition.
-- @tparam string tool_id
-- @return the definition, resp | nil, err (404 when unknown)
function G:get_http(tool_id)
  A.id(tool_id, "tool_id", "get_http", 1)
  return self._client:request("GET", resource.path(HTTP_ONE, "get_http", tool_id))
end

--- One MCP server definition.
-- @tparam string tool_id
-- @return the definition, resp | nil, err (404 when unknown)
function G:get_mcp(tool_id)
  A.id(tool_id, "tool_id", "get_mcp", 1)
  return self._client:request("GET", resource.path(MCP_ONE, "get_mcp", tool_id))
end

--- Changes an HTTP tool definition (the fields given replace those stored).
-- @tparam string tool_id
-- @tparam table def
-- @return the definition, resp | nil, err (404 when unknown)
function G:update_http(tool_id, def)
  A.id(tool_id, "tool_id", "update_http", 1)
  A.table(def, "definition", "update_http", 2)
  return self._client:request("PUT", resource.path(HTTP_ONE, "update_http", tool_id), { json = def })
end

--- Changes an MCP server definition.
-- @tparam string tool_id
-- @tparam table def
-- @return the definition, resp | nil, err (404 when unknown)
function G:update_mcp(tool_id, def)
  A.id(tool_id, "tool_id", "update_mcp", 1)
  A.table(def, "definition", "update_mcp", 2)
  return self._client:request("PUT", resource.path(MCP_ONE, "update_mcp", tool_id), { json = def })
end

--- Deletes an HTTP tool definition (and its agent mappings).
-- @tparam string tool_id
-- @return the answer, resp | nil, err (404 when unknown)
function G:delete_http(tool_id)
  A.id(tool_id, "tool_id", "delete_http", 1)
  return self._client:request("DELETE", resource.path(HTTP_ONE, "delete_http", tool_id))
end

--- Deletes an MCP server definition (and its agent mappings).
-- @tparam string tool_id
-- @return the answer, resp | nil, err (404 when unknown)
function G:delete_mcp(tool_id)
  A.id(tool_id, "tool_id", "delete_mcp", 1)
  return self._client:request("DELETE", resource.path(MCP_ONE, "delete_mcp", tool_id))
end

--- The tool mappings of an agent (`tool_type` "endpoint" or "mcp_server",
-- `tool_id`, ...).
-- @tparam string agent_id
-- @return array of mappings, resp | nil, err (404 unknown agent)
function G:for_agent(agent_id)
  A.id(agent_id, "agent_id", "for_agent", 1)
  return self._client:request("GET", resource.path(AGENT, "for_agent", agent_id))
end

--- Adds tools to an agent.
-- @tparam string agent_id
-- @tparam table tools a list of tool configs, e.g.
--   `{ {tool_type = "endpoint", tool_id = id}, {tool_type = "mcp_server", tool_id = id2} }`
-- @return the answer, resp | nil, err
function G:add_to_agent(agent_id, tools)
  A.id(agent_id, "agent_id", "add_to_agent", 1)
  local body = A.table_list(tools, "tools", "add_to_agent", 2)
  return self._client:request("POST", resource.path(AGENT, "add_to_agent", agent_id),
    { json = body })
end

--- Replaces an agent's whole tool list (an empty list removes them all).
-- An active agent refuses the change (400) unless `force` is true.
-- @tparam string agent_id
-- @tparam table tools a list of tool configs, as `add_to_agent`
-- @tparam[opt] table opts `force` (boolean: sends `force_update=true`)
-- @return the answer, resp | nil, err
function G:set_for_agent(agent_id, tools, opts)
  A.id(agent_id, "agent_id", "set_for_agent", 1)
  local body = A.table_list(tools, "tools", "set_for_agent", 2)
  A.opts(opts, "set_for_agent", 3, true)
  A.known(opts or {}, { force = true }, "set_for_agent", 3)
  local force = A.boolean((opts or {}).force, "force", "set_for_agent", 3, true)
  return self._client:request("PATCH", resource.path(AGENT, "set_for_agent", agent_id), {
    json = body, query = force and { force_update = true } or nil,
  })
end

--- Removes one tool from an agent.
-- @tparam string agent_id
-- @tparam string tool_id the definition's id
-- @return the answer, resp | nil, err (404 when the tool is not on the agent)
function G:remove_from_agent(agent_id, tool_id)
  A.id(agent_id, "agent_id", "remove_from_agent", 1)
  A.id(tool_id, "tool_id", "remove_from_agent", 2)
  return self._client:request("DELETE",
    resource.path(AGENT_ONE, "remove_from_agent", agent_id, tool_id))
end

return G
