-- Answers the emulator never gives: odd framings and broken ones, as raw
-- bytes. The host nginx of the nginx specs sends them at /raw?kind=...
-- (spec/nginx/app.lua), and spec/06-nginx reads each through both
-- transports (the cosocket one inside nginx, libcurl from busted), which
-- must reach the same result: the same value, or the same error kind and
-- message. The last group is judged differently on purpose (README,
-- "Differences from the libcurl transport").
local M = {}

-- Every answer says Connection: close (or is HTTP/1.0), as it does close:
-- neither transport then keeps a connection the next read would find
-- closed under it.
local HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
local CHUNKED = HEAD .. "Transfer-Encoding: chunked\r\n\r\n"

M.answers = {
  -- taken
  http10 = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"v\":\"until close\"}",
  interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    .. "Content-Length: 11\r\nConnection: close\r\n\r\n{\"v\":\"1xx\"}",
  bare_lf = "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 12\n"
    .. "Connection: close\n\n{\"v\":\"bare\"}",
  trailers = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    .. "Connection: close\r\n\r\n5;ext=1\r\n{\"v\":\r\n9\r\n\"chunks\"}\r\n0\r\nX-Trailer: t\r\n\r\n",
  http2_line = "HTTP/2 200\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 10\r\n\r\n"
    .. "{\"v\":\"h2\"}",
  hex16 = CHUNKED .. ("0"):rep(15) .. "8\r\n{\"v\":16}\r\n0\r\n\r\n",
  hex_junk = CHUNKED .. "9 junk\r\n{\"v\":\"j\"}\r\n0\r\n\r\n",
  long_ext = CHUNKED .. "9;" .. ("x"):rep(100000) .. "\r\n{\"v\":\"e\"}\r\n0\r\n\r\n",
  crcr = CHUNKED .. "9\r\n{\"v\":\"r\"}\r\r\n0\r\n\r\n",
  -- refused alike
  empty = "",
  partial_status = "HTTP/1.1 20",
  reset = false, -- the request body is left unread: closing then resets
  garbage = "hello there\r\n\r\n",
  bad_status = "HTTP/1.1 abc Nope\r\nContent-Length: 0\r\n\r\n",
  no_status = "HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
  version12 = "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\n{}",
  code99 = "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\n{}",
  code2000 = "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}",
  neg_length = HEAD .. "Content-Length: -1\r\n\r\n{}",
  word_length = HEAD .. "Content-Length: abc\r\n\r\n{}",
  huge_length = HEAD .. "Content-Length: 99999999999999999999\r\n\r\n{}",
  bad_chunk = CHUNKED .. "zz\r\n{}\r\n0\r\n\r\n",
  space_hex = CHUNKED .. " 2\r\n{}\r\n0\r\n\r\n",
  long_hex = CHUNKED .. ("0"):rep(20) .. "2\r\n{}\r\n0\r\n\r\n",
  hex_overflow = CHUNKED .. "8000000000000002\r\n{}\r\n0\r\n\r\n",
  overrun = CHUNKED .. "2\r\n{\"v\":1}\r\n0\r\n\r\n",
  no_end = CHUNKED .. "2\r\n{}\r\n0\r\n",
  -- judged differently (README, "Differences from the libcurl transport")
  two_lengths = HEAD .. "Content-Length: 2, 3\r\n\r\n{}",
  partial_head = "HTTP/1.1 200 OK\r\nContent-Type: appl",
  big_head = HEAD .. ("X-Pad: " .. ("p"):rep(1000) .. "\r\n"):rep(300) .. "Content-Length: 2\r\n\r\n{}",
  long_line = HEAD .. "X-Pad: " .. ("p"):rep(120000) .. "\r\nContent-Length: 2\r\n\r\n{}",
  long_trailer = CHUNKED .. "2\r\n{}\r\n0\r\nX-T: " .. ("t"):rep(5000) .. "\r\n\r\n",
  lower_http = "http/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    .. "Content-Length: 2\r\n\r\n{}",
  code_glued = "HTTP/1.1 200OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    .. "Content-Length: 2\r\n\r\n{}",
}
--- Reads /raw?kind= through client c (a POST with a body for "reset"):
-- { v = the value's field v } or { kind =, cause = } of the error.
function M.read(c, kind)
  local data, err = c:request(kind == "reset" and "POST" or "GET", "/raw", { query = { kind = kind },
    body = kind == "reset" and ("r"):rep(4000) or nil })
  if data then return { v = type(data) == "table" and data.v or nil } end
  return { kind = err.kind, cause = err.cause or false }
end

return M
