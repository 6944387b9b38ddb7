--- Contender: LuaSocket's socket.http with lua-cjson, the HTTP client
-- that comes with most Lua installations. It opens a connection per
-- request (socket.http has no keep-alive) and cannot decode gzip, so it
-- asks for identity bodies.
local B = require "benchlib"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local a = B.args(arg)
local decode, concat = cjson.decode, table.concat
local headers = { ["x-api-key"] = B.key, accept = "application/json" }

local function get(url)
  local parts = {}
  local ok, code = http.request { url = url, headers = headers, sink = ltn12.sink.table(parts) }
  if not ok or code ~= 200 then B.fail(code) end
  return decode(concat(parts))
end

if a.mode == "small" then
  for _ = 1, a.warm do get(a.url) end
  local bytes = 0
  local stop = B.timer()
  for _ = 1, a.n do
    bytes = bytes + #get(a.url).request_id
  end
  local wall, cpu = stop()
  B.report(a, a.n, bytes, wall, cpu)
elseif a.mode == "pages" then
  local items = 0
  local stop = B.timer()
  for p = 1, a.pages do
    items = items + #get(B.page_url(a, p)).items
  end
  local wall, cpu = stop()
  B.report(a, items, 0, wall, cpu)
else
  local f = assert(io.open(a.path, "wb"))
  local stop = B.timer()
  local ok, code = http.request { url = a.url, headers = headers, sink = ltn12.sink.file(f) }
  local wall, cpu = stop()
  if not ok or code ~= 200 then B.fail(code) end
  local g = assert(io.open(a.path, "rb"))
  local bytes = g:seek("end")
  g:close()
  B.report(a, 0, bytes, wall, cpu)
end
