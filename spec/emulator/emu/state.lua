--- The emulator's state for the life of the nginx worker: settings, the
-- seeded data set, what clients created, counters and queued faults.
--
-- One worker process owns it (worker_processes 1), so plain Lua tables are
-- enough. `reset` rebuilds everything from the seed; `configure` changes
-- settings and keeps the data.
--
-- Call sessions are addressed by position, 1 = newest: first the sessions
-- clients created (create_call), newest first, then the generated ones,
-- built on demand from (seed, index). Their encoded JSON is cached (up to
-- a byte budget that holds about 100,000), so a large data set never sits
-- in memory as tables, and a second pass over it costs no generation.

local json = require "emu.json"
local rng = require "emu.rng"
local dataset = require "emu.dataset"

local M = {}

M.DEFAULTS = {
  seed = 1, sessions = 250, agents = 3, phones = 3, email = "ops@example.test", create_call = "success",
  api_keys = { { key = "emu_test_key", scopes = true } }, bearer_tokens = { "emu_test_jwt" },
  allowed_origins = { "https://app.kupe.in" },
}

local CACHE_BYTES = 160 * 1048576     -- encoded sessions kept, at most (~100k)
local FILTER_CACHE_LIMIT = 8          -- filter results kept at most
local OTHER_LOG_LIMIT = 1000          -- requests kept for the other host

-- Filled by reset().
M.settings = nil
M.user = nil
M.catalogs = nil
M.phones = nil
M.agents = nil          -- list of records, oldest first
M.agents_by_id = nil
M.stats = nil
M.faults = nil

local world                           -- what session generation needs
local created                         -- created sessions (tables), oldest first
local created_by_rid                  -- request_id -> session table
local cache, cache_bytes              -- generated index -> encoded JSON
local rid_index                       -- request_id -> generated index (lazy)
local filter_cache                    -- filter -> list of positions
local id_rng                          -- ids for things created at run time

------------------------------------------------------------------------
-- Settings

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return setmetatable(t, getmetatable(v))
end
M.copy = copy

local CREATE_CALL = { success = true, failed = true, queued = true }

-- Check and apply `opts` onto `s`; returns nil, message on bad input.
local function apply_settings(s, opts, allow_sizes)
  for k, v in pairs(opts) do
    if k == "seed" or k == "sessions" or k == "agents" or k == "phones" then
      if not allow_sizes then return nil, k .. " can only be set by reset" end
      if type(v) ~= "number" or v ~= math.floor(v) or v < 0 then
        return nil, k .. " must be a non-negative integer"
      end
      if k == "agents" and (v < 1 or v > 1000) then return nil, "agents must be 1..1000" end
      if k == "phones" and (v < 1 or v > 1000) then return nil, "phones must be 1..1000" end
      if k == "sessions" and v > 1000000 then return nil, "sessions must be at most 1000000" end
      s[k] = v
    elseif k == "email" then
      if v ~= json.null and type(v) ~= "string" then
        return nil, "email must be a string or null"
      end
      s.email = v
    elseif k == "create_call" then
      if not CREATE_CALL[v] then
        return nil, 'create_call must be "success", "failed" or "queued"'
      end
      s.create_call = v
    elseif k == "api_keys" then
      if type(v) ~= "table" then return nil, "api_keys must be a list" end
      local keys = {}
      for i, e in ipairs(v) do
        if type(e) == "string" then e = { key = e } end
        if type(e) ~= "table" or type(e.key) ~= "string" or e.key == "" then
          return nil, "api_keys[" .. i .. "].key must be a non-empty string"
        end
        local scopes = e.scopes
        if scopes == nil or scopes == json.null then scopes = true end
        if type(scopes) ~= "boolean" and type(scopes) ~= "table" then
          return nil, "api_keys[" .. i .. "].scopes must be true, false or a list of path prefixes"
        end
        keys[i] = { key = e.key, scopes = scopes }
      end
      s.api_keys = keys
    elseif k == "bearer_tokens" then
      if type(v) ~= "table" then return nil, "bearer_tokens must be a list" end
      local tokens = {}
      for i, e in ipairs(v) do
        if type(e) == "table" then e = e.token end
        if type(e) ~= "string" or e == "" then
          return nil, "bearer_tokens[" .. i .. "] must be a non-empty string"
        end
        tokens[i] = e
      end
      s.bearer_tokens = tokens
    elseif k == "allowed_origins" then
      if type(v) ~= "table" then return nil, "allowed_origins must be a list" end
      s.allowed_origins = copy(v)
    else
      return nil, "unknown setting " .. tostring(k)
    end
  end
  return true
end

local function clear_counters()
  M.stats = {
    requests_total = 0, connections = 0, routes = {}, paths = {}, last_request = nil,
    other_host = {},
  }
end

local function data_changed()
  filter_cache = {}
end

------------------------------------------------------------------------
-- Route-owned state: a route file keeps what clients create in its own
-- store, emptied by every reset, and may seed it in an on_reset hook
-- (run after the data set is built, with the settings). Route files load
-- before the first reset, so hooks see every reset.

local stores = {}
local reset_hooks = {}

--- The named table of one route file; emptied by every reset.
function M.store(name)
  local t = stores[name]
  if not t then
    t = {}
    stores[name] = t
  end
  return t
end

--- Registers fn(settings) to run after every reset.
function M.on_reset(fn)
  reset_hooks[#reset_hooks + 1] = fn
end

--- Rebuild everything from the seed. `opts` as the control API's reset.
function M.reset(opts)
  local s = copy(M.DEFAULTS)
  local ok, err = apply_settings(s, opts or {}, true)
  if not ok then return nil, err end
  M.settings = s
  M.user = dataset.user(s.seed)
  M.catalogs = dataset.catalogs(s.seed)
  M.phones = dataset.phones(s.seed, s.phones)
  M.agents = dataset.agents(s.seed, s.agents, M.user.user_id, M.catalogs)
  M.agents_by_id = {}
  for _, rec in ipairs(M.agents) do M.agents_by_id[rec.agent.id] = rec end
  world = { user_id = M.user.user_id, agents = {}, lines = {},
    rule_id = rng.new(s.seed, "rule", 0):uuid() }
  for i, rec in ipairs(M.agents) do
    world.agents[i] = { id = rec.agent.id, name = rec.agent.name, script = rec.script,
      hipaa = rec.agent.hipaa_compliance, welcome = rec.agent.first_response_message }
  end
  for _, p in ipairs(M.phones) do
    if p.is_active then world.lines[#world.lines + 1] = p.phone_number end
  end
  created, created_by_rid = {}, {}
  cache, cache_bytes, rid_index = {}, 0, nil
  id_rng = rng.new(s.seed, "runtime", 0)
  M.faults = {}
  clear_counters()
  data_changed()
  for _, t in pairs(stores) do
    for k in pairs(t) do t[k] = nil end
  end
  for _, fn in ipairs(reset_hooks) do fn(s) end
  return true
end

--- Change settings, keep the data.
function M.configure(opts)
  local s = copy(M.settings)
  local ok, err = apply_settings(s, opts or {}, false)
  if not ok then return nil, err end
  M.settings = s
  return true
end

--- A summary of the data set for the control API (no credentials).
function M.summary()
  local agents = json.array()
  for i, rec in ipairs(M.agents) do
    local a = rec.agent
    agents[i] = { id = a.id, name = a.name, is_active = a.is_active,
      hipaa_compliance = a.hipaa_compliance }
  end
  local phones = json.array()
  for i, p in ipairs(M.phones) do
    phones[i] = { id = p.id, phone_number = p.phone_number, is_active = p.is_active }
  end
  local hipaa
  for _, rec in ipairs(M.agents) do
    if rec.agent.hipaa_compliance then hipaa = rec.agent.id break end
  end
  local s = M.settings
  return {
    seed = s.seed, sessions = M.session_total(), generated_sessions = s.sessions,
    user_id = M.user.user_id, email = s.email, create_call = s.create_call,
    agents = agents, hipaa_agent_id = hipaa or json.null, phone_numbers = phones,
    api_keys = #s.api_keys, bearer_tokens = #s.bearer_tokens,
  }
end

------------------------------------------------------------------------
-- Credentials

--- The configured entry for an API key, or nil.
function M.api_key(key)
  for _, e in ipairs(M.settings.api_keys) do
    if e.key == key then return e end
  end
end

function M.bearer_ok(token)
  for _, t in ipairs(M.settings.bearer_tokens) do
    if t == token then return true end
  end
  return false
end

------------------------------------------------------------------------
-- Ids and time

--- A fresh UUID: deterministic for a given seed and sequence of calls.
function M.new_uuid()
  return id_rng:uuid()
end

function M.rng()
  return id_rng
end

function M.now_iso()
  return dataset.iso(ngx.time())
end

------------------------------------------------------------------------
-- Agents

--- Add an agent record (`{agent=, configurations=}`) and return it.
function M.add_agent(rec)
  M.agents[#M.agents + 1] = rec
  M.agents_by_id[rec.agent.id] = rec
  return rec
end

function M.remove_agent(id)
  for i, rec in ipairs(M.agents) do
    if rec.agent.id == id then table.remove(M.agents, i) break end
  end
  M.agents_by_id[id] = nil
end

------------------------------------------------------------------------
-- Call sessions

function M.session_total()
  return #created + M.settings.sessions
end

--- Add a session created at run time; it becomes the newest.
function M.add_session(session)
  setmetatable(session, dataset.SESSION_ORDER)
  created[#created + 1] = session
  created_by_rid[session.request_id] = session
  data_changed()
  return session
end

local function generated(i)
  return dataset.session(M.settings.seed, i, world)
end

--- The session at `pos` (1 = newest) as a table.
function M.session_at(pos)
  local nc = #created
  if pos <= nc then return created[nc - pos + 1] end
  local i = pos - nc - 1
  if i < M.settings.sessions then return generated(i) end
end

--- The session at `pos` as JSON text (cached for generated sessions).
function M.session_json_at(pos)
  local nc = #created
  if pos <= nc then return json.encode(created[nc - pos + 1]) end
  local i = pos - nc - 1
  if i >= M.settings.sessions then return nil end
  local text = cache[i]
  if not text then
    text = json.encode(generated(i))
    if cache_bytes + #text > CACHE_BYTES then cache, cache_bytes = {}, 0 end
    cache[i] = text
    cache_bytes = cache_bytes + #text
  end
  return text
end

--- Position of the session with this request id, or nil.
function M.find_session(request_id)
  local s = created_by_rid[request_id]
  if s then
    for k = #created, 1, -1 do
      if created[k] == s then return #created - k + 1 end
    end
  end
  if not rid_index then
    rid_index = {}
    local seed = M.settings.seed
    for i = 0, M.settings.sessions - 1 do
      rid_index[(dataset.session_light(seed, i))] = i
    end
  end
  local i = rid_index[request_id]
  if i then return #created + i + 1 end
end

--- Positions of the sessions matching `filter` (request id substring or
-- call type, case-insensitive), newest first. Cached per filter.
function M.filter_sessions(filter)
  local f = filter:lower()
  local hit = filter_cache[f]
  if hit then return hit end
  local out, n = {}, 0
  local nc = #created
  for pos = 1, nc do
    local s = created[nc - pos + 1]
    if s.call_type == f or s.request_id:find(f, 1, true) then n = n + 1; out[n] = pos end
  end
  local seed = M.settings.seed
  for i = 0, M.settings.sessions - 1 do
    local rid, call_type = dataset.session_light(seed, i)
    if call_type == f or rid:find(f, 1, true) then n = n + 1; out[n] = nc + i + 1 end
  end
  local size = 0
  for _ in pairs(filter_cache) do size = size + 1 end
  if size >= FILTER_CACHE_LIMIT then filter_cache = {} end
  filter_cache[f] = out
  return out
end

------------------------------------------------------------------------
-- The other host's log

function M.log_other(entry)
  local log = M.stats.other_host
  if #log >= OTHER_LOG_LIMIT then table.remove(log, 1) end
  log[#log + 1] = entry
end

return M
