/*
 * sample_stop.c — stop strings matched across token boundaries.
 *
 * The text seen so far but not yet emitted is kept in `pending`.  After each
 * piece, pending = held-back tail + piece is searched for the earliest
 * occurrence of any stop string.  Without a match, the longest suffix of
 * pending that is a proper prefix of some stop string is held back (any
 * later match must start there) and the rest is emitted.  The held tail is
 * shorter than the longest stop string, so a search costs O(stops x (piece
 * + longest stop)).  Stop strings are valid UTF-8 whose first byte is not a
 * continuation byte, so a held tail always starts on a character boundary
 * of valid input and emitted text never ends inside a character that a
 * stop string could complete.
 *
 * Memory: pending grows to the longest piece + longest stop once and is
 * reused; nothing is allocated per token after that.
 */
#include "xuan/gen.h"

#include <string.h>

struct xuan_stop {
    char **stops;
    size_t *lens;
    size_t n;
    xuan_buf pending;
    size_t emitted;  /* bytes at the front of pending handed out by the last call */
    int matched;     /* index of the stop string found, or -1 */
};

xuan_stop *xuan_stop_create(const char *const *stops, size_t n, xuan_error *err) {
    for (size_t i = 0; i < n; i++)
        if (!stops[i] || !stops[i][0]) {
            xuan_fail(err, XUAN_ERR_USAGE, "stop string %zu is empty", i);
            return NULL;
        }
    xuan_stop *s = xuan_calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->matched = -1;
    s->n = n;
    if (n) {
        s->stops = xuan_calloc(n, sizeof *s->stops);
        s->lens = xuan_calloc(n, sizeof *s->lens);
        if (!s->stops || !s->lens) goto nomem;
        for (size_t i = 0; i < n; i++) {
            s->stops[i] = xuan_strdup(stops[i]);
            if (!s->stops[i]) goto nomem;
            s->lens[i] = strlen(stops[i]);
        }
    }
    return s;
nomem:
    xuan_stop_free(s);
    xuan_fail(err, XUAN_ERR_NOMEM, "stop strings: out of memory");
    return NULL;
}

void xuan_stop_free(xuan_stop *s) {
    if (!s) return;
    for (size_t i = 0; s->stops && i < s->n; i++) xuan_free(s->stops[i]);
    xuan_free(s->stops);
    xuan_free(s->lens);
    xuan_buf_free(&s->pending);
    xuan_free(s);
}

void xuan_stop_reset(xuan_stop *s) {
    xuan_buf_reset(&s->pending);
    s->emitted = 0;
    s->matched = -1;
}

int xuan_stop_which(const xuan_stop *s) { return s->matched; }

/* Drops what the previous call handed out. */
static void consume_emitted(xuan_stop *s) {
    if (!s->emitted) return;
    size_t rest = s->pending.len - s->emitted;
    memmove(s->pending.data, s->pending.data + s->emitted, rest);
    s->pending.len = rest;
    s->pending.data[rest] = '\0';
    s->emitted = 0;
}

/* Length of the longest suffix of t[0..n) that is a proper prefix of a stop
 * string. */
static size_t held_suffix(const xuan_stop *s, const char *t, size_t n) {
    size_t best = 0;
    for (size_t k = 0; k < s->n; k++) {
        size_t max = s->lens[k] - 1 < n ? s->lens[k] - 1 : n;
        for (size_t len = max; len > best; len--) {
            if (memcmp(t + n - len, s->stops[k], len) == 0) {
                best = len;
                break;
            }
        }
    }
    return best;
}

int xuan_stop_feed(xuan_stop *s, const char *piece, size_t n, const char **emit, size_t *emit_len) {
    *emit = "";
    *emit_len = 0;
    if (s->matched >= 0) return 1;
    consume_emitted(s);
    if (n && xuan_buf_append(&s->pending, piece, n) != 0) return XUAN_ERR_NOMEM;
    const char *t = s->pending.data ? s->pending.data : "";
    size_t len = s->pending.len;

    /* earliest occurrence of any stop string */
    const char *first = NULL;
    for (size_t k = 0; k < s->n; k++) {
        const char *hit = memmem(t, len, s->stops[k], s->lens[k]);
        if (hit && (!first || hit < first)) first = hit, s->matched = (int)k;
    }
    if (first) {
        *emit = t;
        *emit_len = (size_t)(first - t);
        s->emitted = s->pending.len; /* everything is consumed; the rest is dropped */
        return 1;
    }
    size_t hold = held_suffix(s, t, len);
    *emit = t;
    *emit_len = len - hold;
    s->emitted = len - hold;
    return 0;
}

void xuan_stop_flush(xuan_stop *s, const char **emit, size_t *emit_len) {
    *emit = "";
    *emit_len = 0;
    if (s->matched >= 0) return;
    consume_emitted(s);
    *emit = s->pending.data ? s->pending.data : "";
    *emit_len = s->pending.len;
    s->emitted = s->pending.len;
}
