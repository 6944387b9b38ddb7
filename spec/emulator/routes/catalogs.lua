-- Providers, voices, noise assets and phone lines (kupe-api.md section 4).

local state = require "emu.state"

return function(router)
  local function list(name)
    return function() return 200, state.catalogs[name] end
  end
  router:add("GET", "/api/v1/providers/model", list("model"))
  router:add("GET", "/api/v1/providers/tts", list("tts"))
  router:add("GET", "/api/v1/providers/stt", list("stt"))
  router:add("GET", "/api/v1/providers/vad", list("vad"))
  router:add("GET", "/api/v1/tts-voices", list("voices"))
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
