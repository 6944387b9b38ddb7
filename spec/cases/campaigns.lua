-- Campaigns: CRUD, lists and walkers, readiness and the launch state
-- machine, members from people groups, logs, analytics and exports.
-- Shared by the libcurl specs and the nginx specs (see spec/helpers/cases.lua).
local assert = require "luassert"
local kupe = require "kupe"
local kit = require "spec.helpers.case_kit"

local UNKNOWN = kit.UNKNOWN

return function(t)
  local emu = t.emu
  local cases, case = kit.registry()

  -- An active agent and caller line of the seeded account, and the others.
  local function fixtures()
    local info = emu.info()
    local f = {}
    for _, a in ipairs(info.agents) do
      if a.is_active and not a.hipaa_compliance then f.agent = a.id end
    end
    for _, p in ipairs(info.phone_numbers) do
      if p.is_active then f.phone = f.phone or p.id else f.inactive_phone = p.id end
    end
    return f
  end

  local function new_campaign(c, fields)
    local f = fixtures()
    local body = { agent_id = f.agent, caller_phone_id = f.phone, batch_name = "Spring renewals",
      variable_names = { "Name" } }
    for k, v in pairs(fields or {}) do body[k] = v end
    return assert(c.campaigns:create(body)).campaign
  end

  -- A people group of `n` contacts with distinct numbers.
  local function new_group(c, n, first, name)
    local g = assert(c.people_groups:create { name = name or "Leads" }).group
    local lines = { "Name,Phone,Plan" }
    for i = 1, n do
      lines[#lines + 1] = ("Person %d,+1415555%04d,Gold"):format(i, (first or 0) + i)
    end
    assert(c.people_groups:upload(g.id, { data = table.concat(lines, "\n"), filename = "g.csv" }))
    return g
  end

  local function ready_campaign(c, members, fields)
    local camp = new_campaign(c, fields)
    local g = new_group(c, members)
    assert(c.campaigns:add_group(camp.id, g.id))
    return camp, g
  end

  local function finished(c, members, fields)
    local camp = ready_campaign(c, members, fields)
    assert(c.campaigns:start(camp.id))
    local done = assert(c.campaigns:wait(camp.id, { interval = 0, timeout = 10 })).campaign
    assert.equal("completed", done.status)
    return camp
  end

  case("creates a campaign: 200, {campaign}, variable_names {} sent as []", function()
    local c = t.client()
    local f = fixtures()
    local res, resp = c.campaigns:create { agent_id = f.agent, caller_phone_id = f.phone,
      batch_name = "Renewals", variable_names = {} }
    assert.is_table(res, tostring(resp))
    assert.equal(200, resp.status)
    local camp = res.campaign
    assert.is_string(camp.id)
    assert.equal("not_started", camp.status)
    assert.equal(f.agent, camp.agent_id)
    assert.equal(f.phone, camp.caller_phone_id)
    assert.equal(emu.info().user_id, camp.user_id)
    assert.same({}, camp.variable_names)
    assert.equal(kupe.array_mt, getmetatable(camp.variable_names))
    assert.equal(kupe.null, camp.workflow_id)
    assert.equal(1, camp.batch_size)
    assert.matches('"variable_names":[]', emu.stats().last_request.body, 1, true)
  end)

  case("raises for a missing required field or a wrong type before sending", function()
    local c = t.client()
    local f = fixtures()
    local full = { agent_id = f.agent, caller_phone_id = f.phone, batch_name = "x", variable_names = {} }
    local function without(key, extra)
      local b = {}
      for k, v in pairs(full) do if k ~= key then b[k] = v end end
      for k, v in pairs(extra or {}) do b[k] = v end
      return b
    end
    local before = t.requests()
    for _, key in ipairs { "agent_id", "caller_phone_id", "batch_name" } do
      assert.has_error(function() c.campaigns:create(without(key)) end,
        ("bad argument #1 to 'create' (%s is required)"):format(key))
    end
    assert.has_error(function() c.campaigns:create(without("variable_names")) end,
      "bad argument #1 to 'create' (variable_names is required (use {} when the agent's prompt "
        .. "has no {{variables}}))")
    assert.has_error(function() c.campaigns:create(without(nil, { variable_names = { "a", 2 } })) end,
      "bad argument #1 to 'create' (variable_names must be a list of strings, got table)")
    assert.has_error(function() c.campaigns:create(without(nil, { batch_size = 0 })) end,
      "bad argument #1 to 'create' (batch_size must be an integer >= 1 or kupe.null, got number)")
    assert.has_error(function() c.campaigns:create(without(nil, { batch_name = " " })) end)
    assert.has_error(function() c.campaigns:create(without(nil, { agent_id = "" })) end)
    assert.has_error(function() c.campaigns:create(without(nil, { workflow_id = 7 })) end)
    assert.has_error(function() c.campaigns:create() end,
      "bad argument #1 to 'create' (table expected, got nil)")
    assert.has_error(function() c.campaigns:update(UNKNOWN, { variable_names = "a" }) end)
    assert.equal(before, t.requests())
  end)

  case("does not change the caller's table and passes unknown fields through", function()
    local c = t.client()
    local f = fixtures()
    local names = { "first_name" }
    local body = { agent_id = f.agent, caller_phone_id = f.phone, batch_name = "x",
      variable_names = names, max_retries = 2 }
    assert(c.campaigns:create(body))
    assert.is_nil(getmetatable(names))
    assert.equal(names, body.variable_names)
    assert.matches('"max_retries":2', emu.stats().last_request.body, 1, true)
  end)

  case("answers 422 for ids that are not UUIDs, escaping path ids", function()
    local c = t.client()
    local f = fixtures()
    local res, err = c.campaigns:create { agent_id = "agent-1", caller_phone_id = f.phone,
      batch_name = "x", variable_names = {} }
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.same({ "body", "agent_id" }, err.detail[1].loc)
    assert.matches("agent_id: Input should be a valid UUID", err.message)
    res, err = c.campaigns:get("a/b?c")
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.equal("/api/v1/campaigns/a%2Fb%3Fc", emu.stats().last_request.path)
  end)

  case("gets, updates and deletes a campaign", function()
    local c = t.client()
    local camp = new_campaign(c, { description = "first" })
    local got = assert(c.campaigns:get(camp.id)).campaign
    assert.equal(camp.id, got.id)
    assert.equal("first", got.description)

    local updated = assert(c.campaigns:update(camp.id, { batch_name = "Autumn", variable_names = {},
      description = kupe.null, batch_size = 3 })).campaign
    assert.equal("Autumn", updated.batch_name)
    assert.same({}, updated.variable_names)
    assert.matches('"variable_names":[]', emu.stats().last_request.body, 1, true)
    assert.equal(kupe.null, updated.description)
    assert.equal(3, updated.batch_size)
    assert.equal(camp.agent_id, updated.agent_id, "fields not sent stay as they were")
    assert.equal("Autumn", assert(c.campaigns:get(camp.id)).campaign.batch_name)

    local gone, resp = c.campaigns:delete(camp.id)
    assert.same({ ok = "true" }, gone)
    assert.equal(200, resp.status)
    local res, err = c.campaigns:get(camp.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.equal("Campaign not found", err.message)
    res, err = c.campaigns:update(camp.id, { batch_name = "x" })
    assert.is_nil(res)
    assert.equal(404, err.status)
    res, err = c.campaigns:delete(camp.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("lists a page with the total, newest first, 10 by default", function()
    local c = t.client()
    for i = 1, 12 do new_campaign(c, { batch_name = "C" .. i }) end
    local page = assert(c.campaigns:list())
    assert.equal(12, page.total)
    assert.equal(10, #page.campaigns)
    assert.equal("C12", page.campaigns[1].batch_name)
    page = assert(c.campaigns:list { page = 2 })
    assert.same({ "C2", "C1" }, { page.campaigns[1].batch_name, page.campaigns[2].batch_name })
    page = assert(c.campaigns:list { page = 3, page_size = 5 })
    assert.equal(2, #page.campaigns)
    local before = t.requests()
    assert.has_error(function() c.campaigns:list { page_size = 101 } end,
      "bad argument #1 to 'list' (page_size must be an integer from 1 to 100)")
    assert.has_error(function() c.campaigns:list { page = 0 } end)
    assert.has_error(function() c.campaigns:list { size = 5 } end,
      "bad argument #1 to 'list' (unknown parameter 'size')")
    assert.has_error(function() c.campaigns:list { start_date = "March" } end)
    assert.equal(before, t.requests())
  end)

  case("filters the list by creation time: dates, date-times and Unix seconds", function()
    local c = t.client()
    new_campaign(c)
    new_campaign(c)
    assert.equal(2, assert(c.campaigns:list { start_date = "2000-01-01" }).total)
    assert.equal(0, assert(c.campaigns:list { start_date = "2999-01-01T00:00:00Z" }).total)
    assert.equal(0, assert(c.campaigns:list { end_date = 0 }).total)
    assert.equal("1970-01-01T00:00:00Z", t.last_query().end_date)
    assert.equal(2, assert(c.campaigns:list { start_date = os.time() - 86400, end_date = os.time() + 86400 }).total)
    local res, err = c.campaigns:list { start_date = "2026-13-45" }
    assert.is_nil(res)
    assert.equal(422, err.status)
  end)

  case("walks every campaign with pages and items", function()
    local c = t.client()
    for i = 1, 25 do new_campaign(c, { batch_name = "C" .. i }) end
    local before = t.requests("GET /api/v1/campaigns")
    local sizes = {}
    for page in c.campaigns:pages { page_size = 10 } do sizes[#sizes + 1] = #page.campaigns end
    assert.same({ 10, 10, 5 }, sizes)
    assert.equal(3, t.requests("GET /api/v1/campaigns") - before)
    local seen, n = {}, 0
    for camp in c.campaigns:items {} do
      assert.is_nil(seen[camp.id])
      seen[camp.id] = true
      n = n + 1
    end
    assert.equal(25, n)
    assert.equal(12, #assert(c.campaigns:items { limit = 12, page_size = 5 }:all()))
    assert.equal(0, #assert(c.campaigns:items { start_date = "2999-01-01" }:all()))
    assert.has_error(function() c.campaigns:pages { page_size = 500 } end)
    assert.has_error(function() c.campaigns:items { colour = "red" } end)
  end)

  case("reports readiness from the members, the agent and the caller line", function()
    local c = t.client()
    local f = fixtures()
    local camp = new_campaign(c)
    local r = assert(c.campaigns:readiness(camp.id))
    assert.is_false(r.can_start)
    assert.equal(0, r.member_count)
    assert.is_true(r.has_agent_or_workflow)
    assert.is_true(r.has_caller_phone)
    assert.equal("not_started", r.status)
    assert.equal(1, #r.blockers)
    assert.matches("no members", r.blockers[1])

    local g = new_group(c, 3)
    assert(c.campaigns:add_group(camp.id, g.id))
    r = assert(c.campaigns:readiness(camp.id))
    assert.is_true(r.can_start)
    assert.equal(3, r.member_count)
    assert.same({}, r.blockers)

    assert(c.campaigns:update(camp.id, { agent_id = UNKNOWN, caller_phone_id = f.inactive_phone }))
    r = assert(c.campaigns:readiness(camp.id))
    assert.is_false(r.can_start)
    assert.is_false(r.has_agent_or_workflow)
    assert.is_false(r.has_caller_phone)
    assert.equal(2, #r.blockers)
    assert(c.campaigns:update(camp.id, { workflow_id = UNKNOWN }))
    assert.is_true(assert(c.campaigns:readiness(camp.id)).has_agent_or_workflow)
    local res, err = c.campaigns:readiness(UNKNOWN)
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("refuses to start a campaign that is not ready, with a readable 400", function()
    local c = t.client()
    local camp = new_campaign(c)
    local before = t.requests("POST /api/v1/campaigns/{campaign_id}/start")
    local res, err = c.campaigns:start(camp.id)
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.matches("no members", err.message)
    assert.matches("^kupe: POST /api/v1/campaigns/[%x-]+/start: 400 Bad Request: Campaign cannot start",
      tostring(err))
    assert.equal(1, t.requests("POST /api/v1/campaigns/{campaign_id}/start") - before, "a 400 is not retried")
    assert.equal("not_started", assert(c.campaigns:get(camp.id)).campaign.status)
    res, err = c.campaigns:start(UNKNOWN)
    assert.is_nil(res)
    assert.equal(404, err.status)
  end)

  case("copies a group's rows into members, counting what it skips", function()
    local c = t.client()
    local camp = new_campaign(c)
    local g = assert(c.people_groups:create { name = "Mixed" }).group
    local csv = table.concat({
      "Name,Phone,Plan",
      "Asha,+91 98450 12345,Gold",       -- normalised
      "Bob,,Silver",                      -- no phone: skipped by the upload
      "Cy,12,Gold",                       -- not dialable: filtered
      "Di,+919845012345,Gold",            -- same number as Asha: duplicate
      "Ed,(415) 555-0100,Bronze",
    }, "\n")
    assert(c.people_groups:upload(g.id, { data = csv, filename = "m.csv" }))
    assert(c.people_groups:create_row(g.id, { properties = { Name = "Fay" } })) -- no phone
    local res, resp = c.campaigns:add_group(camp.id, g.id)
    assert.is_table(res, tostring(resp))
    assert.equal(2, res.inserted_count)
    assert.equal(3, res.skipped_count)
    assert.equal(1, res.skipped_no_phone)
    assert.equal(1, res.skipped_duplicate)
    assert.equal(1, res.skipped_filtered)
    assert.equal(g.id, res.group_id)
    assert.equal("Mixed", res.group_name)
    assert.is_string(res.message)

    local m = assert(c.campaigns:members(camp.id))
    assert.equal(2, m.total)
    assert.equal("+919845012345", m.members[1].to_phonenumber)
    assert.equal("4155550100", m.members[2].to_phonenumber)
    assert.same({ Name = "Asha", Plan = "Gold" }, m.members[1].variable_values)
    assert.equal("not_started", m.members[1].dial_status)
    assert.equal(camp.id, m.members[1].campaign_id)
    assert.equal(kupe.null, m.members[1].error_message)

    res = assert(c.campaigns:add_group(camp.id, g.id))
    assert.equal(0, res.inserted_count)
    assert.equal(3, res.skipped_duplicate) -- Asha, Di (Asha's number) and Ed
  end)

  case("copies several groups at once", function()
    local c = t.client()
    local camp = new_campaign(c)
    local g1, g2 = new_group(c, 3, 0, "A"), new_group(c, 4, 1, "B") -- numbers 2 and 3 in both
    local res = assert(c.campaigns:add_groups(camp.id, { g1.id, g2.id }))
    assert.equal(5, res.inserted_count)
    assert.equal(2, res.skipped_duplicate)
    assert.equal(kupe.null, res.group_id)
    assert.equal(kupe.null, res.group_name)
    assert.equal(5, assert(c.campaigns:members(camp.id)).total)
    assert.equal(0, assert(c.campaigns:add_groups(camp.id, {})).inserted_count)
    assert.matches('"group_ids":[]', emu.stats().last_request.body, 1, true)
  end)

  case("answers 404 for an unknown group and 422 for a group id that is not a UUID", function()
    local c = t.client()
    local camp = new_campaign(c)
    local g = new_group(c, 2)
    local res, err = c.campaigns:add_group(camp.id, UNKNOWN)
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.matches("not found", err.message)
    res, err = c.campaigns:add_groups(camp.id, { g.id, UNKNOWN })
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.equal(0, assert(c.campaigns:members(camp.id)).total, "nothing is added on a 404")
    res, err = c.campaigns:add_group(camp.id, "group-1")
    assert.is_nil(res)
    assert.equal(422, err.status)
    res, err = c.campaigns:add_groups(camp.id, { "group-1" })
    assert.is_nil(res)
    assert.equal(422, err.status)
    assert.same({ "body", "group_ids", 0 }, err.detail[1].loc)
    res, err = c.campaigns:add_group(UNKNOWN, g.id)
    assert.is_nil(res)
    assert.equal(404, err.status)
    assert.equal("Campaign not found", err.message)
    local before = t.requests()
    assert.has_error(function() c.campaigns:add_group(camp.id) end,
      "bad argument #2 to 'add_group' (group_id must be a non-empty string, got nil)")
    assert.has_error(function() c.campaigns:add_groups(camp.id, g.id) end,
      "bad argument #2 to 'add_groups' (table expected, got string)")
    assert.has_error(function() c.campaigns:add_groups(camp.id, { g.id, 5 }) end,
      "bad argument #2 to 'add_groups' (group_ids[2] must be a non-empty string, got number)")
    assert.has_error(function() c.campaigns:add_groups(camp.id, { id = g.id }) end)
    assert.equal(before, t.requests())
  end)

  case("clears members", function()
    local c = t.client()
    local camp = ready_campaign(c, 3)
    local res, resp = c.campaigns:clear_members(camp.id)
    assert.same({ ok = "true" }, res)
    assert.equal(200, resp.status)
    local m = assert(c.campaigns:members(camp.id))
    assert.equal(0, m.total)
    assert.same({}, m.members)
    assert.is_false(assert(c.campaigns:readiness(camp.id)).can_start)
    local _, err = c.campaigns:clear_members(UNKNOWN)
    assert.equal(404, err.status)
    _, err = c.campaigns:members(UNKNOWN)
    assert.equal(404, err.status)
  end)

  case("runs the documented state machine: start, pause, resume, stop", function()
    local c = t.client()
    local camp = ready_campaign(c, 5)
    local function refused(fn, status, pattern)
      local res, err = fn(c.campaigns, camp.id)
      assert.is_nil(res)
      assert.equal(status, err.status)
      if pattern then assert.matches(pattern, err.message) end
    end
    refused(c.campaigns.pause, 400, "running")
    refused(c.campaigns.resume, 400, "paused")

    local started = assert(c.campaigns:start(camp.id))
    assert.is_true(started.success)
    assert.equal("in_progress", started.status)
    assert.equal(5, started.member_count)
    assert.is_string(started.message)
    refused(c.campaigns.start, 409, "already running")
    refused(c.campaigns.resume, 400)

    local paused = assert(c.campaigns:pause(camp.id))
    assert.is_true(paused.success)
    assert.equal("paused", paused.data.status)
    refused(c.campaigns.pause, 400)
    refused(c.campaigns.start, 400, "resume")
    assert.equal("paused", assert(c.campaigns:get(camp.id)).campaign.status)

    assert.equal("in_progress", assert(c.campaigns:resume(camp.id)).data.status)
    local stopped = assert(c.campaigns:stop(camp.id))
    assert.is_true(stopped.success)
    assert.equal("stopped", stopped.data.status)
    refused(c.campaigns.start, 400, "stopped")
    refused(c.campaigns.resume, 400)
    refused(c.campaigns.pause, 400)
    refused(c.campaigns.stop, 400, "already stopped")
    assert.equal("stopped", assert(c.campaigns:get(camp.id)).campaign.status)
    refused(c.campaigns.stop, 400)

    local other = new_campaign(c)
    assert.equal("stopped", assert(c.campaigns:stop(other.id)).data.status)
    local _, err = c.campaigns:pause(UNKNOWN)
    assert.equal(404, err.status)
    _, err = c.campaigns:resume(UNKNOWN)
    assert.equal(404, err.status)
    _, err = c.campaigns:stop(UNKNOWN)
    assert.equal(404, err.status)
  end)

  case("dials members as it is polled and wait returns the completed campaign", function()
    local c = t.client()
    local camp = ready_campaign(c, 5, { batch_size = 2 })
    assert(c.campaigns:start(camp.id))
    local m = assert(c.campaigns:members(camp.id)).members
    assert.same({ "calling", "calling", "not_started", "not_started", "not_started" },
      { m[1].dial_status, m[2].dial_status, m[3].dial_status, m[4].dial_status, m[5].dial_status })
    local polls, statuses = 0, {}
    local done, resp = c.campaigns:wait(camp.id, { interval = 0, on_poll = function(cp)
      polls = polls + 1
      statuses[#statuses + 1] = cp.status
    end })
    assert.is_table(done, tostring(resp))
    assert.equal("completed", done.campaign.status)
    -- start dialed 1-2; poll 1 ends them and dials 3-4, poll 2 dials 5, poll 3 completes
    assert.equal(3, polls)
    assert.same({ "in_progress", "in_progress", "completed" }, statuses)
    local final = {}
    for _, x in ipairs(assert(c.campaigns:members(camp.id)).members) do
      final[x.dial_status] = (final[x.dial_status] or 0) + 1
      assert.is_nil(({ not_started = true, calling = true })[x.dial_status])
    end
    assert.equal(5, (final.completed or 0) + (final.no_answer or 0) + (final.failed or 0))
    local _, err = c.campaigns:start(camp.id)
    assert.equal(400, err.status)
  end)

  case("is deterministic: the same seed and requests give the same ids and outcomes", function()
    local function run()
      t.reset { seed = 7 }
      local c = t.client()
      local camp = finished(c, 8, { batch_size = 3 })
      local out = { camp.id }
      for _, m in ipairs(assert(c.campaigns:members(camp.id)).members) do
        out[#out + 1] = m.id .. " " .. m.to_phonenumber .. " " .. m.dial_status
      end
      for l in c.campaigns:log_items(camp.id) do
        out[#out + 1] = l.request_id .. " " .. l.status .. " " .. l.duration_seconds
      end
      return out
    end
    local first, second = run(), run()
    assert.equal(1 + 8 + 8, #first)
    assert.same(first, second)
  end)

  case("gives up waiting with a timeout error holding the last campaign", function()
    local c = t.client()
    local camp = ready_campaign(c, 3)
    assert(c.campaigns:start(camp.id))
    assert(c.campaigns:pause(camp.id))
    local t0 = c:now()
    local res, err = c.campaigns:wait(camp.id, { interval = 0.02, timeout = 0.1 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.equal("paused", err.data.campaign.status)
    assert.matches("still paused", tostring(err))
    assert.is_true(c:now() - t0 >= 0.09)
    local got = assert(c.campaigns:wait(camp.id, { statuses = { "paused" } }))
    assert.equal("paused", got.campaign.status)
    local _, err2 = c.campaigns:wait(UNKNOWN, { interval = 0 })
    assert.equal(404, err2.status)
    assert.has_error(function() c.campaigns:wait(camp.id, { interval = -1 }) end)
    assert.has_error(function() c.campaigns:wait(camp.id, { on_poll = 1 }) end)
  end)

  case("pages the finished calls 10 at a time and walks them", function()
    local c = t.client()
    local camp = finished(c, 12, { batch_size = 5 })
    local page = assert(c.campaigns:logs(camp.id))
    assert.equal(12, page.total)
    assert.equal(10, #page.logs)
    local log = page.logs[1]
    assert.equal(camp.id, log.campaign_id)
    assert.is_string(log.member_id)
    assert.is_string(log.to_phonenumber)
    assert.is_truthy(({ completed = true, no_answer = true, failed = true })[log.status])
    assert.is_number(log.duration_seconds)
    assert.equal(2, #assert(c.campaigns:logs(camp.id, { page = 2 })).logs)
    assert.equal(5, #assert(c.campaigns:logs(camp.id, { page = 1, page_size = 5 })).logs)

    local before = t.requests("GET /api/v1/campaigns/{campaign_id}/logs")
    local sizes = {}
    for p in c.campaigns:log_pages(camp.id, { page_size = 5 }) do sizes[#sizes + 1] = #p.logs end
    assert.same({ 5, 5, 2 }, sizes)
    assert.equal(3, t.requests("GET /api/v1/campaigns/{campaign_id}/logs") - before)
    local seen, n = {}, 0
    for l in c.campaigns:log_items(camp.id) do
      assert.is_nil(seen[l.member_id])
      seen[l.member_id] = true
      n = n + 1
    end
    assert.equal(12, n)
    assert.equal(3, #assert(c.campaigns:log_items(camp.id, { limit = 3 }):all()))
    local _, err = c.campaigns:logs(UNKNOWN)
    assert.equal(404, err.status)
    assert.has_error(function() c.campaigns:logs(camp.id, { page_size = 0 }) end,
      "bad argument #2 to 'logs' (page_size must be an integer >= 1)")
    assert.has_error(function() c.campaigns:log_items(camp.id, { status = "failed" }) end)
  end)

  case("counts outcomes in analytics and the dashboard", function()
    local c = t.client()
    local camp = finished(c, 6, { batch_size = 3 })
    local a = assert(c.campaigns:analytics(camp.id)).analytics
    assert.equal(6, a.total_calls)
    assert.equal(6, a.outcomes.completed + a.outcomes.no_answer + a.outcomes.failed)
    assert.equal(6, a.total_members)
    assert.equal("completed", a.status)
    local _, err = c.campaigns:analytics(UNKNOWN)
    assert.equal(404, err.status)

    new_campaign(c)
    local d = assert(c.campaigns:dashboard())
    assert.equal(2, d.total_campaigns)
    assert.equal(6, d.total_calls)
    assert.equal(1, d.campaigns_by_status.completed)
    d = assert(c.campaigns:dashboard { from_date = "2999-01-01" })
    assert.equal(0, d.total_campaigns)
    assert.equal(0, d.total_calls)
    d = assert(c.campaigns:dashboard { from_date = "2000-01-01", to_date = os.time(),
      chart_from_date = "2000-01-01" })
    assert.equal(2, d.total_campaigns)
    assert.equal(6, d.chart[1].calls)
    assert.equal(os.date("!%Y-%m-%d"), t.last_query().to_date)
    local res
    res, err = c.campaigns:dashboard { from_date = "last week" }
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert.has_error(function() c.campaigns:dashboard { since = "2020-01-01" } end)
  end)

  case("exports CSV to a path, through a temporary file", function()
    local c = t.client()
    local camp = finished(c, 4)
    local dir = t.tmpdir()
    local path = dir .. "/spring.csv"
    local calls = 0
    local res, resp = c.campaigns:export(camp.id, { path = path, on_progress = function() calls = calls + 1 end })
    assert.is_table(res, tostring(resp))
    assert.equal(path, res.path)
    assert.equal("csv", res.format)
    assert.matches("^text/csv", res.content_type)
    assert.equal("format=csv", emu.stats().last_request.query)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    assert.equal(res.bytes, #text)
    assert.is_true(calls > 0)
    local lines = {}
    for line in text:gmatch("[^\r\n]+") do lines[#lines + 1] = line end
    assert.equal(5, #lines)
    assert.matches("^member_id,to_phonenumber,dial_status,", lines[1])
    assert.matches(",Name,", lines[1] .. ",")
    assert.matches("Person 1", text, 1, true)
    assert.same({ "spring.csv" }, t.ls(dir))
  end)

  case("exports Excel to a sink", function()
    local c = t.client()
    local camp = finished(c, 2)
    local parts = {}
    local res = assert(c.campaigns:export(camp.id, { format = "excel",
      sink = function(chunk) parts[#parts + 1] = chunk end }))
    local data = table.concat(parts)
    assert.is_nil(res.path)
    assert.equal("excel", res.format)
    assert.equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", res.content_type)
    assert.equal(#data, res.bytes)
    assert.equal("PK\3\4", data:sub(1, 4))
    assert.equal("format=excel", emu.stats().last_request.query)
    if t.transport == "curl" then
      local dir = t.tmpdir()
      local f = assert(io.open(dir .. "/x.xlsx", "wb"))
      f:write(data)
      f:close()
      local p = io.popen("unzip -t '" .. dir .. "/x.xlsx' 2>&1")
      local out = p:read("*a")
      p:close()
      assert.matches("No errors detected", out)
      assert.matches("xl/worksheets/sheet1.xml", out, 1, true)
    end
  end)

  case("re-imports an Excel export into a people group", function()
    local c = t.client()
    local camp = finished(c, 3)
    local parts = {}
    assert(c.campaigns:export(camp.id, { format = "excel", sink = function(s) parts[#parts + 1] = s end }))
    local g = assert(c.people_groups:create { name = "Called" }).group
    local res = assert(c.people_groups:upload(g.id, { data = table.concat(parts), filename = "export.xlsx" }))
    assert.equal(3, res.inserted_count)
    local rows = assert(c.people_groups:rows(g.id)).rows
    local members = assert(c.campaigns:members(camp.id)).members
    assert.equal(members[1].to_phonenumber, rows[1].properties.to_phonenumber)
    assert.equal(members[1].dial_status, rows[1].properties.dial_status)
    assert.equal("Person 1", rows[1].properties.Name)
  end)

  case("leaves no file behind when an export fails or is not a CSV", function()
    local c = t.client { max_retries = 0 }
    local dir = t.tmpdir()
    local res, err = c.campaigns:export(UNKNOWN, { path = dir .. "/a.csv" })
    assert.is_nil(res)
    assert.equal(404, err.status)
    local camp = finished(c, 2)
    emu.fault("GET /api/v1/campaigns/{campaign_id}/export", { cut = 100, content_type = "text/csv",
      body = string.rep("a,b\r\n", 1000) }, 1)
    res, err = c.campaigns:export(camp.id, { path = dir .. "/b.csv" })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    emu.fault("GET /api/v1/campaigns/{campaign_id}/export", { json = { detail = "queued" } }, 1)
    res, err = c.campaigns:export(camp.id, { path = dir .. "/c.csv" })
    assert.is_nil(res)
    assert.equal("decode", err.kind)
    assert.matches("expected a CSV file, got application/json", err.message)
    res, err = c.campaigns:export(camp.id, { format = "excel", path = dir .. "/d.xlsx" })
    assert.is_table(res, tostring(err))
    assert.same({ "d.xlsx" }, t.ls(dir))
  end)

  case("raises for an export without a destination or with an unknown format", function()
    local c = t.client()
    local before = t.requests()
    assert.has_error(function() c.campaigns:export(UNKNOWN, {}) end,
      "bad argument #2 to 'export' (an export needs path or sink)")
    assert.has_error(function() c.campaigns:export(UNKNOWN, { format = "pdf", path = "/tmp/x" }) end,
      "bad argument #2 to 'export' (format must be \"csv\" or \"excel\")")
    assert.has_error(function() c.campaigns:export(UNKNOWN, { path = "/tmp/x", sink = print }) end)
    assert.has_error(function() c.campaigns:export(UNKNOWN) end)
    assert.has_error(function() c.campaigns:export(nil, { path = "/tmp/x" }) end)
    assert.equal(before, t.requests())
  end)

  case("raises for bad campaign ids before sending", function()
    local c = t.client()
    local before = t.requests()
    for _, m in ipairs { "get", "delete", "readiness", "start", "pause", "stop", "resume",
      "analytics", "members", "clear_members" } do
      assert.has_error(function() c.campaigns[m](c.campaigns, nil) end,
        ("bad argument #1 to '%s' (campaign_id must be a non-empty string, got nil)"):format(m))
      assert.has_error(function() c.campaigns[m](c.campaigns, "") end)
    end
    assert.has_error(function() c.campaigns:update(UNKNOWN) end,
      "bad argument #2 to 'update' (table expected, got nil)")
    assert.equal(before, t.requests())
  end)

  case("points every raised error at the caller's line", function()
    local c = t.client()
    kit.raise_at_caller {
      function() c.campaigns:create {} end,
      function() c.campaigns:create { agent_id = 1 } end,
      function() c.campaigns:update(UNKNOWN, { batch_size = 0 }) end,
      function() c.campaigns:list { page = 0 } end,
      function() c.campaigns:list { start_date = "x" } end,
      function() c.campaigns:items { colour = 1 } end,
      function() c.campaigns:pages { page_size = 500 } end,
      function() c.campaigns:log_items(nil) end,
      function() c.campaigns:log_pages(UNKNOWN, { x = 1 }) end,
      function() c.campaigns:logs(UNKNOWN, { page = 0 }) end,
      function() c.campaigns:export(UNKNOWN, {}) end,
      function() c.campaigns:wait(UNKNOWN, { interval = -1 }) end,
      function() c.campaigns:add_groups(UNKNOWN, { 1 }) end,
      function() c.campaigns:dashboard { x = 1 } end,
      function() c.campaigns:get(nil) end,
    }
  end)

  case("answers 403 to an API key without the scope", function()
    t.reset { api_keys = { { key = "emu_agents_only", scopes = { "/api/v1/agents" } } } }
    local c = t.client { api_key = "emu_agents_only" }
    local res, err = c.campaigns:list()
    assert.is_nil(res)
    assert.equal(403, err.status)
    assert.equal("Forbidden: API Key does not have required scopes", err.message)
  end)

  return cases
end
