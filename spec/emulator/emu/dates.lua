--- Calendar arithmetic in UTC without os.time (which reads the local zone).

local floor = math.floor

local M = {}

--- Days from 1970-01-01 to the civil date y-m-d (Howard Hinnant's algorithm).
function M.days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

--- Unix time of a timestamp the data set writes ("2026-06-30T17:59:47Z";
-- what follows the seconds is ignored), or nil.
function M.epoch(iso)
  local y, m, d, H, MI, S = tostring(iso):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  if not y then return nil end
  return M.days_from_civil(tonumber(y), tonumber(m), tonumber(d)) * 86400 + tonumber(H) * 3600
    + tonumber(MI) * 60 + tonumber(S)
end

--- Unix time of "YYYY-MM-DD" or an ISO 8601 date-time as a client sends it
-- (UTC unless an offset is given; fractions of a second ignored), or nil.
function M.parse(s)
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, sec, zone = 0, 0, 0, ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, after = tail:match("^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), after end
    tail = tail:gsub("^%.%d+", "")
    zone = tail
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  local offset = 0
  if zone ~= "" and zone ~= "Z" and zone ~= "z" then
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return M.days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
end

return M
