/* dot_avx512.c — the x86 kernels of dot_x86.h at the AVX-512 level: the
 * same code with AVX-512 VNNI on 256-bit registers (vpdpbusd for byte
 * products, vpdpwssd for scaled K-quant sums), plus 512-bit kernels for
 * Q5_K and Q6_K.  Only called after xuan_cpu_get() reported AVX-512 with
 * VNNI.
 *
 * Why: a decode product streams each weight byte once, and on a 2-core
 * machine each core must keep up with ~13 GB/s, i.e. ~30 cycles per
 * 144-byte Q4_K block.  The older kernels spent that on unpacking: scalar
 * 6-bit scale decoding and scalar sums of mins.  Scales are now decoded
 * with a few 32-bit word operations (k4_scales_mins) and broadcast with
 * one shuffle per sub-block; the products go 64 bytes at a time through
 * vpmaddubsw (u8 x s8 -> s16 pairs, never saturating for these value
 * ranges) and vpdpwssd (times the int16 scale, summed into int32).
 * Measured per core on L2-resident rows (bench: /tmp ubench, best of 400):
 * Q6_K 21 -> 32 GB/s, Q5_K 18 -> 21.  For Q4_K a 512-bit version needs
 * four cross-lane shuffles per block to put sub-blocks in activation
 * order and measured 20.3 GB/s against 22.1 for the 256-bit kernel with
 * vpdpwssd, so Q4_K stays 256-bit; for Q8_0 (34-byte blocks) pairing
 * blocks in 512 bits measured slower too.  The integer sums per block are
 * those of the scalar reference in dot.c; only the float accumulation
 * order differs.
 */
#define XUAN_VNNI 1
#define XUAN_DOT512 1
#include "quant/dot_x86.h"

/* vpermw indices: lanes 0-15 take word 2p, lanes 16-31 word 2p+1 (one
 * scale per 32-element sub-block, 16 int16 products each). */
static inline __m512i pair_index(int p) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)(2 * p))),
                              _mm256_set1_epi16((short)(2 * p + 1)), 1);
}

/* Sum of the 16 int32 lanes of the weighted mins and the scaled products,
 * as floats: acc holds d * products, acc_m dmin * mins. */
static inline float hsum512_ps(__m512 v) { return _mm512_reduce_add_ps(v); }

/* The mins term of one block: sum over sub-blocks of min * (sum of its 32
 * activations), as 8 int32 lanes (each min times its two 16-sums). */
static inline __m256i k4_mins_dot(__m256i sm, const int16_t bsums[16]) {
    const __m256i dup = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    __m256i mins = _mm256_permutexvar_epi16(dup, sm);
    return _mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)bsums));
}

/* Rotate counts (per 32-bit word, so bit s of every byte lands on bit 4)
 * that bring the 5th-bit plane of sub-block s (low 256 bits) and s+1 (high
 * 256 bits) into place. */
static inline __m512i q5_rot(int s) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32((4 - s) & 31)),
                              _mm256_set1_epi32((4 - s - 1) & 31), 1);
}

static float dot512_q5_K(int64_t n, const void *vw, const void *va) {
    const block_q5_K *w = vw;
    const block_q8_K *a = va;
    const __m512i m4 = _mm512_set1_epi8(0xF), bit4 = _mm512_set1_epi8(0x10);
    const __m512i pi[4] = {pair_index(0), pair_index(1), pair_index(2), pair_index(3)};
    const __m512i rot[4] = {q5_rot(0), q5_rot(2), q5_rot(4), q5_rot(6)};
    __m512 acc = _mm512_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const __m256i sm = k4_scales_mins(w[i].scales);
        const __m512i sm512 = _mm512_castsi256_si512(sm);
        /* Bit s of qh[l] is the 5th bit of element 32s + l. */
        const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)w[i].qh));
        const int8_t *q8 = a[i].qs;
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (int k = 0; k < 2; k++) {
            __m512i b = _mm512_loadu_si512(w[i].qs + 64 * k);
            __m512i lo = _mm512_and_si512(b, m4), hi = _mm512_and_si512(_mm512_srli_epi16(b, 4), m4);
            __m512i x0 = _mm512_shuffle_i64x2(lo, hi, 0x44), x1 = _mm512_shuffle_i64x2(lo, hi, 0xEE);
            x0 = _mm512_or_si512(x0, _mm512_and_si512(_mm512_rolv_epi32(hb, rot[2 * k]), bit4));
            x1 = _mm512_or_si512(x1, _mm512_and_si512(_mm512_rolv_epi32(hb, rot[2 * k + 1]), bit4));
            __m512i p0 = _mm512_maddubs_epi16(x0, _mm512_loadu_si512(q8 + 128 * k));
            __m512i p1 = _mm512_maddubs_epi16(x1, _mm512_loadu_si512(q8 + 128 * k + 64));
            s0 = _mm512_dpwssd_epi32(s0, p0, _mm512_permutexvar_epi16(pi[2 * k], sm512));
            s1 = _mm512_dpwssd_epi32(s1, p1, _mm512_permutexvar_epi16(pi[2 * k + 1], sm512));
        }
        const float ad = a[i].d;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(ad * H2F(w[i].d)), _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), acc);
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(ad * H2F(w[i].dmin)),
                                _mm256_cvtepi32_ps(k4_mins_dot(sm, a[i].bsums)), acc_m);
    }
    return hsum512_ps(acc) - hsum_ps(acc_m);
}

/* vpermw indices for Q6_K: 16-element sub-blocks j..j+3, each scale in 8
 * int16 lanes (one 128-bit lane of products). */
static inline __m512i quad_index(int j) {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16((short)(j + 1)), _mm_set1_epi16((short)j))),
        _mm256_set_m128i(_mm_set1_epi16((short)(j + 3)), _mm_set1_epi16((short)(j + 2))), 1);
}

static inline __m512i rot2(int lo, int hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(lo)), _mm256_set1_epi32(hi), 1);
}

static float dot512_q6_K(int64_t n, const void *vw, const void *va) {
    const block_q6_K *w = vw;
    const block_q8_K *a = va;
    const __m512i m4 = _mm512_set1_epi8(0xF), m30 = _mm512_set1_epi8(0x30);
    const __m512i qi[4] = {quad_index(0), quad_index(4), quad_index(8), quad_index(12)};
    /* Within each 128-element half, ql bytes 0-31 hold elements 0-31 (low
     * nibble) and 64-95 (high), bytes 32-63 elements 32-63 and 96-127; the
     * 2-bit planes of qh byte l at shifts 0/2/4/6 extend 0-31/32-63/64-95/
     * 96-127.  The rotations bring bits s, s+1 of each byte to bits 4, 5. */
    const __m512i rot_lo = rot2(4, 2), rot_hi = rot2(0, 30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QKK; i++) {
        const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        const __m512i sc512 = _mm512_castsi256_si512(sc);
        /* q - 32 is folded in as -32 * scale * (sum of the 16 activations). */
        const __m256i corr = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)a[i].bsums));
        __m512i s0 = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5)));
        __m512i s1 = _mm512_setzero_si512();
        const int8_t *q8 = a[i].qs;
        for (int h = 0; h < 2; h++) {
            __m512i l = _mm512_loadu_si512(w[i].ql + 64 * h);
            __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w[i].qh + 32 * h)));
            __m512i x0 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_rolv_epi32(hb, rot_lo), m30));
            __m512i x1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                         _mm512_and_si512(_mm512_rolv_epi32(hb, rot_hi), m30));
            __m512i p0 = _mm512_maddubs_epi16(x0, _mm512_loadu_si512(q8 + 128 * h));
            __m512i p1 = _mm512_maddubs_epi16(x1, _mm512_loadu_si512(q8 + 128 * h + 64));
            s0 = _mm512_dpwssd_epi32(s0, p0, _mm512_permutexvar_epi16(qi[2 * h], sc512));
            s1 = _mm512_dpwssd_epi32(s1, p1, _mm512_permutexvar_epi16(qi[2 * h + 1], sc512));
        }
        /* Fold into ggml's eight lanes (zmm lane k holds elements of its lane
         * k % 8), then accumulate as vec_dot_q6_K_q8_K does (dot.c). */
        const __m512i s = _mm512_add_epi32(s0, s1);
        const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(a[i].d * H2F(w[i].d)), _mm256_cvtepi32_ps(s8), acc);
    }
    return hsum_ps(acc);
}

const xuan_vec_dot_fn xuan_dot_avx512[XUAN_TYPE_COUNT] = SIMD_DOT_TABLE;

float xuan_dot_q4_K_pairs_avx512(int64_t n, const void *w, const void *a) { return q4_K_dot(n, w, a, true); }
void xuan_dot_q4_K_pairs_x4_avx512(int64_t n, const void *w, const void *const a[4], float out[4]) {
    q4_K_pairs_x4(n, w, a, out);
}
const xuan_dot_x4_fn xuan_dot_x4_avx512[XUAN_TYPE_COUNT] = SIMD_X4_TABLE;

float xuan_dot_f32_vec_avx512(int64_t n, const void *w, const void *a) { return dot_f32_vec_avx512(n, w, a); }
