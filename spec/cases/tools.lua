-- Tools: HTTP tool and MCP server definitions, and agent tool lists.
-- Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local json = require "kupe.json"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local SLOT_TOOL = {
    name = "check_slot", description = "Free appointment slots for a date",
    url = "https://tools.example.test/slots", method = "POST",
    tool_schema = { type = "object", properties = { date = { type = "string" } },
      required = json.array { "date" } },
  }
  local MCP_SERVER = {
    name = "crm", server_url = "https://mcp.example.test/sse",
    headers = { ["X-Team"] = "sales" }, timeout_seconds = 20,
  }

  local function last_body()
    return emu.stats().last_request.body
  end

  case("creates (201), lists, reads, updates and deletes an HTTP tool", function()
    local c = t.client()
    local def, resp = c.tools:create_http(SLOT_TOOL)
    assert.is_table(def, tostring(resp))
    assert.equal(201, resp.status)
    assert.is_string(def.id)
    assert.equal("check_slot", def.name)
    assert.same({ "date" }, def.tool_schema.required)

    local list, lresp = assert(c.tools:list_http())
    assert.equal(1, #list)
    assert.equal(def.id, list[1].id)
    assert.equal(1, lresp.data.total)

    assert.equal(def.url, assert(c.tools:get_http(def.id)).url)
    local up = assert(c.tools:update_http(def.id, { url = "https://tools.example.test/v2/slots" }))
    assert.equal("https://tools.example.test/v2/slots", up.url)
    assert.equal("check_slot", up.name, "fields not sent are kept")

    assert.equal(def.id, assert(c.tools:delete_http(def.id)).id)
    local none, err = c.tools:get_http(def.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:update_http(def.id, { name = "x" })
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:delete_http(def.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.same({}, assert(c.tools:list_http()))
  end)

  case("creates (201), lists, reads, updates and deletes an MCP server definition", function()
    local c = t.client()
    local def, resp = assert(c.tools:create_mcp(MCP_SERVER))
    assert.equal(201, resp.status)
    assert.equal("sales", def.headers["X-Team"])
    assert.equal(def.id, assert(c.tools:list_mcp())[1].id)
    assert.same({}, assert(c.tools:list_http()), "HTTP and MCP lists are separate")
    assert.equal(20, assert(c.tools:get_mcp(def.id)).timeout_seconds)
    assert.equal(45, assert(c.tools:update_mcp(def.id, { timeout_seconds = 45 })).timeout_seconds)
    assert(c.tools:delete_mcp(def.id))
    local none, err = c.tools:get_mcp(def.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:update_mcp(UNKNOWN, { timeout_seconds = 5 })
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:delete_mcp(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("answers 422 and 400 for definitions the API refuses", function()
    local c = t.client()
    local none, err = c.tools:create_http { url = "https://x.example.test" }
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.same({ "body", "name" }, err.detail[1].loc)
    none, err = c.tools:create_mcp { name = "x", server_url = "ftp://files.example.test" }
    assert.is_nil(none)
    assert.equal(400, err.status)
    none, err = c.tools:get_http("tool-1")
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.has_error(function() c.tools:create_http() end,
      "bad argument #1 to 'create_http' (definition table expected, got nil)")
    assert.has_error(function() c.tools:update_mcp("x") end)
  end)

  case("adds tools to an agent, lists and removes them", function()
    local c = t.client()
    local _, agent = t.active_and_idle()
    local http = assert(c.tools:create_http(SLOT_TOOL))
    local mcp = assert(c.tools:create_mcp(MCP_SERVER))
    assert.same({}, assert(c.tools:for_agent(agent)))
    local res = assert(c.tools:add_to_agent(agent, {
      { tool_type = "endpoint", tool_id = http.id },
      { tool_type = "mcp_server", tool_id = mcp.id },
    }))
    assert.equal(2, #res.tools)
    local list = assert(c.tools:for_agent(agent))
    assert.equal(2, #list)
    assert.equal("endpoint", list[1].tool_type)
    assert.equal(http.id, list[1].tool_id)
    assert.equal("crm", list[2].name)

    assert(c.tools:remove_from_agent(agent, http.id))
    list = assert(c.tools:for_agent(agent))
    assert.equal(1, #list)
    assert.equal(mcp.id, list[1].tool_id)
    local none, err = c.tools:remove_from_agent(agent, http.id)
    assert.is_nil(none)
    assert.equal(404, err.status)

    assert(c.tools:delete_mcp(mcp.id))
    assert.same({}, assert(c.tools:for_agent(agent)), "deleting a definition detaches it")
  end)

  case("sends an empty tool list as [] (an object is refused by the API)", function()
    local c = t.client()
    local active, idle = t.active_and_idle()
    local res = assert(c.tools:add_to_agent(idle, {}))
    assert.equal("[]", last_body())
    assert.same({}, res.tools)
    assert(c.tools:set_for_agent(active, {}, { force = true }))
    assert.equal("[]", last_body())
    local none, err = c:request("POST", "/api/v1/agents/" .. idle .. "/tools", { json = {} })
    assert.is_nil(none)
    assert.equal(422, err.status, "what a plain {} would get")
  end)

  case("replaces an agent's tools; an active agent needs force", function()
    local c = t.client()
    local active = t.active_and_idle()
    local http = assert(c.tools:create_http(SLOT_TOOL))
    local mcp = assert(c.tools:create_mcp(MCP_SERVER))
    assert(c.tools:add_to_agent(active, { { tool_type = "endpoint", tool_id = http.id } }))
    local none, err = c.tools:set_for_agent(active, { { tool_type = "mcp_server", tool_id = mcp.id } })
    assert.is_nil(none)
    assert.equal(400, err.status)
    assert.matches("force_update", err.message)
    assert.equal(http.id, assert(c.tools:for_agent(active))[1].tool_id, "unchanged")
    local res = assert(c.tools:set_for_agent(active, { { tool_type = "mcp_server", tool_id = mcp.id } },
      { force = true }))
    assert.equal("force_update=true", emu.stats().last_request.query)
    assert.equal(1, #res.tools)
    assert.equal(mcp.id, assert(c.tools:for_agent(active))[1].tool_id)
  end)

  case("answers 404 for an unknown agent or tool and 422 for a bad tool type", function()
    local c = t.client()
    local _, idle = t.active_and_idle()
    local none, err = c.tools:for_agent(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:add_to_agent(idle, { { tool_type = "endpoint", tool_id = UNKNOWN } })
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.tools:add_to_agent(idle, { { tool_type = "webhook", tool_id = UNKNOWN } })
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.same({ "body", 0, "tool_type" }, err.detail[1].loc)
  end)

  case("raises for a tool list that is not a list of tables, before sending", function()
    local c = t.client()
    local _, idle = t.active_and_idle()
    local before = t.requests()
    assert.has_error(function() c.tools:add_to_agent(idle, "endpoint") end,
      "bad argument #2 to 'add_to_agent' (tools must be a list of tables, got string)")
    assert.has_error(function() c.tools:set_for_agent(idle, { UNKNOWN }) end,
      "bad argument #2 to 'set_for_agent' (tools[1] must be a table, got string)")
    assert.has_error(function() c.tools:set_for_agent(idle, {}, { force = "yes" }) end,
      "bad argument #3 to 'set_for_agent' (force must be a boolean, got string)")
    local ok, msg = pcall(function() c.tools:get_mcp(nil) end)
    assert.is_false(ok)
    assert.matches("tools%.lua:%d+: bad argument #1 to 'get_mcp' %(tool_id must be", msg)
    assert.has_error(function() c.tools:remove_from_agent(idle) end)
    assert.equal(before, t.requests())
  end)

  return cases
end
