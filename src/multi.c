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
 * Lua values owned by a multi live in its user value table:
 *   [lightuserdata transfer] = transfer userdata   while running
 *   [1 .. n] (done_head .. done_tail-1)            finished, not yet collected
 *   share = share userdata                          the pool it draws on
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* A multi handle argument that is still open. */
avc_multi *avc_check_multi(lua_State *L, int idx) {
    avc_multi *m = luaL_checkudata(L, idx, AVC_MULTI_MT);
    if (m->closed) luaL_error(L, "apivideo.core: multi handle is closed");
    return m;
}

/*
 * The live list: every transfer a multi handle created and that was not
 * released yet, attached or not. Only this file reads or edits it (and the
 * attached count, the running table, a transfer's prev/next/multi/id); the
 * transfer's own code calls the functions below.
 */

/* Puts a new transfer on m's live list and gives it the next id. */
void avc_multi_link(avc_multi *m, avc_transfer *t) {
    t->multi = m;
    t->prev = NULL;
    t->next = m->head;
    if (m->head) m->head->prev = t;
    m->head = t;
    t->id = ++m->next_id;
}

/* Takes a transfer off its owner's live list (nothing when it has none). */
void avc_multi_unlink(avc_transfer *t) {
    if (t->multi != NULL) {
        if (t->prev)
            t->prev->next = t->next;
        else
            t->multi->head = t->next;
        if (t->next) t->next->prev = t->prev;
        t->multi = NULL;
    }
    t->prev = t->next = NULL;
}

/* Takes a running transfer out of libcurl's multi handle; no Lua involved. */
void avc_multi_detach(avc_transfer *t) {
    if (t->state == AVC_RUNNING && t->multi != NULL) {
        curl_multi_remove_handle(t->multi->multi, t->easy);
        t->multi->attached--;
        t->state = AVC_CANCELLED;
    }
}

/*
 * Cancels the transfer userdata at tidx if it is running: out of the running
 * table (its user value) and out of libcurl. Returns whether it was running.
 */
int avc_multi_cancel(lua_State *L, int tidx) {
    avc_transfer *t = lua_touserdata(L, tidx);
    if (t->state != AVC_RUNNING) return 0;
    avc_getuservalue(L, tidx);
    if (lua_istable(L, -1)) {
        lua_pushlightuserdata(L, t);
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    avc_multi_detach(t);
    return 1;
}

/*
 * Hands the transfer userdata at tidx, built for the multi at midx, to
 * libcurl, and keeps it alive in the running table until it is collected.
 * Returns libcurl's code: on failure the transfer stays idle.
 */
CURLMcode avc_multi_attach(lua_State *L, int midx, int tidx) {
    avc_multi *m = lua_touserdata(L, midx);
    avc_transfer *t = lua_touserdata(L, tidx);
    CURLMcode mc;
    avc_getuservalue(L, midx);
    lua_pushvalue(L, -1);
    avc_setuservalue(L, tidx); /* the transfer can find the running table */
    mc = curl_multi_add_handle(m->multi, t->easy);
    if (mc == CURLM_OK) {
        t->state = AVC_RUNNING;
        m->attached++;
        lua_pushlightuserdata(L, t);
        lua_pushvalue(L, tidx);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    return mc;
}

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
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants its timeout action. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    avc_multi *m = userp;
    (void)multi;
    m->timer_set = timeout_ms >= 0;
    m->timer_at = avc_now_ms() + (double)(timeout_ms > 0 ? timeout_ms : 0);
    return 0;
}

/* core.multi([opts]) */
int avc_open_multi(lua_State *L) {
    avc_multi *m;
    int share;
    lua_Number max_body = (lua_Number)AVC_DEFAULT_MAX_BODY;
    long max_host = 0, max_total = 0;
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
        lua_getfield(L, 1, "share");
    } else {
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
    lua_pushvalue(L, share);
    lua_setfield(L, -2, "share"); /* keeps the share alive as long as the multi */
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
    avc_transfer *t;
    if (m->closed) return 0;
    for (t = m->head; t != NULL; t = t->next) {
        avc_multi_detach(t);
        if (t->easy) curl_easy_setopt(t->easy, CURLOPT_SHARE, NULL);
        t->multi = NULL;
    }
    m->head = NULL;
    if (m->multi) curl_multi_cleanup(m->multi);
    m->multi = NULL;
    free(m->socks);
    free(m->pfds);
    m->socks = NULL;
    m->pfds = NULL;
    m->nsocks = m->capsocks = m->cappfds = 0;
    m->share = NULL;
    m->closed = 1;
    lua_newtable(L); /* drop every reference to transfers */
    avc_setuservalue(L, 1);
    return 0;
}

/* Moves a transfer that ended from the running table (the table at the top
 * of the stack) to the done queue. */
static void mark_done(lua_State *L, avc_multi *m, avc_transfer *t, CURLcode rc) {
    t->result = rc;
    curl_multi_remove_handle(m->multi, t->easy);
    m->attached--;
    t->state = AVC_DONE;
    lua_pushlightuserdata(L, t);
    lua_rawget(L, -2);
    lua_rawseti(L, -2, m->done_tail++);
    lua_pushlightuserdata(L, t);
    lua_pushnil(L);
    lua_rawset(L, -3);
}

/* The earliest moment a running transfer counts as stalled (-1: none). */
static double next_stall(const avc_multi *m) {
    const avc_transfer *t;
    double at = -1;
    for (t = m->head; t != NULL; t = t->next) {
        if (t->state == AVC_RUNNING && t->stall_ms > 0) {
            double due = t->last_data_ms + (double)t->stall_ms;
            if (at < 0 || due < at) at = due;
        }
    }
    return at;
}

/* Moves every finished transfer to the done queue, and ends every transfer
 * that received nothing for its stall_timeout_ms (libcurl's own low-speed
 * limit counts whole seconds and averages over several: 1000 ms took 6-7 s;
 * here the deadline is the last byte plus the limit, and the step loop never
 * sleeps past it). */
static int collect(lua_State *L, avc_multi *m) {
    CURLMsg *msg;
    avc_transfer *t;
    int left, n = 0;
    double now = avc_now_ms();
    avc_getuservalue(L, 1);
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        t = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t == NULL || t->state != AVC_RUNNING) continue;
        mark_done(L, m, t, msg->data.result);
        n++;
    }
    for (t = m->head; t != NULL; t = t->next) {
        if (t->state == AVC_RUNNING && t->stall_ms > 0 &&
            now - t->last_data_ms >= (double)t->stall_ms) {
            (void)snprintf(t->errbuf, sizeof t->errbuf,
                           "no data received for %ld ms (stall_timeout_ms)", t->stall_ms);
            mark_done(L, m, t, CURLE_OPERATION_TIMEDOUT);
            n++;
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
        pfds[i].fd = m->socks[i].fd;
        pfds[i].events = (short)(((m->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                 ((m->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
        pfds[i].revents = 0;
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
    avc_multi *m = avc_check_multi(L, 1);
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
    avc_multi *m = avc_check_multi(L, 1);
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
    avc_multi *m = avc_check_multi(L, 1);
    double due = next_due(m);
    lua_Integer ms = -1;
    if (due >= 0) ms = (lua_Integer)ceil(due > 2147483647.0 ? 2147483647.0 : due);
    lua_pushinteger(L, ms);
    return 1;
}

/* multi:count() -> transfers in flight */
static int l_count(lua_State *L) {
    lua_pushinteger(L, avc_check_multi(L, 1)->attached);
    return 1;
}

/* multi:queued() -> finished transfers not yet taken with next_done() */
static int l_queued(lua_State *L) {
    avc_multi *m = avc_check_multi(L, 1);
    lua_pushinteger(L, m->done_tail - m->done_head);
    return 1;
}

static int l_tostring(lua_State *L) {
    avc_multi *m = luaL_checkudata(L, 1, AVC_MULTI_MT);
    if (m->closed)
        lua_pushliteral(L, "apivideo.core.multi (closed)");
    else
        lua_pushfstring(L, "apivideo.core.multi (%d in flight)", m->attached);
    return 1;
}

/*
 * Registers the multi type. Its add method builds a transfer, so it lives
 * with the transfer (transfer.c) and is handed in by the module: this file
 * never calls up into transfer.c.
 */
void avc_multi_register(lua_State *L, lua_CFunction add) {
    luaL_Reg methods[] = {{"add", add},
                          {"perform", l_perform},
                          {"next_done", l_next_done},
                          {"timeout", l_timeout},
                          {"count", l_count},
                          {"queued", l_queued},
                          {"close", l_close},
                          {NULL, NULL}};
    avc_new_type(L, AVC_MULTI_MT, methods, l_close, l_tostring);
}
