--- Providers: the catalogs an agent's configuration names, and the
-- background-noise assets.
--
-- Each catalog is its own route and answers a bare array of rows
-- (`id`, `provider_name`, `model_name`, ...); `all` has them in one
-- object. Agent configs may name a row by its `id` or by its catalog
-- name (`model_name`, `tts_model_name`, `transcriber_model_name`); a VAD
-- config needs the row id (`vad_provider_id`). Voices (`voice_name` of a
-- TTS config) have their own catalog, which can also be extended.
--
--     for _, m in ipairs(assert(client.providers:models())) do print(m.model_name) end
-- @module kupe.resources.providers

local resource = require "kupe.resource"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local G = resource.group("providers", {
  { "models", "GET", "/api/v1/providers/model", custom = true, doc = "LLM catalog" },
  { "tts", "GET", "/api/v1/providers/tts", custom = true, doc = "TTS catalog" },
  { "stt", "GET", "/api/v1/providers/stt", custom = true, doc = "STT catalog" },
  { "vad", "GET", "/api/v1/providers/vad", custom = true, doc = "VAD catalog" },
  { "all", "GET", "/api/v1/providers/all", custom = true, doc = "every catalog" },
  { "voices", "GET", "/api/v1/tts-voices", custom = true, doc = "TTS voices" },
  { "create_voice", "POST", "/api/v1/tts-voices", custom = true, doc = "add a TTS voice" },
  { "voice", "GET", "/api/v1/tts-voices/{voice_id}", custom = true, doc = "one TTS voice" },
  { "voices_for", "GET", "/api/v1/tts-voices/provider/{provider_id}", custom = true,
    doc = "the voices of one TTS provider" },
  { "noise_assets", "GET", "/api/v1/noise-assets", custom = true,
    doc = "background-noise WAV files" },
})

--- LLM rows (`model_name` is what `agent_model_config.model_name` takes).
-- @return array, resp | nil, err
function G:models()
  return self._client:request("GET", "/api/v1/providers/model")
end

--- TTS rows (`model_name` is what `tts_config.tts_model_name` takes).
-- @return array, resp | nil, err
function G:tts()
  return self._client:request("GET", "/api/v1/providers/tts")
end

--- STT rows (`model_name` is what `transcriber_config.transcriber_model_name` takes).
-- @return array, resp | nil, err
function G:stt()
  return self._client:request("GET", "/api/v1/providers/stt")
end

--- VAD rows (their `id` is what `vad_config.vad_provider_id` takes).
-- From the narrative docs; not in the OpenAPI spec.
-- @return array, resp | nil, err
function G:vad()
  return self._client:request("GET", "/api/v1/providers/vad")
end

--- Every catalog in one answer: `model_providers`, `tts_providers`,
-- `stt_providers` and, when the server has it, `vad_providers`.
-- @return table, resp | nil, err
function G:all()
  return self._client:request("GET", "/api/v1/providers/all")
end

--- Every TTS voice row (`voice_name` is what `tts_config.voice_name` takes).
-- @return array, resp | nil, err
function G:voices()
  return self._client:request("GET", "/api/v1/tts-voices")
end

--- One voice row by id.
-- @tparam string voice_id
-- @return row, resp | nil, err (404)
function G:voice(voice_id)
  A.id(voice_id, "voice_id", "voice", 1)
  return self._client:request("GET", resource.path("/api/v1/tts-voices/{voice_id}", "voice",
    voice_id))
end

--- The voices of one TTS provider.
-- @tparam string provider_id a TTS catalog row id (see providers:tts), or
--   a provider name such as "cartesia"
-- @return array, resp | nil, err (404 for an unknown provider)
function G:voices_for(provider_id)
  A.id(provider_id, "provider_id", "voices_for", 1)
  return self._client:request("GET", resource.path("/api/v1/tts-voices/provider/{provider_id}",
    "voices_for", provider_id))
end

--- Adds a voice row to the TTS voice catalog (narrative docs only; the
-- body is passed as given).
-- @tparam table voice e.g. `{voice_name = "meera", provider_name = "cartesia",
--   gender = "female", language = "en-IN"}`
-- @return row, resp | nil, err (400 unknown provider or duplicate, 422)
function G:create_voice(voice)
  if type(voice) ~= "table" or getmetatable(voice) == json.array_mt or voice[1] ~= nil then
    A.fail("create_voice", 1, "voice table expected, got " .. type(voice))
  end
  return self._client:request("POST", "/api/v1/tts-voices", { json = voice })
end

--- Background-noise assets `{id, name}`: `id` (the WAV file name) is what
-- `agent_specific_config.background_noise_id` takes. An empty array when
-- none is deployed.
-- @return array, resp | nil, err
function G:noise_assets()
  return self._client:request("GET", "/api/v1/noise-assets")
end

return G
