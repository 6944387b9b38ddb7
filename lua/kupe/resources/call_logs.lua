--- Call logs: call sessions, their pages, and exports.
--
-- `GET /api/v1/call-analytics` has three modes in one route (one session
-- by `request_id`, a page with `page` + `page_size`, the whole list with
-- neither); here they are three methods, plus walkers over every page.
-- Sessions of HIPAA-flagged agents come without `post_call_analysis_results`,
-- transcript or recording: they are passed through unchanged.
-- @module kupe.resources.call_logs

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local PATH = "/api/v1/call-analytics"
local EXPORT = "/api/v1/call-analytics/export"

local G = resource.group("call_logs", {
  { "list", "GET", PATH, custom = true, also = { "get", "pages", "sessions" },
    doc = "call sessions: one page, or the whole list" },
  { "export", "GET", EXPORT, custom = true,
    doc = "ZIP of one session, or a date range (emailed)" },
})

local LIST_PARAMS = {
  page = "number", page_size = "number", filter = "string", scope = "string",
  organization_ids = "ids", owner_user_ids = "ids", platform_roles = "ids",
}

-- Validates list parameters before anything is sent; returns the query.
local function list_query(params, fname, depth)
  if params == nil then return {} end
  A.table(params, nil, fname, 1, depth + 1)
  local q = {}
  for k, v in pairs(params) do
    local want = LIST_PARAMS[k]
    if not want then A.fail(fname, 1, ("unknown parameter '%s'"):format(tostring(k)), depth + 1) end
    if want == "ids" then
      if type(v) == "table" then v = table.concat(v, ",") end
      if type(v) ~= "string" then A.fail(fname, 1, k .. " must be a string or an array of strings", depth + 1) end
    elseif type(v) ~= want then
      A.fail(fname, 1, ("%s must be a %s, got %s"):format(k, want, type(v)), depth + 1)
    end
    q[k] = v
  end
  local size, page = q.page_size, q.page
  if size ~= nil and (size ~= math.floor(size) or size < 1 or size > 100) then
    A.fail(fname, 1, "page_size must be an integer from 1 to 100", depth + 1)
  end
  if page ~= nil and (page ~= math.floor(page) or page < 1) then
    A.fail(fname, 1, "page must be an integer >= 1", depth + 1)
  end
  return q
end

--- One page `{items, total, page, page_size}` when `page` or `page_size`
-- is given, else the server's full list (an array).
-- @tparam[opt] table params page, page_size (1..100), filter, scope,
--   organization_ids, owner_user_ids
-- @return page or array, resp | nil, err
-- @raise when page_size is outside 1..100 or a parameter is unknown
function G:list(params)
  local q = list_query(params, "list", 0)
  if q.page_size and not q.page then q.page = 1 end
  if q.page and not q.page_size then q.page_size = 100 end
  return self._client:request("GET", PATH, { query = q })
end

--- One session by its request id; `nil, err` with `err.status == 404`
-- when there is none.
function G:get(request_id)
  if type(request_id) ~= "string" or request_id == "" then
    A.fail("get", 1, "request_id must be a non-empty string, got " .. type(request_id))
  end
  return self._client:request("GET", PATH, { query = { request_id = request_id } })
end

local function walk_spec(self, opts, fname)
  if opts ~= nil then A.table(opts, nil, fname, 1, 1) end
  local params = {}
  for k, v in pairs(opts or {}) do
    if k ~= "limit" and k ~= "max_pages" then params[k] = v end
  end
  list_query(params, fname, 1) -- validate before the first request
  return resource.walker_spec(self, PATH, {
    style = "page", items = "items", total = "total", default_size = 100, max_size = 100,
  })
end

--- Walks every page lazily (default page_size 100).
-- @tparam[opt] table opts list parameters, plus page (start), max_pages
-- @return walker (see kupe.paginate for the failure protocol)
function G:pages(opts)
  return resource.pages(walk_spec(self, opts, "pages"), opts, "pages")
end

--- Walks every session of every page lazily; `limit` caps the count.
function G:sessions(opts)
  return resource.items(walk_spec(self, opts, "sessions"), opts, "sessions")
end

local function is_date(s)
  return type(s) == "string" and s:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil
end

--- Exports call logs.
--
-- With `request_id`: the session's ZIP, streamed to `path` (written to a
-- temporary file beside it and renamed when complete, so a failed download
-- leaves nothing) or to `sink(chunk)`; returns `{path, bytes, content_type}`.
-- With `start_date` and `end_date` (YYYY-MM-DD): the server usually emails
-- the ZIP; its JSON answer is returned with `emailed = true`.
-- The content type decides which answer it is, never a guess.
-- @tparam table opts request_id | start_date, end_date; include_recordings;
--   path | sink; on_progress(received, total_or_nil); stall_time, timeout
-- @return result, resp | nil, err
function G:export(opts)
  A.table(opts, nil, "export", 1)
  local q = {}
  if opts.request_id ~= nil then
    if type(opts.request_id) ~= "string" or opts.request_id == "" then
      A.fail("export", 1, "request_id must be a non-empty string")
    end
    if opts.start_date or opts.end_date then
      A.fail("export", 1, "give request_id or start_date and end_date, not both")
    end
    q.request_id = opts.request_id
  elseif opts.start_date ~= nil or opts.end_date ~= nil then
    if not (is_date(opts.start_date) and is_date(opts.end_date)) then
      A.fail("export", 1, "start_date and end_date must both be YYYY-MM-DD strings")
    end
    q.start_date, q.end_date = opts.start_date, opts.end_date
  else
    A.fail("export", 1, "request_id, or start_date and end_date, is required")
  end
  if opts.include_recordings ~= nil then
    if type(opts.include_recordings) ~= "boolean" then
      A.fail("export", 1, "include_recordings must be a boolean")
    end
    q.include_recordings = opts.include_recordings
  end
  if opts.size ~= nil then q.size = opts.size end -- the emulator's size knob
  A.download_to(opts, "export", 1, q.request_id and "a ZIP export needs path or sink")

  local file, resp, data = resource.download(self._client, EXPORT, q, opts, "application/zip")
  if file then return file, resp end
  if file == nil then return nil, resp end
  local ctype = resp.content_type or ""
  if ctype:find("json", 1, true) then
    local answer, err = require("kupe.json").decode(data)
    if type(answer) ~= "table" then
      return nil, require("kupe.errors").new { kind = "decode", status = resp.status,
        method = "GET", path = EXPORT, message = "the server sent malformed JSON", cause = err,
        body = data }
    end
    answer.emailed = true
    return answer, resp
  end
  return nil, require("kupe.errors").new { kind = "decode", status = resp.status,
    method = "GET", path = EXPORT, body = data, headers = resp.headers,
    message = ("expected application/zip or a JSON answer, got %s"):format(
      resp.content_type or "no content type"),
    hint = (opts.path == nil and opts.sink == nil) and "pass path or sink to receive a ZIP" or nil }
end

return G
