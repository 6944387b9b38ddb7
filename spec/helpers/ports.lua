-- Loopback ports that fail on purpose, for the connect-time faults: one
-- that refuses, one whose connect never completes, and one that accepts
-- connections and never says a word. Used by the transport cases (also
-- inside nginx) and by the fault matrix.
local socket = require "socket"

local M = {}

--- A port with nothing listening (bound, then closed).
function M.closed()
  local s = assert(socket.tcp4())
  assert(s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

--- A listener with a backlog of 0 and its queue filled: further SYNs are
-- dropped, so a connect times out without leaving the machine. Returns
-- the port and a function that releases the sockets.
function M.full_queue()
  local srv = assert(socket.tcp4())
  assert(srv:setoption("reuseaddr", true))
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen(0))
  local _, port = srv:getsockname()
  local fillers = {}
  for i = 1, 4 do
    local s = assert(socket.tcp4())
    s:settimeout(0.2)
    s:connect("127.0.0.1", port)
    fillers[i] = s
  end
  return port, function()
    for _, s in ipairs(fillers) do s:close() end
    srv:close()
  end
end

--- A listener that never accepts: a connect completes (the kernel
-- queues it) and then nothing is ever read or written, so a TLS handshake
-- or an answer never comes. Returns the port and a function that closes it.
function M.silent()
  local srv = assert(socket.tcp4())
  assert(srv:setoption("reuseaddr", true))
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen(8))
  local _, port = srv:getsockname()
  return port, function() srv:close() end
end

return M
