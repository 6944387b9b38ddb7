-- Providers, voices, noise assets and phone lines (kupe-api.md section 4).
--
-- The catalogs are the data set's (state.catalogs, rebuilt by reset).
-- Voices created with POST /api/v1/tts-voices are appended to the voice
-- catalog, so they are listed and fetched like the seeded ones and gone
-- after the next reset. A voice belongs to a TTS provider: the request
-- names it by `provider_name` or by a TTS catalog row id
-- (`tts_provider_id`); `GET /api/v1/tts-voices/provider/{provider_id}`
-- takes either form too.

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local v = require "emu.validate"

-- The TTS catalog row a provider reference names (row id or provider name).
local function tts_provider(ref)
  local lower = ref:lower()
  for _, row in ipairs(state.catalogs.tts) do
    if row.id == lower then return row end
  end
  for _, row in ipairs(state.catalogs.tts) do
    if row.provider_name == ref then return row end
  end
end

local function find_voice(id)
  local lower = id:lower()
  for _, row in ipairs(state.catalogs.voices) do
    if row.id == lower then return row end
  end
end

local function get_voice(ctx)
  return 200, find_voice(ctx.params.voice_id) or v.fail(404, "Voice not found")
end

local function voices_for(ctx)
  local row = tts_provider(ctx.params.provider_id) or v.fail(404, "TTS provider not found")
  local out = json.array()
  for _, voice in ipairs(state.catalogs.voices) do
    if voice.provider_name == row.provider_name then out[#out + 1] = voice end
  end
  return 200, out
end

local function create_voice(ctx)
  local b = v.body(ctx, {
    { "voice_name", "str", required = true }, { "provider_name", "str" },
    { "tts_provider_id", "str" }, { "gender", "str" }, { "language", "str" },
    { "display_name", "str" },
  })
  if not b.voice_name:match("%S") then v.fail(400, "voice_name must not be empty") end
  local ref = b.tts_provider_id or b.provider_name
  if not ref then v.fail(400, "provider_name or tts_provider_id is required") end
  local provider = tts_provider(ref)
    or v.fail(400, ("Unknown TTS provider '%s': see GET /api/v1/providers/tts"):format(ref))
  for _, voice in ipairs(state.catalogs.voices) do
    if voice.provider_name == provider.provider_name and voice.voice_name == b.voice_name then
      v.fail(400, ("Voice '%s' already exists for %s"):format(b.voice_name,
        provider.provider_name))
    end
  end
  local row = setmetatable({
    id = state.new_uuid(), provider_name = provider.provider_name, voice_name = b.voice_name,
    gender = b.gender or json.null, language = b.language or json.null,
    display_name = b.display_name or (b.voice_name:sub(1, 1):upper() .. b.voice_name:sub(2)),
  }, dataset.CATALOG_ORDER)
  local list = state.catalogs.voices
  list[#list + 1] = row
  return 201, row
end

return function(router)
  local function list(name)
    return function() return 200, state.catalogs[name] end
  end
  router:add("GET", "/api/v1/providers/model", list("model"))
  router:add("GET", "/api/v1/providers/tts", list("tts"))
  router:add("GET", "/api/v1/providers/stt", list("stt"))
  router:add("GET", "/api/v1/providers/vad", list("vad"))
  router:add("GET", "/api/v1/tts-voices", list("voices"))
  router:add("POST", "/api/v1/tts-voices", create_voice)
  router:add("GET", "/api/v1/tts-voices/{voice_id}", get_voice)
  router:add("GET", "/api/v1/tts-voices/provider/{provider_id}", voices_for)
  router:add("GET", "/api/v1/noise-assets", list("noise"))

  router:add("GET", "/api/v1/providers/all", function()
    local c = state.catalogs
    return 200, { model_providers = c.model, tts_providers = c.tts, stt_providers = c.stt,
      vad_providers = c.vad }
  end)

  router:add("GET", "/api/v1/phone", function()
    return 200, { success = true, phone_numbers = state.phones }
  end)
end
