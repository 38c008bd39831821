/*
 * Response headers: libcurl hands over raw lines; we keep the header block
 * of the final response as "name\0value\0" pairs (names lower-cased, values
 * trimmed) and turn it into a Lua table on demand. Pure C with no Lua state
 * involved in parsing, so it can run inside a libcurl callback and be fuzzed
 * on its own.
 */
#include <ctype.h>
#include <string.h>

#include "core.h"

static int is_ows(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/*
 * Adds one raw header line. A status line starts the block again (a 100
 * Continue or a redirect came before). Lines without a name, without a
 * colon, or with a NUL byte are ignored. Returns 0, or -1 when the block
 * would exceed AVC_MAX_HEADER_BYTES, -2 when out of memory.
 */
int avc_headers_add_line(avc_buf *h, const char *p, size_t n) {
    size_t name_end, v, e, start, i;
    char nul = '\0';
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        h->len = 0;
        return 0;
    }
    if (memchr(p, '\0', n) != NULL) return 0;
    for (name_end = 0; name_end < n && p[name_end] != ':'; name_end++) {}
    if (name_end == 0 || name_end == n) return 0; /* blank line, or no colon */
    for (i = 0; i < name_end; i++)
        if (is_ows(p[i])) return 0; /* no white space inside a field name */
    for (v = name_end + 1; v < n && is_ows(p[v]); v++) {}
    for (e = n; e > v && is_ows(p[e - 1]); e--) {}
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
        h->data[i] = (char)tolower((unsigned char)h->data[i]);
    return 0;
}

/* Pushes the headers as a table; a repeated name gets its values joined with ", ". */
void avc_headers_push(lua_State *L, const avc_buf *h) {
    size_t pos = 0;
    lua_newtable(L);
    while (pos < h->len) {
        const char *name = h->data + pos;
        size_t nlen = strlen(name);
        const char *value = name + nlen + 1;
        size_t vlen = strlen(value);
        pos += nlen + vlen + 2;
        lua_pushlstring(L, name, nlen);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, value, vlen);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, value, vlen);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
    }
}
