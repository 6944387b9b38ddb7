-- API keys: create (secret shown once), list, rename, revoke (the key
-- stops working at once), exists. Shared by the libcurl specs and the
-- nginx specs. The secrets created here are never printed: comparisons
-- that involve one use assert.is_true with a message of their own.
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function find(list, id)
    for _, k in ipairs(list) do
      if k.id == id then return k end
    end
  end

  case("creates a key whose secret is shown once and works at once", function()
    local c = t.client()
    local key, resp = c.api_keys:create { name = "CI pipeline" }
    assert.is_table(key, tostring(resp))
    assert.equal("CI pipeline", key.name)
    assert.equal("milli_chat_ai", key.provider_name)
    assert.is_true(type(key.key) == "string" and #key.key >= 32, "a secret came back")
    assert.is_true(key.masked_key:sub(-4) == key.key:sub(-4), "the mask ends like the secret")

    local list, lresp = assert(c.api_keys:list())
    local listed = find(list, key.id)
    assert.is_table(listed)
    assert.is_nil(listed.key, "lists never carry the secret")
    assert.is_nil(lresp.body:find(key.key, 1, true), "the list answer does not contain the secret")

    local other = t.client { api_key = key.key }
    local me = assert(other:me())
    assert.equal("api_key", me.auth)
    assert.is_table(assert(other.api_keys:list()))
  end)

  case("revokes a key: the next request made with it gets 401", function()
    local c = t.client()
    local key = assert(c.api_keys:create { name = "temporary" })
    local holder = t.client { api_key = key.key, max_retries = 0 }
    assert(holder:me())
    local res = assert(c.api_keys:revoke(key.id))
    assert.equal(key.id, res.id)
    assert.is_string(res.revoked_at)
    local me, err = holder:me()
    assert.is_nil(me)
    assert.equal(401, err.status)
    assert.is_nil(tostring(err):find(key.key, 1, true), "the error does not show the key")
    assert.is_nil(find(assert(c.api_keys:list()), key.id), "a revoked key is not listed")
    local again, err2 = c.api_keys:revoke(key.id)
    assert.is_nil(again)
    assert.equal(404, err2.status)
    assert(c:me(), "the caller's own key still works")
  end)

  case("renames a key; an empty name clears the label", function()
    local c = t.client()
    local key = assert(c.api_keys:create { name = "old" })
    local res = assert(c.api_keys:rename(key.id, "Billing exports"))
    assert.equal("Billing exports", res.api_key.name)
    assert.equal("Billing exports", find(assert(c.api_keys:list()), key.id).name)
    res = assert(c.api_keys:rename(key.id, ""))
    assert.equal(kupe.null, res.api_key.name)
    local none, err = c.api_keys:rename(UNKNOWN, "x")
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.api_keys:rename("key-1", "x")
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  case("lists keys by user, in both path forms; 403 for a user the caller cannot manage", function()
    local c = t.client()
    local me = assert(c:me()).user_id
    local key = assert(c.api_keys:create { name = "listed" })
    local a = assert(c.api_keys:list { user_id = me })
    local b = assert(c.api_keys:list_for_user(me))
    assert.equal(#a, #b)
    assert.is_table(find(b, key.id))
    assert.equal("/api/v1/api-keys/fetch/" .. me, emu.stats().last_request.path)
    local none, err = c.api_keys:list { user_id = UNKNOWN }
    assert.is_nil(none)
    assert.equal(403, err.status)
    none, err = c.api_keys:list_for_user(UNKNOWN)
    assert.is_nil(none)
    assert.equal(403, err.status)
  end)

  case("manages the keys of a member of the caller's organisation", function()
    local c = t.client()
    local org = assert(c.wallets:me()).org_id
    local member
    for _, w in ipairs(assert(c.wallets:members(org)).wallets) do
      if w.user_id ~= assert(c:me()).user_id then member = w.user_id end
    end
    assert.same({}, assert(c.api_keys:list { user_id = member }))
    local key = assert(c.api_keys:create { user_id = member, name = "for a colleague" })
    assert.equal(member, key.user_id)
    assert.is_table(find(assert(c.api_keys:list_for_user(member)), key.id))
    assert.is_nil(find(assert(c.api_keys:list()), key.id), "not among the caller's own")
    local none, err = c.api_keys:revoke(key.id)
    assert.is_nil(none)
    assert.equal(404, err.status, "without user_id the caller's own keys are meant")
    assert(c.api_keys:rename(key.id, "renamed", { user_id = member }))
    assert(c.api_keys:revoke(key.id, { user_id = member }))
    assert.same({}, assert(c.api_keys:list { user_id = member }))
  end)

  case("tells whether a user has an active key for a provider", function()
    local c = t.client()
    local me = assert(c:me()).user_id
    assert.is_true(assert(c.api_keys:exists { user_id = me, provider_name = "milli_chat_ai" }))
    local has, resp = c.api_keys:exists { user_id = me, provider_name = "openai" }
    assert.is_false(has)
    assert.equal(200, resp.status)
    local key = assert(c.api_keys:create { provider_name = "openai" })
    assert.is_true(assert(c.api_keys:exists { user_id = me, provider_name = "openai" }))
    assert(c.api_keys:revoke(key.id))
    assert.is_false(c.api_keys:exists { user_id = me, provider_name = "openai" })
    local none, err = c.api_keys:exists { user_id = UNKNOWN, provider_name = "openai" }
    assert.is_nil(none)
    assert.equal(403, err.status)
  end)

  case("raises for caller mistakes before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.api_keys:exists { provider_name = "openai" } end,
      "bad argument #1 to 'exists' (user_id must be a UUID string, got nil)")
    assert.has_error(function() c.api_keys:rename(UNKNOWN) end,
      "bad argument #2 to 'rename' (name must be a string, got nil)")
    assert.has_error(function() c.api_keys:create { label = "x" } end,
      "bad argument #1 to 'create' (unknown field 'label')")
    assert.has_error(function() c.api_keys:list { user_id = "me" } end)
    local ok, msg = pcall(function() c.api_keys:revoke(UNKNOWN, { user_id = "me" }) end)
    assert.is_false(ok)
    assert.matches("api_keys%.lua:%d+: bad argument #2 to 'revoke' %(user_id must be a UUID string", msg)
    assert.has_error(function() c.api_keys:revoke("") end)
    assert.has_error(function() c.api_keys:list_for_user() end)
    assert.equal(before, t.requests())
  end)

  case("creates keys from a Bearer session too", function()
    local a = t.admin()
    local key = assert(a.api_keys:create { name = "from the dashboard" })
    assert(t.client { api_key = key.key }:me())
  end)

  return cases
end
