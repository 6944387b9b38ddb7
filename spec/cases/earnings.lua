-- Earnings of reseller organisations. Shared by the libcurl specs and the
-- nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  -- Makes the caller's organisation a channel partner with a markup.
  local function become_reseller(c)
    local a = t.admin()
    local org = assert(c.wallets:me()).org_id
    assert(a.wallets:set_business_model(org, "channel_partner"))
    assert(a.wallets:set_markup(org, { markup_percent = 20 }))
    assert(a.wallets:set_commission(org, { commission_percent = 5 }))
    return org, a
  end

  local function close(a, b)
    return math.abs(a - b) < 1e-3
  end

  case("answers 403 to the org admin of an internal organisation", function()
    local c = t.client()
    local e, err = c.earnings:me()
    assert.is_nil(e)
    assert.equal(403, err.status)
    assert.matches("channel_partner", err.message)
    e, err = c.earnings:breakdown "week"
    assert.is_nil(e)
    assert.equal(403, err.status)
  end)

  case("sums markup and commission for a reseller, by period (default month)", function()
    local c = t.client()
    local org = become_reseller(c)
    local e = assert(c.earnings:me())
    assert.equal(org, e.org_id)
    assert.equal("month", e.period)
    assert.equal("", emu.stats().last_request.query, "no period sent: the server's default")
    assert.is_true(e.usage_cost_usd > 0)
    assert.is_true(close(e.usage_cost_usd * 0.20, e.markup_earnings_usd))
    assert.is_true(close(e.usage_cost_usd * 0.05, e.commission_earnings_usd))
    assert.is_true(close(e.markup_earnings_usd + e.commission_earnings_usd, e.total_earnings_usd))
    local day = assert(c.earnings:me { period = "day" })
    assert.equal("day", day.period)
    assert.equal("period=day", emu.stats().last_request.query)
    assert.is_true(day.usage_cost_usd <= e.usage_cost_usd)
  end)

  case("breaks earnings down into time buckets", function()
    local c = t.client()
    become_reseller(c)
    local b = assert(c.earnings:breakdown "week")
    assert.equal("week", b.period)
    assert.equal(7, #b.buckets)
    local sum = 0
    for _, x in ipairs(b.buckets) do sum = sum + x.total_earnings_usd end
    assert.is_true(close(sum, assert(c.earnings:me "week").total_earnings_usd))
  end)

  case("reads any organisation's earnings as a super_admin only", function()
    local c, a = t.client(), t.admin()
    local org = assert(c.wallets:me()).org_id
    local partner
    for _, w in ipairs(assert(a.wallets:orgs()).wallets) do
      if w.org_type == "channel_partner" then partner = w.org_id end
    end
    local e, err = c.earnings:org(partner)
    assert.is_nil(e)
    assert.equal(403, err.status)
    e = assert(a.earnings:org(partner, "year"))
    assert.equal(partner, e.org_id)
    assert.equal("channel_partner", e.org_type)
    assert.is_true(e.total_earnings_usd > 0)
    assert.equal(0, assert(a.earnings:org(org)).total_earnings_usd, "internal: no markup")
    e, err = a.earnings:org(UNKNOWN)
    assert.is_nil(e)
    assert.equal(404, err.status)
  end)

  case("raises for a period outside the documented values, before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.earnings:me "quarter" end,
      'bad argument #1 to \'me\' (period must be one of "day", "week", "month", "year", "all", got "quarter")')
    local ok, msg = pcall(function() c.earnings:breakdown { period = "4months" } end)
    assert.is_false(ok)
    assert.matches("earnings%.lua:%d+: bad argument #1 to 'breakdown' %(period must be one of", msg)
    assert.has_error(function() c.earnings:me { from = "2026-01-01" } end,
      "bad argument #1 to 'me' (unknown field 'from')")
    assert.has_error(function() c.earnings:org(nil, "day") end,
      "bad argument #1 to 'org' (org_id must be a non-empty string, got nil)")
    assert.has_error(function() c.earnings:org(UNKNOWN, "hour") end)
    assert.equal(before, t.requests())
    local none, err = c:request("GET", "/api/v1/earnings/me", { query = { period = "quarter" } })
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  return cases
end
