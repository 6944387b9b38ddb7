--- Argument checks shared by resource groups: a caller mistake raises a
-- string naming the method, the argument and the field, pointing at the
-- line that called the public method.
--
-- Every checker takes `fname` (the public method's name), `n` (the
-- argument's position) and an optional `depth`: the number of frames
-- between the checker and the public method (0 when the public method
-- calls the checker itself, 1 from a helper that the method calls; such a
-- helper must not tail-call the checker, or its frame is gone).
--
--     local A = require "kupe.argcheck"
--     A.opts(params, "search", 1)
--     A.string(params.query, "query", "search", 1)
-- @module kupe.argcheck

local json = require "kupe.json"

local M = {}

local type, floor, huge, tostring = type, math.floor, math.huge, tostring

--- Raises "bad argument #n to 'fname' (msg)" at the public method's caller.
function M.fail(fname, n, msg, depth)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3 + (depth or 0))
end
local fail = M.fail

--- How a message names a wrong value: its type, or "an empty string".
local function got(v)
  if type(v) == "string" and v == "" then return "an empty string" end
  return type(v)
end
M.got = got

--- A table argument whose message names it by type alone: "[what ]table
-- expected, got <type>" (opts, below, says "an empty string" for "").
function M.table(v, what, fname, n, depth)
  if type(v) ~= "table" then
    fail(fname, n, ("%stable expected, got %s"):format(what and what .. " " or "", type(v)),
      (depth or 0) + 1)
  end
  return v
end

--- A table argument (an options or body table); nil allowed when optional.
function M.opts(v, fname, n, optional, depth)
  if v == nil and optional then return {} end
  if type(v) ~= "table" then
    fail(fname, n, "table expected, got " .. got(v), (depth or 0) + 1)
  end
  return v
end

--- Raises for keys of t that are not in `allowed` (a set).
function M.known(t, allowed, fname, n, depth)
  for k in pairs(t) do
    if not allowed[k] then
      fail(fname, n, ("unknown field '%s'"):format(tostring(k)), (depth or 0) + 1)
    end
  end
end

--- A string; `nonempty` refuses "".
function M.string(v, name, fname, n, opts, depth)
  opts = opts or {}
  if v == nil and opts.optional then return nil end
  if type(v) ~= "string" or (opts.nonempty and v == "") then
    fail(fname, n, ("%s must be a %sstring, got %s"):format(name,
      opts.nonempty and "non-empty " or "", got(v)), (depth or 0) + 1)
  end
  return v
end

local NONEMPTY = { nonempty = true }

--- An id for a path: a non-empty string.
function M.id(v, name, fname, n, depth)
  M.string(v, name, fname, n, NONEMPTY, (depth or 0) + 1)
  return v
end

--- True for a finite integral number.
function M.is_int(v)
  return type(v) == "number" and v == floor(v) and v > -huge and v < huge
end

--- True for a table that is not a JSON array: a JSON object to be.
function M.is_object(v)
  return type(v) == "table" and getmetatable(v) ~= json.array_mt and v[1] == nil
end

--- True when s has the 8-4-4-4-12 hexadecimal form of a UUID.
function M.is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

--- A UUID string (the API's ids).
function M.uuid(v, name, fname, n, optional, depth)
  if v == nil and optional then return nil end
  if not M.is_uuid(v) then
    fail(fname, n, ("%s must be a UUID string, got %s"):format(name,
      type(v) == "string" and ("'" .. v:sub(1, 40) .. "'") or type(v)), (depth or 0) + 1)
  end
  return v
end

--- An integer within [lo, hi] (hi may be nil).
function M.int(v, name, fname, n, lo, hi, optional, depth)
  if v == nil and optional then return nil end
  if type(v) ~= "number" or v ~= floor(v) or (lo and v < lo) or (hi and v > hi) then
    local range = hi and (" from %s to %s"):format(lo, hi) or lo and (" >= " .. lo) or ""
    fail(fname, n, ("%s must be an integer%s, got %s"):format(name, range,
      type(v) == "number" and tostring(v) or type(v)), (depth or 0) + 1)
  end
  return v
end

--- A number within [lo, hi] (either may be nil).
function M.number(v, name, fname, n, lo, hi, optional, depth)
  if v == nil and optional then return nil end
  if type(v) ~= "number" or v ~= v or (lo and v < lo) or (hi and v > hi) then
    local range = (lo and hi) and (" from %s to %s"):format(lo, hi)
      or lo and (" >= " .. lo) or hi and (" <= " .. hi) or ""
    fail(fname, n, ("%s must be a number%s, got %s"):format(name, range,
      type(v) == "number" and tostring(v) or type(v)), (depth or 0) + 1)
  end
  return v
end

--- A boolean.
function M.boolean(v, name, fname, n, optional, depth)
  if v == nil and optional then return nil end
  if type(v) ~= "boolean" then
    fail(fname, n, ("%s must be a boolean, got %s"):format(name, type(v)), (depth or 0) + 1)
  end
  return v
end

--- One of the strings in `values` (a list).
function M.enum(v, name, values, fname, n, optional, depth)
  if v == nil and optional then return nil end
  for _, x in ipairs(values) do
    if v == x then return v end
  end
  fail(fname, n, ("%s must be one of \"%s\", got %s"):format(name,
    table.concat(values, "\", \""), type(v) == "string" and ("\"" .. v .. "\"") or type(v)),
    (depth or 0) + 1)
end

local DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

--- A calendar date "YYYY-MM-DD".
function M.date(v, name, fname, n, optional, depth)
  if v == nil and optional then return nil end
  local y, m, d
  if type(v) == "string" then y, m, d = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$") end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if not y or m < 1 or m > 12 or d < 1 or d > DAYS[m]
      or (m == 2 and d == 29 and not ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0)) then
    fail(fname, n, ("%s must be a date 'YYYY-MM-DD', got %s"):format(name,
      type(v) == "string" and ("'" .. v:sub(1, 40) .. "'") or type(v)), (depth or 0) + 1)
  end
  return v
end

--- A list of strings (a sequence), copied into a JSON array so that an
-- empty list goes out as `[]`; `is_item(s)` may refine each item.
function M.string_list(v, name, fname, n, is_item, depth)
  if type(v) ~= "table" then
    fail(fname, n, ("%s must be a list of strings, got %s"):format(name, type(v)),
      (depth or 0) + 1)
  end
  local out, count = {}, 0
  for _ in pairs(v) do count = count + 1 end
  for i = 1, count do
    local x = v[i]
    if type(x) ~= "string" or (is_item and not is_item(x)) then
      fail(fname, n, ("%s[%d] must be a %s, got %s"):format(name, i,
        is_item == M.is_uuid and "UUID string" or "string",
        type(x) == "string" and ("'" .. x:sub(1, 40) .. "'") or type(x)), (depth or 0) + 1)
    end
    out[i] = x
  end
  return json.array(out)
end

--- A list of tables (a sequence), copied into a JSON array.
function M.table_list(v, name, fname, n, depth)
  if type(v) ~= "table" then
    fail(fname, n, ("%s must be a list of tables, got %s"):format(name, type(v)), (depth or 0) + 1)
  end
  local out, count = {}, 0
  for _ in pairs(v) do count = count + 1 end
  for i = 1, count do
    if type(v[i]) ~= "table" then
      fail(fname, n, ("%s[%d] must be a table, got %s"):format(name, i, type(v[i])),
        (depth or 0) + 1)
    end
    out[i] = v[i]
  end
  return json.array(out)
end

--- The destination of a download: `opts.path` (a file, written through a
-- temporary one) or `opts.sink` (a function), not both, and
-- `opts.on_progress`. `needed`, when given, is the message for neither.
function M.download_to(opts, fname, n, needed, depth)
  local d = (depth or 0) + 1
  local dest, sink = opts.path, opts.sink
  if dest ~= nil and sink ~= nil then fail(fname, n, "give path or sink, not both", d) end
  if needed and dest == nil and sink == nil then fail(fname, n, needed, d) end
  if dest ~= nil and (type(dest) ~= "string" or dest == "") then
    fail(fname, n, "path must be a non-empty string", d)
  end
  if sink ~= nil and type(sink) ~= "function" then fail(fname, n, "sink must be a function", d) end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    fail(fname, n, "on_progress must be a function", d)
  end
end

--- A shallow copy of t.
function M.copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

return M
