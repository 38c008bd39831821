/*
 * Growable byte buffers: what libcurl's callbacks fill (a response body, the
 * header block of headers.c). Plain C, no Lua state: safe inside a libcurl
 * callback, and the bottom of the module with core.c.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/*
 * Appends n bytes, growing by doubling from 16 KiB but never past limit.
 * Returns 0, -1 when the buffer would exceed limit (nothing is appended),
 * -2 when out of memory (nothing is appended). A zero-byte append is a no-op,
 * also on a buffer that never held anything.
 */
int avc_buf_append(avc_buf *b, const char *p, size_t n, size_t limit) {
    if (n > limit || b->len > limit - n) return -1; /* over the cap */
    if (n == 0) return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        char *data;
        while (cap < b->len + n)
            cap = cap > limit / 2 ? limit : cap * 2;
        data = realloc(b->data, cap);
        if (data == NULL) return -2;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Frees the bytes; the buffer is empty and usable again afterwards. */
void avc_buf_free(avc_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
