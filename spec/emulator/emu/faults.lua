--- Fault injection: queued faults, matched against every API request.
--
-- A fault is queued with `{match = "GET /api/v1/me", times = 1, fault = {...}}`.
-- `match` is "METHOD /path": method `*` matches any; a path ending in `*`
-- is a prefix; a path with `{name}` segments matches the route pattern.
-- Faults are tried in the order queued; the first match is used and its
-- `times` counted down (a negative `times` never runs out).
--
-- Some fault fields answer in place of the handler (the request never
-- reaches the API): `drop`, `status`, `body`, `json`, `redirect`,
-- `malformed`, `oversize`. The others change how the real answer is
-- delivered: `delay`, `drip`, `cut`, `truncate_chunked`, `content_type`,
-- and `headers` (added to the real answer when no `status` is given).

local json = require "emu.json"
local state = require "emu.state"
local respond = require "emu.respond"

local M = {}

local FIELDS = {
  status = "number", headers = "table", body = "string", json = "any", delay = "number",
  drip = "table", drop = "boolean", cut = "number", truncate_chunked = "number",
  malformed = "boolean", content_type = "string", oversize = "number", redirect = "string",
}

--- Queue a fault; returns the number pending, or nil and a message.
function M.add(spec)
  if type(spec) ~= "table" then return nil, "body must be an object" end
  local match, fault, times = spec.match, spec.fault, spec.times
  if type(match) ~= "string" then return nil, 'match must be a string like "GET /api/v1/me"' end
  local method, path = match:match("^(%S+)%s+(/%S*)$")
  if not method then return nil, 'match must look like "GET /api/v1/me" or "* /api/*"' end
  if type(fault) ~= "table" then return nil, "fault must be an object" end
  for k, v in pairs(fault) do
    local want = FIELDS[k]
    if not want then return nil, "unknown fault field " .. tostring(k) end
    if want ~= "any" and type(v) ~= want then return nil, "fault." .. k .. " must be a " .. want end
  end
  if fault.status and (fault.status < 100 or fault.status > 599) then
    return nil, "fault.status must be 100..599"
  end
  if fault.redirect and not (fault.redirect == "other" or fault.redirect == "same"
      or fault.redirect:match("^https?://")) then
    return nil, 'fault.redirect must be "other", "same" or an http(s) URL'
  end
  if times == nil or times == json.null then times = 1 end
  if type(times) ~= "number" or times == 0 then return nil, "times must be a non-zero number" end
  local faults = state.faults
  faults[#faults + 1] = {
    method = method:upper(), path = path, prefix = path:sub(-1) == "*" and path:sub(1, -2),
    times = times, fault = fault,
  }
  return #faults
end

function M.clear()
  state.faults = {}
end

function M.pending()
  return #state.faults
end

--- The fault for this request, if one is queued (and count it down).
function M.take(method, path, route)
  local faults = state.faults
  for i, f in ipairs(faults) do
    if (f.method == "*" or f.method == method)
        and (f.path == path or (f.prefix and path:sub(1, #f.prefix) == f.prefix)
          or (route and f.path == route.pattern)) then
      if f.times > 0 then
        f.times = f.times - 1
        if f.times == 0 then table.remove(faults, i) end
      end
      return f.fault
    end
  end
end

--- True when the fault answers in place of the handler.
function M.replaces(fault)
  return fault.status ~= nil or fault.body ~= nil or fault.json ~= nil or fault.redirect ~= nil
    or fault.malformed or fault.oversize ~= nil
end

local function guess_type(body)
  if body:match("^%s*<") then return "text/html; charset=utf-8" end
  if body:match("^%s*[%[{]") then return "application/json" end
  return "text/plain; charset=utf-8"
end

-- A JSON body of exactly n bytes: {"detail":"oversize","padding":"xxx..."}
local function oversize_stream(n)
  local prefix = '{"detail":"oversize","padding":"'
  local suffix = '"}'
  local pad = math.max(0, n - #prefix - #suffix)
  local block = ("x"):rep(65536)
  return function(send)
    if not send(prefix) then return end
    local left = pad
    while left > 0 do
      local piece = left >= #block and block or block:sub(1, left)
      if not send(piece) then return end
      left = left - #piece
    end
    send(suffix)
  end, #prefix + pad + #suffix
end

--- The response a replacing fault gives, for a request to `base_url` ..
-- `uri` (path and query).
function M.response(fault, base_url, uri, other_url)
  local status = fault.status
  local headers = {}
  for k, v in pairs(fault.headers or {}) do headers[k] = v end
  if fault.redirect then
    local target = fault.redirect
    if target == "other" then
      target = other_url .. uri
    elseif target == "same" then
      target = base_url .. uri
    end
    headers.Location = target
    return { status = status or 302, headers = headers, body = "" }
  end
  if fault.oversize then
    local write, length = oversize_stream(fault.oversize)
    return { status = status or 200, headers = headers, content_type = "application/json",
      stream = write, length = length }
  end
  if fault.malformed then
    return { status = status or 200, headers = headers, content_type = "application/json",
      body = '{"items": [{"request_id": "0b6f0c1e", "status": "completed"}, {"request_id": ' }
  end
  status = status or 200
  if fault.body then
    return { status = status, headers = headers, body = fault.body,
      content_type = guess_type(fault.body) }
  end
  local value = fault.json
  if value == nil then
    value = { detail = respond.REASONS[status] or ("HTTP " .. status) }
  end
  return respond.json(status, value, headers)
end

--- Apply the fault fields that change a real answer.
function M.override(resp, fault)
  if fault.content_type then resp.content_type = fault.content_type end
  if fault.headers and not M.replaces(fault) then
    for k, v in pairs(fault.headers) do resp.headers[k] = v end
  end
end

return M
