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
/* ---- ggml's evaluation order ----
 * The reference is llama.cpp's AVX-512 CPU backend.  It computes an F16 x
 * F16 product in one of two orders: for 2+ tokens through tinyBLAS (GEMM:
 * 16 lanes, lane l adds elements l, l+16, l+32, ... in order, then the
 * _mm512_reduce_add_ps tree), for one token through ggml_vec_dot_f16 (VEC:
 * 64 slots, slot s adds elements s, s+64, ...; slots s+32 and s+48 fold
 * into s and s+16, then s+16 into s, then the tree; the n % 64 tail is
 * added in double).  Attention uses whichever llama.cpp would for the same
 * batch; the weights of attention are the cells of the cache, so a slot is
 * chosen by the absolute cell index. */
typedef enum xuan_order { XUAN_ORDER_GEMM, XUAN_ORDER_VEC } xuan_order;
/* ggml_v_expf (the polynomial of ARM's optimized-routines), one lane. */
float xuan_op_expf_ggml(float x);
/* y = silu(g) * u: ggml_v_silu on whole 16-element chunks, expf on the tail. */
void xuan_op_swiglu(const float *g, const float *u, float *y, int64_t n);
/* Softmax in place over the scores of cells first .. first+n-1: exp with
 * ggml_v_expf in 16-cell chunks aligned to cell 0, chunk sums by the tree,
 * added in double (ggml_vec_soft_max_f32 over the padded, masked row). */
void xuan_op_softmax(float *s, uint32_t n, uint32_t first);
/* out[e] = sum_i w[i] * V_i[e] over n cache rows of hd F16 values, stride
 * bytes apart, starting at cell `first`; w rounded to F16 values.  acc:
 * 64 * hd floats of scratch. */
void xuan_op_wsum_f16(float *out, const float *w, const uint8_t *v, size_t stride, uint32_t n, uint32_t first,
                      uint32_t hd, xuan_order o, float *acc);
/* The same with AVX2 + FMA + F16C (ops_avx2.c); identical results. */
void xuan_op_swiglu_avx2(const float *g, const float *u, float *y, int64_t n);
void xuan_op_softmax_avx2(float *s, uint32_t n, uint32_t first);
void xuan_op_wsum_f16_avx2(float *out, const float *w, const uint8_t *v, size_t stride, uint32_t n,
                           uint32_t first, uint32_t hd, xuan_order o, float *acc);

#endif
