-- busted output handler: plainTerminal plus a closing line CI recognises,
--   busted: N passed, N failed, N skipped
-- (failures and errors both count as failed).
-- Use: busted --lua=lua5.4 -o tools/ci_output.lua spec
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)
  busted.subscribe({ "suite", "end" }, function()
    io.write(string.format("\nbusted: %d passed, %d failed, %d skipped\n",
      #handler.successes, #handler.failures + #handler.errors, #handler.pendings))
    io.flush()
    return nil, true
  end)                                -- passing { priority = 0 } crashes mediator on 5.4
  return handler
end
