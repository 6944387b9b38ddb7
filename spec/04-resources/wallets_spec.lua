-- Wallets through the libcurl transport; the same cases run inside nginx.
local cases = require "spec.helpers.cases"
describe("wallets", cases.suite("spec.cases.wallets", it, before_each))
