--- The nginx transport: HTTP/1.1 over cosockets, so a call inside nginx
-- (OpenResty, or nginx with lua-nginx-module) waits without blocking the
-- worker: every other request of the worker goes on being served.
--
-- The contract is the libcurl transport's (docs/DESIGN.md sections 2 and
-- 3): the same request bytes, the same response fields (status, raw head,
-- body, content type, bytes), the same error kinds and messages, the same
-- `sent` rule for retries, the same limits, timeouts and sink rules. The
-- messages are libcurl 7.88's words, with this exchange's numbers (elapsed
-- milliseconds, bytes); README's "Differences from the libcurl transport"
-- lists where nginx cannot know what libcurl would say. The
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
local is_json = core.is_json_type
local concat, min, max, ceil, floor = table.concat, math.min, math.max, math.ceil, math.floor
local type, pcall, tostring, tonumber, setmetatable = type, pcall, tostring, tonumber, setmetatable
local upper = string.upper
local io_open, random = io.open, math.random

local M = {}
local Transport = { __name = "kupe.transport.ngx" }
Transport.__index = Transport

local READ_SIZE = 65536          -- bytes asked of one receiveany
local MAX_HEAD = 256 * 1024      -- a response head larger than this is refused
local MAX_LINE = 8192            -- a trailer line, or what is kept of a chunk-size line
local MAX_HEX = 16               -- hex digits of a chunk size (libcurl: those of a curl_off_t)
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

-- Whole milliseconds since t0, as libcurl prints elapsed times.
local function since(t0)
  return floor((now() - t0) * 1000)
end

-- nginx gives a socket error as LuaSocket does, strerror in lower case
-- ("connection reset by peer"); libcurl prints strerror as it is.
local function errno_text(err)
  return (tostring(err):gsub("^%l", upper))
end

-- A host as libcurl names it in messages: an IPv6 address without brackets.
local function display(host)
  return host:match("^%[(.*)%]$") or host
end

-- What a Lua callback gave as its reason, as lua_tolstring reads it in C.
local function text_of(v)
  local t = type(v)
  if t == "string" or t == "number" then return tostring(v) end
  return nil
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

-- libcurl's words for the total timeout: the body bytes received so far
-- (still encoded, without chunk framing) and, when the head gave a
-- Content-Length, out of how many.
function M.timed_out(st)
  local elapsed = since(st.started)
  if st.total then
    return ("Operation timed out after %d milliseconds with %d out of %d bytes received")
      :format(elapsed, st.encoded, st.total)
  end
  return ("Operation timed out after %d milliseconds with %d bytes received"):format(elapsed, st.encoded)
end

-- Seconds until the next check, or nil, kind, message once the total
-- timeout or the stall limit is reached.
local function budget(st)
  local t = now()
  local wait = WAIT_SLICE
  if st.deadline then
    if t >= st.deadline then return nil, "timeout", M.timed_out(st) end
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
  if err ~= "closed" then return "Recv failure: " .. errno_text(err) end
  local stage = st.stage
  if stage == "head" then
    -- libcurl counts a head line once it is whole: until then, nothing
    -- came back.
    return (not st.interim and not st.buf:find("\n", st.pos, true)) and "Empty reply from server"
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

-- One line (without its CRLF or LF), for chunk sizes and trailers. A
-- line longer than MAX_LINE is an error, unless `skip`: then only its
-- first MAX_LINE bytes are kept and the rest is dropped as it arrives
-- (a chunk-size line, whose extensions libcurl skips whatever their length).
local function read_line(st, skip)
  local kept
  while true do
    local nl = st.buf:find("\n", st.pos, true)
    if nl then
      local stop = nl - 1
      if stop >= st.pos and st.buf:byte(stop) == 13 then stop = stop - 1 end
      local line = kept or st.buf:sub(st.pos, stop)
      st.pos = nl + 1
      return line
    end
    if #st.buf - st.pos + 1 > MAX_LINE then
      if not skip then return nil, "network", "a chunk trailer line is too long" end
      kept = kept or st.buf:sub(st.pos, st.pos + MAX_LINE - 1)
      st.pos = #st.buf + 1
    end
    local ok, kind, msg = more(st)
    if not ok then return nil, kind, msg end
  end
end

-- libcurl 7.88's verdict on a head's status line (lib/http.c: the line
-- must start with "HTTP/", then sscanf(" HTTP/%1d.%1d%c%3d%c") reads it),
-- in its words; nil when it takes the line. A line it takes that
-- core.parse_head refuses (a lower-case "http/", no space after the
-- code) is refused later with words of our own.
local function status_refusal(raw)
  local line = raw:match("^[^\n]*"):gsub("\r$", "")
  if upper(line:sub(1, 5)) ~= "HTTP/" then return "Received HTTP/0.9 when not allowed" end
  local major, minor, sep, rest = line:match("^HTTP/%s*(%d)%.%s*(%d)(.?)(.*)$")
  if not major then
    -- "HTTP/2 200" and "HTTP/3 200" are taken; another digit alone is not.
    if line:find("^HTTP/[23]%s*[-+]?%d") or not line:find("^HTTP/%s*%d") then return nil end
    return "Unsupported HTTP version in response"
  end
  -- %3d: at most three characters, a sign included.
  local code, digit4 = rest:match("^%s*([-+]%d%d?)(.?)")
  if not code then code, digit4 = rest:match("^%s*(%d%d?%d?)(.?)") end
  if not code then return "Unsupported HTTP version in response" end
  if digit4:find("^%d$") or tonumber(code) < 100 then
    return "Unsupported response code in HTTP response"
  end
  if sep ~= " " then return "Unsupported HTTP version in response" end
  local version = tonumber(major) * 10 + tonumber(minor)
  if version ~= 10 and version ~= 11 and version ~= 20 then
    return ("Unsupported HTTP version (%s.%s) in response"):format(major, minor)
  end
  return nil
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
    if not f then
      -- io.open puts the path first; the core's message (strerror) has none.
      err = tostring(err)
      if err:sub(1, #sink + 2) == sink .. ": " then err = err:sub(#sink + 3) end
      return nil, "io", "cannot open the sink file: " .. err
    end
    st.file = f
  end
  return true
end

local function call(fn, st, ...)
  local ok, go_on, why = pcall(fn, ...)
  if not ok then return nil, "aborted", text_of(go_on) or "(error object is not a string)" end
  if go_on == false then
    return nil, "aborted", text_of(why)
      or (fn == st.sink and "the sink returned false" or "the progress function returned false")
  end
  return true
end

-- libcurl's words for a body it cannot decode: zlib's message, which the
-- inflater gives after a prefix of its own.
local function unencoding(err)
  err = tostring(err):gsub("^corrupt compressed body: ", "")
  if err == "zlib error" then err = "Unknown failure within decompression software." end
  return "Error while processing content unencoding: " .. err
end

-- One piece of the body (still encoded): decode, then buffer or sink it.
local function deliver(st, data)
  st.encoded = st.encoded + #data
  if st.inflater then
    local out, err = st.inflater:update(data)
    if not out then return nil, "decode", unencoding(err) end
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

-- A chunk size as libcurl reads it (lib/http_chunks.c): hex digits from
-- the start of the line, at most 16 and below 2^63; whatever follows them
-- (extensions) is skipped. nil, kind, message otherwise.
local function chunk_size(line)
  local hex = line:match("^%x+")
  if hex and #hex > MAX_HEX then
    return nil, "network", "Too long hexadecimal number in chunked-encoding"
  end
  if not hex or (#hex == MAX_HEX and hex:find("^[89a-fA-F]")) then
    return nil, "network", "Illegal or missing hexadecimal sequence in chunked-encoding"
  end
  return tonumber(hex, 16)
end

-- After a chunk's data: CRs, then the LF, and nothing else (libcurl).
local function chunk_end(st)
  while true do
    local buf, pos = st.buf, st.pos
    while pos <= #buf do
      local b = buf:byte(pos)
      pos = pos + 1
      if b ~= 13 then
        st.pos = pos
        if b == 10 then return true end
        return nil, "network", "Malformed encoding found in chunked-encoding"
      end
    end
    st.pos = pos
    local ok, kind, msg = more(st)
    if not ok then return nil, kind, msg end
  end
end

local function read_chunked(st)
  st.stage = "chunked"
  while true do
    local line, kind, msg = read_line(st, true)
    if not line then return nil, kind, msg end
    local size
    size, kind, msg = chunk_size(line)
    if not size then return nil, kind, msg end
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
    local ended
    ended, kind, msg = chunk_end(st)
    if not ended then return nil, kind, msg end
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

-- The Content-Length as a number, nil when absent, false when unusable:
-- not one number (libcurl 7.88 would read the digits it starts with, but
-- RFC 9112 section 6.3 makes such a length an unrecoverable error).
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

-- Handshake failures that are not a certificate verification: nginx's
-- own words, which resty.core may prefix with a stale OpenSSL code (the
-- code is kept in a buffer shared by all handshakes and read only after
-- an asynchronous one).
local NOT_VERIFY = { ["handshake failed"] = true, ["no memory"] = true, closed = true,
  timeout = true, ["certificate host mismatch"] = true }

-- The handshake: true and the session to resume next time (if any), or
-- nil, nil and nginx's reason without any code.
local function handshake(sock, session, host)
  local ok, sess, err = pcall(sock.sslhandshake, sock, session, host, true)
  if not ok then
    err = lost_verify_error(sock) or "certificate verify failed"
  elseif sess ~= nil or err == nil then
    return true, sess
  end
  return nil, nil, (tostring(err):gsub("^%d+: ", ""))
end

-- libcurl's words for a connect that ran out of time. Which limit ran
-- out decides them: connect_timeout, or the total timeout when it is the
-- shorter (st.by_total). `tls`: the TCP connection was up, the handshake
-- was not done.
local function connect_timed_out(st, host, port, tls)
  if st.by_total then
    return ("Connection timed out after %d milliseconds"):format(since(st.started))
  elseif tls then
    return "SSL connection timeout"
  end
  return ("Failed to connect to %s port %d after %d ms: Timeout was reached")
    :format(display(host), port, since(st.started))
end

-- A failed handshake in libcurl's words (OpenSSL's verify text, its host
-- name check). nginx writes OpenSSL's reason for any other failure to its
-- error log and gives Lua only "handshake failed": that is libcurl's
-- generic text for the kind, "SSL connect error".
local function handshake_failure(err, host)
  if err == "certificate host mismatch" then
    return ("SSL: no alternative certificate subject name matches target host name '%s'")
      :format(display(host))
  elseif NOT_VERIFY[err] then
    return "SSL connect error"
  end
  return "SSL certificate problem: " .. err -- X509_verify_cert_error_string, as in libcurl
end

-- Connects (through the pool) and does the TLS handshake on a new
-- connection. Returns true, or nil, kind, message (nothing was sent) and
-- for a failed name look-up nginx's reason (for the hint).
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
      return nil, "timeout", connect_timed_out(st, host, port)
    elseif err:find("resolve", 1, true) then
      return nil, "resolve", "Could not resolve host: " .. display(host), err
    end
    -- libcurl 7.88 names the result code, not errno: refused, unreachable, ...
    return nil, "network", ("Failed to connect to %s port %d after %d ms: Couldn't connect to server")
      :format(display(host), port, since(st.started))
  end
  if tls and sock:getreusedtimes() == 0 then
    local left = connect_timeout - (now() - st.started)
    if left <= 0 then
      sock:close()
      return nil, "timeout", connect_timed_out(st, host, port, true)
    end
    sock:settimeouts(ms(left), ms(left), ms(left))
    local done, session
    done, session, err = handshake(sock, sessions[pool], host)
    if not done then
      sock:close()
      if err == "timeout" then return nil, "timeout", connect_timed_out(st, host, port, true) end
      return nil, "tls", handshake_failure(err, host)
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
  local by_total = total > 0 and total < connect_timeout
  if by_total then connect_timeout = total end
  local st = {
    sock = tcp(), buf = "", started = started, by_total = by_total,
    deadline = total > 0 and started + total or nil,
    stall_limit = (req.stall_limit or 0) > 0 and req.stall_limit or nil,
    stall_time = (req.stall_time or 0) > 0 and req.stall_time or nil,
    win_start = started, win_bytes = 0, received = 0, encoded = 0, pos = 1,
    len = 0, nparts = 0, parts = {},
    max_size = req.max_size or 0, sink = req.sink, sink_type = req.sink_type,
    progress = req.progress,
  }
  local ok, kind, msg, why = open(st, host, port, tls, pool, connect_timeout)
  if not ok then
    if why then self.resolve_why[display(host)] = why end
    return nil, kind, msg, false
  end

  -- The request: head and body in one write.
  local wait
  wait, kind, msg = budget(st)
  if not wait then return fail(st, kind, msg, false) end
  st.sock:settimeout(ms(wait))
  local sent, err = st.sock:send(body and body ~= "" and { head, body } or head)
  if not sent then
    if err == "timeout" then return fail(st, "timeout", M.timed_out(st)) end
    return fail(st, "network", "Send failure: " .. errno_text(err))
  end
  st.win_start = now()

  -- The answer: interim 1xx heads are skipped.
  local raw, status, headers
  st.stage = "head"
  repeat
    raw, kind, msg = read_head(st)
    if not raw then return fail(st, kind, msg) end
    msg = status_refusal(raw)
    if msg then return fail(st, "network", msg) end
    status, msg, headers = parse_head(raw)
    if not status then return fail(st, "network", "the server sent a malformed response head") end
    st.interim = true
  until status >= 200 or status == 101
  local ct = headers["content-type"]
  st.status, st.content_type = status, ct

  local length = content_length(headers["content-length"])
  if length == false then return fail(st, "network", "Invalid Content-Length: value") end
  local no_body = method == "HEAD" or status == 204 or status == 304 or status == 101
  local chunked = not no_body and has_token(headers["transfer-encoding"], "chunked")
  st.total = not chunked and length or nil -- a chunked body has no size to tell
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
    if not done then return fail(st, "decode", unencoding(err)) end
  end
  if st.file then
    local f = st.file
    st.file = nil
    if not f:close() then
      st.sock:close()
      return nil, "io", "closing the sink file failed", true
    end
  end
  if keep and st.pos > #st.buf then
    st.sock:setkeepalive()
  else
    st.sock:close()
  end
  return {
    status = status, head = raw, headers = headers, content_type = ct, bytes = st.received,
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

--- Hints for failures whose fix lies in nginx.conf. A failed look-up's
-- message is libcurl's ("Could not resolve host: NAME"); nginx's reason
-- for it, kept per host name by send, picks the hint and is quoted there.
function Transport:hint(err)
  local kind, cause = err.kind, err.cause or ""
  local why = kind == "resolve" and self.resolve_why[cause:match("^Could not resolve host: (.*)$") or ""]
  if why and why:find("no resolver defined", 1, true) then
    return "nginx resolves host names only through its resolver directive: add one to "
      .. "nginx.conf (for example `resolver 127.0.0.53 ipv6=off;`, or your network's DNS server)"
  elseif kind == "resolve" then
    return "nginx's resolver could not resolve the host" .. (why and (" (" .. why .. ")") or "")
      .. ": check base_url and the resolver directive in nginx.conf"
  elseif kind == "tls" and cause:find("IP address", 1, true) then
    return "use the host name the certificate was issued for in base_url"
  elseif kind == "tls" and cause:find("chain too long", 1, true) then
    return "raise lua_ssl_verify_depth in nginx.conf (3 covers most public chains)"
  elseif kind == "tls" and (cause:find("issuer", 1, true) or cause:find("self%-signed")
    or cause:find("verify the first", 1, true)) then
    return "nginx does not trust the server's certificate: point lua_ssl_trusted_certificate "
      .. "at a CA bundle that holds its CA (for example /etc/ssl/certs/ca-certificates.crt) "
      .. "and set lua_ssl_verify_depth 3 in nginx.conf"
  elseif kind == "tls" and cause:find("target host name", 1, true) then
    return "the certificate does not name the host of base_url: check base_url"
  elseif kind == "tls" and cause == "SSL connect error" then
    return "the TLS handshake failed: nginx's error log has OpenSSL's reason; check base_url "
      .. "and that the server speaks TLS there"
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
    anonymous = cfg.api_key == nil and cfg.bearer == nil, resolve_why = {} }, Transport)
end

return M
