/* The table of ggml tensor types: block sizes and bytes per block.  These
 * numbers are the on-disk contract of GGUF (ggml's type_traits); the block
 * structs themselves live in src/quant with _Static_asserts against them. */
#include "xuan/gguf.h"

#include <strings.h>

static const xuan_type_traits TYPES[XUAN_TYPE_COUNT] = {
    [XUAN_TYPE_F32] = {"F32", 1, 4},
    [XUAN_TYPE_F16] = {"F16", 1, 2},
    [XUAN_TYPE_Q4_0] = {"Q4_0", 32, 2 + 16},
    [XUAN_TYPE_Q4_1] = {"Q4_1", 32, 2 + 2 + 16},
    [XUAN_TYPE_Q5_0] = {"Q5_0", 32, 2 + 4 + 16},
    [XUAN_TYPE_Q5_1] = {"Q5_1", 32, 2 + 2 + 4 + 16},
    [XUAN_TYPE_Q8_0] = {"Q8_0", 32, 2 + 32},
    [XUAN_TYPE_Q8_1] = {"Q8_1", 32, 4 + 32},
    [XUAN_TYPE_Q2_K] = {"Q2_K", 256, 16 + 64 + 2 + 2},
    [XUAN_TYPE_Q3_K] = {"Q3_K", 256, 32 + 64 + 12 + 2},
    [XUAN_TYPE_Q4_K] = {"Q4_K", 256, 2 + 2 + 12 + 128},
    [XUAN_TYPE_Q5_K] = {"Q5_K", 256, 2 + 2 + 12 + 32 + 128},
    [XUAN_TYPE_Q6_K] = {"Q6_K", 256, 128 + 64 + 16 + 2},
    [XUAN_TYPE_Q8_K] = {"Q8_K", 256, 4 + 256 + 32},
    [XUAN_TYPE_IQ2_XXS] = {"IQ2_XXS", 256, 2 + 64},
    [XUAN_TYPE_IQ2_XS] = {"IQ2_XS", 256, 2 + 64 + 8},
    [XUAN_TYPE_IQ3_XXS] = {"IQ3_XXS", 256, 2 + 96},
    [XUAN_TYPE_IQ1_S] = {"IQ1_S", 256, 2 + 32 + 16},
    [XUAN_TYPE_IQ4_NL] = {"IQ4_NL", 32, 2 + 16},
    [XUAN_TYPE_IQ3_S] = {"IQ3_S", 256, 2 + 64 + 8 + 32 + 4},
    [XUAN_TYPE_IQ2_S] = {"IQ2_S", 256, 2 + 64 + 8 + 8},
    [XUAN_TYPE_IQ4_XS] = {"IQ4_XS", 256, 2 + 2 + 4 + 128},
    [XUAN_TYPE_I8] = {"I8", 1, 1},
    [XUAN_TYPE_I16] = {"I16", 1, 2},
    [XUAN_TYPE_I32] = {"I32", 1, 4},
    [XUAN_TYPE_I64] = {"I64", 1, 8},
    [XUAN_TYPE_F64] = {"F64", 1, 8},
    [XUAN_TYPE_IQ1_M] = {"IQ1_M", 256, 32 + 16 + 8},
    [XUAN_TYPE_BF16] = {"BF16", 1, 2},
    [XUAN_TYPE_TQ1_0] = {"TQ1_0", 256, 48 + 4 + 2},
    [XUAN_TYPE_TQ2_0] = {"TQ2_0", 256, 64 + 2},
    [XUAN_TYPE_MXFP4] = {"MXFP4", 32, 1 + 16},
};

const xuan_type_traits *xuan_type_get(uint32_t type) {
    return type < XUAN_TYPE_COUNT && TYPES[type].name ? &TYPES[type] : NULL;
}

bool xuan_type_known(uint32_t type) { return xuan_type_get(type) != NULL; }

const char *xuan_type_name(uint32_t type) {
    const xuan_type_traits *t = xuan_type_get(type);
    return t ? t->name : "?";
}

int xuan_type_from_name(const char *name, xuan_type *out) {
    for (uint32_t i = 0; i < XUAN_TYPE_COUNT; i++)
        if (TYPES[i].name && !strcasecmp(TYPES[i].name, name)) {
            *out = (xuan_type)i;
            return 0;
        }
    return -1;
}

bool xuan_type_row_size(uint32_t type, uint64_t n, uint64_t *bytes) {
    const xuan_type_traits *t = xuan_type_get(type);
    if (!t || n % t->block_size) return false;
    return xuan_mul_ok(n / t->block_size, t->type_size, bytes);
}

double xuan_type_bpw(uint32_t type) {
    const xuan_type_traits *t = xuan_type_get(type);
    return t ? 8.0 * t->type_size / t->block_size : 0;
}
