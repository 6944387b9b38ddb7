--- Numbers as the API writes them: amounts and scores to 4 decimals.

local floor = math.floor

local M = {}

--- x rounded to 4 decimals (half up).
function M.round4(x)
  return floor(x * 10000 + 0.5) / 10000
end

return M
