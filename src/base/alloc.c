/* The allocation wrapper: a cap on any single request and on the total live
 * bytes, plus failure injection for tests (Redis zmalloc, SQLite malloc.c).
 *
 * Every block carries a 16-byte header holding its size so that the live
 * total can be kept without asking the libc allocator. */
#include "xuan/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR 16

static _Atomic uint64_t g_cap;         /* 0 = not yet initialised */
static _Atomic uint64_t g_live;
static _Atomic int64_t g_fail_after = -1;

static uint64_t default_cap(void) {
    const char *env = getenv("XUAN_ALLOC_CAP");
    uint64_t v;
    if (env && xuan_parse_bytes(env, &v) == 0 && v > 0) return v;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0) return (uint64_t)pages * (uint64_t)psz;
    return (uint64_t)8 << 30;
}

uint64_t xuan_alloc_cap(void) {
    uint64_t c = atomic_load(&g_cap);
    if (c == 0) {
        c = default_cap();
        atomic_store(&g_cap, c);
    }
    return c;
}

void xuan_alloc_set_cap(uint64_t bytes) { atomic_store(&g_cap, bytes ? bytes : default_cap()); }
void xuan_alloc_fail_after(int64_t n) { atomic_store(&g_fail_after, n); }

static bool admit(size_t n) {
    int64_t f = atomic_load(&g_fail_after);
    if (f >= 0) {
        if (f == 0) return false;
        atomic_fetch_sub(&g_fail_after, 1);
    }
    uint64_t cap = xuan_alloc_cap();
    return n <= cap - HDR && atomic_load(&g_live) + n <= cap;
}

void *xuan_malloc(size_t n) {
    if (!admit(n)) return NULL;
    uint8_t *p = malloc(n + HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    atomic_fetch_add(&g_live, n);
    return p + HDR;
}

void *xuan_calloc(size_t count, size_t size) {
    uint64_t n;
    if (!xuan_mul_ok(count, size, &n) || n > SIZE_MAX) return NULL;
    void *p = xuan_malloc((size_t)n);
    if (p) memset(p, 0, (size_t)n);
    return p;
}

void *xuan_alloc_array(size_t count, size_t size) {
    uint64_t n;
    if (!xuan_mul_ok(count, size, &n) || n > SIZE_MAX) return NULL;
    return xuan_malloc((size_t)n);
}

void *xuan_realloc(void *p, size_t n) {
    if (!p) return xuan_malloc(n);
    uint8_t *base = (uint8_t *)p - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    if (n > old && !admit(n - old)) return NULL;
    uint8_t *q = realloc(base, n + HDR);
    if (!q) return NULL;
    memcpy(q, &n, sizeof n);
    if (n > old) atomic_fetch_add(&g_live, n - old);
    else atomic_fetch_sub(&g_live, old - n);
    return q + HDR;
}

void xuan_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    atomic_fetch_sub(&g_live, n);
    free(base);
}

char *xuan_strndup(const char *s, size_t n) {
    char *d = xuan_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *xuan_strdup(const char *s) { return xuan_strndup(s, strlen(s)); }

void *xuan_malloc_aligned(size_t n) {
    if (!admit(n)) return NULL;
    void *p = NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n || posix_memalign(&p, 64, rounded ? rounded : 64) != 0) return NULL;
    /* aligned blocks are not counted in g_live: they have no header */
    return p;
}

void xuan_free_aligned(void *p) { free(p); }
