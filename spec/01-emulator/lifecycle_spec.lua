-- kupe-emulator start/stop and tools/with-emulator, run for real.

local socket = require "socket"
local emu = require "spec.helpers.emulator"

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function port_open(url)
  local host, port = url:match("^%a+://([^:/]+):(%d+)")
  local s = socket.tcp()
  s:settimeout(1)
  local ok = s:connect(host, tonumber(port))
  s:close()
  return ok ~= nil
end

describe("kupe-emulator", function()
  it("starts in well under a second, prints the URL first and writes the env file", function()
    local t0 = socket.gettime()
    local info, stop, out = emu.spawn()
    local elapsed = socket.gettime() - t0
    finally(stop)
    assert.is_true(elapsed < 1, ("start took %.3f s"):format(elapsed))
    assert.equal(info.url, out:match("^([^\n]+)"))
    assert.matches("^http://127%.0%.0%.1:%d+$", info.url)
    assert.matches("^https://127%.0%.0%.1:%d+$", info.tls_url)
    assert.matches("^http://127%.0%.0%.2:%d+$", info.other_url)
    assert.equal(info.dir .. "/tls/ca.pem", info.ca)
    assert.is_true(file_exists(info.ca))
    assert.matches("^%d+$", info.pid)
    local status, body = emu.request("GET", "/health", { base = info.url, auth = false })
    assert.equal(200, status)
    assert.matches('"status":"healthy"', body)
  end)

  it("stops: the ports close and a folder it made itself is removed", function()
    -- a private TMPDIR, so a kupe-emulator.last of the user is left alone
    local tmp = emu.sh("mktemp -d"):match("[^\n]+")
    finally(function() emu.sh("rm -rf " .. emu.shell_quote(tmp)) end)
    local script = "TMPDIR=" .. emu.shell_quote(tmp) .. " " .. emu.shell_quote(emu.script)
    local out, ok = emu.sh(script .. " start")
    assert.is_true(ok, out)
    local url, env_path = out:match("^([^\n]+)\n([^\n]+)")
    local env = emu.read_env(env_path)
    assert.is_true(port_open(url))
    local f = assert(io.open(tmp .. "/kupe-emulator.last"))
    assert.equal(env.KUPE_EMULATOR_DIR, f:read("*l"))
    f:close()
    out, ok = emu.sh(script .. " stop")
    assert.is_true(ok, out)
    assert.is_false(port_open(url))
    assert.is_false(port_open(env.KUPE_EMULATOR_OTHER_URL))
    assert.is_false(file_exists(env_path))
    assert.is_false(file_exists(tmp .. "/kupe-emulator.last"))
  end)

  it("keeps a folder given with --dir and refuses a second start in it", function()
    local dir = os.tmpname()
    os.remove(dir)
    local info, stop = emu.spawn(dir)
    finally(function() stop(); emu.sh("rm -rf " .. emu.shell_quote(dir)) end)
    assert.equal(dir, info.dir)
    local out, ok = emu.sh(emu.shell_quote(emu.script) .. " start --dir " .. emu.shell_quote(dir)
      .. " 2>&1")
    assert.is_false(ok)
    assert.matches("already running", out)
    stop()
    assert.is_true(file_exists(dir .. "/logs/error.log"))
  end)

  it("runs instances side by side, each with its own state", function()
    local a, stop_a = emu.spawn()
    local b, stop_b = emu.spawn()
    finally(function() stop_a(); stop_b() end)   -- busted keeps one finally per test
    assert.are_not.equal(a.url, b.url)
    emu.request("GET", "/api/v1/me", { base = a.url })
    local _, stats = emu.request_json("GET", "/__emulator/stats", { base = b.url, auth = false })
    assert.equal(0, stats.requests_total)
  end)

  it("with-emulator exports the env, runs the command and returns its status", function()
    local cmd = emu.shell_quote(emu.root .. "/tools/with-emulator")
      .. [[ sh -c 'curl -sf "$KUPE_EMULATOR_URL/health" >/dev/null && echo "$KUPE_EMULATOR_DIR"]]
      .. [[ && test -f "$KUPE_EMULATOR_CA" && exit 7']]
    local out, ok = emu.sh(cmd .. " 2>&1; echo rc=$?")
    assert.is_true(ok)
    assert.matches("rc=7", out)
    local dir = out:match("^([^\n]+)")
    assert.is_false(file_exists(dir .. "/env"))
  end)
end)
