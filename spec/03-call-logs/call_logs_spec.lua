-- Call logs through the libcurl transport; the same cases run inside
-- nginx in spec/06-nginx.
local cases = require "spec.helpers.cases"

describe("call logs", cases.suite("spec.cases.call_logs", it, before_each))
