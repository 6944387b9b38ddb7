--- Authentication and the credential rules of the API (kupe-api.md 1.2).
--
-- `x-api-key: <key>` or `Authorization: Bearer <token>`; both map to the
-- one account. With an API key:
-- * a key configured with `scopes = false` gets 403 on /api/v1/** except
--   /api/v1/me; `scopes = {"/api/v1/agents", ...}` allows those prefixes;
-- * only GET, HEAD and OPTIONS are allowed under /api/v1/billing/**.
-- Credentials are never put into an answer.

local state = require "emu.state"
local validate = require "emu.validate"

local M = {}

local SCOPES_DETAIL = "Forbidden: API Key does not have required scopes"
local READ_METHODS = { GET = true, HEAD = true, OPTIONS = true }

local function first(v)
  if type(v) == "table" then return v[1] end
  return v
end

local function scopes_allow(scopes, path)
  if scopes == true then return true end
  if type(scopes) == "table" then
    for _, prefix in ipairs(scopes) do
      if type(prefix) == "string" and path:sub(1, #prefix) == prefix then return true end
    end
  end
  return false
end

--- Check the request's credentials; sets `ctx.user`, `ctx.auth` and
-- `ctx.api_key` or raises 401/403.
function M.check(ctx)
  local unauthorized = { ["WWW-Authenticate"] = "Bearer" }
  local key = first(ctx.headers["x-api-key"])
  if key then
    local entry = state.api_key(key)
    if not entry then validate.fail(401, "Invalid API key", unauthorized) end
    ctx.auth, ctx.api_key = "api_key", entry
  else
    local authorization = first(ctx.headers["authorization"])
    if not authorization then
      validate.fail(401, "Not authenticated", unauthorized)
    end
    local token = authorization:match("^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
    if not token or not state.bearer_ok(token) then
      validate.fail(401, "Invalid or expired token", unauthorized)
    end
    ctx.auth = "bearer"
  end
  ctx.user = state.user

  if ctx.auth == "api_key" then
    local path = ctx.path
    if path:sub(1, 8) == "/api/v1/" and path ~= "/api/v1/me"
        and not scopes_allow(ctx.api_key.scopes, path) then
      validate.fail(403, SCOPES_DETAIL)
    end
    if (path == "/api/v1/billing" or path:sub(1, 16) == "/api/v1/billing/")
        and not READ_METHODS[ctx.method] then
      validate.fail(403, "Billing changes need a Bearer session: API keys may only read "
        .. "/api/v1/billing (GET)")
    end
  end
end

return M
