/*
 * The watcher: a thread that waits on a multi handle's sockets so that an
 * event loop that cannot watch them itself (an nginx worker, whose Lua can
 * only wait on its own cosockets) wakes when a byte arrives, not on a nap.
 *
 * The loop connects a stream socket to the watcher's listening Unix socket
 * (in nginx: a cosocket to "unix:PATH") and reads from it. Armed with the
 * set of sockets libcurl watches (avc_watcher_set), the thread poll()s them
 * and writes one byte to that connection when one is ready: the loop's read
 * returns, it performs, and it arms again. Armed with a deadline (libcurl's
 * timer), the thread writes the byte then if nothing was ready before, so
 * the loop's read never times out (nginx logs a cosocket's timeouts as
 * errors); avc_watcher_notify writes it from the loop's thread at once (a
 * timer now due sooner, other work for the loop).
 *
 * The thread touches no libcurl handle and no Lua state: only file
 * descriptors, and the set it copies under the mutex. It is started by the
 * first accepted connection and joined by avc_watcher_close.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"

struct avc_watcher {
    pthread_mutex_t mu;
    pthread_t thread;
    int started;   /* the thread runs */
    int listen_fd; /* the Unix socket the loop connects to */
    int conn_fd;   /* the loop's connection (-1 until accepted) */
    int wake_rd;   /* the thread's pipe: a new set, a new connection, quit */
    int wake_wr;
    int quit;           /* under mu */
    int armed;          /* under mu: a byte is owed at the next readiness, or at deadline */
    double deadline;    /* under mu: avc_now_ms() when an armed wait ends anyway */
    struct pollfd *set; /* under mu: what to watch */
    int n, cap;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0
               ? -1
               : 0;
}

static void byte_to(int fd, int sock) {
    static const char byte = 1;
    ssize_t n;
    if (fd < 0) return;
    do { /* a full buffer is a wake-up already; a closed peer has left */
        n = sock ? send(fd, &byte, 1, MSG_NOSIGNAL) : write(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
}

static void drain(int fd) {
    char sink[64];
    ssize_t n;
    do {
        n = read(fd, sink, sizeof sink);
    } while (n == (ssize_t)sizeof sink || (n < 0 && errno == EINTR));
}

static void *run(void *arg) {
    avc_watcher *w = arg;
    struct pollfd *local = malloc(sizeof *local);
    int cap = 1;
    if (local == NULL) return NULL; /* the loop's wait times out: it then naps (hub.lua) */
    for (;;) {
        int i, n, ready = 0, wait_ms;
        pthread_mutex_lock(&w->mu);
        if (w->quit) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        n = w->armed ? w->n : 0;
        wait_ms = -1;
        if (w->armed) {
            double left = w->deadline - avc_now_ms();
            wait_ms = left <= 0 ? 0 : left > 3600000 ? 3600000 : (int)left + 1;
        }
        if (n + 1 > cap) {
            struct pollfd *p = realloc(local, (size_t)(n + 1) * sizeof *p);
            if (p == NULL) {
                n = cap - 1; /* out of memory: the first ones, the rest at the deadline */
            } else {
                local = p;
                cap = n + 1;
            }
        }
        local[0].fd = w->wake_rd;
        local[0].events = POLLIN;
        if (n > 0) memcpy(local + 1, w->set, (size_t)n * sizeof *local);
        pthread_mutex_unlock(&w->mu);
        for (i = 0; i <= n; i++)
            local[i].revents = 0;
        if (poll(local, (nfds_t)n + 1, wait_ms) < 0) {
            if (errno != EINTR) (void)poll(NULL, 0, 1); /* (ENOMEM: no spinning meanwhile) */
            continue;
        }
        if (local[0].revents) drain(w->wake_rd);
        for (i = 1; i <= n; i++)
            if (local[i].revents) ready = 1;
        /* (sent under the mutex: the connection is never closed under a send) */
        pthread_mutex_lock(&w->mu);
        if (!ready && !(w->armed && avc_now_ms() >= w->deadline)) {
            pthread_mutex_unlock(&w->mu);
            continue;
        }
        if (w->armed) byte_to(w->conn_fd, 1);
        w->armed = 0; /* until the loop has performed and armed again */
        pthread_mutex_unlock(&w->mu);
    }
    free(local);
    return NULL;
}

/* A watcher listening on a new Unix socket (its path: avc_watcher_path). NULL with errno. */
avc_watcher *avc_watcher_open(void) {
    static unsigned counter = 0;
    struct sockaddr_un addr;
    int fds[2], e;
    const char *dir = getenv("TMPDIR");
    avc_watcher *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    w->listen_fd = w->conn_fd = w->wake_rd = w->wake_wr = -1;
    if (dir == NULL || *dir == '\0' || strlen(dir) > 60) dir = "/tmp";
    (void)snprintf(w->path, sizeof w->path, "%s/apivideo-%ld-%u-%lx.sock", dir, (long)getpid(),
                   ++counter, (unsigned long)(size_t)w);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, w->path, strlen(w->path) + 1);
    unlink(w->path);
    if (pipe(fds) != 0) goto fail;
    w->wake_rd = fds[0];
    w->wake_wr = fds[1];
    if (nonblocking(w->wake_rd) != 0 || nonblocking(w->wake_wr) != 0) goto fail;
    w->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (w->listen_fd < 0 || nonblocking(w->listen_fd) != 0) goto fail;
    if (bind(w->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) goto fail;
    if (chmod(w->path, S_IRUSR | S_IWUSR) != 0) goto fail; /* only this user's processes connect */
    if (listen(w->listen_fd, 4) != 0) goto fail;
    if (pthread_mutex_init(&w->mu, NULL) != 0) goto fail;
    return w;
fail:
    e = errno;
    if (w->listen_fd >= 0) {
        close(w->listen_fd);
        unlink(w->path);
    }
    if (w->wake_rd >= 0) close(w->wake_rd);
    if (w->wake_wr >= 0) close(w->wake_wr);
    free(w);
    errno = e;
    return NULL;
}

const char *avc_watcher_path(const avc_watcher *w) { return w->path; }

/* Takes the connection the loop just made (it replaces the last one) and
 * starts the thread the first time. 0, or -1 with errno (EAGAIN: nobody
 * connected). */
int avc_watcher_accept(avc_watcher *w) {
    int fd = -1, next, old, err;
    sigset_t all, before;
    /* the newest connection: the loop connected just before (an older one
     * is a stray, or a loop that has gone) */
    while ((next = accept(w->listen_fd, NULL, NULL)) >= 0) {
        if (fd >= 0) close(fd);
        fd = next;
    }
    if (fd < 0) return -1;
    if (nonblocking(fd) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    old = w->conn_fd;
    w->conn_fd = fd;
    w->armed = 0;
    pthread_mutex_unlock(&w->mu);
    if (old >= 0) close(old);
    if (!w->started) {
        /* the thread takes no signal: the event loop's thread handles them
         * (nginx's epoll_wait relies on being interrupted) */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &before);
        err = pthread_create(&w->thread, NULL, run, w);
        pthread_sigmask(SIG_SETMASK, &before, NULL);
        if (err != 0) {
            errno = err;
            return -1;
        }
        w->started = 1;
    }
    return 0;
}

/* What to watch (n entries); arm: 1 to owe a byte at the next readiness or
 * at deadline (avc_now_ms() time), 0 to owe none, -1 to leave it as it is.
 * The thread picks it up at once. 0, or -1 (out of memory: nothing changed). */
int avc_watcher_set(avc_watcher *w, const struct pollfd *set, int n, int arm, double deadline) {
    pthread_mutex_lock(&w->mu);
    if (n > w->cap) {
        struct pollfd *p = realloc(w->set, (size_t)n * sizeof *p);
        if (p == NULL) {
            pthread_mutex_unlock(&w->mu);
            return -1;
        }
        w->set = p;
        w->cap = n;
    }
    if (n > 0) memcpy(w->set, set, (size_t)n * sizeof *set);
    w->n = n;
    if (arm >= 0) w->armed = arm;
    if (arm == 1) w->deadline = deadline;
    pthread_mutex_unlock(&w->mu);
    byte_to(w->wake_wr, 0);
    return 0;
}

/* Does the watcher owe the loop a byte (armed, and not yet sent)? */
int avc_watcher_armed(avc_watcher *w) {
    int armed;
    pthread_mutex_lock(&w->mu);
    armed = w->armed;
    pthread_mutex_unlock(&w->mu);
    return armed;
}

/* One byte to the loop now, if it waits (from the loop's own thread). */
void avc_watcher_notify(avc_watcher *w) {
    pthread_mutex_lock(&w->mu);
    if (w->armed) byte_to(w->conn_fd, 1); /* (a loop that is not waiting will come by) */
    w->armed = 0;
    pthread_mutex_unlock(&w->mu);
}

/* Stops and joins the thread, closes everything, removes the socket's path. */
void avc_watcher_close(avc_watcher *w) {
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_mutex_unlock(&w->mu);
    byte_to(w->wake_wr, 0);
    if (w->started) pthread_join(w->thread, NULL);
    if (w->conn_fd >= 0) close(w->conn_fd);
    close(w->listen_fd);
    unlink(w->path);
    close(w->wake_rd);
    close(w->wake_wr);
    pthread_mutex_destroy(&w->mu);
    free(w->set);
    free(w);
}
