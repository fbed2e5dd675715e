/*
 * repack_avx2.c — Q4_K products of one to a few tokens over the decode
 * layout of repack.c, on 256-bit registers: one 32-bit lane per row, 8 rows
 * at once, up to 4 tokens per pass over a group's blocks.  Also the kernel
 * of AVX-512 machines for one to three tokens (their one-row Q4_K dot is
 * 256-bit too; a 512-bit version of this one is not written).
 *
 * Per super-block, group of 8 rows and token: for each 32-element sub-block, 8
 * vpmaddubsw of the rows' nibbles by 4 broadcast activation bytes, summed
 * in int16 (each product pair is at most 2 x 15 x 128 = 3840 in magnitude,
 * 8 of them 30720: no wrap), then one vpmaddwd by the sub-block's scale
 * (as an int16 pair per lane, one vpshufb from the decoded bytes) into the
 * int32 sum: exactly the plain dot's integer.  The mins: 4 vpmaddwd of
 * (m_j, m_j+1) pairs by the activations' 32-element sums.  Then, per lane,
 * the plain dot's two float steps (see repack.c).  The group 16 rows ahead
 * is prefetched into L2 block by block, as decode_rows (matmul.c) asks for
 * the row 16 ahead.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <immintrin.h>

/* vpshufb indices: in each dword, bytes a and b of the dword as two int16. */
static inline __m256i pair_index(int a, int b) {
    const char z = (char)0x80;
    return _mm256_setr_epi8((char)a, z, (char)b, z, (char)(4 + a), z, (char)(4 + b), z, (char)(8 + a), z,
                            (char)(8 + b), z, (char)(12 + a), z, (char)(12 + b), z, (char)a, z, (char)b, z,
                            (char)(4 + a), z, (char)(4 + b), z, (char)(8 + a), z, (char)(8 + b), z, (char)(12 + a), z,
                            (char)(12 + b), z);
}

/* 4 activation bytes in every lane */
static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Tokens t0 .. t0 + nt - 1 of one group of 8 rows (row0 its first row):
 * per_pair, llama.cpp's 4-token float steps (one fused step per pair of
 * sub-blocks), else its one-token steps (one per super-block).  Integer
 * sums are the plain dot's either way.  pf: the group to prefetch, or
 * NULL. */
static inline __attribute__((always_inline)) void group_tile(const uint8_t *grp, int64_t nb, const uint8_t *act,
                                                             size_t act_row, int64_t t0, const int nt,
                                                             const bool per_pair, float *y, size_t ys, int64_t row0,
                                                             const uint8_t *pf) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[4], acc_m[4];
    for (int t = 0; t < nt; t++) acc[t] = acc_m[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *P = grp + (size_t)b * XUAN_Q4K8_BLOCK;
        if (pf)
            for (int off = 0; off < XUAN_Q4K8_BLOCK; off += 64)
                _mm_prefetch((const char *)pf + (size_t)b * XUAN_Q4K8_BLOCK + off, _MM_HINT_T1);
        const block_q8_K *a[4];
        for (int t = 0; t < nt; t++) a[t] = (const block_q8_K *)(const void *)(act + (size_t)(t0 + t) * act_row) + b;
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(P + XUAN_Q4K8_D)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(P + XUAN_Q4K8_DMIN)));
        /* 32-element activation sums as int16 (|s| <= 32 x 128): words 0-3
         * of the low lane s0..s3, of the high lane s4..s7, so pair p's
         * (s2p, s2p+1) is dword p < 2 ? p : p + 2 */
        __m256i bs[4];
        for (int t = 0; t < nt; t++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)a[t]->bsums);
            bs[t] = _mm256_hadd_epi16(v, v);
        }
        __m256i isum[4], summs[4];
        for (int t = 0; t < nt; t++) isum[t] = summs[t] = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            __m256i s_lo[4], s_hi[4];
            for (int t = 0; t < nt; t++) s_lo[t] = s_hi[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                const __m256i wq = _mm256_loadu_si256((const __m256i *)(P + XUAN_Q4K8_QS + 32 * (8 * p + k)));
                const __m256i lo = _mm256_and_si256(wq, m4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(wq, 4), m4);
                for (int t = 0; t < nt; t++) {
                    const int8_t *q8 = a[t]->qs + 64 * p + 4 * k;
                    s_lo[t] = _mm256_add_epi16(s_lo[t], _mm256_maddubs_epi16(lo, bcast4(q8)));
                    s_hi[t] = _mm256_add_epi16(s_hi[t], _mm256_maddubs_epi16(hi, bcast4(q8 + 32)));
                }
            }
            /* sub-blocks 2p and 2p + 1: bytes j and j + 1 of their scale and min dwords */
            const int j = 2 * p % 4;
            const __m256i scv = _mm256_loadu_si256((const __m256i *)(P + XUAN_Q4K8_SC + 32 * (p / 2)));
            const __m256i mnv = _mm256_loadu_si256((const __m256i *)(P + XUAN_Q4K8_MN + 32 * (p / 2)));
            const __m256i sc0 = _mm256_shuffle_epi8(scv, pair_index(j, j));
            const __m256i sc1 = _mm256_shuffle_epi8(scv, pair_index(j + 1, j + 1));
            const __m256i mp = _mm256_shuffle_epi8(mnv, pair_index(j, j + 1));
            const __m256i sel = _mm256_set1_epi32(p < 2 ? p : p + 2);
            for (int t = 0; t < nt; t++) {
                const __m256i ip = _mm256_add_epi32(_mm256_madd_epi16(s_lo[t], sc0), _mm256_madd_epi16(s_hi[t], sc1));
                const __m256i im = _mm256_madd_epi16(mp, _mm256_permutevar8x32_epi32(bs[t], sel));
                if (per_pair) {
                    const __m256 ad = _mm256_set1_ps(a[t]->d);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ip), _mm256_mul_ps(dw, ad), acc[t]);
                    acc_m[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(im), _mm256_mul_ps(dmin, ad), acc_m[t]);
                } else {
                    isum[t] = _mm256_add_epi32(isum[t], ip);
                    summs[t] = _mm256_add_epi32(summs[t], im);
                }
            }
        }
        if (!per_pair)
            for (int t = 0; t < nt; t++) {
                const __m256 ad = _mm256_set1_ps(a[t]->d);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(dw, ad), acc[t]);
                acc_m[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(summs[t]), _mm256_mul_ps(dmin, ad), acc_m[t]);
            }
    }
    for (int t = 0; t < nt; t++) _mm256_storeu_ps(y + (size_t)(t0 + t) * ys + row0, _mm256_sub_ps(acc[t], acc_m[t]));
}

void xuan_q4_K_packed_avx2(const void *packed, int64_t n_cols, int64_t r0, int64_t r1, int64_t pf_end,
                           const uint8_t *act, size_t act_row, int64_t n_tok, int64_t n_pair, float *y,
                           size_t y_stride) {
    XUAN_ASSERT(n_pair % 4 == 0 && n_pair <= n_tok && r0 % 8 == 0 && r1 % 8 == 0);
    const int64_t nb = n_cols / QKK;
    const size_t gbytes = (size_t)nb * XUAN_Q4K8_BLOCK;
    for (int64_t g = r0 / 8; g < r1 / 8; g++) {
        const uint8_t *grp = (const uint8_t *)packed + (size_t)g * gbytes;
        /* the group 16 rows ahead, during the first pass of tokens */
        const uint8_t *pf = (g + 3) * 8 <= pf_end ? grp + 2 * gbytes : NULL;
        for (int64_t t0 = 0; t0 < n_tok; t0 += 4, pf = NULL) {
            const bool pp = t0 < n_pair;
            const int nt = n_tok - t0 < 4 ? (int)(n_tok - t0) : 4;
            if (pp) group_tile(grp, nb, act, act_row, t0, 4, true, y, y_stride, 8 * g, pf);
            else if (nt == 1) group_tile(grp, nb, act, act_row, t0, 1, false, y, y_stride, 8 * g, pf);
            else if (nt == 2) group_tile(grp, nb, act, act_row, t0, 2, false, y, y_stride, 8 * g, pf);
            else if (nt == 3) group_tile(grp, nb, act, act_row, t0, 3, false, y, y_stride, 8 * g, pf);
            else group_tile(grp, nb, act, act_row, t0, 4, false, y, y_stride, 8 * g, pf);
        }
    }
}
