-- Providers: the LLM, TTS, STT and VAD catalogs, TTS voices (list, one,
-- per provider, create) and noise assets. Shared by the libcurl specs
-- and the nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UUID, UNKNOWN, raises = kit.UUID, kit.UNKNOWN, kit.raises

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function rows(list, field)
    assert.is_nil(list.items)
    assert.is_true(#list > 0)
    for _, row in ipairs(list) do
      assert.matches(UUID, row.id)
      assert.is_string(row[field])
    end
  end

  case("lists the LLM, TTS, STT and VAD catalogs as arrays of rows", function()
    local c = t.client()
    local models = assert(c.providers:models())
    rows(models, "model_name")
    local names = {}
    for _, m in ipairs(models) do names[m.model_name] = true end
    assert.is_true(names["gpt-4.1"])
    rows(assert(c.providers:tts()), "model_name")
    rows(assert(c.providers:stt()), "model_name")
    local vad = assert(c.providers:vad())
    rows(vad, "provider_name")
    assert.equal("/api/v1/providers/vad", emu.stats().last_request.path)
  end)

  case("returns every catalog in one answer with all", function()
    local c = t.client()
    local all = assert(c.providers:all())
    assert.equal(#assert(c.providers:models()), #all.model_providers)
    assert.equal(#assert(c.providers:tts()), #all.tts_providers)
    assert.equal(#assert(c.providers:stt()), #all.stt_providers)
    assert.is_table(all.vad_providers)
  end)

  case("lists voices, gets one, and lists a provider's voices", function()
    local c = t.client()
    local voices = assert(c.providers:voices())
    rows(voices, "voice_name")
    local first = voices[1]
    local one = assert(c.providers:voice(first.id))
    assert.same(first, one)
    local cartesia = assert(c.providers:voices_for("cartesia"))
    assert.is_true(#cartesia > 0 and #cartesia < #voices)
    for _, v in ipairs(cartesia) do assert.equal("cartesia", v.provider_name) end
    local tts_row
    for _, row in ipairs(assert(c.providers:tts())) do
      if row.provider_name == "deepgram" then tts_row = row end
    end
    local by_id = assert(c.providers:voices_for(tts_row.id))
    for _, v in ipairs(by_id) do assert.equal("deepgram", v.provider_name) end
    assert.is_true(#by_id > 0)
  end)

  case("answers 404 for an unknown voice or provider", function()
    local c = t.client()
    local v, err = c.providers:voice(UNKNOWN)
    assert.is_nil(v)
    assert.equal(404, err.status)
    assert.equal("Voice not found", err.message)
    v, err = c.providers:voices_for("nobody")
    assert.is_nil(v)
    assert.equal(404, err.status)
    raises("voice_id must be a non%-empty string", function() c.providers:voice "" end)
    raises("provider_id must be a non%-empty string", function() c.providers:voices_for() end)
  end)

  case("creates a voice that is then listed and fetched", function()
    local c = t.client()
    local before = #assert(c.providers:voices())
    local v, resp = assert(c.providers:create_voice { voice_name = "meera",
      provider_name = "cartesia", gender = "female", language = "en-IN" })
    assert.equal(201, resp.status)
    assert.matches(UUID, v.id)
    assert.equal("meera", v.voice_name)
    assert.equal(before + 1, #assert(c.providers:voices()))
    assert.same(v, assert(c.providers:voice(v.id)))
    local found = false
    for _, x in ipairs(assert(c.providers:voices_for("cartesia"))) do
      if x.id == v.id then found = true end
    end
    assert.is_true(found)
  end)

  case("reports the API's refusals of a new voice", function()
    local c = t.client()
    local v, err = c.providers:create_voice { provider_name = "cartesia" }
    assert.is_nil(v)
    assert.equal(422, err.status)
    assert.matches("voice_name: Field required", err.message)
    v, err = c.providers:create_voice { voice_name = "x", provider_name = "nobody" }
    assert.is_nil(v)
    assert.equal(400, err.status)
    v, err = c.providers:create_voice { voice_name = "darla", provider_name = "cartesia" }
    assert.is_nil(v)
    assert.equal(400, err.status)
    assert.matches("already exists", err.message)
    raises("voice table expected", function() c.providers:create_voice "meera" end)
  end)

  case("lists noise assets as {id, name} with the WAV file as id", function()
    local c = t.client()
    local assets = assert(c.providers:noise_assets())
    assert.is_true(#assets > 0)
    for _, a in ipairs(assets) do
      assert.matches("%.wav$", a.id)
      assert.equal(a.id, a.name .. ".wav")
    end
  end)

  case("answers 403 for a key whose scopes do not cover providers", function()
    t.reset { api_keys = { { key = "narrow", scopes = { "/api/v1/agents" } } } }
    local c = t.client { api_key = "narrow" }
    local list, err = c.providers:models()
    assert.is_nil(list)
    assert.equal(403, err.status)
    assert.matches("scope", err.hint)
  end)

  return cases
end
