/*
 * The share handle: DNS answers, TLS sessions and (optionally) connections
 * that several multi handles (several clients in one Lua state: the requests
 * of an nginx worker, say) use together.
 * It outlives every multi that uses it: each multi keeps it in its user
 * value, and it is only cleaned up once libcurl says nothing uses it.
 */
#include <string.h>

#include "core.h"

struct avc_share {
    CURLSH *sh; /* NULL once cleaned up */
};
typedef struct avc_share avc_share;

/*
 * core.share([opts]) -> share. opts.connections = false keeps connections out
 * of it (each multi handle then reuses its own): DNS answers and TLS sessions
 * are always shared.
 */
int avc_open_share(lua_State *L) {
    int connections = 1;
    avc_share *s;
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "connections");
        connections = lua_isnil(L, -1) || lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    s = lua_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    luaL_getmetatable(L, AVC_SHARE_MT);
    lua_setmetatable(L, -2);
    s->sh = curl_share_init();
    if (s->sh == NULL) return luaL_error(L, "apivideo.core: curl_share_init failed");
    curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (connections) curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    return 1;
}

CURLSH *avc_check_share(lua_State *L, int idx) {
    avc_share *s = luaL_checkudata(L, idx, AVC_SHARE_MT);
    if (s->sh == NULL) luaL_error(L, "apivideo.core: share handle is closed");
    return s->sh;
}

/*
 * Idempotent close == __gc. libcurl refuses while an easy handle still uses
 * the share; then it stays open (and close returns false) rather than pull
 * the connections from under a transfer.
 */
static int l_close(lua_State *L) {
    avc_share *s = luaL_checkudata(L, 1, AVC_SHARE_MT);
    if (s->sh != NULL && curl_share_cleanup(s->sh) == CURLSHE_OK) s->sh = NULL;
    lua_pushboolean(L, s->sh == NULL);
    return 1;
}

static int l_tostring(lua_State *L) {
    avc_share *s = luaL_checkudata(L, 1, AVC_SHARE_MT);
    lua_pushstring(L, s->sh ? "apivideo.core.share" : "apivideo.core.share (closed)");
    return 1;
}

void avc_share_register(lua_State *L) {
    static const luaL_Reg methods[] = {{"close", l_close}, {NULL, NULL}};
    avc_new_type(L, AVC_SHARE_MT, methods, l_close, l_tostring);
}
