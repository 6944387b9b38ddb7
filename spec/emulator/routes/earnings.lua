-- Earnings of reseller organisations (kupe-api.md 11.2), read from the
-- directory in store "accounts" (routes/wallets.lua).
--
-- /earnings/me and /me/breakdown: the caller is org_admin of the
-- account's organisation, which is "internal" after a reset, so they
-- answer 403 until a Bearer session sets its business model to
-- channel_partner or distributor. /earnings/orgs/{org_id}: super_admin
-- only (a Bearer session). `period` = day | week | month (default) | year
-- | all, counted back from the data set's anchor (2026-06-30T18:00:00Z).
-- Usage of the account's organisation is the cost of its call sessions;
-- other organisations have a seeded daily usage. Earnings are usage times
-- markup_percent and commission_percent.

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local rng = require "emu.rng"
local v = require "emu.validate"
local dates = require "emu.dates"
local num = require "emu.num"
local params = require "emu.params"

local acc = state.store("accounts")
local db = state.store("earnings")

local SUMMARY_ORDER = json.order {
  "org_id", "org_name", "org_type", "period", "from", "to", "currency", "usage_cost_usd",
  "markup_percent", "commission_percent", "markup_earnings_usd", "commission_earnings_usd",
  "total_earnings_usd", "sessions",
}
local BUCKET_ORDER = json.order {
  "start", "end", "usage_cost_usd", "markup_earnings_usd", "commission_earnings_usd",
  "total_earnings_usd",
}

local DAY = 86400
local PERIODS = { "day", "week", "month", "year", "all" }
local SPANS = { day = DAY, week = 7 * DAY, month = 30 * DAY, year = 365 * DAY }
local BUCKET = { day = 3600, week = DAY, month = DAY, year = 30 * DAY, all = 30 * DAY }
local RESELLER = { channel_partner = true, distributor = true }

-- {t, cost} of every session with a cost, cached until sessions change.
local function costs()
  local total = state.session_total()
  if db.costs and db.count == total then return db.costs end
  local list = {}
  for pos = 1, total do
    local s = state.session_at(pos)
    local c = tonumber(s.cost_usd) or 0
    if c > 0 then list[#list + 1] = { t = dates.epoch(s.started_at) or dataset.ANCHOR, cost = c } end
  end
  db.costs, db.count = list, total
  return list
end

-- Usage cost of an organisation between two instants, and sessions counted.
local function usage(org, from, to)
  if org.id == acc.own_org_id then
    local sum, n = 0, 0
    for _, e in ipairs(costs()) do
      if e.t > from and e.t <= to then sum, n = sum + e.cost, n + 1 end
    end
    return sum, n
  end
  local r = rng.new(state.settings.seed, "earnings:" .. org.id, 0)
  local daily = r:int(500, 5000) / 100
  return daily * (to - from) / DAY, math.floor((to - from) / DAY * r:int(5, 40))
end

local function window(period)
  local to = dataset.ANCHOR
  local from = SPANS[period] and (to - SPANS[period]) or (to - 365 * DAY)
  return from, to
end

local function earnings_of(org, cost)
  local markup = num.round4(cost * (org.markup_percent or 0) / 100)
  local commission = num.round4(cost * (org.commission_percent or 0) / 100)
  return markup, commission, num.round4(markup + commission)
end

local function summary(org, period)
  local from, to = window(period)
  local cost, n = usage(org, from, to)
  local markup, commission, total = earnings_of(org, cost)
  return setmetatable({
    org_id = org.id, org_name = org.name, org_type = org.org_type, period = period,
    from = dataset.iso(from), to = dataset.iso(to), currency = "USD",
    usage_cost_usd = num.round4(cost), markup_percent = org.markup_percent,
    commission_percent = org.commission_percent, markup_earnings_usd = markup,
    commission_earnings_usd = commission, total_earnings_usd = total, sessions = n,
  }, SUMMARY_ORDER)
end

local function breakdown(org, period)
  local from, to = window(period)
  local size = BUCKET[period]
  local buckets = json.array()
  for a = from, to - 1, size do
    local b = math.min(a + size, to)
    local cost = usage(org, a, b)
    local markup, commission, total = earnings_of(org, cost)
    buckets[#buckets + 1] = setmetatable({ start = dataset.iso(a), ["end"] = dataset.iso(b),
      usage_cost_usd = num.round4(cost), markup_earnings_usd = markup,
      commission_earnings_usd = commission, total_earnings_usd = total }, BUCKET_ORDER)
  end
  return { org_id = org.id, period = period, currency = "USD", bucket_seconds = size,
    buckets = buckets }
end

local function period_of(ctx)
  return v.query(ctx, { { "period", "str", default = "month", enum = PERIODS } }).period
end

local function my_reseller_org()
  local org = acc.org_by_id[acc.own_org_id]
  if not RESELLER[org.org_type] then
    v.fail(403, "Earnings are available to org admins of channel_partner or distributor "
      .. "organizations")
  end
  return org
end

return function(router)
  router:add("GET", "/api/v1/earnings/me", function(ctx)
    local period = period_of(ctx)
    return 200, summary(my_reseller_org(), period)
  end)

  router:add("GET", "/api/v1/earnings/me/breakdown", function(ctx)
    local period = period_of(ctx)
    return 200, breakdown(my_reseller_org(), period)
  end)

  router:add("GET", "/api/v1/earnings/orgs/{org_id}", function(ctx)
    local id = params.uuid(ctx, "org_id")
    local period = period_of(ctx)
    if ctx.auth ~= "bearer" then v.fail(403, "Only super admins can read any organization's earnings") end
    local org = acc.org_by_id[id]
    if not org then v.fail(404, "Organization not found") end
    return 200, summary(org, period)
  end)
end
