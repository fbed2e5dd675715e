/* test_pick_memory.c — the shared memory formula (xuan_mem_estimate_compute). */
#include "harness.h"
#include "xuan/gguf.h"
#include "xuan/pick.h"

/* Qwen2.5-7B shape, the worked example of memory.md. */
static xuan_mem_input qwen7b(uint32_t n_ctx) {
    return (xuan_mem_input){.n_layers = 28, .n_heads = 28, .n_kv_heads = 4,
                            .head_dim_k = 128, .head_dim_v = 128, .d_model = 3584,
                            .d_ffn = 18944, .n_vocab = 152064, .weight_bytes = 4677000000ull,
                            .n_ctx = n_ctx};
}

static void test_kv_cache_matches_memory_md(void) {
    xuan_mem_estimate e;
    xuan_mem_input in = qwen7b(4096);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_bytes_per_token, 57344);          /* memory.md: 56 KiB/token */
    CHECK_EQ_INT(e.kv_cache, 224ull << 20);              /* 224 MiB at 4K */
    in.n_ctx = 32768;
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_cache, 1792ull << 20);             /* 1.75 GiB at 32K */
    /* q8_0 cache: 34 bytes per 32 elements -> about 119 MiB at 4K. */
    in.n_ctx = 4096;
    in.cache_type = XUAN_TYPE_Q8_0;
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_cache, 28ull * 2 * (512 / 32 * 34) * 4096);
    CHECK_NEAR((double)e.kv_cache / (1 << 20), 119.0, 0.01);
}

static void test_ctx_rounded_to_256(void) {
    xuan_mem_estimate e;
    xuan_mem_input in = qwen7b(1000);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.n_ctx_alloc, 1024);
    CHECK_EQ_INT(e.kv_cache, 57344ull * 1024);
}

static void test_compute_terms(void) {
    xuan_mem_estimate e;
    xuan_mem_input in = qwen7b(4096);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.compute_logits, 152064ull * 512 * 4);
    /* FFN dominates with flash attention: 512 x 4 x (3*3584 + 3*18944). */
    CHECK_EQ_INT(e.compute_layer, 512ull * 4 * (3 * 3584 + 3 * 18944));
    CHECK_EQ_INT(e.compute, e.compute_logits + e.compute_layer);
    /* memory.md: "a few hundred MiB" for this model at ubatch 512. */
    CHECK(e.compute > (300ull << 20) && e.compute < (600ull << 20));
    /* Without flash attention the K*Q scores (2 x 4096 x 512 x 28 x 4 B) dominate. */
    in.no_flash_attn = true;
    xuan_mem_estimate_compute(&in, &e);
    CHECK(e.compute_layer > 2ull * 4096 * 512 * 28 * 4);
    /* A short context clamps the batch (llama.cpp: n_ubatch <= n_ctx). */
    in = qwen7b(256);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.compute_logits, 152064ull * 256 * 4);
    CHECK_EQ_INT(e.total, e.weights + e.kv_cache + e.compute + e.overhead);
    /* memory.md's worked total for Q4_K_M at 4K: 5.0-5.2 GiB (we add a
     * conservative compute term, so allow up to 5.4). */
    in = qwen7b(4096);
    xuan_mem_estimate_compute(&in, &e);
    CHECK(e.total > (5ull << 30) && e.total < (54ull << 30) / 10);
}

static void test_saturates_on_hostile_shapes(void) {
    xuan_mem_input in = {.n_layers = UINT32_MAX, .n_heads = UINT32_MAX, .n_kv_heads = UINT32_MAX,
                         .head_dim_k = UINT32_MAX, .head_dim_v = UINT32_MAX,
                         .d_model = UINT32_MAX, .d_ffn = UINT32_MAX, .n_vocab = UINT32_MAX,
                         .weight_bytes = UINT64_MAX - 5, .n_ctx = UINT32_MAX,
                         .n_batch = UINT32_MAX, .no_flash_attn = true};
    xuan_mem_estimate e;
    xuan_mem_estimate_compute(&in, &e);
    CHECK(e.total == UINT64_MAX);
    CHECK(e.kv_cache == UINT64_MAX);
    xuan_buf b = {0};
    CHECK_EQ_INT(xuan_mem_explain(&in, &e, &b), 0);
    CHECK(strstr(b.data, "overflow") != NULL);
    xuan_buf_free(&b);
    xuan_mem_input zero = {0};
    xuan_mem_estimate_compute(&zero, &e);
    CHECK_EQ_INT(e.total, XUAN_MEM_RUNTIME_BYTES);
}

static void test_explain_names_every_term(void) {
    xuan_mem_input in = qwen7b(4096);
    xuan_mem_estimate e;
    xuan_mem_estimate_compute(&in, &e);
    xuan_buf b = {0};
    REQUIRE(xuan_mem_explain(&in, &e, &b) == 0);
    const char *need[] = {"weights  =", "kv_cache =", "compute  =", "overhead =", "total    =",
                          "n_kv_heads 4", "224 MiB", "n_vocab 152064"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!strstr(b.data, need[i])) test_fail(__FILE__, __LINE__, "explain lacks '%s':\n%s", need[i], b.data);
    xuan_buf_free(&b);
}

int main(void) {
    RUN(test_kv_cache_matches_memory_md);
    RUN(test_ctx_rounded_to_256);
    RUN(test_compute_terms);
    RUN(test_saturates_on_hostile_shapes);
    RUN(test_explain_names_every_term);
    return test_done();
}
