/* qwen35_avx512.c — the gated delta rule's step with AVX-512: the bits of
 * xuan_gdn_step (qwen35.c), for head sizes that are multiples of 64 (every
 * dot product then has no tail, as in Qwen3.5's 128-wide heads). */
#include "model/internal.h"
#include "model/tree_avx512.h"

#include <math.h>

/* ggml_vec_dot_f32's order: accumulators 0..3 over 64-element steps,
 * folded (0+2) + (1+3), then the reduce tree. */
static inline float dot64(const float *x, const float *y, uint32_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t i = 0; i < n; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    return tree16(_mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3)));
}

void xuan_gdn_step_avx512(float *M, const float *k, const float *q, const float *v, float beta, float g,
                          float scale, uint32_t S, float *out) {
    XUAN_ASSERT(S % 64 == 0);
    const __m512 eg = _mm512_set1_ps(expf(g));
    /* one pass per row, as xuan_gdn_step: decay, prediction error, update, readout */
    for (uint32_t j = 0; j < S; j++) {
        float *row = M + (size_t)j * S;
        for (uint32_t i = 0; i < S; i += 16) _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), eg));
        const __m512 d = _mm512_set1_ps((v[j] - dot64(row, k, S)) * beta);
        for (uint32_t i = 0; i < S; i += 16)
            _mm512_storeu_ps(row + i, _mm512_fmadd_ps(_mm512_loadu_ps(k + i), d, _mm512_loadu_ps(row + i)));
        out[j] = dot64(row, q, S) * scale;
    }
}
