-- POST /api/call/create_call: the three outcomes, validation, Origin, auth.

local emu = require "spec.helpers.emulator"

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function create(query, opts)
  opts = opts or {}
  opts.query = query
  return emu.request_json("POST", "/api/call/create_call", opts)
end

local function newest()
  local _, body = emu.request_json("GET", "/api/v1/call-analytics",
    { query = { page = 1, page_size = 1 } })
  return body.items[1], body.total
end

describe("create_call", function()
  local summary
  setup(function() emu.start() end)
  before_each(function() summary = emu.reset() end)

  it("places a call: 200 success, and the session appears first in call-analytics", function()
    local agent = summary.agents[2].id
    local status, body = create({ phoneNumber = "+919800000001", agent_id = agent },
      { body = { variable_values = { patient = "R. Iyer", slot = "4 pm" } } })
    assert.equal(200, status)
    assert.equal("success", body.status)
    assert.matches(UUID, body.request_id)
    assert.matches(UUID, body.call_session_id)
    assert.equal(summary.user_id, body.user_id)
    assert.equal("pstn", body.telephony_provider)
    assert.equal("+919800000001", body.target_number)
    assert.matches("^%+%d+$", body.from_phone_number)
    local s, total = newest()
    assert.equal(251, total)
    assert.equal(body.request_id, s.request_id)
    assert.equal(body.call_session_id, s.call_session_id)
    assert.equal(agent, s.agent_id)
    assert.equal("outbound", s.call_type)
    assert.same({ patient = "R. Iyer", slot = "4 pm" }, s.variable_values)
    local _, one = emu.request_json("GET", "/api/v1/call-analytics",
      { query = { request_id = body.request_id } })
    assert.equal(body.call_session_id, one.call_session_id)
  end)

  it("reports a failed initiation with HTTP 200, status failed and a detail", function()
    emu.config { create_call = "failed" }
    local status, body = create { phoneNumber = "+15551234567" }
    assert.equal(200, status)
    assert.equal("failed", body.status)
    assert.equal("string", type(body.detail))
    assert.matches(UUID, body.request_id)
    local s = newest()
    assert.equal(body.request_id, s.request_id)
    assert.equal("failed", s.status)
  end)

  it("answers 202 queued with a job id and creates no session yet", function()
    emu.reset { create_call = "queued" }
    local agent = summary.agents[1].id
    local status, body = create { phoneNumber = "+15551234567", agent_id = agent }
    assert.equal(202, status)
    assert.equal("queued", body.status)
    assert.matches(UUID, body.queue_job_id)
    assert.equal(agent, body.agent_id)
    assert.equal("create_call", body.source)
    assert.equal("+15551234567", body.target_number)
    assert.is_nil(body.call_session_id)
    local _, total = newest()
    assert.equal(250, total)
  end)

  it("requires phoneNumber (422 missing)", function()
    local status, body = create {}
    assert.equal(422, status)
    assert.same({ type = "missing", loc = { "query", "phoneNumber" }, msg = "Field required",
      input = emu.null }, body.detail[1])
  end)

  it("answers 404 for an unknown agent and 422 for a malformed agent id", function()
    local status, body = create { phoneNumber = "+15551234567",
      agent_id = "00000000-0000-4000-8000-000000000000" }
    assert.equal(404, status)
    assert.equal("string", type(body.detail))
    status, body = create { phoneNumber = "+15551234567", agent_id = "not-a-uuid" }
    assert.equal(422, status)
    assert.equal("uuid_parsing", body.detail[1].type)
  end)

  it("answers 403 for an Origin that is not allowed, and accepts the dashboard's", function()
    local status, body = create({ phoneNumber = "+15551234567" },
      { headers = { origin = "https://evil.example" } })
    assert.equal(403, status)
    assert.equal("string", type(body.detail))
    status = create({ phoneNumber = "+15551234567" },
      { headers = { origin = "https://app.kupe.in" } })
    assert.equal(200, status)
  end)

  it("answers 401 without credentials and takes a Bearer token", function()
    assert.equal(401, (create({ phoneNumber = "+15551234567" }, { auth = false })))
    local status = create({ phoneNumber = "+15551234567" },
      { headers = { authorization = "Bearer " .. emu.BEARER } })
    assert.equal(200, status)
  end)

  it("uses the caller line given by phone_number_id", function()
    local line = summary.phone_numbers[2]
    local status, body = create { phoneNumber = "+15551234567", phone_number_id = line.id }
    assert.equal(200, status)
    assert.equal(line.phone_number, body.from_phone_number)
  end)
end)
