-- luacheck configuration for lua-apivideo
std = "max"
max_line_length = 120
files["spec"] = { std = "+busted" }
files["standin/lua"] = { globals = { "ngx" } }
files["test/openresty"] = { globals = { "ngx" } }
exclude_files = { "build/", ".cache/", "node_modules/", "lua_modules/" }
