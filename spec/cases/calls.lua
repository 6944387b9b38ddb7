-- Calls: create_call's three outcomes, its query/body split and its
-- checks, the service routes of /api/call, and the current user's users.
-- Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UUID, UNKNOWN, raises = kit.UUID, kit.UNKNOWN, kit.raises

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  case("places a call: routing in the query, variables in the JSON body", function()
    local c = t.client()
    local agent = t.agent_id(2)
    local call, resp = assert(c.calls:create { to = "+919800000001", agent_id = agent,
      variables = { patient = "R. Iyer", slot = "4 pm" } })
    assert.equal(200, resp.status)
    assert.equal("success", call.status)
    assert.matches(UUID, call.request_id)
    assert.matches(UUID, call.call_session_id)
    assert.equal("+919800000001", call.target_number)
    local last = emu.stats().last_request
    assert.equal("POST", last.method)
    assert.equal("/api/call/create_call", last.path)
    assert.equal("agent_id=" .. agent .. "&phoneNumber=%2B919800000001", last.query)
    assert.matches("^application/json", last.headers["content-type"])
    assert.is_nil(last.headers.origin, "no Origin header: it would be checked")
    local session = assert(c.call_logs:get(call.request_id))
    assert.equal(call.call_session_id, session.call_session_id)
    assert.same({ patient = "R. Iyer", slot = "4 pm" }, session.variable_values)
  end)

  case("normalises the destination and sends no body without variables", function()
    local c = t.client()
    local call = assert(c.calls:create { to = "+1 (555) 123-4567" })
    assert.equal("+15551234567", call.target_number)
    local last = emu.stats().last_request
    assert.equal("phoneNumber=%2B15551234567", last.query)
    assert.is_true(last.body == nil or last.body == "" or last.body == emu.null)
  end)

  case("returns a 200 status failed as nil and a call_failed error", function()
    t.reset { create_call = "failed" }
    local c = t.client()
    local before = t.requests("POST /api/call/create_call")
    local call, err = c.calls:create { to = "+15551234567", agent_id = t.agent_id(2) }
    assert.is_nil(call)
    assert.equal("call_failed", err.kind)
    assert.equal(200, err.status)
    assert.equal("failed", err.data.status)
    assert.matches(UUID, err.data.request_id)
    assert.matches("destination unreachable", err.message)
    assert.is_false(err.retryable)
    assert.equal(1, t.requests("POST /api/call/create_call") - before, "never sent twice")
    assert.matches("^kupe: POST /api/call/create_call: call_failed error %(HTTP 200%): the call "
      .. "to %+15551234567 was not placed: Carrier rejected", tostring(err))
    assert.matches(err.data.request_id:gsub("%-", "%%-"), err.hint)
    -- the attempt is in the call logs, as failed
    local session = assert(c.call_logs:get(err.data.request_id))
    assert.equal("failed", session.status)
  end)

  case("returns a queued call (202) as a result", function()
    t.reset { create_call = "queued" }
    local c = t.client()
    local call, resp = assert(c.calls:create { to = "+15551234567", workflow_id = UNKNOWN })
    assert.equal(202, resp.status)
    assert.equal("queued", call.status)
    assert.matches(UUID, call.queue_job_id)
    assert.is_nil(call.call_session_id)
  end)

  case("raises for a missing or malformed destination and bad options, before sending", function()
    local c = t.client()
    local before = t.requests("POST /api/call/create_call")
    raises("to %(the destination number%) is required", function() c.calls:create {} end)
    raises("to must be an E.164 number", function() c.calls:create { to = "5551234567" } end)
    raises("to must be an E.164 number", function() c.calls:create { to = "+1555abc" } end)
    raises("give agent_id or workflow_id, not both", function()
      c.calls:create { to = "+15551234567", agent_id = UNKNOWN, workflow_id = UNKNOWN }
    end)
    raises("variables must be a table of name = value", function()
      c.calls:create { to = "+15551234567", variables = { "a", "b" } }
    end)
    raises("unknown option 'phoneNumber'", function()
      c.calls:create { to = "+15551234567", phoneNumber = "+15551234567" }
    end)
    raises("table expected, got string", function() c.calls:create "+15551234567" end)
    assert.equal(before, t.requests("POST /api/call/create_call"))
  end)

  case("answers 404 for an unknown agent, 422 for a malformed one, 401 without a key", function()
    local c = t.client()
    local call, err = c.calls:create { to = "+15551234567", agent_id = UNKNOWN }
    assert.is_nil(call)
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
    assert.equal("Agent not found", err.message)
    call, err = c.calls:create { to = "+15551234567", agent_id = "agent-7" }
    assert.is_nil(call)
    assert.equal(422, err.status)
    assert.matches("agent_id", err.message)
    call, err = c.calls:create { to = "+15551234567", phone_number_id = UNKNOWN }
    assert.is_nil(call)
    assert.equal(404, err.status)
    local anon = t.client { api_key = false }
    call, err = anon.calls:create { to = "+15551234567" }
    assert.is_nil(call)
    assert.equal(401, err.status)
  end)

  case("reports the platform status, as JSON or as the text of a page", function()
    local c = t.client()
    local s, resp = assert(c.calls:service_status())
    assert.equal(200, resp.status)
    assert.equal("running", s.status)
    emu.fault("GET /api/call/", { status = 200, body = "<html><title>Kupe</title>ok</html>" }, 1)
    s = assert(c.calls:service_status())
    assert.matches("<title>Kupe</title>", s.text)
    assert.matches("^text/html", s.content_type)
    emu.fault("GET /api/call/", { status = 503, json = { detail = "maintenance" } }, 3)
    local none, err = t.client { max_retries = 0 }.calls:service_status()
    assert.is_nil(none)
    assert.equal(503, err.status)
    emu.clear_faults()
  end)

  case("gets a token for the web media stream", function()
    local c = t.client()
    local tok = assert(c.calls:web_token())
    assert.matches("^[%w_-]+%.[%w_-]+%.[%w_-]+$", tok.token)
    assert.equal(3600, tok.expires_in)
    local anon = t.client { api_key = false }
    local none, err = anon.calls:web_token()
    assert.is_nil(none)
    assert.equal(401, err.status)
  end)

  case("lists the users visible to the caller (none for a plain account)", function()
    local c = t.client()
    local r = assert(c:users())
    assert.equal(0, r.total)
    assert.equal(0, #r.users)
    assert.is_string(r.message)
    local anon = t.client { api_key = false }
    local none, err = anon:users()
    assert.is_nil(none)
    assert.equal(401, err.status)
  end)

  return cases
end
