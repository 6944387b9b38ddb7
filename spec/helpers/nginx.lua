--- Spec helper: an nginx with the Lua module that runs kupe-lua inside it,
-- as its users run it. It is a separate nginx from the emulator (a worker
-- calling its own nginx with a blocking client would deadlock).
--
--   local nginx = require "spec.helpers.nginx"
--   local host = nginx.start(conf_text, { port = port, env = { NAME = "v" } })
--   local status, body = host:get("/t/ping")
--   host:stop()
--
-- start() writes conf_text to a new prefix folder (conf/, logs/, tmp/)
-- under TMPDIR and starts nginx there (daemonised). A watchdog stops it
-- when this process goes away, so an aborted busted run leaves no nginx
-- behind. The folder goes when nginx stops, unless KUPE_NGINX_KEEP is
-- set: tools/secret-hygiene sets it, removes the folders itself, and
-- searches their logs and temporary files for the canary key first.
-- Placeholders in conf_text: {{ROOT}} (the checkout), {{PORT}}, {{USER}}
-- (`user root;` when running as root, so workers read the checkout),
-- {{MODULES}} (the load_module lines), {{PREFIX}}, and those of opts.vars.

local emu = require "spec.helpers.emulator"
local socket = require "socket"
local ports = require "spec.helpers.ports"

local M = {}

local KEEP = os.getenv("KUPE_NGINX_KEEP") ~= nil

local MODULES = "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
  .. "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"

M.root = emu.root

--- A loopback TCP port nothing listens on right now.
function M.free_port()
  return tonumber(ports.closed())
end

local kit = require "spec.helpers.case_kit"
local write = kit.write

local function read(path)
  return kit.read(path) or ""
end

local function wait_port(port, seconds)
  local deadline = socket.gettime() + seconds
  repeat
    local s = socket.tcp()
    s:settimeout(0.2)
    local ok = s:connect("127.0.0.1", port)
    s:close()
    if ok then return true end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  return false
end

local Host = {}
Host.__index = Host

-- Starts nginx on an existing prefix folder (with a logs/ folder); conf
-- is relative to it. Returns the host object, or raises with the log.
local function launch(dir, conf, port, env_vars)
  local q = emu.shell_quote
  local env = { "env -u LD_PRELOAD" } -- a sanitizer preloaded for busted is not nginx's
  for k, v in pairs(env_vars or {}) do env[#env + 1] = k .. "=" .. q(v) end
  local ctl = q(dir .. "/") .. " -c " .. q(conf)
  local out, ok = emu.sh(table.concat(env, " ") .. " nginx -p " .. ctl .. " 2>&1")
  if not ok or not wait_port(port, 5) then
    emu.sh("nginx -p " .. ctl .. " -s stop 2>&1")
    error("nginx did not start:\n" .. out .. "\n" .. read(dir .. "/logs/error.log"), 3)
  end
  return ctl
end

--- Starts nginx; raises with its error log when it does not come up.
-- opts: port (default: a free one), env (map of variables set for nginx),
-- vars (more placeholders).
function M.start(conf, opts)
  opts = opts or {}
  local q = emu.shell_quote
  local port = opts.port or M.free_port()
  local dir = emu.sh("mktemp -d \"${TMPDIR:-/tmp}/kupe-nginx.XXXXXX\""):gsub("%s+$", "")
  assert(emu.sh("mkdir -p " .. q(dir .. "/conf") .. " " .. q(dir .. "/logs") .. " " .. q(dir .. "/tmp")))
  local is_root = emu.sh("id -u"):match("^0") ~= nil
  local vars = {
    ROOT = M.root, PORT = tostring(port), PREFIX = dir, MODULES = MODULES,
    USER = is_root and "user root;" or "",
  }
  for k, v in pairs(opts.vars or {}) do vars[k] = tostring(v) end
  local text = conf:gsub("{{([%u_]+)}}", vars)
  write(dir .. "/conf/nginx.conf", text)
  local ctl = launch(dir, "conf/nginx.conf", port, opts.env)
  return M.watch(setmetatable({ dir = dir, top = dir, port = port,
    url = "http://127.0.0.1:" .. port, ctl = ctl }, Host))
end

--- examples/nginx as its README runs it from a checkout, in a copy whose
-- only change is the port: the copy sits at <tmp>/examples/nginx with
-- <tmp>/lua and <tmp>/build linked to the checkout's.
function M.example(env)
  local q = emu.shell_quote
  local port = M.free_port()
  local top = emu.sh("mktemp -d \"${TMPDIR:-/tmp}/kupe-example.XXXXXX\""):gsub("%s+$", "")
  local dir = top .. "/examples/nginx"
  assert(emu.sh(("chmod 755 %s && mkdir -p %s/logs && cp %s/examples/nginx/* %s/ && "
    .. "ln -s %s/lua %s/lua && ln -s %s/build %s/build"):format(q(top), q(dir), q(M.root), q(dir),
    q(M.root), q(top), q(M.root), q(top))))
  local conf = read(dir .. "/nginx.conf")
  local text, n = conf:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
  assert(n == 1, "examples/nginx/nginx.conf: the listen line moved")
  write(dir .. "/nginx.conf", text)
  local ctl = launch(dir, "nginx.conf", port, env)
  return M.watch(setmetatable({ dir = dir, top = top, port = port,
    url = "http://127.0.0.1:" .. port, ctl = ctl }, Host))
end

-- Watchdog: stop nginx once this process is gone.
function M.watch(host)
  emu.sh(("(while kill -0 $PPID 2>/dev/null; do sleep 1; done; nginx -p %s -s stop; "
    .. "%s) >/dev/null 2>&1 &"):format(host.ctl, KEEP and ":" or "rm -rf " .. emu.shell_quote(host.top)))
  return host
end

--- The host nginx of the nginx specs (spec/nginx/host.conf), pointed at
-- the emulator of this run.
function M.host()
  local env = emu.start()
  local f = assert(io.open(M.root .. "/spec/nginx/host.conf"))
  local conf = f:read("*a")
  f:close()
  return M.start(conf, { vars = { CA = env.ca, DEAD_PORT = M.free_port() } })
end

--- Stops nginx and removes its folder (unless KUPE_NGINX_KEEP).
function Host:stop()
  if self.stopped then return end
  self.stopped = true
  emu.sh("nginx -p " .. self.ctl .. " -s stop 2>&1")
  for _ = 1, 100 do
    local pid = read(self.dir .. "/logs/nginx.pid"):match("%d+")
    if not pid or not select(2, emu.sh("kill -0 " .. pid .. " 2>/dev/null")) then break end
    socket.sleep(0.02)
  end
  if not KEEP then emu.sh("rm -rf " .. emu.shell_quote(self.top)) end
end

--- The error log so far.
function Host:error_log()
  return read(self.dir .. "/logs/error.log")
end

--- One request to this nginx: status, body, headers (see emu.request).
function Host:request(method, path, opts)
  opts = opts or {}
  opts.base, opts.auth = self.url, false
  opts.timeout = opts.timeout or 60
  return emu.request(method, path, opts)
end

function Host:get(path, opts)
  return self:request("GET", path, opts)
end

--- GET path, expecting 200 JSON; returns the decoded value.
function Host:json(path, opts)
  local status, body = self:get(path, opts)
  if status ~= 200 then
    error(("GET %s: %s %s"):format(path, tostring(status), tostring(body)), 2)
  end
  return emu.json.decode(body)
end

--- Sends n requests at once (GET path, each on its own connection) and
-- waits for every answer. Returns the seconds from the first send to the
-- last answer, and the status of each.
function Host:concurrent(path, n)
  local socks, bufs, statuses = {}, {}, {}
  local t0 = socket.gettime()
  for i = 1, n do
    local s = socket.tcp()
    s:settimeout(5)
    assert(s:connect("127.0.0.1", self.port))
    assert(s:send("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
    s:settimeout(0)
    socks[i], bufs[s] = s, {}
  end
  local waiting = {}
  for i, s in ipairs(socks) do waiting[i] = s end
  while #waiting > 0 and socket.gettime() - t0 < 60 do
    local ready = socket.select(waiting, nil, 1)
    for _, s in ipairs(ready) do
      local data, err, partial = s:receive("*a")
      bufs[s][#bufs[s] + 1] = data or partial
      if data or err == "closed" then
        for i, w in ipairs(waiting) do
          if w == s then table.remove(waiting, i) break end
        end
      end
    end
  end
  local elapsed = socket.gettime() - t0
  for i, s in ipairs(socks) do
    s:close()
    statuses[i] = tonumber(table.concat(bufs[s]):match("^HTTP/1%.%d (%d+)"))
  end
  return elapsed, statuses
end

return M
