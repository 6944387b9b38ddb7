--- Contender: Debian's lua-curl (luacurl 0.3, Lua 5.1 only) with
-- lua-cjson: one reused easy handle, the body gathered by a Lua write
-- callback, gzip asked for as kupe-lua does. Its libcurl is the GnuTLS
-- build; this process loads nothing else that links libcurl.
local B = require "benchlib"
local curl = require "curl"
local cjson = require "cjson"

local a = B.args(arg)
local decode, concat = cjson.decode, table.concat

local e = curl.easy_init()
local parts, status
e:setopt(curl.OPT_HTTPHEADER, { "Accept: application/json", "Expect:", "x-api-key: " .. B.key })
e:setopt(curl.OPT_ACCEPT_ENCODING, "")
e:setopt(curl.OPT_NOSIGNAL, 1)
-- luacurl calls back with (data, length)
e:setopt(curl.OPT_WRITEFUNCTION, function(s)
  parts[#parts + 1] = s
  return #s
end)
e:setopt(curl.OPT_HEADERFUNCTION, function(line)
  local code = line:match("^HTTP/[%d.]+ (%d%d%d)")
  if code then status = tonumber(code) end
  return #line
end)

local function get(url)
  parts, status = {}, nil
  e:setopt(curl.OPT_URL, url)
  local ok, err = e:perform()
  if not ok or status ~= 200 then B.fail(err or status) end
  return decode(concat(parts))
end

if not B.run_json(a, get) then
  local f = assert(io.open(a.path, "wb"))
  local bytes = 0
  e:setopt(curl.OPT_WRITEFUNCTION, function(s)
    f:write(s)
    bytes = bytes + #s
    return #s
  end)
  e:setopt(curl.OPT_URL, a.url)
  local stop = B.timer()
  local ok, err = e:perform()
  local wall, cpu = stop()
  f:close()
  if not ok or status ~= 200 then B.fail(err or status) end
  B.report(a, 0, bytes, wall, cpu)
end
