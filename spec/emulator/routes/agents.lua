-- Agent management (kupe-api.md section 3), and the light agent summary
-- of the narrative docs (`GET /api/v1/agents/summary`).
--
-- Agents live in state.agents as {agent = {...}, configurations = {...}}.
-- An agent with is_active = true is "active": PUT and PATCH *-config need
-- ?force_update=true and DELETE needs ?force_delete=true, else 400.
-- Catalog names (model, TTS, STT, VAD) are resolved like the API does: a
-- UUID by id, else by model code, "provider:model" or provider name; an
-- unknown name is a 400. Input aliases (welcome_message,
-- model_provider_id, tts_provider_id, provider_id, language as a
-- one-element list) are accepted.

local json = require "emu.json"
local state = require "emu.state"
local dataset = require "emu.dataset"
local v = require "emu.validate"
local paging = require "emu.paging"

local BUNDLE_ORDER = json.order { "agent", "configurations", "validation_status" }

------------------------------------------------------------------------
-- Body specs (CreateAgentRequest / AgentUpdateRequest, appendix B)

local AGENT_FIELDS = {
  { "name", "str" }, { "description", "str" }, { "is_active", "bool" },
  { "recording_enabled", "bool" }, { "first_response_message", "str" },
  { "welcome_message", "str" }, { "apply_noise_reduction", "bool" },
  { "hipaa_compliance", "bool" }, { "tts_filler_enabled", "bool" },
}
local MODEL_FIELDS = {
  { "model_name", "str" }, { "model_provider_id", "str" }, { "temperature", "number" },
  { "max_tokens", "int" }, { "system_prompt", "str" },
}
local TTS_FIELDS = {
  { "tts_model_name", "str" }, { "tts_provider_id", "str" }, { "language", "str" },
  { "voice_name", "str" }, { "voice_parameters", "object" },
}
local STT_FIELDS = {
  { "transcriber_model_name", "str", required = true }, { "language", "str", required = true },
}
local VAD_FIELDS = {
  { "vad_provider_id", "str", required = true }, { "threshold", "number" },
  { "min_speech_duration_ms", "number" }, { "min_silence_duration_ms", "number" },
  { "max_allowed_silence_duration", "number" }, { "sampling_rate", "number" },
}
local SPECIFIC_FIELDS = {
  { "session_timeout", "int", ge = 1, le = 86400 }, { "end_of_speech_timeout", "number", ge = 0 },
  { "conversation_stop_words", "array" }, { "llm_conversation_stop_enabled", "bool" },
  { "auto_terminate_call", "bool" }, { "caller_gender_detection_enabled", "bool" },
  { "max_output_tokens", "int", ge = 1 }, { "timezone", "str" },
  { "inbound_transfer_call_number", "str" }, { "inbound_transfer_trigger_condition", "str" },
  { "inbound_transfer_routes", "array" }, { "time_to_cut", "int", ge = 1, le = 86400 },
  { "message_of_cut", "str" },
  { "end_call_message_mode", "str", enum = { "fixed", "context_aware" } },
  { "noise_cancellation_strength", "int", ge = 0, le = 100 }, { "background_noise_id", "str" },
  { "background_noise_volume", "int", ge = 0, le = 100 }, { "webhooks", "object" },
}

local function under(prefix, fields, out)
  out[#out + 1] = { prefix, "object" }
  for _, f in ipairs(fields) do
    local c = {}
    for k, x in pairs(f) do c[k] = x end
    c[1] = prefix .. "." .. f[1]
    out[#out + 1] = c
  end
  return out
end

local function body_specs(create)
  local specs = {}
  under("agent", AGENT_FIELDS, specs)
  if create then
    specs[1].required = true
    specs[2].required = true           -- agent.name
  end
  under("agent_model_config", MODEL_FIELDS, specs)
  under("tts_config", TTS_FIELDS, specs)
  under("transcriber_config", STT_FIELDS, specs)
  if not create then under("vad_config", VAD_FIELDS, specs) end
  under("agent_specific_config", SPECIFIC_FIELDS, specs)
  return specs
end
local CREATE_SPECS, UPDATE_SPECS = body_specs(true), body_specs(false)

------------------------------------------------------------------------
-- Catalog resolution and section updates

local function resolve(list, value)
  local lower = value:lower()
  for _, row in ipairs(list) do
    if row.id == lower then return row end
  end
  for _, row in ipairs(list) do
    if row.model_name == value or (row.provider_name .. ":" .. row.model_name) == value then
      return row
    end
  end
  local hit
  for _, row in ipairs(list) do
    if row.provider_name == value then
      if row.is_default then return row end
      hit = hit or row
    end
  end
  return hit
end

local function lookup(kind, list, value)
  return resolve(list, value) or v.fail(400, ("Unknown %s '%s': see GET /api/v1/providers/%s")
    :format(kind == "vad" and "vad_provider_id" or kind .. " model", value, kind))
end

local function copy_fields(dst, src, names)
  for _, k in ipairs(names) do
    if src[k] ~= nil then dst[k] = src[k] end
  end
end

-- Alias keys the API accepts, per section; applied before validation.
local ALIASES = {
  model = function(t)
    if t.model_name == nil then t.model_name = t.model_provider_id end
  end,
  tts = function(t)
    if t.tts_model_name == nil then t.tts_model_name = t.tts_provider_id end
  end,
  stt = function(t)
    if t.transcriber_model_name == nil then t.transcriber_model_name = t.provider_id end
    if json.is_array(t.language) and #t.language == 1 then t.language = t.language[1] end
  end,
}

local function alias(kind, t)
  if type(t) == "table" and not json.is_array(t) then ALIASES[kind](t) end
end

local function alias_body(body)
  if type(body) == "table" then
    alias("model", body.agent_model_config)
    alias("tts", body.tts_config)
    alias("stt", body.transcriber_config)
  end
end

local function apply_model(cfg, input)
  if input.model_name ~= nil then
    local row = lookup("model", state.catalogs.model, input.model_name)
    cfg.model_name, cfg.provider_name, cfg.model_provider_id =
      row.model_name, row.provider_name, row.id
  end
  copy_fields(cfg, input, { "temperature", "max_tokens", "system_prompt" })
end

local function apply_tts(cfg, input)
  if input.tts_model_name ~= nil then
    local row = lookup("tts", state.catalogs.tts, input.tts_model_name)
    cfg.tts_model_name, cfg.provider_name, cfg.tts_provider_id =
      row.model_name, row.provider_name, row.id
  end
  copy_fields(cfg, input, { "voice_name" })
  if input.voice_parameters ~= nil then
    cfg.voice_parameters = cfg.voice_parameters or {}
    for k, x in pairs(input.voice_parameters) do cfg.voice_parameters[k] = x end
  end
  if input.language ~= nil then
    cfg.language = input.language
    cfg.voice_parameters = cfg.voice_parameters or {}
    cfg.voice_parameters.language = input.language
  end
end

local function apply_stt(cfg, input)
  local row = lookup("stt", state.catalogs.stt, input.transcriber_model_name)
  cfg.transcriber_model_name, cfg.provider_name, cfg.provider_id =
    row.model_name, row.provider_name, row.id
  cfg.language = input.language
end

local function apply_vad(cfg, input)
  local row = lookup("vad", state.catalogs.vad, input.vad_provider_id)
  cfg.vad_provider_id, cfg.provider_name = row.id, row.provider_name
  copy_fields(cfg, input, { "threshold", "min_speech_duration_ms", "min_silence_duration_ms",
    "max_allowed_silence_duration", "sampling_rate" })
end

local function deep_merge(dst, src)
  for k, x in pairs(src) do
    if type(x) == "table" and not json.is_array(x) and type(dst[k]) == "table"
        and not json.is_array(dst[k]) then
      deep_merge(dst[k], x)
    else
      dst[k] = x
    end
  end
end

local function apply_specific(cfg, input)
  local noise = input.background_noise_id
  if noise == "" or noise == json.null then
    input.background_noise_id = json.null
  elseif noise ~= nil then
    local id = noise:match("%.wav$") and noise or (noise .. ".wav")
    local found = false
    for _, row in ipairs(state.catalogs.noise) do
      if row.id == id then found = true break end
    end
    if not found then
      v.fail(400, "Unknown background_noise_id '" .. noise .. "': see GET /api/v1/noise-assets")
    end
    input.background_noise_id = id
  end
  if json.is_array(input.inbound_transfer_routes) then
    for i, r in ipairs(input.inbound_transfer_routes) do
      if type(r) == "table" and not json.is_array(r) then
        if r.route_id == nil then r.route_id = "route_" .. i end
        if r.enabled == nil then r.enabled = true end
        if type(r.phone_number) == "string" then r.phone_number = r.phone_number:gsub("%D", "") end
      end
    end
  end
  deep_merge(cfg, input)
end

-- Apply a create/update body's sections to an agent record.
local function apply_body(rec, body)
  local a = body.agent
  if a then
    copy_fields(rec.agent, a, { "name", "description", "is_active", "recording_enabled",
      "apply_noise_reduction", "hipaa_compliance", "tts_filler_enabled" })
    local welcome = a.first_response_message or a.welcome_message
    if welcome ~= nil then rec.agent.first_response_message = welcome end
  end
  local c = rec.configurations
  if body.agent_model_config then apply_model(c.model_config, body.agent_model_config) end
  if body.tts_config then apply_tts(c.tts_config, body.tts_config) end
  if body.transcriber_config then apply_stt(c.transcriber_config, body.transcriber_config) end
  if body.vad_config then apply_vad(c.vad_config, body.vad_config) end
  if body.agent_specific_config then
    apply_specific(c.agent_specific_config, body.agent_specific_config)
  end
end

local function bundle(rec)
  return setmetatable({ agent = rec.agent, configurations = rec.configurations,
    validation_status = "valid" }, BUNDLE_ORDER)
end

local function new_record(name)
  local now = state.now_iso()
  return {
    agent = setmetatable({
      id = state.new_uuid(), name = name, description = json.null,
      user_id = state.user.user_id, is_active = true, recording_enabled = true,
      first_response_message = json.null, apply_noise_reduction = false,
      hipaa_compliance = false, tts_filler_enabled = false, created_at = now, updated_at = now,
    }, dataset.AGENT_ORDER),
    configurations = dataset.default_configurations(state.catalogs),
  }
end

------------------------------------------------------------------------
-- Handlers

local function find_agent(ctx)
  local id = ctx.params.agent_id
  if not v.is_uuid(id) then v.fail(400, "Invalid agent ID format") end
  local rec = state.agents_by_id[id:lower()]
  if not rec then v.fail(404, "Agent not found") end
  return rec
end

local function require_force(ctx, rec, flag, verb)
  local q = v.query(ctx, { { flag, "bool", default = false } })
  if rec.agent.is_active and not q[flag] then
    v.fail(400, ("Agent is active: pass %s=true to %s an active agent"):format(flag, verb))
  end
end

local function list_agents(ctx)
  local q = v.query(ctx, {
    { "page", "int", ge = 1 }, { "page_size", "int", ge = 1, le = 100 },
    { "scope", "str", enum = { "mine", "all" } }, { "q", "str" },
  })
  local items = json.array()
  local needle = q.q and q.q:lower()
  for k = #state.agents, 1, -1 do    -- newest first
    local a = state.agents[k].agent
    if not needle or a.name:lower():find(needle, 1, true) then items[#items + 1] = a end
  end
  if not (q.page or q.page_size or q.scope) then return 200, items end
  return 200, paging.page(items, q.page or 1, q.page_size or 20)
end

local function create_agent(ctx)
  alias_body(ctx.json)
  local body = v.body(ctx, CREATE_SPECS)
  if not body.agent.name:match("%S") then v.fail(400, "Agent name must not be empty") end
  local rec = new_record(body.agent.name)
  apply_body(rec, body)
  state.add_agent(rec)
  return 201, bundle(rec)
end

local function create_simple(ctx)
  local body = v.body(ctx, { { "name", "str", required = true }, { "description", "str" } })
  if not body.name:match("%S") then v.fail(400, "Agent name must not be empty") end
  local rec = new_record(body.name)
  if body.description then rec.agent.description = body.description end
  state.add_agent(rec)
  return 201, bundle(rec)
end

local function agent_stats()
  local active, hipaa, recording = 0, 0, 0
  for _, rec in ipairs(state.agents) do
    if rec.agent.is_active then active = active + 1 end
    if rec.agent.hipaa_compliance then hipaa = hipaa + 1 end
    if rec.agent.recording_enabled then recording = recording + 1 end
  end
  return 200, {
    total_agents = #state.agents, active_agents = active,
    inactive_agents = #state.agents - active, hipaa_agents = hipaa,
    recording_enabled_agents = recording, total_calls = state.session_total(),
  }
end

-- GET /api/v1/agents/summary (narrative docs only, unverified there): a
-- light page of the caller's agents, filtered by name_search. The shape
-- follows the paged list: {items, total, page, page_size}.
local SUMMARY_ORDER = json.order { "id", "name", "is_active", "hipaa_compliance", "created_at",
  "updated_at" }

local function agent_summary(ctx)
  local q = v.query(ctx, {
    { "page", "int", ge = 1, default = 1 }, { "page_size", "int", ge = 1, le = 100, default = 20 },
    { "name_search", "str" },
  })
  local needle = q.name_search and q.name_search:lower()
  local matches = {}
  for k = #state.agents, 1, -1 do    -- newest first
    local a = state.agents[k].agent
    if not needle or a.name:lower():find(needle, 1, true) then matches[#matches + 1] = a end
  end
  return 200, paging.page(matches, q.page, q.page_size, function(a)
    return setmetatable({ id = a.id, name = a.name, is_active = a.is_active,
      hipaa_compliance = a.hipaa_compliance, created_at = a.created_at,
      updated_at = a.updated_at }, SUMMARY_ORDER)
  end)
end

local function get_agent(ctx)
  return 200, bundle(find_agent(ctx))
end

local function update_agent(ctx)
  local rec = find_agent(ctx)
  alias_body(ctx.json)
  local body = v.body(ctx, UPDATE_SPECS)
  require_force(ctx, rec, "force_update", "update")
  if body.agent and body.agent.name and not body.agent.name:match("%S") then
    v.fail(400, "Agent name must not be empty")
  end
  apply_body(rec, body)
  rec.agent.updated_at = state.now_iso()
  return 200, bundle(rec)
end

local function delete_agent(ctx)
  local rec = find_agent(ctx)
  require_force(ctx, rec, "force_delete", "delete")
  state.remove_agent(rec.agent.id)
  return 200, { message = "Agent deleted successfully", data = { agent_id = rec.agent.id } }
end

local function patch_section(fields, apply, kind)
  return function(ctx)
    local rec = find_agent(ctx)
    if kind then alias(kind, ctx.json) end
    local body = v.body(ctx, fields)
    require_force(ctx, rec, "force_update", "update")
    apply(rec.configurations, body)
    rec.agent.updated_at = state.now_iso()
    return 200, bundle(rec)
  end
end

return function(router)
  router:add("GET", "/api/v1/agents", list_agents)
  router:add("POST", "/api/v1/agents", create_agent)
  router:add("POST", "/api/v1/agents/simple", create_simple)
  router:add("GET", "/api/v1/agents/stats", agent_stats)
  router:add("GET", "/api/v1/agents/summary", agent_summary)
  router:add("GET", "/api/v1/agents/{agent_id}", get_agent)
  router:add("PUT", "/api/v1/agents/{agent_id}", update_agent)
  router:add("DELETE", "/api/v1/agents/{agent_id}", delete_agent)
  router:add("PATCH", "/api/v1/agents/{agent_id}/model-config", patch_section(MODEL_FIELDS,
    function(c, b) apply_model(c.model_config, b) end, "model"))
  router:add("PATCH", "/api/v1/agents/{agent_id}/tts-config", patch_section(TTS_FIELDS,
    function(c, b) apply_tts(c.tts_config, b) end, "tts"))
  router:add("PATCH", "/api/v1/agents/{agent_id}/transcriber-config", patch_section(STT_FIELDS,
    function(c, b) apply_stt(c.transcriber_config, b) end, "stt"))
  router:add("PATCH", "/api/v1/agents/{agent_id}/vad-config", patch_section(VAD_FIELDS,
    function(c, b) apply_vad(c.vad_config, b) end))
end
