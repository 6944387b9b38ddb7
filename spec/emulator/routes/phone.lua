-- Incoming calls (kupe-api.md section 5): agent or workflow to phone line
-- mappings, and the carrier-facing TwiML routes.
--
-- One mapping per phone line, kept in the "phone" store: mapping a line
-- again replaces its target (same mapping id). The answer never shows
-- `webhook_url` or `config_source` (server-managed; accepted and ignored).
--
-- `GET|POST /api/call/incoming_call` is what Twilio calls when a line
-- rings (no API key; the POST is form-urlencoded): the answer is TwiML
-- (text/xml) that streams the call to the agent mapped to the dialled
-- line (`To`), or says the number is not configured and hangs up.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"

local store = state.store("phone")

state.on_reset(function()
  store.by_line = {}                  -- phone_number_id -> mapping
end)

local MAPPING_ORDER = json.order {
  "id", "phone_number_id", "phone_number", "agent_id", "workflow_id", "user_id", "is_active",
  "created_at", "updated_at",
}

local function find_line(id)
  for _, p in ipairs(state.phones) do
    if p.id == id then return p end
  end
end

local function create_mapping(ctx)
  local b = v.body(ctx, {
    { "agent_id", "uuid" }, { "workflow_id", "uuid" }, { "phone_number_id", "uuid" },
    { "webhook_url", "str" }, { "config_source", "str" }, { "user_id", "uuid" },
  })
  local agent_id = b.agent_id ~= json.null and b.agent_id or nil
  local workflow_id = b.workflow_id ~= json.null and b.workflow_id or nil
  local line_id = b.phone_number_id ~= json.null and b.phone_number_id or nil
  if not line_id then v.fail(400, "phone_number_id is required") end
  if (agent_id == nil) == (workflow_id == nil) then
    v.fail(400, "Provide exactly one of agent_id or workflow_id")
  end
  if b.user_id and b.user_id ~= json.null and b.user_id ~= ctx.user.user_id then
    v.fail(403, "user_id does not match the authenticated user")
  end
  local line = find_line(line_id) or v.fail(404, "Phone number not found")
  if agent_id and not state.agents_by_id[agent_id] then v.fail(404, "Agent not found") end
  local now = state.now_iso()
  local m = store.by_line[line_id]
  if not m then
    m = setmetatable({ id = state.new_uuid(), phone_number_id = line_id,
      phone_number = line.phone_number, user_id = ctx.user.user_id, is_active = true,
      created_at = now }, MAPPING_ORDER)
    store.by_line[line_id] = m
  end
  m.agent_id, m.workflow_id = agent_id or json.null, workflow_id or json.null
  m.updated_at = now
  return 200, m
end

local function mapping_for_line(ctx)
  local id = params.uuid(ctx, "phone_number_id", params.SHORT)
  return 200, store.by_line[id] or v.fail(404, "No mapping for this phone number")
end

local function mappings_for_agent(ctx)
  local id = params.uuid(ctx, "agent_id", params.SHORT)
  if not state.agents_by_id[id] then v.fail(404, "Agent not found") end
  local out = json.array()
  for _, p in ipairs(state.phones) do    -- in line order, so the answer is stable
    local m = store.by_line[p.id]
    if m and m.agent_id == id then out[#out + 1] = m end
  end
  return 200, out
end

------------------------------------------------------------------------
-- TwiML

local function xml_escape(s)
  return (tostring(s):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;",
  }))
end

local function digits(s)
  return type(s) == "string" and s:gsub("%D", "") or ""
end

local function twiml(ctx, fields)
  local to = digits(fields.To or fields.Called)
  local mapping
  for _, p in ipairs(state.phones) do
    if to ~= "" and digits(p.phone_number) == to then
      mapping = store.by_line[p.id]
      break
    end
  end
  local body
  if mapping then
    local stream = ctx.base_url:gsub("^http", "ws") .. "/api/call/media-stream"
    local tags = {}
    local function param(name, value)
      if value and value ~= json.null and value ~= "" then
        tags[#tags + 1] = ('<Parameter name="%s" value="%s"/>'):format(name,
          xml_escape(value))
      end
    end
    param("agent_id", mapping.agent_id)
    param("workflow_id", mapping.workflow_id)
    param("phone_number_id", mapping.phone_number_id)
    param("from", fields.From)
    param("call_sid", fields.CallSid)
    body = ('<Response><Connect><Stream url="%s">%s</Stream></Connect></Response>')
      :format(xml_escape(stream), table.concat(tags))
  else
    body = "<Response><Say>This number is not configured to take calls.</Say><Hangup/>"
      .. "</Response>"
  end
  return 200, require("emu.respond").raw('<?xml version="1.0" encoding="UTF-8"?>' .. body,
    "text/xml; charset=utf-8")
end

local function first_values(t)
  local out = {}
  for k, x in pairs(t or {}) do
    if type(x) == "table" then x = x[1] end
    if type(x) == "string" then out[k] = x end
  end
  return out
end

local function incoming_get(ctx)
  return twiml(ctx, first_values(ctx.query))
end

local function incoming_post(ctx)
  local ctype = ctx.headers["content-type"]
  if type(ctype) == "table" then ctype = ctype[1] end
  local fields = {}
  if ctx.body and ctx.body ~= "" then
    if not (ctype or ""):lower():find("application/x-www-form-urlencoded", 1, true) then
      v.fail(415, "Expected application/x-www-form-urlencoded")
    end
    fields = first_values(ngx.decode_args(ctx.body, 0))
  end
  return twiml(ctx, fields)
end

return function(router)
  router:add("POST", "/api/v1/phone/mapping", create_mapping)
  router:add("GET", "/api/v1/phone/mapping/{phone_number_id}", mapping_for_line)
  router:add("GET", "/api/v1/phone/mapping/agent/{agent_id}", mappings_for_agent)
  router:add("GET", "/api/call/incoming_call", incoming_get, { auth = false })
  router:add("POST", "/api/call/incoming_call", incoming_post, { auth = false })
end
