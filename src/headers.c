/*
 * Response headers: libcurl hands over raw lines; we keep the header block
 * of the final response as "name\0value\0" pairs (names lower-cased, values
 * trimmed) and turn it into a Lua table on demand. Pure C with no Lua state
 * involved in parsing, so it can run inside a libcurl callback and be fuzzed
 * on its own.
 */
#include <string.h>

#include "core.h"

/* The white space trimmed around values: SP, HTAB, CR, LF, VT and FF. */
static int is_ws(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* RFC 9110 tchar: the only bytes a field name may have. Plain ASCII ranges,
 * never the C library's locale-dependent classes. */
static int is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Adds one raw header line. A status line starts the block again (a 100
 * Continue or a redirect came before). A line is ignored when its name is
 * empty or not a token, when it has no colon, or when its trimmed value
 * holds a control byte (HTAB aside). Returns 0, or -1 when the block would
 * exceed AVC_MAX_HEADER_BYTES, -2 when out of memory.
 */
int avc_headers_add_line(avc_buf *h, const char *p, size_t n) {
    size_t name_end, v, e, start, i;
    char nul = '\0';
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        h->len = 0;
        return 0;
    }
    for (name_end = 0; name_end < n && p[name_end] != ':'; name_end++) {
        if (!is_tchar((unsigned char)p[name_end])) return 0;
    }
    if (name_end == 0 || name_end == n) return 0; /* blank line, or no colon */
    for (v = name_end + 1; v < n && is_ws((unsigned char)p[v]); v++) {}
    for (e = n; e > v && is_ws((unsigned char)p[e - 1]); e--) {}
    for (i = v; i < e; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    if (h->len + name_end + (e - v) + 2 > AVC_MAX_HEADER_BYTES) return -1;
    start = h->len;
    if (avc_buf_append(h, p, name_end, AVC_MAX_HEADER_BYTES) ||
        avc_buf_append(h, &nul, 1, AVC_MAX_HEADER_BYTES) ||
        avc_buf_append(h, p + v, e - v, AVC_MAX_HEADER_BYTES) ||
        avc_buf_append(h, &nul, 1, AVC_MAX_HEADER_BYTES)) {
        h->len = start;
        return -2;
    }
    for (i = start; i < start + name_end; i++)
        if (h->data[i] >= 'A' && h->data[i] <= 'Z') h->data[i] = (char)(h->data[i] - 'A' + 'a');
    return 0;
}

/*
 * Pushes the headers as a table, created at its final size (one slot per
 * line: a repeated name only makes it roomier). A repeated name gets its
 * non-empty values joined with ", " in arrival order; the repeats are
 * gathered in a side table first, made only when a name repeats, and each
 * joined once, so the cost stays linear.
 */
void avc_headers_push(lua_State *L, const avc_buf *h) {
    size_t pos = 0, at, nul = 0;
    int result, repeats;
    for (at = 0; at < h->len; at++)
        nul += h->data[at] == '\0';
    lua_createtable(L, 0, nul / 2 > 1024 ? 1024 : (int)(nul / 2));
    result = lua_gettop(L);
    lua_pushnil(L); /* the side table's slot */
    repeats = lua_gettop(L);
    while (pos < h->len) {
        const char *name = h->data + pos;
        size_t nlen = strlen(name);
        const char *value = name + nlen + 1;
        size_t vlen = strlen(value);
        pos += nlen + vlen + 2;
        lua_pushlstring(L, name, nlen);
        lua_pushvalue(L, -1);
        lua_rawget(L, result);
        if (lua_isnil(L, -1)) { /* first time: result[name] = value */
            lua_pop(L, 1);
            lua_pushlstring(L, value, vlen);
            lua_rawset(L, result);
            continue;
        }
        lua_pop(L, 1);
        if (lua_isnil(L, repeats)) {
            lua_newtable(L);
            lua_replace(L, repeats);
        }
        lua_pushvalue(L, -1);
        lua_rawget(L, repeats);
        if (lua_isnil(L, -1)) { /* second time: repeats[name] = { first } */
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -2);
            lua_rawget(L, result);
            lua_rawseti(L, -2, 1);
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_rawset(L, repeats);
        }
        lua_pushlstring(L, value, vlen);
        lua_rawseti(L, -2, (int)avc_rawlen(L, -2) + 1);
        lua_pop(L, 2);
    }
    if (lua_istable(L, repeats)) {
        lua_pushnil(L);
        while (lua_next(L, repeats) != 0) { /* name at -2, list at -1 */
            int list = lua_gettop(L), i, n = (int)avc_rawlen(L, list), first = 1;
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (i = 1; i <= n; i++) {
                size_t len;
                lua_rawgeti(L, list, i);
                lua_tolstring(L, -1, &len);
                if (len == 0) {
                    lua_pop(L, 1);
                    continue;
                }
                if (!first) {
                    /* the separator goes in before the value on the stack */
                    lua_pop(L, 1);
                    luaL_addstring(&b, ", ");
                    lua_rawgeti(L, list, i);
                }
                luaL_addvalue(&b);
                first = 0;
            }
            luaL_pushresult(&b);
            lua_pushvalue(L, list - 1);
            lua_insert(L, -2);
            lua_rawset(L, result);
            lua_pop(L, 1); /* the list; the name stays for lua_next */
        }
    }
    lua_pop(L, 1); /* repeats, or its empty slot */
}
