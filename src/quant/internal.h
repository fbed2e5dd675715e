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

/* The columns of the traits table (traits.c): readers (dequant.c) and
 * writers (quantize.c) of whole blocks, named by type. */
#define XUAN_QUANT_BLOCK_FNS(X)                                                                   \
    X(f32) X(f16) X(bf16) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q8_1) X(q2_K) X(q3_K) X(q4_K) \
    X(q5_K) X(q6_K) X(q8_K) X(iq4_nl) X(iq4_xs) X(mxfp4)
#define XUAN_QUANT_DECLARE(t)                                                                    \
    void xuan_dq_##t(const void *src, float *dst, int64_t n_blocks);                           \
    void xuan_q_##t(const float *src, void *dst, int64_t n_blocks);
XUAN_QUANT_BLOCK_FNS(XUAN_QUANT_DECLARE)
#undef XUAN_QUANT_DECLARE
/* Activations as ggml's x86 backend quantizes them (quantize.c). */
void xuan_q_q8_0_act(const float *src, void *dst, int64_t n_blocks);
void xuan_q_q8_1_act(const float *src, void *dst, int64_t n_blocks);
/* Whether gemm_avx512.c has a packed kernel for the type at all. */
bool xuan_gemm_avx512_has(uint32_t type);

/* Kernel tables indexed by weight type, one per SIMD level (each file has
 * its own compiler flags); traits.c falls a NULL entry back to the level
 * below (AVX-512 -> AVX2 -> scalar). */
extern const xuan_vec_dot_fn xuan_dot_scalar[XUAN_TYPE_COUNT];
extern const xuan_vec_dot_fn xuan_dot_avx2[XUAN_TYPE_COUNT];
extern const xuan_vec_dot_fn xuan_dot_avx512[XUAN_TYPE_COUNT];

/* The kernel for a type at a level (after fallback); NULL if unsupported. */
xuan_vec_dot_fn xuan_dot_kernel(xuan_simd simd, uint32_t type);
/* F16 in ggml_vec_dot_f16's single-token order (see xuan_vec_dot_f16_single). */
xuan_vec_dot_fn xuan_dot_f16_single_kernel(xuan_simd simd);
float xuan_dot_f16_single_scalar(int64_t n, const void *w, const void *a);
float xuan_dot_f16_single_avx2(int64_t n, const void *w, const void *a);
/* The 8-lane orders of llama.cpp's AVX2 build (dot.c): one token, a batch. */
float xuan_dot_f16_single8_scalar(int64_t n, const void *w, const void *a);
float xuan_dot_f16_single8_avx2(int64_t n, const void *w, const void *a);
float xuan_dot_f16_lanes8_scalar(int64_t n, const void *w, const void *a);
/* F32 in ggml_vec_dot_f32's order of the AVX2 and AVX-512 builds (llama.cpp's
 * path for products it cannot give tinyBLAS); the scalar level: its F32 kernel. */
xuan_vec_dot_fn xuan_dot_f32_vec_kernel(xuan_simd simd);
float xuan_dot_f32_vec_avx2(int64_t n, const void *w, const void *a);
float xuan_dot_f32_vec_avx512(int64_t n, const void *w, const void *a);

/* MXFP4 in llama.cpp's one-token order (ggml_vec_dot_mxfp4_q8_0's lanes);
 * the table's kernel has the order of its repacked batch kernels (dot.c).
 * Without AVX2 the table's kernel serves both. */
xuan_vec_dot_fn xuan_dot_mxfp4_single_kernel(xuan_simd simd);
float xuan_dot_mxfp4_single_avx2(int64_t n, const void *w, const void *a);
float xuan_dot_mxfp4_single_avx512(int64_t n, const void *w, const void *a);

/* Q4_K in llama.cpp's 4-token (gemm) arithmetic: one float per pair of
 * sub-blocks instead of per super-block (dot.c). */
xuan_vec_dot_fn xuan_dot_q4_K_pairs_kernel(xuan_simd simd);
float xuan_dot_q4_K_pairs_scalar(int64_t n, const void *w, const void *a);
/* Q4_K as ggml_vec_dot_q4_K_q8_K computes it with AVX2 (weights llama.cpp
 * does not repack: fewer than a multiple of 8 rows): eight int32 lanes of
 * a super-block's scaled sums, each fused into its own float lane, four
 * lanes for the mins; the lanes summed by hsum at the end. */
float xuan_dot_q4_K_vec_scalar(int64_t n, const void *w, const void *a);
float xuan_dot_q4_K_pairs_avx2(int64_t n, const void *w, const void *a);
float xuan_dot_q4_K_pairs_avx512(int64_t n, const void *w, const void *a);
/* The same for four activation rows at once (out[t] = pairs(w, a[t])). */
typedef void (*xuan_dot_x4_fn)(int64_t n, const void *w, const void *const a[4], float out[4]);
xuan_dot_x4_fn xuan_dot_q4_K_pairs_x4_kernel(xuan_simd simd);
void xuan_dot_q4_K_pairs_x4_scalar(int64_t n, const void *w, const void *const a[4], float out[4]);
void xuan_dot_q4_K_pairs_x4_avx2(int64_t n, const void *w, const void *const a[4], float out[4]);
void xuan_dot_q4_K_pairs_x4_avx512(int64_t n, const void *w, const void *const a[4], float out[4]);
/* A type's one-token kernel for four activation rows at once (out[t] =
 * the one-token dot of w and a[t], bit for bit), or NULL: Q4_K at the AVX2
 * and AVX-512 levels (dot_x86.h). */
xuan_dot_x4_fn xuan_dot_x4_kernel(xuan_simd simd, uint32_t type);
extern const xuan_dot_x4_fn xuan_dot_x4_avx2[XUAN_TYPE_COUNT];
extern const xuan_dot_x4_fn xuan_dot_x4_avx512[XUAN_TYPE_COUNT];


/* The Q4_K decode layout (repack.c): group g of 8 rows (rows 8g..8g+7) at
 * packed + g * (n_cols / 256) * XUAN_Q4K8_BLOCK, one block per super-block:
 *   QS   32 vectors of 32 bytes: vector k holds dword k of each row's qs
 *        (row r at bytes 4r..4r+3): k / 8 is the 64-element chunk, its low
 *        nibbles are sub-block 2 (k / 8), the high ones 2 (k / 8) + 1;
 *   SC   two vectors: row r's scales 0-3 at bytes 4r.., 4-7 at 32 + 4r..;
 *   MN   the mins, the same way;
 *   D    the 8 rows' d (fp16), then DMIN their dmin. */
enum {
    XUAN_Q4K8_QS = 0,
    XUAN_Q4K8_SC = 1024,
    XUAN_Q4K8_MN = 1088,
    XUAN_Q4K8_D = 1152,
    XUAN_Q4K8_DMIN = 1168,
    XUAN_Q4K8_BLOCK = 1184,
};
/* Rows [r0, r1) (multiples of 8, inside the packed rows) of a packed Q4_K
 * matrix times n_tok Q8_K activation rows (act_row bytes apart): y[t *
 * y_stride + r] gets the bits of the plain product's dots: tokens below
 * n_pair (a multiple of 4) in llama.cpp's 4-token float steps (per pair of
 * sub-blocks, xuan_dot_q4_K_pairs_*), the others in its one-token steps
 * (per super-block, the table's dot).  The kernel may prefetch rows below
 * pf_end (a multiple of 8). */
typedef void (*xuan_q4_K_packed_fn)(const void *packed, int64_t n_cols, int64_t r0, int64_t r1, int64_t pf_end,
                                    const uint8_t *act, size_t act_row, int64_t n_tok, int64_t n_pair, float *y,
                                    size_t y_stride);
void xuan_q4_K_packed_scalar(const void *packed, int64_t n_cols, int64_t r0, int64_t r1, int64_t pf_end,
                             const uint8_t *act, size_t act_row, int64_t n_tok, int64_t n_pair, float *y,
                             size_t y_stride);
void xuan_q4_K_packed_avx2(const void *packed, int64_t n_cols, int64_t r0, int64_t r1, int64_t pf_end,
                           const uint8_t *act, size_t act_row, int64_t n_tok, int64_t n_pair, float *y,
                           size_t y_stride);
/* The AVX2 kernel from AVX2 up, the scalar one below. */
xuan_q4_K_packed_fn xuan_q4_K_packed_kernel(xuan_simd simd);
/* Rows that xuan_q4_K_pack lays out: whole groups of 16 (0 if not packable). */
int64_t xuan_q4_K_packed_rows(const xuan_weight *w);

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

/* MXFP4 x Q8_0 in the one-token dot's float steps, bit for bit
 * (gemm_mxfp4_avx512.c; xuan_gemm_avx512_* hand MXFP4 to these). */
size_t xuan_gemm_mxfp4_meta_row_bytes(int64_t n_cols);
void xuan_gemm_mxfp4_prepare_act(const void *act, int64_t n_cols, void *meta_row);
bool xuan_gemm_mxfp4_rows(const uint8_t *w, size_t w_row, int64_t r0, int64_t r1, int64_t n_rows, int64_t n_cols,
                          const uint8_t *act, size_t act_row, const void *meta, int64_t n_tok, float *y);

#endif
