/*
 * One HTTP exchange: a libcurl easy handle plus the buffers its callbacks
 * fill. The callbacks are plain C and never touch the Lua state, so no Lua
 * error can cross a libcurl frame; everything they learn is turned into Lua
 * values later, by transfer:result(), outside of any libcurl call.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud) {
    avc_transfer *t = ud;
    size_t n = size * nmemb;
    if (t->stall_ms > 0) t->last_data_ms = avc_now_ms();
    int rc = avc_buf_append(&t->body, p, n, t->max_body);
    if (rc == -1) t->too_large = 1;
    if (rc == -2) t->oom = 1;
    return rc == 0 ? n : 0; /* 0 makes libcurl end the transfer */
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud) {
    avc_transfer *t = ud;
    if (t->stall_ms > 0) t->last_data_ms = avc_now_ms();
    int rc = avc_headers_add_line(&t->headers, p, size * nmemb);
    if (rc == -1) t->headers_too_large = 1;
    if (rc == -2) t->oom = 1;
    return rc == 0 ? size * nmemb : 0; /* 0 makes libcurl end the transfer */
}

/* The scheme is https (any case). */
static int is_https(const char *url) {
    const char *p;
    for (p = "https:"; *p; p++, url++)
        if (tolower((unsigned char)*url) != *p) return 0;
    return 1;
}

static avc_transfer *check_transfer(lua_State *L, int idx) {
    return luaL_checkudata(L, idx, AVC_TRANSFER_MT);
}

/* Field readers for the spec table; a wrong type is a programmer error. */
static const char *spec_string(lua_State *L, int idx, const char *key, size_t *len) {
    const char *s = NULL;
    lua_getfield(L, idx, key);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "apivideo.core: transfer field '%s' must be a string", key);
        s = lua_tolstring(L, -1, len);
    }
    lua_pop(L, 1); /* the spec table keeps the string alive */
    return s;
}

static long spec_long(lua_State *L, int idx, const char *key, long dflt) {
    long v = dflt;
    lua_getfield(L, idx, key);
    if (!lua_isnil(L, -1)) {
        lua_Number n;
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "apivideo.core: transfer field '%s' must be a number", key);
        n = lua_tonumber(L, -1);
        if (!(n >= 0 && n <= 2147483647.0))
            luaL_error(L, "apivideo.core: transfer field '%s' is out of range", key);
        v = (long)n;
    }
    lua_pop(L, 1);
    return v;
}

static int spec_bool(lua_State *L, int idx, const char *key) {
    int b;
    lua_getfield(L, idx, key);
    b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

static void check_header_line(lua_State *L, const char *s, size_t len) {
    size_t i;
    for (i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            luaL_error(L, "apivideo.core: header line contains CR, LF or NUL");
}

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (curl_easy_setopt(t->easy, (opt), (val)) != CURLE_OK)                                   \
            luaL_error(L, "apivideo.core: libcurl refused option %s", #opt);                       \
    } while (0)

/*
 * Builds a transfer from a spec table (url, method, headers, body, timeouts,
 * ca_file, ...). The userdata exists with its metatable before libcurl is
 * touched, so a bad field raising halfway leaves nothing for __gc to miss.
 * Leaves the userdata on the stack.
 */
avc_transfer *avc_transfer_new(lua_State *L, avc_multi *m, int spec) {
    avc_transfer *t;
    const char *url, *method, *body, *ca_file, *user_agent;
    size_t body_len = 0, i, n;
    long timeout_ms, connect_ms, stall_ms;

    luaL_checktype(L, spec, LUA_TTABLE);
    t = lua_newuserdata(L, sizeof *t);
    memset(t, 0, sizeof *t);
    luaL_getmetatable(L, AVC_TRANSFER_MT);
    lua_setmetatable(L, -2);

    url = spec_string(L, spec, "url", NULL);
    if (url == NULL) luaL_error(L, "apivideo.core: transfer field 'url' is required");
    method = spec_string(L, spec, "method", NULL);
    body = spec_string(L, spec, "body", &body_len);
    ca_file = spec_string(L, spec, "ca_file", NULL);
    user_agent = spec_string(L, spec, "user_agent", NULL);
    timeout_ms = spec_long(L, spec, "timeout_ms", 0);
    connect_ms = spec_long(L, spec, "connect_timeout_ms", 0);
    stall_ms = spec_long(L, spec, "stall_timeout_ms", 0);
    t->max_body = (size_t)spec_long(L, spec, "max_body", 0);
    if (t->max_body == 0) t->max_body = m->max_body;

    t->easy = curl_easy_init();
    if (t->easy == NULL) luaL_error(L, "apivideo.core: curl_easy_init failed");
    avc_multi_link(m, t);

    lua_getfield(L, spec, "headers");
    if (!lua_isnil(L, -1)) {
        luaL_checktype(L, -1, LUA_TTABLE);
        n = avc_rawlen(L, -1);
        for (i = 1; i <= n; i++) {
            struct curl_slist *l;
            size_t len;
            const char *h;
            lua_rawgeti(L, -1, (int)i);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "apivideo.core: transfer headers must be strings");
            h = lua_tolstring(L, -1, &len);
            check_header_line(L, h, len);
            l = curl_slist_append(t->req_headers, h);
            if (l == NULL) luaL_error(L, "apivideo.core: out of memory");
            t->req_headers = l;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PRIVATE, (void *)t);
    SETOPT(CURLOPT_ERRORBUFFER, t->errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L); /* never carry credentials elsewhere */
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    /* over TLS, wait for a connection being set up to tell whether it
     * multiplexes (HTTP/2, by ALPN) rather than open another: safe because
     * connections are never shared between multi handles (see the client's
     * pool). Plain http:// never multiplexes (no h2c upgrade is asked for),
     * and there the wait only made a burst of requests to a new host queue
     * behind the first one's answer (51, 102, 102, 102 ms at 50 ms latency). */
    if (is_https(url)) SETOPT(CURLOPT_PIPEWAIT, 1L);
    SETOPT(CURLOPT_SHARE, m->share);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, (void *)t);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, (void *)t);
    SETOPT(CURLOPT_HTTPHEADER, t->req_headers);
    if (timeout_ms > 0) SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
    if (connect_ms > 0) SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    if (stall_ms > 0) { /* the step loop (multi.c) ends it once nothing came for that long */
        t->stall_ms = stall_ms;
        t->last_data_ms = avc_now_ms();
    }
    if (ca_file) SETOPT(CURLOPT_CAINFO, ca_file);
    if (user_agent) SETOPT(CURLOPT_USERAGENT, user_agent);
    if (spec_bool(L, spec, "accept_encoding")) SETOPT(CURLOPT_ACCEPT_ENCODING, "");
    if (method == NULL || strcmp(method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        SETOPT(CURLOPT_COPYPOSTFIELDS, body ? body : "");
    } else {
        luaL_error(L, "apivideo.core: unsupported method '%s'", method);
    }
    return t;
}

/* Frees everything; idempotent, so close() and __gc are one function. */
void avc_transfer_release(avc_transfer *t) {
    if (t->state == AVC_CLOSED) return;
    avc_multi_detach(t);
    avc_multi_unlink(t);
    if (t->easy) curl_easy_cleanup(t->easy);
    t->easy = NULL;
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    avc_buf_free(&t->body);
    avc_buf_free(&t->headers);
    t->state = AVC_CLOSED;
}

/* multi:add(spec) -> transfer. A method of the multi handle, defined here
 * because it builds a transfer (module.c hands it to avc_multi_register). */
int avc_transfer_add(lua_State *L) {
    avc_multi *m = avc_check_multi(L, 1);
    avc_transfer *t = avc_transfer_new(L, m, 2);
    CURLMcode mc = avc_multi_attach(L, 1, lua_gettop(L));
    if (mc != CURLM_OK) {
        avc_transfer_release(t);
        return luaL_error(L, "apivideo.core: %s", curl_multi_strerror(mc));
    }
    return 1;
}

static int l_close(lua_State *L) {
    avc_transfer *t = check_transfer(L, 1);
    (void)avc_multi_cancel(L, 1);
    avc_transfer_release(t);
    return 0;
}

static int l_cancel(lua_State *L) {
    check_transfer(L, 1);
    lua_pushboolean(L, avc_multi_cancel(L, 1));
    return 1;
}

static const char *state_name(enum avc_state s) {
    switch (s) {
    case AVC_IDLE: return "idle";
    case AVC_RUNNING: return "running";
    case AVC_DONE: return "done";
    case AVC_CANCELLED: return "cancelled";
    default: return "closed";
    }
}

static int l_state(lua_State *L) {
    lua_pushstring(L, state_name(check_transfer(L, 1)->state));
    return 1;
}

static int l_id(lua_State *L) {
    lua_pushinteger(L, check_transfer(L, 1)->id);
    return 1;
}

static int l_tostring(lua_State *L) {
    avc_transfer *t = check_transfer(L, 1);
    lua_pushfstring(L, "apivideo.core.transfer #%d (%s)", (int)t->id, state_name(t->state));
    return 1;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/*
 * transfer:result([decode]) -> table. With decode true and a non-empty body,
 * the body is decoded and shaped (see json.c) into `json`; the raw `body`
 * string is only kept when it was not decoded, or decoding failed.
 */
static int l_result(lua_State *L) {
    avc_transfer *t = check_transfer(L, 1);
    int decode = lua_toboolean(L, 2);
    long status = 0, version = 0, conns = 0;
    curl_off_t total_us = 0;
    if (t->state != AVC_DONE) {
        lua_pushnil(L);
        lua_pushfstring(L, "transfer is %s, not done", state_name(t->state));
        return 2;
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &conns);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    lua_createtable(L, 0, 12);
    set_int(L, "status", status);
    set_int(L, "curl_code", (lua_Integer)t->result);
    set_int(L, "new_connections", conns);
    lua_pushnumber(L, (lua_Number)total_us / 1000.0);
    lua_setfield(L, -2, "time_ms");
    lua_pushstring(L, version == CURL_HTTP_VERSION_2_0   ? "2"
                      : version == CURL_HTTP_VERSION_1_0 ? "1.0"
                      : version == CURL_HTTP_VERSION_3   ? "3"
                                                         : "1.1");
    lua_setfield(L, -2, "http_version");
    if (t->result != CURLE_OK) {
        lua_pushstring(L, t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result));
        lua_setfield(L, -2, "curl_error");
    }
    if (t->too_large) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "too_large");
    }
    if (t->headers_too_large) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "headers_too_large");
    }
    if (t->oom) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "out_of_memory");
    }
    avc_headers_push(L, &t->headers);
    lua_setfield(L, -2, "headers");
    /* one copy of the body into Lua: cjson decodes it, and it is the body
     * field when decoding was not asked for or failed */
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    if (decode && t->body.len > 0 && t->result == CURLE_OK) {
        lua_pushvalue(L, -1);
        if (avc_json_decode(L) != 0) {
            lua_setfield(L, -3, "json_error"); /* the message */
            lua_setfield(L, -2, "body");
        } else {
            lua_setfield(L, -3, "json");
            lua_pop(L, 1);
        }
    } else {
        lua_setfield(L, -2, "body");
    }
    lua_pushinteger(L, (lua_Integer)t->body.len);
    lua_setfield(L, -2, "body_size");
    return 1;
}

void avc_transfer_register(lua_State *L) {
    static const luaL_Reg methods[] = {{"result", l_result}, {"cancel", l_cancel},
                                       {"close", l_close},   {"state", l_state},
                                       {"id", l_id},         {NULL, NULL}};
    avc_new_type(L, AVC_TRANSFER_MT, methods, l_close, l_tostring);
}
