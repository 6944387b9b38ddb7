-- Api keys through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("api keys", cases.suite("spec.cases.api_keys", it, before_each))
