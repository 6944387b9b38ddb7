-- GET /api/v1/call-analytics/export: ZIP for one session, emailed bulk
-- export, and the streamed size knob.

local socket = require "socket"
local emu = require "spec.helpers.emulator"

local function save(body)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(body)
  f:close()
  return path
end

local function unzip(args, path, member)
  return emu.sh("unzip " .. args .. " " .. emu.shell_quote(path)
    .. (member and (" " .. member) or "") .. " 2>&1")
end

local function first_session(summary, want_hipaa)
  local _, body = emu.request_json("GET", "/api/v1/call-analytics",
    { query = { page = 1, page_size = 100 } })
  for _, s in ipairs(body.items) do
    if s.status == "completed" and (s.agent_id == summary.hipaa_agent_id) == want_hipaa then
      return s
    end
  end
end

describe("call-analytics export", function()
  local summary
  setup(function() emu.start() end)
  before_each(function() summary = emu.reset() end)

  it("returns a ZIP with session.json and transcript.txt that passes unzip -t", function()
    local s = first_session(summary, false)
    local status, body, headers = emu.request("GET", "/api/v1/call-analytics/export",
      { query = { request_id = s.request_id } })
    assert.equal(200, status)
    assert.equal("application/zip", headers["content-type"])
    assert.equal(#body, tonumber(headers["content-length"]))
    assert.equal('attachment; filename="call_' .. s.request_id .. '.zip"',
      headers["content-disposition"])
    local path = save(body)
    finally(function() os.remove(path) end)
    local out, ok = unzip("-t", path)
    assert.is_true(ok, out)
    assert.matches("No errors detected", out)
    assert.matches("session%.json", out)
    assert.matches("transcript%.txt", out)
    assert.is_nil(out:find("recording.wav", 1, true))
    local session = emu.json.decode((unzip("-p", path, "session.json")))
    assert.same(s, session)
    local transcript = unzip("-p", path, "transcript.txt")
    assert.matches("%[00:00%] Agent: ", transcript)
  end)

  it("adds recording.wav with include_recordings=true", function()
    local s = first_session(summary, false)
    local _, body = emu.request("GET", "/api/v1/call-analytics/export",
      { query = { request_id = s.request_id, include_recordings = "true" } })
    local path = save(body)
    finally(function() os.remove(path) end)
    local out, ok = unzip("-t", path)
    assert.is_true(ok, out)
    assert.matches("recording%.wav", out)
    assert.equal("RIFF", unzip("-p", path, "recording.wav"):sub(1, 4))
  end)

  it("leaves the transcript out for the HIPAA agent", function()
    local s = first_session(summary, true)
    local _, body = emu.request("GET", "/api/v1/call-analytics/export",
      { query = { request_id = s.request_id, include_recordings = "true" } })
    local path = save(body)
    finally(function() os.remove(path) end)
    local out = unzip("-l", path)
    assert.matches("session%.json", out)
    assert.is_nil(out:find("transcript.txt", 1, true))
    assert.is_nil(out:find("recording.wav", 1, true))
  end)

  it("answers 404 for an unknown request id", function()
    local status, body = emu.request_json("GET", "/api/v1/call-analytics/export",
      { query = { request_id = "nope" } })
    assert.equal(404, status)
    assert.same({ detail = "Call session not found" }, body)
  end)

  it("accepts a date range for email and names the address", function()
    local status, body, headers = emu.request_json("GET", "/api/v1/call-analytics/export",
      { query = { start_date = "2026-06-01", end_date = "2026-06-30" } })
    assert.equal(200, status)
    assert.equal("application/json", headers["content-type"])
    assert.equal("ops@example.test", body.email)
    assert.matches("ops@example%.test", body.message)
    emu.config { email = "team@example.test" }
    local _, again = emu.request_json("GET", "/api/v1/call-analytics/export",
      { query = { start_date = "2026-06-01", end_date = "2026-06-30" } })
    assert.equal("team@example.test", again.email)
  end)

  it("answers 400 for a bulk export when the account has no email", function()
    emu.reset { email = emu.null }
    local status, body = emu.request_json("GET", "/api/v1/call-analytics/export",
      { query = { start_date = "2026-06-01", end_date = "2026-06-30" } })
    assert.equal(400, status)
    assert.equal("string", type(body.detail))
  end)

  it("answers 400 with neither request_id nor dates, 422 for a malformed date", function()
    local status, body = emu.request_json("GET", "/api/v1/call-analytics/export")
    assert.equal(400, status)
    assert.equal("string", type(body.detail))
    status, body = emu.request_json("GET", "/api/v1/call-analytics/export",
      { query = { start_date = "2026-6-1", end_date = "2026-06-31" } })
    assert.equal(422, status)
    assert.equal(2, #body.detail)
    assert.equal("date_from_datetime_parsing", body.detail[1].type)
    assert.same({ "query", "end_date" }, body.detail[2].loc)
  end)

  it("streams a valid bulk ZIP of exactly the asked size", function()
    local size = 3 * 1048576 + 12345
    local status, body, headers = emu.request("GET", "/api/v1/call-analytics/export",
      { query = { request_id = "bulk", size = size } })
    assert.equal(200, status)
    assert.equal(tostring(size), headers["content-length"])
    assert.equal(size, #body)
    local path = save(body)
    finally(function() os.remove(path) end)
    local out, ok = unzip("-t", path)
    assert.is_true(ok, out)
    assert.matches("call_logs%.jsonl", out)
  end)

  it("streams 512 MiB at full speed without growing the worker's memory", function()
    local info = emu.start()
    local worker = emu.sh("pgrep -P " .. info.pid):match("%d+")
    local function rss()
      local f = io.open("/proc/" .. worker .. "/status")
      local kb = f:read("*a"):match("VmRSS:%s*(%d+)")
      f:close()
      return tonumber(kb)
    end
    local before = rss()
    local url = info.url .. "/api/v1/call-analytics/export?request_id=bulk&size=536870912"
    local t0 = socket.gettime()
    local out = emu.sh("curl -sS -o /dev/null -w '%{http_code} %{size_download}' -H 'x-api-key: "
      .. emu.API_KEY .. "' " .. emu.shell_quote(url))
    local elapsed = socket.gettime() - t0
    assert.equal("200 536870912", out)
    assert.is_true(elapsed < 5, ("512 MiB took %.2f s"):format(elapsed))
    assert.is_true(rss() - before < 32768, "worker grew by " .. (rss() - before) .. " kB")
  end)
end)
