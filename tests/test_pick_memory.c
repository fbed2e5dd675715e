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

/* The per-architecture cache of today's models, from the catalog's shapes,
 * against numbers worked by hand from the published configs (the sources are
 * in data/additions_2026.json):
 *   Qwen3.5-9B (qwen35): 32 layers, 1 in 4 gated attention, 4 KV heads x 256;
 *     24 Gated DeltaNet layers of 16 K / 32 V heads x 128, conv kernel 4
 *     (config.json as quoted in public code: copies 60862326903, 54905607740);
 *   gpt-oss-20b: 24 layers, 8 KV heads x 64, even layers slide over 128
 *     positions (NeMo docs, GptOssForCausalLM layer_types; arch table
 *     swa_pattern 2, window 128);
 *   Gemma 4 E4B: 42 layers, the last 18 share KV, 5 sliding (2 KV x 256,
 *     window 512) : 1 global (2 KV x 512) (copies 52072569703, 53824446669);
 *   Gemma 4 E2B: 35 layers, the last 20 share KV, 4 sliding (1 KV x 256,
 *     window 512) : 1 global (1 KV x 512) (copies 64225531835, 56566372487).
 * Sliding layers hold max(llama.cpp's iSWA cells, pad256(window + ubatch),
 * and xuan's ring, 1.25 window + ubatch) at most: gpt-oss 768, gemma 1152. */
/* One model's cache layout: the layers that store KV, the sliding ones and
 * their window, per-token bytes, cells per sliding layer, the whole cache. */
static void kv_layout(const xuan_catalog *cat, const char *id, xuan_quant q, uint32_t ctx, uint32_t kv_layers,
                      uint32_t swa_layers, uint32_t window, uint64_t per_token, uint32_t cells, uint64_t kv) {
    xuan_mem_input in;
    xuan_mem_estimate e;
    xuan_error err = {0};
    const xuan_model_info *m = xuan_catalog_find(cat, id);
    REQUIRE(m && xuan_model_mem_input(m, q, ctx, &in, &err) == 0);
    CHECK_EQ_INT(in.n_kv_layers ? in.n_kv_layers : in.n_layers, kv_layers);
    CHECK_EQ_INT(in.n_swa_layers, swa_layers);
    CHECK_EQ_INT(in.swa_window, window);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_bytes_per_token, per_token);
    CHECK_EQ_INT(e.n_swa_alloc, cells);
    CHECK_EQ_INT(e.kv_cache, kv);
    CHECK(e.state == 0);
}

static void test_per_arch_kv_from_catalog(void) {
    xuan_catalog cat = {0};
    xuan_error err = {0};
    REQUIRE(xuan_catalog_load(&cat, NULL, &err) == 0);
    const uint32_t ctx = 32768;
    xuan_mem_input in;
    xuan_mem_estimate e, dense;

    /* qwen35: KV only in 8 of 32 layers, plus the fixed state */
    const xuan_model_info *q = xuan_catalog_find(&cat, "qwen3.5-9b");
    REQUIRE(q && xuan_model_mem_input(q, XUAN_QUANT_Q4_K_M, ctx, &in, &err) == 0);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_bytes_per_token, 8 * 4 * (256 + 256) * 2);        /* 32 KiB */
    CHECK_EQ_INT(e.kv_cache, 8ull * 4 * (256 + 256) * 2 * ctx);         /* 1 GiB */
    CHECK_EQ_INT(e.state, 24ull * (32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)) * 4); /* 50.25 MiB */
    /* ... a quarter of the same shapes with attention in every layer */
    in.n_kv_layers = 0;
    in.state_bytes = 0;
    xuan_mem_estimate_compute(&in, &dense);
    CHECK_EQ_INT(dense.kv_bytes_per_token, 4 * e.kv_bytes_per_token);
    CHECK_EQ_INT(dense.kv_cache, 4 * e.kv_cache);
    /* growing the context from 4K to 32K costs 896 MiB, not 3.5 GiB */
    xuan_mem_estimate e4k;
    REQUIRE(xuan_model_mem_input(q, XUAN_QUANT_Q4_K_M, 4096, &in, &err) == 0);
    xuan_mem_estimate_compute(&in, &e4k);
    CHECK_EQ_INT(e.total - e4k.total, 28672ull * 32768);

    /* gpt-oss: 12 full layers grow with the context, 12 sliding ones do not
     * (24 KiB per token; 768 cells = pad256(128 + 512), 18 MiB) */
    kv_layout(&cat, "gpt-oss-20b", XUAN_QUANT_MXFP4_MOE, ctx, 24, 12, 128, 12 * 8 * (64 + 64) * 2, 768,
              12ull * 8 * 128 * 2 * ctx + 12ull * 8 * 128 * 2 * 768);
    /* at a context below the window's cells, the sliding layers hold the context */
    kv_layout(&cat, "gpt-oss-20b", XUAN_QUANT_MXFP4_MOE, 512, 24, 12, 128, 12 * 8 * (64 + 64) * 2, 512,
              12ull * 8 * 128 * 2 * 512 * 2);
    /* gemma4 E4B: 24 layers store KV (4 global, 20 sliding), 18 share it
     * (16 KiB per token; 1152 cells = 512 + 128 + 512) */
    kv_layout(&cat, "gemma-4-e4b-it", XUAN_QUANT_Q4_K_M, ctx, 24, 20, 512, 4 * 2 * (512 + 512) * 2, 1152,
              4ull * 2 * 1024 * 2 * ctx + 20ull * 2 * 512 * 2 * 1152);
    /* gemma4 E2B: 15 layers store KV (3 global, 12 sliding): 6 KiB per token */
    kv_layout(&cat, "gemma-4-e2b-it", XUAN_QUANT_Q4_K_M, ctx, 15, 12, 512, 3 * 1 * (512 + 512) * 2, 1152,
              3ull * 1024 * 2 * ctx + 12ull * 512 * 2 * 1152);

    /* the smaller Qwen3.5 models have shapes now: 6 of 24 layers attend */
    const xuan_model_info *q08 = xuan_catalog_find(&cat, "qwen3.5-0.8b"), *q2 = xuan_catalog_find(&cat, "qwen3.5-2b");
    REQUIRE(q08 && xuan_model_mem_input(q08, XUAN_QUANT_Q8_0, ctx, &in, &err) == 0);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_bytes_per_token, 6 * 2 * 512 * 2);                 /* 12 KiB */
    CHECK_EQ_INT(e.state, 18ull * (16 * 128 * 128 + 3 * (2 * 16 * 128 + 16 * 128)) * 4);
    REQUIRE(q2 && xuan_model_mem_input(q2, XUAN_QUANT_Q8_0, ctx, &in, &err) == 0);
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.kv_bytes_per_token, 6 * 2 * 512 * 2);
    xuan_catalog_free(&cat);
}

/* A sliding window is capped by the context and multiplied by sequences. */
static void test_swa_cells(void) {
    xuan_mem_input in = {.n_layers = 4, .n_heads = 2, .n_kv_heads = 1, .head_dim_k = 64, .head_dim_v = 64,
                         .d_model = 128, .d_ffn = 256, .n_vocab = 1000, .n_ctx = 8192,
                         .n_swa_layers = 2, .swa_window = 1000, .swa_head_dim_k = 32, .swa_head_dim_v = 32};
    xuan_mem_estimate e;
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.n_swa_alloc, 1250 + 512);                            /* xuan's ring beats pad256(1512) = 1536 */
    CHECK_EQ_INT(e.kv_swa, 2ull * (32 + 32) * 2 * (1250 + 512));
    CHECK_EQ_INT(e.kv_bytes_per_token, 2 * (64 + 64) * 2);
    in.n_seq = 4;
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.n_swa_alloc, 4 * 1250 + 512);
    in.n_ctx = 1024, in.n_seq = 1;
    xuan_mem_estimate_compute(&in, &e);
    CHECK_EQ_INT(e.n_swa_alloc, 1024);
    xuan_buf b = {0};
    REQUIRE(xuan_mem_explain(&in, &e, &b) == 0);
    CHECK(strstr(b.data, "sliding layers 2") != NULL && strstr(b.data, "global layers 2") != NULL);
    xuan_buf_free(&b);
}

int main(void) {
    RUN(test_kv_cache_matches_memory_md);
    RUN(test_ctx_rounded_to_256);
    RUN(test_compute_terms);
    RUN(test_saturates_on_hostile_shapes);
    RUN(test_explain_names_every_term);
    RUN(test_per_arch_kv_from_catalog);
    RUN(test_swa_cells);
    return test_done();
}
