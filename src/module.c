/*
 * luaopen_apivideo_core: the top of the C half of lua-apivideo, and all it
 * does is assemble the module table. Deliberately thin: it exports the
 * multi-handle and share constructors, the JSON decoder and its rename
 * lists, and two clocks; all policy (which fields are renamed, too) lives in
 * the Lua modules under lua/apivideo/.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>

#include "core.h"

/*
 * libcurl's global state (curl_global_init) is never torn down, so libcurl
 * must never be unloaded either, even when Lua closes this module: pin it.
 * (Unloaded, the libraries it initialised leave blocks valgrind can no
 * longer reach.)
 */
static void pin_libcurl(void) {
    union {
        char *(*fn)(void);
        void *p;
    } sym;
    Dl_info info;
    sym.fn = curl_version;
    if (dladdr(sym.p, &info) && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
}

static int l_curl_version(lua_State *L) {
    lua_pushstring(L, curl_version());
    return 1;
}

int luaopen_apivideo_core(lua_State *L) {
    static const luaL_Reg funcs[] = {{"multi", avc_open_multi},
                                     {"share", avc_open_share},
                                     {"decode", avc_l_decode},
                                     {"renames", avc_l_renames},
                                     {"now_ms", avc_l_now_ms},
                                     {"curl_version", l_curl_version},
                                     {NULL, NULL}};
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return luaL_error(L, "apivideo.core: curl_global_init failed");
    pin_libcurl();
    lua_newtable(L); /* module state, upvalue 1 of everything */
    avc_json_init(L, -1, AVC_DEFAULT_MAX_DEPTH);
    avc_renames_register(L);
    avc_share_register(L);
    avc_transfer_register(L);
    avc_multi_register(L);
    lua_newtable(L);
    lua_pushvalue(L, -2);
    avc_setfuncs(L, funcs, 1);
    lua_getfield(L, -2, "cjson");
    lua_getfield(L, -1, "null");
    lua_setfield(L, -3, "null");
    lua_pop(L, 1);
    lua_pushliteral(L, AVC_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushinteger(L, AVC_DEFAULT_MAX_DEPTH);
    lua_setfield(L, -2, "max_depth");
    return 1;
}
