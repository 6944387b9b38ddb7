-- Bad input to every public function: wrong types, nil, empty strings,
-- strings with NUL, CR/LF or invalid UTF-8, a 1 MiB string, huge and
-- non-finite numbers. Each call must raise an error that names the
-- argument (its position, or the option, parameter or key in quotes) and
-- send nothing, or return normally (a result, or nil and an error value);
-- it must never crash the process, and a header may never be forged.
--
-- The calls are generated from data: the options of kupe.new, the
-- request options, every method of every group module in
-- lua/kupe/resources/ (from each group's declared operations, so groups
-- added later are covered), the walkers, kupe.webhook when it exists,
-- and every function of kupe.core.
local h = require "spec.helpers.kupe"
local kupe = require "kupe"
local core = require "kupe.core"
local emu = h.emu

local HUGE = ("a"):rep(1024 * 1024)
local BAD = {
  { "nil", nil }, { "false", false }, { "true", true }, { "-1", -1 }, { "1.5", 1.5 },
  { "1e308", 1e308 }, { "inf", math.huge }, { "-inf", -math.huge }, { "NaN", 0 / 0 },
  { "2^63", 2 ^ 63 }, { "empty string", "" }, { "NUL", "a\0b" },
  { "CR/LF", "a\r\nX-Injected: 1" }, { "invalid UTF-8", "\xff\xfe\xc3" },
  { "1 MiB string", HUGE }, { "table", {} }, { "function", function() end },
  { "thread", coroutine.create(function() end) }, { "userdata", io.stdout },
  { "kupe.null", kupe.null },
}
local function is_string_bad(v) return type(v) == "string" end

-- Values that no argument may carry to the server, whatever it is for:
-- non-finite numbers, strings with NUL or invalid UTF-8, and values no
-- encoding can hold. The call must raise, or return nil, err having sent
-- nothing (a file name may be any bytes: uploading it fails locally).
local function never_sent(v)
  local t = type(v)
  return (t == "number" and (v ~= v or v == math.huge or v == -math.huge))
    or (t == "string" and (v:find("%z") ~= nil or not core.utf8_valid(v)))
    or t == "function" or t == "thread" or v == io.stdout
end

local function refused(o)
  return o.raised or (o.value == nil and o.sent == 0)
end

local requests_total = function() return emu.stats().requests_total end

-- Calls fn(...) and classifies the outcome.
local function attempt(fn, ...)
  local before = requests_total()
  local r = table.pack(pcall(fn, ...))
  local sent = requests_total() - before
  if not r[1] then return { raised = true, msg = r[2], sent = sent } end
  return { raised = false, value = r[2], err = r[3], sent = sent, n = r.n - 1 }
end

-- A raised error names the argument: "#n", or a name in quotes.
local function names_argument(msg, pos)
  if type(msg) ~= "string" then return false end
  return (pos and msg:find("#" .. pos, 1, true) ~= nil) or msg:find("'[^']+'") ~= nil
    or msg:find('"[^"]+"') ~= nil
end

local function describe_value(label, where)
  return ("%s given %s"):format(where, label)
end

-- The outcome must be a raise naming the argument with nothing sent, or a
-- normal return: a result, or nil and a kupe error value.
local function check_outcome(o, where, pos)
  if o.raised then
    assert.is_true(names_argument(o.msg, pos), where .. ": raised without naming the argument: "
      .. tostring(o.msg))
    assert.equal(0, o.sent, where .. ": raised, but a request was sent first")
  else
    assert.is_true(o.value ~= nil or kupe.is_error(o.err),
      where .. ": returned neither a result nor nil and an error value")
  end
end

-- Nothing the emulator received may carry a forged header.
local function check_no_injection(where)
  local last = emu.stats().last_request
  if type(last) == "table" and type(last.headers) == "table" then
    assert.is_nil(last.headers["x-injected"], where .. ": a header was forged")
  end
end

---------------------------------------------------------------------------
-- What the calls are made of.

-- kupe.new options and the kind of value each takes.
local NEW_OPTIONS = {
  api_key = "key", bearer = "key", base_url = "url", timeout = "number", connect_timeout = "number",
  max_retries = "number", user_agent = "text", ca_file = "path", allow_insecure = "boolean",
  transport = "transport", on_request = "function", on_response = "function", logger = "function",
  backoff_base = "number", backoff_max = "number", max_retry_after = "number",
  max_response_size = "number", stall_limit = "number", stall_time = "number",
}

-- client:request options.
local REQUEST_OPTIONS = {
  "query", "json", "body", "content_type", "headers", "timeout", "connect_timeout", "stall_limit",
  "stall_time", "max_size", "sink", "sink_type", "on_progress", "form", "raw", "retries",
}

-- Every group module in lua/kupe/resources and the methods it declares.
local function groups()
  local dir = emu.root .. "/lua/kupe/resources"
  local out = {}
  for name in emu.sh("ls " .. emu.shell_quote(dir)):gmatch("([%w_]+)%.lua") do
    local G = require("kupe.resources." .. name)
    local methods = {}
    for _, op in ipairs(G.operations or {}) do
      local nparams = 0
      for _ in (op.path or op[3]):gmatch("{[%w_]+}") do nparams = nparams + 1 end
      for _, m in ipairs { op.lua or op[1], table.unpack(op.also or {}) } do
        local fn = G[m]
        if type(fn) == "function" then
          -- A generated method takes the path parameters, then a params
          -- table and an options table; a written one, what it declares.
          local info = debug.getinfo(fn, "u")
          local nargs = nparams + 2
          if info.nparams and not info.isvararg then nargs = info.nparams - 1 end
          methods[#methods + 1] = { name = m, nparams = op.custom and 0 or nparams, nargs = nargs,
            http = op.method or op[2], generated = info.isvararg == true }
        end
      end
    end
    out[#out + 1] = { name = name, methods = methods }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

---------------------------------------------------------------------------

describe("bad input", function()
  local c

  before_each(function()
    h.reset()
    c = h.client { max_retries = 0 }
  end)
  after_each(function() c:close() end)

  describe("kupe.new", function()
    it("refuses a non-table argument, naming it", function()
      for _, b in ipairs(BAD) do
        local v = b[2]
        if v ~= nil and type(v) ~= "table" then
          local o = attempt(kupe.new, v)
          assert.is_true(o.raised, describe_value(b[1], "kupe.new"))
          assert.matches("bad argument #1 to 'new'", o.msg)
        end
      end
    end)

    it("refuses every bad option value at once, naming the option", function()
      for name, kind in pairs(NEW_OPTIONS) do
        for _, b in ipairs(BAD) do
          local v = b[2]
          local where = describe_value(b[1], "kupe.new option '" .. name .. "'")
          local opts = { base_url = h.env().url, [name] = v }
          if name == "bearer" then opts.api_key = nil end
          local o = attempt(kupe.new, opts)
          if o.raised then
            assert.is_truthy(o.msg:find("'" .. name .. "'", 1, true) or o.msg:find("#1", 1, true),
              where .. ": " .. o.msg)
          else
            if name ~= "transport" then o.value:close() end
            -- Accepted: then the value was a sensible one for its kind.
            if v ~= nil then
              if kind == "number" then
                assert.is_true(type(v) == "number" and v == v and v >= 0 and v < 1e16, where)
              elseif kind == "boolean" then
                assert.is_boolean(v, where)
              elseif kind == "function" then
                assert.is_function(v, where)
              elseif kind == "transport" then
                assert.is_table(v, where)
              else
                assert.is_string(v, where)
                -- A file path may hold any bytes but NUL (and CR, LF here).
                assert.is_true(v == "" or (v ~= HUGE and not v:find("[%z\r\n]")
                  and (kind == "path" or core.utf8_valid(v))), where .. ": accepted")
              end
            end
          end
          assert.equal(0, o.sent, where .. ": sent a request")
        end
      end
    end)
  end)

  describe("client:request", function()
    local VALID = { "GET", "/api/v1/me", {} }

    for pos = 1, 3 do
      it(("handles every bad value as argument #%d"):format(pos), function()
        for _, b in ipairs(BAD) do
          local args = { VALID[1], VALID[2], VALID[3] }
          args[pos] = b[2]
          local where = describe_value(b[1], "request argument #" .. pos)
          local o = attempt(c.request, c, args[1], args[2], args[3])
          check_outcome(o, where, pos)
          if pos < 3 or (b[2] ~= nil and type(b[2]) ~= "table") then
            assert.is_true(o.raised, where .. ": accepted")
          end
          check_no_injection(where)
        end
      end)
    end

    it("handles every bad value of every option", function()
      for _, name in ipairs(REQUEST_OPTIONS) do
        for _, b in ipairs(BAD) do
          local where = describe_value(b[1], "request option '" .. name .. "'")
          local o = attempt(c.request, c, "GET", "/api/v1/me", { [name] = b[2] })
          check_outcome(o, where, 3)
          if o.raised then
            assert.is_truthy(o.msg:find(name, 1, true), where .. ": " .. o.msg)
          end
          check_no_injection(where)
        end
      end
    end)

    it("refuses bad header names and values before sending", function()
      for _, b in ipairs(BAD) do
        local v = b[2]
        if is_string_bad(v) and v ~= "" then
          for _, hdr in ipairs { { ["X-Test"] = v }, { [v] = "x" } } do
            local where = describe_value(b[1], "a header")
            local o = attempt(c.request, c, "GET", "/api/v1/me", { headers = hdr })
            assert.is_true(o.raised, where .. ": accepted")
            check_outcome(o, where, 3)
            check_no_injection(where)
          end
        end
      end
    end)

    it("refuses bad query and JSON values before sending", function()
      for _, b in ipairs(BAD) do
        local v = b[2]
        local where = describe_value(b[1], "a query value")
        local o = attempt(c.request, c, "GET", "/api/v1/me", { query = { q = v } })
        check_outcome(o, where, 3)
        local fine = v == nil or v == false or v == true or v == -1 or v == 1.5 or v == 1e308
          or v == 2 ^ 63 or v == "" or v == kupe.null or (type(v) == "table")
        if not fine then assert.is_true(o.raised, where .. ": accepted") end
        where = describe_value(b[1], "a JSON value")
        o = attempt(c.request, c, "POST", "/api/v1/agents/simple", { json = { name = "x", q = v } })
        check_outcome(o, where, 3)
        if v ~= v or v == math.huge or v == -math.huge or type(v) == "function"
            or type(v) == "thread" or v == io.stdout or v == "\xff\xfe\xc3" then
          assert.is_true(o.raised, where .. ": accepted")
        end
      end
    end)
  end)

  describe("group methods", function()
    for _, g in ipairs(groups()) do
      for _, m in ipairs(g.methods) do
        local nargs = m.nargs
        it(("%s:%s handles every bad value in each of its %d arguments"):format(g.name, m.name, nargs),
          function()
            local group = c[g.name]
            for pos = 1, nargs do
              for _, b in ipairs(BAD) do
                local args = {}
                for i = 1, m.nparams do args[i] = "id-" .. i end
                args[pos] = b[2]
                local where = describe_value(b[1], ("%s:%s argument #%d"):format(g.name, m.name, pos))
                local o = attempt(group[m.name], group, table.unpack(args, 1, nargs))
                check_outcome(o, where, pos)
                -- An id may only be a non-empty string or a non-negative integer.
                if pos <= m.nparams and b[2] ~= nil then
                  assert.is_true(o.raised, where .. ": accepted")
                end
                -- A generated method's params and options are tables.
                if m.generated and pos > m.nparams and b[2] ~= nil and type(b[2]) ~= "table" then
                  assert.is_true(o.raised, where .. ": accepted")
                end
                if never_sent(b[2]) then
                  assert.is_true(refused(o), where .. ": accepted and sent")
                end
                check_no_injection(where)
              end
            end
          end)
      end
    end
  end)

  describe("walkers", function()
    for _, g in ipairs(groups()) do
      for _, m in ipairs(g.methods) do
        if m.name == "pages" or m.name == "sessions" or m.name == "items" or m.name:find("^each") then
          it(("%s:%s refuses bad walk options when it is made"):format(g.name, m.name), function()
            local group = c[g.name]
            for _, key in ipairs { "page_size", "page", "max_pages", "limit" } do
              for _, b in ipairs(BAD) do
                local v = b[2]
                local where = describe_value(b[1], ("%s:%s option '%s'"):format(g.name, m.name, key))
                local o = attempt(group[m.name], group, { [key] = v })
                check_outcome(o, where, 1)
                local ok_value = v == nil or (type(v) == "number" and v == math.floor(v) and v >= 0
                  and v < 2 ^ 53 and not (key ~= "limit" and v == 0) and not (key == "page_size" and v > 100))
                if not ok_value then
                  assert.is_true(o.raised, where .. ": accepted")
                end
              end
            end
          end)
        end
      end
    end
  end)

  describe("module functions", function()
    -- kupe.core and, when present, kupe.webhook: any value in any of the
    -- first three positions; a raise must name something, and nothing may
    -- be sent by functions that do not send.
    local modules = { { "kupe.core", core } }
    if package.searchpath("kupe.webhook", package.path) then
      modules[#modules + 1] = { "kupe.webhook", require "kupe.webhook" }
    end
    local SKIP = { sleep = true } -- sleeps up to a day for a valid number

    for _, mod in ipairs(modules) do
      it(("%s: every function survives every bad value"):format(mod[1]), function()
        local names = {}
        for name, fn in pairs(mod[2]) do
          if type(fn) == "function" and not SKIP[name] then names[#names + 1] = name end
        end
        table.sort(names)
        for _, name in ipairs(names) do
          for pos = 1, 3 do
            for _, b in ipairs(BAD) do
              local args = { "x", "y", {} }
              args[pos] = b[2]
              local where = describe_value(b[1], ("%s.%s argument #%d"):format(mod[1], name, pos))
              local o = attempt(mod[2][name], args[1], args[2], args[3])
              if o.raised then
                assert.is_true(type(o.msg) == "string" and (o.msg:find("#%d") ~= nil
                  or o.msg:find("'[^']+'") ~= nil or o.msg:find("^[%w_.]+: ") ~= nil),
                  where .. ": " .. tostring(o.msg))
              end
              assert.equal(0, o.sent, where .. ": sent a request")
            end
          end
        end
        -- core.sleep: only the refusals (a valid number would sleep).
        for _, b in ipairs(BAD) do
          local v = b[2]
          if not (type(v) == "number" and v >= 0 and v <= 86400) then
            local o = attempt(core.sleep, v)
            -- a string Lua reads as a number is one (and slept on)
            if type(v) ~= "string" or tonumber(v) == nil then
              assert.is_true(o.raised, describe_value(b[1], "kupe.core.sleep"))
            end
          end
        end
      end)
    end

    it("object methods survive bad arguments, a wrong self and use after close", function()
      local conn = core.new { base_url = h.env().url, api_key = h.KEY }
      local inf = core.inflater()
      local methods = {
        { conn, "is_closed" }, { conn, "request" }, { inf, "update" }, { inf, "finish" },
      }
      for _, m in ipairs(methods) do
        local obj, name = m[1], m[2]
        local fn = obj[name]
        for _, b in ipairs(BAD) do
          local where = describe_value(b[1], name .. " as self")
          local o = attempt(fn, b[2])
          assert.is_true(o.raised, where .. ": accepted")
          assert.is_true(names_argument(o.msg, 1), where .. ": " .. tostring(o.msg))
          if name == "update" then
            o = attempt(fn, obj, b[2])
            where = describe_value(b[1], "inflater:update")
            if type(b[2]) == "string" or type(b[2]) == "number" then
              -- bytes (a number reads as its text): decoded text or nil, err
              assert.is_true(o.raised or o.value ~= nil or o.err ~= nil, where)
            else
              assert.is_true(o.raised, where .. ": accepted")
            end
          end
        end
      end
      assert.is_true(inf:finish() == nil) -- an empty stream is incomplete
      assert.has_error(function() inf:update("x") end, "attempt to use a finished kupe.inflater")
      conn:close()
      conn:close()
      assert.is_true(conn:is_closed())
      assert.has_error(function() conn:request("GET", h.env().url) end,
        "attempt to use a closed kupe.client")
      assert.equal("kupe.client (closed)", tostring(conn))
    end)

    it("conn:request refuses bad values before sending, and the connection survives", function()
      local conn = core.new { base_url = h.env().url, api_key = h.KEY }
      local url = h.env().url .. "/api/v1/me"
      for pos = 1, 3 do
        for _, b in ipairs(BAD) do
          local args = { "GET", url, {} }
          args[pos] = b[2]
          local where = describe_value(b[1], "conn:request argument #" .. (pos + 1))
          local o = attempt(conn.request, conn, args[1], args[2], args[3])
          -- Raised, or nil and a failure kind, with nothing sent (a number
          -- is a string to the C API, and "-1" is no URL libcurl takes).
          if pos < 3 or (b[2] ~= nil and type(b[2]) ~= "table") then
            assert.is_true(o.raised or o.value == nil, where .. ": accepted")
            assert.equal(0, o.sent, where .. ": sent")
          end
        end
      end
      for _, opt in ipairs { "body", "content_type", "headers", "timeout", "connect_timeout",
        "stall_limit", "stall_time", "max_size", "sink", "sink_type", "progress", "form" } do
        for _, b in ipairs(BAD) do
          local where = describe_value(b[1], "conn:request option '" .. opt .. "'")
          local o = attempt(conn.request, conn, "GET", url, { [opt] = b[2] })
          if o.raised then
            assert.is_truthy(o.msg:find(opt, 1, true) or o.msg:find("#4", 1, true), where .. ": " .. o.msg)
            assert.equal(0, o.sent, where .. ": raised after sending")
          end
          check_no_injection(where)
        end
      end
      local status = conn:request("GET", url)
      assert.equal(200, status)
      conn:close()
    end)
  end)

  it("leaves the client working", function()
    assert.is_table(c:me())
  end)
end)
