/* dot_avx512.c — the x86 kernels of dot_x86.h at the AVX-512 level: the
 * same code with vpdpbusd (AVX-512 VNNI, 256-bit) for the byte products.
 * Only called after xuan_cpu_get() reported AVX-512 with VNNI. */
#define XUAN_VNNI 1
#include "quant/dot_x86.h"

const xuan_vec_dot_fn xuan_dot_avx512[XUAN_TYPE_COUNT] = SIMD_DOT_TABLE;
