--- Pages of a list: a slice as a JSON array, or the {items, total, page, page_size} answer.

local json = require "emu.json"

local M = {}

M.PAGE_ORDER = json.order { "items", "total", "page", "page_size" }

--- Up to `count` items of `list` from position `first`, as a JSON array;
-- `map`, when given, turns each item into what the answer shows.
function M.slice(list, first, count, map)
  local out = json.array()
  for k = first, math.min(#list, first + count - 1) do
    local x = list[k]
    if map then x = map(x) end
    out[#out + 1] = x
  end
  return out
end

--- Page `page` (from 1) of `size` items: the items, the list's total and
-- the page's numbers, in the API's key order.
function M.page(list, page, size, map)
  return setmetatable({ items = M.slice(list, (page - 1) * size + 1, size, map), total = #list,
    page = page, page_size = size }, M.PAGE_ORDER)
end

return M
