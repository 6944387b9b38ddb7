-- Campaigns through the libcurl transport; the same cases run inside
-- nginx in spec/06-nginx.
local cases = require "spec.helpers.cases"

describe("campaigns", cases.suite("spec.cases.campaigns", it, before_each))
