--- Wallets: balances, grants, the ledger, monthly caps, and the business
-- settings of organisations.
--
-- Reads work with an API key or a Bearer session, as the caller's role
-- allows (own wallet; org_admin: the org's members; super_admin: all).
-- Every write (`grant`, `set_cap`, `adjust`, `set_business_model`,
-- `set_commission`, `set_markup`) needs a Bearer session with an admin
-- role: with an API key the API answers 403, which comes back as
-- `nil, err` with a hint. The write bodies are not documented beyond
-- field hints, so they are passed through as given; only `org_type` has
-- documented values and is checked. Answers are free-form objects.
-- @module kupe.resources.wallets

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local WALLET = "/api/v1/wallets/{wallet_id}"
local MEMBERS = "/api/v1/wallets/orgs/{org_id}/members"

local G = resource.group("wallets", {
  { "me", "GET", "/api/v1/wallets/me", custom = true, doc = "the caller's wallet summary" },
  { "get", "GET", WALLET, custom = true, doc = "one wallet with grants and ledger" },
  { "users", "GET", "/api/v1/wallets/users", custom = true, doc = "user wallets (super_admin)" },
  { "orgs", "GET", "/api/v1/wallets/orgs", custom = true, doc = "org wallets (super_admin)" },
  { "members", "GET", MEMBERS, custom = true, doc = "member wallets of an org" },
  { "grant", "POST", WALLET .. "/grants", custom = true, doc = "assign credits" },
  { "set_cap", "POST", WALLET .. "/cap", custom = true, doc = "set or clear the monthly cap" },
  { "adjust", "POST", WALLET .. "/adjust", custom = true, doc = "ledger adjustment" },
  { "set_business_model", "POST", "/api/v1/orgs/{org_id}/business-model", custom = true,
    doc = "an org's type: internal, channel_partner, distributor" },
  { "set_commission", "POST", "/api/v1/orgs/{org_id}/commission", custom = true,
    doc = "a reseller org's commission" },
  { "set_markup", "POST", "/api/v1/orgs/{org_id}/markup", custom = true,
    doc = "a reseller org's markup and currency" },
})

--- The documented organisation types.
G.ORG_TYPES = { "internal", "channel_partner", "distributor" }

--- The caller's wallet: balance, monthly-cap usage, metadata. Its `id` is
-- what `get` takes.
-- @return the summary, resp | nil, err
function G:me()
  return self._client:request("GET", "/api/v1/wallets/me")
end

--- One wallet with its grants, ledger entries and upcoming expiries.
-- @tparam string wallet_id
-- @return the wallet, resp | nil, err (403 not yours to see, 404 unknown)
function G:get(wallet_id)
  A.id(wallet_id, "wallet_id", "get", 1)
  return self._client:request("GET", resource.path(WALLET, "get", wallet_id))
end

--- Every user wallet (super_admin only, else 403).
-- @return the answer, resp | nil, err
function G:users()
  return self._client:request("GET", "/api/v1/wallets/users")
end

--- Every organisation wallet (super_admin only, else 403).
-- @return the answer, resp | nil, err
function G:orgs()
  return self._client:request("GET", "/api/v1/wallets/orgs")
end

--- The member wallets of an organisation (its org_admin, or super_admin).
-- @tparam string org_id
-- @return the answer, resp | nil, err (403, 404)
function G:members(org_id)
  A.id(org_id, "org_id", "members", 1)
  return self._client:request("GET", resource.path(MEMBERS, "members", org_id))
end

local BEARER_HINT = "wallet and organisation changes need a Bearer session (a dashboard login) "
  .. "with an admin role; API keys cannot make them"

-- Sends a write; a 403 answered to an API key gets a hint saying why.
local function send(self, path, body)
  local data, err = self._client:request("POST", path, { json = body })
  if data == nil and err.status == 403 and self._client._auth == "api_key" then
    err.hint = BEARER_HINT
  end
  return data, err
end

-- A POST with an id in the path and a free-form body table. Its checks
-- raise at the public method's caller: call it without a tail call.
local function post(self, fname, template, id, idname, body)
  A.id(id, idname, fname, 1, 1)
  A.table(body, "body", fname, 2, 1)
  return send(self, resource.path(template, fname, id), body)
end

--- Assigns credits to a wallet (an org_admin debits the org wallet, a
-- super_admin mints). Bearer session only.
-- @tparam string wallet_id
-- @tparam table body e.g. `{amount_usd = 25, expires_at = "2027-01-01T00:00:00Z", note = "..."}`
-- @return the answer, resp | nil, err (403 with an API key)
function G:grant(wallet_id, body)
  local data, err = post(self, "grant", WALLET .. "/grants", wallet_id, "wallet_id", body)
  return data, err
end

--- Sets or clears (`monthly_cap_usd = kupe.null`) a wallet's monthly USD
-- spend cap. Bearer session only.
-- @tparam string wallet_id
-- @tparam table body e.g. `{monthly_cap_usd = 100}`
-- @return the answer, resp | nil, err
function G:set_cap(wallet_id, body)
  local data, err = post(self, "set_cap", WALLET .. "/cap", wallet_id, "wallet_id", body)
  return data, err
end

--- A ledger adjustment without a grant row (super_admin, Bearer only).
-- @tparam string wallet_id
-- @tparam table body e.g. `{amount_usd = -5, reason = "refund reversal"}`
-- @return the answer, resp | nil, err
function G:adjust(wallet_id, body)
  local data, err = post(self, "adjust", WALLET .. "/adjust", wallet_id, "wallet_id", body)
  return data, err
end

--- Sets an organisation's type (super_admin, Bearer only).
-- @tparam string org_id
-- @tparam string|table org_type "internal", "channel_partner" or
--   "distributor", or a body `{org_type = ...}`
-- @return the answer, resp | nil, err
-- @raise when org_type is not one of the documented values
function G:set_business_model(org_id, org_type)
  A.id(org_id, "org_id", "set_business_model", 1)
  local body
  if type(org_type) == "table" then
    body = A.copy(org_type)
    A.enum(body.org_type, "org_type", G.ORG_TYPES, "set_business_model", 2)
  else
    A.enum(org_type, "org_type", G.ORG_TYPES, "set_business_model", 2)
    body = { org_type = org_type }
  end
  return send(self, resource.path("/api/v1/orgs/{org_id}/business-model", "set_business_model",
    org_id), body)
end

--- Sets a reseller organisation's commission (super_admin, Bearer only).
-- @tparam string org_id
-- @tparam table body e.g. `{commission_percent = 10}`
-- @return the answer, resp | nil, err
function G:set_commission(org_id, body)
  local data, err = post(self, "set_commission", "/api/v1/orgs/{org_id}/commission", org_id,
    "org_id", body)
  return data, err
end

--- Sets a reseller organisation's markup and its currency (the reseller's
-- org_admin or super_admin, Bearer only). Markup lives on the
-- organisation, not on users (feature flags refuse markup fields).
-- @tparam string org_id
-- @tparam table body e.g. `{markup_percent = 20, currency = "INR"}`
-- @return the answer, resp | nil, err
function G:set_markup(org_id, body)
  local data, err = post(self, "set_markup", "/api/v1/orgs/{org_id}/markup", org_id, "org_id",
    body)
  return data, err
end

return G
