-- Feature flags through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("feature flags", cases.suite("spec.cases.feature_flags", it, before_each))
