/*
 * ops_avx2.c — the vector versions of ops.c's attention and SwiGLU kernels
 * (AVX2 + FMA + F16C; forward.c calls them when xuan_cpu_get()->simd is at
 * least XUAN_SIMD_AVX2).  Every function returns bit for bit what its
 * scalar reference returns: the same operations in the same order, eight
 * lanes at a time; a 16-lane ggml vector is two of our registers, low half
 * first.  test_model checks the equality on random data.
 */
#include "model/internal.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* ggml_v_expf on 8 lanes.  j * 2^n is an exponent add while the result
 * stays normal (|n| <= 125); a chunk with a larger |n| is redone one lane
 * at a time by the scalar reference, which rounds like _mm512_scalef_ps. */
static inline __m256 expf8(__m256 x, bool *slow) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    const __m256 absn = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    /* not (|n| <= 125): also true for NaN */
    if (_mm256_movemask_ps(_mm256_cmp_ps(absn, _mm256_set1_ps(125.0f), _CMP_NLE_UQ))) *slow = true;
    const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(j), e));
}

/* ggml_v_expf of llama.cpp's AVX2 build, as it is (xuan_op_expf_ggml8). */
static inline __m256 expf8_avx2build(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1))));
    const __m256 absn = _mm256_andnot_ps(_mm256_set1_ps(-0.f), n);
    const __m256 c = _mm256_cmp_ps(absn, _mm256_set1_ps(126), _CMP_GT_OQ);
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
    if (!_mm256_movemask_ps(c)) return _mm256_fmadd_ps(j, k, k);
    const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                       _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256 d = _mm256_cmp_ps(absn, _mm256_set1_ps(192), _CMP_GT_OQ);
    return _mm256_or_ps(_mm256_and_ps(d, _mm256_mul_ps(s1, s1)),
                        _mm256_andnot_ps(d, _mm256_or_ps(_mm256_and_ps(c, _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)),
                                                         _mm256_andnot_ps(c, _mm256_fmadd_ps(k, j, k)))));
}

/* xuan_sum8_tree (base.h) on a register. */
static inline float hsum8(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

void xuan_op_swiglu8_avx2(const float *g, const float *u, float *y, int64_t n) {
    const int64_t n8 = n & ~(int64_t)7;
    for (int64_t i = 0; i < n8; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 ex = expf8_avx2build(_mm256_sub_ps(_mm256_setzero_ps(), x));
        const __m256 s = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), ex));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    xuan_op_swiglu8(g + n8, u + n8, y + n8, n - n8); /* < 8 left: libm's expf */
}

/* The max of a score row, 8 lanes at a time (max is exact in any order). */
static float row_max(const float *s, uint32_t n) {
    __m256 m8 = _mm256_set1_ps(-INFINITY);
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + i));
    float mv[8];
    _mm256_storeu_ps(mv, m8);
    float mx = -INFINITY;
    for (int l = 0; l < 8; l++) mx = mv[l] > mx ? mv[l] : mx;
    for (; i < n; i++) mx = s[i] > mx ? s[i] : mx;
    return mx;
}

/* s *= (float)(1 / sum), as ggml_vec_scale_f32 after the softmax. */
static void scale_row(float *s, uint32_t n, double sum) {
    const __m256 inv = _mm256_set1_ps((float)(1.0 / sum));
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(s + i, _mm256_mul_ps(_mm256_loadu_ps(s + i), inv));
    for (; i < n; i++) s[i] *= (float)(1.0 / sum);
}

static void softmax8_avx2(float *s, uint32_t n, uint32_t first, const float *sink) {
    float mx = row_max(s, n);
    if (sink) mx = *sink > mx ? *sink : mx;
    const __m256 mxv = _mm256_set1_ps(mx);
    const uint32_t end = first + n;
    double sum = 0.0;
    for (uint32_t c = first & ~7u; c < end; c += 8) {
        _Alignas(32) float v[8];
        const bool whole = c >= first && c + 8 <= end;
        if (whole) memcpy(v, s + (c - first), sizeof v);
        else
            for (uint32_t l = 0; l < 8; l++) v[l] = c + l >= first && c + l < end ? s[c + l - first] : -INFINITY;
        const __m256 ev = expf8_avx2build(_mm256_sub_ps(_mm256_load_ps(v), mxv));
        sum += (double)hsum8(ev);
        if (whole) {
            _mm256_storeu_ps(s + (c - first), ev);
        } else {
            _mm256_store_ps(v, ev);
            for (uint32_t l = 0; l < 8; l++)
                if (c + l >= first && c + l < end) s[c + l - first] = v[l];
        }
    }
    if (sink) sum += (double)expf(*sink - mx);
    scale_row(s, n, sum);
}

void xuan_op_softmax8_avx2(float *s, uint32_t n, uint32_t first) { softmax8_avx2(s, n, first, NULL); }
void xuan_op_softmax_sink8_avx2(float *s, uint32_t n, uint32_t first, float sink) {
    softmax8_avx2(s, n, first, &sink);
}

/* The _mm512_reduce_add_ps tree over lanes lo[0..7], hi[0..7] = a[0..15]. */
static inline float tree16(__m256 lo, __m256 hi) {
    __m256 t = _mm256_add_ps(lo, hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void xuan_op_swiglu_avx2(const float *g, const float *u, float *y, int64_t n) {
    const int64_t n16 = n & ~(int64_t)15;
    for (int64_t i = 0; i < n16; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        bool slow = false;
        const __m256 ex = expf8(_mm256_sub_ps(_mm256_setzero_ps(), x), &slow);
        if (slow) {
            for (int64_t k = i; k < i + 8; k++) y[k] = g[k] / (1.0f + xuan_op_expf_ggml(0.0f - g[k])) * u[k];
            continue;
        }
        const __m256 s = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), ex));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    xuan_op_swiglu(g + n16, u + n16, y + n16, n - n16); /* < 16 left: the expf tail */
}

/* sink: NULL, or an attention sink (xuan_op_softmax_sink). */
static void softmax_avx2(float *s, uint32_t n, uint32_t first, const float *sink) {
    float mx = row_max(s, n);
    if (sink) mx = *sink > mx ? *sink : mx; /* ggml: MAX(max, sink) */
    const __m256 mxv = _mm256_set1_ps(mx);
    const uint32_t end = first + n;
    double sum = 0.0;
    for (uint32_t c = first & ~15u; c < end; c += 16) {
        _Alignas(32) float v[16];
        const bool whole = c >= first && c + 16 <= end;
        if (whole) memcpy(v, s + (c - first), sizeof v);
        else
            for (uint32_t l = 0; l < 16; l++) v[l] = c + l >= first && c + l < end ? s[c + l - first] : -INFINITY;
        bool slow = false;
        __m256 lo = expf8(_mm256_sub_ps(_mm256_load_ps(v), mxv), &slow);
        __m256 hi = expf8(_mm256_sub_ps(_mm256_load_ps(v + 8), mxv), &slow);
        if (slow) { /* masked cells (-inf) and very small exps: lane by lane */
            for (int l = 0; l < 16; l++) v[l] = xuan_op_expf_ggml(v[l] - mx);
            lo = _mm256_load_ps(v);
            hi = _mm256_load_ps(v + 8);
        }
        sum += (double)tree16(lo, hi);
        if (whole) {
            _mm256_storeu_ps(s + (c - first), lo);
            _mm256_storeu_ps(s + (c - first) + 8, hi);
        } else {
            _mm256_store_ps(v, lo);
            _mm256_store_ps(v + 8, hi);
            for (uint32_t l = 0; l < 16; l++)
                if (c + l >= first && c + l < end) s[c + l - first] = v[l];
        }
    }
    if (sink) sum += (double)expf(*sink - mx);
    scale_row(s, n, sum);
}

void xuan_op_softmax_avx2(float *s, uint32_t n, uint32_t first) { softmax_avx2(s, n, first, NULL); }
void xuan_op_softmax_sink_avx2(float *s, uint32_t n, uint32_t first, float sink) {
    softmax_avx2(s, n, first, &sink);
}

static inline __m256 load_h8(const uint16_t *h) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h));
}

void xuan_op_wsum_f16_avx2(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                           uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc) {
    if (hd % 8) {
        xuan_op_wsum_f16(out, w, v, stride, cells, n, first, hd, o, acc);
        return;
    }
    const uint32_t slots = xuan_order_slots(o);
    uint64_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cells[i] < 0) continue;
        const uint32_t sl = (first + i) % slots;
        const uint16_t *row = (const uint16_t *)(const void *)(v + (size_t)cells[i] * stride);
        float *a = acc + (size_t)sl * hd;
        const __m256 wv = _mm256_set1_ps(w[i]);
        if (used >> sl & 1) {
            for (uint32_t e = 0; e < hd; e += 8)
                _mm256_storeu_ps(a + e, _mm256_fmadd_ps(wv, load_h8(row + e), _mm256_loadu_ps(a + e)));
        } else {
            for (uint32_t e = 0; e < hd; e += 8) _mm256_storeu_ps(a + e, _mm256_mul_ps(wv, load_h8(row + e)));
            used |= 1ull << sl;
        }
    }
    for (uint32_t sl = 0; sl < slots; sl++)
        if (!(used >> sl & 1)) memset(acc + (size_t)sl * hd, 0, hd * sizeof(float));
    if (o == XUAN_ORDER_VEC || o == XUAN_ORDER_VEC8) { /* four sums of q lanes: 0 += 2, 1 += 3, 0 += 1 */
        const uint32_t q = slots / 4;
        for (uint32_t l = 0; l < q; l++) {
            float *a0 = acc + (size_t)l * hd, *a1 = acc + (size_t)(l + q) * hd;
            const float *a2 = acc + (size_t)(l + 2 * q) * hd, *a3 = acc + (size_t)(l + 3 * q) * hd;
            for (uint32_t e = 0; e < hd; e += 8) {
                __m256 x0 = _mm256_add_ps(_mm256_loadu_ps(a0 + e), _mm256_loadu_ps(a2 + e));
                __m256 x1 = _mm256_add_ps(_mm256_loadu_ps(a1 + e), _mm256_loadu_ps(a3 + e));
                _mm256_storeu_ps(a0 + e, _mm256_add_ps(x0, x1));
            }
        }
    }
    if (o == XUAN_ORDER_GEMM8 || o == XUAN_ORDER_VEC8) { /* over the 8 slot rows, 8 elements at a time */
        const bool gemm = o == XUAN_ORDER_GEMM8;
        for (uint32_t e = 0; e < hd; e += 8) {
            __m256 t[8];
            for (int l = 0; l < 8; l++) t[l] = _mm256_loadu_ps(acc + (size_t)l * hd + e);
            __m256 h[4];
            for (int l = 0; l < 4; l++) h[l] = _mm256_add_ps(t[l + 4], t[l]);
            _mm256_storeu_ps(out + e, gemm ? _mm256_add_ps(_mm256_add_ps(h[0], h[2]), _mm256_add_ps(h[1], h[3]))
                                           : _mm256_add_ps(_mm256_add_ps(h[0], h[1]), _mm256_add_ps(h[2], h[3])));
        }
        return;
    }
    /* The tree over the 16 slot rows, 8 elements at a time. */
    for (uint32_t e = 0; e < hd; e += 8) {
        __m256 t[8];
        for (int l = 0; l < 8; l++)
            t[l] = _mm256_add_ps(_mm256_loadu_ps(acc + (size_t)l * hd + e), _mm256_loadu_ps(acc + (size_t)(l + 8) * hd + e));
        for (int l = 0; l < 4; l++) t[l] = _mm256_add_ps(t[l], t[l + 4]);
        _mm256_storeu_ps(out + e, _mm256_add_ps(_mm256_add_ps(t[0], t[2]), _mm256_add_ps(t[1], t[3])));
    }
}
