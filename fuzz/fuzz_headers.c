/*
 * libFuzzer target: raw response header lines -> Lua table.
 *
 * The input is split on '\n' and every line, its '\n' included (a last
 * line without one is fed as is), goes to avc_headers_add_line() exactly as
 * libcurl's header callback would hand it over. Then avc_headers_push()
 * turns the block into a Lua table (inside lua_pcall, on one lua_State
 * created once).
 *
 * Input format: plain header text. Exception, so that short inputs reach the
 * AVC_MAX_HEADER_BYTES cap: when the input starts with byte 0xFF, its second
 * byte F makes the harness feed first one synthetic line "x-fill: fff...\r\n"
 * that leaves exactly 16*F bytes of room in the buffer (0..4080), then the
 * rest of the input. Real header text never starts with 0xFF.
 *
 * Checks, abort() on any failure:
 *  - after every line: the return code is the one a reference model of the
 *    documented rules predicts (0, or -1 when the block would pass the cap;
 *    -2 is out-of-memory only), the buffer length equals the model's and
 *    never exceeds AVC_MAX_HEADER_BYTES;
 *  - the buffer is a sequence of complete "name\0value\0" pairs;
 *  - the pushed table: string keys and values only; every name non-empty,
 *    made of lower-case RFC 9110 tchar bytes only; every value without
 *    leading or trailing white space and without control bytes; sum of name
 *    and value sizes within AVC_MAX_HEADER_BYTES; and it equals the table
 *    the model builds (same names, the non-empty values of a repeated name
 *    joined with ", " in arrival order, "" when all of them are empty);
 *  - avc_headers_push allocates at most linearly in the block size: a
 *    counting lua_Alloc gives it a budget of 32 bytes per buffer byte + 64 KiB
 *    (a linear push asks for 1-20 bytes per buffer byte, the most for many
 *    distinct tiny names; only re-copying strings, e.g. joining one name's
 *    values one by one, goes beyond). Running out of it is a failure;
 *  - the Lua stack is balanced; every FUZZ_GC_EVERY inputs (env, default 1)
 *    a full GC runs and the Lua heap must be back near its start-up size.
 *
 * The rules of the model (src/headers.c, written out again, locale-free):
 *  - a line starting with "HTTP/" is a status line and starts a new block;
 *  - a line is ignored when it has no ':', when the name (the bytes before
 *    the first ':') is empty or holds a byte that is not a tchar
 *    (ALPHA / DIGIT / one of !#$%&'*+-.^_`|~), or when the value, trimmed
 *    of SP, HTAB, LF, VT, FF and CR (0x09-0x0D, 0x20), holds a control
 *    byte (below 0x20 except HTAB, or 0x7F; this covers NUL);
 *  - a line kept by these rules that would take the block past
 *    AVC_MAX_HEADER_BYTES gives -1 and is not stored;
 *  - names are lower-cased, values stored trimmed.
 * "White space" in the invariants is that trimmed set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's own model and checks are left out of the coverage feedback:
 * only src/ should steer the fuzzer (and the byte loops are cheaper).
 * noinline: a function inlined into an instrumented caller (feed,
 * LLVMFuzzerTestOneInput) is instrumented as part of it, attribute or not. */
#define NOCOV __attribute__((no_sanitize("coverage"), noinline))
/* Byte predicates of the model and the checks: inlined into NOCOV callers only. */
#define LEAF static inline __attribute__((no_sanitize("coverage"), always_inline))

static lua_State *L;
static size_t alloc_volume, alloc_budget = (size_t)-1;
static long gc_every = 1;
static unsigned long n_inputs;
static size_t heap_baseline;

static void die(const char *what) {
    fprintf(stderr, "\n==fuzz_headers== invariant broken: %s\n", what);
    fflush(stderr);
    abort();
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) die(what);                                                                    \
    } while (0)

/* The white space trimmed around values: SP and HTAB, LF, VT, FF, CR. */
LEAF int is_space(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

/* A control byte no stored value may hold: below 0x20 (HTAB aside), DEL. */
LEAF int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

/* RFC 9110 tchar, spelled out in ASCII (not isalnum: no locale). */
LEAF int is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~': return 1;
    default: return 0;
    }
}

LEAF int ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* ---- the reference model: the documented rules, written out again ----- */

typedef struct {
    const char *name, *value; /* point into the input */
    size_t nlen, vlen;
} entry;

typedef struct {
    entry *e;
    size_t n, cap;
    size_t bytes; /* what the "name\0value\0" buffer should hold */
} model;

/* Returns the code avc_headers_add_line must return for this line. */
NOCOV static int model_add(model *m, const char *p, size_t n) {
    const unsigned char *u = (const unsigned char *)p;
    size_t nlen, v, e, i;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* status line: a new block */
        m->n = 0;
        m->bytes = 0;
        return 0;
    }
    for (nlen = 0; nlen < n && u[nlen] != ':'; nlen++)
        if (!is_tchar(u[nlen])) return 0; /* not a token (white space, CTL, NUL...) */
    if (nlen == n || nlen == 0) return 0;  /* no colon, or an empty name */
    v = nlen + 1;
    while (v < n && is_space(u[v]))
        v++;
    e = n;
    while (e > v && is_space(u[e - 1]))
        e--;
    for (i = v; i < e; i++)
        if (is_ctl(u[i])) return 0; /* a control byte inside the value */
    if (m->bytes + nlen + (e - v) + 2 > AVC_MAX_HEADER_BYTES) return -1;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        entry *ne = realloc(m->e, cap * sizeof *ne);
        if (ne == NULL) die("fuzz_headers: out of memory in the model");
        m->e = ne;
        m->cap = cap;
    }
    m->e[m->n].name = p;
    m->e[m->n].nlen = nlen;
    m->e[m->n].value = p + v;
    m->e[m->n].vlen = e - v;
    m->n++;
    m->bytes += nlen + (e - v) + 2;
    return 0;
}

/* ---- Lua side ------------------------------------------------------------ */

/* realloc/free like luaL_newstate's, counting the bytes asked for; refuses
 * (Lua then raises "not enough memory") once over alloc_budget. */
static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    size_t old = ptr != NULL ? osize : 0;
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (nsize > old) {
        if (nsize - old > alloc_budget - alloc_volume) return NULL;
        alloc_volume += nsize - old;
    }
    return realloc(ptr, nsize);
}

static int l_push(lua_State *l) {
    avc_headers_push(l, lua_touserdata(l, 1));
    return 1;
}

/* Builds { lower(name) = { value, ... } } from the model, in arrival order. */
NOCOV static int l_model_table(lua_State *l) {
    const model *m = lua_touserdata(l, 1);
    luaL_Buffer b;
    size_t i, j;
    lua_newtable(l);
    for (i = 0; i < m->n; i++) {
        luaL_buffinit(l, &b);
        for (j = 0; j < m->e[i].nlen; j++)
            luaL_addchar(&b, (char)ascii_lower((unsigned char)m->e[i].name[j]));
        luaL_pushresult(&b);
        lua_pushvalue(l, -1);
        lua_rawget(l, -3);
        if (lua_isnil(l, -1)) {
            lua_pop(l, 1);
            lua_newtable(l);
            lua_pushvalue(l, -2);
            lua_pushvalue(l, -2);
            lua_rawset(l, -5);
        }
        lua_pushlstring(l, m->e[i].value, m->e[i].vlen);
        lua_rawseti(l, -2, (lua_Integer)lua_rawlen(l, -2) + 1);
        lua_pop(l, 2);
    }
    return 1;
}

/* The non-empty values of list joined with ", " ("" when there are none). */
NOCOV static void join(lua_State *l, int list) {
    luaL_Buffer b;
    lua_Integer i, n = (lua_Integer)lua_rawlen(l, list);
    int first = 1;
    luaL_buffinit(l, &b);
    for (i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(l, list, i);
        lua_tolstring(l, -1, &len);
        lua_pop(l, 1);
        if (len == 0) continue;
        if (!first) luaL_addstring(&b, ", ");
        lua_rawgeti(l, list, i);
        luaL_addvalue(&b);
        first = 0;
    }
    luaL_pushresult(&b);
}

NOCOV static void check_table(int got, int want) {
    size_t total = 0;
    lua_pushnil(L);
    while (lua_next(L, got) != 0) {
        size_t nlen, vlen, i;
        const char *name, *value;
        CHECK(lua_type(L, -2) == LUA_TSTRING, "header name is not a string");
        CHECK(lua_type(L, -1) == LUA_TSTRING, "header value is not a string");
        name = lua_tolstring(L, -2, &nlen);
        value = lua_tolstring(L, -1, &vlen);
        CHECK(nlen > 0, "empty header name");
        for (i = 0; i < nlen; i++) {
            unsigned char c = (unsigned char)name[i];
            CHECK(!(c >= 'A' && c <= 'Z'), "header name not lower-case");
            CHECK(is_tchar(c), "header name has a byte that is not a tchar");
        }
        for (i = 0; i < vlen; i++)
            CHECK(!is_ctl((unsigned char)value[i]), "header value has a control byte");
        if (vlen > 0) {
            CHECK(!is_space((unsigned char)value[0]), "header value has leading white space");
            CHECK(!is_space((unsigned char)value[vlen - 1]),
                  "header value has trailing white space");
        }
        total += nlen + vlen;
        /* against the model */
        lua_pushvalue(L, -2);
        lua_rawget(L, want);
        CHECK(lua_istable(L, -1), "header name the model does not have");
        join(L, lua_gettop(L));
        CHECK(lua_rawequal(L, -1, -3), "header value differs from the model's");
        lua_pop(L, 3);
    }
    CHECK(total <= AVC_MAX_HEADER_BYTES, "header table larger than AVC_MAX_HEADER_BYTES");
    /* and nothing of the model's is missing */
    lua_pushnil(L);
    while (lua_next(L, want) != 0) {
        lua_pushvalue(L, -2);
        lua_rawget(L, got);
        CHECK(lua_type(L, -1) == LUA_TSTRING, "header the model has is missing");
        lua_pop(L, 2);
    }
}

/* The buffer itself: complete "name\0value\0" pairs and nothing else. */
NOCOV static void check_buffer(const avc_buf *h, const model *m) {
    size_t pos = 0, pairs = 0;
    CHECK(h->len <= AVC_MAX_HEADER_BYTES, "header buffer over AVC_MAX_HEADER_BYTES");
    CHECK(h->len <= h->cap, "header buffer length over its capacity");
    while (pos < h->len) {
        const char *nul = memchr(h->data + pos, '\0', h->len - pos);
        CHECK(nul != NULL && nul != h->data + pos, "header buffer: name not terminated or empty");
        pos = (size_t)(nul - h->data) + 1;
        nul = memchr(h->data + pos, '\0', h->len - pos);
        CHECK(nul != NULL, "header buffer: value not terminated");
        pos = (size_t)(nul - h->data) + 1;
        pairs++;
    }
    CHECK(pairs == m->n, "header buffer holds another number of fields than the model");
}

static size_t heap_bytes(void) {
    return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

/* One line through the parser and the model, checked against each other. */
static void feed(avc_buf *h, model *m, const char *p, size_t len) {
    int want = model_add(m, p, len);
    int got = avc_headers_add_line(h, p, len);
    if (got == -2) die("avc_headers_add_line: out of memory");
    CHECK(got == want, "avc_headers_add_line returned another code than the model");
    CHECK(h->len == m->bytes, "header buffer length differs from the model's");
    CHECK(h->len <= AVC_MAX_HEADER_BYTES, "header buffer over AVC_MAX_HEADER_BYTES");
}

/* "x-fill: " + vlen x 'f' + "\r\n", built once (the model points into it). */
static char *fill;
static void fill_line(size_t vlen) {
    static size_t built = (size_t)-1;
    if (fill == NULL) {
        fill = malloc(AVC_MAX_HEADER_BYTES + 16);
        CHECK(fill != NULL, "fuzz_headers: out of memory");
        memcpy(fill, "x-fill: ", 8);
        memset(fill + 8, 'f', AVC_MAX_HEADER_BYTES);
    }
    if (built != (size_t)-1) fill[8 + built] = fill[8 + built + 1] = 'f';
    fill[8 + vlen] = '\r';
    fill[8 + vlen + 1] = '\n';
    built = vlen;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *e = getenv("FUZZ_GC_EVERY");
    (void)argc;
    (void)argv;
    if (e != NULL && atol(e) > 0) gc_every = atol(e);
    L = luaL_newstate();
    CHECK(L != NULL, "luaL_newstate failed");
    lua_setallocf(L, l_alloc, NULL); /* same realloc/free underneath */
    luaL_openlibs(L);
    lua_gc(L, LUA_GCCOLLECT, 0);
    heap_baseline = heap_bytes();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    size_t n = size;
    avc_buf h = {NULL, 0, 0};
    model m = {NULL, 0, 0, 0};
    int rc, top = lua_gettop(L);
    CHECK(top == 0, "Lua stack unbalanced before the input");

    if (n >= 2 && data[0] == 0xFF) {
        /* "x-fill" (6) + NUL + value + NUL = the cap minus the room */
        size_t vlen = AVC_MAX_HEADER_BYTES - 16 * (size_t)data[1] - 8;
        fill_line(vlen);
        feed(&h, &m, fill, 8 + vlen + 2);
        CHECK(h.len == AVC_MAX_HEADER_BYTES - 16 * (size_t)data[1], "x-fill line not stored");
        p += 2;
        n -= 2;
    }
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) + 1 : n;
        feed(&h, &m, p, len);
        p += len;
        n -= len;
    }
    check_buffer(&h, &m);

    lua_pushcfunction(L, l_model_table);
    lua_pushlightuserdata(L, &m);
    CHECK(lua_pcall(L, 1, 1, 0) == 0, "building the model table raised");

    lua_pushcfunction(L, l_push);
    lua_pushlightuserdata(L, &h);
    alloc_volume = 0;
    alloc_budget = 32 * h.len + 64 * 1024;
    rc = lua_pcall(L, 1, 1, 0);
    alloc_budget = (size_t)-1;
    CHECK(rc != LUA_ERRMEM, "avc_headers_push allocates more than linearly in the block size "
                            "(over 32 bytes per buffer byte + 64 KiB)");
    CHECK(rc == 0, "avc_headers_push raised");
    CHECK(lua_istable(L, 1) && lua_istable(L, 2), "push did not leave a table");
    check_table(2, 1);
    lua_settop(L, top);

    avc_buf_free(&h);
    free(m.e);
    if (++n_inputs % (unsigned long)gc_every == 0) {
        lua_gc(L, LUA_GCCOLLECT, 0);
        CHECK(heap_bytes() <= heap_baseline + 512 * 1024,
              "Lua heap does not shrink back after a full GC (values kept alive)");
    }
    return 0;
}
