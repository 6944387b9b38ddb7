-- Calls through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("calls", cases.suite("spec.cases.calls", it, before_each))
