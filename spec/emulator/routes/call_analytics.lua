-- Call logs (kupe-api.md section 9):
-- GET /api/v1/call-analytics         one session | {items,total,page,page_size} | array
-- GET /api/v1/call-analytics/export  ZIP for one request_id | emailed bulk export
-- `request_id=bulk&size=N` streams a valid ZIP of about N bytes (test knob).

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local respond = require "emu.respond"
local v = require "emu.validate"
local zip = require "emu.zip"
local paging = require "emu.paging"

local EXPORT_ORDER = json.order {
  "status", "message", "email", "start_date", "end_date", "include_recordings",
}

local concat = table.concat

-- Session positions for a filter (nil = all), as a list-like accessor.
local function selection(filter)
  if filter and filter ~= "" then
    local list = state.filter_sessions(filter)
    return #list, function(k) return list[k] end
  end
  return state.session_total(), function(k) return k end
end

local function list_sessions(ctx)
  local q = v.query(ctx, {
    { "request_id", "str" }, { "page", "int", ge = 1 }, { "page_size", "int", ge = 1, le = 100 },
    { "filter", "str" }, { "scope", "str" }, { "organization_ids", "str" },
    { "owner_user_ids", "str" }, { "platform_roles", "str" },
  })
  if q.request_id then
    local pos = state.find_session(q.request_id)
    if not pos then v.fail(404, "Call session not found") end
    return 200, respond.raw(state.session_json_at(pos), "application/json")
  end

  local total, at = selection(q.filter)
  if q.page or q.page_size then
    local page, size = q.page or 1, q.page_size or 20
    local items = {}
    local first = (page - 1) * size + 1
    for k = first, math.min(total, first + size - 1) do
      items[#items + 1] = state.session_json_at(at(k))
    end
    return 200, setmetatable({
      items = json.raw("[" .. concat(items, ",") .. "]"), total = total, page = page,
      page_size = size,
    }, paging.PAGE_ORDER)
  end

  -- The full list: streamed (chunked), a batch of sessions at a time.
  return 200, respond.stream { write = function(send)
    local batch, bytes = { "[" }, 1
    for k = 1, total do
      local text = state.session_json_at(at(k))
      if not text then break end        -- the data set was reset meanwhile
      batch[#batch + 1] = k > 1 and ("," .. text) or text
      bytes = bytes + #text
      if bytes >= 65536 then
        if not send(concat(batch)) then return end
        batch, bytes = {}, 0
      end
    end
    batch[#batch + 1] = "]"
    send(concat(batch))
  end }
end

local function zip_response(body, filename, length)
  local headers = { ["Content-Disposition"] = 'attachment; filename="' .. filename .. '"' }
  if type(body) == "function" then
    return 200, respond.stream { write = body, length = length,
      content_type = "application/zip" }, headers
  end
  return 200, respond.raw(body, "application/zip"), headers
end

local function bulk_zip(q)
  local size = q.size or 1048576
  if size > zip.MAX_SIZE then
    v.fail(400, "size must be at most " .. zip.MAX_SIZE)
  end
  local lines = {}
  for pos = 1, math.min(state.session_total(), 200) do
    lines[pos] = state.session_json_at(pos)
  end
  local write, length = zip.bulk(size, "call_logs.jsonl", lines)
  return zip_response(write, "call_logs_bulk.zip", length)
end

local function session_zip(q)
  local pos = state.find_session(q.request_id)
  if not pos then v.fail(404, "Call session not found") end
  local session = state.session_at(pos)
  local entries = { { "session.json", state.session_json_at(pos) } }
  if session.transcript then
    entries[#entries + 1] = { "transcript.txt", dataset.transcript_text(session) }
  end
  if q.include_recordings and type(session.recording_url) == "string" then
    entries[#entries + 1] = { "recording.wav", zip.wav() }
  end
  return zip_response(zip.build(entries), "call_" .. session.request_id .. ".zip")
end

local function export(ctx)
  local q = v.query(ctx, {
    { "request_id", "str" }, { "start_date", "date" }, { "end_date", "date" },
    { "include_recordings", "bool", default = false }, { "size", "int", ge = 1 },
  })
  if q.request_id == "bulk" then return bulk_zip(q) end
  if q.request_id then return session_zip(q) end
  if not (q.start_date and q.end_date) then
    v.fail(400, "Provide request_id, or start_date and end_date (YYYY-MM-DD)")
  end
  if q.end_date < q.start_date then v.fail(400, "end_date must not be before start_date") end
  local email = state.settings.email
  if type(email) ~= "string" or email == "" then
    v.fail(400, "No email address on this account: bulk exports are sent by email")
  end
  return 200, setmetatable({
    status = "accepted",
    message = "Export of call logs from " .. q.start_date .. " to " .. q.end_date
      .. " is being prepared and will be emailed to " .. email,
    email = email, start_date = q.start_date, end_date = q.end_date,
    include_recordings = q.include_recordings,
  }, EXPORT_ORDER)
end

return function(router)
  router:add("GET", "/api/v1/call-analytics", list_sessions)
  router:add("GET", "/api/v1/call-analytics/export", export)
end
