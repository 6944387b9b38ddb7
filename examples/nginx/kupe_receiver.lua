--- The Lua side of examples/nginx/nginx.conf: a receiver for Kupe's
-- call-completed webhook, and a JSON list of recent call sessions.
--
-- One kupe client per worker, made when the module loads (in
-- init_by_lua, before the workers fork): clients hold no connection
-- between calls, so every request of the worker uses this one at once.
-- Calls go through nginx cosockets and never block the worker.
--
-- kupe.webhook reads both versions of the call-completed payload (the
-- current lead schema and the older one) into one shape.

local kupe = require "kupe"
local webhook = require "kupe.webhook"
local core = require "kupe.core"   -- equal_ct: a constant-time comparison
local json = require "kupe.json"   -- cjson that keeps an empty array an array

local M = {}

-- KUPE_API_KEY and KUPE_BASE_URL are read here (see `env` in nginx.conf).
local client = kupe.new { timeout = 10, max_retries = 2 }

-- If the agent's webhook is set up with `auth = {type = "bearer", token = ...}`,
-- Kupe sends `Authorization: Bearer <token>`; check it when configured.
-- (Call-ended deliveries carry no HMAC signature: the token, or headers
-- set in the agent's outgoing settings, are what identify Kupe.)
local TOKEN = os.getenv("KUPE_WEBHOOK_TOKEN")
if TOKEN == "" then TOKEN = nil end

local function reply(status, value)
  local body = json.encode(value)
  ngx.status = status
  ngx.header.content_type = "application/json"
  ngx.header.content_length = #body + 1
  ngx.say(body)
  return ngx.exit(status)
end

-- The fields of a session worth returning (the API's session has more:
-- transcript, variable values, post-call analysis).
local function summary(s)
  return {
    request_id = s.request_id, call_session_id = s.call_session_id,
    agent_name = s.agent_name, call_type = s.call_type, status = s.status,
    started_at = s.started_at, duration_seconds = s.duration_seconds,
    cost_usd = s.cost_usd, ended_reason = s.ended_reason,
  }
end

local function text(v)
  return type(v) == "string" and v ~= "" and v or nil
end

--- POST /kupe/call-completed: parse the event, look the session up,
-- answer what was found. Kupe retries a delivery that gets no 2xx, so a
-- failure worth retrying (the API unreachable, 5xx) answers 503; an event
-- that will never work (bad JSON, unknown call) answers 4xx or 200.
function M.call_completed()
  if TOKEN then
    local auth = ngx.var.http_authorization or ""
    if not core.equal_ct(auth, "Bearer " .. TOKEN) then
      return reply(401, { error = "bad or missing bearer token" })
    end
  end
  ngx.req.read_body()
  local raw = ngx.req.get_body_data()  -- nil when empty (or over client_body_buffer_size)
  local event = raw and webhook.parse(raw)
  if not event then
    return reply(400, { error = "the body is not a JSON object" })
  end
  if event.type == "call_error" then
    ngx.log(ngx.WARN, "Kupe reports call ", tostring(event.call_id), " failed: ",
      tostring(event.error_reason))
    return reply(200, { event = { type = event.type, call_id = event.call_id } })
  end
  -- call_id (in both versions) is the id of the call session: the request
  -- id call logs are keyed by.
  local call_id = text(event.call_id)
  if not call_id then
    return reply(422, { error = "call_id is missing" })
  end
  local event_summary = {
    type = event.type, version = event.version, call_id = call_id,
    status = event.status, duration = event.duration, summary = event.summary,
    lead_status = event.lead and event.lead.status,
  }

  local session, err = client.call_logs:get(call_id)
  if not session then
    if err.status == 404 then
      -- Nothing to retry: record the event without its session.
      ngx.log(ngx.WARN, "call-completed for an unknown session: ", call_id)
      return reply(200, { event = event_summary, session = kupe.null })
    end
    ngx.log(ngx.ERR, "call-completed ", call_id, ": ", tostring(err))
    return reply(503, { error = "the session could not be looked up, retry later" })
  end
  -- Here an application would store the result, notify a CRM, ...
  -- Slow work belongs in ngx.timer.at(0, fn, event) after answering.
  return reply(200, { event = event_summary, session = summary(session) })
end

--- GET /sessions?limit=20&filter=outbound: the newest sessions.
function M.sessions()
  local args = ngx.req.get_uri_args()
  local limit = tonumber(args.limit) or 20
  if limit ~= math.floor(limit) or limit < 1 or limit > 100 then
    return reply(400, { error = "limit must be an integer from 1 to 100" })
  end
  local page, err = client.call_logs:list { page = 1, page_size = limit,
    filter = type(args.filter) == "string" and args.filter or nil }
  if not page then
    ngx.log(ngx.ERR, "listing sessions: ", tostring(err))
    return reply(502, { error = err.message or err.kind })
  end
  local out = kupe.array()
  for i, s in ipairs(page.items) do out[i] = summary(s) end
  return reply(200, { total = page.total, sessions = out })
end

return M
