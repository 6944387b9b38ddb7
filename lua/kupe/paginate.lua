--- Walkers over paginated lists, shared by every list endpoint.
--
--     for page in client.call_logs:pages { page_size = 100 } do ... end
--     for session in client.call_logs:sessions { filter = "outbound" } do ... end
--
-- A walker fetches lazily and holds one page at a time. It stops at an
-- empty or short page, or once `total` items were seen. It never loops
-- and never stops silently: when a request fails, or the server makes no
-- progress (the same page twice, the wrong page number, a non-empty page
-- beyond `total`), the walk ends with an error, by one of two protocols:
--
-- * As a `for` iterator it raises the error's message, a string, so an
--   uncaught failure reads well under lua5.4, LuaJIT and nginx (which logs
--   a raised table only as "unknown reason"). The structured value stays
--   reachable as `walker.error`:
--
--         local walk = client.call_logs:sessions {}
--         local ok, msg = pcall(function() for s in walk do ... end end)
--         if not ok then print(walk.error.kind, walk.error.status) end
--
-- * `walker:each(fn)` calls fn for every item (or page) and returns
--   `true, count` or `nil, err`, the library's usual convention.
--
-- On Lua 5.4 `pages` and `items` return a closing value as their fourth
-- result (as `lfs.dir` does): `break` then releases the walker at once.
-- @module kupe.paginate

local errors = require "kupe.errors"

local M = {}

local Walker = { __name = "kupe.Walker" }
Walker.__index = Walker

local function no_progress(self, message)
  return errors.new {
    kind = "no_progress", method = "GET", path = self.path, message = message,
    retryable = false,
    hint = "the server ignored the paging parameters; the walk was stopped to avoid "
      .. "an endless loop or duplicated items",
  }
end

-- A cheap fingerprint of a page: its length and first and last ids.
local function fingerprint(items)
  local n = #items
  if n == 0 then return "0" end
  local function id(v)
    if type(v) ~= "table" then return tostring(v) end
    return tostring(v.request_id or v.id or v.call_session_id or v.name or "?")
  end
  return n .. "|" .. id(items[1]) .. "|" .. id(items[n])
end

-- Fetches the next page and updates the walk; returns the page (the
-- decoded answer plus `items`), or nil at the end, or nil, err.
local function fetch(self)
  if self.done then return nil end
  if self.max_pages and self.pages_seen >= self.max_pages then
    self.done = true
    return nil
  end
  local spec, params = self.spec, self.params
  local size = self.size
  if self.item_limit then
    local left = self.item_limit - self.items_seen
    if left <= 0 then self.done = true return nil end
  end
  if spec.style == "offset" then
    params[spec.limit_param or "limit"] = size
    params[spec.offset_param or "offset"] = self.items_seen
  else
    params[spec.page_param or "page"] = self.page_no
    params[spec.size_param or "page_size"] = size
  end

  local data, err = spec.fetch(params)
  if data == nil then return nil, err end
  if type(data) ~= "table" then
    return nil, errors.new { kind = "decode", method = "GET", path = self.path,
      message = "a page is not a JSON object or array" }
  end

  local items, total
  if spec.items and data[1] == nil then
    items = data[spec.items]
    total = spec.total and tonumber(data[spec.total]) or nil
    if type(items) ~= "table" then
      return nil, errors.new { kind = "decode", method = "GET", path = self.path,
        message = ("the page has no '%s' array"):format(spec.items) }
    end
  else
    -- A plain array: the server returned the whole list at once.
    items, total = data, nil
    self.done = true
  end
  local n = #items

  if spec.style ~= "offset" and data.page ~= nil and tonumber(data.page) ~= self.page_no then
    return nil, no_progress(self, ("asked for page %d, the server answered page %s")
      :format(self.page_no, tostring(data.page)))
  end
  local fp = fingerprint(items)
  if n > 0 and fp == self.last_fp then
    return nil, no_progress(self, "the server sent the same page twice")
  end
  if n > 0 and total and self.items_seen >= total then
    return nil, no_progress(self, ("a page beyond total (%d) is not empty"):format(total))
  end

  self.last_fp = fp
  self.pages_seen = self.pages_seen + 1
  self.page_no = self.page_no + 1
  self.items_seen = self.items_seen + n
  self.total = total or self.total
  if n == 0 or n < size or (total and self.items_seen >= total) then
    self.done = true
  end
  if n == 0 then return nil end
  if data.items == nil and spec.items then data.items = items end
  return data
end

local function fail(self, err)
  self.error = err
  self.done = true
  self.current = nil
  return nil, err
end

-- Next value without raising: a page, an item, nil at the end, or nil, err.
local function next_value(self)
  if self.mode == "pages" then
    local page, err = fetch(self)
    if err then return fail(self, err) end
    self.current = page
    return page
  end
  while true do
    if self.item_limit and self.yielded >= self.item_limit then
      self.done, self.current = true, nil
      return nil
    end
    local items = self.current
    if items and self.index < #items then
      self.index = self.index + 1
      self.yielded = self.yielded + 1
      return items[self.index]
    end
    local page, err = fetch(self)
    if err then return fail(self, err) end
    if not page then
      self.current = nil
      return nil
    end
    self.current, self.index = page[self.spec.items] or page, 0
  end
end

--- The generic-for protocol: raises the error message (a string) on
-- failure, after storing the value in walker.error.
Walker.__call = function(self)
  local v, err = next_value(self)
  if err then error(tostring(err), 0) end
  return v
end

--- Calls fn(value) for every page or item.
-- @return true, count | nil, err
function Walker:each(fn)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'each' (function expected, got " .. type(fn) .. ")", 2)
  end
  local count = 0
  while true do
    local v, err = next_value(self)
    if err then return nil, err end
    if v == nil then return true, count end
    count = count + 1
    fn(v)
  end
end

--- Collects every value into one array (for small lists and the REPL).
-- @return array | nil, err
function Walker:all()
  local out = {}
  local ok, err = self:each(function(v) out[#out + 1] = v end)
  if not ok then return nil, err end
  return out
end

--- Ends the walk and drops the page it holds. Idempotent.
function Walker:close()
  self.done = true
  self.current = nil
end

Walker.__close = Walker.close

function Walker:__tostring()
  return ("kupe.Walker (%s, %d pages, %d items%s)"):format(self.path, self.pages_seen,
    self.items_seen, self.error and ", failed" or (self.done and ", done" or ""))
end

local function new_walker(mode, spec, params, opts)
  local size = opts.page_size or spec.default_size or 100
  return setmetatable({
    mode = mode, spec = spec, params = params, path = spec.path or "?",
    size = size, page_no = opts.page or 1, max_pages = opts.max_pages,
    item_limit = opts.limit, pages_seen = 0, items_seen = 0, yielded = 0,
    index = 0, done = false,
  }, Walker)
end

local function check_int(name, v, lo, hi, fname)
  if v == nil then return end
  -- NaN fails v == floor(v); infinities and numbers past 2^53 (which
  -- would be sent as a page number) fail the bound.
  if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v >= 2 ^ 53 or (hi and v > hi) then
    error(("bad argument #1 to '%s' (%s must be an integer %s)"):format(fname, name,
      hi and ("from " .. lo .. " to " .. hi) or (">= " .. lo)), 4)
  end
end

local WALK_OPTIONS = { page_size = true, page = true, max_pages = true, limit = true }

-- Splits the caller's table into walk options and request parameters.
local function split(spec, opts, fname)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(("bad argument #1 to '%s' (table expected, got %s)"):format(fname, type(opts)), 3)
  end
  local max = spec.max_size or 100
  check_int("page_size", opts.page_size, 1, max, fname)
  check_int("page", opts.page, 1, nil, fname)
  check_int("max_pages", opts.max_pages, 1, nil, fname)
  check_int("limit", opts.limit, 0, nil, fname)
  local params = {}
  for k, v in pairs(opts) do
    if not WALK_OPTIONS[k] then params[k] = v end
  end
  return opts, params
end

--- Walks pages. spec: fetch(params) -> data | nil, err; style ("page" or
-- "offset"); items and total (keys in the answer); page_param, size_param,
-- limit_param, offset_param; default_size, max_size; path (for errors).
-- @return walker, nil, nil, walker (the closing value for Lua 5.4)
function M.pages(spec, opts, fname)
  local walk, params = split(spec, opts, fname or "pages")
  local w = new_walker("pages", spec, params, walk)
  return w, nil, nil, w
end

--- Walks the items of every page (`limit` caps the count).
-- @return walker, nil, nil, walker
function M.items(spec, opts, fname)
  local walk, params = split(spec, opts, fname or "items")
  local w = new_walker("items", spec, params, walk)
  return w, nil, nil, w
end

M.Walker = Walker

return M
