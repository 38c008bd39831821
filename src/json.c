/*
 * JSON bodies become Lua tables in two steps, both in C:
 *  1. lua-cjson decodes the bytes (a private cjson.safe instance, so the
 *     depth limit and strictness set here never change the user's cjson);
 *  2. one walk over the result shapes it for Lua users: the fields of a
 *     rename list get their new names, JSON null fields disappear (nil), and
 *     on Lua 5.3+ integral numbers become integers.
 * Which fields are renamed is policy, so it is Lua's: the library hands in
 * the API's documented camelCase fields and their snake_case names
 * (lua/apivideo/fields.lua) as a core.renames object, prepared once. Without
 * one nothing is renamed. Unknown fields keep their wire names, so nothing
 * the API sends is lost.
 */
#include <math.h>
#include <string.h>

#include "core.h"

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
 * A rename list, prepared once by core.renames(list) (or by core.multi when
 * it is given a plain list) and then used for every page. Its old names are
 * Lua strings of this state, and short Lua strings are interned, so a key
 * cjson creates with the same bytes is the very same string: a rename is
 * found by its pointer, in a small open-addressing table (a key that is not
 * renamed mostly meets an empty slot at once), never by comparing bytes.
 * The strings stay alive in the object's user value ([2i+1] = old name,
 * [2i+2] = new name). Names are at most MAX_NAME bytes, the longest string
 * Lua 5.2+ interns.
 */
#define MAX_RENAMES 32 /* names in one list */
#define NSLOTS 64      /* a power of two, at least twice MAX_RENAMES */
#define MAX_NAME 40    /* LUAI_MAXSHORTLEN */
struct avc_renames {
    int n;
    const char *key[NSLOTS]; /* the old name, or NULL: a free slot */
    unsigned char idx[NSLOTS];
};
typedef struct avc_renames renames;

static const renames no_renames; /* every slot free: nothing is renamed */

static unsigned slot_of(const char *k) {
    return (unsigned)((((size_t)k >> 4) * 2654435761u) & 0xffffffffu) >> 26; /* 0..63 */
}

/* The rename of key k (an index into the list), or -1. */
static int rename_of(const renames *r, const char *k) {
    unsigned h = slot_of(k);
    while (r->key[h] != NULL) {
        if (r->key[h] == k) return r->idx[h];
        h = (h + 1) & (NSLOTS - 1);
    }
    return -1;
}

/* What one walk needs; the stack is checked once every 16 levels. */
typedef struct shaper {
    lua_State *L;
    const renames *r;
    int names;   /* the stack holds the old name of rename i at names + 2i + 1,
                  * its new name at names + 2i + 2 */
    int level;   /* stack slots one level may use: the table, key, value, a
                  * pending value per rename, and two temporaries */
    int base;    /* stack top when the walk began */
    int checked; /* the depth up to which the stack has room */
} shaper;

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
 * any other is an object (walked with lua_next: null fields go, the fields
 * of the rename list are renamed).
 */
static void shape(shaper *s, int depth) {
    lua_State *L = s->L;
    int t, npending = 0, pending[MAX_RENAMES];
    size_t n;
#if AVC_HAS_INTEGERS
    lua_Integer iv;
#endif
    if (depth >= s->checked) {
        luaL_checkstack(L, s->base + s->level * (depth + 16) - lua_gettop(L),
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
        if (lua_type(L, -2) == LUA_TSTRING) r = rename_of(s->r, lua_tostring(L, -2));
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
            lua_pushvalue(L, s->names + 2 * pending[j] + 2); /* the new name */
            lua_pushvalue(L, t + 1 + j);
            lua_rawset(L, t);
            lua_pushvalue(L, s->names + 2 * pending[j] + 1); /* the old name */
            lua_pushnil(L);
            lua_rawset(L, t);
        }
        lua_settop(L, t);
    }
}

/*
 * Decodes and shapes the string on top of the stack, which it replaces: 0
 * and the value, or 1 and an error message. The string itself goes to cjson
 * (core.decode's argument is never copied). ridx: the stack index (absolute)
 * of a core.renames object, or 0 to rename nothing. Must be called from a C
 * function whose upvalue 1 is the module state.
 */
int avc_json_decode(lua_State *L, int ridx) {
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
        int v = lua_gettop(L), i;
        sh.L = L;
        sh.r = ridx != 0 ? (const renames *)lua_touserdata(L, ridx) : &no_renames;
        luaL_checkstack(L, 2 * sh.r->n + 3, "apivideo.core: stack");
        if (ridx != 0)
            avc_getuservalue(L, ridx); /* the names */
        else
            lua_pushnil(L);
        for (i = 1; i <= 2 * sh.r->n; i++) /* pushed once, copied per rename */
            lua_rawgeti(L, v + 1, i);
        sh.names = v + 1;
        sh.level = sh.r->n + 4;
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

/* core.decode(string[, renames]) -> value | nil, message */
int avc_l_decode(lua_State *L) {
    int has;
    luaL_checkstring(L, 1);
    lua_settop(L, 2);
    has = avc_to_renames(L, 2, 2, "");
    lua_pushvalue(L, 1);
    if (avc_json_decode(L, has ? 2 : 0) != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/* Raises "bad argument #arg (<what><msg>)", msg on top of the stack. */
static void bad_list(lua_State *L, int arg, const char *what) {
    luaL_argerror(L, arg, lua_pushfstring(L, "%s%s", what, lua_tostring(L, -1)));
}

/*
 * Pushes a renames object made from the list at index list (absolute):
 * { oldName = "new_name", ... }. Raises, naming argument arg, when a name is
 * not a string, empty, longer than MAX_NAME (the old ones) or renamed to
 * itself, when there are more than MAX_RENAMES, and when the result would
 * depend on the order of the walk: a new name that is also an old one, or
 * two old names sharing a new one.
 */
static void prepare(lua_State *L, int list, int arg, const char *what) {
    renames *r;
    int n = 0, strings, i, j;
    luaL_checkstack(L, 8, "apivideo.core: stack");
    lua_pushnil(L);
    while (lua_next(L, list) != 0) {
        size_t klen, vlen;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
            lua_pushliteral(L, "every name must be a string");
            bad_list(L, arg, what);
        }
        (void)lua_tolstring(L, -2, &klen);
        (void)lua_tolstring(L, -1, &vlen);
        if (klen == 0 || vlen == 0) {
            lua_pushliteral(L, "a name is empty");
            bad_list(L, arg, what);
        }
        if (klen > MAX_NAME) {
            lua_pushfstring(L, "'%s' is longer than %d bytes", lua_tostring(L, -2), MAX_NAME);
            bad_list(L, arg, what);
        }
        if (lua_rawequal(L, -1, -2)) {
            lua_pushfstring(L, "'%s' is renamed to itself", lua_tostring(L, -2));
            bad_list(L, arg, what);
        }
        if (++n > MAX_RENAMES) {
            lua_pushfstring(L, "more than %d names", MAX_RENAMES);
            bad_list(L, arg, what);
        }
        lua_pop(L, 1);
    }
    r = lua_newuserdata(L, sizeof *r);
    memset(r, 0, sizeof *r);
    luaL_getmetatable(L, AVC_RENAMES_MT);
    lua_setmetatable(L, -2);
    lua_createtable(L, 2 * n, 0);
    strings = lua_gettop(L);
    i = 0;
    lua_pushnil(L);
    while (lua_next(L, list) != 0) {
        const char *k = lua_tostring(L, -2); /* kept alive by strings */
        unsigned h = slot_of(k);
        while (r->key[h] != NULL)
            h = (h + 1) & (NSLOTS - 1);
        r->key[h] = k;
        r->idx[h] = (unsigned char)i;
        lua_rawseti(L, strings, 2 * i + 2); /* the new name */
        lua_pushvalue(L, -1);
        lua_rawseti(L, strings, 2 * i + 1); /* the old name */
        i++;
    }
    r->n = n;
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, strings, 2 * i + 2);
        if (rename_of(r, lua_tostring(L, -1)) >= 0) {
            lua_pushfstring(L, "'%s' is both a new name and an old one", lua_tostring(L, -1));
            bad_list(L, arg, what);
        }
        for (j = 0; j < i; j++) {
            lua_rawgeti(L, strings, 2 * j + 2);
            if (lua_rawequal(L, -1, -2)) {
                lua_pushfstring(L, "two names are renamed to '%s'", lua_tostring(L, -1));
                bad_list(L, arg, what);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    avc_setuservalue(L, -2);
}

/* core.renames(list) -> renames: the list prepared once, for core.decode and
 * core.multi. */
int avc_l_renames(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    prepare(L, 1, 1, "");
    return 1;
}

/*
 * Makes the value at idx (absolute) a renames object in place: a list is
 * prepared, a renames object stays, nil (or nothing) means none. Returns
 * whether there is one; raises naming argument arg, what prefixing the
 * message. */
int avc_to_renames(lua_State *L, int idx, int arg, const char *what) {
    if (lua_isnoneornil(L, idx)) return 0;
    if (avc_testudata(L, idx, AVC_RENAMES_MT) != NULL) return 1;
    if (!lua_istable(L, idx)) {
        lua_pushfstring(L, "a table or core.renames expected, got %s", luaL_typename(L, idx));
        bad_list(L, arg, what);
    }
    prepare(L, idx, arg, what);
    lua_replace(L, idx);
    return 1;
}

static int renames_tostring(lua_State *L) {
    const renames *r = luaL_checkudata(L, 1, AVC_RENAMES_MT);
    lua_pushfstring(L, "apivideo.core.renames (%d names)", r->n);
    return 1;
}

void avc_renames_register(lua_State *L) {
    static const luaL_Reg methods[] = {{NULL, NULL}};
    avc_new_type(L, AVC_RENAMES_MT, methods, NULL, renames_tostring);
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
    return 0;
}
