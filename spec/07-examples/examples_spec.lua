-- The runnable examples, run as a user would run them (a fresh
-- interpreter, KUPE_API_KEY and KUPE_BASE_URL in the environment) against
-- the emulator, so the README's examples keep working.
local h = require "spec.helpers.kupe"

local LUA = arg and arg[-1] or "lua5.4"

local function run(script, args)
  local env = h.env()
  local cmd = ("KUPE_API_KEY=%s KUPE_BASE_URL=%s %s %s %s 2>&1; echo \"rc=$?\"")
    :format(h.KEY, env.url, LUA, script, args or "")
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, out
end

local kit = require "spec.helpers.case_kit"
local tmpdir, read = kit.tmpdir, kit.read

describe("the examples", function()
  before_each(function() h.reset() end)

  it("demo.lua tours the API end to end", function()
    local rc, out = run("examples/demo.lua")
    assert.equal(0, rc, out)
    assert.matches("== Call logs, every page\n251 sessions", out)
    assert.matches("batch finished: ", out)
    assert.matches("kupe: GET /api/v1/call%-analytics: 404 Not Found", out)
    assert.is_nil(out:find(h.KEY, 1, true))
  end)

  it("nightly_export.lua writes the summary and a ZIP per failed call", function()
    local dir = tmpdir()
    local rc, out = run("examples/nightly_export.lua", dir)
    assert.equal(0, rc, out)
    local csv = assert(read(dir .. "/sessions.csv"))
    local lines = select(2, csv:gsub("\n", "\n"))
    assert.equal(251, lines) -- the header and 250 sessions
    local failed = tonumber(out:match("(%d+) failed calls saved"))
    assert.is_true(failed > 0)
    local p = io.popen("ls " .. dir .. " | grep -c '^failed-.*[.]zip$'")
    assert.equal(failed, tonumber(p:read("a")))
    p:close()
  end)

  it("nightly_export.lua fails loudly and leaves no report when the API fails", function()
    local dir = tmpdir()
    h.emu.fault("GET /api/v1/call-analytics", { status = 500, json = { detail = "database gone" } }, -1)
    local rc, out = run("examples/nightly_export.lua", dir)
    h.emu.clear_faults()
    assert.equal(1, rc, out)
    assert.matches("nightly export failed: kupe: GET /api/v1/call%-analytics: 500", out)
    assert.is_nil(read(dir .. "/sessions.csv"))
    assert.is_nil(read(dir .. "/sessions.csv.part"))
  end)

  it("campaign_launch.lua runs a campaign from a CSV to its results", function()
    local dir = tmpdir()
    local rc, out = run("examples/campaign_launch.lua", "'' " .. dir .. "/results.csv")
    assert.equal(0, rc, out)
    assert.matches("imported 3 contacts", out)
    assert.matches("completed; results in ", out)
    local csv = assert(read(dir .. "/results.csv"))
    assert.matches("+919800000021", csv, 1, true)
  end)
end)
