-- Batches: create, recipients (JSON rows, CSV, upsert, remove), variables,
-- start (and its 409), status, wait, the listings, delete and the carrier
-- callback. The emulator dials in waves of batch_size lasting 0.25 s.
-- Shared by the libcurl specs and the nginx specs.
local assert = require "luassert"
local kit = require "spec.helpers.case_kit"

local UUID, UNKNOWN, raises = kit.UUID, kit.UNKNOWN, kit.raises

local ROWS = {
  { to_phonenumber = "+919800000001", name = "Ada", plan = "Fibre 100" },
  { to_phonenumber = "+919800000002", name = "Grace", plan = "Fibre 300" },
  { to_phonenumber = "+1 (555) 123-4567", name = "Alan", plan = "Fibre 1000" },
}

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  -- A client, and a new batch for the second agent on the first line.
  local function new_batch(extra)
    local info = emu.info()
    local c = t.client()
    local body = { agent_id = info.agents[2].id, caller_phone_id = info.phone_numbers[1].id,
      batch_name = "Renewals", variable_names = { "name", "plan" }, batch_size = 2 }
    for k, v in pairs(extra or {}) do body[k] = v end
    local answer = assert(c.batches:create(body))
    return c, answer.data.id, answer, info
  end

  local function filled(n, size)
    local c, id = new_batch { batch_size = size or 2 }
    local rows = {}
    for i = 1, n do
      rows[i] = { to_phonenumber = ("+9198000000%02d"):format(i), name = "R" .. i, plan = "P" }
    end
    assert(c.batches:upload(id, rows))
    return c, id
  end

  case("creates a batch (201) whose id is data.id", function()
    local c, id, answer = new_batch()
    assert.is_true(answer.success)
    assert.matches(UUID, id)
    assert.equal("not_started", answer.data.status)
    assert.same({ "name", "plan" }, answer.data.variable_names)
    assert.equal(2, answer.data.batch_size)
    local b, resp = assert(c.batches:get(id))
    assert.equal(200, resp.status)
    assert.equal("Renewals", b.batch_name)
    local last = emu.stats().last_request
    assert.equal("/api/v1/batch-call/" .. id, last.path)
  end)

  case("sends an empty variable_names as a JSON array", function()
    local _, _, answer = new_batch { variable_names = {} }
    assert.same({}, answer.data.variable_names)
  end)

  case("raises for a batch the docs rule out, before sending", function()
    local info = emu.info()
    local c = t.client()
    local ok_body = { agent_id = info.agents[2].id, caller_phone_id = info.phone_numbers[1].id,
      batch_name = "x" }
    local function with(k, v)
      local b = {}
      for key, x in pairs(ok_body) do b[key] = x end
      b[k] = v
      return b
    end
    local before = t.requests("POST /api/v1/batch-call/create")
    raises("batch_name is required", function() c.batches:create(with("batch_name", nil)) end)
    raises("caller_phone_id is required",
      function() c.batches:create(with("caller_phone_id", nil)) end)
    raises("give exactly one of agent_id or workflow_id",
      function() c.batches:create(with("workflow_id", UNKNOWN)) end)
    raises("give exactly one of agent_id or workflow_id",
      function() c.batches:create(with("agent_id", nil)) end)
    raises("batch_size must be an integer >= 1", function() c.batches:create(with("batch_size", 0)) end)
    raises('status must be "not_started"', function() c.batches:create(with("status", "paused")) end)
    raises("variable_names%[1%] must be a name",
      function() c.batches:create(with("variable_names", { "first name" })) end)
    raises("unknown field 'size'", function() c.batches:create(with("size", 3)) end)
    assert.equal(before, t.requests("POST /api/v1/batch-call/create"))
  end)

  case("answers 400 for a caller line that is not the caller's, 422 for a malformed id", function()
    local info = emu.info()
    local c = t.client()
    local b, err = c.batches:create { agent_id = info.agents[2].id, caller_phone_id = UNKNOWN,
      batch_name = "x" }
    assert.is_nil(b)
    assert.equal(400, err.status)
    assert.matches("caller_phone_id", err.message)
    b, err = c.batches:create { agent_id = info.agents[2].id, caller_phone_id = "line-1",
      batch_name = "x" }
    assert.is_nil(b)
    assert.equal(422, err.status)
  end)

  case("uploads JSON rows; unusable ones are counted, not inserted", function()
    local c, id = new_batch()
    local rows = { ROWS[1], ROWS[2], ROWS[3],
      { to_phonenumber = "call me", name = "X", plan = "P" },
      { to_phonenumber = "+919800000009", name = "No plan" } }
    local r, resp = assert(c.batches:upload(id, rows))
    assert.equal(200, resp.status)
    assert.equal(3, r.inserted_count)
    assert.equal(2, r.failed_count)
    assert.equal("Invalid phone number", r.failed_rows[1].error)
    assert.matches("plan", r.failed_rows[2].error)
    local list = assert(c.batches:recipients(id))
    assert.equal(3, #list)
    assert.equal("919800000001", list[1].to_phonenumber)
    assert.equal("15551234567", list[3].to_phonenumber)
    assert.same({ name = "Ada", plan = "Fibre 100" }, list[1].variable_values)
    for _, row in ipairs(list) do assert.equal("not_started", row.status) end
    assert.is_nil(getmetatable(rows), "the caller's table is left alone")
  end)

  case("raises for rows without a number or with nested values", function()
    local c, id = new_batch()
    local before = t.requests("POST /api/v1/batch-call/upload-json/{batch_id}")
    raises("records must be a non%-empty array", function() c.batches:upload(id, {}) end)
    raises("records%[1%]%.to_phonenumber is required",
      function() c.batches:upload(id, { { name = "x" } }) end)
    raises("records%[1%] must be flat",
      function() c.batches:upload(id, { { to_phonenumber = "+1555", name = { "x" } } }) end)
    raises("batch_id must be a non%-empty string", function() c.batches:upload(nil, ROWS) end)
    assert.equal(before, t.requests("POST /api/v1/batch-call/upload-json/{batch_id}"))
  end)

  case("answers 404 for an unknown batch and 422 for a malformed batch id", function()
    local c = t.client()
    local r, err = c.batches:upload(UNKNOWN, ROWS)
    assert.is_nil(r)
    assert.equal(404, err.status)
    assert.equal("Batch not found", err.message)
    for _, call in ipairs {
      function() return c.batches:get(UNKNOWN) end,
      function() return c.batches:status(UNKNOWN) end,
      function() return c.batches:recipients(UNKNOWN) end,
      function() return c.batches:start(UNKNOWN) end,
      function() return c.batches:delete(UNKNOWN) end,
    } do
      local none, e = call()
      assert.is_nil(none)
      assert.equal(404, e.status)
    end
    r, err = c.batches:get("batch-1")
    assert.is_nil(r)
    assert.equal(422, err.status)
  end)

  case("uploads a CSV file, streamed as multipart field 'file'", function()
    local c, id = new_batch()
    local dir = t.tmpdir()
    local path = dir .. "/people.csv"
    local f = assert(io.open(path, "wb"))
    f:write('\239\187\191to_phonenumber,name,plan\r\n"+91 98000 00001","Smith, Jo",Fibre 100\r\n'
      .. '+15551230000,"Say ""hi""",Fibre 300\r\n+1555,Too short,x\r\n')
    f:close()
    local r = assert(c.batches:upload_csv(id, { path = path }))
    local last = emu.stats().last_request
    assert.matches("^multipart/form%-data; boundary=", last.headers["content-type"])
    assert.matches('name="file"; filename="people.csv"', last.body)
    assert.equal(2, r.inserted_count)
    assert.equal(1, r.failed_count)
    local list = assert(c.batches:recipients(id))
    assert.equal("Smith, Jo", list[1].variable_values.name)
    assert.equal('Say "hi"', list[2].variable_values.name)
    r = assert(c.batches:upload_csv(id, { csv = "to_phonenumber,name,plan\n+15550000001,Z,Q\n" }))
    assert.equal(1, r.inserted_count)
    assert.matches('filename="recipients.csv"', emu.stats().last_request.body)
  end)

  case("fails an upload of a missing file with kind io, and a CSV without numbers with 400",
    function()
      local c, id = new_batch()
      local r, err = c.batches:upload_csv(id, { path = t.tmpdir() .. "/missing.csv" })
      assert.is_nil(r)
      assert.equal("io", err.kind)
      r, err = c.batches:upload_csv(id, { csv = "phone,name\n+15550000001,Z\n" })
      assert.is_nil(r)
      assert.equal(400, err.status)
      assert.matches("to_phonenumber", err.message)
      raises("give path %(a CSV file%) or csv", function() c.batches:upload_csv(id, {}) end)
      raises("give path %(a CSV file%) or csv",
        function() c.batches:upload_csv(id, { path = "a", csv = "b" }) end)
    end)

  case("upserts recipients: inserts without id, updates with one", function()
    local c, id = new_batch()
    local r = assert(c.batches:upsert(id, { { to_phonenumber = "+15550000001",
      variable_values = { name = "A", plan = "P" } } }))
    assert.equal(1, r.inserted_count)
    local row = r.data[1]
    r = assert(c.batches:upsert(id, {
      { id = row.id, to_phonenumber = "+15550000002", variable_values = { name = "B", plan = "P" } },
      { to_phonenumber = "+15550000003" },
    }))
    assert.equal(1, r.updated_count)
    assert.equal(1, r.inserted_count)
    local list = assert(c.batches:recipients(id))
    assert.equal(2, #list)
    assert.equal("15550000002", list[1].to_phonenumber)
    assert.equal("B", list[1].variable_values.name)
    local none, err = c.batches:upsert(id, { { id = UNKNOWN, to_phonenumber = "+15550000004" } })
    assert.is_nil(none)
    assert.equal(404, err.status)
    raises("items%[1%]%.to_phonenumber is required", function() c.batches:upsert(id, { {} }) end)
    raises("items%[1%]%.variable_values must be a table",
      function() c.batches:upsert(id, { { to_phonenumber = "+1", variable_values = "x" } }) end)
  end)

  case("changes variables and removes a recipient before the start", function()
    local c, id = new_batch()
    assert(c.batches:upload(id, { ROWS[1], ROWS[2] }))
    local r = assert(c.batches:set_variables(id, { "name" }))
    assert.same({ "name" }, r.data.variable_names)
    assert.same({ "name" }, assert(c.batches:get(id)).variable_names)
    assert.matches('"variable_names":%[%]', (function()
      assert(c.batches:set_variables(id, {}))
      return emu.stats().last_request.body
    end)())
    raises("names must be an array of names", function() c.batches:set_variables(id, "name") end)
    local list = assert(c.batches:recipients(id))
    assert(c.batches:remove_recipient(id, list[1].id))
    list = assert(c.batches:recipients(id))
    assert.equal(1, #list)
    local none, err = c.batches:remove_recipient(id, UNKNOWN)
    assert.is_nil(none)
    assert.equal(404, err.status)
    raises("item_id must be a non%-empty string", function() c.batches:remove_recipient(id, "") end)
  end)

  case("starts, refuses a second start with 409 (not retried), and waits for the end", function()
    local c, id = filled(5, 2)
    local r = assert(c.batches:start(id))
    assert.equal(2, r.data.calling)
    local before = t.requests("POST /api/v1/batch-call/start/{batch_id}")
    local again, err = c.batches:start(id)
    assert.is_nil(again)
    assert.equal(409, err.status)
    assert.is_false(err.retryable)
    assert.matches("batches:wait", err.hint)
    assert.equal(1, t.requests("POST /api/v1/batch-call/start/{batch_id}") - before)
    local s = assert(c.batches:status(id))
    assert.equal("in_progress", s.data.batch.status)
    assert.equal(2, s.data.status_counts.calling)
    assert.equal(3, s.data.status_counts.not_started)
    local seen, polls = {}, 0
    local counts, resp = assert(c.batches:wait(id, { interval = 0.05, timeout = 10,
      on_progress = function(cn, batch)
        polls = polls + 1
        seen[cn.calling] = true
        assert.equal(id, batch.id)
      end }))
    assert.equal(200, resp.status)
    assert.equal(5, counts.total)
    assert.equal(0, counts.not_started)
    assert.equal(0, counts.calling)
    assert.equal(5, counts.completed + counts.failed + counts.no_answer)
    assert.is_true(polls >= 3, "it polled while the waves went by")
    assert.is_true(seen[1] or seen[2], "calls were seen in flight")
    local b = assert(c.batches:get(id))
    assert.equal("completed", b.status)
    for _, row in ipairs(assert(c.batches:recipients(id))) do
      assert.matches("^CA%x+$", row.call_sid)
      if row.status == "failed" then assert.is_string(row.error_message) end
    end
    local none
    none, err = c.batches:start(id)
    assert.is_nil(none)
    assert.equal(400, err.status)
  end)

  case("gives the same outcomes for the same seed", function()
    local function run()
      t.reset { seed = 7 }
      local c, id = filled(6, 6)
      assert(c.batches:start(id))
      assert(c.batches:wait(id, { interval = 0.05 }))
      local out = {}
      for _, row in ipairs(assert(c.batches:recipients(id))) do out[#out + 1] = row.status end
      return out
    end
    assert.same(run(), run())
  end)

  case("filters recipients by status, and refuses changes once started", function()
    local c, id = filled(3, 1)
    assert(c.batches:start(id))
    local calling = assert(c.batches:recipients(id, { status = "calling" }))
    assert.equal(1, #calling)
    assert.equal("status=calling", emu.stats().last_request.query)
    assert.equal(2, #assert(c.batches:recipients(id, { status = "not_started" })))
    raises("status must be one of", function() c.batches:recipients(id, { status = "done" }) end)
    local r, err = c.batches:upload(id, { ROWS[1] })
    assert.is_nil(r)
    assert.equal(400, err.status)
    r, err = c.batches:upsert(id, { { to_phonenumber = "+15550000001" } })
    assert.is_nil(r)
    assert.equal(400, err.status)
    r, err = c.batches:set_variables(id, { "x" })
    assert.is_nil(r)
    assert.equal(400, err.status)
  end)

  case("sleeps through the client while waiting, and times out with the last counts", function()
    local c, id = filled(4, 1)
    assert(c.batches:start(id))
    local slept = {}
    local real = c.sleep
    c.sleep = function(self, s)
      slept[#slept + 1] = s
      return real(self, s)
    end
    local counts, err = c.batches:wait(id, { interval = 0.02, timeout = 0.1 })
    assert.is_nil(counts)
    assert.equal("timeout", err.kind)
    assert.matches("still calling after 0%.1 s", err.message)
    assert.equal(4, err.data.total)
    assert.is_true(#slept >= 2)
    for _, s in ipairs(slept) do assert.is_true(s > 0 and s <= 0.02 + 1e-9) end
  end)

  case("refuses to wait for a batch that was never started", function()
    local c, id = filled(2)
    local counts, err = c.batches:wait(id, { interval = 0.01, timeout = 5 })
    assert.is_nil(counts)
    assert.equal("not_started", err.kind)
    assert.matches("batches:start", err.hint)
    raises("interval must be a number > 0", function() c.batches:wait(id, { interval = 0 }) end)
    raises("unknown option 'every'", function() c.batches:wait(id, { every = 1 }) end)
    local none
    none, err = c.batches:wait(UNKNOWN, { interval = 0.01 })
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  case("returns at once for a batch that is already finished", function()
    local c, id = filled(1, 1)
    assert(c.batches:start(id))
    assert(c.batches:wait(id, { interval = 0.05 }))
    local before = t.requests("GET /api/v1/batch-call/{batch_id}/status")
    local counts = assert(c.batches:wait(id))
    assert.equal(1, counts.total)
    assert.equal(1, t.requests("GET /api/v1/batch-call/{batch_id}/status") - before)
  end)

  case("ends a call early from the carrier's status callback", function()
    local c, id = filled(2, 1)
    assert(c.batches:start(id))
    local calling = assert(c.batches:recipients(id, { status = "calling" }))[1]
    local r = assert(c.batches:status_callback { CallSid = calling.call_sid, CallStatus = "busy" })
    assert.equal("failed", r.data.status)
    local last = emu.stats().last_request
    assert.equal("application/x-www-form-urlencoded", last.headers["content-type"])
    assert.equal("CallSid=" .. calling.call_sid .. "&CallStatus=busy", last.body)
    local rows = assert(c.batches:recipients(id))
    assert.equal("failed", rows[1].status)
    assert.equal("calling", rows[2].status, "the next wave started at once")
    local none, err = c.batches:status_callback { CallStatus = "completed" }
    assert.is_nil(none)
    assert.equal(400, err.status)
    none, err = c.batches:status_callback { CallSid = "CAnothing", CallStatus = "completed" }
    assert.is_nil(none)
    assert.equal(404, err.status)
    raises("a table of form fields is required", function() c.batches:status_callback {} end)
  end)

  case("lists the caller's batches newest first, as arrays", function()
    local c, first = new_batch { batch_name = "First" }
    local _, second = new_batch { batch_name = "Second" }
    local list, resp = assert(c.batches:list())
    assert.equal(200, resp.status)
    assert.equal(2, #list)
    assert.equal(second, list[1].id)
    assert.equal(first, list[2].id)
    local me = emu.info().user_id
    assert.same(list, assert(c.batches:list_for_user(me)))
    local none, err = c.batches:list_for_user(UNKNOWN)
    assert.is_nil(none)
    assert.equal(403, err.status)
    local page = assert(c.batches:browse { page = 1, page_size = 1 })
    assert.equal(2, page.total)
    assert.equal(second, page.items[1].id)
    page = assert(c.batches:browse { page = 2, page_size = 1 })
    assert.equal(first, page.items[1].id)
    raises("page must be an integer >= 1", function() c.batches:browse { page = 0 } end)
  end)

  local BROWSE = "GET /api/v1/batch-call/browse"

  -- n new batches; their ids newest first, as browse lists them.
  local function batches(n)
    local c, ids = nil, {}
    for i = 1, n do
      local id
      c, id = new_batch { batch_name = "Batch " .. i }
      table.insert(ids, 1, id)
    end
    return c, ids
  end

  case("walks browse page by page and batch by batch", function()
    local c, ids = batches(5)
    local before = t.requests(BROWSE)
    local sizes, seen = {}, {}
    for page in c.batches:browse_pages { page_size = 2 } do
      sizes[#sizes + 1] = #page.items
      assert.equal(5, page.total)
      assert.equal(#sizes, page.page)
      for _, b in ipairs(page.items) do seen[#seen + 1] = b.id end
    end
    assert.same({ 2, 2, 1 }, sizes)
    assert.same(ids, seen)
    assert.equal(3, t.requests(BROWSE) - before, "no request for an empty page")
    local names = {}
    for b in c.batches:browse_items { page_size = 3 } do names[#names + 1] = b.batch_name end
    assert.same({ "Batch 5", "Batch 4", "Batch 3", "Batch 2", "Batch 1" }, names)
    local some = assert(c.batches:browse_items { limit = 3, page_size = 2, scope = "all" }:all())
    assert.equal(3, #some)
    assert.equal(ids[3], some[3].id)
    assert.same({ scope = "all", page = "2", page_size = "2" }, t.last_query(),
      "other fields go to the query as given")
    local pages = 0
    for _ in c.batches:browse_pages { page_size = 1, max_pages = 2 } do pages = pages + 1 end
    assert.equal(2, pages)
    local iter, _, _, closing = c.batches:browse_items {}
    assert.equal(iter, closing)
    before = t.requests(BROWSE)
    raises("bad argument #1 to 'browse_pages' %(page_size must be an integer from 1 to 100%)",
      function() c.batches:browse_pages { page_size = 0 } end)
    raises("bad argument #1 to 'browse_items' %(table expected, got string%)",
      function() c.batches:browse_items "all" end)
    kit.raise_at_caller {
      function() c.batches:browse_items { limit = 1.5 } end,
      function() c.batches:browse_pages(true) end,
    }
    assert.equal(before, t.requests(BROWSE))
  end)

  case("ends a browse walk that fails mid-way with the error, never a silent stop", function()
    local _, ids = batches(5)
    local c = t.client { max_retries = 0 }
    emu.fault(BROWSE, { delay = 0 }, 1) -- the first page comes through
    emu.fault(BROWSE, { status = 500, json = { detail = "database gone" } }, 1)
    local walk = c.batches:browse_items { page_size = 2 }
    local seen = {}
    local ok, msg = pcall(function() for b in walk do seen[#seen + 1] = b.id end end)
    assert.is_false(ok)
    assert.same({ ids[1], ids[2] }, seen)
    assert.equal("string", type(msg))
    assert.matches("^kupe: GET /api/v1/batch%-call/browse: 500 Internal Server Error: database gone", msg)
    assert.equal("http", walk.error.kind)
    assert.equal(500, walk.error.status)
    assert.is_nil(walk(), "a failed walk stays ended")

    emu.fault(BROWSE, { delay = 0 }, 1)
    emu.fault(BROWSE, { malformed = true }, 1) -- 200, but not JSON
    local pages = 0
    local done, err = c.batches:browse_pages { page_size = 2 }:each(function() pages = pages + 1 end)
    assert.is_nil(done)
    assert.equal("decode", err.kind)
    assert.equal(1, pages)
  end)

  case("reports a list answer without rows as a decode error", function()
    local c = t.client()
    emu.fault("GET /api/v1/batch-call/me", { json = { success = true, count = 0 } }, 1)
    local list, err = c.batches:list()
    assert.is_nil(list)
    assert.equal("decode", err.kind)
    emu.fault("GET /api/v1/batch-call/me", { json = { success = true, data = emu.array() } }, 1)
    list = assert(c.batches:list())
    assert.equal(0, #list)
  end)

  case("deletes a batch and its recipients", function()
    local c, id = filled(2)
    local r = assert(c.batches:delete(id))
    assert.equal(2, r.data.recipients_deleted)
    local none, err = c.batches:get(id)
    assert.is_nil(none)
    assert.equal(404, err.status)
    assert.equal(0, #assert(c.batches:list()))
  end)

  return cases
end
