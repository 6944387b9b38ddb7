--- Webhooks: each agent's webhook settings, its start-call secret, a
-- test delivery, and the signed start-call route itself.
--
-- An agent has two webhooks: `incoming` (your CRM starts a call by
-- POSTing to the agent's start-call URL, signed with the agent's HMAC
-- secret) and `outgoing` (Kupe POSTs a payload to your URL when a call
-- ends; read it with kupe.webhook).
--
-- What the API makes awkward, and what this module does about it:
--
-- * `GET /webhooks/me` wraps the list as `{agents = [...]}`; `list`
--   returns the array.
-- * The secret is masked unless asked for: `get(id, {reveal_secret =
--   true})`, or take it from `rotate_secret`.
-- * The start-call route takes no API key but an HMAC of the exact body
--   bytes: `trigger` encodes the body once, signs those bytes and sends
--   them, so the signature cannot drift from what is sent. Like
--   create_call, a call that could not be placed is a 200 with
--   `status: "failed"`: here `nil, err` with kind "call_failed"; a
--   queued call (202) is a result.
-- * `test_outgoing` answers 502 when your receiver fails; the error
--   carries the API's reason and a hint.
--
--     local cfg = assert(client.webhooks:get(agent, { reveal_secret = true }))
--     local call = assert(client.webhooks:trigger(agent, { phoneNumber = "+15551234567",
--       variable_values = { name = "Ada" } }, cfg.incoming.secret))
-- @module kupe.resources.webhooks

local resource = require "kupe.resource"
local json = require "kupe.json"
local errors = require "kupe.errors"
local webhook = require "kupe.webhook"
local A = require "kupe.argcheck"

local AGENT = "/api/v1/webhooks/agents/{agent_id}"

local G = resource.group("webhooks", {
  { "list", "GET", "/api/v1/webhooks/me", custom = true,
    doc = "the webhook URLs of the caller's agents" },
  { "get", "GET", AGENT, custom = true, doc = "an agent's webhook settings" },
  { "update", "PUT", AGENT, custom = true, doc = "change an agent's webhook settings" },
  { "rotate_secret", "POST", AGENT .. "/rotate-secret", custom = true,
    doc = "a new start-call HMAC secret" },
  { "test_outgoing", "POST", AGENT .. "/test-outgoing", custom = true,
    doc = "send a sample call-ended payload to the outgoing URL" },
  { "trigger", "POST", AGENT .. "/incoming", custom = true,
    doc = "start a call through the signed start-call webhook" },
})

--- Every agent's webhook URLs and switches (`agent_id`, `agent_name`,
-- `incoming_webhook_url`, `incoming_enabled`, `outgoing_enabled`,
-- `outgoing_url`), unwrapped from `{agents = [...]}`.
-- @return array, resp | nil, err
function G:list()
  return resource.get_list(self._client, "/api/v1/webhooks/me", "agents", "{agents = [...]}")
end

--- An agent's webhook settings: `trigger_on_web_call`,
-- `trigger_on_phone_call`, `incoming = {enabled, url, attached_variables,
-- secret}`, `outgoing = {enabled, url, method, headers, auth,
-- retry_count}`. The secret is masked unless `reveal_secret` is true.
-- @tparam string agent_id
-- @tparam[opt] table opts `{reveal_secret = true}`
-- @return settings, resp | nil, err (404 unknown agent)
function G:get(agent_id, opts)
  A.id(agent_id, "agent_id", "get", 1)
  if opts ~= nil then A.table(opts, "options", "get", 2) end
  for k, v in pairs(opts or {}) do
    if k ~= "reveal_secret" then A.fail("get", 2, ("unknown option '%s'"):format(tostring(k))) end
    if type(v) ~= "boolean" then A.fail("get", 2, "reveal_secret must be a boolean") end
  end
  local q = opts and opts.reveal_secret and { reveal_secret = true } or nil
  return self._client:request("GET", resource.path(AGENT, "get", agent_id), { query = q })
end

--- Changes an agent's webhook settings: the body is merged into them
-- (free-form; the secret is server-managed and cannot be set).
-- @tparam string agent_id
-- @tparam table settings e.g. `{outgoing = {enabled = true, url = "https://crm.example/hook",
--   auth = {type = "bearer", token = "..."}}, incoming = {enabled = true}}`
-- @return settings, resp | nil, err (400 for an unusable URL, 422 for a
--   wrongly typed field)
function G:update(agent_id, settings)
  A.id(agent_id, "agent_id", "update", 1)
  if not A.is_object(settings) then
    A.fail("update", 2, "settings table expected, got " .. type(settings))
  end
  return self._client:request("PUT", resource.path(AGENT, "update", agent_id), { json = settings })
end

--- Replaces the agent's start-call secret; the old one stops working.
-- @tparam string agent_id
-- @return `{secret, ...}` (the new secret, revealed), resp | nil, err
function G:rotate_secret(agent_id)
  A.id(agent_id, "agent_id", "rotate_secret", 1)
  return self._client:request("POST", resource.path(AGENT .. "/rotate-secret", "rotate_secret",
    agent_id))
end

--- Sends a sample call-ended payload to the agent's outgoing URL.
-- @tparam string agent_id
-- @return answer, resp | nil, err (502 when the receiver failed or could
--   not be reached; 400 when no outgoing URL is set)
function G:test_outgoing(agent_id)
  A.id(agent_id, "agent_id", "test_outgoing", 1)
  local data, err = self._client:request("POST", resource.path(AGENT .. "/test-outgoing",
    "test_outgoing", agent_id))
  if data == nil and err.status == 502 then
    err.hint = "your receiver at outgoing.url must answer 2xx quickly: check that it is up"
  end
  return data, err
end

local DESTINATIONS = { "phoneNumber", "to_number", "phone_number" }

--- Starts a call through the agent's start-call webhook, as a CRM would:
-- the body is encoded once, signed with `secret` (HMAC-SHA256 in
-- `X-Webhook-Signature: sha256=<hex>`) and sent as signed.
--
-- Variables for the agent's `{{placeholders}}`: the agent's
-- `incoming.attached_variables` defaults, overridden by other top-level
-- keys, overridden by `variable_values` (or `variables`, `context_params`).
-- @tparam string agent_id
-- @tparam table|string body `{phoneNumber = "+1...", variable_values = {...},
--   phone_number_id = ...}` (or `to_number` / `phone_number`), or the JSON
--   text itself
-- @tparam string secret the agent's secret (get with reveal_secret, or rotate_secret)
-- @return the call (as calls:create, with the resolved `variable_values`),
--   resp | nil, err (401 bad signature, 403 incoming disabled, kind
--   "call_failed" for a 200 `status: "failed"`)
-- @raise when the body has no destination, or secret is missing
function G:trigger(agent_id, body, secret)
  A.id(agent_id, "agent_id", "trigger", 1)
  local raw = body
  if type(body) == "table" then
    if not A.is_object(body) then A.fail("trigger", 2, "body must be a table of fields") end
    local has = false
    for _, k in ipairs(DESTINATIONS) do
      if body[k] ~= nil and body[k] ~= json.null then
        if type(body[k]) ~= "string" or body[k] == "" then
          A.fail("trigger", 2, k .. " must be a non-empty string")
        end
        has = true
      end
    end
    if not has then A.fail("trigger", 2, "phoneNumber (or to_number / phone_number) is required") end
    local err
    raw, err = json.encode(body)
    if not raw then A.fail("trigger", 2, "body cannot be encoded as JSON: " .. tostring(err)) end
  elseif type(body) ~= "string" or body == "" then
    A.fail("trigger", 2, "body table or JSON string expected, got " .. type(body))
  end
  if type(secret) ~= "string" or secret == "" then
    A.fail("trigger", 3, "secret must be a non-empty string (the agent's webhook secret)")
  end
  local p = resource.path(AGENT .. "/incoming", "trigger", agent_id)
  local data, resp = self._client:request("POST", p, {
    body = raw, content_type = "application/json",
    headers = { [webhook.SIGNATURE_HEADER] = webhook.sign(raw, secret) },
  })
  if data == nil then
    if resp.status == 401 then
      resp.hint = "the signature was refused: use the agent's current secret "
        .. "(webhooks:get with reveal_secret, or rotate_secret)"
    end
    return nil, resp
  end
  if type(data) == "table" and data.status == "failed" then
    local detail = errors.detail_text(data.detail)
    return nil, errors.new { kind = "call_failed", status = resp.status, method = "POST",
      path = p, detail = data.detail, data = data, headers = resp.headers,
      message = "the call was not placed: " .. (detail or "no reason given") }
  end
  return data, resp
end

return G
