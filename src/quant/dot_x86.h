/*
 * dot_x86.h — the x86 SIMD dot products, written once and compiled twice:
 * by dot_avx2.c (AVX2 + FMA + F16C) and by dot_avx512.c, which defines
 * XUAN_VNNI so that unsigned x signed byte products go through
 * vpdpbusd (AVX-512 VNNI on 256-bit registers: no int16 saturation, one
 * instruction instead of three, and no 512-bit frequency penalty), and
 * scaled int16 sums through vpdpwssd; and XUAN_DOT512, which leaves out
 * the kernels it replaces with 512-bit ones (see SIMD_Q5_K below).
 *
 * Each kernel computes, per block, the same exact integer sum as the
 * scalar reference in dot.c (products are bounded so that the int16
 * intermediates of vpmaddubsw never saturate: at most 2*128*127 = 32512),
 * then accumulates block_scale * sum in float lanes with FMA.  Only the
 * order of those float additions differs from dot.c.
 *
 * Sections: helpers, 32-element types, K-quants, float types, table.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* F16C conversion: exact, like xuan_fp16_to_fp32, but one instruction. */
#define H2F(h) _cvtsh_ss(h)

/* ---- helpers ------------------------------------------------------------------ */

static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* acc + (sum over groups of 4 of u8 * s8) as 8 int32 lanes. */
static inline __m256i dot_u8s8_acc(__m256i acc, __m256i u, __m256i s) {
#ifdef XUAN_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
#endif
}

/* Signed x signed bytes: move the sign of x onto y, so |x| is unsigned. */
static inline __m256i dot_s8s8(__m256i x, __m256i y) {
    return dot_u8s8_acc(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* 16 bytes of nibbles -> 32 bytes: low nibbles in the low lane, high
 * nibbles in the high lane (ggml's element order for 32-blocks). */
static inline __m256i nibbles32(const uint8_t *p) {
    __m128i t = _mm_loadu_si128((const __m128i *)p);
    __m256i b = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, 0xFF where the bit is set. */
static inline __m256i bits_to_bytes(const uint8_t qh[4]) {
    uint32_t x;
    memcpy(&x, qh, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(b, bit), bit);
}

/* ---- 32-element weights x Q8_0 / Q8_1 ---------------------------------------------- */

static float simd_dot_q8_0(int64_t n, const void *vw, const void *va) {
    const block_q8_0 *w = vw;
    const block_q8_0 *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)w[i].qs);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8s8(x, y)), acc);
    }
    return hsum_ps(acc);
}

static float simd_dot_q4_0(int64_t n, const void *vw, const void *va) {
    const block_q4_0 *w = vw;
    const block_q8_0 *a = va;
    __m256 acc = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(8);
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i x = _mm256_sub_epi8(nibbles32(w[i].qs), off);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8s8(x, y)), acc);
    }
    return hsum_ps(acc);
}

static float simd_dot_q4_1(int64_t n, const void *vw, const void *va) {
    const block_q4_1 *w = vw;
    const block_q8_1 *a = va;
    __m256 acc = _mm256_setzero_ps();
    float summ = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i x = nibbles32(w[i].qs);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        __m256i p = dot_u8s8_acc(_mm256_setzero_si256(), x, y);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
        summ += H2F(w[i].m) * H2F(a[i].s);
    }
    return hsum_ps(acc) + summ;
}

static float simd_dot_q5_0(int64_t n, const void *vw, const void *va) {
    const block_q5_0 *w = vw;
    const block_q8_0 *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        /* Where the 5th bit is clear, or in 0xF0: the byte becomes nib - 16. */
        __m256i hi = _mm256_andnot_si256(bits_to_bytes(w[i].qh), _mm256_set1_epi8((char)0xF0));
        __m256i x = _mm256_or_si256(nibbles32(w[i].qs), hi);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8s8(x, y)), acc);
    }
    return hsum_ps(acc);
}

static float simd_dot_q5_1(int64_t n, const void *vw, const void *va) {
    const block_q5_1 *w = vw;
    const block_q8_1 *a = va;
    __m256 acc = _mm256_setzero_ps();
    float summ = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i hi = _mm256_and_si256(bits_to_bytes(w[i].qh), _mm256_set1_epi8(0x10));
        __m256i x = _mm256_or_si256(nibbles32(w[i].qs), hi);
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        __m256i p = dot_u8s8_acc(_mm256_setzero_si256(), x, y);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
        summ += H2F(w[i].m) * H2F(a[i].s);
    }
    return hsum_ps(acc) + summ;
}

static inline __m256i iq4_values(void) {
    __m128i t = _mm_loadu_si128((const __m128i *)xuan_kvalues_iq4nl);
    return _mm256_set_m128i(t, t);
}

static float simd_dot_iq4_nl(int64_t n, const void *vw, const void *va) {
    const block_iq4_nl *w = vw;
    const block_q8_0 *a = va;
    const __m256i values = iq4_values();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i x = _mm256_shuffle_epi8(values, nibbles32(w[i].qs));
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256 d = _mm256_set1_ps(H2F(w[i].d) * H2F(a[i].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8s8(x, y)), acc);
    }
    return hsum_ps(acc);
}

/* MXFP4: the doubled E2M1 values by table lookup, a signed byte product
 * per block, then dot.c's order (one fused multiply-add per block, as
 * llama.cpp's repacked mxfp4_8x8 kernels), so every level gives the scalar
 * bits. */
static float simd_dot_mxfp4(int64_t n, const void *vw, const void *va) {
    const block_mxfp4 *w = vw;
    const block_q8_0 *a = va;
    const __m128i t = _mm_loadu_si128((const __m128i *)xuan_kvalues_mxfp4);
    const __m256i values = _mm256_set_m128i(t, t);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK32; i++) {
        __m256i x = _mm256_shuffle_epi8(values, nibbles32(w[i].qs));
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        sum = fmaf((float)hsum_epi32(dot_s8s8(x, y)), xuan_e8m0_half(w[i].e) * H2F(a[i].d), sum);
    }
    return sum;
}

/* MXFP4 in ggml_vec_dot_mxfp4_q8_0's AVX2 order, which llama.cpp takes for
 * a one-token product (decode): two accumulators of 8 lanes, even and odd
 * blocks, summed by hsum_float_8; an odd last block added after. */
static inline float simd_dot_mxfp4_single(int64_t n, const void *vw, const void *va) {
    const block_mxfp4 *w = vw;
    const block_q8_0 *a = va;
    const __m128i t = _mm_loadu_si128((const __m128i *)xuan_kvalues_mxfp4);
    const __m256i values = _mm256_set_m128i(t, t);
    const int64_t nb = n / QK32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i x0 = _mm256_shuffle_epi8(values, nibbles32(w[i].qs));
        __m256i x1 = _mm256_shuffle_epi8(values, nibbles32(w[i + 1].qs));
        __m256i y0 = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256i y1 = _mm256_loadu_si256((const __m256i *)a[i + 1].qs);
        __m256 d0 = _mm256_set1_ps(H2F(a[i].d) * xuan_e8m0_half(w[i].e));
        __m256 d1 = _mm256_set1_ps(H2F(a[i + 1].d) * xuan_e8m0_half(w[i + 1].e));
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(dot_s8s8(x0, y0)), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(dot_s8s8(x1, y1)), acc1);
    }
    float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
    for (; i < nb; i++) {
        __m256i x = _mm256_shuffle_epi8(values, nibbles32(w[i].qs));
        __m256i y = _mm256_loadu_si256((const __m256i *)a[i].qs);
        sum += H2F(a[i].d) * xuan_e8m0_half(w[i].e) * (float)hsum_epi32(dot_s8s8(x, y));
    }
    return sum;
}

/* ---- K-quants x Q8_K -------------------------------------------------------------------- */

/* Q4_K / Q5_K (both levels): scales and mins of one block as 16 int16 (8 scales, then 8
 * mins), decoded like xuan_scale_min_k4 but on 32-bit words (ggml's
 * layout: bytes 0-3 low 6 bits of scales 0-3, 4-7 of mins 0-3, 8-11 the low
 * nibbles of scales/mins 4-7, whose high 2 bits are the top bits of 0-7). */
static inline __m256i k4_scales_mins(const uint8_t s[12]) {
    uint32_t u[4];
    memcpy(u, s, 12);
    const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    const uint32_t mins_lo = u[1] & k1;
    u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    u[2] = mins_lo;
    u[0] &= k1;
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)u));
}

/* The mins term of one block as 8 int32 lanes: each min (a byte of the
 * 6-bit decode) times the two 16-sums of its sub-block. */
static inline __m256i k4_mins_dot2(__m256i sm, const int16_t bsums[16]) {
    const __m256i dup = _mm256_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7,
                                         8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15);
    __m256i mins = _mm256_permute2x128_si256(sm, sm, 0x11); /* words 8-15 in both lanes */
    mins = _mm256_shuffle_epi8(mins, dup);
    return _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)bsums));
}

/* int16 scale j (of the 8 in the low lane of sm) in all 16 words. */
static inline __m256i k4_scale_bcast(__m256i sm_lo2, int j) {
    return _mm256_shuffle_epi8(sm_lo2, _mm256_set1_epi16((short)(0x0100 * (2 * j + 1) + 2 * j)));
}

/* u8 (values < 64) times s8, pairs summed to int16, then times an int16
 * scale and pairs summed to int32. */
static inline __m256i mul_scaled(__m256i u, __m256i s, __m256i scale16) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale16);
}

/* acc + mul_scaled(u, s, scale16): one vpdpwssd with VNNI. */
static inline __m256i mul_scaled_acc(__m256i acc, __m256i u, __m256i s, __m256i scale16) {
#ifdef XUAN_VNNI
    return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(u, s), scale16);
#else
    return _mm256_add_epi32(acc, mul_scaled(u, s, scale16));
#endif
}

/* One Q4_K super-block: the scale-weighted integer sums in 8 lanes (*sumi)
 * and m_k * (bsums of sub-block k) in 8 lanes (*mins); with per_pair, the
 * float steps of each pair of sub-blocks are taken here instead. */
static inline __attribute__((always_inline)) void q4_K_block(const block_q4_K *w, const block_q8_K *a, __m256i *sumi_out, __m256i *mins_out,
                              const bool per_pair, float *acc, float *acc_m) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i sm = k4_scales_mins(w->scales);
    const __m256i sc2 = _mm256_permute2x128_si256(sm, sm, 0x00);
    const uint8_t *q = w->qs;
    const int8_t *q8 = a->qs;
    const __m256i mins = k4_mins_dot2(sm, a->bsums);
    _Alignas(32) int32_t mv[8];
    if (per_pair) _mm256_store_si256((__m256i *)mv, mins);
    const float d = H2F(w->d) * a->d, dmin = H2F(w->dmin) * a->d;
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; j += 2, q += 32, q8 += 64) {
        __m256i bits = _mm256_loadu_si256((const __m256i *)q);
        __m256i lo = _mm256_and_si256(bits, m4);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
        __m256i y0 = _mm256_loadu_si256((const __m256i *)q8);
        __m256i y1 = _mm256_loadu_si256((const __m256i *)(q8 + 32));
        sumi = mul_scaled_acc(sumi, lo, y0, k4_scale_bcast(sc2, j));
        sumi = mul_scaled_acc(sumi, hi, y1, k4_scale_bcast(sc2, j + 1));
        if (per_pair) {
            *acc = fmaf((float)hsum_epi32(sumi), d, *acc);
            *acc_m = fmaf((float)(mv[j] + mv[j + 1]), dmin, *acc_m);
            sumi = _mm256_setzero_si256();
        }
    }
    *sumi_out = sumi;
    *mins_out = mins;
}

/* Q4_K in llama.cpp's arithmetic (dot.c): per super-block, or per pair of
 * sub-blocks (per_pair: its 4-token gemm), one integer sum -> one fused
 * float step for the values and one for the mins.  Per super-block, the
 * two reductions share one hadd tree and the two float chains run in the
 * two low lanes of one register (lane 0: values, lane 1: mins). */
static inline __attribute__((always_inline)) float q4_K_dot(int64_t n, const void *vw, const void *va,
                                                            const bool per_pair) {
    const block_q4_K *w = vw;
    const block_q8_K *a = va;
    float acc = 0, acc_m = 0;
    __m128 acc2 = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        __m256i s, m;
        q4_K_block(&w[i], &a[i], &s, &m, per_pair, &acc, &acc_m);
        if (per_pair) continue;
        const __m256i h = _mm256_hadd_epi32(s, m); /* s01 s23 m01 m23 | s45 s67 m45 m67 */
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        t = _mm_hadd_epi32(t, t); /* S M S M */
        int32_t dd;
        memcpy(&dd, &w[i].d, 4); /* d, dmin */
        const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(dd));
        acc2 = _mm_fmadd_ps(_mm_cvtepi32_ps(t), _mm_mul_ps(dw, _mm_set1_ps(a[i].d)), acc2);
    }
    if (!per_pair) {
        acc = _mm_cvtss_f32(acc2);
        acc_m = _mm_cvtss_f32(_mm_movehdup_ps(acc2));
    }
    return acc - acc_m;
}

static float simd_dot_q4_K(int64_t n, const void *vw, const void *va) { return q4_K_dot(n, vw, va, false); }

/* q4_K_dot of one weight row with four activation rows at once: each
 * block's nibbles and scales are unpacked once for the four tokens.  Every
 * token keeps its own arithmetic: integer sums are exact in any order (one
 * hadd tree reduces the four tokens' sums together), and each token's value
 * and min chains run in its own lane of acc4 / accm4, fused multiply-adds
 * in q4_K_dot's order, so out[t] holds the bits q4_K_dot(n, w, a[t],
 * per_pair) returns: per pair of sub-blocks (llama.cpp's 4-token gemm) or
 * per super-block (its one-token kernel, which mul_mat_id gives each row
 * routed to an expert; q4_K_dot's (d, dmin) * ad is one _mm_mul_ps, the
 * same roundings as d4 and dmin4 here). */
static inline __attribute__((always_inline)) void q4_K_x4(int64_t n, const void *vw, const void *const va[4],
                                                          float out[4], const bool per_pair) {
    const block_q4_K *w = vw;
    const block_q8_K *a[4] = {va[0], va[1], va[2], va[3]};
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m128 acc4 = _mm_setzero_ps(), accm4 = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const __m256i sm = k4_scales_mins(w[i].scales);
        const __m256i sc2 = _mm256_permute2x128_si256(sm, sm, 0x00);
        __m256i mn[4], sum[4];
        _Alignas(32) int32_t mv[4][8];
        for (int t = 0; t < 4; t++) {
            mn[t] = k4_mins_dot2(sm, a[t][i].bsums);
            sum[t] = _mm256_setzero_si256();
            if (per_pair) _mm256_store_si256((__m256i *)mv[t], mn[t]);
        }
        const __m128 ad = _mm_setr_ps(a[0][i].d, a[1][i].d, a[2][i].d, a[3][i].d);
        const __m128 d4 = _mm_mul_ps(_mm_set1_ps(H2F(w[i].d)), ad);
        const __m128 dmin4 = _mm_mul_ps(_mm_set1_ps(H2F(w[i].dmin)), ad);
        const uint8_t *q = w[i].qs;
        for (int j = 0; j < 8; j += 2, q += 32) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)q);
            const __m256i lo = _mm256_and_si256(bits, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            const __m256i s0 = k4_scale_bcast(sc2, j), s1 = k4_scale_bcast(sc2, j + 1);
            for (int t = 0; t < 4; t++) {
                const int8_t *q8 = a[t][i].qs + 32 * j;
                const __m256i y0 = _mm256_loadu_si256((const __m256i *)q8);
                const __m256i y1 = _mm256_loadu_si256((const __m256i *)(q8 + 32));
                const __m256i from = per_pair ? _mm256_setzero_si256() : sum[t];
                sum[t] = mul_scaled_acc(mul_scaled_acc(from, lo, y0, s0), hi, y1, s1);
            }
            if (per_pair) {
                const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(sum[0], sum[1]), _mm256_hadd_epi32(sum[2], sum[3]));
                const __m128i st = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
                const __m128i mt = _mm_setr_epi32(mv[0][j] + mv[0][j + 1], mv[1][j] + mv[1][j + 1],
                                                  mv[2][j] + mv[2][j + 1], mv[3][j] + mv[3][j + 1]);
                acc4 = _mm_fmadd_ps(_mm_cvtepi32_ps(st), d4, acc4);
                accm4 = _mm_fmadd_ps(_mm_cvtepi32_ps(mt), dmin4, accm4);
            }
        }
        if (!per_pair) {
            const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(sum[0], sum[1]), _mm256_hadd_epi32(sum[2], sum[3]));
            const __m128i st = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            const __m256i hm = _mm256_hadd_epi32(_mm256_hadd_epi32(mn[0], mn[1]), _mm256_hadd_epi32(mn[2], mn[3]));
            const __m128i mt = _mm_add_epi32(_mm256_castsi256_si128(hm), _mm256_extracti128_si256(hm, 1));
            acc4 = _mm_fmadd_ps(_mm_cvtepi32_ps(st), d4, acc4);
            accm4 = _mm_fmadd_ps(_mm_cvtepi32_ps(mt), dmin4, accm4);
        }
    }
    _mm_storeu_ps(out, _mm_sub_ps(acc4, accm4));
}
static inline void q4_K_pairs_x4(int64_t n, const void *vw, const void *const va[4], float out[4]) {
    q4_K_x4(n, vw, va, out, true);
}
static inline void q4_K_single_x4(int64_t n, const void *vw, const void *const va[4], float out[4]) {
    q4_K_x4(n, vw, va, out, false);
}

#ifndef XUAN_DOT512 /* dot_avx512.c has 512-bit versions */
static float simd_dot_q5_K(int64_t n, const void *vw, const void *va) {
    const block_q5_K *w = vw;
    const block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const __m256i sm = k4_scales_mins(w[i].scales);
        const __m256i sc2 = _mm256_permute2x128_si256(sm, sm, 0x00);
        const uint8_t *q = w[i].qs;
        const int8_t *q8 = a[i].qs;
        const __m256i hbits = _mm256_loadu_si256((const __m256i *)w[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 8; j += 2, q += 32, q8 += 64) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)q);
            /* Bit j of qh[l] is the 5th bit of element 32j + l. */
            __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hbits, j), _mm256_set1_epi8(1));
            __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hbits, j + 1), _mm256_set1_epi8(1));
            __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4), _mm256_slli_epi16(h0, 4));
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                         _mm256_slli_epi16(h1, 4));
            __m256i y0 = _mm256_loadu_si256((const __m256i *)q8);
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(q8 + 32));
            sumi = mul_scaled_acc(sumi, lo, y0, k4_scale_bcast(sc2, j));
            sumi = mul_scaled_acc(sumi, hi, y1, k4_scale_bcast(sc2, j + 1));
        }
        const float ad = a[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(ad * H2F(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(ad * H2F(w[i].dmin)),
                                _mm256_cvtepi32_ps(k4_mins_dot2(sm, a[i].bsums)), acc_m);
    }
    return hsum_ps(acc) - hsum_ps(acc_m);
}
#endif

#ifndef XUAN_DOT512 /* dot_avx512.c has 512-bit versions */
/* Shuffle control: word a of a 128-bit lane in all of the low lane, word
 * b in all of the high lane. */
static inline __m256i word_pair_ctl(int a, int b) {
    return _mm256_set_m128i(_mm_set1_epi16((short)(0x0100 * (2 * b + 1) + 2 * b)),
                            _mm_set1_epi16((short)(0x0100 * (2 * a + 1) + 2 * a)));
}

static float simd_dot_q6_K(int64_t n, const void *vw, const void *va) {
    const block_q6_K *w = vw;
    const block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    const __m256i c01 = word_pair_ctl(0, 1), c23 = word_pair_ctl(2, 3), c45 = word_pair_ctl(4, 5),
                  c67 = word_pair_ctl(6, 7);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const uint8_t *ql = w[i].ql, *qh = w[i].qh;
        const int8_t *q8 = a[i].qs;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        /* q - 32 is folded in: sum(q*y) - 32*sum(y) per 16 elements, with
         * sum(y) from bsums. */
        const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)a[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
        for (int k = 0; k < 2; k++, ql += 64, qh += 32, q8 += 128) {
            /* This half's 8 scales (words 8k..8k+7) in both lanes. */
            const __m256i sc = k ? _mm256_permute2x128_si256(sc16, sc16, 0x11)
                                 : _mm256_permute2x128_si256(sc16, sc16, 0x00);
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
            __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
            const __m256i *yp = (const __m256i *)q8;
            /* Each 32-byte group spans two 16-element sub-blocks: scales in
             * the low and high 128-bit lanes. */
            sumi = mul_scaled_acc(sumi, q1, _mm256_loadu_si256(yp + 0), _mm256_shuffle_epi8(sc, c01));
            sumi = mul_scaled_acc(sumi, q2, _mm256_loadu_si256(yp + 1), _mm256_shuffle_epi8(sc, c23));
            sumi = mul_scaled_acc(sumi, q3, _mm256_loadu_si256(yp + 2), _mm256_shuffle_epi8(sc, c45));
            sumi = mul_scaled_acc(sumi, q4, _mm256_loadu_si256(yp + 3), _mm256_shuffle_epi8(sc, c67));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * H2F(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}
#endif

static float simd_dot_iq4_xs(int64_t n, const void *vw, const void *va) {
    const block_iq4_xs *w = vw;
    const block_q8_K *a = va;
    const __m256i values = iq4_values();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const uint8_t *qs = w[i].qs;
        const int8_t *q8 = a[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++, qs += 16, q8 += 32) {
            const int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) |
                           (((w[i].scales_h >> 2 * ib) & 3) << 4);
            __m256i x = _mm256_shuffle_epi8(values, nibbles32(qs));
            __m256i y = _mm256_loadu_si256((const __m256i *)q8);
            __m256i p = dot_s8s8(x, y);
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls - 32)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * H2F(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

/* Q2_K and Q3_K: 2-bit planes; q (0..3 or -4..3 after the high bit) times
 * q8, per 16-element sub-block scale. */
static float simd_dot_q2_K(int64_t n, const void *vw, const void *va) {
    const block_q2_K *w = vw;
    const block_q8_K *a = va;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        int summs = 0;
        for (int j = 0; j < 16; j++) summs += a[i].bsums[j] * (w[i].scales[j] >> 4);
        const uint8_t *q = w[i].qs;
        const int8_t *q8 = a[i].qs;
        const uint8_t *scp = w[i].scales;
        __m256i sumi = _mm256_setzero_si256();
        for (int k = 0; k < 2; k++, q += 32) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)q);
            for (int shift = 0; shift < 8; shift += 2, q8 += 32, scp += 2) {
                __m256i x = _mm256_and_si256(_mm256_srli_epi16(bits, shift), m3);
                __m256i sc = _mm256_set_m128i(_mm_set1_epi16(scp[1] & 0xF), _mm_set1_epi16(scp[0] & 0xF));
                sumi = _mm256_add_epi32(sumi, mul_scaled(x, _mm256_loadu_si256((const __m256i *)q8), sc));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * H2F(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
        acc_m -= a[i].d * H2F(w[i].dmin) * summs;
    }
    return hsum_ps(acc) + acc_m;
}

static float simd_dot_q3_K(int64_t n, const void *vw, const void *va) {
    const block_q3_K *w = vw;
    const block_q8_K *a = va;
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        int8_t sc[16];
        xuan_q3k_scales(w[i].scales, sc);
        /* q - 4*(1 - hbit) = q + 4*hbit - 4: the -4 uses bsums. */
        int corr = 0;
        for (int j = 0; j < 16; j++) corr += sc[j] * a[i].bsums[j];
        const uint8_t *q = w[i].qs;
        const int8_t *q8 = a[i].qs;
        const __m256i hbits = _mm256_loadu_si256((const __m256i *)w[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        int is = 0, hshift = 0;
        for (int k = 0; k < 2; k++, q += 32) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)q);
            for (int shift = 0; shift < 8; shift += 2, q8 += 32, is += 2, hshift++) {
                __m256i lo = _mm256_and_si256(_mm256_srli_epi16(bits, shift), m3);
                __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hbits, hshift), one);
                __m256i x = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
                __m256i s16 = _mm256_set_m128i(_mm_set1_epi16(sc[is + 1]), _mm_set1_epi16(sc[is]));
                sumi = _mm256_add_epi32(sumi, mul_scaled(x, _mm256_loadu_si256((const __m256i *)q8), s16));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(4 * corr, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * H2F(w[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

/* ---- float weights x F32 activations ------------------------------------------------------ */

#if !defined(__AVX512F__)
/* llama.cpp's AVX2 build: F32 weights go through tinyBLAS<8> (one 8-lane
 * FMA sum, hsum_ps) when n % 8 == 0, else ggml_vec_dot_f32 (four 8-lane
 * sums over 32-element steps, GGML_F32x8_REDUCE, the tail one FMA at a
 * time), which is also what it runs on a non-contiguous batch (deepseek2's
 * per-head k_b / v_b products: xuan_dot_f32_vec_kernel).  The AVX-512 level keeps its own order (F32 models are held to
 * 1e-3, docs/design.md). */
static inline float dot_f32_vec_avx2(int64_t n, const float *w, const float *a) {
    __m256 x[4];
    for (int k = 0; k < 4; k++) x[k] = _mm256_setzero_ps();
    const int64_t np = n & ~(int64_t)31;
    for (int64_t i = 0; i < np; i += 32)
        for (int k = 0; k < 4; k++)
            x[k] = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8 * k), _mm256_loadu_ps(a + i + 8 * k), x[k]);
    x[0] = _mm256_add_ps(x[0], x[2]);
    x[1] = _mm256_add_ps(x[1], x[3]);
    x[0] = _mm256_add_ps(x[0], x[1]);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(x[0]), _mm256_extractf128_ps(x[0], 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    float sum = _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    for (int64_t i = np; i < n; i++) sum = fmaf(w[i], a[i], sum);
    return sum;
}

static float simd_dot_f32(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    if (n % 8) return dot_f32_vec_avx2(n, w, a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), acc);
    return hsum_ps(acc);
}
#else
/* ggml_vec_dot_f32 of the AVX-512 build (GGML_F32_STEP 64): four 16-lane
 * FMA sums over the first n - n % 64 elements, folded 0+2, 1+3, then 0+1,
 * the _mm512_reduce_add_ps tree, the tail one FMA at a time.  llama.cpp runs
 * it where tinyBLAS declines: one token, rows % 4 != 0, n % 16 != 0, and a
 * batch that is not contiguous (xuan_dot_f32_vec_kernel). */
static inline float dot_f32_vec_avx512(int64_t n, const float *w, const float *a) {
    __m512 x[4];
    for (int k = 0; k < 4; k++) x[k] = _mm512_setzero_ps();
    const int64_t np = n & ~(int64_t)63;
    for (int64_t i = 0; i < np; i += 64)
        for (int k = 0; k < 4; k++)
            x[k] = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16 * k), _mm512_loadu_ps(a + i + 16 * k), x[k]);
    x[0] = _mm512_add_ps(x[0], x[2]);
    x[1] = _mm512_add_ps(x[1], x[3]);
    x[0] = _mm512_add_ps(x[0], x[1]);
    float sum = _mm512_reduce_add_ps(x[0]);
    for (int64_t i = np; i < n; i++) sum = fmaf(w[i], a[i], sum);
    return sum;
}

/* tinyBLAS<16>'s order (acc0 holds lanes 0-7, acc1 8-15; hsum of their sum
 * is the _mm512_reduce_add_ps tree) where it takes the product, n % 16 == 0 */
static float simd_dot_f32(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    if (n % 16) return dot_f32_vec_avx512(n, w, a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a + i + 8), acc1);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}
#endif

#if defined(__AVX512F__)
/* llama.cpp's batch order for F16 (tinyBLAS, 16 lanes: acc0 holds lanes
 * 0-7, acc1 8-15; hsum of their sum is the _mm512_reduce_add_ps tree);
 * other lengths take its single-token order, as it does. */
static float simd_dot_f16(int64_t n, const void *vw, const void *va) {
    if (n % 16) return xuan_dot_f16_single_avx2(n, vw, va);
    const uint16_t *w = vw;
    const float *a = va;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i)));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8)));
        acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a + i), acc0);
        acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a + i + 8), acc1);
    }
    return hsum_ps(_mm256_add_ps(acc0, acc1));
}
#else
/* llama.cpp's AVX2 build: tinyBLAS<8>, one 8-lane sum and its hsum (dot.c,
 * xuan_dot_f16_lanes8_scalar); other lengths its single-token order. */
static float simd_dot_f16(int64_t n, const void *vw, const void *va) {
    if (n % 8) return xuan_dot_f16_single8_avx2(n, vw, va);
    const uint16_t *w = vw;
    const float *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))), _mm256_loadu_ps(a + i), acc);
    __m128 x = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}
#endif

static float simd_dot_bf16(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + i)));
        __m256 wf = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
        acc = _mm256_fmadd_ps(wf, _mm256_loadu_ps(a + i), acc);
    }
    float sum = hsum_ps(acc);
    for (; i < n; i++) sum += xuan_bf16_to_fp32(w[i]) * a[i];
    return sum;
}

/* The entries dot_avx512.c replaces with 512-bit kernels. */
#ifdef XUAN_DOT512
#define SIMD_Q5_K dot512_q5_K
#define SIMD_Q6_K dot512_q6_K
#else
#define SIMD_Q5_K simd_dot_q5_K
#define SIMD_Q6_K simd_dot_q6_K
#endif

#define SIMD_Q8_0 simd_dot_q8_0
#define SIMD_Q4_K simd_dot_q4_K

#define SIMD_DOT_TABLE                                                                             \
    {                                                                                              \
        [XUAN_TYPE_F32] = simd_dot_f32, [XUAN_TYPE_F16] = simd_dot_f16,                            \
        [XUAN_TYPE_BF16] = simd_dot_bf16, [XUAN_TYPE_Q4_0] = simd_dot_q4_0,                        \
        [XUAN_TYPE_Q4_1] = simd_dot_q4_1, [XUAN_TYPE_Q5_0] = simd_dot_q5_0,                        \
        [XUAN_TYPE_Q5_1] = simd_dot_q5_1, [XUAN_TYPE_Q8_0] = SIMD_Q8_0,                        \
        [XUAN_TYPE_Q2_K] = simd_dot_q2_K, [XUAN_TYPE_Q3_K] = simd_dot_q3_K,                        \
        [XUAN_TYPE_Q4_K] = SIMD_Q4_K, [XUAN_TYPE_Q5_K] = SIMD_Q5_K,                        \
        [XUAN_TYPE_Q6_K] = SIMD_Q6_K, [XUAN_TYPE_IQ4_NL] = simd_dot_iq4_nl,                    \
        [XUAN_TYPE_IQ4_XS] = simd_dot_iq4_xs, [XUAN_TYPE_MXFP4] = simd_dot_mxfp4,                  \
    }

/* One-token bits, four tokens per pass over a weight row (NULL: none).
 * Q4_K only: its unpacking (scales, mins, nibbles) is what four tokens
 * share; the same for Q8_0 / Q5_0 measured no gain (DeepSeek-V2-Lite pp128
 * CPU time 10.1 s -> 9.6-10.1 s) and a loss on a 4-sequence decode of
 * Qwen2.5-0.5B (11.3 s -> 11.9 s). */
#define SIMD_X4_TABLE {[XUAN_TYPE_Q4_K] = q4_K_single_x4}
