/*
 * A minimal Lua interpreter, for the two builds where Debian's own will not do:
 *  - `make asan` links it with the sanitizers, so their runtime comes first
 *    without LD_PRELOAD (which every child process would inherit: ps, sh,
 *    curl... some hang under an injected ASan runtime);
 *  - `make profile` (bench/profile.sh) links it statically with Debian's
 *    liblua5.4.a or libluajit-5.1.a and -Wl,-E: the packaged lua5.4 and luajit
 *    are stripped, so a profile could not tell the collector (luaC_*, sweep*,
 *    gc_*) from the VM; these libraries keep their symbols, and C modules find
 *    the API in the executable. It is the very same Lua build.
 *   lua-main SCRIPT [ARGS...]   runs SCRIPT with `arg` and `...` set as lua does
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int main(int argc, char **argv) {
    lua_State *L;
    int i, status;
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL) return 1;
    luaL_openlibs(L);
    lua_createtable(L, argc - 2, 2);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, argv[1]) != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    for (i = 2; i < argc; i++)
        lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 1);
    if (status != 0) fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return status == 0 ? 0 : 1;
}
