-- A walker failure that nobody catches: spec/fixtures/uncaught_walk.lua
-- runs as its own process, under lua5.4 and under LuaJIT (whichever
-- interpreter runs busted), while the emulator fails the walk's second
-- page. The interpreter must report the error's message (method, path,
-- status), not "error object is a table value", exit non-zero, and never
-- show the key. Inside nginx the same is checked in spec/06-nginx.
local h = require "spec.helpers.kupe"

local emu = h.emu
local q = emu.shell_quote
local ROOT = emu.root
local ROUTE = "GET /api/v1/call-analytics"

-- Runs the fixture under impl with the suite's package paths and the plain
-- build (no sanitizer preloaded, no KUPE_LOG lines); returns its stderr
-- and exit status.
local function run(impl)
  local env = h.env()
  local cmd = table.concat({
    "cd", q(ROOT), "&&", "env -u LD_PRELOAD",
    "LUA_PATH=" .. q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. ROOT .. "/?.lua;;"),
    "LUA_CPATH=" .. q(ROOT .. "/build/" .. impl .. "/?.so;;"),
    "KUPE_API_KEY=" .. q(h.KEY), "KUPE_BASE_URL=" .. q(env.url), "KUPE_LOG=",
    impl, "spec/fixtures/uncaught_walk.lua", "2>&1 >/dev/null",
  }, " ")
  local stderr, _, code = emu.sh(cmd)
  return stderr, code
end

describe("an uncaught walker failure", function()
  before_each(function() h.reset() end)

  for _, impl in ipairs { "lua5.4", "luajit" } do
    it("ends a script under " .. impl .. " with a readable message on stderr", function()
      emu.fault(ROUTE, { delay = 0 }, 1) -- the first page comes through
      emu.fault(ROUTE, { status = 500, json = { detail = "database gone" } }, 1)
      local stderr, code = run(impl)
      assert.not_equal(0, code, stderr)
      assert.matches("^" .. impl .. ": kupe: GET /api/v1/call%-analytics: 500 Internal Server Error: "
        .. "database gone\n", stderr)
      assert.matches("stack traceback:", stderr, 1, true)
      assert.is_nil(stderr:find("error object", 1, true), stderr)
      assert.is_nil(stderr:find("kupe.Error", 1, true), stderr)
      assert.is_nil(stderr:find("ended without an error", 1, true))
      assert.is_nil(stderr:find(h.KEY, 1, true), "the key is not in stderr")
      assert.equal(2, emu.stats().routes[ROUTE], "it failed on the second page")
    end)
  end

  it("ends a script with the message of a no_progress stop", function()
    -- The second request is answered with the first page again.
    local first = select(2, emu.request_json("GET", "/api/v1/call-analytics",
      { query = { page = 1, page_size = 100 }, api_key = h.KEY }))
    emu.fault(ROUTE, { delay = 0 }, 1)
    emu.fault(ROUTE, { json = first }, 1)
    local stderr, code = run(rawget(_G, "jit") and "luajit" or "lua5.4")
    assert.not_equal(0, code, stderr)
    assert.matches(": kupe: GET /api/v1/call%-analytics: no_progress error: asked for page 2, "
      .. "the server answered page 1", stderr)
    assert.is_nil(stderr:find(h.KEY, 1, true), "the key is not in stderr")
  end)
end)
