--- Batches: outbound campaigns that call a list of recipients in waves.
--
-- The flow: `create` a batch (an agent or a workflow, the caller line,
-- the template's `variable_names`, `batch_size` calls per wave), add
-- recipients (`upload` JSON rows, `upload_csv` a file, or `upsert`),
-- `start` it, then `wait` until every recipient is finished.
--
-- What the API makes awkward, and what this module does about it:
--
-- * The paths put the verb on either side of the id
--   (`/batch-call/start/{id}` but `/batch-call/{id}/status`): here every
--   method takes the batch id first.
-- * Shapes vary: create answers `{success, message, data}` (the id is
--   `data.id`), status `{success, data = {batch, status_counts}}`, lists
--   an undocumented free-form object. `list`, `list_for_user` and
--   `recipients` return the array of rows whatever the wrapper. The
--   paged `browse` has walkers: `browse_pages` and `browse_items`.
-- * Progress is only visible by polling: `wait` polls `status` until
--   every recipient is finished and returns the final counts. It sleeps
--   through the client (ngx.sleep inside nginx), so it never blocks a
--   worker.
-- * `start` answers 409 while calls are in flight. A 409 is a business
--   conflict and is never retried (the pipeline's rule); the error
--   carries a hint.
-- * Recipients can be added or changed only before the batch starts.
--
--     local b = assert(client.batches:create { agent_id = agent, caller_phone_id = line,
--       batch_name = "Renewals", variable_names = { "name" }, batch_size = 5 })
--     local id = b.data.id
--     assert(client.batches:upload(id, { { to_phonenumber = "+15551234567", name = "Ada" } }))
--     assert(client.batches:start(id))
--     local counts = assert(client.batches:wait(id, { interval = 5 }))
-- @module kupe.resources.batches

local resource = require "kupe.resource"
local core = require "kupe.core"
local json = require "kupe.json"
local errors = require "kupe.errors"
local A = require "kupe.argcheck"

local B = "/api/v1/batch-call"
local ONE = B .. "/{batch_id}"

local G = resource.group("batches", {
  { "create", "POST", B .. "/create", custom = true, doc = "create a batch (201)" },
  { "upload", "POST", B .. "/upload-json/{batch_id}", custom = true,
    doc = "add recipients as JSON rows" },
  { "upsert", "POST", ONE .. "/data/upsert", custom = true,
    doc = "insert or update recipients before the start" },
  { "recipients", "GET", ONE .. "/data", custom = true, doc = "recipients and their status" },
  { "status", "GET", ONE .. "/status", custom = true, also = { "wait" },
    doc = "the batch and its status counts" },
  { "start", "POST", B .. "/start/{batch_id}", custom = true, doc = "start dialling (409 if busy)" },
  { "list", "GET", B .. "/me", custom = true, doc = "the caller's batches" },
  { "get", "GET", ONE, custom = true, doc = "one batch" },
  { "upload_csv", "POST", B .. "/upload/{batch_id}", custom = true,
    doc = "add recipients from a CSV file (multipart)" },
  { "set_variables", "PATCH", ONE .. "/variables", custom = true,
    doc = "change variable_names before the start" },
  { "remove_recipient", "DELETE", ONE .. "/data/{item_id}", custom = true,
    doc = "remove a recipient before the start" },
  { "delete", "DELETE", ONE, custom = true, doc = "delete a batch and its recipients" },
  { "browse", "GET", B .. "/browse", custom = true, also = { "browse_pages", "browse_items" },
    doc = "paged listing (super-admin)" },
  { "list_for_user", "GET", B .. "/user/{user_id}", custom = true,
    doc = "the batches of one user" },
  { "status_callback", "POST", B .. "/status-callback", custom = true,
    doc = "the carrier's call status callback" },
})

---------------------------------------------------------------------------
-- Argument checks

local function is_array(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == json.array_mt then return true end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

-- A copy of a list marked as a JSON array (the caller's table is left alone).
local function array_copy(list)
  local out = json.array()
  for i, v in ipairs(list) do out[i] = v end
  return out
end

local path = resource.path

-- A list of template variable names, as an array even when empty.
local function names_array(names, fname, n, where, depth)
  if not is_array(names) then
    A.fail(fname, n, where .. " must be an array of names", depth + 1)
  end
  local out = json.array()
  for i, name in ipairs(names) do
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
      A.fail(fname, n, ("%s[%d] must be a name of letters, digits and _"):format(where, i),
        depth + 1)
    end
    out[i] = name
  end
  return out
end

-- The array of rows in a list answer, whatever its wrapper: a bare
-- array, or an object holding one under data / items / batches / rows.
local function rows_of(data, resp, method, p)
  if type(data) == "table" then
    if data[1] ~= nil or getmetatable(data) == json.array_mt then return data, resp end
    for _, k in ipairs { "data", "items", "batches", "rows", "recipients" } do
      local v = data[k]
      if type(v) == "table" and (v[1] ~= nil or getmetatable(v) == json.array_mt) then
        return v, resp
      end
    end
  end
  return nil, errors.new { kind = "decode", status = resp.status, method = method, path = p,
    data = data, message = "expected a list of rows (an array, or an object with a 'data' array)" }
end

local STATUSES = { not_started = true, calling = true, completed = true, failed = true,
  no_answer = true }
local BATCH_STATUSES = { not_started = true, in_progress = true, completed = true }

---------------------------------------------------------------------------
-- Batches

local CREATE_KEYS = { agent_id = true, workflow_id = true, user_id = true,
  caller_phone_id = true, batch_name = true, description = true, status = true,
  variable_names = true, batch_size = true }

--- Creates a batch. The API answers 201 `{success, message, data}`; the
-- new batch (and its `id`) is `answer.data`.
-- @tparam table batch `caller_phone_id` and `batch_name` (required),
--   exactly one of `agent_id` / `workflow_id`, `variable_names` (the
--   `{{name}}` placeholders every recipient fills), `batch_size` (calls
--   per wave, >= 1, default 1), `description`, `status`, `user_id`
-- @return answer, resp | nil, err (400 unknown line or agent, 422)
-- @raise when a required field is missing, both or neither of agent_id
--   and workflow_id are given, batch_size is not an integer >= 1, or
--   status is not a batch status
function G:create(batch)
  if not A.is_object(batch) then A.fail("create", 1, "table expected, got " .. type(batch)) end
  A.known(batch, CREATE_KEYS, "create", 1)
  local body = A.copy(batch)
  for _, k in ipairs { "caller_phone_id", "batch_name" } do
    local v = batch[k]
    if type(v) ~= "string" or not v:match("%S") then
      A.fail("create", 1, k .. " is required (a non-empty string)")
    end
  end
  local agent = batch.agent_id ~= nil and batch.agent_id ~= json.null
  local workflow = batch.workflow_id ~= nil and batch.workflow_id ~= json.null
  if agent == workflow then A.fail("create", 1, "give exactly one of agent_id or workflow_id") end
  if batch.batch_size ~= nil and not (A.is_int(batch.batch_size) and batch.batch_size >= 1) then
    A.fail("create", 1, "batch_size must be an integer >= 1")
  end
  if batch.status ~= nil and not BATCH_STATUSES[batch.status] then
    A.fail("create", 1, 'status must be "not_started", "in_progress" or "completed"')
  end
  if batch.variable_names ~= nil then
    body.variable_names = names_array(batch.variable_names, "create", 1, "variable_names", 0)
  end
  return self._client:request("POST", B .. "/create", { json = body })
end

--- The caller's batches, newest first, as an array.
-- @return array, resp | nil, err
function G:list()
  local data, resp = self._client:request("GET", B .. "/me")
  if data == nil then return nil, resp end
  return rows_of(data, resp, "GET", B .. "/me")
end

--- The batches of one user (yourself, or anyone for a super-admin).
-- @tparam string user_id
-- @return array, resp | nil, err (403 for another user)
function G:list_for_user(user_id)
  A.id(user_id, "user_id", "list_for_user", 1)
  local p = path(B .. "/user/{user_id}", "list_for_user", user_id)
  local data, resp = self._client:request("GET", p)
  if data == nil then return nil, resp end
  return rows_of(data, resp, "GET", B .. "/user/{user_id}")
end

--- The paged listing of batches (super-admin scoping). Its parameters
-- are not documented: `params` goes to the query as given.
-- @tparam[opt] table params e.g. `{page = 1, page_size = 20}`
-- @return the answer (a page), resp | nil, err
function G:browse(params)
  if params ~= nil then A.table(params, nil, "browse", 1) end
  for _, k in ipairs { "page", "page_size" } do
    local v = params and params[k]
    if v ~= nil and not (A.is_int(v) and v >= 1) then
      A.fail("browse", 1, k .. " must be an integer >= 1")
    end
  end
  return self._client:request("GET", B .. "/browse", { query = params })
end

local function browse_spec(self, opts, fname)
  if opts ~= nil then A.table(opts, nil, fname, 1, 1) end
  return resource.walker_spec(self, B .. "/browse", {
    style = "page", items = "items", total = "total", default_size = 20, max_size = 100,
  })
end

--- Walks every page of `browse` lazily (default page_size 20, at most
-- 100); the other fields of `opts` go to the query as given.
-- @tparam[opt] table opts page (start), page_size, max_pages, filters
-- @return walker (see kupe.paginate)
function G:browse_pages(opts)
  return resource.pages(browse_spec(self, opts, "browse_pages"), opts, "browse_pages")
end

--- Walks every batch of every `browse` page lazily; `limit` caps the count.
-- @tparam[opt] table opts as for browse_pages, plus limit
-- @return walker (see kupe.paginate)
function G:browse_items(opts)
  return resource.items(browse_spec(self, opts, "browse_items"), opts, "browse_items")
end

--- One batch: its row (`status`, `variable_names`, `batch_size`, ...).
-- @tparam string batch_id
-- @return batch, resp | nil, err (404)
function G:get(batch_id)
  A.id(batch_id, "batch_id", "get", 1)
  return self._client:request("GET", path(ONE, "get", batch_id))
end

--- The batch and its progress: `{success, data = {batch, status_counts =
-- {not_started, calling, completed, failed, no_answer, total}}}`.
-- @tparam string batch_id
-- @return answer, resp | nil, err (404)
function G:status(batch_id)
  A.id(batch_id, "batch_id", "status", 1)
  return self._client:request("GET", path(ONE .. "/status", "status", batch_id))
end

--- Starts dialling: up to `batch_size` calls at once, refilled as calls
-- end. Returns at once; follow it with `wait` or `status`.
-- @tparam string batch_id
-- @return answer, resp | nil, err (409 while calls are in flight: never
--   retried; 400 when nobody is left to call)
function G:start(batch_id)
  A.id(batch_id, "batch_id", "start", 1)
  local data, err = self._client:request("POST", path(B .. "/start/{batch_id}", "start",
    batch_id))
  if data == nil and err.status == 409 then
    err.hint = "the batch is already calling: wait for it (batches:wait) before starting again"
  end
  return data, err
end

--- Deletes a batch and all its recipients.
-- @tparam string batch_id
-- @return answer, resp | nil, err (404)
function G:delete(batch_id)
  A.id(batch_id, "batch_id", "delete", 1)
  return self._client:request("DELETE", path(ONE, "delete", batch_id))
end

--- Changes the template variables every recipient must fill (before
-- the start).
-- @tparam string batch_id
-- @tparam {string,...} names e.g. `{"name", "plan"}` (may be empty)
-- @return answer, resp | nil, err (400 once started)
function G:set_variables(batch_id, names)
  A.id(batch_id, "batch_id", "set_variables", 1)
  local list = names_array(names, "set_variables", 2, "names", 0)
  return self._client:request("PATCH", path(ONE .. "/variables", "set_variables", batch_id),
    { json = { variable_names = list } })
end

---------------------------------------------------------------------------
-- Recipients

local function is_scalar(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean" or v == json.null
end

--- Adds recipients as flat JSON rows: `to_phonenumber` plus one key per
-- name in the batch's `variable_names`. The answer counts the rows
-- inserted and those refused (`inserted_count`, `failed_count`,
-- `failed_rows`: an unusable number, a missing variable); numbers are
-- stored as digits.
-- @tparam string batch_id
-- @tparam {table,...} records e.g. `{{to_phonenumber = "+15551234567", name = "Ada"}}`
-- @return answer, resp | nil, err (404 unknown batch, 400 once started)
-- @raise for an empty list, a row without to_phonenumber, or a nested value
function G:upload(batch_id, records)
  A.id(batch_id, "batch_id", "upload", 1)
  if not is_array(records) or #records == 0 then
    A.fail("upload", 2, "records must be a non-empty array of rows")
  end
  for i, r in ipairs(records) do
    if not A.is_object(r) then A.fail("upload", 2, ("records[%d] must be a table"):format(i)) end
    if type(r.to_phonenumber) ~= "string" or r.to_phonenumber == "" then
      A.fail("upload", 2, ("records[%d].to_phonenumber is required"):format(i))
    end
    for k, v in pairs(r) do
      if type(k) ~= "string" or not is_scalar(v) then
        A.fail("upload", 2, ("records[%d] must be flat: name = string, number or boolean"):format(i))
      end
    end
  end
  return self._client:request("POST", path(B .. "/upload-json/{batch_id}", "upload", batch_id),
    { json = { records = array_copy(records) } })
end

--- Adds recipients from a CSV file: a header row with `to_phonenumber`
-- and one column per variable. The file is streamed from disk by
-- libcurl (multipart/form-data, field `file`); `csv` sends text instead.
-- @tparam string batch_id
-- @tparam table opts `path` (a CSV file) or `csv` (its text), optional
--   `filename`
-- @return answer (as upload), resp | nil, err (kind "io" when the file
--   cannot be read; 400 for a CSV without to_phonenumber)
function G:upload_csv(batch_id, opts)
  A.id(batch_id, "batch_id", "upload_csv", 1)
  A.table(opts, nil, "upload_csv", 2)
  for k in pairs(opts) do
    if k ~= "path" and k ~= "csv" and k ~= "filename" then
      A.fail("upload_csv", 2, ("unknown option '%s'"):format(tostring(k)))
    end
  end
  if (opts.path == nil) == (opts.csv == nil) then
    A.fail("upload_csv", 2, "give path (a CSV file) or csv (its text)")
  end
  if opts.path ~= nil and (type(opts.path) ~= "string" or opts.path == "") then
    A.fail("upload_csv", 2, "path must be a non-empty string")
  end
  if opts.csv ~= nil and type(opts.csv) ~= "string" then
    A.fail("upload_csv", 2, "csv must be a string")
  end
  if opts.filename ~= nil and (type(opts.filename) ~= "string" or opts.filename == "") then
    A.fail("upload_csv", 2, "filename must be a non-empty string")
  end
  local part = { name = "file", type = "text/csv" }
  if opts.path then
    part.path = opts.path
    part.filename = opts.filename or opts.path:match("[^/]+$")
  else
    part.value = opts.csv
    part.filename = opts.filename or "recipients.csv"
  end
  return self._client:request("POST", path(B .. "/upload/{batch_id}", "upload_csv", batch_id),
    { form = { part } })
end

--- Inserts (no `id`) or updates (with `id`) recipients, before the start.
-- @tparam string batch_id
-- @tparam {table,...} items `{id =, to_phonenumber = (required),
--   variable_values = {...}}`
-- @return answer, resp | nil, err (404 unknown row, 400 once started)
function G:upsert(batch_id, items)
  A.id(batch_id, "batch_id", "upsert", 1)
  if not is_array(items) or #items == 0 then
    A.fail("upsert", 2, "items must be a non-empty array")
  end
  for i, item in ipairs(items) do
    if not A.is_object(item) then A.fail("upsert", 2, ("items[%d] must be a table"):format(i)) end
    if type(item.to_phonenumber) ~= "string" or item.to_phonenumber == "" then
      A.fail("upsert", 2, ("items[%d].to_phonenumber is required"):format(i))
    end
    if item.id ~= nil and (type(item.id) ~= "string" or item.id == "") then
      A.fail("upsert", 2, ("items[%d].id must be a non-empty string"):format(i))
    end
    if item.variable_values ~= nil and not A.is_object(item.variable_values) then
      A.fail("upsert", 2, ("items[%d].variable_values must be a table"):format(i))
    end
  end
  return self._client:request("POST", path(ONE .. "/data/upsert", "upsert", batch_id),
    { json = { items = array_copy(items) } })
end

--- The recipients of a batch and their call status, as an array of rows
-- (`id`, `to_phonenumber`, `variable_values`, `status`, `error_message`).
-- @tparam string batch_id
-- @tparam[opt] table opts `{status = "not_started" | "calling" |
--   "completed" | "failed" | "no_answer"}`
-- @return array, resp | nil, err (404)
function G:recipients(batch_id, opts)
  A.id(batch_id, "batch_id", "recipients", 1)
  if opts ~= nil then A.table(opts, nil, "recipients", 2) end
  local q
  for k, v in pairs(opts or {}) do
    if k ~= "status" then A.fail("recipients", 2, ("unknown option '%s'"):format(tostring(k))) end
    if not STATUSES[v] then
      A.fail("recipients", 2, "status must be one of not_started, calling, completed, failed, "
        .. "no_answer")
    end
    q = { status = v }
  end
  local p = path(ONE .. "/data", "recipients", batch_id)
  local data, resp = self._client:request("GET", p, { query = q })
  if data == nil then return nil, resp end
  return rows_of(data, resp, "GET", ONE .. "/data")
end

--- Removes one recipient (before the start).
-- @tparam string batch_id
-- @tparam string item_id the recipient row's id
-- @return answer, resp | nil, err (404)
function G:remove_recipient(batch_id, item_id)
  A.id(batch_id, "batch_id", "remove_recipient", 1)
  A.id(item_id, "item_id", "remove_recipient", 2)
  return self._client:request("DELETE", path(ONE .. "/data/{item_id}", "remove_recipient",
    batch_id, item_id))
end

--- Posts a carrier status callback (Twilio's form fields `CallSid`,
-- `CallStatus`, ...), as the carrier does; for tests and replays.
-- @tparam table fields e.g. `{CallSid = "CA...", CallStatus = "completed"}`
-- @return answer, resp | nil, err (400 without CallSid, 404 unknown call)
function G:status_callback(fields)
  if type(fields) ~= "table" or next(fields) == nil then
    A.fail("status_callback", 1, "a table of form fields is required")
  end
  for k, v in pairs(fields) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
      A.fail("status_callback", 1, "fields must be name = string or number")
    end
  end
  return self._client:request("POST", B .. "/status-callback", {
    body = core.encode_query(fields), content_type = "application/x-www-form-urlencoded",
  })
end

---------------------------------------------------------------------------
-- Waiting for the end

local function counts_of(answer)
  local d = type(answer) == "table" and answer.data
  local c = type(d) == "table" and d.status_counts
  if type(c) ~= "table" then return nil end
  return c, type(d.batch) == "table" and d.batch or nil
end

local function finished(c)
  return (tonumber(c.not_started) or 0) == 0 and (tonumber(c.calling) or 0) == 0
end

--- Polls `status` until every recipient is finished (none `not_started`
-- or `calling`), and returns the final counts.
--
-- Sleeps with `client:sleep` between polls (ngx.sleep inside nginx, so a
-- worker keeps serving). A failed poll ends the wait with its error (the
-- pipeline has already retried what it safely could).
-- @tparam string batch_id
-- @tparam[opt] table opts `interval` (seconds between polls, default 2),
--   `timeout` (seconds, default 3600), `on_progress(counts, batch)`
--   (called after every poll)
-- @return counts `{not_started, calling, completed, failed, no_answer,
--   total}`, resp | nil, err (`kind` "timeout" when the deadline passes,
--   with the last counts in `err.data`; "not_started" when the batch was
--   never started)
function G:wait(batch_id, opts)
  A.id(batch_id, "batch_id", "wait", 1)
  if opts ~= nil then A.table(opts, nil, "wait", 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "interval" and k ~= "timeout" and k ~= "on_progress" then
      A.fail("wait", 2, ("unknown option '%s'"):format(tostring(k)))
    end
  end
  local interval, timeout = opts.interval or 2, opts.timeout or 3600
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 then
    A.fail("wait", 2, "interval must be a number > 0")
  end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout <= 0 then
    A.fail("wait", 2, "timeout must be a number > 0")
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    A.fail("wait", 2, "on_progress must be a function")
  end
  local client = self._client
  local status_path = path(ONE .. "/status", "wait", batch_id)
  local deadline = client:now() + timeout
  while true do
    local answer, resp = client:request("GET", status_path)
    if answer == nil then return nil, resp end
    local counts, batch = counts_of(answer)
    if not counts then
      return nil, errors.new { kind = "decode", status = resp.status, method = "GET",
        path = ONE .. "/status", data = answer,
        message = "the status answer has no data.status_counts" }
    end
    if opts.on_progress then opts.on_progress(counts, batch) end
    if finished(counts) then return counts, resp end
    if batch and batch.status == "not_started" and (tonumber(counts.calling) or 0) == 0 then
      return nil, errors.new { kind = "not_started", method = "GET", path = ONE .. "/status",
        status = resp.status, data = counts, retryable = false,
        message = "the batch has not been started, so it will not finish",
        hint = "call batches:start(batch_id) first" }
    end
    local left = deadline - client:now()
    if left <= 0 then
      return nil, errors.new { kind = "timeout", method = "GET", path = ONE .. "/status",
        status = resp.status, data = counts, retryable = false,
        message = ("the batch was still calling after %g s (%s of %s recipients finished)")
          :format(timeout, tostring((tonumber(counts.total) or 0)
            - (tonumber(counts.not_started) or 0) - (tonumber(counts.calling) or 0)),
            tostring(counts.total)),
        hint = "raise timeout, or keep polling batches:status" }
    end
    client:sleep(math.min(interval, left))
  end
end

return G
