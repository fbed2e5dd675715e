/* ops_avx512.c — the attention V sum with AVX-512 (compiled with its
 * flags; called only after xuan_cpu_get() reported AVX-512).
 *
 * xuan_op_wsum_f16 for a batch (llama.cpp's tinyBLAS order: the term of
 * position p goes to slot p % 16, slots summed by a fixed tree) keeps the
 * sixteen slot accumulators of 16 output elements in registers, one pass
 * over the keys per 16 elements, instead of reading and writing a slot row
 * in memory for every key: on a Qwen2.5-0.5B prompt at depth 4096 the V
 * sum was 35% of the time.  Same bits as ops.c: w is rounded to F16 and V
 * is F16, so every product w * v is exact in float and a fused multiply-add
 * rounds exactly as the reference's add; a slot starts at -0 (fma(w, v, -0)
 * = w * v, sign of zero included) and a slot no key reached is +0, as the
 * reference's memset leaves it. */
#include <immintrin.h>

#include "model/internal.h"
#include "model/tree_avx512.h"

void xuan_op_wsum_f16_avx512(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                             uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc) {
    if (o != XUAN_ORDER_GEMM || hd % 16) {
        xuan_op_wsum_f16_avx2(out, w, v, stride, cells, n, first, hd, o, acc);
        return;
    }
    uint32_t used = 0;
    for (uint32_t i = 0; i < n && used != 0xFFFF; i++)
        if (cells[i] >= 0) used |= 1u << ((first + i) & 15);
    /* keys in blocks of 16 positions, slot k of a block = position base + k */
    const int64_t base = -(int64_t)(first & 15), end = (int64_t)n;
    for (uint32_t e = 0; e < hd; e += 16) {
        const __m512 nz = _mm512_set1_ps(-0.0f);
        __m512 a0 = nz, a1 = nz, a2 = nz, a3 = nz, a4 = nz, a5 = nz, a6 = nz, a7 = nz;
        __m512 a8 = nz, a9 = nz, a10 = nz, a11 = nz, a12 = nz, a13 = nz, a14 = nz, a15 = nz;
        for (int64_t ib = base; ib < end; ib += 16) {
#define STEP(k)                                                                                      \
    do {                                                                                             \
        const int64_t ii = ib + (k);                                                                 \
        if (ii >= 0 && ii < end && cells[ii] >= 0) {                                                 \
            const uint16_t *row = (const uint16_t *)(const void *)(v + (size_t)cells[ii] * stride) + e; \
            const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)row)); \
            a##k = _mm512_fmadd_ps(_mm512_set1_ps(w[ii]), x, a##k);                                   \
        }                                                                                            \
    } while (0)
            STEP(0); STEP(1); STEP(2); STEP(3); STEP(4); STEP(5); STEP(6); STEP(7);
            STEP(8); STEP(9); STEP(10); STEP(11); STEP(12); STEP(13); STEP(14); STEP(15);
#undef STEP
        }
        const __m512 z = _mm512_setzero_ps();
        const __m512 a[16] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15};
        __m512 fixed[16];
        for (int k = 0; k < 16; k++) fixed[k] = (used >> k & 1) ? a[k] : z; /* a slot no key reached: +0 */
        _mm512_storeu_ps(out + e, tree16_slots(fixed));
    }
    (void)acc;
}
