-- Webhooks through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("webhooks", cases.suite("spec.cases.webhooks", it, before_each))
