-- Webhooks (kupe-api.md section 13): per-agent webhook configuration,
-- the HMAC secret of the start-call webhook, the test delivery of a
-- sample call-ended payload, and the start-call webhook itself.
--
-- A config is made on first use for each agent: both triggers on,
-- incoming (start-call) disabled with a fresh secret, outgoing (call
-- ended) disabled without a URL. PUT deep-merges the body (arrays and
-- null replace); the secret is server-managed and never taken from a
-- body. GET shows the secret masked unless `reveal_secret=true`. The
-- config (without the secret) is mirrored into the agent's
-- `agent_specific_config.webhooks`, where the API stores it.
--
-- test-outgoing POSTs a sample current-format payload to outgoing.url
-- with the configured method, headers and bearer auth, over plain HTTP
-- and to loopback addresses only (the emulator never reaches out): 200
-- when the receiver answers 2xx, 502 when it answers anything else or
-- cannot be reached.
--
-- The start-call route (`POST .../incoming`, no API key) checks
-- `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with
-- the agent's secret (401), then that incoming is enabled (403), merges
-- the variables (attached defaults < other top-level keys <
-- variables/context_params/variable_values) and places the call through
-- the create_call route, so it answers exactly as create_call does
-- (200 success or failed, 202 queued), with the resolved variable_values.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"

local store = state.store("webhooks")

state.on_reset(function()
  store.configs = {}                  -- agent id -> config
end)

local CONFIG_ORDER = json.order {
  "agent_id", "trigger_on_web_call", "trigger_on_phone_call", "incoming", "outgoing",
  "body_template", "updated_at",
}
local INCOMING_ORDER = json.order { "enabled", "url", "attached_variables", "secret",
  "secret_revealed" }
local OUTGOING_ORDER = json.order { "enabled", "url", "method", "headers", "auth",
  "retry_count" }

local DESTINATION_KEYS = { phoneNumber = true, to_number = true, phone_number = true }
local RESERVED_KEYS = { phone_number_id = true, variable_values = true, variables = true,
  context_params = true }

local function copy(x)
  if type(x) ~= "table" then return x end
  local t = {}
  for k, y in pairs(x) do t[k] = copy(y) end
  return setmetatable(t, getmetatable(x))
end

local function find_agent(ctx)
  local id = ctx.params.agent_id
  if not v.is_uuid(id) then v.fail(400, "Invalid agent ID format") end
  return state.agents_by_id[id:lower()] or v.fail(404, "Agent not found")
end

local function new_secret()
  return "whsec_" .. state.rng():hex(40)
end

local function config_for(agent_id)
  local cfg = store.configs[agent_id]
  if not cfg then
    cfg = {
      trigger_on_web_call = true, trigger_on_phone_call = true,
      incoming = { enabled = false, attached_variables = json.array(), secret = new_secret() },
      outgoing = { enabled = false, url = json.null, method = "POST", headers = {},
        auth = json.null, retry_count = 0 },
      body_template = json.null, updated_at = state.now_iso(),
    }
    store.configs[agent_id] = cfg
  end
  return cfg
end

local function incoming_url(ctx, agent_id)
  return ctx.base_url .. "/api/v1/webhooks/agents/" .. agent_id .. "/incoming"
end

-- The config as the API shows it: secret masked unless revealed.
local function view(ctx, agent_id, cfg, reveal)
  local out = copy(cfg)
  out.agent_id = agent_id
  local secret = cfg.incoming.secret
  out.incoming.url = incoming_url(ctx, agent_id)
  out.incoming.secret = reveal and secret or ("whsec_****" .. secret:sub(-4))
  out.incoming.secret_revealed = reveal and true or false
  setmetatable(out.incoming, INCOMING_ORDER)
  setmetatable(out.outgoing, OUTGOING_ORDER)
  return setmetatable(out, CONFIG_ORDER)
end

-- What is stored in agent_specific_config.webhooks (no secret there).
local function mirror(rec, cfg)
  local m = copy(cfg)
  m.incoming.secret = nil
  m.updated_at = nil
  rec.configurations.agent_specific_config.webhooks = m
end

local function merge(dst, src)
  for k, x in pairs(src) do
    if type(x) == "table" and not json.is_array(x) and type(dst[k]) == "table"
        and not json.is_array(dst[k]) then
      merge(dst[k], x)
    else
      dst[k] = copy(x)
    end
  end
end

------------------------------------------------------------------------
-- Configuration

local function list_mine(ctx)
  local out = json.array()
  for _, rec in ipairs(state.agents) do
    local a = rec.agent
    local cfg = store.configs[a.id]
    out[#out + 1] = setmetatable({
      agent_id = a.id, agent_name = a.name, incoming_webhook_url = incoming_url(ctx, a.id),
      incoming_enabled = cfg and cfg.incoming.enabled or false,
      outgoing_enabled = cfg and cfg.outgoing.enabled or false,
      outgoing_url = cfg and cfg.outgoing.url or json.null,
    }, json.order { "agent_id", "agent_name", "incoming_webhook_url", "incoming_enabled",
      "outgoing_enabled", "outgoing_url" })
  end
  return 200, { agents = out }
end

local function get_config(ctx)
  local rec = find_agent(ctx)
  local q = v.query(ctx, { { "reveal_secret", "bool", default = false } })
  return 200, view(ctx, rec.agent.id, config_for(rec.agent.id), q.reveal_secret)
end

local BODY_SPECS = {
  { "trigger_on_web_call", "bool" }, { "trigger_on_phone_call", "bool" },
  { "incoming", "object" }, { "incoming.enabled", "bool" },
  { "incoming.attached_variables", "array" },
  { "outgoing", "object" }, { "outgoing.enabled", "bool" }, { "outgoing.url", "str" },
  { "outgoing.method", "str", enum = { "POST", "PUT", "PATCH" } },
  { "outgoing.headers", "object" }, { "outgoing.auth", "object" },
  { "outgoing.retry_count", "int", ge = 0, le = 10 },
}

local function put_config(ctx)
  local rec = find_agent(ctx)
  local body = v.body(ctx, BODY_SPECS)
  local cfg = copy(config_for(rec.agent.id))
  if type(body.incoming) == "table" then body.incoming.secret = nil end
  body.agent_id, body.updated_at = nil, nil
  merge(cfg, body)
  local out = cfg.outgoing
  if out.url ~= json.null and not (type(out.url) == "string" and out.url:match("^https?://[^/]"))
  then
    v.fail(400, "outgoing.url must be an http(s) URL")
  end
  if out.enabled and out.url == json.null then
    v.fail(400, "outgoing.url is required when outgoing is enabled")
  end
  local auth = out.auth
  if auth ~= json.null and (auth.type ~= "bearer" or type(auth.token) ~= "string") then
    v.fail(400, 'outgoing.auth must be {"type": "bearer", "token": "<token>"}')
  end
  for i, item in ipairs(cfg.incoming.attached_variables) do
    if type(item) ~= "table" or type(item.name) ~= "string" or item.name == "" then
      v.fail(400, ("incoming.attached_variables[%d] needs a name"):format(i - 1))
    end
  end
  cfg.updated_at = state.now_iso()
  store.configs[rec.agent.id] = cfg
  mirror(rec, cfg)
  return 200, view(ctx, rec.agent.id, cfg, false)
end

local function rotate_secret(ctx)
  local rec = find_agent(ctx)
  local cfg = config_for(rec.agent.id)
  cfg.incoming.secret = new_secret()
  cfg.updated_at = state.now_iso()
  return 200, setmetatable({ agent_id = rec.agent.id, secret = cfg.incoming.secret,
    rotated_at = cfg.updated_at, message = "Incoming webhook secret rotated" },
    json.order { "agent_id", "secret", "rotated_at", "message" })
end

------------------------------------------------------------------------
-- Test delivery of the call-ended payload

local function sample_payload(rec)
  local session = state.new_uuid()
  return setmetatable({
    call_id = session, call_session_id = session, agent_id = rec.agent.id,
    customer_name = "Jane Doe", mobile_number = "+15551234567", email = "jane@example.com",
    company_name = "Acme", lead_source = "Website", call_datetime = state.now_iso(),
    call_duration = 132.4, call_direction = "outbound", call_status = "completed",
    recording_url = "https://example.com/recording.mp3", lead_status = "Interested",
    lead_temperature = "Warm",
    ai_summary = "Prospect asked about pricing and wants a demo next week.",
    lead_score = 82, next_action = "Send Email", next_follow_up_date = json.null,
    crm_stage = "Qualified", send_whatsapp = false, send_email = true,
    reminder_to_sales_team = true,
    call_summary = "Prospect asked about pricing and wants a demo next week.",
    user_name = "Jane Doe", from_number = "+14155550100", to_number = "+15551234567",
    post_call_analysis_count = 1,
    post_call_analyses = json.array { setmetatable({
      rule_id = json.null, rule_name = json.null, source = "system_default", sort_order = 0,
      body_text = json.null,
      structured_json = { lead_status = "Interested", lead_temperature = "Warm", lead_score = 82 },
      tool_invocation = json.null, raw_response = json.null,
    }, json.order { "rule_id", "rule_name", "source", "sort_order", "body_text",
      "structured_json", "tool_invocation", "raw_response" }) },
  }, json.order {
    "call_id", "call_session_id", "agent_id", "customer_name", "mobile_number", "email",
    "company_name", "lead_source", "call_datetime", "call_duration", "call_direction",
    "call_status", "recording_url", "lead_status", "lead_temperature", "ai_summary",
    "lead_score", "next_action", "next_follow_up_date", "crm_stage", "send_whatsapp",
    "send_email", "reminder_to_sales_team", "call_summary", "user_name", "from_number",
    "to_number", "post_call_analysis_count", "post_call_analyses",
  })
end

local function clean(s)
  return (tostring(s):gsub("[%z\r\n]", ""))
end

-- One HTTP/1.1 exchange with the receiver; returns its status or nil, why.
local function deliver(out, payload)
  local host, port, path = out.url:match("^http://([^/:?#]+):?(%d*)([^#]*)$")
  if not host then
    if out.url:match("^https://") then return nil, "the emulator delivers over plain http only" end
    return nil, "outgoing.url is not a usable http URL"
  end
  local ip = host == "localhost" and "127.0.0.1" or host
  if not ip:match("^127%.%d+%.%d+%.%d+$") then
    return nil, "the emulator only delivers to loopback addresses"
  end
  port = tonumber(port) or 80
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  local lines = {
    ("%s %s HTTP/1.1"):format(out.method or "POST", path),
    ("Host: %s:%d"):format(host, port),
    "Content-Type: application/json",
    "Content-Length: " .. #payload,
    "User-Agent: Kupe-Webhooks/1.0 (emulator)",
    "Connection: close",
  }
  for k, x in pairs(type(out.headers) == "table" and out.headers or {}) do
    local name = clean(k)
    if name:match("^[%w!#$%%&'*+.^_`|~-]+$") then lines[#lines + 1] = name .. ": " .. clean(x) end
  end
  if type(out.auth) == "table" and out.auth.type == "bearer" then
    lines[#lines + 1] = "Authorization: Bearer " .. clean(out.auth.token)
  end
  local sock = ngx.socket.tcp()
  sock:settimeout(2000)
  local ok, err = sock:connect(ip, port)
  if not ok then return nil, "unreachable (" .. tostring(err) .. ")" end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. payload)
  if not ok then sock:close() return nil, "send failed (" .. tostring(err) .. ")" end
  local status_line
  status_line, err = sock:receive("*l")
  sock:close()
  if not status_line then return nil, "no answer (" .. tostring(err) .. ")" end
  local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "not an HTTP answer" end
  return status
end

local function test_outgoing(ctx)
  local rec = find_agent(ctx)
  local out = config_for(rec.agent.id).outgoing
  if out.url == json.null then
    v.fail(400, "No outgoing webhook URL configured: set outgoing.url first")
  end
  local status, why = deliver(out, json.encode(sample_payload(rec)))
  if not status then
    v.fail(502, "Webhook receiver failed: " .. why)
  elseif status < 200 or status > 299 then
    v.fail(502, ("Webhook receiver failed: it answered HTTP %d"):format(status))
  end
  return 200, setmetatable({ success = true, message = "Test payload delivered",
    url = out.url, status_code = status },
    json.order { "success", "message", "url", "status_code" })
end

------------------------------------------------------------------------
-- The start-call webhook (HMAC, no API key)


-- HMAC-SHA256 as lower-case hex, from the OpenSSL that nginx links
-- (Debian's lua-nginx-module has no ngx.hmac_sha256).
local ffi = require "ffi"
pcall(ffi.cdef, [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md,
                    unsigned int *md_len);
]])
local crypto = pcall(function() return ffi.C.HMAC end) and ffi.C or ffi.load("libcrypto.so.3")

local function hmac_sha256_hex(key, data)
  local md, len = ffi.new("unsigned char[64]"), ffi.new("unsigned int[1]")
  crypto.HMAC(crypto.EVP_sha256(), key, #key, data, #data, md, len)
  local raw = ffi.string(md, len[0])
  return (raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function incoming(router)
  return function(ctx)
    local rec = find_agent(ctx)
    local cfg = config_for(rec.agent.id)
    local given = ctx.headers["x-webhook-signature"]
    if type(given) == "table" then given = given[1] end
    local expected = "sha256=" .. hmac_sha256_hex(cfg.incoming.secret, ctx.body or "")
    if type(given) ~= "string" or given:lower() ~= expected then
      v.fail(401, "Invalid webhook signature")
    end
    if not cfg.incoming.enabled then
      v.fail(403, "Incoming webhook is disabled for this agent")
    end
    local body = v.body(ctx, {
      { "phoneNumber", "str" }, { "to_number", "str" }, { "phone_number", "str" },
      { "phone_number_id", "uuid" }, { "variable_values", "object" }, { "variables", "object" },
      { "context_params", "object" },
    })
    local destination = body.phoneNumber or body.to_number or body.phone_number
    if not destination or destination == json.null then
      v.fail(400, "phoneNumber (or to_number / phone_number) is required")
    end
    local vars = {}
    for _, item in ipairs(cfg.incoming.attached_variables) do
      if item.default_value ~= nil and item.default_value ~= json.null then
        vars[item.name] = item.default_value
      end
    end
    for k, x in pairs(body) do
      if not DESTINATION_KEYS[k] and not RESERVED_KEYS[k] then vars[k] = x end
    end
    for _, key in ipairs { "variables", "context_params", "variable_values" } do
      if type(body[key]) == "table" then
        for k, x in pairs(body[key]) do vars[k] = x end
      end
    end
    local route = router:match("POST", "/api/call/create_call")
    local status, answer = route.handler {
      method = "POST", path = "/api/call/create_call", params = {}, headers = {},
      query = { phoneNumber = destination, agent_id = rec.agent.id,
        phone_number_id = body.phone_number_id ~= json.null and body.phone_number_id or nil },
      json = { variable_values = vars }, user = state.user, auth = "webhook",
      base_url = ctx.base_url,
    }
    answer.variable_values = vars
    if answer.status == "queued" then answer.source = "incoming_webhook" end
    return status, answer
  end
end

return function(router)
  local A = "/api/v1/webhooks/agents/{agent_id}"
  router:add("GET", "/api/v1/webhooks/me", list_mine)
  router:add("GET", A, get_config)
  router:add("PUT", A, put_config)
  router:add("POST", A .. "/rotate-secret", rotate_secret)
  router:add("POST", A .. "/test-outgoing", test_outgoing)
  router:add("POST", A .. "/incoming", incoming(router), { auth = false })
end
