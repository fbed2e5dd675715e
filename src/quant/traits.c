/*
 * traits.c — the type-traits table: what xuan can do with each ggml tensor
 * type, in one place (ggml's type_traits and type_traits_cpu together).
 *
 * A row says how to read the type (to_float), how to write it as llama.cpp's
 * reference quantizer does (from_float) and as ggml's CPU backend rounds an
 * activation into it (from_float_act, which differs for Q8_0 and Q8_1), the
 * activation type its dot product pairs with, whether the packed AVX-512
 * batch kernel takes it, and whether it may hold a KV cache.  Everything
 * else in the room (matmul, dequantize_row, quantize_rows, the cache of the
 * model room) asks this table; no other list of types exists.
 *
 * The dot products are the one column that cannot be written here: each
 * SIMD level's kernels are compiled in their own file with their own flags
 * (dot.c, dot_avx2.c, dot_avx512.c), as ggml builds one CPU variant per
 * level.  The table takes them from those files once, on first use, after
 * falling back level by level (AVX-512 -> AVX2 -> scalar) where a level has
 * no kernel of its own.
 */
#include "quant/internal.h"
#include "xuan/quant.h"

#include <threads.h>

#define TYPE(T) [XUAN_TYPE_##T] = {.id = XUAN_TYPE_##T
#define READ(t) .to_float = xuan_dq_##t
#define WRITE(t) .from_float = xuan_q_##t, .from_float_act = xuan_q_##t
#define PAIRS(T) .vec_dot_type = XUAN_TYPE_##T

/* .kv: the types llama.cpp accepts for --cache-type-k/-v that xuan runs
 * (F16, BF16 stay for K; the rest are 32-element blocks whose dot pairs
 * with Q8_0 or Q8_1). */
static xuan_quant_traits TRAITS[XUAN_TYPE_COUNT] = {
    TYPE(F32), READ(f32), WRITE(f32), PAIRS(F32)},
    TYPE(F16), READ(f16), WRITE(f16), PAIRS(F32), .kv = true},
    TYPE(BF16), READ(bf16), WRITE(bf16), PAIRS(F32)},
    TYPE(Q4_0), READ(q4_0), WRITE(q4_0), PAIRS(Q8_0), .kv = true},
    TYPE(Q4_1), READ(q4_1), WRITE(q4_1), PAIRS(Q8_1), .kv = true},
    TYPE(Q5_0), READ(q5_0), WRITE(q5_0), PAIRS(Q8_0), .kv = true},
    TYPE(Q5_1), READ(q5_1), WRITE(q5_1), PAIRS(Q8_1), .kv = true},
    TYPE(Q8_0), READ(q8_0), .from_float = xuan_q_q8_0, .from_float_act = xuan_q_q8_0_act, PAIRS(Q8_0),
        .kv = true},
    TYPE(Q8_1), READ(q8_1), .from_float = xuan_q_q8_1, .from_float_act = xuan_q_q8_1_act},
    TYPE(Q2_K), READ(q2_K), WRITE(q2_K), PAIRS(Q8_K)},
    TYPE(Q3_K), READ(q3_K), WRITE(q3_K), PAIRS(Q8_K)},
    TYPE(Q4_K), READ(q4_K), WRITE(q4_K), PAIRS(Q8_K)},
    TYPE(Q5_K), READ(q5_K), WRITE(q5_K), PAIRS(Q8_K)},
    TYPE(Q6_K), READ(q6_K), WRITE(q6_K), PAIRS(Q8_K)},
    TYPE(Q8_K), READ(q8_K), WRITE(q8_K)},
    TYPE(IQ4_NL), READ(iq4_nl), WRITE(iq4_nl), PAIRS(Q8_0), .kv = true},
    TYPE(IQ4_XS), READ(iq4_xs), WRITE(iq4_xs), PAIRS(Q8_K)},
    TYPE(MXFP4), READ(mxfp4), WRITE(mxfp4), PAIRS(Q8_0)},
};

static once_flag filled = ONCE_FLAG_INIT;

static void fill(void) {
    for (uint32_t t = 0; t < XUAN_TYPE_COUNT; t++) {
        xuan_quant_traits *q = &TRAITS[t];
        q->type = xuan_type_get(t);
        if (!q->type) continue;
        if (q->to_float || q->from_float) XUAN_ASSERT(q->id == t);
        if (!q->to_float) q->vec_dot_type = XUAN_TYPE_COUNT;
        q->vec_dot[XUAN_SIMD_SCALAR] = xuan_dot_scalar[t];
        q->vec_dot[XUAN_SIMD_AVX2] = xuan_dot_avx2[t] ? xuan_dot_avx2[t] : q->vec_dot[XUAN_SIMD_SCALAR];
        q->vec_dot[XUAN_SIMD_AVX512] = xuan_dot_avx512[t] ? xuan_dot_avx512[t] : q->vec_dot[XUAN_SIMD_AVX2];
        if (!q->vec_dot[XUAN_SIMD_SCALAR]) q->vec_dot_type = XUAN_TYPE_COUNT;
        q->gemm = xuan_gemm_avx512_has(t);
        /* a cache type is read, written and multiplied */
        if (q->kv) XUAN_ASSERT(q->to_float && q->from_float && q->vec_dot[XUAN_SIMD_SCALAR]);
    }
}

const xuan_quant_traits *xuan_quant_traits_of(uint32_t type) {
    if (type >= XUAN_TYPE_COUNT) return NULL;
    call_once(&filled, fill);
    return TRAITS[type].type ? &TRAITS[type] : NULL;
}

xuan_vec_dot_fn xuan_quant_vec_dot_fn(const xuan_quant_traits *q, xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    return q->vec_dot[simd];
}

const char *xuan_quant_kv_names(void) { return "f16, q8_0, q5_1, q5_0, q4_1, q4_0, iq4_nl"; }
