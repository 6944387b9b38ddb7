-- People groups through the libcurl transport; the same cases run inside
-- nginx in spec/06-nginx.
local cases = require "spec.helpers.cases"

describe("people groups", cases.suite("spec.cases.people_groups", it, before_each))
