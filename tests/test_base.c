/* Tests for src/base: checked sizes, allocation cap and injection, parsing,
 * UTF-8, buffers, suggestions. */
#include "harness.h"
#include "xuan/base.h"

#include <pthread.h>
#include <stdatomic.h>

static void test_parse_bytes(void) {
    uint64_t v;
    CHECK(xuan_parse_bytes("16G", &v) == 0 && v == 16ull << 30);
    CHECK(xuan_parse_bytes("512M", &v) == 0 && v == 512ull << 20);
    CHECK(xuan_parse_bytes("1.5GiB", &v) == 0 && v == 3ull << 29);
    CHECK(xuan_parse_bytes("4096", &v) == 0 && v == 4096);
    CHECK(xuan_parse_bytes("-1G", &v) != 0);
    CHECK(xuan_parse_bytes("12X", &v) != 0);
    CHECK(xuan_parse_bytes("", &v) != 0);
    CHECK(xuan_parse_bytes("1e30G", &v) != 0);
    int64_t i;
    CHECK(xuan_parse_i64("0", 1, 10, &i) != 0);
    CHECK(xuan_parse_i64("abc", 1, 10, &i) != 0);
    CHECK(xuan_parse_i64("7", 1, 10, &i) == 0 && i == 7);
    CHECK(xuan_parse_i64("7 ", 1, 10, &i) != 0);
}

static void test_alloc_cap(void) {
    uint64_t old = xuan_alloc_cap();
    xuan_alloc_set_cap(1 << 20);
    CHECK(xuan_malloc(2 << 20) == NULL);
    void *p = xuan_malloc(1000);
    CHECK(p != NULL);
    xuan_free(p);
    CHECK(xuan_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(xuan_alloc_array((size_t)1 << 62, 8) == NULL);
    xuan_alloc_set_cap(old);
    xuan_alloc_fail_after(1);
    void *a = xuan_malloc(10), *b = xuan_malloc(10);
    CHECK(a != NULL && b == NULL);
    xuan_alloc_fail_after(-1);
    xuan_free(a);
}

/* Aligned blocks (KV caches, activations) count against the cap too. */
static void test_alloc_aligned_counted(void) {
    uint64_t old = xuan_alloc_cap(), live0 = xuan_alloc_live();
    xuan_alloc_set_cap(live0 + (1 << 20));
    void *a = xuan_malloc_aligned(600 << 10);
    CHECK(a != NULL && ((uintptr_t)a & 63) == 0);
    CHECK(xuan_alloc_live() == live0 + (600 << 10));
    CHECK(xuan_malloc_aligned(600 << 10) == NULL); /* 1.2 MiB > the 1 MiB left */
    CHECK(xuan_malloc(600 << 10) == NULL);
    xuan_free_aligned(a);
    CHECK(xuan_alloc_live() == live0);
    void *b = xuan_malloc_aligned(600 << 10);
    CHECK(b != NULL);
    xuan_free_aligned(b);
    xuan_free_aligned(NULL);
    xuan_alloc_set_cap(old);
}

/* Threads racing for the last bytes: the cap holds exactly.  Each of 8
 * threads asks for a third of what is left, 200 times; never more than two
 * of them can hold a block at once. */
enum { RACE_THREADS = 8, RACE_ROUNDS = 200 };
static _Atomic int g_race_holders, g_race_max;
static size_t g_race_size;

static void *race_worker(void *arg) {
    (void)arg;
    for (int r = 0; r < RACE_ROUNDS; r++) {
        void *p = (r & 1) ? xuan_malloc_aligned(g_race_size) : xuan_malloc(g_race_size);
        if (!p) continue;
        int h = atomic_fetch_add(&g_race_holders, 1) + 1;
        int m = atomic_load(&g_race_max);
        while (h > m && !atomic_compare_exchange_weak(&g_race_max, &m, h)) {}
        atomic_fetch_sub(&g_race_holders, 1);
        if (r & 1) xuan_free_aligned(p);
        else xuan_free(p);
    }
    return NULL;
}

static void test_alloc_cap_race(void) {
    uint64_t old = xuan_alloc_cap(), live0 = xuan_alloc_live();
    const uint64_t room = 3 << 20;
    xuan_alloc_set_cap(live0 + room);
    g_race_size = (size_t)(room / 3 + 1);
    pthread_t th[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++) CHECK(pthread_create(&th[i], NULL, race_worker, NULL) == 0);
    for (int i = 0; i < RACE_THREADS; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&g_race_max) <= 2);
    CHECK(atomic_load(&g_race_max) >= 1);
    CHECK(xuan_alloc_live() == live0);
    xuan_alloc_set_cap(old);
}

static void test_checked_math(void) {
    uint64_t r;
    CHECK(!xuan_mul_ok(1ull << 40, 1ull << 30, &r));
    CHECK(xuan_mul_ok(1ull << 20, 1ull << 30, &r) && r == 1ull << 50);
    CHECK(!xuan_add_ok(UINT64_MAX, 1, &r));
    CHECK(xuan_align_ok(33, 32, &r) && r == 64);
    CHECK(!xuan_align_ok(UINT64_MAX - 3, 32, &r));
}

static void test_utf8(void) {
    const uint8_t zh[] = "中文";
    CHECK_EQ_INT(xuan_utf8_len(zh, 6), 3);
    CHECK(xuan_utf8_valid(zh, 6));
    CHECK(!xuan_utf8_valid(zh, 5)); /* cut in half */
    const uint8_t overlong[] = {0xc0, 0xaf};
    CHECK_EQ_INT(xuan_utf8_len(overlong, 2), 0);
    const uint8_t surrogate[] = {0xed, 0xa0, 0x80};
    CHECK_EQ_INT(xuan_utf8_len(surrogate, 3), 0);
    char out[4];
    CHECK_EQ_INT(xuan_utf8_encode(0x1F600, out), 4);
    uint32_t cp;
    CHECK_EQ_INT(xuan_utf8_decode((const uint8_t *)out, 4, &cp), 4);
    CHECK_EQ_INT(cp, 0x1F600);
}

static void test_buf(void) {
    xuan_buf b = {0};
    for (int i = 0; i < 1000; i++) CHECK(xuan_buf_printf(&b, "%d,", i) == 0);
    CHECK(b.len > 3000);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    xuan_buf_free(&b);
}

static void test_closest(void) {
    const char *names[] = {"inspect", "pick", "pull", "models"};
    CHECK_EQ_STR(xuan_closest("inpsect", names, 4), "inspect");
    CHECK(xuan_closest("zzzzzzzz", names, 4) == NULL);
    char buf[32];
    CHECK_EQ_STR(xuan_fmt_bytes(3ull << 30, buf, sizeof buf), "3.00 GiB");
}

int main(void) {
    RUN(test_parse_bytes);
    RUN(test_alloc_cap);
    RUN(test_alloc_aligned_counted);
    RUN(test_alloc_cap_race);
    RUN(test_checked_math);
    RUN(test_utf8);
    RUN(test_buf);
    RUN(test_closest);
    return test_done();
}
