--- The emulator's request pipeline, run by nginx for every request.
--
--   init(cfg)  in init_by_lua: load every routes/*.lua, seed the state
--   handle()   content phase of the API listeners (HTTP and HTTPS)
--   other()    content phase of the "other host" listener
--
-- For an API request: count it, pick a queued fault, then either let the
-- fault answer or run auth, routing and the handler; finally deliver the
-- answer (through the raw socket for faults that control the bytes).
-- Route files are modules returning `function(router)`; see README.md.

local json = require "emu.json"
local Router = require "emu.router"
local state = require "emu.state"
local auth = require "emu.auth"
local faults = require "emu.faults"
local respond = require "emu.respond"
local validate = require "emu.validate"
local control = require "emu.control"

local M = {}

local router
local urls = {}
local BODY_LOG_LIMIT = 65536

--- `cfg` = {routes = {paths of route files}, url =, tls_url =, other_url =}
function M.init(cfg)
  router = Router.new()
  for _, file in ipairs(cfg.routes) do
    local chunk, err = loadfile(file)
    if not chunk then error("route file " .. file .. ": " .. err, 0) end
    local register = chunk()
    if type(register) ~= "function" then
      error("route file " .. file .. " must return function(router)", 0)
    end
    register(router)
  end
  urls = { url = cfg.url, tls_url = cfg.tls_url, other_url = cfg.other_url }
  assert(state.reset())
  collectgarbage("setpause", 150)     -- big data sets make much short-lived garbage
end

------------------------------------------------------------------------
-- Request parts

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    local file = ngx.req.get_body_file()
    if file then
      local f = io.open(file, "rb")
      if f then body = f:read("*a"); f:close() end
    end
  end
  return body
end

-- Request headers as a plain table: lower-case names, repeated ones as arrays.
local function request_headers()
  local out = {}
  for k, v in pairs(ngx.req.get_headers(0)) do
    if type(v) == "table" then v = json.array(state.copy(v)) end
    out[k] = v
  end
  return out
end

-- Query arguments: repeated keys as arrays, a bare `?flag` as "".
local function query_args()
  local out = {}
  for k, v in pairs(ngx.req.get_uri_args(0)) do
    if v == true then
      v = ""
    elseif type(v) == "table" then
      local list = json.array()
      for i, x in ipairs(v) do list[i] = x == true and "" or x end
      v = list
    end
    out[k] = v
  end
  return out
end

local function decode_body(ctx)
  local body = ctx.body
  if not body or body == "" then return end
  local ctype = ctx.headers["content-type"]
  if type(ctype) == "table" then ctype = ctype[1] end
  if ctype and not ctype:lower():find("json", 1, true) then return end
  local value, err = json.decode(body)
  if value == nil then
    ctx.json_error = err
    local at = tostring(err):match("character (%d+)")
    ctx.json_error_pos = at and (tonumber(at) - 1) or 0
  else
    ctx.json = value
  end
end

local function count(tbl, key)
  tbl[key] = (tbl[key] or 0) + 1
end

------------------------------------------------------------------------
-- Dispatch: auth, routing, handler

-- `methods` is set when the path exists under other methods only (405).
local function dispatch(ctx, route, methods)
  if (route and route.auth) or (not route and ctx.path:sub(1, 5) == "/api/") then
    auth.check(ctx)
  end
  if not route then
    if methods then
      local allow = {}
      for m in pairs(methods) do allow[#allow + 1] = m end
      table.sort(allow)
      validate.fail(405, "Method Not Allowed", { Allow = table.concat(allow, ", ") })
    end
    -- FastAPI redirects between /x and /x/ when only the other one exists
    local path = ctx.path
    local alt = path:sub(-1) == "/" and path:sub(1, -2) or path .. "/"
    if #alt > 0 and router:match(ctx.method, alt) then
      local args = ctx.args ~= "" and ("?" .. ctx.args) or ""
      return { status = 307, body = "", headers = { Location = ctx.base_url .. alt .. args } }
    end
    validate.fail(404, "Not Found")
  end
  return respond.from_handler(route.handler(ctx))
end

local function error_response(err)
  if validate.is_http_error(err) then
    return respond.json(err.status, err.body, err.headers)
  end
  ngx.log(ngx.ERR, "handler error: ", tostring(err))
  return respond.json(500, { detail = "Internal Server Error" })
end

local function traceback(err)
  if validate.is_http_error(err) then return err end
  return debug.traceback(tostring(err), 2)
end

--- The content handler of the API listeners.
function M.handle()
  local method = ngx.req.get_method()
  local raw_path = ngx.var.request_uri:match("^[^?#]*")

  if raw_path:sub(1, 12) == "/__emulator/" then
    local resp = control.handle(method, raw_path, read_body(), urls, router)
    return respond.send(resp)
  end

  local stats = state.stats
  stats.requests_total = stats.requests_total + 1
  if ngx.var.connection_requests == "1" then
    stats.connections = stats.connections + 1
  end
  count(stats.paths, method .. " " .. raw_path)

  local body = read_body()
  local ctx = {
    method = method, path = raw_path, args = ngx.var.args or "", headers = request_headers(),
    query = query_args(), body = body, tls = ngx.var.https == "on",
    base_url = ngx.var.scheme .. "://" .. (ngx.var.http_host or ngx.var.server_addr),
  }
  stats.last_request = {
    method = method, path = raw_path, query = ctx.args, headers = ctx.headers,
    body = body and body:sub(1, BODY_LOG_LIMIT) or json.null,
  }

  local route, params, methods
  if not raw_path:find("//", 1, true) then   -- Starlette matches no empty segment
    route, params, methods = router:match(method, raw_path)
  end
  if route then
    count(stats.routes, route.key)
    ctx.params, ctx.route = params, route.pattern
  end

  local fault = faults.take(method, raw_path, route)
  if fault and fault.delay and fault.delay > 0 then ngx.sleep(fault.delay) end
  if fault and fault.drop then return ngx.exit(444) end

  local resp
  if fault and faults.replaces(fault) then
    resp = faults.response(fault, ctx.base_url, ngx.var.request_uri, urls.other_url)
  else
    decode_body(ctx)
    local ok, result = xpcall(dispatch, traceback, ctx, route, methods)
    resp = ok and result or error_response(result)
  end
  if fault then faults.override(resp, fault) end
  return respond.send(resp, fault)
end

--- The content handler of the "other host": record, answer 200 JSON.
function M.other()
  local body = read_body()
  state.log_other {
    method = ngx.req.get_method(), uri = ngx.var.request_uri, headers = request_headers(),
    body = body and body:sub(1, BODY_LOG_LIMIT) or json.null,
  }
  return respond.send(respond.json(200, { ok = true, host = "other",
    method = ngx.req.get_method(), uri = ngx.var.request_uri }))
end

return M
