-- Agents: list (both shapes), walkers, create (full and simple), get,
-- stats, summary and its walkers, update and delete with the force rule,
-- the PATCH *-config methods and the configuration test. Shared by the
-- libcurl specs and the nginx specs (see spec/helpers/cases.lua).
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UUID, UNKNOWN, raises = kit.UUID, kit.UNKNOWN, kit.raises

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

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  case("lists the caller's agents as an array", function()
    local c = t.client()
    local list, resp = assert(c.agents:list())
    assert.equal(200, resp.status)
    assert.equal(3, #list)
    assert.is_nil(list.items)
    for _, a in ipairs(list) do
      assert.matches(UUID, a.id)
      assert.is_string(a.name)
      assert.is_boolean(a.is_active)
    end
    local found = assert(c.agents:list { q = "clinic" })
    assert.equal(1, #found)
    assert.equal("Clinic Reception", found[1].name)
    assert.equal(0, #assert(c.agents:list { q = "no such agent" }))
  end)

  case("collects every page into one array when the server pages", function()
    t.reset { agents = 45 }
    local c = t.client()
    local before = t.requests("GET /api/v1/agents")
    local list = assert(c.agents:list { scope = "all" })
    assert.equal(45, #list)
    assert.equal(3, t.requests("GET /api/v1/agents") - before) -- 20 + 20 + 5
    local seen = {}
    for _, a in ipairs(list) do
      assert.is_nil(seen[a.id], "no agent twice")
      seen[a.id] = true
    end
    assert.equal("scope=all", t.emu.stats().last_request.query:match("scope=%w+"))
  end)

  case("walks the paged form with pages and items", function()
    t.reset { agents = 45 }
    local c = t.client()
    local sizes = {}
    for page in c.agents:pages { page_size = 20 } do
      sizes[#sizes + 1] = #page.items
      assert.equal(45, page.total)
    end
    assert.same({ 20, 20, 5 }, sizes)
    local n = 0
    for a in c.agents:items { page_size = 10, q = "sales" } do
      assert.matches("Sales", a.name)
      n = n + 1
    end
    assert.equal(15, n)
    local some = assert(c.agents:items { limit = 7, page_size = 5 }:all())
    assert.equal(7, #some)
  end)

  case("raises for paging in list and bad parameters, before sending", function()
    local c = t.client()
    local before = t.requests("GET /api/v1/agents")
    raises("is for agents:pages{} or agents:items{}", function() c.agents:list { page = 1 } end)
    raises('scope must be "mine" or "all"', function() c.agents:list { scope = "everyone" } end)
    raises("unknown parameter 'name'", function() c.agents:list { name = "x" } end)
    raises("page_size must be an integer from 1 to 100",
      function() c.agents:pages { page_size = 101 } end)
    raises("limit must be an integer >= 0", function() c.agents:items { limit = -1 } end)
    assert.equal(before, t.requests("GET /api/v1/agents"))
  end)

  case("creates an agent in full (201) and reads it back", function()
    local c = t.client()
    local bundle, resp = assert(c.agents:create(FULL))
    assert.equal(201, resp.status)
    assert.equal("valid", bundle.validation_status)
    local id = bundle.agent.id
    assert.matches(UUID, id)
    local got = assert(c.agents:get(id))
    assert.equal("Clinic Reception 2", got.agent.name)
    assert.equal("Hello, you've reached the clinic.", got.agent.first_response_message)
    local cfg = got.configurations
    assert.equal("gpt-4.1", cfg.model_config.model_name)
    assert.equal("priya", cfg.tts_config.voice_name)
    assert.equal(240, cfg.agent_specific_config.session_timeout)
    assert.equal("context_aware", cfg.agent_specific_config.end_call_message_mode)
    assert.equal(4, #assert(c.agents:list()))
  end)

  case("raises for create bodies the docs rule out, before sending", function()
    local c = t.client()
    local before = t.requests("POST /api/v1/agents")
    raises("agent.name is required", function() c.agents:create {} end)
    raises("agent.name must be a non%-empty string",
      function() c.agents:create { agent = { name = "  " } } end)
    raises("agent_specific_config.session_timeout must be an integer from 1 to 86400",
      function() c.agents:create { agent = { name = "x" },
        agent_specific_config = { session_timeout = 0 } } end)
    raises("background_noise_volume must be an integer from 0 to 100",
      function() c.agents:create { agent = { name = "x" },
        agent_specific_config = { background_noise_volume = 101 } } end)
    raises('end_call_message_mode must be "fixed" or "context_aware"',
      function() c.agents:create { agent = { name = "x" },
        agent_specific_config = { end_call_message_mode = "polite" } } end)
    raises("transcriber_config.language is required",
      function() c.agents:create { agent = { name = "x" },
        transcriber_config = { transcriber_model_name = "deepgram_nova_3" } } end)
    raises("body table expected", function() c.agents:create "x" end)
    assert.equal(before, t.requests("POST /api/v1/agents"))
  end)

  case("answers 400 for a model name the catalog does not have", function()
    local c = t.client()
    local bundle, err = c.agents:create { agent = { name = "x" },
      agent_model_config = { model_name = "gpt-99" } }
    assert.is_nil(bundle)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.matches("gpt%-99", err.message)
  end)

  case("creates with platform defaults from a name or a table (201)", function()
    local c = t.client()
    local a, resp = assert(c.agents:create_simple "Front desk")
    assert.equal(201, resp.status)
    assert.equal("Front desk", a.agent.name)
    assert.is_table(a.configurations.model_config)
    local b = assert(c.agents:create_simple { name = "Night line", description = "after 6 pm" })
    assert.equal("after 6 pm", b.agent.description)
    raises("name must be a non%-empty string", function() c.agents:create_simple "" end)
    raises("name string or", function() c.agents:create_simple(42) end)
  end)

  case("counts agents with stats", function()
    local c = t.client()
    local s = assert(c.agents:stats())
    assert.equal(3, s.total_agents)
    assert.equal(s.total_agents, s.active_agents + s.inactive_agents)
    assert.equal(250, s.total_calls)
  end)

  case("answers 404 for an unknown agent and 400 for a malformed id", function()
    local c = t.client()
    local a, err = c.agents:get(UNKNOWN)
    assert.is_nil(a)
    assert.equal(404, err.status)
    assert.matches("^kupe: GET /api/v1/agents/" .. UNKNOWN:gsub("%-", "%%-") .. ": 404 Not Found",
      tostring(err))
    a, err = c.agents:get("not-a-uuid")
    assert.is_nil(a)
    assert.equal(400, err.status)
    raises("agent_id must be a non%-empty string, got an empty string",
      function() c.agents:get "" end)
    raises("agent_id must be a non%-empty string, got nil", function() c.agents:get() end)
  end)

  case("escapes the agent id in the path", function()
    local c = t.client()
    local a, err = c.agents:get("../stats")
    assert.is_nil(a)
    assert.equal(400, err.status) -- an id, not the stats route
    assert.equal("/api/v1/agents/..%2Fstats", emu.stats().last_request.path)
  end)

  case("refuses to update an active agent without force, with a hint", function()
    local active, inactive = t.active_and_idle()
    local c = t.client()
    local before = t.requests("PUT /api/v1/agents/{agent_id}")
    local a, err = c.agents:update(active, { agent = { description = "changed" } })
    assert.is_nil(a)
    assert.equal(400, err.status)
    assert.matches("force = true", err.hint)
    assert.matches("force = true", tostring(err))
    assert.equal(1, t.requests("PUT /api/v1/agents/{agent_id}") - before, "a 400 is not retried")
    a = assert(c.agents:update(active, { agent = { description = "changed" },
      agent_specific_config = { session_timeout = 600 } }, { force = true }))
    assert.equal("changed", a.agent.description)
    assert.equal("force_update=true", emu.stats().last_request.query)
    assert.equal(600, a.configurations.agent_specific_config.session_timeout)
    assert.equal(1.5, a.configurations.agent_specific_config.end_of_speech_timeout,
      "agent_specific_config is merged, not replaced")
    -- an inactive agent needs no force, and none is sent
    assert(c.agents:update(inactive, { agent = { name = "Support Line 2" } }))
    assert.equal("", emu.stats().last_request.query)
    raises("unknown option 'force_update'",
      function() c.agents:update(active, {}, { force_update = true }) end)
    raises("force must be a boolean", function() c.agents:update(active, {}, { force = 1 }) end)
  end)

  case("deletes an agent: active ones only with force", function()
    local active, inactive = t.active_and_idle()
    local c = t.client()
    local res, err = c.agents:delete(active)
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.matches("force = true", err.hint)
    res = assert(c.agents:delete(active, { force = true }))
    assert.is_string(res.message)
    assert.equal("force_delete=true", emu.stats().last_request.query)
    local gone
    gone, err = c.agents:get(active)
    assert.is_nil(gone)
    assert.equal(404, err.status)
    assert(c.agents:delete(inactive))
    res, err = c.agents:delete(inactive)
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.is_nil(err.hint)
  end)

  case("patches the model, TTS, transcriber and VAD configs with the force rule", function()
    local active = t.active_and_idle()
    local c = t.client()
    local a, err = c.agents:set_model_config(active, { temperature = 0.2 })
    assert.is_nil(a)
    assert.equal(400, err.status)
    assert.matches("force = true", err.hint)
    a = assert(c.agents:set_model_config(active, { model_name = "gpt-4.1-mini", temperature = 0.2,
      system_prompt = "Be brief." }, { force = true }))
    assert.equal("gpt-4.1-mini", a.configurations.model_config.model_name)
    a = assert(c.agents:set_tts_config(active, { voice_name = "thalia", language = "en" },
      { force = true }))
    assert.equal("thalia", a.configurations.tts_config.voice_name)
    a = assert(c.agents:set_transcriber_config(active,
      { transcriber_model_name = "deepgram_flux", language = { "en" } }, { force = true }))
    assert.equal("deepgram_flux", a.configurations.transcriber_config.transcriber_model_name)
    assert.equal("en", a.configurations.transcriber_config.language)
    local vad = assert(c.providers:vad())[2]
    a = assert(c.agents:set_vad_config(active, { vad_provider_id = vad.id, threshold = 0.6 },
      { force = true }))
    assert.equal(vad.id, a.configurations.vad_config.vad_provider_id)
    assert.equal(0.6, a.configurations.vad_config.threshold)
    a, err = c.agents:set_vad_config(active, { vad_provider_id = "no-such-vad" }, { force = true })
    assert.is_nil(a)
    assert.equal(400, err.status)
    local before = t.requests("PATCH /api/v1/agents/{agent_id}/transcriber-config")
    raises("config.language is required",
      function() c.agents:set_transcriber_config(active, { transcriber_model_name = "x" }) end)
    raises("config.vad_provider_id is required", function() c.agents:set_vad_config(active, {}) end)
    raises("config.max_tokens must be an integer >= 1",
      function() c.agents:set_model_config(active, { max_tokens = 0.5 }) end)
    assert.equal(before, t.requests("PATCH /api/v1/agents/{agent_id}/transcriber-config"))
  end)

  case("pages a light summary of agents, with a name search", function()
    t.reset { agents = 12 }
    local c = t.client()
    local page = assert(c.agents:summary { page = 2, page_size = 5 })
    assert.equal(12, page.total)
    assert.equal(2, page.page)
    assert.equal(5, #page.items)
    assert.matches(UUID, page.items[1].id)
    local found = assert(c.agents:summary { name_search = "support" })
    assert.equal(4, found.total)
    raises("page_size must be an integer from 1 to 100",
      function() c.agents:summary { page_size = 0 } end)
    raises("unknown parameter 'q'", function() c.agents:summary { q = "x" } end)
  end)

  local SUMMARY = "GET /api/v1/agents/summary"

  case("walks the summary page by page and agent by agent", function()
    t.reset { agents = 12 }
    local c = t.client()
    local before = t.requests(SUMMARY)
    local sizes, seen, n = {}, {}, 0
    for page in c.agents:summary_pages { page_size = 5 } do
      sizes[#sizes + 1] = #page.items
      assert.equal(12, page.total)
      assert.equal(#sizes, page.page)
      for _, a in ipairs(page.items) do
        assert.matches(UUID, a.id)
        assert.is_nil(seen[a.id], "no agent twice")
        seen[a.id] = true
        n = n + 1
      end
    end
    assert.same({ 5, 5, 2 }, sizes)
    assert.equal(12, n)
    assert.equal(3, t.requests(SUMMARY) - before, "no request for an empty page")
    local found = 0
    for a in c.agents:summary_items { name_search = "support", page_size = 3 } do
      assert.matches("Support", a.name)
      found = found + 1
    end
    assert.equal(4, found)
    assert.same({ name_search = "support", page = "2", page_size = "3" }, t.last_query())
    assert.equal(7, #assert(c.agents:summary_items { limit = 7, page_size = 5 }:all()))
    local pages = 0
    for _ in c.agents:summary_pages { page_size = 2, max_pages = 2 } do pages = pages + 1 end
    assert.equal(2, pages)
    local last = assert(c.agents:summary_pages { page = 3, page_size = 5 }:all())
    assert.equal(1, #last)
    assert.equal(2, #last[1].items)
    local iter, _, _, closing = c.agents:summary_pages {}
    assert.equal(iter, closing)
  end)

  case("raises for bad summary walker options, before sending", function()
    local c = t.client()
    local before = t.requests(SUMMARY)
    raises("bad argument #1 to 'summary_pages' %(page_size must be an integer from 1 to 100%)",
      function() c.agents:summary_pages { page_size = 101 } end)
    raises("bad argument #1 to 'summary_items' %(limit must be an integer >= 0%)",
      function() c.agents:summary_items { limit = -1 } end)
    raises("bad argument #1 to 'summary_items' %(unknown parameter 'q'%)",
      function() c.agents:summary_items { q = "x" } end)
    raises("name_search must be a string", function() c.agents:summary_pages { name_search = 1 } end)
    raises("table expected, got string", function() c.agents:summary_items "support" end)
    kit.raise_at_caller {
      function() c.agents:summary_pages { page_size = 0 } end,
      function() c.agents:summary_items { bad = true } end,
    }
    assert.equal(before, t.requests(SUMMARY))
  end)

  case("ends a summary walk that fails mid-way with the error, never a silent stop", function()
    t.reset { agents = 12 }
    local c = t.client { max_retries = 0 }
    emu.fault(SUMMARY, { delay = 0 }, 1) -- the first page comes through
    emu.fault(SUMMARY, { status = 500, json = { detail = "database gone" } }, 1)
    local walk = c.agents:summary_items { page_size = 5 }
    local n = 0
    local ok, msg = pcall(function() for _ in walk do n = n + 1 end end)
    assert.is_false(ok)
    assert.equal(5, n)
    assert.equal("string", type(msg))
    assert.matches("^kupe: GET /api/v1/agents/summary: 500 Internal Server Error: database gone", msg)
    assert.equal("http", walk.error.kind)
    assert.equal(500, walk.error.status)
    assert.is_nil(walk(), "a failed walk stays ended")

    emu.fault(SUMMARY, { delay = 0 }, 1)
    emu.fault(SUMMARY, { status = 503, json = { detail = "busy" } }, 1)
    local pages = 0
    local done, err = c.agents:summary_pages { page_size = 5 }:each(function() pages = pages + 1 end)
    assert.is_nil(done)
    assert.equal(503, err.status)
    assert.equal(1, pages)

    -- A server that ignores `page` and sends the first page again.
    local first = assert(c.agents:summary { page = 1, page_size = 5 })
    emu.fault(SUMMARY, { delay = 0 }, 1)
    emu.fault(SUMMARY, { json = first }, 1)
    local stuck = c.agents:summary_pages { page_size = 5 }
    ok, msg = pcall(function() for _ in stuck do end end)
    assert.is_false(ok)
    assert.equal("no_progress", stuck.error.kind)
    assert.matches("asked for page 2", msg)
  end)

  case("checks an agent's configuration through /api/call/test", function()
    local active, inactive = t.active_and_idle()
    local c = t.client()
    local r = assert(c.agents:validate(active))
    assert.is_true(r.valid)
    assert.equal(active, r.agent_id)
    assert.equal(0, #r.errors)
    assert.equal(("agent_id=%s"):format(active), emu.stats().last_request.query)
    r = assert(c.agents:validate(inactive))
    assert.matches("inactive", r.warnings[1])
    local none, err = c.agents:validate(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.agents:validate("nope")
    assert.is_nil(none)
    assert.equal(422, err.status)
    assert.matches("agent_id", err.message)
    raises("agent_id must be a non%-empty string", function() c.agents:validate() end)
  end)

  case("keeps empty arrays as arrays when an agent is read and written back", function()
    local active = t.active_and_idle()
    local c = t.client()
    local a = assert(c.agents:get(active))
    local specific = a.configurations.agent_specific_config
    assert.equal(kupe.array_mt, getmetatable(specific.inbound_transfer_routes))
    assert(c.agents:update(active, { agent_specific_config = specific }, { force = true }))
    assert.matches('"inbound_transfer_routes":%[%]', emu.stats().last_request.body)
  end)

  return cases
end
