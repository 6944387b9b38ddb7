-- Wallets and organisation business settings (kupe-api.md 11.1).
--
-- Owns the store "accounts", the emulator's directory of organisations,
-- users and wallets, which routes/billing.lua, earnings.lua,
-- feature_flags.lua and api_keys.lua read:
--   orgs, org_by_id          three organisations: the account's own
--                            ("internal" until changed), a channel partner
--                            and a distributor
--   users, user_by_id        the account's user (org_admin of its org), two
--                            members of that org, three users elsewhere
--   wallets, wallet_by_id    one wallet per user and per organisation, each
--   wallet_by_user           with grants and an append-only ledger
--
-- Roles: the API gives the account's user the org_admin role of its own
-- organisation with either credential. A Bearer session (the dashboard
-- login) is also super_admin; an API key never is. Every POST needs a
-- Bearer session (403 with an API key), as the API says.
-- Bodies (not documented beyond hints; the emulator's reading):
--   grants   {amount_usd > 0, expires_at?, note?}
--   cap      {monthly_cap_usd >= 0 | null (clears)}
--   adjust   {amount_usd != 0, reason}   (the balance may not go below 0)
--   business-model {org_type: internal | channel_partner | distributor}
--   commission {commission_percent 0..100}      (reseller orgs only)
--   markup   {markup_percent 0..1000, currency?} (reseller orgs only)

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local rng = require "emu.rng"
local v = require "emu.validate"
local params = require "emu.params"
local num = require "emu.num"

local acc = state.store("accounts")

local SUMMARY_ORDER = json.order {
  "id", "owner_type", "user_id", "org_id", "org_name", "balance_usd", "currency",
  "monthly_cap_usd", "monthly_spent_usd", "cap_remaining_usd", "created_at", "metadata",
  "grants", "ledger", "upcoming_expiries",
}
local ORG_ORDER = json.order {
  "id", "name", "org_type", "commission_percent", "markup_percent", "currency", "wallet_id",
  "created_at", "updated_at",
}
local GRANT_ORDER = json.order {
  "id", "wallet_id", "amount_usd", "remaining_usd", "source", "note", "granted_at", "expires_at",
}
local ENTRY_ORDER = json.order {
  "id", "wallet_id", "type", "amount_usd", "balance_after_usd", "grant_id", "note", "created_at",
}

local DAY = 86400
local ORG_TYPES = { "internal", "channel_partner", "distributor" }
local RESELLER = { channel_partner = true, distributor = true }

------------------------------------------------------------------------
-- The seeded directory

state.on_reset(function(s)
  local r = rng.new(s.seed, "accounts", 0)
  local ago = function(days) return dataset.iso(dataset.ANCHOR - days * DAY) end
  acc.orgs, acc.org_by_id, acc.users, acc.user_by_id = {}, {}, {}, {}
  acc.wallets, acc.wallet_by_id, acc.wallet_by_user = {}, {}, {}

  local function entry(w, kind, amount, note, when, grant_id)
    w.balance_usd = num.round4(w.balance_usd + amount)
    local e = setmetatable({ id = r:uuid(), wallet_id = w.id, type = kind, amount_usd = amount,
      balance_after_usd = w.balance_usd, grant_id = grant_id or json.null,
      note = note or json.null, created_at = when }, ENTRY_ORDER)
    w.ledger[#w.ledger + 1] = e
    return e
  end
  local function wallet(owner_type, user, org, created)
    local w = { id = r:uuid(), owner_type = owner_type, user_id = user and user.id or json.null,
      org_id = org.id, balance_usd = 0, monthly_cap_usd = json.null, monthly_spent_usd = 0,
      created_at = created, grants = {}, ledger = {} }
    acc.wallets[#acc.wallets + 1] = w
    acc.wallet_by_id[w.id] = w
    if user then acc.wallet_by_user[user.id] = w else org.wallet_id = w.id end
    local amount = r:int(20, 200)
    local g = setmetatable({ id = r:uuid(), wallet_id = w.id, amount_usd = amount,
      remaining_usd = amount, source = "platform", note = "Welcome credits",
      granted_at = created, expires_at = ago(-30 - r:int(0, 300)) }, GRANT_ORDER)
    w.grants[1] = g
    entry(w, "grant", amount, "Welcome credits", created, g.id)
    local spent = r:int(100, 1500) / 100
    entry(w, "usage", -spent, "Call usage", ago(1))
    w.monthly_spent_usd = spent
    g.remaining_usd = num.round4(amount - spent)
    return w
  end
  local function org(name, org_type, commission, markup, currency, days)
    local o = setmetatable({ id = r:uuid(), name = name, org_type = org_type,
      commission_percent = commission, markup_percent = markup, currency = currency,
      created_at = ago(days), updated_at = ago(days) }, ORG_ORDER)
    acc.orgs[#acc.orgs + 1] = o
    acc.org_by_id[o.id] = o
    wallet("org", nil, o, ago(days))
    return o
  end
  local function user(id, name, o, role, days)
    local u = { id = id, full_name = name, org_id = o.id, role = role }
    acc.users[#acc.users + 1] = u
    acc.user_by_id[id] = u
    wallet("user", u, o, ago(days))
    return u
  end

  local own = org(state.user.user_metadata.company or "Acme Health & Retail", "internal", 0, 0,
    "USD", 400)
  local partner = org("Northwind Voice Partners", "channel_partner", 10, 20, "INR", 300)
  local distributor = org("Globex Distribution", "distributor", 15, 25, "USD", 200)
  user(state.user.user_id, state.user.full_name, own, "org_admin", 390)
  user(r:uuid(), "Ravi Kumar", own, "member", 120)
  user(r:uuid(), "Meera Iyer", own, "member", 60)
  user(r:uuid(), "Kenji Sato", partner, "org_admin", 280)
  user(r:uuid(), "Lena Fischer", partner, "member", 90)
  user(r:uuid(), "Omar Haddad", distributor, "org_admin", 150)
  acc.own_org_id = own.id
end)

------------------------------------------------------------------------
-- Views and access

local function is_super(ctx)
  return ctx.auth == "bearer"
end

local function summary(w, detail)
  local o = acc.org_by_id[w.org_id]
  local active, next_expiry = 0, nil
  for _, g in ipairs(w.grants) do
    if g.remaining_usd > 0 then
      active = active + 1
      if not next_expiry or g.expires_at < next_expiry then next_expiry = g.expires_at end
    end
  end
  local out = setmetatable({
    id = w.id, owner_type = w.owner_type, user_id = w.user_id, org_id = w.org_id,
    org_name = o and o.name or json.null, balance_usd = w.balance_usd, currency = "USD",
    monthly_cap_usd = w.monthly_cap_usd, monthly_spent_usd = w.monthly_spent_usd,
    cap_remaining_usd = w.monthly_cap_usd == json.null and json.null
      or num.round4(math.max(0, w.monthly_cap_usd - w.monthly_spent_usd)),
    created_at = w.created_at,
    metadata = { active_grants = active, next_expiry = next_expiry or json.null,
      ledger_entries = #w.ledger },
  }, SUMMARY_ORDER)
  if detail then
    out.grants = json.array()
    for i, g in ipairs(w.grants) do out.grants[i] = g end
    out.ledger = json.array()
    for i = #w.ledger, 1, -1 do out.ledger[#out.ledger + 1] = w.ledger[i] end
    out.upcoming_expiries = json.array()
    for _, g in ipairs(w.grants) do
      if g.remaining_usd > 0 then
        out.upcoming_expiries[#out.upcoming_expiries + 1] = { grant_id = g.id,
          expires_at = g.expires_at, remaining_usd = g.remaining_usd }
      end
    end
    table.sort(out.upcoming_expiries, function(a, b) return a.expires_at < b.expires_at end)
  end
  return out
end

local function find_wallet(ctx)
  local w = acc.wallet_by_id[params.uuid(ctx, "wallet_id")]
  if not w then v.fail(404, "Wallet not found") end
  return w
end

local function find_org(ctx)
  local o = acc.org_by_id[params.uuid(ctx, "org_id")]
  if not o then v.fail(404, "Organization not found") end
  return o
end

local function need_bearer(ctx)
  if ctx.auth ~= "bearer" then
    v.fail(403, "This action needs a Bearer session (dashboard login) with an admin role: "
      .. "API keys cannot change wallets or organization billing")
  end
end

local function wallet_list(pred)
  local list = json.array()
  for _, w in ipairs(acc.wallets) do
    if pred(w) then list[#list + 1] = summary(w) end
  end
  return list
end

------------------------------------------------------------------------

return function(router)
  router:add("GET", "/api/v1/wallets/me", function()
    return 200, summary(acc.wallet_by_user[state.user.user_id])
  end)

  router:add("GET", "/api/v1/wallets/users", function(ctx)
    if not is_super(ctx) then v.fail(403, "Only super admins can list user wallets") end
    local list = wallet_list(function(w) return w.owner_type == "user" end)
    return 200, { wallets = list, total = #list }
  end)

  router:add("GET", "/api/v1/wallets/orgs", function(ctx)
    if not is_super(ctx) then v.fail(403, "Only super admins can list organization wallets") end
    local list = wallet_list(function(w) return w.owner_type == "org" end)
    for _, s in ipairs(list) do s.org_type = acc.org_by_id[s.org_id].org_type end
    return 200, { wallets = list, total = #list }
  end)

  router:add("GET", "/api/v1/wallets/orgs/{org_id}/members", function(ctx)
    local o = find_org(ctx)
    if not is_super(ctx) and o.id ~= acc.own_org_id then
      v.fail(403, "Only the organization's admins can see its member wallets")
    end
    local list = wallet_list(function(w) return w.owner_type == "user" and w.org_id == o.id end)
    return 200, { org_id = o.id, org_name = o.name, wallets = list, total = #list }
  end)

  router:add("GET", "/api/v1/wallets/{wallet_id}", function(ctx)
    local w = find_wallet(ctx)
    if not is_super(ctx) and w.org_id ~= acc.own_org_id then
      v.fail(403, "You do not have access to this wallet")
    end
    return 200, summary(w, true)
  end)

  router:add("POST", "/api/v1/wallets/{wallet_id}/grants", function(ctx)
    need_bearer(ctx)
    local w = find_wallet(ctx)
    local body = v.body(ctx, { { "amount_usd", "number", required = true, gt = 0 },
      { "expires_at", "str" }, { "note", "str" } })
    local now = state.now_iso()
    local g = setmetatable({ id = state.new_uuid(), wallet_id = w.id,
      amount_usd = body.amount_usd, remaining_usd = body.amount_usd, source = "super_admin",
      note = body.note or json.null, granted_at = now,
      expires_at = body.expires_at or dataset.iso(ngx.time() + 365 * DAY) }, GRANT_ORDER)
    w.grants[#w.grants + 1] = g
    w.balance_usd = num.round4(w.balance_usd + body.amount_usd)
    w.ledger[#w.ledger + 1] = setmetatable({ id = state.new_uuid(), wallet_id = w.id,
      type = "grant", amount_usd = body.amount_usd, balance_after_usd = w.balance_usd,
      grant_id = g.id, note = body.note or json.null, created_at = now }, ENTRY_ORDER)
    return 200, { message = "Credits granted", grant = g, wallet = summary(w) }
  end)

  router:add("POST", "/api/v1/wallets/{wallet_id}/cap", function(ctx)
    need_bearer(ctx)
    local w = find_wallet(ctx)
    if type(ctx.json) == "table" and ctx.json.monthly_cap_usd == json.null then
      w.monthly_cap_usd = json.null
      return 200, { message = "Monthly cap cleared", wallet = summary(w) }
    end
    local body = v.body(ctx, { { "monthly_cap_usd", "number", required = true, ge = 0 } })
    w.monthly_cap_usd = body.monthly_cap_usd
    return 200, { message = "Monthly cap set", wallet = summary(w) }
  end)

  router:add("POST", "/api/v1/wallets/{wallet_id}/adjust", function(ctx)
    need_bearer(ctx)
    local w = find_wallet(ctx)
    local body = v.body(ctx, { { "amount_usd", "number", required = true },
      { "reason", "str", required = true } })
    if body.amount_usd == 0 then v.fail(400, "amount_usd must not be zero") end
    if w.balance_usd + body.amount_usd < 0 then
      v.fail(400, "The adjustment would make the balance negative")
    end
    w.balance_usd = num.round4(w.balance_usd + body.amount_usd)
    local e = setmetatable({ id = state.new_uuid(), wallet_id = w.id, type = "adjustment",
      amount_usd = body.amount_usd, balance_after_usd = w.balance_usd, grant_id = json.null,
      note = body.reason, created_at = state.now_iso() }, ENTRY_ORDER)
    w.ledger[#w.ledger + 1] = e
    return 200, { message = "Balance adjusted", entry = e, wallet = summary(w) }
  end)

  router:add("POST", "/api/v1/orgs/{org_id}/business-model", function(ctx)
    need_bearer(ctx)
    local o = find_org(ctx)
    local body = v.body(ctx, { { "org_type", "str", required = true, enum = ORG_TYPES } })
    o.org_type, o.updated_at = body.org_type, state.now_iso()
    return 200, { message = "Business model updated", organization = o }
  end)

  router:add("POST", "/api/v1/orgs/{org_id}/commission", function(ctx)
    need_bearer(ctx)
    local o = find_org(ctx)
    local body = v.body(ctx, { { "commission_percent", "number", required = true, ge = 0,
      le = 100 } })
    if not RESELLER[o.org_type] then
      v.fail(400, "Commission applies to channel_partner and distributor organizations")
    end
    o.commission_percent, o.updated_at = body.commission_percent, state.now_iso()
    return 200, { message = "Commission updated", organization = o }
  end)

  router:add("POST", "/api/v1/orgs/{org_id}/markup", function(ctx)
    need_bearer(ctx)
    local o = find_org(ctx)
    local body = v.body(ctx, { { "markup_percent", "number", required = true, ge = 0, le = 1000 },
      { "currency", "str" } })
    if body.currency ~= nil and not tostring(body.currency):match("^%u%u%u$") then
      v.fail(400, "currency must be a three-letter ISO 4217 code such as USD or INR")
    end
    if not RESELLER[o.org_type] then
      v.fail(400, "Markup applies to channel_partner and distributor organizations")
    end
    o.markup_percent, o.updated_at = body.markup_percent, state.now_iso()
    if body.currency then o.currency = body.currency end
    return 200, { message = "Markup updated", organization = o }
  end)
end
