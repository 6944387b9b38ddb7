-- core.request_url and core.encode_query: the URL of one request, built
-- in C, against the same rules written out in Lua here.
local core = require "kupe.core"
local kupe = require "kupe"

local MAX = 65536

describe("core.request_url", function()
  it("joins base, path and query with '?' or '&', and names the path", function()
    assert.same({ "http://h/a?b=1&c=x%20y", "/a" },
      { core.request_url("http://h", "/a", { c = "x y", b = 1 }, MAX) })
    assert.same({ "http://h/a?z=1&b=2", "/a" }, { core.request_url("http://h", "/a?z=1", { b = 2 }, MAX) })
    assert.same({ "http://h/x?k=v/a&b=2", "/a" }, { core.request_url("http://h/x?k=v", "/a", { b = 2 }, MAX) })
    assert.same({ "https://o/p?q#f", "https://o/p" }, { core.request_url("", "https://o/p?q#f", nil, MAX) })
    assert.same({ "http://h/a#f?x", "/a" }, { core.request_url("http://h", "/a#f?x", nil, MAX) })
    assert.same({ "http://h/a?x#f", "/a" }, { core.request_url("http://h", "/a?x#f", nil, MAX) })
  end)

  it("adds no separator for an empty query or one of nulls only", function()
    assert.same({ "http://h/a", "/a" }, { core.request_url("http://h", "/a", {}, MAX) })
    assert.same({ "http://h/a", "/a" }, { core.request_url("http://h", "/a", { x = kupe.null }, MAX) })
    assert.same({ "http://h/a", "/a" }, { core.request_url("http://h", "/a", { x = { kupe.null } }, MAX) })
  end)

  it("returns nil and the length of a URL longer than max, without making it", function()
    assert.same({ nil, 14 }, { core.request_url("http://h", "/a", { b = 1 }, 13) })
    assert.same({ "http://h/a?b=1", "/a" }, { core.request_url("http://h", "/a", { b = 1 }, 14) })
    local long = ("x"):rep(70000)
    assert.same({ nil, 70000 + #"http://h/a?v=" }, { core.request_url("http://h", "/a", { v = long }, MAX) })
  end)

  it("encodes many keys and long values as encode_query does", function()
    local q, want = {}, {}
    for i = 1, 30 do
      local k = ("k%02d"):format(i)
      q[k] = ("é/"):rep(i * 4)
      want[#want + 1] = k .. "=" .. ("%C3%A9%2F"):rep(i * 4)
    end
    q.arr = { 1, 2.5, true, kupe.null, "a b" }
    table.insert(want, 1, "arr=1&arr=2.5&arr=true&arr=a%20b")
    local expect = table.concat(want, "&")
    assert.equal(expect, core.encode_query(q))
    local url, qpath = core.request_url("http://h", "/p", q, MAX)
    assert.equal("http://h/p?" .. expect, url)
    assert.equal("/p", qpath)
  end)

  it("raises for a bad query as encode_query does, before building anything", function()
    for _, q in ipairs {
      { [1] = "x" }, { [""] = "x" }, { ["a\nb"] = "x" }, { a = "x\0y" }, { a = "\xff" },
      { a = 0 / 0 }, { a = math.huge }, { a = { { 1 } } }, { a = { 1, x = 2 } },
      { a = print },
    } do
      local ok1, e1 = pcall(core.encode_query, q)
      local ok2, e2 = pcall(core.request_url, "http://h", "/a", q, MAX)
      assert.is_false(ok1)
      assert.is_false(ok2)
      assert.equal(e1, e2)
    end
  end)
end)

describe("core.visible", function()
  it("accepts visible ASCII only", function()
    assert.is_true(core.visible("/api/v1/x?y=%20"))
    assert.is_true(core.visible(""))
    for _, s in ipairs { "a b", "a\0b", "a\tb", "a\127", "é", "a\n" } do
      assert.is_false(core.visible(s), s)
    end
  end)
end)
