/* tree_avx512.h — the _mm512_reduce_add_ps tree, for the AVX-512 files of
 * the model room (include only from *_avx512.c).  llama.cpp sums tinyBLAS
 * lanes and attention's V slots by this tree; spelled out here so that no
 * compiler's choice of order can move it. */
#ifndef XUAN_MODEL_TREE_AVX512_H
#define XUAN_MODEL_TREE_AVX512_H

#include <immintrin.h>

/* Lanes 0..15 of x: l + (l + 8), then + (l + 4), + (l + 2), + (l + 1). */
static inline float tree16(__m512 x) {
    const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* The same tree over sixteen vectors element by element: slot k of each
 * element in a[k]. */
static inline __m512 tree16_slots(const __m512 a[16]) {
    const __m512 t0 = _mm512_add_ps(_mm512_add_ps(a[0], a[8]), _mm512_add_ps(a[4], a[12]));
    const __m512 t1 = _mm512_add_ps(_mm512_add_ps(a[1], a[9]), _mm512_add_ps(a[5], a[13]));
    const __m512 t2 = _mm512_add_ps(_mm512_add_ps(a[2], a[10]), _mm512_add_ps(a[6], a[14]));
    const __m512 t3 = _mm512_add_ps(_mm512_add_ps(a[3], a[11]), _mm512_add_ps(a[7], a[15]));
    return _mm512_add_ps(_mm512_add_ps(t0, t2), _mm512_add_ps(t1, t3));
}

#endif
