/*
 * JSON bodies become Lua tables in two steps, both in C:
 *  1. lua-cjson decodes the bytes (a private cjson.safe instance, so the
 *     depth limit and strictness set here never change the user's cjson);
 *  2. one walk over the result shapes it for Lua users: the camelCase names
 *     of the API's documented fields become snake_case, JSON null fields
 *     disappear (nil), and on Lua 5.3+ integral numbers become integers.
 * Unknown fields keep their wire names, so nothing the API sends is lost.
 */
#include <math.h>
#include <string.h>

#include "core.h"

typedef struct key_rename {
    const char *from;
    size_t len;
    const char *to;
} key_rename;

#define R(from, to)                                                                                \
    { from, sizeof(from) - 1, to }
static const key_rename renames[] = {
    R("sessionId", "session_id"),     R("loadedAt", "loaded_at"),
    R("endedAt", "ended_at"),         R("searchTerm", "search_term"),
    R("emittedAt", "emitted_at"),     R("itemsTotal", "items_total"),
    R("pagesTotal", "pages_total"),   R("pageSize", "page_size"),
    R("currentPage", "current_page"), R("currentPageItems", "current_page_items"),
    R("metricValue", "metric_value"), R("dimensionValue", "dimension_value"),
};
#undef R
#define NRENAMES (sizeof renames / sizeof renames[0])

static int is_null(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

#if AVC_HAS_INTEGERS
/* An integral number a double holds exactly (|n| <= 2^53). */
static int integral(lua_Number n) {
    return n >= -9007199254740992.0 && n <= 9007199254740992.0 && n == floor(n);
}
#endif

/*
 * The documented camelCase names, as Lua strings of this state. Short Lua
 * strings are interned, so a key cjson creates with the same bytes is the
 * very same string: comparing pointers finds a rename without a memcmp on
 * every key of every record. The strings stay alive in the module state.
 */
typedef struct rename_keys {
    const char *from[NRENAMES];
} rename_keys;

/* Shapes the table on top of the stack, in place. */
static void shape(lua_State *L, const rename_keys *rk, int strings) {
    unsigned seen = 0;
    size_t i;
    luaL_checkstack(L, 6, "apivideo.core: JSON too deep");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) { /* key at -2, value at -1 */
        int vt = lua_type(L, -1);
        int string_key = lua_type(L, -2) == LUA_TSTRING;
        if (vt == LUA_TTABLE) {
            shape(L, rk, strings);
        } else if (string_key && is_null(L, -1)) {
            /* clearing an existing field is allowed during lua_next */
            lua_pushvalue(L, -2);
            lua_pushnil(L);
            lua_rawset(L, -5);
        }
#if AVC_HAS_INTEGERS
        else if (vt == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number n = lua_tonumber(L, -1);
            if (integral(n)) {
                lua_pushvalue(L, -2);
                lua_pushinteger(L, (lua_Integer)n);
                lua_rawset(L, -5);
            }
        }
#endif
        if (string_key) {
            const char *k = lua_tostring(L, -2);
            for (i = 0; i < NRENAMES; i++)
                if (k == rk->from[i]) {
                    seen |= 1u << i;
                    break;
                }
        }
        lua_pop(L, 1);
    }
    /* New keys cannot be added during the walk; rename afterwards. */
    for (i = 0; seen != 0 && i < NRENAMES; i++) {
        if (!(seen & (1u << i))) continue;
        lua_rawgeti(L, strings, 2 * (int)i + 2); /* the snake_case name */
        lua_rawgeti(L, strings, 2 * (int)i + 1); /* the camelCase name */
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) { /* it was null: never erase the other spelling */
            lua_pop(L, 2);
            continue;
        }
        lua_rawset(L, -3);
        lua_rawgeti(L, strings, 2 * (int)i + 1);
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
}

/*
 * Decodes and shapes s. Returns 0 with the value pushed, or 1 with an error
 * message pushed. Must be called from a C function whose upvalue 1 is the
 * module state.
 */
int avc_json_decode(lua_State *L, const char *s, size_t len) {
    luaL_checkstack(L, 4, "apivideo.core: stack");
    lua_getfield(L, AVC_STATE_IDX, "decode");
    lua_pushlstring(L, s, len);
    if (lua_pcall(L, 1, 2, 0) != 0) { /* only on out-of-memory */
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "JSON decoder failed");
        }
        return 1;
    }
    if (lua_isnil(L, -2)) { /* cjson.safe: nil, message */
        lua_remove(L, -2);
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            lua_pushliteral(L, "invalid JSON");
        }
        return 1;
    }
    lua_pop(L, 1);
    if (lua_istable(L, -1)) {
        const rename_keys *rk;
        lua_getfield(L, AVC_STATE_IDX, "rename_keys");
        rk = lua_touserdata(L, -1);
        lua_pop(L, 1); /* the state table keeps it alive */
        lua_getfield(L, AVC_STATE_IDX, "rename_strings");
        lua_insert(L, -2);
        shape(L, rk, lua_gettop(L) - 1);
        lua_remove(L, -2);
    } else if (is_null(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
#if AVC_HAS_INTEGERS
    else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
        lua_Number n = lua_tonumber(L, -1);
        if (integral(n)) {
            lua_pop(L, 1);
            lua_pushinteger(L, (lua_Integer)n);
        }
    }
#endif
    return 0;
}

/* core.decode(string) -> value | nil, message */
int avc_l_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (avc_json_decode(L, s, len) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/*
 * Creates the private decoder: state.decode = cjson.safe.new().decode, with
 * a nesting limit and strict numbers (no NaN, Infinity or hex).
 */
int avc_json_init(lua_State *L, int state, int max_depth) {
    state = state < 0 ? lua_gettop(L) + state + 1 : state;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    if (lua_isfunction(L, -1)) {
        lua_call(L, 0, 1);
        lua_remove(L, -2);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "decode_max_depth");
    lua_pushinteger(L, max_depth);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "decode_invalid_numbers");
    if (lua_isfunction(L, -1)) {
        lua_pushboolean(L, 0);
        lua_call(L, 1, 0);
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "decode");
    lua_setfield(L, state, "decode");
    lua_setfield(L, state, "cjson");
    {
        rename_keys *rk = lua_newuserdata(L, sizeof *rk);
        size_t i;
        lua_setfield(L, state, "rename_keys");
        /* anchors the strings: [2i+1] = camelCase, [2i+2] = snake_case */
        lua_createtable(L, 2 * NRENAMES, 0);
        for (i = 0; i < NRENAMES; i++) {
            lua_pushlstring(L, renames[i].from, renames[i].len);
            rk->from[i] = lua_tostring(L, -1);
            lua_rawseti(L, -2, 2 * (int)i + 1);
            lua_pushstring(L, renames[i].to);
            lua_rawseti(L, -2, 2 * (int)i + 2);
        }
        lua_setfield(L, state, "rename_strings");
    }
    return 0;
}
