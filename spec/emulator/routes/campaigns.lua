-- Campaigns (kupe-api.md 7.4; the "Campaigns" tag of the Campaigns &
-- Contacts spec): outbound calling campaigns, their members (copied from
-- people groups), the launch state machine, logs, analytics and export.
--
-- Campaigns live in the route-owned store "campaigns" (not shared with the
-- /api/v1/batch-call routes):
--   by_id  id -> campaign record {c = the CampaignResponse, members, logs}
--   order  list of ids, oldest first
--
-- State machine (status):
--   not_started --start--> in_progress --pause--> paused --resume--> in_progress
--   in_progress --(every member done)--> completed
--   not_started | in_progress | paused --stop--> stopped (final)
-- start needs members, an existing agent (or a workflow) and an active
-- caller line, else 400 with the blockers; start while running is 409
-- (calls in flight); other wrong transitions are 400.
--
-- Dialing is driven by polling, so it is deterministic: start and resume
-- dial the first wave (batch_size members -> "calling"); every
-- GET /api/v1/campaigns/{id} of a running campaign then finishes the calls
-- in flight (completed, no_answer or failed, drawn from the seed and the
-- member's number) and dials the next wave; a paused or stopped campaign
-- only finishes its calls in flight. When no member is left to dial or in
-- flight, the campaign is completed. Every finished call adds a log entry
-- (oldest first).

local json = require "emu.json"
local state = require "emu.state"
local respond = require "emu.respond"
local rng = require "emu.rng"
local zip = require "emu.zip"
local v = require "emu.validate"
local params = require "emu.params"
local dataset = require "emu.dataset"
local dates = require "emu.dates"
local paging = require "emu.paging"

local CAMPAIGN_ORDER = json.order {
  "id", "user_id", "agent_id", "workflow_id", "call_flow_id", "caller_phone_id", "batch_name",
  "description", "status", "variable_names", "batch_size", "created_at", "updated_at",
}
local MEMBER_ORDER = json.order {
  "id", "campaign_id", "to_phonenumber", "variable_values", "dial_status", "error_message",
  "created_at", "updated_at",
}
local LOG_ORDER = json.order {
  "id", "campaign_id", "member_id", "to_phonenumber", "status", "request_id",
  "call_session_id", "duration_seconds", "started_at", "ended_at", "error_message",
  "variable_values",
}
local READY_ORDER = json.order {
  "can_start", "member_count", "has_agent_or_workflow", "has_caller_phone", "status", "blockers",
}
local ADD_ORDER = json.order {
  "inserted_count", "skipped_count", "skipped_no_phone", "skipped_duplicate", "skipped_filtered",
  "group_id", "group_name", "message",
}
local START_ORDER = json.order { "success", "message", "status", "member_count", "data" }
local MSG_ORDER = json.order { "success", "message", "data" }

local store = state.store("campaigns")

local DIAL_STATUSES = { "not_started", "calling", "completed", "failed", "no_answer" }

------------------------------------------------------------------------
-- Helpers

local function find(ctx)
  local id = params.uuid(ctx, "campaign_id", params.detail)
  local rec = store.by_id[id]
  if not rec then v.fail(404, "Campaign not found") end
  return rec
end

local function nullable(x)
  if x == nil then return json.null end
  return x
end

-- A dialable number: "+" and 7 to 15 digits once spaces, dashes, dots
-- and brackets are dropped.
local function normalise(number)
  local s = tostring(number):gsub("[%s%-%(%)%.]", "")
  if not s:match("^%+?%d+$") then return nil end
  local digits = #s:gsub("^%+", "")
  if digits < 7 or digits > 15 then return nil end
  return s
end

-- A date-time query parameter as FastAPI checks it (422), as Unix time.
local function datetime_query(ctx, names)
  local out, problems = {}, {}
  for _, name in ipairs(names) do
    local raw = ctx.query[name]
    if type(raw) == "table" then raw = raw[#raw] end
    if raw ~= nil then
      local t = dates.parse(raw)
      if not t then
        problems[#problems + 1] = v.problem("datetime_from_date_parsing", { "query", name },
          "Input should be a valid datetime or date, invalid date format", raw)
      end
      out[name] = t
    end
  end
  if #problems > 0 then v.fail_422(problems) end
  return out
end

-- A plain string date filter (the dashboard's): 400 when it does not parse.
local function date_filter(ctx, names)
  local q = v.query(ctx, (function()
    local specs = {}
    for i, n in ipairs(names) do specs[i] = { n, "str" } end
    return specs
  end)())
  local out = {}
  for _, name in ipairs(names) do
    if q[name] ~= nil then
      local t = dates.parse(q[name])
      if not t then
        v.fail(400, ("Invalid %s '%s': use YYYY-MM-DD or an ISO 8601 date-time"):format(name, q[name]))
      end
      out[name] = t
    end
  end
  return out
end

------------------------------------------------------------------------
-- Dialing

local OUTCOMES = { { 70, "completed" }, { 20, "no_answer" }, { 10, "failed" } }
local FAILURES = { "Carrier rejected the call", "Number unreachable", "Call dropped" }

local function touch(rec)
  rec.c.updated_at = state.now_iso()
end

local function counts(rec)
  local n = {}
  for _, s in ipairs(DIAL_STATUSES) do n[s] = 0 end
  for _, m in ipairs(rec.members) do n[m.dial_status] = n[m.dial_status] + 1 end
  return n
end

-- A call in flight ends: the outcome comes from the seed and the number.
local function finish(rec, m)
  store.call_seq = store.call_seq + 1
  local r = rng.new(state.settings.seed, "campaign-call", store.call_seq)
  local outcome = r:weighted(OUTCOMES)
  local duration = outcome == "completed" and r:int(20, 420) or 0
  local ended = ngx.time()
  m.dial_status = outcome
  m.error_message = outcome == "failed" and r:pick(FAILURES) or json.null
  m.updated_at = dataset.iso(ended)
  local entry = setmetatable({
    id = state.new_uuid(), campaign_id = rec.c.id, member_id = m.id,
    to_phonenumber = m.to_phonenumber, status = outcome, request_id = r:uuid(),
    call_session_id = r:uuid(), duration_seconds = duration,
    started_at = dataset.iso(ended - duration), ended_at = dataset.iso(ended),
    error_message = m.error_message, variable_values = m.variable_values,
  }, LOG_ORDER)
  rec.logs[#rec.logs + 1] = entry
  store.ended[entry] = ended
end

local function dial_wave(rec)
  local room = rec.c.batch_size
  for _, m in ipairs(rec.members) do
    if m.dial_status == "calling" then room = room - 1 end
  end
  for _, m in ipairs(rec.members) do
    if room <= 0 then break end
    if m.dial_status == "not_started" then
      m.dial_status, m.updated_at = "calling", state.now_iso()
      room = room - 1
    end
  end
end

-- One poll of a campaign: finish the calls in flight, dial the next wave.
local function tick(rec)
  local busy = false
  for _, m in ipairs(rec.members) do
    if m.dial_status == "calling" then finish(rec, m) busy = true end
  end
  if rec.c.status == "in_progress" then
    dial_wave(rec)
    local n = counts(rec)
    if n.not_started == 0 and n.calling == 0 then
      rec.c.status = "completed"
      busy = true
    end
  end
  if busy then touch(rec) end
end

------------------------------------------------------------------------
-- Readiness

local function readiness(rec)
  local c = rec.c
  local blockers = json.array()
  local n = counts(rec)
  local has_agent = state.agents_by_id[c.agent_id] ~= nil or c.workflow_id ~= json.null
  local phone_ok = false
  for _, p in ipairs(state.phones) do
    if p.id == c.caller_phone_id and p.is_active then phone_ok = true end
  end
  if c.status == "in_progress" then
    blockers[#blockers + 1] = "Campaign is already running"
  elseif c.status == "paused" then
    blockers[#blockers + 1] = "Campaign is paused: resume it instead of starting it"
  elseif c.status == "stopped" then
    blockers[#blockers + 1] = "Campaign was stopped: a stopped campaign cannot be started again"
  elseif c.status == "completed" then
    blockers[#blockers + 1] = "Campaign is completed"
  end
  if #rec.members == 0 then
    blockers[#blockers + 1] = "Campaign has no members: add a people group with phone numbers"
  elseif n.not_started == 0 and c.status == "not_started" then
    blockers[#blockers + 1] = "Campaign has no members left to call"
  end
  if not has_agent then
    blockers[#blockers + 1] = ("Agent %s does not exist: set agent_id to one of your agents")
      :format(tostring(c.agent_id))
  end
  if not phone_ok then
    blockers[#blockers + 1] = ("Caller phone %s is not an active phone number of this account")
      :format(tostring(c.caller_phone_id))
  end
  return setmetatable({
    can_start = #blockers == 0, member_count = #rec.members, has_agent_or_workflow = has_agent,
    has_caller_phone = phone_ok, status = c.status, blockers = blockers,
  }, READY_ORDER)
end

------------------------------------------------------------------------
-- CRUD

local FIELDS = {
  { "agent_id", "uuid" }, { "workflow_id", "uuid" }, { "call_flow_id", "uuid" },
  { "caller_phone_id", "uuid" }, { "batch_name", "str" }, { "description", "str" },
  { "status", "str" }, { "variable_names", "array" }, { "batch_size", "int", ge = 1 },
}
local NULLABLE = { workflow_id = true, call_flow_id = true, description = true, batch_size = true }
local REQUIRED = { agent_id = true, caller_phone_id = true, batch_name = true, variable_names = true }

local function specs(create)
  local out = {}
  for i, f in ipairs(FIELDS) do
    out[i] = { f[1], f[2], ge = f.ge, required = create and REQUIRED[f[1]] or nil }
  end
  return out
end
local CREATE_SPECS, UPDATE_SPECS = specs(true), specs(false)

-- What pydantic adds to the field checks: string items, no null for
-- non-nullable fields, a non-blank name.
local function check_body(body)
  local problems = {}
  if json.is_array(body.variable_names) then
    for i, name in ipairs(body.variable_names) do
      if type(name) ~= "string" then
        problems[#problems + 1] = v.problem("string_type", { "body", "variable_names", i - 1 },
          "Input should be a valid string", name)
      end
    end
  end
  for _, f in ipairs(FIELDS) do
    if body[f[1]] == json.null and not NULLABLE[f[1]] then
      problems[#problems + 1] = v.problem(f[2] == "array" and "list_type" or "string_type",
        { "body", f[1] }, f[2] == "array" and "Input should be a valid list"
          or "Input should be a valid string", json.null)
    end
  end
  if #problems > 0 then v.fail_422(problems) end
  if body.batch_name ~= nil and not body.batch_name:match("%S") then
    v.fail(400, "Campaign name (batch_name) must not be empty")
  end
end

local function list(ctx)
  local q = v.query(ctx, { { "page", "int", ge = 1, default = 1 },
    { "page_size", "int", ge = 1, le = 100, default = 10 } })
  local d = datetime_query(ctx, { "start_date", "end_date" })
  local picked = {}
  for i = #store.order, 1, -1 do                  -- newest first
    local rec = store.by_id[store.order[i]]
    if (not d.start_date or rec.created >= d.start_date)
        and (not d.end_date or rec.created <= d.end_date) then
      picked[#picked + 1] = rec.c
    end
  end
  return 200, { campaigns = paging.slice(picked, (q.page - 1) * q.page_size + 1, q.page_size),
    total = #picked }
end

local function create(ctx)
  local body = v.body(ctx, CREATE_SPECS)
  check_body(body)
  local now = ngx.time()
  local c = setmetatable({
    id = state.new_uuid(), user_id = state.user.user_id, agent_id = body.agent_id,
    workflow_id = nullable(body.workflow_id), call_flow_id = nullable(body.call_flow_id),
    caller_phone_id = body.caller_phone_id, batch_name = body.batch_name,
    description = nullable(body.description), status = body.status or "not_started",
    variable_names = body.variable_names,
    batch_size = (body.batch_size == nil or body.batch_size == json.null) and 1 or body.batch_size,
    created_at = dataset.iso(now), updated_at = dataset.iso(now),
  }, CAMPAIGN_ORDER)
  store.by_id[c.id] = { c = c, members = {}, logs = {}, created = now }
  store.order[#store.order + 1] = c.id
  return 200, { campaign = c }
end

local function get(ctx)
  local rec = find(ctx)
  tick(rec)
  return 200, { campaign = rec.c }
end

local function update(ctx)
  local rec = find(ctx)
  local body = v.body(ctx, UPDATE_SPECS)
  check_body(body)
  for _, f in ipairs(FIELDS) do
    local x = body[f[1]]
    if x ~= nil then
      if f[1] == "batch_size" and x == json.null then x = 1 end
      rec.c[f[1]] = x
    end
  end
  touch(rec)
  return 200, { campaign = rec.c }
end

local function delete(ctx)
  local rec = find(ctx)
  store.by_id[rec.c.id] = nil
  for i, id in ipairs(store.order) do
    if id == rec.c.id then table.remove(store.order, i) break end
  end
  return 200, { ok = "true" }
end

------------------------------------------------------------------------
-- Control

local function start(ctx)
  local rec = find(ctx)
  if rec.c.status == "in_progress" then
    v.fail(409, "Campaign is already running: its calls are in flight")
  end
  local r = readiness(rec)
  if not r.can_start then
    v.fail(400, "Campaign cannot start: " .. table.concat(r.blockers, "; "))
  end
  rec.c.status = "in_progress"
  dial_wave(rec)
  touch(rec)
  return 200, setmetatable({ success = true, message = "Campaign started. Dialing will begin shortly.",
    status = rec.c.status, member_count = #rec.members, data = rec.c }, START_ORDER)
end

local function transition(verb)
  return function(ctx)
    local rec = find(ctx)
    local s = rec.c.status
    if verb == "pause" then
      if s ~= "in_progress" then
        v.fail(400, ("Only a running campaign can be paused (this one is %s)"):format(s))
      end
      rec.c.status = "paused"
    elseif verb == "resume" then
      if s ~= "paused" then
        v.fail(400, ("Only a paused campaign can be resumed (this one is %s)"):format(s))
      end
      rec.c.status = "in_progress"
      dial_wave(rec)
    else
      if s == "stopped" or s == "completed" then
        v.fail(400, ("Campaign is already %s"):format(s))
      end
      rec.c.status = "stopped"
    end
    touch(rec)
    local past = { pause = "paused", resume = "resumed", stop = "stopped" }
    return 200, setmetatable({ success = true, message = "Campaign " .. past[verb],
      data = rec.c }, MSG_ORDER)
  end
end

------------------------------------------------------------------------
-- Members

local function add_from(rec, group_ids, single)
  local contacts = state.store("people_groups").contacts
  local sources = {}
  for _, gid in ipairs(group_ids) do
    local g, rows = contacts(gid)
    if not g then v.fail(404, ("People group %s not found"):format(gid)) end
    sources[#sources + 1] = { g = g, rows = rows }
  end
  local have = {}
  for _, m in ipairs(rec.members) do have[m.to_phonenumber] = true end
  local n = { inserted = 0, no_phone = 0, duplicate = 0, filtered = 0 }
  local now = state.now_iso()
  for _, src in ipairs(sources) do
    for _, row in ipairs(src.rows) do
      local number = row.phone and normalise(row.phone)
      if not row.phone then
        n.no_phone = n.no_phone + 1
      elseif not number then
        n.filtered = n.filtered + 1
      elseif have[number] then
        n.duplicate = n.duplicate + 1
      else
        have[number] = true
        rec.members[#rec.members + 1] = setmetatable({
          id = state.new_uuid(), campaign_id = rec.c.id, to_phonenumber = number,
          variable_values = row.values, dial_status = "not_started", error_message = json.null,
          created_at = now, updated_at = now,
        }, MEMBER_ORDER)
        n.inserted = n.inserted + 1
      end
    end
  end
  local skipped = n.no_phone + n.duplicate + n.filtered
  local g = single and sources[1].g
  touch(rec)
  return 200, setmetatable({
    inserted_count = n.inserted, skipped_count = skipped, skipped_no_phone = n.no_phone,
    skipped_duplicate = n.duplicate, skipped_filtered = n.filtered,
    group_id = g and g.id or json.null, group_name = g and g.name or json.null,
    message = ("Added %d member(s) from %d group(s); skipped %d"):format(n.inserted, #sources,
      skipped),
  }, ADD_ORDER)
end

local function add_group(ctx)
  local rec = find(ctx)
  local body = v.body(ctx, { { "group_id", "uuid", required = true } })
  return add_from(rec, { body.group_id }, true)
end

local function add_groups(ctx)
  local rec = find(ctx)
  local body = v.body(ctx, { { "group_ids", "array", required = true } })
  local problems, ids = {}, {}
  for i, id in ipairs(body.group_ids) do
    if not v.is_uuid(id) then
      problems[#problems + 1] = v.problem("uuid_parsing", { "body", "group_ids", i - 1 },
        "Input should be a valid UUID", id)
    else
      ids[#ids + 1] = id:lower()
    end
  end
  if #problems > 0 then v.fail_422(problems) end
  return add_from(rec, ids, false)
end

local function members(ctx)
  local rec = find(ctx)
  local out = json.array()
  for i, m in ipairs(rec.members) do out[i] = m end
  return 200, { members = out, total = #out }
end

local function clear_members(ctx)
  local rec = find(ctx)
  rec.members = {}
  touch(rec)
  return 200, { ok = "true" }
end

------------------------------------------------------------------------
-- Logs, analytics, dashboard

local function logs(ctx)
  local rec = find(ctx)
  local q = v.query(ctx, { { "page", "int", ge = 1, default = 1 },
    { "page_size", "int", ge = 1, default = 10 } })
  return 200, { logs = paging.slice(rec.logs, (q.page - 1) * q.page_size + 1, q.page_size),
    total = #rec.logs }
end

local function rate(part, whole)
  if whole == 0 then return 0 end
  return math.floor(part / whole * 1000 + 0.5) / 10
end

local function outcome_counts(entries, from, to)
  local n = { calls = 0, completed = 0, failed = 0, no_answer = 0, duration = 0 }
  for _, l in ipairs(entries) do
    if (not from or store.ended[l] >= from) and (not to or store.ended[l] <= to) then
      n.calls = n.calls + 1
      n[l.status] = n[l.status] + 1
      n.duration = n.duration + l.duration_seconds
    end
  end
  return n
end

local function analytics(ctx)
  local rec = find(ctx)
  local m = counts(rec)
  local o = outcome_counts(rec.logs)
  return 200, { analytics = {
    campaign_id = rec.c.id, status = rec.c.status, total_members = #rec.members,
    members_by_status = m, total_calls = o.calls,
    outcomes = { completed = o.completed, no_answer = o.no_answer, failed = o.failed },
    connect_rate = rate(o.completed, o.calls),
    total_duration_seconds = o.duration,
    average_duration_seconds = o.completed > 0 and math.floor(o.duration / o.completed) or 0,
    transfers = { total = 0 },
    insights = json.array(),
  } }
end

local function dashboard(ctx)
  local d = date_filter(ctx, { "from_date", "to_date", "chart_from_date", "chart_to_date" })
  local to = d.to_date and (d.to_date + 86399)             -- a date includes its day
  local chart_to = d.chart_to_date and (d.chart_to_date + 86399)
  local by_status, all_logs, campaigns = {}, {}, 0
  for _, id in ipairs(store.order) do
    local rec = store.by_id[id]
    if (not d.from_date or rec.created >= d.from_date) and (not to or rec.created <= to) then
      campaigns = campaigns + 1
      by_status[rec.c.status] = (by_status[rec.c.status] or 0) + 1
      for _, l in ipairs(rec.logs) do all_logs[#all_logs + 1] = l end
    end
  end
  local o = outcome_counts(all_logs)
  local days, chart = {}, json.array()
  for _, l in ipairs(all_logs) do
    local ended = store.ended[l]
    if (not d.chart_from_date or ended >= d.chart_from_date) and (not chart_to or ended <= chart_to) then
      local day = os.date("!%Y-%m-%d", ended)
      local e = days[day]
      if not e then
        e = { date = day, calls = 0, completed = 0, no_answer = 0, failed = 0 }
        days[day] = e
        chart[#chart + 1] = e
      end
      e.calls = e.calls + 1
      e[l.status] = e[l.status] + 1
    end
  end
  table.sort(chart, function(a, b) return a.date < b.date end)
  return 200, {
    total_campaigns = campaigns, campaigns_by_status = by_status, total_calls = o.calls,
    completed = o.completed, no_answer = o.no_answer, failed = o.failed,
    connect_rate = rate(o.completed, o.calls), total_duration_seconds = o.duration,
    chart = chart,
  }
end

------------------------------------------------------------------------
-- Export

local function export_rows(rec)
  local vars, seen = {}, {}
  for _, name in ipairs(rec.c.variable_names) do
    if not seen[name] then seen[name] = true vars[#vars + 1] = name end
  end
  local extra = {}
  for _, m in ipairs(rec.members) do
    for k in pairs(m.variable_values) do
      if not seen[k] then seen[k] = true extra[#extra + 1] = k end
    end
  end
  table.sort(extra)
  for _, k in ipairs(extra) do vars[#vars + 1] = k end
  local last = {}
  for _, l in ipairs(rec.logs) do last[l.member_id] = l end
  local head = { "member_id", "to_phonenumber", "dial_status", "duration_seconds", "started_at",
    "ended_at", "error_message" }
  for _, k in ipairs(vars) do head[#head + 1] = k end
  local rows = { head }
  for _, m in ipairs(rec.members) do
    local l = last[m.id]
    local row = { m.id, m.to_phonenumber, m.dial_status, l and l.duration_seconds or "",
      l and l.started_at or "", l and l.ended_at or "",
      m.error_message ~= json.null and m.error_message or "" }
    for _, k in ipairs(vars) do
      local x = m.variable_values[k]
      row[#row + 1] = (type(x) == "string" or type(x) == "number") and x or ""
    end
    rows[#rows + 1] = row
  end
  return rows
end

local function csv_field(x)
  x = tostring(x)
  if x:find('[",\r\n]') then return '"' .. x:gsub('"', '""') .. '"' end
  return x
end

local function to_csv(rows)
  local lines = {}
  for i, row in ipairs(rows) do
    local cells = {}
    for j, x in ipairs(row) do cells[j] = csv_field(x) end
    lines[i] = table.concat(cells, ",")
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

local function xml_escape(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;" }):gsub("[%z\1-\8\11\12\14-\31]", ""))
end

local function column_name(n)
  local s = ""
  while n > 0 do
    local r = (n - 1) % 26
    s = string.char(65 + r) .. s
    n = math.floor((n - 1) / 26)
  end
  return s
end

-- luacheck: push no max line length
-- A minimal, valid XLSX workbook: one sheet of inline strings and numbers.
local function to_xlsx(rows)
  local sheet = { '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    .. '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' }
  for i, row in ipairs(rows) do
    sheet[#sheet + 1] = ('<row r="%d">'):format(i)
    for j, x in ipairs(row) do
      local ref = column_name(j) .. i
      if type(x) == "number" then
        sheet[#sheet + 1] = ('<c r="%s"><v>%d</v></c>'):format(ref, x)
      else
        sheet[#sheet + 1] = ('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>'):format(ref, xml_escape(x))
      end
    end
    sheet[#sheet + 1] = "</row>"
  end
  sheet[#sheet + 1] = "</sheetData></worksheet>"
  local decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
  return zip.build {
    { "[Content_Types].xml", decl .. '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      .. '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      .. '<Default Extension="xml" ContentType="application/xml"/>'
      .. '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      .. '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      .. "</Types>" },
    { "_rels/.rels", decl .. '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
      .. '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
      .. "</Relationships>" },
    { "xl/workbook.xml", decl .. '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
      .. ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
      .. '<sheets><sheet name="Campaign" sheetId="1" r:id="rId1"/></sheets></workbook>' },
    { "xl/_rels/workbook.xml.rels", decl .. '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
      .. '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
      .. "</Relationships>" },
    { "xl/worksheets/sheet1.xml", table.concat(sheet) },
  }
end

-- luacheck: pop

local XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

local function export(ctx)
  local rec = find(ctx)
  local q = v.query(ctx, { { "format", "str", enum = { "csv", "excel" }, default = "csv" } })
  local rows = export_rows(rec)
  local base = rec.c.batch_name:gsub("[^%w%-_]+", "_")
  if q.format == "excel" then
    return 200, respond.raw(to_xlsx(rows), XLSX_TYPE),
      { ["Content-Disposition"] = ('attachment; filename="%s.xlsx"'):format(base) }
  end
  return 200, respond.raw(to_csv(rows), "text/csv; charset=utf-8"),
    { ["Content-Disposition"] = ('attachment; filename="%s.csv"'):format(base) }
end

state.on_reset(function()
  store.by_id, store.order, store.call_seq = {}, {}, 0
  store.ended = setmetatable({}, { __mode = "k" })   -- log entry -> Unix time it ended
end)

return function(router)
  local P = "/api/v1/campaigns/{campaign_id}"
  router:add("GET", "/api/v1/campaigns", list)
  router:add("POST", "/api/v1/campaigns", create)
  router:add("GET", "/api/v1/campaigns/dashboard-analytics", dashboard)
  router:add("GET", P, get)
  router:add("PATCH", P, update)
  router:add("DELETE", P, delete)
  router:add("GET", P .. "/readiness", function(ctx) return 200, readiness(find(ctx)) end)
  router:add("POST", P .. "/start", start)
  router:add("POST", P .. "/pause", transition("pause"))
  router:add("POST", P .. "/stop", transition("stop"))
  router:add("POST", P .. "/resume", transition("resume"))
  router:add("GET", P .. "/analytics", analytics)
  router:add("GET", P .. "/logs", logs)
  router:add("GET", P .. "/export", export)
  router:add("POST", P .. "/groups", add_group)
  router:add("POST", P .. "/groups/multiple", add_groups)
  router:add("GET", P .. "/members", members)
  router:add("DELETE", P .. "/members", clear_members)
end
