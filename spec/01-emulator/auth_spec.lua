-- Authentication and the credential rules (kupe-api.md 1.2), health, me.

local emu = require "spec.helpers.emulator"
local json = emu.json

describe("auth", function()
  setup(function() emu.start() end)
  before_each(function() emu.reset() end)

  it("serves /health without credentials", function()
    local status, body, headers = emu.request_json("GET", "/health", { auth = false })
    assert.equal(200, status)
    assert.equal("application/json", headers["content-type"])
    assert.equal("healthy", body.status)
    assert.equal("connected", body.database)
    assert.equal("number", type(body.timestamp))
  end)

  it("answers 401 with a FastAPI detail without credentials", function()
    local status, body, headers = emu.request_json("GET", "/api/v1/me", { auth = false })
    assert.equal(401, status)
    assert.equal("string", type(body.detail))
    assert.equal("Bearer", headers["www-authenticate"])
  end)

  it("answers 401 for a wrong key or token and never echoes it", function()
    local status, _, _, raw = emu.request_json("GET", "/api/v1/me",
      { headers = { ["x-api-key"] = "wrong_secret_123" } })
    assert.equal(401, status)
    assert.is_nil(raw:find("wrong_secret_123", 1, true))
    status, _, _, raw = emu.request_json("GET", "/api/v1/me",
      { headers = { authorization = "Bearer bad_token_456" } })
    assert.equal(401, status)
    assert.is_nil(raw:find("bad_token_456", 1, true))
    status = emu.request("GET", "/api/v1/me", { headers = { authorization = "Basic dXNlcg==" } })
    assert.equal(401, status)
  end)

  it("accepts x-api-key and Bearer and says which in /api/v1/me", function()
    local status, me = emu.request_json("GET", "/api/v1/me")
    assert.equal(200, status)
    assert.equal("api_key", me.auth)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", me.user_id)
    assert.equal("ops@example.test", me.email)
    for _, k in ipairs { "phone", "profile_image_url", "full_name", "user_metadata" } do
      assert.is_not_nil(me[k], k)
    end
    status, me = emu.request_json("GET", "/api/v1/me",
      { headers = { authorization = "Bearer " .. emu.BEARER } })
    assert.equal(200, status)
    assert.equal("bearer", me.auth)
  end)

  it("uses the keys and tokens that reset configures", function()
    emu.reset { api_keys = { { key = "k2" } }, bearer_tokens = { "t2" }, email = emu.null }
    assert.equal(401, (emu.request("GET", "/api/v1/me")))
    assert.equal(200, (emu.request("GET", "/api/v1/me", { api_key = "k2" })))
    local status, me = emu.request_json("GET", "/api/v1/me",
      { headers = { authorization = "bearer t2" } })
    assert.equal(200, status)
    assert.equal(json.null, me.email)
  end)

  it("forbids a key without scopes on /api/v1/** except /api/v1/me", function()
    emu.reset { api_keys = { { key = "noscope", scopes = false } } }
    local status, body = emu.request_json("GET", "/api/v1/providers/model", { api_key = "noscope" })
    assert.equal(403, status)
    assert.same({ detail = "Forbidden: API Key does not have required scopes" }, body)
    assert.equal(200, (emu.request("GET", "/api/v1/me", { api_key = "noscope" })))
  end)

  it("limits a key to the path prefixes it is scoped to", function()
    emu.reset { api_keys = { { key = "agents_only", scopes = { "/api/v1/agents" } } } }
    assert.equal(200, (emu.request("GET", "/api/v1/agents", { api_key = "agents_only" })))
    assert.equal(403, (emu.request("GET", "/api/v1/phone", { api_key = "agents_only" })))
  end)

  it("forbids billing writes with an API key but not reads", function()
    local status, body = emu.request_json("POST", "/api/v1/billing/usage/export")
    assert.equal(403, status)
    assert.equal("string", type(body.detail))
    -- a read passes the rule
    assert.equal(200, (emu.request("GET", "/api/v1/billing/credit-balance")))
  end)

  it("answers unknown routes 404 and wrong methods 405 in FastAPI's words", function()
    local status, body = emu.request_json("GET", "/api/v1/nothing-here")
    assert.equal(404, status)
    assert.same({ detail = "Not Found" }, body)
    local headers
    status, body, headers = emu.request_json("DELETE", "/api/v1/me")
    assert.equal(405, status)
    assert.same({ detail = "Method Not Allowed" }, body)
    assert.equal("GET", headers.allow)
    assert.equal(404, (emu.request("GET", "/nowhere", { auth = false })))
  end)

  it("redirects a trailing slash like FastAPI (307)", function()
    local status, _, headers = emu.request("GET", "/api/v1/agents/?page=1")
    assert.equal(307, status)
    assert.equal(emu.start().url .. "/api/v1/agents?page=1", headers.location)
  end)

  it("lists the accessible users as an empty list with a message", function()
    local status, body, _, raw = emu.request_json("GET", "/api/v1/me/users")
    assert.equal(200, status)
    assert.matches('"users":%[%]', raw)
    assert.equal("string", type(body.message))
  end)
end)
