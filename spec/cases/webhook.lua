-- kupe.webhook: the payloads Kupe posts (current and older call-ended
-- versions, the error payload) read into one shape, and the HMAC
-- signature of the start-call webhook. No server needed; shared by the
-- libcurl specs and the nginx specs.
local assert = require "luassert"
local kupe = require "kupe"
local webhook = require "kupe.webhook"
local kit = require "spec.helpers.case_kit"

-- The example of the OpenAPI spec's voiceCallCompleted (current version),
-- plus the fields its schema adds.
local CURRENT = [[{
  "call_id": "session-uuid",
  "call_session_id": "7d3f5a52-1c1e-4a8e-9d1b-3f2a6c9e8b10",
  "agent_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  "customer_name": "Jane Doe",
  "mobile_number": "+15551234567",
  "email": "jane@example.com",
  "company_name": "Acme",
  "lead_source": "Website",
  "call_datetime": "2026-07-15T10:00:00Z",
  "call_duration": 132.4,
  "call_direction": "outbound",
  "call_status": "completed",
  "recording_url": "https://example.com/recording.mp3",
  "lead_status": "Interested",
  "lead_temperature": "Warm",
  "ai_summary": "Prospect asked about pricing and wants a demo next week.",
  "lead_score": 82,
  "next_action": "Send Email",
  "next_follow_up_date": null,
  "send_email": true,
  "reminder_to_sales_team": true,
  "from_number": "+14155550100",
  "to_number": "+15551234567",
  "post_call_analysis_count": 1,
  "post_call_analyses": [{"rule_id": null, "rule_name": null, "source": "system_default",
    "sort_order": 0, "body_text": null, "structured_json": {"lead_status": "Interested"},
    "tool_invocation": null, "raw_response": null}]
}]]

-- The older version, still shown on the live site (kupe-api.md 13.2).
local LEGACY = [[{
  "call_id": "CA0123456789abcdef0123456789abcdef",
  "call_duration": "61",
  "extracted_variables": {"appointment": "Friday 4 pm", "name": "Meera"},
  "call_status": "completed",
  "summary": "Booked an appointment for Friday at 4 pm.",
  "full_conversation": "assistant: Hello!\nuser: I'd like an appointment.",
  "recording_url": "https://example.com/rec.wav",
  "from_number": "+14155550100",
  "to_number": "+919800000001",
  "cost": 0.42,
  "sentiment_analysis": {"label": "positive", "score": 0.91}
}]]

-- The example of voiceCallError.
local ERROR = [[{"call_id": "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "error_reason": "Analysis HTTP tool returned 500"}]]

return function(t)
  local _ = t
  local cases, case = kit.registry()

  case("reads the current call-ended payload", function()
    local e = assert(webhook.parse(CURRENT))
    assert.equal("call_completed", e.type)
    assert.equal("current", e.version)
    assert.equal("session-uuid", e.call_id)
    assert.equal("7d3f5a52-1c1e-4a8e-9d1b-3f2a6c9e8b10", e.call_session_id)
    assert.equal("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", e.agent_id)
    assert.equal("completed", e.status)
    assert.equal("outbound", e.direction)
    assert.equal("2026-07-15T10:00:00Z", e.started_at)
    assert.equal(132.4, e.duration)
    assert.equal("Prospect asked about pricing and wants a demo next week.", e.summary)
    assert.same({ name = "Jane Doe", phone = "+15551234567", email = "jane@example.com",
      company = "Acme", source = "Website" }, e.customer)
    assert.equal("Interested", e.lead.status)
    assert.equal("Warm", e.lead.temperature)
    assert.equal(82, e.lead.score)
    assert.equal("Send Email", e.lead.next_action)
    assert.is_nil(e.lead.next_follow_up_date, "JSON null reads as nil")
    assert.is_true(e.lead.send_email)
    assert.is_nil(e.lead.send_whatsapp)
    assert.equal(1, e.analysis_count)
    assert.equal("system_default", e.analyses[1].source)
    assert.equal("Interested", e.analyses[1].data.lead_status)
    assert.is_nil(e.analyses[1].rule_id)
    assert.is_nil(e.transcript)
    assert.is_nil(e.cost)
    assert.equal(kupe.null, e.raw.next_follow_up_date, "raw keeps the payload as decoded")
  end)

  case("reads the older call-ended payload into the same shape", function()
    local e = assert(webhook.parse(LEGACY))
    assert.equal("call_completed", e.type)
    assert.equal("legacy", e.version)
    assert.equal("CA0123456789abcdef0123456789abcdef", e.call_id)
    assert.equal(61, e.duration, "a duration sent as text is a number")
    assert.equal("Booked an appointment for Friday at 4 pm.", e.summary)
    assert.matches("^assistant: Hello!", e.transcript)
    assert.same({ appointment = "Friday 4 pm", name = "Meera" }, e.variables)
    assert.equal(0.42, e.cost)
    assert.same({ label = "positive", score = 0.91 }, e.sentiment)
    assert.equal("+919800000001", e.to_number)
    assert.is_table(e.customer)
    assert.is_nil(e.customer.name)
    assert.is_nil(e.lead.status)
    assert.equal(0, #e.analyses)
    assert.equal(0, e.analysis_count)
  end)

  case("reads legacy alias fields of the current payload", function()
    local e = assert(webhook.parse { call_id = "x", call_summary = "short", user_name = "Ravi",
      lead_status = "Not Interested" })
    assert.equal("current", e.version)
    assert.equal("short", e.summary)
    assert.equal("Ravi", e.customer.name)
  end)

  case("reads the error payload", function()
    local e = assert(webhook.parse(ERROR))
    assert.equal("call_error", e.type)
    assert.equal("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", e.call_id)
    assert.equal("Analysis HTTP tool returned 500", e.error_reason)
    assert.equal(ERROR:match('"error_reason": "([^"]+)"'), e.raw.error_reason)
  end)

  case("returns nil and a decode error for a body that is not a JSON object", function()
    local e, err = webhook.parse("{not json")
    assert.is_nil(e)
    assert.equal("decode", err.kind)
    assert.matches("not valid JSON", tostring(err))
    e, err = webhook.parse("[1, 2]")
    assert.is_nil(e)
    assert.matches("not a JSON object", err.message)
    assert.has_error(function() webhook.parse(42) end,
      "bad argument #1 to 'parse' (string or table expected, got number)")
  end)

  case("signs a body with HMAC-SHA256 as sha256=<hex>", function()
    -- RFC 4231 test case 2
    assert.equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      webhook.sign("what do ya want for nothing?", "Jefe"))
    local sig = webhook.sign(CURRENT, "whsec_abc")
    assert.matches("^sha256=%x+$", sig)
    assert.equal(71, #sig)
  end)

  case("verifies a signature, refusing any change to body, secret or header", function()
    local body, secret = '{"phoneNumber":"+15551234567"}', "whsec_abc"
    local sig = webhook.sign(body, secret)
    assert.is_true(webhook.verify(body, sig, secret))
    assert.is_true(webhook.verify(body, sig:upper():gsub("^SHA256", "sha256"), secret))
    assert.is_true(webhook.verify(body, { sig, "other" }, secret))
    assert.is_true(webhook.verify(body, "  " .. sig .. " ", secret))
    assert.is_false(webhook.verify(body .. " ", sig, secret))
    assert.is_false(webhook.verify(body, sig, "whsec_abd"))
    assert.is_false(webhook.verify(body, sig:sub(1, -2) .. "0", secret))
    assert.is_false(webhook.verify(body, sig:sub(8), secret), "the sha256= prefix is required")
    assert.is_false(webhook.verify(body, "sha256=" .. ("0"):rep(63), secret))
    assert.is_false(webhook.verify(body, nil, secret))
    assert.is_false(webhook.verify(body, "", secret))
    assert.has_error(function() webhook.verify({}, sig, secret) end,
      "bad argument #1 to 'verify' (the raw body string expected, got table)")
    assert.has_error(function() webhook.sign(body, "") end,
      "bad argument #2 to 'sign' (secret must be a non-empty string)")
    assert.has_error(function() webhook.verify(body, sig) end,
      "bad argument #3 to 'verify' (secret must be a non-empty string)")
    assert.equal("X-Webhook-Signature", webhook.SIGNATURE_HEADER)
  end)

  return cases
end
