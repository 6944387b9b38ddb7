-- Secret hygiene, the watch itself: wrappers that fail the moment the
-- canary key (KUPE_TEST_KEY, set by tools/secret-hygiene) shows up in
-- anything the library produces:
--   * an error value (any field, at any depth, and its tostring), whether
--     returned or raised;
--   * the arguments of on_request / on_response and logger lines;
--   * tostring of any table or userdata;
--   * a line the library writes to stderr (KUPE_LOG=debug, which this
--     module turns on for its own process only);
--   * a file written by an export (a string sink).
-- Each finding is also appended to KUPE_HYGIENE_REPORT, so a finding
-- inside a test that expects an error (pcall, assert.has_error) is not
-- lost: tools/secret-hygiene fails when that file is not empty.
--
-- spec/helpers/hygiene.lua loads it into busted; the host nginx of the
-- nginx specs loads it in init_by_lua when KUPE_HYGIENE_REPORT is set
-- (spec/nginx/host.conf), so its workers, which inherit the wrappers,
-- are watched the same way; their findings say "inside nginx", and the
-- debug log lines go to nginx's error log, which tools/secret-hygiene
-- searches afterwards.
local CANARY = os.getenv("KUPE_TEST_KEY")
assert(CANARY and CANARY:find("canary", 1, true),
  "hygiene: KUPE_TEST_KEY must hold a canary key (run tools/secret-hygiene)")
local REPORT = os.getenv("KUPE_HYGIENE_REPORT")

local raw_tostring = tostring
local getinfo = debug.getinfo

-- Where this runs, for the report: a worker of nginx, or busted.
local PLACE = rawget(_G, "ngx") and "inside nginx: " or ""

local function note(where)
  where = PLACE .. where
  if REPORT then
    local f = io.open(REPORT, "a")
    if f then
      f:write(where, "\n")
      f:close()
    end
  end
end

local function found(where)
  note(where)
  error("secret hygiene: the test key appeared in " .. where
    .. (PLACE ~= "" and " (inside nginx)" or ""), 0)
end

local function has(s)
  return type(s) == "string" and s:find(CANARY, 1, true) ~= nil
end

-- Does v hold the canary: a string, a table's keys and values at any
-- depth, or what tostring makes of a table or userdata?
local function holds(v, seen, depth)
  local t = type(v)
  if t == "string" then return has(v) end
  if t ~= "table" and t ~= "userdata" then return false end
  seen = seen or {}
  if seen[v] or (depth or 0) > 50 then return false end
  seen[v] = true
  local ok, s = pcall(raw_tostring, v)
  if ok and has(s) then return true end
  if t == "table" then
    for k, x in next, v do
      if holds(k, seen, (depth or 0) + 1) or holds(x, seen, (depth or 0) + 1) then return true end
    end
  end
  return false
end

local function check(v, where)
  if holds(v) then found(where) end
end

-- tostring of any object.
_G.tostring = function(v)
  local s = raw_tostring(v)
  if (type(v) == "table" or type(v) == "userdata") and has(s) then
    found("tostring of a " .. type(v))
  end
  return s
end

-- KUPE_LOG=debug for this process only: child processes that specs
-- start and read (2>&1) keep the environment they expect.
do
  local getenv = os.getenv
  os.getenv = function(name) -- luacheck: ignore 122
    if name == "KUPE_LOG" then return "debug" end
    return getenv(name)
  end
end

-- Lines written to stderr (the KUPE_LOG=debug logger writes there).
do
  local methods = getmetatable(io.stderr).__index
  local write = methods.write
  methods.write = function(f, ...)
    if f == io.stderr then
      for i = 1, select("#", ...) do
        if has((select(i, ...))) then
          write(f, ...) -- the search of stderr afterwards must see it too
          found("a line written to stderr")
        end
      end
    end
    return write(f, ...)
  end
end

-- Loaded after the wrappers above, so the library's cached tostring is
-- the checking one.
local errors = require "kupe.errors"
local Client = require("kupe.client").Client

do
  local new = errors.new
  errors.new = function(fields)
    local e = new(fields)
    check(e, "an error value")
    return e
  end
  local Error = errors.Error
  local to_s = Error.__tostring
  Error.__tostring = function(e)
    local s = to_s(e)
    if has(s) then found("tostring of an error value") end
    return s
  end
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Every hook argument and logger line of a client, checked before the
-- caller's function sees it.
local function watch_hooks(self)
  if rawget(self, "_hygiene") then return end
  rawset(self, "_hygiene", true)
  for _, name in ipairs { "_on_request", "_on_response", "_logger" } do
    local fn = rawget(self, name)
    local what = name:sub(2)
    rawset(self, name, function(arg)
      check(arg, "the argument of " .. what)
      if fn then return fn(arg) end
    end)
  end
  check(self, "a client")
  check(rawget(self, "_t"), "a transport")
end

-- A raised message names its place as the caller of the original, which
-- is now this wrapper: give it back the caller's place.
local function relocate(msg)
  if type(msg) ~= "string" then return msg end
  local info = getinfo(3, "Sl")
  local here = info and info.currentline and info.currentline > 0
    and (info.short_src .. ":" .. info.currentline .. ": ")
  if not here then return msg end
  return (msg:gsub("^[^\n]-hygiene_watch%.lua:%d+: ", function() return here end, 1))
end

do
  local request = Client.request
  local pack = table.pack or function(...) return { n = select("#", ...), ... } end
  local unpack = table.unpack or unpack
  Client.request = function(self, method, path, opts)
    if type(self) == "table" and rawget(self, "_t") then watch_hooks(self) end
    -- Not a tail call: the original's error level then points here, and
    -- relocate() can point it on to the caller.
    local r = pack(pcall(function()
      local out = pack(request(self, method, path, opts))
      return unpack(out, 1, out.n)
    end))
    if not r[1] then
      check(r[2], "a raised error")
      error(relocate(r[2]), 0)
    end
    if r[2] == nil then check(r[3], "an error value returned by " .. tostring(method)) end
    if type(opts) == "table" and type(opts.sink) == "string" then
      local body = read(opts.sink)
      if has(body) then found("a file written by an export") end
    end
    return unpack(r, 2, r.n)
  end
end

return { CANARY = CANARY, note = note, holds = holds }
