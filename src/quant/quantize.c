/*
 * quantize.c — floats to block formats, bit-identical to ggml.
 *
 * Sections: helpers (nearest_int, the scale searches), the 32-element
 * types, the K-quants, IQ4_NL/IQ4_XS, Q8_K, and the public entry point.
 *
 * Every function follows ggml's reference quantizer of the same name
 * (ggml/src/ggml-quants.c: quantize_row_<type>_ref, make_qx_quants,
 * make_qkx2_quants, make_q3_quants, quantize_row_iq4_nl_impl) statement by
 * statement, including the order of float operations: change nothing here
 * without re-running the golden test (tests/golden/quant).  The file must
 * be compiled without FMA contraction (it is: baseline x86-64 flags and
 * -std=c11, where GCC does not contract), or rounding differs.
 */
#include "quant/blocks.h"
#include "quant/internal.h"
#include "xuan/quant.h"

#include <float.h>
#include <math.h>

#define MAXI(a, b) ((a) > (b) ? (a) : (b))
#define MINI(a, b) ((a) < (b) ? (a) : (b))
#define GROUP_MAX_EPS 1e-15f
#define F2H xuan_fp32_to_fp16
#define H2F xuan_fp16_to_fp32

/* ---- helpers ---------------------------------------------------------------- */

/* Rounds to nearest (ties to even) by adding 1.5 * 2^23, like ggml; valid
 * for |fval| <= 4194303, which the callers guarantee. */
static inline int nearest_int(float fval) {
    float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Symmetric scale search (Q6_K); weights by rmse_type as in ggml. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * x[i]);
            L[i] = (int8_t)(nmax + MAXI(-nmax, MINI(nmax - 1, l)));
        }
        return 1 / iscale;
    }
    bool return_early = false;
    if (rmse_type < 0) {
        rmse_type = -rmse_type;
        return_early = true;
    }
#define QX_WEIGHT(xi)                                                                              \
    (rmse_type == 1 ? (xi) * (xi) : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(xi) : sqrtf(fabsf(xi)))
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * x[i]);
        l = MAXI(-nmax, MINI(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = QX_WEIGHT(x[i]);
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * x[i]);
            l = MAXI(-nmax, MINI(nmax - 1, l));
            float w = QX_WEIGHT(x[i]);
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + MAXI(-nmax, MINI(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
#undef QX_WEIGHT
    return scale;
}

/* Symmetric 3-bit search with iterative refinement (Q3_K). */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L, bool do_rmse) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (do_rmse) {
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * x[i]);
            l = MAXI(-nmax, MINI(nmax - 1, l));
            L[i] = (int8_t)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int itry = 0; itry < 5; itry++) {
            int n_changed = 0;
            for (int i = 0; i < n; i++) {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * L[i];
                if (slx > 0) {
                    float sl2 = suml2 - w * L[i] * L[i];
                    int new_l = nearest_int(x[i] * sl2 / slx);
                    new_l = MAXI(-nmax, MINI(nmax - 1, new_l));
                    if (new_l != L[i]) {
                        slx += w * x[i] * new_l;
                        sl2 += w * new_l * new_l;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            L[i] = (int8_t)new_l;
                            sumlx = slx;
                            suml2 = sl2;
                            n_changed++;
                        }
                    }
                }
            }
            if (!n_changed) break;
        }
        for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * x[i]);
        l = MAXI(-nmax, MINI(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
    }
    return 1 / iscale;
}

/* Asymmetric (scale + min) search over nstep+1 candidate scales (Q2_K,
 * Q4_K, Q5_K).  Returns the scale; *the_min gets minus the offset. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                              bool use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)MAXI(0, MINI(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * (x[i] - min));
            l = MAXI(0, MINI(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; i++) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* ---- 32-element types ------------------------------------------------------------ */

void xuan_q_q4_0(const float *x, void *vy, int64_t nb) {
    block_q4_0 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK32; j++)
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        for (int j = 0; j < QK32 / 2; j++) {
            const float x0 = x[j] * id, x1 = x[QK32 / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)MINI(15, (int8_t)(x0 + 8.5f));
            const uint8_t xi1 = (uint8_t)MINI(15, (int8_t)(x1 + 8.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

void xuan_q_q4_1(const float *x, void *vy, int64_t nb) {
    block_q4_1 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        y[i].m = F2H(min);
        for (int j = 0; j < QK32 / 2; j++) {
            const float x0 = (x[j] - min) * id, x1 = (x[QK32 / 2 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)MINI(15, (int8_t)(x0 + 0.5f));
            const uint8_t xi1 = (uint8_t)MINI(15, (int8_t)(x1 + 0.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

void xuan_q_q5_0(const float *x, void *vy, int64_t nb) {
    block_q5_0 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK32; j++)
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK32 / 2; j++) {
            const float x0 = x[j] * id, x1 = x[QK32 / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)MINI(31, (int8_t)(x0 + 16.5f));
            const uint8_t xi1 = (uint8_t)MINI(31, (int8_t)(x1 + 16.5f));
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + QK32 / 2);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

void xuan_q_q5_1(const float *x, void *vy, int64_t nb) {
    block_q5_1 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK32; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        y[i].m = F2H(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK32 / 2; j++) {
            const float x0 = (x[j] - min) * id, x1 = (x[QK32 / 2 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)(x0 + 0.5f), xi1 = (uint8_t)(x1 + 0.5f);
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << j;
            qh |= ((xi1 & 0x10u) >> 4) << (j + QK32 / 2);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

void xuan_q_q8_0(const float *x, void *vy, int64_t nb) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f;
        for (int j = 0; j < QK32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        for (int j = 0; j < QK32; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void xuan_q_q8_1(const float *x, void *vy, int64_t nb) {
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f;
        for (int j = 0; j < QK32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        int sum = 0;
        for (int j = 0; j < QK32; j++) {
            y[i].qs[j] = (int8_t)roundf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = F2H(sum * d);
    }
}

/* ---- K-quants ----------------------------------------------------------------------- */

void xuan_q_q2_K(const float *x, void *vy, int64_t nb) {
    block_q2_K *y = vy;
    uint8_t L[QKK], Laux[16];
    float weights[16], mins[QKK / 16], scales[QKK / 16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QKK / 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                         0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = q4scale / max_scale;
            for (int j = 0; j < QKK / 16; j++) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            y[i].d = F2H(max_scale / q4scale);
        } else {
            for (int j = 0; j < QKK / 16; j++) y[i].scales[j] = 0;
            y[i].d = F2H(0.f);
        }
        if (max_min > 0) {
            float iscale = q4scale / max_min;
            for (int j = 0; j < QKK / 16; j++) {
                int l = nearest_int(iscale * mins[j]);
                y[i].scales[j] = (uint8_t)(y[i].scales[j] | (l << 4));
            }
            y[i].dmin = F2H(max_min / q4scale);
        } else {
            y[i].dmin = F2H(0.f);
        }
        for (int j = 0; j < QKK / 16; j++) {
            const float d = H2F(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d) continue;
            const float dm = H2F(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ii++) {
                int l = nearest_int((x[16 * j + ii] + dm) / d);
                L[16 * j + ii] = (uint8_t)MAXI(0, MINI(3, l));
            }
        }
        for (int j = 0; j < QKK; j += 128)
            for (int l = 0; l < 32; l++)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                               (L[j + l + 96] << 6));
    }
}

void xuan_q_q3_K(const float *x, void *vy, int64_t nb) {
    block_q3_K *y = vy;
    int8_t L[QKK];
    float scales[QKK / 16];
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QKK / 16; j++) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
            float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, 12);
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < QKK / 16; j++) {
                int8_t l = (int8_t)nearest_int(iscale * scales[j]);
                l = (int8_t)(MAXI(-32, MINI(31, l)) + 32);
                if (j < 8) y[i].scales[j] = l & 0xF;
                else y[i].scales[j - 8] = (uint8_t)(y[i].scales[j - 8] | ((l & 0xF) << 4));
                l = (int8_t)(l >> 4);
                y[i].scales[j % 4 + 8] = (uint8_t)(y[i].scales[j % 4 + 8] | (l << (2 * (j / 4))));
            }
            y[i].d = F2H(1 / iscale);
        } else {
            y[i].d = F2H(0.f);
        }
        int8_t sc[16];
        xuan_q3k_scales(y[i].scales, sc);
        for (int j = 0; j < QKK / 16; j++) {
            float d = H2F(y[i].d) * sc[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(MAXI(-4, MINI(3, l)) + 4);
            }
        }
        memset(y[i].hmask, 0, QKK / 8);
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < QKK; j++) {
            if (L[j] > 3) {
                y[i].hmask[m] |= hm;
                L[j] -= 4;
            }
            if (++m == QKK / 8) {
                m = 0;
                hm <<= 1;
            }
        }
        for (int j = 0; j < QKK; j += 128)
            for (int l = 0; l < 32; l++)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                               (L[j + l + 96] << 6));
    }
}

/* Shared by Q4_K and Q5_K: the 8 sub-block scales/mins, 6-bit packed. */
static void pack_scales_k4(const float *scales, const float *mins, float max_scale, float max_min,
                           uint8_t out[12]) {
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < QKK / 32; j++) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = MINI(63, ls);
        lm = MINI(63, lm);
        if (j < 4) {
            out[j] = ls;
            out[j + 4] = lm;
        } else {
            out[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            out[j - 4] = (uint8_t)(out[j - 4] | ((ls >> 4) << 6));
            out[j] = (uint8_t)(out[j] | ((lm >> 4) << 6));
        }
    }
}

/* Q4_K (nmax 15) and Q5_K (nmax 31): scale search per 32, then requantize. */
static void k4_levels(const float *x, int nmax, float rmin, int nstep, uint8_t L[QKK],
                      xuan_half *dh, xuan_half *dminh, uint8_t packed[12]) {
    uint8_t Laux[32];
    float weights[32], mins[QKK / 32], scales[QKK / 32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QKK / 32; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                     0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    pack_scales_k4(scales, mins, max_scale, max_min, packed);
    *dh = F2H(max_scale / 63.f);
    *dminh = F2H(max_min / 63.f);
    for (int j = 0; j < QKK / 32; j++) {
        uint8_t sc, m;
        xuan_scale_min_k4(j, packed, &sc, &m);
        const float d = H2F(*dh) * sc;
        if (!d) continue;
        const float dm = H2F(*dminh) * m;
        for (int ii = 0; ii < 32; ii++) {
            int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)MAXI(0, MINI(nmax, l));
        }
    }
}

void xuan_q_q4_K(const float *x, void *vy, int64_t nb) {
    block_q4_K *y = vy;
    uint8_t L[QKK];
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        k4_levels(x, 15, -1.f, 20, L, &y[i].d, &y[i].dmin, y[i].scales);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < QKK; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void xuan_q_q5_K(const float *x, void *vy, int64_t nb) {
    block_q5_K *y = vy;
    uint8_t L[QKK];
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        k4_levels(x, 31, -0.5f, 15, L, &y[i].d, &y[i].dmin, y[i].scales);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, QKK / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < QKK; n += 64, ql += 32) {
            for (int j = 0; j < 32; j++) {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2);
            m2 = (uint8_t)(m2 << 2);
        }
    }
}

void xuan_q_q6_K(const float *x, void *vy, int64_t nb) {
    block_q6_K *y = vy;
    int8_t L[QKK];
    float scales[QKK / 16];
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < QKK / 16; ib++) {
            const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1);
            scales[ib] = scale;
            const float abs_scale = fabsf(scale);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scale;
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.f / max_scale;
        y[i].d = F2H(1 / iscale);
        for (int ib = 0; ib < QKK / 16; ib++) y[i].scales[ib] = (int8_t)MINI(127, nearest_int(iscale * scales[ib]));
        for (int j = 0; j < QKK / 16; j++) {
            float d = H2F(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++) {
                int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(MAXI(-32, MINI(31, l)) + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < QKK; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

void xuan_q_q8_K(const float *x, void *vy, int64_t nb) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QKK) {
        float max = 0, amax = 0;
        for (int j = 0; j < QKK; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (!amax) {
            y[i].d = 0;
            memset(y[i].qs, 0, QKK);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QKK; j++) y[i].qs[j] = (int8_t)MINI(127, nearest_int(iscale * x[j]));
        for (int j = 0; j < QKK / 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- IQ4_NL / IQ4_XS ------------------------------------------------------------------- */

static inline int best_index_int8(int n, const int8_t *val, float x) {
    if (x <= val[0]) return 0;
    if (x >= val[n - 1]) return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        int mav = (ml + mu) / 2;
        if (x < val[mav]) mu = mav;
        else ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/* ggml's quantize_row_iq4_nl_impl without importance weights: a block of
 * super_block_size elements in sub-blocks of 32; ntry candidate scales on
 * each side of the first guess. */
static void iq4_impl(int super_block_size, const float *x, xuan_half *dh, uint8_t *q4,
                     uint16_t *scales_h, uint8_t *scales_l, int ntry) {
    const int block_size = 32;
    const int8_t *values = xuan_kvalues_iq4nl;
    float scales[QKK / 32], weight[32];
    uint8_t L[QKK];
    memset(q4, 0, (size_t)super_block_size / 2);
    dh[0] = F2H(0.f);
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < super_block_size / block_size; ib++) {
        const float *xb = x + ib * block_size;
        uint8_t *Lb = L + ib * block_size;
        for (int j = 0; j < block_size; j++) weight[j] = xb[j] * xb[j];
        float amax = 0, max = 0;
        for (int j = 0; j < block_size; j++) {
            float ax = fabsf(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float d = ntry > 0 ? -max / values[0] : max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < block_size; j++) {
            float al = id * xb[j];
            int l = best_index_int8(16, values, al);
            Lb[j] = (uint8_t)l;
            float q = values[l], w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; itry++) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < block_size; j++) {
                float al = id * xb[j];
                int l = best_index_int8(16, values, al);
                float q = values[l], w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        float abs_d = fabsf(d);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = d;
        }
    }
    if (super_block_size / block_size > 1) {
        int nb = super_block_size / block_size;
        memset(scales_h, 0, (size_t)((nb + 7) / 8) * sizeof(uint16_t));
        float d = -max_scale / 32;
        dh[0] = F2H(d);
        float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < nb; ib++) {
            int l = nearest_int(id * scales[ib]);
            l = MAXI(-32, MINI(31, l));
            float dl = d * l;
            float idl = dl ? 1 / dl : 0.f;
            uint8_t *Lb = L + ib * block_size;
            const float *xb = x + ib * block_size;
            for (int j = 0; j < block_size; j++) Lb[j] = (uint8_t)best_index_int8(16, values, idl * xb[j]);
            l += 32;
            uint8_t l_l = l & 0xf, l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0) scales_l[ib / 2] = l_l;
            else scales_l[ib / 2] = (uint8_t)(scales_l[ib / 2] | (l_l << 4));
            scales_h[ib / 8] = (uint16_t)(scales_h[ib / 8] | (l_h << 2 * (ib % 8)));
        }
    } else {
        dh[0] = F2H(scales[0]);
        if (ntry > 0) {
            float id = scales[0] ? 1 / scales[0] : 0;
            for (int j = 0; j < super_block_size; j++) L[j] = (uint8_t)best_index_int8(16, values, id * x[j]);
        }
    }
    for (int i = 0; i < super_block_size / 32; i++)
        for (int j = 0; j < 16; j++) q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

/* llama-quantize calls quantize_iq4_nl / quantize_iq4_xs, which search with
 * 7 tries (the *_ref variant of IQ4_NL uses -1, a quicker guess). */
void xuan_q_iq4_nl(const float *x, void *vy, int64_t nb) {
    block_iq4_nl *y = vy;
    for (int64_t i = 0; i < nb; i++) iq4_impl(QK32, x + QK32 * i, &y[i].d, y[i].qs, NULL, NULL, 7);
}

void xuan_q_iq4_xs(const float *x, void *vy, int64_t nb) {
    block_iq4_xs *y = vy;
    for (int64_t i = 0; i < nb; i++)
        iq4_impl(QKK, x + QKK * i, &y[i].d, y[i].qs, &y[i].scales_h, y[i].scales_l, 7);
}

/* ---- float types and the entry point ------------------------------------------------------ */

void xuan_q_f32(const float *x, void *vy, int64_t n) { memcpy(vy, x, (size_t)n * sizeof(float)); }

void xuan_q_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = xuan_fp32_to_fp16(x[i]);
}

void xuan_q_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = xuan_fp32_to_bf16(x[i]);
}


/* ---- MXFP4 ------------------------------------------------------------------------------ */

/* ggml's quantize_row_mxfp4_ref: the exponent puts the block's largest
 * magnitude among the top values (floor(log2 amax) - 2, so amax / 2^e lies
 * in [4, 8) of the doubled table, whose top is 12), then each element takes
 * the nearest table value, the first on ties.  ggml converts a negative
 * exponent (amax below 2^-125) to uint8_t, undefined in C; xuan clamps it
 * to 0 (such blocks dequantize to zero either way, up to 2^-128 * 12). */
static int mxfp4_nearest(float x, float d) {
    int best = 0;
    float best_err = fabsf((float)xuan_kvalues_mxfp4[0] * d - x);
    for (int i = 1; i < 16; i++) {
        const float err = fabsf((float)xuan_kvalues_mxfp4[i] * d - x);
        if (err < best_err) {
            best = i;
            best_err = err;
        }
    }
    return best;
}

void xuan_q_mxfp4(const float *x, void *vy, int64_t nb) {
    block_mxfp4 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f;
        for (int j = 0; j < QK32; j++)
            if (amax < fabsf(x[j])) amax = fabsf(x[j]);
        int e = amax > 0.0f ? (int)(floorf(log2f(amax)) - 2 + 127) : 0;
        e = e < 0 ? 0 : e > 254 ? 254 : e;
        const float d = xuan_e8m0_half((uint8_t)e);
        y[i].e = (uint8_t)e;
        for (int j = 0; j < QK32 / 2; j++)
            y[i].qs[j] = (uint8_t)(mxfp4_nearest(x[j], d) | mxfp4_nearest(x[j + QK32 / 2], d) << 4);
    }
}

bool xuan_quant_can_quantize(uint32_t type) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    return q && q->from_float;
}

const char *xuan_quant_quantizable_names(void) {
    return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, "
           "Q8_K, IQ4_NL, IQ4_XS, MXFP4";
}

int xuan_quantize_rows(uint32_t type, const float *src, void *dst, int64_t n_rows, int64_t n_per_row,
                       xuan_error *err) {
    if (!xuan_quant_can_quantize(type))
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "cannot quantize to %s; supported: %s",
                         xuan_type_name(type), xuan_quant_quantizable_names());
    const xuan_type_traits *t = xuan_type_get(type);
    uint64_t row_bytes;
    if (n_rows < 0 || n_per_row < 0 || !xuan_type_row_size(type, (uint64_t)n_per_row, &row_bytes))
        return xuan_fail(err, XUAN_ERR_USAGE, "%s: row of %lld elements is not a multiple of %u",
                         t->name, (long long)n_per_row, t->block_size);
    /* Rows are independent for every type (blocks never straddle rows). */
    for (int64_t r = 0; r < n_rows; r++)
        xuan_quant_traits_of(type)->from_float(src + r * n_per_row, (uint8_t *)dst + (uint64_t)r * row_bytes,
                       n_per_row / t->block_size);
    return 0;
}

/* Activations (the vec-dot operand) are quantized the way ggml's x86 CPU
 * backend does it (quantize_row_q8_0/q8_1 in ggml-cpu/arch/x86/quants.c),
 * which is not the reference quantizer used for weights: the inverse scale
 * is 127/amax (not 1/(amax/127)) and rounding is to nearest even (not
 * roundf).  Both differ only on near-ties, but F16-exact activations (the
 * attention output of a lone first token is V itself) hit them, and a
 * flipped int8 moved llama parity by 0.07 in log-probability. */
void xuan_q_q8_0_act(const float *x, void *vy, int64_t nb) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f;
        for (int j = 0; j < QK32; j++) { /* fmaxf's value (a NaN x is passed over), without its call */
            const float v = fabsf(x[j]);
            amax = v > amax ? v : amax;
        }
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = F2H(amax / 127.f);
        for (int j = 0; j < QK32; j++) y[i].qs[j] = (int8_t)nearest_int(x[j] * id);
    }
}

void xuan_q_q8_1_act(const float *x, void *vy, int64_t nb) {
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < nb; i++, x += QK32) {
        float amax = 0.0f;
        for (int j = 0; j < QK32; j++) { /* fmaxf's value (a NaN x is passed over), without its call */
            const float v = fabsf(x[j]);
            amax = v > amax ? v : amax;
        }
        const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = F2H(d);
        int sum = 0;
        for (int j = 0; j < QK32; j++) {
            y[i].qs[j] = (int8_t)nearest_int(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = F2H(d * (float)sum);
    }
}

void xuan_quant_quantize_blocks(uint32_t type, const float *src, void *dst, int64_t n) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    q->from_float_act(src, dst, n / q->type->block_size);
}
