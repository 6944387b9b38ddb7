--- Knowledge base: which files an agent may use, and RAG search over them.
--
-- Mappings come wrapped in `{message, data}`; these methods return `data`
-- (the whole answer stays reachable as `resp.data`). Search is two routes
-- with two score shapes, the agent in the query string and the rest in
-- the body; `search` is one method that pairs each chunk with its score.
-- @module kupe.resources.knowledge

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local A = require "kupe.argcheck"

local CREATE = "/api/v1/agent-files-mappings/create"
local FOR_AGENT = "/api/v1/agent-files-mappings/agent/{agent_id}"
local ONE = "/api/v1/agent-files-mappings/agent/{agent_id}/file/{upload_file_id}"
local SEARCH = { semantic = "/api/v1/search/semantic", hybrid = "/api/v1/search/hybrid" }

local G = resource.group("knowledge", {
  { "attach", "POST", CREATE, custom = true, doc = "map an uploaded file to an agent" },
  { "files", "GET", FOR_AGENT, custom = true, doc = "the file mappings of an agent" },
  { "detach", "DELETE", ONE, custom = true, doc = "remove a file from an agent" },
  { "search", "POST", SEARCH.semantic, custom = true, doc = "RAG search (semantic)" },
  { "search", "POST", SEARCH.hybrid, custom = true, doc = "RAG search (hybrid)" },
})

--- Maps an uploaded file to an agent, so its chunks answer that agent's
-- searches.
-- @tparam table args `agent_id`, `upload_file_id` (both UUIDs, required)
-- @return the mapping row, resp | nil, err
function G:attach(args)
  A.opts(args, "attach", 1)
  A.known(args, { agent_id = true, upload_file_id = true }, "attach", 1)
  A.uuid(args.agent_id, "agent_id", "attach", 1)
  A.uuid(args.upload_file_id, "upload_file_id", "attach", 1)
  local data, resp = self._client:request("POST", CREATE, {
    json = { agent_id = args.agent_id, upload_file_id = args.upload_file_id },
  })
  return resource.unwrap("POST", CREATE, data, resp)
end

--- The file mappings of an agent.
-- @tparam string agent_id
-- @return array of mapping rows, resp | nil, err
function G:files(agent_id)
  A.id(agent_id, "agent_id", "files", 1)
  local path = resource.path(FOR_AGENT, "files", agent_id)
  local data, resp = self._client:request("GET", path)
  return resource.unwrap("GET", path, data, resp)
end

--- Removes a file from an agent (the file itself stays).
-- @tparam string agent_id
-- @tparam string file_id the upload's id
-- @return the answer's data (or true), resp | nil, err (404 when the file is
--   not mapped to the agent)
function G:detach(agent_id, file_id)
  A.id(agent_id, "agent_id", "detach", 1)
  A.id(file_id, "file_id", "detach", 2)
  local path = resource.path(ONE, "detach", agent_id, file_id)
  local data, resp = self._client:request("DELETE", path)
  return resource.unwrap("DELETE", path, data, resp)
end

local SEARCH_FIELDS = { agent_id = true, query = true, limit = true, similarity_threshold = true,
  mode = true, keyword_weight = true, semantic_weight = true }

--- Searches the chunks of the files mapped to an agent.
--
-- The API answers two parallel arrays, `data` (chunk texts) and `scores`;
-- this returns them paired, best first, as `{ {text =, score =}, ... }`.
-- `score` is what the API sent: in `"semantic"` mode the cosine distance
-- (a number, lower is closer), in `"hybrid"` mode the object
-- `{combined_score =, distance =, sparse_score =}`. The whole answer
-- (`success`, `message`, `data`, `scores`) is `resp.data`.
-- Search routes need no credential; the client's is sent anyway.
-- @tparam table args `agent_id` (UUID, required; sent in the query
--   string), `query` (non-empty string, required), `mode` ("semantic",
--   the default, or "hybrid"), `limit` (integer >= 1; server default 10
--   semantic, 5 hybrid), `similarity_threshold` (>= 0; server default 0.5
--   semantic, 0.85 hybrid), and for hybrid `keyword_weight` (default 0.4)
--   and `semantic_weight` (default 0.6)
-- @return array of hits, resp | nil, err
-- @raise when agent_id or query is missing, or a field is out of range
function G:search(args)
  A.opts(args, "search", 1)
  A.known(args, SEARCH_FIELDS, "search", 1)
  A.uuid(args.agent_id, "agent_id", "search", 1)
  A.string(args.query, "query", "search", 1, { nonempty = true })
  local mode = A.enum(args.mode, "mode", { "semantic", "hybrid" }, "search", 1, true) or "semantic"
  local body = { query = args.query }
  body.limit = A.int(args.limit, "limit", "search", 1, 1, nil, true)
  body.similarity_threshold = A.number(args.similarity_threshold, "similarity_threshold",
    "search", 1, 0, nil, true)
  if mode == "hybrid" then
    body.keyword_weight = A.number(args.keyword_weight, "keyword_weight", "search", 1, 0, nil, true)
    body.semantic_weight = A.number(args.semantic_weight, "semantic_weight", "search", 1, 0, nil,
      true)
  elseif args.keyword_weight ~= nil or args.semantic_weight ~= nil then
    A.fail("search", 1, "keyword_weight and semantic_weight apply to mode = \"hybrid\" only")
  end
  local path = SEARCH[mode]
  local data, resp = self._client:request("POST", path, {
    query = { agent_id = args.agent_id }, json = body,
  })
  if data == nil then return nil, resp end
  local texts, scores = type(data) == "table" and data.data, type(data) == "table" and data.scores
  if type(texts) ~= "table" or type(scores) ~= "table" or #texts ~= #scores then
    return nil, errors.new { kind = "decode", status = resp.status, method = "POST", path = path,
      body = resp.body, message = "expected parallel 'data' and 'scores' arrays" }
  end
  resp.data = data
  local hits = {}
  for i = 1, #texts do
    hits[i] = { text = texts[i], score = scores[i] }
  end
  return hits, resp
end

return G
