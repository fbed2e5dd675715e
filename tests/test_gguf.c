/* Tests for the GGUF reader and writer: every value type, nested arrays,
 * typed getters, round trips (single file and split), writer refusals. */
#include "harness.h"
#include "xuan/gguf.h"

#include <stdlib.h>
#include <unistd.h>

static int fill_pattern(void *ctx, const xuan_gguf_tensor *t, uint64_t off, uint8_t *out,
                        uint64_t n, xuan_error *err) {
    (void)ctx, (void)err;
    for (uint64_t i = 0; i < n; i++) out[i] = (uint8_t)((off + i) * 31 + (uint8_t)t->name[0]);
    return 0;
}

/* A writer holding one key of every type and a few tensors. */
static xuan_gguf_writer *sample_writer(float *f32data) {
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w);
    xuan_gguf_writer_set_str(w, "general.architecture", "llama");
    xuan_gguf_writer_set_str(w, "general.name", "测试 model");
    xuan_gguf_writer_set_u32(w, "llama.block_count", 2);
    xuan_gguf_writer_set_i32(w, "test.i32", -7);
    xuan_gguf_writer_set_u64(w, "test.u64", 1ull << 40);
    xuan_gguf_writer_set_f32(w, "llama.rope.freq_base", 1e6f);
    xuan_gguf_writer_set_bool(w, "test.bool", true);
    int32_t ints[5] = {1, -2, 3, -4, 5};
    xuan_gguf_writer_set_arr(w, "test.arr_i32", XUAN_GGUF_INT32, ints, 5);
    float fl[3] = {0.5f, -1.25f, 3.0f};
    xuan_gguf_writer_set_arr(w, "test.arr_f32", XUAN_GGUF_FLOAT32, fl, 3);
    xuan_str toks[3] = {{"<s>", 3}, {"中", 3}, {"", 0}};
    xuan_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
    for (int i = 0; i < 64; i++) f32data[i] = (float)i * 0.25f;
    int64_t ne1[2] = {16, 4}, ne2[1] = {64}, ne3[2] = {256, 3}, ne4[3] = {32, 2, 2};
    xuan_error err = {0};
    CHECK(xuan_gguf_writer_add_tensor(w, "a.weight", XUAN_TYPE_F32, 2, ne1, f32data, NULL, NULL, &err) == 0);
    CHECK(xuan_gguf_writer_add_tensor(w, "b.bias", XUAN_TYPE_F32, 1, ne2, f32data, NULL, NULL, &err) == 0);
    CHECK(xuan_gguf_writer_add_tensor(w, "c.weight", XUAN_TYPE_Q4_K, 2, ne3, NULL, fill_pattern, NULL, &err) == 0);
    CHECK(xuan_gguf_writer_add_tensor(w, "d.weight", XUAN_TYPE_Q8_0, 3, ne4, NULL, fill_pattern, NULL, &err) == 0);
    return w;
}

static void test_write_read(void) {
    float data[64];
    xuan_gguf_writer *w = sample_writer(data);
    xuan_error err = {0};
    const char *path = test_path("gguf_rt.gguf");
    REQUIRE(xuan_gguf_writer_write(w, path, &err) == 0);
    xuan_gguf_writer_free(w);

    xuan_gguf *g = xuan_gguf_open(path, &err);
    if (!g) fprintf(stderr, "%s\n", err.msg);
    REQUIRE(g);
    CHECK_EQ_INT(xuan_gguf_version(g), 3);
    CHECK_EQ_INT(xuan_gguf_n_kv(g), 10);
    CHECK_EQ_INT(xuan_gguf_n_tensors(g), 4);
    xuan_str s;
    CHECK(xuan_gguf_get_str(g, "general.name", &s) == 0 && xuan_str_eq(s, "测试 model"));
    uint32_t u;
    CHECK(xuan_gguf_get_u32(g, "llama.block_count", &u, &err) == 0 && u == 2);
    CHECK(xuan_gguf_get_u32(g, "test.i32", &u, &err) == XUAN_ERR_FORMAT); /* negative */
    int64_t i;
    CHECK(xuan_gguf_get_i64(g, "test.i32", &i, &err) == 0 && i == -7);
    CHECK(xuan_gguf_get_u32(g, "test.u64", &u, &err) == XUAN_ERR_FORMAT); /* too big */
    CHECK(xuan_gguf_get_u32(g, "general.name", &u, &err) == XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "general.name") != NULL);
    CHECK(xuan_gguf_get_u32(g, "missing.key", &u, &err) == XUAN_ERR_NOTFOUND);
    float f;
    CHECK(xuan_gguf_get_f32(g, "llama.rope.freq_base", &f, &err) == 0 && f == 1e6f);
    bool b;
    CHECK(xuan_gguf_get_bool(g, "test.bool", &b, &err) == 0 && b);
    const xuan_gguf_array *a;
    REQUIRE(xuan_gguf_get_arr(g, "test.arr_i32", &a) == 0);
    CHECK_EQ_INT(a->n, 5);
    CHECK_EQ_INT(xuan_gguf_arr_i64(a, 3), -4);
    REQUIRE(xuan_gguf_get_arr(g, "test.arr_f32", &a) == 0);
    CHECK_NEAR(xuan_gguf_arr_f64(a, 1), -1.25, 0);
    REQUIRE(xuan_gguf_get_arr(g, "tokenizer.ggml.tokens", &a) == 0);
    REQUIRE(a->strs && a->n == 3);
    CHECK(xuan_str_eq(a->strs[1], "中") && a->strs[2].n == 0);

    const xuan_gguf_tensor *t = xuan_gguf_find_tensor(g, "c.weight");
    REQUIRE(t);
    CHECK_EQ_INT(t->type, XUAN_TYPE_Q4_K);
    CHECK_EQ_INT(t->n_bytes, 3 * 144);
    CHECK_EQ_INT((uintptr_t)t->data % 32, 0);
    CHECK_EQ_INT(t->data[5], (uint8_t)(5 * 31 + 'c'));
    t = xuan_gguf_find_tensor(g, "a.weight");
    REQUIRE(t);
    CHECK(memcmp(t->data, data, 64 * 4) == 0);
    CHECK_EQ_INT(t->ne[0], 16);
    CHECK_EQ_INT(t->ne[1], 4);
    CHECK_EQ_INT(t->ne[2], 1);
    CHECK(xuan_gguf_find_tensor(g, "nope") == NULL);
    xuan_gguf_close(g);
}

/* Copies everything from g into a new writer. */
static xuan_gguf_writer *copy_of(const xuan_gguf *g) {
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g); i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(g, i);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.n, kv->key.p);
        if (!strncmp(key, "split.", 6)) continue;
        CHECK(xuan_gguf_writer_set_value(w, key, &kv->value) == 0);
    }
    xuan_error err = {0};
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        CHECK(xuan_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, NULL,
                                          NULL, &err) == 0);
    }
    return w;
}

static bool same_content(const xuan_gguf *a, const xuan_gguf *b) {
    if (xuan_gguf_n_tensors(a) != xuan_gguf_n_tensors(b)) return false;
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(a); i++) {
        const xuan_gguf_tensor *x = xuan_gguf_tensor_at(a, i), *y = xuan_gguf_find_tensor(b, x->name);
        if (!y || x->type != y->type || x->n_bytes != y->n_bytes || memcmp(x->ne, y->ne, sizeof x->ne) ||
            memcmp(x->data, y->data, x->n_bytes))
            return false;
    }
    return true;
}

static void test_round_trip_bytes(void) {
    float data[64];
    xuan_gguf_writer *w = sample_writer(data);
    xuan_error err = {0};
    const char *p1 = test_path("gguf_rt1.gguf"), *p2 = test_path("gguf_rt2.gguf");
    REQUIRE(xuan_gguf_writer_write(w, p1, &err) == 0);
    xuan_gguf_writer_free(w);
    xuan_gguf *g1 = xuan_gguf_open(p1, &err);
    REQUIRE(g1);
    w = copy_of(g1);
    REQUIRE(xuan_gguf_writer_write(w, p2, &err) == 0);
    xuan_gguf_writer_free(w);
    /* read -> write -> read: the files are identical byte for byte */
    char out[256];
    CHECK(test_sh(out, sizeof out, "cmp '%s' '%s'", p1, p2) == 0);
    xuan_gguf *g2 = xuan_gguf_open(p2, &err);
    REQUIRE(g2);
    CHECK(same_content(g1, g2));
    xuan_gguf_close(g1);
    xuan_gguf_close(g2);
}

static void test_split_round_trip(void) {
    float data[64];
    xuan_gguf_writer *w = sample_writer(data);
    xuan_error err = {0};
    const char *whole = test_path("gguf_whole.gguf");
    REQUIRE(xuan_gguf_writer_write(w, whole, &err) == 0);
    const char *prefix = test_path("gguf_split");
    REQUIRE(xuan_gguf_writer_write_split(w, prefix, 3, &err) == 0);
    xuan_gguf_writer_free(w);
    char first[4096];
    snprintf(first, sizeof first, "%s-00001-of-00003.gguf", prefix);
    xuan_gguf *s = xuan_gguf_open(first, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    REQUIRE(s);
    CHECK_EQ_INT(xuan_gguf_n_splits(s), 3);
    CHECK_EQ_INT(xuan_gguf_n_tensors(s), 4);
    xuan_gguf *g = xuan_gguf_open(whole, &err);
    REQUIRE(g);
    CHECK(same_content(g, s));
    /* metadata identical apart from split.* keys */
    CHECK_EQ_INT(xuan_gguf_n_kv(s), xuan_gguf_n_kv(g) + 3);
    /* opening a later part names the first one */
    char second[4096];
    snprintf(second, sizeof second, "%s-00002-of-00003.gguf", prefix);
    CHECK(xuan_gguf_open(second, &err) == NULL);
    CHECK(strstr(err.msg, "first part") != NULL);
    /* merge the split back into one file: identical to the unsplit one */
    w = copy_of(s);
    const char *merged = test_path("gguf_merged.gguf");
    REQUIRE(xuan_gguf_writer_write(w, merged, &err) == 0);
    xuan_gguf_writer_free(w);
    CHECK(test_sh(NULL, 0, "cmp '%s' '%s'", whole, merged) == 0);
    /* a missing part is reported */
    char third[4096];
    snprintf(third, sizeof third, "%s-00003-of-00003.gguf", prefix);
    unlink(third);
    CHECK(xuan_gguf_open(first, &err) == NULL);
    CHECK(strstr(err.msg, "part 3 of 3") != NULL);
    xuan_gguf_close(g);
    xuan_gguf_close(s);
}

static void test_writer_refuses(void) {
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    xuan_error err = {0};
    int64_t ne[2] = {100, 2};
    float d[200] = {0};
    CHECK(xuan_gguf_writer_add_tensor(w, "x", XUAN_TYPE_Q4_K, 2, ne, d, NULL, NULL, &err) == XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "block size 256") != NULL);
    CHECK(xuan_gguf_writer_add_tensor(w, "x", XUAN_TYPE_F32, 2, ne, d, NULL, NULL, &err) == 0);
    CHECK(xuan_gguf_writer_add_tensor(w, "x", XUAN_TYPE_F32, 2, ne, d, NULL, NULL, &err) == XUAN_ERR_USAGE);
    CHECK(xuan_gguf_writer_add_tensor(w, "y", 99, 2, ne, d, NULL, NULL, &err) == XUAN_ERR_USAGE);
    /* a write into a folder that does not exist fails cleanly */
    CHECK(xuan_gguf_writer_write(w, "/nonexistent-dir/x.gguf", &err) == XUAN_ERR_IO);
    xuan_gguf_writer_free(w);
}

static void test_types(void) {
    CHECK_EQ_STR(xuan_type_name(XUAN_TYPE_Q6_K), "Q6_K");
    CHECK_EQ_STR(xuan_type_name(4), "?");
    xuan_type t;
    CHECK(xuan_type_from_name("iq4_xs", &t) == 0 && t == XUAN_TYPE_IQ4_XS);
    CHECK_NEAR(xuan_type_bpw(XUAN_TYPE_Q4_K), 4.5, 1e-12);
    CHECK_NEAR(xuan_type_bpw(XUAN_TYPE_Q6_K), 6.5625, 1e-12);
    uint64_t b;
    CHECK(!xuan_type_row_size(XUAN_TYPE_Q8_0, 33, &b));
    CHECK(xuan_type_row_size(XUAN_TYPE_Q8_0, 64, &b) && b == 68);
}

int main(void) {
    RUN(test_types);
    RUN(test_write_read);
    RUN(test_round_trip_bytes);
    RUN(test_split_round_trip);
    RUN(test_writer_refuses);
    return test_done();
}
