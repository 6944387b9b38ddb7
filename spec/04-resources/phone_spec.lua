-- Phone through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("phone", cases.suite("spec.cases.phone", it, before_each))
