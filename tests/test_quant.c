/*
 * test_quant.c — block formats, (de)quantization and the dot-product
 * kernels of src/quant.
 *
 *  - every block struct matches the GGUF type table;
 *  - fp16/bf16 conversions: exhaustive round trip, SIMD rows == scalar;
 *  - dequantize agrees with the fused dot products (sum of dequantized
 *    weight x dequantized activation), and quantize->dequantize stays
 *    within each type's error budget;
 *  - every SIMD kernel equals the scalar one: exactly when all scales are 1
 *    (pure integer accumulation), within 1e-5 relative otherwise;
 *  - quantize(F32) is bit-identical to llama-quantize (tests/golden/quant);
 *  - xuan_matmul (1 and 2 threads, 1..67 tokens) equals row-by-row dots;
 *  - the Q4_K decode layout gives the plain product's bits.
 */
#include "harness.h"
#include "quant/blocks.h"
#include "quant/internal.h"
#include "xuan/quant.h"

#include <math.h>
#include <stdlib.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
static float rndf(void) { return (float)((rnd() & 0xFFFFFF) / 16777216.0 * 2.0 - 1.0); } /* [-1, 1) */

/* Every type the kernels handle, with the tolerance of quantize->dequantize
 * relative to the RMS of the input (rough bounds from bits per weight). */
static const struct {
    uint32_t type;
    double rt_err;
} TYPES[] = {
    {XUAN_TYPE_F32, 1e-7},   {XUAN_TYPE_F16, 1e-3},   {XUAN_TYPE_BF16, 8e-3},  {XUAN_TYPE_Q4_0, 0.15},
    {XUAN_TYPE_Q4_1, 0.12},  {XUAN_TYPE_Q5_0, 0.07},  {XUAN_TYPE_Q5_1, 0.06},  {XUAN_TYPE_Q8_0, 0.01},
    {XUAN_TYPE_Q2_K, 0.45},  {XUAN_TYPE_Q3_K, 0.25},  {XUAN_TYPE_Q4_K, 0.12},  {XUAN_TYPE_Q5_K, 0.06},
    {XUAN_TYPE_Q6_K, 0.03},  {XUAN_TYPE_IQ4_NL, 0.12}, {XUAN_TYPE_IQ4_XS, 0.12}, {XUAN_TYPE_MXFP4, 0.25},
};
enum { N_TYPES = sizeof TYPES / sizeof TYPES[0] };

static void test_block_sizes(void) {
    static const struct { uint32_t type; size_t size; } B[] = {
        {XUAN_TYPE_Q4_0, sizeof(block_q4_0)},     {XUAN_TYPE_Q4_1, sizeof(block_q4_1)},
        {XUAN_TYPE_Q5_0, sizeof(block_q5_0)},     {XUAN_TYPE_Q5_1, sizeof(block_q5_1)},
        {XUAN_TYPE_Q8_0, sizeof(block_q8_0)},     {XUAN_TYPE_Q8_1, sizeof(block_q8_1)},
        {XUAN_TYPE_Q2_K, sizeof(block_q2_K)},     {XUAN_TYPE_Q3_K, sizeof(block_q3_K)},
        {XUAN_TYPE_Q4_K, sizeof(block_q4_K)},     {XUAN_TYPE_Q5_K, sizeof(block_q5_K)},
        {XUAN_TYPE_Q6_K, sizeof(block_q6_K)},     {XUAN_TYPE_Q8_K, sizeof(block_q8_K)},
        {XUAN_TYPE_IQ4_NL, sizeof(block_iq4_nl)}, {XUAN_TYPE_IQ4_XS, sizeof(block_iq4_xs)},
        {XUAN_TYPE_MXFP4, sizeof(block_mxfp4)},
    };
    for (size_t i = 0; i < sizeof B / sizeof B[0]; i++) {
        CHECK_EQ_INT(xuan_type_get(B[i].type)->type_size, B[i].size);
        CHECK(xuan_quant_can_dequantize(B[i].type));
    }
}

static void test_fp16(void) {
    /* Every finite half survives half -> float -> half. */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = xuan_fp16_to_fp32((uint16_t)h);
        if (isnan(f)) continue;
        if (xuan_fp32_to_fp16(f) != h) {
            CHECK_EQ_INT(xuan_fp32_to_fp16(f), h);
            break;
        }
    }
    CHECK_EQ_INT(xuan_fp32_to_fp16(1.0f), 0x3C00);
    CHECK_EQ_INT(xuan_fp32_to_fp16(65520.0f), 0x7C00);      /* rounds up to infinity */
    CHECK_EQ_INT(xuan_fp32_to_fp16(1.0f + 0x1p-11f), 0x3C00); /* tie -> even */
    CHECK_EQ_INT(xuan_fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01);
    CHECK_NEAR(xuan_fp16_to_fp32(0x0001), 0x1p-24, 0);       /* smallest subnormal */
    CHECK_EQ_INT(xuan_fp32_to_bf16(1.0f), 0x3F80);
    CHECK_NEAR(xuan_bf16_to_fp32(0x4049), 3.140625, 0);
    /* SIMD rows (F16C) give the same bits as the scalar code. */
    enum { N = 4099 };
    static float f[N], back[N];
    static uint16_t hs[N];
    for (int i = 0; i < N; i++) {
        uint32_t bits = rnd();
        memcpy(&f[i], &bits, 4);
        if (isnan(f[i])) f[i] = 0;
        if (i % 3) f[i] = rndf() * (float)(1 << (rnd() % 20)) * 0x1p-8f;
    }
    xuan_fp32_to_fp16_row(f, hs, N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += hs[i] != xuan_fp32_to_fp16(f[i]);
    CHECK_EQ_INT(bad, 0);
    xuan_fp16_to_fp32_row(hs, back, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += memcmp(&back[i], &(float){xuan_fp16_to_fp32(hs[i])}, 4) != 0;
    CHECK_EQ_INT(bad, 0);
}

/* Random valid blocks: random bytes with small positive fp16 scales (so
 * results are finite and in the range real weights have). */
static void random_blocks(uint32_t type, void *dst, int64_t n, bool unit_scales) {
    uint64_t bytes;
    REQUIRE(xuan_type_row_size(type, (uint64_t)n, &bytes));
    uint8_t *p = dst;
    for (uint64_t i = 0; i < bytes; i++) p[i] = (uint8_t)rnd();
    if (type == XUAN_TYPE_F32 || type == XUAN_TYPE_F16 || type == XUAN_TYPE_BF16) {
        float *tmp = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) tmp[i] = unit_scales ? (float)((int)(rnd() % 17) - 8) : rndf();
        REQUIRE(xuan_quantize_rows(type, tmp, dst, 1, n, NULL) == 0);
        free(tmp);
        return;
    }
    const xuan_type_traits *t = xuan_type_get(type);
    uint16_t one = 0x3C00;
    for (int64_t b = 0; b < n / t->block_size; b++) {
        uint8_t *blk = p + b * t->type_size;
        uint16_t d = unit_scales ? one : xuan_fp32_to_fp16(0.001f + 0.01f * (rnd() % 1000) / 1000.0f);
        uint16_t m = unit_scales ? one : xuan_fp32_to_fp16(0.01f * rndf());
        switch (type) {
        case XUAN_TYPE_Q4_1: case XUAN_TYPE_Q5_1:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case XUAN_TYPE_Q2_K: memcpy(blk + 80, &d, 2); memcpy(blk + 82, &m, 2); break;
        case XUAN_TYPE_Q3_K: memcpy(blk + 108, &d, 2); break;
        case XUAN_TYPE_Q4_K: case XUAN_TYPE_Q5_K:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case XUAN_TYPE_Q6_K: memcpy(blk + 208, &d, 2); break;
        case XUAN_TYPE_MXFP4: /* E8M0: 128 is a scale of 1 for the doubled values */
            blk[0] = (uint8_t)(unit_scales ? 128 : 116 + rnd() % 8);
            break;
        default: memcpy(blk, &d, 2); break; /* d first */
        }
    }
}

static void random_act(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = rndf() * (1.0f + (float)(rnd() % 4));
}

/* Σ |w| |a| from dequantized rows: the scale for relative comparisons. */
static double abs_dot(const float *w, const float *a, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)w[i] * a[i]);
    return s;
}

/* The fused dot product equals the dot product of the dequantized rows. */
static void test_dequant_vs_dot(void) {
    enum { N = 1024 };
    static uint8_t w[N * 4], a[N * 4];
    static float x[N], wf[N], af[N];
    for (int k = 0; k < N_TYPES; k++) {
        uint32_t type = TYPES[k].type, at = xuan_quant_vec_dot_type(type);
        for (int rep = 0; rep < 20; rep++) {
            random_blocks(type, w, N, false);
            random_act(x, N);
            const void *act = x;
            memcpy(af, x, sizeof x);
            if (at != XUAN_TYPE_F32) {
                xuan_quantize_act(at, x, a, N);
                REQUIRE(xuan_dequantize_row(at, a, af, N, NULL) == 0);
                act = a;
            }
            REQUIRE(xuan_dequantize_row(type, w, wf, N, NULL) == 0);
            double ref = 0;
            for (int i = 0; i < N; i++) ref += (double)wf[i] * af[i];
            float got = xuan_vec_dot(XUAN_SIMD_SCALAR, type, N, w, act);
            double tol = 2e-5 * abs_dot(wf, af, N) + 1e-30;
            if (!(fabs(got - ref) <= tol)) {
                test_fail(__FILE__, __LINE__, "%s rep %d: dot %.9g, dequantized %.9g", xuan_type_name(type),
                          rep, got, ref);
                break;
            }
        }
    }
}

static void test_roundtrip(void) {
    enum { N = 4096 };
    static float x[N], y[N];
    static uint8_t q[N * 4];
    for (int k = 0; k < N_TYPES; k++) {
        uint32_t type = TYPES[k].type;
        for (int i = 0; i < N; i++) x[i] = rndf() * (i % 256 == 7 ? 4.0f : 1.0f);
        for (int i = 512; i < 768; i++) x[i] = 0; /* a zero super-block */
        REQUIRE(xuan_quantize_rows(type, x, q, 1, N, NULL) == 0);
        REQUIRE(xuan_dequantize_row(type, q, y, N, NULL) == 0);
        double e2 = 0, x2 = 0;
        for (int i = 0; i < N; i++) {
            e2 += (double)(x[i] - y[i]) * (x[i] - y[i]);
            x2 += (double)x[i] * x[i];
        }
        double rel = sqrt(e2 / x2);
        if (rel > TYPES[k].rt_err)
            test_fail(__FILE__, __LINE__, "%s: round-trip error %.4f > %.4f", xuan_type_name(type), rel,
                      TYPES[k].rt_err);
        for (int i = 512; i < 768; i++)
            if (y[i] != 0) {
                test_fail(__FILE__, __LINE__, "%s: zero block dequantizes to %g", xuan_type_name(type), y[i]);
                break;
            }
    }
    /* Bad row lengths are refused with a message. */
    xuan_error err = {0};
    CHECK(xuan_quantize_rows(XUAN_TYPE_Q4_K, x, q, 1, 100, &err) != 0);
    CHECK(strstr(err.msg, "Q4_K") != NULL);
    CHECK(xuan_quantize_rows(XUAN_TYPE_IQ2_XXS, x, q, 1, 256, &err) == XUAN_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "supported: ") != NULL && strstr(err.msg, "Q6_K") != NULL);
}

/* Every SIMD level gives the scalar result: exactly with unit scales,
 * within 1e-5 of Σ|w·a| otherwise. */
static void test_simd_vs_scalar(void) {
    const xuan_cpu *cpu = xuan_cpu_get();
    if (cpu->native == XUAN_SIMD_SCALAR) {
        printf("  (no AVX2 on this CPU: SIMD kernels not tested)\n");
        return;
    }
    enum { N = 2048 };
    static uint8_t w[(N + 8) * 4], a[(N + 8) * 4];
    static float x[N + 8], wf[N + 8], af[N + 8];
    for (int k = 0; k < N_TYPES; k++) {
        uint32_t type = TYPES[k].type, at = xuan_quant_vec_dot_type(type);
        for (int rep = 0; rep < 40; rep++) {
            bool unit = rep % 2 == 0;
            int64_t n = rep < 4 ? (int64_t)xuan_type_get(at)->block_size * (1 + rep) : N;
            if (type == XUAN_TYPE_F32 || type == XUAN_TYPE_F16 || type == XUAN_TYPE_BF16) n += rep % 7;
            random_blocks(type, w, n, unit);
            const void *act = x;
            if (unit) for (int64_t i = 0; i < n; i++) x[i] = (float)((int)(rnd() % 255) - 127);
            else random_act(x, n);
            memcpy(af, x, (size_t)n * sizeof(float));
            if (at != XUAN_TYPE_F32) {
                xuan_quantize_act(at, x, a, n);
                /* Unit scales and small activations (|q| <= 16) keep every
                 * partial sum below 2^24, so float sums of integers are exact
                 * in any order: SIMD must then equal scalar bit for bit. */
                if (unit && at == XUAN_TYPE_Q8_K) {
                    for (int64_t b = 0; b < n / QKK; b++) {
                        block_q8_K *blk = (block_q8_K *)a + b;
                        blk->d = 1.0f;
                        for (int j = 0; j < QKK; j++) blk->qs[j] = (int8_t)(blk->qs[j] / 8);
                        for (int j = 0; j < QKK / 16; j++) {
                            int s = 0;
                            for (int l = 0; l < 16; l++) s += blk->qs[16 * j + l];
                            blk->bsums[j] = (int16_t)s;
                        }
                    }
                } else if (unit) {
                    for (int64_t b = 0; b < n / QK32; b++) {
                        uint8_t *blk = a + b * xuan_type_get(at)->type_size;
                        memcpy(blk, &(uint16_t){0x3C00}, 2);
                        int8_t *qs = (int8_t *)blk + xuan_type_get(at)->type_size - QK32;
                        for (int j = 0; j < QK32; j++) qs[j] = (int8_t)(qs[j] / 8);
                        if (at == XUAN_TYPE_Q8_1) {
                            int s = 0;
                            for (int j = 0; j < QK32; j++) s += ((block_q8_1 *)blk)->qs[j];
                            ((block_q8_1 *)blk)->s = xuan_fp32_to_fp16((float)s);
                        }
                    }
                }
                REQUIRE(xuan_dequantize_row(at, a, af, n, NULL) == 0);
                act = a;
            }
            REQUIRE(xuan_dequantize_row(type, w, wf, n, NULL) == 0);
            float ref = xuan_vec_dot(XUAN_SIMD_SCALAR, type, n, w, act);
            for (int lv = XUAN_SIMD_AVX2; lv <= (int)cpu->native; lv++) {
                float got = xuan_vec_dot((xuan_simd)lv, type, n, w, act);
                /* F16 at the AVX2 level: llama.cpp's AVX2 build, 8 lanes */
                if (type == XUAN_TYPE_F16 && lv == XUAN_SIMD_AVX2) ref = xuan_dot_f16_lanes8_scalar(n, w, act);
                else if (type == XUAN_TYPE_F16) ref = xuan_vec_dot(XUAN_SIMD_SCALAR, type, n, w, act);
                /* F16, Q4_K, Q6_K, Q8_0 and MXFP4 follow llama.cpp's float steps at every level */
                const bool same = type == XUAN_TYPE_F16 || type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K ||
                                  type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_MXFP4;
                double tol = unit || same ? 0 : 1e-5 * abs_dot(wf, af, n);
                if (!(fabs((double)got - ref) <= tol)) {
                    test_fail(__FILE__, __LINE__, "%s %s n=%lld rep %d: %.9g, scalar %.9g (tol %g)",
                              xuan_type_name(type), xuan_simd_name((xuan_simd)lv), (long long)n, rep,
                              got, ref, tol);
                    rep = 1000;
                    break;
                }
            }
        }
    }
}

/* xuan_matmul equals one scalar dot per (token, row), at every thread count. */
static void test_matmul(void) {
    enum { ROWS_MAX = 40, COLS = 512, TOK = 67 };
    static uint8_t w[ROWS_MAX * COLS * 4], scratch[TOK * COLS * 5];
    static float x[TOK * COLS], y[TOK * ROWS_MAX], act_f[COLS];
    static uint8_t act[COLS * 2];
    xuan_pool *pool2 = xuan_pool_create(2, NULL);
    REQUIRE(pool2 != NULL);
    /* Q4_K twice: 40 rows are repacked by llama.cpp (a multiple of 8), 37 are not */
    const uint32_t types[] = {XUAN_TYPE_Q4_K, XUAN_TYPE_Q4_K, XUAN_TYPE_Q8_0, XUAN_TYPE_Q6_K, XUAN_TYPE_F16,
                              XUAN_TYPE_IQ4_NL, XUAN_TYPE_Q5_1, XUAN_TYPE_Q5_0, XUAN_TYPE_MXFP4};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const int ROWS = k == 0 ? 40 : 37;
        uint32_t type = types[k], at = xuan_quant_vec_dot_type(type);
        uint64_t rb;
        REQUIRE(xuan_type_row_size(type, COLS, &rb));
        for (int r = 0; r < ROWS; r++) random_blocks(type, w + r * rb, COLS, false);
        random_act(x, TOK * COLS);
        xuan_weight wt = {type, w, ROWS, COLS, NULL};
        CHECK_EQ_INT(xuan_weight_check(&wt, "t", NULL), 0);
        REQUIRE(xuan_matmul_scratch_size(&wt, TOK) <= sizeof scratch);
        /* 4 and 7: the exact panels from 4 tokens; 7 and 13: Q4_K's
         * four-token dots below its packed kernel, with a tail */
        const int ntok[] = {1, 2, 4, 7, 13, 67};
        for (int p = 0; p < 2; p++)
            for (int nt = 0; nt < 6; nt++) {
                memset(y, 0, sizeof y);
                xuan_matmul(p ? pool2 : NULL, &wt, x, ntok[nt], y, scratch);
                int bad = 0;
                for (int t = 0; t < ntok[nt]; t++) {
                    const void *av = x + t * COLS;
                    if (at != XUAN_TYPE_F32) {
                        xuan_quantize_act(at, x + t * COLS, act, COLS);
                        av = act;
                    }
                    for (int r = 0; r < ROWS; r++) {
                        float ref = xuan_vec_dot(xuan_cpu_get()->simd, type, COLS, w + r * rb, av);
                        if (type == XUAN_TYPE_F16 && ntok[nt] == 1) /* llama.cpp's single-token order */
                            ref = xuan_vec_dot_f16_single(xuan_cpu_get()->simd, COLS,
                                                          (const uint16_t *)(const void *)(w + r * rb), av);
                        if (type == XUAN_TYPE_MXFP4 && ntok[nt] == 1) /* ggml_vec_dot_mxfp4_q8_0's order */
                            ref = xuan_dot_mxfp4_single_kernel(xuan_cpu_get()->simd)(COLS, w + r * rb, av);
                        /* Q4_K: its 4-token kernel's float steps for all but the last n % 4 */
                        const bool q4k4 = type == XUAN_TYPE_Q4_K && t < ntok[nt] - ntok[nt] % 4;
                        if (q4k4) ref = xuan_dot_q4_K_pairs_kernel(xuan_cpu_get()->simd)(COLS, w + r * rb, av);
                        /* not repacked: ggml_vec_dot_q4_K_q8_K for every token */
                        if (type == XUAN_TYPE_Q4_K && ROWS % 8) ref = xuan_dot_q4_K_vec_scalar(COLS, w + r * rb, av);
                        /* F16, Q4_K and Q6_K follow llama.cpp's arithmetic exactly, batch kernel included */
                        const bool exact = type == XUAN_TYPE_F16 || type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K ||
                                           type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_MXFP4 ||
                                           (type == XUAN_TYPE_Q5_0 && ntok[nt] < 8);
                        /* Batches may take the packed kernel (gemm_avx512.c),
                         * which sums floats per group: test_matmul_batch
                         * bounds that; here only exact equality is cheap. */
                        if (ntok[nt] < 4 || exact) bad += y[t * ROWS + r] != ref;
                        else bad += !(fabsf(y[t * ROWS + r] - ref) <= 1e-3f * (1.0f + fabsf(ref)));
                    }
                }
                if (bad)
                    test_fail(__FILE__, __LINE__, "%s (%d rows) pool %d tok %d: %d outputs differ",
                              xuan_type_name(type), ROWS, p + 1, ntok[nt], bad);
            }
        /* Out of memory for the batch kernels' per-thread buffers (fresh
         * threads, nothing may be allocated): the single-row dots take
         * over with the same bits. */
        if (type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K || type == XUAN_TYPE_Q8_0) {
            static float y2[TOK * ROWS_MAX];
            xuan_matmul(pool2, &wt, x, TOK, y, scratch);
            xuan_pool *fresh = xuan_pool_create(2, NULL);
            REQUIRE(fresh != NULL);
            const uint64_t cap = xuan_alloc_cap();
            xuan_alloc_set_cap(1);
            xuan_matmul(fresh, &wt, x, TOK, y2, scratch);
            xuan_alloc_set_cap(cap);
            xuan_pool_free(fresh);
            CHECK(memcmp(y, y2, (size_t)TOK * ROWS * sizeof(float)) == 0);
        }
        /* Embedding lookup. */
        xuan_weight_row(&wt, 5, act_f);
        float ref[COLS];
        REQUIRE(xuan_dequantize_row(type, w + 5 * rb, ref, COLS, NULL) == 0);
        CHECK(memcmp(act_f, ref, sizeof ref) == 0);
    }
    /* A row length that is not a multiple of the block size is refused by name. */
    xuan_error err = {0};
    xuan_weight bad = {XUAN_TYPE_Q4_K, w, 4, 896, NULL};
    CHECK_EQ_INT(xuan_weight_check(&bad, "blk.0.ffn_down.weight", &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "blk.0.ffn_down.weight") && strstr(err.msg, "896"));
    xuan_weight unsup = {XUAN_TYPE_IQ2_XXS, w, 4, 256, NULL};
    CHECK_EQ_INT(xuan_weight_check(&unsup, "x", &err), XUAN_ERR_UNSUPPORTED);
    xuan_pool_free(pool2);
}

/* xuan_matmul_rowwise (rows routed to an expert) gives each row the bits
 * of a lone token, at every SIMD level and thread count, whatever path the
 * batch takes (Q4_K: four rows per pass over the weights, with a tail). */
static void test_matmul_rowwise(void) {
    enum { ROWS = 37, COLS = 512, TOK = 23 };
    static uint8_t w[ROWS * COLS * 4], scratch[TOK * COLS * 5], act[COLS * 2];
    static float x[TOK * COLS], y[TOK * ROWS];
    xuan_pool *pool2 = xuan_pool_create(2, NULL);
    REQUIRE(pool2 != NULL);
    const uint32_t types[] = {XUAN_TYPE_Q4_K, XUAN_TYPE_Q8_0, XUAN_TYPE_Q6_K, XUAN_TYPE_Q5_0, XUAN_TYPE_MXFP4};
    const xuan_simd levels[] = {XUAN_SIMD_SCALAR, XUAN_SIMD_AVX2, XUAN_SIMD_AVX512};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const uint32_t type = types[k], at = xuan_quant_vec_dot_type(type);
        uint64_t rb;
        REQUIRE(xuan_type_row_size(type, COLS, &rb));
        for (int r = 0; r < ROWS; r++) random_blocks(type, w + r * rb, COLS, false);
        random_act(x, TOK * COLS);
        xuan_weight wt = {type, w, ROWS, COLS, NULL};
        for (size_t l = 0; l < 3; l++) {
            if (levels[l] > xuan_cpu_get()->native) continue;
            const int ntok[] = {1, 3, 4, 7, 8, 16, 23};
            for (int p = 0; p < 2; p++)
                for (int nt = 0; nt < 7; nt++) {
                    memset(y, 0, sizeof y);
                    xuan_matmul_rowwise(p ? pool2 : NULL, &wt, x, ntok[nt], y, scratch, levels[l]);
                    int bad = 0;
                    for (int t = 0; t < ntok[nt]; t++) {
                        xuan_quantize_act(at, x + t * COLS, act, COLS);
                        for (int r = 0; r < ROWS; r++) {
                            /* MXFP4: one routed row takes ggml_vec_dot_mxfp4_q8_0's order */
                            const float ref = type == XUAN_TYPE_MXFP4 && ntok[nt] == 1
                                                  ? xuan_dot_mxfp4_single_kernel(levels[l])(COLS, w + r * rb, act)
                                                  : xuan_vec_dot(levels[l], type, COLS, w + r * rb, act);
                            bad += memcmp(&y[t * ROWS + r], &ref, 4) != 0;
                        }
                    }
                    if (bad)
                        test_fail(__FILE__, __LINE__, "%s simd %d pool %d rows %d: %d outputs differ",
                                  xuan_type_name(type), (int)levels[l], p + 1, ntok[nt], bad);
                }
        }
    }
    xuan_pool_free(pool2);
}

/* Batch products (the packed, register-tiled kernel on AVX-512 machines)
 * against one scalar dot product per (token, row): every weight type, rows
 * not a multiple of the 16-row panel, a row length spanning two K-chunks
 * (1024 + 256), token counts that leave partial 8-token tiles, 1 and 2
 * threads.  Integer sums are exact; the float budget is 1e-5 of sum |w a|. */
static void test_matmul_batch(void) {
    enum { ROWS = 37, COLS = 1280, MAXTOK = 512 };
    const int ntok[] = {1, 3, 4, 17, 67, 512};
    static uint8_t w[ROWS * COLS * 2];
    static float x[MAXTOK * COLS], y[MAXTOK * ROWS], wf[ROWS * COLS], af[COLS];
    static uint8_t act[MAXTOK * COLS * 2];
    xuan_pool *pool2 = xuan_pool_create(2, NULL);
    REQUIRE(pool2 != NULL);
    static const uint32_t types[] = {XUAN_TYPE_Q4_0, XUAN_TYPE_Q4_1, XUAN_TYPE_Q5_0, XUAN_TYPE_Q5_1,
                                     XUAN_TYPE_Q8_0, XUAN_TYPE_Q2_K, XUAN_TYPE_Q3_K, XUAN_TYPE_Q4_K,
                                     XUAN_TYPE_Q5_K, XUAN_TYPE_Q6_K, XUAN_TYPE_IQ4_NL, XUAN_TYPE_IQ4_XS,
                                     XUAN_TYPE_MXFP4, XUAN_TYPE_F16};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        uint32_t type = types[k], at = xuan_quant_vec_dot_type(type);
        uint64_t rb, ab = 0;
        REQUIRE(xuan_type_row_size(type, COLS, &rb));
        if (at != XUAN_TYPE_F32) REQUIRE(xuan_type_row_size(at, COLS, &ab));
        for (int r = 0; r < ROWS; r++) {
            random_blocks(type, w + r * rb, COLS, false);
            REQUIRE(xuan_dequantize_row(type, w + r * rb, wf + r * COLS, COLS, NULL) == 0);
        }
        random_act(x, MAXTOK * COLS);
        if (at != XUAN_TYPE_F32)
            for (int t = 0; t < MAXTOK; t++) xuan_quantize_act(at, x + t * COLS, act + t * ab, COLS);
        xuan_weight wt = {type, w, ROWS, COLS, NULL};
        size_t scratch_n = xuan_matmul_scratch_size(&wt, MAXTOK);
        void *scratch = scratch_n ? xuan_malloc_aligned(scratch_n) : NULL;
        REQUIRE(scratch_n == 0 || scratch != NULL);
        int bad = 0;
        for (int p = 0; p < 2 && !bad; p++)
            for (size_t nt = 0; nt < sizeof ntok / sizeof ntok[0] && !bad; nt++) {
                memset(y, 0, sizeof y);
                xuan_matmul(p ? pool2 : NULL, &wt, x, ntok[nt], y, scratch);
                for (int t = 0; t < ntok[nt] && !bad; t++) {
                    const void *av = at == XUAN_TYPE_F32 ? (const void *)(x + t * COLS) : act + t * ab;
                    if (at == XUAN_TYPE_F32) memcpy(af, x + t * COLS, sizeof af);
                    else REQUIRE(xuan_dequantize_row(at, av, af, COLS, NULL) == 0);
                    for (int r = 0; r < ROWS; r++) {
                        float ref = xuan_vec_dot(XUAN_SIMD_SCALAR, type, COLS, w + r * rb, av);
                        double tol = 1e-5 * abs_dot(wf + r * COLS, af, COLS);
                        if (!(fabs((double)y[t * ROWS + r] - ref) <= tol)) {
                            test_fail(__FILE__, __LINE__, "%s pool %d n_tok %d: y[%d][%d] = %.9g, scalar %.9g (tol %g)",
                                      xuan_type_name(type), p + 1, ntok[nt], t, r, y[t * ROWS + r], ref, tol);
                            bad = 1;
                            break;
                        }
                    }
                }
            }
        xuan_free_aligned(scratch);
    }
    xuan_pool_free(pool2);
}

/* The pool runs each index exactly once per call, many calls in a row. */
static void count_fn(void *ctx, int ith, int nth) {
    int *c = ctx;
    __atomic_add_fetch(&c[ith], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c[8], nth, __ATOMIC_RELAXED);
}

static void test_pool(void) {
    for (int n = 1; n <= 3; n++) {
        xuan_pool *p = xuan_pool_create(n, NULL);
        REQUIRE(p != NULL);
        CHECK_EQ_INT(xuan_pool_size(p), n);
        /* 3 threads on a 2-core machine is oversubscribed: fewer rounds. */
        int c[9] = {0}, rounds = n <= 2 ? 20000 : 300;
        for (int i = 0; i < rounds; i++) xuan_pool_run(p, count_fn, c);
        for (int i = 0; i < n; i++) CHECK_EQ_INT(c[i], rounds);
        CHECK_EQ_INT(c[8], rounds * n * n);
        xuan_pool_free(p);
    }
    xuan_pool_free(NULL);
}

/* ---- golden blocks from llama-quantize (tests/golden/quant/README.md) ---- */

static uint8_t *read_all(const char *path, size_t *n) {
    char *data = NULL;
    size_t len = 0;
    if (xuan_read_file(path, 64u << 20, &data, &len, NULL) != 0) return NULL;
    *n = len;
    return (uint8_t *)data;
}

static void test_golden(void) {
    char path[4096];
    const char *src = getenv("XUAN_SRC");
    REQUIRE(src != NULL);
    snprintf(path, sizeof path, "%s/tests/golden/quant/input.f32", src);
    size_t n_in = 0;
    void *in = read_all(path, &n_in);
    REQUIRE(in != NULL);
    enum { COLS = 256 };
    int64_t rows = (int64_t)(n_in / sizeof(float) / COLS);
    REQUIRE(rows > 0);
    static const char *const names[] = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
                                        "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "F16", "BF16", "MXFP4"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        xuan_type type;
        REQUIRE(xuan_type_from_name(names[k], &type) == 0);
        snprintf(path, sizeof path, "%s/tests/golden/quant/%s.bin", src, names[k]);
        size_t n_gold = 0;
        uint8_t *gold = read_all(path, &n_gold);
        if (!gold) {
            test_fail(__FILE__, __LINE__, "missing fixture %s", path);
            continue;
        }
        uint64_t rb;
        REQUIRE(xuan_type_row_size(type, COLS, &rb));
        CHECK_EQ_INT(n_gold, rb * (uint64_t)rows);
        uint8_t *mine = xuan_malloc(rb * (size_t)rows);
        REQUIRE(xuan_quantize_rows(type, in, mine, rows, COLS, NULL) == 0);
        int64_t bad_rows = 0, first = -1;
        for (int64_t r = 0; r < rows && n_gold == rb * (uint64_t)rows; r++)
            if (memcmp(mine + r * rb, gold + r * rb, rb)) {
                bad_rows++;
                if (first < 0) first = r;
            }
        if (bad_rows)
            test_fail(__FILE__, __LINE__, "%s: %lld of %lld rows differ from llama-quantize (first: row %lld)",
                      names[k], (long long)bad_rows, (long long)rows, (long long)first);
        if (type == XUAN_TYPE_MXFP4 && n_gold == rb * (uint64_t)rows) { /* ggml's to_float of the same blocks */
            snprintf(path, sizeof path, "%s/tests/golden/quant/MXFP4.f32", src);
            size_t n_deq = 0;
            uint8_t *deq = read_all(path, &n_deq);
            CHECK_EQ_INT(n_deq, (uint64_t)rows * COLS * sizeof(float));
            float *f = xuan_malloc((size_t)rows * COLS * sizeof(float));
            if (deq && f && n_deq == (uint64_t)rows * COLS * sizeof(float)) {
                REQUIRE(xuan_dequantize_row(type, gold, f, rows * COLS, NULL) == 0);
                int64_t diff = 0;
                for (int64_t i = 0; i < rows * COLS; i++) diff += memcmp(f + i, deq + 4 * i, 4) != 0;
                CHECK_EQ_INT(diff, 0);
            }
            xuan_free(f);
            xuan_free(deq);
        }
        xuan_free(mine);
        xuan_free(gold);
    }
    xuan_free(in);
}

/* MXFP4: the E2M1 table and E8M0 scales by hand (OCP MX spec), and the
 * load-time check: scale 0xFF and blocks reaching infinity are refused in
 * one line naming tensor and block; the largest finite scales pass. */
static void test_mxfp4(void) {
    block_mxfp4 b[3];
    memset(b, 0, sizeof b);
    for (int j = 0; j < 16; j++) b[0].qs[j] = (uint8_t)(j | (15 - j) << 4);
    b[0].e = 127; /* 2^0: the E2M1 values themselves */
    b[1].e = 1;   /* 2^-126 */
    b[1].qs[0] = 0x72; /* element 0: 1.0, element 16: 6.0 */
    b[2].e = 0;   /* 2^-127 */
    b[2].qs[3] = 0x0F; /* element 3: -6.0 */
    float y[96];
    REQUIRE(xuan_dequantize_row(XUAN_TYPE_MXFP4, b, y, 96, NULL) == 0);
    static const float e2m1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
    for (int j = 0; j < 16; j++) {
        CHECK_NEAR(y[j], e2m1[j], 0);
        CHECK_NEAR(y[16 + j], e2m1[15 - j], 0);
    }
    CHECK_NEAR(y[32], 0x1p-126, 0);
    CHECK_NEAR(y[48], 6 * 0x1p-126, 0);
    CHECK_NEAR(y[64 + 3], -6 * 0x1p-127, 0);
    CHECK(y[64 + 3] != 0.0f); /* subnormal, not flushed */

    xuan_error err = {0};
    CHECK_EQ_INT(xuan_quant_validate(XUAN_TYPE_MXFP4, b, sizeof b, "t", &err), 0);
    block_mxfp4 big[4];
    /* the largest finite values: 6 * 2^125, 3 * 2^126, 1.5 * 2^127 */
    memset(big, 0x77, sizeof big); /* every element 6 */
    big[0].e = 252, big[1].e = 253, big[2].e = 254, big[3].e = 0xFF;
    memset(big[1].qs, 0x55, sizeof big[1].qs); /* 3 */
    memset(big[2].qs, 0x33, sizeof big[2].qs); /* 1.5 */
    CHECK_EQ_INT(xuan_quant_validate(XUAN_TYPE_MXFP4, big, sizeof big[0] * 3, "t", &err), 0);
    big[1].qs[5] = 0x57; /* a 6 at 2^126: infinite */
    CHECK_EQ_INT(xuan_quant_validate(XUAN_TYPE_MXFP4, big, sizeof big, "blk.0.ffn_up_exps.weight", &err),
                 XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "blk.0.ffn_up_exps.weight") && strstr(err.msg, "block 1") && !strchr(err.msg, '\n'));
    big[1].qs[5] = 0x55;
    CHECK_EQ_INT(xuan_quant_validate(XUAN_TYPE_MXFP4, big, sizeof big, "w", &err), XUAN_ERR_FORMAT);
    CHECK(strstr(err.msg, "block 3") && strstr(err.msg, "0xFF"));
    CHECK_EQ_INT(xuan_quant_validate(XUAN_TYPE_Q8_0, big, sizeof big, "w", &err), 0); /* other types unread */

    /* mixes: MXFP4 tensors are kept by every one; MXFP4_MOE types 3-D
     * tensors MXFP4, other matrices Q8_0, and leaves the router alone */
    xuan_quant_mix mix;
    REQUIRE(xuan_quant_mix_init(&mix, "Q4_K_M", 24, NULL) == 0);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "blk.0.ffn_up_exps.weight", 3, 2880, XUAN_TYPE_MXFP4), XUAN_TYPE_MXFP4);
    REQUIRE(xuan_quant_mix_init(&mix, "MXFP4_MOE", 24, NULL) == 0);
    CHECK_EQ_INT(mix.ftype, 38);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "blk.0.ffn_down_exps.weight", 3, 2880, XUAN_TYPE_BF16), XUAN_TYPE_MXFP4);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "blk.0.attn_q.weight", 2, 2880, XUAN_TYPE_BF16), XUAN_TYPE_Q8_0);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "output.weight", 2, 2880, XUAN_TYPE_BF16), XUAN_TYPE_Q8_0);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "blk.0.ffn_gate_inp.weight", 2, 2880, XUAN_TYPE_F32), XUAN_TYPE_F32);
    CHECK_EQ_INT(xuan_quant_mix_type(&mix, "blk.0.attn_sinks.weight", 1, 64, XUAN_TYPE_F32), XUAN_TYPE_F32);

    /* the one-token order (ggml_vec_dot_mxfp4_q8_0's lanes) against the
     * batch order of the table's kernel: the same sum up to float rounding,
     * the same bits at AVX2 and AVX-512 (two blocks per 512-bit register
     * there), odd and even block counts, 90 blocks (gpt-oss's rows) */
    enum { N = 32 * 90 };
    static uint8_t w[N], a[N * 2];
    static float x[N], wf[N], af[N];
    const int blocks[] = {1, 2, 3, 4, 9, 16, 17, 33, 41, 89, 90};
    for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
        const int64_t n = 32 * (int64_t)blocks[bi];
        random_blocks(XUAN_TYPE_MXFP4, w, n, false);
        for (int k = 0; k < blocks[bi]; k++) /* subnormal scales (e = 0, 1) and large ones now and then */
            if (rnd() % 6 == 0) w[k * sizeof(block_mxfp4)] = (uint8_t[]){0, 1, 2, 140}[rnd() % 4];
        random_act(x, n);
        xuan_quantize_act(XUAN_TYPE_Q8_0, x, a, n);
        REQUIRE(xuan_dequantize_row(XUAN_TYPE_MXFP4, w, wf, n, NULL) == 0);
        REQUIRE(xuan_dequantize_row(XUAN_TYPE_Q8_0, a, af, n, NULL) == 0);
        const float ref = xuan_vec_dot(XUAN_SIMD_SCALAR, XUAN_TYPE_MXFP4, n, w, a);
        const double tol = 1e-5 * abs_dot(wf, af, n);
        const float one = xuan_dot_mxfp4_single_kernel(XUAN_SIMD_SCALAR)(n, w, a);
        CHECK_EQ_INT(memcmp(&one, &ref, 4), 0); /* no AVX2: the table's order serves both */
        if (xuan_cpu_get()->native >= XUAN_SIMD_AVX2) {
            const float s2 = xuan_dot_mxfp4_single_kernel(XUAN_SIMD_AVX2)(n, w, a);
            CHECK_NEAR(s2, ref, tol);
            if (xuan_cpu_get()->native >= XUAN_SIMD_AVX512) {
                const float s5 = xuan_dot_mxfp4_single_kernel(XUAN_SIMD_AVX512)(n, w, a);
                CHECK_EQ_INT(memcmp(&s2, &s5, 4), 0);
            }
        }
    }
}

/* The MXFP4 panel kernel (gemm_mxfp4_avx512.c) against the one-token dot
 * of a batch (dot_mxfp4's order), bit for bit: rows not a multiple of the
 * 16-row panel, 1..19 tokens (partial 8-token tiles), rows of 1, 7, 33
 * (a K-chunk of 32 blocks and one more) and 90 blocks (gpt-oss's 2880),
 * the subnormal scales e = 0, 1 and large ones among the random blocks,
 * and row ranges [r0, r1) that start past 0. */
static void test_gemm_mxfp4(void) {
    if (xuan_cpu_get()->native < XUAN_SIMD_AVX512) test_skip("no AVX-512 VNNI");
    enum { ROWS_MAX = 37, NB_MAX = 90, COLS_MAX = NB_MAX * QK32, TOK_MAX = 19 };
    static uint8_t w[ROWS_MAX * NB_MAX * sizeof(block_mxfp4)], act[TOK_MAX * NB_MAX * sizeof(block_q8_0)];
    static uint8_t meta[TOK_MAX * NB_MAX * 16];
    static float x[TOK_MAX * COLS_MAX], y[TOK_MAX * ROWS_MAX];
    const int rows_of[] = {1, 15, 16, 17, 37}, nb_of[] = {1, 7, 33, 90};
    const uint8_t odd_e[] = {0, 1, 2, 3, 100, 140, 160};
    for (size_t ri = 0; ri < sizeof rows_of / sizeof rows_of[0]; ri++)
        for (size_t ci = 0; ci < sizeof nb_of / sizeof nb_of[0]; ci++) {
            const int rows = rows_of[ri], cols = nb_of[ci] * QK32;
            const size_t rb = (size_t)nb_of[ci] * sizeof(block_mxfp4), ab = (size_t)nb_of[ci] * sizeof(block_q8_0);
            const size_t mb = xuan_gemm_meta_row_bytes(XUAN_TYPE_MXFP4, cols);
            REQUIRE(mb * TOK_MAX <= sizeof meta);
            random_blocks(XUAN_TYPE_MXFP4, w, (int64_t)rows * cols, false);
            for (int b = 0; b < rows * nb_of[ci]; b++)
                if (rnd() % 8 == 0) w[b * sizeof(block_mxfp4)] = odd_e[rnd() % sizeof odd_e];
            random_act(x, (int64_t)TOK_MAX * cols);
            for (int t = 0; t < TOK_MAX; t++) {
                xuan_quantize_act(XUAN_TYPE_Q8_0, x + t * cols, act + t * ab, cols);
                xuan_gemm_prepare_act(XUAN_TYPE_MXFP4, act + t * ab, cols, meta + t * mb);
            }
            REQUIRE(xuan_gemm_avx512_supports(XUAN_TYPE_MXFP4, cols, rb));
            const int r0 = rows > 16 ? 16 : 0; /* a thread's share starts on a panel */
            for (int nt = 1; nt <= TOK_MAX; nt++) {
                memset(y, 0xFF, sizeof y);
                REQUIRE(xuan_gemm_avx512_rows(XUAN_TYPE_MXFP4, w, rb, r0, rows, rows, cols, act, ab, meta, nt, y));
                int bad = 0, kept = 0;
                for (int t = 0; t < nt; t++)
                    for (int r = 0; r < rows; r++) {
                        const float got = y[t * rows + r];
                        if (r < r0) { /* outside [r0, r1): untouched */
                            kept += memcmp(&got, &(uint32_t){0xFFFFFFFFu}, 4) != 0;
                            continue;
                        }
                        const float ref = xuan_vec_dot(XUAN_SIMD_SCALAR, XUAN_TYPE_MXFP4, cols, w + r * rb, act + t * ab);
                        const float lvl = xuan_vec_dot(XUAN_SIMD_AVX512, XUAN_TYPE_MXFP4, cols, w + r * rb, act + t * ab);
                        bad += memcmp(&got, &ref, 4) != 0 || memcmp(&lvl, &ref, 4) != 0;
                    }
                if (bad || kept)
                    test_fail(__FILE__, __LINE__, "MXFP4 panel: %d rows x %d cols, %d tokens: %d differ, %d written outside",
                              rows, cols, nt, bad, kept);
            }
        }
}

/* F16's single-token order per level: llama.cpp's AVX-512 build sums 64
 * slots, its AVX2 build 32 (dot.c).  Each SIMD kernel gives the bits of
 * its scalar twin, tails (n % 32, n % 64) included. */
static void test_f16_single_orders(void) {
    enum { N = 1000 };
    static uint16_t w[N];
    static float a[N];
    const xuan_cpu *cpu = xuan_cpu_get();
    for (int rep = 0; rep < 200; rep++) {
        const int64_t n = 1 + rep * 5 % N;
        float x[N];
        random_act(x, n);
        for (int64_t i = 0; i < n; i++) w[i] = xuan_fp32_to_fp16(x[i]);
        random_act(a, n);
        for (int64_t i = 0; i < n; i++) a[i] = xuan_fp16_to_fp32(xuan_fp32_to_fp16(a[i]));
        const float s64 = xuan_vec_dot_f16_single(XUAN_SIMD_SCALAR, n, w, a);
        const float s32 = xuan_dot_f16_single8_scalar(n, w, a);
        if (cpu->native >= XUAN_SIMD_AVX2) {
            CHECK(xuan_vec_dot_f16_single(XUAN_SIMD_AVX2, n, w, a) == s32);
            CHECK(xuan_dot_kernel(XUAN_SIMD_AVX2, XUAN_TYPE_F16)(n, w, a) == xuan_dot_f16_lanes8_scalar(n, w, a));
        }
        if (cpu->native >= XUAN_SIMD_AVX512) CHECK(xuan_vec_dot_f16_single(XUAN_SIMD_AVX512, n, w, a) == s64);
    }
}

/* ggml_vec_dot_f32's loops written out: four `lanes`-wide FMA sums over
 * steps of 4 x lanes, folded 0+2, 1+3, 0+1, then the build's horizontal
 * add (AVX2: halves, two hadds; AVX-512: the _mm512_reduce_add_ps tree),
 * the tail one FMA at a time. */
static float ggml_dot_f32_model(int64_t n, const float *x, const float *y, int lanes) {
    const int64_t step = 4 * lanes, np = n - n % step;
    float acc[4][16] = {{0}}, a[16] = {0}, sum;
    for (int64_t i = 0; i < np; i += step)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < lanes; l++)
                acc[j][l] = fmaf(x[i + lanes * j + l], y[i + lanes * j + l], acc[j][l]);
    for (int l = 0; l < lanes; l++) a[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    if (lanes == 8) {
        float h[4];
        for (int l = 0; l < 4; l++) h[l] = a[l] + a[l + 4];
        sum = (h[0] + h[1]) + (h[2] + h[3]);
    } else {
        float b[8], c[4];
        for (int l = 0; l < 8; l++) b[l] = a[l] + a[l + 8];
        for (int l = 0; l < 4; l++) c[l] = b[l] + b[l + 4];
        sum = (c[0] + c[2]) + (c[1] + c[3]);
    }
    for (int64_t i = np; i < n; i++) sum = fmaf(x[i], y[i], sum);
    return sum;
}

/* F32 weights: ggml_vec_dot_f32's bits wherever llamafile_sgemm declines
 * (one token, rows % 4 != 0; n % lanes inside the kernel), per level, and
 * xuan_matmul picks that kernel there.  Real MoE routers are F32. */
static void test_f32_orders(void) {
    enum { N = 700, ROWS = 6 };
    static float w[ROWS * N], x[2 * N], y[2 * ROWS];
    const xuan_cpu *cpu = xuan_cpu_get();
    for (int rep = 0; rep < 120; rep++) {
        const int64_t n = 1 + rep * 7 % N;
        random_act(w, n);
        random_act(x, n);
        if (cpu->native >= XUAN_SIMD_AVX2)
            CHECK(xuan_dot_f32_vec_kernel(XUAN_SIMD_AVX2)(n, w, x) == ggml_dot_f32_model(n, w, x, 8));
        if (cpu->native >= XUAN_SIMD_AVX512)
            CHECK(xuan_dot_f32_vec_kernel(XUAN_SIMD_AVX512)(n, w, x) == ggml_dot_f32_model(n, w, x, 16));
    }
    if (cpu->simd < XUAN_SIMD_AVX2) return;
    const int lanes = (int)xuan_ggml_lanes(cpu->simd);
    random_act(w, ROWS * N);
    random_act(x, 2 * N);
    /* 640 columns: tinyBLAS takes a 2-token batch of 4 rows, not one token, not 6 rows */
    const int64_t cols = 640;
    for (int rows = 4; rows <= ROWS; rows += 2)
        for (int nt = 1; nt <= 2; nt++) {
            const xuan_weight wt = {XUAN_TYPE_F32, (const uint8_t *)w, rows, cols, NULL};
            xuan_matmul(NULL, &wt, x, nt, y, NULL);
            const bool vec = nt == 1 || rows % 4;
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < rows; r++) {
                    const float *wr = w + r * cols, *xt = x + t * cols;
                    const float ref = vec ? ggml_dot_f32_model(cols, wr, xt, lanes)
                                          : xuan_vec_dot(cpu->simd, XUAN_TYPE_F32, cols, wr, xt);
                    CHECK(y[t * rows + r] == ref);
                }
        }
}

/* The Q4_K decode layout (repack.c): packed rows give the plain dot's bits
 * at every SIMD level, xuan_matmul with w.packed set gives the bits it gives
 * without (rows past the last 16-row group from the mapped rows), for odd
 * shapes, 1..9 tokens, 1 and 2 threads; extreme nibbles and activations
 * reach the kernel's int16 bound. */
static void test_q4_K_repack(void) {
    enum { ROWS_MAX = 72, COLS_MAX = 7 * 256, TOK = 9 };
    static uint8_t w[ROWS_MAX * (COLS_MAX / 256) * sizeof(block_q4_K)], scratch[TOK * COLS_MAX * 2];
    static uint8_t act[TOK * (COLS_MAX / 256) * sizeof(block_q8_K)];
    static float x[TOK * COLS_MAX], y[TOK * ROWS_MAX], y0[TOK * ROWS_MAX], yp[TOK * ROWS_MAX];
    xuan_pool *pool2 = xuan_pool_create(2, NULL);
    REQUIRE(pool2 != NULL);
    const int rows_of[] = {16, 24, 40, 72};
    const int cols_of[] = {256, 768, 1792};
    for (int ri = 0; ri < 4; ri++)
        for (int ci = 0; ci < 3; ci++) {
            const int ROWS = rows_of[ri], COLS = cols_of[ci];
            const size_t rb = (size_t)(COLS / 256) * sizeof(block_q4_K), ab = (size_t)(COLS / 256) * sizeof(block_q8_K);
            for (int r = 0; r < ROWS; r++) random_blocks(XUAN_TYPE_Q4_K, w + r * rb, COLS, false);
            /* rows 3 and 17: every nibble 15 (the int16 sums' bound with activations of one sign) */
            for (int r = 3; r < ROWS; r += 14)
                for (int b = 0; b < COLS / 256; b++) memset(((block_q4_K *)(void *)(w + r * rb))[b].qs, 0xFF, QKK / 2);
            random_act(x, TOK * COLS);
            for (int c = 0; c < COLS; c++) x[c] = 1.0f, x[COLS + c] = -1.0f; /* tokens 0, 1: all 127 / -127 */
            for (int t = 0; t < TOK; t++) xuan_quantize_act(XUAN_TYPE_Q8_K, x + t * COLS, act + t * ab, COLS);
            xuan_weight wt = {XUAN_TYPE_Q4_K, w, ROWS, COLS, NULL};
            const size_t bytes = xuan_q4_K_packed_bytes(&wt);
            const int64_t np = xuan_q4_K_packed_rows(&wt);
            CHECK_EQ_INT(np, ROWS - ROWS % 16);
            CHECK_EQ_INT(bytes, (size_t)(np / 8) * (COLS / 256) * XUAN_Q4K8_BLOCK);
            uint8_t *pk = xuan_malloc_aligned(bytes), *pk1 = xuan_malloc_aligned(bytes);
            REQUIRE(pk && pk1);
            xuan_q4_K_pack(pool2, &wt, pk);
            xuan_q4_K_pack(NULL, &wt, pk1);
            CHECK(memcmp(pk, pk1, bytes) == 0);
            /* the kernels alone: n_pair tokens in the 4-token steps, the rest in the one-token steps */
            int bad = 0;
            for (int lv = XUAN_SIMD_SCALAR; lv <= XUAN_SIMD_AVX512; lv++)
                for (int nt = 1; nt <= TOK; nt++)
                    for (int n_pair = 0; n_pair <= nt; n_pair += 4) {
                        memset(yp, 0xFF, sizeof yp);
                        xuan_q4_K_packed_kernel((xuan_simd)lv)(pk, COLS, 0, np, np, act, ab, nt, n_pair, yp, ROWS);
                        /* the scalar reference from the second group on */
                        xuan_q4_K_packed_scalar(pk, COLS, 8, np, np, act, ab, nt, n_pair, y, ROWS);
                        for (int t = 0; t < nt; t++)
                            for (int r = 0; r < ROWS; r++) {
                                const uint8_t *wr = w + r * rb, *ar = act + t * ab;
                                const float ref = t < n_pair ? xuan_dot_q4_K_pairs_scalar(COLS, wr, ar)
                                                             : xuan_vec_dot(XUAN_SIMD_SCALAR, XUAN_TYPE_Q4_K, COLS, wr, ar);
                                const float *got = &yp[t * ROWS + r], *sref = &y[t * ROWS + r];
                                if (r < np) bad += memcmp(got, &ref, 4) != 0 || (r >= 8 && memcmp(sref, &ref, 4) != 0);
                                else bad += memcmp(got, &(uint32_t){0xFFFFFFFFu}, 4) != 0; /* not written */
                            }
                    }
            if (bad) test_fail(__FILE__, __LINE__, "Q4_K packed kernels, %d x %d: %d outputs differ", ROWS, COLS, bad);
            /* xuan_matmul with and without the layout, at each level */
            for (int lv = XUAN_SIMD_SCALAR; lv <= (int)xuan_cpu_get()->native; lv++)
                for (int p = 0; p < 2; p++)
                    for (int nt = 1; nt <= TOK; nt++) {
                        wt.packed = NULL;
                        xuan_matmul_kind(p ? pool2 : NULL, &wt, x, nt, y0, scratch, XUAN_MM_2D, (xuan_simd)lv);
                        wt.packed = pk;
                        memset(y, 0, sizeof y);
                        xuan_matmul_kind(p ? pool2 : NULL, &wt, x, nt, y, scratch, XUAN_MM_2D, (xuan_simd)lv);
                        if (memcmp(y, y0, (size_t)nt * ROWS * sizeof(float)) != 0)
                            test_fail(__FILE__, __LINE__, "Q4_K %d x %d, level %d, pool %d, %d tokens: packed != plain",
                                      ROWS, COLS, lv, p + 1, nt);
                    }
            xuan_free_aligned(pk);
            xuan_free_aligned(pk1);
        }
    /* not packable: fewer than 16 rows, not a multiple of 8, another type */
    CHECK_EQ_INT(xuan_q4_K_packed_bytes(&(xuan_weight){XUAN_TYPE_Q4_K, w, 8, 256, NULL}), 0);
    CHECK_EQ_INT(xuan_q4_K_packed_bytes(&(xuan_weight){XUAN_TYPE_Q4_K, w, 37, 256, NULL}), 0);
    CHECK_EQ_INT(xuan_q4_K_packed_bytes(&(xuan_weight){XUAN_TYPE_Q8_0, w, 64, 256, NULL}), 0);
    xuan_pool_free(pool2);
}

int main(void) {
    RUN(test_block_sizes);
    RUN(test_fp16);
    RUN(test_dequant_vs_dot);
    RUN(test_roundtrip);
    RUN(test_simd_vs_scalar);
    RUN(test_f16_single_orders);
    RUN(test_f32_orders);
    RUN(test_matmul);
    RUN(test_matmul_batch);
    RUN(test_matmul_rowwise);
    RUN(test_pool);
    RUN(test_golden);
    RUN(test_mxfp4);
    RUN(test_gemm_mxfp4);
    RUN(test_q4_K_repack);
    return test_done();
}
