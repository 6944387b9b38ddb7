--- What every API group (kupe.resources.*) is made of.
--
-- A group declares its operations as data: the Lua method name, the HTTP
-- method and the path template. From that one declaration come the
-- method itself (unless the group writes its own), the project's table of
-- operations (kupe.operations) and the README's reference table.
--
-- Generated methods take the path parameters first, in template order,
-- then one table: the query for GET and DELETE, the JSON body for POST,
-- PUT and PATCH. A last optional table holds request options (`query`
-- for body methods, `headers`, `timeout`, ...).
--
--     client.agents:get(agent_id)
--     client.agents:create { agent = { name = "Reception" } }
--     client.agents:update(agent_id, { agent = {...} }, { query = { force_update = true } })
-- @module kupe.resource

local core = require "kupe.core"
local errors = require "kupe.errors"
local json = require "kupe.json"
local paginate = require "kupe.paginate"

local M = {}

local escape, utf8_valid = core.escape, core.utf8_valid

-- Longest id accepted in a path (Kupe ids are UUIDs or short names).
local MAX_ID = 1024

-- An id as it goes into the path, or nil and what is wrong with it.
local function id_text(v)
  local t = type(v)
  if t == "number" then
    -- Integral and exactly representable: %d then writes what was meant.
    if v ~= v or v < 0 or v >= 2 ^ 53 or v ~= math.floor(v) then
      return nil, "a non-empty string or a non-negative integer, got "
        .. (v ~= v and "NaN" or tostring(v))
    end
    return ("%d"):format(v)
  end
  if t ~= "string" then return nil, "a non-empty string, got " .. t end
  if v == "" then return nil, "a non-empty string, got an empty string" end
  if #v > MAX_ID then return nil, ("at most %d bytes long, got %d"):format(MAX_ID, #v) end
  if v:find("[%z\1-\31\127]") then return nil, "free of control characters (NUL, CR, LF, ...)" end
  if not utf8_valid(v) then return nil, "valid UTF-8" end
  return v
end

--- Fills a path template ("/api/v1/agents/{agent_id}") with escaped
-- values; raises naming the parameter when one is missing, empty, too
-- long, not text (control characters, invalid UTF-8) or a number that is
-- not a non-negative integer. fname names the calling method in the
-- message; the error points at the line that called that method (so call
-- it from the public method itself).
function M.path(template, fname, ...)
  local args, i = { ... }, 0
  return (template:gsub("{([%w_]+)}", function(name)
    i = i + 1
    local v, why = id_text(args[i])
    if not v then
      error(("bad argument #%d to '%s' (%s must be %s)"):format(i, fname, name, why), 5)
    end
    return escape(v)
  end))
end

M.id_text = id_text

local function count_params(template)
  local n = 0
  for _ in template:gmatch("{[%w_]+}") do n = n + 1 end
  return n
end

local BODY_METHODS = { POST = true, PUT = true, PATCH = true }

local function check_table(v, n, fname, what)
  if v ~= nil and type(v) ~= "table" then
    error(("bad argument #%d to '%s' (%s table expected, got %s)"):format(n, fname, what,
      type(v)), 3)
  end
end

-- Merges the generated call's parts into request options.
local function call_opts(method, params, extra)
  local opts = {}
  if extra then
    for k, v in pairs(extra) do opts[k] = v end
  end
  if params ~= nil then
    if BODY_METHODS[method] then
      opts.json = params
    else
      local q = opts.query
      if q then
        local merged = {}
        for k, v in pairs(params) do merged[k] = v end
        for k, v in pairs(q) do merged[k] = v end
        q = merged
      else
        q = params
      end
      opts.query = q
    end
  end
  return opts
end

--- Builds the generic method for one operation.
local function generate(op)
  local method, template, fname = op.method, op.path, op.lua
  local nparams = count_params(template)
  return function(self, ...)
    local n = select("#", ...)
    local args = { ... }
    if n > nparams + 2 then
      error(("'%s' takes at most %d arguments"):format(fname, nparams + 2), 2)
    end
    local path = M.path(template, fname, ...)
    local params, extra = args[nparams + 1], args[nparams + 2]
    check_table(params, nparams + 1, fname, BODY_METHODS[method] and "body" or "query")
    check_table(extra, nparams + 2, fname, "options")
    return self._client:request(method, path, call_opts(method, params, extra))
  end
end

--- Declares a group. ops is a list of { lua, method, path, doc = ...,
-- custom = true (the group writes the method itself) }.
-- @return the group class, with `new(client)` and `operations`
function M.group(name, ops)
  local G = { _name = name, operations = ops }
  G.__index = G
  G.__name = "kupe." .. name
  G.__tostring = function(self)
    return ("kupe.%s (%s)"):format(name, tostring(self._client))
  end
  for _, op in ipairs(ops) do
    op.lua, op.method, op.path = op[1], op[2], op[3]
    if not op.custom then G[op.lua] = generate(op) end
  end
  function G.new(client)
    return setmetatable({ _client = client }, G)
  end
  return G
end

--- A page walker spec for a list operation; opts as kupe.paginate's spec.
function M.walker_spec(self, path, opts)
  local client = self._client
  local spec = {}
  for k, v in pairs(opts) do spec[k] = v end
  spec.path = path
  spec.fetch = function(params)
    return client:request("GET", path, { query = params })
  end
  return spec
end

--- The array under `key` of a GET answer that wraps its list
-- (`{success, phone_numbers}`, `{agents}`). An answer of another shape is
-- a decode error that names `shape`, never a silent nil.
function M.get_list(client, path, key, shape)
  local data, resp = client:request("GET", path)
  if data == nil then return nil, resp end
  if type(data) == "table" and type(data[key]) == "table" then return data[key], resp end
  return nil, errors.new { kind = "decode", status = resp.status, method = "GET", path = path,
    data = data, message = ("expected %s from GET %s"):format(shape, path) }
end

--- Unwraps a `{message, data}` answer (the files and knowledge routes):
-- its `data`, or true when that is absent or null; the whole answer goes
-- to `resp.data`. `pick(data)`, when given, digs further and returns nil
-- for a shape it does not know. Pass a request's two results as data,
-- resp: a failed request comes back unchanged. An answer of another shape
-- is a decode error, never a silent nil.
function M.unwrap(method, path, data, resp, pick)
  if data == nil then return nil, resp end
  if type(data) ~= "table" or data.message == nil then
    return nil, errors.new { kind = "decode", status = resp.status, method = method,
      path = path, body = resp.body,
      message = "expected the API's {message, data} answer" }
  end
  resp.data = data
  local inner = data.data
  if pick then
    local v = pick(inner)
    if v == nil then
      return nil, errors.new { kind = "decode", status = resp.status, method = method,
        path = path, body = resp.body, message = "the answer's data has an unexpected shape" }
    end
    return v, resp
  end
  if inner == nil or inner == json.null then return true, resp end
  return inner, resp
end

--- A file streamed from a GET: the body goes to `opts.path` (through a
-- temporary file beside it, renamed when complete, so a failed download
-- leaves nothing) or to `opts.sink(chunk)`, never whole into memory, and
-- only when its content type starts with `ctype`. `opts` also carries
-- on_progress, timeout and stall_time (checked by argcheck.download_to).
-- @return `{path, bytes, content_type}`, resp when the file came; nil,
--   err when the request failed; false, resp, body for an answer of
--   another type, which the caller reads or refuses
function M.download(client, path, query, opts, ctype)
  local data, resp = client:request("GET", path, {
    query = query, sink = opts.path or opts.sink, sink_type = ctype, raw = true,
    on_progress = opts.on_progress, timeout = opts.timeout, stall_time = opts.stall_time,
  })
  if data == nil then return nil, resp end
  if data == true and resp.body == nil then
    return { path = resp.path_written, bytes = resp.bytes, content_type = resp.content_type }, resp
  end
  return false, resp, data
end

M.pages, M.items = paginate.pages, paginate.items

return M
