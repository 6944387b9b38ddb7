--- Spec helper for the Kupe emulator (Lua 5.1 to 5.4 and LuaJIT, LuaSocket;
-- cosockets when it runs inside nginx).
--
--   local emu = require "spec.helpers.emulator"
--   local e = emu.start()   -- {url=, tls_url=, ca=, other_url=, dir=}
--   emu.reset{sessions = 10, create_call = "queued"}
--   emu.fault("GET /api/v1/me", {status = 503, headers = {["Retry-After"] = "1"}}, 2)
--   local status, body, headers = emu.request("GET", "/api/v1/me")
--   local s = emu.stats()
--
-- start() reuses a running emulator when KUPE_EMULATOR_URL (and the other
-- KUPE_EMULATOR_* variables) are set, as tools/with-emulator does;
-- otherwise it starts one, shared by every spec file of the busted run,
-- and stops it when the Lua state closes (busted exits with os.exit(code,
-- true)); a watchdog in kupe-emulator also stops it if this process dies.
--
-- request() is a raw HTTP/1.1 exchange over LuaSocket: no redirects
-- followed, no decompression. By default it sends the emulator's API key;
-- pass `auth = false` for none (or set x-api-key/authorization yourself).

local socket = require "socket"

local M = {}

local function script_dir()
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/[^/]*$") or "."
  if dir:sub(1, 1) ~= "/" then
    local p = io.popen('cd "' .. dir .. '" && pwd')
    dir = p:read("*l")
    p:close()
  end
  return dir
end

local root = script_dir():gsub("/spec/helpers$", "")
M.root = root
M.script = root .. "/spec/emulator/kupe-emulator"

local emu_path = root .. "/spec/emulator/?.lua;"
if not package.path:find(emu_path, 1, true) then
  package.path = emu_path .. package.path
end

local json = require "emu.json"
M.json = json
M.null = json.null
M.array = json.array
M.API_KEY = "emu_test_key"
M.BEARER = "emu_test_jwt"

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

--- Run a shell command; returns its stdout, whether it exited 0, and the
-- exit status. (LuaJIT's popen close does not report the status, so the
-- shell prints it after the output.)
function M.sh(cmd)
  local p = io.popen("( " .. cmd .. "\n); printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  code = tonumber(code)
  return body or out, code == 0, code
end

-- Values written by printf %q in the env file.
local function unquote(v)
  if v:match("^%$'") then v = v:sub(3, -2) end
  return (v:gsub("\\(.)", "%1"))
end

--- Read an env file written by kupe-emulator.
function M.read_env(path)
  local env = {}
  for line in io.lines(path) do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then env[k] = unquote(v) end
  end
  return env
end

local function info_from_env(get)
  return {
    url = get("KUPE_EMULATOR_URL"), tls_url = get("KUPE_EMULATOR_TLS_URL"),
    ca = get("KUPE_EMULATOR_CA"), other_url = get("KUPE_EMULATOR_OTHER_URL"),
    dir = get("KUPE_EMULATOR_DIR"), pid = get("KUPE_EMULATOR_PID"),
  }
end

-- Kept in the registry so every spec file of a run (busted reloads
-- modules per file) shares one emulator.
local REG = debug.getregistry()
local KEY = "kupe.emulator.spec_helper"

local function make_guard(fn)
  if newproxy then                    -- Lua 5.1 / LuaJIT: __gc only on userdata
    local p = newproxy(true)
    getmetatable(p).__gc = fn
    return p
  end
  return setmetatable({}, { __gc = fn })
end

--- Start a separate emulator (not the shared one), in `dir` or in a new
-- temporary folder (removed by stop; the user's kupe-emulator.last is left
-- alone). Returns its info, a stop function and the script's output.
function M.spawn(dir)
  local own = not dir
  if own then
    dir = M.sh("mktemp -d \"${TMPDIR:-/tmp}/kupe-emulator.XXXXXX\""):match("[^\n]+")
  end
  local cmd = shell_quote(M.script) .. " start --watch $PPID --dir " .. shell_quote(dir)
  local out, ok = M.sh(cmd .. " 2>&1")
  local url, env_path = out:match("^(http://[^\n]+)\n([^\n]+)")
  if not ok or not url then error("kupe-emulator start failed:\n" .. out, 2) end
  local env = M.read_env(env_path)
  local info = info_from_env(function(k) return env[k] end)
  local stopped = false
  local function stop()
    if stopped then return end
    stopped = true
    M.sh(shell_quote(M.script) .. " stop --dir " .. shell_quote(info.dir) .. " 2>&1")
    if own then M.sh("rm -rf " .. shell_quote(info.dir)) end
  end
  return info, stop, out
end

--- The emulator for this run: {url=, tls_url=, ca=, other_url=, dir=}.
function M.start()
  local running = REG[KEY]
  if running then return running.info end
  if os.getenv("KUPE_EMULATOR_URL") then
    REG[KEY] = { info = info_from_env(os.getenv) }
    return REG[KEY].info
  end
  local info, stop = M.spawn()
  REG[KEY] = { info = info, guard = make_guard(stop), stop = stop }
  return info
end

------------------------------------------------------------------------
-- Raw HTTP/1.1

local function encode_component(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end
M.encode_component = encode_component

local function encode_query(q)
  if type(q) == "string" then return q end
  local keys = {}
  for k in pairs(q) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) ~= "table" then v = { v } end
    for _, x in ipairs(v) do
      parts[#parts + 1] = encode_component(k) .. "=" .. encode_component(x)
    end
  end
  return table.concat(parts, "&")
end

local function read_head(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "bad status line: " .. line end
  local headers = {}
  while true do
    local h
    h, err = sock:receive("*l")
    if not h then return nil, err end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
  return status, headers
end

-- Read the body; returns body, err (err = "truncated" when cut short).
local function read_body(sock, method, status, headers)
  if method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200) then
    return ""
  end
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local parts = {}
    while true do
      local line = sock:receive("*l")
      if not line then return table.concat(parts), "truncated" end
      local size = tonumber(line:match("^(%x+)"), 16)
      if not size then return table.concat(parts), "bad chunk size" end
      if size == 0 then
        repeat line = sock:receive("*l") until not line or line == ""
        return table.concat(parts)
      end
      local data, err, partial = sock:receive(size)
      if not data then
        parts[#parts + 1] = partial
        return table.concat(parts), "truncated", err
      end
      parts[#parts + 1] = data
      sock:receive("*l")
    end
  end
  local length = tonumber(headers["content-length"])
  if length then
    local data, _, partial = sock:receive(length)
    if not data then return partial or "", "truncated" end
    return data
  end
  local data, _, partial = sock:receive("*a")
  return data or partial or ""
end

local function build_request(method, base, path, opts)
  local host = base:match("^https?://([^/]+)")
  local target = path
  if opts.query then
    local q = encode_query(opts.query)
    if q ~= "" then target = target .. (target:find("?", 1, true) and "&" or "?") .. q end
  end
  local headers = { host = host }
  local order = { "host" }
  local function set(k, v)
    local lk = k:lower()
    if headers[lk] == nil then order[#order + 1] = lk end
    headers[lk] = v
  end
  for k, v in pairs(opts.headers or {}) do set(k, v) end
  if opts.auth ~= false and headers["x-api-key"] == nil and headers.authorization == nil then
    set("x-api-key", opts.api_key or M.API_KEY)
  end
  local body = opts.body
  if type(body) == "table" then
    body = json.encode(body)
    if headers["content-type"] == nil then set("content-type", "application/json") end
  end
  if body then set("content-length", tostring(#body)) end
  if headers.connection == nil then
    set("connection", opts.keepalive and "keep-alive" or "close")
  end
  local lines = { method .. " " .. target .. " HTTP/1.1" }
  for _, k in ipairs(order) do
    local v = headers[k]
    if v ~= false then lines[#lines + 1] = k .. ": " .. tostring(v) end
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- Inside nginx (the nginx specs run cases in a host nginx), a cosocket:
-- the same receive/send API as LuaSocket, and it does not block the worker.
local function cosocket()
  local ngx = rawget(_G, "ngx")
  local phase = ngx and ngx.get_phase and ngx.get_phase()
  if phase == "rewrite" or phase == "access" or phase == "content" or phase == "timer" then
    return ngx.socket.tcp()
  end
  return nil
end

local function connect(base, timeout)
  local host, port = base:match("^http://([^:/]+):(%d+)")
  if not host then error("not a plain http URL: " .. tostring(base), 3) end
  local co = cosocket()
  if co then
    co:settimeout((timeout or 10) * 1000)
    local ok, err = co:connect(host, tonumber(port))
    if not ok then return nil, err end
    return co
  end
  local sock = socket.tcp()
  sock:settimeout(timeout or 10)
  local ok, err = sock:connect(host, tonumber(port))
  if not ok then return nil, err end
  sock:setoption("tcp-nodelay", true)
  return sock
end

local function exchange(sock, method, base, path, opts)
  local ok, err = sock:send(build_request(method, base, path, opts))
  if not ok then return nil, err end
  local status, headers = read_head(sock)
  if not status then return nil, headers end
  local body, berr = read_body(sock, method, status, headers)
  return status, body, headers, berr
end

--- One HTTP exchange on a new connection. opts: headers, body (string, or
-- a table sent as JSON), query (table or string), auth (false: no key),
-- api_key, base (another base URL), timeout (seconds).
-- Returns status, body, headers (lower-case names), err; err is set when
-- the body was cut short. Returns nil, err when no response came at all.
function M.request(method, path, opts)
  opts = opts or {}
  local base = opts.base or M.start().url
  local sock, err = connect(base, opts.timeout)
  if not sock then return nil, err end
  local status, body, headers, berr = exchange(sock, method, base, path, opts)
  sock:close()
  return status, body, headers, berr
end

--- request() with the body decoded from JSON (nil when it does not parse).
function M.request_json(method, path, opts)
  local status, body, headers, err = M.request(method, path, opts)
  if not status then return nil, body end
  return status, json.decode(body), headers, body, err
end

--- A keep-alive connection: `c:request(method, path, opts)` as above,
-- `c:close()`.
function M.connection(base)
  base = base or M.start().url
  local sock = assert(connect(base))
  local c = {}
  function c.request(_, method, path, opts)
    opts = opts or {}
    opts.keepalive = true
    return exchange(sock, method, base, path, opts)
  end
  function c.close() sock:close() end
  return c
end

------------------------------------------------------------------------
-- Control API

local function control(method, path, body)
  local status, raw = M.request(method, path, { body = body, auth = false })
  if status ~= 200 then
    error(("emulator control %s %s failed: %s %s"):format(method, path, tostring(status),
      tostring(raw)), 3)
  end
  return json.decode(raw)
end

--- Reset state, counters and faults to the seed. Returns the data set
-- summary (agents, hipaa_agent_id, phone_numbers, user_id, ...).
function M.reset(opts)
  return control("POST", "/__emulator/reset", opts or {})
end

--- Change settings (not the data set sizes), keep the state.
function M.config(opts)
  return control("POST", "/__emulator/config", opts or {})
end

--- Queue a fault: `match` like "GET /api/v1/me", `fault` a table of fault
-- fields, `times` (default 1; negative = until cleared).
function M.fault(match, fault, times)
  return control("POST", "/__emulator/faults", { match = match, fault = fault, times = times })
end

function M.clear_faults()
  return control("DELETE", "/__emulator/faults")
end

--- Counters, the last request and the other host's log.
function M.stats()
  return control("GET", "/__emulator/stats")
end

--- The data set summary and the URLs.
function M.info()
  return control("GET", "/__emulator/info")
end

--- Every registered route, as "METHOD /pattern".
function M.routes()
  return control("GET", "/__emulator/routes")
end

return M
