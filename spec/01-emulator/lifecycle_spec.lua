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

  it("stops: the ports close and a temporary folder is removed", function()
    local info, stop = emu.spawn()
    assert.is_true(port_open(info.url))
    stop()
    assert.is_false(port_open(info.url))
    assert.is_false(port_open(info.other_url))
    assert.is_false(file_exists(info.dir .. "/env"))
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
    finally(stop_a)
    local b, stop_b = emu.spawn()
    finally(stop_b)
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
