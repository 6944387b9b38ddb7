--- Contender: the limit with decoding. libcurl through the bench's own
-- minimal binding (rawcurl.c), each body decoded by lua-cjson: the work
-- every contender has to do, and nothing else.
local B = require "benchlib"
local rawcurl = require "rawcurl"
local cjson = require "cjson"

local a = B.args(arg)
local h = rawcurl.new(B.key, B.ua)
local decode = cjson.decode

local function get(url)
  local status, body = h:get(url)
  if status ~= 200 then B.fail(body or status) end
  return decode(body)
end

if a.mode == "small" then
  local url = a.url
  for _ = 1, a.warm do get(url) end
  local bytes = 0
  local stop = B.timer()
  for _ = 1, a.n do
    bytes = bytes + #get(url).request_id
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
  B.fail("export: use the raw C program")
end
