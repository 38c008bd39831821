/*
 * The multi handle: many transfers in flight at once, over connections, DNS
 * answers and TLS sessions kept in a share handle (its own, or one that
 * several multi handles use together). It never blocks unless
 * asked to: perform(0) only moves bytes that are ready, perform(ms) waits in
 * poll() for at most that long, so the same loop serves a blocking caller, an
 * nginx worker and a game's frame loop.
 *
 * It drives libcurl through its event interface (curl_multi_socket_action):
 * libcurl tells which sockets to watch and when its timer is due, one poll()
 * over those sockets finds the ready ones, and only their transfers are
 * touched. curl_multi_perform would look at every transfer on every step,
 * each with a poll() of its own: 51 us a step at 80 transfers in flight,
 * which an nginx worker stepping a thousand times a second feels.
 *
 * It is the layer above transfer.c: multi:add builds a transfer there and
 * hands it to libcurl here, and from then on this file holds it (a `held`
 * record per transfer) and moves it through its life with transfer.c's
 * functions; it never sees a transfer's fields. The stall timeout is
 * transfer.c's: the step loop only asks each running transfer when it would
 * stall and whether it has.
 *
 * Lua values owned by a multi:
 *   user value [1 .. n] (done_head .. done_tail-1)  finished, not yet collected
 *   user value .env = { share =, renames = }        the user value of each of its
 *                                                    transfers: the share handle it
 *                                                    draws on, the renames they decode with
 *   registry [held.ref] = transfer userdata          while running
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

typedef struct avc_multi avc_multi;

/* One transfer this multi created and that was not released yet. */
typedef struct held {
    avc_multi *m;
    avc_transfer *t;
    struct held *prev, *next;
    int ref; /* while running: the registry reference that keeps it alive; else LUA_NOREF */
} held;

/* a socket libcurl wants watched (CURLMOPT_SOCKETFUNCTION) */
typedef struct avc_sock {
    curl_socket_t fd;
    int what;     /* CURL_POLL_IN, _OUT or _INOUT */
    unsigned gen; /* changes whenever libcurl (re)registers this fd */
} avc_sock;

struct avc_multi {
    CURLM *multi;
    CURLSH *share; /* owned by a share userdata kept in env */
    held *head;    /* every transfer created by this handle and not released */
    int attached;  /* how many are in the multi handle now */
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
    /* multi:watcher(): a thread that wakes an event loop when a socket is
     * ready (wait.c); NULL until asked for. deadline: avc_now_ms() when the
     * loop's wait ends by itself (multi:arm); an earlier timer wakes it. */
    avc_watcher *watcher;
    double deadline;
};

/* The poll() entry of a socket libcurl watches. */
static void watch_entry(struct pollfd *p, const avc_sock *s) {
    p->fd = s->fd;
    p->events = (short)(((s->what & CURL_POLL_IN) ? POLLIN : 0) |
                        ((s->what & CURL_POLL_OUT) ? POLLOUT : 0));
    p->revents = 0;
}

/* Hands the watcher the sockets libcurl watches now; arm as for
 * avc_watcher_set (-1: leave it). 0, or -1 when out of memory. */
static int sync_watcher(avc_multi *m, int arm) {
    struct pollfd *set = NULL;
    int i, rc;
    if (m->nsocks > 0) {
        set = malloc((size_t)m->nsocks * sizeof *set);
        if (set == NULL) return -1;
    }
    for (i = 0; i < m->nsocks; i++) {
        watch_entry(&set[i], &m->socks[i]);
    }
    rc = avc_watcher_set(m->watcher, set, m->nsocks, arm, m->deadline);
    free(set);
    return rc;
}

/* The socket list changed: a watcher that is waiting watches the new one
 * (one that is not is handed the list when the loop arms it again). */
static void sockets_changed(avc_multi *m) {
    if (m->watcher == NULL || !avc_watcher_armed(m->watcher)) return;
    if (sync_watcher(m, -1) != 0)
        avc_watcher_notify(m->watcher); /* out of memory: the loop performs */
}

/* A multi handle argument that is still open. */
static avc_multi *check_multi(lua_State *L, int idx) {
    avc_multi *m = luaL_checkudata(L, idx, AVC_MULTI_MT);
    if (m->closed) luaL_error(L, "apivideo.core: multi handle is closed");
    return m;
}

/*
 * The held list: every transfer this handle created and that was not
 * released yet, running or not. A running one is in libcurl's multi handle
 * and kept alive by a registry reference; leaving that state (finished,
 * cancelled, the multi closed) goes through detach().
 */

/* Takes a running transfer out of libcurl and lets Lua collect it. */
static void detach(lua_State *L, held *h) {
    if (h->ref == LUA_NOREF) return;
    curl_multi_remove_handle(h->m->multi, avc_transfer_easy(h->t));
    h->m->attached--;
    luaL_unref(L, LUA_REGISTRYINDEX, h->ref);
    h->ref = LUA_NOREF;
}

/* avc_holder: t:cancel() or t:close() of a running transfer. */
static void held_cancel(lua_State *L, void *p) { detach(L, p); }

/* avc_holder: the transfer is released; it is off libcurl already. */
static void held_forget(void *p) {
    held *h = p;
    if (h->prev)
        h->prev->next = h->next;
    else
        h->m->head = h->next;
    if (h->next) h->next->prev = h->prev;
    free(h);
}

static const avc_holder holder_ops = {held_cancel, held_forget};

/* CURLMOPT_SOCKETFUNCTION: keeps the list of sockets to watch. It only ever
 * grows that list: step() sizes its own scratch space before it polls, since
 * libcurl calls this from inside the socket actions step() makes. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    avc_multi *m = userp;
    int i;
    (void)easy, (void)socketp;
    for (i = 0; i < m->nsocks; i++)
        if (m->socks[i].fd == fd) break;
    if (what == CURL_POLL_REMOVE) {
        if (i < m->nsocks) m->socks[i] = m->socks[--m->nsocks];
        sockets_changed(m);
        return 0;
    }
    if (i == m->nsocks) {
        if (m->nsocks == m->capsocks) {
            int cap = m->capsocks ? m->capsocks * 2 : 16;
            avc_sock *socks = realloc(m->socks, (size_t)cap * sizeof *socks);
            if (socks == NULL) {
                /* left unwatched: its transfer ends at its own timeout, and
                 * perform() raises. (-1 would make libcurl give up the whole
                 * multi handle, every transfer of an nginx worker with it.) */
                m->oom = 1;
                return 0;
            }
            m->socks = socks;
            m->capsocks = cap;
        }
        m->socks[i].fd = fd;
        m->nsocks++;
    }
    m->socks[i].what = what;
    m->socks[i].gen = ++m->sockgen ? m->sockgen : ++m->sockgen; /* never 0 */
    sockets_changed(m);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants its timeout action. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    avc_multi *m = userp;
    (void)multi;
    m->timer_set = timeout_ms >= 0;
    m->timer_at = avc_now_ms() + (double)(timeout_ms > 0 ? timeout_ms : 0);
    /* due before a waiting loop's wait ends: it ends then */
    if (m->watcher != NULL && m->timer_set && m->timer_at < m->deadline &&
        avc_watcher_armed(m->watcher)) {
        m->deadline = m->timer_at;
        if (sync_watcher(m, 1) != 0) avc_watcher_notify(m->watcher);
    }
    return 0;
}

/* core.multi([opts]) */
int avc_open_multi(lua_State *L) {
    avc_multi *m;
    int share;
    lua_Number max_body = (lua_Number)AVC_DEFAULT_MAX_BODY;
    long max_host = 0, max_total = 0;
    lua_settop(L, 1);
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_getfield(L, 1, "max_body");
        if (!lua_isnil(L, -1)) max_body = luaL_checknumber(L, -1);
        lua_getfield(L, 1, "max_host_connections");
        if (!lua_isnil(L, -1)) max_host = (long)luaL_checknumber(L, -1);
        lua_getfield(L, 1, "max_total_connections");
        if (!lua_isnil(L, -1)) max_total = (long)luaL_checknumber(L, -1);
        lua_pop(L, 3);
        if (!(max_body >= 1 && max_body <= 4294967296.0))
            luaL_argerror(L, 1, "max_body must be between 1 and 4 GiB");
        if (max_host < 0 || max_total < 0)
            luaL_argerror(L, 1, "connection limits must not be negative");
        lua_getfield(L, 1, "renames"); /* 2: prepared here once, if a plain list */
        (void)avc_to_renames(L, 2, 1, "renames: ");
        lua_getfield(L, 1, "share");
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
    }
    /* the share first: created (or given) before the multi, it is finalized after it */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushcfunction(L, avc_open_share); /* a private one, with connections */
        lua_call(L, 0, 1);
    }
    share = lua_gettop(L);
    m = lua_newuserdata(L, sizeof *m);
    memset(m, 0, sizeof *m);
    m->closed = 1; /* until both handles exist, __gc has nothing to free */
    luaL_getmetatable(L, AVC_MULTI_MT);
    lua_setmetatable(L, -2);
    lua_newtable(L);
    lua_createtable(L, 0, 2); /* env: kept alive by the multi and by each transfer */
    lua_pushvalue(L, share);
    lua_setfield(L, -2, "share");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "renames");
    lua_setfield(L, -2, "env");
    avc_setuservalue(L, -2);

    m->max_body = (size_t)max_body;
    m->done_head = m->done_tail = 1;
    m->share = avc_check_share(L, share);
    m->multi = curl_multi_init();
    if (m->multi == NULL) return luaL_error(L, "apivideo.core: curl_multi_init failed");
    m->closed = 0;
    curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, (void *)m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, (void *)m);
    if (max_host > 0) curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host);
    if (max_total > 0) curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_total);
    return 1;
}

/*
 * Idempotent close == __gc. Transfers may outlive their multi (a Lua value
 * still points at them): they are detached and stop using the share handle
 * before the handles go, so their own __gc has nothing dangling.
 */
static int l_close(lua_State *L) {
    avc_multi *m = luaL_checkudata(L, 1, AVC_MULTI_MT);
    held *h, *next;
    if (m->closed) return 0;
    for (h = m->head; h != NULL; h = next) {
        next = h->next;
        detach(L, h);
        avc_transfer_orphan(h->t);
        free(h);
    }
    m->head = NULL;
    if (m->multi) curl_multi_cleanup(m->multi);
    m->multi = NULL;
    free(m->socks);
    free(m->pfds);
    m->socks = NULL;
    m->pfds = NULL;
    m->nsocks = m->capsocks = m->cappfds = 0;
    avc_watcher_close(m->watcher); /* (joins its thread) */
    m->watcher = NULL;
    m->share = NULL;
    m->closed = 1;
    lua_newtable(L); /* drop every reference to transfers */
    avc_setuservalue(L, 1);
    return 0;
}

/*
 * multi:add(spec) -> transfer: builds it (transfer.c), holds it and hands it
 * to libcurl. Raises on a bad spec or when libcurl refuses it; then nothing
 * is left running.
 */
static int l_add(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    avc_transfer *t;
    held *h;
    CURLMcode mc;
    int tidx;
    lua_settop(L, 2);
    avc_getuservalue(L, 1);
    lua_getfield(L, -1, "env"); /* 4 */
    t = avc_transfer_new(L, 2, 4, m->share, m->max_body, m->next_id + 1);
    tidx = lua_gettop(L);
    h = malloc(sizeof *h);
    if (h == NULL) {
        avc_transfer_release(L, t);
        return luaL_error(L, "apivideo.core: out of memory");
    }
    m->next_id++;
    h->m = m;
    h->t = t;
    h->ref = LUA_NOREF;
    h->prev = NULL;
    h->next = m->head;
    if (m->head) m->head->prev = h;
    m->head = h;
    avc_transfer_hold(t, &holder_ops, h);
    lua_pushvalue(L, tidx);
    h->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    mc = curl_multi_add_handle(m->multi, avc_transfer_easy(t));
    if (mc != CURLM_OK) {
        luaL_unref(L, LUA_REGISTRYINDEX, h->ref);
        h->ref = LUA_NOREF;
        avc_transfer_release(L, t);
        return luaL_error(L, "apivideo.core: %s", curl_multi_strerror(mc));
    }
    m->attached++;
    avc_transfer_started(t);
    return 1;
}

/* Moves a transfer that ended to the done queue (the user value, at the
 * top of the stack). */
static void mark_done(lua_State *L, avc_multi *m, held *h, CURLcode rc) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
    lua_rawseti(L, -2, m->done_tail++);
    detach(L, h);
    avc_transfer_finished(h->t, rc);
}

/* The earliest moment a running transfer counts as stalled (-1: none). */
static double next_stall(const avc_multi *m) {
    const held *h;
    double at = -1;
    for (h = m->head; h != NULL; h = h->next) {
        double due = h->ref != LUA_NOREF ? avc_transfer_stall_at(h->t) : -1;
        if (due >= 0 && (at < 0 || due < at)) at = due;
    }
    return at;
}

/* Moves every finished transfer to the done queue: the ones libcurl says
 * are done, and the ones that stalled (transfer.c judges). */
static int collect(lua_State *L, avc_multi *m) {
    CURLMsg *msg;
    held *h, *next;
    int left, n = 0;
    double now = avc_now_ms();
    avc_getuservalue(L, 1);
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        avc_transfer *t;
        if (msg->msg != CURLMSG_DONE) continue;
        t = avc_transfer_of(msg->easy_handle);
        h = t != NULL ? avc_transfer_holder(t) : NULL;
        if (h == NULL || h->m != m || h->ref == LUA_NOREF) continue;
        mark_done(L, m, h, msg->data.result);
        n++;
    }
    for (h = m->head; h != NULL; h = next) {
        next = h->next;
        if (h->ref != LUA_NOREF) {
            CURLcode rc = avc_transfer_check_stall(h->t, now);
            if (rc != CURLE_OK) {
                mark_done(L, m, h, rc);
                n++;
            }
        }
    }
    lua_pop(L, 1);
    return n;
}

/* The socket is still watched under the registration it had (gen). */
static int watched(const avc_multi *m, curl_socket_t fd, unsigned gen) {
    int i;
    for (i = 0; i < m->nsocks; i++)
        if (m->socks[i].fd == fd) return m->socks[i].gen == gen;
    return 0;
}

/*
 * One round: poll() the sockets libcurl watches for at most wait_ms, hand the
 * ready ones to libcurl, then its timer if due. Returns 0, or -1 with errno.
 */
static int step(avc_multi *m, int wait_ms) {
    struct pollfd *pfds;
    unsigned *gens;
    int i, n = m->nsocks, ready, running;
    if (n > m->cappfds) { /* here, never inside a socket action */
        int cap = m->capsocks;
        void *p = realloc(m->pfds, (size_t)cap * (sizeof(struct pollfd) + sizeof(unsigned)));
        if (p != NULL) {
            m->pfds = p;
            m->cappfds = cap;
        } else {
            n = m->cappfds; /* out of memory: watch the first ones, the rest time out */
        }
    }
    pfds = m->pfds;
    gens = (unsigned *)(pfds + m->cappfds);
    for (i = 0; i < n; i++) { /* a copy: libcurl changes the list while we act */
        watch_entry(&pfds[i], &m->socks[i]);
        gens[i] = m->socks[i].gen;
    }
    ready = poll(n > 0 ? pfds : NULL, (nfds_t)n, wait_ms);
    if (ready < 0) return errno == EINTR ? 0 : -1;
    for (i = 0; i < n && ready > 0; i++) {
        int ev = 0;
        if (pfds[i].revents == 0) continue;
        ready--;
        /* an earlier action may have closed this socket, or closed it and
         * opened another under the same number: what poll saw is stale */
        if (!watched(m, pfds[i].fd, gens[i])) continue;
        if (pfds[i].revents & (POLLIN | POLLHUP)) ev |= CURL_CSELECT_IN;
        if (pfds[i].revents & POLLOUT) ev |= CURL_CSELECT_OUT;
        if (pfds[i].revents & (POLLERR | POLLNVAL)) ev |= CURL_CSELECT_ERR;
        curl_multi_socket_action(m->multi, pfds[i].fd, ev, &running);
    }
    if (m->timer_set && avc_now_ms() >= m->timer_at) {
        m->timer_set = 0; /* before acting: libcurl may set the next one */
        curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    return 0;
}

/* Milliseconds until libcurl's timer or the first stall deadline (-1: none). */
static double next_due(const avc_multi *m) {
    double at = next_stall(m), left;
    if (m->timer_set && (at < 0 || m->timer_at < at)) at = m->timer_at;
    if (at < 0) return -1;
    left = at - avc_now_ms();
    return left > 0 ? left : 0;
}

/*
 * multi:perform([timeout_ms]) -> in_flight, finished
 * Moves data; with a timeout, waits until at least one transfer finishes or
 * the time is up. With nothing in flight it simply sleeps, which the Lua
 * scheduler uses for its timers.
 */
static int l_perform(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    lua_Number timeout = luaL_optnumber(L, 2, 0);
    double start = avc_now_ms();
    int finished = 0;
    for (;;) {
        double left = timeout > 0 ? (double)timeout - (avc_now_ms() - start) : 0;
        double due = next_due(m);
        int wait_ms;
        if (left < 0) left = 0;
        if (due >= 0 && due < left) left = due;       /* never sleep past a deadline */
        if (left > 2147483647.0) left = 2147483647.0; /* poll() takes an int */
        wait_ms = left > 0 && left < 1 ? 1 : (int)left;
        if (step(m, wait_ms) != 0) return luaL_error(L, "apivideo.core: poll: %s", strerror(errno));
        if (m->oom) { /* before collecting: what finished stays in libcurl's queue for the next call
                       */
            m->oom = 0;
            return luaL_error(L, "apivideo.core: out of memory (socket list)");
        }
        finished += collect(L, m);
        if (finished > 0 || timeout <= 0) break;
        if (avc_now_ms() - start >= (double)timeout) break;
    }
    lua_pushinteger(L, m->attached);
    lua_pushinteger(L, finished);
    return 2;
}

/* multi:next_done() -> transfer | nil: pops the oldest finished transfer. */
static int l_next_done(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    if (m->done_head == m->done_tail) {
        lua_pushnil(L);
        return 1;
    }
    avc_getuservalue(L, 1);
    lua_rawgeti(L, -1, m->done_head);
    lua_pushnil(L);
    lua_rawseti(L, -3, m->done_head++);
    if (m->done_head == m->done_tail) m->done_head = m->done_tail = 1;
    return 1;
}

/* multi:timeout() -> ms until libcurl's timer or a stall deadline is due
 * (-1: nothing is). */
static int l_timeout(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    double due = next_due(m);
    lua_Integer ms = -1;
    if (due >= 0) ms = (lua_Integer)ceil(due > 2147483647.0 ? 2147483647.0 : due);
    lua_pushinteger(L, ms);
    return 1;
}

/* multi:count() -> transfers in flight */
static int l_count(lua_State *L) {
    lua_pushinteger(L, check_multi(L, 1)->attached);
    return 1;
}

/* multi:queued() -> finished transfers not yet taken with next_done() */
static int l_queued(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    lua_pushinteger(L, m->done_tail - m->done_head);
    return 1;
}

/*
 * multi:watcher() -> path: the Unix socket of this multi's watcher (wait.c),
 * created at the first call. An event loop connects to it (in nginx, a
 * cosocket to "unix:" .. path), then calls multi:watch_accept(); after that,
 * each multi:arm(ms) makes the watcher write one byte to that connection as
 * soon as a socket libcurl watches is ready, or, from this thread, as soon
 * as libcurl's timer falls due before ms have passed, or at multi:wake().
 * The loop reads the byte (or times out after ms), performs, and arms again.
 */
static int l_watcher(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    if (m->watcher == NULL) {
        m->watcher = avc_watcher_open();
        if (m->watcher == NULL) return luaL_error(L, "apivideo.core: watcher: %s", strerror(errno));
    }
    lua_pushstring(L, avc_watcher_path(m->watcher));
    return 1;
}

/* multi:watch_accept() -> true, or nil and a message: takes the connection
 * just made to multi:watcher()'s path (replacing an earlier one). */
static int l_watch_accept(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    if (m->watcher == NULL) return luaL_error(L, "apivideo.core: watch_accept before watcher()");
    if (avc_watcher_accept(m->watcher) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, errno == EAGAIN || errno == EWOULDBLOCK ? "nobody connected"
                                                                  : strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* multi:arm(ms): one byte at the next readiness, or when ms have passed or
 * libcurl's timer is due, whichever comes first. */
static int l_arm(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    lua_Number ms = luaL_checknumber(L, 2);
    if (m->watcher == NULL) return luaL_error(L, "apivideo.core: arm before watcher()");
    m->deadline = avc_now_ms() + (ms > 0 ? ms : 0);
    if (m->timer_set && m->timer_at < m->deadline) m->deadline = m->timer_at;
    if (sync_watcher(m, 1) != 0) return luaL_error(L, "apivideo.core: out of memory (arm)");
    return 0;
}

/* multi:wake(): the byte now (something else needs the loop). */
static int l_wake(lua_State *L) {
    avc_multi *m = check_multi(L, 1);
    if (m->watcher != NULL) avc_watcher_notify(m->watcher);
    return 0;
}

static int l_tostring(lua_State *L) {
    avc_multi *m = luaL_checkudata(L, 1, AVC_MULTI_MT);
    if (m->closed)
        lua_pushliteral(L, "apivideo.core.multi (closed)");
    else
        lua_pushfstring(L, "apivideo.core.multi (%d in flight)", m->attached);
    return 1;
}

void avc_multi_register(lua_State *L) {
    static const luaL_Reg methods[] = {{"add", l_add},
                                       {"perform", l_perform},
                                       {"next_done", l_next_done},
                                       {"timeout", l_timeout},
                                       {"count", l_count},
                                       {"queued", l_queued},
                                       {"watcher", l_watcher},
                                       {"watch_accept", l_watch_accept},
                                       {"arm", l_arm},
                                       {"wake", l_wake},
                                       {"close", l_close},
                                       {NULL, NULL}};
    avc_new_type(L, AVC_MULTI_MT, methods, l_close, l_tostring);
}
