--- The seeded data set: the account, catalogs, agents, phone lines and
-- call sessions. Everything is a pure function of the seed (and, for a
-- session, of its index), so the same seed always gives the same bytes.
--
-- Sessions are never stored: `session(seed, i, world)` builds session i
-- (0 = newest) from its own random stream, and `session_light` draws only
-- the first fields (request id, call type) for filtering and lookups.
-- Time is anchored at ANCHOR, not at the wall clock.

local json = require "emu.json"
local rng = require "emu.rng"

local floor, format = math.floor, string.format
local unpack = table.unpack or unpack

local M = {}

--- Newest generated session starts at or just before this instant
-- (2026-06-30T18:00:00Z); older ones follow at about 7-minute intervals.
M.ANCHOR = 1782842400
local SLOT = 420

local day_prefix = {}                 -- day number -> "YYYY-MM-DDT"

--- ISO 8601 UTC timestamp of Unix time `t`, e.g. "2026-06-30T17:59:47Z".
function M.iso(t)
  t = floor(t)
  local secs = t % 86400
  local day = (t - secs) / 86400
  local prefix = day_prefix[day]
  if not prefix then
    prefix = os.date("!%Y-%m-%dT", t)
    day_prefix[day] = prefix
  end
  return format("%s%02d:%02d:%02dZ", prefix, floor(secs / 3600), floor(secs / 60) % 60,
    secs % 60)
end

------------------------------------------------------------------------
-- Key orders, so answers read like the API's (and stay byte-stable)

M.SESSION_ORDER = json.order {
  "request_id", "call_session_id", "user_id", "agent_id", "agent_name", "call_type", "status",
  "from_number", "to_number", "started_at", "ended_at", "created_at", "duration_seconds",
  "cost_usd", "ended_reason", "telephony_provider", "variable_values", "recording_url",
  "transcript", "post_call_analysis_results",
}
M.TURN_ORDER = json.order { "role", "content", "start_seconds" }
M.ANALYSIS_ORDER = json.order {
  "rule_id", "rule_name", "source", "sort_order", "body_text", "structured_json",
  "tool_invocation", "raw_response",
}
M.AGENT_ORDER = json.order {
  "id", "name", "description", "user_id", "is_active", "recording_enabled",
  "first_response_message", "apply_noise_reduction", "hipaa_compliance", "tts_filler_enabled",
  "created_at", "updated_at",
}
M.PHONE_ORDER = json.order {
  "id", "phone_number", "friendly_name", "country_code", "region", "provider", "is_active",
  "created_at",
}
M.CATALOG_ORDER = json.order {
  "id", "provider_name", "model_name", "display_name", "voice_name", "gender", "language",
  "is_large_model", "default_temperature", "api_base", "is_default", "supported_languages",
}

------------------------------------------------------------------------
-- The account

function M.user(seed)
  local r = rng.new(seed, "user", 0)
  return {
    user_id = r:uuid(),
    full_name = "Asha Raman",
    phone = "+919845012345",
    profile_image_url = json.null,
    user_metadata = { full_name = "Asha Raman", company = "Acme Health & Retail" },
  }
end

------------------------------------------------------------------------
-- Catalogs (section 4 of the API notes)

local LANGS_BCP47 = { "en-IN", "hi-IN", "ta-IN", "te-IN", "kn-IN", "mr-IN", "gu-IN", "bn-IN" }
local LANGS_GLOBAL = { "en", "es", "fr", "de", "hi", "pt", "it", "ja" }

local MODELS = {
  { "azure", "gpt-4.1", true, 0.4, "https://kupe-openai.openai.azure.com", true },
  { "azure", "gpt-4.1-mini", false, 0.4, "https://kupe-openai.openai.azure.com", false },
  { "azure", "gpt-oss-120b", true, 0.5, "https://kupe-openai.openai.azure.com", false },
  { "openai", "openai-gpt-4.1", true, 0.4, "https://api.openai.com/v1", false },
  { "openai", "openai-gpt-4.1-mini", false, 0.4, "https://api.openai.com/v1", false },
  { "openai", "openai-gpt-4.1-nano", false, 0.4, "https://api.openai.com/v1", false },
  { "groq", "groq-llama-3.3-70b", true, 0.5, "https://api.groq.com/openai/v1", false },
  { "groq", "groq-gpt-oss-120b", true, 0.5, "https://api.groq.com/openai/v1", false },
  { "deepinfra", "llama-4-scout", true, 0.6, "https://api.deepinfra.com/v1/openai", false },
  { "google", "gemini-2.5-flash", true, 0.5, "https://generativelanguage.googleapis.com", false },
  { "google", "gemini-2.5-flash-lite", false, 0.5, "https://generativelanguage.googleapis.com",
    false },
  { "fireworks", "deepseek-v3", true, 0.5, "https://api.fireworks.ai/inference/v1", false },
  { "kupe", "gemma-4-26B-A4B-it", false, 0.6, "https://llm.kupe.in/v1", false },
}

local TTS = {
  { "sarvam", "bulbul:v2", "Sarvam Bulbul v2", LANGS_BCP47, true },
  { "openai", "tts-1", "OpenAI TTS-1", LANGS_GLOBAL, false },
  { "cartesia", "sonic-2", "Cartesia Sonic 2", LANGS_GLOBAL, false },
  { "deepgram", "aura-2", "Deepgram Aura 2", { "en", "es" }, false },
  { "elevenlabs", "eleven_flash_v2_5", "ElevenLabs Flash v2.5", LANGS_GLOBAL, false },
}

local STT = {
  { "deepgram", "deepgram_nova_3", "Deepgram Nova 3", LANGS_GLOBAL, true },
  { "deepgram", "deepgram_flux", "Deepgram Flux", { "en" }, false },
  { "cartesia", "cartesia", "Cartesia Ink", LANGS_GLOBAL, false },
  { "assemblyai", "assembly_ai", "AssemblyAI Universal", LANGS_GLOBAL, false },
  { "soniox", "soniox", "Soniox", LANGS_GLOBAL, false },
  { "sarvam", "saarika:2.5", "Sarvam Saarika 2.5", LANGS_BCP47, false },
  { "local", "faster_whisper", "Faster Whisper (large-v3)", LANGS_GLOBAL, false },
}

local VAD = {
  { "silero", "silero_vad", "Silero VAD", true },
  { "webrtc", "webrtc_vad", "WebRTC VAD", false },
}

local VOICES = {
  { "cartesia", "darla", "female", "en" }, { "cartesia", "jacqline", "female", "en" },
  { "cartesia", "priya", "female", "en-IN" }, { "cartesia", "carolina", "female", "es" },
  { "cartesia", "blake", "male", "en" }, { "cartesia", "ronald", "male", "en" },
  { "cartesia", "jake", "male", "en" }, { "deepgram", "thalia", "female", "en" },
  { "deepgram", "aries", "male", "en" }, { "deepgram", "apollo", "male", "en" },
  { "deepgram", "andromeda", "female", "en" }, { "deepgram", "asteria", "female", "en" },
  { "sarvam", "Anushka", "female", "hi-IN" }, { "sarvam", "Abhilash", "male", "hi-IN" },
}

local NOISE = { "office_noise", "office_ambience_sound", "cafe_murmur", "call_center_busy" }

local function catalog_row(t)
  return setmetatable(t, M.CATALOG_ORDER)
end

function M.catalogs(seed)
  local r = rng.new(seed, "catalog", 0)
  local c = {
    model = json.array(), tts = json.array(), stt = json.array(), vad = json.array(),
    voices = json.array(), noise = json.array(),
  }
  for i, m in ipairs(MODELS) do
    c.model[i] = catalog_row {
      id = r:uuid(), provider_name = m[1], model_name = m[2], is_large_model = m[3],
      default_temperature = m[4], api_base = m[5], is_default = m[6],
      supported_languages = json.array { "en", "hi", "ta", "te", "es", "fr" },
    }
  end
  for i, t in ipairs(TTS) do
    c.tts[i] = catalog_row {
      id = r:uuid(), provider_name = t[1], model_name = t[2], display_name = t[3],
      supported_languages = json.array { unpack(t[4]) }, is_default = t[5],
    }
  end
  for i, t in ipairs(STT) do
    c.stt[i] = catalog_row {
      id = r:uuid(), provider_name = t[1], model_name = t[2], display_name = t[3],
      supported_languages = json.array { unpack(t[4]) }, is_default = t[5],
    }
  end
  for i, t in ipairs(VAD) do
    c.vad[i] = catalog_row {
      id = r:uuid(), provider_name = t[1], model_name = t[2], display_name = t[3],
      is_default = t[4],
    }
  end
  for i, v in ipairs(VOICES) do
    c.voices[i] = catalog_row {
      id = r:uuid(), provider_name = v[1], voice_name = v[2], gender = v[3], language = v[4],
      display_name = v[2]:sub(1, 1):upper() .. v[2]:sub(2),
    }
  end
  for i, name in ipairs(NOISE) do
    c.noise[i] = setmetatable({ id = name .. ".wav", name = name }, json.order { "id", "name" })
  end
  return c
end

------------------------------------------------------------------------
-- Phone lines

local PHONES = {
  { "+14155550123", "US main line", "US", "California", "twilio", true },
  { "+918045670011", "Bengaluru support", "IN", "Karnataka", "exotel", true },
  { "+442071838750", "London office", "GB", "London", "plivo", false },
}

--- The seeded phone lines: the three above, then (n > 3) more US lines
-- +1415555NNNN, every fourth one inactive.
function M.phones(seed, n)
  local r = rng.new(seed, "phone", 0)
  local list = json.array()
  for i = 1, n or #PHONES do
    local p = PHONES[i] or { ("+1415555%04d"):format(1000 + i), "Line " .. i, "US",
      "California", "twilio", i % 4 ~= 0 }
    list[i] = setmetatable({
      id = r:uuid(), phone_number = p[1], friendly_name = p[2], country_code = p[3],
      region = p[4], provider = p[5], is_active = p[6],
      created_at = M.iso(M.ANCHOR - 400 * 86400 + i * 86400),
    }, M.PHONE_ORDER)
  end
  return list
end

------------------------------------------------------------------------
-- Agents

M.AGENT_SPECIFIC_DEFAULTS = {
  session_timeout = 180, end_of_speech_timeout = 1.5, llm_conversation_stop_enabled = false,
  auto_terminate_call = false, caller_gender_detection_enabled = true, max_output_tokens = 370,
  timezone = "Asia/Kolkata", end_call_message_mode = "fixed", background_noise_volume = 100,
  noise_cancellation_strength = 50,
}

-- Templates for the seeded agents; agent k uses template ((k - 1) % 3) + 1.
local AGENTS = {
  {
    name = "Clinic Reception", hipaa = true, active = true, script = "clinic",
    description = "Books and reschedules appointments for City Clinic.",
    welcome = "Hello, you've reached City Clinic. How can I help you today?",
    prompt = "You are the receptionist of City Clinic. Book appointments politely. "
      .. "Never discuss diagnoses.",
    model = "gpt-4.1", tts = "bulbul:v2", voice = "Anushka", tts_lang = "en-IN",
    stt = "deepgram_nova_3", stt_lang = "en",
  },
  {
    name = "Sales Outreach", hipaa = false, active = true, script = "sales",
    description = "Follows up on broadband enquiries from the website.",
    welcome = "Hi, this is Maya calling from Acme Broadband.",
    prompt = "You call people who asked about Acme Broadband plans. Be brief and friendly. "
      .. "The caller's name is {{first_name}}.",
    model = "gpt-4.1-mini", tts = "sonic-2", voice = "priya", tts_lang = "en",
    stt = "deepgram_nova_3", stt_lang = "en",
  },
  {
    name = "Support Line", hipaa = false, active = false, script = "support",
    description = "Answers order and delivery questions.",
    welcome = "Thanks for calling Acme support. How can I help?",
    prompt = "You answer questions about orders and deliveries for Acme.",
    model = "groq-llama-3.3-70b", tts = "aura-2", voice = "thalia", tts_lang = "en",
    stt = "deepgram_flux", stt_lang = "en",
  },
}

local function find_row(list, field, value)
  for _, row in ipairs(list) do
    if row[field] == value then return row end
  end
end

--- Configurations for a new agent from catalog defaults and a template.
function M.default_configurations(cat, t)
  t = t or {}
  local model = find_row(cat.model, "model_name", t.model or "gpt-4.1") or cat.model[1]
  local tts = find_row(cat.tts, "model_name", t.tts or "bulbul:v2") or cat.tts[1]
  local stt = find_row(cat.stt, "model_name", t.stt or "deepgram_nova_3") or cat.stt[1]
  local vad = cat.vad[1]
  local specific = {}
  for k, v in pairs(M.AGENT_SPECIFIC_DEFAULTS) do specific[k] = v end
  specific.inbound_transfer_routes = json.array()
  specific.conversation_stop_words = json.array()
  local lang = t.tts_lang or "en-IN"
  return {
    model_config = {
      model_name = model.model_name, provider_name = model.provider_name,
      model_provider_id = model.id, temperature = t.temperature or model.default_temperature,
      max_tokens = 370, system_prompt = t.prompt or "You are a helpful voice assistant.",
    },
    tts_config = {
      tts_model_name = tts.model_name, provider_name = tts.provider_name,
      tts_provider_id = tts.id, language = lang, voice_name = t.voice or "Anushka",
      voice_parameters = { speed = 1.0, language = lang },
    },
    transcriber_config = {
      transcriber_model_name = stt.model_name, provider_name = stt.provider_name,
      provider_id = stt.id, language = t.stt_lang or "en",
    },
    vad_config = {
      vad_provider_id = vad.id, provider_name = vad.provider_name, threshold = 0.5,
      min_speech_duration_ms = 250, min_silence_duration_ms = 500,
      max_allowed_silence_duration = 10, sampling_rate = 16000,
    },
    inferencing_config = { interruption_enabled = true, backchanneling_enabled = false,
      filler_words_enabled = false },
    tools = json.array(),
    agent_specific_config = specific,
  }
end

--- The seeded agents: a list of records `{agent = {...}, configurations =
-- {...}, script = name}`, oldest first.
function M.agents(seed, n, user_id, cat)
  local list = {}
  for k = 1, n do
    local r = rng.new(seed, "agent", k)
    local t = AGENTS[(k - 1) % #AGENTS + 1]
    local suffix = k > #AGENTS and (" " .. k) or ""
    local created = M.ANCHOR - 300 * 86400 + k * 3 * 86400 + r:int(0, 86399)
    local agent = setmetatable({
      id = r:uuid(), name = t.name .. suffix, description = t.description, user_id = user_id,
      is_active = t.active, recording_enabled = true, first_response_message = t.welcome,
      apply_noise_reduction = false, hipaa_compliance = t.hipaa, tts_filler_enabled = false,
      created_at = M.iso(created), updated_at = M.iso(created + r:int(3600, 30 * 86400)),
    }, M.AGENT_ORDER)
    list[k] = { agent = agent, configurations = M.default_configurations(cat, t),
      script = t.script }
  end
  return list
end

------------------------------------------------------------------------
-- Call sessions

local NAMES = {
  "Meera Iyer", "Rahul Verma", "Priya Nair", "Arjun Mehta", "Sneha Kulkarni", "Vikram Rao",
  "Ananya Das", "Karan Malhotra", "Divya Menon", "Rohit Sharma", "Emily Carter", "James Miller",
  "Sofia Garcia", "Liam O'Brien", "Fatima Khan", "Noah Williams", "Aisha Patel", "Daniel Kim",
  "Olivia Brown", "Mohammed Ali",
}
local SLOTS = { "Monday at 10 am", "Tuesday at 4 pm", "Wednesday at 11:30 am",
  "Thursday at 3 pm", "Friday at 9:15 am", "Saturday at noon" }
local PLANS = { { "Fibre 100", "$39" }, { "Fibre 300", "$55" }, { "Fibre 1000", "$79" } }

-- Conversation scripts: lists of {role, text}; {name}, {first}, {slot},
-- {plan}, {price}, {order} are filled in per session. A lead outcome may
-- add closing turns (its 6th field).
local SCRIPTS = {
  clinic = {
    { "user", "Hi, this is {name}. I'd like to book an appointment with Dr. Rao next week." },
    { "assistant", "Of course, {first}. I have {slot} available. Would that work for you?" },
    { "user", "Yes, {slot} works for me." },
    { "assistant", "You're booked for {slot} with Dr. Rao. You'll get a confirmation by SMS." },
    { "user", "Thank you, that's all. Bye." },
  },
  sales = {
    { "user", "Hello? Yes, this is {first}." },
    { "assistant", "I'm calling about the {plan} plan you asked about on our website. "
      .. "Do you have two minutes?" },
    { "user", "Sure. What does it cost per month?" },
    { "assistant", "{plan} is {price} a month with no installation fee, and you can cancel "
      .. "any time." },
  },
  support = {
    { "user", "Hi, my order hasn't arrived yet. The order number is {order}." },
    { "assistant", "Thanks, {first}. Order {order} left our warehouse yesterday and should "
      .. "arrive within two days." },
    { "user", "Okay. Can you send me a tracking link?" },
    { "assistant", "I've just sent the tracking link to your phone by SMS." },
    { "user", "Got it, thanks a lot." },
  },
  web = {
    { "user", "I'm just trying out how this works." },
    { "assistant", "Happy to help. You can ask me about opening hours, prices or bookings." },
    { "user", "What are your opening hours?" },
    { "assistant", "We're open Monday to Saturday, 9 am to 7 pm." },
  },
}

local LEADS = {
  clinic = { { "Interested", "Hot", 82, "Booked an appointment for {slot}.",
    "Send appointment reminder" } },
  sales = {
    { "Follow-up Required", "Warm", 64, "Asked about {plan} at {price}; wants a call back on "
      .. "Friday.", "Call back on Friday", {
        { "user", "Let me think about it. Can you call me back on Friday?" },
        { "assistant", "Certainly, I'll call you back on Friday. Have a good day, {first}." } } },
    { "Interested", "Hot", 78, "Interested in {plan}; asked for the sign-up link.",
      "Send sign-up link", {
        { "user", "That sounds good. How do I sign up?" },
        { "assistant", "I'm sending you the sign-up link by SMS right now, {first}." } } },
    { "Not Interested", "Cold", 21, "Not interested in changing provider right now.",
      "Close lead", {
        { "user", "No thanks, I'm happy with my current provider." },
        { "assistant", "No problem. Thanks for your time, {first}." } } },
  },
  support = { { "Not Interested", "Cold", 15, "Asked for the tracking link of order {order}.",
    "None" } },
  web = { { "Disqualified", "Cold", 5, "Test call from the web widget.", "None" } },
}

-- Templates split once into literal text and {name} slots.
local compiled = {}

local function fill(text, vars)
  local parts = compiled[text]
  if not parts then
    parts = {}
    local pos = 1
    for a, name, b in text:gmatch("(){(%w+)}()") do
      parts[#parts + 1] = text:sub(pos, a - 1)
      parts[#parts + 1] = { name }
      pos = b
    end
    parts[#parts + 1] = text:sub(pos)
    compiled[text] = parts
  end
  local out = {}
  for i = 1, #parts do
    local p = parts[i]
    out[i] = type(p) == "table" and vars[p[1]] or p
  end
  return table.concat(out)
end

local function customer_number(r)
  if r:chance(0.75) then
    return "+91" .. r:pick { "98", "97", "96", "99", "90", "88", "70" } .. r:digits(8)
  end
  return "+1" .. r:pick { "415", "212", "646", "312", "206" } .. "55501" .. r:digits(2)
end

local CALL_TYPES = { { 35, "inbound" }, { 50, "outbound" }, { 15, "web" } }
local STATUSES = { { 70, "completed" }, { 12, "no_answer" }, { 10, "busy" }, { 8, "failed" } }

--- The request id and call type of session i (the first draws of its
-- stream), for filtering and lookups without building the session.
function M.session_light(seed, i)
  local r = rng.new(seed, "session", i)
  local request_id = r:uuid()
  return request_id, r:weighted(CALL_TYPES), r
end

--- Session i of the data set. `world` = {user_id =, agents = {{id, name,
-- hipaa, script, welcome}}, lines = {active phone numbers}, rule_id =}.
function M.session(seed, i, world)
  local request_id, call_type, r = M.session_light(seed, i)
  local call_session_id = r:uuid()
  local agent = world.agents[r:int(1, #world.agents)]
  local status = r:weighted(STATUSES)
  local started = M.ANCHOR - i * SLOT - r:int(0, SLOT - 121)
  local customer = customer_number(r)
  local line = r:pick(world.lines)
  local from_number, to_number = json.null, json.null
  if call_type == "outbound" then
    from_number, to_number = line, customer
  elseif call_type == "inbound" then
    from_number, to_number = customer, line
  elseif status == "no_answer" or status == "busy" then
    status = "failed"                 -- a web call cannot ring out
  end
  local name = r:pick(NAMES)
  local plan = r:pick(PLANS)
  local vars = {
    name = name, first = name:match("^(%S+)"), slot = r:pick(SLOTS), plan = plan[1],
    price = plan[2], order = "AC" .. r:digits(6),
  }
  local s = setmetatable({
    request_id = request_id, call_session_id = call_session_id, user_id = world.user_id,
    agent_id = agent.id, agent_name = agent.name, call_type = call_type, status = status,
    from_number = from_number, to_number = to_number, telephony_provider = call_type == "web"
      and "web" or "pstn",
    created_at = M.iso(started - r:int(1, 4)), started_at = M.iso(started),
  }, M.SESSION_ORDER)

  local transcript = json.array()
  local analyses = json.array()
  if status == "completed" then
    local duration = r:int(25, 420) + r:int(0, 9) / 10
    s.duration_seconds = duration
    s.ended_at = M.iso(started + duration)
    s.cost_usd = floor(duration / 60 * 0.09 * 10000 + 0.5) / 10000
    s.ended_reason = r:weighted { { 60, "customer_hangup" }, { 30, "agent_hangup" },
      { 10, "silence_timeout" } }
    s.recording_url = "https://recordings.kupe.test/" .. call_session_id .. ".wav"
    local script_name = call_type == "web" and "web" or agent.script
    local lead = r:pick(LEADS[script_name])
    local script = SCRIPTS[script_name]
    if lead[6] then
      local turns = {}
      for _, t in ipairs(script) do turns[#turns + 1] = t end
      for _, t in ipairs(lead[6]) do turns[#turns + 1] = t end
      script = turns
    end
    local step = duration / (#script + 1)
    transcript[1] = setmetatable({ role = "assistant", content = agent.welcome,
      start_seconds = 0.4 }, M.TURN_ORDER)
    for k, turn in ipairs(script) do
      transcript[k + 1] = setmetatable({ role = turn[1], content = fill(turn[2], vars),
        start_seconds = floor((k * step + r:float()) * 10) / 10 }, M.TURN_ORDER)
    end
    local summary = fill(lead[4], vars)
    analyses[1] = setmetatable({
      rule_id = json.null, rule_name = json.null, source = "system_default", sort_order = 0,
      body_text = summary,
      structured_json = {
        customer_name = name, lead_status = lead[1], lead_temperature = lead[2],
        lead_score = lead[3] + r:int(-4, 4), ai_summary = summary, next_action = lead[5],
        send_whatsapp = false, send_email = lead[1] == "Interested",
      },
      tool_invocation = json.null, raw_response = json.null,
    }, M.ANALYSIS_ORDER)
    if script_name == "clinic" or script_name == "sales" then
      analyses[2] = setmetatable({
        rule_id = world.rule_id, rule_name = "Call outcome", source = "rule", sort_order = 1,
        body_text = json.null,
        structured_json = { outcome = lead[1] == "Not Interested" and "declined" or "positive",
          callback_requested = lead[1] == "Follow-up Required" },
        tool_invocation = json.null, raw_response = json.null,
      }, M.ANALYSIS_ORDER)
    end
  else
    local secs = ({ no_answer = 30, busy = 3, failed = 1 })[status]
    s.duration_seconds = 0
    s.ended_at = M.iso(started + secs)
    s.cost_usd = 0
    s.ended_reason = status == "failed" and r:pick { "carrier_error", "invalid_number" } or status
    s.recording_url = json.null
  end
  if not agent.hipaa then
    s.transcript = transcript
    s.post_call_analysis_results = analyses
  else
    s.recording_url = nil             -- HIPAA: these keys are not sent at all
  end
  return s
end

--- The session's transcript as plain text (for the export ZIP).
function M.transcript_text(session)
  local lines = {}
  for _, turn in ipairs(session.transcript or {}) do
    local t = floor(turn.start_seconds or 0)
    lines[#lines + 1] = format("[%02d:%02d] %s: %s", floor(t / 60), t % 60,
      turn.role == "assistant" and "Agent" or "Caller", turn.content)
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
