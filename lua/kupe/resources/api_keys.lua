--- API keys: create, list, rename, revoke.
--
-- The server generates the secret and shows it once, in the answer to
-- `create`: store it then (it is never listed again; lists carry a masked
-- form). A revoked key stops working at once. `user_id` is for org-level
-- management of another user's keys; without it the caller's own keys
-- are meant.
-- @module kupe.resources.api_keys

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local A = require "kupe.argcheck"

local ROOT, FETCH = "/api/v1/api-keys", "/api/v1/api-keys/fetch"
local FETCH_USER, ONE = "/api/v1/api-keys/fetch/{user_id}", "/api/v1/api-keys/{key_id}"
local EXISTS = "/api/v1/api-keys/exists"

local G = resource.group("api_keys", {
  { "create", "POST", ROOT, custom = true, doc = "create a key (the secret is shown once)" },
  { "list", "GET", FETCH, custom = true, doc = "active keys" },
  { "list_for_user", "GET", FETCH_USER, custom = true, doc = "active keys of a user (older form)" },
  { "rename", "PATCH", ONE, custom = true, doc = "change a key's label" },
  { "revoke", "DELETE", ONE, custom = true, doc = "revoke a key (at once)" },
  { "exists", "POST", EXISTS, custom = true, doc = "whether a user has an active key" },
})

--- Creates a key. The answer is `{message, api_key = {...}}`; this returns
-- the `api_key` object, whose `key` field is the secret, shown this once.
-- @tparam[opt] table args `name` (label), `provider_name` (server default
--   "milli_chat_ai"), `user_id` (UUID; another user, with org-level access)
-- @return the key object, resp | nil, err
function G:create(args)
  A.opts(args, "create", 1, true)
  args = args or {}
  A.known(args, { name = true, provider_name = true, user_id = true }, "create", 1)
  A.string(args.name, "name", "create", 1, { optional = true })
  A.string(args.provider_name, "provider_name", "create", 1, { optional = true, nonempty = true })
  A.uuid(args.user_id, "user_id", "create", 1, true)
  local data, resp = self._client:request("POST", ROOT, { json = A.copy(args) })
  if data == nil then return nil, resp end
  if type(data) ~= "table" or type(data.api_key) ~= "table" then
    return nil, errors.new { kind = "decode", status = resp.status, method = "POST", path = ROOT,
      message = "expected {message, api_key = {...}}" } -- no body: it may hold a secret
  end
  resp.data = data
  return data.api_key, resp
end

--- The active keys of the caller, or of `user_id` (org-level access, else
-- 403). Secrets are masked.
-- @tparam[opt] table args `user_id` (UUID)
-- @return array of key objects, resp | nil, err
function G:list(args)
  A.opts(args, "list", 1, true)
  args = args or {}
  A.known(args, { user_id = true }, "list", 1)
  A.uuid(args.user_id, "user_id", "list", 1, true)
  return self._client:request("GET", FETCH, { query = { user_id = args.user_id } })
end

--- The active keys of one user, through the older path form
-- `/api/v1/api-keys/fetch/{user_id}` (same answer as `list{user_id =}`).
-- @tparam string user_id
-- @return array of key objects, resp | nil, err
function G:list_for_user(user_id)
  A.id(user_id, "user_id", "list_for_user", 1)
  return self._client:request("GET", resource.path(FETCH_USER, "list_for_user", user_id))
end

local function scope_query(opts, fname, n)
  A.opts(opts, fname, n, true, 1)
  opts = opts or {}
  A.known(opts, { user_id = true }, fname, n, 1)
  A.uuid(opts.user_id, "user_id", fname, n, true, 1)
  return { user_id = opts.user_id }
end

--- Changes a key's label; an empty string clears it.
-- @tparam string key_id
-- @tparam string name
-- @tparam[opt] table opts `user_id` (scoped management of another user's key)
-- @return the answer, resp | nil, err (404 when unknown)
function G:rename(key_id, name, opts)
  A.id(key_id, "key_id", "rename", 1)
  A.string(name, "name", "rename", 2)
  local q = scope_query(opts, "rename", 3)
  return self._client:request("PATCH", resource.path(ONE, "rename", key_id),
    { json = { name = name }, query = q })
end

--- Revokes a key; requests made with it fail with 401 from then on.
-- @tparam string key_id
-- @tparam[opt] table opts `user_id`
-- @return the answer, resp | nil, err (404 when unknown or already revoked)
function G:revoke(key_id, opts)
  A.id(key_id, "key_id", "revoke", 1)
  local q = scope_query(opts, "revoke", 2)
  return self._client:request("DELETE", resource.path(ONE, "revoke", key_id), { query = q })
end

--- Whether a user has an active key for a provider.
-- @tparam table args `user_id` (UUID, required), `provider_name` (required)
-- @return true or false, resp | nil, err
function G:exists(args)
  A.opts(args, "exists", 1)
  A.known(args, { user_id = true, provider_name = true }, "exists", 1)
  A.uuid(args.user_id, "user_id", "exists", 1)
  A.string(args.provider_name, "provider_name", "exists", 1, { nonempty = true })
  local data, resp = self._client:request("POST", EXISTS,
    { json = { user_id = args.user_id, provider_name = args.provider_name } })
  if data == nil then return nil, resp end
  if type(data) ~= "boolean" then
    return nil, errors.new { kind = "decode", status = resp.status, method = "POST", path = EXISTS,
      body = resp.body, message = "expected true or false" }
  end
  return data, resp
end

return G
