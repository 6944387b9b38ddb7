-- Wallets: reads by role, and the admin writes that need a Bearer
-- session. Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  -- An organisation wallet that is not the caller's organisation's.
  local function foreign_org_wallet(a, mine)
    for _, w in ipairs(assert(a.wallets:orgs()).wallets) do
      if w.org_id ~= mine.org_id then return w end
    end
  end

  case("reads the caller's wallet and its grants and ledger", function()
    local c = t.client()
    local me = assert(c.wallets:me())
    assert.equal("user", me.owner_type)
    assert.is_number(me.balance_usd)
    assert.equal("USD", me.currency)
    assert.equal(kupe.null, me.monthly_cap_usd)
    local w = assert(c.wallets:get(me.id))
    assert.equal(me.id, w.id)
    assert.is_true(#w.grants >= 1)
    assert.is_true(#w.ledger >= 1)
    assert.equal(me.balance_usd, w.ledger[1].balance_after_usd, "newest ledger line first")
  end)

  case("answers 404 for an unknown wallet and 403 for another organisation's", function()
    local c, a = t.client(), t.admin()
    local mine = assert(c.wallets:me())
    local none, err = c.wallets:get(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    local other = foreign_org_wallet(a, mine)
    none, err = c.wallets:get(other.id)
    assert.is_nil(none)
    assert.equal(403, err.status)
    assert.equal(other.id, assert(a.wallets:get(other.id)).id, "a super_admin sees it")
  end)

  case("lists user and organisation wallets for a super_admin only", function()
    local c, a = t.client(), t.admin()
    local none, err = c.wallets:users()
    assert.is_nil(none)
    assert.equal(403, err.status)
    none, err = c.wallets:orgs()
    assert.is_nil(none)
    assert.equal(403, err.status)
    local users = assert(a.wallets:users())
    assert.equal(6, users.total)
    for _, w in ipairs(users.wallets) do assert.equal("user", w.owner_type) end
    local orgs = assert(a.wallets:orgs())
    assert.equal(3, #orgs.wallets)
    assert.is_string(orgs.wallets[1].org_type)
  end)

  case("lists the member wallets of the caller's organisation; 403 for another, 404 unknown", function()
    local c, a = t.client(), t.admin()
    local mine = assert(c.wallets:me())
    local m = assert(c.wallets:members(mine.org_id))
    assert.equal(3, m.total)
    local ids = {}
    for _, w in ipairs(m.wallets) do ids[w.id] = true end
    assert.is_true(ids[mine.id])
    local other = foreign_org_wallet(a, mine)
    local none, err = c.wallets:members(other.org_id)
    assert.is_nil(none)
    assert.equal(403, err.status)
    assert.is_table(assert(a.wallets:members(other.org_id)).wallets)
    none, err = c.wallets:members(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("refuses every write made with an API key (403, with a hint) and changes nothing", function()
    local c = t.client()
    local me = assert(c.wallets:me())
    local calls = {
      function() return c.wallets:grant(me.id, { amount_usd = 10 }) end,
      function() return c.wallets:set_cap(me.id, { monthly_cap_usd = 5 }) end,
      function() return c.wallets:adjust(me.id, { amount_usd = 1, reason = "x" }) end,
      function() return c.wallets:set_business_model(me.org_id, "distributor") end,
      function() return c.wallets:set_commission(me.org_id, { commission_percent = 5 }) end,
      function() return c.wallets:set_markup(me.org_id, { markup_percent = 5 }) end,
    }
    for _, call in ipairs(calls) do
      local data, err = call()
      assert.is_nil(data)
      assert.equal(403, err.status)
      assert.matches("Bearer session", err.hint)
    end
    local after = assert(c.wallets:get(me.id))
    assert.equal(me.balance_usd, after.balance_usd)
    assert.equal(kupe.null, after.monthly_cap_usd)
  end)

  case("grants credits with a Bearer session: balance, grant and ledger line", function()
    local c, a = t.client(), t.admin()
    local me = assert(c.wallets:me())
    local res = assert(a.wallets:grant(me.id, { amount_usd = 25, note = "Pilot credits" }))
    assert.equal(25, res.grant.amount_usd)
    local w = assert(c.wallets:get(me.id))
    assert.is_true(math.abs(w.balance_usd - (me.balance_usd + 25)) < 1e-6)
    assert.equal("grant", w.ledger[1].type)
    assert.equal("Pilot credits", w.ledger[1].note)
    local none, err = a.wallets:grant(me.id, { amount_usd = -5 })
    assert.is_nil(none)
    assert.equal(422, err.status)
    none, err = a.wallets:grant(UNKNOWN, { amount_usd = 5 })
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("sets and clears the monthly cap", function()
    local c, a = t.client(), t.admin()
    local me = assert(c.wallets:me())
    local res = assert(a.wallets:set_cap(me.id, { monthly_cap_usd = 100 }))
    assert.equal(100, res.wallet.monthly_cap_usd)
    assert.equal(100, assert(c.wallets:me()).monthly_cap_usd)
    res = assert(a.wallets:set_cap(me.id, { monthly_cap_usd = kupe.null }))
    assert.equal(kupe.null, res.wallet.monthly_cap_usd)
    assert.equal('{"monthly_cap_usd":null}', emu.stats().last_request.body)
  end)

  case("adjusts a balance, never below zero", function()
    local c, a = t.client(), t.admin()
    local me = assert(c.wallets:me())
    local res = assert(a.wallets:adjust(me.id, { amount_usd = -1.5, reason = "goodwill reversal" }))
    assert.equal("adjustment", res.entry.type)
    assert.is_true(math.abs(res.wallet.balance_usd - (me.balance_usd - 1.5)) < 1e-6)
    local none, err = a.wallets:adjust(me.id, { amount_usd = -1e6, reason = "too much" })
    assert.is_nil(none)
    assert.equal(400, err.status)
  end)

  case("changes an organisation's business model, commission and markup", function()
    local c, a = t.client(), t.admin()
    local org = assert(c.wallets:me()).org_id
    local none, err = a.wallets:set_commission(org, { commission_percent = 12 })
    assert.is_nil(none)
    assert.equal(400, err.status, "an internal organisation has no commission")
    local res = assert(a.wallets:set_business_model(org, "channel_partner"))
    assert.equal("channel_partner", res.organization.org_type)
    res = assert(a.wallets:set_business_model(org, { org_type = "distributor" }))
    assert.equal("distributor", res.organization.org_type)
    res = assert(a.wallets:set_commission(org, { commission_percent = 12 }))
    assert.equal(12, res.organization.commission_percent)
    res = assert(a.wallets:set_markup(org, { markup_percent = 20, currency = "INR" }))
    assert.equal(20, res.organization.markup_percent)
    assert.equal("INR", res.organization.currency)
    none, err = a.wallets:set_markup(org, { markup_percent = 20, currency = "rupees" })
    assert.is_nil(none)
    assert.equal(400, err.status)
    none, err = a.wallets:set_business_model(UNKNOWN, "internal")
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("raises for an undocumented org_type or a missing body before sending", function()
    local c = t.client()
    local org = assert(c.wallets:me()).org_id
    local before = t.requests()
    assert.has_error(function() c.wallets:set_business_model(org, "reseller") end,
      'bad argument #2 to \'set_business_model\' (org_type must be one of "internal", "channel_partner", '
        .. '"distributor", got "reseller")')
    assert.has_error(function() c.wallets:set_business_model(org, {}) end)
    local ok, msg = pcall(function() c.wallets:grant(org) end)
    assert.is_false(ok)
    assert.matches("wallets%.lua:%d+: bad argument #2 to 'grant' %(body table expected, got nil%)", msg)
    assert.has_error(function() c.wallets:get("") end,
      "bad argument #1 to 'get' (wallet_id must be a non-empty string, got an empty string)")
    assert.equal(before, t.requests())
    -- the API's own check, reached around the client's
    local a = t.admin()
    local none, err = a:request("POST", "/api/v1/orgs/" .. org .. "/business-model",
      { json = { org_type = "reseller" } })
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  return cases
end
