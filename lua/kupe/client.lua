--- The request pipeline: build -> send (transport) -> retry -> decode -> error.
--
-- Every API method ends in `Client:request`. One request is: the URL
-- (base URL, escaped path, RFC 3986 query), the body (JSON through
-- kupe.json), then attempts through the transport until one succeeds or
-- the failure is final. Redirects are followed here, not in libcurl, so
-- the rule "the credential never goes to another origin" lives in one
-- place (the transport attaches it only for the base URL's origin).
--
-- Retries repeat only what cannot do harm: idempotent methods after a
-- network error, a timeout or a 408/429/5xx, and any method when the
-- request certainly never left (refused connection, name resolution).
-- A POST that may have reached the server is never sent twice: a call
-- placed twice rings a person twice. 409 is a business conflict in Kupe
-- (a batch already calling) and is never retried.
--
-- Hot path: per request a handful of tables (the request, the response)
-- and one JSON decode; options are validated by a table lookup each.
-- @module kupe.client

local core = require "kupe.core"
local json = require "kupe.json"
local errors = require "kupe.errors"

local M = {}

local Client = {}
local MT = { __name = "kupe.Client" }
M.Client = Client

local now, request_url, visible, parse_head = core.now, core.request_url, core.visible, core.parse_head
local json_decode, json_encode = json.decode, json.encode
local type, pairs, tostring, setmetatable, rawget = type, pairs, tostring, setmetatable, rawget
local random, min, floor = math.random, math.min, math.floor
local byte = string.byte

local SLASH = byte("/")
-- Methods accepted without a pattern match; any other upper-case word is
-- accepted too, after the match.
local KNOWN_METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true,
  HEAD = true, OPTIONS = true }

local utf8_valid, is_json_type = core.utf8_valid, core.is_json_type

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
-- Longer URLs are refused before sending: servers and proxies cut them
-- off at 8 to 64 KiB, and a value that long belongs in a body.
local MAX_URL = 65536
-- The same for one header value (servers refuse a head over 8 to 16 KiB).
local MAX_HEADER = 8192
local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
local MAX_REDIRECTS = 5

local REQUEST_OPTIONS = {
  query = "table", json = "any", body = "string", content_type = "string",
  headers = "table", timeout = "number", connect_timeout = "number",
  stall_limit = "number", stall_time = "number", max_size = "number",
  sink = "sink", sink_type = "string", on_progress = "function", form = "table",
  raw = "boolean",
  retries = "number",
}

-- Resource groups are loaded on first use: `client.agents` requires
-- kupe.resources.agents once and keeps the bound object on the client.
MT.__index = function(self, key)
  local method = Client[key]
  if method ~= nil then return method end
  if type(key) == "string" and key:match("^%l[%l_]*$") and rawget(self, "_t") then
    local name = "kupe.resources." .. key
    if package.loaded[name] or package.searchpath(name, package.path) then
      local group = require(name).new(self)
      self[key] = group
      return group
    end
  end
  return nil
end

MT.__tostring = function(self)
  return ("kupe.Client (%s%s)"):format(self._base, self._closed and ", closed" or "")
end

---------------------------------------------------------------------------
-- Responses: headers are parsed only when asked for.

local Response = { __name = "kupe.Response" }
Response.__index = function(resp, key)
  if key == "headers" then
    local head = rawget(resp, "head")
    local h = head and select(3, parse_head(head)) or {}
    resp.headers = h
    return h
  end
  return nil
end

local function header(resp, name)
  return resp.headers[name]
end

---------------------------------------------------------------------------
-- Errors

local function html_title(body)
  local t = body and body:match("<[Tt][Ii][Tt][Ll][Ee]>%s*(.-)%s*</[Tt][Ii][Tt][Ll][Ee]>")
  return t ~= "" and t or nil
end

local function hint_for(self, err)
  local kind, status = err.kind, err.status
  if kind == "tls" then
    if (err.cause or ""):find("certificate", 1, true) then
      return "the server's certificate is not trusted here: pass ca_file = '<CA bundle>' to kupe.new"
    end
    return "the TLS handshake failed: check base_url and ca_file"
  elseif kind == "resolve" then
    return "the host name in base_url (or KUPE_BASE_URL) does not resolve: check it"
  elseif kind == "network" and err.sent == false then
    return "nothing answered: check base_url (" .. self._origin .. ") and that the server is up"
  elseif kind == "timeout" then
    if err.phase == "connect" then return "no connection within connect_timeout: check base_url" end
    if err.phase == "stall" then return "the transfer stalled: raise stall_time or check the network" end
    return "raise timeout for slow calls, or stream large bodies with sink"
  elseif kind == "too_large" then
    return "raise max_response_size, or stream the body with sink"
  elseif status == 401 then
    if not self._auth then return "no credential was given: set api_key (or KUPE_API_KEY) or bearer" end
    return "the server refused the " .. (self._auth == "bearer" and "bearer token" or "API key")
      .. ": check api_key / KUPE_API_KEY"
  elseif status == 403 and (err.message or ""):find("scopes", 1, true) then
    return "this API key lacks the scope for this route; use a key with that role"
  elseif status == 403 and err.path and err.path:find("^/api/v1/billing/") and err.method ~= "GET" then
    return "API keys are read-only on billing routes; use a bearer session"
  elseif status == 429 or status == 503 then
    return "the server is busy; max_retries controls how often the client retries"
  end
  return nil
end

local function http_error(method, path, resp)
  local body, ctype = resp.body, resp.content_type
  local data, detail, message
  if body and ctype and (ctype:find("json", 1, true)) then
    data = json_decode(body)
    if type(data) == "table" then
      detail = data.detail
      message = errors.detail_text(detail) or errors.detail_text(data.message)
    end
  end
  if not message and body then
    message = html_title(body)
  end
  local err = errors.new {
    kind = "http", status = resp.status, method = method, path = path,
    detail = detail, message = message, data = data, body = body,
    headers = resp.headers, sent = true,
  }
  return err
end

-- What on_response sees of an error: all of it but the response body and
-- its decoded JSON, which hooks (often loggers) must never receive.
local function hook_error(err)
  local view = {}
  for k, v in pairs(err) do
    if k ~= "body" and k ~= "data" then view[k] = v end
  end
  return setmetatable(view, getmetatable(err))
end

local function transport_error(method, path, kind, msg, sent)
  local phase
  if kind == "timeout" then
    phase = (sent == false and "connect")
      or ((msg or ""):find("too slow", 1, true) and "stall") or "total"
  end
  return errors.new {
    kind = kind, method = method, path = path, cause = msg, sent = sent,
    phase = phase,
    message = phase and (phase == "connect" and "no connection within the connect timeout"
      or phase == "stall" and "the transfer stalled below the stall limit"
      or "the request exceeded its timeout") or nil,
  }
end

---------------------------------------------------------------------------
-- Retry policy

local function retry_after_seconds(resp)
  local v = resp.headers["retry-after"]
  if not v then return nil end
  local n = tonumber(v)
  if not n then
    local t = core.getdate(v)
    n = t and (t - os.time()) or nil
  end
  if not n then return nil end
  return n > 0 and n or 0
end

local function may_retry(method, err)
  if not err.retryable then return false end
  if IDEMPOTENT[method] then return true end
  -- POST / PATCH: only when the request certainly never left this host.
  return err.sent == false
end

local function backoff(self, attempt)
  local cap = min(self._backoff_max, self._backoff_base * 2 ^ (attempt - 1))
  return random() * cap -- full jitter
end

---------------------------------------------------------------------------
-- One exchange, following redirects for GET and HEAD.

local function exchange(self, req)
  local hops = 0
  while true do
    local resp, kind, msg, sent = self._t:send(req)
    if not resp or not REDIRECT[resp.status] then
      return resp, kind, msg, sent
    end
    setmetatable(resp, Response)
    local location = header(resp, "location")
    if not location then return resp end
    if req.method ~= "GET" and req.method ~= "HEAD" then
      return nil, "redirect", ("the server answered %d to a %s and it was not followed "
        .. "(a request with a body is never re-sent)"):format(resp.status, req.method), true
    end
    hops = hops + 1
    if hops > MAX_REDIRECTS then
      return nil, "redirect", "more than " .. MAX_REDIRECTS .. " redirects", true
    end
    local target, rerr = core.resolve_url(req.url, location)
    if not target then
      return nil, "redirect", "unusable redirect location: " .. rerr, true
    end
    if req.url:find("^[Hh][Tt][Tt][Pp][Ss]:") and not target:find("^[Hh][Tt][Tt][Pp][Ss]:") then
      return nil, "redirect", "refused a redirect from https to plain http", true
    end
    if not target:find("^[Hh][Tt][Tt][Pp][Ss]?://") then
      return nil, "redirect", "refused a redirect to a scheme other than http(s)", true
    end
    req.url = target -- the transport attaches the credential only if same origin
  end
end

---------------------------------------------------------------------------
-- Building a request

local RESERVED_HEADERS = { ["x-api-key"] = true, authorization = true, host = true,
  ["content-length"] = true, ["transfer-encoding"] = true }

-- A header that could end the line it is on would let a value forge
-- headers (or requests): refused here, before any transport sees it.
local function check_headers(headers)
  for name, value in pairs(headers) do
    if type(name) ~= "string" or not name:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      error(("request: header name %q is not a valid token"):format(tostring(name):sub(1, 64)), 4)
    end
    if #name > 256 then
      error(("request: header name '%s...' is longer than 256 bytes"):format(name:sub(1, 32)), 4)
    end
    if RESERVED_HEADERS[name:lower()] then
      error(("request: header '%s' is managed by the client"):format(name), 4)
    end
    if type(value) == "number" then value = tostring(value) end
    if type(value) ~= "string" then
      error(("request: header '%s' must have a string value"):format(name), 4)
    end
    if value:find("[%z\r\n]") then
      error(("request: header '%s' contains CR, LF or NUL"):format(name), 4)
    end
    if not utf8_valid(value) then
      error(("request: header '%s' is not valid UTF-8"):format(name), 4)
    end
    if #value > MAX_HEADER then
      error(("request: header '%s' is longer than %d bytes"):format(name, MAX_HEADER), 4)
    end
  end
end

local function check_options(opts)
  for k, v in pairs(opts) do
    local want = REQUEST_OPTIONS[k]
    if not want then
      error(("request: unknown option '%s'"):format(tostring(k)), 3)
    end
    local t = type(v)
    if want == "sink" then
      if t ~= "string" and t ~= "function" then
        error("request: option 'sink' must be a file path or a function", 3)
      end
    elseif want ~= "any" and t ~= want then
      error(("request: option '%s' must be a %s (got %s)"):format(k, want, t), 3)
    end
  end
  if opts.headers then check_headers(opts.headers) end
  local retries = opts.retries
  if retries ~= nil and (retries ~= retries or retries < 0 or retries > 10
      or retries ~= math.floor(retries)) then
    error("request: option 'retries' must be an integer from 0 to 10", 3)
  end
  local ct = opts.content_type
  if ct ~= nil and (ct:find("[%z\1-\31\127]") or not utf8_valid(ct)) then
    error("request: option 'content_type' must be text without control characters", 3)
  end
end

local function temp_path(path)
  return ("%s.%d%06d.part"):format(path, os.time(), random(0, 999999))
end

local function log_attempt(self, method, path, attempt, elapsed, status, err)
  local line = ("kupe: %s %s -> %s (attempt %d, %.1f ms)"):format(method, path,
    status and tostring(status) or (err.kind .. " error"), attempt, elapsed * 1000)
  self._logger(line)
end

--- Sends one API request.
-- @tparam string method "GET", "POST", ...
-- @tparam string path "/api/v1/..." (escape ids with `kupe.escape`), or an absolute URL
-- @tparam[opt] table opts query, json, body, content_type, headers, timeout,
--   connect_timeout, stall_limit, stall_time, max_size, sink, on_progress,
--   form, raw, retries
-- @return data, resp on success; nil, err on failure
-- @raise on a caller mistake (bad method, unknown option, bad header)
function Client:request(method, path, opts)
  if self._closed then error("attempt to use a closed kupe client", 2) end
  if type(method) ~= "string" or not (KNOWN_METHODS[method] or method:match("^%u+$")) then
    error("bad argument #1 to 'request' (upper-case HTTP method expected)", 2)
  end
  local relative = type(path) == "string" and byte(path, 1) == SLASH
  if not (relative or type(path) == "string" and path:find("^[Hh][Tt][Tt][Pp][Ss]?://")) then
    error("bad argument #2 to 'request' (path starting with '/' expected)", 2)
  end
  if not visible(path) then
    error("bad argument #2 to 'request' (path of visible ASCII characters expected: "
      .. "escape ids with kupe.escape)", 2)
  end
  if opts == nil then
    opts = {}
  elseif type(opts) ~= "table" then
    error("bad argument #3 to 'request' (table expected, got " .. type(opts) .. ")", 2)
  else
    check_options(opts)
  end

  -- The URL in one call: base (for a path), path, query; and the path
  -- without query or fragment (what errors and hooks name).
  local query = opts.query
  local url, qpath = request_url(relative and self._base or "", path, query, MAX_URL)
  if not url then
    error(("request: %s makes the URL %d bytes long (the limit is %d): send large "
      .. "values in the body"):format(query and "option 'query'" or "argument #2 (path)", qpath,
      MAX_URL), 2)
  end
  local body, content_type = opts.body, opts.content_type
  if opts.json ~= nil then
    local err
    body, err = json_encode(opts.json)
    if not body then error("request: option 'json' cannot be encoded: " .. err, 2) end
    content_type = "application/json"
  end

  local sink, final_path = opts.sink, nil
  local delivered = false
  if type(sink) == "string" then
    final_path = sink
    sink = temp_path(final_path)
  elseif sink then
    local user_sink = sink
    sink = function(chunk)
      delivered = true
      return user_sink(chunk)
    end
  end
  -- The fields every request has, then the others only when present: the
  -- table is built at its final size in the usual case.
  local req = {
    method = method, url = url,
    timeout = opts.timeout or (sink and 0 or self._timeout),
    connect_timeout = opts.connect_timeout or self._connect_timeout,
    max_size = opts.max_size or self._max_size,
  }
  if body ~= nil then req.body = body end
  if content_type ~= nil then req.content_type = content_type end
  if opts.headers ~= nil then req.headers = opts.headers end
  if opts.form ~= nil then req.form = opts.form end
  if sink then
    req.sink, req.sink_type, req.progress = sink, opts.sink_type, opts.on_progress
    req.stall_limit = opts.stall_limit or self._stall_limit
    req.stall_time = opts.stall_time or self._stall_time
  else
    if opts.on_progress ~= nil then req.progress = opts.on_progress end
    if opts.sink_type ~= nil then req.sink_type = opts.sink_type end
    if opts.stall_limit ~= nil then req.stall_limit = opts.stall_limit end
    if opts.stall_time ~= nil then req.stall_time = opts.stall_time end
  end
  local max_retries = opts.retries or self._max_retries
  local on_request, on_response, logger = self._on_request, self._on_response, self._logger
  local started = now()
  local attempt = 0
  local resp, err

  while true do
    attempt = attempt + 1
    req.url = url
    if on_request then
      on_request { method = method, path = qpath, url = url, attempt = attempt }
    end
    -- the first attempt starts when the request does, unless a hook ran
    local t0 = (attempt == 1 and not on_request) and started or now()
    local kind, msg, sent
    resp, kind, msg, sent = exchange(self, req)
    local elapsed = now() - t0
    if resp then
      if getmetatable(resp) ~= Response then setmetatable(resp, Response) end
      local status = resp.status
      err = (status < 200 or status > 299) and http_error(method, qpath, resp) or nil
    else
      err = transport_error(method, qpath, kind, msg, sent)
    end
    -- The server's Retry-After, whatever happens next: the caller may want
    -- it even when this client does not retry (a POST, retries used up).
    local ra = err and resp and retry_after_seconds(resp)
    if ra then err.retry_after = ra end
    if on_response then
      on_response { method = method, path = qpath, attempt = attempt, elapsed = elapsed,
        status = resp and resp.status or nil, error = err and hook_error(err) }
    end
    if logger then log_attempt(self, method, qpath, attempt, elapsed, resp and resp.status, err) end
    if not err then break end

    err.attempts = attempt
    if attempt > max_retries or delivered or not may_retry(method, err) then break end
    local wait = backoff(self, attempt)
    if ra then
      if ra > self._max_retry_after then break end
      wait = ra
    end
    self._t:sleep(wait)
  end

  if err then
    if final_path then os.remove(sink) end
    err.elapsed = now() - started
    -- A transport may know a fix of its own (nginx.conf directives).
    local t = self._t
    err.hint = err.hint or (t.hint and t:hint(err)) or hint_for(self, err)
    return nil, err
  end

  resp.attempts, resp.elapsed, resp.method, resp.path = attempt, now() - started, method, qpath
  local rbody, ctype = resp.body, resp.content_type
  if rbody == nil then
    -- The body went to the sink.
    if final_path then
      local ok, rerr = os.rename(sink, final_path)
      if not ok then
        os.remove(sink)
        return nil, errors.new { kind = "io", method = method, path = qpath,
          message = "could not move the download into place: " .. tostring(rerr),
          attempts = attempt }
      end
      resp.path_written = final_path
    end
    return true, resp
  end
  if final_path then os.remove(sink) end -- an answer the sink did not take
  if opts.raw then return rbody, resp end
  if rbody == "" then return true, resp end
  if not is_json_type(ctype) then
    return nil, errors.new { kind = "decode", status = resp.status, method = method,
      path = qpath, attempts = attempt, body = rbody, headers = resp.headers,
      message = ("expected a JSON answer, got %s (%d bytes)"):format(ctype or "no content type", #rbody),
      hint = "the server or a proxy in between answered something else than the Kupe API" }
  end
  local data, derr = json_decode(rbody)
  if data == nil then
    return nil, errors.new { kind = "decode", status = resp.status, method = method,
      path = qpath, attempts = attempt, body = rbody, headers = resp.headers,
      message = "the server sent malformed JSON", cause = derr }
  end
  return data, resp
end

---------------------------------------------------------------------------
-- Small routes that belong to no group.

--- GET /health (public readiness probe).
function Client:health()
  return self:request("GET", "/health")
end

--- GET /api/v1/me: who the credential belongs to.
function Client:me()
  return self:request("GET", "/api/v1/me")
end

--- GET /api/v1/me/users: users visible to the caller (organisation
-- scope); an empty list with a message for callers who see no one else.
function Client:users()
  return self:request("GET", "/api/v1/me/users")
end

--- Sleeps through the transport: ngx.sleep inside nginx (the worker keeps
-- serving), a plain sleep elsewhere. For polling helpers such as
-- batches:wait.
function Client:sleep(seconds)
  self._t:sleep(seconds)
end

--- Monotonic seconds, from the transport's clock.
function Client:now()
  return self._t:now()
end

--- Releases the connection and wipes the credential. Idempotent; the
-- client raises if used afterwards.
function Client:close()
  if not self._closed then
    self._closed = true
    self._t:close()
  end
end

MT.__close = function(self) self:close() end

---------------------------------------------------------------------------
-- Construction

local LOOPBACK = { localhost = true, ["::1"] = true, ["[::1]"] = true }

local function is_loopback(host)
  return LOOPBACK[host] or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- Validated construction; see kupe.new for the options.
function M.new(cfg)
  local base = cfg.base_url:gsub("/+$", "")
  if #base > 2048 or base:find("[^\33-\126]") then
    error("kupe.new: option 'base_url' must be a URL of at most 2048 visible ASCII characters", 3)
  end
  local scheme, host = base:match("^(%a[%w+.-]*)://([^/?#]+)")
  if not scheme or (scheme:lower() ~= "http" and scheme:lower() ~= "https") then
    error("kupe.new: option 'base_url' must be an http(s) URL", 3)
  end
  if host:find("@", 1, true) then
    error("kupe.new: option 'base_url' must not contain user information", 3)
  end
  -- A host name, an IPv4 address or a bracketed IPv6 address, and an
  -- optional port: anything else would only fail later, in a name look-up.
  local name, port = host:match("^(%[[%x:.]+%])(.*)$")
  if not name then name, port = host:match("^([%w.-]+)(.*)$") end
  local port_no = port and port:match("^:(%d+)$")
  if not name or name:find("^[.-]") or (port ~= "" and not (port_no and tonumber(port_no) >= 1
      and tonumber(port_no) <= 65535)) then
    error("kupe.new: option 'base_url' must name a host (and an optional port from 1 to 65535)", 3)
  end
  local hostname = host:match("^%[.-%]") or host:gsub(":%d+$", "")
  if scheme:lower() == "http" and not is_loopback(hostname:lower()) and not cfg.allow_insecure then
    error("kupe.new: refusing plain http to " .. hostname .. ": the credential would travel "
      .. "in clear text (use https, or allow_insecure = true)", 3)
  end
  local transport = cfg.transport_factory {
    base_url = base, api_key = cfg.api_key, bearer = cfg.bearer,
    user_agent = cfg.user_agent, ca_file = cfg.ca_file,
  }
  local self = setmetatable({
    _t = transport,
    _base = base,
    _origin = base:match("^%a[%w+.-]*://[^/?#]+"),
    _auth = cfg.api_key and "api_key" or cfg.bearer and "bearer" or nil,
    _timeout = cfg.timeout, _connect_timeout = cfg.connect_timeout,
    _max_retries = cfg.max_retries, _max_size = cfg.max_response_size,
    _backoff_base = cfg.backoff_base, _backoff_max = cfg.backoff_max,
    _max_retry_after = cfg.max_retry_after,
    _stall_limit = cfg.stall_limit, _stall_time = cfg.stall_time,
    -- false, not nil: a missing field would go through MT.__index
    _on_request = cfg.on_request or false, _on_response = cfg.on_response or false,
    _logger = cfg.logger or false, _closed = false,
    transport = transport.name,
  }, MT)
  return self
end

M.MT = MT

-- Randomness for jitter only: a fixed seed would make every client back
-- off in lockstep.
math.randomseed(floor(now() * 1e6) % 2147483647)

return M
