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

if not B.run_json(a, get) then
  B.fail("export: use the raw C program")
end
