/*
 * internal.h — what the files of src/quant share and nobody else needs:
 * block-level entry points without argument checks, and the kernel tables
 * of each SIMD level.
 */
#ifndef XUAN_QUANT_INTERNAL_H
#define XUAN_QUANT_INTERNAL_H

#include "xuan/quant.h"

/* n is a multiple of the type's block size and the type is supported. */
void xuan_quant_dequant_blocks(uint32_t type, const void *src, float *dst, int64_t n);
void xuan_quant_quantize_blocks(uint32_t type, const float *src, void *dst, int64_t n);

/* A fused dot product of one weight row (n elements) with one activation
 * row in the weight type's vec-dot format. */
typedef float (*xuan_vec_dot_fn)(int64_t n, const void *w, const void *a);

/* Kernel tables indexed by weight type; a NULL entry falls back to the
 * level below (AVX-512 -> AVX2 -> scalar). */
extern const xuan_vec_dot_fn xuan_dot_scalar[XUAN_TYPE_COUNT];
extern const xuan_vec_dot_fn xuan_dot_avx2[XUAN_TYPE_COUNT];
extern const xuan_vec_dot_fn xuan_dot_avx512[XUAN_TYPE_COUNT];

/* The kernel for a type at a level (after fallback); NULL if unsupported. */
xuan_vec_dot_fn xuan_dot_kernel(xuan_simd simd, uint32_t type);
/* F16 in ggml_vec_dot_f16's single-token order (see xuan_vec_dot_f16_single). */
xuan_vec_dot_fn xuan_dot_f16_single_kernel(xuan_simd simd);
float xuan_dot_f16_single_scalar(int64_t n, const void *w, const void *a);
float xuan_dot_f16_single_avx2(int64_t n, const void *w, const void *a);

/* Q4_K in llama.cpp's 4-token (gemm) arithmetic: one float per pair of
 * sub-blocks instead of per super-block (dot.c). */
xuan_vec_dot_fn xuan_dot_q4_K_pairs_kernel(xuan_simd simd);
float xuan_dot_q4_K_pairs_scalar(int64_t n, const void *w, const void *a);
float xuan_dot_q4_K_pairs_avx2(int64_t n, const void *w, const void *a);
float xuan_dot_q4_K_pairs_avx512(int64_t n, const void *w, const void *a);


/* Row conversions with F16C (dot_avx2.c). */
void xuan_fp16_to_fp32_row_avx2(const uint16_t *src, float *dst, int64_t n);
void xuan_fp32_to_fp16_row_avx2(const float *src, uint16_t *dst, int64_t n);

/* Batch products with AVX-512 VNNI (gemm_avx512.c; call only when
 * xuan_cpu_get()->simd is XUAN_SIMD_AVX512).  For a supported type, the
 * caller quantizes each token to the vec-dot format and fills a meta row of
 * xuan_gemm_meta_row_bytes() with xuan_gemm_prepare_act(), then
 * xuan_gemm_avx512_rows() writes y[t * n_rows + r] for rows [r0, r1) (r0 a
 * multiple of 16) and every token; false (nothing written) when it could
 * not get its per-thread buffer, and the caller uses the single-row dots. */
bool xuan_gemm_avx512_supports(uint32_t type, int64_t n_cols, size_t w_row);
size_t xuan_gemm_meta_row_bytes(uint32_t type, int64_t n_cols);
void xuan_gemm_prepare_act(uint32_t type, const void *act, int64_t n_cols, void *meta_row);
bool xuan_gemm_avx512_rows(uint32_t type, const uint8_t *w, size_t w_row, int64_t r0, int64_t r1,
                           int64_t n_rows, int64_t n_cols, const uint8_t *act, size_t act_row,
                           const void *meta, int64_t n_tok, float *y);

#endif
