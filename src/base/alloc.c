/* The allocation wrapper: a cap on any single request and on the total live
 * bytes, plus failure injection for tests (Redis zmalloc, SQLite malloc.c).
 *
 * Every block carries a header holding its size so that the live total can
 * be kept without asking the libc allocator: 16 bytes for xuan_malloc's
 * blocks, 64 for the aligned ones (KV caches, activations), which count
 * against the cap like any other.  A request reserves its bytes with one
 * compare-and-swap before it asks libc, so two threads cannot both pass the
 * check and together exceed the cap. */
#include "xuan/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HDR 16
#define HDR_ALIGNED 64

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

/* Reserves n bytes against the cap (and the failure injection); false when
 * they do not fit.  The reservation is undone by unreserve(). */
static bool reserve(size_t n) {
    int64_t f = atomic_load(&g_fail_after);
    while (f >= 0) {
        if (f == 0) return false;
        if (atomic_compare_exchange_weak(&g_fail_after, &f, f - 1)) break;
    }
    const uint64_t cap = xuan_alloc_cap();
    if (cap < HDR_ALIGNED || n > cap - HDR_ALIGNED) return false;
    uint64_t live = atomic_load(&g_live);
    do {
        if (live + n > cap) return false;
    } while (!atomic_compare_exchange_weak(&g_live, &live, live + n));
    return true;
}

static void unreserve(size_t n) { atomic_fetch_sub(&g_live, n); }

uint64_t xuan_alloc_live(void) { return atomic_load(&g_live); }

void *xuan_malloc(size_t n) {
    if (!reserve(n)) return NULL;
    uint8_t *p = malloc(n + HDR);
    if (!p) {
        unreserve(n);
        return NULL;
    }
    memcpy(p, &n, sizeof n);
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
    if (n > old && !reserve(n - old)) return NULL;
    uint8_t *q = realloc(base, n + HDR);
    if (!q) {
        if (n > old) unreserve(n - old);
        return NULL;
    }
    memcpy(q, &n, sizeof n);
    if (n < old) unreserve(old - n);
    return q + HDR;
}

void xuan_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    unreserve(n);
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
    if (!reserve(n)) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, HDR_ALIGNED + n) != 0) {
        unreserve(n);
        return NULL;
    }
    memcpy(p, &n, sizeof n);
    return (uint8_t *)p + HDR_ALIGNED;
}

void xuan_free_aligned(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - HDR_ALIGNED;
    size_t n;
    memcpy(&n, base, sizeof n);
    unreserve(n);
    free(base);
}

void xuan_advise_huge_pages(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20, lo = ((uintptr_t)p + huge - 1) & ~(huge - 1),
                    hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* refused: small pages, same results */
#else
    (void)p, (void)n;
#endif
}
