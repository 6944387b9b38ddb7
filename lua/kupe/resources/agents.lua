--- Agents: voice agents, their configurations, and the rules for
-- changing an agent that is live.
--
-- The API's awkward parts, and what this module does about them:
--
-- * `GET /api/v1/agents` answers a plain array for most callers and a
--   page `{items, total, page, page_size}` for super-admin paging or
--   `scope`; `list` always returns the array (it fetches every page when
--   the server pages), and `pages` / `items` walk the paged form lazily.
--   The light `summary` page has its walkers too: `summary_pages` and
--   `summary_items`.
-- * An active agent refuses PUT, the PATCH *-config routes and DELETE
--   with a 400 unless the query carries `force_update=true` /
--   `force_delete=true`. Here that is the option `{ force = true }`, and
--   the 400 comes back with a hint naming it.
-- * Create and update bodies are nested sections (`agent`,
--   `agent_model_config`, `tts_config`, `transcriber_config`,
--   `vad_config`, `agent_specific_config`). What the docs fix (the
--   required name, the required fields of a section, ranges and enums of
--   `agent_specific_config`) is checked before anything is sent; the rest
--   is passed through untouched.
-- * Checking an agent's configuration lives under the telephony family
--   (`GET /api/call/test?agent_id=`): it is `agents:validate(id)` here.
--
--     local bundle = assert(client.agents:create { agent = { name = "Reception" } })
--     local id = bundle.agent.id
--     assert(client.agents:update(id, { agent = { description = "Front desk" } }, { force = true }))
-- @module kupe.resources.agents

local resource = require "kupe.resource"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local BASE = "/api/v1/agents"
local ONE = "/api/v1/agents/{agent_id}"

local G = resource.group("agents", {
  { "create", "POST", BASE, custom = true, doc = "create an agent with nested configs (201)" },
  { "list", "GET", BASE, custom = true, also = { "pages", "items" },
    doc = "the caller's agents (array, or pages for super-admins)" },
  { "stats", "GET", BASE .. "/stats", custom = true, doc = "counts of the caller's agents" },
  { "create_simple", "POST", BASE .. "/simple", custom = true,
    doc = "create an agent with platform defaults (201)" },
  { "summary", "GET", BASE .. "/summary", custom = true,
    also = { "summary_pages", "summary_items" }, doc = "a light page of agents" },
  { "get", "GET", ONE, custom = true, doc = "one agent and its configurations" },
  { "update", "PUT", ONE, custom = true, doc = "partial update (force for active agents)" },
  { "delete", "DELETE", ONE, custom = true, doc = "delete (force for active agents)" },
  { "set_model_config", "PATCH", ONE .. "/model-config", custom = true, doc = "LLM config" },
  { "set_tts_config", "PATCH", ONE .. "/tts-config", custom = true, doc = "TTS config" },
  { "set_transcriber_config", "PATCH", ONE .. "/transcriber-config", custom = true,
    doc = "STT config" },
  { "set_vad_config", "PATCH", ONE .. "/vad-config", custom = true, doc = "VAD config" },
  { "validate", "GET", "/api/call/test", custom = true, doc = "check an agent's configuration" },
})

---------------------------------------------------------------------------
-- Argument checks. Each returns an error message (or nil); the public
-- method raises it at level 2, so the message points at the caller.

-- Ranges and enums of agent_specific_config (kupe-api.md 3.2).
local SPECIFIC = {
  session_timeout = { int = true, lo = 1, hi = 86400 },
  end_of_speech_timeout = { lo = 0 },
  max_output_tokens = { int = true, lo = 1 },
  time_to_cut = { int = true, lo = 1, hi = 86400 },
  noise_cancellation_strength = { int = true, lo = 0, hi = 100 },
  background_noise_volume = { int = true, lo = 0, hi = 100 },
}
local SPECIFIC_BOOL = { "llm_conversation_stop_enabled", "auto_terminate_call",
  "caller_gender_detection_enabled" }
local END_MODES = { fixed = true, context_aware = true }

local function check_specific(s, where)
  if not A.is_object(s) then return where .. " must be a table" end
  for key, rule in pairs(SPECIFIC) do
    local v = s[key]
    if v ~= nil then
      local ok = type(v) == "number" and (not rule.int or A.is_int(v)) and v >= rule.lo
        and (not rule.hi or v <= rule.hi)
      if not ok then
        return ("%s.%s must be %s %s"):format(where, key, rule.int and "an integer" or "a number",
          rule.hi and ("from %d to %d"):format(rule.lo, rule.hi) or (">= " .. rule.lo))
      end
    end
  end
  for _, key in ipairs(SPECIFIC_BOOL) do
    if s[key] ~= nil and type(s[key]) ~= "boolean" then
      return ("%s.%s must be a boolean"):format(where, key)
    end
  end
  local mode = s.end_call_message_mode
  if mode ~= nil and not END_MODES[mode] then
    return where .. ".end_call_message_mode must be \"fixed\" or \"context_aware\""
  end
  return nil
end

local function check_model(m, where)
  if not A.is_object(m) then return where .. " must be a table" end
  if m.temperature ~= nil and type(m.temperature) ~= "number" then
    return where .. ".temperature must be a number"
  end
  if m.max_tokens ~= nil and not (A.is_int(m.max_tokens) and m.max_tokens >= 1) then
    return where .. ".max_tokens must be an integer >= 1"
  end
  return nil
end

-- transcriber_model_name (alias provider_id) and language are required in
-- the section; language may be a one-element list.
local function check_transcriber(t, where)
  if not A.is_object(t) then return where .. " must be a table" end
  local name = t.transcriber_model_name or t.provider_id
  if type(name) ~= "string" or name == "" then
    return where .. ".transcriber_model_name is required (a catalog name or id)"
  end
  local lang = t.language
  if type(lang) == "table" and #lang == 1 then lang = lang[1] end
  if type(lang) ~= "string" or lang == "" then
    return where .. ".language is required (a language code such as \"en\")"
  end
  return nil
end

local function check_vad(t, where)
  if not A.is_object(t) then return where .. " must be a table" end
  if type(t.vad_provider_id) ~= "string" or t.vad_provider_id == "" then
    return where .. ".vad_provider_id is required"
  end
  for _, k in ipairs { "threshold", "min_speech_duration_ms", "min_silence_duration_ms",
    "max_allowed_silence_duration", "sampling_rate" } do
    if t[k] ~= nil and type(t[k]) ~= "number" then return ("%s.%s must be a number"):format(where, k) end
  end
  return nil
end

local function check_tts(t, where)
  if not A.is_object(t) then return where .. " must be a table" end
  if t.voice_parameters ~= nil and not A.is_object(t.voice_parameters) then
    return where .. ".voice_parameters must be a table"
  end
  return nil
end

local SECTIONS = {
  agent_model_config = check_model, tts_config = check_tts,
  transcriber_config = check_transcriber, vad_config = check_vad,
  agent_specific_config = check_specific,
}

-- A create (name required) or update body.
local function check_body(body, create)
  if not A.is_object(body) then return "body table expected, got " .. type(body) end
  local a = body.agent
  if create and a == nil then return "agent.name is required" end
  if a ~= nil then
    if not A.is_object(a) then return "agent must be a table" end
    local name = a.name
    if (create or name ~= nil) and (type(name) ~= "string" or not name:match("%S")) then
      return "agent.name must be a non-empty string"
    end
    for _, k in ipairs { "is_active", "recording_enabled", "apply_noise_reduction",
      "hipaa_compliance", "tts_filler_enabled" } do
      if a[k] ~= nil and type(a[k]) ~= "boolean" then return "agent." .. k .. " must be a boolean" end
    end
  end
  for key, check in pairs(SECTIONS) do
    if body[key] ~= nil then
      local msg = check(body[key], key)
      if msg then return msg end
    end
  end
  return nil
end

-- `{ force = true }` -> the query flag; raises on anything else.
local function force_query(opts, flag, fname, n)
  if opts == nil then return nil, false end
  A.table(opts, "options", fname, n, 1)
  for k in pairs(opts) do
    if k ~= "force" then A.fail(fname, n, ("unknown option '%s'"):format(tostring(k)), 1) end
  end
  if opts.force ~= nil and type(opts.force) ~= "boolean" then
    A.fail(fname, n, "force must be a boolean", 1)
  end
  if opts.force then return { [flag] = true }, true end
  return nil, false
end

-- Sends a change that an active agent refuses without the force flag;
-- a 400 that says so gets a hint naming the option.
local function forced(self, method, path, body, query, forced_flag, verb)
  local data, err = self._client:request(method, path, { json = body, query = query })
  if data == nil and err.status == 400 and not forced_flag then
    local text = (err.message or ""):lower()
    if text:find("active", 1, true) or text:find("force", 1, true) then
      err.hint = ("the agent is active: pass { force = true } to %s it anyway"):format(verb)
    end
  end
  return data, err
end

---------------------------------------------------------------------------
-- Create, read

--- Creates an agent from nested sections; only `agent.name` is required.
-- The API answers 201 with the agent bundle `{agent, configurations,
-- validation_status}`; the new id is `bundle.agent.id`. `welcome_message`
-- is accepted and read back as `agent.first_response_message`.
-- @tparam table body `{agent = {name = ...}, agent_model_config = ...,
--   tts_config = ..., transcriber_config = ..., agent_specific_config = ...}`
-- @return bundle, resp | nil, err (400 for an unknown model or voice name)
-- @raise when agent.name is missing, a section misses a required field, or
--   an agent_specific_config value is out of its documented range
function G:create(body)
  local msg = check_body(body, true)
  if msg then A.fail("create", 1, msg) end
  return self._client:request("POST", BASE, { json = body })
end

--- Creates an agent with the platform's default STT, LLM, TTS and VAD.
-- @tparam string|table name_or_body the name, or `{name =, description =}`
-- @return bundle, resp (201) | nil, err
function G:create_simple(name_or_body)
  local body = name_or_body
  if type(body) == "string" then body = { name = body } end
  if not A.is_object(body) then
    A.fail("create_simple", 1, "name string or {name=, description=} table expected, got "
      .. type(name_or_body))
  end
  if type(body.name) ~= "string" or not body.name:match("%S") then
    A.fail("create_simple", 1, "name must be a non-empty string")
  end
  if body.description ~= nil and type(body.description) ~= "string" then
    A.fail("create_simple", 1, "description must be a string")
  end
  return self._client:request("POST", BASE .. "/simple", { json = body })
end

--- One agent with every configuration section.
-- @tparam string agent_id
-- @return bundle, resp | nil, err (404 unknown, 400 malformed id)
function G:get(agent_id)
  A.id(agent_id, "agent_id", "get", 1)
  return self._client:request("GET", resource.path(ONE, "get", agent_id))
end

--- Counts for the caller's agents (active, inactive, HIPAA, calls).
-- @return stats, resp | nil, err
function G:stats()
  return self._client:request("GET", BASE .. "/stats")
end

local LIST_KEYS = { q = "string", scope = "string" }
local SCOPES = { mine = true, all = true }

-- Checks list/walk parameters; `walk` admits the walker's options too.
local function list_params(params, fname, walk)
  if params == nil then return {} end
  A.table(params, nil, fname, 1, 1)
  local q = {}
  for k, v in pairs(params) do
    local want = LIST_KEYS[k]
    if walk and (k == "page" or k == "page_size" or k == "max_pages" or k == "limit") then
      local lo = k == "limit" and 0 or 1
      if not (A.is_int(v) and v >= lo and (k ~= "page_size" or v <= 100)) then
        A.fail(fname, 1, k == "page_size" and "page_size must be an integer from 1 to 100"
          or ("%s must be an integer >= %d"):format(k, lo), 1)
      end
    elseif not want then
      if k == "page" or k == "page_size" then
        A.fail(fname, 1, ("'%s' is for agents:pages{} or agents:items{}; list returns every agent")
          :format(k), 1)
      end
      A.fail(fname, 1, ("unknown parameter '%s'"):format(tostring(k)), 1)
    elseif type(v) ~= want then
      A.fail(fname, 1, ("%s must be a %s, got %s"):format(k, want, type(v)), 1)
    else
      q[k] = v
    end
  end
  if q.scope ~= nil and not SCOPES[q.scope] then
    A.fail(fname, 1, 'scope must be "mine" or "all"', 1)
  end
  return q
end

local function walk_spec(self)
  return resource.walker_spec(self, BASE, {
    style = "page", items = "items", total = "total", default_size = 20, max_size = 100,
  })
end

--- Every agent of the caller, as one array.
--
-- The API answers an array, or, for super-admin scoping, a page
-- `{items, total, page, page_size}`; then every page is fetched and the
-- agents are returned as one array all the same.
-- @tparam[opt] table params `q` (name search), `scope` ("mine" or "all")
-- @return array, resp | nil, err
-- @raise for page/page_size (use pages or items) and unknown parameters
function G:list(params)
  local q = list_params(params, "list", false)
  local data, resp = self._client:request("GET", BASE, { query = q })
  if data == nil or type(data) ~= "table" or data[1] ~= nil or type(data.items) ~= "table" then
    return data, resp
  end
  local all = json.array()
  for _, a in ipairs(data.items) do all[#all + 1] = a end
  local total, size = tonumber(data.total), tonumber(data.page_size) or #data.items
  if #data.items > 0 and size >= 1 and size <= 100 and (total == nil or #all < total) then
    local opts = { page = (tonumber(data.page) or 1) + 1, page_size = size }
    for k, v in pairs(q) do opts[k] = v end
    local ok, err = resource.items(walk_spec(self), opts, "list"):each(function(a)
      all[#all + 1] = a
    end)
    if not ok then return nil, err end
  end
  return all, resp
end

--- Walks the paged list lazily (default page_size 20, at most 100).
-- @tparam[opt] table opts q, scope, page (start), page_size, max_pages
-- @return walker (see kupe.paginate)
function G:pages(opts)
  list_params(opts, "pages", true)
  return resource.pages(walk_spec(self), opts, "pages")
end

--- Walks every agent of every page lazily; `limit` caps the count.
-- @tparam[opt] table opts q, scope, page_size, limit, max_pages
-- @return walker (see kupe.paginate)
function G:items(opts)
  list_params(opts, "items", true)
  return resource.items(walk_spec(self), opts, "items")
end

local WALK_OPTIONS = { page = true, page_size = true, max_pages = true, limit = true }

-- Checks the query of summary and of its walkers, whose paging options
-- (page, page_size, max_pages, limit) kupe.paginate checks; returns the
-- query. Called from the public method: errors point at its caller.
local function summary_query(params, fname, walk)
  if params == nil then return {} end
  A.table(params, nil, fname, 1, 1)
  local q = {}
  for k, v in pairs(params) do
    if not (walk and WALK_OPTIONS[k]) then
      if k == "page" or k == "page_size" then
        if not (A.is_int(v) and v >= 1 and (k == "page" or v <= 100)) then
          A.fail(fname, 1, k == "page" and "page must be an integer >= 1"
            or "page_size must be an integer from 1 to 100", 1)
        end
      elseif k == "name_search" then
        if type(v) ~= "string" then A.fail(fname, 1, "name_search must be a string", 1) end
      else
        A.fail(fname, 1, ("unknown parameter '%s'"):format(tostring(k)), 1)
      end
      q[k] = v
    end
  end
  return q
end

--- A light page of agents (`{items, total, page, page_size}`), from the
-- narrative docs only: treat it as unverified on the production API.
-- @tparam[opt] table params page, page_size (1..100), name_search
-- @return page, resp | nil, err
function G:summary(params)
  local q = summary_query(params, "summary", false)
  return self._client:request("GET", BASE .. "/summary", { query = q })
end

local function summary_spec(self)
  return resource.walker_spec(self, BASE .. "/summary", {
    style = "page", items = "items", total = "total", default_size = 20, max_size = 100,
  })
end

--- Walks every page of `summary` lazily (default page_size 20, at most 100).
-- @tparam[opt] table opts name_search, page (start), page_size, max_pages
-- @return walker (see kupe.paginate)
function G:summary_pages(opts)
  summary_query(opts, "summary_pages", true)
  return resource.pages(summary_spec(self), opts, "summary_pages")
end

--- Walks every agent of every `summary` page lazily; `limit` caps the count.
-- @tparam[opt] table opts name_search, page_size, limit, max_pages
-- @return walker (see kupe.paginate)
function G:summary_items(opts)
  summary_query(opts, "summary_items", true)
  return resource.items(summary_spec(self), opts, "summary_items")
end

--- Checks an agent's configuration (`GET /api/call/test?agent_id=`).
-- @tparam string agent_id
-- @return result (`valid`, `errors`, `warnings`), resp | nil, err (404)
function G:validate(agent_id)
  A.id(agent_id, "agent_id", "validate", 1)
  return self._client:request("GET", "/api/call/test", { query = { agent_id = agent_id } })
end

---------------------------------------------------------------------------
-- Change, delete

--- Partial update: only the sections sent change, and
-- `agent_specific_config` is merged key by key.
--
-- An active agent refuses the change with a 400 unless forced; pass
-- `{ force = true }` (sent as `?force_update=true`).
-- @tparam string agent_id
-- @tparam table body sections as for create (agent.name not required)
-- @tparam[opt] table opts `{ force = true }`
-- @return bundle, resp | nil, err (400 with a hint when the agent is active)
function G:update(agent_id, body, opts)
  A.id(agent_id, "agent_id", "update", 1)
  local msg = check_body(body, false)
  if msg then A.fail("update", 2, msg) end
  local query, force = force_query(opts, "force_update", "update", 3)
  return forced(self, "PUT", resource.path(ONE, "update", agent_id), body, query, force, "update")
end

--- Deletes an agent and its configurations. An active agent needs
-- `{ force = true }` (sent as `?force_delete=true`), else the API
-- answers 400 (with a hint naming the option).
-- @tparam string agent_id
-- @tparam[opt] table opts `{ force = true }`
-- @return `{message, data}`, resp | nil, err
function G:delete(agent_id, opts)
  A.id(agent_id, "agent_id", "delete", 1)
  local query, force = force_query(opts, "force_delete", "delete", 2)
  return forced(self, "DELETE", resource.path(ONE, "delete", agent_id), nil, query, force,
    "delete")
end

-- The four PATCH *-config methods share one shape.
local function config_setter(fname, suffix, check)
  local template = ONE .. suffix
  return function(self, agent_id, config, opts)
    A.id(agent_id, "agent_id", fname, 1)
    local msg = check(config, "config")
    if msg then A.fail(fname, 2, msg) end
    local query, force = force_query(opts, "force_update", fname, 3)
    return forced(self, "PATCH", resource.path(template, fname, agent_id), config, query, force,
      "update")
  end
end

--- Replaces the LLM config (`model_name`, `temperature`, `max_tokens`,
-- `system_prompt`); `{ force = true }` for an active agent.
-- @tparam string agent_id
-- @tparam table config
-- @tparam[opt] table opts `{ force = true }`
-- @return bundle, resp | nil, err
G.set_model_config = config_setter("set_model_config", "/model-config", check_model)

--- Replaces the TTS config (`tts_model_name`, `language`, `voice_name`,
-- `voice_parameters`); `{ force = true }` for an active agent.
-- @tparam string agent_id
-- @tparam table config
-- @tparam[opt] table opts `{ force = true }`
-- @return bundle, resp | nil, err
G.set_tts_config = config_setter("set_tts_config", "/tts-config", check_tts)

--- Replaces the STT config; `transcriber_model_name` and `language` are
-- required; `{ force = true }` for an active agent.
-- @tparam string agent_id
-- @tparam table config
-- @tparam[opt] table opts `{ force = true }`
-- @return bundle, resp | nil, err
-- @raise when transcriber_model_name or language is missing
G.set_transcriber_config = config_setter("set_transcriber_config", "/transcriber-config",
  check_transcriber)

--- Replaces the VAD config; `vad_provider_id` is required (a VAD
-- catalog id, see providers:vad); `{ force = true }` for an active agent.
-- @tparam string agent_id
-- @tparam table config
-- @tparam[opt] table opts `{ force = true }`
-- @return bundle, resp | nil, err
-- @raise when vad_provider_id is missing
G.set_vad_config = config_setter("set_vad_config", "/vad-config", check_vad)

return G
