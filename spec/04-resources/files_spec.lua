-- Files through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("files", cases.suite("spec.cases.files", it, before_each))
