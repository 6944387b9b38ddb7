-- Batch calling (kupe-api.md section 7): batches, their recipients, and a
-- dialling engine that moves a started batch through the documented
-- statuses over time.
--
-- A batch is `not_started` until `POST /start/{id}`, then `in_progress`,
-- then `completed` once every recipient is finished. Recipients go
-- `not_started` -> `calling` -> `completed` | `failed` | `no_answer`.
-- The engine dials in waves of `batch_size`: a wave lasts WAVE seconds,
-- then its calls end (outcome drawn from the seed and the recipient id,
-- so the same seed gives the same outcomes) and the next wave starts.
-- Time is evaluated lazily: every route that reads a batch first brings
-- it up to date (`advance`), so no timer runs and nothing happens between
-- requests that could not be observed. A carrier status callback
-- (`POST /status-callback`, Twilio form fields CallSid and CallStatus)
-- ends one call early; when a wave has no call left, the next starts.
--
-- Recipients may be added or changed only while the batch is
-- `not_started` (documented for upsert; applied to every upload here);
-- `start` answers 409 while calls are in flight and 400 when nobody is
-- left to call. Numbers are stored as digits; a record with an unusable
-- number or a missing template variable is not inserted and is counted
-- in `failed_count` / `failed_rows` instead.
--
-- Undocumented shapes, inferred: lists are `{success, data: [rows],
-- total}`, `GET /{batch_id}` is the bare batch row, `browse` pages as
-- `{items, total, page, page_size}`, CSV uploads use the field `file`.

local json = require "emu.json"
local state = require "emu.state"
local rng = require "emu.rng"
local v = require "emu.validate"
local params = require "emu.params"
local dataset = require "emu.dataset"
local paging = require "emu.paging"

local WAVE = 0.25                     -- seconds one wave of calls lasts

local store = state.store("batches")

state.on_reset(function()
  store.list = {}                     -- batch records, oldest first
  store.by_id = {}                    -- id -> record
  store.by_sid = {}                   -- call sid -> {record, recipient}
end)

local BATCH_ORDER = json.order {
  "id", "user_id", "agent_id", "workflow_id", "caller_phone_id", "batch_name", "description",
  "status", "variable_names", "batch_size", "created_at", "updated_at", "started_at",
  "completed_at",
}
local ROW_ORDER = json.order {
  "id", "batch_id", "to_phonenumber", "variable_values", "status", "error_message", "call_sid",
  "created_at", "updated_at",
}
local COUNT_KEYS = { "not_started", "calling", "completed", "failed", "no_answer" }
local COUNTS_ORDER = json.order { "not_started", "calling", "completed", "failed", "no_answer",
  "total" }
local ENVELOPE = json.order { "success", "message", "data", "total" }

local OUTCOMES = { { 70, "completed" }, { 20, "no_answer" }, { 10, "failed" } }
local FAILURES = { "Carrier rejected the call: destination unreachable", "Number is busy",
  "Call was rejected by the callee" }
local TWILIO_STATUS = {
  completed = "completed", busy = "failed", failed = "failed", canceled = "failed",
  ["no-answer"] = "no_answer",
}

------------------------------------------------------------------------
-- Helpers

-- The dialling engine. Finishing a wave at time t: its calls get their
-- outcome, then the next wave is claimed, or the batch completes.
local function finish_call(rec, row, outcome, t, reason)
  row.status = outcome
  row.error_message = outcome == "failed" and (reason or FAILURES[1]) or json.null
  row.updated_at = dataset.iso(t)
  rec.calling = rec.calling - 1
end

local function draw_outcome(row)
  local r = rng.new(state.settings.seed, "batch-call", tonumber(row.id:sub(1, 8), 16))
  local outcome = r:weighted(OUTCOMES)
  return outcome, outcome == "failed" and r:pick(FAILURES) or nil
end

local function claim(rec, t)
  local n, size = 0, rec.row.batch_size
  for _, row in ipairs(rec.rows) do
    if n >= size then break end
    if row.status == "not_started" then
      row.status = "calling"
      row.call_sid = "CA" .. state.rng():hex(32)
      row.updated_at = dataset.iso(t)
      store.by_sid[row.call_sid] = { rec, row }
      n = n + 1
    end
  end
  rec.calling = rec.calling + n
  if n > 0 then rec.next_at = t + WAVE end
  return n
end

local function complete(rec, t)
  rec.row.status = "completed"
  rec.row.completed_at = dataset.iso(t)
  rec.row.updated_at = dataset.iso(t)
  rec.next_at = nil
end

-- Starts the next wave at t, or completes the batch when nobody is left.
local function next_wave(rec, t)
  if claim(rec, t) == 0 and rec.calling == 0 then complete(rec, t) end
end

--- Brings a batch up to the present.
local function advance(rec)
  local now = ngx.now()
  while rec.row.status == "in_progress" and rec.next_at and now >= rec.next_at do
    local t = rec.next_at
    rec.next_at = nil
    for _, row in ipairs(rec.rows) do
      if row.status == "calling" then
        local outcome, reason = draw_outcome(row)
        finish_call(rec, row, outcome, t, reason)
      end
    end
    next_wave(rec, t)
  end
  return rec
end

local function find(ctx)
  local id = params.uuid(ctx, "batch_id", params.SHORT)
  local rec = store.by_id[id] or v.fail(404, "Batch not found")
  return advance(rec)
end

local function counts(rec)
  local c = setmetatable({ total = #rec.rows }, COUNTS_ORDER)
  for _, k in ipairs(COUNT_KEYS) do c[k] = 0 end
  for _, row in ipairs(rec.rows) do c[row.status] = c[row.status] + 1 end
  return c
end

local function before_start(rec, what)
  if rec.row.status ~= "not_started" then
    v.fail(400, ("%s only before the batch starts (it is %s)"):format(what, rec.row.status))
  end
end

-- "+91 98765-43210" -> "919876543210"; nil when it is no phone number.
local function normalise(number)
  if type(number) == "number" then number = ("%.0f"):format(number) end
  if type(number) ~= "string" then return nil end
  local s = number:gsub("[%s%-%.%(%)]", "")
  if not s:match("^%+?%d+$") then return nil end
  s = s:gsub("^%+", "")
  if #s < 7 or #s > 15 then return nil end
  return s
end

local function new_row(rec, number, variables, t)
  local row = setmetatable({
    id = state.new_uuid(), batch_id = rec.row.id, to_phonenumber = number,
    variable_values = variables, status = "not_started", error_message = json.null,
    call_sid = json.null, created_at = dataset.iso(t), updated_at = dataset.iso(t),
  }, ROW_ORDER)
  rec.rows[#rec.rows + 1] = row
  return row
end

-- Inserts flat records ({to_phonenumber, <variable>...}); returns the answer.
local function insert_records(rec, records)
  local now = ngx.time()
  local inserted, failed = json.array(), json.array()
  for i, r in ipairs(records) do
    local number = normalise(r.to_phonenumber)
    local vars, missing = {}, nil
    for k, x in pairs(r) do
      if k ~= "to_phonenumber" and x ~= json.null then vars[k] = x end
    end
    for _, name in ipairs(rec.row.variable_names) do
      if vars[name] == nil or vars[name] == "" then missing = missing or name end
    end
    local why = not number and "Invalid phone number"
      or missing and ("Missing value for variable '%s'"):format(missing)
    if why then
      failed[#failed + 1] = setmetatable({ index = i - 1,
        to_phonenumber = r.to_phonenumber == nil and json.null or r.to_phonenumber, error = why },
        json.order { "index", "to_phonenumber", "error" })
    else
      inserted[#inserted + 1] = new_row(rec, number, vars, now)
    end
  end
  rec.row.updated_at = dataset.iso(now)
  return 200, setmetatable({
    success = true,
    message = ("Inserted %d recipients, %d failed"):format(#inserted, #failed),
    inserted_count = #inserted, failed_count = #failed, failed_rows = failed, data = inserted,
  }, json.order { "success", "message", "inserted_count", "failed_count", "failed_rows", "data" })
end

------------------------------------------------------------------------
-- Batches

local function create(ctx)
  local b = v.body(ctx, {
    { "agent_id", "uuid" }, { "workflow_id", "uuid" }, { "user_id", "uuid" },
    { "caller_phone_id", "uuid", required = true }, { "batch_name", "str", required = true },
    { "description", "str" },
    { "status", "str", enum = { "not_started", "in_progress", "completed" } },
    { "variable_names", "array" }, { "batch_size", "int", ge = 1 },
  })
  local function given(x) return x ~= nil and x ~= json.null end
  if not b.batch_name:match("%S") then v.fail(400, "batch_name must not be empty") end
  if given(b.agent_id) == given(b.workflow_id) then
    v.fail(400, "Provide exactly one of agent_id or workflow_id")
  end
  if given(b.user_id) and b.user_id ~= ctx.user.user_id then
    v.fail(403, "user_id does not match the authenticated user")
  end
  if given(b.agent_id) and not state.agents_by_id[b.agent_id] then
    v.fail(400, "Unknown agent_id: see GET /api/v1/agents")
  end
  local line
  for _, p in ipairs(state.phones) do
    if p.id == b.caller_phone_id then line = p end
  end
  if not line then v.fail(400, "Unknown caller_phone_id: see GET /api/v1/phone") end
  local names = json.array()
  for i, n in ipairs(b.variable_names or {}) do
    if type(n) ~= "string" or not n:match("^[%a_][%w_]*$") then
      v.fail(400, ("variable_names[%d] must be a name of letters, digits and _"):format(i - 1))
    end
    names[i] = n
  end
  local now = dataset.iso(ngx.time())
  local row = setmetatable({
    id = state.new_uuid(), user_id = ctx.user.user_id,
    agent_id = given(b.agent_id) and b.agent_id or json.null,
    workflow_id = given(b.workflow_id) and b.workflow_id or json.null,
    caller_phone_id = b.caller_phone_id, batch_name = b.batch_name,
    description = given(b.description) and b.description or json.null,
    status = "not_started", variable_names = names, batch_size = b.batch_size or 1,
    created_at = now, updated_at = now, started_at = json.null, completed_at = json.null,
  }, BATCH_ORDER)
  local rec = { row = row, rows = {}, calling = 0 }
  store.list[#store.list + 1] = rec
  store.by_id[row.id] = rec
  return 201, setmetatable({ success = true, message = "Batch created successfully",
    data = row }, ENVELOPE)
end

local function list_answer(recs)
  local out = json.array()
  for k = #recs, 1, -1 do out[#out + 1] = advance(recs[k]).row end   -- newest first
  return 200, setmetatable({ success = true, data = out, total = #out }, ENVELOPE)
end

local function list_mine()
  return list_answer(store.list)
end

local function list_for_user(ctx)
  local id = params.uuid(ctx, "user_id", params.SHORT)
  if id ~= ctx.user.user_id then
    v.fail(403, "Not allowed to list another user's batches")
  end
  return list_answer(store.list)
end

local function browse(ctx)
  local q = v.query(ctx, { { "page", "int", ge = 1, default = 1 },
    { "page_size", "int", ge = 1, le = 100, default = 20 } })
  local all = {}
  for k = #store.list, 1, -1 do all[#all + 1] = advance(store.list[k]).row end
  return 200, paging.page(all, q.page, q.page_size)
end

local function get(ctx)
  return 200, find(ctx).row
end

local function status(ctx)
  local rec = find(ctx)
  return 200, setmetatable({ success = true, data = setmetatable({ batch = rec.row,
    status_counts = counts(rec) }, json.order { "batch", "status_counts" }) }, ENVELOPE)
end

local function delete(ctx)
  local rec = find(ctx)
  for i, r in ipairs(store.list) do
    if r == rec then table.remove(store.list, i) break end
  end
  store.by_id[rec.row.id] = nil
  for _, row in ipairs(rec.rows) do
    if row.call_sid ~= json.null then store.by_sid[row.call_sid] = nil end
  end
  return 200, setmetatable({ success = true, message = "Batch deleted",
    data = { batch_id = rec.row.id, recipients_deleted = #rec.rows } }, ENVELOPE)
end

local function set_variables(ctx)
  local rec = find(ctx)
  local b = v.body(ctx, { { "variable_names", "array", required = true } })
  before_start(rec, "Variables can be changed")
  local names = json.array()
  for i, n in ipairs(b.variable_names) do
    if type(n) ~= "string" or not n:match("^[%a_][%w_]*$") then
      v.fail(400, ("variable_names[%d] must be a name of letters, digits and _"):format(i - 1))
    end
    names[i] = n
  end
  rec.row.variable_names = names
  rec.row.updated_at = dataset.iso(ngx.time())
  return 200, setmetatable({ success = true, message = "Variables updated", data = rec.row },
    ENVELOPE)
end

local function start(ctx)
  local rec = find(ctx)
  if rec.calling > 0 then v.fail(409, "Batch already has in-flight calls") end
  local waiting = 0
  for _, row in ipairs(rec.rows) do
    if row.status == "not_started" then waiting = waiting + 1 end
  end
  if waiting == 0 then v.fail(400, "Batch has no recipients waiting to be called") end
  local now = ngx.now()
  rec.row.status = "in_progress"
  if rec.row.started_at == json.null then rec.row.started_at = dataset.iso(now) end
  rec.row.completed_at = json.null
  rec.row.updated_at = dataset.iso(now)
  local dialling = claim(rec, now)
  return 200, setmetatable({ success = true, message = "Batch started",
    data = setmetatable({ batch_id = rec.row.id, status = "in_progress", calling = dialling,
      not_started = waiting - dialling }, json.order { "batch_id", "status", "calling",
      "not_started" }) }, ENVELOPE)
end

------------------------------------------------------------------------
-- Recipients

local function recipients(ctx)
  local rec = find(ctx)
  local q = v.query(ctx, { { "status", "str", enum = COUNT_KEYS } })
  local out = json.array()
  for _, row in ipairs(rec.rows) do
    if not q.status or row.status == q.status then out[#out + 1] = row end
  end
  return 200, setmetatable({ success = true, data = out, total = #out }, ENVELOPE)
end

local function check_rows(list, field, specs)
  local problems = {}
  for i, item in ipairs(list) do
    if type(item) ~= "table" or json.is_array(item) then
      problems[#problems + 1] = v.problem("model_attributes_type", { "body", field, i - 1 },
        "Input should be a valid dictionary", item)
    else
      for _, spec in ipairs(specs) do
        local x = item[spec[1]]
        if x == nil and spec.required then
          problems[#problems + 1] = v.problem("missing", { "body", field, i - 1, spec[1] },
            "Field required", item)
        elseif x ~= nil and x ~= json.null and spec.check and not spec.check(x) then
          problems[#problems + 1] = v.problem(spec.type, { "body", field, i - 1, spec[1] },
            spec.msg, x)
        end
      end
    end
  end
  if #problems > 0 then v.fail_422(problems) end
end

local function upload_json(ctx)
  local rec = find(ctx)
  local b = v.body(ctx, { { "records", "array", required = true } })
  check_rows(b.records, "records", { { "to_phonenumber", required = true } })
  before_start(rec, "Recipients can be added")
  return insert_records(rec, b.records)
end

local function is_object(x) return type(x) == "table" and not json.is_array(x) end
local function is_string(x) return type(x) == "string" end

local function upsert(ctx)
  local rec = find(ctx)
  local b = v.body(ctx, { { "items", "array", required = true } })
  check_rows(b.items, "items", {
    { "to_phonenumber", required = true, check = is_string, type = "string_type",
      msg = "Input should be a valid string" },
    { "id", check = v.is_uuid, type = "uuid_parsing", msg = "Input should be a valid UUID" },
    { "variable_values", check = is_object, type = "dict_type",
      msg = "Input should be a valid dictionary" },
  })
  before_start(rec, "Recipients can be changed")
  local by_id = {}
  for _, row in ipairs(rec.rows) do by_id[row.id] = row end
  for _, item in ipairs(b.items) do     -- check everything before changing anything
    if not normalise(item.to_phonenumber) then
      v.fail(400, ("Invalid phone number '%s'"):format(item.to_phonenumber))
    end
    if item.id and item.id ~= json.null and not by_id[item.id:lower()] then
      v.fail(404, ("Recipient %s not found in this batch"):format(item.id))
    end
  end
  local now = ngx.time()
  local inserted, updated, out = 0, 0, json.array()
  for _, item in ipairs(b.items) do
    local vars = is_object(item.variable_values) and item.variable_values or {}
    local row = item.id and item.id ~= json.null and by_id[item.id:lower()]
    if row then
      row.to_phonenumber = normalise(item.to_phonenumber)
      if item.variable_values ~= nil then row.variable_values = vars end
      row.updated_at = dataset.iso(now)
      updated = updated + 1
    else
      row = new_row(rec, normalise(item.to_phonenumber), vars, now)
      inserted = inserted + 1
    end
    out[#out + 1] = row
  end
  return 200, setmetatable({ success = true,
    message = ("Inserted %d, updated %d recipients"):format(inserted, updated),
    inserted_count = inserted, updated_count = updated, data = out },
    json.order { "success", "message", "inserted_count", "updated_count", "data" })
end

local function remove_recipient(ctx)
  local rec = find(ctx)
  local item_id = params.uuid(ctx, "item_id", params.SHORT)
  before_start(rec, "Recipients can be removed")
  for i, row in ipairs(rec.rows) do
    if row.id == item_id then
      table.remove(rec.rows, i)
      return 200, setmetatable({ success = true, message = "Recipient removed",
        data = { id = item_id } }, ENVELOPE)
    end
  end
  v.fail(404, "Recipient not found")
end

------------------------------------------------------------------------
-- CSV upload (multipart/form-data, field "file")

local function multipart_file(ctx, field)
  local ctype = ctx.headers["content-type"]
  if type(ctype) == "table" then ctype = ctype[1] end
  local boundary = ctype and (ctype:match('boundary="([^"]+)"') or ctype:match("boundary=([^;%s]+)"))
  if not ctype or not ctype:lower():find("multipart/form-data", 1, true) or not boundary then
    v.fail(400, "Expected a multipart/form-data upload with a 'file' part")
  end
  local body, delim = ctx.body or "", "--" .. boundary
  local pos = body:find(delim, 1, true)
  while pos do
    local head_start = pos + #delim
    if body:sub(head_start, head_start + 1) == "--" then break end
    local head_end = body:find("\r\n\r\n", head_start, true)
    if not head_end then break end
    local head = body:sub(head_start, head_end)
    local next_pos = body:find("\r\n" .. delim, head_end + 4, true)
    if not next_pos then break end
    local name = head:match('[Nn]ame="([^"]*)"')
    if name == field then return body:sub(head_end + 4, next_pos - 1) end
    pos = next_pos + 2
  end
  v.fail_422 { v.problem("missing", { "body", field }, "Field required", nil) }
end

-- RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF; a UTF-8 BOM
-- is dropped. Returns a list of rows (lists of strings).
local function parse_csv(text)
  text = text:gsub("^\239\187\191", "")
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local quoted = false
  local function end_field()
    row[#row + 1] = table.concat(field)
    field = {}
  end
  local function end_row()
    end_field()
    if not (#row == 1 and row[1] == "") then rows[#rows + 1] = row end
    row = {}
  end
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
        else quoted = false end
      else
        field[#field + 1] = c
      end
    elseif c == '"' and #field == 0 then
      quoted = true
    elseif c == "," then
      end_field()
    elseif c == "\n" then
      end_row()
    elseif c ~= "\r" then
      field[#field + 1] = c
    end
    i = i + 1
  end
  if quoted then return nil, "unterminated quoted field" end
  if #field > 0 or #row > 0 then end_row() end
  return rows
end

local function upload_csv(ctx)
  local rec = find(ctx)
  local text = multipart_file(ctx, "file")
  local rows, err = parse_csv(text)
  if not rows then v.fail(400, "Unreadable CSV: " .. err) end
  local header = rows[1]
  if not header then v.fail(400, "The CSV file is empty") end
  local columns, phone_col = {}, nil
  for i, name in ipairs(header) do
    name = name:match("^%s*(.-)%s*$")
    columns[i] = name
    if name == "to_phonenumber" then phone_col = i end
  end
  if not phone_col then v.fail(400, "The CSV needs a 'to_phonenumber' column") end
  before_start(rec, "Recipients can be added")
  local records = {}
  for k = 2, #rows do
    local r = {}
    for i, name in ipairs(columns) do
      if name ~= "" then r[name] = rows[k][i] or "" end
    end
    records[#records + 1] = r
  end
  return insert_records(rec, records)
end

------------------------------------------------------------------------
-- Carrier status callback (Twilio; no API key)

local function status_callback(ctx)
  local fields = {}
  if ctx.body and ctx.body ~= "" then fields = ngx.decode_args(ctx.body, 0) end
  local function one(x) if type(x) == "table" then return x[1] end return x end
  local sid, call_status = one(fields.CallSid), one(fields.CallStatus)
  if type(sid) ~= "string" or sid == "" then v.fail(400, "CallSid is required") end
  local hit = store.by_sid[sid] or v.fail(404, "Unknown CallSid")
  local rec, row = hit[1], hit[2]
  advance(rec)
  local outcome = TWILIO_STATUS[one(call_status) or ""]
  local changed = false
  if outcome and row.status == "calling" then
    local now = ngx.now()
    finish_call(rec, row, outcome, now, outcome == "failed"
      and ("Carrier reported " .. call_status) or nil)
    if rec.calling == 0 then next_wave(rec, now) end
    changed = true
  end
  return 200, setmetatable({ success = true, message = changed and "Status recorded"
    or "No change", data = row }, ENVELOPE)
end

return function(router)
  local B = "/api/v1/batch-call"
  router:add("POST", B .. "/create", create)
  router:add("GET", B .. "/me", list_mine)
  router:add("GET", B .. "/browse", browse)
  router:add("GET", B .. "/user/{user_id}", list_for_user)
  router:add("POST", B .. "/upload-json/{batch_id}", upload_json)
  router:add("POST", B .. "/upload/{batch_id}", upload_csv)
  router:add("POST", B .. "/start/{batch_id}", start)
  router:add("POST", B .. "/status-callback", status_callback, { auth = false })
  router:add("GET", B .. "/{batch_id}", get)
  router:add("DELETE", B .. "/{batch_id}", delete)
  router:add("GET", B .. "/{batch_id}/status", status)
  router:add("GET", B .. "/{batch_id}/data", recipients)
  router:add("POST", B .. "/{batch_id}/data/upsert", upsert)
  router:add("DELETE", B .. "/{batch_id}/data/{item_id}", remove_recipient)
  router:add("PATCH", B .. "/{batch_id}/variables", set_variables)
end
