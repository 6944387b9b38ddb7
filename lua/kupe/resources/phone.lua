--- Phone lines: the caller's numbers, which agent (or workflow) answers
-- each, and the carrier-facing TwiML routes.
--
-- * `GET /api/v1/phone` wraps the lines as `{success, phone_numbers}`;
--   `list` returns the array. A line's `id` is what other routes call
--   `phone_number_id` or `caller_phone_id`.
-- * A mapping needs exactly one of `agent_id` / `workflow_id`, plus
--   `phone_number_id`; the API answers 400 otherwise, here it raises
--   before anything is sent. Mapping a line again replaces its target.
-- * `GET|POST /api/call/incoming_call` are what the carrier (Twilio)
--   calls when a line rings; they answer TwiML (`text/xml`), returned
--   here as the XML text, for checking a line's setup. The POST is
--   form-urlencoded, as Twilio sends it.
--
--     local lines = assert(client.phone:list())
--     assert(client.phone:map { agent_id = agent, phone_number_id = lines[1].id })
-- @module kupe.resources.phone

local resource = require "kupe.resource"
local core = require "kupe.core"
local json = require "kupe.json"
local errors = require "kupe.errors"
local A = require "kupe.argcheck"

local TWIML = "/api/call/incoming_call"

local G = resource.group("phone", {
  { "list", "GET", "/api/v1/phone", custom = true, doc = "the caller's phone lines" },
  { "map", "POST", "/api/v1/phone/mapping", custom = true,
    doc = "map an agent or workflow to a line" },
  { "mapping", "GET", "/api/v1/phone/mapping/{phone_number_id}", custom = true,
    doc = "the mapping of one line" },
  { "mappings_for_agent", "GET", "/api/v1/phone/mapping/agent/{agent_id}", custom = true,
    doc = "the lines mapped to an agent" },
  { "incoming_twiml", "GET", TWIML, custom = true, doc = "TwiML for a ringing line (carrier)" },
  { "incoming_twiml_post", "POST", TWIML, custom = true,
    doc = "TwiML for a ringing line, form post (carrier)" },
})

--- The caller's phone lines (`id`, `phone_number`, `friendly_name`,
-- `country_code`, `region`, `is_active`, ...), unwrapped from
-- `{success, phone_numbers}`.
-- @return array, resp | nil, err
function G:list()
  return resource.get_list(self._client, "/api/v1/phone", "phone_numbers",
    "{success, phone_numbers}")
end

local MAP_KEYS = { agent_id = true, workflow_id = true, phone_number_id = true,
  webhook_url = true, config_source = true, user_id = true }

--- Maps an agent (or a workflow) to a phone line, for inbound calls.
-- @tparam table mapping exactly one of `agent_id` / `workflow_id`, and
--   `phone_number_id` (a line id from phone:list)
-- @return the mapping, resp | nil, err (404 unknown line or agent, 422
--   malformed id)
-- @raise unless exactly one of agent_id / workflow_id and phone_number_id
--   are given
function G:map(mapping)
  A.table(mapping, nil, "map", 1)
  for k, v in pairs(mapping) do
    if not MAP_KEYS[k] then A.fail("map", 1, ("unknown field '%s'"):format(tostring(k))) end
    if v ~= json.null then
      A.id(v, k, "map", 1)
    end
  end
  local agent = mapping.agent_id ~= nil and mapping.agent_id ~= json.null
  local workflow = mapping.workflow_id ~= nil and mapping.workflow_id ~= json.null
  if agent == workflow then A.fail("map", 1, "give exactly one of agent_id or workflow_id") end
  if mapping.phone_number_id == nil or mapping.phone_number_id == json.null then
    A.fail("map", 1, "phone_number_id is required (a line id from phone:list)")
  end
  return self._client:request("POST", "/api/v1/phone/mapping", { json = mapping })
end

--- The mapping of one phone line.
-- @tparam string phone_number_id
-- @return mapping, resp | nil, err (404 when the line is not mapped)
function G:mapping(phone_number_id)
  A.id(phone_number_id, "phone_number_id", "mapping", 1)
  return self._client:request("GET", resource.path("/api/v1/phone/mapping/{phone_number_id}",
    "mapping", phone_number_id))
end

--- The mappings that route lines to one agent (an empty array when none).
-- @tparam string agent_id
-- @return array, resp | nil, err (404 unknown agent)
function G:mappings_for_agent(agent_id)
  A.id(agent_id, "agent_id", "mappings_for_agent", 1)
  return self._client:request("GET", resource.path("/api/v1/phone/mapping/agent/{agent_id}",
    "mappings_for_agent", agent_id))
end

-- The XML text of a 2xx TwiML answer; anything else is a decode error.
local function twiml(self, method, opts)
  opts.raw = true
  local body, resp = self._client:request(method, TWIML, opts)
  if body == nil then return nil, resp end
  local ctype = resp.content_type or ""
  if not ctype:find("xml", 1, true) then
    return nil, errors.new { kind = "decode", status = resp.status, method = method,
      path = TWIML, body = body, headers = resp.headers,
      message = ("expected TwiML (text/xml), got %s"):format(resp.content_type or "no content type") }
  end
  return body, resp
end

local function check_fields(fields, fname)
  if fields == nil then return {} end
  if type(fields) ~= "table" then
    A.table(fields, nil, fname, 1, 1)
  end
  for k, v in pairs(fields) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
      A.fail(fname, 1, "fields must be name = string or number", 1)
    end
  end
  return fields
end

--- The TwiML the carrier gets when a line rings (GET form). For checking
-- a line's setup: a mapped line streams to its agent, another says it
-- is not configured.
-- @tparam[opt] table params Twilio's fields, e.g. `{To = "+14155550123",
--   From = "+15551230000", CallSid = "CA..."}`
-- @return xml (string), resp | nil, err
function G:incoming_twiml(params)
  return twiml(self, "GET", { query = check_fields(params, "incoming_twiml") })
end

--- The same, posted the way Twilio posts it (form-urlencoded body).
-- @tparam[opt] table fields Twilio's fields (`To`, `From`, `CallSid`, ...)
-- @return xml (string), resp | nil, err
function G:incoming_twiml_post(fields)
  fields = check_fields(fields, "incoming_twiml_post")
  return twiml(self, "POST", { body = core.encode_query(fields),
    content_type = "application/x-www-form-urlencoded" })
end

return G
