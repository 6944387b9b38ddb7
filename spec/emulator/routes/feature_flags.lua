-- Feature flags (kupe-api.md 11.3): per-user booleans.
--
-- Users come from the directory in store "accounts" (routes/wallets.lua).
-- GET: the caller, any user of the caller's organisation (the caller is
-- its org_admin), or anyone with a Bearer session (super_admin); 403 for
-- other users, 404 for unknown ones. PUT needs a Bearer session (403 with
-- an API key), takes a flat object of booleans, merges it into the
-- user's flags and answers them all; a markup field is refused with 400
-- (markup moved to the organisation), a non-boolean value with 422.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"

local acc = state.store("accounts")
local db = state.store("feature_flags")

local ANSWER_ORDER = json.order { "user_id", "feature_flags" }

local DEFAULTS = { call_analytics = true, call_logs = true, feature_outbound = true,
  feature_batch_calls = true, knowledge_base = true, campaigns = false, webhooks = true }

local function flags_of(user_id)
  local f = db[user_id]
  if not f then
    f = {}
    for k, x in pairs(DEFAULTS) do f[k] = x end
    if user_id ~= state.user.user_id then f.feature_outbound, f.feature_batch_calls = false, false end
    db[user_id] = f
  end
  return f
end

local function answer(user_id)
  local copy = {}
  for k, x in pairs(flags_of(user_id)) do copy[k] = x end
  return 200, setmetatable({ user_id = user_id, feature_flags = copy }, ANSWER_ORDER)
end

local function target(ctx)
  local id = params.uuid(ctx, "user_id")
  local u = acc.user_by_id[id]
  if not u then v.fail(404, "User not found") end
  if id ~= state.user.user_id and ctx.auth ~= "bearer" and u.org_id ~= acc.own_org_id then
    v.fail(403, "You cannot manage this user's feature flags")
  end
  return id
end

return function(router)
  router:add("GET", "/api/v1/feature-flags/me", function()
    return answer(state.user.user_id)
  end)

  router:add("GET", "/api/v1/feature-flags/{user_id}", function(ctx)
    return answer(target(ctx))
  end)

  router:add("PUT", "/api/v1/feature-flags/{user_id}", function(ctx)
    if ctx.auth ~= "bearer" then
      v.fail(403, "Feature flags can only be changed from a Bearer session")
    end
    local id = target(ctx)
    local body = v.body(ctx, {})
    local problems, names = {}, {}
    for k in pairs(body) do names[#names + 1] = tostring(k) end
    table.sort(names)
    for _, k in ipairs(names) do
      if k:lower():find("markup", 1, true) then
        v.fail(400, ("'%s' is not a feature flag: billing markup is set per organization "
          .. "(POST /api/v1/orgs/{org_id}/markup)"):format(k))
      end
      if type(body[k]) ~= "boolean" then
        problems[#problems + 1] = v.problem("bool_type", { "body", k },
          "Input should be a valid boolean", body[k])
      end
    end
    if #problems > 0 then v.fail_422(problems) end
    local f = flags_of(id)
    for _, k in ipairs(names) do f[k] = body[k] end
    return answer(id)
  end)
end
