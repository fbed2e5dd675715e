/*
 * dot.c — fused dot products, scalar reference, and the dispatch between
 * SIMD levels.
 *
 * A weight row is paired with an activation row quantized to the format
 * ggml uses for that weight type (vec_dot_type): per block, an exact
 * integer dot product, then one float multiply by the two block scales.
 * The SIMD kernels (dot_avx2.c, dot_avx512.c) compute the same integer sums
 * and differ only in the order of the float additions across blocks.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <math.h>

#define H2F xuan_fp16_to_fp32

/* ---- 32-element weights x Q8_0 / Q8_1 ------------------------------------------ */

static float dot_q4_0(int64_t n, const void *vw, const void *va) {
    const block_q4_0 *w = vw;
    const block_q8_0 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++)
            sumi += ((w[i].qs[j] & 0xF) - 8) * a[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
        sum += sumi * H2F(w[i].d) * H2F(a[i].d);
    }
    return sum;
}

static float dot_q4_1(int64_t n, const void *vw, const void *va) {
    const block_q4_1 *w = vw;
    const block_q8_1 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++)
            sumi += (w[i].qs[j] & 0xF) * a[i].qs[j] + (w[i].qs[j] >> 4) * a[i].qs[j + 16];
        sum += (H2F(w[i].d) * H2F(a[i].d)) * sumi + H2F(w[i].m) * H2F(a[i].s);
    }
    return sum;
}

static inline int q5_bit(const uint8_t qh[4], int j) {
    uint32_t h;
    memcpy(&h, qh, 4);
    return (int)((h >> j) & 1) << 4;
}

static float dot_q5_0(int64_t n, const void *vw, const void *va) {
    const block_q5_0 *w = vw;
    const block_q8_0 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++) {
            int x0 = ((w[i].qs[j] & 0xF) | q5_bit(w[i].qh, j)) - 16;
            int x1 = ((w[i].qs[j] >> 4) | q5_bit(w[i].qh, j + 16)) - 16;
            sumi += x0 * a[i].qs[j] + x1 * a[i].qs[j + 16];
        }
        sum += sumi * H2F(w[i].d) * H2F(a[i].d);
    }
    return sum;
}

static float dot_q5_1(int64_t n, const void *vw, const void *va) {
    const block_q5_1 *w = vw;
    const block_q8_1 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++) {
            int x0 = (w[i].qs[j] & 0xF) | q5_bit(w[i].qh, j);
            int x1 = (w[i].qs[j] >> 4) | q5_bit(w[i].qh, j + 16);
            sumi += x0 * a[i].qs[j] + x1 * a[i].qs[j + 16];
        }
        sum += (H2F(w[i].d) * H2F(a[i].d)) * sumi + H2F(w[i].m) * H2F(a[i].s);
    }
    return sum;
}

/* Q8_0 in llama.cpp's arithmetic (vec_dot_q8_0_q8_0 and tinyBLAS alike):
 * eight float lanes, lane k adding d_w * d_a * (products 4k..4k+3 of each
 * block), fused, then hsum_float_8's order. */
static float dot_q8_0(int64_t n, const void *vw, const void *va) {
    const block_q8_0 *w = vw;
    const block_q8_0 *a = va;
    float acc[8] = {0};
    for (int64_t i = 0; i < n / QK32; i++) {
        const float d = H2F(w[i].d) * H2F(a[i].d);
        for (int k = 0; k < 8; k++) {
            int s = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) s += w[i].qs[j] * a[i].qs[j];
            acc[k] = fmaf(d, (float)s, acc[k]);
        }
    }
    return xuan_sum8_tree(acc);
}

static float dot_iq4_nl(int64_t n, const void *vw, const void *va) {
    const block_iq4_nl *w = vw;
    const block_q8_0 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++)
            sumi += xuan_kvalues_iq4nl[w[i].qs[j] & 0xF] * a[i].qs[j] +
                    xuan_kvalues_iq4nl[w[i].qs[j] >> 4] * a[i].qs[j + 16];
        sum += sumi * H2F(w[i].d) * H2F(a[i].d);
    }
    return sum;
}

/* MXFP4 in the order of llama.cpp's repacked x86 kernels (the mxfp4_8x8
 * gemv and gemm that take every MXFP4 weight with a multiple of 8 rows,
 * experts included): per block the exact integer sum, then one fused
 * multiply-add by 2^(e - 128) * d_a into a single running sum. */
static float dot_mxfp4(int64_t n, const void *vw, const void *va) {
    const block_mxfp4 *w = vw;
    const block_q8_0 *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QK32; i++) {
        int sumi = 0;
        for (int j = 0; j < QK32 / 2; j++)
            sumi += xuan_kvalues_mxfp4[w[i].qs[j] & 0xF] * a[i].qs[j] +
                    xuan_kvalues_mxfp4[w[i].qs[j] >> 4] * a[i].qs[j + 16];
        sum = fmaf((float)sumi, xuan_e8m0_half(w[i].e) * H2F(a[i].d), sum);
    }
    return sum;
}

/* ---- K-quants x Q8_K --------------------------------------------------------------- */

static float dot_q2_K(int64_t n, const void *vw, const void *va) {
    const block_q2_K *w = vw;
    const block_q8_K *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        int summs = 0, isum = 0;
        for (int j = 0; j < 16; j++) summs += a[i].bsums[j] * (w[i].scales[j] >> 4);
        const uint8_t *q = w[i].qs;
        const int8_t *q8 = a[i].qs;
        int is = 0;
        for (int k = 0; k < QKK / 128; k++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++, q8 += 16) {
                    int s = 0;
                    for (int l = 0; l < 16; l++) s += q8[l] * ((q[l + 16 * half] >> shift) & 3);
                    isum += (w[i].scales[is++] & 0xF) * s;
                }
            }
        }
        const float d = a[i].d * H2F(w[i].d), dmin = a[i].d * H2F(w[i].dmin);
        sum += d * isum - dmin * summs;
    }
    return sum;
}

static float dot_q3_K(int64_t n, const void *vw, const void *va) {
    const block_q3_K *w = vw;
    const block_q8_K *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        int8_t sc[16];
        xuan_q3k_scales(w[i].scales, sc);
        const uint8_t *q = w[i].qs, *hm = w[i].hmask;
        const int8_t *q8 = a[i].qs;
        int isum = 0, is = 0;
        uint8_t m = 1;
        for (int k = 0; k < QKK / 128; k++, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; half++, q8 += 16) {
                    int s = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        s += q8[l - 16 * half] * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                    isum += sc[is++] * s;
                }
            }
        }
        sum += a[i].d * H2F(w[i].d) * isum;
    }
    return sum;
}

/* Q4_K in the arithmetic of llama.cpp's x86 path, which repacks Q4_K rows
 * eight at a time (q4_K_8x8).  Its single-row kernel (gemv: decoding, and
 * the last n % 4 tokens of a batch) turns each super-block's integer sum
 * into one float:  acc += float(sum) * (d_w * d_a), and separately
 * acc_min += float(sum of mins) * (dmin_w * d_a), both fused; the result is
 * acc - acc_min.  Its 4-token kernel (gemm: the other tokens) does the same
 * per pair of 32-element sub-blocks (per_pair). */
static inline float q4_K_dot(int64_t n, const block_q4_K *w, const block_q8_K *a, bool per_pair) {
    float acc = 0, acc_m = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        const uint8_t *q = w[i].qs;
        const int8_t *q8 = a[i].qs;
        const float d = H2F(w[i].d) * a[i].d, dmin = H2F(w[i].dmin) * a[i].d;
        int isum = 0, summs = 0;
        for (int j = 0; j < 8; j += 2, q += 32) {
            uint8_t sc0, m0, sc1, m1;
            xuan_scale_min_k4(j, w[i].scales, &sc0, &m0);
            xuan_scale_min_k4(j + 1, w[i].scales, &sc1, &m1);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[l] & 0xF) * q8[l];
                s1 += (q[l] >> 4) * q8[l + 32];
            }
            q8 += 64;
            isum += sc0 * s0 + sc1 * s1;
            summs += m0 * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]) +
                     m1 * (a[i].bsums[2 * j + 2] + a[i].bsums[2 * j + 3]);
            if (per_pair) {
                acc = fmaf((float)isum, d, acc);
                acc_m = fmaf((float)summs, dmin, acc_m);
                isum = summs = 0;
            }
        }
        if (!per_pair) {
            acc = fmaf((float)isum, d, acc);
            acc_m = fmaf((float)summs, dmin, acc_m);
        }
    }
    return acc - acc_m;
}

static float dot_q4_K(int64_t n, const void *vw, const void *va) { return q4_K_dot(n, vw, va, false); }
float xuan_dot_q4_K_pairs_scalar(int64_t n, const void *vw, const void *va) { return q4_K_dot(n, vw, va, true); }

float xuan_dot_q4_K_vec_scalar(int64_t n, const void *vw, const void *va) {
    const block_q4_K *w = vw;
    const block_q8_K *a = va;
    float acc[8] = {0}, acc_m[4] = {0};
    for (int64_t i = 0; i < n / QKK; i++) {
        const float d = a[i].d * H2F(w[i].d), dmin = -a[i].d * H2F(w[i].dmin);
        uint8_t sc[8], m[8];
        for (int j = 0; j < 8; j++) xuan_scale_min_k4(j, w[i].scales, &sc[j], &m[j]);
        for (int k = 0; k < 4; k++) {
            const int s0 = a[i].bsums[4 * k] + a[i].bsums[4 * k + 1], s1 = a[i].bsums[4 * k + 2] + a[i].bsums[4 * k + 3];
            acc_m[k] = fmaf(dmin, (float)(m[2 * k] * s0 + m[2 * k + 1] * s1), acc_m[k]);
        }
        /* lane L: bytes 4L..4L+3 of each 32-byte nibble run, low nibbles
         * against sub-block 2j, high against 2j + 1 */
        for (int L = 0; L < 8; L++) {
            int32_t sumi = 0;
            for (int j = 0; j < 4; j++) {
                const uint8_t *q = w[i].qs + 32 * j;
                const int8_t *q8 = a[i].qs + 64 * j;
                int lo = 0, hi = 0;
                for (int b = 4 * L; b < 4 * L + 4; b++) {
                    lo += (q[b] & 0xF) * q8[b];
                    hi += (q[b] >> 4) * q8[32 + b];
                }
                sumi += sc[2 * j] * lo + sc[2 * j + 1] * hi;
            }
            acc[L] = fmaf(d, (float)sumi, acc[L]);
        }
    }
    /* hsum_float_8, then acc_m's (0+2) + (1+3) */
    const float h = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    return h + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3]));
}

static float dot_q5_K(int64_t n, const void *vw, const void *va) {
    const block_q5_K *w = vw;
    const block_q8_K *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        const uint8_t *q = w[i].qs, *qh = w[i].qh;
        const int8_t *q8 = a[i].qs;
        int isum = 0, summs = 0;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < 8; j += 2, q += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc0, m0, sc1, m1;
            xuan_scale_min_k4(j, w[i].scales, &sc0, &m0);
            xuan_scale_min_k4(j + 1, w[i].scales, &sc1, &m1);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += ((q[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) * q8[l];
                s1 += ((q[l] >> 4) + (qh[l] & u2 ? 16 : 0)) * q8[l + 32];
            }
            q8 += 64;
            isum += sc0 * s0 + sc1 * s1;
            summs += m0 * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]) +
                     m1 * (a[i].bsums[2 * j + 2] + a[i].bsums[2 * j + 3]);
        }
        const float d = a[i].d * H2F(w[i].d), dmin = a[i].d * H2F(w[i].dmin);
        sum += d * isum - dmin * summs;
    }
    return sum;
}

/* Q6_K in the arithmetic of ggml's vec_dot_q6_K_q8_K (x86, not repacked):
 * eight int32 lanes per super-block, lane L holding, for every 32-element
 * chunk, scale * (the 4 products 4L..4L+3, quants as 0..63), minus
 * 32 * (bsums[2L] * sc[2L] + bsums[2L+1] * sc[2L+1]); each lane is
 * accumulated in float (fused, times d_a * d_w) across super-blocks and
 * the 8 lanes are summed at the end as hsum_float_8 does. */
void xuan_q6_K_lanes(const block_q6_K *w, const block_q8_K *a, int32_t lane[8]) {
    const uint8_t *ql = w->ql, *qh = w->qh;
    const int8_t *q8 = a->qs, *sc = w->scales;
    for (int L = 0; L < 8; L++) lane[L] = -32 * (a->bsums[2 * L] * sc[2 * L] + a->bsums[2 * L + 1] * sc[2 * L + 1]);
    for (int h = 0; h < 2; h++, ql += 64, qh += 32, q8 += 128) {
        for (int l = 0; l < 32; l++) {
            const int e[4] = {(ql[l] & 0xF) | ((qh[l] >> 0 & 3) << 4), (ql[l + 32] & 0xF) | ((qh[l] >> 2 & 3) << 4),
                              (ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4), (ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)};
            for (int c = 0; c < 4; c++) { /* chunk 4h + c, element l of it */
                const int chunk = 4 * h + c;
                lane[l / 4] += sc[2 * chunk + l / 16] * e[c] * q8[32 * c + l];
            }
        }
    }
}

static float dot_q6_K(int64_t n, const void *vw, const void *va) {
    const block_q6_K *w = vw;
    const block_q8_K *a = va;
    float acc[8] = {0};
    for (int64_t i = 0; i < n / QKK; i++) {
        int32_t lane[8];
        xuan_q6_K_lanes(&w[i], &a[i], lane);
        const float d = a[i].d * H2F(w[i].d);
        for (int L = 0; L < 8; L++) acc[L] = fmaf(d, (float)lane[L], acc[L]);
    }
    return xuan_sum8_tree(acc);
}

static float dot_iq4_xs(int64_t n, const void *vw, const void *va) {
    const block_iq4_xs *w = vw;
    const block_q8_K *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n / QKK; i++) {
        const uint8_t *qs = w[i].qs;
        const int8_t *q8 = a[i].qs;
        int isum = 0;
        for (int ib = 0; ib < 8; ib++, qs += 16, q8 += 32) {
            const int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) |
                           (((w[i].scales_h >> 2 * ib) & 3) << 4);
            int s = 0;
            for (int j = 0; j < 16; j++)
                s += xuan_kvalues_iq4nl[qs[j] & 0xf] * q8[j] + xuan_kvalues_iq4nl[qs[j] >> 4] * q8[j + 16];
            isum += (ls - 32) * s;
        }
        sum += a[i].d * H2F(w[i].d) * isum;
    }
    return sum;
}

/* ---- float weights x F32 activations ---------------------------------------------- */

static float dot_f32(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += w[i] * a[i];
    return sum;
}

/* F16: llama.cpp's batch order (tinyBLAS: lane l adds elements l, l+16,
 * ... in order, then the reduce tree) when n % 16 == 0, else, like it, the
 * single-token order. */
static float dot_f16(int64_t n, const void *vw, const void *va) {
    if (n % 16) return xuan_dot_f16_single_scalar(n, vw, va);
    const uint16_t *w = vw;
    const float *a = va;
    float l16[16] = {0};
    for (int64_t i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) l16[l] = fmaf(xuan_fp16_to_fp32(w[i + l]), a[i + l], l16[l]);
    return xuan_sum16_tree(l16);
}

float xuan_dot_f16_single_scalar(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    float s[64] = {0};
    const int64_t np = n & ~(int64_t)63;
    for (int64_t i = 0; i < np; i += 64)
        for (int l = 0; l < 64; l++) s[l] = fmaf(xuan_fp16_to_fp32(w[i + l]), a[i + l], s[l]);
    for (int l = 0; l < 16; l++) {
        s[l] += s[l + 32];
        s[l + 16] += s[l + 48];
        s[l] += s[l + 16];
    }
    double sum = (double)xuan_sum16_tree(s);
    for (int64_t i = np; i < n; i++) sum += (double)(xuan_fp16_to_fp32(w[i]) * a[i]);
    return (float)sum;
}

/* The same two orders in llama.cpp's AVX2 build, whose vectors have 8
 * lanes: tinyBLAS<8> for a batch (one 8-lane sum per row and token, then
 * its hsum: high half + low half, then lanes 0+2 and 1+3, then their sum),
 * ggml_vec_dot_f16 for one token (four 8-lane sums over 32-element steps,
 * GGML_F32x8_REDUCE: sums 0+2 and 1+3, then 0+1, then halves and two
 * horizontal adds; the tail in double).  xuan's AVX2 level gives these
 * bits, its AVX-512 and scalar levels the 16-lane ones above. */
float xuan_dot_f16_single8_scalar(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    float s[32] = {0};
    const int64_t np = n & ~(int64_t)31;
    for (int64_t i = 0; i < np; i += 32)
        for (int l = 0; l < 32; l++) s[l] = fmaf(xuan_fp16_to_fp32(w[i + l]), a[i + l], s[l]);
    for (int l = 0; l < 8; l++) {
        s[l] += s[l + 16];
        s[l + 8] += s[l + 24];
        s[l] += s[l + 8];
    }
    float t[4];
    for (int l = 0; l < 4; l++) t[l] = s[l] + s[l + 4];
    double sum = (double)((t[0] + t[1]) + (t[2] + t[3]));
    for (int64_t i = np; i < n; i++) sum += (double)(xuan_fp16_to_fp32(w[i]) * a[i]);
    return (float)sum;
}

float xuan_dot_f16_lanes8_scalar(int64_t n, const void *vw, const void *va) {
    if (n % 8) return xuan_dot_f16_single8_scalar(n, vw, va);
    const uint16_t *w = vw;
    const float *a = va;
    float l8[8] = {0};
    for (int64_t i = 0; i < n; i += 8)
        for (int l = 0; l < 8; l++) l8[l] = fmaf(xuan_fp16_to_fp32(w[i + l]), a[i + l], l8[l]);
    float t[4];
    for (int l = 0; l < 4; l++) t[l] = l8[l + 4] + l8[l];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

static float dot_bf16(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += xuan_bf16_to_fp32(w[i]) * a[i];
    return sum;
}

const xuan_vec_dot_fn xuan_dot_scalar[XUAN_TYPE_COUNT] = {
    [XUAN_TYPE_F32] = dot_f32,       [XUAN_TYPE_F16] = dot_f16,       [XUAN_TYPE_BF16] = dot_bf16,
    [XUAN_TYPE_Q4_0] = dot_q4_0,     [XUAN_TYPE_Q4_1] = dot_q4_1,     [XUAN_TYPE_Q5_0] = dot_q5_0,
    [XUAN_TYPE_Q5_1] = dot_q5_1,     [XUAN_TYPE_Q8_0] = dot_q8_0,     [XUAN_TYPE_Q2_K] = dot_q2_K,
    [XUAN_TYPE_Q3_K] = dot_q3_K,     [XUAN_TYPE_Q4_K] = dot_q4_K,     [XUAN_TYPE_Q5_K] = dot_q5_K,
    [XUAN_TYPE_Q6_K] = dot_q6_K,     [XUAN_TYPE_IQ4_NL] = dot_iq4_nl, [XUAN_TYPE_IQ4_XS] = dot_iq4_xs,
    [XUAN_TYPE_MXFP4] = dot_mxfp4,
};

/* ---- dispatch ------------------------------------------------------------------------- */

xuan_vec_dot_fn xuan_dot_kernel(xuan_simd simd, uint32_t type) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    return q ? xuan_quant_vec_dot_fn(q, simd) : NULL;
}

xuan_vec_dot_fn xuan_dot_q4_K_pairs_kernel(xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    return simd >= XUAN_SIMD_AVX512 ? xuan_dot_q4_K_pairs_avx512
           : simd >= XUAN_SIMD_AVX2 ? xuan_dot_q4_K_pairs_avx2
                                    : xuan_dot_q4_K_pairs_scalar;
}

void xuan_dot_q4_K_pairs_x4_scalar(int64_t n, const void *w, const void *const a[4], float out[4]) {
    for (int t = 0; t < 4; t++) out[t] = xuan_dot_q4_K_pairs_scalar(n, w, a[t]);
}

xuan_dot_x4_fn xuan_dot_x4_kernel(xuan_simd simd, uint32_t type) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    if (type >= XUAN_TYPE_COUNT || simd < XUAN_SIMD_AVX2) return NULL;
    return simd >= XUAN_SIMD_AVX512 ? xuan_dot_x4_avx512[type] : xuan_dot_x4_avx2[type];
}

xuan_dot_x4_fn xuan_dot_q4_K_pairs_x4_kernel(xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    return simd >= XUAN_SIMD_AVX512 ? xuan_dot_q4_K_pairs_x4_avx512
           : simd >= XUAN_SIMD_AVX2 ? xuan_dot_q4_K_pairs_x4_avx2
                                    : xuan_dot_q4_K_pairs_x4_scalar;
}

xuan_vec_dot_fn xuan_dot_mxfp4_single_kernel(xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    return simd >= XUAN_SIMD_AVX512 ? xuan_dot_mxfp4_single_avx512
           : simd >= XUAN_SIMD_AVX2 ? xuan_dot_mxfp4_single_avx2
                                    : dot_mxfp4;
}

xuan_vec_dot_fn xuan_dot_f32_vec_kernel(xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    if (simd < XUAN_SIMD_AVX2) return xuan_dot_kernel(simd, XUAN_TYPE_F32);
    return xuan_ggml_lanes(simd) == 8 ? xuan_dot_f32_vec_avx2 : xuan_dot_f32_vec_avx512;
}

xuan_vec_dot_fn xuan_dot_f16_single_kernel(xuan_simd simd) {
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native;
    if (simd < XUAN_SIMD_AVX2) return xuan_dot_f16_single_scalar;
    return xuan_ggml_lanes(simd) == 8 ? xuan_dot_f16_single8_avx2 : xuan_dot_f16_single_avx2; /* 32 or 64 slots */
}

xuan_dot_f16_fn xuan_dot_f16_kernel(xuan_simd simd, bool single_token) {
    return single_token ? xuan_dot_f16_single_kernel(simd) : xuan_dot_kernel(simd, XUAN_TYPE_F16);
}

float xuan_vec_dot_f16_single(xuan_simd simd, int64_t n, const uint16_t *w, const float *x) {
    return xuan_dot_f16_single_kernel(simd)(n, w, x);
}

uint32_t xuan_quant_vec_dot_type(uint32_t type) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    return q ? q->vec_dot_type : XUAN_TYPE_COUNT;
}

bool xuan_quant_can_matmul(uint32_t type) {
    const xuan_quant_traits *q = xuan_quant_traits_of(type);
    return q && q->vec_dot[XUAN_SIMD_SCALAR];
}

void xuan_quantize_act(uint32_t act_type, const float *x, void *dst, int64_t n) {
    xuan_quant_quantize_blocks(act_type, x, dst, n);
}

float xuan_vec_dot(xuan_simd simd, uint32_t type, int64_t n, const void *w_row, const void *act) {
    xuan_vec_dot_fn fn = xuan_dot_kernel(simd, type);
    XUAN_ASSERT(fn != NULL);
    return fn ? fn(n, w_row, act) : 0.0f; /* (fn is never NULL here: keeps analyzers calm) */
}

void xuan_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n) {
    if (xuan_cpu_get()->simd >= XUAN_SIMD_AVX2) {
        xuan_fp16_to_fp32_row_avx2(src, dst, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = xuan_fp16_to_fp32(src[i]);
}

void xuan_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n) {
    if (xuan_cpu_get()->simd >= XUAN_SIMD_AVX2) {
        xuan_fp32_to_fp16_row_avx2(src, dst, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = xuan_fp32_to_fp16(src[i]);
}
