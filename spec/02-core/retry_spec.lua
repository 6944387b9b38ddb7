-- Retries and Retry-After, provoked for real: the emulator counts every
-- attempt it receives. What both transports must do alike (a GET retried
-- after 503 or a dropped connection, Retry-After on 429, a dropped POST
-- not repeated, the timeouts) is in spec/cases/transport.lua.
local h = require "spec.helpers.kupe"
local emu = h.emu

local function count(route)
  return emu.stats().routes[route] or 0
end

describe("retries", function()
  before_each(function() h.reset() end)

  it("gives up after max_retries and reports the attempts", function()
    emu.fault("GET /api/v1/me", { status = 500, json = { detail = "boom" } }, 5)
    local c = h.client { max_retries = 2 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal(500, err.status)
    assert.equal(3, err.attempts)
    assert.is_true(err.retryable)
    assert.equal(3, count("GET /api/v1/me"))
    assert.matches("after 3 attempts", tostring(err))
  end)

  it("understands Retry-After as an HTTP date", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 2)
    emu.fault("GET /api/v1/me", { status = 503, headers = { ["Retry-After"] = date } }, 1)
    local c = h.client()
    local elapsed, r = h.timed(c.me, c)
    assert.is_table(r[1])
    assert.is_true(elapsed >= 0.9 and elapsed < 2.6, "waited " .. elapsed)
  end)

  it("does not wait for a Retry-After longer than max_retry_after", function()
    emu.fault("GET /api/v1/me", { status = 429, headers = { ["Retry-After"] = "120" } }, 1)
    local c = h.client()
    local elapsed, r = h.timed(c.me, c)
    local err = r[2]
    assert.is_nil(r[1])
    assert.equal(429, err.status)
    assert.equal(120, err.retry_after)
    assert.is_true(elapsed < 0.5)
    assert.equal(1, count("GET /api/v1/me"))
    assert.matches("retry after 120 s", tostring(err))
  end)

  it("reads Retry-After on every retryable status", function()
    for _, status in ipairs { 408, 429, 500, 502, 503, 504 } do
      h.reset()
      emu.fault("GET /api/v1/me", { status = status, headers = { ["Retry-After"] = "120" } }, 1)
      local c = h.client()
      local elapsed, r = h.timed(c.me, c)
      local err = r[2]
      assert.is_nil(r[1])
      assert.equal(status, err.status)
      assert.equal(120, err.retry_after, "status " .. status)
      assert.is_true(elapsed < 0.5, "status " .. status)
      assert.equal(1, count("GET /api/v1/me"))
    end
  end)

  it("waits for the Retry-After of a 500 before the next attempt", function()
    emu.fault("GET /api/v1/me", { status = 500, headers = { ["Retry-After"] = "1" } }, 1)
    local c = h.client { backoff_base = 0.01, backoff_max = 0.01 }
    local elapsed, r = h.timed(c.me, c)
    assert.is_table(r[1])
    assert.is_true(elapsed >= 0.9 and elapsed < 2.6, "waited " .. elapsed)
    assert.equal(2, count("GET /api/v1/me"))
  end)

  it("gives the Retry-After to the caller when it does not retry", function()
    emu.fault("POST /api/call/create_call", { status = 503, headers = { ["Retry-After"] = "7" } }, 1)
    local c = h.client()
    local data, err = c:request("POST", "/api/call/create_call", { query = { phoneNumber = "+15550100" } })
    assert.is_nil(data)
    assert.equal(7, err.retry_after)
    assert.equal(1, count("POST /api/call/create_call"))
    h.reset()
    emu.fault("GET /api/v1/me", { status = 503, headers = { ["Retry-After"] = "0" } }, 3)
    local _, err2 = h.client { max_retries = 1 }:me()
    assert.equal(503, err2.status)
    assert.equal(2, err2.attempts)
    assert.equal(0, err2.retry_after)
  end)

  it("never retries 409, a business conflict", function()
    emu.fault("GET /api/v1/me", { status = 409, json = { detail = "Batch already has calls in flight" } }, 3)
    local c = h.client()
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal(409, err.status)
    assert.equal(1, err.attempts)
    assert.equal(1, count("GET /api/v1/me"))
  end)

  it("does not repeat a POST that reached the server (503)", function()
    emu.fault("POST /api/call/create_call", { status = 503, headers = { ["Retry-After"] = "0" } }, 3)
    local c = h.client()
    local data, err = c:request("POST", "/api/call/create_call", { query = { phoneNumber = "+15550100" } })
    assert.is_nil(data)
    assert.equal(503, err.status)
    assert.equal(1, err.attempts)
    assert.equal(1, count("POST /api/call/create_call"))
  end)

  it("does not repeat a POST sent on a reused connection that dropped", function()
    local c = h.client()
    assert(c:me()) -- the connection is now in the cache
    emu.fault("POST /api/call/create_call", { drop = true }, 3)
    local data, err = c:request("POST", "/api/call/create_call", { query = { phoneNumber = "+15550100" } })
    assert.is_nil(data)
    assert.equal("network", err.kind)
    assert.equal(1, count("POST /api/call/create_call"))
    assert(c:me(), "the client works normally afterwards")
  end)

  it("shows every attempt to the hooks, without the secret or a body", function()
    local BODY = "body-text-hooks-must-not-see"
    emu.fault("GET /api/v1/me", { status = 503, json = { detail = "busy", note = BODY } }, 1)
    local seen = {}
    local c = h.client {
      on_request = function(info) seen[#seen + 1] = { "request", info } end,
      on_response = function(info) seen[#seen + 1] = { "response", info } end,
    }
    assert(c:me())
    assert.equal(4, #seen)
    assert.equal(1, seen[1][2].attempt)
    assert.equal(503, seen[2][2].status)
    assert.equal(2, seen[3][2].attempt)
    assert.equal(200, seen[4][2].status)
    local failed = seen[2][2].error
    assert.equal("http", failed.kind)
    assert.equal(503, failed.status)
    assert.equal("busy", failed.message)
    assert.matches("503 Service Unavailable: busy", tostring(failed))
    -- every string reachable from a hook's argument, nested tables too
    local function walk(v, where, depth)
      if type(v) == "table" and depth < 6 then
        for k, x in pairs(v) do
          assert.not_equal("body", k, where)
          walk(k, where, depth + 1)
          walk(x, where .. "." .. tostring(k), depth + 1)
        end
        return
      end
      local text = tostring(v)
      assert.is_nil(text:find(h.KEY, 1, true), "hook field " .. where)
      assert.is_nil(text:find(BODY, 1, true), "hook field " .. where)
    end
    for _, s in ipairs(seen) do walk(s[2], s[1], 0) end
  end)

  it("logs one line per attempt with KUPE_LOG-style logging", function()
    local lines = {}
    local c = h.client { logger = function(l) lines[#lines + 1] = l end }
    emu.fault("GET /api/v1/me", { status = 503 }, 1)
    assert(c:me())
    assert.equal(2, #lines)
    assert.matches("^kupe: GET /api/v1/me %-> 503 %(attempt 1, [%d.]+ ms%)$", lines[1])
    assert.matches("^kupe: GET /api/v1/me %-> 200 %(attempt 2, ", lines[2])
  end)

  it("logs to stderr when KUPE_LOG=debug", function()
    local env = h.env()
    local cmd = ("KUPE_LOG=debug KUPE_API_KEY=%s KUPE_BASE_URL=%s %s -e %q 2>&1"):format(
      h.KEY, env.url, arg and arg[-1] or "lua5.4",
      "assert(require('kupe').new():me())")
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    assert.matches("kupe: GET /api/v1/me %-> 200 %(attempt 1,", out)
    assert.is_nil(out:find(h.KEY, 1, true))
  end)
end)
