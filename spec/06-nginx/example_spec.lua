-- examples/nginx runs as its comments say (a copy with another port),
-- against the emulator: Kupe's call-completed payload is posted to it and
-- the session is looked up through the API; /sessions lists sessions.
local nginx = require "spec.helpers.nginx"
local h = require "spec.helpers.kupe"

local emu = h.emu
local TOKEN = "webhook-token-for-the-example"

describe("examples/nginx", function()
  local example, session
  setup(function()
    h.reset()
    local env = h.env()
    example = nginx.example { KUPE_API_KEY = h.KEY, KUPE_BASE_URL = env.url,
      KUPE_WEBHOOK_TOKEN = TOKEN }
    local _, page = emu.request_json("GET", "/api/v1/call-analytics",
      { query = { page = 1, page_size = 1 }, api_key = h.KEY })
    session = page.items[1]
  end)
  teardown(function() if example then example:stop() end end)
  before_each(function() h.reset() end)

  local function post(body, token)
    local status, raw = example:request("POST", "/kupe/call-completed", { body = body,
      headers = { authorization = token ~= false and ("Bearer " .. (token or TOKEN)) or nil } })
    return status, raw and emu.json.decode(raw)
  end

  it("looks up the session of a call-completed event", function()
    local status, r = post {
      call_id = session.request_id, call_session_id = session.call_session_id,
      agent_id = session.agent_id, customer_name = "Meera", call_direction = "outbound",
      call_status = "completed", call_duration = 61.0, lead_status = "Follow-up Required",
      lead_temperature = "Warm", lead_score = 64, ai_summary = "Asked for a callback on Friday.",
      post_call_analysis_count = 1, post_call_analyses = { { rule_id = emu.null, rule_name = emu.null,
        source = "system_default", sort_order = 0, structured_json = { lead_status = "Follow-up Required" } } },
    }
    assert.equal(200, status)
    assert.equal(session.request_id, r.session.request_id)
    assert.equal(session.status, r.session.status)
    assert.equal("Asked for a callback on Friday.", r.event.summary)
    assert.equal("current", r.event.version)
    assert.equal(61, r.event.duration)
    assert.equal("Follow-up Required", r.event.lead_status)
    local last = emu.stats().last_request
    assert.equal("/api/v1/call-analytics", last.path)
    assert.equal(h.KEY, last.headers["x-api-key"])
    assert.matches(" ngx_lua/", last.headers["user-agent"])
  end)

  it("receives the emulator's own test delivery (webhooks:test_outgoing), end to end", function()
    local c = h.client()
    local agent = session.agent_id
    assert(c.webhooks:update(agent, { outgoing = { enabled = true,
      url = example.url .. "/kupe/call-completed", auth = { type = "bearer", token = TOKEN } } }))
    local r = assert(c.webhooks:test_outgoing(agent))
    assert.equal(200, r.status_code)
    -- the receiver looked the (sample, unknown) session up through the API
    assert.equal(1, emu.stats().routes["GET /api/v1/call-analytics"])
  end)

  it("takes the older payload too (summary instead of ai_summary)", function()
    local status, r = post { call_id = session.request_id, call_duration = 42, call_status = "completed",
      summary = "Old style.", full_conversation = "...", cost = 0.12 }
    assert.equal(200, status)
    assert.equal("legacy", r.event.version)
    assert.equal("Old style.", r.event.summary)
    assert.equal(session.request_id, r.session.request_id)
  end)

  it("acknowledges a call-error event without a lookup", function()
    local status, r = post { call_id = "CA01", error_reason = "analysis timed out" }
    assert.equal(200, status)
    assert.equal("call_error", r.event.type)
    assert.equal(0, emu.stats().requests_total)
  end)

  it("answers 200 without a session for an unknown call, 503 when the API fails", function()
    local status, r = post { call_id = "no-such-request" }
    assert.equal(200, status)
    assert.equal(emu.null, r.session)
    emu.fault("GET /api/v1/call-analytics", { status = 500, json = { detail = "down" } }, -1)
    status = post { call_id = session.request_id }
    assert.equal(503, status)
  end)

  it("refuses a bad token, a body that is not JSON, and an event without call_id", function()
    assert.equal(401, (post({ call_id = session.request_id }, "wrong")))
    assert.equal(401, (post({ call_id = session.request_id }, false)))
    assert.equal(400, (example:request("POST", "/kupe/call-completed", { body = "{not json",
      headers = { authorization = "Bearer " .. TOKEN } })))
    assert.equal(422, (post { call_status = "completed" }))
    assert.equal(0, emu.stats().requests_total, "nothing reached the API")
  end)

  it("lists recent sessions as JSON", function()
    local r = example:json("/sessions?limit=5")
    assert.equal(250, r.total)
    assert.equal(5, #r.sessions)
    assert.is_string(r.sessions[1].request_id)
    r = example:json("/sessions?limit=3&filter=outbound")
    for _, s in ipairs(r.sessions) do assert.equal("outbound", s.call_type) end
    assert.equal(400, (example:get("/sessions?limit=500")))
  end)
end)
