--- The default transport: libcurl through kupe.core.
--
-- One connection object per client: one easy handle reused for every
-- request, so keep-alive, the DNS cache and TLS sessions carry over. The
-- credential goes straight into C at construction and is not kept here.
-- Blocking: inside nginx request handlers use the ngx transport instead.
-- @module kupe.transport.curl

local core = require "kupe.core"

local M = {}
local Transport = { __name = "kupe.transport.curl" }
Transport.__index = Transport

--- cfg: base_url, api_key or bearer, user_agent, ca_file.
function M.new(cfg)
  local conn = core.new {
    base_url = cfg.base_url, api_key = cfg.api_key, bearer = cfg.bearer,
    user_agent = cfg.user_agent, ca_file = cfg.ca_file,
  }
  return setmetatable({ conn = conn, name = "curl" }, Transport)
end

--- Sends one request (see docs/DESIGN.md section 3); the request table
-- goes to C as is, its fields already have the names the core reads.
function Transport:send(req)
  local status, body, head, ctype, bytes = self.conn:request(req.method, req.url, req)
  if not status then
    return nil, body, head, ctype -- kind, message, sent
  end
  -- Built at its final size: the pipeline adds attempts, elapsed, method
  -- and path to every response, which would otherwise make it rehash.
  return { status = status, body = body, head = head, content_type = ctype, bytes = bytes,
    attempts = false, elapsed = false, method = false, path = false }
end

Transport.sleep = function(_, s) core.sleep(s) end
Transport.now = function() return core.now() end

function Transport:close()
  self.conn:close()
end

function Transport:__tostring()
  return "kupe.transport.curl (" .. tostring(self.conn) .. ")"
end

return M
