-- Providers through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("providers", cases.suite("spec.cases.providers", it, before_each))
