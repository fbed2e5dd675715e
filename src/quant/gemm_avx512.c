/*
 * gemm_avx512.c — batch products (prompt processing) on AVX-512 VNNI with
 * 512-bit registers.  matmul.c calls it for n_tok >= XUAN_GEMM_MIN_TOK when
 * the CPU has AVX-512 VNNI; the single-row kernels of dot_x86.h serve
 * decoding and the other SIMD levels.
 *
 * Why a second path.  A per-(row, token) dot product spends, per 32-element
 * block, one byte-product instruction and about three more to reduce and
 * scale it; a 16-row x 8-token register tile spends eight vpdpbusd on 16
 * rows at once and then three float operations per token, so the byte
 * products dominate (the idea of ggml's repacked "8x8" GEMM kernels and of
 * BLAS's packed panels, done here on the fly).
 *
 * How.  For each K-chunk (KC elements) and each panel of 16 weight rows:
 *  1. pack: the panel's blocks become, per group of G elements (32, or 16
 *     for the types with 16-element scales), G/4 vectors whose 32-bit lane
 *     r holds 4 consecutive unsigned quants of row r, then the 16 rows'
 *     float scales and (types with a separate minimum) float biases.  A
 *     weight element is  scale * (q - c) or  scale * q + bias.  Packing
 *     reads each row with 32-bit gathers, so the transposition is free.
 *  2. multiply: for 8 tokens at a time, per group, vpdpbusd(q, a) with a
 *     token's 4 activation bytes broadcast gives the 16 rows' integer sums;
 *     the offset c is exact in the integer domain (the accumulator starts at
 *     -c * sum(a)), then  acc += float(sum) * (scale * d_a)  [+ bias * d_a *
 *     sum(a)].  Integer sums are exact; only the float order differs from
 *     the scalar reference (per group instead of per block or super-block).
 * The panel (about 20-25 KB) stays in L1/L2 while every token passes over
 * it, and a K-chunk of all tokens' activations (KC bytes each) stays in L2
 * while the panels go by.  Activations keep ggml's vec-dot formats (Q8_0,
 * Q8_1, Q8_K); per token and group a small "meta" record holds d_a,
 * d_a * sum(a) and -c * sum(a), computed once per call by
 * xuan_gemm_prepare_act.
 *
 * Sections: type table, packers, activation meta, microkernel, driver.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <immintrin.h>
#include <pthread.h>
#include <stddef.h>

enum {
    PR = 16,   /* rows per panel: the 16 int32 lanes of a zmm */
    NT = 8,    /* tokens per microkernel call */
    KC = 1024, /* elements per K-chunk (a multiple of 256) */
    MAX_GROUP_BYTES = 32 * PR + 2 * 64,
};

/* ---- type table ----------------------------------------------------------------- */

typedef void (*pack_fn)(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out);

typedef struct gemm_type {
    uint8_t group;       /* elements per scale group: 16 or 32 */
    uint8_t offset;      /* c in scale * (q - c); 0 for types with a bias */
    bool has_min;        /* per-group float bias (scale * q + bias) */
    uint16_t w_elems;    /* elements per weight block */
    uint16_t w_bytes;    /* bytes per weight block */
    uint32_t act_type;   /* XUAN_TYPE_Q8_0 / Q8_1 / Q8_K */
    pack_fn pack;        /* one weight block of 16 rows */
} gemm_type;

static inline size_t group_bytes(const gemm_type *t) {
    return (size_t)t->group * PR + 64 + (t->has_min ? 64 : 0);
}

/* ---- packers ------------------------------------------------------------------------ *
 * w points at block b of row 0; row r's block is at w + idx[r] (idx = r * row
 * bytes).  Lanes outside m (rows past the end) become zero.  Each packer
 * writes w_elems / group groups: values, then scales, then biases. */

static inline __m512i gather(const uint8_t *p, __m512i idx, __mmask16 m) {
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, p, 1);
}

/* The fp16 in the low (hi = false) or high half of each lane, as floats. */
static inline __m512 half_to_ps(__m512i v, bool hi) {
    if (hi) v = _mm512_srli_epi32(v, 16);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

/* Byte i of each lane, zero-extended. */
static inline __m512i byte_of(__m512i v, int i) {
    return _mm512_and_si512(_mm512_srli_epi32(v, 8 * i), _mm512_set1_epi32(0xFF));
}

/* Bit 0 of each of the 4 low bits of x (per lane) moved to bit 4 of bytes 0..3. */
static inline __m512i spread4_bit4(__m512i x) {
    const __m512i one = _mm512_set1_epi32(1);
    __m512i r = _mm512_and_si512(x, one);
    r = _mm512_or_si512(r, _mm512_and_si512(_mm512_slli_epi32(x, 7), _mm512_set1_epi32(1 << 8)));
    r = _mm512_or_si512(r, _mm512_and_si512(_mm512_slli_epi32(x, 14), _mm512_set1_epi32(1 << 16)));
    r = _mm512_or_si512(r, _mm512_and_si512(_mm512_slli_epi32(x, 21), _mm512_set1_epi32(1 << 24)));
    return _mm512_slli_epi32(r, 4);
}

#define V(out, g, k, G) ((__m512i *)((out) + (g) * gb + (size_t)(k) * 64))
#define S(out, g, G) ((void *)((out) + (g) * gb + (size_t)(G) * PR))
#define B(out, g, G) ((void *)((out) + (g) * gb + (size_t)(G) * PR + 64))

static void pack_q8_0(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 32 * PR + 64;
    const __m512i flip = _mm512_set1_epi8((char)0x80); /* q + 128: unsigned */
    for (int k = 0; k < 8; k++)
        _mm512_store_si512(V(out, 0, k, 32),
                           _mm512_xor_si512(gather(w + offsetof(block_q8_0, qs) + 4 * k, idx, m), flip));
    _mm512_store_ps(S(out, 0, 32), half_to_ps(gather(w, idx, m), false));
}

static void pack_q4_0(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 32 * PR + 64;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int k = 0; k < 4; k++) {
        __m512i v = gather(w + offsetof(block_q4_0, qs) + 4 * k, idx, m);
        _mm512_store_si512(V(out, 0, k, 32), _mm512_and_si512(v, m4));
        _mm512_store_si512(V(out, 0, k + 4, 32), _mm512_and_si512(_mm512_srli_epi32(v, 4), m4));
    }
    _mm512_store_ps(S(out, 0, 32), half_to_ps(gather(w, idx, m), false));
}

static void pack_q4_1(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 32 * PR + 128;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int k = 0; k < 4; k++) {
        __m512i v = gather(w + offsetof(block_q4_1, qs) + 4 * k, idx, m);
        _mm512_store_si512(V(out, 0, k, 32), _mm512_and_si512(v, m4));
        _mm512_store_si512(V(out, 0, k + 4, 32), _mm512_and_si512(_mm512_srli_epi32(v, 4), m4));
    }
    __m512i dm = gather(w, idx, m);
    _mm512_store_ps(S(out, 0, 32), half_to_ps(dm, false));
    _mm512_store_ps(B(out, 0, 32), half_to_ps(dm, true));
}

/* Q5_0 / Q5_1 (Q5_0 also has an exact panel, below): element i < 16 is the low nibble of qs[i] plus bit i of qh
 * as bit 4; element 16 + i the high nibble plus bit 16 + i. */
static inline void pack_q5(const uint8_t *qs, const uint8_t *qh, __m512i idx, __mmask16 m, uint8_t *out,
                           size_t gb) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512i h = gather(qh, idx, m);
    for (int k = 0; k < 4; k++) {
        __m512i v = gather(qs + 4 * k, idx, m);
        __m512i lo = _mm512_or_si512(_mm512_and_si512(v, m4), spread4_bit4(_mm512_srli_epi32(h, 4 * k)));
        __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v, 4), m4),
                                     spread4_bit4(_mm512_srli_epi32(h, 16 + 4 * k)));
        _mm512_store_si512(V(out, 0, k, 32), lo);
        _mm512_store_si512(V(out, 0, k + 4, 32), hi);
    }
}

static void pack_q5_0(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    pack_q5(w + offsetof(block_q5_0, qs), w + offsetof(block_q5_0, qh), idx, m, out, 32 * PR + 64);
    _mm512_store_ps((void *)(out + 32 * PR), half_to_ps(gather(w, idx, m), false));
}

static void pack_q5_1(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    pack_q5(w + offsetof(block_q5_1, qs), w + offsetof(block_q5_1, qh), idx, m, out, 32 * PR + 128);
    __m512i dm = gather(w, idx, m);
    _mm512_store_ps((void *)(out + 32 * PR), half_to_ps(dm, false));
    _mm512_store_ps((void *)(out + 32 * PR + 64), half_to_ps(dm, true));
}

/* IQ4_NL / IQ4_XS values + 128, so that they are unsigned (offset 128). */
static inline __m512i iq4_table(void) {
    uint8_t t[16];
    for (int i = 0; i < 16; i++) t[i] = (uint8_t)(xuan_kvalues_iq4nl[i] + 128);
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t));
}

static inline void pack_iq4_32(const uint8_t *qs, __m512i idx, __mmask16 m, uint8_t *out, __m512i table) {
    const size_t gb = 32 * PR + 64;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int k = 0; k < 4; k++) {
        __m512i v = gather(qs + 4 * k, idx, m);
        _mm512_store_si512(V(out, 0, k, 32), _mm512_shuffle_epi8(table, _mm512_and_si512(v, m4)));
        _mm512_store_si512(V(out, 0, k + 4, 32),
                           _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi32(v, 4), m4)));
    }
}

static void pack_iq4_nl(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    pack_iq4_32(w + offsetof(block_iq4_nl, qs), idx, m, out, iq4_table());
    _mm512_store_ps((void *)(out + 32 * PR), half_to_ps(gather(w, idx, m), false));
}

static void pack_iq4_xs(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 32 * PR + 64;
    const __m512i table = iq4_table();
    __m512i dh = gather(w, idx, m); /* d, scales_h */
    __m512i sl = gather(w + offsetof(block_iq4_xs, scales_l), idx, m);
    __m512 d = half_to_ps(dh, false);
    __m512i sh = _mm512_srli_epi32(dh, 16);
    for (int ib = 0; ib < 8; ib++) {
        pack_iq4_32(w + offsetof(block_iq4_xs, qs) + 16 * ib, idx, m, out + ib * gb, table);
        __m512i lo = _mm512_and_si512(_mm512_srli_epi32(sl, 4 * ib), _mm512_set1_epi32(0xF));
        __m512i hi = _mm512_and_si512(_mm512_srli_epi32(sh, 2 * ib), _mm512_set1_epi32(3));
        __m512i ls = _mm512_sub_epi32(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)), _mm512_set1_epi32(32));
        _mm512_store_ps(S(out, ib, 32), _mm512_mul_ps(d, _mm512_cvtepi32_ps(ls)));
    }
}

/* Q4_K / Q5_K: 6-bit scales and mins of the 8 sub-blocks, per lane. */
static inline void k4_scales(const uint8_t *w, size_t scales_off, __m512i idx, __mmask16 m, __m512i sc[8],
                             __m512i mn[8]) {
    __m512i s0 = gather(w + scales_off, idx, m), s1 = gather(w + scales_off + 4, idx, m),
            s2 = gather(w + scales_off + 8, idx, m);
    const __m512i m6 = _mm512_set1_epi32(63), m4 = _mm512_set1_epi32(0xF);
    for (int j = 0; j < 4; j++) {
        __m512i b0 = byte_of(s0, j), b1 = byte_of(s1, j), b2 = byte_of(s2, j);
        sc[j] = _mm512_and_si512(b0, m6);
        mn[j] = _mm512_and_si512(b1, m6);
        sc[j + 4] = _mm512_or_si512(_mm512_and_si512(b2, m4), _mm512_slli_epi32(_mm512_srli_epi32(b0, 6), 4));
        mn[j + 4] = _mm512_or_si512(_mm512_srli_epi32(b2, 4), _mm512_slli_epi32(_mm512_srli_epi32(b1, 6), 4));
    }
}

static inline void k4_store_scales(const uint8_t *w, size_t scales_off, __m512i idx, __mmask16 m,
                                   uint8_t *out, size_t gb) {
    __m512i sc[8], mn[8];
    k4_scales(w, scales_off, idx, m, sc, mn);
    __m512i dd = gather(w, idx, m); /* d, dmin */
    __m512 d = half_to_ps(dd, false), dmin = half_to_ps(dd, true);
    for (int j = 0; j < 8; j++) {
        _mm512_store_ps(S(out, j, 32), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc[j])));
        _mm512_store_ps(B(out, j, 32), _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), dmin),
                                                     _mm512_cvtepi32_ps(mn[j])));
    }
}

static void pack_q5_K(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 32 * PR + 128;
    const __m512i m4 = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);
    for (int k = 0; k < 8; k++) {
        __m512i h = gather(w + offsetof(block_q5_K, qh) + 4 * k, idx, m);
        for (int p = 0; p < 4; p++) {
            __m512i v = gather(w + offsetof(block_q5_K, qs) + 32 * p + 4 * k, idx, m);
            __m512i h0 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2 * p), one), 4);
            __m512i h1 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2 * p + 1), one), 4);
            _mm512_store_si512(V(out, 2 * p, k, 32), _mm512_or_si512(_mm512_and_si512(v, m4), h0));
            _mm512_store_si512(V(out, 2 * p + 1, k, 32),
                               _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v, 4), m4), h1));
        }
    }
    k4_store_scales(w, offsetof(block_q5_K, scales), idx, m, out, gb);
}

/* Q2_K / Q3_K: per 128-element half k, byte l of qs[32k..] holds 2-bit
 * quants of elements 128k + 32s + l (s = shift / 2); element e lies in
 * group e / 16. */
static void pack_q2_K(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 16 * PR + 128;
    const __m512i m2 = _mm512_set1_epi8(3);
    for (int k = 0; k < 2; k++)
        for (int d4 = 0; d4 < 8; d4++) {
            __m512i v = gather(w + offsetof(block_q2_K, qs) + 32 * k + 4 * d4, idx, m);
            for (int s = 0; s < 4; s++)
                _mm512_store_si512(V(out, 8 * k + 2 * s + d4 / 4, d4 % 4, 16),
                                   _mm512_and_si512(_mm512_srli_epi32(v, 2 * s), m2));
        }
    __m512i dd = gather(w + offsetof(block_q2_K, d), idx, m);
    __m512 d = half_to_ps(dd, false), ndmin = _mm512_sub_ps(_mm512_setzero_ps(), half_to_ps(dd, true));
    for (int s = 0; s < 4; s++) {
        __m512i sc4 = gather(w + offsetof(block_q2_K, scales) + 4 * s, idx, m);
        for (int i = 0; i < 4; i++) {
            __m512i b = byte_of(sc4, i);
            __m512i sc = _mm512_and_si512(b, _mm512_set1_epi32(0xF)), mn = _mm512_srli_epi32(b, 4);
            _mm512_store_ps(S(out, 4 * s + i, 16), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
            _mm512_store_ps(B(out, 4 * s + i, 16), _mm512_mul_ps(ndmin, _mm512_cvtepi32_ps(mn)));
        }
    }
}

static void pack_q3_K(const uint8_t *w, __m512i idx, __mmask16 m, uint8_t *out) {
    const size_t gb = 16 * PR + 64;
    const __m512i m2 = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1);
    for (int d4 = 0; d4 < 8; d4++) {
        __m512i hm = gather(w + offsetof(block_q3_K, hmask) + 4 * d4, idx, m);
        for (int k = 0; k < 2; k++) {
            __m512i v = gather(w + offsetof(block_q3_K, qs) + 32 * k + 4 * d4, idx, m);
            for (int s = 0; s < 4; s++) {
                __m512i lo = _mm512_and_si512(_mm512_srli_epi32(v, 2 * s), m2);
                __m512i hb = _mm512_and_si512(_mm512_srli_epi32(hm, 4 * k + s), one);
                _mm512_store_si512(V(out, 8 * k + 2 * s + d4 / 4, d4 % 4, 16),
                                   _mm512_or_si512(lo, _mm512_slli_epi32(hb, 2)));
            }
        }
    }
    __m512 d = half_to_ps(gather(w + offsetof(block_q3_K, d) - 2, idx, m), true);
    /* The 6-bit signed scales: decoded per row (16 calls per block). */
    _Alignas(64) int32_t off[PR];
    _Alignas(64) float sc[16][PR];
    _mm512_store_si512(off, idx);
    for (int r = 0; r < PR; r++) {
        int8_t s16[16] = {0};
        if (m >> r & 1) xuan_q3k_scales(w + off[r] + offsetof(block_q3_K, scales), s16);
        for (int g = 0; g < 16; g++) sc[g][r] = s16[g];
    }
    for (int g = 0; g < 16; g++) _mm512_store_ps(S(out, g, 16), _mm512_mul_ps(d, _mm512_load_ps(sc[g])));
}

#undef V
#undef S
#undef B

static const gemm_type TYPES[XUAN_TYPE_COUNT] = {
    [XUAN_TYPE_Q8_0] = {32, 128, false, 32, sizeof(block_q8_0), XUAN_TYPE_Q8_0, pack_q8_0},
    [XUAN_TYPE_Q4_0] = {32, 8, false, 32, sizeof(block_q4_0), XUAN_TYPE_Q8_0, pack_q4_0},
    [XUAN_TYPE_Q4_1] = {32, 0, true, 32, sizeof(block_q4_1), XUAN_TYPE_Q8_1, pack_q4_1},
    [XUAN_TYPE_Q5_0] = {32, 16, false, 32, sizeof(block_q5_0), XUAN_TYPE_Q8_0, pack_q5_0},
    [XUAN_TYPE_Q5_1] = {32, 0, true, 32, sizeof(block_q5_1), XUAN_TYPE_Q8_1, pack_q5_1},
    [XUAN_TYPE_IQ4_NL] = {32, 128, false, 32, sizeof(block_iq4_nl), XUAN_TYPE_Q8_0, pack_iq4_nl},
    [XUAN_TYPE_IQ4_XS] = {32, 128, false, 256, sizeof(block_iq4_xs), XUAN_TYPE_Q8_K, pack_iq4_xs},
    [XUAN_TYPE_Q2_K] = {16, 0, true, 256, sizeof(block_q2_K), XUAN_TYPE_Q8_K, pack_q2_K},
    [XUAN_TYPE_Q3_K] = {16, 4, false, 256, sizeof(block_q3_K), XUAN_TYPE_Q8_K, pack_q3_K},
    [XUAN_TYPE_Q5_K] = {32, 0, true, 256, sizeof(block_q5_K), XUAN_TYPE_Q8_K, pack_q5_K},
};

bool xuan_gemm_avx512_has(uint32_t type) {
    return type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K || type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_MXFP4 ||
           (type < XUAN_TYPE_COUNT && TYPES[type].pack);
}

bool xuan_gemm_avx512_supports(uint32_t type, int64_t n_cols, size_t w_row) {
    if (type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K)
        return n_cols % QKK == 0 && w_row <= (size_t)INT32_MAX / PR;
    if (type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_MXFP4) return n_cols % QK32 == 0 && w_row <= (size_t)INT32_MAX / PR;
    if (type >= XUAN_TYPE_COUNT || !TYPES[type].pack) return false;
    /* Gather offsets are int32: 16 rows must fit. */
    return n_cols % TYPES[type].w_elems == 0 && w_row <= (size_t)INT32_MAX / PR;
}

/* ---- activation meta ------------------------------------------------------------------ */

/* Per token and group: d_a, d_a * sum(a), and -c * sum(a) as int32 bits. */
typedef struct act_meta {
    float d, dsum;
    int32_t neg_csum, pad;
} act_meta;

size_t xuan_gemm_meta_row_bytes(uint32_t type, int64_t n_cols) {
    if (type == XUAN_TYPE_MXFP4) return xuan_gemm_mxfp4_meta_row_bytes(n_cols); /* gemm_mxfp4_avx512.c */
    if (type == XUAN_TYPE_Q4_K) return (size_t)(n_cols / 32) * sizeof(int32_t); /* bsums of 32 */
    if (type == XUAN_TYPE_Q6_K) return (size_t)n_cols * sizeof(int16_t);        /* quants as int16 */
    if (type == XUAN_TYPE_Q8_0) return (size_t)(n_cols / QK32) * 8 * sizeof(int32_t); /* -128 * lane sums */
    if (type == XUAN_TYPE_Q5_0) /* both: lane sums (exact panel), then the groups' records */
        return (size_t)(n_cols / QK32) * (8 * sizeof(int32_t) + sizeof(act_meta));
    return (size_t)(n_cols / TYPES[type].group) * sizeof(act_meta);
}

void xuan_gemm_prepare_act(uint32_t type, const void *act, int64_t n_cols, void *meta_row) {
    if (type == XUAN_TYPE_MXFP4) {
        xuan_gemm_mxfp4_prepare_act(act, n_cols, meta_row);
        return;
    }
    if (type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_Q5_0) {
        const block_q8_0 *a = act;
        int32_t *c = meta_row;
        for (int64_t b = 0; b < n_cols / QK32; b++)
            for (int k = 0; k < 8; k++)
                c[b * 8 + k] = -128 * (a[b].qs[4 * k] + a[b].qs[4 * k + 1] + a[b].qs[4 * k + 2] + a[b].qs[4 * k + 3]);
        if (type == XUAN_TYPE_Q8_0) return;
        meta_row = c + (n_cols / QK32) * 8; /* Q5_0: its group records follow */
    }
    if (type == XUAN_TYPE_Q4_K || type == XUAN_TYPE_Q6_K) {
        const block_q8_K *a = act;
        for (int64_t b = 0; b < n_cols / QKK; b++) {
            if (type == XUAN_TYPE_Q4_K) {
                int32_t *bs = (int32_t *)meta_row + b * 8;
                for (int g = 0; g < 8; g++) bs[g] = a[b].bsums[2 * g] + a[b].bsums[2 * g + 1];
            } else {
                int16_t *q = (int16_t *)meta_row + b * QKK;
                for (int e = 0; e < QKK; e++) q[e] = a[b].qs[e];
            }
        }
        return;
    }
    const gemm_type *t = &TYPES[type];
    act_meta *meta = meta_row;
    const int G = t->group, c = t->offset;
    if (t->act_type == XUAN_TYPE_Q8_K) {
        const block_q8_K *a = act;
        for (int64_t b = 0; b < n_cols / QKK; b++)
            for (int g = 0; g < QKK / G; g++) {
                int s = G == 16 ? a[b].bsums[g] : a[b].bsums[2 * g] + a[b].bsums[2 * g + 1];
                meta[b * (QKK / G) + g] = (act_meta){a[b].d, a[b].d * (float)s, -c * s, 0};
            }
    } else if (t->act_type == XUAN_TYPE_Q8_1) {
        const block_q8_1 *a = act;
        /* The stored s (= d * sum, in fp16) is what the scalar reference uses. */
        for (int64_t b = 0; b < n_cols / QK32; b++)
            meta[b] = (act_meta){xuan_fp16_to_fp32(a[b].d), xuan_fp16_to_fp32(a[b].s), 0, 0};
    } else {
        const block_q8_0 *a = act;
        for (int64_t b = 0; b < n_cols / QK32; b++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)a[b].qs);
            __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
            __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
            int sum = _mm_cvtsi128_si32(s);
            float d = xuan_fp16_to_fp32(a[b].d);
            meta[b] = (act_meta){d, d * (float)sum, -c * sum, 0};
        }
    }
}

/* ---- microkernel ------------------------------------------------------------------------ */

/* Where group gg's activation bytes start inside a token's row. */
typedef struct act_view {
    const uint8_t *rows;
    size_t row_bytes;
    const act_meta *meta;
    size_t meta_stride; /* groups per token */
    size_t blk_bytes, qs_off;
    int groups_per_blk;
} act_view;

static inline size_t act_offset(const act_view *a, int64_t gg, int G) {
    return (size_t)(gg / a->groups_per_blk) * a->blk_bytes + a->qs_off +
           (size_t)(gg % a->groups_per_blk) * (size_t)G;
}

static inline int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* out[t][16 rows] (+)= the panel (ng groups from global group gg0) times
 * tokens t0 .. t0 + nt.  G, has_min and nt are constants after inlining. */
static inline __attribute__((always_inline)) void
microkernel(const uint8_t *panel, int ng, int64_t gg0, const act_view *a, int64_t t0, const int nt, const int G,
            const bool has_min, float *y, size_t y_stride, __mmask16 rows, bool accumulate) {
    const size_t gb = (size_t)G * PR + 64 + (has_min ? 64 : 0);
    __m512 acc[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) acc[t] = _mm512_setzero_ps();
    const uint8_t *arow[NT];
    const act_meta *mrow[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        arow[t] = a->rows + (size_t)(t0 + t) * a->row_bytes;
        mrow[t] = a->meta + (size_t)(t0 + t) * a->meta_stride;
    }
    for (int g = 0; g < ng; g++, panel += gb) {
        const int64_t gg = gg0 + g;
        const size_t off = act_offset(a, gg, G);
        __m512i isum[NT];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            isum[t] = has_min ? _mm512_setzero_si512() : _mm512_set1_epi32(mrow[t][gg].neg_csum);
#pragma GCC unroll 8
        for (int k = 0; k < G / 4; k++) {
            const __m512i wv = _mm512_load_si512(panel + 64 * k);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                isum[t] = _mm512_dpbusd_epi32(isum[t], wv, _mm512_set1_epi32(load_i32(arow[t] + off + 4 * k)));
        }
        const __m512 sc = _mm512_load_ps((const void *)(panel + (size_t)G * PR));
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            __m512 s = _mm512_mul_ps(sc, _mm512_set1_ps(mrow[t][gg].d));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), s, acc[t]);
        }
        if (has_min) {
            const __m512 bias = _mm512_load_ps((const void *)(panel + (size_t)G * PR + 64));
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) acc[t] = _mm512_fmadd_ps(bias, _mm512_set1_ps(mrow[t][gg].dsum), acc[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        float *yt = y + (size_t)(t0 + t) * y_stride;
        __m512 v = acc[t];
        if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(rows, yt));
        _mm512_mask_storeu_ps(yt, rows, v);
    }
}

#define MK_CASES(G_, MIN_)                                                                             \
    switch (nt) {                                                                                      \
    case 8: microkernel(panel, ng, gg0, a, t0, 8, G_, MIN_, y, ys, rows, acc); break;                  \
    case 7: microkernel(panel, ng, gg0, a, t0, 7, G_, MIN_, y, ys, rows, acc); break;                  \
    case 6: microkernel(panel, ng, gg0, a, t0, 6, G_, MIN_, y, ys, rows, acc); break;                  \
    case 5: microkernel(panel, ng, gg0, a, t0, 5, G_, MIN_, y, ys, rows, acc); break;                  \
    case 4: microkernel(panel, ng, gg0, a, t0, 4, G_, MIN_, y, ys, rows, acc); break;                  \
    case 3: microkernel(panel, ng, gg0, a, t0, 3, G_, MIN_, y, ys, rows, acc); break;                  \
    case 2: microkernel(panel, ng, gg0, a, t0, 2, G_, MIN_, y, ys, rows, acc); break;                  \
    default: microkernel(panel, ng, gg0, a, t0, 1, G_, MIN_, y, ys, rows, acc); break;                 \
    }

static void run_tile(const gemm_type *t, const uint8_t *panel, int ng, int64_t gg0, const act_view *a,
                     int64_t t0, int nt, float *y, size_t ys, __mmask16 rows, bool acc) {
    if (t->group == 32 && t->has_min) MK_CASES(32, true)
    else if (t->group == 32) MK_CASES(32, false)
    else if (t->has_min) MK_CASES(16, true)
    else MK_CASES(16, false)
}

/* ---- Q4_K and Q6_K in llama.cpp's float steps ------------------------------------------- *
 * For these two types the packed kernel reproduces llama.cpp's arithmetic
 * (dot.c), not only its integers, because its results are compared with
 * llama.cpp's bit for bit:
 *  - Q4_K, as its repacked q4_K_8x8 gemm: per pair of 32-element
 *    sub-blocks, int sum = sc0 * dot0 + sc1 * dot1 and int mins = m0 * bs0
 *    + m1 * bs1, then acc += float(sum) * (d_w * d_a) and acc_min +=
 *    float(mins) * (dmin_w * d_a), fused; y = acc - acc_min.  The caller
 *    sends only the first n - n % 4 tokens (its gemm), the rest go through
 *    the single-row dot.  Panel per 16-row block: 8 groups x 8 vectors of
 *    4 quants per row, 8 int32 scales, 4 int16 pairs of mins, d, dmin.
 *  - Q6_K, as its vec_dot_q6_K_q8_K: eight int32 lanes per super-block
 *    (lane L: elements 4L..4L+3 of each 32-element chunk, times the chunk
 *    half's scale, minus 32 * (bs[2L] sc[2L] + bs[2L+1] sc[2L+1])), each
 *    lane accumulated in float, summed 0+4, 2+6, 1+5, 3+7 at the end.  The
 *    quants are packed pre-multiplied by their scale as int16 (|q sc| <=
 *    63 * 128) so one vpdpwssd adds 2 elements of 16 rows to a lane; the
 *    eight float lanes of a row must live until its last block, so a panel
 *    holds the whole row length (no K-chunks) and each token runs over it.
 * The float accumulators of a Q4_K row outlive a K-chunk: acc goes to y
 * between chunks, acc_min to a per-thread buffer; the Q6_K panel is
 * per-thread too.  Both buffers grow once and are kept by the thread. */

enum {
    Q4K_BY_PANEL_TOK = 8, /* up to this many tokens a Q4_K product runs panel by panel */
    Q4K_Q = 0, Q4K_SC = 4 * 8 * 64, Q4K_MP = Q4K_SC + 8 * 64, Q4K_D = Q4K_MP + 4 * 64, Q4K_BLK = Q4K_D + 2 * 64,
    Q6K_W = 0, Q6K_SP = 8 * 8 * 2 * 64, Q6K_D = Q6K_SP + 8 * 64, Q6K_BLK = Q6K_D + 64,
    NT4 = 4, /* tokens per Q4_K tile: 4 x (acc, acc_min, two int sums) in registers */
};

/* Per-thread buffers, freed when the thread ends (pthread key destructor). */
enum { BUF_Q4K_MINS, BUF_PANEL, N_BUFS }; /* Q4_K's acc_min between K-chunks; a whole-row panel */

typedef struct thread_bufs {
    void *p[N_BUFS];
    size_t cap[N_BUFS];
} thread_bufs;

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;
static bool bufs_ok;

static void bufs_free(void *v) {
    thread_bufs *t = v;
    for (int i = 0; i < N_BUFS; i++) xuan_free_aligned(t->p[i]);
    xuan_free(t);
}

static void bufs_init(void) { bufs_ok = pthread_key_create(&bufs_key, bufs_free) == 0; }

/* NULL when memory is short: the caller then leaves the rows to the
 * single-row dots, which give the same bits. */
static void *thread_buffer(size_t bytes, int which) {
    pthread_once(&bufs_once, bufs_init);
    if (!bufs_ok) return NULL;
    thread_bufs *t = pthread_getspecific(bufs_key);
    if (!t) {
        t = xuan_calloc(1, sizeof *t);
        if (!t || pthread_setspecific(bufs_key, t) != 0) {
            xuan_free(t);
            return NULL;
        }
    }
    if (bytes > t->cap[which]) {
        xuan_free_aligned(t->p[which]);
        t->p[which] = xuan_malloc_aligned(bytes);
        t->cap[which] = t->p[which] ? bytes : 0;
    }
    return t->p[which];
}

/* ggml's hsum_float_8 order over eight lane vectors (xuan_sum8_tree). */
static inline __m512 sum8_lanes(const __m512 a[8]) {
    return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a[0], a[4]), _mm512_add_ps(a[2], a[6])),
                         _mm512_add_ps(_mm512_add_ps(a[1], a[5]), _mm512_add_ps(a[3], a[7])));
}

/* A 16 x 16 matrix of dwords transposed in registers: r[i] lane j becomes
 * r[j] lane i (pairs of dwords, then of qwords, then 128-bit quarters twice). */
static inline void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) { /* r[i + c], quarter q: rows i .. i+3 of column 4q + c */
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int h = 0; h < 16; h += 8)
        for (int c = 0; c < 4; c++) {
            t[h + c] = _mm512_shuffle_i32x4(r[h + c], r[h + 4 + c], 0x88);     /* columns c, 8 + c */
            t[h + 4 + c] = _mm512_shuffle_i32x4(r[h + c], r[h + 4 + c], 0xDD); /* columns 4 + c, 12 + c */
        }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0xDD);
        r[4 + c] = _mm512_shuffle_i32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(t[4 + c], t[12 + c], 0xDD);
    }
}

/* Dwords off .. off + 63 bytes of the 16 rows' blocks (row r at w + r *
 * w_row), as lanes: v[j] lane r = dword j of row r (rows outside m: 0). */
static inline void rows_as_lanes(const uint8_t *w, size_t w_row, size_t off, __mmask16 m, __m512i v[16]) {
    for (int r = 0; r < 16; r++) {
        const uint8_t *p = w + (size_t)r * w_row + off;
        _mm_prefetch((const char *)p + 16 * w_row, _MM_HINT_T0);
        v[r] = m >> r & 1 ? _mm512_loadu_si512(p) : _mm512_setzero_si512();
    }
    transpose16(v);
}

/* As rows_as_lanes, for the first nbytes (a multiple of 4, below 64) from
 * off: the rest of each row's 64 bytes is not read (masked loads do not
 * fault there: a tensor's last block may end the mapping), lanes past
 * nbytes / 4 come back 0. */
static inline void rows_as_lanes_n(const uint8_t *w, size_t w_row, size_t off, int nbytes, __mmask16 m,
                                   __m512i v[16]) {
    const __mmask64 bytes = ((__mmask64)1 << nbytes) - 1;
    for (int r = 0; r < 16; r++) {
        const uint8_t *p = w + (size_t)r * w_row + off;
        _mm_prefetch((const char *)p + 16 * w_row, _MM_HINT_T0);
        v[r] = m >> r & 1 ? _mm512_maskz_loadu_epi8(bytes, p) : _mm512_setzero_si512();
    }
    transpose16(v);
}

/* The Q4_K panel of 16 rows.  The 32 dwords of each row's quants are read
 * with two plain loads and turned into lanes by two transposes, not by 32
 * gathers: a decode step of a few sequences packs every panel for only a
 * few tokens, and the gathers were most of its time. */
static void pack_q4_K_exact(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, uint8_t *out) {
    for (int half = 0; half < 2; half++) {
        __m512i v[16];
        rows_as_lanes(w, w_row, offsetof(block_q4_K, qs) + 64 * (size_t)half, m, v); /* dword 16 * half + j */
        /* the nibbles stay packed (dword d = 8p + k): q4_K_tile splits them
         * once for all its tokens, half the stores and loads of bytes */
        for (int j = 0; j < 16; j++) _mm512_store_si512(out + Q4K_Q + (size_t)(16 * half + j) * 64, v[j]);
    }
    __m512i sc[8], mn[8];
    k4_scales(w, offsetof(block_q4_K, scales), idx, m, sc, mn);
    for (int g = 0; g < 8; g++) _mm512_store_si512(out + Q4K_SC + g * 64, sc[g]);
    for (int p = 0; p < 4; p++)
        _mm512_store_si512(out + Q4K_MP + p * 64, _mm512_or_si512(mn[2 * p], _mm512_slli_epi32(mn[2 * p + 1], 16)));
    __m512i dd = gather(w, idx, m);
    _mm512_store_ps(out + Q4K_D, half_to_ps(dd, false));
    _mm512_store_ps(out + Q4K_D + 64, half_to_ps(dd, true));
}

static inline __attribute__((always_inline)) void
q4_K_tile(const uint8_t *panel, int nb, int64_t b0, const uint8_t *act, size_t act_row, const int32_t *meta,
          size_t meta_row, int64_t t0, const int nt, float *y, size_t ys, float *ym, size_t yms, __mmask16 rows,
          bool first, bool last) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[NT4], accm[NT4];
    for (int t = 0; t < nt; t++) {
        acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y + (size_t)(t0 + t) * ys);
        accm[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, ym + (size_t)t * yms);
    }
    for (int b = 0; b < nb; b++) {
        const uint8_t *P = panel + (size_t)b * Q4K_BLK;
        const __m512 dw = _mm512_load_ps(P + Q4K_D), dmn = _mm512_load_ps(P + Q4K_D + 64);
        const block_q8_K *a[NT4];
        const int32_t *bs[NT4];
        for (int t = 0; t < nt; t++) {
            a[t] = (const block_q8_K *)(const void *)(act + (size_t)(t0 + t) * act_row) + b0 + b;
            bs[t] = (const int32_t *)(const void *)((const uint8_t *)meta + (size_t)(t0 + t) * meta_row) + (b0 + b) * 8;
        }
        for (int p = 0; p < 4; p++) {
            __m512i i0[NT4], i1[NT4];
            for (int t = 0; t < nt; t++) i0[t] = i1[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                const __m512i wq = _mm512_load_si512(P + Q4K_Q + (p * 8 + k) * 64);
                const __m512i w0 = _mm512_and_si512(wq, m4), w1 = _mm512_and_si512(_mm512_srli_epi32(wq, 4), m4);
                for (int t = 0; t < nt; t++) {
                    const uint8_t *q = (const uint8_t *)a[t]->qs + 64 * p + 4 * k;
                    i0[t] = _mm512_dpbusd_epi32(i0[t], w0, _mm512_set1_epi32(load_i32(q)));
                    i1[t] = _mm512_dpbusd_epi32(i1[t], w1, _mm512_set1_epi32(load_i32(q + 32)));
                }
            }
            const __m512i sc0 = _mm512_load_si512(P + Q4K_SC + (2 * p) * 64);
            const __m512i sc1 = _mm512_load_si512(P + Q4K_SC + (2 * p + 1) * 64);
            const __m512i mp = _mm512_load_si512(P + Q4K_MP + p * 64);
            for (int t = 0; t < nt; t++) {
                const __m512i ip = _mm512_add_epi32(_mm512_mullo_epi32(i0[t], sc0), _mm512_mullo_epi32(i1[t], sc1));
                const __m512 da = _mm512_set1_ps(a[t]->d);
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ip), _mm512_mul_ps(dw, da), acc[t]);
                const int32_t bsp = (int32_t)((uint32_t)(uint16_t)bs[t][2 * p] | (uint32_t)bs[t][2 * p + 1] << 16);
                const __m512i im = _mm512_dpwssd_epi32(_mm512_setzero_si512(), mp, _mm512_set1_epi32(bsp));
                accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(im), _mm512_mul_ps(dmn, da), accm[t]);
            }
        }
    }
    for (int t = 0; t < nt; t++) {
        float *yt = y + (size_t)(t0 + t) * ys;
        if (last) {
            _mm512_mask_storeu_ps(yt, rows, _mm512_sub_ps(acc[t], accm[t]));
        } else {
            _mm512_mask_storeu_ps(yt, rows, acc[t]);
            _mm512_mask_storeu_ps(ym + (size_t)t * yms, rows, accm[t]);
        }
    }
}

static bool q4_K_rows(const uint8_t *w, size_t w_row, int64_t r0, int64_t r1, int64_t n_rows, int64_t n_cols,
                      const uint8_t *act, size_t act_row, const void *meta, int64_t n_tok, float *y) {
    const size_t meta_row = xuan_gemm_meta_row_bytes(XUAN_TYPE_Q4_K, n_cols);
    const int64_t nbk = n_cols / QKK, kcb = KC / QKK; /* blocks per row, per K-chunk */
    const size_t yms = (size_t)(r1 - r0);
    float *ym = thread_buffer((size_t)n_tok * yms * sizeof(float) + 64, BUF_Q4K_MINS);
    if (!ym) return false;
    _Alignas(64) uint8_t panel[(KC / QKK) * Q4K_BLK];
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32((int)w_row));
    /* A prompt's tokens: K-chunk by K-chunk over all the panels, so that the
     * chunk's activations stay in cache.  A decode step's few tokens fit
     * in L1 whole: panel by panel, each row read from start to end, which
     * the prefetcher follows (chunk-major reads every row in 576-byte
     * pieces, a stride it does not). */
    const bool by_panel = n_tok <= Q4K_BY_PANEL_TOK;
    const int64_t np = (r1 - r0 + PR - 1) / PR, nkc = (nbk + kcb - 1) / kcb;
    for (int64_t it = 0; it < np * nkc; it++) {
        const int64_t ic = by_panel ? it % nkc : it / np, ip = by_panel ? it / nkc : it % np;
        const int64_t b0 = ic * kcb, p = r0 + ip * PR;
        const int nb = nbk - b0 < kcb ? (int)(nbk - b0) : (int)kcb;
        const bool first = b0 == 0, last = b0 + nb == nbk;
        {
            const int nr = r1 - p < PR ? (int)(r1 - p) : PR;
            const __mmask16 rows = (__mmask16)((1u << nr) - 1);
            const uint8_t *wp = w + (size_t)p * w_row + (size_t)b0 * sizeof(block_q4_K);
            for (int b = 0; b < nb; b++) pack_q4_K_exact(wp + (size_t)b * sizeof(block_q4_K), w_row, idx, rows, panel + b * Q4K_BLK);
            float *ymp = ym + (p - r0);
            for (int64_t t0 = 0; t0 < n_tok; t0 += NT4) {
                const int nt = n_tok - t0 < NT4 ? (int)(n_tok - t0) : NT4;
                float *ymt = ymp + (size_t)t0 * yms;
                switch (nt) {
                case 4: q4_K_tile(panel, nb, b0, act, act_row, meta, meta_row, t0, 4, y + p, (size_t)n_rows, ymt, yms, rows, first, last); break;
                case 3: q4_K_tile(panel, nb, b0, act, act_row, meta, meta_row, t0, 3, y + p, (size_t)n_rows, ymt, yms, rows, first, last); break;
                case 2: q4_K_tile(panel, nb, b0, act, act_row, meta, meta_row, t0, 2, y + p, (size_t)n_rows, ymt, yms, rows, first, last); break;
                default: q4_K_tile(panel, nb, b0, act, act_row, meta, meta_row, t0, 1, y + p, (size_t)n_rows, ymt, yms, rows, first, last); break;
                }
            }
        }
    }
    return true;
}

/* Sign-extended byte i of each lane, as an int16 pair (x, x). */
static inline __m512i scale_pair(__m512i sc4, int i) {
    __m512i x = _mm512_srai_epi32(_mm512_slli_epi32(sc4, 24 - 8 * i), 24);
    return _mm512_or_si512(_mm512_and_si512(x, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(x, 16));
}

/* The Q6_K panel: ql and qh read by plain loads and transposes (as Q4_K's),
 * the few scale and d dwords gathered. */
static void pack_q6_K_exact(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, uint8_t *out) {
    const __m512i m4 = _mm512_set1_epi8(0xF), m2 = _mm512_set1_epi8(3), lo8 = _mm512_set1_epi32(0xFF);
    __m512i sc4[4];
    for (int s = 0; s < 4; s++) sc4[s] = gather(w + offsetof(block_q6_K, scales) + 4 * s, idx, m);
    __m512i ql[2][16], qh[16]; /* ql[h][j]: dword 16h + j of ql; qh[j]: dword j of qh */
    rows_as_lanes(w, w_row, offsetof(block_q6_K, ql), m, ql[0]);
    rows_as_lanes(w, w_row, offsetof(block_q6_K, ql) + 64, m, ql[1]);
    rows_as_lanes(w, w_row, offsetof(block_q6_K, qh), m, qh);
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 8; k++) { /* elements 4k..4k+3 of the half's four 32-element chunks */
            const __m512i l0 = ql[h][k], l1 = ql[h][8 + k], hb = qh[8 * h + k];
            __m512i q[4] = {
                _mm512_or_si512(_mm512_and_si512(l0, m4), _mm512_slli_epi32(_mm512_and_si512(hb, m2), 4)),
                _mm512_or_si512(_mm512_and_si512(l1, m4),
                                _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, 2), m2), 4)),
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(l0, 4), m4),
                                _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, 4), m2), 4)),
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(l1, 4), m4),
                                _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, 6), m2), 4)),
            };
            for (int cc = 0; cc < 4; cc++) {
                const int c = 4 * h + cc, g = 2 * c + k / 4; /* chunk, and the 16-group of lane k */
                const __m512i sp = scale_pair(sc4[g / 4], g % 4);
                const __m512i v = q[cc];
                const __m512i x01 = _mm512_or_si512(_mm512_and_si512(v, lo8),
                                                    _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v, 8), lo8), 16));
                const __m512i x23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v, 16), lo8),
                                                    _mm512_slli_epi32(_mm512_srli_epi32(v, 24), 16));
                uint8_t *o = out + Q6K_W + ((size_t)(c * 8 + k) * 2) * 64;
                _mm512_store_si512(o, _mm512_mullo_epi16(x01, sp));
                _mm512_store_si512(o + 64, _mm512_mullo_epi16(x23, sp));
            }
        }
    for (int L = 0; L < 8; L++) { /* (sc[2L], sc[2L+1]) for the -32 term */
        __m512i a = _mm512_srai_epi32(_mm512_slli_epi32(sc4[(2 * L) / 4], 24 - 8 * ((2 * L) % 4)), 24);
        __m512i b = _mm512_srai_epi32(_mm512_slli_epi32(sc4[(2 * L + 1) / 4], 24 - 8 * ((2 * L + 1) % 4)), 24);
        _mm512_store_si512(out + Q6K_SP + L * 64,
                           _mm512_or_si512(_mm512_and_si512(a, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(b, 16)));
    }
    _mm512_store_ps(out + Q6K_D, half_to_ps(gather(w + offsetof(block_q6_K, d) - 2, idx, m), true));
}

/* One token over a whole-row Q6_K panel: the 16 rows' results. */
static __m512 q6_K_token(const uint8_t *panel, int64_t nbk, const uint8_t *act, const uint8_t *meta) {
    const block_q8_K *a = (const block_q8_K *)(const void *)act;
    const int16_t *a16 = (const int16_t *)(const void *)meta;
    __m512 acc[8];
    for (int L = 0; L < 8; L++) acc[L] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nbk; b++) {
        const uint8_t *P = panel + b * Q6K_BLK;
        const int16_t *q = a16 + b * QKK;
        __m512i lane[8];
        for (int L = 0; L < 8; L++) {
            const __m512i c = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_load_si512(P + Q6K_SP + L * 64),
                                                  _mm512_set1_epi32(load_i32((const uint8_t *)(a[b].bsums + 2 * L))));
            lane[L] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(c, 5));
        }
        for (int c = 0; c < 8; c++)
#pragma GCC unroll 8
            for (int L = 0; L < 8; L++) {
                const uint8_t *o = P + Q6K_W + ((size_t)(c * 8 + L) * 2) * 64;
                const uint8_t *e = (const uint8_t *)(q + 32 * c + 4 * L);
                lane[L] = _mm512_dpwssd_epi32(lane[L], _mm512_load_si512(o), _mm512_set1_epi32(load_i32(e)));
                lane[L] = _mm512_dpwssd_epi32(lane[L], _mm512_load_si512(o + 64), _mm512_set1_epi32(load_i32(e + 4)));
            }
        const __m512 d = _mm512_mul_ps(_mm512_set1_ps(a[b].d), _mm512_load_ps(P + Q6K_D));
        for (int L = 0; L < 8; L++) acc[L] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(lane[L]), acc[L]);
    }
    return sum8_lanes(acc);
}

/* Q8_0, as llama.cpp computes it both for one token (vec_dot_q8_0_q8_0)
 * and for batches (tinyBLAS_Q0_AVX): eight float lanes per row, lane k
 * adding d_w * d_a * (the 4 products 4k..4k+3 of each block) in block
 * order, summed 0+4, 2+6, 1+5, 3+7 at the end.  A packed vector (16 rows x
 * 4 quants + 128) times 4 broadcast activations is exactly one lane's
 * integer for 16 rows, once the accumulator starts at -128 * (their sum).
 * Like Q6_K: a whole-row panel per thread, one token at a time. */
enum { Q80_BLK = 8 * 64 + 64, Q5_0_EXACT_BELOW = 8 };

/* The exact Q8_0 and Q5_0 panels read their quants by masked loads and a
 * transpose, not by gathers (slow on AMD's cores: 0.5B at 4 sequences ran
 * slower than at one); only d is gathered. */
static void pack_q8_0_exact(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, uint8_t *out) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i v[16];
    rows_as_lanes_n(w, w_row, offsetof(block_q8_0, qs), 32, m, v);
    for (int k = 0; k < 8; k++) _mm512_store_si512(out + k * 64, _mm512_xor_si512(v[k], flip));
    _mm512_store_ps(out + 8 * 64, half_to_ps(gather(w, idx, m), false));
}

/* Q5_0 in the same panel (its values + 128, unsigned), so q8_0_token runs
 * it: llama.cpp computes Q5_0 as Q8_0, eight float lanes per row, for one
 * token (vec_dot_q5_0_q8_0) and for batches (tinyBLAS_Q0_AVX).  Element e's
 * value is its nibble (low nibbles of qs are elements 0..15, high ones
 * 16..31) plus 16 * bit e of qh, minus 16. */
static void pack_q5_0_exact(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, uint8_t *out) {
    const __m512i lo4 = _mm512_set1_epi8(0x0F), bias = _mm512_set1_epi8(112); /* -16 + 128 */
    _Static_assert(offsetof(block_q5_0, qs) == offsetof(block_q5_0, qh) + 4, "qh, then qs");
    __m512i v[16]; /* v[0]: qh, v[1 + j]: dword j of qs */
    rows_as_lanes_n(w, w_row, offsetof(block_q5_0, qh), 20, m, v);
    const __m512i qh = v[0];
    for (int k = 0; k < 8; k++) {
        __m512i q = v[1 + (k & 3)];
        if (k >= 4) q = _mm512_srli_epi32(q, 4);
        const __m512i e = _mm512_or_si512(_mm512_and_si512(q, lo4), spread4_bit4(_mm512_srli_epi32(qh, 4 * k)));
        _mm512_store_si512(out + k * 64, _mm512_add_epi8(e, bias));
    }
    _mm512_store_ps(out + 8 * 64, half_to_ps(gather(w, idx, m), false));
}

/* One token over a whole-row Q8_0 panel: the 16 rows' results. */
static __m512 q8_0_token(const uint8_t *panel, int64_t nbk, const uint8_t *act, const uint8_t *meta) {
    const block_q8_0 *a = (const block_q8_0 *)(const void *)act;
    const int32_t *corr = (const int32_t *)(const void *)meta;
    __m512 acc[8];
    for (int k = 0; k < 8; k++) acc[k] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nbk; b++) {
        const uint8_t *P = panel + b * Q80_BLK;
        const __m512 d = _mm512_mul_ps(_mm512_load_ps(P + 8 * 64), _mm512_set1_ps(xuan_fp16_to_fp32(a[b].d)));
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const __m512i s = _mm512_dpbusd_epi32(_mm512_set1_epi32(corr[b * 8 + k]), _mm512_load_si512(P + k * 64),
                                                  _mm512_set1_epi32(load_i32((const uint8_t *)a[b].qs + 4 * k)));
            acc[k] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[k]);
        }
    }
    return sum8_lanes(acc);
}

/* Q6_K and Q8_0: for each panel of 16 rows, pack the whole row length once
 * (per-thread buffer), then run every token over it.  False when the panel
 * cannot be allocated. */
typedef __m512 (*token_fn_t)(const uint8_t *panel, int64_t nbk, const uint8_t *act, const uint8_t *meta);

/* A whole-row packer: as pack_fn, and the row stride for plain loads. */
typedef void (*pack_rows_fn)(const uint8_t *w, size_t w_row, __m512i idx, __mmask16 m, uint8_t *out);

static bool whole_row_rows(uint32_t type, pack_rows_fn pack, token_fn_t token, size_t blk_in, size_t blk_out,
                           int64_t blk_elems, const uint8_t *w, size_t w_row, int64_t r0, int64_t r1,
                           int64_t n_rows, int64_t n_cols, const uint8_t *act, size_t act_row, const void *meta,
                           int64_t n_tok, float *y) {
    const size_t meta_row = xuan_gemm_meta_row_bytes(type, n_cols);
    const int64_t nbk = n_cols / blk_elems;
    uint8_t *panel = thread_buffer((size_t)nbk * blk_out, BUF_PANEL);
    if (!panel) return false;
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32((int)w_row));
    for (int64_t p = r0; p < r1; p += PR) {
        const int nr = r1 - p < PR ? (int)(r1 - p) : PR;
        const __mmask16 rows = (__mmask16)((1u << nr) - 1);
        for (int64_t b = 0; b < nbk; b++)
            pack(w + (size_t)p * w_row + (size_t)b * blk_in, w_row, idx, rows, panel + b * blk_out);
        for (int64_t t = 0; t < n_tok; t++)
            _mm512_mask_storeu_ps(y + (size_t)t * n_rows + p, rows,
                                  token(panel, nbk, act + (size_t)t * act_row, (const uint8_t *)meta + (size_t)t * meta_row));
    }
    return true;
}

/* ---- driver ------------------------------------------------------------------------------- */

bool xuan_gemm_avx512_rows(uint32_t type, const uint8_t *w, size_t w_row, int64_t r0, int64_t r1,
                           int64_t n_rows, int64_t n_cols, const uint8_t *act, size_t act_row,
                           const void *meta, int64_t n_tok, float *y) {
    if (type == XUAN_TYPE_MXFP4) return xuan_gemm_mxfp4_rows(w, w_row, r0, r1, n_rows, n_cols, act, act_row, meta, n_tok, y);
    if (type == XUAN_TYPE_Q4_K) return q4_K_rows(w, w_row, r0, r1, n_rows, n_cols, act, act_row, meta, n_tok, y);
    if (type == XUAN_TYPE_Q6_K)
        return whole_row_rows(type, pack_q6_K_exact, q6_K_token, sizeof(block_q6_K), Q6K_BLK, QKK, w, w_row, r0, r1,
                              n_rows, n_cols, act, act_row, meta, n_tok, y);
    /* Q5_0: below Q5_0_EXACT_BELOW tokens (a decode step of a few sequences)
     * the exact panel, one token at a time; a prompt through the groups'
     * kernel, 8 tokens at a time, whose float order differs */
    if (type == XUAN_TYPE_Q5_0 && n_tok < Q5_0_EXACT_BELOW)
        return whole_row_rows(type, pack_q5_0_exact, q8_0_token, sizeof(block_q5_0), Q80_BLK, QK32, w, w_row, r0, r1,
                              n_rows, n_cols, act, act_row, meta, n_tok, y);
    if (type == XUAN_TYPE_Q8_0)
        return whole_row_rows(type, pack_q8_0_exact, q8_0_token, sizeof(block_q8_0), Q80_BLK, QK32, w, w_row, r0, r1,
                              n_rows, n_cols, act, act_row, meta, n_tok, y);
    const gemm_type *t = &TYPES[type];
    const int G = t->group;
    act_view a = {.rows = act, .row_bytes = act_row, .meta = meta, .meta_stride = (size_t)(n_cols / G)};
    if (type == XUAN_TYPE_Q5_0) { /* past the lane sums (xuan_gemm_meta_row_bytes) */
        a.meta = (const act_meta *)meta + (size_t)(n_cols / QK32) * 8 * sizeof(int32_t) / sizeof(act_meta);
        a.meta_stride = xuan_gemm_meta_row_bytes(type, n_cols) / sizeof(act_meta);
    }
    if (t->act_type == XUAN_TYPE_Q8_K) {
        a.blk_bytes = sizeof(block_q8_K);
        a.qs_off = offsetof(block_q8_K, qs);
        a.groups_per_blk = QKK / G;
    } else {
        a.blk_bytes = t->act_type == XUAN_TYPE_Q8_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);
        a.qs_off = t->act_type == XUAN_TYPE_Q8_1 ? offsetof(block_q8_1, qs) : offsetof(block_q8_0, qs);
        a.groups_per_blk = 1;
    }
    _Alignas(64) uint8_t panel[KC / 16 * (16 * PR + 128)]; /* the largest: 16-groups with biases */
    _Static_assert(KC / 32 * MAX_GROUP_BYTES <= sizeof panel, "panel buffer too small");
    const size_t gb = group_bytes(t), blk_out = (size_t)(t->w_elems / G) * gb;
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32((int)w_row));
    for (int64_t k0 = 0; k0 < n_cols; k0 += KC) {
        const int64_t kc = n_cols - k0 < KC ? n_cols - k0 : KC;
        const int64_t b0 = k0 / t->w_elems, nb = kc / t->w_elems;
        const int ng = (int)(kc / G);
        for (int64_t p = r0; p < r1; p += PR) {
            const int nr = r1 - p < PR ? (int)(r1 - p) : PR;
            const __mmask16 rows = (__mmask16)((1u << nr) - 1);
            const uint8_t *wp = w + (size_t)p * w_row + (size_t)b0 * t->w_bytes;
            for (int64_t b = 0; b < nb; b++) t->pack(wp + (size_t)b * t->w_bytes, idx, rows, panel + b * blk_out);
            for (int64_t t0 = 0; t0 < n_tok; t0 += NT) {
                const int nt = n_tok - t0 < NT ? (int)(n_tok - t0) : NT;
                run_tile(t, panel, ng, k0 / G, &a, t0, nt, y + p, (size_t)n_rows, rows, k0 > 0);
            }
        }
    }
    return true;
}
