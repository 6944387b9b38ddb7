-- Billing through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("billing", cases.suite("spec.cases.billing", it, before_each))
