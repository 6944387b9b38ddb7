-- HTTP behaviour: keep-alive, Content-Length, chunked, gzip, HEAD, TLS
-- with the generated CA, and the counters of the stats.

local emu = require "spec.helpers.emulator"
local json = emu.json

local function gunzip(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  local out, ok = emu.sh("gzip -dc < " .. emu.shell_quote(path))
  os.remove(path)
  assert.is_true(ok)
  return out
end

describe("HTTP", function()
  local info
  setup(function() info = emu.start() end)
  before_each(function() emu.reset() end)

  it("serves many requests over one kept-alive connection, counted once", function()
    local conn = emu.connection()
    finally(function() conn:close() end)
    for i = 1, 200 do
      local status, _, headers = conn:request("GET", i % 2 == 0 and "/api/v1/me" or "/health")
      assert.equal(200, status)
      assert.equal("keep-alive", headers.connection)
    end
    local s = emu.stats()
    assert.equal(200, s.requests_total)
    assert.equal(1, s.connections)
    emu.request("GET", "/health")
    assert.equal(2, emu.stats().connections)
  end)

  it("sends Content-Length on ordinary JSON answers", function()
    local status, body, headers = emu.request("GET", "/api/v1/agents")
    assert.equal(200, status)
    assert.equal(tostring(#body), headers["content-length"])
    assert.is_nil(headers["transfer-encoding"])
  end)

  it("streams chunked when no length is known (the full session list)", function()
    local status, body, headers = emu.request("GET", "/api/v1/call-analytics")
    assert.equal(200, status)
    assert.equal("chunked", headers["transfer-encoding"])
    assert.is_nil(headers["content-length"])
    assert.equal(250, #json.decode(body))
  end)

  it("gzips JSON when the client asks, and only then", function()
    local _, plain = emu.request("GET", "/api/v1/agents")
    local status, body, headers = emu.request("GET", "/api/v1/agents",
      { headers = { ["accept-encoding"] = "gzip" } })
    assert.equal(200, status)
    assert.equal("gzip", headers["content-encoding"])
    assert.equal("\31\139", body:sub(1, 2))
    assert.is_true(#body < #plain)
    assert.equal(plain, gunzip(body))
    local _, _, h2 = emu.request("GET", "/api/v1/agents")
    assert.is_nil(h2["content-encoding"])
  end)

  it("answers HEAD with headers only", function()
    local status, body, headers = emu.request("HEAD", "/api/v1/agents")
    assert.equal(200, status)
    assert.equal("", body)
    assert.is_not_nil(headers["content-length"])
  end)

  it("serves HTTPS with a certificate only the generated CA vouches for", function()
    local url = emu.shell_quote(info.tls_url .. "/api/v1/me")
    local key = " -H 'x-api-key: " .. emu.API_KEY .. "' "
    local out, ok = emu.sh("curl -sS -o /dev/null" .. key .. url .. " 2>&1")
    assert.is_false(ok)
    assert.matches("certificate", out)
    out, ok = emu.sh("curl -sS --cacert " .. emu.shell_quote(info.ca) .. key .. url)
    assert.is_true(ok, out)
    assert.equal("api_key", json.decode(out).auth)
    local port = info.tls_url:match(":(%d+)$")
    out, ok = emu.sh("curl -sS --cacert " .. emu.shell_quote(info.ca)
      .. " https://localhost:" .. port .. "/health")
    assert.is_true(ok, out)
    out = emu.sh("openssl x509 -noout -ext subjectAltName -in "
      .. emu.shell_quote(info.dir .. "/tls/server.pem"))
    assert.matches("IP Address:127%.0%.0%.1", out)
    assert.matches("DNS:localhost", out)
  end)

  it("shares one state between the HTTP and HTTPS listeners", function()
    emu.sh("curl -s --cacert " .. emu.shell_quote(info.ca) .. " -H 'x-api-key: " .. emu.API_KEY
      .. "' " .. emu.shell_quote(info.tls_url .. "/api/v1/agents/stats"))
    assert.equal(1, emu.stats().routes["GET /api/v1/agents/stats"])
  end)

  it("counts requests per route pattern and per raw path, and keeps the last request", function()
    local _, raw = emu.request("GET", "/api/v1/agents")
    local id = json.decode(raw)[1].id
    emu.request("GET", "/api/v1/agents/" .. id)
    emu.request("GET", "/api/v1/agents/" .. id)
    emu.request("GET", "/api/v1/agents/stats")
    emu.request("PUT", "/api/v1/agents/" .. id, { query = { force_update = "true" },
      body = { agent = { description = "d" } }, headers = { ["x-request-id"] = "r1" } })
    local s = emu.stats()
    assert.equal(5, s.requests_total)
    assert.equal(2, s.routes["GET /api/v1/agents/{agent_id}"])
    assert.equal(1, s.routes["PUT /api/v1/agents/{agent_id}"])
    assert.equal(1, s.routes["GET /api/v1/agents/stats"])
    assert.equal(2, s.paths["GET /api/v1/agents/" .. id])
    local last = s.last_request
    assert.equal("PUT", last.method)
    assert.equal("/api/v1/agents/" .. id, last.path)
    assert.equal("force_update=true", last.query)
    assert.equal("r1", last.headers["x-request-id"])
    assert.equal(emu.API_KEY, last.headers["x-api-key"])
    assert.equal('{"agent":{"description":"d"}}', last.body)
  end)

  it("keeps the raw path as sent, percent-escapes included", function()
    emu.request("GET", "/api/v1/agents/a%2Fb")
    assert.equal(1, emu.stats().paths["GET /api/v1/agents/a%2Fb"])
  end)

  it("resets counters, faults and the other host's log", function()
    emu.request("GET", "/api/v1/me")
    emu.request("GET", "/x", { base = info.other_url })
    emu.fault("GET /api/v1/me", { status = 500 })
    emu.reset()
    local s = emu.stats()
    assert.equal(0, s.requests_total)
    assert.equal(0, s.faults_pending)
    assert.equal(0, #s.other_host)
    assert.equal(json.null, s.last_request)
  end)
end)
