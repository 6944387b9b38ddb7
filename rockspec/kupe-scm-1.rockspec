rockspec_format = "3.0"
package = "kupe"
version = "scm-1"
source = {
  url = "git+https://github.com/kupe-lua/kupe-lua.git",
}
description = {
  summary = "Lua client for the Kupe Voice Agent API (libcurl core)",
  detailed = [[
    Every documented Kupe endpoint as a method, page and session walkers,
    streaming exports, retries that never repeat a call, clear error values,
    and a non-blocking transport for nginx/OpenResty.
  ]],
  license = "MIT",
  homepage = "https://github.com/kupe-lua/kupe-lua",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",
}
-- The header sits in a multiarch directory on Debian, where LuaRocks does
-- not look; checking for the library is what works there.
external_dependencies = {
  CURL = { library = "curl" },
  OPENSSL = { library = "crypto" },
  ZLIB = { library = "z" },
}
build = {
  type = "builtin",
  modules = {
    ["kupe.core"] = {
      sources = {
        "src/buffer.c", "src/client.c", "src/core.c", "src/crypto.c", "src/encode.c",
        "src/error.c", "src/fieldtext.c", "src/form.c", "src/head.c", "src/inflate.c",
        "src/jsondec.c", "src/jsonscan.c", "src/query.c", "src/render.c",
        "src/request.c", "src/transfer.c", "src/urlenc.c", "src/urlparse.c", "src/util.c",
      },
      libraries = { "curl", "crypto", "z", "m" },
      incdirs = { "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)", "$(ZLIB_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)", "$(ZLIB_LIBDIR)" },
      defines = { "_GNU_SOURCE" },
    },
    ["kupe.argcheck"] = "lua/kupe/argcheck.lua",
    ["kupe.client"] = "lua/kupe/client.lua",
    ["kupe.errors"] = "lua/kupe/errors.lua",
    ["kupe"] = "lua/kupe/init.lua",
    ["kupe.json"] = "lua/kupe/json.lua",
    ["kupe.operations"] = "lua/kupe/operations.lua",
    ["kupe.paginate"] = "lua/kupe/paginate.lua",
    ["kupe.resource"] = "lua/kupe/resource.lua",
    ["kupe.resources.agents"] = "lua/kupe/resources/agents.lua",
    ["kupe.resources.api_keys"] = "lua/kupe/resources/api_keys.lua",
    ["kupe.resources.batches"] = "lua/kupe/resources/batches.lua",
    ["kupe.resources.billing"] = "lua/kupe/resources/billing.lua",
    ["kupe.resources.call_logs"] = "lua/kupe/resources/call_logs.lua",
    ["kupe.resources.calls"] = "lua/kupe/resources/calls.lua",
    ["kupe.resources.campaigns"] = "lua/kupe/resources/campaigns.lua",
    ["kupe.resources.earnings"] = "lua/kupe/resources/earnings.lua",
    ["kupe.resources.feature_flags"] = "lua/kupe/resources/feature_flags.lua",
    ["kupe.resources.files"] = "lua/kupe/resources/files.lua",
    ["kupe.resources.knowledge"] = "lua/kupe/resources/knowledge.lua",
    ["kupe.resources.people_groups"] = "lua/kupe/resources/people_groups.lua",
    ["kupe.resources.phone"] = "lua/kupe/resources/phone.lua",
    ["kupe.resources.post_analysis"] = "lua/kupe/resources/post_analysis.lua",
    ["kupe.resources.providers"] = "lua/kupe/resources/providers.lua",
    ["kupe.resources.tools"] = "lua/kupe/resources/tools.lua",
    ["kupe.resources.wallets"] = "lua/kupe/resources/wallets.lua",
    ["kupe.resources.webhooks"] = "lua/kupe/resources/webhooks.lua",
    ["kupe.transport.curl"] = "lua/kupe/transport/curl.lua",
    ["kupe.transport.ngx"] = "lua/kupe/transport/ngx.lua",
    ["kupe.webhook"] = "lua/kupe/webhook.lua",
  },
}
test = {
  type = "busted",
}
