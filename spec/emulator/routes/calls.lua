-- Outbound calls (kupe-api.md section 6): POST /api/call/create_call.
-- Routing data in the query string, optional JSON body {variable_values}.
-- The outcome is a setting: reset/config `create_call` = "success" (200,
-- a new in-progress session appears first in call-analytics), "failed"
-- (200 with status "failed" and a detail; the session is recorded as
-- failed) or "queued" (202, no session yet).
--
-- Also the service routes of the /api/call family (section 2): the
-- platform status (`GET /api/call/`), the agent configuration test
-- (`GET /api/call/test?agent_id=`) and the web media token
-- (`GET /api/call/auth/token`, a JWT-shaped token valid for an hour).

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"

local SUCCESS_ORDER = json.order {
  "status", "request_id", "call_session_id", "user_id", "telephony_provider", "target_number",
  "from_phone_number", "telephony_leg_id", "detail",
}
local QUEUED_ORDER = json.order {
  "status", "queue_job_id", "user_id", "target_number", "agent_id", "source",
}

local function first(x)
  if type(x) == "table" then return x[1] end
  return x
end

local function origin_allowed(origin)
  for _, o in ipairs(state.settings.allowed_origins) do
    if o == origin then return true end
  end
  return false
end

-- E.164 as the API normalises it: "+" and digits only.
local function normalise(number)
  local digits = number:gsub("[%s%-%(%)%.]", "")
  if not digits:match("^%+?%d+$") then return nil end
  if digits:sub(1, 1) ~= "+" then digits = "+" .. digits end
  if #digits < 8 or #digits > 16 then return nil end
  return digits
end

local function caller_line(phone_number_id)
  if phone_number_id then
    for _, p in ipairs(state.phones) do
      if p.id == phone_number_id then return p end
    end
    v.fail(404, "Phone number not found")
  end
  for _, p in ipairs(state.phones) do
    if p.is_active then return p end
  end
  v.fail(500, "No active phone number configured for outbound calls")
end

local function create_call(ctx)
  local origin = first(ctx.headers["origin"])
  if origin and not origin_allowed(origin) then
    v.fail(403, "Origin not allowed")
  end
  local q = v.query(ctx, {
    { "phoneNumber", "str", required = true }, { "agent_id", "uuid" }, { "workflow_id", "uuid" },
    { "phone_number_id", "uuid" },
  })
  local body = v.body(ctx, { { "variable_values", "object" } }, { optional = true })
  local target = normalise(q.phoneNumber)
  if not target then
    v.fail(400, "phoneNumber must be an E.164 number such as +15551234567")
  end
  if q.agent_id and q.workflow_id then
    v.fail(400, "Provide either agent_id or workflow_id, not both")
  end
  local agent
  if q.agent_id then
    agent = state.agents_by_id[q.agent_id]
    if not agent then v.fail(404, "Agent not found") end
  elseif not q.workflow_id then
    for _, rec in ipairs(state.agents) do
      if rec.agent.is_active then agent = rec break end
    end
    if not agent then v.fail(400, "No agent mapped to the caller line; pass agent_id") end
  end
  local line = caller_line(q.phone_number_id)
  local outcome = state.settings.create_call
  local user_id = ctx.user.user_id

  if outcome == "queued" then
    return 202, setmetatable({
      status = "queued", queue_job_id = state.new_uuid(), user_id = user_id,
      target_number = target, agent_id = agent and agent.agent.id or json.null,
      source = "create_call",
    }, QUEUED_ORDER)
  end

  local request_id, call_session_id = state.new_uuid(), state.new_uuid()
  local now = state.now_iso()
  local session = {
    request_id = request_id, call_session_id = call_session_id, user_id = user_id,
    agent_id = agent and agent.agent.id or json.null,
    agent_name = agent and agent.agent.name or json.null,
    call_type = "outbound", from_number = line.phone_number, to_number = target,
    created_at = now, started_at = now, ended_at = json.null, duration_seconds = 0,
    cost_usd = 0, telephony_provider = "pstn",
    variable_values = body and body.variable_values or {},
    transcript = json.array(), post_call_analysis_results = json.array(),
    recording_url = json.null,
  }
  if q.workflow_id then session.workflow_id = q.workflow_id end
  local answer = {
    status = outcome, request_id = request_id, call_session_id = call_session_id,
    user_id = user_id, telephony_provider = "pstn", target_number = target,
  }
  if outcome == "failed" then
    session.status, session.ended_at, session.ended_reason = "failed", now, "carrier_error"
    answer.detail = "Carrier rejected the call: destination unreachable"
  else
    session.status = "in_progress"
    answer.from_phone_number = line.phone_number
    answer.telephony_leg_id = "CA" .. state.rng():hex(32)
  end
  if agent and agent.agent.hipaa_compliance then
    session.transcript, session.post_call_analysis_results = nil, nil
    session.recording_url = nil
  end
  state.add_session(session)
  return 200, setmetatable(answer, SUCCESS_ORDER)
end

------------------------------------------------------------------------
-- Service routes

local TEST_ORDER = json.order { "agent_id", "agent_name", "valid", "errors", "warnings", "checks" }

-- Checks an agent's configuration the way a dial would need it.
local function test_agent(ctx)
  local q = v.query(ctx, { { "agent_id", "uuid", required = true } })
  local rec = state.agents_by_id[q.agent_id] or v.fail(404, "Agent not found")
  local c = rec.configurations
  local errors, warnings = json.array(), json.array()
  local checks = {
    model = c.model_config and c.model_config.model_name and "ok" or "missing",
    tts = c.tts_config and c.tts_config.tts_model_name and "ok" or "missing",
    transcriber = c.transcriber_config and c.transcriber_config.transcriber_model_name
      and "ok" or "missing",
    vad = c.vad_config and c.vad_config.vad_provider_id and "ok" or "missing",
  }
  for name, result in pairs(checks) do
    if result ~= "ok" then errors[#errors + 1] = name .. " configuration is missing" end
  end
  table.sort(errors)
  local prompt = c.model_config and c.model_config.system_prompt
  if type(prompt) ~= "string" or not prompt:match("%S") then
    warnings[#warnings + 1] = "system_prompt is empty"
  end
  if not rec.agent.is_active then
    warnings[#warnings + 1] = "Agent is inactive: calls will not reach it"
  end
  return 200, setmetatable({ agent_id = rec.agent.id, agent_name = rec.agent.name,
    valid = #errors == 0, errors = errors, warnings = warnings, checks = checks }, TEST_ORDER)
end

local function b64url(s)
  return (ngx.encode_base64(s):gsub("=+$", ""):gsub("%+", "-"):gsub("/", "_"))
end

local function web_token(ctx)
  local now = ngx.time()
  local header = b64url(json.encode { alg = "RS256", typ = "JWT" })
  local claims = b64url(json.encode { sub = ctx.user.user_id, aud = "web-media-stream",
    iat = now, exp = now + 3600, jti = state.new_uuid() })
  local signature = b64url(state.rng():hex(64))
  return 200, setmetatable({ token = header .. "." .. claims .. "." .. signature,
    token_type = "Bearer", expires_in = 3600 },
    json.order { "token", "token_type", "expires_in" })
end

return function(router)
  router:add("POST", "/api/call/create_call", create_call)
  router:add("GET", "/api/call/", function()
    return 200, setmetatable({ status = "running", message = "Kupe voice platform is running",
      service = "milli-ai-backend" }, json.order { "status", "message", "service" })
  end)
  router:add("GET", "/api/call/test", test_agent)
  router:add("GET", "/api/call/auth/token", web_token)
end
