/*
 * Shared declarations of the apivideo.core C module.
 *
 * The module is a thin layer over libcurl's multi interface: Lua owns the
 * policy (auth, retries, pagination); C owns the bytes (transfers, header
 * parsing, body buffering, JSON decoding and shaping).
 */
#ifndef APIVIDEO_CORE_H
#define APIVIDEO_CORE_H

#include <stddef.h>

#include <curl/curl.h>

#include "compat.h"

#define AVC_VERSION "0.1.0"
#define AVC_MULTI_MT "apivideo.core.multi"
#define AVC_TRANSFER_MT "apivideo.core.transfer"
#define AVC_SHARE_MT "apivideo.core.share"

/* Defaults; each can be changed per multi handle or per transfer. */
#define AVC_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define AVC_MAX_HEADER_BYTES ((size_t)256 * 1024)
#define AVC_DEFAULT_MAX_DEPTH 64

/*
 * Upvalue 1 of every exported function is the module state table: it holds
 * the cjson decoder instance, so no C global is needed and two Lua states
 * never share anything.
 */
#define AVC_STATE_IDX lua_upvalueindex(1)

/*
 * One heading per file, from the bottom of the module up: a file calls only
 * what is declared above its own heading (the layers: notes/c-core.md).
 */

/* core.c: the clock and type registration */
double avc_now_ms(void);
int avc_l_now_ms(lua_State *L);
void avc_new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                  lua_CFunction tostring);

/* buf.c: growable byte buffers */
typedef struct avc_buf {
    char *data;
    size_t len;
    size_t cap;
} avc_buf;
int avc_buf_append(avc_buf *b, const char *p, size_t n, size_t limit);
void avc_buf_free(avc_buf *b);

/* headers.c: the response header block, on an avc_buf */
int avc_headers_add_line(avc_buf *h, const char *p, size_t n);
void avc_headers_push(lua_State *L, const avc_buf *h);

/* json.c: cjson decode + shaping */
int avc_json_decode(lua_State *L);
int avc_l_decode(lua_State *L);
int avc_json_init(lua_State *L, int state_idx, int max_depth);

/* share.c: the share handle */
typedef struct avc_share {
    CURLSH *sh;
} avc_share;
int avc_open_share(lua_State *L);
CURLSH *avc_check_share(lua_State *L, int idx);
void avc_share_register(lua_State *L);

/* The two objects of multi.c and transfer.c. A transfer's multi, prev, next
 * and id belong to multi.c (its live list), the rest to transfer.c. */
typedef struct avc_multi avc_multi;
typedef struct avc_transfer avc_transfer;

enum avc_state {
    AVC_IDLE = 0,  /* created, never added */
    AVC_RUNNING,   /* attached to the multi handle */
    AVC_DONE,      /* finished; result available */
    AVC_CANCELLED, /* removed before it finished */
    AVC_CLOSED     /* easy handle and buffers released */
};

struct avc_transfer {
    CURL *easy;
    avc_multi *multi;          /* owner; NULL once the multi is closed */
    avc_transfer *prev, *next; /* the owner's list of live transfers */
    struct curl_slist *req_headers;
    avc_buf body;
    avc_buf headers; /* "name\0value\0" pairs of the last response */
    size_t max_body;
    enum avc_state state;
    CURLcode result;
    int too_large;       /* body went past max_body */
    long stall_ms;       /* abort when no byte arrived for this long (0: never) */
    double last_data_ms; /* when the last byte (header or body) arrived */
    int headers_too_large;
    int oom;
    lua_Integer id;
    char errbuf[CURL_ERROR_SIZE];
};

/* a socket libcurl wants watched (CURLMOPT_SOCKETFUNCTION) */
typedef struct avc_sock {
    curl_socket_t fd;
    int what;     /* CURL_POLL_IN, _OUT or _INOUT */
    unsigned gen; /* changes whenever libcurl (re)registers this fd */
} avc_sock;

struct avc_multi {
    CURLM *multi;
    CURLSH *share;      /* owned by a share userdata kept in the user value */
    avc_transfer *head; /* every live transfer created by this handle */
    int attached;       /* how many are in the multi handle now */
    size_t max_body;
    lua_Integer next_id;
    int done_head, done_tail; /* queue of finished transfers in the user value */
    int closed;
    /* libcurl's event interface: the sockets it watches, its one timer */
    avc_sock *socks;
    int nsocks, capsocks;
    unsigned sockgen;
    void *pfds; /* scratch space of perform(): struct pollfd[cappfds], then unsigned[cappfds] */
    int cappfds;
    int timer_set;
    double timer_at; /* avc_now_ms() when libcurl wants its timeout action */
    int oom;         /* the socket list could not grow: perform() raises */
};

/* multi.c: the multi handle, and the only code that edits its live list */
int avc_open_multi(lua_State *L);
avc_multi *avc_check_multi(lua_State *L, int idx);
void avc_multi_link(avc_multi *m, avc_transfer *t);
void avc_multi_unlink(avc_transfer *t);
CURLMcode avc_multi_attach(lua_State *L, int midx, int tidx);
void avc_multi_detach(avc_transfer *t);
int avc_multi_cancel(lua_State *L, int tidx);
void avc_multi_register(lua_State *L, lua_CFunction add);

/* transfer.c: one easy handle, its buffers and result; multi:add */
avc_transfer *avc_transfer_new(lua_State *L, avc_multi *m, int spec_idx);
int avc_transfer_add(lua_State *L);
void avc_transfer_release(avc_transfer *t);
void avc_transfer_register(lua_State *L);

/* module.c: the top; only Lua (and the fuzz targets) call it */
int luaopen_apivideo_core(lua_State *L);

#endif
