/*
 * One HTTP exchange: a libcurl easy handle plus the buffers its callbacks
 * fill. The callbacks are plain C and never touch the Lua state, so no Lua
 * error can cross a libcurl frame; everything they learn is turned into Lua
 * values later, by transfer:result(), outside of any libcurl call.
 *
 * The layer below the multi handle: a transfer is built from a spec table
 * and handed what it needs (the share handle, the default body limit, its
 * id, the table of Lua values it keeps alive); it never sees the multi.
 * The multi drives it through the functions below (started, finished,
 * orphan) and holds it through an avc_holder, which is how t:cancel() and
 * t:close() reach the multi. The stall timeout is this file's from end to
 * end: read from the spec, measured by the callbacks, and judged by
 * avc_transfer_check_stall, which the step loop calls.
 *
 * The user value of a transfer (env) is a table its creator shares between
 * its transfers: result(true) decodes with its `renames` (a core.renames
 * object; none: nothing is renamed), and it keeps the share handle alive.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

enum avc_state {
    AVC_IDLE = 0,  /* created, not handed to libcurl (yet) */
    AVC_RUNNING,   /* in the multi handle */
    AVC_DONE,      /* finished; result available */
    AVC_CANCELLED, /* removed before it finished */
    AVC_CLOSED     /* easy handle and buffers released */
};

struct avc_transfer {
    CURL *easy;
    struct curl_slist *req_headers;
    avc_buf body;
    avc_buf headers; /* "name\0value\0" pairs of the last response */
    size_t max_body;
    enum avc_state state;
    CURLcode result;
    int too_large; /* body went past max_body */
    int headers_too_large;
    int oom;
    long stall_ms;       /* end it when no byte arrived for this long (0: never) */
    double last_data_ms; /* when the last byte (header or body) arrived */
    const avc_holder *hold;
    void *holder; /* whoever drives it (NULL: nobody) */
    lua_Integer id;
    char errbuf[CURL_ERROR_SIZE];
};

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

/* A stack index that stays valid when more is pushed. */
static int absindex(lua_State *L, int idx) {
    return idx < 0 && idx > LUA_REGISTRYINDEX ? lua_gettop(L) + idx + 1 : idx;
}

/*
 * Builds a transfer from a spec table (url, method, headers, body, timeouts,
 * ca_file, ...). env: the table kept as its user value (see the top of this
 * file); share: the share handle its easy handle uses (NULL: none);
 * max_body: the body limit when the spec sets none; id: what t:id() says.
 * The userdata exists with its metatable before libcurl is touched, so a bad
 * field raising halfway leaves nothing for __gc to miss. Leaves the userdata
 * on the stack; it is idle until avc_transfer_started.
 */
avc_transfer *avc_transfer_new(lua_State *L, int spec, int env, CURLSH *share, size_t max_body,
                               lua_Integer id) {
    avc_transfer *t;
    const char *url, *method, *body, *ca_file, *user_agent;
    size_t body_len = 0, i, n;
    long timeout_ms, connect_ms;

    spec = absindex(L, spec);
    env = absindex(L, env);
    luaL_checktype(L, spec, LUA_TTABLE);
    t = lua_newuserdata(L, sizeof *t);
    memset(t, 0, sizeof *t);
    t->id = id;
    luaL_getmetatable(L, AVC_TRANSFER_MT);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, env);
    avc_setuservalue(L, -2);

    url = spec_string(L, spec, "url", NULL);
    if (url == NULL) luaL_error(L, "apivideo.core: transfer field 'url' is required");
    method = spec_string(L, spec, "method", NULL);
    body = spec_string(L, spec, "body", &body_len);
    ca_file = spec_string(L, spec, "ca_file", NULL);
    user_agent = spec_string(L, spec, "user_agent", NULL);
    timeout_ms = spec_long(L, spec, "timeout_ms", 0);
    connect_ms = spec_long(L, spec, "connect_timeout_ms", 0);
    t->stall_ms = spec_long(L, spec, "stall_timeout_ms", 0);
    t->max_body = (size_t)spec_long(L, spec, "max_body", 0);
    if (t->max_body == 0) t->max_body = max_body;

    t->easy = curl_easy_init();
    if (t->easy == NULL) luaL_error(L, "apivideo.core: curl_easy_init failed");

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
    if (share != NULL) SETOPT(CURLOPT_SHARE, share);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, (void *)t);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, (void *)t);
    SETOPT(CURLOPT_HTTPHEADER, t->req_headers);
    if (timeout_ms > 0) SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
    if (connect_ms > 0) SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
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

/*
 * What the multi handle uses: who holds the transfer, its easy handle, and
 * the steps of its life there. Only these functions write a transfer's
 * state; none of them calls anything of the holder's.
 */

/* holder (with its ops) drives the transfer from now on; NULL: nobody. */
void avc_transfer_hold(avc_transfer *t, const avc_holder *ops, void *holder) {
    t->hold = holder != NULL ? ops : NULL;
    t->holder = holder;
}

void *avc_transfer_holder(const avc_transfer *t) { return t->holder; }

CURL *avc_transfer_easy(const avc_transfer *t) { return t->easy; }

/* The transfer an easy handle belongs to (every one is made here). */
avc_transfer *avc_transfer_of(CURL *easy) {
    avc_transfer *t = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    return t;
}

/* In the multi handle now: running, and the stall clock starts. */
void avc_transfer_started(avc_transfer *t) {
    t->state = AVC_RUNNING;
    t->last_data_ms = avc_now_ms();
}

/* Out of the multi handle with libcurl's code (or the stall's): done. */
void avc_transfer_finished(avc_transfer *t, CURLcode rc) {
    t->result = rc;
    t->state = AVC_DONE;
}

/* Its holder is gone (the multi was closed, and took it out of the multi
 * handle if it was running): cancelled if it was running, held by nobody,
 * and its easy handle no longer uses the share, which may go before it. */
void avc_transfer_orphan(avc_transfer *t) {
    if (t->state == AVC_RUNNING) t->state = AVC_CANCELLED;
    t->hold = NULL;
    t->holder = NULL;
    if (t->easy) curl_easy_setopt(t->easy, CURLOPT_SHARE, NULL);
}

/*
 * The stall timeout. libcurl's own low-speed limit counts whole seconds and
 * averages over several (1000 ms took 6-7 s): here the deadline is the last
 * byte plus stall_timeout_ms, the callbacks move it, and the step loop asks
 * for it so that it never sleeps past it.
 */

/* When the running transfer counts as stalled (-1: never). */
double avc_transfer_stall_at(const avc_transfer *t) {
    if (t->state != AVC_RUNNING || t->stall_ms <= 0) return -1;
    return t->last_data_ms + (double)t->stall_ms;
}

/* CURLE_OK, or the code to finish it with when it has stalled at now (its
 * error message is then written). */
CURLcode avc_transfer_check_stall(avc_transfer *t, double now) {
    double at = avc_transfer_stall_at(t);
    if (at < 0 || now < at) return CURLE_OK;
    (void)snprintf(t->errbuf, sizeof t->errbuf, "no data received for %ld ms (stall_timeout_ms)",
                   t->stall_ms);
    return CURLE_OPERATION_TIMEDOUT;
}

/* Takes a running transfer out of its holder: 1 if it was running. */
static int cancel(lua_State *L, avc_transfer *t) {
    if (t->state != AVC_RUNNING) return 0;
    if (t->hold != NULL) t->hold->cancel(L, t->holder);
    t->state = AVC_CANCELLED;
    return 1;
}

/* Frees everything; idempotent, so close() and __gc are one function. */
void avc_transfer_release(lua_State *L, avc_transfer *t) {
    if (t->state == AVC_CLOSED) return;
    (void)cancel(L, t);
    if (t->hold != NULL) t->hold->forget(t->holder);
    t->hold = NULL;
    t->holder = NULL;
    if (t->easy) curl_easy_cleanup(t->easy);
    t->easy = NULL;
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    avc_buf_free(&t->body);
    avc_buf_free(&t->headers);
    t->state = AVC_CLOSED;
}

static int l_close(lua_State *L) {
    avc_transfer_release(L, check_transfer(L, 1));
    return 0;
}

static int l_cancel(lua_State *L) {
    lua_pushboolean(L, cancel(L, check_transfer(L, 1)));
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
 * transfer:result([decode[, keep_body]]) -> table. With decode true and a
 * non-empty body, the body is decoded and shaped (see json.c) into `json`,
 * with the renames of the transfer's env. The raw `body` string is kept
 * when it was not decoded or decoding failed, and with keep_body also when
 * it was decoded (the same string: the body is copied into Lua once).
 */
static int l_result(lua_State *L) {
    avc_transfer *t = check_transfer(L, 1);
    int decode = lua_toboolean(L, 2), keep_body = lua_toboolean(L, 3), res, body;
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
    res = lua_gettop(L);
    set_int(L, "status", status);
    set_int(L, "curl_code", (lua_Integer)t->result);
    set_int(L, "new_connections", conns);
    lua_pushnumber(L, (lua_Number)total_us / 1000.0);
    lua_setfield(L, res, "time_ms");
    lua_pushstring(L, version == CURL_HTTP_VERSION_2_0   ? "2"
                      : version == CURL_HTTP_VERSION_1_0 ? "1.0"
                      : version == CURL_HTTP_VERSION_3   ? "3"
                                                         : "1.1");
    lua_setfield(L, res, "http_version");
    if (t->result != CURLE_OK) {
        lua_pushstring(L, t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result));
        lua_setfield(L, res, "curl_error");
    }
    if (t->too_large) {
        lua_pushboolean(L, 1);
        lua_setfield(L, res, "too_large");
    }
    if (t->headers_too_large) {
        lua_pushboolean(L, 1);
        lua_setfield(L, res, "headers_too_large");
    }
    if (t->oom) {
        lua_pushboolean(L, 1);
        lua_setfield(L, res, "out_of_memory");
    }
    avc_headers_push(L, &t->headers);
    lua_setfield(L, res, "headers");
    /* one copy of the body into Lua: cjson decodes it, and it is the body
     * field when decoding was not asked for or failed, or keep_body says so */
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    body = lua_gettop(L);
    if (decode && t->body.len > 0 && t->result == CURLE_OK) {
        int renames = 0;
        avc_getuservalue(L, 1);
        lua_getfield(L, -1, "renames");
        if (!lua_isnil(L, -1)) renames = lua_gettop(L);
        lua_pushvalue(L, body);
        if (avc_json_decode(L, renames) != 0) {
            lua_setfield(L, res, "json_error"); /* the message */
            keep_body = 1;
        } else {
            lua_setfield(L, res, "json");
        }
        lua_settop(L, body);
    } else {
        keep_body = 1;
    }
    if (keep_body)
        lua_setfield(L, res, "body");
    else
        lua_pop(L, 1);
    lua_pushinteger(L, (lua_Integer)t->body.len);
    lua_setfield(L, res, "body_size");
    return 1;
}

void avc_transfer_register(lua_State *L) {
    static const luaL_Reg methods[] = {{"result", l_result}, {"cancel", l_cancel},
                                       {"close", l_close},   {"state", l_state},
                                       {"id", l_id},         {NULL, NULL}};
    avc_new_type(L, AVC_TRANSFER_MT, methods, l_close, l_tostring);
}
