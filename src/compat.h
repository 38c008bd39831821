/*
 * Private compatibility layer: the same sources build against the Lua 5.1
 * (and LuaJIT 2.1), 5.2, 5.3 and 5.4 headers. Every shim is static and
 * prefixed so it can never clash with what LuaJIT or a newer Lua exports.
 */
#ifndef APIVIDEO_COMPAT_H
#define APIVIDEO_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM < 502
/* Lua 5.1 / LuaJIT: a userdata's environment table serves as its user value. */
#define avc_getuservalue(L, idx) lua_getfenv((L), (idx))
#define avc_setuservalue(L, idx) lua_setfenv((L), (idx))
#define avc_rawlen(L, idx) lua_objlen((L), (idx))
#elif LUA_VERSION_NUM < 504
#define avc_getuservalue(L, idx) lua_getuservalue((L), (idx))
#define avc_setuservalue(L, idx) lua_setuservalue((L), (idx))
#define avc_rawlen(L, idx) lua_rawlen((L), (idx))
#else
#define avc_getuservalue(L, idx) lua_getiuservalue((L), (idx), 1)
#define avc_setuservalue(L, idx) lua_setiuservalue((L), (idx), 1)
#define avc_rawlen(L, idx) lua_rawlen((L), (idx))
#endif

/* Integers are only distinct values from 5.3 on. */
#if LUA_VERSION_NUM >= 503
#define AVC_HAS_INTEGERS 1
#else
#define AVC_HAS_INTEGERS 0
#endif

/* lua_rawgeti returning the type of the value it pushed (5.3+ does). */
static inline int avc_rawgeti(lua_State *L, int idx, int i) {
#if LUA_VERSION_NUM >= 503
    return lua_rawgeti(L, idx, i);
#else
    lua_rawgeti(L, idx, i);
    return lua_type(L, -1);
#endif
}

/* luaL_setfuncs with upvalues, for every version. */
static inline void avc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

/* luaL_testudata for 5.1. */
static inline void *avc_testudata(lua_State *L, int idx, const char *tname) {
    void *p = lua_touserdata(L, idx);
    if (p != NULL && lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, tname);
        if (!lua_rawequal(L, -1, -2)) p = NULL;
        lua_pop(L, 2);
        return p;
    }
    return NULL;
}

#endif
