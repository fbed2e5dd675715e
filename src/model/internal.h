/*
 * internal.h — what the engine files of src/model share: the loaded model
 * (weights bound to tensors in the mapping) and the context (KV cache and
 * activation buffers).  Nobody outside src/model includes it.
 */
#ifndef XUAN_MODEL_INTERNAL_H
#define XUAN_MODEL_INTERNAL_H

#include "xuan/model.h"
#include "xuan/quant.h"

/* A 1-D float tensor (norm weights, biases, RoPE factors); NULL = absent. */
typedef const float *vecf;

typedef struct layer_w {
    vecf attn_norm, ffn_norm;
    xuan_weight wq, wk, wv, wqkv; /* wqkv.data != NULL: fused (phi3) */
    vecf bq, bk, bv, bo;          /* optional biases */
    xuan_weight wo;
    xuan_weight w_gate, w_up, w_down; /* w_gate.data == NULL: w_up is gate|up fused */
} layer_w;

struct xuan_model {
    xuan_gguf *g; /* owned */
    xuan_hparams hp;
    xuan_weight tok_embd, output;
    vecf output_norm;
    vecf rope_freqs;            /* llama3 frequency factors */
    vecf rope_long, rope_short; /* LongRoPE factors */
    layer_w *layers;            /* n_layers */
    uint64_t weight_bytes;
};

/* ---- kernels shared by the forward pass (ops.c) ---- */

/* y = x / rms(x) * w over n elements (sum in double, as ggml). */
void xuan_op_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps);
/* cos/sin table for one position: cs[2i], cs[2i+1] for i < n_rot/2, built
 * exactly as ggml's rope cache (theta multiplied step by step). */
void xuan_op_rope_table(const xuan_hparams *hp, const float *freq_factors, float pos,
                        float *cs);
/* Rotates one head vector in place. */
void xuan_op_rope_apply(float *x, const float *cs, uint32_t n_rot, bool neox);
/* Rounds floats to the nearest F16 (or BF16) value, in place or src->dst. */
void xuan_op_round_f16(const float *src, float *dst, int64_t n);
void xuan_op_round_bf16(const float *src, float *dst, int64_t n);
/* Attention over an F16 cache: x . h over n elements, and acc += w * h.
 * Scalar references here; the _avx512 versions (attn_avx512.c) need a CPU
 * with AVX-512 (xuan_cpu_get()->simd >= XUAN_SIMD_AVX512). */
float xuan_op_dot_f16(const float *x, const uint16_t *h, int64_t n);
void xuan_op_axpy_f16(float *acc, float w, const uint16_t *h, int64_t n);
float xuan_op_dot_f16_avx512(const float *x, const uint16_t *h, int64_t n);
void xuan_op_axpy_f16_avx512(float *acc, float w, const uint16_t *h, int64_t n);
/* y[i] = silu(g[i]) * u[i]. */
void xuan_op_swiglu(const float *g, const float *u, float *y, int64_t n);

#endif
