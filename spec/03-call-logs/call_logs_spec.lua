-- Call logs through the libcurl transport; the same cases run inside
-- nginx in spec/06-nginx.
require("spec.helpers.cases").busted("call logs", "spec.cases.call_logs")
