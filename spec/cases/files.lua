-- Knowledge-base files: upload (multipart, streamed from disk), formats,
-- list, get, update, delete. Shared by the libcurl specs and the nginx
-- specs (see spec/helpers/cases.lua).
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN, write = kit.UNKNOWN, kit.write

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local NOTES = "Clinic hours\n\nThe clinic opens at 9 am on weekdays.\n\n"
    .. "Visitors may park in lot B behind the clinic. Parking is free on Sundays.\n"

  case("uploads a file from disk as multipart/form-data and returns the upload row", function()
    local c = t.client()
    local agent = t.agent_id()
    local path = write(t.tmpdir() .. "/notes.txt", NOTES)
    local row, resp = c.files:upload { path = path, agent_id = agent }
    assert.is_table(row, tostring(resp))
    assert.equal(200, resp.status)
    assert.is_string(row.id)
    assert.equal("notes.txt", row.original_filename)
    assert.equal(#NOTES, row.file_size)
    assert.equal("text/plain", row.mime_type)
    assert.equal(agent, row.agent_id)
    assert.equal(3, row.chunk_count)
    assert.is_string(resp.data.message) -- the envelope stays reachable

    local req = emu.stats().last_request
    local ctype = req.headers["content-type"]
    assert.matches("^multipart/form%-data; boundary=", ctype)
    assert.truthy(req.body:find('name="file"; filename="notes.txt"', 1, true))
    assert.truthy(req.body:find("Content-Type: text/plain", 1, true))
    assert.truthy(req.body:find('name="agent_id"\r\n\r\n' .. agent, 1, true))
    assert.truthy(req.body:find(NOTES, 1, true))
  end)

  case("sends the given file name and content type instead of the path's", function()
    local c = t.client()
    local path = write(t.tmpdir() .. "/upload.bin", "# Returns\n\nWithin 30 days.\n")
    local row = assert(c.files:upload { path = path, filename = "policy.md", type = "text/markdown" })
    assert.equal("policy.md", row.original_filename)
    assert.equal("text/markdown", row.mime_type)
    assert.equal(kupe.null, row.agent_id)
  end)

  case("streams a large file intact, its last line included", function()
    local c = t.client()
    local path = t.tmpdir() .. "/big.txt"
    local f = assert(io.open(path, "wb"))
    local line = ("Routine paragraph about opening hours and appointments. "):rep(8) .. "\n\n"
    local n = math.ceil(4 * 1048576 / #line)
    for _ = 1, n do f:write(line) end
    local tail = "The secret handshake is a zebra tapping twice on the lighthouse door."
    f:write(tail, "\n")
    f:close()
    local size = n * #line + #tail + 1

    if t.transport == "curl" then collectgarbage("collect") collectgarbage("stop") end
    local before = collectgarbage("count")
    local row = assert(c.files:upload { path = path, agent_id = t.agent_id() })
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(size, row.file_size)
    if t.transport == "curl" then
      -- the file went from disk to the socket through libcurl, not through Lua strings
      assert.is_true(grown < 1024, ("Lua memory grew by %.0f KiB during a 4 MiB upload"):format(grown))
    end
    local hits = assert(c.knowledge:search { agent_id = t.agent_id(), query = "zebra lighthouse handshake", limit = 1 })
    assert.equal(1, #hits)
    assert.equal(tail, hits[1].text)
  end)

  case("answers an io error and sends nothing for a missing or unreadable file", function()
    local c = t.client()
    local dir = t.tmpdir()
    local before = t.requests()
    local row, err = c.files:upload { path = dir .. "/no-such-file.pdf" }
    assert.is_nil(row)
    assert.equal("io", err.kind)
    assert.is_false(err.sent)
    assert.matches("no%-such%-file%.pdf", tostring(err))
    row, err = c.files:upload { path = dir }
    assert.is_nil(row)
    assert.equal("io", err.kind)
    assert.equal(before, t.requests())
  end)

  case("raises for caller mistakes before sending, pointing at the caller", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.files:upload {} end,
      "bad argument #1 to 'upload' (path must be a non-empty string, got nil)")
    assert.has_error(function() c.files:upload "notes.txt" end,
      "bad argument #1 to 'upload' (table expected, got string)")
    assert.has_error(function() c.files:upload { path = "x.txt", agent_id = "agent-1" } end,
      "bad argument #1 to 'upload' (agent_id must be a UUID string, got 'agent-1')")
    assert.has_error(function() c.files:upload { path = "x.txt", agentid = UNKNOWN } end,
      "bad argument #1 to 'upload' (unknown field 'agentid')")
    assert.has_error(function() c.files:get("") end,
      "bad argument #1 to 'get' (file_id must be a non-empty string, got an empty string)")
    assert.has_error(function() c.files:update(UNKNOWN, "new name") end,
      "bad argument #2 to 'update' (table of fields expected, got string)")
    local ok, msg = pcall(function() c.files:delete(nil) end)
    assert.is_false(ok)
    assert.matches("files%.lua:%d+: bad argument #1 to 'delete'", msg)
    assert.equal(before, t.requests())
  end)

  case("answers 400 for an unsupported format and 404 for an unknown agent", function()
    local c = t.client()
    local dir = t.tmpdir()
    local row, err = c.files:upload { path = write(dir .. "/tool.exe", "MZ\0\0") }
    assert.is_nil(row)
    assert.equal(400, err.status)
    assert.matches("Unsupported file format '%.exe'", err.message)
    row, err = c.files:upload { path = write(dir .. "/a.txt", "hello"), agent_id = UNKNOWN }
    assert.is_nil(row)
    assert.equal(404, err.status)
    assert.equal("Agent not found", err.message)
  end)

  case("answers 422 for a multipart body without a file part", function()
    local c = t.client()
    local data, err = c:request("POST", "/api/v1/files/upload",
      { form = { { name = "agent_id", value = t.agent_id() } } })
    assert.is_nil(data)
    assert.equal(422, err.status)
    assert.same({ "body", "file" }, err.detail[1].loc)
  end)

  case("lists the caller's files (data.files) newest first, as a plain list", function()
    local c = t.client()
    local empty, resp = assert(c.files:list())
    assert.same({}, empty)
    assert.equal(0, resp.data.data.total)
    local dir = t.tmpdir()
    local a = assert(c.files:upload { path = write(dir .. "/a.txt", "first file") })
    local b = assert(c.files:upload { path = write(dir .. "/b.csv", "name,phone\nAsha,+91\n") })
    local list = assert(c.files:list())
    assert.equal(2, #list)
    assert.equal(b.id, list[1].id)
    assert.equal(a.id, list[2].id)
    assert.equal("text/csv", list[1].mime_type)
  end)

  case("gets one file with signed view and download URLs; 404 and 422 otherwise", function()
    local c = t.client()
    local up = assert(c.files:upload { path = write(t.tmpdir() .. "/faq.md", "# FAQ\n\nAsk us.\n") })
    local f = assert(c.files:get(up.id))
    assert.equal(up.id, f.id)
    assert.equal("faq.md", f.original_filename)
    assert.matches("^https?://.+token=", f.view_url)
    assert.matches("download=faq%.md", f.download_url)
    local none, err = c.files:get(UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.files:get("not-a-uuid")
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  case("escapes the file id into one path segment", function()
    local c = t.client()
    local _, err = c.files:get("a/b?c")
    assert.equal(422, err.status)
    assert.equal("/api/v1/files/a%2Fb%3Fc", emu.stats().last_request.path)
  end)

  case("updates a file's metadata; 404 for an unknown file, 422 for a bad field", function()
    local c = t.client()
    local up = assert(c.files:upload { path = write(t.tmpdir() .. "/x.txt", "text") })
    local row = assert(c.files:update(up.id, { original_filename = "prices.txt",
      description = "2026 price list" }))
    assert.equal("prices.txt", row.original_filename)
    assert.equal("2026 price list", row.description)
    assert.equal("prices.txt", assert(c.files:get(up.id)).original_filename)
    local none, err = c.files:update(UNKNOWN, { description = "x" })
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.files:update(up.id, { description = 5 })
    assert.is_nil(none)
    assert.equal(422, err.status)
  end)

  case("deletes a file: then 404, gone from the list and from the agent", function()
    local c = t.client()
    local agent = t.agent_id()
    local up = assert(c.files:upload { path = write(t.tmpdir() .. "/x.txt", "bye"), agent_id = agent })
    assert.equal(1, #assert(c.knowledge:files(agent)))
    local done = assert(c.files:delete(up.id))
    assert.equal(up.id, done.id)
    local none, err = c.files:get(up.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    none, err = c.files:delete(up.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.same({}, assert(c.files:list()))
    assert.same({}, assert(c.knowledge:files(agent)))
  end)

  case("lists the supported formats", function()
    local c = t.client()
    local formats = assert(c.files:supported_formats())
    local types, exts = {}, {}
    for _, m in ipairs(formats.mime_types) do types[m] = true end
    for _, e in ipairs(formats.extensions) do exts[e] = true end
    assert.is_true(types["application/pdf"])
    assert.is_true(types["text/plain"])
    assert.is_true(exts[".docx"])
  end)

  case("needs a credential", function()
    local c = t.client { api_key = false }
    local list, err = c.files:list()
    assert.is_nil(list)
    assert.equal(401, err.status)
  end)

  return cases
end
