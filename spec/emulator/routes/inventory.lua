-- Routes the API is known to have only from its route inventory
-- (kupe-endpoints.tsv, "[inventory-only]"): no documented parameters,
-- body or answer, so there is nothing true to emulate. They are routed
-- (with the credential checks of every route) so that a script calling
-- one through client:request gets a plain statement instead of what an
-- unrouted path would give here: a 405 from a sibling route, or the 400 of
-- /agents/{agent_id} for /agents/library. The WebSocket routes are not
-- here: a plain HTTP request to a FastAPI WebSocket route is a 404, which
-- is what any unknown path answers.

local v = require "emu.validate"

local ROUTES = {
  { "GET", "/api/v1/tts-voices/{voice_id}/sample" },
  { "POST", "/api/v1/agents/{agent_id}/clone" },
  { "GET", "/api/v1/agents/library" },
  { "GET", "/api/v1/phone/mapping" },
  { "POST", "/api/v1/phone/mapping/workflow" },
  -- the parameter keeps the name the mapping routes use at this place
  { "PUT", "/api/v1/phone/mapping/{phone_number_id}" },
  { "DELETE", "/api/v1/phone/mapping/{phone_number_id}" },
  { "GET", "/api/v1/phone/{phone_id}" },
  { "POST", "/api/v1/files/scrape-url" },
  { "POST", "/api/v1/webhooks/agents/{agent_id}/outbound" },
  { "POST", "/api/v1/webhooks/agents/{agent_id}/test-incoming" },
  { "GET", "/api/call/init-web-media-stream" },
}

local DETAIL = "Not emulated: this route is known only from the API's route inventory, "
  .. "without a documented contract"

local function not_emulated()
  v.fail(501, DETAIL)
end

return function(router)
  for _, r in ipairs(ROUTES) do
    router:add(r[1], r[2], not_emulated)
  end
end
