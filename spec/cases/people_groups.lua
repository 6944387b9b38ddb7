-- People groups: groups, columns, rows, walkers and uploads. Shared by the
-- libcurl specs and the nginx specs (see spec/helpers/cases.lua).
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN, write = kit.UNKNOWN, kit.write

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  local function new_group(c, name)
    return assert(c.people_groups:create { name = name or "Leads" }).group
  end

  local function by_name(columns)
    local out = {}
    for _, col in ipairs(columns) do out[col.display_name] = col end
    return out
  end

  -- A CSV of n contacts: Name, Phone, City; every 10th has no phone.
  local function contacts_csv(n)
    local lines = { "Name,Phone,City" }
    for i = 1, n do
      local phone = i % 10 == 0 and "" or ("+1415555%04d"):format(i)
      lines[#lines + 1] = ("Person %d,%s,City %d"):format(i, phone, i % 7)
    end
    return table.concat(lines, "\r\n") .. "\r\n"
  end

  case("creates, lists, updates and deletes groups, answering 200 and keyed wrappers", function()
    local c = t.client()
    local created, resp = c.people_groups:create { name = "Leads", icon_emoji = "📞",
      description = "March list" }
    assert.equal(200, resp.status)
    local g = created.group
    assert.is_string(g.id)
    assert.equal("Leads", g.name)
    assert.equal("📞", g.icon_emoji)
    assert.equal(emu.info().user_id, g.user_id)
    local other = new_group(c, "Customers")

    local list = assert(c.people_groups:list())
    assert.same({ "Customers", "Leads" }, { list.groups[1].name, list.groups[2].name })

    local updated = assert(c.people_groups:update(g.id, { name = "Hot leads",
      description = kupe.null })).group
    assert.equal("Hot leads", updated.name)
    assert.equal(kupe.null, updated.description)
    assert.equal("📞", updated.icon_emoji, "fields not sent stay as they were")

    local gone = assert(c.people_groups:delete(g.id))
    assert.same({ ok = "true" }, gone)
    list = assert(c.people_groups:list())
    assert.equal(1, #list.groups)
    assert.equal(other.id, list.groups[1].id)

    local res, err = c.people_groups:update(g.id, { name = "Again" })
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.equal("People group not found", err.message)
    res, err = c.people_groups:delete(g.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("lists no groups as an empty array", function()
    local c = t.client()
    local list = assert(c.people_groups:list())
    assert.same({}, list.groups)
    assert.equal(kupe.array_mt, getmetatable(list.groups))
  end)

  case("raises for a missing or blank name or a wrong field before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.people_groups:create {} end,
      "bad argument #1 to 'create' (name is required)")
    assert.has_error(function() c.people_groups:create { name = "  " } end,
      "bad argument #1 to 'create' (name must be a non-empty string, got string)")
    assert.has_error(function() c.people_groups:create { name = "x", description = 5 } end,
      "bad argument #1 to 'create' (description must be a string or kupe.null, got number)")
    assert.has_error(function() c.people_groups:create() end)
    assert.has_error(function() c.people_groups:update(nil, { name = "x" }) end,
      "bad argument #1 to 'update' (group_id must be a non-empty string, got nil)")
    assert.has_error(function() c.people_groups:update(UNKNOWN, { name = "" }) end)
    assert.has_error(function() c.people_groups:delete("") end,
      "bad argument #1 to 'delete' (group_id must be a non-empty string, got an empty string)")
    assert.equal(before, t.requests())
  end)

  case("points every raised error at the caller's line", function()
    local c = t.client()
    kit.raise_at_caller {
      function() c.people_groups:create {} end,
      function() c.people_groups:update(UNKNOWN, 5) end,
      function() c.people_groups:rows(UNKNOWN, { limit = 0 }) end,
      function() c.people_groups:row_items(nil) end,
      function() c.people_groups:row_pages(UNKNOWN, { offset = 1 }) end,
      function() c.people_groups:row_items(UNKNOWN, { page_size = 5000 }) end,
      function() c.people_groups:create_row(UNKNOWN, {}) end,
      function() c.people_groups:upload(nil, "/x.csv") end,
      function() c.people_groups:upload_csv(UNKNOWN, "/x.xlsx") end,
      function() c.people_groups:preview_upload(UNKNOWN, { data = "x" }) end,
    }
  end)

  case("answers 422 for an id that is not a UUID, escaping it in the path", function()
    local c = t.client()
    local res, err = c.people_groups:update("no/such?id", { name = "x" })
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.equal("path", err.detail[1].loc[1])
    assert.equal("group_id", err.detail[1].loc[2])
    assert.equal("/api/v1/people-groups/no%2Fsuch%3Fid", emu.stats().last_request.path)
    res, err = c.people_groups:columns("not-a-uuid")
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.matches("group_id: Input should be a valid UUID", err.message)
  end)

  case("answers 403 to an API key without the scope", function()
    t.reset { api_keys = { { key = "emu_agents_only", scopes = { "/api/v1/agents" } } } }
    local c = t.client { api_key = "emu_agents_only" }
    local res, err = c.people_groups:list()
    assert.is_nil(res)
    assert.equal(403, err.status)
    assert.equal("Forbidden: API Key does not have required scopes", err.message)
  end)

  case("creates, lists, renames and deletes columns", function()
    local c = t.client()
    local g = new_group(c)
    local name = assert(c.people_groups:create_column(g.id, { display_name = "Name",
      column_type = "text" })).column
    assert.equal(g.id, name.group_id)
    assert.equal(0, name.order_by)
    local phone = assert(c.people_groups:create_column(g.id, { display_name = "Phone",
      column_type = "phone" })).column
    assert.equal(1, phone.order_by)
    assert(c.people_groups:create_column(g.id, { display_name = "First", column_type = "text",
      order_by = -1 }))

    local cols = assert(c.people_groups:columns(g.id)).columns
    assert.same({ "First", "Name", "Phone" },
      { cols[1].display_name, cols[2].display_name, cols[3].display_name })

    local renamed = assert(c.people_groups:update_column(g.id, name.id,
      { display_name = "Full name" })).column
    assert.equal("Full name", renamed.display_name)
    assert.equal("text", renamed.column_type)

    local res, err = c.people_groups:create_column(g.id, { display_name = "phone",
      column_type = "text" })
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.matches("already exists", err.message)

    assert.same({ ok = "true" }, assert(c.people_groups:delete_column(g.id, phone.id)))
    cols = assert(c.people_groups:columns(g.id)).columns
    assert.equal(2, #cols)
    assert.is_nil(by_name(cols).Phone)
    res, err = c.people_groups:update_column(g.id, phone.id, { column_type = "email" })
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.people_groups:delete_column(g.id, phone.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.people_groups:columns(UNKNOWN)
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("raises for a column without display_name or column_type", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.people_groups:create_column(UNKNOWN, { display_name = "x" }) end,
      "bad argument #2 to 'create_column' (column_type is required)")
    assert.has_error(function() c.people_groups:create_column(UNKNOWN, { column_type = "text" }) end,
      "bad argument #2 to 'create_column' (display_name is required)")
    assert.has_error(function()
      c.people_groups:create_column(UNKNOWN, { display_name = "x", column_type = "text", order_by = 1.5 })
    end, "bad argument #2 to 'create_column' (order_by must be an integer or kupe.null, got number)")
    assert.has_error(function() c.people_groups:update_column(UNKNOWN, nil, {}) end,
      "bad argument #2 to 'update_column' (column_id must be a non-empty string, got nil)")
    assert.has_error(function() c.people_groups:delete_column(UNKNOWN) end)
    assert.equal(before, t.requests())
  end)

  case("creates, pages, replaces and deletes rows", function()
    local c = t.client()
    local g = new_group(c)
    local ids = {}
    for i = 1, 5 do
      local row = assert(c.people_groups:create_row(g.id, { properties = { Name = "P" .. i,
        Phone = "+9198450000" .. i } })).row
      assert.equal(g.id, row.group_id)
      assert.equal("P" .. i, row.properties.Name)
      ids[i] = row.id
    end
    local page = assert(c.people_groups:rows(g.id, { limit = 2, offset = 1 })).rows
    assert.same({ ids[2], ids[3] }, { page[1].id, page[2].id })
    assert.same({ limit = "2", offset = "1" }, t.last_query())
    assert.equal(5, #assert(c.people_groups:rows(g.id)).rows)

    local row = assert(c.people_groups:update_row(g.id, ids[1], { properties = { Name = "Asha" } })).row
    assert.same({ Name = "Asha" }, row.properties, "properties are replaced as a whole")
    assert.same({ Name = "Asha" }, assert(c.people_groups:rows(g.id, { limit = 1 })).rows[1].properties)

    assert.same({ ok = "true" }, assert(c.people_groups:delete_row(g.id, ids[2])))
    assert.equal(4, #assert(c.people_groups:rows(g.id)).rows)
    local res, err = c.people_groups:update_row(g.id, ids[2], { properties = {} })
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.equal("Row not found", err.message)
    res, err = c.people_groups:delete_row(g.id, ids[2])
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.people_groups:create_row(UNKNOWN, { properties = { Name = "x" } })
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("sends empty properties as an object, and raises for missing or list properties", function()
    local c = t.client()
    local g = new_group(c)
    local row = assert(c.people_groups:create_row(g.id, { properties = {} })).row
    assert.same({}, row.properties)
    assert.matches('"properties":{}', emu.stats().last_request.body, 1, true)
    local before = t.requests()
    assert.has_error(function() c.people_groups:create_row(g.id, {}) end,
      "bad argument #2 to 'create_row' (properties is required)")
    assert.has_error(function() c.people_groups:create_row(g.id, { properties = { "a", "b" } }) end)
    assert.has_error(function() c.people_groups:create_row(g.id, { properties = kupe.array {} }) end)
    assert.has_error(function() c.people_groups:rows(g.id, { limit = 0 }) end,
      "bad argument #2 to 'rows' (limit must be an integer >= 1)")
    assert.has_error(function() c.people_groups:rows(g.id, { offset = -1 }) end)
    assert.has_error(function() c.people_groups:rows(g.id, { page = 2 }) end,
      "bad argument #2 to 'rows' (unknown parameter 'page')")
    assert.has_error(function() c.people_groups:update_row(g.id, nil, {}) end)
    assert.has_error(function() c.people_groups:delete_row(g.id) end)
    assert.equal(before, t.requests())
  end)

  case("walks every row with limit/offset pages, stopping at the short page", function()
    local c = t.client()
    local g = new_group(c)
    assert(c.people_groups:upload(g.id, { data = contacts_csv(277), filename = "c.csv" }))
    local before = t.requests("GET /api/v1/people-groups/{group_id}/rows")
    local seen, n = {}, 0
    for row in c.people_groups:row_items(g.id) do
      assert.is_nil(seen[row.id], "no row twice")
      seen[row.id] = true
      n = n + 1
    end
    assert.equal(250, n) -- 27 of 277 have no phone
    assert.equal(3, t.requests("GET /api/v1/people-groups/{group_id}/rows") - before)

    local sizes = {}
    for page in c.people_groups:row_pages(g.id, { page_size = 100 }) do sizes[#sizes + 1] = #page.rows end
    assert.same({ 100, 100, 50 }, sizes)
    local pages = 0
    for _ in c.people_groups:row_pages(g.id, { page_size = 30, max_pages = 2 }) do pages = pages + 1 end
    assert.equal(2, pages)
    local all = assert(c.people_groups:row_items(g.id, { limit = 120, page_size = 50 }):all())
    assert.equal(120, #all)
    assert.equal("Person 1", all[1].properties.Name)
    assert.has_error(function() c.people_groups:row_items(g.id, { offset = 3 }) end)
    assert.has_error(function() c.people_groups:row_pages(nil) end)
  end)

  case("ends a row walk that fails mid-way with an error", function()
    local c = t.client { max_retries = 0 }
    local g = new_group(c)
    assert(c.people_groups:upload(g.id, { data = contacts_csv(30), filename = "c.csv" }))
    emu.fault("GET /api/v1/people-groups/{group_id}/rows", { status = 500,
      json = { detail = "database gone" } }, 1)
    local walk = c.people_groups:row_items(g.id, { page_size = 10 })
    local ok, msg = pcall(function() for _ in walk do end end)
    assert.is_false(ok)
    assert.matches("500 Internal Server Error: database gone", msg)
    assert.equal(500, walk.error.status)
  end)

  case("previews a CSV file without writing anything", function()
    local c = t.client()
    local g = new_group(c)
    local dir = t.tmpdir()
    local path = write(dir .. "/contacts.csv", contacts_csv(12))
    local p, resp = c.people_groups:preview_upload(g.id, path)
    assert.is_table(p, tostring(resp))
    assert.same({ "Name", "Phone", "City" }, p.detected_headers)
    assert.equal("Phone", p.phone_column)
    assert.equal(12, p.total_rows)
    assert.equal(1, p.rows_missing_phone)
    assert.equal(5, #p.sample_rows)
    assert.same({ Name = "Person 1", Phone = "+14155550001", City = "City 1" }, p.sample_rows[1])
    assert.same({ Name = "Name", Phone = "Phone", City = "City" }, p.column_mapping)
    assert.same({}, assert(c.people_groups:columns(g.id)).columns)
    assert.same({}, assert(c.people_groups:rows(g.id)).rows)
  end)

  case("uploads a CSV from disk as a multipart part named file", function()
    local c = t.client()
    local g = new_group(c)
    local dir = t.tmpdir()
    local path = write(dir .. "/march leads.csv", contacts_csv(20))
    local res, resp = c.people_groups:upload(g.id, { path = path })
    assert.is_table(res, tostring(resp))
    assert.equal(200, resp.status)
    assert.equal(18, res.inserted_count)
    assert.equal(2, res.skipped_count)
    assert.equal(3, res.columns_created)
    assert.same({ Name = "Name", Phone = "Phone", City = "City" }, res.column_mapping)
    assert.is_string(res.message)

    local last = emu.stats().last_request
    assert.matches("^multipart/form%-data; boundary=", last.headers["content-type"])
    assert.matches('Content-Disposition: form-data; name="file"; filename="march leads.csv"',
      last.body, 1, true)
    assert.matches("Content-Type: text/csv", last.body, 1, true)

    local cols = by_name(assert(c.people_groups:columns(g.id)).columns)
    assert.equal("phone", cols.Phone.column_type)
    assert.equal("text", cols.Name.column_type)
    local rows = assert(c.people_groups:rows(g.id, { limit = 1000 })).rows
    assert.equal(18, #rows)
    assert.same({ Name = "Person 1", Phone = "+14155550001", City = "City 1" }, rows[1].properties)
    for _, row in ipairs(rows) do assert.matches("^%+1415", row.properties.Phone) end
  end)

  case("reads quoted fields, doubled quotes, line breaks, a BOM and semicolons", function()
    local c = t.client()
    local g = new_group(c)
    local csv = '\239\187\191Name,Phone,Note\r\n"Doe, Jane",+14155550100,"said ""hi""\nthen left"\r\n'
      .. 'Bob,+14155550101,\r\n\r\n'
    local res = assert(c.people_groups:upload(g.id, { data = csv, filename = "q.csv" }))
    assert.equal(2, res.inserted_count)
    local rows = assert(c.people_groups:rows(g.id)).rows
    assert.same({ Name = "Doe, Jane", Phone = "+14155550100", Note = 'said "hi"\nthen left' },
      rows[1].properties)
    assert.equal("", rows[2].properties.Note)

    local g2 = new_group(c, "EU")
    res = assert(c.people_groups:upload(g2.id, { data = "Nom;Mobile\nAnne;+33 1 23 45 67 89\n",
      filename = "eu.csv" }))
    assert.equal(1, res.inserted_count)
    assert.same({ Nom = "Anne", Mobile = "+33 1 23 45 67 89" },
      assert(c.people_groups:rows(g2.id)).rows[1].properties)
  end)

  case("maps headers onto existing columns by name and type", function()
    local c = t.client()
    local g = new_group(c)
    assert(c.people_groups:create_column(g.id, { display_name = "Contact", column_type = "phone" }))
    assert(c.people_groups:create_column(g.id, { display_name = "Full Name", column_type = "text" }))
    local p = assert(c.people_groups:preview_upload(g.id, { data = "full_name,CONTACT,Age\nA,+14155550100,30\n",
      filename = "x.csv" }))
    assert.equal("CONTACT", p.phone_column)
    local res = assert(c.people_groups:upload(g.id, { data = "full_name,CONTACT,Age\nA,+14155550100,30\n",
      filename = "x.csv" }))
    assert.equal(1, res.columns_created)
    assert.same({ full_name = "Full Name", CONTACT = "Contact", Age = "Age" }, res.column_mapping)
    assert.same({ ["Full Name"] = "A", Contact = "+14155550100", Age = "30" },
      assert(c.people_groups:rows(g.id)).rows[1].properties)
  end)

  case("skips every row of a file without a phone column, with a warning", function()
    local c = t.client()
    local g = new_group(c)
    local res = assert(c.people_groups:upload(g.id, { data = "Name,City\nA,B\nC,D\n", filename = "x.csv" }))
    assert.equal(0, res.inserted_count)
    assert.equal(2, res.skipped_count)
    assert.matches("phone", res.warnings[#res.warnings])
  end)

  case("upload_csv takes UTF-8 CSV and refuses Latin-1; upload reads Latin-1", function()
    local c = t.client()
    local g = new_group(c)
    local res = assert(c.people_groups:upload_csv(g.id, { data = "Name,Phone\nJosé,+14155550100\n",
      filename = "u.csv" }))
    assert.equal(1, res.inserted_count)
    assert.equal("José", assert(c.people_groups:rows(g.id)).rows[1].properties.Name)
    assert.equal(1, t.requests("POST /api/v1/people-groups/{group_id}/upload-csv"))

    local latin1 = "Name,Phone\nJos\233,+14155550101\n"
    local bad, err = c.people_groups:upload_csv(g.id, { data = latin1, filename = "l.csv" })
    assert.is_nil(bad)
    assert.equal(400, err.status)
    assert.matches("UTF%-8", err.message)
    res = assert(c.people_groups:upload(g.id, { data = latin1, filename = "l.csv" }))
    assert.equal(1, res.inserted_count)
    assert.matches("Latin%-1", res.warnings[1])
    assert.equal("José", assert(c.people_groups:rows(g.id)).rows[2].properties.Name)
  end)

  case("raises for a file name that is not CSV or Excel, before sending", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.people_groups:upload(UNKNOWN, { data = "a", filename = "x.txt" }) end,
      "bad argument #2 to 'upload' (the file must be a .csv, .xlsx or .xls file (got 'x.txt'); "
        .. "pass filename = 'name.csv' to name it)")
    assert.has_error(function() c.people_groups:upload_csv(UNKNOWN, { data = "a", filename = "x.xlsx" }) end)
    assert.has_error(function() c.people_groups:preview_upload(UNKNOWN, { data = "a" }) end)
    assert.has_error(function() c.people_groups:upload(UNKNOWN, { path = "/x.csv", data = "a" }) end)
    assert.has_error(function() c.people_groups:upload(UNKNOWN, 42) end)
    assert.has_error(function() c.people_groups:upload(UNKNOWN, { path = "/x.csv", size = 1 }) end)
    assert.has_error(function() c.people_groups:upload(nil, "/x.csv") end)
    assert.equal(before, t.requests())
  end)

  -- spec/fixtures/contacts.xlsx: a deflated workbook whose sheet (the
  -- second part, found through the relationships) has shared strings with
  -- rich text and an entity, a phone number stored as 9.19845012345E+11,
  -- an empty row, a row without a phone, an inline string and a gap.
  local FIXTURES = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]+$") or ".") .. "/../fixtures"

  case("imports an Excel workbook from disk", function()
    local c = t.client()
    local g = new_group(c)
    local p = assert(c.people_groups:preview_upload(g.id, FIXTURES .. "/contacts.xlsx"))
    assert.same({ "Name", "Mobile", "City" }, p.detected_headers)
    assert.equal("Mobile", p.phone_column)
    assert.equal(3, p.total_rows)
    assert.equal(1, p.rows_missing_phone)
    local res = assert(c.people_groups:upload(g.id, { path = FIXTURES .. "/contacts.xlsx" }))
    assert.equal(2, res.inserted_count)
    assert.equal(1, res.skipped_count)
    assert.matches("Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      emu.stats().last_request.body, 1, true)
    local rows = assert(c.people_groups:rows(g.id)).rows
    assert.same({ Name = "Asha", Mobile = "919845012345", City = "Pune & Co" }, rows[1].properties)
    assert.same({ Name = "Zoé", Mobile = "+14155550100", City = "" }, rows[2].properties)
    assert.equal("phone", by_name(assert(c.people_groups:columns(g.id)).columns).Mobile.column_type)
  end)

  case("sends the content type of the extension; the server refuses unreadable workbooks", function()
    local c = t.client()
    local g = new_group(c)
    local _, err = c.people_groups:upload(g.id, { data = "PK\3\4not really", filename = "book.xlsx" })
    assert.equal(400, err.status)
    assert.matches("Excel", err.message)
    _, err = c.people_groups:upload(g.id, { data = "\208\207\17\224old", filename = "book.XLS" })
    assert.matches("Content-Type: application/vnd.ms-excel", emu.stats().last_request.body, 1, true)
    assert.equal(400, err.status) -- this emulator reads no binary .xls
    local res = assert(c.people_groups:upload(g.id, { data = "Name,Phone\nA,+14155550100\n",
      filename = "x.csv", type = "application/octet-stream" }))
    assert.equal(1, res.inserted_count)
    assert.matches("Content-Type: application/octet-stream", emu.stats().last_request.body, 1, true)
  end)

  case("answers nil, err without sending for a missing file or one over 10 MB", function()
    local c = t.client()
    local dir = t.tmpdir()
    local before = t.requests()
    local res, err = c.people_groups:upload(UNKNOWN, dir .. "/missing.csv")
    assert.is_nil(res)
    assert.equal("io", err.kind)
    assert.matches("missing%.csv", tostring(err))

    local big = dir .. "/big.csv"
    local f = assert(io.open(big, "wb"))
    f:write("Name,Phone\n")
    f:seek("set", 10 * 1024 * 1024)
    f:write("x\n")
    f:close()
    res, err = c.people_groups:upload(UNKNOWN, big)
    assert.is_nil(res)
    assert.equal("too_large", err.kind)
    assert.matches("10 MB", err.message)
    res, err = c.people_groups:preview_upload(UNKNOWN, { data = string.rep("x", 10 * 1024 * 1024 + 1),
      filename = "b.csv" })
    assert.is_nil(res)
    assert.equal("too_large", err.kind)
    assert.equal(before, t.requests())
  end)

  case("the server refuses a file over 10 MB with 413 and a missing part with 422", function()
    local c = t.client()
    local g = new_group(c)
    local dir = t.tmpdir()
    local big = dir .. "/big.csv"
    local f = assert(io.open(big, "wb"))
    f:write("Name,Phone\n", string.rep("A,+14155550100\n", math.floor(10 * 1024 * 1024 / 15) + 1))
    f:close()
    local path = "/api/v1/people-groups/" .. g.id .. "/upload"
    local res, err = c:request("POST", path, { form = { { name = "file", path = big,
      filename = "big.csv", type = "text/csv" } } })
    assert.is_nil(res)
    assert.equal(413, err.status)
    assert.matches("10 MB", err.message)
    res, err = c:request("POST", path, { form = { { name = "document", value = "x" } } })
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.same({ "body", "file" }, err.detail[1].loc)
    res, err = c.people_groups:upload(g.id, { data = "", filename = "empty.csv" })
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.same({}, assert(c.people_groups:rows(g.id)).rows)
  end)

  case("deleting a group deletes its columns and rows", function()
    local c = t.client()
    local g = new_group(c)
    assert(c.people_groups:upload(g.id, { data = contacts_csv(3), filename = "c.csv" }))
    assert(c.people_groups:delete(g.id))
    local res, err = c.people_groups:rows(g.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.people_groups:upload(g.id, { data = contacts_csv(3), filename = "c.csv" })
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.people_groups:preview_upload(g.id, { data = contacts_csv(3), filename = "c.csv" })
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  return cases
end
