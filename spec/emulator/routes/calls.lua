-- Outbound calls (kupe-api.md section 6): POST /api/call/create_call.
-- Routing data in the query string, optional JSON body {variable_values}.
-- The outcome is a setting: reset/config `create_call` = "success" (200,
-- a new in-progress session appears first in call-analytics), "failed"
-- (200 with status "failed" and a detail; the session is recorded as
-- failed) or "queued" (202, no session yet).

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

return function(router)
  router:add("POST", "/api/call/create_call", create_call)
end
