--- kupe-lua: the Lua client for the Kupe Voice Agent API.
--
--     local kupe = require "kupe"
--     local client = kupe.new { api_key = os.getenv "KUPE_API_KEY" }
--     local me = assert(client:me())
--
-- Run-time failures return `nil, err` (see kupe.errors); caller mistakes
-- raise a string naming the argument.
-- @module kupe

local core = require "kupe.core"
local json = require "kupe.json"
local errors = require "kupe.errors"
local client = require "kupe.client"

local kupe = {
  _VERSION = "kupe-lua " .. core.version,
  version = core.version,
  --- JSON null, as decoded and as to send.
  null = json.null,
  --- Marks a table as a JSON array, so that an empty one is sent as `[]`.
  array = json.array,
  array_mt = json.array_mt,
  --- The metatable of error values.
  Error = errors.Error,
  is_error = errors.is,
}

local DEFAULT_BASE_URL = "https://api.kupe.in"

-- name -> { type, default }. A default of false means "none".
local OPTIONS = {
  api_key = { "string" }, bearer = { "string" }, base_url = { "string" },
  timeout = { "number", 30 }, connect_timeout = { "number", 10 },
  max_retries = { "number", 2 }, user_agent = { "string" },
  ca_file = { "string" }, allow_insecure = { "boolean", false },
  transport = { "string|table" },
  on_request = { "function" }, on_response = { "function" },
  logger = { "function" },
  backoff_base = { "number", 0.5 }, backoff_max = { "number", 8 },
  max_retry_after = { "number", 60 },
  max_response_size = { "number", 64 * 1024 * 1024 },
  stall_limit = { "number", 1024 }, stall_time = { "number", 30 },
}

local function check_type(name, v, want)
  local t = type(v)
  if want:find(t, 1, true) then return end
  error(("kupe.new: option '%s' must be a %s (got %s)"):format(name, want:gsub("|", " or "), t), 3)
end

local function lua_version()
  return rawget(_G, "jit") and jit.version or _VERSION
end

-- nginx with lua-nginx-module (OpenResty): cosockets exist.
local function in_nginx()
  local ngx = rawget(_G, "ngx")
  return type(ngx) == "table" and type(ngx.get_phase) == "function"
    and type(ngx.socket) == "table"
end

-- Which transport: "curl" (libcurl, blocking) or "ngx" (cosockets: never
-- blocks the nginx worker), or an object implementing the seam. Inside
-- nginx the default is "ngx", whatever the phase the client is made in
-- (init_by_lua, module level): the phase is checked by each call.
local function transport_factory(choice)
  if type(choice) == "table" then
    return function() return choice end, "custom"
  end
  if choice == nil then
    choice = in_nginx() and "ngx" or "curl"
  end
  if choice ~= "curl" and choice ~= "ngx" then
    error("kupe.new: option 'transport' must be \"curl\", \"ngx\" or a transport object", 3)
  end
  if choice == "ngx" and not in_nginx() then
    error("kupe.new: transport \"ngx\" needs nginx with the Lua module (OpenResty); "
      .. "elsewhere use the default, \"curl\"", 3)
  end
  return require("kupe.transport." .. choice).new, choice
end

-- "libcurl/7.88.1", or inside nginx "ngx_lua/0.10.23".
local function http_product(choice)
  if choice == "ngx" then
    local v, floor = rawget(_G, "ngx").config.ngx_lua_version, math.floor
    return ("ngx_lua/%d.%d.%d"):format(floor(v / 1000000), floor(v / 1000) % 1000, v % 1000)
  end
  return "libcurl/" .. core.curl_version
end

--- Creates a client.
-- @tparam[opt] table opts api_key | bearer, base_url, timeout, connect_timeout,
--   max_retries, user_agent, ca_file, allow_insecure, transport, on_request,
--   on_response, logger, backoff_base, backoff_max, max_retry_after,
--   max_response_size, stall_limit, stall_time
-- @return a kupe.Client
-- @raise on an unknown option or a wrong type, naming the option
function kupe.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error("bad argument #1 to 'new' (table expected, got " .. type(opts) .. ")", 2)
  end
  local cfg = {}
  for name, v in pairs(opts) do
    local spec = OPTIONS[name]
    if not spec then error(("kupe.new: unknown option '%s'"):format(tostring(name)), 2) end
    check_type(name, v, spec[1])
    cfg[name] = v
  end
  for name, spec in pairs(OPTIONS) do
    if cfg[name] == nil and spec[2] ~= nil then cfg[name] = spec[2] end
  end
  for _, name in ipairs { "timeout", "connect_timeout", "max_retries", "backoff_base",
    "backoff_max", "max_retry_after", "max_response_size", "stall_limit", "stall_time" } do
    local v = cfg[name]
    if v ~= v or v < 0 or v == math.huge then
      error(("kupe.new: option '%s' must be a finite number >= 0"):format(name), 2)
    end
  end
  if cfg.max_retries ~= math.floor(cfg.max_retries) or cfg.max_retries > 10 then
    error("kupe.new: option 'max_retries' must be an integer from 0 to 10", 2)
  end
  if cfg.api_key and cfg.bearer then
    error("kupe.new: give 'api_key' or 'bearer', not both", 2)
  end
  if cfg.api_key == nil and cfg.bearer == nil then
    local env = os.getenv("KUPE_API_KEY")
    if env and env ~= "" then cfg.api_key = env end
  end
  for _, name in ipairs { "api_key", "bearer" } do
    local v = cfg[name]
    if v ~= nil and (v == "" or v:find("[%z\r\n]")) then
      error(("kupe.new: option '%s' must be a non-empty string without CR, LF or NUL"):format(name), 2)
    end
  end
  cfg.base_url = cfg.base_url or os.getenv("KUPE_BASE_URL") or DEFAULT_BASE_URL
  if cfg.base_url == "" then cfg.base_url = DEFAULT_BASE_URL end
  if cfg.logger == nil and os.getenv("KUPE_LOG") == "debug" then
    cfg.logger = function(line) io.stderr:write(line, "\n") end
  end
  local factory, choice = transport_factory(cfg.transport)
  local product = ("kupe-lua/%s %s %s"):format(core.version, http_product(choice),
    (lua_version():gsub(" ", "/")))
  cfg.user_agent = cfg.user_agent and (cfg.user_agent .. " " .. product) or product
  cfg.transport_factory = factory
  local c = client.new(cfg) -- not a tail call: error levels count this frame
  return c
end

--- Escapes one path segment (an id) so it cannot change the route.
kupe.escape = core.escape

return kupe
