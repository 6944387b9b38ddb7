--- Path router: a trie of path segments.
--
-- `router:add("GET", "/api/v1/agents/{agent_id}", handler, opts)` registers
-- a route. A literal segment beats a `{param}` segment at the same depth,
-- whatever order the route files were loaded in, so `/api/v1/agents/stats`
-- and `/api/v1/agents/{agent_id}` can live in different files. Registering
-- the same method and pattern twice is an error (two route files claiming
-- one operation).
--
-- `router:match(method, path)` returns `route, params` for a hit,
-- `nil, "method"` when the path exists under other methods (405), and
-- `nil, "path"` otherwise (404). HEAD falls back to GET, as in Starlette.
-- Path parameters are percent-decoded.

local Router = {}
Router.__index = Router

local function new_node()
  return { static = {}, param = nil, methods = nil }
end

--- Create an empty router.
function Router.new()
  return setmetatable({ root = new_node(), routes = {} }, Router)
end

-- Segments of a path; a trailing slash is a last, empty segment, so
-- `/a/b/` and `/a/b` are different routes (the app redirects between them).
local function split(path)
  local segs = {}
  for seg in path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  if #path > 1 and path:sub(-1) == "/" then segs[#segs + 1] = "" end
  return segs
end

local function unescape(s)
  if not s:find("%", 1, true) then return s end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- Register `handler` for `method` and `pattern`.
-- opts: `auth = false` for a public route (no credentials checked).
function Router:add(method, pattern, handler, opts)
  assert(type(method) == "string" and method:match("^%u+$"), "method must be upper case")
  assert(type(pattern) == "string" and pattern:sub(1, 1) == "/", "pattern must start with /")
  assert(type(handler) == "function", "handler must be a function")
  local node = self.root
  local names = {}
  for _, seg in ipairs(split(pattern)) do
    local name = seg:match("^{([%w_]+)}$")
    if name then
      if not node.param then
        node.param = { name = name, node = new_node() }
      elseif node.param.name ~= name then
        error(("route %s %s: parameter {%s} clashes with {%s} at the same place")
          :format(method, pattern, name, node.param.name), 2)
      end
      names[#names + 1] = name
      node = node.param.node
    else
      node.static[seg] = node.static[seg] or new_node()
      node = node.static[seg]
    end
  end
  node.methods = node.methods or {}
  if node.methods[method] then
    error(("route %s %s is registered twice"):format(method, pattern), 2)
  end
  local route = {
    method = method, pattern = pattern, handler = handler,
    key = method .. " " .. pattern, params = names,
    auth = not (opts and opts.auth == false),
  }
  node.methods[method] = route
  self.routes[#self.routes + 1] = route
  return route
end

-- Depth-first search, literal segments first. Fills `values` with the
-- parameter values along the path found.
local function find(node, segs, i, values)
  if i > #segs then
    if node.methods then return node end
    return nil
  end
  local seg = segs[i]
  local child = node.static[seg]
  if child then
    local hit = find(child, segs, i + 1, values)
    if hit then return hit end
  end
  if node.param and seg ~= "" then
    local n = #values + 1
    values[n] = seg
    local hit = find(node.param.node, segs, i + 1, values)
    if hit then return hit end
    values[n] = nil
  end
  return nil
end

--- Find the route for `method` and `path` (without the query string).
function Router:match(method, path)
  local values = {}
  local node = find(self.root, split(path), 1, values)
  if not node then return nil, "path" end
  local route = node.methods[method]
  if not route and method == "HEAD" then route = node.methods.GET end
  if not route then return nil, "method", node.methods end
  local params = {}
  for i, name in ipairs(route.params) do params[name] = unescape(values[i]) end
  return route, params
end

return Router
