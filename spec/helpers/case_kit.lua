-- What the shared case files (spec/cases/*.lua) have in common besides
-- their subject: the registrar, id patterns, error and file helpers
-- (fields of this module), and the helpers that read the emulator or make
-- clients, which M.extend puts on the case context so that they go
-- through t.client and t.emu, whichever transport the context has.
local assert = require "luassert"
local parse_query = require("spec.helpers.kupe").parse_query

local M = {}

M.UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
-- A well-formed id that names nothing in the data set.
M.UNKNOWN = "00000000-0000-4000-8000-000000000000"

--- A case list and the function that adds { name, fn } to it.
function M.registry()
  local cases = {}
  return cases, function(name, fn) cases[#cases + 1] = { name, fn } end
end

--- Asserts that fn raises an error whose message matches pattern.
function M.raises(pattern, fn)
  local ok, msg = pcall(fn)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.matches(pattern, msg)
end

--- Asserts that every function in `calls` raises a "bad argument" error
-- positioned in the file that calls this, where the functions are written:
-- the library points its argument errors at the caller's line.
function M.raise_at_caller(calls)
  local here = debug.getinfo(2, "S").short_src
  for i, call in ipairs(calls) do
    local ok, msg = pcall(call)
    assert.is_false(ok)
    assert.equal(here, msg:sub(1, #here), ("call %d: %s"):format(i, msg))
    assert.matches("^:%d+: bad argument #%d to '[%w_]+' %(", msg:sub(#here + 1))
  end
end

--- Asserts that err.cause (the transport's message) matches one of the
-- patterns, and returns the captures of the first that does. The
-- transports word each failure as libcurl does; where libcurl itself has
-- two wordings for one failure, a case passes both.
function M.cause(err, ...)
  local cause = type(err) == "table" and err.cause or nil
  for i = 1, select("#", ...) do
    local caps = { tostring(cause):match((select(i, ...))) }
    if caps[1] ~= nil then return (table.unpack or unpack)(caps) end
  end
  local want = {}
  for i = 1, select("#", ...) do want[i] = (select(i, ...)) end
  error(("the error's cause %q matches none of: %s"):format(tostring(cause),
    table.concat(want, " | ")), 2)
end

--- Asserts that a number printed in a message is within 20% of the
-- seconds it should stand for (milliseconds when `unit` is 1000).
function M.near(seconds, printed, unit)
  local got = tonumber(printed) / (unit or 1000)
  assert(got >= seconds * 0.8 and got <= seconds * 1.2,
    ("%s printed for %s s"):format(tostring(printed), tostring(seconds)))
end

--- Writes text to path (binary) and returns path.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  f:close()
  return path
end

--- The whole of the file at path (binary), or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- A new temporary folder (mktemp -d).
function M.tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("*l")
  p:close()
  return d
end

--- Adds to a case context t (spec/helpers/cases.lua) the helpers that
-- talk to the emulator. They look t.client and t.emu up when called, so
-- a context built with another client (spec/nginx/app.lua) keeps them.
function M.extend(t)
  --- Requests the emulator has answered: for one route ("GET /api/v1/me"),
  -- or all of them when route is nil.
  function t.requests(route)
    local stats = t.emu.stats()
    if route then return stats.routes[route] or 0 end
    return stats.requests_total
  end

  --- The query of the emulator's last request, decoded.
  function t.last_query()
    return parse_query(t.emu.stats().last_request.query)
  end

  --- A client with a Bearer session (super_admin in the emulator); the
  -- data set stays as it is.
  function t.admin()
    t.emu.config { bearer_tokens = { "emu_admin_session" } }
    return t.client { bearer = "emu_admin_session" }
  end

  --- The id of the data set's i-th agent (default the first).
  function t.agent_id(i)
    return t.emu.info().agents[i or 1].id
  end

  --- The first active and the first inactive agent of the data set.
  function t.active_and_idle()
    local active, idle
    for _, a in ipairs(t.emu.info().agents) do
      if a.is_active then active = active or a.id else idle = idle or a.id end
    end
    return active, idle
  end
  return t
end

return M
