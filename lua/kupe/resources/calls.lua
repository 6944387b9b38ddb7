--- Calls: place one outbound call, and the service routes of the
-- telephony family (`/api/call/...`).
--
-- What the API makes awkward, and what `calls:create` does about it:
--
-- * The routing goes in the query string, under a camelCase name
--   (`phoneNumber`, E.164 with its `+` escaped as `%2B`), the variables
--   in an optional JSON body `{variable_values}`, and the route is not
--   under `/api/v1`. Here it is one table: `{to =, agent_id = |
--   workflow_id =, phone_number_id =, variables =}`.
-- * A call that could not be placed is an HTTP **200** with
--   `status: "failed"` and a `detail`. Here it is a failure like any
--   other: `nil, err` with `err.kind == "call_failed"`, `err.status ==
--   200`, the answer in `err.data` (its `request_id` and
--   `call_session_id` find the attempt in the call logs) and the API's
--   reason in the message.
-- * Newer deployments queue the call: **202** `status: "queued"` with a
--   `queue_job_id` and no session yet. That is a success, returned as the
--   result (`resp.status == 202`).
-- * A POST that may have reached the server is never sent twice (the
--   pipeline's rule): a call placed twice rings a person twice.
--
--     local call, err = client.calls:create { to = "+15551234567", agent_id = id,
--       variables = { name = "Alex" } }
--     if not call then print(err) elseif call.status == "queued" then ... end
-- @module kupe.resources.calls

local resource = require "kupe.resource"
local json = require "kupe.json"
local errors = require "kupe.errors"
local A = require "kupe.argcheck"

local CREATE = "/api/call/create_call"

local G = resource.group("calls", {
  { "create", "POST", CREATE, custom = true, doc = "place one outbound call" },
  { "service_status", "GET", "/api/call/", custom = true, doc = "platform status" },
  { "web_token", "GET", "/api/call/auth/token", custom = true,
    doc = "token for the web media WebSocket" },
})

local CREATE_KEYS = { to = true, agent_id = true, workflow_id = true, phone_number_id = true,
  variables = true, timeout = true }

--- Normalises a destination to E.164 ("+1 (555) 123-4567" -> "+15551234567");
-- nil when it is not one.
local function e164(number)
  if type(number) ~= "string" then return nil end
  local s = number:gsub("[%s%-%.%(%)]", "")
  if not s:match("^%+[1-9]%d+$") or #s < 8 or #s > 16 then return nil end
  return s
end

--- Places one outbound call.
-- @tparam table opts
--   `to` (required): the destination in E.164 (`+` and country code;
--   spaces, dashes, dots and parentheses are removed);
--   `agent_id` or `workflow_id` (not both; neither: the agent mapped to
--   the caller line); `phone_number_id`: the caller line (see
--   phone:list); `variables`: values for the `{{name}}` placeholders of
--   the agent's prompt and first message; `timeout` (seconds).
-- @return the answer (`status` "success" with `request_id`,
--   `call_session_id`, ...; or "queued" with `queue_job_id`, resp.status
--   202), resp | nil, err (`kind` "call_failed" for a 200 `status:
--   "failed"`; "http" for 401, 402, 403, 404, 422, 500)
-- @raise when `to` is missing or not E.164, both agent_id and workflow_id
--   are given, or an option is unknown
function G:create(opts)
  A.table(opts, nil, "create", 1)
  for k in pairs(opts) do
    if not CREATE_KEYS[k] then A.fail("create", 1, ("unknown option '%s'"):format(tostring(k))) end
  end
  if opts.to == nil then A.fail("create", 1, "to (the destination number) is required") end
  local to = e164(opts.to)
  if not to then
    A.fail("create", 1, ("to must be an E.164 number such as +15551234567, got %q")
      :format(tostring(opts.to)))
  end
  local q = { phoneNumber = to }
  for _, k in ipairs { "agent_id", "workflow_id", "phone_number_id" } do
    local v = opts[k]
    if v ~= nil then
      if type(v) ~= "string" or v == "" then A.fail("create", 1, k .. " must be a non-empty string") end
      q[k] = v
    end
  end
  if q.agent_id and q.workflow_id then
    A.fail("create", 1, "give agent_id or workflow_id, not both")
  end
  local vars = opts.variables
  if vars ~= nil and (type(vars) ~= "table" or getmetatable(vars) == json.array_mt
      or vars[1] ~= nil) then
    A.fail("create", 1, "variables must be a table of name = value")
  end
  if opts.timeout ~= nil and type(opts.timeout) ~= "number" then
    A.fail("create", 1, "timeout must be a number")
  end

  local data, resp = self._client:request("POST", CREATE, {
    query = q, json = vars and { variable_values = vars } or nil, timeout = opts.timeout,
  })
  if data == nil then return nil, resp end
  if type(data) == "table" and data.status == "failed" then
    local detail = errors.detail_text(data.detail)
    return nil, errors.new {
      kind = "call_failed", status = resp.status, method = "POST", path = CREATE,
      detail = data.detail, data = data, headers = resp.headers, attempts = resp.attempts,
      message = ("the call to %s was not placed: %s"):format(to, detail or "no reason given"),
      hint = type(data.request_id) == "string"
        and ("request_id %s finds the attempt in call_logs"):format(data.request_id) or nil,
    }
  end
  return data, resp
end

--- The platform's status page (`GET /api/call/`).
--
-- Documented as JSON, described as an HTML or JSON page: a JSON answer
-- is returned decoded, any other text as `{text = body}`.
-- @return status table, resp | nil, err
function G:service_status()
  local body, resp = self._client:request("GET", "/api/call/", { raw = true })
  if body == nil then return nil, resp end
  local ctype = resp.content_type or ""
  if ctype:find("json", 1, true) then
    local data, err = json.decode(body)
    if type(data) ~= "table" then
      return nil, errors.new { kind = "decode", status = resp.status, method = "GET",
        path = "/api/call/", body = body, cause = err,
        message = "the server sent malformed JSON" }
    end
    return data, resp
  end
  return { text = body, content_type = resp.content_type }, resp
end

--- A short-lived token for the browser media WebSocket
-- (`wss://.../api/call/web-media-stream?agent_id=`).
-- @return `{token, ...}`, resp | nil, err
function G:web_token()
  return self._client:request("GET", "/api/call/auth/token")
end

return G
