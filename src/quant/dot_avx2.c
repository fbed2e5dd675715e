/* dot_avx2.c — the x86 kernels of dot_x86.h at the AVX2 level, and F16C
 * row conversions.  Only called after xuan_cpu_get() reported AVX2. */
#include "quant/dot_x86.h"

const xuan_vec_dot_fn xuan_dot_avx2[XUAN_TYPE_COUNT] = SIMD_DOT_TABLE;

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
