--- The inside of the host nginx of the nginx specs (spec/06-nginx): runs
-- shared cases and transport checks in a real worker, through the cosocket
-- transport, and answers JSON that the specs assert on.
--
--   /t/case?module=spec.cases.call_logs&name=...   one shared case
--   /t/<name>                                       one handler below
--   /walk/uncaught                                  a walk nobody catches
--
-- The emulator is another nginx; its control helper uses cosockets here.

local cjson = require "cjson.safe"
local kupe = require "kupe"
local h = require "spec.helpers.kupe"
local cases = require "spec.helpers.cases"
local raw = require "spec.nginx.raw"

local emu = h.emu
local M = {}

local function dict()
  return ngx.shared.kupe_spec
end

local function reply(value, status)
  local body = cjson.encode(value) .. "\n"
  ngx.status = status or 200
  ngx.header.content_type = "application/json"
  ngx.header.content_length = #body
  ngx.print(body)
end

local function args()
  return ngx.req.get_uri_args()
end

-- Outcome of a call made in a phase where it may be refused.
local function try_call(client)
  local ok, a, b = pcall(client.me, client)
  if not ok then return "raised: " .. tostring(a) end
  if a then return "ok " .. a.auth end
  return "failed: " .. tostring(b)
end

---------------------------------------------------------------------------
-- Phases

--- init_by_lua: a client made before any worker exists, shared by all
-- requests of each worker. A call here must raise.
function M.init()
  M.shared = h.client { transport = nil }
  dict():set("phase:init", try_call(M.shared))
end

function M.init_worker()
  dict():set("phase:init_worker", try_call(M.shared))
end

--- A call from the phase that runs this (set, rewrite, log, ...).
function M.in_phase()
  local phase = ngx.get_phase()
  dict():set("phase:" .. phase, try_call(M.shared))
  return phase
end

local handlers = {}

function handlers.phase_result()
  reply { outcome = dict():get("phase:" .. args().phase) }
end

--- Schedules a call in a timer (the way out of the phases that refuse).
function handlers.timer()
  dict():delete("phase:timer")
  local ok, err = ngx.timer.at(0, function(premature)
    if not premature then dict():set("phase:timer", try_call(M.shared)) end
  end)
  reply { scheduled = ok ~= nil, err = err }
end

function handlers.ping()
  reply { pong = true }
end

---------------------------------------------------------------------------
-- Shared cases (spec/cases/*.lua) with ngx-transport clients.

local function ngx_client(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.transport == nil then o.transport = "ngx" end
  return h.client(o)
end

local context = cases.context { client = ngx_client, transport = "ngx" }
local lists = {}

function handlers.case()
  local a = args()
  local module, name = a.module, a.name
  if type(module) ~= "string" or not module:match("^spec%.cases%.[%w_]+$") then
    return reply({ error = "bad module" }, 400)
  end
  local list = lists[module]
  if not list then
    list = require(module)(context)
    lists[module] = list
  end
  local fn
  for _, c in ipairs(list) do
    if c[1] == name then fn = c[2] end
  end
  if not fn then return reply({ error = "no case named " .. tostring(name) }, 404) end
  context.reset()
  local ok, err = xpcall(fn, function(e) return debug.traceback(tostring(e), 2) end, context)
  reply { ok = ok, error = not ok and err or nil }
end

---------------------------------------------------------------------------
-- Transport checks

--- The module-level client (made in init_by_lua); ?transport=curl uses a
-- libcurl client instead, to show what blocking costs.
function handlers.me()
  local c = M.shared
  if args().transport == "curl" then
    M.curl = M.curl or h.client { transport = "curl" }
    c = M.curl
  end
  local me, err = c:me()
  if not me then return reply({ error = tostring(err) }, 502) end
  reply { auth = me.auth, transport = c.transport }
end

--- 200 sequential calls in one handler, and the connections they opened.
function handlers.keepalive()
  h.reset()
  local c = ngx_client()
  local before = emu.stats().connections
  for _ = 1, 200 do assert(c:me()) end
  reply { opened = emu.stats().connections - before }
end

--- Two credentials never share a pooled connection; one credential does.
function handlers.pools()
  local tag = tostring(ngx.now()):gsub("%.", "")
  local a, b = "pool_a_" .. tag, "pool_b_" .. tag
  h.reset { api_keys = { { key = a, scopes = true }, { key = b, scopes = true } } }
  local before = emu.stats().connections
  local seen = {}
  for i, key in ipairs { a, b, a, b } do
    local me = assert(ngx_client { api_key = key }:me())
    seen[i] = emu.stats().last_request.headers["x-api-key"] == key and me.auth
  end
  reply { opened = emu.stats().connections - before, seen = seen }
end

--- TLS against the emulator's HTTPS listener (trust set per location).
function handlers.tls(host)
  local env = h.env()
  local port = env.tls_url:match(":(%d+)$")
  -- A key of its own: kept-alive connections are pooled per worker, and
  -- one verified under another location's trust must not be reused here.
  local c = ngx_client { base_url = ("https://%s:%s"):format(host or "localhost", port),
    max_retries = 0, api_key = ngx.var.uri == "/tls/untrusted" and "untrusted-key" or nil }
  local before = emu.stats().connections
  local me, err = c:me()
  local again = me and c:me()
  local out = { ok = me ~= nil, auth = me and me.auth, again = again and again.auth,
    opened = emu.stats().connections - before }
  if err then
    out.kind, out.cause, out.hint, out.sent = err.kind, err.cause, err.hint, err.sent
  end
  reply(out)
end

function M.tls()
  handlers.tls(args().host)
end

--- A host name through nginx's resolver (none, or one that never answers).
function M.resolve()
  local c = ngx_client { base_url = "https://api.kupe.test", max_retries = 0 }
  local t0 = ngx.now()
  local me, err = c:me()
  ngx.update_time()
  reply { ok = me ~= nil, kind = err and err.kind, cause = err and err.cause,
    hint = err and err.hint, sent = err and err.sent, elapsed = ngx.now() - t0 }
end

--- A 429 with Retry-After: 1 (queued by the spec), waited with ngx.sleep.
function handlers.retry()
  local c = ngx_client()
  local t0 = ngx.now()
  local me, resp = c:me()
  ngx.update_time()
  reply { ok = me ~= nil, attempts = resp and resp.attempts, elapsed = ngx.now() - t0 }
end

--- kupe.new's choice of transport, and the User-Agent each sends.
function handlers.forced()
  local out = {}
  for _, choice in ipairs { "auto", "ngx", "curl" } do
    local c = h.client { transport = choice ~= "auto" and choice or nil }
    local me = c:me()
    out[choice] = { transport = c.transport, ok = me ~= nil,
      ua = emu.stats().last_request.headers["user-agent"] }
  end
  local ok, msg = pcall(kupe.new, { transport = "ngx", ca_file = "/tmp/ca.pem" })
  out.ca_file = not ok and msg or "accepted"
  out.shared = M.shared.transport
  reply(out)
end

--- kupe.new without a key inside nginx: KUPE_API_KEY is not passed
-- through (no `env KUPE_API_KEY;`), so the 401 says what to add.
function handlers.nokey()
  local env = h.env()
  local c = kupe.new { base_url = env.url, max_retries = 0 }
  local me, err = c:me()
  reply { ok = me ~= nil, status = err and err.status, hint = err and err.hint,
    text = err and tostring(err) }
end

--- The bulk export (?size=) streamed to a file (?path=).
function handlers.export()
  local a = args()
  local c = ngx_client()
  local progress = 0
  local res, err = c.call_logs:export { request_id = "bulk", size = tonumber(a.size),
    path = a.path, on_progress = function() progress = progress + 1 end }
  if not res then return reply({ error = tostring(err) }, 502) end
  reply { bytes = res.bytes, path = res.path, content_type = res.content_type,
    progress = progress }
end

--- The bulk export streamed straight to this response, chunk by chunk.
function handlers.export_stream()
  local c = ngx_client()
  ngx.header.content_type = "application/zip"
  local res, err = c.call_logs:export { request_id = "bulk", size = tonumber(args().size),
    sink = function(chunk)
      ngx.print(chunk)
      return ngx.flush(true)
    end }
  if not res then ngx.log(ngx.ERR, "export failed: ", tostring(err)) end
end

--- Errors of every kind, and everything a user can print, must not show
-- the key (the spec also reads the error log).
function handlers.secret()
  local key = h.KEY
  local leaks = {}
  local function scan(v, where, seen)
    seen = seen or {}
    if seen[v] then return end
    seen[v] = true
    if type(v) == "table" then
      for k, x in pairs(v) do
        scan(k, where, seen)
        scan(x, where .. "." .. tostring(k), seen)
      end
    end
    if tostring(v):find(key, 1, true) then leaks[#leaks + 1] = where end
  end
  local c = ngx_client { max_retries = 0 }
  scan(c, "client")
  local _, e1 = c.call_logs:get("no-such-request")
  emu.fault("GET /api/v1/me", { drop = true }, 1)
  local _, e2 = c:me()
  emu.fault("GET /api/v1/me", { redirect = "other" }, 1)
  local _, e3 = c:me()
  local closed = ngx_client { base_url = "http://127.0.0.1:1", max_retries = 0 }
  local _, e4 = closed:me()
  for i, e in ipairs { e1, e2, e3 or {}, e4 } do
    scan(e, "error" .. i)
    scan(tostring(e), "tostring(error" .. i .. ")")
  end
  local other = emu.stats().other_host
  reply { leaks = leaks, kinds = { e1.kind, e2.kind, e4.kind }, other = #other,
    other_key = other[1] and other[1].headers["x-api-key"] or cjson.null }
end

--- Walks every call session with no pcall, as a handler might: when the
-- walk fails, the handler aborts and nginx logs what the walker raised
-- (and answers 500). lua-nginx-module logs a raised table only as
-- "unknown reason", so the walker must raise the message.
function M.walk_uncaught()
  local c = ngx_client { max_retries = 0 }
  local n = 0
  for _ in c.call_logs:sessions { page_size = 100 } do n = n + 1 end
  reply { sessions = n }
end

--- For tools/secret-hygiene's self-test (spec/helpers/hygiene_selftest.lua):
-- the key in an error value made here, and in a line of nginx's error log.
-- The watch loaded in init_by_lua must report the first, the search of
-- the logs afterwards the second.
function handlers.hygiene_plant()
  local planted = pcall(require("kupe.errors").new, { kind = "internal", message = "planted " .. h.KEY })
  ngx.log(ngx.ERR, "planted ", h.KEY)
  reply { raised = not planted }
end

---------------------------------------------------------------------------
-- Framing the emulator never produces (spec/nginx/raw.lua): this nginx
-- answers raw bytes at /raw?kind=..., and /t/framing reads each through
-- the transport.

function M.raw()
  local kind = ngx.var.arg_kind
  -- "reset": closing with the request body unread makes the kernel reset.
  if kind == "reset" then return ngx.exit(444) end
  local sock = assert(ngx.req.socket(true))
  local bytes = raw.answers[kind] or ""
  if bytes ~= "" then sock:send(bytes) end
  return ngx.exit(444) -- close: the answer ends with the connection
end

function handlers.framing()
  local c = ngx_client { base_url = "http://127.0.0.1:" .. ngx.var.server_port, max_retries = 0 }
  local out = {}
  for kind in pairs(raw.answers) do out[kind] = raw.read(c, kind) end
  reply(out)
end

function M.dispatch()
  local name = ngx.var.uri:match("^/t/([%w_]+)$")
  local fn = name and handlers[name]
  if not fn then return reply({ error = "no handler " .. tostring(name) }, 404) end
  fn()
end

return M
