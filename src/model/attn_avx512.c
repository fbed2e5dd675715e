/* attn_avx512.c — attention over a tile of queries that share a KV head,
 * for a batch of 2+ tokens with an F16 cache (compiled with the AVX-512
 * flags; called only after xuan_cpu_get() reported AVX-512).
 *
 * Query by query, every head read its KV head's whole cache once: on a
 * Qwen2.5-0.5B prompt at depth 16384 that is 4 MB of K and V per query
 * and layer, from L3 or memory, and attention was ~90% of the time.  A
 * tile is the queries of a few consecutive tokens of one sequence times the
 * heads of one KV group (28 rows for Qwen2.5); each K and V row is read
 * once per tile, from L1, for all of them.
 *
 * The arithmetic is attn_one's (forward.c), which is llama.cpp's non-flash
 * graph, bit for bit:
 *  - q.k in tinyBLAS order: 16 lanes, lane l adds elements l, l+16, ... by
 *    fused multiply-adds from +0, then the _mm512_reduce_add_ps tree.  Here
 *    16 keys are reduced together by four shuffle-and-add steps that pair
 *    the same lanes as the tree does (l + l+8, + l+4, + l+2, + l+1), so each
 *    key's sum is the one a lone reduce gives;
 *  - scale, softcap, the softmax over the row and the F16 rounding of the
 *    weights by the same functions attn_one calls;
 *  - the V sum: the term of position p goes to slot p % 16 in increasing p,
 *    a slot starts at -0, one no key reached is +0, slots summed by the
 *    tree (as xuan_op_wsum_f16_avx512, whose registers here live in `acc`
 *    between chunks of keys).
 * Tests: test_batch `test_tiled_attention_same_bits` (whole models, this
 * path against attn_one's at every shape it takes). */
#include <immintrin.h>
#include <math.h>

#include "model/internal.h"
#include "model/tree_avx512.h"

enum { CHUNK = ATTN_TILE_CHUNK }; /* positions of K / V per pass over the tile's rows */

/* ggml_v_expf, its AVX-512 form (the reference's own: j * 2^n by scalef,
 * 0 or inf where |n| > 192). */
static inline __m512 expf16(__m512 x) {
    const __m512 r = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
    const __m512 n = _mm512_sub_ps(z, r);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __mmask16 d = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    const __m512 res = _mm512_scalef_ps(j, n);
    if (_mm512_kortestz(d, d)) return res;
    const __m512 alt = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ),
                                            _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
    return _mm512_mask_blend_ps(d, res, alt);
}

double xuan_attn_exp_avx512(float *s, uint32_t n, uint32_t first, float mx) {
    const __m512 m = _mm512_set1_ps(mx), ninf = _mm512_set1_ps(-INFINITY);
    const uint32_t end = first + n;
    double sum = 0.0;
    for (uint32_t c = first & ~15u; c < end; c += 16) {
        uint32_t k = 0xFFFF; /* lanes inside [first, end) */
        if (c < first) k &= 0xFFFFu << (first - c);
        if (c + 16 > end) k &= 0xFFFFu >> (c + 16 - end);
        /* s points at cell `first`: lanes before it are read through a
         * mask, never dereferenced */
        float *p = s + ((int64_t)c - (int64_t)first);
        const __m512 x = _mm512_mask_loadu_ps(ninf, (__mmask16)k, p);
        const __m512 e = expf16(_mm512_sub_ps(x, m));
        sum += (double)tree16(e);
        _mm512_mask_storeu_ps(p, (__mmask16)k, e);
    }
    return sum;
}

/* Sixteen 16-lane sums at once: lane k of the result is the reduce tree
 * of a[k]. */
static inline __m512 tree16x16(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4, __m512 a5, __m512 a6,
                               __m512 a7, __m512 a8, __m512 a9, __m512 a10, __m512 a11, __m512 a12, __m512 a13,
                               __m512 a14, __m512 a15) {
    /* lanes l + (l + 8): two keys per vector, eight lanes each */
#define R1(a, b) _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE))
    const __m512 u0 = R1(a0, a1), u1 = R1(a2, a3), u2 = R1(a4, a5), u3 = R1(a6, a7);
    const __m512 u4 = R1(a8, a9), u5 = R1(a10, a11), u6 = R1(a12, a13), u7 = R1(a14, a15);
#undef R1
    /* + (l + 4): four keys per vector, one per 128-bit quarter */
#define R2(a, b) _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD))
    const __m512 v0 = R2(u0, u1), v1 = R2(u2, u3), v2 = R2(u4, u5), v3 = R2(u6, u7);
#undef R2
    /* + (l + 2) within each quarter, then + (l + 1) */
#define R3(a, b) _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x44), _mm512_shuffle_ps(a, b, 0xEE))
    const __m512 x0 = R3(v0, v1), x1 = R3(v2, v3);
#undef R3
    const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(x0, x1, 0x88), _mm512_shuffle_ps(x0, x1, 0xDD));
    /* lane 4j + m holds key j + 4m */
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(idx, f);
}

/* q . k for 16 keys packed by pack_rows (hd a multiple of 16): key k's
 * elements 16c .. 16c + 15 at pk[c * 256 + k * 16]. */
static inline __m512 qk16(const float *q, uint32_t hd, const float *pk) {
    const __m512 z = _mm512_setzero_ps();
    __m512 a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
    __m512 a8 = z, a9 = z, a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z;
    for (uint32_t l = 0; l < hd; l += 16, pk += 256) {
        const __m512 qv = _mm512_loadu_ps(q + l);
#define K(i) a##i = _mm512_fmadd_ps(_mm512_loadu_ps(pk + (i) * 16), qv, a##i)
        K(0); K(1); K(2); K(3); K(4); K(5); K(6); K(7);
        K(8); K(9); K(10); K(11); K(12); K(13); K(14); K(15);
#undef K
    }
    return tree16x16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
}

/* The chunk's F16 rows (positions p0 .. p0 + CHUNK - 1 that have a cell
 * and are below hi) as floats, 16 keys x 16 elements per block: element
 * 16c + l of key 16b + k at out[(b * (dim / 16) + c) * 256 + k * 16 + l]
 * (K, by qk16) or, for V, at out[(c * CHUNK + 16b + k) * 16 + l]; the bit
 * of each position with a cell in the returned mask. */
static uint64_t pack_rows(const xuan_attn_tile *t, const uint8_t *base, size_t stride, uint32_t dim, bool as_v,
                          uint32_t p0, uint32_t hi, float *out) {
    uint64_t have = 0;
    const uint32_t nc = dim / 16;
    for (uint32_t i = 0; i < CHUNK; i++) {
        const int32_t cell = p0 + i < hi ? t->cells[p0 + i] : -1;
        const uint32_t b = i / 16, k = i % 16;
        if (cell < 0) {
            if (!as_v) /* a hole's key: zeros, its score is masked */
                for (uint32_t c = 0; c < nc; c++)
                    _mm512_storeu_ps(out + ((size_t)(b * nc + c) * 256 + k * 16), _mm512_setzero_ps());
            continue;
        }
        have |= 1ull << i;
        const uint16_t *row = (const uint16_t *)(const void *)(base + (size_t)cell * stride);
        for (uint32_t c = 0; c < nc; c++) {
            const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(row + 16 * c)));
            float *o = as_v ? out + ((size_t)c * CHUNK + i) * 16 : out + ((size_t)(b * nc + c) * 256 + k * 16);
            _mm512_storeu_ps(o, x);
        }
    }
    return have;
}

/* Scores s[p] = scale * q_r . k_p of every row's visible positions (-inf
 * where the sequence has no cell), and each row's largest in mx[r]. */
static void tile_scores(const xuan_attn_tile *t, uint32_t lo, uint32_t hi, float *mx) {
    const __m512 scale = _mm512_set1_ps(t->scale), ninf = _mm512_set1_ps(-INFINITY);
    __m512 m[ATTN_TILE_ROWS_MAX];
    for (uint32_t r = 0; r < t->n_rows; r++) m[r] = ninf;
    for (uint32_t p0 = lo; p0 < hi; p0 += CHUNK) {
        const uint64_t have = pack_rows(t, t->k, t->k_row, t->hd, false, p0, hi, t->pack);
        for (uint32_t r = 0; r < t->n_rows; r++) {
            const uint32_t f = t->first[r], e = t->end[r];
            float *s = t->s + (size_t)r * t->s_stride;
            for (uint32_t b = 0; b < CHUNK && p0 + b < hi; b += 16) {
                const uint32_t p = p0 + b;
                if (p + 16 <= f || p >= e) continue;
                uint32_t k = 0xFFFF; /* lanes inside [f, e) */
                if (p < f) k &= 0xFFFFu << (f - p);
                if (p + 16 > e) k &= 0xFFFFu >> (p + 16 - e);
                const uint32_t live = k & (uint32_t)(have >> b);
                __m512 sc = ninf;
                if (live) {
                    sc = _mm512_mul_ps(qk16(t->q + (size_t)r * t->hd, t->hd, t->pack + (size_t)(b / 16) * t->hd * 16),
                                       scale);
                    sc = _mm512_mask_blend_ps((__mmask16)live, ninf, sc);
                    m[r] = _mm512_mask_max_ps(m[r], (__mmask16)live, m[r], sc);
                }
                _mm512_mask_storeu_ps(s + p, (__mmask16)k, sc);
            }
        }
    }
    for (uint32_t r = 0; r < t->n_rows; r++) mx[r] = _mm512_reduce_max_ps(m[r]);
}

/* Row r's slots += its weights times V over the chunk's positions `keys`,
 * the weights the row's exps times inv rounded to F16. */
static void tile_vsum_chunk(const xuan_attn_tile *t, uint32_t r, uint32_t p0, uint64_t keys, float inv) {
    _Alignas(64) float w[CHUNK];
    const float *x = t->s + (size_t)r * t->s_stride + p0;
    const __m512 iv = _mm512_set1_ps(inv);
    for (uint32_t b = 0; b < CHUNK; b += 16) { /* ggml multiplies F16 V by the weights converted to F16 */
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps((__mmask16)(keys >> b), x + b), iv);
        _mm512_store_ps(w + b, _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    }
    float *acc = t->acc + (size_t)r * 16 * t->hdv;
    const uint32_t hdv = t->hdv;
    for (uint32_t e = 0; e < hdv; e += 16) {
        const float *pv = t->pack + (size_t)e * CHUNK; /* block e / 16 of every key */
#define LD(k) __m512 a##k = _mm512_loadu_ps(acc + (size_t)(k) * hdv + e)
        LD(0); LD(1); LD(2); LD(3); LD(4); LD(5); LD(6); LD(7);
        LD(8); LD(9); LD(10); LD(11); LD(12); LD(13); LD(14); LD(15);
#undef LD
        for (uint32_t b = 0; b < CHUNK; b += 16) {
            const uint32_t m = (uint32_t)(keys >> b) & 0xFFFF;
            if (!m) continue;
#define FMA(k) a##k = _mm512_fmadd_ps(_mm512_set1_ps(w[b + (k)]), _mm512_loadu_ps(pv + (b + (k)) * 16), a##k)
            if (m == 0xFFFF) {
                FMA(0); FMA(1); FMA(2); FMA(3); FMA(4); FMA(5); FMA(6); FMA(7);
                FMA(8); FMA(9); FMA(10); FMA(11); FMA(12); FMA(13); FMA(14); FMA(15);
            } else {
#define FMA_IF(k) if (m >> (k) & 1) FMA(k)
                FMA_IF(0); FMA_IF(1); FMA_IF(2); FMA_IF(3); FMA_IF(4); FMA_IF(5); FMA_IF(6); FMA_IF(7);
                FMA_IF(8); FMA_IF(9); FMA_IF(10); FMA_IF(11); FMA_IF(12); FMA_IF(13); FMA_IF(14); FMA_IF(15);
#undef FMA_IF
            }
#undef FMA
        }
#define ST(k) _mm512_storeu_ps(acc + (size_t)(k) * hdv + e, a##k)
        ST(0); ST(1); ST(2); ST(3); ST(4); ST(5); ST(6); ST(7);
        ST(8); ST(9); ST(10); ST(11); ST(12); ST(13); ST(14); ST(15);
#undef ST
    }
}

void xuan_attn_tile_avx512(const xuan_attn_tile *t) {
    XUAN_ASSERT(t->hd % 16 == 0 && t->hdv % 16 == 0 && t->n_rows > 0 && t->n_rows <= ATTN_TILE_ROWS_MAX);
    uint32_t lo = UINT32_MAX, hi = 0;
    for (uint32_t r = 0; r < t->n_rows; r++) {
        lo = t->first[r] < lo ? t->first[r] : lo;
        hi = t->end[r] > hi ? t->end[r] : hi;
    }
    lo &= ~15u; /* chunks aligned to the slots of the V sum */

    float mx[ATTN_TILE_ROWS_MAX], inv[ATTN_TILE_ROWS_MAX];
    tile_scores(t, lo, hi, mx);
    for (uint32_t r = 0; r < t->n_rows; r++) {
        const uint32_t f = t->first[r], n = t->end[r] - f;
        float *s = t->s + (size_t)r * t->s_stride + f;
        if (t->softcap > 0) { /* masked keys stay -inf */
            mx[r] = -INFINITY;
            for (uint32_t i = 0; i < n; i++) {
                if (t->cells[f + i] >= 0) xuan_op_softcap(s + i, 1, t->softcap);
                mx[r] = s[i] > mx[r] ? s[i] : mx[r];
            }
        }
        /* the softmax as xuan_op_softmax(_sink) computes it; its last step,
         * times (float)(1 / sum), happens as the V sum reads the weights */
        if (t->sink) mx[r] = t->sink[r] > mx[r] ? t->sink[r] : mx[r];
        double sum = xuan_attn_exp_avx512(s, n, f, mx[r]);
        if (t->sink) sum += (double)expf(t->sink[r] - mx[r]);
        inv[r] = (float)(1.0 / sum);
        float *acc = t->acc + (size_t)r * 16 * t->hdv;
        for (size_t i = 0; i < (size_t)16 * t->hdv; i++) acc[i] = -0.0f;
    }

    for (uint32_t p0 = lo; p0 < hi; p0 += CHUNK) {
        const uint64_t have = pack_rows(t, t->v, t->v_row, t->hdv, true, p0, hi, t->pack);
        if (!have) continue;
        for (uint32_t r = 0; r < t->n_rows; r++) {
            const uint32_t f = t->first[r], e = t->end[r];
            if (p0 + CHUNK <= f || p0 >= e) continue;
            uint64_t keys = have; /* and inside [f, e) */
            if (p0 < f) keys &= ~0ull << (f - p0);
            if (e < p0 + CHUNK) keys &= (1ull << (e - p0)) - 1;
            if (keys) tile_vsum_chunk(t, r, p0, keys, inv[r]);
        }
    }

    for (uint32_t r = 0; r < t->n_rows; r++) {
        uint32_t used = 0; /* slots some key reached */
        for (uint32_t p = t->first[r]; p < t->end[r] && used != 0xFFFF; p++)
            if (t->cells[p] >= 0) used |= 1u << (p & 15);
        const float *acc = t->acc + (size_t)r * 16 * t->hdv;
        const size_t hdv = t->hdv;
        for (uint32_t e = 0; e < t->hdv; e += 16) {
            __m512 a[16];
            for (uint32_t k = 0; k < 16; k++)
                a[k] = (used >> k & 1) ? _mm512_loadu_ps(acc + k * hdv + e) : _mm512_setzero_ps();
            _mm512_storeu_ps(t->out[r] + e, tree16_slots(a));
        }
    }
}
