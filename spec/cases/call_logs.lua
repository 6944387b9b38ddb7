-- Call logs: list, get, walkers and exports. Shared by the libcurl specs
-- and the nginx specs (see spec/helpers/cases.lua).
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()
  local LISTED = "GET /api/v1/call-analytics"

  -- A page as the emulator would send it, for faults that replay one.
  local function page_json(page, items, total)
    local list = {}
    for i = 1, items do list[i] = { request_id = ("fake-%d-%d"):format(page, i) } end
    return { items = list, total = total, page = page, page_size = items }
  end

  case("lists one page with items, total, page and page_size", function()
    local c = t.client()
    local page = assert(c.call_logs:list { page = 2, page_size = 50 })
    assert.equal(50, #page.items)
    assert.equal(250, page.total)
    assert.equal(2, page.page)
    assert.equal(50, page.page_size)
    local s = page.items[1]
    assert.is_string(s.request_id)
    assert.is_string(s.call_type)
    assert.is_number(s.duration_seconds)
  end)

  case("returns the whole list as an array without paging parameters", function()
    local c = t.client()
    local all = assert(c.call_logs:list())
    assert.equal(250, #all)
    assert.is_nil(all.items)
  end)

  case("raises for page_size outside 1..100 before sending anything", function()
    local c = t.client()
    local before = t.requests(LISTED)
    for _, bad in ipairs { 0, 101, 2.5, -1 } do
      local ok, msg = pcall(c.call_logs.list, c.call_logs, { page = 1, page_size = bad })
      assert.is_false(ok)
      assert.matches("page_size must be an integer from 1 to 100", msg)
    end
    assert.has_error(function() c.call_logs:list { pagesize = 5 } end,
      "bad argument #1 to 'list' (unknown parameter 'pagesize')")
    assert.has_error(function() c.call_logs:pages { page_size = 500 } end)
    assert.equal(before, t.requests(LISTED))
  end)

  case("filters by call type", function()
    local c = t.client()
    local page = assert(c.call_logs:list { page = 1, page_size = 100, filter = "outbound" })
    assert.is_true(page.total > 0 and page.total < 250)
    for _, s in ipairs(page.items) do assert.equal("outbound", s.call_type) end
  end)

  case("sends a filter with characters that need escaping intact", function()
    local c = t.client()
    local filter = "a b&c=d/e?f#g+h%"
    local page = assert(c.call_logs:list { page = 1, page_size = 10, filter = filter })
    assert.equal(0, page.total)
    assert.equal("a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25", emu.stats().last_request.query:match("filter=([^&]*)"))
  end)

  case("gets one session by request id", function()
    local c = t.client()
    local first = assert(c.call_logs:list { page = 1, page_size = 1 }).items[1]
    local s = assert(c.call_logs:get(first.request_id))
    assert.equal(first.request_id, s.request_id)
  end)

  case("answers nil and a readable 404 for an unknown request id", function()
    local c = t.client()
    local s, err = c.call_logs:get("no-such-request")
    assert.is_nil(s)
    assert.equal(404, err.status)
    assert.equal("http", err.kind)
    assert.matches("^kupe: GET /api/v1/call%-analytics: 404 Not Found: ", tostring(err))
    assert.has_error(function() c.call_logs:get("") end)
    assert.has_error(function() c.call_logs:get(nil) end)
  end)

  case("passes sessions with withheld analysis through unchanged", function()
    local c = t.client()
    local hipaa, normal = 0, 0
    for s in c.call_logs:sessions {} do
      if s.post_call_analysis_results == nil then
        hipaa = hipaa + 1
        assert.is_nil(s.transcript)
        assert.is_nil(s.recording_url)
      else
        normal = normal + 1
      end
    end
    assert.is_true(hipaa > 0, "the data set has HIPAA sessions")
    assert.is_true(normal > 0)
  end)

  case("walks every page lazily, stopping at the short last page", function()
    local c = t.client()
    local before = t.requests(LISTED)
    local sizes, seen, n = {}, {}, 0
    for page in c.call_logs:pages {} do
      sizes[#sizes + 1] = #page.items
      for _, s in ipairs(page.items) do
        assert.is_nil(seen[s.request_id], "no session twice")
        seen[s.request_id] = true
        n = n + 1
      end
    end
    assert.same({ 100, 100, 50 }, sizes)
    assert.equal(250, n)
    assert.equal(3, t.requests(LISTED) - before)
  end)

  case("stops once total is reached, without asking for an empty page", function()
    t.reset { sessions = 200 }
    local c = t.client()
    local before, pages = t.requests(LISTED), 0
    for _ in c.call_logs:pages { page_size = 100 } do pages = pages + 1 end
    assert.equal(2, pages)
    assert.equal(2, t.requests(LISTED) - before)
  end)

  case("walks sessions with limit and max_pages", function()
    local c = t.client()
    local before, n = t.requests(LISTED), 0
    for _ in c.call_logs:sessions { limit = 120, page_size = 50 } do n = n + 1 end
    assert.equal(120, n)
    assert.equal(3, t.requests(LISTED) - before)
    local pages = 0
    for _ in c.call_logs:pages { page_size = 10, max_pages = 2 } do pages = pages + 1 end
    assert.equal(2, pages)
    local filtered = 0
    for s in c.call_logs:sessions { filter = "inbound", page_size = 25 } do
      assert.equal("inbound", s.call_type)
      filtered = filtered + 1
    end
    assert.is_true(filtered > 0)
  end)

  case("ends a walk that fails mid-way with an error, never a silent stop", function()
    local c = t.client { max_retries = 0 }
    local walk = c.call_logs:sessions { page_size = 100 }
    local n = 0
    local ok, msg = pcall(function()
      for _ in walk do
        n = n + 1
        if n == 100 then
          emu.fault("GET /api/v1/call-analytics", { status = 500, json = { detail = "database gone" } }, 1)
        end
      end
    end)
    assert.is_false(ok)
    assert.equal(100, n)
    assert.equal("string", type(msg))
    assert.matches("^kupe: GET /api/v1/call%-analytics: 500 Internal Server Error: database gone", msg)
    assert.equal(500, walk.error.status)
    assert.is_nil(walk(), "a failed walk stays ended")
  end)

  case("reports a failed walk as nil, err through each()", function()
    local c = t.client { max_retries = 0 }
    emu.fault("GET /api/v1/call-analytics", { status = 503, json = { detail = "busy" } }, 1)
    local count = 0
    local ok, err = c.call_logs:sessions {}:each(function() count = count + 1 end)
    assert.is_nil(ok)
    assert.equal(503, err.status)
    assert.equal(0, count)
    local done, n = c.call_logs:sessions { limit = 7 }:each(function() end)
    assert.is_true(done)
    assert.equal(7, n)
  end)

  case("stops a server that ignores page with a no_progress error", function()
    local c = t.client()
    emu.fault("GET /api/v1/call-analytics", { json = page_json(1, 10, 100) }, 5)
    local pages = 0
    local walk = c.call_logs:pages { page_size = 10 }
    local ok, msg = pcall(function() for _ in walk do pages = pages + 1 end end)
    assert.is_false(ok)
    assert.equal(1, pages)
    assert.equal("no_progress", walk.error.kind)
    assert.matches("page", msg)
  end)

  case("stops a server that repeats a page under a new number", function()
    local c = t.client()
    local p1, p2 = page_json(1, 10, 100), page_json(1, 10, 100)
    p2.page = 2
    emu.fault("GET /api/v1/call-analytics", { json = p1 }, 1)
    emu.fault("GET /api/v1/call-analytics", { json = p2 }, 1)
    local walk = c.call_logs:pages { page_size = 10 }
    local ok, msg = pcall(function() for _ in walk do end end)
    assert.is_false(ok)
    assert.equal("no_progress", walk.error.kind)
    assert.matches("the same page twice", msg)
  end)

  case("stops at a non-empty page beyond total", function()
    local c = t.client()
    local p1, p2 = page_json(1, 10, 5), page_json(2, 10, 5)
    p1.total = 15 -- first page promises more
    emu.fault("GET /api/v1/call-analytics", { json = p1 }, 1)
    p2.total = 10
    emu.fault("GET /api/v1/call-analytics", { json = p2 }, 1)
    local walk = c.call_logs:pages { page_size = 10 }
    local ok = pcall(function() for _ in walk do end end)
    assert.is_false(ok)
    assert.equal("no_progress", walk.error.kind)
    assert.matches("beyond total", walk.error.message)
  end)

  case("releases the walker when the loop breaks (closing value)", function()
    local c = t.client()
    local iter, s, ctl, closing = c.call_logs:pages { page_size = 10 }
    assert.equal(iter, closing)
    for _ in iter, s, ctl, closing do break end -- luacheck: ignore 512
    if t.lua54 then
      assert.is_true(iter.done)
      assert.is_nil(iter.current)
    end
    iter:close()
    assert.is_nil(iter())
  end)

  case("exports one session as a ZIP to a path, with progress", function()
    local c = t.client()
    local id = assert(c.call_logs:list { page = 1, page_size = 1 }).items[1].request_id
    local dir = t.tmpdir()
    local path = dir .. "/call.zip"
    local calls, last_total = 0, nil
    local res = assert(c.call_logs:export { request_id = id, path = path,
      on_progress = function(received, total) calls = calls + 1 last_total = total
        assert.is_true(received > 0) end })
    assert.equal(path, res.path)
    assert.equal("application/zip", res.content_type)
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("a")
    f:close()
    assert.equal(res.bytes, #bytes)
    assert.equal("PK\3\4", bytes:sub(1, 4))
    assert.is_true(calls > 0)
    assert.equal(res.bytes, last_total)
    assert.same({ "call.zip" }, t.ls(dir))
    if t.transport == "curl" then
      local p = io.popen("unzip -t '" .. path .. "' 2>&1")
      local out = p:read("a")
      p:close()
      assert.matches("No errors detected", out)
      assert.matches("session.json", out)
    end
  end)

  case("exports to a sink function", function()
    local c = t.client()
    local id = assert(c.call_logs:list { page = 1, page_size = 1 }).items[1].request_id
    local parts = {}
    local res = assert(c.call_logs:export { request_id = id, sink = function(chunk)
      parts[#parts + 1] = chunk end })
    local zip = table.concat(parts)
    assert.is_nil(res.path)
    assert.equal(#zip, res.bytes)
    assert.equal("PK\3\4", zip:sub(1, 4))
  end)

  case("returns the emailed answer for a date range, marked emailed", function()
    local c = t.client()
    local res = assert(c.call_logs:export { start_date = "2026-01-01", end_date = "2026-01-31" })
    assert.is_true(res.emailed)
  end)

  case("answers 400 for a date range when the account has no email", function()
    t.reset { email = kupe.null }
    local c = t.client()
    local res, err = c.call_logs:export { start_date = "2026-01-01", end_date = "2026-01-31" }
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.is_string(err.message)
  end)

  case("leaves no file behind when the connection drops mid-export", function()
    local c = t.client { max_retries = 0 }
    local dir = t.tmpdir()
    emu.fault("GET /api/v1/call-analytics/export", { cut = 4096, content_type = "application/zip",
      body = string.rep("z", 65536) }, 1)
    local res, err = c.call_logs:export { request_id = "any", path = dir .. "/out.zip" }
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.same({}, t.ls(dir))
  end)

  case("leaves no file behind for an unknown request id", function()
    local c = t.client()
    local dir = t.tmpdir()
    local res, err = c.call_logs:export { request_id = "no-such-request", path = dir .. "/x.zip" }
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.same({}, t.ls(dir))
  end)

  case("raises for an export without a destination or with bad dates", function()
    local c = t.client()
    assert.has_error(function() c.call_logs:export { request_id = "x" } end,
      "bad argument #1 to 'export' (a ZIP export needs path or sink)")
    assert.has_error(function() c.call_logs:export { start_date = "2026-1-1", end_date = "2026-01-31" } end)
    assert.has_error(function() c.call_logs:export {} end)
    assert.has_error(function() c.call_logs:export { request_id = "x", path = "/tmp/a", sink = print } end)
  end)

  return cases
end
