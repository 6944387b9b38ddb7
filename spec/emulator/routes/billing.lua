-- Billing and usage (kupe-api.md section 10). Every route is a GET; the
-- auth layer already refuses other methods under /api/v1/billing with an
-- API key (403).
--
-- Usage comes from the call sessions of the data set (and those created
-- by create_call): one row per session with its cost split into services.
-- Periods (time_filter, time_period) count back from the data set's
-- anchor, 2026-06-30T18:00:00Z, so answers stay a function of the seed.
-- The balance comes from the caller's wallet (routes/wallets.lua, store
-- "accounts"). Export answers a JSON acknowledgement, or 400 when the
-- account has no email (reset with email = null).

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local v = require "emu.validate"
local params = require "emu.params"
local dates = require "emu.dates"
local num = require "emu.num"
local paging = require "emu.paging"

local db = state.store("billing")
local acc = state.store("accounts")

local ROW_ORDER = json.order {
  "call_session_id", "request_id", "agent_id", "agent_name", "call_type", "usage_type",
  "status", "started_at", "duration_seconds", "cost_usd", "credits_used", "services",
}
local SERVICE_ORDER = json.order { "service", "provider", "units", "unit", "cost_usd" }
local BUCKET_ORDER = json.order { "start", "end", "calls", "duration_seconds", "cost_usd" }

local DAY = 86400
local SPANS = { day = DAY, week = 7 * DAY, month = 30 * DAY, ["4months"] = 120 * DAY,
  year = 365 * DAY }
local PERIODS = { "day", "week", "month", "4months", "year", "all" }
local USAGE_TYPES = { "calls", "chat", "embedding" }

------------------------------------------------------------------------
-- Usage rows, one per session, cached until the number of sessions changes

local SPLIT = { { "telephony", 0.4, "minutes" }, { "llm", 0.3, "tokens" },
  { "tts", 0.2, "characters" }, { "stt", 0.1, "minutes" } }

local function usage_row(s)
  local cost = tonumber(s.cost_usd) or 0
  local duration = tonumber(s.duration_seconds) or 0
  local services, left = json.array(), cost
  for i, part in ipairs(SPLIT) do
    local c = i == #SPLIT and num.round4(left) or num.round4(cost * part[2])
    left = left - c
    local units = part[3] == "minutes" and num.round4(duration / 60)
      or part[3] == "tokens" and math.floor(duration * 42) or math.floor(duration * 15)
    services[i] = setmetatable({ service = part[1],
      provider = part[1] == "telephony" and (s.telephony_provider or "pstn") or "kupe",
      units = units, unit = part[3], cost_usd = c }, SERVICE_ORDER)
  end
  return setmetatable({
    call_session_id = s.call_session_id, request_id = s.request_id, agent_id = s.agent_id,
    agent_name = s.agent_name, call_type = s.call_type, usage_type = "calls",
    status = s.status, started_at = s.started_at, duration_seconds = duration,
    cost_usd = cost, credits_used = cost, services = services,
  }, ROW_ORDER)
end

local function rows()
  local total = state.session_total()
  if db.rows and db.count == total then return db.rows end
  local list = {}
  for pos = 1, total do
    local s = state.session_at(pos)
    local row = usage_row(s)
    list[pos] = { row = row, t = dates.epoch(s.started_at) or dataset.ANCHOR }
  end
  db.rows, db.count = list, total
  return list
end

local function in_period(entry, period)
  local span = SPANS[period]
  return not span or entry.t > dataset.ANCHOR - span
end

local function check_time_filter(name, value)
  if not SPANS[value] and value ~= "all" then
    v.fail(400, ("Invalid %s '%s': use one of %s"):format(name, value,
      table.concat(PERIODS, ", ")))
  end
end

local function totals(list)
  local calls, duration, cost = 0, 0, 0
  for _, e in ipairs(list) do
    calls = calls + 1
    duration = duration + e.row.duration_seconds
    cost = cost + e.row.cost_usd
  end
  return calls, num.round4(duration), num.round4(cost)
end

------------------------------------------------------------------------
-- Routes

local function usage_records()
  local out, list = json.array(), rows()
  for i, e in ipairs(list) do out[i] = e.row end
  local calls, duration, cost = totals(list)
  return 200, { sessions = out, total_sessions = calls, total_duration_seconds = duration,
    total_cost_usd = cost, total_credits_used = cost, currency = "USD" }
end

local function records(ctx)
  local q = v.query(ctx, {
    { "time_filter", "str", default = "all" }, { "usage_type", "str", enum = USAGE_TYPES },
    { "search", "str" }, { "limit", "int", ge = 0, default = 50 },
    { "offset", "int", ge = 0, default = 0 }, { "page", "int", ge = 0 },
    { "page_size", "int", ge = 0 }, { "scope", "str" }, { "organization_ids", "str" },
    { "owner_user_ids", "str" },
  })
  check_time_filter("time_filter", q.time_filter)
  local limit, offset = q.limit, q.offset
  local paged = q.page ~= nil or q.page_size ~= nil
  if paged then
    limit = q.page_size or 50
    offset = (math.max(q.page or 1, 1) - 1) * limit
  end
  local search = q.search and q.search:lower()
  local matching = {}
  for _, e in ipairs(rows()) do
    local row = e.row
    if in_period(e, q.time_filter) and (q.usage_type == nil or q.usage_type == row.usage_type)
        and (not search or (tostring(row.agent_name):lower():find(search, 1, true)
          or row.request_id:find(search, 1, true) or row.call_session_id:find(search, 1, true))) then
      matching[#matching + 1] = e
    end
  end
  local page = paging.slice(matching, offset + 1, limit, function(e) return e.row end)
  local calls, duration, cost = totals(matching)
  local answer = { grouped_sessions = page, total = calls, total_duration_seconds = duration,
    total_cost_usd = cost, time_filter = q.time_filter, currency = "USD" }
  if paged then
    answer.page, answer.page_size = math.max(q.page or 1, 1), limit
  else
    answer.limit, answer.offset = limit, offset
  end
  return 200, answer
end

local function summary(ctx)
  local q = v.query(ctx, { { "time_period", "str", default = "all", enum = PERIODS },
    { "scope", "str" } })
  local list = rows()
  local span = SPANS[q.time_period]
  local from = span and (dataset.ANCHOR - span)
  if not from then
    from = dataset.ANCHOR
    for _, e in ipairs(list) do if e.t < from then from = e.t end end
  end
  local size = (q.time_period == "day" and 3600) or ((q.time_period == "week"
    or q.time_period == "month") and DAY) or (q.time_period == "4months" and 7 * DAY) or 30 * DAY
  local n = math.max(1, math.ceil((dataset.ANCHOR - from) / size))
  local buckets = json.array()
  for i = 1, n do
    local a = dataset.ANCHOR - (n - i + 1) * size
    buckets[i] = setmetatable({ start = dataset.iso(a), ["end"] = dataset.iso(a + size),
      calls = 0, duration_seconds = 0, cost_usd = 0 }, BUCKET_ORDER)
  end
  local chosen = {}
  for _, e in ipairs(list) do
    if e.t > dataset.ANCHOR - n * size then
      chosen[#chosen + 1] = e
      local i = math.min(n, math.floor((e.t - (dataset.ANCHOR - n * size)) / size) + 1)
      local b = buckets[i]
      b.calls = b.calls + 1
      b.duration_seconds = num.round4(b.duration_seconds + e.row.duration_seconds)
      b.cost_usd = num.round4(b.cost_usd + e.row.cost_usd)
    end
  end
  local calls, duration, cost = totals(chosen)
  return 200, { time_period = q.time_period, currency = "USD", buckets = buckets,
    totals = { calls = calls, duration_seconds = duration, cost_usd = cost } }
end

local function overview(ctx)
  local q = v.query(ctx, { { "user_id", "uuid" } })
  local me = state.user.user_id
  local target = q.user_id or me
  local list = {}
  if target ~= me then
    local u = acc.user_by_id and acc.user_by_id[target]
    local mine = acc.user_by_id and acc.user_by_id[me]
    if not u or ((not mine or u.org_id ~= mine.org_id) and ctx.auth ~= "bearer") then
      v.fail(403, "You do not have access to this user's usage")
    end
  else
    list = rows()
  end
  local month_start = dates.days_from_civil(2026, 6, 1) * DAY
  local this_month = {}
  for _, e in ipairs(list) do
    if e.t >= month_start then this_month[#this_month + 1] = e end
  end
  local calls, duration, cost = totals(list)
  local mcalls, mduration, mcost = totals(this_month)
  return 200, {
    user_id = target, currency = "USD", total_calls = calls, total_duration_seconds = duration,
    total_cost_usd = cost, month = "2026-06", this_month_calls = mcalls,
    this_month_duration_seconds = mduration, this_month_cost_usd = mcost,
  }
end

local function credit_balance()
  local w = acc.wallet_by_user and acc.wallet_by_user[state.user.user_id]
  if not w then v.fail(404, "Wallet not found") end
  local answer = {
    wallet_id = w.id, currency = "USD", credit_balance_usd = w.balance_usd,
    available_balance_usd = w.balance_usd, monthly_spent_usd = w.monthly_spent_usd,
  }
  if w.monthly_cap_usd ~= json.null then
    answer.monthly_cap_usd = w.monthly_cap_usd
    answer.cap_remaining_usd = num.round4(math.max(0, w.monthly_cap_usd - w.monthly_spent_usd))
    answer.available_balance_usd = math.min(w.balance_usd, answer.cap_remaining_usd)
  end
  return 200, answer
end

local function find_session(id)
  if not db.by_session then
    local index, nc = {}, state.session_total() - state.settings.sessions
    for pos = 1, nc do
      local s = state.session_at(pos)
      index[s.call_session_id] = pos
    end
    local seed = state.settings.seed
    for i = 0, state.settings.sessions - 1 do
      local _, _, r = dataset.session_light(seed, i)
      index[r:uuid()] = nc + i + 1
    end
    db.by_session, db.index_count = index, state.session_total()
  end
  if db.index_count ~= state.session_total() then
    db.by_session = nil
    return find_session(id)
  end
  return db.by_session[id] or state.find_session(id)
end

local function session(ctx)
  local pos = find_session(params.uuid(ctx, "session_id"))
  if not pos then v.fail(404, "Session not found") end
  local row = usage_row(state.session_at(pos))
  row.currency = "USD"
  return 200, row
end

local function export(ctx)
  local q = v.query(ctx, {
    { "time_filter", "str", default = "all" }, { "usage_type", "str", enum = USAGE_TYPES },
    { "session_types", "str" }, { "agent_ids", "str" }, { "from_date", "date" },
    { "to_date", "date" },
  })
  check_time_filter("time_filter", q.time_filter)
  if q.from_date and q.to_date and q.from_date > q.to_date then
    v.fail(400, "from_date must not be after to_date")
  end
  for id in (q.agent_ids or ""):gmatch("[^,]+") do
    if not v.is_uuid(id) then v.fail(400, "agent_ids must be a comma-separated list of UUIDs") end
  end
  local email = state.settings.email
  if email == json.null or email == nil or email == "" then
    v.fail(400, "No email address on the account: add one to receive usage exports")
  end
  return 200, { success = true, status = "queued", export_id = state.new_uuid(), email = email,
    message = "Usage export queued: the CSV will be emailed to " .. email,
    filters = { time_filter = q.time_filter, usage_type = q.usage_type or json.null,
      from_date = q.from_date or json.null, to_date = q.to_date or json.null } }
end

return function(router)
  router:add("GET", "/api/v1/billing/usage-records", usage_records)
  router:add("GET", "/api/v1/billing/usage/records", records)
  router:add("GET", "/api/v1/billing/usage/summary", summary)
  router:add("GET", "/api/v1/billing/usage/overview", overview)
  router:add("GET", "/api/v1/billing/credit-balance", credit_balance)
  router:add("GET", "/api/v1/billing/usage/sessions/{session_id}", session)
  router:add("GET", "/api/v1/billing/usage/export", export)
end
