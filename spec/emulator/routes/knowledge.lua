-- Knowledge base (kupe-api.md 8.2, 8.3): agent-file mappings and RAG
-- search. Mappings live in the "files" store (see routes/files.lua).
--
-- Search (no auth, as in the API) ranks the text chunks of the files
-- mapped to the agent named by the `agent_id` query parameter.
-- Deterministic scoring: words are lower-cased, stop words dropped and
-- plural/-ing/-ed endings trimmed; a chunk's similarity is
-- 0.8 * (share of the query's terms it contains) + 0.2 * (cosine of the
-- term counts), and its distance is 1 - similarity. `similarity_threshold`
-- is the largest distance kept (the API's example keeps a distance of 0.29
-- under a threshold of 0.8). Semantic results are sorted by distance and
-- score as that number; hybrid results add sparse_score (mean over query
-- terms of tf / (tf + 1)) and combined_score (semantic_weight *
-- similarity + keyword_weight * sparse_score), sorted by combined_score,
-- and score as {combined_score, distance, sparse_score}. Ties keep upload
-- order. 400 for a missing or malformed agent_id and for an empty query.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"
local num = require "emu.num"

local db = state.store("files")

local ENVELOPE = json.order { "message", "data" }
local RAG_ORDER = json.order { "success", "message", "data", "scores" }
local HYBRID_ORDER = json.order { "combined_score", "distance", "sparse_score" }
local MAPPING_ORDER = json.order {
  "id", "agent_id", "upload_file_id", "user_id", "original_filename", "created_at",
}

state.on_reset(function()
  db.files = db.files or {}
  db.by_id = db.by_id or {}
  db.mappings = db.mappings or {}
end)

local function envelope(message, data)
  return setmetatable({ message = message, data = data }, ENVELOPE)
end

------------------------------------------------------------------------
-- Terms and scores

local STOP = {}
for w in ([[a an and are as at be by can do does for from has have how i in is it its
  me my of on or our so that the their them there they this to was we were what when where
  which who will with you your]]):gmatch("%a+") do STOP[w] = true end

local function stem(w)
  if #w > 5 and w:sub(-3) == "ing" then return w:sub(1, -4) end
  if #w > 4 and w:sub(-2) == "ed" then return w:sub(1, -3) end
  if #w > 4 and w:sub(-2) == "es" then return w:sub(1, -3) end
  if #w > 3 and w:sub(-1) == "s" and w:sub(-2) ~= "ss" then return w:sub(1, -2) end
  return w
end

-- term -> count, and the number of distinct terms
local function terms(text)
  local tf, n = {}, 0
  for w in text:lower():gmatch("%w+") do
    if #w > 1 and not STOP[w] then
      w = stem(w)
      if not tf[w] then n = n + 1 end
      tf[w] = (tf[w] or 0) + 1
    end
  end
  return tf, n
end

local function chunk_terms(rec, i)
  rec.terms = rec.terms or {}
  local t = rec.terms[i]
  if not t then
    t = terms(rec.chunks[i])
    rec.terms[i] = t
  end
  return t
end

local function score(qtf, qn, ctf)
  local hit, dot, qq, cc, sparse = 0, 0, 0, 0, 0
  for t, c in pairs(qtf) do
    local k = ctf[t]
    if k then
      hit = hit + 1
      dot = dot + c * k
      sparse = sparse + k / (k + 1)
    end
    qq = qq + c * c
  end
  for _, k in pairs(ctf) do cc = cc + k * k end
  if qn == 0 or cc == 0 then return 0, 0 end
  local cosine = dot / math.sqrt(qq * cc)
  return 0.8 * hit / qn + 0.2 * cosine, sparse / qn
end

local function search(ctx, mode)
  local agent_id = ctx.query.agent_id
  if type(agent_id) == "table" then agent_id = agent_id[#agent_id] end
  if agent_id == nil or agent_id == "" then
    v.fail(400, "agent_id query parameter is required")
  end
  if not v.is_uuid(agent_id) then v.fail(400, "agent_id must be a valid UUID") end
  agent_id = agent_id:lower()
  local specs = {
    { "query", "str", required = true }, { "limit", "int", ge = 1 },
    { "similarity_threshold", "number" },
  }
  if mode == "hybrid" then
    specs[#specs + 1] = { "keyword_weight", "number" }
    specs[#specs + 1] = { "semantic_weight", "number" }
  end
  local body = v.body(ctx, specs)
  if body.query:match("^%s*$") then v.fail(400, "Query must not be empty") end
  local function opt(name, default)
    local x = body[name]
    if x == nil or x == json.null then return default end
    return x
  end
  local limit = opt("limit", mode == "hybrid" and 5 or 10)
  local threshold = opt("similarity_threshold", mode == "hybrid" and 0.85 or 0.5)
  local kw, sw = opt("keyword_weight", 0.4), opt("semantic_weight", 0.6)

  local qtf, qn = terms(body.query)
  local hits, order = {}, 0
  for _, m in ipairs(db.mappings) do
    local rec = m.agent_id == agent_id and db.by_id[m.upload_file_id]
    if rec then
      for i = 1, #rec.chunks do
        order = order + 1
        local sim, sparse = score(qtf, qn, chunk_terms(rec, i))
        local distance = num.round4(1 - sim)
        if distance <= threshold then
          hits[#hits + 1] = { text = rec.chunks[i], distance = distance, order = order,
            sparse = num.round4(sparse), combined = num.round4(sw * sim + kw * sparse) }
        end
      end
    end
  end
  if mode == "hybrid" then
    table.sort(hits, function(a, b)
      if a.combined ~= b.combined then return a.combined > b.combined end
      return a.order < b.order
    end)
  else
    table.sort(hits, function(a, b)
      if a.distance ~= b.distance then return a.distance < b.distance end
      return a.order < b.order
    end)
  end
  local data, scores = json.array(), json.array()
  for i = 1, math.min(limit, #hits) do
    local h = hits[i]
    data[i] = h.text
    scores[i] = mode == "hybrid" and setmetatable({ combined_score = h.combined,
      distance = h.distance, sparse_score = h.sparse }, HYBRID_ORDER) or h.distance
  end
  return 200, setmetatable({ success = true,
    message = ("%s search returned %d result%s"):format(mode == "hybrid" and "Hybrid"
      or "Semantic", #data, #data == 1 and "" or "s"),
    data = data, scores = scores }, RAG_ORDER)
end

------------------------------------------------------------------------

return function(router)
  router:add("POST", "/api/v1/agent-files-mappings/create", function(ctx)
    local body = v.body(ctx, {
      { "agent_id", "uuid", required = true }, { "upload_file_id", "uuid", required = true },
    })
    if not state.agents_by_id[body.agent_id] then v.fail(404, "Agent not found") end
    local rec = db.by_id[body.upload_file_id]
    if not rec then v.fail(404, "File not found") end
    for _, m in ipairs(db.mappings) do
      if m.agent_id == body.agent_id and m.upload_file_id == body.upload_file_id then
        return 200, envelope("File is already attached to the agent", m)
      end
    end
    local m = setmetatable({
      id = state.new_uuid(), agent_id = body.agent_id, upload_file_id = body.upload_file_id,
      user_id = state.user.user_id, original_filename = rec.row.original_filename,
      created_at = state.now_iso(),
    }, MAPPING_ORDER)
    db.mappings[#db.mappings + 1] = m
    return 200, envelope("File attached to the agent", m)
  end)

  router:add("GET", "/api/v1/agent-files-mappings/agent/{agent_id}", function(ctx)
    local agent_id = params.uuid(ctx, "agent_id")
    local list = json.array()
    for _, m in ipairs(db.mappings) do
      if m.agent_id == agent_id then list[#list + 1] = m end
    end
    return 200, envelope("Agent files retrieved successfully", list)
  end)

  router:add("DELETE", "/api/v1/agent-files-mappings/agent/{agent_id}/file/{upload_file_id}",
    function(ctx)
      local agent_id = params.uuid(ctx, "agent_id")
      local file_id = params.uuid(ctx, "upload_file_id")
      for i, m in ipairs(db.mappings) do
        if m.agent_id == agent_id and m.upload_file_id == file_id then
          table.remove(db.mappings, i)
          return 200, envelope("File detached from the agent",
            { agent_id = agent_id, upload_file_id = file_id, chunks_updated = true })
        end
      end
      v.fail(404, "Mapping not found")
    end)

  router:add("POST", "/api/v1/search/semantic", function(ctx)
    return search(ctx, "semantic")
  end, { auth = false })

  router:add("POST", "/api/v1/search/hybrid", function(ctx)
    return search(ctx, "hybrid")
  end, { auth = false })
end
