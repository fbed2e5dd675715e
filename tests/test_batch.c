/*
 * test_batch.c — the batch API (include/xuan/model.h): many sequences in one
 * cache, logits for every requested row, sequence operations, cancellation
 * and the refusals of a malformed batch.
 *
 * The reference for every comparison is the same model run one sequence at
 * a time in a context of its own.  With Q8_0 weights and a Q8_0 cache the
 * arithmetic does not depend on the batch's composition, so those results
 * must be equal bit for bit; with F16 weights batching changes the
 * summation order of the matrix products (as it does in llama.cpp), so
 * they are compared within a bound.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "model/internal.h"
#include "xuan/model.h"

#define N_SEQ 3
#define PROMPT 9

/* A synthetic model of `preset` (cached per preset and type): two layers;
 * gemma3-tiny256 six (5 local : 1 global) with a window of 4, so the
 * 9-token prompts cross it; qwen3moe-tiny256 routes each token to 2 of 8
 * experts; deepseek2-tiny256 has a dense layer, then an MoE one with shared
 * experts; gptoss-tiny256 a local layer (window 8, sinks) and a global one,
 * its experts MXFP4 (the MXFP4_MOE mix, the other matrices Q8_0);
 * gemma4-tiny256 its 4 layers (sliding and full alternating, two head
 * sizes, the last 2 reading layers 0 and 1's KV, per-layer embeddings). */
static const char *model_path(const char *preset, uint32_t type) {
    static const char *const presets[] = {"tiny256", "gemma3-tiny256", "qwen3moe-tiny256", "deepseek2-tiny256",
                                          "gptoss-tiny256", "gemma4-tiny256"};
    enum { N = sizeof presets / sizeof presets[0] };
    static char paths[N][2][512];
    size_t ip = 0;
    while (ip < N - 1 && strcmp(presets[ip], preset)) ip++;
    REQUIRE(strcmp(presets[ip], preset) == 0);
    const bool gemma = ip == 1;
    char *path = paths[ip][type == XUAN_TYPE_Q8_0];
    if (path[0]) return path;
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset(preset, &p) == 0); /* head size 64 / 256: a Q8_0 cache fits */
    if (ip != 5) p.n_layers = gemma ? 6 : 2;
    if (gemma) p.n_swa = 4;
    p.type = type;
    p.embd_type = type;
    p.output_type = type;
    if (ip == 4 && type == XUAN_TYPE_Q8_0) p.mix = "MXFP4_MOE";
    char name[64];
    snprintf(name, sizeof name, "batch_%s_%s.gguf", preset, type == XUAN_TYPE_Q8_0 ? "q8" : "f16");
    snprintf(path, 512, "%s", test_path(name));
    xuan_error err = {0};
    if (xuan_synth_write(&p, path, &err) != 0) {
        test_fail(__FILE__, __LINE__, "synth: %s", err.msg);
        path[0] = 0;
        longjmp(test_abort_jmp, 1);
    }
    return path;
}

static xuan_model *load_preset(const char *preset, uint32_t type) {
    xuan_error err = {0};
    xuan_model *m = xuan_model_load(model_path(preset, type), &err);
    if (!m) test_fail(__FILE__, __LINE__, "load: %s", err.msg);
    REQUIRE(m);
    return m;
}

static xuan_model *load(uint32_t type) { return load_preset("tiny256", type); }

static xuan_ctx *new_ctx(const xuan_model *m, uint32_t n_ctx, uint32_t n_seq, uint32_t n_batch,
                         uint32_t cache_type) {
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = n_ctx;
    cp.n_seq_max = n_seq;
    cp.n_batch = n_batch;
    cp.n_threads = 2;
    cp.type_k = cache_type & 0xffff; /* KV(k, v), or one type for both */
    cp.type_v = cache_type >> 16 ? cache_type >> 16 : cache_type;
    xuan_error err = {0};
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    if (!c) test_fail(__FILE__, __LINE__, "ctx: %s", err.msg);
    REQUIRE(c);
    return c;
}

/* Deterministic prompts, different per sequence. */
static int32_t prompt_tok(int s, int i, uint32_t n_vocab) {
    return (int32_t)((7u + 31u * (uint32_t)s + 17u * (uint32_t)i * (uint32_t)(i + s + 1)) % n_vocab);
}

static double max_diff(const float *a, const float *b, uint32_t n) {
    double d = 0;
    for (uint32_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

/* Logits of every position of sequence s's prompt, evaluated alone and one
 * token at a time (the reference for prompt log-probabilities), or with
 * one_batch in one batch of the whole prompt. */
static float *alone_rows(const xuan_model *m, int s, uint32_t cache_type, bool one_batch) {
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    float *rows = malloc(sizeof(float) * nv * PROMPT);
    REQUIRE(rows);
    xuan_ctx *c = new_ctx(m, 64, 1, 512, cache_type);
    xuan_error err = {0};
    if (one_batch) {
        int32_t tok[PROMPT];
        int8_t want[PROMPT];
        for (int i = 0; i < PROMPT; i++) tok[i] = prompt_tok(s, i, nv), want[i] = 1;
        xuan_batch b = {.n_tokens = PROMPT, .token = tok, .logits = want};
        REQUIRE(xuan_ctx_decode(c, &b, &err) == 0);
        for (int i = 0; i < PROMPT; i++) memcpy(rows + (size_t)i * nv, xuan_ctx_logits_ith(c, i), sizeof(float) * nv);
        xuan_ctx_free(c);
        return rows;
    }
    for (int i = 0; i < PROMPT; i++) {
        int32_t t = prompt_tok(s, i, nv);
        REQUIRE(xuan_ctx_eval(c, &t, 1, &err) == 0);
        memcpy(rows + (size_t)i * nv, xuan_ctx_logits(c), sizeof(float) * nv);
    }
    xuan_ctx_free(c);
    return rows;
}

/* The three prompts interleaved in one batch, every row's logits kept. */
static void decode_interleaved(xuan_ctx *c, uint32_t nv) {
    int32_t tok[N_SEQ * PROMPT], seq[N_SEQ * PROMPT];
    int8_t want[N_SEQ * PROMPT];
    for (int i = 0; i < PROMPT; i++)
        for (int s = 0; s < N_SEQ; s++) {
            tok[i * N_SEQ + s] = prompt_tok(s, i, nv);
            seq[i * N_SEQ + s] = s;
            want[i * N_SEQ + s] = 1;
        }
    xuan_batch b = {.n_tokens = N_SEQ * PROMPT, .token = tok, .seq_id = seq, .logits = want};
    xuan_error err = {0};
    if (xuan_ctx_decode(c, &b, &err) != 0) test_fail(__FILE__, __LINE__, "decode: %s", err.msg);
}

static void check_together(const char *preset, uint32_t type, uint32_t cache_type, uint32_t n_batch, double bound,
                           bool alone_one_batch) {
    xuan_model *m = load_preset(preset, type);
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    float *ref[N_SEQ];
    for (int s = 0; s < N_SEQ; s++) ref[s] = alone_rows(m, s, cache_type, alone_one_batch);

    xuan_ctx *c = new_ctx(m, 64, N_SEQ, n_batch, cache_type);
    decode_interleaved(c, nv);
    double worst = 0;
    for (int i = 0; i < PROMPT; i++)
        for (int s = 0; s < N_SEQ; s++) {
            const float *l = xuan_ctx_logits_ith(c, i * N_SEQ + s);
            REQUIRE(l);
            worst = fmax(worst, max_diff(l, ref[s] + (size_t)i * nv, nv));
        }
    if (worst > bound)
        test_fail(__FILE__, __LINE__, "%s type %u cache %u n_batch %u: together vs alone differ by %g (bound %g)",
                  preset, type, cache_type, n_batch, worst, bound);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), N_SEQ * PROMPT);
    for (int s = 0; s < N_SEQ; s++) CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, s), PROMPT - 1);
    CHECK(xuan_ctx_logits_ith(c, -1) == xuan_ctx_logits_ith(c, N_SEQ * PROMPT - 1));
    CHECK(xuan_ctx_logits_ith(c, N_SEQ * PROMPT) == NULL);
    xuan_ctx_free(c);
    for (int s = 0; s < N_SEQ; s++) free(ref[s]);
    xuan_model_free(m);
}

/* The three prompts in one batch (pieces of n_batch) against each alone,
 * token by token. */
static void check_together_vs_alone(const char *preset, uint32_t type, uint32_t cache_type, uint32_t n_batch,
                                    double bound) {
    check_together(preset, type, cache_type, n_batch, bound, false);
}

/* K and V cache types apart, for new_ctx's cache_type argument. */
#define KV(k, v) ((uint32_t)(k) | (uint32_t)(v) << 16)

/* Q8_0 weights and cache: equal bits, in one pass and split into odd pieces. */
static void test_q8_together_equals_alone(void) {
    check_together_vs_alone("tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0);
    check_together_vs_alone("tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0);
}

/* Every row's cache arithmetic is its own at any batch size for the other
 * cache types too (K by vec_dot over Q8_0 / Q8_1 rows, V dequantized). */
static void test_quant_caches_together_equal_alone(void) {
    check_together_vs_alone("tiny256", XUAN_TYPE_Q8_0, KV(XUAN_TYPE_Q4_0, XUAN_TYPE_Q5_1), 512, 0.0);
    check_together_vs_alone("tiny256", XUAN_TYPE_Q8_0, KV(XUAN_TYPE_Q4_1, XUAN_TYPE_IQ4_NL), 5, 0.0);
    check_together_vs_alone("tiny256", XUAN_TYPE_Q8_0, KV(XUAN_TYPE_Q5_0, XUAN_TYPE_Q4_0), 5, 0.0);
}

/* gemma3: each sequence's sliding window is its own (positions, not cells),
 * the global layer sees everything; still equal bits. */
static void test_gemma3_window_together_equals_alone(void) {
    check_together_vs_alone("gemma3-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0);
    check_together_vs_alone("gemma3-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0);
}

/* qwen3moe: experts multiply one routed row at a time, so the routing of
 * the other rows of a batch cannot touch a row's result. */
static void test_moe_together_equals_alone(void) {
    check_together_vs_alone("qwen3moe-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0);
    check_together_vs_alone("qwen3moe-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0);
}

/* deepseek2: MLA's per-head products and the shared experts take each row
 * alone too; the cache row (kv_lora_rank + RoPE part) serves K and V. */
static void test_mla_together_equals_alone(void) {
    check_together_vs_alone("deepseek2-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0);
    check_together_vs_alone("deepseek2-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0);
}

/* gemma4: the shared-KV layers read their sources' cells of each
 * sequence, the per-layer embeddings are per row; equal bits. */
static void test_gemma4_together_equals_alone(void) {
    check_together_vs_alone("gemma4-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0);
    check_together_vs_alone("gemma4-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0);
}

/* gpt-oss: sinks, the window on even layers, the biased router and the
 * MXFP4 experts (one routed row at a time) give each row its lone bits.
 * Its router is F32 (as llama-quantize leaves it): a batch's logits are
 * summed in tinyBLAS's order, one token's by ggml_vec_dot_f32, so the
 * reference is each prompt alone in one batch (token by token a near-tied
 * choice moved a row by 0.096), and no piece of n_batch 5 is one token. */
static void test_gptoss_together_equals_alone(void) {
    _Static_assert(N_SEQ * PROMPT % 5 != 1, "a piece of one token would take the other order");
    check_together("gptoss-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 512, 0.0, true);
    check_together("gptoss-tiny256", XUAN_TYPE_Q8_0, XUAN_TYPE_Q8_0, 5, 0.0, true);
}

/* F16 weights and cache: the summation order moves with the batch size. */
static void test_f16_together_close_to_alone(void) {
    check_together_vs_alone("tiny256", XUAN_TYPE_F16, XUAN_TYPE_F16, 512, 2e-2);
    check_together_vs_alone("tiny256", XUAN_TYPE_F16, XUAN_TYPE_F16, 4, 2e-2);
}

/* A shared prefix copied with seq_cp, then two different continuations:
 * the same logits as each whole text evaluated alone, and the prefix's
 * cells held once. */
static void test_prefix_shared_by_copy(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    int32_t prefix[6], tail[2][3];
    for (int i = 0; i < 6; i++) prefix[i] = prompt_tok(0, i, nv);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 3; i++) tail[s][i] = prompt_tok(s + 1, i + 6, nv);

    float *ref[2];
    xuan_error err = {0};
    for (int s = 0; s < 2; s++) {
        xuan_ctx *a = new_ctx(m, 64, 1, 512, XUAN_TYPE_Q8_0);
        REQUIRE(xuan_ctx_eval(a, prefix, 6, &err) == 0);
        REQUIRE(xuan_ctx_eval(a, tail[s], 3, &err) == 0);
        ref[s] = malloc(sizeof(float) * nv);
        REQUIRE(ref[s]);
        memcpy(ref[s], xuan_ctx_logits(a), sizeof(float) * nv);
        xuan_ctx_free(a);
    }

    xuan_ctx *c = new_ctx(m, 32, 2, 512, XUAN_TYPE_Q8_0);
    REQUIRE(xuan_ctx_eval(c, prefix, 6, &err) == 0);
    REQUIRE(xuan_ctx_seq_cp(c, 0, 1, 0, -1, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), 6);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), 5);

    int32_t tok[6], seq[6];
    int8_t want[6] = {0, 0, 0, 0, 1, 1};
    for (int i = 0; i < 3; i++)
        for (int s = 0; s < 2; s++) {
            tok[i * 2 + s] = tail[s][i];
            seq[i * 2 + s] = s;
        }
    xuan_batch b = {.n_tokens = 6, .token = tok, .seq_id = seq, .logits = want};
    REQUIRE(xuan_ctx_decode(c, &b, &err) == 0);
    CHECK(xuan_ctx_logits_ith(c, 0) == NULL);
    for (int s = 0; s < 2; s++) {
        const float *l = xuan_ctx_logits_ith(c, 4 + s);
        REQUIRE(l);
        CHECK(max_diff(l, ref[s], nv) == 0.0);
    }
    CHECK_EQ_INT(xuan_ctx_cells_used(c), 12);

    /* Dropping sequence 0 keeps the prefix cells sequence 1 still uses. */
    REQUIRE(xuan_ctx_seq_rm(c, 0, -1, -1, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), -1);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), 9);
    /* Removing sequence 1's last position and evaluating it again gives the same row. */
    REQUIRE(xuan_ctx_seq_rm(c, 1, 8, -1, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), 7);
    int32_t one = tail[1][2], pos = 8, sq = 1;
    xuan_batch b1 = {.n_tokens = 1, .token = &one, .pos = &pos, .seq_id = &sq};
    REQUIRE(xuan_ctx_decode(c, &b1, &err) == 0);
    REQUIRE(xuan_ctx_logits_ith(c, 0));
    CHECK(max_diff(xuan_ctx_logits_ith(c, 0), ref[1], nv) == 0.0);
    /* seq_keep drops the others. */
    REQUIRE(xuan_ctx_seq_cp(c, 1, 0, 0, 3, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), 2);
    REQUIRE(xuan_ctx_seq_keep(c, 1, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), -1);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), 9);

    xuan_ctx_free(c);
    free(ref[0]);
    free(ref[1]);
    xuan_model_free(m);
}

/* A sequence cancelled before the batch runs contributes nothing, and the
 * others are computed exactly as without it. */
static void test_cancel_one_sequence(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    float *ref0 = alone_rows(m, 0, XUAN_TYPE_Q8_0, false), *ref2 = alone_rows(m, 2, XUAN_TYPE_Q8_0, false);
    xuan_ctx *c = new_ctx(m, 64, N_SEQ, 4, XUAN_TYPE_Q8_0);
    xuan_ctx_seq_cancel(c, 1);
    CHECK(xuan_ctx_seq_cancelled(c, 1));
    decode_interleaved(c, nv);
    for (int i = 0; i < PROMPT; i++) {
        CHECK(xuan_ctx_logits_ith(c, i * N_SEQ + 1) == NULL);
        const float *l0 = xuan_ctx_logits_ith(c, i * N_SEQ), *l2 = xuan_ctx_logits_ith(c, i * N_SEQ + 2);
        REQUIRE(l0 && l2);
        CHECK(max_diff(l0, ref0 + (size_t)i * nv, nv) == 0.0);
        CHECK(max_diff(l2, ref2 + (size_t)i * nv, nv) == 0.0);
    }
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), -1);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), 2 * PROMPT);
    /* The request stands until seq_rm clears it; then the sequence runs again. */
    xuan_error err = {0};
    REQUIRE(xuan_ctx_seq_rm(c, 1, -1, -1, &err) == 0);
    CHECK(!xuan_ctx_seq_cancelled(c, 1));
    int32_t t = prompt_tok(1, 0, nv), sq = 1;
    xuan_batch b = {.n_tokens = 1, .token = &t, .seq_id = &sq};
    REQUIRE(xuan_ctx_decode(c, &b, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), 0);
    xuan_ctx_free(c);
    free(ref0);
    free(ref2);
    xuan_model_free(m);
}

typedef struct {
    xuan_ctx *c;
    volatile int go;
} canceller;

static void *cancel_later(void *arg) {
    canceller *k = arg;
    while (!k->go) usleep(50);
    xuan_ctx_seq_cancel(k->c, 1);
    return NULL;
}

/* Cancelled from another thread while the batch runs (or just after it):
 * wherever the request lands, sequence 1 holds all of this call's tokens or
 * none of them, never a part, and the other rows are exact. */
static void test_cancel_while_running(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    float *ref0 = alone_rows(m, 0, XUAN_TYPE_Q8_0, false);
    xuan_ctx *c = new_ctx(m, 64, N_SEQ, 2, XUAN_TYPE_Q8_0);
    canceller k = {.c = c};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, cancel_later, &k) == 0);
    k.go = 1;
    decode_interleaved(c, nv);
    pthread_join(th, NULL);
    CHECK(xuan_ctx_seq_cancelled(c, 1));
    int32_t p1 = xuan_ctx_seq_pos_max(c, 1);
    if (p1 != -1 && p1 != PROMPT - 1) test_fail(__FILE__, __LINE__, "sequence 1 kept a part: up to %d", p1);
    CHECK((p1 == -1) == (xuan_ctx_logits_ith(c, 1) == NULL));
    for (int i = 0; i < PROMPT; i++) {
        const float *l0 = xuan_ctx_logits_ith(c, i * N_SEQ);
        REQUIRE(l0);
        CHECK(max_diff(l0, ref0 + (size_t)i * nv, nv) == 0.0);
    }
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), PROMPT - 1);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 2), PROMPT - 1);
    xuan_ctx_free(c);
    free(ref0);
    xuan_model_free(m);
}

static void expect_refused(xuan_ctx *c, const xuan_batch *b, int status, const char *needle) {
    xuan_error err = {0};
    uint32_t used = xuan_ctx_cells_used(c);
    int rc = xuan_ctx_decode(c, b, &err);
    CHECK_EQ_INT(rc, status);
    if (!strstr(err.msg, needle)) test_fail(__FILE__, __LINE__, "message '%s' lacks '%s'", err.msg, needle);
    CHECK_EQ_INT(xuan_ctx_cells_used(c), used); /* nothing was evaluated */
}

static void test_malformed_batches_refused(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    uint32_t nv = xuan_model_hparams(m)->n_vocab;
    xuan_ctx *c = new_ctx(m, 8, 2, 512, XUAN_TYPE_Q8_0);
    int32_t tok[4] = {1, 2, 3, 4}, pos[4] = {0, 1, 3, 4}, seq[4] = {0, 0, 0, 0};
    xuan_batch gap = {.n_tokens = 3, .token = tok, .pos = pos, .seq_id = seq};
    expect_refused(c, &gap, XUAN_ERR_USAGE, "batch token 2");

    int32_t bad_seq[2] = {0, 2};
    xuan_batch unknown = {.n_tokens = 2, .token = tok, .seq_id = bad_seq};
    expect_refused(c, &unknown, XUAN_ERR_USAGE, "batch token 1");

    int32_t bad_tok[2] = {1, (int32_t)nv};
    xuan_batch vocab = {.n_tokens = 2, .token = bad_tok};
    expect_refused(c, &vocab, XUAN_ERR_USAGE, "batch token 1");

    int32_t rep_pos[2] = {0, 0};
    xuan_batch repeat = {.n_tokens = 2, .token = tok, .pos = rep_pos};
    expect_refused(c, &repeat, XUAN_ERR_USAGE, "batch token 1");

    /* 8 cells: 4 + 4 fit, one more does not. */
    xuan_error err = {0};
    int32_t s1[4] = {1, 1, 1, 1};
    xuan_batch a = {.n_tokens = 4, .token = tok}, b = {.n_tokens = 4, .token = tok, .seq_id = s1};
    REQUIRE(xuan_ctx_decode(c, &a, &err) == 0);
    REQUIRE(xuan_ctx_decode(c, &b, &err) == 0);
    xuan_batch one = {.n_tokens = 1, .token = tok};
    expect_refused(c, &one, XUAN_ERR_FULL, "");
    CHECK_EQ_INT(xuan_ctx_eval(c, tok, 1, &err), XUAN_ERR_FULL);
    /* Freeing a sequence makes room again. */
    REQUIRE(xuan_ctx_seq_rm(c, 1, -1, -1, &err) == 0);
    REQUIRE(xuan_ctx_decode(c, &one, &err) == 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), 4);
    CHECK(xuan_ctx_seq_rm(c, 5, -1, -1, &err) == XUAN_ERR_USAGE);
    xuan_ctx_free(c);
    xuan_model_free(m);
}


/* One decode in both contexts; every wanted row's logits bit for bit. */
static void decode_both(xuan_ctx *const c[2], const int32_t *tok, const int32_t *seq, const int8_t *want,
                        int32_t n, uint32_t nv, const char *what) {
    xuan_batch b = {.n_tokens = n, .token = tok, .seq_id = seq, .logits = want};
    xuan_error err = {0};
    for (int k = 0; k < 2; k++)
        if (xuan_ctx_decode(c[k], &b, &err) != 0) test_fail(__FILE__, __LINE__, "%s: %s", what, err.msg);
    int rows = 0, same = 0;
    double worst = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!want[i]) continue;
        const float *a = xuan_ctx_logits_ith(c[0], i), *r = xuan_ctx_logits_ith(c[1], i);
        REQUIRE(a && r);
        rows++;
        same += memcmp(a, r, nv * sizeof *a) == 0;
        worst = fmax(worst, max_diff(a, r, nv));
    }
    if (same != rows)
        test_fail(__FILE__, __LINE__, "%s: %d of %d rows differ (max %g)", what, rows - same, rows, worst);
}

/* A batch's attention tiled over the cache (AVX-512, F16 cache) gives
 * attn_one's bits: sequences of different lengths across pieces of 32 rows
 * and 64-position chunks, a hole in a sequence, one-row tiles of a decode
 * step, sliding windows and softcapping (gemma2), head sizes 16 to 256, MLA
 * (deepseek2: one KV head for all, K and V of different sizes). */
static void test_tiled_attention_same_bits(void) {
    if (xuan_cpu_get()->simd < XUAN_SIMD_AVX512) {
        printf("  (no AVX-512 here: nothing is tiled)\n");
        return;
    }
    static const char *const presets[] = {"tiny", "tiny256", "gemma2-tiny", "gemma3-tiny256", "qwen3moe-tiny256",
                                          "deepseek2-tiny256", "gptoss-tiny256", "gemma4-tiny256"};
    for (size_t ip = 0; ip < sizeof presets / sizeof presets[0]; ip++) {
        xuan_synth_params p;
        REQUIRE(xuan_synth_preset(presets[ip], &p) == 0);
        if (p.n_layers > 3 && !p.n_kv_shared) p.n_layers = 3; /* gemma4 keeps its shared-KV layers */
        char name[80];
        snprintf(name, sizeof name, "tiled_%s.gguf", presets[ip]);
        const char *path = test_path(name);
        xuan_error err = {0};
        REQUIRE(xuan_synth_write(&p, path, &err) == 0);
        xuan_model *m = xuan_model_load(path, &err);
        REQUIRE(m);
        const uint32_t nv = xuan_model_hparams(m)->n_vocab;
        xuan_ctx *c[2] = {new_ctx(m, 256, 3, 32, XUAN_TYPE_F16), new_ctx(m, 256, 3, 32, XUAN_TYPE_F16)};
        xuan_ctx_set_attn_tiled(c[1], false);

        enum { MAXN = 160 };
        int32_t tok[MAXN], seq[MAXN];
        int8_t want[MAXN];
        int32_t n = 0;
        const int32_t len[3] = {100, 45, 7}; /* runs of one sequence each */
        for (int s = 0; s < 3; s++)
            for (int32_t i = 0; i < len[s]; i++, n++) {
                tok[n] = prompt_tok(s, i, nv);
                seq[n] = s;
                want[n] = i % 5 == 4 || i == len[s] - 1;
            }
        decode_both(c, tok, seq, want, n, nv, presets[ip]);
        for (int k = 0; k < 2; k++) REQUIRE(xuan_ctx_seq_rm(c[k], 0, 20, 23, &err) == 0); /* a hole */
        for (int s = 0; s < 3; s++) { /* a decode step: one row per tile */
            tok[s] = prompt_tok(s, 200, nv);
            seq[s] = s;
            want[s] = 1;
        }
        decode_both(c, tok, seq, want, 3, nv, presets[ip]);
        n = 0;
        for (int32_t i = 0; i < 42; i++, n++) { /* two sequences interleaved at depth */
            tok[n] = prompt_tok(i % 3 ? 0 : 2, 300 + i, nv);
            seq[n] = i % 3 ? 0 : 2;
            want[n] = 1;
        }
        decode_both(c, tok, seq, want, n, nv, presets[ip]);
        xuan_ctx_free(c[0]);
        xuan_ctx_free(c[1]);
        xuan_model_free(m);
    }
}

/* Sliding-window layers keep their window only (a ring of cells apart from
 * the main cache): the same bits as keeping every position (swa_full), a
 * smaller cache, a short truncation resumes, a long one is refused by name
 * until the sequence starts over. */
static void test_swa_ring_same_bits(void) {
    static const char *const presets[] = {"gemma3-tiny", "gemma2-tiny", "gemma4-tiny"};
    for (size_t ip = 0; ip < sizeof presets / sizeof presets[0]; ip++) {
        xuan_synth_params sp;
        REQUIRE(xuan_synth_preset(presets[ip], &sp) == 0); /* window 8: the ring keeps 8 + 2 positions */
        char name[80];
        snprintf(name, sizeof name, "ring_%s.gguf", presets[ip]);
        const char *path = test_path(name);
        xuan_error err = {0};
        REQUIRE(xuan_synth_write(&sp, path, &err) == 0);
        xuan_model *m = xuan_model_load(path, &err);
        REQUIRE(m);
        const uint32_t nv = xuan_model_hparams(m)->n_vocab;
        xuan_ctx *c[2];
        for (int k = 0; k < 2; k++) {
            xuan_ctx_params cp = xuan_ctx_params_default();
            cp.n_ctx = 128;
            cp.n_seq_max = 2;
            cp.n_batch = 8;
            cp.n_threads = 2;
            cp.swa_full = k == 1;
            c[k] = xuan_ctx_new(m, &cp, &err);
            REQUIRE(c[k]);
        }
        CHECK(xuan_ctx_cache_bytes(c[0]) < xuan_ctx_cache_bytes(c[1]));
        printf("  %s: cache %llu bytes with the ring, %llu with every position\n", presets[ip],
               (unsigned long long)xuan_ctx_cache_bytes(c[0]), (unsigned long long)xuan_ctx_cache_bytes(c[1]));

        enum { MAXN = 100 };
        int32_t tok[MAXN], seq[MAXN];
        int8_t want[MAXN];
        int32_t n = 0;
        for (int32_t i = 0; i < 60; i++, n++) { /* two sequences, many pieces of 8 */
            tok[n] = prompt_tok(i % 2, i, nv);
            seq[n] = i % 2;
            want[n] = 1;
        }
        decode_both(c, tok, seq, want, n, nv, presets[ip]);
        for (int32_t i = 0; i < 5; i++) { /* decode steps */
            int32_t t2[2] = {prompt_tok(0, 100 + i, nv), prompt_tok(1, 100 + i, nv)}, s2[2] = {0, 1};
            int8_t w2[2] = {1, 1};
            decode_both(c, t2, s2, w2, 2, nv, presets[ip]);
        }
        /* a truncation of 2 (the slack) resumes, with the same bits */
        const int32_t pm = xuan_ctx_seq_pos_max(c[0], 0);
        CHECK(xuan_ctx_seq_resumable(c[0], 0, pm - 1));
        for (int k = 0; k < 2; k++) REQUIRE(xuan_ctx_seq_rm(c[k], 0, pm - 1, -1, &err) == 0);
        int32_t t1 = prompt_tok(0, 7, nv), s1 = 0;
        int8_t w1 = 1;
        decode_both(c, &t1, &s1, &w1, 1, nv, presets[ip]);
        /* further back: refused in the ring, by name; fine with every position */
        const int32_t back = xuan_ctx_seq_pos_max(c[0], 0) - 10;
        CHECK(!xuan_ctx_seq_resumable(c[0], 0, back));
        CHECK(xuan_ctx_seq_resumable(c[1], 0, back));
        for (int k = 0; k < 2; k++) REQUIRE(xuan_ctx_seq_rm(c[k], 0, back, -1, &err) == 0);
        xuan_batch b1 = {.n_tokens = 1, .token = &t1, .seq_id = &s1, .logits = &w1};
        CHECK_EQ_INT(xuan_ctx_decode(c[0], &b1, &err), XUAN_ERR_USAGE);
        CHECK(strstr(err.msg, "sliding window") != NULL && strstr(err.msg, "sequence 0") != NULL);
        /* sequence 1 is untouched by it; sequence 0 starts over */
        int32_t t3 = prompt_tok(1, 300, nv), s3 = 1;
        decode_both(c, &t3, &s3, &w1, 1, nv, presets[ip]);
        for (int k = 0; k < 2; k++) REQUIRE(xuan_ctx_seq_rm(c[k], 0, -1, -1, &err) == 0);
        CHECK(xuan_ctx_seq_resumable(c[0], 0, 0));
        n = 0;
        for (int32_t i = 0; i < 20; i++, n++) {
            tok[n] = prompt_tok(3, i, nv);
            seq[n] = 0;
            want[n] = 1;
        }
        decode_both(c, tok, seq, want, n, nv, presets[ip]);
        xuan_ctx_free(c[0]);
        xuan_ctx_free(c[1]);
        xuan_model_free(m);
    }
}

int main(void) {
    RUN(test_tiled_attention_same_bits);
    RUN(test_swa_ring_same_bits);
    RUN(test_q8_together_equals_alone);
    RUN(test_quant_caches_together_equal_alone);
    RUN(test_gemma3_window_together_equals_alone);
    RUN(test_moe_together_equals_alone);
    RUN(test_mla_together_equals_alone);
    RUN(test_gptoss_together_equals_alone);
    RUN(test_gemma4_together_equals_alone);
    RUN(test_f16_together_close_to_alone);
    RUN(test_prefix_shared_by_copy);
    RUN(test_cancel_one_sequence);
    RUN(test_cancel_while_running);
    RUN(test_malformed_batches_refused);
    return test_done();
}
