/*
 * repack.c — the Q4_K decode layout: matrices copied at load into groups of
 * 8 interleaved rows (layout in internal.h), the packer and the scalar
 * reference of the kernel that reads them for products of a few tokens
 * (repack_avx2.c has the SIMD one).
 *
 * Why.  A one-token product reads every weight byte once; with the rows as
 * the file stores them the per-row kernel spends, per 144-byte super-block,
 * a 6-bit scale decode, a shuffle per sub-block, a reduction of eight lanes
 * and two float steps on one row.  Eight rows side by side let one vector
 * instruction work on eight rows: the scales are decoded once at load, each
 * 32-bit lane is one row, so the lanes never need reducing, and one float
 * step serves eight rows.  llama.cpp's CPU backend does the same at load
 * (q4_K_8x8); what must not change is the arithmetic: per row the exact
 * integer sums of the plain dot (dot.c q4_K_dot), then per super-block (one
 * token) or per pair of sub-blocks (llama.cpp's 4-token steps) acc =
 * fma(float(isum), d * d_a, acc) and acc_min likewise, so every output has
 * the bits of the plain product.
 *
 * Sections: packing, scalar kernel.
 */
#include "quant/blocks.h"
#include "quant/internal.h"

#include <math.h>

/* ---- packing ------------------------------------------------------------- */

int64_t xuan_q4_K_packed_rows(const xuan_weight *w) {
    if (w->type != XUAN_TYPE_Q4_K || w->n_cols <= 0 || w->n_cols % QKK || w->n_rows < 16 || w->n_rows % 8)
        return 0;
    return w->n_rows - w->n_rows % 16;
}

size_t xuan_q4_K_packed_bytes(const xuan_weight *w) {
    const int64_t rows = xuan_q4_K_packed_rows(w);
    /* n_rows x row bytes passed xuan_weight_check; the packed form is
     * 1184 / 1152 of it, which cannot overflow a size_t that held the rows */
    return (size_t)(rows / 8) * (size_t)(w->n_cols / QKK) * XUAN_Q4K8_BLOCK;
}

/* One super-block of 8 rows (rows[r] points at row r's block). */
static void pack_block(const block_q4_K *const rows[8], uint8_t *out) {
    for (int r = 0; r < 8; r++) {
        const block_q4_K *b = rows[r];
        for (int k = 0; k < 32; k++) memcpy(out + XUAN_Q4K8_QS + 32 * k + 4 * r, b->qs + 4 * k, 4);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            xuan_scale_min_k4(j, b->scales, &sc, &m);
            out[XUAN_Q4K8_SC + 32 * (j / 4) + 4 * r + j % 4] = sc;
            out[XUAN_Q4K8_MN + 32 * (j / 4) + 4 * r + j % 4] = m;
        }
        memcpy(out + XUAN_Q4K8_D + 2 * r, &b->d, 2);
        memcpy(out + XUAN_Q4K8_DMIN + 2 * r, &b->dmin, 2);
    }
}

typedef struct pack_job {
    const xuan_weight *w;
    uint8_t *dst;
    size_t w_row;
    int64_t n_groups;
} pack_job;

static void pack_part(void *ctx, int ith, int nth) {
    const pack_job *j = ctx;
    const int64_t nb = j->w->n_cols / QKK;
    const int64_t g0 = j->n_groups * ith / nth, g1 = j->n_groups * (ith + 1) / nth;
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *base = (const uint8_t *)j->w->data + (size_t)(8 * g) * j->w_row;
        uint8_t *out = j->dst + (size_t)g * (size_t)nb * XUAN_Q4K8_BLOCK;
        for (int64_t b = 0; b < nb; b++) {
            const block_q4_K *rows[8];
            for (int r = 0; r < 8; r++)
                rows[r] = (const block_q4_K *)(const void *)(base + (size_t)r * j->w_row) + b;
            pack_block(rows, out + (size_t)b * XUAN_Q4K8_BLOCK);
        }
    }
}

void xuan_q4_K_pack(xuan_pool *pool, const xuan_weight *w, void *dst) {
    const int64_t rows = xuan_q4_K_packed_rows(w);
    XUAN_ASSERT(rows > 0 && dst != NULL && ((uintptr_t)dst & 63) == 0);
    uint64_t wr = 0;
    XUAN_ASSERT(xuan_type_row_size(w->type, (uint64_t)w->n_cols, &wr));
    pack_job j = {w, dst, (size_t)wr, rows / 8};
    xuan_pool_run(pool, pack_part, &j);
}

/* ---- scalar kernel ------------------------------------------------------- */

/* One token's outputs of group g, in the per-pair or per-super-block steps. */
static void packed_group_scalar(const uint8_t *grp, int64_t nb, const block_q8_K *a, bool per_pair, float out[8]) {
    float acc[8] = {0}, acc_m[8] = {0};
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *P = grp + (size_t)b * XUAN_Q4K8_BLOCK;
        int bs[8];
        for (int j = 0; j < 8; j++) bs[j] = a[b].bsums[2 * j] + a[b].bsums[2 * j + 1];
        for (int r = 0; r < 8; r++) {
            uint16_t hd, hm;
            memcpy(&hd, P + XUAN_Q4K8_D + 2 * r, 2);
            memcpy(&hm, P + XUAN_Q4K8_DMIN + 2 * r, 2);
            const float d = xuan_fp16_to_fp32(hd) * a[b].d, dmin = xuan_fp16_to_fp32(hm) * a[b].d;
            int isum = 0, summs = 0;
            for (int p = 0; p < 4; p++) { /* sub-blocks 2p (low nibbles) and 2p + 1 (high) */
                for (int h = 0; h < 2; h++) {
                    const int j = 2 * p + h;
                    const int sc = P[XUAN_Q4K8_SC + 32 * (j / 4) + 4 * r + j % 4];
                    const int m = P[XUAN_Q4K8_MN + 32 * (j / 4) + 4 * r + j % 4];
                    int s = 0;
                    for (int k = 0; k < 8; k++) {
                        const uint8_t *q = P + XUAN_Q4K8_QS + 32 * (8 * p + k) + 4 * r;
                        const int8_t *q8 = a[b].qs + 64 * p + 32 * h + 4 * k;
                        for (int e = 0; e < 4; e++) s += (h ? q[e] >> 4 : q[e] & 0xF) * q8[e];
                    }
                    isum += sc * s;
                    summs += m * bs[j];
                }
                if (per_pair) {
                    acc[r] = fmaf((float)isum, d, acc[r]);
                    acc_m[r] = fmaf((float)summs, dmin, acc_m[r]);
                    isum = summs = 0;
                }
            }
            if (!per_pair) {
                acc[r] = fmaf((float)isum, d, acc[r]);
                acc_m[r] = fmaf((float)summs, dmin, acc_m[r]);
            }
        }
    }
    for (int r = 0; r < 8; r++) out[r] = acc[r] - acc_m[r];
}

void xuan_q4_K_packed_scalar(const void *packed, int64_t n_cols, int64_t r0, int64_t r1, int64_t pf_end,
                             const uint8_t *act, size_t act_row, int64_t n_tok, int64_t n_pair, float *y,
                             size_t y_stride) {
    (void)pf_end;
    const int64_t nb = n_cols / QKK;
    for (int64_t g = r0 / 8; g < r1 / 8; g++) {
        const uint8_t *grp = (const uint8_t *)packed + (size_t)g * (size_t)nb * XUAN_Q4K8_BLOCK;
        for (int64_t t = 0; t < n_tok; t++) {
            float out[8];
            packed_group_scalar(grp, nb, (const block_q8_K *)(const void *)(act + (size_t)t * act_row), t < n_pair,
                                out);
            memcpy(y + (size_t)t * y_stride + 8 * g, out, sizeof out);
        }
    }
}

xuan_q4_K_packed_fn xuan_q4_K_packed_kernel(xuan_simd simd) {
    simd = simd < xuan_cpu_get()->native ? simd : xuan_cpu_get()->native;
    return simd >= XUAN_SIMD_AVX2 ? xuan_q4_K_packed_avx2 : xuan_q4_K_packed_scalar;
}
