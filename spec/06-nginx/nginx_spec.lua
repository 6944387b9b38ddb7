-- kupe-lua inside a real nginx: never blocking the worker, keep-alive
-- through the cosocket pool, the phase rules, the hints that name an
-- nginx.conf directive, TLS, streaming, the choice of transport, and what
-- nginx logs for a walker failure that nobody catches. The host nginx
-- (spec/nginx/) and the emulator are separate nginx instances.
local nginx = require "spec.helpers.nginx"
local h = require "spec.helpers.kupe"
local raw = require "spec.nginx.raw"
local kupe = require "kupe"
local socket = require "socket"

local emu = h.emu

-- The body of a raw HTTP/1.1 answer (Content-Length framed).
local function body_of(answer)
  return answer and answer:match("\r\n\r\n(.*)$")
end

describe("inside nginx", function()
  local host
  setup(function() host = nginx.host() end)
  teardown(function() if host then host:stop() end end)
  before_each(function() h.reset() end)

  it("serves 50 concurrent calls to a route delayed 200 ms in under 1 s with one worker", function()
    host:json("/t/me") -- the worker's client is warm
    emu.fault("GET /api/v1/me", { delay = 0.2 }, 50)
    local elapsed, statuses = host:concurrent("/t/me", 50)
    for i = 1, 50 do assert.equal(200, statuses[i], "request " .. i) end
    assert.is_true(elapsed < 1, ("took %.3f s"):format(elapsed))
    assert.equal(50, emu.stats().routes["GET /api/v1/me"] - 1)
    print(("\ninside nginx, 1 worker: 50 concurrent calls, each delayed 200 ms: %.3f s")
      :format(elapsed))
  end)

  it("would take 200 ms per call with libcurl forced (what non-blocking saves)", function()
    host:json("/t/me?transport=curl")
    emu.fault("GET /api/v1/me", { delay = 0.2 }, 5)
    local elapsed, statuses = host:concurrent("/t/me?transport=curl", 5)
    for i = 1, 5 do assert.equal(200, statuses[i]) end
    assert.is_true(elapsed >= 0.95, ("took %.3f s"):format(elapsed))
    print(("\ninside nginx, 1 worker, libcurl forced: 5 concurrent calls, each delayed 200 ms: %.3f s")
      :format(elapsed))
  end)

  it("opens at most one connection for 200 sequential calls in a handler", function()
    local r = host:json("/t/keepalive")
    assert.is_true(r.opened <= 1, "opened " .. r.opened)
  end)

  it("keeps connections for different credentials apart, and shares them for one", function()
    local r = host:json("/t/pools")
    assert.equal(2, r.opened)
    assert.same({ "api_key", "api_key", "api_key", "api_key" }, r.seen)
  end)

  it("works with a client made in init_by_lua, shared by every request", function()
    local r = host:json("/t/me")
    assert.equal("api_key", r.auth)
    assert.equal("ngx", r.transport)
  end)

  it("reads the framings the emulator never sends, and refuses broken ones", function()
    local r = host:json("/t/framing")
    assert.equal("until close", r.http10.v)
    assert.equal("1xx", r.interim.v)
    assert.equal("bare", r.bare_lf.v)
    assert.equal("chunks", r.trailers.v)
    assert.same({ kind = "network", cause = "Illegal or missing hexadecimal sequence in chunked-encoding" },
      r.bad_chunk)
    assert.same({ kind = "network", cause = "Unsupported HTTP version in response" }, r.bad_status)
    assert.same({ kind = "network", cause = "Empty reply from server" }, r.empty)
    assert.same({ kind = "network", cause = "Recv failure: Connection reset by peer" }, r.reset)
  end)

  -- Where the nginx transport is stricter than libcurl 7.88 on purpose, or
  -- takes what libcurl refuses (README, "Differences from the libcurl
  -- transport"): what it does instead.
  local JUDGED_OTHERWISE = {
    two_lengths = { kind = "network", cause = "Invalid Content-Length: value" },
    partial_head = { kind = "network", cause = "the connection closed inside the response head" },
    big_head = { kind = "network", cause = "the response head is too large" },
    lower_http = { kind = "network", cause = "the server sent a malformed response head" },
    code_glued = { kind = "network", cause = "the server sent a malformed response head" },
    long_line = {},
    long_trailer = {},
  }

  it("reads every framing as libcurl does: the same value, or the same error kind and message", function()
    local inside = host:json("/t/framing")
    local n = 0
    for kind in pairs(raw.answers) do
      local want = JUDGED_OTHERWISE[kind]
        or raw.read(h.client { base_url = host.url, api_key = false, max_retries = 0 }, kind)
      assert.same(want, inside[kind], kind)
      n = n + 1
    end
    assert.is_true(n >= 30)
  end)

  describe("phases", function()
    local function outcome(phase)
      return host:json("/t/phase_result?phase=" .. phase).outcome
    end

    -- (the content phase: every /t/ case of this suite)
    it("works in the rewrite and access phases", function()
      for _, phase in ipairs { "rewrite", "access" } do
        assert.equal(200, (host:get("/phase/" .. phase)))
        assert.equal("ok api_key", outcome(phase))
      end
    end)

    it("raises in phases without cosockets, naming the phase and ngx.timer.at", function()
      for _, phase in ipairs { "set", "header_filter", "body_filter", "log" } do
        assert.equal(200, (host:get("/phase/" .. phase)))
      end
      socket.sleep(0.1) -- the log phase runs after the answer
      for _, phase in ipairs { "init", "init_worker", "set", "header_filter", "body_filter", "log" } do
        local text = outcome(phase)
        assert.matches("^raised: kupe: cannot call the Kupe API in nginx's " .. phase
          .. " phase %(" .. phase .. "_by_lua%*%)", text)
        assert.matches("ngx.timer.at(0, function(premature) ... end)", text, 1, true)
      end
    end)

    it("works from a timer scheduled where calls are refused", function()
      assert.is_true(host:json("/t/timer").scheduled)
      local text
      for _ = 1, 100 do
        text = outcome("timer")
        if text then break end
        socket.sleep(0.02)
      end
      assert.equal("ok api_key", text)
    end)
  end)

  describe("hints that name the nginx.conf fix", function()
    -- The message is libcurl's for a name that does not resolve (the fault
    -- matrix provokes it under libcurl, in a network namespace); nginx's
    -- reason picks the hint and is quoted there.
    it("says to add a resolver when nginx has none", function()
      local r = host:json("/resolver/none")
      assert.equal("resolve", r.kind)
      assert.is_false(r.sent)
      assert.equal("Could not resolve host: api.kupe.test", r.cause)
      assert.matches("resolver directive", r.hint)
    end)

    it("reports a resolver that never answers as a resolve error", function()
      local r = host:json("/resolver/silent")
      assert.equal("resolve", r.kind)
      assert.equal("Could not resolve host: api.kupe.test", r.cause)
      assert.matches("could not be resolved", r.hint)
      assert.matches("resolver directive", r.hint)
      assert.is_true(r.elapsed < 3)
    end)

    it("says to set lua_ssl_trusted_certificate when the certificate is not trusted", function()
      local r = host:json("/tls/untrusted")
      assert.is_false(r.ok)
      assert.equal("tls", r.kind)
      assert.is_false(r.sent)
      assert.equal("SSL certificate problem: unable to get local issuer certificate", r.cause)
      assert.matches("lua_ssl_trusted_certificate", r.hint)
    end)

    it("says env KUPE_API_KEY; is missing when kupe.new finds no key inside nginx", function()
      local r = host:json("/t/nokey")
      assert.equal(401, r.status)
      assert.matches("env KUPE_API_KEY;", r.hint, 1, true)
      assert.matches("hint: no credential was given, and nginx hides", r.text, 1, true)
    end)
  end)

  describe("TLS", function()
    it("verifies the emulator's certificate against lua_ssl_trusted_certificate", function()
      local r = host:json("/tls/trusted")
      assert.is_true(r.ok)
      assert.equal("api_key", r.auth)
      assert.equal("api_key", r.again)
      assert.equal(1, r.opened, "the second call reuses the TLS connection")
    end)

    it("words a certificate for another host name as libcurl does", function()
      local r = host:json("/tls/trusted?host=kupe.localhost")
      assert.is_false(r.ok)
      assert.equal("tls", r.kind)
      assert.is_false(r.sent)
      assert.equal("SSL: no alternative certificate subject name matches target host name 'kupe.localhost'",
        r.cause)
      assert.matches("does not name the host", r.hint)
      -- libcurl, trusting the same CA (*.localhost is the loopback for both)
      local env = h.env()
      local c = h.client { base_url = "https://kupe.localhost:" .. env.tls_url:match(":(%d+)$"),
        ca_file = env.ca, max_retries = 0 }
      local me, err = c:me()
      assert.is_nil(me)
      assert.same({ kind = r.kind, cause = r.cause, sent = r.sent }, { kind = err.kind, cause = err.cause,
        sent = err.sent })
    end)

    it("refuses an https URL with an IP address, which nginx cannot verify", function()
      local r = host:json("/tls/trusted?host=127.0.0.1")
      assert.is_false(r.ok)
      assert.equal("tls", r.kind)
      assert.matches("IP address", r.cause)
      assert.matches("host name", r.hint)
    end)
  end)

  describe("streaming", function()
    it("exports a 3 MB ZIP to a file without buffering it, with progress", function()
      local dir = h.emu.sh("mktemp -d"):gsub("%s+$", "")
      local path = dir .. "/bulk.zip"
      local r = host:json("/t/export?size=3000000&path=" .. emu.encode_component(path))
      assert.equal(3000000, r.bytes)
      assert.equal(path, r.path)
      assert.equal("application/zip", r.content_type)
      assert.is_true(r.progress > 1)
      local f = assert(io.open(path, "rb"))
      assert.equal(3000000, f:seek("end"))
      f:close()
      local out, ok = h.emu.sh("unzip -t " .. emu.shell_quote(path) .. " 2>&1")
      assert.is_true(ok, out)
      assert.equal("bulk.zip\n", (h.emu.sh("ls -A " .. emu.shell_quote(dir))))
      h.emu.sh("rm -rf " .. emu.shell_quote(dir))
    end)

    it("streams an export straight into the nginx response", function()
      local status, body, headers = host:get("/t/export_stream?size=1000000")
      assert.equal(200, status)
      assert.equal("application/zip", headers["content-type"])
      assert.equal(1000000, #body)
      assert.equal("PK\3\4", body:sub(1, 4))
    end)
  end)

  it("waits Retry-After with ngx.sleep: the worker serves others meanwhile", function()
    emu.fault("GET /api/v1/me", { status = 429, headers = { ["Retry-After"] = "1" },
      json = { detail = "slow down" } }, 1)
    local s = socket.tcp()
    s:settimeout(10)
    assert(s:connect("127.0.0.1", host.port))
    assert(s:send("GET /t/retry HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
    socket.sleep(0.3) -- the handler is now sleeping before its second attempt
    local t0 = socket.gettime()
    assert.equal(200, (host:get("/t/ping")))
    local ping = socket.gettime() - t0
    local r = emu.json.decode(body_of(s:receive("*a")))
    s:close()
    assert.is_true(r.ok)
    assert.equal(2, r.attempts)
    assert.is_true(r.elapsed >= 0.95 and r.elapsed < 1.6, "waited " .. r.elapsed)
    assert.is_true(ping < 0.2, ("a ping took %.3f s during the wait"):format(ping))
  end)

  it("chooses the ngx transport inside nginx; transport = forces one", function()
    local r = host:json("/t/forced")
    assert.equal("ngx", r.auto.transport)
    assert.equal("ngx", r.ngx.transport)
    assert.equal("curl", r.curl.transport)
    assert.equal("ngx", r.shared)
    for _, k in ipairs { "auto", "ngx", "curl" } do assert.is_true(r[k].ok, k) end
    assert.matches(" ngx_lua/0%.%d+%.%d+ LuaJIT/", r.ngx.ua)
    assert.matches(" libcurl/%d", r.curl.ua)
    assert.matches("option 'ca_file' does not apply inside nginx", r.ca_file)
  end)

  it("refuses transport = \"ngx\" outside nginx", function()
    assert.has_error(function() kupe.new { transport = "ngx" } end,
      "kupe.new: transport \"ngx\" needs nginx with the Lua module (OpenResty); "
      .. "elsewhere use the default, \"curl\"")
  end)

  it("logs an uncaught walker failure as its message, never as \"unknown reason\"", function()
    local route = "GET /api/v1/call-analytics"
    emu.fault(route, { delay = 0 }, 1) -- the first page comes through
    emu.fault(route, { status = 500, json = { detail = "database gone" } }, 1)
    local before = #host:error_log()
    assert.equal(500, (host:get("/walk/uncaught")))
    local log
    for _ = 1, 50 do
      log = host:error_log():sub(before + 1)
      if log:find("database gone", 1, true) then break end
      socket.sleep(0.02)
    end
    assert.matches("runtime error: kupe: GET /api/v1/call%-analytics: 500 Internal Server Error: "
      .. "database gone", log)
    assert.equal(2, emu.stats().routes[route], "it failed on the second page")
    assert.is_nil(host:error_log():find("unknown reason", 1, true))
    assert.is_nil(log:find(h.KEY, 1, true))
  end)

  it("never shows the key: not in errors, fields, other hosts or nginx's error log", function()
    local r = host:json("/t/secret")
    assert.same({}, r.leaks)
    assert.same({ "http", "network", "network" }, r.kinds)
    assert.equal(1, r.other)
    assert.equal(emu.null, r.other_key)
    assert.is_nil(host:error_log():find(h.KEY, 1, true))
  end)
end)
