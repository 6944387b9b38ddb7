-- GET /api/v1/call-analytics: the three modes, filters, 422s, the session
-- shape, HIPAA redaction, determinism and a 100,000-session data set.

local socket = require "socket"
local emu = require "spec.helpers.emulator"
local json = emu.json

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"

local function page(q)
  local status, body, headers, raw = emu.request_json("GET", "/api/v1/call-analytics",
    { query = q })
  assert.equal(200, status, raw)
  return body, raw, headers
end

describe("call-analytics", function()
  local summary
  setup(function() emu.start() end)
  before_each(function() summary = emu.reset() end)

  it("pages with {items, total, page, page_size}", function()
    local body = page { page = 2, page_size = 10 }
    assert.equal(250, body.total)
    assert.equal(2, body.page)
    assert.equal(10, body.page_size)
    assert.equal(10, #body.items)
    local last = page { page = 25, page_size = 10 }
    assert.equal(10, #last.items)
    local beyond, raw = page { page = 26, page_size = 10 }
    assert.equal(0, #beyond.items)
    assert.matches('"items":%[%]', raw)
  end)

  it("defaults page_size to 20 when only page is given", function()
    assert.equal(20, #page({ page = 1 }).items)
  end)

  it("returns a plain array without paging parameters", function()
    local body, raw = page {}
    assert.is_true(json.is_array(body))
    assert.equal(250, #body)
    assert.equal("[", raw:sub(1, 1))
  end)

  it("returns one session for request_id, 404 for an unknown one", function()
    local first = page({ page = 3, page_size = 5 }).items[4]
    local one = page { request_id = first.request_id }
    assert.same(first, one)
    local status, body = emu.request_json("GET", "/api/v1/call-analytics",
      { query = { request_id = "00000000-0000-4000-8000-000000000000" } })
    assert.equal(404, status)
    assert.same({ detail = "Call session not found" }, body)
  end)

  it("lists sessions newest first with the documented fields", function()
    local items = page({ page = 1, page_size = 100 }).items
    local prev
    for _, s in ipairs(items) do
      assert.matches(UUID, s.request_id)
      assert.matches(UUID, s.call_session_id)
      assert.equal(summary.user_id, s.user_id)
      assert.matches(UUID, s.agent_id)
      assert.equal("string", type(s.agent_name))
      assert.truthy(({ inbound = 1, outbound = 1, web = 1 })[s.call_type], s.call_type)
      assert.truthy(({ completed = 1, no_answer = 1, failed = 1, busy = 1 })[s.status], s.status)
      for _, k in ipairs { "started_at", "ended_at", "created_at" } do
        assert.matches(ISO, s[k])
      end
      if s.call_type ~= "web" then
        assert.matches("^%+%d+$", s.from_number)
        assert.matches("^%+%d+$", s.to_number)
      end
      assert.equal("number", type(s.duration_seconds))
      assert.equal("number", type(s.cost_usd))
      if prev then assert.is_true(s.started_at <= prev.started_at) end
      prev = s
    end
  end)

  it("looks like a real call: transcript turns, recording and post-call rows", function()
    local hipaa = summary.hipaa_agent_id
    local found
    for _, s in ipairs(page({ page = 1, page_size = 100 }).items) do
      if s.status == "completed" and s.agent_id ~= hipaa then found = s break end
    end
    assert.truthy(found)
    assert.is_true(#found.transcript >= 4)
    assert.equal("assistant", found.transcript[1].role)
    assert.equal("string", type(found.transcript[2].content))
    assert.matches("^https://", found.recording_url)
    local row = found.post_call_analysis_results[1]
    assert.equal("system_default", row.source)
    assert.equal(0, row.sort_order)
    assert.equal("string", type(row.structured_json.lead_status))
    local size = #json.encode(found)
    assert.is_true(size > 900 and size < 3000, "session of " .. size .. " bytes")
  end)

  it("sends no transcript, recording or post-call keys for the HIPAA agent", function()
    local hipaa = summary.hipaa_agent_id
    assert.matches(UUID, hipaa)
    local seen = 0
    for _, s in ipairs(page({ page = 1, page_size = 100 }).items) do
      if s.agent_id == hipaa then
        seen = seen + 1
        assert.is_nil(s.transcript)
        assert.is_nil(s.recording_url)
        assert.is_nil(s.post_call_analysis_results)
      end
    end
    assert.is_true(seen > 0)
  end)

  it("filters by call type or a piece of the request id", function()
    local body = page { filter = "outbound", page = 1, page_size = 100 }
    assert.is_true(body.total > 0 and body.total < 250)
    for _, s in ipairs(body.items) do assert.equal("outbound", s.call_type) end
    local some = page({ page = 1, page_size = 1 }).items[1].request_id
    local hit = page { filter = some:sub(10, 17), page = 1, page_size = 10 }
    assert.is_true(hit.total >= 1)
    assert.equal(some, hit.items[1].request_id)
    assert.equal(body.total, #page { filter = "OUTBOUND" })
  end)

  it("answers 422 with FastAPI's list detail for bad paging values", function()
    local cases = {
      { { page = 1, page_size = 101 }, "less_than_equal", "page_size",
        "Input should be less than or equal to 100", { le = 100 } },
      { { page = 1, page_size = 0 }, "greater_than_equal", "page_size",
        "Input should be greater than or equal to 1", { ge = 1 } },
      { { page = 0 }, "greater_than_equal", "page", "Input should be greater than or equal to 1",
        { ge = 1 } },
      { { page = "two" }, "int_parsing", "page",
        "Input should be a valid integer, unable to parse string as an integer" },
      { { page = 1, page_size = "1.5" }, "int_parsing", "page_size",
        "Input should be a valid integer, unable to parse string as an integer" },
    }
    for _, c in ipairs(cases) do
      local status, body = emu.request_json("GET", "/api/v1/call-analytics", { query = c[1] })
      assert.equal(422, status)
      local d = body.detail[1]
      assert.equal(c[2], d.type)
      assert.same({ "query", c[3] }, d.loc)
      assert.equal(c[4], d.msg)
      assert.equal(tostring(c[1][c[3]]), d.input)
      assert.same(c[5], d.ctx)
    end
  end)

  it("gives byte-identical answers for the same seed, also in another instance", function()
    emu.reset { seed = 7 }
    local _, a = page { page = 4, page_size = 50 }
    local _, agents_a = emu.request("GET", "/api/v1/agents")
    emu.reset { seed = 8 }
    local _, b = page { page = 4, page_size = 50 }
    assert.are_not.equal(a, b)
    emu.reset { seed = 7 }
    local _, c = page { page = 4, page_size = 50 }
    local _, agents_c = emu.request("GET", "/api/v1/agents")
    assert.equal(a, c)
    assert.equal(agents_a, agents_c)

    local other, stop = emu.spawn()
    finally(stop)
    emu.request("POST", "/__emulator/reset",
      { base = other.url, auth = false, body = { seed = 7 } })
    local _, d = emu.request("GET", "/api/v1/call-analytics",
      { base = other.url, query = { page = 4, page_size = 50 } })
    assert.equal(a, d)
  end)

  it("serves 100,000 sessions page by page quickly, newest first, all distinct", function()
    emu.reset { sessions = 100000 }
    local conn = emu.connection()
    finally(function() conn:close() end)
    local t0 = socket.gettime()
    local seen, count, prev = {}, 0, nil
    for p = 1, 1000 do
      local status, raw = conn:request("GET", "/api/v1/call-analytics",
        { query = { page = p, page_size = 100 } })
      assert.equal(200, status)
      local body = json.decode(raw)
      assert.equal(100000, body.total)
      for _, s in ipairs(body.items) do
        assert.is_nil(seen[s.request_id])
        seen[s.request_id] = true
        if prev then assert.is_true(s.started_at <= prev) end
        prev = s.started_at
        count = count + 1
      end
    end
    local elapsed = socket.gettime() - t0
    assert.equal(100000, count)
    assert.is_true(elapsed < 30, ("paging took %.1f s"):format(elapsed))
    -- cached now: a second look at a deep page is fast
    t0 = socket.gettime()
    local status = conn:request("GET", "/api/v1/call-analytics",
      { query = { page = 999, page_size = 100 } })
    assert.equal(200, status)
    assert.is_true(socket.gettime() - t0 < 0.5)
    local deep = json.decode(select(2, conn:request("GET", "/api/v1/call-analytics",
      { query = { page = 1000, page_size = 100 } })))
    local one = page { request_id = deep.items[100].request_id }
    assert.same(deep.items[100], one)
  end)
end)
