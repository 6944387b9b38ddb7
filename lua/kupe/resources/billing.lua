--- Billing and usage: what calls cost, per session, per period, in total.
--
-- Every billing route is a GET: with an API key the API refuses any other
-- method under /api/v1/billing (403), so there is nothing here that
-- writes. Answers are free-form JSON objects (USD) and are returned as
-- they come. `records` pages by `limit`/`offset` or by `page`/`page_size`
-- and puts the rows under `grouped_sessions`; `record_pages` and
-- `record_items` walk every page with the shared walkers.
-- @module kupe.resources.billing

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local RECORDS = "/api/v1/billing/usage/records"
local SESSION = "/api/v1/billing/usage/sessions/{session_id}"
local EXPORT = "/api/v1/billing/usage/export"

local G = resource.group("billing", {
  { "usage_records", "GET", "/api/v1/billing/usage-records", custom = true,
    doc = "usage and credits per call session" },
  { "records", "GET", RECORDS, custom = true, also = { "record_pages", "record_items" },
    doc = "usage rows grouped by session, one page" },
  { "summary", "GET", "/api/v1/billing/usage/summary", custom = true,
    doc = "usage buckets and totals for charts" },
  { "overview", "GET", "/api/v1/billing/usage/overview", custom = true,
    doc = "total and this-month duration and cost" },
  { "credit_balance", "GET", "/api/v1/billing/credit-balance", custom = true,
    doc = "wallet-backed balance and monthly cap" },
  { "session", "GET", SESSION, custom = true, doc = "usage and cost of one call session" },
  { "export", "GET", EXPORT, custom = true, doc = "email a CSV of usage" },
})

--- `usage_type` values the API documents.
G.USAGE_TYPES = { "calls", "chat", "embedding" }
--- `time_period` values of `summary`.
G.TIME_PERIODS = { "day", "week", "month", "4months", "year", "all" }

--- Usage and credits organised per call session.
-- @return the answer (free-form object), resp | nil, err
function G:usage_records()
  return self._client:request("GET", "/api/v1/billing/usage-records")
end

local RECORD_PARAMS = {
  time_filter = "string", usage_type = "usage_type", search = "string",
  limit = "count", offset = "count", page = "count", page_size = "count",
  scope = "string", organization_ids = "ids", owner_user_ids = "ids",
}

-- Validates the query of records (and of its walkers, minus the walk
-- options); returns a copy. depth: frames between this and the method.
local function record_query(params, fname, depth, walking)
  local q = {}
  for k, v in pairs(params) do
    local want = RECORD_PARAMS[k]
    if not want or (walking and (k == "limit" or k == "offset" or k == "page")) then
      A.fail(fname, 1, ("unknown parameter '%s'"):format(tostring(k)), depth + 1)
    end
    if want == "count" then
      A.int(v, k, fname, 1, 0, nil, false, depth + 1)
    elseif want == "usage_type" then
      A.enum(v, k, G.USAGE_TYPES, fname, 1, false, depth + 1)
    elseif want == "ids" then
      if type(v) == "table" then v = table.concat(A.string_list(v, k, fname, 1, nil, depth + 1), ",") end
      A.string(v, k, fname, 1, nil, depth + 1)
    else
      A.string(v, k, fname, 1, nil, depth + 1)
    end
    q[k] = v
  end
  if (q.limit or q.offset) and (q.page or q.page_size) then
    A.fail(fname, 1, "page with limit/offset, or with page/page_size, not both", depth + 1)
  end
  return q
end

--- One page of usage rows grouped by call session:
-- `{grouped_sessions = {...}, total = n, ...}`.
-- @tparam[opt] table params `limit` (default 50), `offset` (default 0), or
--   `page` + `page_size`; `time_filter` (default "all"), `usage_type`
--   ("calls", "chat", "embedding"), `search`; super-admin `scope`,
--   `organization_ids`, `owner_user_ids` (string or list)
-- @return the page, resp | nil, err
-- @raise on an unknown parameter, a negative count, both paging styles
function G:records(params)
  A.opts(params, "records", 1, true)
  local q = record_query(params or {}, "records", 0)
  return self._client:request("GET", RECORDS, { query = q })
end

local WALK_OPTIONS = { limit = true, max_pages = true, page_size = true }

-- The walkers' body. The public methods tail-call it, so their frames are
-- gone and its caller is the user's code: checks here use depth 0, and the
-- tail call into kupe.paginate keeps its messages pointing there too.
local function walk(self, opts, fname, mode)
  A.opts(opts, fname, 1, true)
  local params, walk_opts = {}, {}
  for k, v in pairs(opts or {}) do
    if WALK_OPTIONS[k] then walk_opts[k] = v else params[k] = v end
  end
  for k, v in pairs(record_query(params, fname, 0, true)) do walk_opts[k] = v end
  local spec = resource.walker_spec(self, RECORDS, {
    style = "offset", items = "grouped_sessions", total = "total",
    default_size = 50, max_size = 1000,
  })
  return (mode == "pages" and resource.pages or resource.items)(spec, walk_opts, fname)
end

--- Walks every page of `records` lazily, by `limit`/`offset`.
-- @tparam[opt] table opts the filters of `records` (no paging fields),
--   plus `page_size` (rows per request, 1..1000, default 50), `max_pages`
-- @return walker (see kupe.paginate: a `for` iterator, `:each(fn)`, `:all()`)
function G:record_pages(opts)
  return walk(self, opts, "record_pages", "pages") -- a tail call (see walk)
end

--- Walks every grouped session of every page; `limit` caps the count.
-- @tparam[opt] table opts as `record_pages`, plus `limit`
-- @return walker
function G:record_items(opts)
  return walk(self, opts, "record_items", "items") -- a tail call (see walk)
end

--- Usage buckets and totals for charts.
-- @tparam[opt] table params `time_period` ("day", "week", "month",
--   "4months", "year", "all"; server default "all"), `scope`
-- @return the answer, resp | nil, err
function G:summary(params)
  A.opts(params, "summary", 1, true)
  params = params or {}
  A.known(params, { time_period = true, scope = true }, "summary", 1)
  A.enum(params.time_period, "time_period", G.TIME_PERIODS, "summary", 1, true)
  A.string(params.scope, "scope", "summary", 1, { optional = true })
  return self._client:request("GET", "/api/v1/billing/usage/summary", { query = params })
end

--- Total and this-month duration and cost for the caller's scope.
-- @tparam[opt] table params `user_id` (UUID): one user the caller may see
--   (403 otherwise)
-- @return the answer, resp | nil, err
function G:overview(params)
  A.opts(params, "overview", 1, true)
  params = params or {}
  A.known(params, { user_id = true }, "overview", 1)
  A.uuid(params.user_id, "user_id", "overview", 1, true)
  return self._client:request("GET", "/api/v1/billing/usage/overview", { query = params })
end

--- The wallet-backed balance the dashboard shows (`credit_balance_usd`,
-- `available_balance_usd`, monthly cap fields when a cap is set). For
-- grants and ledger lines use `wallets:get(wallets:me().id)`.
-- @return the answer, resp | nil, err
function G:credit_balance()
  return self._client:request("GET", "/api/v1/billing/credit-balance")
end

--- Usage and cost of one call session.
-- @tparam string session_id the call session's id
-- @return the answer, resp | nil, err (404 when unknown or not visible)
function G:session(session_id)
  A.id(session_id, "session_id", "session", 1)
  return self._client:request("GET", resource.path(SESSION, "session", session_id))
end

local EXPORT_PARAMS = { time_filter = true, usage_type = true, session_types = true,
  agent_ids = true, from_date = true, to_date = true }

--- Asks the server to email a CSV of usage (there is no download: the
-- answer is a JSON acknowledgement). The account needs an email address,
-- else `nil, err` with `err.status == 400`.
-- @tparam[opt] table params `time_filter`, `usage_type`, `session_types`
--   and `agent_ids` (string or list), `from_date`, `to_date` ("YYYY-MM-DD")
-- @return the acknowledgement, resp | nil, err
-- @raise on a malformed date, from_date after to_date, an unknown field
function G:export(params)
  A.opts(params, "export", 1, true)
  params = params or {}
  A.known(params, EXPORT_PARAMS, "export", 1)
  local q = {}
  q.time_filter = A.string(params.time_filter, "time_filter", "export", 1, { optional = true })
  q.usage_type = A.enum(params.usage_type, "usage_type", G.USAGE_TYPES, "export", 1, true)
  for _, k in ipairs { "session_types", "agent_ids" } do
    local v = params[k]
    if type(v) == "table" then v = table.concat(A.string_list(v, k, "export", 1), ",") end
    q[k] = A.string(v, k, "export", 1, { optional = true })
  end
  q.from_date = A.date(params.from_date, "from_date", "export", 1, true)
  q.to_date = A.date(params.to_date, "to_date", "export", 1, true)
  if q.from_date and q.to_date and q.from_date > q.to_date then
    A.fail("export", 1, "from_date is after to_date")
  end
  return self._client:request("GET", EXPORT, { query = q })
end

return G
