/*
 * libFuzzer target: response body bytes -> Lua values.
 *
 * Every path of the C core that turns a response body into Lua values, on
 * one lua_State created once (luaL_openlibs + luaopen_apivideo_core):
 *
 *  1. core.decode(input), called through lua_pcall: lua-cjson (the module's
 *     private cjson.safe instance) + the shaping walk of src/json.c;
 *  2. transfer:result(true), (true, true) and (false) on a transfer whose
 *     body buffer write_cb filled with the input (src/transfer.c: l_result
 *     -> avc_json_decode / body / json_error).
 *
 * Both decode with a rename list this file hands in (core.renames, as the
 * library hands in lua/apivideo/fields.lua): the same names as the
 * library's, written out again below.
 *
 * transfer.c is compiled into this file (#include, white-box: run.sh leaves
 * it out of the other sources) so that the input reaches the body through
 * the real write callback and a failed transfer can be staged; the struct
 * is private to transfer.c everywhere else.
 *
 * Checks, abort() on any failure:
 *  - the shaped value, walked completely (every key and value touched):
 *    no JSON null left as an object field value (null stays only as an array
 *    element), no camelCase name of the renamed set left anywhere, integral
 *    numbers within +-2^53 are integers (Lua 5.3+; a top-level number too),
 *    only string or positive integer keys, nesting within the module's
 *    max_depth;
 *  - a differential oracle: the same bytes through a separate, identically
 *    configured cjson.safe instance, then compared field by field with the
 *    shaped value (nothing lost, nothing invented, numbers and strings
 *    unchanged, renamed fields carry the camelCase field's value), and the
 *    two decoders must agree on success / failure and on the message. When
 *    an object has both spellings of a renamed field, a non-null camelCase
 *    value wins; a null camelCase value leaves the snake_case field as it
 *    is (never erased);
 *  - transfer:result(true) agrees with core.decode (json, json_error, body,
 *    body_size), result(true, true) also keeps the body verbatim,
 *    transfer:result(false) returns the body verbatim, and so does
 *    result(true) after a failed transfer (partial body, too large);
 *    avc_buf_append takes a zero-byte append (libcurl may make one), also on
 *    a buffer that never held anything;
 *  - the Lua stack is balanced after every input; every FUZZ_GC_EVERY
 *    inputs (env, default 1) a full GC runs and the Lua heap must be back
 *    near its size after start-up, so values kept alive by mistake show up
 *    as a leak (C-side leaks are LeakSanitizer's job: -detect_leaks=1).
 *
 * cjson: built-in, not `require`d from the system path. luaopen_cjson_safe
 * comes from Debian's static liblua5.4-cjson.a and is put in
 * package.preload["cjson.safe"] before the module loads, so the module and
 * the oracle use the very same decoder code, no .so is dlopen'ed / dlclose'd
 * (LeakSanitizer then symbolises everything, and LUA_CPATH cannot swap the
 * decoder under the fuzzer). Build with -DFUZZ_SYSTEM_CJSON to `require` the
 * system cjson.so instead. Either way cjson itself is not instrumented: the
 * fuzzer is guided by coverage of src/ and by the dictionary fuzz/decode.dict.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core.h"
#include "transfer.c" /* white-box: see above */

#if LUA_VERSION_NUM < 503
#error "fuzz_decode checks Lua 5.3+ integer shaping; build it against Lua 5.4"
#endif

#ifndef FUZZ_SYSTEM_CJSON
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TWO53 9007199254740992.0

/* Fixed stack slots, set up once; BASE is the stack height between inputs. */
enum { S_DECODE = 1, S_RAW, S_RESULT, S_TRANSFER, S_RENAMES, BASE = S_RENAMES };

static lua_State *L;
static avc_transfer *T;
static long gc_every = 1;
static unsigned long n_inputs;
static size_t heap_baseline;
static int max_depth;
static volatile unsigned sink; /* every string byte is read into this */
static const char *why;        /* reason of the last failed comparison */

/* The renamed set of lua/apivideo/fields.lua, written out again: the oracle
 * must not trust the code it checks. It is handed to the module as the
 * rename list (core.renames) of core.decode and of the transfer. */
static const struct {
    const char *from, *to;
} renames[] = {
    {"sessionId", "session_id"},     {"loadedAt", "loaded_at"},
    {"endedAt", "ended_at"},         {"searchTerm", "search_term"},
    {"emittedAt", "emitted_at"},     {"itemsTotal", "items_total"},
    {"pagesTotal", "pages_total"},   {"pageSize", "page_size"},
    {"currentPage", "current_page"}, {"currentPageItems", "current_page_items"},
    {"metricValue", "metric_value"}, {"dimensionValue", "dimension_value"},
};
#define NRENAMES ((int)(sizeof renames / sizeof renames[0]))

static void die(const char *what) {
    fprintf(stderr, "\n==fuzz_decode== invariant broken: %s\n", what);
    if (why != NULL) fprintf(stderr, "==fuzz_decode== detail: %s\n", why);
    fflush(stderr);
    abort();
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) die(what);                                                                    \
    } while (0)

/* Fails a comparison, remembering why; the caller decides whether to abort. */
#define MISMATCH(reason)                                                                           \
    do {                                                                                           \
        why = (reason);                                                                            \
        return 0;                                                                                  \
    } while (0)

static int rename_from(const char *k, size_t len) {
    int i;
    for (i = 0; i < NRENAMES; i++)
        if (strlen(renames[i].from) == len && memcmp(renames[i].from, k, len) == 0) return i;
    return -1;
}

static int rename_to(const char *k, size_t len) {
    int i;
    for (i = 0; i < NRENAMES; i++)
        if (strlen(renames[i].to) == len && memcmp(renames[i].to, k, len) == 0) return i;
    return -1;
}

static int is_null(lua_State *l, int idx) {
    return lua_type(l, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(l, idx) == NULL;
}

static int integral_in_range(lua_Number n) { return n >= -TWO53 && n <= TWO53 && n == floor(n); }

static void touch_string(lua_State *l, int idx) {
    size_t len, i;
    const char *s = lua_tolstring(l, idx, &len);
    unsigned h = 0;
    for (i = 0; i < len; i++)
        h = h * 31u + (unsigned char)s[i];
    sink += h;
}

/* ---- 1. invariants of a shaped value, on its own ---------------------- */

static void walk(int idx, int depth, int top) {
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: CHECK(top, "nil inside a decoded value"); break;
    case LUA_TBOOLEAN: sink += (unsigned)lua_toboolean(L, idx); break;
    case LUA_TLIGHTUSERDATA:
        CHECK(lua_touserdata(L, idx) == NULL, "light userdata other than cjson.null");
        CHECK(!top, "JSON null at top level was not turned into nil");
        break; /* the caller checks it is an array element */
    case LUA_TNUMBER:
        CHECK(lua_isinteger(L, idx) || !integral_in_range(lua_tonumber(L, idx)),
              "integral number within 2^53 left as a float");
        break;
    case LUA_TSTRING: touch_string(L, idx); break;
    case LUA_TTABLE:
        CHECK(depth < max_depth, "decoded value nested deeper than max_depth");
        CHECK(lua_getmetatable(L, idx) == 0, "decoded table has a metatable");
        luaL_checkstack(L, 8, "fuzz_decode: walk");
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                size_t klen;
                const char *k = lua_tolstring(L, -2, &klen);
                touch_string(L, -2);
                CHECK(rename_from(k, klen) < 0, "camelCase name of the renamed set left");
                CHECK(!is_null(L, -1), "JSON null left as an object field value");
            } else {
                CHECK(lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1,
                      "table key is neither a string nor a positive integer");
            }
            walk(-1, depth + 1, 0);
            lua_pop(L, 1);
        }
        break;
    default: die("decoded value of an unexpected Lua type");
    }
}

/* ---- 2. oracle: raw cjson value (r) against the shaped value (s) ------- */

static int same_shaped(int r, int s, int top);

/* A raw object field value against what the shaped table holds for it:
 * null means "absent". */
static int same_field(int r, int s) {
    if (is_null(L, r)) {
        if (!lua_isnil(L, s)) MISMATCH("object field that was null is present");
        return 1;
    }
    if (lua_isnil(L, s)) MISMATCH("object field lost");
    return same_shaped(r, s, 0);
}

/* The reason of a failed comparison of both spellings of a renamed field. */
static const char *collision(const char *what, const char *inner) {
    static char msg[512];
    char in[sizeof msg];
    snprintf(in, sizeof in, "%s", inner != NULL ? inner : "?"); /* inner may be msg */
    snprintf(msg, sizeof msg, "both spellings of a renamed field: %s (%s)", what, in);
    return msg;
}

static int same_table(int r, int s) {
    int ok = 1;
    if (lua_type(L, s) != LUA_TTABLE) MISMATCH("object/array became a non-table");
    luaL_checkstack(L, 12, "fuzz_decode: oracle");
    /* every raw entry is found, shaped, in s */
    lua_pushnil(L);
    while (ok && lua_next(L, r) != 0) { /* raw key -2, raw value -1 */
        int rv = lua_gettop(L);
        if (lua_type(L, -2) == LUA_TSTRING) {
            size_t klen;
            const char *k = lua_tolstring(L, -2, &klen);
            int i = rename_from(k, klen), j = rename_to(k, klen);
            if (i >= 0) {
                lua_pushvalue(L, -2);
                lua_rawget(L, s);
                if (!lua_isnil(L, -1)) {
                    why = "camelCase field kept under its wire name";
                    ok = 0;
                }
                lua_pop(L, 1);
                lua_getfield(L, s, renames[i].to); /* rawget: no metatables */
                lua_pushstring(L, renames[i].to);
                lua_rawget(L, r); /* did the raw object also have the snake_case name? */
                if (!ok) {
                } else if (lua_isnil(L, -1)) {
                    ok = same_field(rv, rv + 1);
                } else if (!is_null(L, rv)) {
                    /* both names on the wire: a non-null camelCase value wins */
                    ok = same_field(rv, rv + 1);
                    if (!ok) why = collision("snake_case field has not the camelCase value", why);
                } else {
                    /* a null camelCase value never erases the snake_case field */
                    ok = same_field(rv + 2, rv + 1);
                    if (!ok) why = collision("null camelCase field changed its snake_case twin", why);
                }
                lua_pop(L, 2);
            } else {
                int twin = 0; /* snake_case name whose camelCase twin is also there */
                if (j >= 0) {
                    lua_getfield(L, r, renames[j].from);
                    twin = !lua_isnil(L, -1);
                    lua_pop(L, 1);
                }
                if (twin) { /* checked together with the camelCase name */
                    lua_pop(L, 1);
                    continue;
                }
                lua_pushvalue(L, -2);
                lua_rawget(L, s);
                ok = same_field(rv, rv + 1);
                lua_pop(L, 1);
            }
        } else if (lua_isinteger(L, -2)) {
            lua_pushvalue(L, -2);
            lua_rawget(L, s);
            if (is_null(L, rv)) {
                if (!is_null(L, rv + 1)) {
                    why = "null array element not kept as core.null";
                    ok = 0;
                }
            } else {
                ok = same_shaped(rv, rv + 1, 0);
            }
            lua_pop(L, 1);
        } else {
            why = "cjson produced a key that is neither string nor integer";
            ok = 0;
        }
        lua_pop(L, 1);
    }
    if (!ok) {
        lua_pop(L, 1); /* the key left by the interrupted lua_next */
        return 0;
    }
    /* nothing in s that the raw value does not explain */
    lua_pushnil(L);
    while (ok && lua_next(L, s) != 0) {
        lua_pushvalue(L, -2);
        lua_rawget(L, r);
        if (lua_isnil(L, -1)) {
            size_t klen;
            const char *k;
            int j = -1;
            if (lua_type(L, -3) == LUA_TSTRING) {
                k = lua_tolstring(L, -3, &klen);
                j = rename_to(k, klen);
            }
            if (j >= 0) { /* only a non-null camelCase field brings its snake_case name */
                lua_getfield(L, r, renames[j].from);
                ok = !lua_isnil(L, -1) && !is_null(L, -1);
                lua_pop(L, 1);
            } else {
                ok = 0;
            }
            if (!ok) why = "shaped table has a key the JSON did not have";
        } else if (lua_type(L, -3) == LUA_TSTRING) {
            size_t klen;
            const char *k = lua_tolstring(L, -3, &klen);
            if (rename_from(k, klen) >= 0) {
                why = "camelCase name of the renamed set left";
                ok = 0;
            }
        }
        lua_pop(L, 2);
    }
    if (!ok) lua_pop(L, 1);
    return ok;
}

static int same_shaped(int r, int s, int top) {
    int rt = lua_type(L, r);
    r = lua_absindex(L, r);
    s = lua_absindex(L, s);
    switch (rt) {
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, r) != NULL) MISMATCH("cjson produced a non-null light userdata");
        if (top ? !lua_isnil(L, s) : !is_null(L, s)) MISMATCH("null not mapped as documented");
        return 1;
    case LUA_TBOOLEAN:
        if (lua_type(L, s) != LUA_TBOOLEAN || lua_toboolean(L, r) != lua_toboolean(L, s))
            MISMATCH("boolean changed");
        return 1;
    case LUA_TSTRING: {
        size_t a, b;
        const char *x = lua_tolstring(L, r, &a), *y;
        if (lua_type(L, s) != LUA_TSTRING) MISMATCH("string changed type");
        y = lua_tolstring(L, s, &b);
        if (a != b || memcmp(x, y, a) != 0) MISMATCH("string changed");
        return 1;
    }
    case LUA_TNUMBER:
        if (lua_type(L, s) != LUA_TNUMBER) MISMATCH("number changed type");
        if (lua_isinteger(L, r)) {
            if (!lua_isinteger(L, s) || lua_tointeger(L, r) != lua_tointeger(L, s))
                MISMATCH("integer changed");
        } else {
            lua_Number n = lua_tonumber(L, r);
            if (integral_in_range(n)) {
                if (!lua_isinteger(L, s)) MISMATCH("integral number within 2^53 not an integer");
                if ((lua_Number)lua_tointeger(L, s) != n) MISMATCH("number changed");
            } else if (!integral_in_range(n) && lua_isinteger(L, s)) {
                MISMATCH("number outside 2^53 or with a fraction became an integer");
            } else if (lua_tonumber(L, s) != n) {
                MISMATCH("number changed");
            }
        }
        return 1;
    case LUA_TTABLE: return same_table(r, s);
    default: MISMATCH("cjson produced an unexpected Lua type");
    }
}

/* Plain deep equality of two shaped values (numbers: same subtype too). */
static int equal(int a, int b) {
    int t = lua_type(L, a);
    a = lua_absindex(L, a);
    b = lua_absindex(L, b);
    if (t != lua_type(L, b)) return 0;
    switch (t) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, a) != lua_isinteger(L, b)) return 0;
        return lua_rawequal(L, a, b);
    case LUA_TTABLE: {
        int ok = 1;
        luaL_checkstack(L, 8, "fuzz_decode: equal");
        lua_pushnil(L);
        while (ok && lua_next(L, a) != 0) {
            lua_pushvalue(L, -2);
            lua_rawget(L, b);
            ok = equal(-2, -1);
            lua_pop(L, 2);
        }
        if (!ok) {
            lua_pop(L, 1);
            return 0;
        }
        lua_pushnil(L);
        while (ok && lua_next(L, b) != 0) {
            lua_pushvalue(L, -2);
            lua_rawget(L, a);
            ok = !lua_isnil(L, -1);
            lua_pop(L, 2);
        }
        if (!ok) lua_pop(L, 1);
        return ok;
    }
    default: return lua_rawequal(L, a, b);
    }
}

/* ---- 3. transfer:result() on the same bytes --------------------------- */

static int field_is(int tbl, const char *k, int type) {
    int t;
    lua_getfield(L, tbl, k);
    t = lua_type(L, -1);
    lua_pop(L, 1);
    return t == type;
}

static int field_equals_bytes(int tbl, const char *k, const uint8_t *p, size_t n) {
    size_t len;
    const char *s;
    int ok;
    lua_getfield(L, tbl, k);
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    ok = s != NULL && len == n && (n == 0 || memcmp(s, p, n) == 0);
    lua_pop(L, 1);
    return ok;
}

static void check_result(const uint8_t *data, size_t size, int value, int err) {
    int res;
    /* the body of these bytes, through the write callback libcurl calls
     * (in two pieces when it can) */
    T->body.len = 0;
    CHECK(write_cb((char *)data, 1, size / 2, T) == size / 2 &&
              write_cb((char *)data + size / 2, 1, size - size / 2, T) == size - size / 2,
          "write_cb refused a body under max_body");
    CHECK(T->body.len == size && !T->too_large && !T->oom, "write_cb stored another length");
    {
        /* libcurl may call write_cb with 0 bytes, even before any data */
        avc_buf z = {NULL, 0, 0};
        CHECK(avc_buf_append(&z, (const char *)data, 0, T->max_body) == 0 && z.len == 0,
              "avc_buf_append: zero-byte append to an empty buffer");
        CHECK(write_cb((char *)data + size, 1, 0, T) == 0 && T->body.len == size,
              "write_cb: zero-byte append to a filled buffer");
        avc_buf_free(&z);
    }
    avc_transfer_finished(T, CURLE_OK);

    lua_pushvalue(L, S_RESULT);
    lua_pushvalue(L, S_TRANSFER);
    lua_pushboolean(L, 1);
    CHECK(lua_pcall(L, 2, 1, 0) == 0, "transfer:result(true) raised");
    res = lua_gettop(L);
    CHECK(lua_istable(L, res), "transfer:result(true) is not a table");
    lua_getfield(L, res, "body_size");
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == (lua_Integer)size,
          "result.body_size differs from the body length");
    lua_pop(L, 1);
    CHECK(field_is(res, "headers", LUA_TTABLE), "result.headers is not a table");
    if (size == 0) {
        CHECK(field_equals_bytes(res, "body", data, 0), "empty body: result.body is not \"\"");
        CHECK(field_is(res, "json", LUA_TNIL) && field_is(res, "json_error", LUA_TNIL),
              "empty body was decoded");
    } else if (!lua_isnil(L, err)) {
        CHECK(field_is(res, "json", LUA_TNIL), "result.json set although decode failed");
        lua_getfield(L, res, "json_error");
        CHECK(lua_rawequal(L, -1, err), "result.json_error differs from core.decode's message");
        lua_pop(L, 1);
        CHECK(field_equals_bytes(res, "body", data, size), "undecodable body not kept verbatim");
    } else {
        lua_getfield(L, res, "json");
        CHECK(equal(-1, value), "result.json differs from core.decode's value");
        lua_pop(L, 1);
        CHECK(field_is(res, "json_error", LUA_TNIL) && field_is(res, "body", LUA_TNIL),
              "decoded body also kept as json_error/body");
    }
    lua_getfield(L, res, "json");
    walk(-1, 0, 1);
    lua_pop(L, 1);

    /* keep_body: the same result, and the body verbatim whatever happened */
    lua_pushvalue(L, S_RESULT);
    lua_pushvalue(L, S_TRANSFER);
    lua_pushboolean(L, 1);
    lua_pushboolean(L, 1);
    CHECK(lua_pcall(L, 3, 1, 0) == 0, "transfer:result(true, true) raised");
    CHECK(field_equals_bytes(lua_gettop(L), "body", data, size),
          "result(true, true).body is not the body");
    lua_getfield(L, -1, "json");
    lua_getfield(L, res, "json");
    CHECK(equal(-1, -2), "result(true, true).json differs from result(true).json");
    lua_getfield(L, -3, "json_error");
    lua_getfield(L, res, "json_error");
    CHECK(lua_rawequal(L, -1, -2), "result(true, true).json_error differs");
    lua_pop(L, 6);

    lua_pushvalue(L, S_RESULT);
    lua_pushvalue(L, S_TRANSFER);
    lua_pushboolean(L, 0);
    CHECK(lua_pcall(L, 2, 1, 0) == 0, "transfer:result(false) raised");
    res = lua_gettop(L);
    CHECK(field_equals_bytes(res, "body", data, size), "result(false).body is not the body");
    CHECK(field_is(res, "json", LUA_TNIL) && field_is(res, "json_error", LUA_TNIL),
          "result(false) decoded the body");
    lua_pop(L, 1);

    /* the same bytes as the partial body of a failed transfer (a cut
     * connection, a body over max_body): never decoded, kept verbatim */
    avc_transfer_finished(T, (n_inputs & 1) ? CURLE_PARTIAL_FILE : CURLE_WRITE_ERROR);
    T->too_large = T->result == CURLE_WRITE_ERROR;
    T->headers_too_large = (n_inputs & 2) != 0;
    lua_pushvalue(L, S_RESULT);
    lua_pushvalue(L, S_TRANSFER);
    lua_pushboolean(L, 1);
    CHECK(lua_pcall(L, 2, 1, 0) == 0, "transfer:result(true) raised on a failed transfer");
    res = lua_gettop(L);
    CHECK(field_equals_bytes(res, "body", data, size), "failed transfer: body not kept verbatim");
    CHECK(field_is(res, "json", LUA_TNIL) && field_is(res, "json_error", LUA_TNIL),
          "failed transfer: body was decoded");
    CHECK(field_is(res, "curl_error", LUA_TSTRING), "failed transfer: no curl_error");
    lua_getfield(L, res, "curl_code");
    CHECK(lua_tointeger(L, -1) == (lua_Integer)T->result, "failed transfer: curl_code");
    lua_pop(L, 1);
    CHECK(field_is(res, "too_large", T->too_large ? LUA_TBOOLEAN : LUA_TNIL) &&
              field_is(res, "headers_too_large", T->headers_too_large ? LUA_TBOOLEAN : LUA_TNIL),
          "failed transfer: too_large / headers_too_large flags");
    lua_pop(L, 1);
    T->too_large = T->headers_too_large = 0;
}

/* ---- set-up ------------------------------------------------------------ */

static size_t heap_bytes(void) {
    return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

/* Runs inside lua_pcall: everything that may raise during set-up. */
static int setup(lua_State *l) {
    int i;
#ifndef FUZZ_SYSTEM_CJSON
    luaL_getsubtable(l, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(l, luaopen_cjson);
    lua_setfield(l, -2, "cjson");
    lua_pushcfunction(l, luaopen_cjson_safe);
    lua_setfield(l, -2, "cjson.safe");
    lua_pop(l, 1);
#endif
    /* the module, loaded the way require would */
    luaL_requiref(l, "apivideo.core", luaopen_apivideo_core, 0);
    lua_getfield(l, -1, "max_depth");
    max_depth = (int)lua_tointeger(l, -1);
    lua_pop(l, 1);
    lua_getfield(l, -1, "decode"); /* S_DECODE */
    lua_insert(l, 1);
    /* S_RAW: the oracle, a second cjson.safe configured as json.c does */
    lua_getglobal(l, "require");
    lua_pushliteral(l, "cjson.safe");
    lua_call(l, 1, 1);
    lua_getfield(l, -1, "new");
    lua_call(l, 0, 1);
    lua_remove(l, -2); /* [decode, mod, instance] */
    lua_getfield(l, -1, "decode_max_depth");
    lua_pushinteger(l, max_depth);
    lua_call(l, 1, 0);
    lua_getfield(l, -1, "decode_invalid_numbers");
    lua_pushboolean(l, 0);
    lua_call(l, 1, 0);
    lua_getfield(l, -1, "decode");
    lua_insert(l, 2); /* [decode, raw, mod, instance] */
    lua_pop(l, 1);
    /* S_RENAMES: the rename list, prepared once */
    lua_getfield(l, -1, "renames");
    lua_createtable(l, 0, NRENAMES);
    for (i = 0; i < NRENAMES; i++) {
        lua_pushstring(l, renames[i].to);
        lua_setfield(l, -2, renames[i].from);
    }
    lua_call(l, 1, 1); /* [decode, raw, mod, renames] */
    /* S_TRANSFER: a transfer that is never run, decoding with the list */
    lua_newtable(l); /* its env */
    lua_pushvalue(l, -2);
    lua_setfield(l, -2, "renames");
    lua_newtable(l);
    lua_pushliteral(l, "http://127.0.0.1:9/fuzz");
    lua_setfield(l, -2, "url");
    T = avc_transfer_new(l, -1, -2, NULL, AVC_DEFAULT_MAX_BODY, 1);
    lua_replace(l, -3); /* [decode, raw, mod, renames, transfer, spec] */
    lua_pop(l, 1);
    /* a realistic header block, so result() pushes a non-empty table */
    {
        static const char *const lines[] = {"HTTP/1.1 200 OK\r\n",
                                            "Content-Type: application/json\r\n",
                                            "X-RateLimit-Limit: 100000\r\n",
                                            "X-RateLimit-Remaining: 99999\r\n",
                                            "X-RateLimit-Retry-After: 60\r\n",
                                            "\r\n"};
        size_t j;
        for (j = 0; j < sizeof lines / sizeof lines[0]; j++)
            if (avc_headers_add_line(&T->headers, lines[j], strlen(lines[j])) != 0)
                return luaL_error(l, "avc_headers_add_line failed in set-up");
    }
    lua_getfield(l, -1, "result"); /* through the metatable's __index */
    lua_insert(l, 3);              /* [decode, raw, result, mod, renames, transfer] */
    lua_insert(l, 4);              /* [decode, raw, result, transfer, mod, renames] */
    lua_remove(l, 5);              /* [decode, raw, result, transfer, renames] */
    if (lua_gettop(l) != BASE) return luaL_error(l, "set-up left %d values", lua_gettop(l));
    return BASE; /* the slots become the caller's stack */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *e = getenv("FUZZ_GC_EVERY");
    (void)argc;
    (void)argv;
    if (e != NULL && atol(e) > 0) gc_every = atol(e);
    L = luaL_newstate();
    CHECK(L != NULL, "luaL_newstate failed");
    luaL_openlibs(L);
    lua_pushcfunction(L, setup);
    if (lua_pcall(L, 0, BASE, 0) != 0) {
        fprintf(stderr, "fuzz_decode: set-up failed: %s\n", lua_tostring(L, -1));
        abort();
    }
    CHECK(lua_type(L, S_DECODE) == LUA_TFUNCTION && lua_type(L, S_RAW) == LUA_TFUNCTION &&
              lua_type(L, S_RESULT) == LUA_TFUNCTION && lua_type(L, S_TRANSFER) == LUA_TUSERDATA &&
              lua_type(L, S_RENAMES) == LUA_TUSERDATA,
          "set-up stack layout");
    CHECK(max_depth >= 16, "core.max_depth");
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
    heap_baseline = heap_bytes();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int value, err, raw, raw_err;
    why = NULL;
    CHECK(lua_gettop(L) == BASE, "Lua stack unbalanced before the input");

    /* core.decode(input, renames) -> value | nil, message */
    lua_pushvalue(L, S_DECODE);
    lua_pushlstring(L, (const char *)data, size);
    lua_pushvalue(L, S_RENAMES);
    CHECK(lua_pcall(L, 2, 2, 0) == 0, "core.decode raised instead of returning nil, message");
    value = BASE + 1;
    err = BASE + 2;
    if (!lua_isnil(L, err)) {
        CHECK(lua_isnil(L, value), "core.decode returned both a value and an error");
        CHECK(lua_type(L, err) == LUA_TSTRING && lua_rawlen(L, err) > 0,
              "core.decode error is not a non-empty string");
    }
    walk(value, 0, 1);

    /* the oracle: plain cjson on the same bytes */
    lua_pushvalue(L, S_RAW);
    lua_pushlstring(L, (const char *)data, size);
    CHECK(lua_pcall(L, 1, 2, 0) == 0, "cjson.safe decode raised");
    raw = BASE + 3;
    raw_err = BASE + 4;
    if (lua_isnil(L, raw)) {
        CHECK(!lua_isnil(L, err), "core.decode accepted what cjson refuses");
        CHECK(lua_rawequal(L, err, raw_err), "core.decode error differs from cjson's");
    } else {
        CHECK(lua_isnil(L, err), "core.decode refused what cjson accepts");
        if (!same_shaped(raw, value, 1)) die("shaped value does not match the JSON");
    }
    lua_settop(L, err);

    check_result(data, size, value, err);

    lua_settop(L, BASE);
    if (++n_inputs % (unsigned long)gc_every == 0) {
        lua_gc(L, LUA_GCCOLLECT, 0);
        CHECK(heap_bytes() <= heap_baseline + 512 * 1024,
              "Lua heap does not shrink back after a full GC (values kept alive)");
    }
    return 0;
}
