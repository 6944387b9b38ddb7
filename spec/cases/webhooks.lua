-- Webhooks: the per-agent settings, the secret (masked, revealed,
-- rotated), the test delivery to a receiver on loopback (the emulator's
-- other host), and the signed start-call webhook. Shared by the libcurl
-- specs and the nginx specs.
local assert = require "luassert"
local kupe = require "kupe"
local webhook = require "kupe.webhook"
local kit = require "spec.helpers.case_kit"

local UNKNOWN, raises = kit.UNKNOWN, kit.raises

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function agents()
    local list = emu.info().agents
    return list[2].id, list[3].id
  end

  -- A client, an agent whose start-call webhook is on, and its secret.
  local function incoming_on(defaults)
    local c = t.client()
    local agent = agents()
    assert(c.webhooks:update(agent, { incoming = { enabled = true,
      attached_variables = defaults or kupe.array() } }))
    local cfg = assert(c.webhooks:get(agent, { reveal_secret = true }))
    return c, agent, cfg.incoming.secret
  end

  case("lists every agent's webhook URLs, unwrapped from {agents}", function()
    local c = t.client()
    local list, resp = assert(c.webhooks:list())
    assert.equal(200, resp.status)
    assert.equal(3, #list)
    for _, a in ipairs(list) do
      assert.matches("/api/v1/webhooks/agents/" .. a.agent_id:gsub("%-", "%%-") .. "/incoming$",
        a.incoming_webhook_url)
      assert.is_false(a.incoming_enabled)
    end
  end)

  case("shows the settings with the secret masked unless revealed", function()
    local c = t.client()
    local agent = agents()
    local cfg = assert(c.webhooks:get(agent))
    assert.equal(agent, cfg.agent_id)
    assert.is_false(cfg.incoming.enabled)
    assert.is_false(cfg.outgoing.enabled)
    assert.matches("^whsec_%*%*%*%*", cfg.incoming.secret)
    assert.equal("", emu.stats().last_request.query)
    local shown = assert(c.webhooks:get(agent, { reveal_secret = true }))
    assert.equal("reveal_secret=true", emu.stats().last_request.query)
    assert.matches("^whsec_%x+$", shown.incoming.secret)
    assert.equal(cfg.incoming.secret:sub(-4), shown.incoming.secret:sub(-4))
    raises("reveal_secret must be a boolean", function() c.webhooks:get(agent, { reveal_secret = 1 }) end)
    raises("unknown option 'reveal'", function() c.webhooks:get(agent, { reveal = true }) end)
  end)

  case("updates the settings by merging, and mirrors them into the agent", function()
    local c = t.client()
    local agent = agents()
    local cfg = assert(c.webhooks:update(agent, { trigger_on_web_call = false,
      outgoing = { enabled = true, url = "https://crm.example/hook", retry_count = 3 } }))
    assert.is_false(cfg.trigger_on_web_call)
    assert.is_true(cfg.trigger_on_phone_call)
    assert.equal("https://crm.example/hook", cfg.outgoing.url)
    assert.equal("POST", cfg.outgoing.method)
    cfg = assert(c.webhooks:update(agent, { outgoing = { retry_count = 1 } }))
    assert.equal("https://crm.example/hook", cfg.outgoing.url, "merged, not replaced")
    assert.equal(1, cfg.outgoing.retry_count)
    local bundle = assert(c.agents:get(agent))
    local mirrored = bundle.configurations.agent_specific_config.webhooks
    assert.equal("https://crm.example/hook", mirrored.outgoing.url)
    assert.is_nil(mirrored.incoming.secret)
    local list = assert(c.webhooks:list())
    for _, a in ipairs(list) do
      if a.agent_id == agent then assert.is_true(a.outgoing_enabled) end
    end
  end)

  case("reports the API's refusals of settings", function()
    local c = t.client()
    local agent = agents()
    local cfg, err = c.webhooks:update(agent, { trigger_on_web_call = "maybe" })
    assert.is_nil(cfg)
    assert.equal(422, err.status)
    assert.matches("trigger_on_web_call", err.message)
    cfg, err = c.webhooks:update(agent, { outgoing = { url = "ftp://crm.example" } })
    assert.is_nil(cfg)
    assert.equal(400, err.status)
    cfg, err = c.webhooks:update(agent, { outgoing = { enabled = true } })
    assert.is_nil(cfg)
    assert.equal(400, err.status)
    assert.matches("outgoing.url is required", err.message)
    raises("settings table expected", function() c.webhooks:update(agent, "x") end)
  end)

  case("answers 404 for an unknown agent and 400 for a malformed id", function()
    local c = t.client()
    for _, call in ipairs {
      function() return c.webhooks:get(UNKNOWN) end,
      function() return c.webhooks:update(UNKNOWN, {}) end,
      function() return c.webhooks:rotate_secret(UNKNOWN) end,
      function() return c.webhooks:test_outgoing(UNKNOWN) end,
      function() return c.webhooks:trigger(UNKNOWN, { phoneNumber = "+15551234567" }, "s") end,
    } do
      local none, err = call()
      assert.is_nil(none)
      assert.equal(404, err.status)
    end
    local none, err = c.webhooks:get("agent-7")
    assert.is_nil(none)
    assert.equal(400, err.status)
    raises("agent_id must be a non%-empty string", function() c.webhooks:rotate_secret() end)
  end)

  case("delivers a sample call-ended payload to the outgoing URL", function()
    local c = t.client()
    local agent = agents()
    local url = t.env().other_url .. "/crm/hook?src=kupe"
    assert(c.webhooks:update(agent, { outgoing = { enabled = true, url = url,
      headers = { ["X-Crm-Key"] = "k1" }, auth = { type = "bearer", token = "crm-token" } } }))
    local before = #emu.stats().other_host
    local r, resp = assert(c.webhooks:test_outgoing(agent))
    assert.equal(200, resp.status)
    assert.is_true(r.success)
    local log = emu.stats().other_host
    assert.equal(before + 1, #log)
    local got = log[#log]
    assert.equal("POST", got.method)
    assert.equal("/crm/hook?src=kupe", got.uri)
    assert.equal("Bearer crm-token", got.headers.authorization)
    assert.equal("k1", got.headers["x-crm-key"])
    local event = assert(webhook.parse(got.body))
    assert.equal("call_completed", event.type)
    assert.equal("current", event.version)
    assert.equal(agent, event.agent_id)
    assert.is_number(event.duration)
    assert.is_string(event.lead.status)
  end)

  case("answers 502 when the receiver fails or cannot be reached, without retrying", function()
    local c = t.client()
    local agent = agents()
    local none, err = c.webhooks:test_outgoing(agent)
    assert.is_nil(none)
    assert.equal(400, err.status)
    assert.matches("outgoing", err.message)
    for _, url in ipairs { t.env().url .. "/no-receiver-here", "http://127.0.0.1:1/hook",
      "http://192.0.2.1/hook" } do
      assert(c.webhooks:update(agent, { outgoing = { url = url } }))
      none, err = c.webhooks:test_outgoing(agent)
      assert.is_nil(none)
      assert.equal(502, err.status)
      assert.equal(1, err.attempts)
      assert.matches("Webhook receiver failed", err.message)
      assert.matches("outgoing.url", err.hint)
    end
  end)

  case("starts a call through the signed start-call webhook", function()
    local c, agent, secret = incoming_on { { name = "plan", default_value = "basic" },
      { name = "slot", default_value = "9 am" } }
    local call, resp = assert(c.webhooks:trigger(agent, { phoneNumber = "+919800000001",
      name = "Meera", variable_values = { slot = "4 pm" } }, secret))
    assert.equal(200, resp.status)
    assert.equal("success", call.status)
    assert.same({ name = "Meera", plan = "basic", slot = "4 pm" }, call.variable_values)
    local last = emu.stats().last_request
    assert.equal("/api/v1/webhooks/agents/" .. agent .. "/incoming", last.path)
    assert.equal("application/json", last.headers["content-type"])
    assert.equal(webhook.sign(last.body, secret), last.headers["x-webhook-signature"])
    assert.is_true(webhook.verify(last.body, last.headers["x-webhook-signature"], secret))
    local session = assert(c.call_logs:get(call.request_id))
    assert.equal(agent, session.agent_id)
    assert.equal("+919800000001", session.to_number)
    -- the JSON text itself is signed and sent as is
    local text = '{"to_number": "+15551234567"}'
    call = assert(c.webhooks:trigger(agent, text, secret))
    assert.equal("+15551234567", call.target_number)
    assert.equal(text, emu.stats().last_request.body)
  end)

  case("answers 401 for a wrong or rotated secret, and 403 while incoming is off", function()
    local c, agent, secret = incoming_on()
    local call, err = c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }, "whsec_wrong")
    assert.is_nil(call)
    assert.equal(401, err.status)
    assert.matches("rotate_secret", err.hint)
    local rotated = assert(c.webhooks:rotate_secret(agent))
    assert.matches("^whsec_%x+$", rotated.secret)
    assert.not_equal(secret, rotated.secret)
    call, err = c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }, secret)
    assert.is_nil(call)
    assert.equal(401, err.status)
    assert(c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }, rotated.secret))
    local _, off = agents()
    local cfg = assert(c.webhooks:get(off, { reveal_secret = true }))
    call, err = c.webhooks:trigger(off, { phoneNumber = "+15551234567" }, cfg.incoming.secret)
    assert.is_nil(call)
    assert.equal(403, err.status)
  end)

  case("reports a failed or queued call from the start-call webhook like create_call", function()
    local c, agent, secret = incoming_on()
    emu.config { create_call = "failed" }
    local call, err = c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }, secret)
    assert.is_nil(call)
    assert.equal("call_failed", err.kind)
    assert.equal(200, err.status)
    assert.equal("failed", err.data.status)
    emu.config { create_call = "queued" }
    local resp
    call, resp = assert(c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }, secret))
    assert.equal(202, resp.status)
    assert.equal("queued", call.status)
  end)

  case("raises for a start-call body without a destination or a missing secret", function()
    local c, agent, secret = incoming_on()
    local before = t.requests("POST /api/v1/webhooks/agents/{agent_id}/incoming")
    raises("phoneNumber %(or to_number / phone_number%) is required",
      function() c.webhooks:trigger(agent, { variable_values = {} }, secret) end)
    raises("phoneNumber must be a non%-empty string",
      function() c.webhooks:trigger(agent, { phoneNumber = 15551234567 }, secret) end)
    raises("secret must be a non%-empty string",
      function() c.webhooks:trigger(agent, { phoneNumber = "+15551234567" }) end)
    raises("body table or JSON string expected",
      function() c.webhooks:trigger(agent, nil, secret) end)
    assert.equal(before, t.requests("POST /api/v1/webhooks/agents/{agent_id}/incoming"))
    local call, err = c.webhooks:trigger(agent, "{}", secret)
    assert.is_nil(call)
    assert.equal(400, err.status)
  end)

  return cases
end
