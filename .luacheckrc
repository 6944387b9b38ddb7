-- luacheck configuration: no globals anywhere; busted in specs, ngx where
-- code runs inside nginx.
std = "max"
max_line_length = 120
codes = true

files["spec/**/*_spec.lua"] = { std = "+busted" }
files["spec/helpers/**"] = { std = "+busted" }
files["spec/emulator/**"] = { std = "+ngx_lua" }
files["spec/nginx/**"] = { std = "+ngx_lua" }
files["lua/kupe/transport/ngx.lua"] = { std = "+ngx_lua" }
files["examples/nginx/**"] = { std = "+ngx_lua" }
