/*
 * attn_avx512.c — the two inner loops of attention over an F16 KV cache,
 * AVX-512 (F16C conversion, FMA).  The scalar references are in ops.c;
 * forward.c picks a level from xuan_cpu_get()->simd.
 *
 * Keys and values are read straight from the cache as F16 and widened in
 * registers, so no row is converted to a float buffer first.  Summation
 * order: the dot keeps 16 lanes (plus a second set of accumulators for
 * ILP) and reduces at the end, as ggml's F16 vec_dot does with its own lane
 * count; the weighted V sum keeps each element's order over positions, so
 * it matches the scalar reference up to FMA contraction.
 */
#include "model/internal.h"

#include <immintrin.h>

float xuan_op_dot_f16_avx512(const float *x, const uint16_t *h, int64_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 k0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(h + i)));
        __m512 k1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(h + i + 16)));
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), k0, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), k1, a1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 k0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(h + i)));
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), k0, a0);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    for (; i < n; i++) s += x[i] * xuan_fp16_to_fp32(h[i]);
    return s;
}

void xuan_op_axpy_f16_avx512(float *acc, float w, const uint16_t *h, int64_t n) {
    const __m512 wv = _mm512_set1_ps(w);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(h + i)));
        _mm512_storeu_ps(acc + i, _mm512_fmadd_ps(wv, v, _mm512_loadu_ps(acc + i)));
    }
    for (; i < n; i++) acc[i] += w * xuan_fp16_to_fp32(h[i]);
}
