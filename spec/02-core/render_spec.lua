-- conn:render_head, the request head of transports that write HTTP
-- themselves (the nginx transport): the credential only for the base
-- URL's origin, conn:request's header rules, pool names that keep hosts
-- and credentials apart without showing the credential.
local core = require "kupe.core"

local KEY = "k3y-never-shown"

local function conn(opts)
  local o = { base_url = "https://api.kupe.test", api_key = KEY, user_agent = "kupe-lua/test" }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.api_key == false then o.api_key = nil end
  return core.new(o)
end

local function lines(head)
  local out = {}
  for line in head:gmatch("(.-)\r\n") do out[#out + 1] = line end
  return out
end

describe("conn:render_head", function()
  it("renders the request line and the fixed headers, ending with a blank line", function()
    local head, pool, host, port, tls = conn():render_head("GET", "https://api.kupe.test/api/v1/me?x=1")
    assert.same({
      "GET /api/v1/me?x=1 HTTP/1.1",
      "Host: api.kupe.test",
      "User-Agent: kupe-lua/test",
      "Accept: application/json",
      "Accept-Encoding: gzip",
      "x-api-key: " .. KEY,
      "",
    }, lines(head))
    assert.equal("\r\n\r\n", head:sub(-4))
    assert.equal("api.kupe.test", host)
    assert.equal(443, port)
    assert.is_true(tls)
    assert.matches("^kupe:https://api%.kupe%.test:443:%x+$", pool)
  end)

  it("sends a bearer token as Authorization", function()
    local head = conn { api_key = false, bearer = "jwt.value" }:render_head("GET", "https://api.kupe.test/")
    assert.truthy(head:find("\r\nAuthorization: Bearer jwt.value\r\n", 1, true))
  end)

  it("attaches the credential only for the base URL's origin", function()
    local c = conn()
    for _, url in ipairs {
      "https://api.kupe.test.evil/x", "http://api.kupe.test/x", "https://api.kupe.test:8443/x",
      "https://other.test/x",
    } do
      local head, pool = c:render_head("GET", url)
      assert.is_nil(head:find(KEY, 1, true), url)
      assert.matches(":%-$", pool)
    end
    assert.truthy(c:render_head("GET", "https://API.KUPE.TEST/x"):find(KEY, 1, true))
  end)

  it("gives each host, port, scheme and credential its own pool, never showing the key", function()
    local a, b = conn(), conn { api_key = "another-key" }
    local pa = select(2, a:render_head("GET", "https://api.kupe.test/x"))
    assert.equal(pa, select(2, conn():render_head("GET", "https://api.kupe.test/y")))
    assert.not_equal(pa, select(2, b:render_head("GET", "https://api.kupe.test/x")))
    assert.is_nil(pa:find(KEY, 1, true))
    local p1 = select(2, a:render_head("GET", "http://127.0.0.1:8080/"))
    local p2 = select(2, a:render_head("GET", "http://127.0.0.1:8081/"))
    assert.equal("kupe:http://127.0.0.1:8080:-", p1)
    assert.not_equal(p1, p2)
    assert.matches("^kupe:https://api%.kupe%.test:443:" .. ("%x"):rep(32) .. "$", pa)
  end)

  it("keeps a port other than the scheme's in Host, and IPv6 brackets", function()
    local c = conn()
    local head, _, host, port, tls = c:render_head("GET", "http://[::1]:8080/x")
    assert.equal("Host: [::1]:8080", lines(head)[2])
    assert.equal("[::1]", host)
    assert.equal(8080, port)
    assert.is_false(tls)
    assert.equal("Host: api.kupe.test", lines(c:render_head("GET", "https://api.kupe.test:443/"))[2])
  end)

  it("drops the fragment and removes dot segments, as libcurl does", function()
    local c = conn()
    assert.equal("GET /api/v1/c?q=1 HTTP/1.1",
      lines(c:render_head("GET", "https://api.kupe.test/api/v1/a/../b/./../c?q=1#frag"))[1])
    assert.equal("GET / HTTP/1.1", lines(c:render_head("GET", "https://api.kupe.test"))[1])
    assert.equal("GET /?a=b HTTP/1.1", lines(c:render_head("GET", "https://api.kupe.test?a=b"))[1])
    assert.equal("GET /a/%2e%2e/b HTTP/1.1", lines(c:render_head("GET", "https://api.kupe.test/a/%2e%2e/b"))[1])
  end)

  it("sends Content-Type and Content-Length by conn:request's rules", function()
    local c = conn()
    local head = c:render_head("POST", "https://api.kupe.test/x", { body = "{}", content_type = "application/json" })
    assert.truthy(head:find("\r\nContent-Type: application/json\r\nContent-Length: 2\r\n", 1, true))
    assert.truthy(c:render_head("POST", "https://api.kupe.test/x"):find("\r\nContent-Length: 0\r\n", 1, true))
    assert.is_nil(c:render_head("GET", "https://api.kupe.test/x", { body = "x" }):find("Content-Length", 1, true))
    assert.truthy(c:render_head("DELETE", "https://api.kupe.test/x", { body = "abc" })
      :find("\r\nContent-Length: 3\r\n", 1, true))
    assert.is_nil(c:render_head("DELETE", "https://api.kupe.test/x"):find("Content-Length", 1, true))
  end)

  it("adds the caller's headers; theirs replace User-Agent, Accept and Content-Type", function()
    local head = conn():render_head("POST", "https://api.kupe.test/x", {
      content_type = "application/json", body = "[]",
      headers = { ["X-Request-Id"] = "r1", accept = "text/csv", ["Content-Type"] = "text/plain", ["X-N"] = 7 },
    })
    assert.truthy(head:find("\r\nX-Request-Id: r1\r\n", 1, true))
    assert.truthy(head:find("\r\nX-N: 7\r\n", 1, true))
    assert.truthy(head:find("\r\naccept: text/csv\r\n", 1, true))
    assert.is_nil(head:find("application/json", 1, true))
    assert.truthy(head:find("\r\nContent-Type: text/plain\r\n", 1, true))
  end)

  it("raises for what conn:request refuses, before rendering anything", function()
    local c = conn()
    local url = "https://api.kupe.test/x"
    assert.has_error(function() c:render_head("GET", url, { headers = { ["X-A"] = "a\r\nb: c" } }) end,
      "request: header 'X-A' contains CR, LF or NUL")
    assert.has_error(function() c:render_head("GET", url, { headers = { ["x-api-key"] = "x" } }) end,
      "request: header 'x-api-key' is managed by the client")
    assert.has_error(function() c:render_head("GET", url, { headers = { ["Bad Name"] = "x" } }) end)
    assert.has_error(function() c:render_head("GET", url, { content_type = "a\nb" }) end,
      "request: content_type contains CR, LF or NUL")
    assert.has_error(function() c:render_head("get", url) end)
    assert.has_error(function() c:render_head("GET", "https://api.kupe.test/a b") end)
    assert.has_error(function() c:render_head("GET", url, { body = 5 }) end)
    c:close()
    assert.has_error(function() c:render_head("GET", url) end, "attempt to use a closed kupe.client")
  end)

  it("answers nil, invalid_url for a URL it cannot use", function()
    local c = conn()
    for _, url in ipairs { "ftp://api.kupe.test/", "https://user:pw@api.kupe.test/", "https:///x",
      "https://api.kupe.test:99999/", "https://api.kupe.test:80x/", "https://[::1/" } do
      local head, kind, msg, sent = c:render_head("GET", url)
      assert.is_nil(head, url)
      assert.equal("invalid_url", kind)
      assert.is_string(msg)
      assert.is_false(sent)
    end
  end)
end)
