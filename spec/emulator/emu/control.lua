--- The control API under /__emulator/ (no auth, no faults, not counted).
--
--   POST   /__emulator/reset    settings + data set back to the seed
--   POST   /__emulator/config   change settings, keep the data
--   POST   /__emulator/faults   queue a fault
--   DELETE /__emulator/faults   drop queued faults
--   GET    /__emulator/stats    counters, last request, other host's log
--   GET    /__emulator/info     the data set summary and the URLs
--   GET    /__emulator/routes   every registered "METHOD /pattern"

local json = require "emu.json"
local state = require "emu.state"
local faults = require "emu.faults"
local respond = require "emu.respond"

local M = {}

local function bad(message)
  return respond.json(400, { detail = message })
end

local function stats()
  local s = state.stats
  local other = json.array()
  for i, e in ipairs(s.other_host) do other[i] = e end
  return {
    requests_total = s.requests_total, connections = s.connections,
    routes = s.routes, paths = s.paths, last_request = s.last_request or json.null,
    other_host = other, faults_pending = faults.pending(),
  }
end

--- Answer a control request. `body` is the raw request body or nil;
-- `urls` the emulator's own URLs (for info); `router` lists the routes.
function M.handle(method, path, body, urls, router)
  local opts
  if body and body:match("%S") then
    local err
    opts, err = json.decode(body)
    if opts == nil then return bad("body is not valid JSON: " .. tostring(err)) end
  end
  local route = method .. " " .. path
  if route == "POST /__emulator/reset" or route == "POST /__emulator/config" then
    if opts ~= nil and (type(opts) ~= "table" or json.is_array(opts)) then
      return bad("body must be a JSON object")
    end
    local ok, err
    if path == "/__emulator/reset" then
      ok, err = state.reset(opts)
    else
      ok, err = state.configure(opts)
    end
    if not ok then return bad(err) end
    return respond.json(200, state.summary())
  elseif route == "POST /__emulator/faults" then
    local n, err = faults.add(opts)
    if not n then return bad(err) end
    return respond.json(200, { faults_pending = n })
  elseif route == "DELETE /__emulator/faults" then
    faults.clear()
    return respond.json(200, { faults_pending = 0 })
  elseif route == "GET /__emulator/stats" then
    return respond.json(200, stats())
  elseif route == "GET /__emulator/routes" then
    local list = json.array()
    for i, r in ipairs(router.routes) do list[i] = r.key end
    table.sort(list)
    return respond.json(200, list)
  elseif route == "GET /__emulator/info" then
    local info = state.summary()
    for k, v in pairs(urls) do info[k] = v end
    return respond.json(200, info)
  end
  return respond.json(404, { detail = "Not Found" })
end

return M
