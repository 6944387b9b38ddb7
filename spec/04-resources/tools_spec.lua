-- Tools through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("tools", cases.suite("spec.cases.tools", it, before_each))
