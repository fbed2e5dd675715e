/*
 * libFuzzer target for the GGUF reader (xuan_gguf_open_memory).
 *
 * Opening is only half the job: a reader that accepts a file and hands out
 * a pointer one byte past the mapping is as broken as one that crashes while
 * parsing.  So after a successful open this walks everything the API gives
 * out — every key through every typed getter, every array (scalars through
 * the element helpers, every string, nested arrays to the bottom) and every
 * tensor (its first and last data byte, its name lookup) — and checks the
 * reader's promises with __builtin_trap, so ASan/UBSan or a trap reports any
 * lie.  libFuzzer hands us an exact-size heap copy of the input, so a read
 * one byte past the end is caught.
 *
 * Run it with `make fuzz` (fuzz/run.sh); seeds are in fuzz/corpus/gguf.
 */
#include "xuan/gguf.h"

#include <string.h>

#define TRAP_IF(cond) do { if (cond) __builtin_trap(); } while (0)

/* Reads that the optimizer cannot drop. */
static volatile uint8_t sink8;
static volatile double sinkd;

static const uint8_t *g_data;
static size_t g_size;

/* p[0..n) must lie inside the input. */
static void touch(const void *p, uint64_t n) {
    if (n == 0) return;
    const uint8_t *b = p;
    TRAP_IF(b < g_data || n > g_size || b - g_data > (ptrdiff_t)(g_size - n));
    sink8 = b[0];
    sink8 = b[n - 1];
}

static void walk_array(const xuan_gguf_array *a, int depth) {
    TRAP_IF(depth > 16);
    size_t es = xuan_gguf_vtype_size(a->type);
    if (es) {
        TRAP_IF(!a->raw || a->strs || a->items);
        TRAP_IF(a->n > g_size / es);
        touch(a->raw, a->n * es);
        for (uint64_t i = 0; i < a->n; i++) {
            sinkd = xuan_gguf_arr_f64(a, i);
            sinkd = (double)xuan_gguf_arr_i64(a, i);
        }
    } else if (a->type == XUAN_GGUF_STRING) {
        TRAP_IF(!a->strs || a->raw || a->items);
        for (uint64_t i = 0; i < a->n; i++) touch(a->strs[i].p, a->strs[i].n);
    } else if (a->type == XUAN_GGUF_ARRAY) {
        TRAP_IF(!a->items || a->raw || a->strs);
        for (uint64_t i = 0; i < a->n; i++) {
            TRAP_IF(a->items[i].type != XUAN_GGUF_ARRAY);
            walk_array(&a->items[i].v.arr, depth + 1);
        }
    } else {
        __builtin_trap(); /* the reader must refuse unknown element types */
    }
}

static void walk_key(const xuan_gguf *g, const xuan_gguf_kv *kv) {
    touch(kv->key.p, kv->key.n);
    const xuan_gguf_value *v = &kv->value;
    if (v->type == XUAN_GGUF_STRING) touch(v->v.str.p, v->v.str.n);
    else if (v->type == XUAN_GGUF_ARRAY) walk_array(&v->v.arr, 0);
    else TRAP_IF(v->type >= XUAN_GGUF_VTYPE_COUNT);

    /* The getters take C strings: only keys without NUL bytes round-trip. */
    char key[256];
    if (kv->key.n >= sizeof key || memchr(kv->key.p, 0, kv->key.n)) return;
    memcpy(key, kv->key.p, kv->key.n);
    key[kv->key.n] = 0;
    TRAP_IF(xuan_gguf_find(g, key) != v); /* duplicate keys are refused */
    xuan_error err = {0};
    xuan_str s;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    float f;
    bool b;
    const xuan_gguf_array *a;
    if (xuan_gguf_get_str(g, key, &s) == 0) touch(s.p, s.n);
    (void)xuan_gguf_get_u32(g, key, &u32, &err);
    (void)xuan_gguf_get_u64(g, key, &u64, &err);
    (void)xuan_gguf_get_i64(g, key, &i64, &err);
    if (xuan_gguf_get_f32(g, key, &f, &err) == 0) sinkd = f;
    (void)xuan_gguf_get_bool(g, key, &b, &err);
    if (xuan_gguf_get_arr(g, key, &a) == 0) TRAP_IF(a != &v->v.arr);
    TRAP_IF(strchr(err.msg, '\n'));
}

static void walk_tensor(const xuan_gguf *g, const xuan_gguf_tensor *t) {
    size_t len = strnlen(t->name, sizeof t->name);
    TRAP_IF(len == 0 || len >= sizeof t->name);
    TRAP_IF(xuan_gguf_find_tensor(g, t->name) != t); /* unique names, working index */
    const xuan_type_traits *tt = xuan_type_get(t->type);
    TRAP_IF(!tt);
    TRAP_IF(t->n_dims < 1 || t->n_dims > XUAN_GGUF_MAX_DIMS);
    uint64_t n = 1;
    for (int d = 0; d < XUAN_GGUF_MAX_DIMS; d++) {
        TRAP_IF(t->ne[d] < 1);
        TRAP_IF(__builtin_mul_overflow(n, (uint64_t)t->ne[d], &n));
    }
    TRAP_IF(n != t->n_elements);
    uint64_t row;
    TRAP_IF(!xuan_type_row_size(t->type, (uint64_t)t->ne[0], &row));
    TRAP_IF(t->n_bytes == 0 || t->n_bytes / row != n / (uint64_t)t->ne[0]);
    TRAP_IF(t->offset % xuan_gguf_alignment(g));
    touch(t->data, t->n_bytes); /* first and last byte of the data */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        /* Inputs are at most a few KB, so the reader never needs more than a
         * few hundred KB: a request over this cap fails with NOMEM, which is
         * trapped below as a disproportionate allocation. */
        xuan_alloc_set_cap(64ull << 20);
        init = true;
    }
    g_data = data;
    g_size = size;
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open_memory(data, size, &err);
    if (!g) {
        /* One line naming the problem, never an allocation failure. */
        TRAP_IF(err.code == XUAN_OK || err.code == XUAN_ERR_NOMEM || !err.msg[0]);
        for (const char *p = err.msg; *p; p++) TRAP_IF((unsigned char)*p < 0x20);
        return 0;
    }
    uint64_t align = xuan_gguf_alignment(g);
    TRAP_IF(align == 0 || (align & (align - 1)));
    TRAP_IF(xuan_gguf_version(g) != 2 && xuan_gguf_version(g) != 3);
    TRAP_IF(xuan_gguf_file_size(g) != size || xuan_gguf_n_splits(g) != 1);
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g); i++) walk_key(g, xuan_gguf_kv_at(g, i));
    TRAP_IF(xuan_gguf_kv_at(g, xuan_gguf_n_kv(g)) != NULL);
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) walk_tensor(g, xuan_gguf_tensor_at(g, i));
    TRAP_IF(xuan_gguf_tensor_at(g, xuan_gguf_n_tensors(g)) != NULL);
    TRAP_IF(xuan_gguf_find_tensor(g, "") != NULL);
    xuan_gguf_close(g);
    return 0;
}
