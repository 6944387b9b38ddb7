-- The transport contract: what the libcurl transport and the nginx
-- cosocket transport must do alike, on the wire and in their errors
-- (docs/DESIGN.md sections 2 and 3). Shared by spec/02-core/transport_spec
-- (libcurl, busted) and spec/06-nginx (cosockets, inside nginx); see
-- spec/helpers/cases.lua. Every failure is checked down to its message
-- (err.cause), which is libcurl 7.88's wording with this exchange's
-- numbers under both transports; the few places where the nginx
-- transport cannot say what libcurl says are README's "Differences from
-- the libcurl transport", and the cases below name them.
local assert = require "luassert"
local core = require "kupe.core"
local h = require "spec.helpers.kupe"
local kit = require "spec.helpers.case_kit"
local ports = require "spec.helpers.ports"

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function timed(fn, ...)
    local t0 = core.now()
    local a, b = fn(...)
    return core.now() - t0, a, b
  end

  local function other_url(path)
    return t.env().other_url .. path
  end

  -- The emulator's TLS port, by a name the certificate holds (the nginx
  -- transport refuses an https URL with an IP address).
  local function tls_port()
    return t.env().tls_url:match(":(%d+)$")
  end

  -- A JSON body of exactly n bytes, for faults whose numbers are checked.
  local function body_of(n)
    return '{"v":"' .. ("x"):rep(n - 8) .. '"}'
  end

  case("sends the key, Accept and a User-Agent naming the HTTP stack, and no Origin", function()
    local c = t.client()
    local me = assert(c:me())
    assert.equal("api_key", me.auth)
    local hdr = emu.stats().last_request.headers
    assert.equal(t.KEY, hdr["x-api-key"])
    assert.is_nil(hdr["authorization"])
    assert.is_nil(hdr["origin"])
    assert.equal("application/json", hdr["accept"])
    local stack = t.transport == "ngx" and "ngx_lua" or "libcurl"
    assert.matches("^kupe%-lua/[%d.]+ " .. stack .. "/[%d.]+ ", hdr["user-agent"])
  end)

  case("sends a bearer token as Authorization: Bearer", function()
    local c = t.client { bearer = h.BEARER }
    local me = assert(c:me())
    assert.equal("bearer", me.auth)
    local hdr = emu.stats().last_request.headers
    assert.equal("Bearer " .. h.BEARER, hdr["authorization"])
    assert.is_nil(hdr["x-api-key"])
  end)

  case("keeps one connection for 100 sequential requests", function()
    local c = t.client()
    assert(c:me())
    local before = emu.stats().connections
    for _ = 1, 100 do assert(c:me()) end
    assert.equal(before, emu.stats().connections)
  end)

  case("asks for gzip and decodes a gzip-compressed answer", function()
    local c = t.client()
    local page, resp = assert(c.call_logs:list { page = 1, page_size = 50 })
    assert.equal(50, #page.items)
    assert.equal("gzip", resp.headers["content-encoding"])
    assert.matches("gzip", emu.stats().last_request.headers["accept-encoding"])
  end)

  case("reads a chunked answer", function()
    local c = t.client()
    local all, resp = assert(c.call_logs:list())
    assert.equal(250, #all)
    assert.matches("chunked", resp.headers["transfer-encoding"])
  end)

  case("reports a chunked answer cut short as a network error", function()
    emu.fault("GET /api/v1/call-analytics", { truncate_chunked = 1000 }, 1)
    local c = t.client { max_retries = 0 }
    local data, err = c.call_logs:list()
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.equal("transfer closed with outstanding read data remaining", err.cause)
    assert(c:me(), "the client works normally afterwards")
  end)

  case("reports a body shorter than its Content-Length as a network error", function()
    emu.fault("GET /api/v1/me", { cut = 10, body = body_of(100) }, 1)
    local c = t.client { max_retries = 0 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.equal("transfer closed with 90 bytes remaining to read", err.cause)
    assert(c:me(), "the client works normally afterwards")
  end)

  case("reports a connection closed before any answer as an empty reply", function()
    emu.fault("GET /api/v1/me", { drop = true }, 1)
    local c = t.client { max_retries = 0 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.equal("Empty reply from server", err.cause)
  end)

  case("reports a gzip body that does not decode with zlib's reason, kind decode", function()
    emu.fault("GET /api/v1/me", { headers = { ["Content-Encoding"] = "gzip" },
      body = "this is not gzip" }, 1)
    local c = t.client { max_retries = 0 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.equal("Error while processing content unencoding: incorrect header check", err.cause)
    assert(c:me(), "the client works normally afterwards")
  end)

  case("refuses an oversized body with kind too_large, by its length or as it streams", function()
    emu.fault("GET /api/v1/me", { oversize = 2 * 1024 * 1024 }, 1)
    local c = t.client { max_response_size = 1024 * 1024 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
    assert.equal("the response is larger than max_size (1048576 bytes)", err.cause)
    assert.matches("max_response_size", tostring(err))
    local small = t.client { max_response_size = 10000 }
    data, err = small.call_logs:list() -- chunked and gzipped: no length to check upfront
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
    assert.equal("the response is larger than max_size (10000 bytes)", err.cause)
    assert(c:me(), "the client works normally afterwards")
  end)

  case("follows a redirect to another host without the credential", function()
    emu.fault("GET /api/v1/me", { redirect = "other" }, 1)
    local c = t.client()
    assert.is_table(assert(c:me()))
    local other = emu.stats().other_host
    assert.equal(1, #other)
    assert.is_nil(other[1].headers["x-api-key"])
    assert.is_nil(other[1].headers["authorization"])
  end)

  case("follows a same-origin redirect with the credential", function()
    emu.fault("GET /api/v1/me", { redirect = "same" }, 1)
    local c = t.client()
    local me = assert(c:me())
    assert.equal("api_key", me.auth)
  end)

  case("retries a GET after 503 and counts the attempts", function()
    emu.fault("GET /api/v1/me", { status = 503, json = { detail = "busy" } }, 2)
    local c = t.client { max_retries = 2 }
    local me, resp = c:me()
    assert.is_table(me)
    assert.equal(3, resp.attempts)
    assert.equal(3, t.requests("GET /api/v1/me"))
  end)

  case("waits Retry-After seconds on 429", function()
    emu.fault("GET /api/v1/me", { status = 429, headers = { ["Retry-After"] = "1" },
      json = { detail = "slow down" } }, 1)
    local c = t.client()
    local elapsed, me, resp = timed(c.me, c)
    assert.is_table(me)
    assert.equal(2, resp.attempts)
    assert.is_true(elapsed >= 0.95 and elapsed < 1.6, "waited " .. elapsed)
  end)

  case("does not repeat a POST whose connection dropped after sending", function()
    emu.fault("POST /api/call/create_call", { drop = true }, 3)
    local c = t.client()
    local data, err = c:request("POST", "/api/call/create_call", { query = { phoneNumber = "+15550100" } })
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.equal("Empty reply from server", err.cause)
    assert.equal(1, err.attempts)
    assert.equal(1, t.requests("POST /api/call/create_call"))
    assert(c:me(), "the client works normally afterwards")
  end)

  case("retries a GET whose connection dropped", function()
    emu.fault("GET /api/v1/me", { drop = true }, 1)
    local c = t.client()
    local me, resp = c:me()
    assert.is_table(me)
    assert.equal(2, resp.attempts)
  end)

  case("retries a POST when the connection was refused (nothing was sent)", function()
    local port = ports.closed()
    local c = t.client { base_url = "http://127.0.0.1:" .. port, max_retries = 2 }
    local data, err = c:request("POST", "/api/call/create_call")
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.equal(3, err.attempts)
    local named = kit.cause(err,
      "^Failed to connect to 127%.0%.0%.1 port (%d+) after %d+ ms: Couldn't connect to server$")
    assert.equal(tostring(port), named)
    assert.matches("hint: nothing answered", tostring(err))
  end)

  case("names the host of base_url as written when a connection is refused", function()
    local port = ports.closed()
    local c = t.client { base_url = "http://localhost:" .. port, max_retries = 0 }
    local _, err = c:me()
    assert.equal("network", err.kind)
    kit.cause(err, "^Failed to connect to localhost port " .. port .. " after %d+ ms: Couldn't connect to server$")
  end)

  case("fires the total timeout within 20% of the set value", function()
    emu.fault("GET /api/v1/me", { delay = 3 }, 1)
    local c = t.client { timeout = 1, max_retries = 0 }
    local elapsed, me, err = timed(c.me, c)
    assert.is_nil(me)
    assert.equal("timeout", err.kind)
    assert.equal("total", err.phase)
    assert.is_true(elapsed >= 0.8 and elapsed <= 1.2, "took " .. elapsed)
    kit.near(1, kit.cause(err, "^Operation timed out after (%d+) milliseconds with 0 bytes received$"))
  end)

  case("counts the body bytes, out of its Content-Length, when the total timeout fires", function()
    emu.fault("GET /api/v1/me", { drip = { bytes = 10, interval = 0.3 }, body = body_of(100) }, 1)
    local c = t.client { timeout = 1, max_retries = 0 }
    local _, err = c:me()
    assert.equal("timeout", err.kind)
    assert.equal("total", err.phase)
    local ms, got, total = kit.cause(err,
      "^Operation timed out after (%d+) milliseconds with (%d+) out of (%d+) bytes received$")
    kit.near(1, ms)
    assert.equal("100", total)
    got = tonumber(got)
    assert.is_true(got >= 10 and got < 100 and got % 10 == 0, "received " .. got)
  end)

  case("counts the body bytes without the chunk framing when the total timeout fires", function()
    emu.fault("GET /api/v1/me", { drip = { bytes = 10, interval = 0.3 }, truncate_chunked = 1000,
      body = body_of(100) }, 1)
    local c = t.client { timeout = 1, max_retries = 0 }
    local _, err = c:me()
    assert.equal("timeout", err.kind)
    local ms, got = kit.cause(err, "^Operation timed out after (%d+) milliseconds with (%d+) bytes received$")
    kit.near(1, ms)
    got = tonumber(got)
    assert.is_true(got >= 10 and got < 100 and got % 10 == 0, "received " .. got)
  end)

  case("fires the connect timeout within 20% of the set value", function()
    local port, close = ports.full_queue()
    local c = t.client { base_url = "http://127.0.0.1:" .. port, connect_timeout = 1, max_retries = 0 }
    local elapsed, me, err = timed(c.me, c)
    close()
    assert.is_nil(me)
    assert.equal("timeout", err.kind)
    assert.equal("connect", err.phase)
    assert.is_false(err.sent)
    assert.is_true(elapsed >= 0.8 and elapsed <= 1.2, "took " .. elapsed)
    -- libcurl words it one of two ways, whichever of its timers fires first.
    local first = kit.cause(err,
      "^Failed to connect to 127%.0%.0%.1 port " .. port .. " after (%d+) ms: Timeout was reached$",
      "^Connection timeout after (%d+) ms$")
    kit.near(1, first)
  end)

  case("words a connect cut short by the total timeout as libcurl does", function()
    local port, close = ports.full_queue()
    local c = t.client { base_url = "http://127.0.0.1:" .. port, timeout = 0.7, connect_timeout = 5,
      max_retries = 0 }
    local _, err = c:me()
    close()
    assert.equal("timeout", err.kind)
    assert.equal("connect", err.phase)
    assert.is_false(err.sent)
    kit.near(0.7, kit.cause(err, "^Connection timed out after (%d+) milliseconds$"))
  end)

  case("reports a TLS handshake that never completes as a connect timeout", function()
    local port, close = ports.silent()
    local c = t.client { base_url = "https://localhost:" .. port, connect_timeout = 1, max_retries = 0 }
    local elapsed, me, err = timed(c.me, c)
    close()
    assert.is_nil(me)
    assert.equal("timeout", err.kind)
    assert.equal("connect", err.phase)
    assert.is_false(err.sent)
    assert.equal("SSL connection timeout", err.cause)
    assert.is_true(elapsed >= 0.8 and elapsed <= 1.2, "took " .. elapsed)
  end)

  case("refuses a certificate it cannot trust, kind tls, before sending", function()
    -- Under libcurl the system's CA bundle, inside nginx no
    -- lua_ssl_trusted_certificate: neither holds the emulator's CA. A key
    -- of its own keeps pooled connections of other specs out.
    local c = t.client { base_url = "https://localhost:" .. tls_port(), api_key = "untrusted-key",
      max_retries = 0 }
    local me, err = c:me()
    assert.is_nil(me)
    assert.equal("tls", err.kind)
    assert.is_false(err.sent)
    assert.equal("SSL certificate problem: unable to get local issuer certificate", err.cause)
  end)

  case("reports TLS to a port that speaks plain HTTP as a failed handshake", function()
    local port = t.env().url:match(":(%d+)$")
    local c = t.client { base_url = "https://localhost:" .. port, api_key = "untrusted-key",
      max_retries = 0 }
    local me, err = c:me()
    assert.is_nil(me)
    assert.equal("tls", err.kind)
    assert.is_false(err.sent)
    if t.transport == "ngx" then
      -- nginx logs OpenSSL's reason and gives Lua only "handshake failed"
      -- (README, "Differences from the libcurl transport").
      assert.equal("SSL connect error", err.cause)
      assert.matches("error log", err.hint, 1, true)
    else
      kit.cause(err, "^OpenSSL/%S+: error:%x+:SSL routines::wrong version number$")
    end
  end)

  case("stops a stalled download with the stall limit, not a total deadline", function()
    emu.fault("GET /api/v1/call-analytics/export", { drip = { bytes = 10, interval = 0.5 },
      content_type = "application/zip", body = string.rep("x", 200) }, 1)
    local c = t.client { max_retries = 0 }
    local chunks = 0
    local elapsed, data, err = timed(c.request, c, "GET", "/api/v1/call-analytics/export", {
      query = { request_id = "x" }, sink = function() chunks = chunks + 1 end,
      stall_limit = 100, stall_time = 1,
    })
    assert.is_nil(data)
    assert.equal("timeout", err.kind)
    assert.equal("stall", err.phase)
    assert.equal("Operation too slow. Less than 100 bytes/sec transferred the last 1 seconds", err.cause)
    assert.is_true(chunks > 0)
    assert.is_true(elapsed < 3, "took " .. elapsed)
  end)

  case("sends a JSON body with its type and length, and no credential to another host", function()
    local c = t.client()
    assert(c:request("POST", other_url("/echo?x=1"), { json = { name = "Round trip", n = 2 } }))
    local got = emu.stats().other_host[1]
    assert.equal("POST", got.method)
    assert.equal("/echo?x=1", got.uri)
    assert.equal("application/json", got.headers["content-type"])
    assert.equal(tostring(#got.body), got.headers["content-length"])
    assert.same({ name = "Round trip", n = 2 }, emu.json.decode(got.body))
    assert.is_nil(got.headers["x-api-key"])
  end)

  case("sends a multipart form with a field and a file", function()
    local path = kit.write(t.tmpdir() .. "/notes.txt", "line one\nline two\n")
    local c = t.client()
    assert(c:request("POST", other_url("/upload"), { form = {
      { name = "purpose", value = "knowledge" },
      { name = "file", path = path },
    } }))
    local got = emu.stats().other_host[1]
    local boundary = got.headers["content-type"]:match("^multipart/form%-data; boundary=(.+)$")
    assert.is_string(boundary)
    local body = got.body
    assert.equal(tostring(#body), got.headers["content-length"])
    assert.truthy(body:find('Content-Disposition: form-data; name="purpose"\r\n\r\nknowledge\r\n', 1, true))
    assert.truthy(body:find('Content-Disposition: form-data; name="file"; filename="notes.txt"\r\n'
      .. 'Content-Type: text/plain\r\n\r\nline one\nline two\n\r\n', 1, true))
    assert.equal("--" .. boundary .. "--\r\n", body:sub(-#boundary - 6))
  end)

  case("sends safe custom headers and refuses CR or LF before sending anything", function()
    local c = t.client()
    assert(c:request("GET", "/api/v1/me", { headers = { ["X-Request-Id"] = "abc-123" } }))
    assert.equal("abc-123", emu.stats().last_request.headers["x-request-id"])
    local before = t.requests()
    assert.has_error(function()
      c:request("GET", "/api/v1/me", { headers = { ["X-Note"] = "a\r\nx-api-key: forged" } })
    end, "request: header 'X-Note' contains CR, LF or NUL")
    assert.has_error(function()
      c:request("GET", "/api/v1/me", { headers = { ["Bad Name"] = "v" } })
    end)
    assert.has_error(function()
      c:request("GET", "/api/v1/me", { headers = { ["X-API-Key"] = "other" } })
    end, "request: header 'X-API-Key' is managed by the client")
    assert.equal(before, t.requests())
  end)

  case("never gives a sink an error answer", function()
    local c = t.client()
    local calls = 0
    local data, err = c:request("GET", "/api/v1/call-analytics/export",
      { query = { request_id = "no-such-request" }, sink = function() calls = calls + 1 end })
    assert.is_nil(data)
    assert.equal(404, err.status)
    assert.equal(0, calls)
  end)

  case("aborts a download whose sink raises, with kind aborted", function()
    local c = t.client { max_retries = 0 }
    local id = assert(c.call_logs:list { page = 1, page_size = 1 }).items[1].request_id
    local data, err = c.call_logs:export { request_id = id, sink = function() error("disk full", 0) end }
    assert.is_nil(data)
    assert.equal("aborted", err.kind)
    assert.equal("disk full", err.cause)
    assert.matches("disk full", tostring(err))
    assert(c:me(), "the client works normally afterwards")
  end)

  case("says which function stopped a download that returned false", function()
    local c = t.client { max_retries = 0 }
    local function export(opts)
      opts.query = { request_id = "bulk", size = 1000 }
      local data, err = c:request("GET", "/api/v1/call-analytics/export", opts)
      assert.is_nil(data)
      assert.equal("aborted", err.kind)
      return err.cause
    end
    assert.equal("the sink returned false", export { sink = function() return false end })
    assert.equal("enough", export { sink = function() return false, "enough" end })
    assert.equal("the progress function returned false",
      export { sink = function() end, on_progress = function() return false end })
  end)

  case("reports a sink file that cannot be created with the system's reason, kind io", function()
    local c = t.client { max_retries = 0 }
    local dir = t.tmpdir()
    local data, err = c.call_logs:export { request_id = "bulk", size = 1000,
      path = dir .. "/no-such-folder/export.zip" }
    assert.is_nil(data)
    assert.equal("io", err.kind)
    assert.equal("cannot open the sink file: No such file or directory", err.cause)
    assert.same({}, t.ls(dir))
  end)

  case("reports a form file that cannot be read before sending, kind io", function()
    local c = t.client { max_retries = 0 }
    local path = t.tmpdir() .. "/missing.txt"
    local data, err = c:request("POST", other_url("/upload"), { form = { { name = "file", path = path } } })
    assert.is_nil(data)
    assert.equal("io", err.kind)
    assert.is_false(err.sent)
    assert.equal("cannot read '" .. path .. "'", err.cause)
    assert.equal(0, #emu.stats().other_host)
  end)

  return cases
end
