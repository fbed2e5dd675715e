/*
 * dequant.c — block formats to floats, the scalar reference for every type.
 *
 * Each function mirrors ggml's dequantize_row_<type> (element order and the
 * order of float operations), so xuan and llama.cpp agree bit for bit on
 * what a quantized weight means.  Speed matters little here: the engine
 * uses the fused dot products of dot*.c; this serves embedding lookups,
 * tests and tools.
 */
#include "quant/blocks.h"
#include "quant/internal.h"
#include "xuan/quant.h"

#include <math.h>

const int8_t xuan_kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                       1,    13,   25,  38,  53,  69,  89,  113};

#define H2F xuan_fp16_to_fp32

void xuan_dq_q4_0(const void *vx, float *y, int64_t nb) {
    const block_q4_0 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < QK32 / 2; j++) {
            y[j] = ((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + QK32 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void xuan_dq_q4_1(const void *vx, float *y, int64_t nb) {
    const block_q4_1 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d), m = H2F(x[i].m);
        for (int j = 0; j < QK32 / 2; j++) {
            y[j] = (x[i].qs[j] & 0x0F) * d + m;
            y[j + QK32 / 2] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

void xuan_dq_q5_0(const void *vx, float *y, int64_t nb) {
    const block_q5_0 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK32 / 2; j++) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            y[j] = (((x[i].qs[j] & 0x0F) | xh0) - 16) * d;
            y[j + QK32 / 2] = (((x[i].qs[j] >> 4) | xh1) - 16) * d;
        }
    }
}

void xuan_dq_q5_1(const void *vx, float *y, int64_t nb) {
    const block_q5_1 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d), m = H2F(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK32 / 2; j++) {
            const int xh0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh1 = (int)((qh >> (j + 12)) & 0x10);
            y[j] = ((x[i].qs[j] & 0x0F) | xh0) * d + m;
            y[j + QK32 / 2] = ((x[i].qs[j] >> 4) | xh1) * d + m;
        }
    }
}

void xuan_dq_q8_0(const void *vx, float *y, int64_t nb) {
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < QK32; j++) y[j] = x[i].qs[j] * d;
    }
}

void xuan_dq_q8_1(const void *vx, float *y, int64_t nb) {
    const block_q8_1 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < QK32; j++) y[j] = x[i].qs[j] * d;
    }
}

void xuan_dq_q2_K(const void *vx, float *y, int64_t nb) {
    const block_q2_K *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int n = 0; n < QKK; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    uint8_t sc = x[i].scales[is++];
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void xuan_dq_q3_K(const void *vx, float *y, int64_t nb) {
    const block_q3_K *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const float d_all = H2F(x[i].d);
        int8_t sc[16];
        xuan_q3k_scales(x[i].scales, sc);
        const uint8_t *q = x[i].qs, *hm = x[i].hmask;
        uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < QKK; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; half++) {
                    float dl = d_all * sc[is++];
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                }
            }
        }
    }
}

void xuan_dq_q4_K(const void *vx, float *y, int64_t nb) {
    const block_q4_K *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc, m;
            xuan_scale_min_k4(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            xuan_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void xuan_dq_q5_K(const void *vx, float *y, int64_t nb) {
    const block_q5_K *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const float d = H2F(x[i].d), min = H2F(x[i].dmin);
        uint8_t u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            xuan_scale_min_k4(is, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            xuan_scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void xuan_dq_q6_K(const void *vx, float *y, int64_t nb) {
    const block_q6_K *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const float d = H2F(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int n = 0; n < QKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

void xuan_dq_q8_K(const void *vx, float *y, int64_t nb) {
    const block_q8_K *x = vx;
    for (int64_t i = 0; i < nb; i++)
        for (int j = 0; j < QKK; j++) *y++ = x[i].d * x[i].qs[j];
}

void xuan_dq_iq4_nl(const void *vx, float *y, int64_t nb) {
    const block_iq4_nl *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = H2F(x[i].d);
        for (int j = 0; j < QK32 / 2; j++) {
            y[j] = d * xuan_kvalues_iq4nl[x[i].qs[j] & 0xf];
            y[j + QK32 / 2] = d * xuan_kvalues_iq4nl[x[i].qs[j] >> 4];
        }
    }
}

void xuan_dq_iq4_xs(const void *vx, float *y, int64_t nb) {
    const block_iq4_xs *x = vx;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *qs = x[i].qs;
        const float d = H2F(x[i].d);
        for (int ib = 0; ib < QKK / 32; ib++, y += 32, qs += 16) {
            const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) |
                           (((x[i].scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; j++) {
                y[j] = dl * xuan_kvalues_iq4nl[qs[j] & 0xf];
                y[j + 16] = dl * xuan_kvalues_iq4nl[qs[j] >> 4];
            }
        }
    }
}

const int8_t xuan_kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

void xuan_dq_mxfp4(const void *vx, float *y, int64_t nb) {
    const block_mxfp4 *x = vx;
    for (int64_t i = 0; i < nb; i++, y += QK32) {
        const float d = xuan_e8m0_half(x[i].e);
        for (int j = 0; j < QK32 / 2; j++) {
            y[j] = (float)xuan_kvalues_mxfp4[x[i].qs[j] & 0xf] * d;
            y[j + QK32 / 2] = (float)xuan_kvalues_mxfp4[x[i].qs[j] >> 4] * d;
        }
    }
}

int xuan_quant_validate(uint32_t type, const void *data, uint64_t n_bytes, const char *name, xuan_error *err) {
    if (type != XUAN_TYPE_MXFP4) return 0;
    const block_mxfp4 *x = data;
    const uint64_t nb = n_bytes / sizeof *x;
    for (uint64_t i = 0; i < nb; i++) {
        const uint8_t e = x[i].e;
        if (e < 253) continue; /* 12 * 2^(252 - 128) is finite */
        if (e == 0xFF)
            return xuan_fail(err, XUAN_ERR_FORMAT,
                             "tensor %s: MXFP4 block %llu has the invalid scale 0xFF (NaN); the file is damaged",
                             name, (unsigned long long)i);
        const float d = xuan_e8m0_half(e);
        for (int j = 0; j < QK32 / 2; j++)
            if (isinf((float)xuan_kvalues_mxfp4[x[i].qs[j] & 0xF] * d) ||
                isinf((float)xuan_kvalues_mxfp4[x[i].qs[j] >> 4] * d))
                return xuan_fail(err, XUAN_ERR_FORMAT,
                                 "tensor %s: MXFP4 block %llu (scale 2^%d) holds an infinite value; the file is "
                                 "damaged", name, (unsigned long long)i, (int)e - 127);
    }
    return 0;
}

void xuan_dq_f32(const void *vx, float *y, int64_t n) { memcpy(y, vx, (size_t)n * sizeof(float)); }

void xuan_dq_f16(const void *vx, float *y, int64_t n) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = xuan_fp16_to_fp32(x[i]);
}

void xuan_dq_bf16(const void *vx, float *y, int64_t n) {
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = xuan_bf16_to_fp32(x[i]);
}


bool xuan_quant_can_dequantize(uint32_t type) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    return q && q->to_float;
}

int xuan_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n, xuan_error *err) {
    if (!xuan_quant_can_dequantize(type))
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "cannot dequantize type %s (id %u)",
                         xuan_type_name(type), type);
    const xuan_type_traits *t = xuan_type_get(type);
    if (n < 0 || n % t->block_size)
        return xuan_fail(err, XUAN_ERR_USAGE, "%s: row of %lld elements is not a multiple of %u",
                         t->name, (long long)n, t->block_size);
    xuan_quant_traits_of(type)->to_float(src, dst, n / t->block_size);
    return 0;
}

void xuan_quant_dequant_blocks(uint32_t type, const void *src, float *dst, int64_t n) {
    xuan_quant_traits_of(type)->to_float(src, dst, n / xuan_type_get(type)->block_size);
}
