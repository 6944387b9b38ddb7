-- Secret hygiene: a busted helper (`busted --helper=spec/helpers/hygiene.lua`)
-- that tools/secret-hygiene loads into a run of the whole suite, with a
-- canary key in KUPE_TEST_KEY (the key every client of the suite uses and
-- every reset registers). spec/helpers/hygiene_watch.lua watches
-- everything the library produces in this process (error values, hook
-- arguments, logger lines, tostring, stderr, export files); this helper
-- adds the emulator's record of requests sent to the other host, read
-- after each test, which also covers requests the host nginx of the
-- nginx specs sends. Findings go to KUPE_HYGIENE_REPORT.
local watch = require "spec.helpers.hygiene_watch"
local emu = require "spec.helpers.emulator"

-- Requests the emulator's other host received during each test.
do
  local busted = require "busted"
  busted.subscribe({ "test", "end" }, function()
    local ok, stats = pcall(emu.stats)
    if ok and type(stats) == "table" and watch.holds(stats.other_host) then
      watch.note("a request sent to another host (the emulator's record)")
      io.stdout:write("\nsecret hygiene: the test key reached another host\n")
    end
    return nil, true
  end)
end

return {}
