--- HTTP errors and FastAPI-style request validation for route handlers.
--
-- Handlers raise instead of returning error values; the app turns what is
-- raised into the response:
--
--   local v = require "emu.validate"
--   v.fail(404, "Agent not found")                -- 404 {"detail":"Agent not found"}
--   local q = v.query(ctx, { {"page", "int", ge = 1},
--                            {"page_size", "int", ge = 1, le = 100} })
--   local b = v.body(ctx, { {"agent", "object", required = true},
--                           {"agent.name", "str", required = true} })
--
-- `query` and `body` collect every problem and raise one 422 whose body has
-- FastAPI's (pydantic v2) shape:
--   {"detail":[{"type":"less_than_equal","loc":["query","page_size"],
--     "msg":"Input should be less than or equal to 100","input":"101","ctx":{"le":100}}]}
--
-- Field spec: `{name, type, required=, default=, ge=, le=, gt=, lt=, enum=}`.
-- Types: "int", "number", "bool", "str", "uuid", "date" (YYYY-MM-DD),
-- "object", "array", "any". Query values are converted (so `q.page` is a
-- number); body values are checked and converted in place. A body name may
-- be a dotted path ("agent_specific_config.session_timeout").

local json = require "emu.json"

local M = {}

local http_error_mt = { __name = "emu.http_error" }
http_error_mt.__tostring = function(e) return "HTTP " .. e.status end

--- Raise an HTTP error. `detail` may be a string or a list (422).
function M.fail(status, detail, headers)
  error(setmetatable({ status = status, body = { detail = detail }, headers = headers },
    http_error_mt), 0)
end

function M.is_http_error(e)
  return type(e) == "table" and getmetatable(e) == http_error_mt
end

local ERROR_ORDER = json.order { "type", "loc", "msg", "input", "ctx" }

local function problem(kind, loc, msg, input, ctx)
  return setmetatable({ type = kind, loc = json.array(loc), msg = msg,
    input = input == nil and json.null or input, ctx = ctx }, ERROR_ORDER)
end
M.problem = problem

--- Raise a 422 with the given problems (a list made with `problem`).
function M.fail_422(problems)
  M.fail(422, json.array(problems))
end

------------------------------------------------------------------------
-- Value checks. Each returns the converted value, or nil, type, message.

local TRUE = { ["1"] = true, on = true, t = true, ["true"] = true, y = true, yes = true }
local FALSE = { ["0"] = true, off = true, f = true, ["false"] = true, n = true, no = true }

local function parse_int(v)
  if type(v) == "number" then
    if v ~= math.floor(v) then
      return nil, "int_from_float",
        "Input should be a valid integer, got a number with a fractional part"
    end
    return v
  end
  if type(v) == "string" then
    local s = v:match("^%s*([-+]?%d+)%s*$")
    if s then return tonumber(s) end
    return nil, "int_parsing",
      "Input should be a valid integer, unable to parse string as an integer"
  end
  return nil, "int_type", "Input should be a valid integer"
end

local function parse_number(v)
  if type(v) == "number" then return v end
  if type(v) == "string" then
    local n = tonumber((v:match("^%s*(.-)%s*$")))
    if n then return n end
    return nil, "float_parsing",
      "Input should be a valid number, unable to parse string as a number"
  end
  return nil, "float_type", "Input should be a valid number"
end

local function parse_bool(v)
  if type(v) == "boolean" then return v end
  if type(v) == "string" then
    local s = v:lower()
    if TRUE[s] then return true end
    if FALSE[s] then return false end
    return nil, "bool_parsing", "Input should be a valid boolean, unable to interpret input"
  end
  if v == 0 or v == 1 then return v == 1 end
  return nil, "bool_type", "Input should be a valid boolean"
end

local function parse_str(v)
  if type(v) == "string" then return v end
  return nil, "string_type", "Input should be a valid string"
end

--- True when `s` is a UUID in the 8-4-4-4-12 hex form.
function M.is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local function parse_uuid(v)
  if type(v) ~= "string" then
    return nil, "uuid_type", "UUID input should be a string, bytes or UUID object"
  end
  if M.is_uuid(v) then return v:lower() end
  local bad = v:find("[^%x%-]")
  if bad then
    return nil, "uuid_parsing", ("Input should be a valid UUID, invalid character: expected an"
      .. " optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `%s` at %d")
      :format(v:sub(bad, bad), bad)
  end
  return nil, "uuid_parsing", ("Input should be a valid UUID, invalid group count: expected 5,"
    .. " found %d"):format(select(2, v:gsub("%-", "")) + 1)
end

local DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function parse_date(v)
  if type(v) ~= "string" then
    return nil, "date_type", "Input should be a valid date"
  end
  local function bad(why)
    return nil, "date_from_datetime_parsing", "Input should be a valid date or datetime, " .. why
  end
  if #v < 10 then return bad("input is too short") end
  local y, m, d = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then
    if not v:match("^%d%d%d%d") then return bad("invalid character in year") end
    if v:sub(5, 5) ~= "-" or v:sub(8, 8) ~= "-" then
      return bad("invalid date separator, expected `-`")
    end
    return bad("unexpected extra characters at the end of the input")
  end
  m, d = tonumber(m), tonumber(d)
  if m < 1 or m > 12 then return bad("month value is outside expected range of 1-12") end
  local leap = (tonumber(y) % 4 == 0 and tonumber(y) % 100 ~= 0) or tonumber(y) % 400 == 0
  local max = (m == 2 and not leap) and 28 or DAYS[m]
  if d < 1 or d > max then return bad("day value is outside expected range") end
  return v
end

local function parse_object(v)
  if type(v) == "table" and not json.is_array(v) then return v end
  return nil, "model_attributes_type",
    "Input should be a valid dictionary or object to extract fields from"
end

local function parse_array(v)
  if json.is_array(v) then return v end
  return nil, "list_type", "Input should be a valid list"
end

local PARSERS = {
  int = parse_int, number = parse_number, bool = parse_bool, str = parse_str,
  uuid = parse_uuid, date = parse_date, object = parse_object, array = parse_array,
  any = function(v) return v end,
}

local function num_text(x)
  return json.encode(x)
end

local function expected_list(values)
  local quoted = {}
  for i, x in ipairs(values) do quoted[i] = "'" .. tostring(x) .. "'" end
  if #quoted == 1 then return quoted[1] end
  return table.concat(quoted, ", ", 1, #quoted - 1) .. " or " .. quoted[#quoted]
end

-- Check one value against its spec; append a problem to `out` on failure.
local function check(spec, raw, loc, out)
  local parse = PARSERS[spec[2]] or error("unknown field type " .. tostring(spec[2]))
  local v, kind, msg = parse(raw)
  if v == nil then
    out[#out + 1] = problem(kind, loc, msg, raw)
    return nil
  end
  local ctx
  if spec.ge and v < spec.ge then
    kind, msg, ctx = "greater_than_equal", "Input should be greater than or equal to "
      .. num_text(spec.ge), { ge = spec.ge }
  elseif spec.gt and v <= spec.gt then
    kind, msg, ctx = "greater_than", "Input should be greater than " .. num_text(spec.gt),
      { gt = spec.gt }
  elseif spec.le and v > spec.le then
    kind, msg, ctx = "less_than_equal", "Input should be less than or equal to "
      .. num_text(spec.le), { le = spec.le }
  elseif spec.lt and v >= spec.lt then
    kind, msg, ctx = "less_than", "Input should be less than " .. num_text(spec.lt),
      { lt = spec.lt }
  elseif spec.enum then
    local ok = false
    for _, e in ipairs(spec.enum) do if e == v then ok = true break end end
    if not ok then
      local expected = expected_list(spec.enum)
      kind, msg, ctx = "enum", "Input should be " .. expected, { expected = expected }
    end
  end
  if kind then
    out[#out + 1] = problem(kind, loc, msg, raw, ctx)
    return nil
  end
  return v
end

--- Validate and convert query parameters; raises 422. A repeated key uses
-- its last value, as FastAPI does for scalar parameters.
function M.query(ctx, specs)
  local out, values = {}, {}
  for _, spec in ipairs(specs) do
    local name = spec[1]
    local raw = ctx.query[name]
    if type(raw) == "table" then raw = raw[#raw] end
    if raw == nil then
      if spec.required then
        out[#out + 1] = problem("missing", { "query", name }, "Field required", nil)
      else
        values[name] = spec.default
      end
    else
      values[name] = check(spec, raw, { "query", name }, out)
    end
  end
  if #out > 0 then M.fail_422(out) end
  return values
end

--- The decoded JSON body, validated; raises 422 for a missing or broken
-- body (when `opts.optional` is not set) and for every field problem.
function M.body(ctx, specs, opts)
  if ctx.json_error then
    M.fail_422 { problem("json_invalid", { "body", ctx.json_error_pos or 0 }, "JSON decode error",
      {}, { error = ctx.json_error }) }
  end
  local body = ctx.json
  if body == nil then
    if opts and opts.optional then return nil end
    M.fail_422 { problem("missing", { "body" }, "Field required", nil) }
  end
  local out = {}
  if opts and opts.array then
    if not json.is_array(body) then
      M.fail_422 { problem("list_type", { "body" }, "Input should be a valid list", body) }
    end
  elseif type(body) ~= "table" or json.is_array(body) then
    M.fail_422 { problem("model_attributes_type", { "body" },
      "Input should be a valid dictionary or object to extract fields from", body) }
  end
  for _, spec in ipairs(specs or {}) do
    local parent, loc, key = body, { "body" }, nil
    local ok = true
    local parts = {}
    for part in spec[1]:gmatch("[^.]+") do parts[#parts + 1] = part end
    for i, part in ipairs(parts) do
      loc[#loc + 1] = part
      if i < #parts then
        parent = parent[part]
        if type(parent) ~= "table" or json.is_array(parent) then ok = false break end
      else
        key = part
      end
    end
    if ok then
      local raw = parent[key]
      if raw == nil or (raw == json.null and spec.required) then
        if spec.required then           -- pydantic shows the enclosing object
          out[#out + 1] = problem("missing", loc, "Field required", parent)
        end
      elseif raw ~= json.null then
        local v = check(spec, raw, loc, out)
        if v ~= nil then parent[key] = v end
      end
    end
  end
  if #out > 0 then M.fail_422(out) end
  return body
end

return M
