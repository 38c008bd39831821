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
 * very same string: a rename is found by its pointer, in a small open-
 * addressing table (a key that is not renamed mostly meets an empty slot at
 * once), never by comparing bytes. The strings stay alive in the module
 * state (rename_strings: [2i+1] = camelCase, [2i+2] = snake_case).
 */
#define NSLOTS 64 /* a power of two, well above NRENAMES */
typedef struct rename_keys {
    const char *key[NSLOTS]; /* the camelCase string, or NULL: a free slot */
    unsigned char idx[NSLOTS];
} rename_keys;

static unsigned slot_of(const char *k) {
    return (unsigned)((((size_t)k >> 4) * 2654435761u) & 0xffffffffu) >> 26; /* 0..63 */
}

/* The rename of key k (an index into renames), or -1. */
static int rename_of(const rename_keys *rk, const char *k) {
    unsigned h = slot_of(k);
    while (rk->key[h] != NULL) {
        if (rk->key[h] == k) return rk->idx[h];
        h = (h + 1) & (NSLOTS - 1);
    }
    return -1;
}

/* What one walk needs; the stack is checked once every 16 levels. */
typedef struct shaper {
    lua_State *L;
    const rename_keys *rk;
    int names;   /* the stack holds the camelCase name of rename i at names + 2i + 1,
                  * its snake_case name at names + 2i + 2 */
    int base;    /* stack top when the walk began */
    int checked; /* the depth up to which the stack has room */
} shaper;

/* Stack slots one level may use: the table, key, value, a pending value per
 * rename, and two temporaries. */
#define LEVEL_SLOTS ((int)NRENAMES + 4)

#if AVC_HAS_INTEGERS
/* The value on top is a float holding an integral number: *out is it. */
static int float_integral(lua_State *L, lua_Integer *out) {
    lua_Number n;
    if (lua_isinteger(L, -1)) return 0;
    n = lua_tonumber(L, -1);
    if (!integral(n)) return 0;
    *out = (lua_Integer)n;
    return 1;
}
#endif

/*
 * Shapes the table on top of the stack, in place. cjson builds an array with
 * its elements at 1..n and an object with string keys only, so a table with
 * a length is an array (walked by index: nulls stay, numbers may change) and
 * any other is an object (walked with lua_next: null fields go, documented
 * names are renamed).
 */
static void shape(shaper *s, int depth) {
    lua_State *L = s->L;
    int t, npending = 0, pending[NRENAMES];
    size_t n;
#if AVC_HAS_INTEGERS
    lua_Integer iv;
#endif
    if (depth >= s->checked) {
        luaL_checkstack(L, s->base + LEVEL_SLOTS * (depth + 16) - lua_gettop(L),
                        "apivideo.core: JSON too deep");
        s->checked = depth + 16;
    }
    t = lua_gettop(L);
    n = avc_rawlen(L, t);
    if (n > 0) {
        size_t i;
        for (i = 1; i <= n; i++) {
            int vt = avc_rawgeti(L, t, (int)i);
            if (vt == LUA_TTABLE) shape(s, depth + 1);
#if AVC_HAS_INTEGERS
            else if (vt == LUA_TNUMBER && float_integral(L, &iv)) {
                lua_pushinteger(L, iv);
                lua_rawseti(L, t, (int)i);
            }
#endif
            lua_pop(L, 1);
        }
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, t) != 0) { /* key at -2, value at -1 */
        int vt = lua_type(L, -1), r = -1;
        if (lua_type(L, -2) == LUA_TSTRING) r = rename_of(s->rk, lua_tostring(L, -2));
        if (vt == LUA_TTABLE) {
            shape(s, depth + 1);
        } else if (vt == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) {
            /* a null field: cleared (allowed during lua_next), never renamed,
             * so it cannot erase the other spelling */
            lua_pushvalue(L, -2);
            lua_pushnil(L);
            lua_rawset(L, t);
            r = -1;
        }
#if AVC_HAS_INTEGERS
        else if (vt == LUA_TNUMBER && float_integral(L, &iv)) {
            if (r >= 0) { /* the renamed field takes the integer */
                lua_pushinteger(L, iv);
                lua_replace(L, -2);
            } else { /* an existing field: allowed during lua_next */
                lua_pushvalue(L, -2);
                lua_pushinteger(L, iv);
                lua_rawset(L, t);
            }
        }
#endif
        if (r >= 0) { /* the value waits below the key until the walk is over */
            pending[npending++] = r;
            lua_insert(L, -2);
        } else {
            lua_pop(L, 1);
        }
    }
    /* New keys cannot be added during the walk: rename now, the new name
     * first (a table grows at most once), then the old one goes. */
    if (npending > 0) {
        int j;
        for (j = 0; j < npending; j++) {
            lua_pushvalue(L, s->names + 2 * pending[j] + 2); /* snake_case */
            lua_pushvalue(L, t + 1 + j);
            lua_rawset(L, t);
            lua_pushvalue(L, s->names + 2 * pending[j] + 1); /* camelCase */
            lua_pushnil(L);
            lua_rawset(L, t);
        }
        lua_settop(L, t);
    }
}

/*
 * Decodes and shapes the string on top of the stack, which it replaces: 0
 * and the value, or 1 and an error message. The string itself goes to cjson
 * (core.decode's argument is never copied). Must be called from a C function
 * whose upvalue 1 is the module state.
 */
int avc_json_decode(lua_State *L) {
    luaL_checkstack(L, 4, "apivideo.core: stack");
    lua_getfield(L, AVC_STATE_IDX, "decode");
    lua_insert(L, -2);
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
        shaper sh;
        sh.L = L;
        lua_getfield(L, AVC_STATE_IDX, "rename_keys");
        sh.rk = lua_touserdata(L, -1);
        lua_pop(L, 1); /* the state table keeps it alive */
        int v = lua_gettop(L), i;
        luaL_checkstack(L, 2 * (int)NRENAMES + 3, "apivideo.core: stack");
        lua_getfield(L, AVC_STATE_IDX, "rename_strings");
        for (i = 1; i <= 2 * (int)NRENAMES; i++) /* pushed once, copied per rename */
            lua_rawgeti(L, v + 1, i);
        sh.names = v + 1;
        lua_pushvalue(L, v);
        sh.base = lua_gettop(L);
        sh.checked = 0;
        shape(&sh, 0);
        lua_settop(L, v); /* shaped in place */
    } else if (is_null(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
#if AVC_HAS_INTEGERS
    else if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_Integer iv;
        if (float_integral(L, &iv)) {
            lua_pop(L, 1);
            lua_pushinteger(L, iv);
        }
    }
#endif
    return 0;
}

/* core.decode(string) -> value | nil, message */
int avc_l_decode(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    if (avc_json_decode(L) != 0) {
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
        memset(rk, 0, sizeof *rk);
        lua_setfield(L, state, "rename_keys");
        /* anchors the strings: [2i+1] = camelCase, [2i+2] = snake_case */
        lua_createtable(L, 2 * NRENAMES, 0);
        for (i = 0; i < NRENAMES; i++) {
            lua_pushlstring(L, renames[i].from, renames[i].len);
            {
                const char *k = lua_tostring(L, -1);
                unsigned h = slot_of(k);
                while (rk->key[h] != NULL)
                    h = (h + 1) & (NSLOTS - 1);
                rk->key[h] = k;
                rk->idx[h] = (unsigned char)i;
            }
            lua_rawseti(L, -2, 2 * (int)i + 1);
            lua_pushstring(L, renames[i].to);
            lua_rawseti(L, -2, 2 * (int)i + 2);
        }
        lua_setfield(L, state, "rename_strings");
    }
    return 0;
}
