/*
 * The common ground of apivideo.core, the bottom layer every other file may
 * use and that uses none of them: the monotonic clock and the registration
 * of a userdata type. (The module table itself is built in module.c.)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <time.h>

#include "core.h"

/* Milliseconds of CLOCK_MONOTONIC, with sub-millisecond precision. */
double avc_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* core.now_ms() -> the same clock, for the Lua scheduler's timers */
int avc_l_now_ms(lua_State *L) {
    lua_pushnumber(L, avc_now_ms());
    return 1;
}

/*
 * Registers a named metatable: methods (with the module state, on top of the
 * stack, as upvalue 1), __index to itself, __tostring, and close as __gc
 * (and __close on 5.4): close must be idempotent. A type that holds nothing
 * to free passes NULL.
 */
void avc_new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                  lua_CFunction tostring) {
    luaL_newmetatable(L, name);
    lua_pushvalue(L, -2);
    avc_setfuncs(L, methods, 1);
    if (close != NULL) {
        lua_pushcfunction(L, close);
        lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
        lua_pushcfunction(L, close);
        lua_setfield(L, -2, "__close");
#endif
    }
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
