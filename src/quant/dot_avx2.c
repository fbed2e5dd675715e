/* dot_avx2.c — the x86 kernels of dot_x86.h at the AVX2 level, and F16C
 * row conversions.  Only called after xuan_cpu_get() reported AVX2. */
#include "quant/dot_x86.h"

const xuan_vec_dot_fn xuan_dot_avx2[XUAN_TYPE_COUNT] = SIMD_DOT_TABLE;

float xuan_dot_q4_K_pairs_avx2(int64_t n, const void *w, const void *a) { return q4_K_dot(n, w, a, true); }
void xuan_dot_q4_K_pairs_x4_avx2(int64_t n, const void *w, const void *const a[4], float out[4]) {
    q4_K_pairs_x4(n, w, a, out);
}
const xuan_dot_x4_fn xuan_dot_x4_avx2[XUAN_TYPE_COUNT] = SIMD_X4_TABLE;

/* ggml_vec_dot_f16's single-token order (dot.c): slot 16j + l of its four
 * 16-lane sums lives in a[2j] (l < 8) or a[2j + 1]. */
float xuan_dot_f16_single_avx2(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *x = va;
    __m256 a[8];
    for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
    const int64_t np = n & ~(int64_t)63;
    for (int64_t i = 0; i < np; i += 64)
        for (int k = 0; k < 8; k++)
            a[k] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8 * k))),
                                   _mm256_loadu_ps(x + i + 8 * k), a[k]);
    for (int k = 0; k < 2; k++) {
        a[k] = _mm256_add_ps(a[k], a[k + 4]);
        a[k + 2] = _mm256_add_ps(a[k + 2], a[k + 6]);
        a[k] = _mm256_add_ps(a[k], a[k + 2]);
    }
    double sum = (double)hsum_ps(_mm256_add_ps(a[0], a[1]));
    for (int64_t i = np; i < n; i++) sum += (double)(xuan_fp16_to_fp32(w[i]) * x[i]);
    return (float)sum;
}

/* The same at 8 lanes, as llama.cpp's AVX2 build (dot.c,
 * xuan_dot_f16_single8_scalar). */
float xuan_dot_f16_single8_avx2(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *x = va;
    __m256 a[4];
    for (int k = 0; k < 4; k++) a[k] = _mm256_setzero_ps();
    const int64_t np = n & ~(int64_t)31;
    for (int64_t i = 0; i < np; i += 32)
        for (int k = 0; k < 4; k++)
            a[k] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8 * k))),
                                   _mm256_loadu_ps(x + i + 8 * k), a[k]);
    a[0] = _mm256_add_ps(a[0], a[2]);
    a[1] = _mm256_add_ps(a[1], a[3]);
    a[0] = _mm256_add_ps(a[0], a[1]);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(a[0]), _mm256_extractf128_ps(a[0], 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    double sum = (double)_mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    for (int64_t i = np; i < n; i++) sum += (double)(xuan_fp16_to_fp32(w[i]) * x[i]);
    return (float)sum;
}

float xuan_dot_f32_vec_avx2(int64_t n, const void *w, const void *a) { return dot_f32_vec_avx2(n, w, a); }

void xuan_fp16_to_fp32_row_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = xuan_fp16_to_fp32(src[i]);
}

void xuan_fp32_to_fp16_row_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = xuan_fp32_to_fp16(src[i]);
}

float xuan_dot_mxfp4_single_avx2(int64_t n, const void *w, const void *a) { return simd_dot_mxfp4_single(n, w, a); }
