--- Request parts that route files read alike: path UUIDs and form uploads.

local v = require "emu.validate"

local M = {}

-- A malformed UUID in a path answers FastAPI's 422 (`uuid_parsing`), worded
-- one of three ways depending on the route: LOOSE, SHORT, or detail().
M.LOOSE = "Input should be a valid UUID, invalid character or length"
M.SHORT = "Input should be a valid UUID"

--- pydantic's full message for a malformed UUID `s`: the first invalid
-- character, or else the length.
function M.detail(s)
  local bad = s:find("[^%x%-]")
  if bad then
    return ("Input should be a valid UUID, invalid character: expected an optional prefix of"
      .. " `urn:uuid:` followed by [0-9a-fA-F-], found `%s` at %d"):format(s:sub(bad, bad), bad)
  end
  return ("Input should be a valid UUID, invalid length: expected length 32 for simple"
    .. " format, found %d"):format(#s:gsub("%-", ""))
end

--- The path parameter `name`, lower-cased; a 422 when it is not a UUID.
-- `msg` is the message, or a function of the value that returns it
-- (default M.LOOSE).
function M.uuid(ctx, name, msg)
  local s = ctx.params[name]
  if v.is_uuid(s) then return s:lower() end
  if type(msg) == "function" then msg = msg(s) end
  v.fail_422 { v.problem("uuid_parsing", { "path", name }, msg or M.LOOSE, s) }
end

--- Whether the request is multipart/form-data, and its boundary (or nil).
function M.form_boundary(ctx)
  local ctype = ctx.headers["content-type"]
  if type(ctype) == "table" then ctype = ctype[1] end
  ctype = ctype or ""
  local boundary = ctype:match('[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"')
    or ctype:match("[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
  return ctype:lower():find("^%s*multipart/form%-data") ~= nil, boundary
end

return M
