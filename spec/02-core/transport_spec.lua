-- The transport contract through the libcurl transport; the same cases
-- run inside nginx through the cosocket transport in spec/06-nginx.
local cases = require "spec.helpers.cases"

describe("transport contract", cases.suite("spec.cases.transport", it, before_each))
