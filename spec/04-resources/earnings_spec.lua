-- Earnings through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("earnings", cases.suite("spec.cases.earnings", it, before_each))
