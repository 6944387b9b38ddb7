-- The route table and the validation helper (pure Lua, no server).

require "spec.helpers.emulator"       -- puts spec/emulator on package.path
local Router = require "emu.router"
local v = require "emu.validate"
local json = require "emu.json"

local function noop() end

describe("emu.router", function()
  it("matches literal segments before parameters, whatever the order added", function()
    local r = Router.new()
    r:add("GET", "/api/v1/agents/{agent_id}", noop)
    r:add("GET", "/api/v1/agents/stats", noop)
    local route = r:match("GET", "/api/v1/agents/stats")
    assert.equal("/api/v1/agents/stats", route.pattern)
    local params
    route, params = r:match("GET", "/api/v1/agents/abc%20d")
    assert.equal("/api/v1/agents/{agent_id}", route.pattern)
    assert.same({ agent_id = "abc d" }, params)
  end)

  it("tells an unknown path from a known path with another method", function()
    local r = Router.new()
    r:add("GET", "/a/{id}/b", noop)
    r:add("PUT", "/a/{id}/b", noop)
    assert.same({ nil, "path" }, { r:match("GET", "/a/1/c") })
    local route, miss, methods = r:match("POST", "/a/1/b")
    assert.is_nil(route)
    assert.equal("method", miss)
    assert.truthy(methods.GET and methods.PUT)
  end)

  it("answers HEAD with the GET route", function()
    local r = Router.new()
    r:add("GET", "/health", noop)
    assert.equal("GET /health", (r:match("HEAD", "/health")).key)
  end)

  it("keeps /x and /x/ apart", function()
    local r = Router.new()
    r:add("GET", "/api/v1/agents", noop)
    assert.truthy(r:match("GET", "/api/v1/agents"))
    assert.is_nil(r:match("GET", "/api/v1/agents/"))
  end)

  it("refuses a route registered twice and clashing parameter names", function()
    local r = Router.new()
    r:add("GET", "/a/{id}", noop)
    assert.has_error(function() r:add("GET", "/a/{id}", noop) end,
      "route GET /a/{id} is registered twice")
    assert.has_error(function() r:add("GET", "/a/{other}/x", noop) end)
  end)
end)

describe("emu.validate", function()
  local function caught(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    assert.is_true(v.is_http_error(err))
    return err.status, json.decode(json.encode(err.body))
  end

  it("converts query values and applies defaults", function()
    local q = v.query({ query = { page = "2", flag = "yes" } }, {
      { "page", "int", ge = 1 }, { "flag", "bool" }, { "page_size", "int", default = 20 } })
    assert.same({ page = 2, flag = true, page_size = 20 }, q)
  end)

  it("reports every query problem in FastAPI's 422 shape", function()
    local status, body = caught(function()
      v.query({ query = { page_size = "101", page = "x", day = "2026-13-01" } }, {
        { "page", "int", ge = 1 }, { "page_size", "int", ge = 1, le = 100 },
        { "phoneNumber", "str", required = true }, { "day", "date" } })
    end)
    assert.equal(422, status)
    assert.same({
      { type = "int_parsing", loc = { "query", "page" },
        msg = "Input should be a valid integer, unable to parse string as an integer",
        input = "x" },
      { type = "less_than_equal", loc = { "query", "page_size" },
        msg = "Input should be less than or equal to 100", input = "101", ctx = { le = 100 } },
      { type = "missing", loc = { "query", "phoneNumber" }, msg = "Field required",
        input = json.null },
      { type = "date_from_datetime_parsing", loc = { "query", "day" },
        msg = "Input should be a valid date or datetime, month value is outside expected "
          .. "range of 1-12", input = "2026-13-01" },
    }, body.detail)
  end)

  it("checks nested body fields by dotted path", function()
    local status, body = caught(function()
      v.body({ json = { agent = {}, cfg = { n = 0, mode = "x" } } }, {
        { "agent.name", "str", required = true }, { "cfg.n", "int", ge = 1 },
        { "cfg.mode", "str", enum = { "fixed", "context_aware" } } })
    end)
    assert.equal(422, status)
    assert.equal("missing", body.detail[1].type)
    assert.same({ "body", "agent", "name" }, body.detail[1].loc)
    assert.equal("greater_than_equal", body.detail[2].type)
    assert.same({ ge = 1 }, body.detail[2].ctx)
    assert.equal("Input should be 'fixed' or 'context_aware'", body.detail[3].msg)
  end)

  it("raises 422 for a missing or broken JSON body", function()
    local _, missing = caught(function() v.body({}, {}) end)
    assert.same({ "body" }, missing.detail[1].loc)
    local _, broken = caught(function() v.body({ json_error = "bad", json_error_pos = 3 }, {}) end)
    assert.equal("json_invalid", broken.detail[1].type)
  end)
end)
