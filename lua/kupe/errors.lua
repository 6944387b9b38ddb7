--- The error value every failing call returns as `nil, err`.
--
-- Fields: `kind` ("http", "timeout", "network", "resolve", "tls", "decode",
-- "too_large", "redirect", "aborted", "io", "call_failed", "no_progress",
-- "not_started", "internal"), `status`, `detail` (FastAPI's `detail`, a string or a list of
-- `{loc, msg, type}`), `message` (the readable detail), `cause` (libcurl's or
-- the transport's text), `method`, `path`, `retryable`, `attempts`,
-- `headers`, `body`, `data` (the decoded JSON body), `retry_after`, `hint`.
-- `tostring(err)` is one line a person can act on. No field ever holds the
-- credential: the transport never sees it as a Lua value.
-- @module kupe.errors

local M = {}

local Error = { __name = "kupe.Error" }
Error.__index = Error

local REASONS = {
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [408] = "Request Timeout", [409] = "Conflict", [410] = "Gone",
  [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

--- Statuses worth repeating a request for (when the method allows it).
M.RETRYABLE_STATUS = { [408] = true, [429] = true, [500] = true, [502] = true,
  [503] = true, [504] = true }

local RETRYABLE_KIND = { network = true, timeout = true, resolve = true }

local function one_line(s, max)
  s = tostring(s):gsub("[\r\n]+", " ")
  if max and #s > max then s = s:sub(1, max) .. "..." end
  return s
end

-- "query.page_size" style locations read better without the section name.
local function loc_text(loc)
  if type(loc) ~= "table" then return nil end
  local parts = {}
  for i, p in ipairs(loc) do
    if not (i == 1 and (p == "query" or p == "body" or p == "path" or p == "header")) then
      parts[#parts + 1] = tostring(p)
    end
  end
  return #parts > 0 and table.concat(parts, ".") or nil
end

--- Turns FastAPI's `detail` (string, list of {loc, msg}, or object) into text.
function M.detail_text(detail)
  if type(detail) == "string" then return one_line(detail, 500) end
  if type(detail) ~= "table" then return nil end
  if detail[1] == nil then
    return detail.msg and one_line(detail.msg, 500) or nil
  end
  local out = {}
  for _, d in ipairs(detail) do
    if type(d) == "table" then
      local where, msg = loc_text(d.loc), d.msg and one_line(d.msg, 200) or "invalid"
      out[#out + 1] = where and (where .. ": " .. msg) or msg
    else
      out[#out + 1] = one_line(d, 200)
    end
  end
  return table.concat(out, "; ")
end

function Error:__tostring()
  local parts = { "kupe: ", self.method or "?", " ", self.path or "?", ": " }
  local text = self.message
  if self.kind == "http" then
    parts[#parts + 1] = ("%d %s"):format(self.status or 0, REASONS[self.status] or "")
  else
    parts[#parts + 1] = (self.kind or "unknown") .. " error"
    if self.status then parts[#parts + 1] = (" (HTTP %d)"):format(self.status) end
  end
  if text then parts[#parts + 1] = ": " .. one_line(text, 500) end
  if self.cause and self.cause ~= text then
    parts[#parts + 1] = (text and " [%s]" or ": %s"):format(one_line(self.cause, 300))
  end
  if self.attempts and self.attempts > 1 then
    parts[#parts + 1] = (" (after %d attempts)"):format(self.attempts)
  end
  if self.retry_after then
    parts[#parts + 1] = (" (the server asks to retry after %d s)"):format(self.retry_after)
  end
  if self.hint then parts[#parts + 1] = " (hint: " .. self.hint .. ")" end
  return table.concat(parts)
end

--- Makes an error value from a table of fields.
function M.new(fields)
  if fields.retryable == nil then
    fields.retryable = RETRYABLE_KIND[fields.kind] == true
      or (fields.kind == "http" and M.RETRYABLE_STATUS[fields.status] == true)
  end
  return setmetatable(fields, Error)
end

--- True when v is a kupe error value.
function M.is(v)
  return getmetatable(v) == Error
end

--- The metatable of error values (for `getmetatable(err) == kupe.Error`).
M.Error = Error

return M
