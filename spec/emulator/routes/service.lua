-- Service and current user (kupe-api.md section 2):
-- GET /health (public), GET /api/v1/me, GET /api/v1/me/users.

local json = require "emu.json"
local state = require "emu.state"

local ME_ORDER = json.order {
  "user_id", "email", "phone", "profile_image_url", "auth", "full_name", "user_metadata",
}
local HEALTH_ORDER = json.order { "status", "timestamp", "service", "database", "version" }

return function(router)
  router:add("GET", "/health", function()
    return 200, setmetatable({
      status = "healthy", timestamp = ngx.now(), service = "milli-ai-backend",
      database = "connected", version = "1.0.0",
    }, HEALTH_ORDER)
  end, { auth = false })

  router:add("GET", "/api/v1/me", function(ctx)
    local u = ctx.user
    return 200, setmetatable({
      user_id = u.user_id, email = state.settings.email, phone = u.phone,
      profile_image_url = u.profile_image_url, auth = ctx.auth, full_name = u.full_name,
      user_metadata = u.user_metadata,
    }, ME_ORDER)
  end)

  router:add("GET", "/api/v1/me/users", function()
    return 200, {
      users = json.array(), total = 0,
      message = "Enterprise access is not enabled for this account",
    }
  end)
end
