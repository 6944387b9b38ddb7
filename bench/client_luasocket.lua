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

if not B.run_json(a, get) then
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
