-- Batches through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("batches", cases.suite("spec.cases.batches", it, before_each))
