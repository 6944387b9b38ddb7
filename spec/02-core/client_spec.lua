-- kupe.new, the client's lifetime, TLS, and where the secret may never be.
local h = require "spec.helpers.kupe"
local kupe = require "kupe"

local LUA = arg and arg[-1] or "lua5.4"

local function run_lua(env, code)
  local p = io.popen(("%s %s -e %q 2>&1"):format(env, LUA, code))
  local out = p:read("a")
  p:close()
  return out
end

describe("kupe.new", function()
  it("raises at once for an unknown option or a wrong type, naming it", function()
    assert.has_error(function() kupe.new { api_kye = "x" } end, "kupe.new: unknown option 'api_kye'")
    assert.has_error(function() kupe.new { timeout = "30" } end,
      "kupe.new: option 'timeout' must be a number (got string)")
    assert.has_error(function() kupe.new { max_retries = -1 } end,
      "kupe.new: option 'max_retries' must be a finite number >= 0")
    assert.has_error(function() kupe.new { api_key = "a", bearer = "b" } end,
      "kupe.new: give 'api_key' or 'bearer', not both")
    assert.has_error(function() kupe.new { api_key = "a\nb" } end)
    assert.has_error(function() kupe.new "x" end)
  end)

  it("refuses plain http to a host other than loopback", function()
    local ok, msg = pcall(kupe.new, { api_key = "k", base_url = "http://api.example.test" })
    assert.is_false(ok)
    assert.matches("refusing plain http to api.example.test", msg)
    assert.is_nil(msg:find("k\"", 1, true))
    local c = kupe.new { api_key = "k", base_url = "http://api.example.test", allow_insecure = true }
    assert.equal("http://api.example.test", c._base)
    c:close()
    for _, host in ipairs { "127.0.0.1:8080", "localhost", "[::1]:9" } do
      kupe.new { base_url = "http://" .. host }:close()
    end
  end)

  it("takes the key and base URL from KUPE_API_KEY and KUPE_BASE_URL", function()
    h.reset()
    local env = h.env()
    local out = run_lua(("KUPE_API_KEY=%s KUPE_BASE_URL=%s"):format(h.KEY, env.url),
      "local c = require('kupe').new(); local me = assert(c:me()); io.write(me.auth, ' ', c._base)")
    assert.equal("api_key " .. env.url, out)
  end)

  it("defaults to the production base URL", function()
    local out = run_lua("KUPE_BASE_URL=", "io.write(require('kupe').new()._base)")
    assert.equal("https://api.kupe.in", out)
  end)
end)

describe("the client object", function()
  before_each(function() h.reset() end)

  it("never shows the key in tostring, fields or metatables", function()
    local c = h.client()
    assert(c:me())
    assert.matches("^kupe.Client %(http://127%.0%.0%.1:%d+%)$", tostring(c))
    assert.is_nil(tostring(c._t):find(h.KEY, 1, true))
    local seen = {}
    local function scan(v, depth)
      if depth > 4 or seen[v] then return end
      seen[v] = true
      if type(v) == "string" then
        assert.is_nil(v:find(h.KEY, 1, true))
      elseif type(v) == "table" then
        for k, x in pairs(v) do scan(k, depth + 1) scan(x, depth + 1) end
      end
      assert.is_nil(tostring(v):find(h.KEY, 1, true))
    end
    scan(c, 0)
    assert.equal("the credential is not readable", getmetatable(c._t.conn))
  end)

  it("raises a clear error once closed, and close is idempotent", function()
    local c = h.client()
    c:close()
    c:close()
    assert.matches("closed", tostring(c))
    assert.has_error(function() c:me() end, "attempt to use a closed kupe client")
    assert.has_error(function() c._t.conn:request("GET", "http://127.0.0.1/") end,
      "attempt to use a closed kupe.client")
  end)

  if _VERSION == "Lua 5.4" then
    it("closes at the end of a <close> scope", function()
      local f = assert(load([[
        local h = ...
        local kept
        do
          local c <close> = h.client()
          assert(c:me())
          kept = c
        end
        return kept
      ]]))
      local c = f(h)
      assert.has_error(function() c:me() end, "attempt to use a closed kupe client")
    end)
  end

  it("is collected when dropped", function()
    local weak = setmetatable({}, { __mode = "v" })
    do
      local c = h.client()
      assert(c:me())
      weak[1], weak[2] = c, c._t.conn
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    assert.is_nil(weak[2])
  end)

  it("loads resource groups lazily and returns nil for unknown names", function()
    local c = h.client()
    assert.is_table(c.call_logs)
    assert.equal(c.call_logs, c.call_logs)
    assert.is_nil(c.no_such_group)
  end)
end)

describe("JSON through the client", function()
  before_each(function() h.reset() end)

  it("keeps empty arrays as arrays through a read and write-back", function()
    local c = h.client()
    local created = assert(c:request("POST", "/api/v1/agents", { json = {
      agent = { name = "Round trip", is_active = false },
      agent_specific_config = { conversation_stop_words = kupe.array(), inbound_transfer_routes = kupe.array() },
    } }))
    local id = created.agent.id
    local got = assert(c:request("GET", "/api/v1/agents/" .. id))
    local cfg = got.configurations.agent_specific_config
    assert.equal(kupe.array_mt, getmetatable(cfg.conversation_stop_words))
    -- write the decoded value back unchanged, then read it again
    assert(c:request("PUT", "/api/v1/agents/" .. id, { json = { agent_specific_config = cfg } }))
    local again = assert(c:request("GET", "/api/v1/agents/" .. id, { raw = true }))
    assert.matches('"conversation_stop_words":%[%]', again)
  end)

  it("decodes JSON null as kupe.null", function()
    local c = h.client()
    local me = assert(c:me())
    local found = false
    for _, v in pairs(me) do if v == kupe.null then found = true end end
    assert.is_true(found, "MeResponse has nullable fields")
  end)
end)

describe("TLS", function()
  before_each(function() h.reset() end)

  it("refuses a certificate it cannot verify, with a hint naming ca_file", function()
    local env = h.env()
    local c = h.client { base_url = env.tls_url, max_retries = 0 }
    local data, err = c:me()
    assert.is_nil(data)
    assert.equal("tls", err.kind)
    assert.matches("ca_file", err.hint)
    assert.is_false(err.retryable)
  end)

  it("accepts the certificate with ca_file", function()
    local env = h.env()
    local c = h.client { base_url = env.tls_url, ca_file = env.ca }
    local me = assert(c:me())
    assert.equal("api_key", me.auth)
  end)
end)

describe("memory", function()
  before_each(function() h.reset() end)

  it("does not grow over 10,000 requests", function()
    -- Under ASan, RSS also holds the quarantine of freed memory (32 MiB,
    -- filled at a pace that depends on the specs run before), so the
    -- bytes allocated and not freed are read from ASan's allocator
    -- instead: the same bound, measured exactly.
    local used, unit = h.rss_kib, "KiB of RSS"
    if os.getenv("KUPE_SANITIZED") then
      local live = require "kupe_asan_stats"
      used, unit = function() return live() / 1024 end, "KiB allocated"
    end
    local c = h.client()
    for _ = 1, 1000 do assert(c:me()) end
    collectgarbage()
    local before = used()
    for _ = 1, 10000 do assert(c:me()) end
    collectgarbage()
    local after = used()
    assert.is_true(after - before < 1024, ("grew from %.0f to %.0f %s"):format(before, after, unit))
  end)
end)
