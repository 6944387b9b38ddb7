-- API keys (kupe-api.md section 14).
--
-- Store "api_keys": every key record, oldest first. After a reset it holds
-- one record per configured key (settings.api_keys, owned by the
-- account's user). POST /api/v1/api-keys generates a secret (or takes a
-- legacy client-supplied `api_key`) that authenticates at once as the
-- account's user: it is added to settings.api_keys with full scopes.
-- DELETE revokes softly: the record stays (inactive) and the key leaves
-- settings.api_keys, so the next request made with it gets 401. Secrets
-- appear only in the answer to POST; lists show `masked_key`.
-- `user_id` (query or body) may name the caller or a member of the
-- caller's organisation (store "accounts", routes/wallets.lua); another
-- user is 403. Keys created for another user are stored but do not
-- authenticate (the emulator has one identity).

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local rng = require "emu.rng"
local v = require "emu.validate"
local params = require "emu.params"

local db = state.store("api_keys")
local acc = state.store("accounts")

local KEY_ORDER = json.order {
  "id", "name", "key", "masked_key", "provider_name", "user_id", "is_active", "created_at",
  "updated_at", "revoked_at",
}

local function mask(secret)
  return "****" .. secret:sub(-4)
end

state.on_reset(function(s)
  db.keys = {}
  for i, entry in ipairs(s.api_keys) do
    local r = rng.new(s.seed, "api_key", i)
    local created = dataset.iso(dataset.ANCHOR - (120 - i) * 86400)
    db.keys[i] = { id = r:uuid(), name = i == 1 and "Default key" or ("Key " .. i),
      secret = entry.key, provider_name = "milli_chat_ai", user_id = state.user.user_id,
      is_active = true, created_at = created, updated_at = created }
  end
end)

local function public(k, with_secret)
  return setmetatable({
    id = k.id, name = k.name or json.null, key = with_secret and k.secret or nil,
    masked_key = mask(k.secret), provider_name = k.provider_name, user_id = k.user_id,
    is_active = k.is_active, created_at = k.created_at, updated_at = k.updated_at,
    revoked_at = k.revoked_at or json.null,
  }, KEY_ORDER)
end

-- The user a request acts for: the caller, or `user_id` when the caller
-- may manage that user.
local function acting_user(ctx, user_id, where)
  local me = state.user.user_id
  if user_id == nil or user_id == json.null or user_id == "" then return me end
  if not v.is_uuid(user_id) then
    v.fail_422 { v.problem("uuid_parsing", { where or "query", "user_id" },
      "Input should be a valid UUID, invalid character or length", user_id) }
  end
  user_id = user_id:lower()
  if user_id == me then return me end
  local u = acc.user_by_id[user_id]
  if not u or (u.org_id ~= acc.own_org_id and ctx.auth ~= "bearer") then
    v.fail(403, "You do not have access to this user's API keys")
  end
  return user_id
end

local function query_user(ctx)
  local q = ctx.query.user_id
  if type(q) == "table" then q = q[#q] end
  return acting_user(ctx, q)
end

local function list_for(user_id)
  local out = json.array()
  for _, k in ipairs(db.keys) do
    if k.user_id == user_id and k.is_active then out[#out + 1] = public(k) end
  end
  return 200, out
end

local function find(ctx)
  local id = params.uuid(ctx, "key_id")
  local owner = query_user(ctx)
  for _, k in ipairs(db.keys) do
    if k.id == id and k.is_active and k.user_id == owner then return k end
  end
  v.fail(404, "API key not found")
end

local function unregister(secret)
  local keys = state.settings.api_keys
  for i = #keys, 1, -1 do
    if keys[i].key == secret then table.remove(keys, i) end
  end
end

return function(router)
  router:add("POST", "/api/v1/api-keys", function(ctx)
    local body = v.body(ctx, { { "user_id", "uuid" }, { "provider_name", "str" },
      { "name", "str" }, { "api_key", "str" } })
    local owner = acting_user(ctx, body.user_id, "body")
    local secret = body.api_key
    if secret ~= nil and secret ~= json.null then
      if #secret < 16 then v.fail(400, "api_key must be at least 16 characters") end
      if state.api_key(secret) then v.fail(400, "This API key already exists") end
    else
      secret = "kupe_sk_" .. state.rng():hex(40)
    end
    local now = state.now_iso()
    local name = body.name
    if name == "" or name == json.null then name = nil end
    local k = { id = state.new_uuid(), name = name, secret = secret,
      provider_name = (body.provider_name ~= json.null and body.provider_name) or "milli_chat_ai",
      user_id = owner, is_active = true, created_at = now, updated_at = now }
    db.keys[#db.keys + 1] = k
    if owner == state.user.user_id then
      local keys = state.settings.api_keys
      keys[#keys + 1] = { key = secret, scopes = true }
    end
    return 200, { message = "API key created: store it now, it is not shown again",
      api_key = public(k, true) }
  end)

  router:add("GET", "/api/v1/api-keys/fetch", function(ctx)
    return list_for(query_user(ctx))
  end)

  router:add("GET", "/api/v1/api-keys/fetch/{user_id}", function(ctx)
    return list_for(acting_user(ctx, ctx.params.user_id, "path"))
  end)

  router:add("PATCH", "/api/v1/api-keys/{key_id}", function(ctx)
    local k = find(ctx)
    local body = v.body(ctx, { { "name", "str", required = true } })
    k.name = body.name ~= "" and body.name or nil
    k.updated_at = state.now_iso()
    return 200, { message = "API key updated", api_key = public(k) }
  end)

  router:add("DELETE", "/api/v1/api-keys/{key_id}", function(ctx)
    local k = find(ctx)
    k.is_active, k.revoked_at = false, state.now_iso()
    k.updated_at = k.revoked_at
    unregister(k.secret)
    return 200, { message = "API key revoked", id = k.id, revoked_at = k.revoked_at }
  end)

  router:add("POST", "/api/v1/api-keys/exists", function(ctx)
    local body = v.body(ctx, { { "user_id", "uuid", required = true },
      { "provider_name", "str", required = true } })
    local owner = acting_user(ctx, body.user_id, "body")
    for _, k in ipairs(db.keys) do
      if k.user_id == owner and k.is_active and k.provider_name == body.provider_name then
        return 200, true
      end
    end
    return 200, false
  end)
end
