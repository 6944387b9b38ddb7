-- Billing and usage: per-session usage, grouped records and their
-- walkers, summary, overview, credit balance, one session, export.
-- Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local RECORDS = "GET /api/v1/billing/usage/records"

  local function close(a, b)
    return math.abs(a - b) < 1e-6
  end

  case("lists usage per call session, with totals", function()
    local c = t.client()
    local u = assert(c.billing:usage_records())
    assert.equal(250, #u.sessions)
    assert.equal(250, u.total_sessions)
    local sum = 0
    for _, s in ipairs(u.sessions) do
      sum = sum + s.cost_usd
      assert.is_string(s.call_session_id)
      assert.is_table(s.services)
    end
    assert.is_true(sum > 0)
    assert.is_true(close(sum, u.total_cost_usd))
  end)

  case("reads one page of grouped sessions by limit and offset", function()
    local c = t.client()
    local page = assert(c.billing:records())
    assert.equal(50, #page.grouped_sessions, "the API's default limit is 50")
    assert.equal(250, page.total)
    local a = assert(c.billing:records { limit = 10, offset = 0 })
    local b = assert(c.billing:records { limit = 10, offset = 10 })
    assert.equal(10, #a.grouped_sessions)
    assert.equal(a.grouped_sessions[10].call_session_id, page.grouped_sessions[10].call_session_id)
    assert.equal(b.grouped_sessions[1].call_session_id, page.grouped_sessions[11].call_session_id)
    assert.same({ limit = "10", offset = "10" }, t.last_query())
  end)

  case("reads one page by page and page_size too", function()
    local c = t.client()
    local ref = assert(c.billing:records { limit = 30 })
    local p = assert(c.billing:records { page = 3, page_size = 10 })
    assert.equal(10, #p.grouped_sessions)
    assert.equal(3, p.page)
    assert.equal(ref.grouped_sessions[21].call_session_id, p.grouped_sessions[1].call_session_id)
  end)

  case("filters by usage_type, time_filter and search", function()
    local c = t.client()
    assert.same({}, assert(c.billing:records { usage_type = "chat" }).grouped_sessions)
    local day = assert(c.billing:records { time_filter = "day", limit = 1000 })
    assert.is_true(day.total > 0 and day.total < 250)
    local one = assert(c.billing:records { limit = 1 }).grouped_sessions[1]
    local found = assert(c.billing:records { search = one.call_session_id })
    assert.equal(1, found.total)
    local none, err = c.billing:records { time_filter = "fortnight" }
    assert.is_nil(none)
    assert.equal(400, err.status)
  end)

  case("raises for a bad records parameter before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.billing:records { limit = 10, page = 1 } end,
      "bad argument #1 to 'records' (page with limit/offset, or with page/page_size, not both)")
    assert.has_error(function() c.billing:records { usage_type = "voice" } end,
      'bad argument #1 to \'records\' (usage_type must be one of "calls", "chat", "embedding", got "voice")')
    assert.has_error(function() c.billing:records { offset = -1 } end,
      "bad argument #1 to 'records' (offset must be an integer >= 0, got -1)")
    assert.has_error(function() c.billing:records { group_by = "agent" } end,
      "bad argument #1 to 'records' (unknown parameter 'group_by')")
    local ok, msg = pcall(function() c.billing:record_pages { offset = 5 } end)
    assert.is_false(ok)
    assert.matches("billing%.lua:%d+: bad argument #1 to 'record_pages' %(unknown parameter 'offset'%)", msg)
    ok, msg = pcall(function() c.billing:record_items { page_size = 0 } end)
    assert.is_false(ok)
    assert.matches("billing%.lua:%d+: bad argument #1 to 'record_items' %(page_size must be an integer", msg)
    ok, msg = pcall(function() c.billing:records { offset = -1 } end)
    assert.is_false(ok)
    assert.matches("billing%.lua:%d+: bad argument", msg)
    assert.equal(before, t.requests())
  end)

  case("walks every page by limit and offset, stopping at the short last one", function()
    local c = t.client()
    local before = t.requests(RECORDS)
    local sizes, seen = {}, {}
    for page in c.billing:record_pages { page_size = 100 } do
      sizes[#sizes + 1] = #page.grouped_sessions
      for _, s in ipairs(page.grouped_sessions) do
        assert.is_nil(seen[s.call_session_id], "no session twice")
        seen[s.call_session_id] = true
      end
    end
    assert.same({ 100, 100, 50 }, sizes)
    assert.equal(3, t.requests(RECORDS) - before)
    assert.same({ limit = "100", offset = "200" }, t.last_query())
  end)

  case("walks grouped sessions with limit and filters, or fails with an error", function()
    local c = t.client { max_retries = 0 }
    local n = 0
    for s in c.billing:record_items { limit = 120, page_size = 50, time_filter = "all" } do
      assert.is_string(s.call_session_id)
      n = n + 1
    end
    assert.equal(120, n)
    local all = assert(c.billing:record_items { usage_type = "calls" }:all())
    assert.equal(250, #all)
    emu.fault(RECORDS, { status = 500, json = { detail = "ledger offline" } }, 1)
    local ok, err = c.billing:record_items {}:each(function() end)
    assert.is_nil(ok)
    assert.equal(500, err.status)
  end)

  case("summarises usage in buckets for a time period", function()
    local c = t.client()
    local s = assert(c.billing:summary { time_period = "week" })
    assert.equal("week", s.time_period)
    assert.equal(7, #s.buckets)
    local calls, cost = 0, 0
    for _, b in ipairs(s.buckets) do calls, cost = calls + b.calls, cost + b.cost_usd end
    assert.equal(s.totals.calls, calls)
    assert.is_true(close(s.totals.cost_usd, cost))
    local all = assert(c.billing:summary())
    assert.equal("all", all.time_period)
    assert.equal(250, all.totals.calls)
    assert.has_error(function() c.billing:summary { time_period = "quarter" } end,
      'bad argument #1 to \'summary\' (time_period must be one of "day", "week", "month", "4months", '
        .. '"year", "all", got "quarter")')
    local none, err = c:request("GET", "/api/v1/billing/usage/summary", { query = { time_period = "quarter" } })
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  case("gives the overview totals, and 403 for a user the caller cannot see", function()
    local c = t.client()
    local o = assert(c.billing:overview())
    local u = assert(c.billing:usage_records())
    assert.equal(u.total_sessions, o.total_calls)
    assert.is_true(close(u.total_cost_usd, o.total_cost_usd))
    assert.is_true(o.this_month_cost_usd <= o.total_cost_usd)
    local none, err = c.billing:overview { user_id = UNKNOWN }
    assert.is_nil(none)
    assert.equal(403, err.status)
    assert.has_error(function() c.billing:overview { user_id = "me" } end,
      "bad argument #1 to 'overview' (user_id must be a UUID string, got 'me')")
  end)

  case("reads the credit balance, with cap fields once a cap is set", function()
    local c = t.client()
    local b = assert(c.billing:credit_balance())
    local w = assert(c.wallets:me())
    assert.equal(w.balance_usd, b.credit_balance_usd)
    assert.equal(w.id, b.wallet_id)
    assert.is_nil(b.monthly_cap_usd)
    assert(t.admin().wallets:set_cap(w.id, { monthly_cap_usd = 500 }))
    b = assert(c.billing:credit_balance())
    assert.equal(500, b.monthly_cap_usd)
    assert.is_number(b.cap_remaining_usd)
  end)

  case("reads the usage of one session; 404 unknown, 422 malformed", function()
    local c = t.client()
    local row = assert(c.billing:records { limit = 1 }).grouped_sessions[1]
    local s = assert(c.billing:session(row.call_session_id))
    assert.equal(row.call_session_id, s.call_session_id)
    assert.equal(row.cost_usd, s.cost_usd)
    assert.equal("USD", s.currency)
    local none, err = c.billing:session(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.billing:session("last")
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.has_error(function() c.billing:session() end,
      "bad argument #1 to 'session' (session_id must be a non-empty string, got nil)")
  end)

  case("asks for a usage CSV by email and gets an acknowledgement", function()
    local c = t.client()
    local ack = assert(c.billing:export { from_date = "2026-06-01", to_date = "2026-06-30",
      usage_type = "calls", agent_ids = { emu.info().agents[1].id } })
    assert.is_true(ack.success)
    assert.equal("ops@example.test", ack.email)
    local q = t.last_query()
    assert.equal("2026-06-01", q.from_date)
    assert.equal(emu.info().agents[1].id, q.agent_ids)
    assert.has_error(function() c.billing:export { from_date = "2026-06-31" } end,
      "bad argument #1 to 'export' (from_date must be a date 'YYYY-MM-DD', got '2026-06-31')")
    assert.has_error(function() c.billing:export { from_date = "2026-07-01", to_date = "2026-06-01" } end,
      "bad argument #1 to 'export' (from_date is after to_date)")
  end)

  case("answers 400 to an export when the account has no email", function()
    t.reset { email = kupe.null }
    local c = t.client()
    local ack, err = c.billing:export()
    assert.is_nil(ack)
    assert.equal(400, err.status)
    assert.matches("email", err.message)
  end)

  case("refuses a billing write made with an API key (403, with a hint)", function()
    local c = t.client()
    local data, err = c:request("POST", "/api/v1/billing/usage/export", { json = {} })
    assert.is_nil(data)
    assert.equal(403, err.status)
    assert.matches("bearer session", err.hint)
  end)

  return cases
end
