-- The secret-hygiene check checking itself: tools/secret-hygiene first runs
-- this file (with the helper, outside the normal suite: the name does not
-- end in _spec) and requires a finding on every channel it watches, so a
-- clean result of the real run means something. Each test plants the
-- canary where a leak would show; the findings go to the report file.
local h = require "spec.helpers.kupe"
local errors = require "kupe.errors"
local nginx = require "spec.helpers.nginx"
local emu = h.emu

local CANARY = h.KEY

-- Every plant is expected to raise (the helper fails the test at once);
-- the report file is what tools/secret-hygiene reads.
local function plant(fn)
  return function()
    h.reset()
    pcall(fn)
  end
end

describe("secret hygiene self-test", function()
  it("error value", plant(function()
    errors.new { kind = "internal", message = "x" .. CANARY }
  end))

  it("hook argument", plant(function()
    local c = h.client { on_request = function() end }
    c:request("GET", "/api/v1/me", { query = { leak = CANARY } })
  end))

  it("tostring", plant(function()
    tostring(setmetatable({}, { __tostring = function() return CANARY end }))
  end))

  it("stderr", plant(function()
    io.stderr:write("x", CANARY, "\n")
  end))

  it("export file", plant(function()
    emu.fault("GET /api/v1/call-analytics/export",
      { status = 200, content_type = "application/zip", body = "PK" .. CANARY }, 1)
    local path = os.getenv("TMPDIR") .. "/selftest.zip"
    local c = h.client()
    c.call_logs:export { request_id = "x", path = path }
    os.remove(path)
  end))

  it("other host", plant(function()
    emu.request("GET", "/selftest", { base = h.env().other_url, headers = { ["x-api-key"] = CANARY } })
  end))

  it("file under TMPDIR", plant(function()
    local f = assert(io.open(os.getenv("TMPDIR") .. "/selftest.txt", "w"))
    f:write(CANARY)
    f:close()
  end))

  -- The host nginx of spec/06-nginx, as the suite starts it: its workers
  -- carry the watch (an error value made there must be reported), and its
  -- error log stays for the search afterwards (a line there must be found).
  it("inside nginx and its error log", plant(function()
    local host = nginx.host()
    local ok, err = pcall(host.json, host, "/t/hygiene_plant")
    host:stop()
    assert(ok, err)
  end))
end)
