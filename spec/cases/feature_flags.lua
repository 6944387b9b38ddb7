-- Feature flags: per-user booleans; updates need a Bearer session and
-- refuse markup fields. Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local cases, case = kit.registry()

  -- A user of the caller's organisation, and one of another organisation.
  local function colleague_and_stranger(c)
    local a = t.admin()
    local mine = assert(c.wallets:me())
    local colleague, stranger
    for _, w in ipairs(assert(a.wallets:users()).wallets) do
      if w.org_id == mine.org_id then
        if w.user_id ~= mine.user_id then colleague = w.user_id end
      else
        stranger = w.user_id
      end
    end
    return colleague, stranger, a
  end

  case("reads the caller's flags, all booleans", function()
    local c = t.client()
    local f = assert(c.feature_flags:me())
    assert.equal(assert(c:me()).user_id, f.user_id)
    local n = 0
    for _, value in pairs(f.feature_flags) do
      assert.is_boolean(value)
      n = n + 1
    end
    assert.is_true(n > 0)
    assert.is_true(f.feature_flags.call_logs)
    assert.same(f, assert(c.feature_flags:get(f.user_id)))
  end)

  case("reads a colleague's flags; 403 for another organisation's user, 404 unknown", function()
    local c = t.client()
    local colleague, stranger, a = colleague_and_stranger(c)
    assert.equal(colleague, assert(c.feature_flags:get(colleague)).user_id)
    local none, err = c.feature_flags:get(stranger)
    assert.is_nil(none)
    assert.equal(403, err.status)
    assert.equal(stranger, assert(a.feature_flags:get(stranger)).user_id, "a super_admin may")
    none, err = c.feature_flags:get(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("updates some flags from a Bearer session and keeps the others", function()
    local c = t.client()
    local colleague, _, a = colleague_and_stranger(c)
    local before = assert(c.feature_flags:get(colleague)).feature_flags
    local after = assert(a.feature_flags:update(colleague, { campaigns = true, call_logs = false }))
    assert.is_true(after.feature_flags.campaigns)
    assert.is_false(after.feature_flags.call_logs)
    assert.equal(before.webhooks, after.feature_flags.webhooks)
    assert.same(after, assert(c.feature_flags:get(colleague)))
  end)

  case("answers 403 to an update made with an API key", function()
    local c = t.client()
    local me = assert(c:me()).user_id
    local none, err = c.feature_flags:update(me, { campaigns = true })
    assert.is_nil(none)
    assert.equal(403, err.status)
    assert.is_false(assert(c.feature_flags:me()).feature_flags.campaigns)
  end)

  case("refuses markup fields and non-booleans: raises here, 400 and 422 from the API", function()
    local c = t.client()
    local me = assert(c:me()).user_id
    local before = t.requests()
    assert.has_error(function() c.feature_flags:update(me, { markup_percent = 20 }) end,
      "bad argument #2 to 'update' ('markup_percent': markup is set per organisation now, with wallets:set_markup)")
    assert.has_error(function() c.feature_flags:update(me, { campaigns = "yes" }) end,
      "bad argument #2 to 'update' (flags.campaigns must be a boolean, got string)")
    assert.has_error(function() c.feature_flags:update(me, {}) end,
      "bad argument #2 to 'update' (a non-empty table of flags expected, got an empty table)")
    local ok, msg = pcall(function() c.feature_flags:update(me, { beta = 1 }) end)
    assert.is_false(ok)
    assert.matches("feature_flags%.lua:%d+: bad argument #2 to 'update'", msg)
    assert.has_error(function() c.feature_flags:get() end)
    assert.equal(before, t.requests())
    local a = t.admin()
    local none, err = a:request("PUT", "/api/v1/feature-flags/" .. me, { json = { markup_percent = 20 } })
    assert.is_nil(none)
    assert.equal(400, err.status)
    assert.matches("markup", err.message)
    none, err = a:request("PUT", "/api/v1/feature-flags/" .. me, { json = { campaigns = "yes" } })
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.same({ "body", "campaigns" }, err.detail[1].loc)
  end)

  return cases
end
