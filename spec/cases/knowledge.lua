-- Knowledge base: agent-file mappings and RAG search (semantic, hybrid).
-- Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local json = require "kupe.json"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local POLICY = table.concat({
    "Opening hours",
    "The clinic opens at 9 am and closes at 6 pm on weekdays.",
    "Visitors may park in lot B behind the clinic. Parking is free on Sundays.",
    "Refunds for cancelled appointments are processed within five working days.",
  }, "\n\n") .. "\n"

  -- Uploads POLICY (not mapped to any agent) and returns its row.
  local function upload(c)
    return assert(c.files:upload { path = kit.write(t.tmpdir() .. "/policy.txt", POLICY) })
  end

  case("attaches a file to an agent, lists the mapping and detaches it", function()
    local c = t.client()
    local agent, file = t.agent_id(), upload(t.client())
    assert.same({}, assert(c.knowledge:files(agent)))
    local m, resp = c.knowledge:attach { agent_id = agent, upload_file_id = file.id }
    assert.is_table(m, tostring(resp))
    assert.equal(agent, m.agent_id)
    assert.equal(file.id, m.upload_file_id)
    assert.is_string(resp.data.message)
    local again = assert(c.knowledge:attach { agent_id = agent, upload_file_id = file.id })
    assert.equal(m.id, again.id, "attaching twice keeps one mapping")
    local list = assert(c.knowledge:files(agent))
    assert.equal(1, #list)
    assert.equal(file.id, list[1].upload_file_id)
    assert.same({}, assert(c.knowledge:files(t.agent_id(2))))

    local done = assert(c.knowledge:detach(agent, file.id))
    assert.equal(file.id, done.upload_file_id)
    assert.same({}, assert(c.knowledge:files(agent)))
    local none, err = c.knowledge:detach(agent, file.id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.equal("Mapping not found", err.message)
    assert.is_table(assert(c.files:get(file.id)), "the file itself stays")
  end)

  case("answers 404 when attaching an unknown file or agent, 422 for a missing field", function()
    local c = t.client()
    local file = upload(c)
    local m, err = c.knowledge:attach { agent_id = t.agent_id(), upload_file_id = UNKNOWN }
    assert.is_nil(m)
    assert.equal(404, err.status)
    assert.equal("File not found", err.message)
    m, err = c.knowledge:attach { agent_id = UNKNOWN, upload_file_id = file.id }
    assert.is_nil(m)
    assert.equal(404, err.status)
    m, err = c:request("POST", "/api/v1/agent-files-mappings/create", { json = { agent_id = t.agent_id() } })
    assert.is_nil(m)
    assert.equal(422, err.status)
    assert.same({ "body", "upload_file_id" }, err.detail[1].loc)
  end)

  case("searches the chunks of the agent's files, pairing texts with distances", function()
    local c = t.client()
    local agent, file = t.agent_id(), upload(c)
    local hits, resp = assert(c.knowledge:search { agent_id = agent, query = "parking at the clinic" })
    assert.same({}, hits, "the file is not mapped to the agent yet")
    assert.is_true(resp.data.success)
    assert.equal(json.array_mt, getmetatable(resp.data.data))

    assert(c.knowledge:attach { agent_id = agent, upload_file_id = file.id })
    hits, resp = assert(c.knowledge:search { agent_id = agent, query = "parking at the clinic" })
    assert.is_true(#hits >= 1)
    assert.equal("Visitors may park in lot B behind the clinic. Parking is free on Sundays.", hits[1].text)
    for i, h in ipairs(hits) do
      assert.is_number(h.score)
      assert.equal(resp.data.data[i], h.text)
      assert.equal(resp.data.scores[i], h.score)
      if i > 1 then assert.is_true(hits[i - 1].score <= h.score, "closest first") end
    end
    local req = emu.stats().last_request
    assert.equal("/api/v1/search/semantic", req.path)
    assert.equal("agent_id=" .. agent, req.query)
    local body = json.decode(req.body)
    assert.equal("parking at the clinic", body.query)
    assert.is_nil(body.agent_id, "agent_id goes in the query string only")
  end)

  case("searches in hybrid mode with score objects, best combined score first", function()
    local c = t.client()
    local agent, file = t.agent_id(), upload(c)
    assert(c.knowledge:attach { agent_id = agent, upload_file_id = file.id })
    local hits = assert(c.knowledge:search { agent_id = agent, query = "refunds for cancelled appointments",
      mode = "hybrid", limit = 3, keyword_weight = 0.3, semantic_weight = 0.7, similarity_threshold = 1 })
    assert.equal(3, #hits)
    assert.matches("^Refunds", hits[1].text)
    for i, h in ipairs(hits) do
      assert.is_number(h.score.combined_score)
      assert.is_number(h.score.distance)
      assert.is_number(h.score.sparse_score)
      if i > 1 then assert.is_true(hits[i - 1].score.combined_score >= h.score.combined_score) end
    end
    local req = emu.stats().last_request
    assert.equal("/api/v1/search/hybrid", req.path)
    local body = json.decode(req.body)
    assert.equal(0.3, body.keyword_weight)
    assert.equal(0.7, body.semantic_weight)
    assert.equal(3, body.limit)
  end)

  case("applies limit and similarity_threshold", function()
    local c = t.client()
    local agent, file = t.agent_id(), upload(c)
    assert(c.knowledge:attach { agent_id = agent, upload_file_id = file.id })
    local all = assert(c.knowledge:search { agent_id = agent, query = "clinic", similarity_threshold = 2, limit = 50 })
    assert.equal(file.chunk_count, #all)
    local one = assert(c.knowledge:search { agent_id = agent, query = "clinic", limit = 1 })
    assert.equal(1, #one)
    local strict = assert(c.knowledge:search { agent_id = agent, query = "clinic", similarity_threshold = 0 })
    assert.same({}, strict)
  end)

  case("needs no credential to search, as the API", function()
    local c = t.client()
    local agent, file = t.agent_id(), upload(c)
    assert(c.knowledge:attach { agent_id = agent, upload_file_id = file.id })
    local anonymous = t.client { api_key = false }
    local hits = assert(anonymous.knowledge:search { agent_id = agent, query = "opening hours" })
    assert.equal("Opening hours", hits[1].text)
    assert.is_nil(emu.stats().last_request.headers["x-api-key"])
  end)

  case("raises before sending for a missing agent_id, an empty query or a bad field", function()
    local c = t.client()
    local before = t.requests()
    local agent = t.agent_id()
    assert.has_error(function() c.knowledge:search { query = "x" } end,
      "bad argument #1 to 'search' (agent_id must be a UUID string, got nil)")
    assert.has_error(function() c.knowledge:search { agent_id = agent, query = "" } end,
      "bad argument #1 to 'search' (query must be a non-empty string, got an empty string)")
    assert.has_error(function() c.knowledge:search { agent_id = agent, query = "x", mode = "vector" } end,
      'bad argument #1 to \'search\' (mode must be one of "semantic", "hybrid", got "vector")')
    assert.has_error(function() c.knowledge:search { agent_id = agent, query = "x", keyword_weight = 0.5 } end,
      'bad argument #1 to \'search\' (keyword_weight and semantic_weight apply to mode = "hybrid" only)')
    assert.has_error(function() c.knowledge:search { agent_id = agent, query = "x", limit = 0 } end,
      "bad argument #1 to 'search' (limit must be an integer >= 1, got 0)")
    assert.has_error(function() c.knowledge:attach { agent_id = agent } end,
      "bad argument #1 to 'attach' (upload_file_id must be a UUID string, got nil)")
    assert.has_error(function() c.knowledge:detach(agent) end,
      "bad argument #2 to 'detach' (file_id must be a non-empty string, got nil)")
    local ok, msg = pcall(function() c.knowledge:files() end)
    assert.is_false(ok)
    assert.matches("knowledge%.lua:%d+: bad argument #1 to 'files'", msg)
    assert.equal(before, t.requests())
  end)

  case("the API answers 400 for a missing agent_id or an empty query", function()
    local c = t.client()
    local data, err = c:request("POST", "/api/v1/search/semantic", { json = { query = "hours" } })
    assert.is_nil(data)
    assert.equal(400, err.status)
    assert.matches("agent_id", err.message)
    data, err = c:request("POST", "/api/v1/search/hybrid",
      { query = { agent_id = t.agent_id() }, json = { query = "  " } })
    assert.is_nil(data)
    assert.equal(400, err.status)
    assert.matches("empty", err.message)
  end)

  case("answers 422 for a malformed agent id in a mapping path", function()
    local c = t.client()
    local list, err = c.knowledge:files("agent-1")
    assert.is_nil(list)
    assert.equal(422, err.status)
  end)

  return cases
end
