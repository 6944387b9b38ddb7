-- The fault matrix: every failure the client must survive, provoked for
-- real against a GET (GET /api/v1/me) and a POST that does work
-- (POST /api/call/create_call: a call placed twice rings a person twice).
--
-- M.ROWS is the data: what is provoked and what must happen. M.run(row,
-- method) provokes one case and returns a record of what happened (it
-- asserts nothing, so a child process can run it: the DNS case runs in
-- its own network namespace); M.check(row, method, record) holds the
-- record to the row's expectations. The spec writes every record to
-- build/reliability/, and tools/reliability_doc.lua turns them into the table
-- of docs/RELIABILITY.md.
local M = {}

M.PATH = { GET = "/api/v1/me", POST = "/api/call/create_call" }
M.ROUTE = { GET = "GET /api/v1/me", POST = "POST /api/call/create_call" }
local POST_QUERY = { phoneNumber = "+15550100" }

-- Expectation shorthands. attempts: what the client reports; seen: the
-- requests the emulator received on the route.
local function recovered(first, seen) return { outcome = "ok", first = first, attempts = 2, seen = seen or 2 } end
local function failed(kind, t)
  t.outcome, t.kind = "error", kind
  return t
end

M.ROWS = {
  { id = "refused", name = "refused connection", how = "a loopback port with no listener",
    target = "refused",
    GET = failed("network", { sent = false, attempts = 3, seen = 0 }),
    POST = failed("network", { sent = false, attempts = 3, seen = 0 }),
    pattern = "hint: nothing answered" },
  { id = "dns", name = "DNS failure", how = "a name looked up inside `unshare -n` (child process)",
    target = "dns", child = true,
    GET = failed("resolve", { sent = false, attempts = 3, seen = 0 }),
    POST = failed("resolve", { sent = false, attempts = 3, seen = 0 }),
    pattern = "does not resolve" },
  { id = "connect_timeout", name = "connect timeout", how = "a loopback listener whose accept queue is full",
    target = "full_queue", client = { connect_timeout = 0.5, max_retries = 1 },
    GET = failed("timeout", { phase = "connect", sent = false, attempts = 2, seen = 0 }),
    POST = failed("timeout", { phase = "connect", sent = false, attempts = 2, seen = 0 }),
    pattern = "no connection within the connect timeout" },
  { id = "slow_headers", name = "slow headers", how = "`delay = 1.5` s, timeout 0.5 s",
    fault = { delay = 1.5 }, opts = { timeout = 0.5 },
    GET = recovered("timeout"),
    POST = failed("timeout", { phase = "total", sent = true, attempts = 1, seen = 1 }),
    pattern = "exceeded its timeout" },
  { id = "slow_drip", name = "slow drip", how = "`drip` 8 bytes every 0.25 s, timeout 1 s",
    fault = { drip = { bytes = 8, interval = 0.25 } }, opts = { timeout = 1 },
    GET = recovered("timeout"),
    POST = failed("timeout", { phase = "total", sent = true, attempts = 1, seen = 1 }),
    pattern = "exceeded its timeout" },
  { id = "drop", name = "dropped before the body", how = "`drop`: closed before any response",
    fault = { drop = true },
    GET = recovered("network"),
    POST = failed("network", { sent = true, attempts = 1, seen = 1 }),
    pattern = "Empty reply from server" },
  { id = "cut", name = "dropped during the body", how = "`cut = 10`: full Content-Length, 10 bytes, close",
    fault = { cut = 10 },
    GET = recovered("network"),
    POST = failed("network", { sent = true, attempts = 1, seen = 1 }),
    pattern = "transfer closed with %S+ bytes remaining to read" },
  { id = "truncated_chunked", name = "truncated chunked body", how = "`truncate_chunked = 5`: no last chunk",
    fault = { truncate_chunked = 5 },
    GET = recovered("network"),
    POST = failed("network", { sent = true, attempts = 1, seen = 1 }),
    pattern = "transfer closed with outstanding read data remaining" },
  { id = "malformed", name = "malformed JSON", how = "`malformed`: 200 with JSON that does not parse",
    fault = { malformed = true },
    GET = failed("decode", { status = 200, attempts = 1, seen = 1 }),
    POST = failed("decode", { status = 200, attempts = 1, seen = 1 }),
    pattern = "malformed JSON" },
  { id = "html", name = "HTML error page", how = "502 with an nginx-style HTML page",
    fault = { status = 502, content_type = "text/html",
      body = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>" },
    GET = recovered("http"),
    POST = failed("http", { status = 502, attempts = 1, seen = 1 }),
    pattern = "502 Bad Gateway" },
  { id = "content_type", name = "wrong content type", how = "200 `text/plain` body `OK`",
    fault = { content_type = "text/plain", body = "OK" },
    GET = failed("decode", { status = 200, attempts = 1, seen = 1 }),
    POST = failed("decode", { status = 200, attempts = 1, seen = 1 }),
    pattern = "expected a JSON answer, got text/plain" },
  { id = "oversize", name = "oversized body", how = "`oversize` 2 MiB, max_response_size 1 MiB",
    fault = { oversize = 2 * 1024 * 1024 }, client = { max_response_size = 1024 * 1024 },
    GET = failed("too_large", { attempts = 1, seen = 1 }),
    POST = failed("too_large", { attempts = 1, seen = 1 }),
    pattern = "max_response_size" },
  { id = "401", name = "401", how = "`status = 401`, detail \"Invalid API key\"",
    fault = { status = 401, json = { detail = "Invalid API key" } },
    GET = failed("http", { status = 401, attempts = 1, seen = 1 }),
    POST = failed("http", { status = 401, attempts = 1, seen = 1 }),
    pattern = "401 Unauthorized: Invalid API key %(hint: the server refused the API key" },
  { id = "403", name = "403", how = "`status = 403`, detail about scopes",
    fault = { status = 403, json = { detail = "API key lacks the required scopes" } },
    GET = failed("http", { status = 403, attempts = 1, seen = 1 }),
    POST = failed("http", { status = 403, attempts = 1, seen = 1 }),
    pattern = "403 Forbidden: API key lacks the required scopes %(hint: this API key lacks the scope" },
  { id = "404", name = "404", how = "`status = 404`",
    fault = { status = 404, json = { detail = "Not Found" } },
    GET = failed("http", { status = 404, attempts = 1, seen = 1 }),
    POST = failed("http", { status = 404, attempts = 1, seen = 1 }),
    pattern = "404 Not Found: Not Found" },
  { id = "409", name = "409", how = "`status = 409`, a business conflict",
    fault = { status = 409, json = { detail = "Batch already has calls in flight" } },
    GET = failed("http", { status = 409, attempts = 1, seen = 1 }),
    POST = failed("http", { status = 409, attempts = 1, seen = 1 }),
    pattern = "409 Conflict: Batch already has calls in flight" },
  { id = "422", name = "422", how = "`status = 422` with a FastAPI list detail",
    fault = { status = 422, json = { detail = { { loc = { "query", "phoneNumber" },
      msg = "Field required", type = "missing" } } } },
    GET = failed("http", { status = 422, attempts = 1, seen = 1 }),
    POST = failed("http", { status = 422, attempts = 1, seen = 1 }),
    pattern = "422 Unprocessable Entity: phoneNumber: Field required" },
  { id = "429", name = "429 with Retry-After", how = "`status = 429`, `Retry-After: 1`",
    fault = { status = 429, headers = { ["Retry-After"] = "1" }, json = { detail = "Too many requests" } },
    GET = recovered("http"), waits = 1,
    POST = failed("http", { status = 429, attempts = 1, seen = 1 }),
    pattern = "429 Too Many Requests" },
  { id = "503", name = "503 with Retry-After", how = "`status = 503`, `Retry-After: 1`",
    fault = { status = 503, headers = { ["Retry-After"] = "1" }, json = { detail = "Service unavailable" } },
    GET = recovered("http"), waits = 1,
    POST = failed("http", { status = 503, attempts = 1, seen = 1 }),
    pattern = "503 Service Unavailable" },
  { id = "redirect_other", name = "redirect to another host", how = "302 (GET) / 307 (POST) to 127.0.0.2",
    fault = { redirect = "other" }, post_fault = { redirect = "other", status = 307 },
    GET = { outcome = "ok", attempts = 1, seen = 1, other_host = 1 },
    POST = failed("redirect", { attempts = 1, seen = 1, other_host = 0 }),
    pattern = "not followed" },
  { id = "tls_untrusted", name = "TLS with an untrusted certificate", how = "the emulator's HTTPS port, no `ca_file`",
    target = "tls",
    GET = failed("tls", { attempts = 1, seen = 0 }),
    POST = failed("tls", { attempts = 1, seen = 0 }),
    pattern = "ca_file" },
}

---------------------------------------------------------------------------
-- Targets other than the emulator's API: each returns a base URL and a
-- function that releases what it made. LuaSocket is loaded only here, so
-- that reading M.ROWS (tools/reliability_doc.lua) does not need it.

local function ports() return require "spec.helpers.ports" end

local TARGETS = {
  refused = function() return "http://127.0.0.1:" .. ports().closed() end,
  full_queue = function()
    local port, close = ports().full_queue()
    return "http://127.0.0.1:" .. port, close
  end,
  tls = function(env) return env.tls_url end,
  -- Only ever used inside a network namespace of its own (see the child).
  dns = function() return "http://kupe-fault-matrix.invalid" end,
}

---------------------------------------------------------------------------

local function call(c, method, url, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if method == "POST" then o.query = POST_QUERY end
  return c:request(method, url, o)
end

-- Messages hold ports and timings; the table shows them without. libcurl
-- words one connect timeout two ways, depending on which of its timers
-- fires first; the table shows one.
function M.normalise(s)
  if not s then return nil end
  return (s:gsub("127%.0%.0%.(%d+):%d+", "127.0.0.%1:PORT"):gsub("port %d+", "port PORT")
    :gsub("%d+ ms", "N ms"):gsub("%d+ milliseconds", "N milliseconds"):gsub("[%d.]+ seconds", "N seconds")
    :gsub("%d+ out of %d+ bytes", "N out of M bytes"):gsub("%d+ bytes remaining", "N bytes remaining")
    :gsub("%[Connection timeout after N ms%]",
      "[Failed to connect to 127.0.0.1 port PORT after N ms: Timeout was reached]")
    :gsub("\n", " "))
end

--- Provokes one case; returns the record of what happened.
function M.run(row, method)
  local h = require "spec.helpers.kupe"
  local core = require "kupe.core"
  local emu = h.emu
  local env = h.env()
  h.reset()
  local base, release
  if row.target then base, release = TARGETS[row.target](env) end
  local fault = method == "POST" and row.post_fault or row.fault
  if fault then emu.fault(M.ROUTE[method], fault, 1) end

  local seen_attempts = {}
  local copts = {
    on_response = function(info)
      seen_attempts[#seen_attempts + 1] = {
        status = info.status, kind = info.error and info.error.kind,
        text = info.error and tostring(info.error),
      }
    end,
  }
  for k, v in pairs(row.client or {}) do copts[k] = v end
  local c = h.client(copts)

  local before = emu.stats()
  local t0 = core.now()
  local data, res = call(c, method, base and (base .. M.PATH[method]) or M.PATH[method], row.opts)
  local elapsed = core.now() - t0
  if release then release() end
  local after = emu.stats()
  emu.clear_faults()

  local route = M.ROUTE[method]
  local rec = {
    fault = row.id, method = method, elapsed = elapsed,
    outcome = data ~= nil and "ok" or "error",
    seen = (after.routes[route] or 0) - (before.routes[route] or 0),
    seen_total = after.requests_total - before.requests_total,
    other_host = #after.other_host - #before.other_host,
    first = seen_attempts[1] and (seen_attempts[1].kind or "ok"),
    first_text = seen_attempts[1] and M.normalise(seen_attempts[1].text),
    hooks = #seen_attempts,
  }
  local cred = false
  for i = #before.other_host + 1, #after.other_host do
    local hdr = after.other_host[i].headers or {}
    if hdr["x-api-key"] or hdr["authorization"] then cred = true end
  end
  rec.other_host_credential = cred
  if data ~= nil then
    rec.attempts = res.attempts
  else
    local err = res
    rec.is_error = getmetatable(err) == require("kupe").Error
    rec.kind, rec.status, rec.phase, rec.sent = err.kind, err.status, err.phase, err.sent
    rec.attempts, rec.retryable = err.attempts, err.retryable
    rec.message = M.normalise(tostring(err))
  end

  -- The same client, the same call, no fault: it must work normally.
  local again, aerr = call(c, method, M.PATH[method])
  rec.next_ok = again ~= nil
  rec.next_error = aerr and M.normalise(tostring(aerr)) or nil
  local last = emu.stats()
  rec.next_seen = (last.routes[route] or 0) - (after.routes[route] or 0)
  c:close()
  return rec
end

--- Asserts that a record meets its row's expectations.
function M.check(row, method, rec)
  local assert = require "luassert"
  local want = row[method]
  local where = ("%s / %s: "):format(row.id, method)
  assert.equal(want.outcome, rec.outcome, where .. "outcome (" .. tostring(rec.message) .. ")")
  if want.outcome == "error" then
    assert.is_true(rec.is_error, where .. "a kupe error value")
    assert.equal(want.kind, rec.kind, where .. "kind")
    if want.status then assert.equal(want.status, rec.status, where .. "status") end
    if want.phase then assert.equal(want.phase, rec.phase, where .. "phase") end
    if want.sent ~= nil then assert.equal(want.sent, rec.sent, where .. "sent") end
    assert.matches(row.pattern, rec.message, nil, false, where .. "message")
  elseif want.first then
    assert.equal(want.first, rec.first, where .. "kind of the first attempt")
    assert.matches(row.pattern, rec.first_text, nil, false, where .. "message of the first attempt")
  end
  assert.equal(want.attempts, rec.attempts, where .. "attempts the client reports")
  assert.equal(want.seen, rec.seen, where .. "requests the emulator saw")
  assert.equal(rec.seen, rec.seen_total, where .. "no request elsewhere on the API")
  assert.equal(rec.attempts, rec.hooks, where .. "one on_response call per attempt")
  if method == "POST" then
    assert.is_true(rec.seen <= 1, where .. "a POST that reached the server was not repeated")
  end
  if want.other_host then
    assert.equal(want.other_host, rec.other_host, where .. "requests to the other host")
  end
  assert.is_false(rec.other_host_credential, where .. "no credential to the other host")
  assert.is_true(rec.next_ok, where .. "the next request works (" .. tostring(rec.next_error) .. ")")
  assert.equal(1, rec.next_seen, where .. "the next request reached the server once")
end

return M
