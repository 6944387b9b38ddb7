--- Responses: what handlers return, and how it goes on the wire.
--
-- A response is `{status=, headers=, content_type=, body=}` (a string) or
-- `{..., stream=function(send), length=}` where `send(chunk)` returns false
-- once the client is gone or the fault has sent enough. A stream without a
-- length goes out chunked.
--
-- Normal delivery goes through nginx (keep-alive, gzip filter for JSON,
-- Content-Length, HEAD). The faults that must control the exact bytes
-- (`cut`, `truncate_chunked`, `drip`) write to the raw client socket
-- instead, bypassing every filter, and close the connection afterwards.

local json = require "emu.json"

local M = {}

local raw_mt = { __name = "emu.raw_body" }
local stream_mt = { __name = "emu.stream_body" }

--- A non-JSON body: `return 200, respond.raw(bytes, "application/zip")`.
function M.raw(body, content_type)
  return setmetatable({ body = body, content_type = content_type }, raw_mt)
end

--- A streamed body: `respond.stream{write = function(send) ... end,
-- length = n or nil, content_type = ...}`.
function M.stream(t)
  assert(type(t.write) == "function", "stream needs a write function")
  return setmetatable(t, stream_mt)
end

local JSON_TYPE = "application/json"

--- Turn a handler's `status, value, headers` into a response.
function M.from_handler(status, value, headers)
  if type(status) ~= "number" then
    error("handler returned no status code", 0)
  end
  local resp = { status = status, headers = headers or {} }
  local mt = getmetatable(value)
  if mt == raw_mt then
    resp.body, resp.content_type = value.body, value.content_type
  elseif mt == stream_mt then
    resp.stream, resp.length = value.write, value.length
    resp.content_type = value.content_type or JSON_TYPE
  elseif value == nil then
    resp.body = ""
  else
    resp.body, resp.content_type = json.encode(value), JSON_TYPE
  end
  return resp
end

--- A JSON response.
function M.json(status, value, headers)
  return { status = status, headers = headers or {}, content_type = JSON_TYPE,
    body = json.encode(value) }
end

------------------------------------------------------------------------
-- Normal delivery

local function send_normal(resp)
  ngx.status = resp.status
  for k, v in pairs(resp.headers) do ngx.header[k] = v end
  if resp.content_type then ngx.header["Content-Type"] = resp.content_type end
  if resp.body then
    ngx.header["Content-Length"] = #resp.body
    if #resp.body > 0 then ngx.print(resp.body) end
    return
  end
  if resp.length then ngx.header["Content-Length"] = resp.length end
  if ngx.req.get_method() == "HEAD" then
    ngx.send_headers()
    return
  end
  resp.stream(function(chunk)
    if not ngx.print(chunk) then return false end
    return ngx.flush(true) ~= nil     -- wait for the socket: backpressure
  end)
end

------------------------------------------------------------------------
-- Raw delivery (faults that control the bytes)

local REASONS = {
  [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [307] = "Temporary Redirect", [308] = "Permanent Redirect", [400] = "Bad Request",
  [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [409] = "Conflict", [413] = "Content Too Large",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}
M.REASONS = REASONS

local function send_raw(resp, fault)
  local sock, err = ngx.req.socket(true)
  if not sock then
    ngx.log(ngx.ERR, "raw client socket: ", err)
    return ngx.exit(444)
  end
  local length = resp.body and #resp.body or resp.length
  local chunked = fault.truncate_chunked ~= nil or length == nil
  local limit = fault.cut or fault.truncate_chunked
  local head = {
    ("HTTP/1.1 %d %s"):format(resp.status, REASONS[resp.status] or "Unknown"),
    "Server: nginx",
    "Date: " .. ngx.http_time(ngx.time()),
  }
  if resp.content_type then head[#head + 1] = "Content-Type: " .. resp.content_type end
  for k, v in pairs(resp.headers) do head[#head + 1] = k .. ": " .. tostring(v) end
  head[#head + 1] = chunked and "Transfer-Encoding: chunked" or ("Content-Length: " .. length)
  head[#head + 1] = "Connection: close"
  if not sock:send(table.concat(head, "\r\n") .. "\r\n\r\n") then return ngx.exit(444) end
  if ngx.req.get_method() == "HEAD" then return ngx.exit(444) end

  local sent = 0
  local drip = fault.drip
  local step = drip and math.max(1, math.floor(tonumber(drip.bytes) or 1)) or nil
  local interval = drip and (tonumber(drip.interval) or 0.1) or 0

  local function out(piece)
    if chunked then piece = ("%x\r\n"):format(#piece) .. piece .. "\r\n" end
    return sock:send(piece) ~= nil
  end

  local function sink(chunk)
    if limit then
      local room = limit - sent
      if room <= 0 then return false end
      if #chunk > room then chunk = chunk:sub(1, room) end
    end
    if step then
      for a = 1, #chunk, step do
        if sent > 0 then ngx.sleep(interval) end
        local piece = chunk:sub(a, a + step - 1)
        if not out(piece) then return false end
        sent = sent + #piece
      end
    else
      if #chunk > 0 and not out(chunk) then return false end
      sent = sent + #chunk
    end
    return not limit or sent < limit
  end

  local ok = true
  if resp.body then
    ok = sink(resp.body)
  else
    resp.stream(function(chunk)
      ok = sink(chunk)
      return ok
    end)
  end
  if chunked and ok and not limit then sock:send("0\r\n\r\n") end
  return ngx.exit(444)                -- close: the response ends with the connection
end

--- Put `resp` on the wire, through the raw socket when `fault` asks for it.
function M.send(resp, fault)
  if fault and (fault.cut or fault.truncate_chunked or fault.drip) then
    return send_raw(resp, fault)
  end
  return send_normal(resp)
end

return M
