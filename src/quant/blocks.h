/*
 * blocks.h — the block formats of ggml/GGUF, one struct per type.
 *
 * These layouts are the on-disk contract: a block is copied byte for byte
 * from the file, so every struct has a _Static_assert against the type table
 * of src/gguf/types.c (XUAN_BLOCK_BYTES below repeats its numbers, since a
 * function result cannot be used in a constant expression; test_quant checks
 * the two agree at run time).  Private to src/quant and the tests.
 *
 * Element order inside a block follows ggml (documented per struct), which
 * is what the dequantizers in dequant.c implement.
 */
#ifndef XUAN_QUANT_BLOCKS_H
#define XUAN_QUANT_BLOCKS_H

#include <stdint.h>
#include <string.h>

#define QK32 32  /* elements per block of the "legacy" types */
#define QKK 256  /* elements per super-block of the K-quants */

typedef uint16_t xuan_half; /* IEEE binary16 bits */

/* Q4_0: x = d * (q - 8); qs[j] low nibble = element j, high = element j+16. */
typedef struct { xuan_half d; uint8_t qs[QK32 / 2]; } block_q4_0;
/* Q4_1: x = d * q + m. */
typedef struct { xuan_half d, m; uint8_t qs[QK32 / 2]; } block_q4_1;
/* Q5_0: x = d * (q - 16); 5th bits in qh (bit j = element j). */
typedef struct { xuan_half d; uint8_t qh[4]; uint8_t qs[QK32 / 2]; } block_q5_0;
/* Q5_1: x = d * q + m. */
typedef struct { xuan_half d, m; uint8_t qh[4]; uint8_t qs[QK32 / 2]; } block_q5_1;
/* Q8_0: x = d * q. */
typedef struct { xuan_half d; int8_t qs[QK32]; } block_q8_0;
/* Q8_1: activation format for Q4_1/Q5_1; s = d * sum(qs). */
typedef struct { xuan_half d, s; int8_t qs[QK32]; } block_q8_1;

/* Q2_K: 16 sub-blocks of 16; scales[i] = 4-bit scale | 4-bit min << 4. */
typedef struct {
    uint8_t scales[QKK / 16];
    uint8_t qs[QKK / 4];
    xuan_half d, dmin;
} block_q2_K;
/* Q3_K: 16 sub-blocks of 16, 6-bit signed scales packed into 12 bytes. */
typedef struct {
    uint8_t hmask[QKK / 8];
    uint8_t qs[QKK / 4];
    uint8_t scales[12];
    xuan_half d;
} block_q3_K;
/* Q4_K: 8 sub-blocks of 32, 6-bit scales and mins packed into 12 bytes;
 * x = d * sc * q - dmin * m. */
typedef struct {
    xuan_half d, dmin;
    uint8_t scales[12];
    uint8_t qs[QKK / 2];
} block_q4_K;
/* Q5_K: as Q4_K plus a 5th bit per element in qh. */
typedef struct {
    xuan_half d, dmin;
    uint8_t scales[12];
    uint8_t qh[QKK / 8];
    uint8_t qs[QKK / 2];
} block_q5_K;
/* Q6_K: 16 sub-blocks of 16, int8 scales; x = d * sc * (q - 32). */
typedef struct {
    uint8_t ql[QKK / 2];
    uint8_t qh[QKK / 4];
    int8_t scales[QKK / 16];
    xuan_half d;
} block_q6_K;
/* Q8_K: activation format for the K-quants; bsums[i] = sum of qs[16i..16i+15]. */
typedef struct {
    float d;
    int8_t qs[QKK];
    int16_t bsums[QKK / 16];
} block_q8_K;

/* Q6_K's eight ggml lanes of one super-block (exact integers; dot.c). */
void xuan_q6_K_lanes(const block_q6_K *w, const block_q8_K *a, int32_t lane[8]);
/* IQ4_NL: x = d * kvalues_iq4nl[q]. */
typedef struct { xuan_half d; uint8_t qs[QK32 / 2]; } block_iq4_nl;
/* IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (ls - 32), non-linear values. */
typedef struct {
    xuan_half d;
    uint16_t scales_h;
    uint8_t scales_l[QKK / 64];
    uint8_t qs[QKK / 2];
} block_iq4_xs;

/* MXFP4 (OCP microscaling, gpt-oss experts): x = 2^(e - 127) * E2M1(q).
 * e is an E8M0 exponent (0xFF is NaN in the OCP spec and refused at load,
 * as ggml's validate_row_data refuses it); qs[j] low nibble = element j,
 * high = element j+16, each a 4-bit E2M1 value (sign, 2 exponent bits,
 * 1 mantissa bit) read through xuan_kvalues_mxfp4, which holds them
 * doubled (so they are integers), hence the half scale below. */
typedef struct { uint8_t e; uint8_t qs[QK32 / 2]; } block_mxfp4;

/* The bytes per block of src/gguf/types.c, repeated for the asserts. */
#define XUAN_BLOCK_ASSERT(T, bytes) _Static_assert(sizeof(T) == (bytes), #T " size")
XUAN_BLOCK_ASSERT(block_q4_0, 2 + 16);
XUAN_BLOCK_ASSERT(block_q4_1, 2 + 2 + 16);
XUAN_BLOCK_ASSERT(block_q5_0, 2 + 4 + 16);
XUAN_BLOCK_ASSERT(block_q5_1, 2 + 2 + 4 + 16);
XUAN_BLOCK_ASSERT(block_q8_0, 2 + 32);
XUAN_BLOCK_ASSERT(block_q8_1, 4 + 32);
XUAN_BLOCK_ASSERT(block_q2_K, 16 + 64 + 2 + 2);
XUAN_BLOCK_ASSERT(block_q3_K, 32 + 64 + 12 + 2);
XUAN_BLOCK_ASSERT(block_q4_K, 2 + 2 + 12 + 128);
XUAN_BLOCK_ASSERT(block_q5_K, 2 + 2 + 12 + 32 + 128);
XUAN_BLOCK_ASSERT(block_q6_K, 128 + 64 + 16 + 2);
XUAN_BLOCK_ASSERT(block_q8_K, 4 + 256 + 32);
XUAN_BLOCK_ASSERT(block_iq4_nl, 2 + 16);
XUAN_BLOCK_ASSERT(block_iq4_xs, 2 + 2 + 4 + 128);
XUAN_BLOCK_ASSERT(block_mxfp4, 1 + 16);

/* The 16 values of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl). */
extern const int8_t xuan_kvalues_iq4nl[16];

/* The 16 E2M1 values doubled: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives, times 2. */
extern const int8_t xuan_kvalues_mxfp4[16];

/* 2^(e - 128), the block scale for the doubled values (ggml's
 * ggml_e8m0_to_fp32_half): e < 2 give the subnormals 2^-128 and 2^-127. */
static inline float xuan_e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Q4_K / Q5_K: 6-bit scale and min of sub-block j (0..7) from the packed 12 bytes. */
static inline void xuan_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q3_K: the 16 signed 6-bit scales (already minus 32). */
static inline void xuan_q3k_scales(const uint8_t packed[12], int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
        int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

#endif
