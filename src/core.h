/*
 * Shared declarations of the apivideo.core C module.
 *
 * The module is a thin layer over libcurl's multi interface: Lua owns the
 * policy (auth, retries, pagination, which fields are renamed); C owns the
 * bytes (transfers, header parsing, body buffering, JSON decoding and
 * shaping).
 */
#ifndef APIVIDEO_CORE_H
#define APIVIDEO_CORE_H

#include <poll.h>
#include <stddef.h>

#include <curl/curl.h>

#include "compat.h"

#define AVC_VERSION "0.1.0"
#define AVC_MULTI_MT "apivideo.core.multi"
#define AVC_TRANSFER_MT "apivideo.core.transfer"
#define AVC_SHARE_MT "apivideo.core.share"
#define AVC_RENAMES_MT "apivideo.core.renames"

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
 * The objects are opaque: struct avc_transfer, avc_multi, avc_share and
 * avc_renames are defined in their own .c file only, so no other file can
 * touch their fields (the compiler refuses; make check-layers checks that no
 * other file sees a definition). avc_buf is the one plain value type.
 */

/* core.c: the clock and type registration */
double avc_now_ms(void);
int avc_l_now_ms(lua_State *L);
void avc_new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                  lua_CFunction tostring);

/* buf.c: growable byte buffers (a value type: its fields are public) */
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

/* json.c: cjson decode + shaping, with a rename list handed in from Lua */
int avc_json_init(lua_State *L, int state_idx, int max_depth);
int avc_json_decode(lua_State *L, int renames_idx);
int avc_l_decode(lua_State *L);
int avc_l_renames(lua_State *L);
int avc_to_renames(lua_State *L, int idx, int arg, const char *what);
void avc_renames_register(lua_State *L);

/* share.c: the share handle */
int avc_open_share(lua_State *L);
CURLSH *avc_check_share(lua_State *L, int idx);
void avc_share_register(lua_State *L);

/*
 * transfer.c: one easy handle, its buffers, its result and its stall
 * timeout. It knows nothing of the multi handle: whoever drives it (multi.c)
 * holds it, and is told through avc_holder when the transfer is cancelled or
 * released from Lua (the one way control goes up, and no symbol of the
 * holder's is named here).
 */
typedef struct avc_transfer avc_transfer;
typedef struct avc_holder {
    /* t:cancel() or t:close() of a running transfer: take it out of
     * libcurl's multi handle and stop keeping it alive */
    void (*cancel)(lua_State *L, void *holder);
    /* the transfer is being released: drop every pointer to it */
    void (*forget)(void *holder);
} avc_holder;
avc_transfer *avc_transfer_new(lua_State *L, int spec_idx, int env_idx, CURLSH *share,
                               size_t max_body, lua_Integer id);
void avc_transfer_hold(avc_transfer *t, const avc_holder *ops, void *holder);
void *avc_transfer_holder(const avc_transfer *t);
CURL *avc_transfer_easy(const avc_transfer *t);
avc_transfer *avc_transfer_of(CURL *easy);
void avc_transfer_started(avc_transfer *t);
void avc_transfer_finished(avc_transfer *t, CURLcode rc);
void avc_transfer_orphan(avc_transfer *t);
double avc_transfer_stall_at(const avc_transfer *t);
CURLcode avc_transfer_check_stall(avc_transfer *t, double now);
void avc_transfer_release(lua_State *L, avc_transfer *t);
void avc_transfer_register(lua_State *L);

/* wait.c: the watcher, a thread that wakes an event loop when a socket is ready */
typedef struct avc_watcher avc_watcher;
avc_watcher *avc_watcher_open(void);
const char *avc_watcher_path(const avc_watcher *w);
int avc_watcher_accept(avc_watcher *w);
int avc_watcher_set(avc_watcher *w, const struct pollfd *set, int n, int arm, double deadline);
int avc_watcher_armed(avc_watcher *w);
void avc_watcher_notify(avc_watcher *w);
void avc_watcher_close(avc_watcher *w);

/* multi.c: the multi handle, multi:add, the step loop and the done queue */
int avc_open_multi(lua_State *L);
void avc_multi_register(lua_State *L);

/* module.c: the top; only Lua (and the fuzz targets) call it */
int luaopen_apivideo_core(lua_State *L);

#endif
