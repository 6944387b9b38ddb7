-- The request pipeline against the emulator over real sockets: public
-- routes, the User-Agent prefix, encoding, errors, redirects of a POST,
-- argument checks. What both transports must do alike (credentials on the
-- wire, keep-alive, gzip, oversized bodies, redirects, header safety) is
-- in spec/cases/transport.lua.
local h = require "spec.helpers.kupe"
local kupe = require "kupe"
local emu = h.emu

describe("client:request", function()
  before_each(function() h.reset() end)

  it("sends no credential to public routes when none is configured", function()
    local c = h.client { api_key = false }
    local health = assert(c:health())
    assert.equal("healthy", health.status)
    assert.is_nil(emu.stats().last_request.headers["x-api-key"])
  end)

  it("names kupe-lua, libcurl and Lua in the User-Agent and sends no Origin", function()
    local c = h.client { user_agent = "nightly-export/2" }
    assert(c:me())
    local hdr = emu.stats().last_request.headers
    assert.matches("^nightly%-export/2 kupe%-lua/[%d.]+ libcurl/[%d.]+ ", hdr["user-agent"])
    assert.is_nil(hdr["origin"])
  end)

  it("returns data and the raw response: status, headers, attempts, elapsed", function()
    local c = h.client()
    local me, resp = c:me()
    assert.is_table(me)
    assert.equal(200, resp.status)
    assert.matches("^application/json", resp.headers["content-type"])
    assert.equal(1, resp.attempts)
    assert.is_true(resp.elapsed >= 0 and resp.elapsed < 5)
    assert.equal("/api/v1/me", resp.path)
  end)

  it("encodes query values per RFC 3986 and integral floats without a fraction", function()
    local c = h.client()
    c:request("GET", "/api/v1/call-analytics", {
      query = { page = 2.0, page_size = 3, filter = "a b/c?d#e+f&g", flag = true },
    })
    local raw = emu.stats().last_request.query
    assert.equal("filter=a%20b%2Fc%3Fd%23e%2Bf%26g&flag=true&page=2&page_size=3", raw)
    local q = h.parse_query(raw)
    assert.equal("2", q.page)
    assert.equal("3", q.page_size)
    assert.equal("a b/c?d#e+f&g", q.filter)
    assert.equal("true", q.flag)
  end)

  it("escapes path parameters so an id cannot change the route", function()
    local c = h.client()
    local data, err = c:request("GET", "/api/v1/agents/" .. kupe.escape("../../me?x=1#y z"))
    assert.is_nil(data)
    assert.is_true(err.status == 400 or err.status == 404)
    local last = emu.stats().last_request
    assert.equal("/api/v1/agents/..%2F..%2Fme%3Fx%3D1%23y%20z", last.raw_path or last.path)
  end)

  it("reads a 422 list detail as 'field: message'", function()
    local c = h.client()
    local data, err = c:request("GET", "/api/v1/call-analytics", { query = { page = 1, page_size = 500 } })
    assert.is_nil(data)
    assert.equal("http", err.kind)
    assert.equal(422, err.status)
    assert.is_table(err.detail)
    assert.matches("page_size: ", err.message)
    assert.matches("^kupe: GET /api/v1/call%-analytics: 422 Unprocessable Entity: page_size: ",
      tostring(err))
  end)

  it("reads a string detail and adds a hint for 401", function()
    local c = h.client { api_key = "not-the-key" }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal(401, err.status)
    assert.equal("string", type(err.detail))
    assert.matches("hint: ", tostring(err))
    assert.is_false(err.retryable)
  end)

  it("turns an HTML error page into a readable error", function()
    emu.fault("GET /api/v1/me", { status = 502, content_type = "text/html",
      body = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>" }, 1)
    local c = h.client { max_retries = 0 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal(502, err.status)
    assert.equal("502 Bad Gateway", err.message)
    assert.matches("<html>", err.body)
  end)

  it("reports malformed JSON as a decode error with the body", function()
    emu.fault("GET /api/v1/me", { malformed = true }, 1)
    local c = h.client()
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.is_string(err.body)
    assert.is_false(err.retryable)
  end)

  it("reports a wrong content type instead of guessing", function()
    emu.fault("GET /api/v1/me", { content_type = "text/plain", body = "OK" }, 1)
    local c = h.client()
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.matches("expected a JSON answer, got text/plain", tostring(err))
  end)

  it("decodes application/json and +json types only, as the transfer judges them", function()
    local c = h.client()
    emu.fault("GET /api/v1/me", { content_type = "application/vnd.kupe+json; charset=utf-8" }, 1)
    local me = assert(c:me())
    assert.equal("api_key", me.auth)
    emu.fault("GET /api/v1/me", { content_type = "application/jsonp" }, 1)
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.matches("expected a JSON answer, got application/jsonp", tostring(err))
  end)

  it("returns the raw body with raw = true", function()
    emu.fault("GET /api/v1/me", { content_type = "text/plain", body = "plain text" }, 1)
    local c = h.client()
    local body, resp = c:request("GET", "/api/v1/me", { raw = true })
    assert.equal("plain text", body)
    assert.equal(200, resp.status)
  end)

  it("does not follow a redirect of a POST", function()
    emu.fault("POST /api/v1/agents/simple", { redirect = "other", status = 307 }, 1)
    local c = h.client()
    local data, err = c:request("POST", "/api/v1/agents/simple", { json = { name = "x" } })
    assert.is_nil(data)
    assert.equal("redirect", err.kind)
    assert.equal(0, #emu.stats().other_host)
  end)

  it("raises for caller mistakes, naming the argument", function()
    local c = h.client()
    assert.has_error(function() c:request("get", "/x") end,
      "bad argument #1 to 'request' (upper-case HTTP method expected)")
    assert.has_error(function() c:request("GET", "x") end,
      "bad argument #2 to 'request' (path starting with '/' expected)")
    assert.has_error(function() c:request("GET", "/x", { qurey = {} }) end,
      "request: unknown option 'qurey'")
    assert.has_error(function() c:request("GET", "/x", { timeout = "5" }) end,
      "request: option 'timeout' must be a number (got string)")
    assert.has_error(function() c:request("GET", "/x", { query = { a = 0 / 0 } }) end)
    assert.has_error(function() c:request("GET", "/x", { query = { a = { b = {} } } }) end)
  end)
end)
