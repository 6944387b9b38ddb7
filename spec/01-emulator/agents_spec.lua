-- Agent management: list shapes, create (full and simple), stats, get,
-- update with deep merge, delete, PATCH *-config, and the force rules.

local emu = require "spec.helpers.emulator"

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function call(method, path, opts)
  return emu.request_json(method, path, opts)
end

local FULL = {
  agent = { name = "Clinic Reception 2", welcome_message = "Hello, you've reached the clinic." },
  agent_model_config = { model_name = "gpt-4.1", temperature = 0.4,
    system_prompt = "Book appointments politely." },
  transcriber_config = { transcriber_model_name = "deepgram_nova_3", language = "en" },
  tts_config = { tts_model_name = "bulbul:v2", voice_name = "priya", language = "en-IN" },
  agent_specific_config = { session_timeout = 240, time_to_cut = 20,
    end_call_message_mode = "context_aware", background_noise_id = "office_noise.wav",
    background_noise_volume = 30 },
}

describe("agents", function()
  local summary, active, inactive
  setup(function() emu.start() end)
  before_each(function()
    summary = emu.reset()
    for _, a in ipairs(summary.agents) do
      if a.is_active then active = active or a.id else inactive = inactive or a.id end
    end
  end)
  after_each(function() active, inactive = nil, nil end)

  it("lists agents as an array, or paged with page/page_size/scope", function()
    local status, list = call("GET", "/api/v1/agents")
    assert.equal(200, status)
    assert.is_true(emu.json.is_array(list))
    assert.equal(3, #list)
    for _, a in ipairs(list) do
      assert.matches(UUID, a.id)
      assert.equal(summary.user_id, a.user_id)
      assert.equal("boolean", type(a.is_active))
    end
    local _, paged = call("GET", "/api/v1/agents", { query = { page = 1, page_size = 2 } })
    assert.equal(3, paged.total)
    assert.equal(2, #paged.items)
    assert.equal(1, paged.page)
    local _, scoped = call("GET", "/api/v1/agents", { query = { scope = "mine" } })
    assert.equal(20, scoped.page_size)
    local bad = call("GET", "/api/v1/agents", { query = { scope = "everyone" } })
    assert.equal(422, bad)
  end)

  it("creates an agent in full (201) and stores welcome_message as first_response_message",
    function()
      local status, b = call("POST", "/api/v1/agents", { body = FULL })
      assert.equal(201, status)
      assert.equal("valid", b.validation_status)
      assert.matches(UUID, b.agent.id)
      assert.equal("Clinic Reception 2", b.agent.name)
      assert.is_true(b.agent.is_active)
      assert.equal("Hello, you've reached the clinic.", b.agent.first_response_message)
      local c = b.configurations
      assert.equal("gpt-4.1", c.model_config.model_name)
      assert.equal("Book appointments politely.", c.model_config.system_prompt)
      assert.equal("priya", c.tts_config.voice_name)
      assert.equal("en-IN", c.tts_config.voice_parameters.language)
      assert.equal("deepgram_nova_3", c.transcriber_config.transcriber_model_name)
      assert.equal(240, c.agent_specific_config.session_timeout)
      assert.equal(370, c.agent_specific_config.max_output_tokens)   -- a platform default
      for _, k in ipairs { "vad_config", "inferencing_config", "tools" } do
        assert.is_not_nil(c[k], k)
      end
      local _, got = call("GET", "/api/v1/agents/" .. b.agent.id)
      assert.same(b, got)
      local _, list = call("GET", "/api/v1/agents")
      assert.equal(4, #list)
      assert.equal(b.agent.id, list[1].id)
    end)

  it("validates the create body (422) and the catalog names (400)", function()
    local status, body = call("POST", "/api/v1/agents", { body = { agent = {} } })
    assert.equal(422, status)
    assert.same({ "body", "agent", "name" }, body.detail[1].loc)
    status, body = call("POST", "/api/v1/agents",
      { body = { agent = { name = "x" }, agent_specific_config = { session_timeout = 0 } } })
    assert.equal(422, status)
    assert.equal("greater_than_equal", body.detail[1].type)
    status = call("POST", "/api/v1/agents", { body = "{not json" })
    assert.equal(422, status)
    status, body = call("POST", "/api/v1/agents",
      { body = { agent = { name = "x" }, agent_model_config = { model_name = "gpt-99" } } })
    assert.equal(400, status)
    assert.matches("gpt%-99", body.detail)
  end)

  it("creates with defaults through /simple (201)", function()
    local status, b = call("POST", "/api/v1/agents/simple",
      { body = { name = "Quickstart Agent", description = "Uses platform defaults" } })
    assert.equal(201, status)
    assert.equal("Quickstart Agent", b.agent.name)
    assert.equal("Uses platform defaults", b.agent.description)
    assert.equal("valid", b.validation_status)
    assert.equal(422, (call("POST", "/api/v1/agents/simple", { body = {} })))
  end)

  it("counts agents in /stats", function()
    local status, s = call("GET", "/api/v1/agents/stats")
    assert.equal(200, status)
    assert.equal(3, s.total_agents)
    assert.equal(s.total_agents, s.active_agents + s.inactive_agents)
    assert.equal(250, s.total_calls)
  end)

  it("answers 400 for a malformed id and 404 for an unknown one", function()
    local status, body = call("GET", "/api/v1/agents/not-a-uuid")
    assert.equal(400, status)
    assert.equal("string", type(body.detail))
    status, body = call("GET", "/api/v1/agents/00000000-0000-4000-8000-000000000000")
    assert.equal(404, status)
    assert.same({ detail = "Agent not found" }, body)
  end)

  it("needs force_update=true to change an active agent", function()
    local status, body = call("PUT", "/api/v1/agents/" .. active,
      { body = { agent = { description = "changed" } } })
    assert.equal(400, status)
    assert.matches("force_update", body.detail)
    status, body = call("PUT", "/api/v1/agents/" .. active,
      { query = { force_update = "true" }, body = { agent = { description = "changed" } } })
    assert.equal(200, status)
    assert.equal("changed", body.agent.description)
    status = call("PUT", "/api/v1/agents/" .. inactive, { body = { agent = { name = "Renamed" } } })
    assert.equal(200, status)
  end)

  it("deep-merges agent_specific_config on update", function()
    local path = "/api/v1/agents/" .. inactive
    call("PUT", path, { body = { agent_specific_config = { session_timeout = 600,
      webhooks = { outgoing = { enabled = true, url = "https://crm.example.test/hook" } } } } })
    local status, b = call("PUT", path, { body = { agent_specific_config = {
      timezone = "Europe/London", webhooks = { outgoing = { retry_count = 3 } } } } })
    assert.equal(200, status)
    local c = b.configurations.agent_specific_config
    assert.equal(600, c.session_timeout)
    assert.equal("Europe/London", c.timezone)
    assert.same({ enabled = true, url = "https://crm.example.test/hook", retry_count = 3 },
      c.webhooks.outgoing)
  end)

  it("needs force_delete=true to delete an active agent", function()
    local status, body = call("DELETE", "/api/v1/agents/" .. active)
    assert.equal(400, status)
    assert.matches("force_delete", body.detail)
    status, body = call("DELETE", "/api/v1/agents/" .. active,
      { query = { force_delete = "true" } })
    assert.equal(200, status)
    assert.equal("string", type(body.message))
    assert.equal(404, (call("GET", "/api/v1/agents/" .. active)))
    assert.equal(200, (call("DELETE", "/api/v1/agents/" .. inactive)))
  end)

  it("patches the model, TTS, transcriber and VAD configs with the same force rule", function()
    local base = "/api/v1/agents/" .. active
    local status = call("PATCH", base .. "/model-config", { body = { temperature = 0.1 } })
    assert.equal(400, status)
    local force = { force_update = "true" }
    local b
    status, b = call("PATCH", base .. "/model-config",
      { query = force, body = { model_name = "groq-llama-3.3-70b", temperature = 0.1 } })
    assert.equal(200, status)
    assert.equal("groq-llama-3.3-70b", b.configurations.model_config.model_name)
    assert.equal("groq", b.configurations.model_config.provider_name)
    status, b = call("PATCH", base .. "/tts-config",
      { query = force, body = { voice_name = "thalia" } })
    assert.equal(200, status)
    assert.equal("thalia", b.configurations.tts_config.voice_name)
    status, b = call("PATCH", base .. "/transcriber-config",
      { query = force, body = { transcriber_model_name = "saarika:2.5", language = { "hi-IN" } } })
    assert.equal(200, status)
    assert.equal("hi-IN", b.configurations.transcriber_config.language)
    status = call("PATCH", base .. "/transcriber-config",
      { query = force, body = { transcriber_model_name = "soniox" } })
    assert.equal(422, status)
    status, b = call("PATCH", base .. "/vad-config",
      { query = force, body = { vad_provider_id = "silero", threshold = 0.7 } })
    assert.equal(200, status)
    assert.equal(0.7, b.configurations.vad_config.threshold)
    assert.equal(400, (call("PATCH", base .. "/vad-config",
      { query = force, body = { vad_provider_id = "nope" } })))
  end)
end)
