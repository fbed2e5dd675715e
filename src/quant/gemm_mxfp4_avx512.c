/*
 * gemm_mxfp4_avx512.c — MXFP4 x Q8_0 batch products on AVX-512 VNNI in
 * the float steps of the one-token dot (dot.c's dot_mxfp4, llama.cpp's
 * repacked mxfp4_8x8 gemm and gemv): per 32-element block the exact
 * integer sum, then one fused multiply-add by 2^(e - 128) * d_a into a
 * single running sum per (row, token).  Results are bit-identical to
 * xuan_vec_dot(MXFP4) for every token, so the rows routed to a gpt-oss
 * expert (mul_mat_id, XUAN_MM_ROWWISE) can go through it as a batch.
 *
 * Why.  Row by row, each (row, token, block) costs a nibble lookup, a byte
 * product, a horizontal integer sum and a scalar fused multiply-add; here a
 * panel of 16 rows is unpacked once per call and each block costs eight
 * vpdpbusd for 16 rows of a token, then one conversion, one multiply and
 * one fused multiply-add on 16 lanes.
 *
 * How.  For each K-chunk (KCB blocks) and each panel of 16 rows:
 *  1. pack: per block, 8 vectors whose 32-bit lane r holds 4 consecutive
 *     doubled E2M1 values + 128 (unsigned) of row r (vector k: elements 4k
 *     .. 4k+3; the low nibbles are elements 0..15, the high ones 16..31),
 *     then the 16 rows' scales 2^(e - 128) as floats.  The 16 rows' quants
 *     are read with plain 16-byte loads and put into lanes by two-source
 *     permutes; only the exponent bytes are gathered.
 *  2. multiply, NT tokens at a time: the integer accumulator starts at
 *     -128 * sum(a) (meta), so vpdpbusd(values + 128, a) ends at the exact
 *     block sum; then acc = fma(float(sum), scale * d_a, acc).  acc is the
 *     running sum of the row and token: it goes through y between K-chunks
 *     (a float stored and loaded is the same float), so chunking does not
 *     change a bit.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <immintrin.h>
#include <stddef.h>

enum {
    PR = 16,                   /* rows per panel */
    NT = 8,                    /* tokens per tile */
    KCB = 32,                  /* blocks per K-chunk: the panel is 18 KB, stays in L1 */
    BLK = 8 * 64 + 64,         /* packed bytes per block of 16 rows */
};

/* Per token and block: d_a and -128 * sum(a). */
typedef struct mxfp4_meta {
    float d;
    int32_t neg_csum;
} mxfp4_meta;

size_t xuan_gemm_mxfp4_meta_row_bytes(int64_t n_cols) { return (size_t)(n_cols / QK32) * sizeof(mxfp4_meta); }

void xuan_gemm_mxfp4_prepare_act(const void *act, int64_t n_cols, void *meta_row) {
    const block_q8_0 *a = act;
    mxfp4_meta *m = meta_row;
    for (int64_t b = 0; b < n_cols / QK32; b++) {
        int s = 0;
        for (int j = 0; j < QK32; j++) s += a[b].qs[j];
        m[b] = (mxfp4_meta){xuan_fp16_to_fp32(a[b].d), -128 * s};
    }
}

/* ---- packing ------------------------------------------------------------------------- */

/* Qs of one block of 4 rows (row i at p + i * w_row, rows outside m: 0)
 * as the 4 128-bit quarters of a vector.  Each row also asks for its
 * block in the next panel (16 rows on), which comes next (pf). */
static inline __m512i four_rows(const uint8_t *p, size_t w_row, unsigned m, bool pf) {
    if (pf)
        for (int i = 0; i < 4; i++) _mm_prefetch((const char *)(p + (i + 16) * w_row), _MM_HINT_T0);
    __m128i r[4];
    for (int i = 0; i < 4; i++) /* (a whole panel without a test per row) */
        r[i] = m == 0xF || m >> i & 1 ? _mm_loadu_si128((const __m128i *)(const void *)(p + i * w_row))
                                      : _mm_setzero_si128();
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(r[1], r[0])), _mm256_set_m128i(r[3], r[2]), 1);
}

/* Block b of 16 rows (w: block b of row 0) into out (BLK bytes). */
static void pack_block(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, __m512i table, uint8_t *out,
                       bool pf) {
    const uint8_t *qs = w + offsetof(block_mxfp4, qs);
    /* z[q] dword 4i + k: dword k of row 4q + i */
    __m512i z[4];
    for (int q = 0; q < 4; q++)
        z[q] = four_rows(qs + (size_t)(4 * q) * w_row, w_row, (unsigned)m >> (4 * q) & 0xF, pf);
    const __m512i sel01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
    const __m512i sel23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
    const __m512i u0 = _mm512_permutex2var_epi32(z[0], sel01, z[1]), u1 = _mm512_permutex2var_epi32(z[0], sel23, z[1]);
    const __m512i u2 = _mm512_permutex2var_epi32(z[2], sel01, z[3]), u3 = _mm512_permutex2var_epi32(z[2], sel23, z[3]);
    const __m512i v[4] = {_mm512_shuffle_i64x2(u0, u2, 0x44), _mm512_shuffle_i64x2(u0, u2, 0xEE),
                          _mm512_shuffle_i64x2(u1, u3, 0x44), _mm512_shuffle_i64x2(u1, u3, 0xEE)};
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int k = 0; k < 4; k++) { /* v[k] lane r: dword k of row r's qs */
        _mm512_store_si512(out + k * 64, _mm512_shuffle_epi8(table, _mm512_and_si512(v[k], m4)));
        _mm512_store_si512(out + (k + 4) * 64,
                           _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi32(v[k], 4), m4)));
    }
    /* 2^(e - 128) as xuan_e8m0_half builds it (e < 2: the subnormals) */
    const __m512i e = _mm512_and_si512(_mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, w, 1),
                                       _mm512_set1_epi32(0xFF));
    const __mmask16 sub = _mm512_cmplt_epu32_mask(e, _mm512_set1_epi32(2));
    const __m512i normal = _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23);
    const __m512i subn = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), e);
    /* rows outside m: 0, not the subnormal 2^-128 of e = 0 (an assist per product) */
    _mm512_store_si512(out + 8 * 64, _mm512_maskz_mov_epi32(m, _mm512_mask_blend_epi32(sub, normal, subn)));
}

/* ---- tile ------------------------------------------------------------------------------ */

static inline int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Tokens t0 .. t0 + nt over nb packed blocks from block b0: acc starts at
 * 0 (first chunk) or at y, ends in y.  nt is a constant after inlining. */
static inline __attribute__((always_inline)) void
tile(const uint8_t *panel, int nb, int64_t b0, const uint8_t *act, size_t act_row, const mxfp4_meta *meta,
     size_t meta_stride, int64_t t0, const int nt, float *y, size_t ys, __mmask16 rows, bool first) {
    __m512 acc[NT];
    const uint8_t *arow[NT];
    const mxfp4_meta *mrow[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y + (size_t)(t0 + t) * ys);
        arow[t] = act + (size_t)(t0 + t) * act_row + (size_t)b0 * sizeof(block_q8_0) + offsetof(block_q8_0, qs);
        mrow[t] = meta + (size_t)(t0 + t) * meta_stride + b0;
    }
    for (int b = 0; b < nb; b++) {
        const uint8_t *P = panel + (size_t)b * BLK;
        const size_t ao = (size_t)b * sizeof(block_q8_0);
        __m512i isum[NT];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) isum[t] = _mm512_set1_epi32(mrow[t][b].neg_csum);
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const __m512i wv = _mm512_load_si512(P + 64 * k);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                isum[t] = _mm512_dpbusd_epi32(isum[t], wv, _mm512_set1_epi32(load_i32(arow[t] + ao + 4 * k)));
        }
        const __m512 sc = _mm512_load_ps((const void *)(P + 8 * 64));
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(sc, _mm512_set1_ps(mrow[t][b].d)),
                                     acc[t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(y + (size_t)(t0 + t) * ys, rows, acc[t]);
}

/* ---- driver ------------------------------------------------------------------------------ */

bool xuan_gemm_mxfp4_rows(const uint8_t *w, size_t w_row, int64_t r0, int64_t r1, int64_t n_rows, int64_t n_cols,
                          const uint8_t *act, size_t act_row, const void *meta, int64_t n_tok, float *y) {
    const int64_t nbk = n_cols / QK32;
    const size_t ms = (size_t)nbk;
    _Alignas(64) uint8_t panel[KCB * BLK];
    uint8_t t8[16];
    for (int i = 0; i < 16; i++) t8[i] = (uint8_t)(xuan_kvalues_mxfp4[i] + 128);
    const __m512i table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)t8));
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)w_row));
    /* Panel by panel (16 consecutive rows are one stretch of memory, asked
     * for a panel ahead), each in K-chunks whose panel stays in L1 while
     * every token passes over it. */
    for (int64_t p = r0; p < r1; p += PR) {
        const int nr = r1 - p < PR ? (int)(r1 - p) : PR;
        const __mmask16 rows = (__mmask16)((1u << nr) - 1);
        const bool pf = p + 2 * PR <= r1; /* the next panel is whole */
        for (int64_t b0 = 0; b0 < nbk; b0 += KCB) {
            const int nb = nbk - b0 < KCB ? (int)(nbk - b0) : KCB;
            const uint8_t *wp = w + (size_t)p * w_row + (size_t)b0 * sizeof(block_mxfp4);
            for (int b = 0; b < nb; b++)
                pack_block(wp + (size_t)b * sizeof(block_mxfp4), w_row, idx, rows, table, panel + (size_t)b * BLK, pf);
            float *yp = y + p;
            const mxfp4_meta *m = meta;
            const bool first = b0 == 0;
            for (int64_t t0 = 0; t0 < n_tok; t0 += NT) {
                const int nt = n_tok - t0 < NT ? (int)(n_tok - t0) : NT;
                switch (nt) {
                case 8: tile(panel, nb, b0, act, act_row, m, ms, t0, 8, yp, (size_t)n_rows, rows, first); break;
                case 7: tile(panel, nb, b0, act, act_row, m, ms, t0, 7, yp, (size_t)n_rows, rows, first); break;
                case 6: tile(panel, nb, b0, act, act_row, m, ms, t0, 6, yp, (size_t)n_rows, rows, first); break;
                case 5: tile(panel, nb, b0, act, act_row, m, ms, t0, 5, yp, (size_t)n_rows, rows, first); break;
                case 4: tile(panel, nb, b0, act, act_row, m, ms, t0, 4, yp, (size_t)n_rows, rows, first); break;
                case 3: tile(panel, nb, b0, act, act_row, m, ms, t0, 3, yp, (size_t)n_rows, rows, first); break;
                case 2: tile(panel, nb, b0, act, act_row, m, ms, t0, 2, yp, (size_t)n_rows, rows, first); break;
                default: tile(panel, nb, b0, act, act_row, m, ms, t0, 1, yp, (size_t)n_rows, rows, first); break;
                }
            }
        }
    }
    return true;
}

/* ---- one token ---------------------------------------------------------------------------- *
 * ggml_vec_dot_mxfp4_q8_0's order (dot_x86.h, simd_dot_mxfp4_single, which
 * the AVX2 level keeps): two accumulators of 8 float lanes, even and odd
 * blocks, lane l adding d_a * 2^(e - 128) * (the products 4l .. 4l+3) by
 * one fused multiply-add; acc0 + acc1 summed as hsum_float_8; an odd last
 * block added after.  Here the two accumulators are the halves of one
 * 512-bit register, so a pair of blocks costs one lookup, one vpdpbusd
 * and one fused multiply-add (one core, a 4.4 MB expert: 16.3 -> 19.7
 * GB/s against the 256-bit loop; the chain of fused multiply-adds per
 * accumulator, which the order fixes, bounds it near 22). */

/* The 8 integer lanes of block i (low half) and block i + 1 (high half,
 * zero when !two): lane l = sum of the products 4l .. 4l+3 of the block's
 * elements (low nibbles 0..15, then the high nibbles). */
static inline __m512i pair_lanes(const block_mxfp4 *w, const block_q8_0 *a, __m512i table, bool two) {
    const __m128i q0 = _mm_loadu_si128((const __m128i *)(const void *)w[0].qs);
    const __m128i q1 = two ? _mm_loadu_si128((const __m128i *)(const void *)w[1].qs) : _mm_setzero_si128();
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(q0)),
                                   _mm256_broadcastsi128_si256(q1), 1);
    v = _mm512_and_si512(_mm512_mask_blend_epi64(0xCC, v, _mm512_srli_epi16(v, 4)), _mm512_set1_epi8(0x0F));
    const __m512i x = _mm512_shuffle_epi8(table, v);
    const __m256i y0 = _mm256_loadu_si256((const __m256i *)(const void *)a[0].qs);
    const __m256i y1 = two ? _mm256_loadu_si256((const __m256i *)(const void *)a[1].qs) : _mm256_setzero_si256();
    const __m512i y = _mm512_inserti64x4(_mm512_castsi256_si512(y0), y1, 1);
    /* |x| times y with x's sign, as _mm256_sign_epi8 gives it */
    const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(x), sy);
}

float xuan_dot_mxfp4_single_avx512(int64_t n, const void *vw, const void *va) {
    const block_mxfp4 *w = vw;
    const block_q8_0 *a = va;
    const __m512i table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)xuan_kvalues_mxfp4));
    const int64_t nb = n / QK32;
    const __m512i pick = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        /* d_a * 2^(e - 128) of both blocks, as xuan_e8m0_half builds the scale */
        const __m128i e = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(w[i].e | w[i + 1].e << 8 | 0x80800000)); /* lanes 2, 3: 1 */
        const __m128i sb = _mm_mask_blend_epi32(_mm_cmplt_epu32_mask(e, _mm_set1_epi32(2)),
                                                _mm_slli_epi32(_mm_sub_epi32(e, _mm_set1_epi32(1)), 23),
                                                _mm_sllv_epi32(_mm_set1_epi32(0x00200000), e));
        const __m128 da = _mm_cvtph_ps(_mm_cvtsi32_si128(a[i].d | (int)a[i + 1].d << 16));
        const __m512 d = _mm512_permutexvar_ps(pick, _mm512_castps128_ps512(_mm_mul_ps(da, _mm_castsi128_ps(sb))));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(pair_lanes(w + i, a + i, table, true)), acc);
    }
    /* hsum_float_8 of acc0 + acc1 */
    const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float sum = _mm_cvtss_f32(s);
    for (; i < nb; i++)
        sum += _cvtsh_ss(a[i].d) * xuan_e8m0_half(w[i].e) *
               (float)_mm512_reduce_add_epi32(pair_lanes(w + i, a + i, table, false));
    return sum;
}
