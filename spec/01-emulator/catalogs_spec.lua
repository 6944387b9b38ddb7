-- Provider catalogs, TTS voices, noise assets and phone lines.

local emu = require "spec.helpers.emulator"

local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local function get(path)
  local status, body, headers = emu.request_json("GET", path)
  assert.equal(200, status, path)
  assert.equal("application/json", headers["content-type"])
  return body
end

describe("catalogs", function()
  setup(function() emu.start(); emu.reset() end)

  it("lists LLM, TTS, STT and VAD providers as arrays of rows", function()
    for _, kind in ipairs { "model", "tts", "stt", "vad" } do
      local rows = get("/api/v1/providers/" .. kind)
      assert.is_true(emu.json.is_array(rows) and #rows > 0, kind)
      local defaults = 0
      for _, r in ipairs(rows) do
        assert.matches(UUID, r.id)
        assert.equal("string", type(r.provider_name))
        assert.equal("string", type(r.model_name))
        if r.is_default then defaults = defaults + 1 end
      end
      assert.equal(1, defaults, kind)
    end
    local models = {}
    for _, r in ipairs(get("/api/v1/providers/model")) do models[r.model_name] = r end
    assert.truthy(models["gpt-4.1"] and models["gpt-4.1-mini"] and models["gemini-2.5-flash"])
    assert.equal("number", type(models["gpt-4.1"].default_temperature))
  end)

  it("returns every catalog from /providers/all", function()
    local all = get("/api/v1/providers/all")
    assert.same(get("/api/v1/providers/model"), all.model_providers)
    assert.same(get("/api/v1/providers/tts"), all.tts_providers)
    assert.same(get("/api/v1/providers/stt"), all.stt_providers)
    assert.same(get("/api/v1/providers/vad"), all.vad_providers)
  end)

  it("lists TTS voices usable as voice_name", function()
    local names = {}
    for _, v in ipairs(get("/api/v1/tts-voices")) do
      assert.matches(UUID, v.id)
      names[v.voice_name] = v.provider_name
    end
    assert.equal("cartesia", names.priya)
    assert.equal("deepgram", names.thalia)
    assert.equal("sarvam", names.Anushka)
  end)

  it("lists noise assets as {id, name} with the WAV file name as id", function()
    local rows = get("/api/v1/noise-assets")
    assert.is_true(#rows > 0)
    for _, r in ipairs(rows) do
      assert.equal(r.name .. ".wav", r.id)
    end
  end)

  it("lists phone lines as {success, phone_numbers}", function()
    local body = get("/api/v1/phone")
    assert.is_true(body.success)
    assert.is_true(#body.phone_numbers >= 2)
    for _, p in ipairs(body.phone_numbers) do
      assert.matches(UUID, p.id)
      assert.matches("^%+%d+$", p.phone_number)
      assert.equal("boolean", type(p.is_active))
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT", p.created_at)
    end
  end)

  it("seeds as many phone lines as reset asks for, the same for the same seed", function()
    local summary = emu.reset { phones = 12 }
    local lines = get("/api/v1/phone").phone_numbers
    assert.equal(12, #lines)
    assert.equal(12, #summary.phone_numbers)
    local numbers = {}
    for _, p in ipairs(lines) do
      assert.is_nil(numbers[p.phone_number], "unique numbers")
      numbers[p.phone_number] = true
    end
    assert.equal("+14155550123", lines[1].phone_number)
    local again = emu.reset { phones = 12 }
    assert.same(summary.phone_numbers, again.phone_numbers)
    local status = emu.request("POST", "/__emulator/reset", { body = '{"phones": 0}' })
    assert.equal(400, status)
    emu.reset()
    assert.equal(3, #get("/api/v1/phone").phone_numbers)
  end)
end)
