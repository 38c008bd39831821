/*
 * A host with its own frame loop that embeds Lua 5.4 and lua-apivideo.
 *
 * The host owns time: it ticks a fixed frame loop (16 ms by default; the
 * frame boundaries are absolute, from CLOCK_MONOTONIC, and the host sleeps
 * with nanosleep until the next one). Every frame it "renders" (counts the
 * frame, measures how long frames really last) and then resumes the Lua walk
 * once. The walk (walk.lua) runs in a coroutine with a client created with
 * `yield = coroutine.yield`: whenever the client would wait for the network
 * it does one non-blocking libcurl step and yields back here instead, so a
 * resume costs microseconds and the frames keep coming at 50 ms of latency.
 *
 *   host [--root DIR] [--script FILE] [--frame-ms N] [--timeout-ms N] [--trace] [key=value ...]
 *
 * key=value arguments go to walk.lua as a table (video, period, page_size,
 * concurrency, auth, base_url; see walk.lua). On success it prints one line:
 *
 *   frames=N requests=R pages=P items=I checksum=HEX max_frame_ms=X
 *   max_resume_ms=Y late_frames=L walk_ms=W
 *
 * and exits 0; on failure it prints the Lua error (with a traceback) to
 * stderr and exits 1 (2 for a usage error).
 */
#define _XOPEN_SOURCE 700 /* realpath, readlink, nanosleep, clock_gettime */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#if LUA_VERSION_NUM < 504
#error "this host is written for the Lua 5.4 C API (lua_resume with nresults)"
#endif

/* ---- time ------------------------------------------------------------ */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Sleeps until the monotonic clock reads at least `deadline` (ms). */
static void sleep_until(double deadline) {
    for (;;) {
        double left = deadline - now_ms();
        struct timespec ts;
        if (left <= 0) return;
        ts.tv_sec = (time_t)(left / 1000.0);
        ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1000.0) * 1e6);
        if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR) return;
    }
}

/* ---- paths ----------------------------------------------------------- */

static int file_exists(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* True when dir looks like the lua-apivideo checkout. */
static int is_root(const char *dir) {
    char probe[PATH_MAX];
    int n = snprintf(probe, sizeof probe, "%s/lua/apivideo/init.lua", dir);
    return n > 0 && (size_t)n < sizeof probe && file_exists(probe);
}

/* Strips the last `levels` components of path, in place. */
static void dirname_n(char *path, int levels) {
    while (levels-- > 0) {
        char *slash = strrchr(path, '/');
        if (!slash) {
            strcpy(path, ".");
            return;
        }
        *slash = '\0';
        if (path[0] == '\0') {
            strcpy(path, "/");
            return;
        }
    }
}

/*
 * The checkout: --root, else $APIVIDEO_ROOT, else two levels above the
 * executable (build/host/host), else two above examples/host (argv[0] run
 * from the source tree), else the current directory.
 */
static int find_root(const char *opt, const char *argv0, char *out, size_t size) {
    const char *env = getenv("APIVIDEO_ROOT");
    char exe[PATH_MAX];
    ssize_t n;
    if (opt) {
        if (!realpath(opt, out) || !is_root(out)) return 0;
        return 1;
    }
    if (env && *env) {
        if (!realpath(env, out) || !is_root(out)) return 0;
        return 1;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        if (!argv0 || !realpath(argv0, exe)) exe[0] = '\0';
    } else {
        exe[n] = '\0';
    }
    if (exe[0]) {
        dirname_n(exe, 3); /* ROOT/build/host/host -> ROOT */
        if (strlen(exe) < size && is_root(exe)) {
            strcpy(out, exe);
            return 1;
        }
    }
    if (realpath(".", out) && is_root(out)) return 1;
    return 0;
}

/* package[field] = prefix .. ";" .. package[field] */
static void prepend_path(lua_State *L, const char *field, const char *prefix) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, field);
    lua_pushfstring(L, "%s;%s", prefix, lua_tostring(L, -1));
    lua_setfield(L, -3, field);
    lua_pop(L, 2);
}

/* ---- Lua helpers ------------------------------------------------------ */

static int traceback(lua_State *L) {
    const char *msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* An integer field of the table at idx (-1 when absent). */
static long long int_field(lua_State *L, int idx, const char *name) {
    long long v = -1;
    int isnum = 0;
    lua_getfield(L, idx, name);
    v = (long long)lua_tointegerx(L, -1, &isnum);
    if (!isnum) v = -1;
    lua_pop(L, 1);
    return v;
}

static void usage(const char *prog) {
    fprintf(stderr,
            "usage: %s [--root DIR] [--script FILE] [--frame-ms N] [--timeout-ms N] [--trace] "
            "[key=value ...]\n"
            "  key=value: video=vi250 period=2023 page_size=25 concurrency=4 auth=bearer|basic "
            "base_url=URL\n",
            prog);
}

static int positive_int(const char *s, int *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 3600000) return 0;
    *out = (int)v;
    return 1;
}

/* ---- the frame loop -------------------------------------------------- */

int main(int argc, char **argv) {
    const char *root_opt = NULL, *script_opt = NULL;
    int frame_ms = 16, timeout_ms = 60000, trace = 0;
    char root[PATH_MAX], script[PATH_MAX], buf[3 * PATH_MAX];
    lua_State *L, *co;
    int i, status, nres, ok = 0;
    long frames = 0, late = 0;
    double start, next, prev_frame = 0, max_frame = 0, max_resume = 0, walk_ms = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--root") == 0 && i + 1 < argc) {
            root_opt = argv[++i];
        } else if (strcmp(a, "--script") == 0 && i + 1 < argc) {
            script_opt = argv[++i];
        } else if (strcmp(a, "--frame-ms") == 0 && i + 1 < argc) {
            if (!positive_int(argv[++i], &frame_ms)) return usage(argv[0]), 2;
        } else if (strcmp(a, "--timeout-ms") == 0 && i + 1 < argc) {
            if (!positive_int(argv[++i], &timeout_ms)) return usage(argv[0]), 2;
        } else if (strcmp(a, "--trace") == 0) {
            trace = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(argv[0]);
            return 0;
        } else if (a[0] == '-' || !strchr(a, '=') || a[0] == '=') {
            usage(argv[0]);
            return 2;
        }
    }
    if (!find_root(root_opt, argv[0], root, sizeof root)) {
        fprintf(stderr, "host: cannot find the lua-apivideo checkout (lua/apivideo/init.lua); "
                        "pass --root DIR or set APIVIDEO_ROOT\n");
        return 2;
    }
    if (script_opt) {
        if (strlen(script_opt) >= sizeof script) return usage(argv[0]), 2;
        strcpy(script, script_opt);
    } else if ((size_t)snprintf(script, sizeof script, "%s/examples/host/walk.lua", root) >=
               sizeof script) {
        return usage(argv[0]), 2;
    }

    L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "host: cannot create a Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    /* The checkout first; LUA_PATH / LUA_CPATH (already applied) after it. */
    snprintf(buf, sizeof buf, "%s/lua/?.lua;%s/lua/?/init.lua", root, root);
    prepend_path(L, "path", buf);
    snprintf(buf, sizeof buf, "%s/build/lua%s.%s/?.so", root, LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
    prepend_path(L, "cpath", buf);

    /* Load walk.lua and run its main chunk with the key=value table: it
     * builds the client and returns the walk (a coroutine or a function). */
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, script) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    lua_newtable(L);
    for (i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (argv[i][0] == '-') {
            if (strcmp(argv[i], "--trace") != 0) i++; /* an option and its value */
            continue;
        }
        lua_pushlstring(L, argv[i], (size_t)(eq - argv[i]));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
    if (lua_pcall(L, 1, 1, 1) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    if (lua_type(L, -1) == LUA_TTHREAD) {
        co = lua_tothread(L, -1);
    } else if (lua_type(L, -1) == LUA_TFUNCTION) {
        co = lua_newthread(L);
        lua_pushvalue(L, -2);
        lua_xmove(L, co, 1);
    } else {
        fprintf(stderr, "host: %s must return a coroutine or a function, not %s\n", script,
                luaL_typename(L, -1));
        lua_close(L);
        return 1;
    }
    /* The thread stays referenced from L's stack for the whole loop. */

    start = now_ms();
    next = start;
    for (;;) {
        double frame_start = now_ms(), t0, resume_ms;
        /* "render": count the frame and measure the time since the last one */
        frames++;
        if (frames > 1 && frame_start - prev_frame > max_frame)
            max_frame = frame_start - prev_frame;
        prev_frame = frame_start;

        /* the game's scripting tick: resume the walk once */
        t0 = now_ms();
        status = lua_resume(co, L, 0, &nres);
        resume_ms = now_ms() - t0;
        if (resume_ms > max_resume) max_resume = resume_ms;
        if (trace) {
            fprintf(stderr, "frame %ld at %.1f ms: resume %.2f ms, %s", frames, frame_start - start,
                    resume_ms, status == LUA_YIELD ? "yielded" : "returned");
            if (status == LUA_YIELD && nres > 0 && lua_isnumber(co, -nres))
                fprintf(stderr, " (wait hint %.0f ms)", (double)lua_tonumber(co, -nres));
            fputc('\n', stderr);
        }
        if (status == LUA_YIELD) {
            lua_pop(co, nres); /* the wait hint (ms) the client yielded */
        } else if (status == LUA_OK) {
            walk_ms = now_ms() - start;
            ok = 1;
            break;
        } else {
            const char *msg = luaL_tolstring(co, -1, NULL);
            luaL_traceback(L, co, msg, 0);
            fprintf(stderr, "host: walk failed after %ld frames: %s\n", frames,
                    lua_tostring(L, -1));
            break;
        }
        if (now_ms() - start > timeout_ms) {
            fprintf(stderr, "host: the walk did not finish within %d ms (%ld frames)\n", timeout_ms,
                    frames);
            break;
        }

        /* next frame boundary; a frame that overran skips to the next free one */
        next += frame_ms;
        if (now_ms() > next) {
            late++;
            while (next < now_ms())
                next += frame_ms;
        }
        sleep_until(next);
    }

    if (ok) {
        const char *sum = "";
        int top = lua_gettop(co);
        if (nres < 1 || !lua_istable(co, top - nres + 1)) {
            fprintf(stderr, "host: the walk must return a table of counts\n");
            ok = 0;
        } else {
            int idx = top - nres + 1;
            lua_getfield(co, idx, "checksum");
            if (lua_isstring(co, -1)) sum = lua_tostring(co, -1);
            printf("frames=%ld requests=%lld pages=%lld items=%lld checksum=%s max_frame_ms=%.1f "
                   "max_resume_ms=%.2f late_frames=%ld walk_ms=%.0f\n",
                   frames, int_field(co, idx, "requests"), int_field(co, idx, "pages"),
                   int_field(co, idx, "items"), sum, max_frame, max_resume, late, walk_ms);
            fflush(stdout);
        }
    }
    /* Closes the coroutine's pending to-be-closed variables (a walk stopped
     * early cancels its requests) and then everything else. */
#if LUA_VERSION_RELEASE_NUM >= 50406
    lua_closethread(co, L);
#else
    lua_resetthread(co);
#endif
    lua_close(L);
    return ok ? 0 : 1;
}
