--- Feature flags: per-user booleans that gate parts of the product (call
-- logs, outbound calling, ...).
--
-- Flags are booleans only. Per-user billing markup used to live here and
-- moved to the organisation (`wallets:set_markup`); the API refuses markup
-- fields, and `update` refuses them before sending, with that pointer.
-- @module kupe.resources.feature_flags

local resource = require "kupe.resource"
local A = require "kupe.argcheck"

local ONE = "/api/v1/feature-flags/{user_id}"

local G = resource.group("feature_flags", {
  { "me", "GET", "/api/v1/feature-flags/me", custom = true, doc = "the caller's flags" },
  { "get", "GET", ONE, custom = true, doc = "a user's flags" },
  { "update", "PUT", ONE, custom = true, doc = "change a user's flags (booleans only)" },
})

--- The caller's flags.
-- @return `{user_id =, feature_flags = {name = boolean, ...}}`, resp | nil, err
function G:me()
  return self._client:request("GET", "/api/v1/feature-flags/me")
end

--- Another user's flags (the caller must manage that user: 403 otherwise).
-- @tparam string user_id
-- @return the flags answer, resp | nil, err (403, 404)
function G:get(user_id)
  A.id(user_id, "user_id", "get", 1)
  return self._client:request("GET", resource.path(ONE, "get", user_id))
end

--- Changes some of a user's flags; the others keep their values. Needs a
-- Bearer session with rights over the user (403 otherwise).
-- @tparam string user_id
-- @tparam table flags `{call_logs = true, feature_outbound = false, ...}`
-- @return the user's flags after the change, resp | nil, err
-- @raise when a value is not a boolean or a name is a markup field
function G:update(user_id, flags)
  A.id(user_id, "user_id", "update", 1)
  if type(flags) ~= "table" or next(flags) == nil then
    A.fail("update", 2, "a non-empty table of flags expected, got "
      .. (type(flags) == "table" and "an empty table" or type(flags)))
  end
  local body = {}
  for name, value in pairs(flags) do
    if type(name) ~= "string" then
      A.fail("update", 2, "flag names must be strings, got " .. type(name))
    end
    if name:lower():find("markup", 1, true) then
      A.fail("update", 2, ("'%s': markup is set per organisation now, with wallets:set_markup")
        :format(name))
    end
    A.boolean(value, "flags." .. name, "update", 2)
    body[name] = value
  end
  return self._client:request("PUT", resource.path(ONE, "update", user_id), { json = body })
end

return G
