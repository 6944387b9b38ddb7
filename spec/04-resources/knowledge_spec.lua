-- Knowledge through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("knowledge", cases.suite("spec.cases.knowledge", it, before_each))
