-- Kupe.webhook through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("kupe.webhook", cases.suite("spec.cases.webhook", it, before_each))
