--- Earnings of reseller organisations (`channel_partner`, `distributor`):
-- markup and commission sums over a period.
--
-- Only the org_admin of a reseller organisation may read its own
-- earnings, and only a super_admin those of any organisation; anyone else
-- gets 403 (an `internal` organisation earns nothing to report).
-- @module kupe.resources.earnings

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local ORG = "/api/v1/earnings/orgs/{org_id}"

local G = resource.group("earnings", {
  { "me", "GET", "/api/v1/earnings/me", custom = true, doc = "the caller's org earnings" },
  { "breakdown", "GET", "/api/v1/earnings/me/breakdown", custom = true,
    doc = "the caller's org earnings in time buckets" },
  { "org", "GET", ORG, custom = true, doc = "any org's earnings (super_admin)" },
})

--- The documented periods; the server's default is "month".
G.PERIODS = { "day", "week", "month", "year", "all" }

-- The query for a period argument: nil, a string, or {period = ...}.
local function period_query(v, fname, n)
  if type(v) == "table" then
    A.known(v, { period = true }, fname, n, 1)
    v = v.period
  end
  A.enum(v, "period", G.PERIODS, fname, n, true, 1)
  return { period = v }
end

--- The caller's organisation earnings summary.
-- @tparam[opt] string|table period "day", "week", "month" (default),
--   "year", "all", or `{period = ...}`
-- @return the summary, resp | nil, err (403 unless org_admin of a reseller org)
-- @raise on a period outside the documented values
function G:me(period)
  local q = period_query(period, "me", 1)
  return self._client:request("GET", "/api/v1/earnings/me", { query = q })
end

--- The caller's organisation earnings in time buckets.
-- @tparam[opt] string|table period as `me`
-- @return the breakdown, resp | nil, err (403 as `me`)
function G:breakdown(period)
  local q = period_query(period, "breakdown", 1)
  return self._client:request("GET", "/api/v1/earnings/me/breakdown", { query = q })
end

--- Any organisation's earnings summary (super_admin only).
-- @tparam string org_id
-- @tparam[opt] string|table period as `me`
-- @return the summary, resp | nil, err (403, 404)
function G:org(org_id, period)
  A.id(org_id, "org_id", "org", 1)
  local q = period_query(period, "org", 2)
  return self._client:request("GET", resource.path(ORG, "org", org_id), { query = q })
end

return G
