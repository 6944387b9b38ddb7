--- The nginx transport: HTTP/1.1 over cosockets, so a call inside nginx
-- (OpenResty, or nginx with lua-nginx-module) waits without blocking the
-- worker: every other request of the worker goes on being served.
--
-- The contract is the libcurl transport's (docs/DESIGN.md sections 2 and
-- 3): the same request bytes, the same response fields (status, raw head,
-- body, content type, bytes), the same error kinds and messages, the same
-- `sent` rule for retries, the same limits, timeouts and sink rules. The
-- request head is rendered by the C core (`conn:render_head`), credential
-- included, so the key goes from C memory to the socket and is never the
-- field of a Lua table.
--
-- Connections: one cosocket per request, taken from nginx's connection
-- pool and given back to it (`setkeepalive`) under a name made of scheme,
-- host, port and a fingerprint of the credential, so connections to other
-- hosts or for other credentials never mix. No socket stays in the client
-- between calls (a cosocket belongs to the request that made it), so one
-- client, made at module level or in init_by_lua, serves every request of
-- the worker at once. TLS sessions are resumed per pool.
--
-- Reading uses `receiveany`, so the total timeout and the stall limit are
-- measured here over the whole transfer, not per read. Waiting between
-- attempts uses `ngx.sleep`.
--
-- Phases: cosockets exist in the rewrite, access, content, timer and SSL
-- certificate phases. Elsewhere a call raises an error that names the
-- phase and says what to do instead.
-- @module kupe.transport.ngx

local core = require "kupe.core"

local ngx = ngx
local tcp, get_phase, ngx_sleep = ngx.socket.tcp, ngx.get_phase, ngx.sleep
local now, parse_head, inflater = core.now, core.parse_head, core.inflater
local concat, min, max, ceil, floor = table.concat, math.min, math.max, math.ceil, math.floor
local type, pcall, tostring, tonumber, setmetatable = type, pcall, tostring, tonumber, setmetatable
local io_open, random = io.open, math.random

local M = {}
local Transport = { __name = "kupe.transport.ngx" }
Transport.__index = Transport

local READ_SIZE = 65536          -- bytes asked of one receiveany
local MAX_HEAD = 256 * 1024      -- a response head larger than this is refused
local MAX_LINE = 8192            -- a chunk-size or trailer line
local WAIT_SLICE = 60            -- seconds: the longest single wait on the socket
local DEFAULT_CONNECT = 300      -- libcurl's connect timeout when none is set

-- TLS sessions to resume, one per pool name (kept per worker).
local sessions = {}

---------------------------------------------------------------------------
-- Phases

local COSOCKETS = { rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true }

local BLOCKING = "a blocking libcurl call there would stall every request of the worker"
local ADVICE = {
  init = "init_by_lua* runs in the master before any worker exists: make the client there, "
    .. "and call the API from a request handler, or from init_worker_by_lua* through "
    .. "ngx.timer.at(0, function(premature) ... end)",
  init_worker = BLOCKING .. ": defer the call with ngx.timer.at(0, function(premature) ... end)",
  log = "the response has gone, and " .. BLOCKING .. ": defer the call with "
    .. "ngx.timer.at(0, function(premature) ... end), passing it what it needs as arguments",
}
local ELSEWHERE = BLOCKING .. ": make the call in a rewrite, access or content handler, or "
  .. "defer it with ngx.timer.at(0, function(premature) ... end)"

local function check_phase(what)
  local phase = get_phase()
  if COSOCKETS[phase] then return end
  error(("kupe: cannot %s in nginx's %s phase (%s_by_lua*), where nginx offers no "
    .. "cosockets; %s"):format(what, phase, phase, ADVICE[phase] or ELSEWHERE), 0)
end
M.check_phase = check_phase

---------------------------------------------------------------------------
-- Small helpers

local function ms(seconds)
  return max(1, ceil(seconds * 1000))
end

local function is_json(ct)
  if not ct then return false end
  local mt = ct:match("^[^;]*"):gsub(" +$", ""):lower()
  return mt == "application/json" or (#mt > 5 and mt:sub(-5) == "+json")
end

-- "key" in a comma-separated header value, case-insensitively.
local function has_token(value, token)
  if not value then return false end
  for item in value:gmatch("[^,]+") do
    if item:match("^%s*(.-)%s*$"):lower() == token then return true end
  end
  return false
end

local function is_ip(host)
  return host:sub(1, 1) == "[" or host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil
end

---------------------------------------------------------------------------
-- multipart/form-data, as libcurl's MIME API writes it (curl_mime_*): the
-- parts are validated the same way; a file part is read whole (cosockets
-- send strings), named after its file and typed by its extension.

local MIME_TYPES = { gif = "image/gif", jpg = "image/jpeg", jpeg = "image/jpeg",
  png = "image/png", svg = "image/svg+xml", txt = "text/plain", htm = "text/html",
  html = "text/html", pdf = "application/pdf", xml = "application/xml" }

local function form_text(v)
  return type(v) == "string" and not v:find("[%z\r\n]")
end

local function quote(s)
  return (s:gsub('"', "%%22"))
end

local function multipart(form)
  if #form == 0 then error("request: form: at least one part is needed", 0) end
  local boundary = ("------------------------%08x%08x"):format(random(0, 0x7fffffff),
    random(0, 0x7fffffff))
  local out = {}
  for i, p in ipairs(form) do
    if type(p) ~= "table" then error(("request: form: part %d must be a table"):format(i), 0) end
    local name, value, path = p.name, p.value, p.path
    if not form_text(name) or name == "" or (value == nil) == (path == nil)
      or (value ~= nil and type(value) ~= "string") or (path ~= nil and not form_text(path))
      or (p.filename ~= nil and not form_text(p.filename))
      or (p.type ~= nil and not form_text(p.type)) then
      error(("request: form: part %d needs a name and exactly one of 'value' or 'path' "
        .. "(strings without CR, LF or NUL)"):format(i), 0)
    end
    local filename, ctype = p.filename, p.type
    if path then
      local f = io_open(path, "rb")
      if not f then return nil, "io", "cannot read '" .. path .. "'" end
      value = f:read("*a")
      f:close()
      if not value then return nil, "io", "cannot read '" .. path .. "'" end
      filename = filename or path:match("[^/]*$")
      ctype = ctype or MIME_TYPES[(filename:match("%.([%w]+)$") or ""):lower()]
        or "application/octet-stream"
    end
    out[#out + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\""
      .. quote(name) .. "\"" .. (filename and ("; filename=\"" .. quote(filename) .. "\"") or "")
      .. "\r\n" .. (ctype and ("Content-Type: " .. ctype .. "\r\n") or "") .. "\r\n"
    out[#out + 1] = value
    out[#out + 1] = "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return concat(out), "multipart/form-data; boundary=" .. boundary
end

---------------------------------------------------------------------------
-- One exchange. `st` holds its state: the socket, unread bytes, limits,
-- and where the body goes.

-- Seconds until the next check, or nil, kind, message once the total
-- timeout or the stall limit is reached.
local function budget(st)
  local t = now()
  local wait = WAIT_SLICE
  if st.deadline then
    if t >= st.deadline then
      return nil, "timeout", ("Operation timed out after %d milliseconds with %d bytes received")
        :format(floor((t - st.started) * 1000), st.received)
    end
    wait = min(wait, st.deadline - t)
  end
  if st.stall_time then
    local window_end = st.win_start + st.stall_time
    if t >= window_end then
      if st.win_bytes < st.stall_limit * st.stall_time then
        return nil, "timeout", ("Operation too slow. Less than %d bytes/sec transferred "
          .. "the last %d seconds"):format(st.stall_limit, st.stall_time)
      end
      st.win_start, st.win_bytes = t, 0
      window_end = t + st.stall_time
    end
    wait = min(wait, window_end - t)
  end
  return wait
end

-- What a connection closed (or broken) at this point of the answer means,
-- in libcurl's words.
local function recv_failure(st, err)
  if err ~= "closed" then return "Recv failure: " .. err end
  local stage = st.stage
  if stage == "head" then
    return st.got == 0 and "Empty reply from server"
      or "the connection closed inside the response head"
  elseif stage == "length" then
    return ("transfer closed with %d bytes remaining to read"):format(st.left)
  end
  return "transfer closed with outstanding read data remaining"
end

-- The next bytes from the socket, or nil, kind, message.
local function fill(st)
  local sock = st.sock
  while true do
    local wait, kind, msg = budget(st)
    if not wait then return nil, kind, msg end
    sock:settimeout(ms(wait))
    local data, err = sock:receiveany(READ_SIZE)
    if data then
      st.win_bytes = st.win_bytes + #data
      st.got = st.got + #data
      return data
    end
    if err ~= "timeout" then return nil, "network", recv_failure(st, err), err end
  end
end

-- Unread bytes are st.buf from st.pos on: reading moves st.pos instead
-- of cutting strings, so many small chunks cost no quadratic copying.

-- Adds bytes from the socket after the unread ones.
local function more(st)
  local data, kind, msg = fill(st)
  if not data then return nil, kind, msg end
  if st.pos > #st.buf then
    st.buf = data
  else
    st.buf = st.buf:sub(st.pos) .. data
  end
  st.pos = 1
  return true
end

-- Up to n bytes: first what is unread, then from the socket.
local function take(st, n)
  local buf, pos = st.buf, st.pos
  if pos > #buf then
    local data, kind, msg = fill(st)
    if not data then return nil, kind, msg end
    if #data <= n then return data end
    st.buf, st.pos = data, n + 1
    return data:sub(1, n)
  end
  local last = min(#buf, pos + n - 1)
  st.pos = last + 1
  if pos == 1 and last == #buf then return buf end
  return buf:sub(pos, last)
end

-- One line (without its CRLF or LF), for chunk sizes and trailers.
local function read_line(st)
  while true do
    local nl = st.buf:find("\n", st.pos, true)
    if nl then
      local stop = nl - 1
      if stop >= st.pos and st.buf:byte(stop) == 13 then stop = stop - 1 end
      local line = st.buf:sub(st.pos, stop)
      st.pos = nl + 1
      return line
    end
    if #st.buf - st.pos + 1 > MAX_LINE then
      return nil, "network", "a chunk header line is too long"
    end
    local ok, kind, msg = more(st)
    if not ok then return nil, kind, msg end
  end
end

-- The response head up to and including its blank line.
local function read_head(st)
  local from = st.pos
  while true do
    local _, e = st.buf:find("\r?\n\r?\n", from)
    if e then
      local head = st.buf:sub(st.pos, e)
      st.pos = e + 1
      return head
    end
    local unread = #st.buf - st.pos + 1
    if unread > MAX_HEAD then return nil, "network", "the response head is too large" end
    local ok, kind, msg = more(st)
    if not ok then return nil, kind, msg end
    from = max(1, unread - 3) -- a blank line may straddle the old end
  end
end

-- At the first body byte: sink or buffer? The sink file is created only
-- now, so an answer that is not for the sink leaves no file behind.
local function decide(st)
  st.decided = true
  local sink = st.sink
  if not sink then return true end
  local status, ct, want = st.status, st.content_type, st.sink_type
  if status < 200 or status > 299 then return true end
  if want then
    st.to_sink = ct ~= nil and ct:sub(1, #want):lower() == want:lower()
  else
    st.to_sink = not is_json(ct)
  end
  if st.to_sink and type(sink) == "string" then
    local f, err = io_open(sink, "wb")
    if not f then return nil, "io", "cannot open the sink file: " .. tostring(err) end
    st.file = f
  end
  return true
end

local function call(fn, st, ...)
  local ok, go_on, why = pcall(fn, ...)
  if not ok then return nil, "aborted", tostring(go_on) end
  if go_on == false then
    return nil, "aborted", why ~= nil and tostring(why)
      or (fn == st.sink and "the sink returned false" or "the progress function returned false")
  end
  return true
end

-- One piece of the body (still encoded): decode, then buffer or sink it.
local function deliver(st, data)
  st.encoded = st.encoded + #data
  if st.inflater then
    local out, err = st.inflater:update(data)
    if not out then return nil, "decode", "Error while processing content unencoding: " .. err end
    data = out
  end
  local n = #data
  if n == 0 then return true end
  if not st.decided then
    local ok, kind, msg = decide(st)
    if not ok then return nil, kind, msg end
  end
  if not st.to_sink and st.max_size > 0 and st.len + n > st.max_size then
    return nil, "too_large", ("the response is larger than max_size (%d bytes)"):format(st.max_size)
  end
  st.received = st.received + n
  if not st.to_sink then
    st.nparts = st.nparts + 1
    st.parts[st.nparts] = data
    st.len = st.len + n
  elseif st.file then
    local ok, err = st.file:write(data)
    if not ok then return nil, "io", "writing the sink file failed: " .. tostring(err) end
  else
    local ok, kind, msg = call(st.sink, st, data)
    if not ok then return nil, kind, msg end
  end
  if st.progress then
    local ok, kind, msg = call(st.progress, st, st.received, st.total)
    if not ok then return nil, kind, msg end
  end
  return true
end

local function read_chunked(st)
  st.stage = "chunked"
  while true do
    local line, kind, msg = read_line(st)
    if not line then return nil, kind, msg end
    local hex = line:match("^%s*(%x+)%s*;?")
    local size = hex and #hex <= 15 and tonumber(hex, 16)
    if not size then return nil, "network", "Illegal or missing hexadecimal sequence in chunked-encoding" end
    if size == 0 then
      repeat
        line, kind, msg = read_line(st)
        if not line then return nil, kind, msg end
      until line == ""
      return true
    end
    local left = size
    while left > 0 do
      local data
      data, kind, msg = take(st, min(left, READ_SIZE))
      if not data then return nil, kind, msg end
      left = left - #data
      local ok
      ok, kind, msg = deliver(st, data)
      if not ok then return nil, kind, msg end
    end
    line, kind, msg = read_line(st)
    if not line then return nil, kind, msg end
    if line ~= "" then return nil, "network", "a chunk is longer than its size says" end
  end
end

local function read_length(st, length)
  st.stage, st.left = "length", length
  while st.left > 0 do
    local data, kind, msg = take(st, min(st.left, READ_SIZE))
    if not data then return nil, kind, msg end
    st.left = st.left - #data
    local ok
    ok, kind, msg = deliver(st, data)
    if not ok then return nil, kind, msg end
  end
  return true
end

local function read_to_close(st)
  st.stage = "close"
  if st.pos <= #st.buf then
    local data = st.buf:sub(st.pos)
    st.buf, st.pos = "", 1
    local ok, kind, msg = deliver(st, data)
    if not ok then return nil, kind, msg end
  end
  while true do
    local data, kind, msg, err = fill(st)
    if not data then
      if err == "closed" then return true end
      return nil, kind, msg
    end
    local ok
    ok, kind, msg = deliver(st, data)
    if not ok then return nil, kind, msg end
  end
end

-- The Content-Length as a number, nil when absent, false when unusable.
local function content_length(value)
  if not value then return nil end
  local n
  for item in value:gmatch("[^,]+") do
    local v = tonumber(item:match("^%s*(%d+)%s*$"))
    if not v or (n and v ~= n) then return false end
    n = v
  end
  return n
end

local function close(st)
  if st.file then
    st.file:close()
    st.file = nil
  end
  st.sock:close()
end

local function fail(st, kind, msg, sent)
  close(st)
  return nil, kind, msg, sent ~= false
end

-- lua-resty-core 0.1.25 with lua-nginx-module 0.10.23 (Debian 12) raises
-- "assertion failed!" from sslhandshake when a handshake that completed at
-- once failed verification (lua-nginx-module #2506); the reason is still
-- there to read through the FFI call resty.core itself uses.
local function lost_verify_error(sock)
  local ok, ffi = pcall(require, "ffi")
  local ok2, base = pcall(require, "resty.core.base")
  if not (ok and ok2) then return nil end
  local r, u = base.get_request(), sock[1]
  if not r or not u then return nil end
  local sess, code, errmsg = ffi.new("void *[1]"), ffi.new("int[1]"), base.get_errmsg_ptr()
  local got, rc = pcall(ffi.C.ngx_http_lua_ffi_socket_tcp_get_sslhandshake_result,
    r, u, sess, errmsg, code)
  if not got or rc ~= base.FFI_ERROR or errmsg[0] == nil then return nil end
  local msg = ffi.string(errmsg[0])
  return code[0] ~= 0 and (code[0] .. ": " .. msg) or msg
end

local function handshake(sock, session, host)
  local ok, sess, err = pcall(sock.sslhandshake, sock, session, host, true)
  if ok then return sess, err end
  return nil, lost_verify_error(sock) or "certificate verify failed"
end

-- Connects (through the pool) and does the TLS handshake on a new
-- connection. Returns true, or nil, kind, message (nothing was sent).
local function open(st, host, port, tls, pool, connect_timeout)
  local addr = host
  local lower = host:lower()
  -- As libcurl does (RFC 6761): localhost is the loopback, not a DNS name.
  if lower == "localhost" or lower:sub(-10) == ".localhost" then addr = "127.0.0.1" end
  if tls and is_ip(host) then
    return nil, "tls", ("SSL: no host name to verify the certificate against: %s is an IP "
      .. "address, and nginx checks certificates against host names only"):format(host)
  end
  local sock = st.sock
  local t = ms(connect_timeout)
  sock:settimeouts(t, t, t)
  local ok, err = sock:connect(addr, port, { pool = pool })
  if not ok then
    if err == "timeout" then
      return nil, "timeout", ("Connection timed out after %d milliseconds"):format(t)
    elseif err:find("resolve", 1, true) then
      return nil, "resolve", ("Could not resolve host: %s (%s)"):format(host, err)
    end
    return nil, "network", ("Failed to connect to %s port %d: %s"):format(host, port, err)
  end
  if tls and sock:getreusedtimes() == 0 then
    local left = connect_timeout - (now() - st.started)
    if left <= 0 then
      sock:close()
      return nil, "timeout", ("Connection timed out after %d milliseconds"):format(t)
    end
    sock:settimeouts(ms(left), ms(left), ms(left))
    local session
    session, err = handshake(sock, sessions[pool], host)
    if not session then
      sock:close()
      if err == "timeout" then
        return nil, "timeout", ("Connection timed out after %d milliseconds during the TLS "
          .. "handshake"):format(t)
      end
      if err == "certificate host mismatch" then
        return nil, "tls", ("SSL: certificate subject name does not match target host name '%s'")
          :format(host)
      end
      if err:find("^%d+: ") or err:find("verify", 1, true) then
        return nil, "tls", "SSL certificate problem: " .. err
      end
      return nil, "tls", "SSL handshake failed: " .. tostring(err)
    end
    sessions[pool] = session
  end
  return true
end

--- Sends one request (docs/DESIGN.md section 3) and reads the answer.
-- @return resp | nil, kind, message, sent
function Transport:send(req)
  check_phase("call the Kupe API")
  local method = req.method
  local body, ctype = req.body, req.content_type
  if req.form then
    local msg
    body, ctype, msg = multipart(req.form)
    if not body then return nil, ctype, msg, false end -- kind "io"
  end
  if method == "GET" or method == "HEAD" then body = nil end
  local head, pool, host, port, tls = self.conn:render_head(method, req.url,
    { headers = req.headers, content_type = ctype, body = body })
  if not head then return nil, pool, host, port end -- kind, message, sent

  local started = now()
  local total = req.timeout or 0
  local connect_timeout = req.connect_timeout or 0
  if connect_timeout <= 0 then connect_timeout = DEFAULT_CONNECT end
  if total > 0 then connect_timeout = min(connect_timeout, total) end
  local st = {
    sock = tcp(), buf = "", started = started,
    deadline = total > 0 and started + total or nil,
    stall_limit = (req.stall_limit or 0) > 0 and req.stall_limit or nil,
    stall_time = (req.stall_time or 0) > 0 and req.stall_time or nil,
    win_start = started, win_bytes = 0, received = 0, encoded = 0, got = 0, pos = 1,
    len = 0, nparts = 0, parts = {},
    max_size = req.max_size or 0, sink = req.sink, sink_type = req.sink_type,
    progress = req.progress,
  }
  local ok, kind, msg = open(st, host, port, tls, pool, connect_timeout)
  if not ok then return nil, kind, msg, false end

  -- The request: head and body in one write.
  local wait
  wait, kind, msg = budget(st)
  if not wait then return fail(st, kind, msg, false) end
  st.sock:settimeout(ms(wait))
  local sent, err = st.sock:send(body and body ~= "" and { head, body } or head)
  if not sent then
    return fail(st, err == "timeout" and "timeout" or "network",
      err == "timeout" and "Operation timed out while sending the request"
      or "Send failure: " .. tostring(err))
  end
  st.win_start = now()

  -- The answer: interim 1xx heads are skipped.
  local raw, status, headers
  st.stage = "head"
  repeat
    raw, kind, msg = read_head(st)
    if not raw then return fail(st, kind, msg) end
    status, msg, headers = parse_head(raw)
    if not status then return fail(st, "network", "the server sent a malformed response head") end
  until status >= 200 or status == 101
  local ct = headers["content-type"]
  st.status, st.content_type = status, ct

  local length = content_length(headers["content-length"])
  if length == false then return fail(st, "network", "the Content-Length header is malformed") end
  st.total = length
  local no_body = method == "HEAD" or status == 204 or status == 304 or status == 101
  local chunked = not no_body and has_token(headers["transfer-encoding"], "chunked")
  if not no_body and not chunked and not st.sink and length and st.max_size > 0
    and length > st.max_size then
    return fail(st, "too_large", ("the response is larger than max_size (%d bytes)"):format(st.max_size))
  end
  local encoding = headers["content-encoding"]
  encoding = encoding and encoding:lower()
  if not no_body and (encoding == "gzip" or encoding == "x-gzip" or encoding == "deflate") then
    st.inflater = inflater()
  end

  local version = raw:match("^HTTP/(%d%.%d)")
  local keep = status ~= 101 and ((version == "1.1" and not has_token(headers.connection, "close"))
    or (version == "1.0" and has_token(headers.connection, "keep-alive")))
  if no_body then
    ok = true
  elseif chunked then
    ok, kind, msg = read_chunked(st)
  elseif length then
    ok, kind, msg = read_length(st, length)
  else
    keep = false
    ok, kind, msg = read_to_close(st)
  end
  if not ok then return fail(st, kind, msg) end
  if st.inflater and st.encoded > 0 then
    local done
    done, err = st.inflater:finish()
    if not done then
      return fail(st, "decode", "Error while processing content unencoding: " .. tostring(err))
    end
  end
  if st.file then
    local f = st.file
    st.file = nil
    local closed, cerr = f:close()
    if not closed then
      st.sock:close()
      return nil, "io", "closing the sink file failed: " .. tostring(cerr), true
    end
  end
  if keep and st.pos > #st.buf then
    st.sock:setkeepalive()
  else
    st.sock:close()
  end
  return {
    status = status, head = raw, content_type = ct, bytes = st.received,
    body = not st.to_sink and concat(st.parts, "", 1, st.nparts) or nil,
  }
end

--- Waits without blocking the worker.
function Transport:sleep(seconds) -- luacheck: ignore 212
  check_phase("wait between attempts")
  ngx_sleep(seconds)
end

function Transport.now()
  return now()
end

--- Hints for failures whose fix lies in nginx.conf.
function Transport:hint(err)
  local kind, cause = err.kind, err.cause or ""
  if kind == "resolve" and cause:find("no resolver defined", 1, true) then
    return "nginx resolves host names only through its resolver directive: add one to "
      .. "nginx.conf (for example `resolver 127.0.0.53 ipv6=off;`, or your network's DNS server)"
  elseif kind == "resolve" then
    return "nginx's resolver could not resolve the host: check base_url and the resolver "
      .. "directive in nginx.conf"
  elseif kind == "tls" and cause:find("IP address", 1, true) then
    return "use the host name the certificate was issued for in base_url"
  elseif kind == "tls" and cause:find("chain too long", 1, true) then
    return "raise lua_ssl_verify_depth in nginx.conf (3 covers most public chains)"
  elseif kind == "tls" and (cause:find("issuer", 1, true) or cause:find("self%-signed")
    or cause:find("verify the first", 1, true)) then
    return "nginx does not trust the server's certificate: point lua_ssl_trusted_certificate "
      .. "at a CA bundle that holds its CA (for example /etc/ssl/certs/ca-certificates.crt) "
      .. "and set lua_ssl_verify_depth 3 in nginx.conf"
  elseif kind == "tls" and cause:find("does not match", 1, true) then
    return "the certificate does not name the host of base_url: check base_url"
  elseif err.status == 401 and self.anonymous then
    return "no credential was given, and nginx hides environment variables from Lua: add "
      .. "`env KUPE_API_KEY;` to the main context of nginx.conf, or pass api_key to kupe.new"
  end
  return nil
end

function Transport:close()
  self.conn:close()
end

function Transport:__tostring()
  return "kupe.transport.ngx (" .. tostring(self.conn) .. ")"
end

--- cfg: base_url, api_key or bearer, user_agent. ca_file does not apply:
-- nginx verifies certificates against lua_ssl_trusted_certificate.
function M.new(cfg)
  if cfg.ca_file then
    error("kupe.new: option 'ca_file' does not apply inside nginx: the ngx transport verifies "
      .. "certificates against lua_ssl_trusted_certificate (set it in nginx.conf)", 4)
  end
  local conn = core.new {
    base_url = cfg.base_url, api_key = cfg.api_key, bearer = cfg.bearer,
    user_agent = cfg.user_agent,
  }
  return setmetatable({ conn = conn, name = "ngx",
    anonymous = cfg.api_key == nil and cfg.bearer == nil }, Transport)
end

return M
