/*
 * test_qwen35.c — Qwen3.5's hybrid layers (src/model/qwen35.c): the gated
 * delta rule against its definition and its AVX-512 kernel against the
 * scalar one; a long prompt evaluated in one batch, in pieces of 64 and
 * token by token; the recurrent state behind the sequence operations; and
 * the loader's refusals of files whose state sizes or layer pattern
 * contradict each other or the tensors.  qwen35moe (the same layers with a
 * MoE FFN and a gated shared expert) takes the batch test and refusals of
 * its expert keys and shared-expert tensors.
 *
 * Parity with llama.cpp is tests/cli_parity.sh (qwen35, qwen35moe cases).
 */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "model/internal.h"
#include "xuan/gen.h"
#include "xuan/gguf.h"
#include "xuan/model.h"

/* The preset the helpers below use: qwen35-tiny, or qwen35moe-tiny. */
static bool use_moe;

/* qwen35-tiny (3 DeltaNet layers, then gated attention) or qwen35moe-tiny
 * (the same with a MoE FFN) with the built-in byte vocabulary, in `type`. */
static const char *model_path(uint32_t type) {
    static char paths[2][2][512];
    char *path = paths[use_moe][type == XUAN_TYPE_Q8_0];
    if (path[0]) return path;
    xuan_synth_params p;
    REQUIRE(xuan_synth_preset(use_moe ? "qwen35moe-tiny" : "qwen35-tiny", &p) == 0);
    p.type = p.embd_type = p.output_type = type;
    char name[64];
    snprintf(name, sizeof name, "qwen35%s_%s.gguf", use_moe ? "moe" : "", xuan_type_name(type));
    snprintf(path, 512, "%s", test_path(name));
    xuan_error err = {0};
    if (xuan_synth_write(&p, path, &err) != 0) {
        test_fail(__FILE__, __LINE__, "synth: %s", err.msg);
        path[0] = 0;
        longjmp(test_abort_jmp, 1);
    }
    return path;
}

static xuan_model *load(uint32_t type) {
    xuan_error err = {0};
    xuan_model *m = xuan_model_load(model_path(type), &err);
    if (!m) test_fail(__FILE__, __LINE__, "load: %s", err.msg);
    REQUIRE(m);
    return m;
}

static xuan_ctx *new_ctx(const xuan_model *m, uint32_t n_ctx, uint32_t n_seq, uint32_t n_batch) {
    xuan_ctx_params cp = xuan_ctx_params_default();
    cp.n_ctx = n_ctx;
    cp.n_seq_max = n_seq;
    cp.n_batch = n_batch;
    cp.n_threads = 2;
    xuan_error err = {0};
    xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
    if (!c) test_fail(__FILE__, __LINE__, "ctx: %s", err.msg);
    REQUIRE(c);
    return c;
}

static int32_t tok_at(int i, uint32_t n_vocab) { return (int32_t)((i * 7919u + 13u) % n_vocab); }

static double max_diff(const float *a, const float *b, uint32_t n) {
    double d = 0;
    for (uint32_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

/* ---- the delta rule ---------------------------------------------------- */

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
}

/* S (key x value, S[i][j] = M[j][i]) -> S exp(g) + k (beta (v - S^T k))^T
 * and out = S^T q / sqrt(n), in double: the definition the kernels must
 * compute (to rounding). */
static void rule_reference(double *S, const float *k, const float *q, const float *v, float beta, float g,
                           uint32_t n, double *out) {
    const double eg = exp((double)g);
    for (uint32_t i = 0; i < n * n; i++) S[i] *= eg;
    for (uint32_t j = 0; j < n; j++) {
        double sk = 0;
        for (uint32_t i = 0; i < n; i++) sk += S[i * n + j] * k[i];
        const double d = ((double)v[j] - sk) * beta;
        for (uint32_t i = 0; i < n; i++) S[i * n + j] += k[i] * d;
    }
    for (uint32_t j = 0; j < n; j++) {
        double o = 0;
        for (uint32_t i = 0; i < n; i++) o += S[i * n + j] * q[i];
        out[j] = o / sqrt((double)n);
    }
}

static void test_delta_rule(void) {
    const uint32_t sizes[] = {64, 128, 40};
    for (size_t si = 0; si < 3; si++) {
        const uint32_t n = sizes[si];
        float *M = calloc((size_t)n * n, sizeof *M), *M2 = calloc((size_t)n * n, sizeof *M2);
        float *M8 = calloc((size_t)n * n, sizeof *M8), out8[128]; /* the AVX2 build's dot order */
        double *S = calloc((size_t)n * n, sizeof *S), *ref = calloc(n, sizeof *ref);
        float k[128], q[128], v[128], out[128], out2[128];
        REQUIRE(M && M2 && M8 && S && ref);
        uint64_t seed = 42 + n;
        double worst = 0;
        bool same = true;
        for (int step = 0; step < 20; step++) {
            double kk = 0, qq = 0;
            for (uint32_t i = 0; i < n; i++) {
                k[i] = frand(&seed), q[i] = frand(&seed), v[i] = 2 * frand(&seed);
                kk += (double)k[i] * k[i], qq += (double)q[i] * q[i];
            }
            for (uint32_t i = 0; i < n; i++) k[i] /= (float)sqrt(kk), q[i] /= (float)sqrt(qq); /* L2-normed */
            const float beta = 0.5f + frand(&seed), g = -0.5f + frand(&seed);
            xuan_gdn_step(M, k, q, v, beta, g, 1.0f / sqrtf((float)n), n, out, 16);
            rule_reference(S, k, q, v, beta, g, n, ref);
            for (uint32_t j = 0; j < n; j++) worst = fmax(worst, fabs(out[j] - ref[j]));
            xuan_gdn_step(M8, k, q, v, beta, g, 1.0f / sqrtf((float)n), n, out8, 8);
            for (uint32_t j = 0; j < n; j++) worst = fmax(worst, fabs(out8[j] - ref[j]));
            if (n % 64 == 0 && xuan_cpu_get()->simd >= XUAN_SIMD_AVX512) {
                xuan_gdn_step_avx512(M2, k, q, v, beta, g, 1.0f / sqrtf((float)n), n, out2);
                same = same && memcmp(out, out2, n * sizeof *out) == 0 && memcmp(M, M2, (size_t)n * n * sizeof *M) == 0;
            }
        }
        if (worst > 1e-5) test_fail(__FILE__, __LINE__, "state size %u: %g from the definition", n, worst);
        CHECK(same);
        free(M), free(M2), free(M8), free(S), free(ref);
    }
}

/* ---- one batch, pieces of 64, token by token ------------------------------ */

enum { LONG = 2000, N_CHECK = 4 };
static const int32_t check_at[N_CHECK] = {63, 700, 1500, LONG - 1};

/* Evaluates the long prompt in batches of `step` tokens (logits at
 * check_at) into out (N_CHECK x n_vocab). */
static void run_long(const xuan_model *m, uint32_t n_batch, int32_t step, float *out) {
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    xuan_ctx *c = new_ctx(m, 2048, 1, n_batch);
    int32_t *tok = malloc(LONG * sizeof *tok);
    int8_t *want = calloc(LONG, 1);
    REQUIRE(tok && want);
    for (int i = 0; i < LONG; i++) tok[i] = tok_at(i, nv);
    for (int k = 0; k < N_CHECK; k++) want[check_at[k]] = 1;
    xuan_error err = {0};
    for (int32_t i0 = 0; i0 < LONG; i0 += step) {
        const int32_t n = LONG - i0 < step ? LONG - i0 : step;
        xuan_batch b = {.n_tokens = n, .token = tok + i0, .logits = want + i0};
        REQUIRE(xuan_ctx_decode(c, &b, &err) == 0);
        for (int k = 0; k < N_CHECK; k++)
            if (check_at[k] >= i0 && check_at[k] < i0 + n) {
                const float *lg = xuan_ctx_logits_ith(c, check_at[k] - i0);
                REQUIRE(lg != NULL);
                memcpy(out + (size_t)k * nv, lg, nv * sizeof *lg);
            }
    }
    free(tok), free(want);
    xuan_ctx_free(c);
}

static void long_prompt_batch_chunks_tokens(void) {
    const uint32_t types[] = {XUAN_TYPE_F16, XUAN_TYPE_Q8_0};
    for (int ti = 0; ti < 2; ti++) {
        xuan_model *m = load(types[ti]);
        const uint32_t nv = xuan_model_hparams(m)->n_vocab;
        float *one = malloc((size_t)N_CHECK * nv * sizeof(float)), *chunks = malloc((size_t)N_CHECK * nv * sizeof(float));
        float *toks = malloc((size_t)N_CHECK * nv * sizeof(float));
        REQUIRE(one && chunks && toks);
        run_long(m, 2048, LONG, one);   /* one batch (one piece) */
        run_long(m, 2048, 64, chunks);  /* batches of 64 */
        run_long(m, 2048, 1, toks);     /* token by token */
        double d_chunks = 0, d_toks = 0, spread = 0;
        for (int k = 0; k < N_CHECK; k++) {
            d_chunks = fmax(d_chunks, max_diff(one + (size_t)k * nv, chunks + (size_t)k * nv, nv));
            d_toks = fmax(d_toks, max_diff(one + (size_t)k * nv, toks + (size_t)k * nv, nv));
            if (k) spread = fmax(spread, max_diff(one, one + (size_t)k * nv, nv)); /* the rows differ */
        }
        /* Q8_0's products have one arithmetic at every batch size, so the
         * three must be within 1e-4 (they are equal).  F16's are summed in
         * another order for one token than for 2+ (ggml_vec_dot_f16 against
         * tinyBLAS, as in llama.cpp), and token by token every product of
         * 2000 steps takes the other order: bounded, not equal. */
        const double tok_bound = types[ti] == XUAN_TYPE_Q8_0 ? 1e-4 : 2e-2;
        if (d_chunks > 1e-4 || d_toks > tok_bound)
            test_fail(__FILE__, __LINE__, "%s: chunks of 64 %g, token by token %g from one batch",
                      xuan_type_name(types[ti]), d_chunks, d_toks);
        CHECK(spread > 0.1);
        printf("    %s %s, %d tokens: max |d logit| chunks of 64 %.2e, token by token %.2e\n",
               use_moe ? "qwen35moe" : "qwen35", xuan_type_name(types[ti]), LONG, d_chunks, d_toks);
        /* n_batch 64 splits the one batch itself: Q8_0's products do not
         * depend on the batch size, so those pieces give its bits */
        run_long(m, 64, LONG, toks);
        if (types[ti] == XUAN_TYPE_Q8_0) {
            CHECK(memcmp(toks, chunks, (size_t)N_CHECK * nv * sizeof(float)) == 0);
        }
        free(one), free(chunks), free(toks);
        xuan_model_free(m);
    }
}

static void test_long_prompt_batch_chunks_tokens(void) {
    use_moe = false;
    long_prompt_batch_chunks_tokens();
    /* the experts' products take each row in the one-token order at every
     * batch size (mul_mat_id), the shared expert's gate too (a 1-row F32
     * product); the shared expert's own products are 2-D as the others */
    use_moe = true;
    long_prompt_batch_chunks_tokens();
    use_moe = false;
}

/* ---- the state behind the sequence operations ------------------------------ */

static void decode_seq(xuan_ctx *c, const int32_t *tok, int32_t n, int32_t seq) {
    int32_t *sq = malloc((size_t)n * sizeof *sq);
    REQUIRE(sq);
    for (int32_t i = 0; i < n; i++) sq[i] = seq;
    xuan_batch b = {.n_tokens = n, .token = tok, .seq_id = sq};
    xuan_error err = {0};
    if (xuan_ctx_decode(c, &b, &err) != 0) test_fail(__FILE__, __LINE__, "decode: %s", err.msg);
    free(sq);
}

static void test_sequence_state(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0); /* Q8_0: exact at any batch composition */
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    int32_t a[40], tail[5];
    for (int i = 0; i < 40; i++) a[i] = tok_at(i, nv);
    for (int i = 0; i < 5; i++) tail[i] = tok_at(100 + i, nv);
    /* reference: a then tail alone */
    xuan_ctx *r = new_ctx(m, 128, 1, 64);
    decode_seq(r, a, 40, 0);
    decode_seq(r, tail, 5, 0);
    float *ref = malloc(nv * sizeof *ref);
    REQUIRE(ref);
    memcpy(ref, xuan_ctx_logits(r), nv * sizeof *ref);
    xuan_ctx_free(r);

    xuan_ctx *c = new_ctx(m, 256, 3, 64);
    xuan_error err = {0};
    /* memory: K and V of the one attention layer (2 KV heads of 32, F16)
     * per cell, and per sequence the 3 DeltaNet layers' state (4 value
     * heads of 64 x 64, conv 3 x 512 channels), F32, and its checkpoints */
    CHECK_EQ_INT(xuan_ctx_cache_bytes(c),
                 256ull * 2 * 32 * 2 * 2 + 3ull * (1 + XUAN_REC_CKPT) * 3 * (4 * 64 * 64 + 3 * 512) * 4);
    decode_seq(c, a, 40, 0);
    /* a copy of the whole sequence carries its state */
    CHECK_EQ_INT(xuan_ctx_seq_cp(c, 0, 1, 0, -1, &err), 0);
    /* a part of it cannot be copied, nor its tail removed */
    CHECK_EQ_INT(xuan_ctx_seq_cp(c, 0, 2, 0, 20, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "recurrent") != NULL);
    CHECK_EQ_INT(xuan_ctx_seq_rm(c, 1, 20, -1, &err), XUAN_ERR_USAGE);
    CHECK(strstr(err.msg, "from 20") != NULL);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), 39); /* the refusal changed nothing */
    CHECK(!xuan_ctx_seq_resumable(c, 1, 20));
    CHECK(xuan_ctx_seq_resumable(c, 1, 40));
    CHECK(xuan_ctx_seq_resumable(c, 1, 0));
    /* both continue as the sequence alone does, one of them interleaved with a third */
    decode_seq(c, tail, 5, 1);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    decode_seq(c, a, 7, 2);
    decode_seq(c, tail, 5, 0);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    /* dropped whole and evaluated again: as fresh */
    CHECK_EQ_INT(xuan_ctx_seq_rm(c, 0, -1, -1, &err), 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 0), -1);
    decode_seq(c, a, 40, 0);
    decode_seq(c, tail, 5, 0);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    /* a truncation inside a recurrent sequence drops all of it */
    xuan_ctx_free(c);
    c = new_ctx(m, 128, 1, 64);
    CHECK_EQ_INT(xuan_ctx_eval(c, a, 40, &err), 0);
    xuan_ctx_truncate(c, 40); /* nothing to drop: stays */
    CHECK_EQ_INT(xuan_ctx_n_past(c), 40);
    xuan_ctx_truncate(c, 10);
    CHECK_EQ_INT(xuan_ctx_n_past(c), 0);
    CHECK_EQ_INT(xuan_ctx_eval(c, a, 40, &err), 0);
    CHECK_EQ_INT(xuan_ctx_eval(c, tail, 5, &err), 0);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    xuan_ctx_free(c);
    free(ref);
    xuan_model_free(m);
}

/* Checkpoints: where a prompt ended, a sequence can go back to; resuming
 * there gives the bits of evaluating it all again. */
static void test_checkpoints(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    int32_t a[40], tail[5], next[3];
    for (int i = 0; i < 40; i++) a[i] = tok_at(i, nv);
    for (int i = 0; i < 5; i++) tail[i] = tok_at(200 + i, nv);
    for (int i = 0; i < 3; i++) next[i] = tok_at(300 + i, nv);
    xuan_error err = {0};
    xuan_ctx *r = new_ctx(m, 128, 1, 64); /* reference: a, then next, from scratch */
    CHECK_EQ_INT(xuan_ctx_eval(r, a, 40, &err), 0);
    CHECK_EQ_INT(xuan_ctx_eval(r, next, 3, &err), 0);
    float *ref = malloc(nv * sizeof *ref);
    REQUIRE(ref);
    memcpy(ref, xuan_ctx_logits(r), nv * sizeof *ref);
    xuan_ctx_free(r);

    xuan_ctx *c = new_ctx(m, 128, 2, 64);
    CHECK_EQ_INT(xuan_ctx_eval(c, a, 40, &err), 0); /* a prompt: a checkpoint at 40 */
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(xuan_ctx_eval(c, &tail[i], 1, &err), 0); /* decoding: none */
    CHECK(xuan_ctx_seq_resumable(c, 0, 40));
    CHECK(!xuan_ctx_seq_resumable(c, 0, 42));
    CHECK_EQ_INT(xuan_ctx_seq_resume_at(c, 0, 43), 40);
    CHECK_EQ_INT(xuan_ctx_seq_resume_at(c, 0, 30), 0);
    CHECK_EQ_INT(xuan_ctx_seq_resume_at(c, 0, 45), 45); /* the end itself */
    CHECK_EQ_INT(xuan_ctx_seq_rm(c, 0, 42, -1, &err), XUAN_ERR_USAGE);
    /* seq 1 takes seq 0's prefix up to the checkpoint, not to 30 */
    CHECK_EQ_INT(xuan_ctx_seq_cp(c, 0, 1, 0, 30, &err), XUAN_ERR_USAGE);
    CHECK_EQ_INT(xuan_ctx_seq_cp(c, 0, 1, 0, 40, &err), 0);
    CHECK_EQ_INT(xuan_ctx_seq_pos_max(c, 1), 39);
    decode_seq(c, next, 3, 1);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    /* seq 0 goes back to it (the tail's cells go) and continues */
    xuan_ctx_truncate(c, 40);
    CHECK_EQ_INT(xuan_ctx_n_past(c), 40);
    CHECK_EQ_INT(xuan_ctx_eval(c, next, 3, &err), 0);
    CHECK(memcmp(xuan_ctx_logits(c), ref, nv * sizeof *ref) == 0);
    /* a hole before a checkpoint voids it */
    CHECK(xuan_ctx_seq_resumable(c, 0, 40));
    CHECK_EQ_INT(xuan_ctx_seq_rm(c, 0, 5, 10, &err), 0);
    CHECK(!xuan_ctx_seq_resumable(c, 0, 40));
    CHECK_EQ_INT(xuan_ctx_seq_resume_at(c, 0, 41), 0);
    xuan_ctx_free(c);
    free(ref);
    xuan_model_free(m);
}

/* A chat's next turn through xuan_generate: the first turn's prompt is not
 * evaluated again (its checkpoint), and the reply is the one a fresh
 * context gives. */
static uint32_t turn(xuan_ctx *c, const int32_t *prompt, size_t n, int32_t *out, uint32_t *n_eval) {
    xuan_sampler_params sp = xuan_sampler_params_default();
    sp.temperature = 0;
    sp.repeat_penalty = 1;
    xuan_error err = {0};
    xuan_sampler *smp = xuan_sampler_create((int32_t)xuan_model_hparams(xuan_ctx_model(c))->n_vocab, &sp, &err);
    REQUIRE(smp);
    xuan_gen_params gp = xuan_gen_params_default();
    gp.n_predict = 8;
    gp.out_ids = out;
    gp.out_ids_cap = 8;
    xuan_gen_stats st = {0};
    if (xuan_generate(c, NULL, smp, NULL, prompt, n, &gp, &st, &err) != 0)
        test_fail(__FILE__, __LINE__, "generate: %s", err.msg);
    xuan_sampler_free(smp);
    *n_eval = st.n_prompt_eval;
    return st.n_gen;
}

static void test_next_turn_resumes(void) {
    xuan_model *m = load(XUAN_TYPE_Q8_0);
    const uint32_t nv = xuan_model_hparams(m)->n_vocab;
    int32_t p2[30 + 8 + 5], out1[8], out2[8], fresh[8];
    for (int i = 0; i < 30; i++) p2[i] = tok_at(i, nv);
    xuan_ctx *c = new_ctx(m, 128, 1, 64);
    uint32_t n_eval = 0;
    REQUIRE(turn(c, p2, 30, out1, &n_eval) == 8);
    CHECK_EQ_INT(n_eval, 30);
    memcpy(p2 + 30, out1, sizeof out1);
    for (int i = 0; i < 5; i++) p2[38 + i] = tok_at(400 + i, nv);
    REQUIRE(turn(c, p2, 43, out2, &n_eval) == 8);
    CHECK_EQ_INT(n_eval, 6); /* from the live end: the reply's last token was never evaluated */
    xuan_ctx *f = new_ctx(m, 128, 1, 64);
    REQUIRE(turn(f, p2, 43, fresh, &n_eval) == 8);
    CHECK_EQ_INT(n_eval, 43);
    CHECK(memcmp(out2, fresh, sizeof fresh) == 0);
    /* a third turn that re-renders the second prompt's tail differently:
     * back to the second prompt's checkpoint (43), not to 0 */
    int32_t p3[43 + 4];
    memcpy(p3, p2, sizeof p2);
    for (int i = 0; i < 4; i++) p3[43 + i] = tok_at(500 + i, nv);
    REQUIRE(turn(c, p3, 47, out2, &n_eval) == 8);
    CHECK_EQ_INT(n_eval, 4);
    p3[44] = tok_at(600, nv); /* now the live end (50) and the checkpoint at 47 are past the prefix */
    REQUIRE(turn(c, p3, 47, out2, &n_eval) == 8);
    CHECK_EQ_INT(n_eval, 47 - 43);
    xuan_ctx_free(f);
    f = new_ctx(m, 128, 1, 64);
    REQUIRE(turn(f, p3, 47, fresh, &n_eval) == 8);
    CHECK(memcmp(out2, fresh, sizeof fresh) == 0);
    xuan_ctx_free(f);
    xuan_ctx_free(c);
    xuan_model_free(m);
}

/* ---- refusals ---------------------------------------------------------------- */

/* With edit_tensor set, load_edited also writes that tensor as
 * [ne0 / 2, 2 ne1] (same bytes, wrong shape), or drops it with edit_drop. */
static const char *edit_tensor;
static bool edit_drop;

/* Copies the F16 tiny file with key `key` set to u32 `value` (value < 0:
 * removed), or, with pattern != NULL, attention.recurrent_layers set to
 * those n flags; returns the load error. */
static const char *load_edited(const char *key, int64_t value, const bool *pattern, uint32_t n) {
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(model_path(XUAN_TYPE_F16), &err);
    REQUIRE(g != NULL);
    xuan_gguf_writer *w = xuan_gguf_writer_new();
    REQUIRE(w != NULL);
    int rc = 0;
    for (uint64_t i = 0; i < xuan_gguf_n_kv(g) && !rc; i++) {
        const xuan_gguf_kv *kv = xuan_gguf_kv_at(g, i);
        char k[256];
        snprintf(k, sizeof k, "%.*s", (int)kv->key.n, kv->key.p);
        if (key && strcmp(k, key) == 0) {
            if (value >= 0) rc = xuan_gguf_writer_set_u32(w, k, (uint32_t)value);
        } else {
            rc = xuan_gguf_writer_set_value(w, k, &kv->value);
        }
    }
    if (!rc && pattern) rc = xuan_gguf_writer_set_arr(w, "qwen35.attention.recurrent_layers", XUAN_GGUF_BOOL, pattern, n);
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g) && !rc; i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        const bool edit = edit_tensor && strcmp(t->name, edit_tensor) == 0;
        if (edit && edit_drop) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (edit) ne[0] /= 2, ne[1] *= 2;
        rc = xuan_gguf_writer_add_tensor(w, t->name, t->type, edit ? 2 : t->n_dims, ne, t->data, NULL, NULL, &err);
    }
    const char *out = test_path("qwen35_edited.gguf");
    if (!rc) rc = xuan_gguf_writer_write(w, out, &err);
    REQUIRE(rc == 0);
    xuan_gguf_writer_free(w);
    xuan_gguf_close(g);
    static xuan_error lerr;
    memset(&lerr, 0, sizeof lerr);
    xuan_model *m = xuan_model_load(out, &lerr);
    if (m) {
        xuan_model_free(m);
        return NULL;
    }
    CHECK(strchr(lerr.msg, '\n') == NULL); /* one line */
    return lerr.msg;
}

static void expect_refusal(const char *msg, const char *needle) {
    if (!msg) {
        test_fail(__FILE__, __LINE__, "loaded, expected a refusal naming '%s'", needle);
        return;
    }
    if (!strstr(msg, needle)) test_fail(__FILE__, __LINE__, "'%s' does not name '%s'", msg, needle);
}

static void test_refusals(void) {
    /* state sizes against each other */
    expect_refusal(load_edited("qwen35.ssm.inner_size", 200, NULL, 0), "state sizes contradict");
    expect_refusal(load_edited("qwen35.ssm.time_step_rank", 3, NULL, 0), "state sizes contradict");
    expect_refusal(load_edited("qwen35.ssm.conv_kernel", 1, NULL, 0), "state sizes contradict");
    expect_refusal(load_edited("qwen35.ssm.state_size", -1, NULL, 0), "ssm.state_size is missing");
    /* state sizes against the tensors: consistent keys, other tensors */
    expect_refusal(load_edited("qwen35.ssm.conv_kernel", 3, NULL, 0), "ssm_conv1d.weight: shape [4, 512], expected [3, 512]");
    /* the layer pattern */
    expect_refusal(load_edited("qwen35.full_attention_interval", 0, NULL, 0), "full_attention_interval 0");
    expect_refusal(load_edited("qwen35.full_attention_interval", 5, NULL, 0), "does not fit 4 layers");
    const bool five[5] = {true, true, true, false, true}, other[4] = {true, false, true, false},
               same[4] = {true, true, true, false};
    expect_refusal(load_edited(NULL, 0, five, 5), "a layer pattern of 5 entries for 4 layers");
    expect_refusal(load_edited(NULL, 0, other, 4), "blk.1.attn_q.weight is missing");
    CHECK(load_edited(NULL, 0, same, 4) == NULL); /* the interval's own pattern loads */
    expect_refusal(load_edited("qwen35.rope.dimension_sections", -1, NULL, 0), "dimension_sections is missing");
    /* a contradicting state size cannot reach the engine: no crash for any */
    const char *keys[] = {"qwen35.ssm.state_size", "qwen35.ssm.group_count", "qwen35.ssm.inner_size",
                          "qwen35.ssm.time_step_rank", "qwen35.ssm.conv_kernel"};
    const int64_t values[] = {0, 1, 2, 7, 128, 1u << 20, 0xffffffffu};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            const char *msg = load_edited(keys[k], values[v], NULL, 0);
            /* the file's own values load; everything else is refused in a line */
            if (msg) CHECK(msg[0] != 0);
        }
}

/* qwen35moe: expert keys against the tensors, the shared expert's width
 * and gate; every refusal one line, the unedited file loads. */
static void test_moe_refusals(void) {
    use_moe = true;
    CHECK(load_edited(NULL, 0, NULL, 0) == NULL);
    expect_refusal(load_edited("qwen35moe.expert_count", 4, NULL, 0),
                   "blk.0.ffn_gate_inp.weight: shape [64, 8], expected [64, 4]");
    expect_refusal(load_edited("qwen35moe.expert_count", 1, NULL, 0), "1 experts with 2 used per token");
    expect_refusal(load_edited("qwen35moe.expert_used_count", 9, NULL, 0), "8 experts with 9 used per token");
    expect_refusal(load_edited("qwen35moe.expert_used_count", -1, NULL, 0), "expert_used_count is missing");
    expect_refusal(load_edited("qwen35moe.expert_feed_forward_length", 16, NULL, 0),
                   "blk.0.ffn_gate_exps.weight: shape [64, 32, 8], expected [64, 16, 8]");
    expect_refusal(load_edited("qwen35moe.expert_shared_feed_forward_length", 32, NULL, 0),
                   "blk.0.ffn_gate_shexp.weight: shape [64, 64], expected [64, 32]");
    expect_refusal(load_edited("qwen35moe.expert_shared_feed_forward_length", 0, NULL, 0),
                   "expert_shared_feed_forward_length 0 is invalid");
    /* without the key the shared expert is feed_forward_length (128) wide */
    expect_refusal(load_edited("qwen35moe.expert_shared_feed_forward_length", -1, NULL, 0),
                   "blk.0.ffn_gate_shexp.weight: shape [64, 64], expected [64, 128]");
    edit_tensor = "blk.2.ffn_gate_inp_shexp.weight";
    expect_refusal(load_edited(NULL, 0, NULL, 0), "blk.2.ffn_gate_inp_shexp.weight: shape [32, 2], expected [64]");
    edit_drop = true;
    expect_refusal(load_edited(NULL, 0, NULL, 0), "tensor blk.2.ffn_gate_inp_shexp.weight is missing");
    edit_tensor = "blk.3.ffn_down_shexp.weight";
    expect_refusal(load_edited(NULL, 0, NULL, 0), "tensor blk.3.ffn_down_shexp.weight is missing");
    edit_drop = false;
    expect_refusal(load_edited(NULL, 0, NULL, 0), "blk.3.ffn_down_shexp.weight: shape [32, 128], expected [64, 64]");
    edit_tensor = NULL;
    use_moe = false;
}

int main(void) {
    RUN(test_delta_rule);
    RUN(test_sequence_state);
    RUN(test_checkpoints);
    RUN(test_next_turn_resumes);
    RUN(test_refusals);
    RUN(test_moe_refusals);
    RUN(test_long_prompt_batch_chunks_tokens);
    return test_done();
}
