-- Post analysis through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("post analysis", cases.suite("spec.cases.post_analysis", it, before_each))
