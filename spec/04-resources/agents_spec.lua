-- Agents through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"

describe("agents", cases.suite("spec.cases.agents", it, before_each))
