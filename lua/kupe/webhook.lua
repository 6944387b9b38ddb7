--- Webhooks on your side: the payloads Kupe POSTs to your server, and
-- the HMAC signature of the start-call webhook.
--
-- Kupe POSTs JSON to an agent's outgoing URL when a call ends
-- (`voiceCallCompleted`) or fails (`voiceCallError`). The call-ended
-- payload exists in two versions, both still met in the wild
-- (kupe-api.md 13.2): the current lead schema (`call_session_id`,
-- `customer_name`, `lead_status`, `ai_summary`, `post_call_analyses`,
-- ...) and the older one (`summary`, `full_conversation`,
-- `extracted_variables`, `cost`, `sentiment_analysis`, ...). `parse`
-- reads either into one shape, so a handler is written once:
--
--     local webhook = require "kupe.webhook"
--     local event, err = webhook.parse(body)      -- the raw request body
--     if event and event.type == "call_completed" then
--       print(event.call_id, event.duration, event.summary, event.lead.status)
--     end
--
-- Every field of the event is nil when the payload lacks it (JSON null
-- included); `event.raw` is the decoded payload, untouched.
--
-- The start-call webhook (`POST /api/v1/webhooks/agents/{id}/incoming`)
-- is authenticated by `X-Webhook-Signature: sha256=<hex>`, the
-- HMAC-SHA256 of the raw body with the agent's secret. `sign` makes that
-- header value (client.webhooks:trigger uses it) and `verify` checks one
-- in constant time, for a relay or a test receiver. Kupe's call-ended
-- deliveries carry no signature: they are authenticated by the headers
-- or bearer token configured in the agent's `outgoing` settings.
-- The HMAC runs in C (OpenSSL).
-- @module kupe.webhook

local core = require "kupe.core"
local json = require "kupe.json"
local errors = require "kupe.errors"

local M = {}

--- The header that carries the signature.
M.SIGNATURE_HEADER = "X-Webhook-Signature"

local null = json.null

local function value(v)
  if v == null then return nil end
  return v
end

local function str(v)
  v = value(v)
  if v == nil then return nil end
  if type(v) == "number" then return tostring(v) end
  return type(v) == "string" and v or nil
end

local function num(v)
  v = value(v)
  return tonumber(v)
end

local function bool(v)
  v = value(v)
  if type(v) == "boolean" then return v end
  if v == "true" then return true elseif v == "false" then return false end
  return nil
end

local function tbl(v)
  v = value(v)
  return type(v) == "table" and v or nil
end

-- Keys only the older call-ended payload has, and keys only the current one has.
local LEGACY_KEYS = { "extracted_variables", "full_conversation", "sentiment_analysis", "cost",
  "summary" }
local CURRENT_KEYS = { "call_session_id", "ai_summary", "lead_status", "lead_temperature",
  "lead_score", "customer_name", "mobile_number", "post_call_analyses", "call_direction" }

local function has_any(t, keys)
  for _, k in ipairs(keys) do
    if t[k] ~= nil then return true end
  end
  return false
end

local function analyses(list)
  local out = json.array()
  for _, a in ipairs(tbl(list) or {}) do
    if type(a) == "table" then
      out[#out + 1] = {
        rule_id = str(a.rule_id), rule_name = str(a.rule_name), source = str(a.source),
        sort_order = num(a.sort_order), text = str(a.body_text), data = tbl(a.structured_json),
        tool_invocation = tbl(a.tool_invocation), raw_response = str(a.raw_response),
      }
    end
  end
  return out
end

local function completed(p)
  local legacy = has_any(p, LEGACY_KEYS) and not has_any(p, CURRENT_KEYS)
  local sentiment = tbl(p.sentiment_analysis)
  local list = analyses(p.post_call_analyses)
  return {
    type = "call_completed",
    version = legacy and "legacy" or "current",
    call_id = str(p.call_id),
    call_session_id = str(p.call_session_id),
    agent_id = str(p.agent_id),
    status = str(p.call_status),
    direction = str(p.call_direction),
    started_at = str(p.call_datetime),
    duration = num(p.call_duration),
    from_number = str(p.from_number),
    to_number = str(p.to_number),
    recording_url = str(p.recording_url),
    summary = str(p.ai_summary) or str(p.call_summary) or str(p.summary),
    transcript = str(p.full_conversation),
    variables = tbl(p.extracted_variables),
    cost = num(p.cost),
    sentiment = sentiment and { label = str(sentiment.label), score = num(sentiment.score) } or nil,
    customer = {
      name = str(p.customer_name) or str(p.user_name),
      phone = str(p.mobile_number),
      email = str(p.email),
      company = str(p.company_name),
      source = str(p.lead_source),
    },
    lead = {
      status = str(p.lead_status),
      temperature = str(p.lead_temperature),
      score = num(p.lead_score),
      next_action = str(p.next_action),
      next_follow_up_date = str(p.next_follow_up_date),
      crm_stage = str(p.crm_stage),
      send_whatsapp = bool(p.send_whatsapp),
      send_email = bool(p.send_email),
      reminder_to_sales_team = bool(p.reminder_to_sales_team),
    },
    analyses = list,
    analysis_count = num(p.post_call_analysis_count) or #list,
    raw = p,
  }
end

--- Reads a payload Kupe posted: the call-ended one (current or older
-- version) or the error one.
--
-- The event: `type` ("call_completed" or "call_error"), `version`
-- ("current" or "legacy", call_completed only), `call_id`,
-- `call_session_id`, `agent_id`, `status`, `direction`, `started_at`,
-- `duration` (seconds), `from_number`, `to_number`, `recording_url`,
-- `summary` (ai_summary, call_summary or the older summary),
-- `transcript` and `variables` and `cost` and `sentiment = {label,
-- score}` (older version), `customer = {name, phone, email, company,
-- source}`, `lead = {status, temperature, score, next_action,
-- next_follow_up_date, crm_stage, send_whatsapp, send_email,
-- reminder_to_sales_team}`, `analyses` (each `{rule_id, rule_name,
-- source, sort_order, text, data, tool_invocation, raw_response}`),
-- `analysis_count`; for call_error `call_id` and `error_reason`; always
-- `raw`, the payload as decoded.
-- @tparam string|table payload the raw body, or a payload already decoded
-- @return event | nil, err (`kind` "decode" when the body is not a JSON object)
-- @raise when payload is neither a string nor a table
function M.parse(payload)
  local p = payload
  if type(payload) == "string" then
    local cause
    p, cause = json.decode(payload)
    if p == nil then
      return nil, errors.new { kind = "decode", method = "parse", path = "webhook payload",
        body = payload, cause = cause, message = "the webhook body is not valid JSON" }
    end
  elseif type(payload) ~= "table" then
    error("bad argument #1 to 'parse' (string or table expected, got " .. type(payload) .. ")", 2)
  end
  if type(p) ~= "table" or p[1] ~= nil or getmetatable(p) == json.array_mt then
    return nil, errors.new { kind = "decode", method = "parse", path = "webhook payload",
      body = type(payload) == "string" and payload or nil,
      message = "the webhook body is not a JSON object" }
  end
  if p.error_reason ~= nil and p.call_status == nil then
    return { type = "call_error", call_id = str(p.call_id), error_reason = str(p.error_reason),
      raw = p }
  end
  return completed(p)
end

local function check_args(fname, body, secret)
  if type(body) ~= "string" then
    error(("bad argument #1 to '%s' (the raw body string expected, got %s)"):format(fname,
      type(body)), 3)
  end
  if type(secret) ~= "string" or secret == "" then
    error(("bad argument #%d to '%s' (secret must be a non-empty string)"):format(
      fname == "sign" and 2 or 3, fname), 3)
  end
end

--- The `X-Webhook-Signature` value for a body: `"sha256=<hex>"`.
-- Sign the exact bytes that are sent (re-encoding JSON changes them).
-- @tparam string body the raw request body
-- @tparam string secret the agent's webhook secret
-- @treturn string
function M.sign(body, secret)
  check_args("sign", body, secret)
  return "sha256=" .. core.hmac_sha256_hex(secret, body)
end

--- Checks a signature header against a body, in constant time.
-- Accepts `sha256=<hex>` with hex in either case; a missing or
-- malformed header is simply not valid.
-- @tparam string body the raw request body, as received
-- @tparam string|table|nil header the header's value (the first one if a
--   list, as nginx gives repeated headers)
-- @tparam string secret the agent's webhook secret
-- @treturn boolean
function M.verify(body, header, secret)
  check_args("verify", body, secret)
  if type(header) == "table" then header = header[1] end
  if type(header) ~= "string" then return false end
  local hex = header:match("^%s*[Ss][Hh][Aa]256=(%x+)%s*$")
  if not hex or #hex ~= 64 then return false end
  return core.equal_ct(hex:lower(), core.hmac_sha256_hex(secret, body))
end

return M
