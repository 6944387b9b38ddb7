--- Campaigns: outbound calling campaigns over people groups.
--
-- The flow: create a campaign (agent + caller line), copy people groups
-- into it (`add_group`), check `readiness`, `start`, then follow it
-- (`get`, `wait`, `members`, `logs`, `analytics`) and `export` the result.
-- `pause` / `resume` / `stop` control a running campaign; stop is final.
--
-- What the API makes awkward, and what these methods do about it:
--
-- * `variable_names` is required even when empty, and an empty Lua table
--   would go out as `{}`: `create` and `update` always send a JSON array.
-- * Lists page differently: campaigns and logs with page/page_size and a
--   total (`pages`/`items`, `log_pages`/`log_items` walk them); members
--   in one answer.
-- * start/pause/resume/stop are a state machine on the server: a wrong
--   transition is a 400 (409 when starting a running campaign) whose
--   `err.message` says why; `readiness` lists the `blockers` first.
-- * Progress is only visible by polling: `wait` polls `get` until the
--   campaign is completed or stopped, sleeping through the transport.
-- * The export is a file (CSV or Excel), not JSON: `export` streams it to
--   a path (temporary file, then rename) or a sink, and checks its type.
-- * Answers are keyed wrappers (`{campaign}`, `{campaigns, total}`,
--   `{members, total}`, `{logs, total}`, `{analytics}`; `{ok = "true"}` with
--   a string for deletes), returned as decoded.
-- Campaigns share a table with /api/v1/batch-call in the API.
-- @module kupe.resources.campaigns

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local BASE = "/api/v1/campaigns"
local ONE = BASE .. "/{campaign_id}"

local G = resource.group("campaigns", {
  { "list", "GET", BASE, custom = true, also = { "pages", "items" },
    doc = "one page of campaigns and the total" },
  { "create", "POST", BASE, custom = true, doc = "create a campaign" },
  { "dashboard", "GET", BASE .. "/dashboard-analytics", custom = true,
    doc = "call outcomes over every campaign" },
  { "get", "GET", ONE, custom = true, also = { "wait" }, doc = "one campaign" },
  { "update", "PATCH", ONE, custom = true, doc = "change a campaign" },
  { "delete", "DELETE", ONE, custom = true, doc = "delete a campaign" },
  { "readiness", "GET", ONE .. "/readiness", custom = true, doc = "can it start, and why not" },
  { "start", "POST", ONE .. "/start", custom = true, doc = "start dialing" },
  { "pause", "POST", ONE .. "/pause", custom = true, doc = "pause a running campaign" },
  { "stop", "POST", ONE .. "/stop", custom = true, doc = "stop a campaign for good" },
  { "resume", "POST", ONE .. "/resume", custom = true, doc = "resume a paused campaign" },
  { "analytics", "GET", ONE .. "/analytics", custom = true, doc = "a campaign's metrics" },
  { "logs", "GET", ONE .. "/logs", custom = true, also = { "log_pages", "log_items" },
    doc = "finished calls, a page at a time" },
  { "export", "GET", ONE .. "/export", custom = true, doc = "members and calls as CSV or Excel" },
  { "add_group", "POST", ONE .. "/groups", custom = true, doc = "copy a people group in" },
  { "add_groups", "POST", ONE .. "/groups/multiple", custom = true,
    doc = "copy several people groups in" },
  { "members", "GET", ONE .. "/members", custom = true, doc = "every member" },
  { "clear_members", "DELETE", ONE .. "/members", custom = true, doc = "remove every member" },
})

-- Caller mistakes raise (kupe.argcheck), pointing at the caller.

local function path(fname, suffix, campaign_id)
  return resource.path(ONE .. (suffix or ""), fname, campaign_id)
end

-- Campaign bodies

-- kinds: "id" (non-empty string), "id?" (or kupe.null), "text" (not blank),
-- "string", "string?", "names" (a list of strings), "size?" (integer >= 1
-- or kupe.null). Other keys pass through untouched.
local FIELDS = {
  agent_id = "id", workflow_id = "id?", call_flow_id = "id?", caller_phone_id = "id",
  batch_name = "text", description = "string?", status = "string", variable_names = "names",
  batch_size = "size?",
}
local REQUIRED = { "agent_id", "caller_phone_id", "batch_name", "variable_names" }

local KIND_TEXT = {
  id = "a non-empty string", ["id?"] = "a non-empty string or kupe.null",
  text = "a non-blank string", string = "a string", ["string?"] = "a string or kupe.null",
  names = "a list of strings", ["size?"] = "an integer >= 1 or kupe.null",
}

local function valid(kind, v)
  if v == json.null and kind:sub(-1) == "?" then return true end
  if kind == "id" or kind == "id?" then return type(v) == "string" and v ~= "" end
  if kind == "text" then return type(v) == "string" and v:find("%S") ~= nil end
  if kind == "string" or kind == "string?" then return type(v) == "string" end
  if kind == "size?" then return A.is_int(v) and v >= 1 end
  if kind == "names" then
    if type(v) ~= "table" then return false end
    local n = #v
    for k, x in pairs(v) do
      if not A.is_int(k) or k < 1 or k > n or type(x) ~= "string" then return false end
    end
    return true
  end
  return false
end

-- A checked copy of a create/update body, variable_names as a JSON array.
local function campaign_body(fields, n, fname, create)
  A.table(fields, nil, fname, n, 1)
  if create then
    for _, name in ipairs(REQUIRED) do
      if fields[name] == nil then
        A.fail(fname, n, name == "variable_names"
          and "variable_names is required (use {} when the agent's prompt has no {{variables}})"
          or (name .. " is required"), 1)
      end
    end
  end
  local body = {}
  for k, v in pairs(fields) do
    local kind = FIELDS[k]
    if kind and not valid(kind, v) then
      A.fail(fname, n, ("%s must be %s, got %s"):format(k, KIND_TEXT[kind], A.got(v)), 1)
    end
    body[k] = v
  end
  if body.variable_names ~= nil then
    local names = {}
    for i, x in ipairs(body.variable_names) do names[i] = x end
    body.variable_names = json.array(names)
  end
  return body
end

-- Listing

-- A date-time filter: "YYYY-MM-DD[THH:MM[:SS][Z|+hh:mm]]" or Unix seconds.
local function datetime(v, name, n, fname, depth)
  if type(v) == "number" then return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(v)) end
  if type(v) ~= "string" or not v:match("^%d%d%d%d%-%d%d%-%d%d") then
    A.fail(fname, n, name .. " must be a date ('2026-03-01'), a date-time or Unix seconds", depth + 1)
  end
  return v
end

local function page_query(params, n, fname, depth, allowed, max_size)
  local q = {}
  if params == nil then return q end
  A.table(params, nil, fname, n, depth + 1)
  for k, v in pairs(params) do
    local what = allowed[k]
    if not what then A.fail(fname, n, ("unknown parameter '%s'"):format(tostring(k)), depth + 1) end
    if what == "page" and not (A.is_int(v) and v >= 1) then
      A.fail(fname, n, "page must be an integer >= 1", depth + 1)
    elseif what == "size" and not (A.is_int(v) and v >= 1 and (not max_size or v <= max_size)) then
      A.fail(fname, n, max_size and ("page_size must be an integer from 1 to " .. max_size)
        or "page_size must be an integer >= 1", depth + 1)
    elseif what == "datetime" then
      v = datetime(v, k, n, fname, depth + 1)
    end
    q[k] = v
  end
  return q
end

local LIST_PARAMS = { page = "page", page_size = "size", start_date = "datetime",
  end_date = "datetime" }
local WALK_OPTIONS = { page = true, page_size = true, max_pages = true, limit = true }

--- One page of campaigns, newest first: `{campaigns = {...}, total = n}`.
-- The server's default page_size is 10.
-- @tparam[opt] table params page (>= 1), page_size (1..100), start_date and
--   end_date (creation time: "YYYY-MM-DD", an ISO 8601 date-time, or Unix
--   seconds, sent as ISO 8601 UTC)
-- @return page, resp | nil, err
-- @raise for an unknown parameter or one out of range
function G:list(params)
  local q = page_query(params, 1, "list", 0, LIST_PARAMS, 100)
  return self._client:request("GET", BASE, { query = q })
end

local function list_walk(self, opts, fname)
  local filters = {}
  if opts ~= nil then
    A.table(opts, nil, fname, 1, 1)
    for k, v in pairs(opts) do
      if not WALK_OPTIONS[k] then filters[k] = v end
    end
  end
  local q = page_query(filters, 1, fname, 1, LIST_PARAMS, 100)
  local spec = resource.walker_spec(self, BASE, {
    style = "page", items = "campaigns", total = "total", default_size = 100, max_size = 100,
  })
  local fetch = spec.fetch
  spec.fetch = function(params)
    for k, v in pairs(q) do params[k] = v end -- Unix seconds already converted
    return fetch(params)
  end
  return spec
end

--- Walks every page of campaigns lazily (page_size 100 unless given).
-- @tparam[opt] table opts start_date, end_date, page_size, page (first),
--   max_pages, limit
-- @return walker (see kupe.paginate)
function G:pages(opts)
  return resource.pages(list_walk(self, opts, "pages"), opts, "pages")
end

--- Walks every campaign of every page lazily; `limit` caps the count.
--
--     for campaign in client.campaigns:items {} do print(campaign.batch_name) end
-- @tparam[opt] table opts as for pages
-- @return walker
function G:items(opts)
  return resource.items(list_walk(self, opts, "items"), opts, "items")
end

-- One campaign

--- Creates a campaign. Answers 200 (not 201) with `{campaign = {...}}`;
-- the campaign starts as "not_started".
-- @tparam table fields `agent_id`, `caller_phone_id` (an id from
--   `GET /api/v1/phone`), `batch_name` and `variable_names` (required; a
--   list of strings, `{}` for none), `workflow_id`, `call_flow_id`,
--   `description`, `status`, `batch_size` (calls at a time, >= 1)
-- @return `{campaign}`, resp | nil, err (422 for ids that are not UUIDs)
-- @raise when a required field is missing or a field has the wrong type
function G:create(fields)
  local body = campaign_body(fields, 1, "create", true)
  return self._client:request("POST", BASE, { json = body })
end

--- One campaign. For a running campaign each read is also how the API
-- reports progress (`status` turns "completed" when every member is done).
-- @tparam string campaign_id
-- @return `{campaign}`, resp | nil, err (404 unknown, 422 not a UUID)
function G:get(campaign_id)
  A.id(campaign_id, "campaign_id", "get", 1)
  return self._client:request("GET", path("get", nil, campaign_id))
end

--- Changes a campaign (only the fields given; same fields as create).
-- @tparam string campaign_id
-- @tparam table fields as for create, none required
-- @return `{campaign}`, resp | nil, err
function G:update(campaign_id, fields)
  A.id(campaign_id, "campaign_id", "update", 1)
  local body = campaign_body(fields, 2, "update", false)
  return self._client:request("PATCH", path("update", nil, campaign_id), { json = body })
end

--- Deletes a campaign with its members.
-- @tparam string campaign_id
-- @return `{ok = "true"}` (a string), resp | nil, err
function G:delete(campaign_id)
  A.id(campaign_id, "campaign_id", "delete", 1)
  return self._client:request("DELETE", path("delete", nil, campaign_id))
end

--- Aggregated call outcomes over every campaign, for dashboards.
-- @tparam[opt] table params from_date, to_date (campaigns created in the
--   range), chart_from_date, chart_to_date (the daily chart's range); each
--   "YYYY-MM-DD" (or Unix seconds)
-- @return free-form object, resp | nil, err (400 for a date it cannot read)
function G:dashboard(params)
  local q = {}
  if params ~= nil then
    A.table(params, nil, "dashboard", 1)
    for k, v in pairs(params) do
      if k ~= "from_date" and k ~= "to_date" and k ~= "chart_from_date" and k ~= "chart_to_date" then
        A.fail("dashboard", 1, ("unknown parameter '%s'"):format(tostring(k)))
      end
      if type(v) == "number" then v = os.date("!%Y-%m-%d", math.floor(v)) end
      if type(v) ~= "string" then A.fail("dashboard", 1, k .. " must be a date string or Unix seconds") end
      q[k] = v
    end
  end
  return self._client:request("GET", BASE .. "/dashboard-analytics", { query = q })
end

--- The launch checklist: `{can_start, member_count, has_agent_or_workflow,
-- has_caller_phone, status, blockers = {"...", ...}}`.
-- @tparam string campaign_id
-- @return checklist, resp | nil, err
function G:readiness(campaign_id)
  A.id(campaign_id, "campaign_id", "readiness", 1)
  return self._client:request("GET", path("readiness", "/readiness", campaign_id))
end

--- Starts dialing: `{success, message, status = "in_progress", member_count, data}`.
-- A campaign that cannot start answers 400 with the blockers in
-- `err.message`; one already running answers 409. Never retried: the
-- request is a POST.
-- @tparam string campaign_id
-- @return answer, resp | nil, err
function G:start(campaign_id)
  A.id(campaign_id, "campaign_id", "start", 1)
  return self._client:request("POST", path("start", "/start", campaign_id))
end

--- Pauses a running campaign (400 unless it is running).
-- @tparam string campaign_id
-- @return `{success, message, data}`, resp | nil, err
function G:pause(campaign_id)
  A.id(campaign_id, "campaign_id", "pause", 1)
  return self._client:request("POST", path("pause", "/pause", campaign_id))
end

--- Stops a campaign for good: it can never be started or resumed again.
-- @tparam string campaign_id
-- @return `{success, message, data}`, resp | nil, err
function G:stop(campaign_id)
  A.id(campaign_id, "campaign_id", "stop", 1)
  return self._client:request("POST", path("stop", "/stop", campaign_id))
end

--- Resumes a paused campaign (400 unless it is paused).
-- @tparam string campaign_id
-- @return `{success, message, data}`, resp | nil, err
function G:resume(campaign_id)
  A.id(campaign_id, "campaign_id", "resume", 1)
  return self._client:request("POST", path("resume", "/resume", campaign_id))
end

--- Polls `get` until the campaign reaches a final status ("completed" or
-- "stopped") or one of `opts.statuses`, sleeping through the transport
-- between polls (so inside nginx the worker keeps serving). It also
-- returns at a final status that is not in `statuses`: check `status`.
-- @tparam string campaign_id
-- @tparam[opt] table opts interval (seconds between polls, default 5),
--   timeout (seconds, default 3600), statuses (a list of more statuses
--   to stop at, e.g. {"paused"}), on_poll(campaign) called after every poll
-- @return `{campaign}` (the last answer), resp | nil, err (the poll's
--   error, or kind "timeout" with the last campaign in `err.data`)
function G:wait(campaign_id, opts)
  A.id(campaign_id, "campaign_id", "wait", 1)
  opts = opts or {}
  A.table(opts, nil, "wait", 2)
  local interval, timeout = opts.interval or 5, opts.timeout or 3600
  if type(interval) ~= "number" or interval < 0 then A.fail("wait", 2, "interval must be a number >= 0") end
  if type(timeout) ~= "number" or timeout < 0 then A.fail("wait", 2, "timeout must be a number >= 0") end
  local wanted = { completed = true, stopped = true }
  if opts.statuses ~= nil then
    A.table(opts.statuses, nil, "wait", 2)
    for _, s in ipairs(opts.statuses) do wanted[s] = true end
  end
  if opts.on_poll ~= nil and type(opts.on_poll) ~= "function" then
    A.fail("wait", 2, "on_poll must be a function")
  end
  local client = self._client
  local deadline = client:now() + timeout
  while true do
    local data, resp = self:get(campaign_id)
    if data == nil then return nil, resp end
    local c = type(data) == "table" and data.campaign or nil
    if type(c) ~= "table" then
      return nil, errors.new { kind = "decode", method = "GET", path = path("wait", nil, campaign_id),
        message = "the answer has no 'campaign' object", data = data }
    end
    if opts.on_poll then opts.on_poll(c) end
    if wanted[c.status] then return data, resp end
    local left = deadline - client:now()
    if left <= 0 then
      return nil, errors.new { kind = "timeout", phase = "wait", method = "GET",
        path = path("wait", nil, campaign_id), data = data, retryable = false,
        message = ("the campaign is still %s after %g s"):format(tostring(c.status), timeout) }
    end
    client:sleep(math.min(interval, left))
  end
end

--- The campaign's metrics: `{analytics = {...}}` (outcomes, rates,
-- durations, transfers, insights; free-form).
-- @tparam string campaign_id
-- @return answer, resp | nil, err
function G:analytics(campaign_id)
  A.id(campaign_id, "campaign_id", "analytics", 1)
  return self._client:request("GET", path("analytics", "/analytics", campaign_id))
end

local LOG_PARAMS = { page = "page", page_size = "size" }

--- One page of finished calls (completed, no answer or failed):
-- `{logs = {...}, total = n}`. The server's default page_size is 10.
-- @tparam string campaign_id
-- @tparam[opt] table params page (>= 1), page_size (>= 1)
-- @return page, resp | nil, err
function G:logs(campaign_id, params)
  A.id(campaign_id, "campaign_id", "logs", 1)
  local q = page_query(params, 2, "logs", 0, LOG_PARAMS)
  return self._client:request("GET", path("logs", "/logs", campaign_id), { query = q })
end

local function logs_walk(self, campaign_id, opts, fname)
  A.id(campaign_id, "campaign_id", fname, 1, 1)
  if opts ~= nil then
    A.table(opts, nil, fname, 2, 1)
    for k in pairs(opts) do
      if not WALK_OPTIONS[k] then
        A.fail(fname, 2, ("unknown option '%s' (page, page_size, max_pages, limit)"):format(tostring(k)), 1)
      end
    end
  end
  return resource.walker_spec(self, path(fname, "/logs", campaign_id), {
    style = "page", items = "logs", total = "total", default_size = 100, max_size = 100,
  })
end

--- Walks every page of a campaign's logs lazily (page_size 100 unless given).
-- @tparam string campaign_id
-- @tparam[opt] table opts page (first), page_size (1..100), max_pages, limit
-- @return walker (see kupe.paginate)
function G:log_pages(campaign_id, opts)
  return resource.pages(logs_walk(self, campaign_id, opts, "log_pages"), opts, "log_pages")
end

--- Walks every log entry of a campaign lazily; `limit` caps the count.
-- @tparam string campaign_id
-- @tparam[opt] table opts as for log_pages
-- @return walker
function G:log_items(campaign_id, opts)
  return resource.items(logs_walk(self, campaign_id, opts, "log_items"), opts, "log_items")
end

local FORMATS = {
  csv = { sink_type = "text/csv", accept = "text/csv" },
  excel = { sink_type = "application/vnd.", accept = "application/vnd." },
}

--- Exports the campaign's members and call history as a file.
-- The body is streamed to `path` (into a temporary file beside it, renamed
-- when complete, so a failed download leaves nothing behind) or to
-- `sink(chunk)`; it is never held whole in memory. The content type is
-- checked: an answer that is not the asked format is an error.
-- @tparam string campaign_id
-- @tparam table opts format ("csv", the default, or "excel"), path | sink,
--   on_progress(received, total_or_nil), timeout, stall_time
-- @return `{path, bytes, content_type, format}`, resp | nil, err
-- @raise without path or sink, or for an unknown format
function G:export(campaign_id, opts)
  A.id(campaign_id, "campaign_id", "export", 1)
  A.table(opts, nil, "export", 2)
  local format = opts.format or "csv"
  local f = FORMATS[format]
  if not f then A.fail("export", 2, "format must be \"csv\" or \"excel\"") end
  for k in pairs(opts) do
    if k ~= "format" and k ~= "path" and k ~= "sink" and k ~= "on_progress" and k ~= "timeout"
        and k ~= "stall_time" then
      A.fail("export", 2, ("unknown option '%s'"):format(tostring(k)))
    end
  end
  A.download_to(opts, "export", 2, "an export needs path or sink")
  local api_path = path("export", "/export", campaign_id)
  local file, resp, body = resource.download(self._client, api_path, { format = format }, opts,
    f.sink_type)
  if file then
    file.format = format
    return file, resp
  end
  if file == nil then return nil, resp end
  return nil, errors.new { kind = "decode", status = resp.status, method = "GET", path = api_path,
    body = body, headers = resp.headers,
    message = ("expected a %s file, got %s"):format(format == "csv" and "CSV" or "Excel",
      resp.content_type or "no content type") }
end

-- Members

--- Copies a people group's rows into the campaign as members. Rows without
-- a phone number, with one that cannot be dialled, or already members are
-- skipped and counted: `{inserted_count, skipped_count, skipped_no_phone,
-- skipped_duplicate, skipped_filtered, group_id, group_name, message}`.
-- @tparam string campaign_id
-- @tparam string group_id
-- @return counts, resp | nil, err (404 for an unknown campaign or group)
function G:add_group(campaign_id, group_id)
  A.id(campaign_id, "campaign_id", "add_group", 1)
  A.id(group_id, "group_id", "add_group", 2)
  return self._client:request("POST", path("add_group", "/groups", campaign_id),
    { json = { group_id = group_id } })
end

--- Copies several people groups at once (see add_group; `group_id` and
-- `group_name` are null in the answer).
-- @tparam string campaign_id
-- @tparam {string,...} group_ids
-- @return counts, resp | nil, err
function G:add_groups(campaign_id, group_ids)
  A.id(campaign_id, "campaign_id", "add_groups", 1)
  A.table(group_ids, nil, "add_groups", 2)
  local ids = {}
  for k in pairs(group_ids) do
    if not A.is_int(k) or k < 1 or k > #group_ids then
      A.fail("add_groups", 2, "group_ids must be a list of ids")
    end
  end
  for i, id in ipairs(group_ids) do
    if type(id) ~= "string" or id == "" then
      A.fail("add_groups", 2, ("group_ids[%d] must be a non-empty string, got %s"):format(i, A.got(id)))
    end
    ids[i] = id
  end
  return self._client:request("POST", path("add_groups", "/groups/multiple", campaign_id),
    { json = { group_ids = json.array(ids) } })
end

--- Every member of the campaign with its `dial_status` ("not_started",
-- "calling", "completed", "failed", "no_answer"): `{members, total}`.
-- @tparam string campaign_id
-- @return answer, resp | nil, err
function G:members(campaign_id)
  A.id(campaign_id, "campaign_id", "members", 1)
  return self._client:request("GET", path("members", "/members", campaign_id))
end

--- Removes every member of the campaign (the people groups are untouched).
-- @tparam string campaign_id
-- @return `{ok = "true"}`, resp | nil, err
function G:clear_members(campaign_id)
  A.id(campaign_id, "campaign_id", "clear_members", 1)
  return self._client:request("DELETE", path("clear_members", "/members", campaign_id))
end

return G
