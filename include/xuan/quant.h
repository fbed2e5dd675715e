/*
 * xuan/quant.h — tensor formats and CPU kernels: half/bfloat conversion,
 * (de)quantization of the ggml block types, and the matrix product the
 * engine spends its time in.
 *
 *     // Once, at model load:
 *     xuan_error err = {0};
 *     xuan_pool *pool = xuan_pool_create(2, &err);          // base.h
 *     xuan_weight w = {t->type, t->data, t->ne[1], t->ne[0], NULL}; // a GGUF matrix
 *     if (xuan_weight_check(&w, t->name, &err) != 0) { ...refuse the model... }
 *     void *scratch = xuan_malloc_aligned(xuan_matmul_scratch_size(&w, max_tokens));
 *
 *     // Per step: Y[n_tok x n_rows] = X[n_tok x n_cols] * W^T
 *     xuan_matmul(pool, &w, x, n_tok, y, scratch);
 *
 *     // Embedding lookup: one row of W as floats.
 *     xuan_weight_row(&w, token_id, out);
 *
 * How it works.  X is quantized once per call into the activation format
 * ggml pairs with the weight type (Q8_0 for the 32-element types, Q8_1 for
 * Q4_1/Q5_1, Q8_K for the K-quants and IQ4_XS; F16/BF16/F32 weights keep X
 * in F32), then each thread takes a contiguous range of weight rows and
 * computes fused integer dot products.  With several tokens, a small group
 * of rows stays in L1 while every token passes over it, so each weight byte
 * is read from memory once per call, not once per token.
 *
 * The kernels come in three levels (scalar reference, AVX2, AVX-512).  The
 * engine passes the level it read once when its context was made (a context
 * never mixes levels, whatever xuan_cpu_set_simd does meanwhile);
 * xuan_matmul, for tools and tests, reads xuan_cpu_get()->simd at each call
 * (XUAN_CPU=scalar|avx2|avx512 forces one).  Integer sums are exact at every level; float results differ from
 * the scalar reference only by summation order.
 *
 * Quantization from F32 reproduces ggml's reference quantizers bit for bit
 * (the paths llama-quantize takes without an importance matrix), so that
 * `xuan quantize` and llama-quantize write the same blocks.
 *
 * Not thread-safe per call unless stated: xuan_matmul uses the pool and the
 * scratch exclusively while it runs.
 */
#ifndef XUAN_QUANT_H
#define XUAN_QUANT_H

#include "xuan/base.h"
#include "xuan/gguf.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- half precision and bfloat16 ------------------------------------------ */

/* IEEE binary16 <-> binary32.  Rounding is to nearest even, as the F16C
 * instructions and ggml do; NaN stays NaN, overflow becomes infinity. */
static inline float xuan_fp16_to_fp32(uint16_t h) {
    /* Shift the half into a float's position and rescale the exponent with
     * one multiply; subnormal halves take the "magic number" path. */
    uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, two_w = w + w;
    uint32_t nb = (two_w >> 4) + (0xE0u << 23), db = (two_w >> 17) | (126u << 23);
    float nf, df;
    memcpy(&nf, &nb, 4);
    memcpy(&df, &db, 4);
    nf *= 0x1.0p-112f;
    df -= 0.5f;
    uint32_t bits;
    if (two_w < (1u << 27)) memcpy(&bits, &df, 4);
    else memcpy(&bits, &nf, 4);
    bits |= sign;
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

static inline uint16_t xuan_fp32_to_fp16(float f) {
    /* Let the FPU do the rounding: scaling up then down pushes the bits to
     * drop below the float mantissa, and adding a power of two aligned on
     * the target exponent rounds them to nearest even. */
    uint32_t w;
    memcpy(&w, &f, 4);
    float base = (__builtin_fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    uint32_t shl1_w = w + w, sign = w & 0x80000000u, bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    uint32_t bb = (bias >> 1) + 0x07800000u;
    float bf;
    memcpy(&bf, &bb, 4);
    base = bf + base;
    uint32_t bits;
    memcpy(&bits, &base, 4);
    uint32_t nonsign = ((bits >> 13) & 0x00007C00u) + (bits & 0x00000FFFu);
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

static inline float xuan_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

/* Rounds to nearest even; NaN stays a (quiet) NaN, as ggml does. */
static inline uint16_t xuan_fp32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

/* Whole arrays (SIMD where available). */
void xuan_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n);
void xuan_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n);

/* ---- the type-traits table (src/quant/traits.c) ------------------------------ */

/* Whole blocks: n_blocks blocks of the type (elements for plain types). */
typedef void (*xuan_to_float_fn)(const void *src, float *dst, int64_t n_blocks);
typedef void (*xuan_from_float_fn)(const float *src, void *dst, int64_t n_blocks);
/* One weight row (n elements) . one activation row in vec_dot_type. */
typedef float (*xuan_vec_dot_fn)(int64_t n, const void *w, const void *a);

typedef struct xuan_quant_traits {
    uint32_t id;
    const xuan_type_traits *type;      /* name, block size, bytes per block */
    xuan_to_float_fn to_float;         /* NULL: xuan cannot read the type */
    xuan_from_float_fn from_float;     /* llama.cpp's reference quantizer; NULL: cannot write */
    xuan_from_float_fn from_float_act; /* as ggml's x86 backend rounds an activation */
    uint32_t vec_dot_type;             /* what vec_dot pairs with; XUAN_TYPE_COUNT: no product */
    xuan_vec_dot_fn vec_dot[3];        /* by xuan_simd level, after fallback; NULL: no product */
    bool gemm;                         /* the packed AVX-512 batch kernel takes it */
    bool kv;                           /* may hold a KV cache (--cache-type-k / -v) */
} xuan_quant_traits;

/* The row of a ggml type, or NULL for an id that is not one. */
const xuan_quant_traits *xuan_quant_traits_of(uint32_t type);
/* q's dot product at SIMD level simd, clamped to what the CPU has. */
xuan_vec_dot_fn xuan_quant_vec_dot_fn(const xuan_quant_traits *q, xuan_simd simd);
/* The cache types, as --cache-type-k/-v spell them, for error messages. */
const char *xuan_quant_kv_names(void);

/* ---- what each type supports ----------------------------------------------- */

/* True when xuan can turn a row of `type` into floats (F32, F16, BF16, Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q8_K, IQ4_NL, IQ4_XS, MXFP4). */
bool xuan_quant_can_dequantize(uint32_t type);
/* Checks the n_bytes (whole blocks) of a tensor's data for blocks that
 * cannot be numbers: an MXFP4 block whose E8M0 scale is 0xFF (NaN in the
 * OCP format; ggml_validate_row_data refuses it too) or whose values reach
 * infinity (exponent 253 or 254 with large elements: an infinite weight
 * times a zero activation is NaN).  Other types pass unread.  Returns 0 or
 * XUAN_ERR_FORMAT with one line naming `name` and the block.  It reads every
 * block, so it touches the whole tensor. */
int xuan_quant_validate(uint32_t type, const void *data, uint64_t n_bytes, const char *name, xuan_error *err);
/* True when xuan_quantize_rows can produce `type` from F32. */
bool xuan_quant_can_quantize(uint32_t type);
/* True when xuan_matmul accepts weights of `type`. */
bool xuan_quant_can_matmul(uint32_t type);
/* The names of the types xuan_quant_can_quantize accepts, comma-separated
 * ("F32, F16, BF16, Q4_0, ..."), for error messages. */
const char *xuan_quant_quantizable_names(void);

/* ---- rows -------------------------------------------------------------------- */

/* Dequantizes n elements (a multiple of the type's block size) from src to
 * dst.  Returns 0, or XUAN_ERR_UNSUPPORTED / XUAN_ERR_USAGE (bad n) with err
 * set.  Scalar code: it is the reference the kernels are tested against. */
int xuan_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n, xuan_error *err);

/* Quantizes n_rows rows of n_per_row floats into dst (n_rows * row_size
 * bytes), exactly as ggml's quantize_<type>() does without an importance
 * matrix (the *_ref quantizers; IQ4_NL/IQ4_XS use ggml's search with 7
 * tries, as llama-quantize does).  Returns 0, or an error when the type
 * cannot be produced or n_per_row is not a multiple of its block size. */
int xuan_quantize_rows(uint32_t type, const float *src, void *dst, int64_t n_rows,
                       int64_t n_per_row, xuan_error *err);

/* ---- matrix product ------------------------------------------------------------ */

/* A weight matrix as it lies in a GGUF file: n_rows rows of n_cols elements
 * (n_cols = ne[0]); `data` is not owned.  `packed` (NULL = none, not owned)
 * is the same matrix's Q4_K decode layout written by xuan_q4_K_pack: when
 * set, products of a few tokens read it instead of `data` (same bits). */
typedef struct xuan_weight {
    uint32_t type;
    const void *data;
    int64_t n_rows, n_cols;
    const void *packed;
} xuan_weight;

/* Checks that xuan_matmul / xuan_weight_row can use w: a supported type and
 * a row length that is a multiple of the block size.  `name` (the tensor
 * name, may be NULL) goes into the error message. */
int xuan_weight_check(const xuan_weight *w, const char *name, xuan_error *err);

/* Bytes of scratch xuan_matmul needs for up to n_tok tokens (the quantized
 * activations); 0 for float weights.  Allocate once, reuse for every call. */
size_t xuan_matmul_scratch_size(const xuan_weight *w, int64_t n_tok);

/* y[t * w->n_rows + r] = sum_c x[t * w->n_cols + c] * W[r][c] for t < n_tok.
 * `pool` may be NULL (runs on the calling thread).  `scratch` holds at
 * least xuan_matmul_scratch_size(w, n_tok) bytes (may be NULL when that is
 * 0).  x and y must not overlap.  w must have passed xuan_weight_check
 * (checked again with XUAN_ASSERT: a bad weight here is our bug).  Nothing
 * is allocated. */
void xuan_matmul(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                 void *scratch);

/* Many one-token products y_i = W_i x_i in one dispatch of the pool (each
 * the bits xuan_matmul gives for one token): the per-head slices of MLA and
 * the experts of a decode step, whose matrices are too small to be worth a
 * dispatch each.  scratch holds xuan_matvec_many_scratch(items, n) bytes. */
typedef struct xuan_matvec {
    const xuan_weight *w;
    const float *x; /* n_cols floats (F16-rounded by the caller for F16 / BF16 weights) */
    float *y;       /* n_rows floats */
} xuan_matvec;
size_t xuan_matvec_many_scratch(const xuan_matvec *items, int n_items);
void xuan_matvec_many(xuan_pool *pool, const xuan_matvec *items, int n_items, void *scratch, xuan_simd simd);

/* How ggml multiplies: a 2-D weight (repacked Q4_K for 4+ tokens, tinyBLAS
 * for F16 on 2+); each routed row alone, in one-token order (mul_mat_id, the
 * MoE experts); or one slice of a 3-D weight (MLA's per-head attn_k_b /
 * attn_v_b: never repacked, F16 as a 2-D product).  `simd` is the level of
 * the kernels (clamped to what the CPU has), as for xuan_matvec_many. */
typedef enum xuan_mm_kind { XUAN_MM_2D, XUAN_MM_ROWWISE, XUAN_MM_SLICE } xuan_mm_kind;
void xuan_matmul_kind(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                      void *scratch, xuan_mm_kind kind, xuan_simd simd);
/* The same product with every token's row computed as a lone token's would
 * be (the one-token kernels' summation order at any n_tok), as ggml's
 * mul_mat_id multiplies each routed row: the MoE experts. */
void xuan_matmul_rowwise(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                         void *scratch, xuan_simd simd);

/* Row `row` of W as n_cols floats (embedding lookup). */
void xuan_weight_row(const xuan_weight *w, int64_t row, float *out);

/* ---- the Q4_K decode layout (src/quant/repack.c) ------------------------------ *
 * A one-token product streams every weight byte once; with the rows as the
 * file stores them each row costs its own scale decoding and reductions.
 * llama.cpp's CPU backend therefore copies Q4_K matrices at load into
 * interleaved blocks (GGML_CPU_REPACK, q4_K_8x8); xuan does the same for its
 * decode products: xuan_q4_K_pack writes the rows [0, n_rows - n_rows % 16)
 * of w as groups of 8 rows, each super-block of the 8 rows side by side (the
 * quants interleaved 4 bytes per row, the 6-bit scales and mins decoded to
 * bytes, the 8 d and 8 dmin), 1184 bytes per 8 x 144.  With w->packed set,
 * xuan_matmul's products of up to 16 tokens (decode steps; AVX2 and up, not
 * where AVX-512's batch kernel takes 4+ tokens) read those rows from it and
 * the others from w->data, bit for bit the plain product.  The copy costs as
 * much memory as the rows (llama.cpp's repack does too).
 *
 *     size_t n = xuan_q4_K_packed_bytes(&w);       // 0: not packable
 *     void *buf = n ? xuan_malloc_aligned(n) : NULL;
 *     if (buf) { xuan_q4_K_pack(pool, &w, buf); w.packed = buf; }
 *     ...
 *     xuan_free_aligned(buf);                       // after the last product
 *
 * Packable: Q4_K with at least 16 rows, a multiple of 8 (llama.cpp repacks
 * only those; the others keep its plain dot's order). */
size_t xuan_q4_K_packed_bytes(const xuan_weight *w);
/* Fills dst (xuan_q4_K_packed_bytes(w) bytes, 64-byte aligned) on the
 * pool's threads (pool may be NULL).  w must be packable. */
void xuan_q4_K_pack(xuan_pool *pool, const xuan_weight *w, void *dst);

/* ---- quantization mixes (llama.cpp's rules) ------------------------------------ */

/* Which type each tensor gets when a model is quantized to a "file type"
 * such as Q4_K_M, following llama.cpp's llama-quant.cpp (without an
 * importance matrix): attn_v / ffn_down get more bits in some layers,
 * output.weight (or a tied token_embd.weight) gets Q6_K, and a tensor whose
 * row length does not fit the chosen block falls back (Q4_K -> Q5_0,
 * Q5_K -> Q5_1, Q6_K -> Q8_0, then F16).
 *
 *     xuan_quant_mix mix;
 *     if (xuan_quant_mix_init(&mix, "Q4_K_M", n_layer, &err) != 0) ...  // lists supported names
 *     for each tensor: xuan_quant_mix_count(&mix, name);               // first pass
 *     for each tensor, in file order: type = xuan_quant_mix_type(&mix, name, n_dims, ne0, type);
 */
typedef struct xuan_quant_mix {
    uint32_t ftype;     /* llama_ftype number, written as general.file_type */
    uint32_t base_type; /* the bulk type: Q4_K for Q4_K_M */
    int n_layer;
    int n_attn_v, i_attn_v, i_ffn_down;
    bool tied; /* no output.weight: token_embd doubles as output */
} xuan_quant_mix;

/* Names accepted by xuan_quant_mix_init: "Q4_0, Q4_K_S, Q4_K_M, Q5_K_M, Q6_K, Q8_0, MXFP4_MOE".
 * MXFP4 tensors keep their type in every mix. */
const char *xuan_quant_mix_names(void);
int xuan_quant_mix_init(xuan_quant_mix *mix, const char *name, int n_layer, xuan_error *err);
void xuan_quant_mix_count(xuan_quant_mix *mix, const char *tensor_name);
/* The type for the next tensor (call in file order: layer counters advance).
 * Tensors that are not quantized (1-D, norms) keep `current_type`. */
uint32_t xuan_quant_mix_type(xuan_quant_mix *mix, const char *tensor_name, uint32_t n_dims,
                             int64_t ne0, uint32_t current_type);

/* ---- lower level: the kernels themselves (tests and benchmarks) ---------------- */

/* The activation format ggml pairs with a weight type (XUAN_TYPE_Q8_0,
 * Q8_1, Q8_K, or F32 for float weights); XUAN_TYPE_COUNT if unsupported. */
uint32_t xuan_quant_vec_dot_type(uint32_t weight_type);
/* Quantizes n floats (a multiple of 32, or 256 for Q8_K) into activation
 * format `act_type`. */
void xuan_quantize_act(uint32_t act_type, const float *x, void *dst, int64_t n);
/* One fused dot product of a weight row with an activation row already in
 * xuan_quant_vec_dot_type(type) format, at SIMD level `simd` (clamped to
 * what the CPU has).  n is the row length in elements. */
float xuan_vec_dot(xuan_simd simd, uint32_t type, int64_t n, const void *w_row, const void *act);
/* F16 weights . activations (F32 values that are F16-representable) in
 * the order llama.cpp's CPU backend uses for ONE token (ggml_vec_dot_f16:
 * 64 slots folded pairwise, the n % 64 tail in double); xuan_vec_dot with
 * XUAN_TYPE_F16 follows its batch order (tinyBLAS: 16 sequential lanes,
 * when n % 16 == 0).  Results are identical at every SIMD level. */
float xuan_vec_dot_f16_single(xuan_simd simd, int64_t n, const uint16_t *w, const float *x);
/* The kernel behind one of those two orders, to resolve once outside a hot
 * loop (attention calls it per cached key): fn(n, w, x). */
typedef float (*xuan_dot_f16_fn)(int64_t n, const void *w, const void *x);
xuan_dot_f16_fn xuan_dot_f16_kernel(xuan_simd simd, bool single_token);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_QUANT_H */
