/*
 * qwen35.c — what Qwen3.5's hybrid layers add to the engine: the Gated
 * DeltaNet (linear attention) layer and its per-sequence state, and the
 * interleaved multi-section RoPE of its gated attention layers.
 *
 * Map:
 *   state        xuan_rec: conv and delta-rule states per sequence and
 *                layer, cleared and copied by the sequence operations
 *   delta rule   xuan_gdn_step: one head, one token (scalar reference;
 *                qwen35_avx512.c has the same bits)
 *   layer        xuan_gdn_mix: short causal convolution, SiLU, L2-normed
 *                q/k, beta and decay, the recurrence, gated RMSNorm
 *   rope         xuan_imrope_fix
 *
 * The arithmetic is llama.cpp's CPU graph for qwen35 (src/models/qwen35.cpp,
 * delta-net-base.cpp) with its fused ggml_gated_delta_net, which runs the
 * recurrent form token by token for prompts too: a prompt evaluated in one
 * batch, in pieces or token by token computes the same bits here, as the
 * state after each token is the same function of the one before.
 */
#include "model/internal.h"

#include <math.h>
#include <string.h>

/* ================================================================ state */

static void *alloc_f32(size_t n, uint64_t *bytes, bool *fail) {
    uint64_t b;
    if (*fail || !xuan_mul_ok(n ? n : 1, sizeof(float), &b) || b > SIZE_MAX) {
        *fail = true;
        return NULL;
    }
    float *p = xuan_malloc_aligned((size_t)b);
    if (!p) {
        *fail = true;
        return NULL;
    }
    memset(p, 0, (size_t)b);
    if (bytes) *bytes += b;
    return p;
}

int xuan_rec_init(xuan_rec *r, const xuan_model *m, uint32_t n_seq, uint32_t n_rows, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    memset(r, 0, sizeof *r);
    if (!hp->n_recurrent) return 0;
    r->n_seq = n_seq;
    r->n_rec = hp->n_recurrent;
    r->n_rows = n_rows;
    const size_t S = hp->ssm_state, ch = (size_t)hp->ssm_inner + 2 * (size_t)hp->ssm_groups * S;
    r->conv_n = (size_t)(hp->ssm_conv - 1) * ch;
    r->ssm_n = (size_t)hp->ssm_heads * S * S;
    uint64_t per_seq_layer, all_conv, all_ssm;
    bool fail = !xuan_mul_ok((uint64_t)n_seq * r->n_rec, r->conv_n, &all_conv) ||
                !xuan_mul_ok((uint64_t)n_seq * r->n_rec, r->ssm_n, &all_ssm) ||
                !xuan_add_ok(r->conv_n, r->ssm_n, &per_seq_layer) || all_conv > SIZE_MAX / 8 ||
                all_ssm > SIZE_MAX / 8;
    r->rec_of = fail ? NULL : xuan_calloc(hp->n_layers, sizeof *r->rec_of);
    if (!r->rec_of) fail = true;
    for (uint32_t il = 0, k = 0; !fail && il < hp->n_layers; il++)
        r->rec_of[il] = layer_is_recurrent(hp, il) ? (int32_t)k++ : -1;
    r->conv = alloc_f32((size_t)all_conv, &r->bytes, &fail);
    r->ssm = alloc_f32((size_t)all_ssm, &r->bytes, &fail);
    r->ck_conv = alloc_f32((size_t)all_conv * XUAN_REC_CKPT, &r->bytes, &fail);
    r->ck_ssm = alloc_f32((size_t)all_ssm * XUAN_REC_CKPT, &r->bytes, &fail);
    r->ck_pos = fail ? NULL : xuan_malloc((size_t)n_seq * XUAN_REC_CKPT * sizeof *r->ck_pos);
    r->ck_next = fail ? NULL : xuan_calloc(n_seq, sizeof *r->ck_next);
    if (!r->ck_pos || !r->ck_next) fail = true;
    for (size_t i = 0; !fail && i < (size_t)n_seq * XUAN_REC_CKPT; i++) r->ck_pos[i] = -1;
    const size_t B = n_rows, vd = hp->ssm_inner, H = hp->ssm_heads;
    r->qkv = alloc_f32(B * ch, NULL, &fail);
    r->cv = alloc_f32(B * ch, NULL, &fail);
    r->z = alloc_f32(B * vd, NULL, &fail);
    r->beta = alloc_f32(B * H, NULL, &fail);
    r->gate = alloc_f32(B * H, NULL, &fail);
    r->o = alloc_f32(B * vd, NULL, &fail);
    if (fail) {
        xuan_rec_free(r);
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the recurrent state of %u sequences (%u layers)",
                         n_seq, hp->n_recurrent);
    }
    return 0;
}

void xuan_rec_free(xuan_rec *r) {
    xuan_free(r->rec_of);
    xuan_free(r->ck_pos);
    xuan_free(r->ck_next);
    float *bufs[] = {r->conv, r->ssm, r->qkv, r->cv, r->z, r->beta, r->gate, r->o, r->ck_conv, r->ck_ssm};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) xuan_free_aligned(bufs[i]);
    memset(r, 0, sizeof *r);
}

static float *conv_of(const xuan_rec *r, uint32_t s, uint32_t k) {
    return r->conv + ((size_t)s * r->n_rec + k) * r->conv_n;
}

static float *ssm_of(const xuan_rec *r, uint32_t s, uint32_t k) {
    return r->ssm + ((size_t)s * r->n_rec + k) * r->ssm_n;
}

void xuan_rec_seq_clear(xuan_rec *r, int32_t s) {
    if (!r->n_rec) return;
    const uint32_t s0 = s < 0 ? 0 : (uint32_t)s, s1 = s < 0 ? r->n_seq : (uint32_t)s + 1;
    for (uint32_t q = s0; q < s1 && q < r->n_seq; q++) {
        memset(conv_of(r, q, 0), 0, r->n_rec * r->conv_n * sizeof(float));
        memset(ssm_of(r, q, 0), 0, r->n_rec * r->ssm_n * sizeof(float));
    }
}

void xuan_rec_seq_copy(xuan_rec *r, int32_t src, int32_t dst) {
    if (!r->n_rec || src == dst) return;
    XUAN_ASSERT(src >= 0 && dst >= 0 && (uint32_t)src < r->n_seq && (uint32_t)dst < r->n_seq);
    memcpy(conv_of(r, (uint32_t)dst, 0), conv_of(r, (uint32_t)src, 0), r->n_rec * r->conv_n * sizeof(float));
    memcpy(ssm_of(r, (uint32_t)dst, 0), ssm_of(r, (uint32_t)src, 0), r->n_rec * r->ssm_n * sizeof(float));
}

/* ---- checkpoints ---- */

static size_t seq_floats(const xuan_rec *r, bool ssm) { return (size_t)r->n_rec * (ssm ? r->ssm_n : r->conv_n); }

static float *ck_of(const xuan_rec *r, uint32_t s, int k, bool ssm) {
    return (ssm ? r->ck_ssm : r->ck_conv) + ((size_t)s * XUAN_REC_CKPT + (size_t)k) * seq_floats(r, ssm);
}

int xuan_rec_ckpt_find(const xuan_rec *r, int32_t s, int32_t n_past) {
    if (!r->n_rec || s < 0 || (uint32_t)s >= r->n_seq || n_past < 0) return -1;
    for (int k = 0; k < XUAN_REC_CKPT; k++)
        if (r->ck_pos[(size_t)s * XUAN_REC_CKPT + (size_t)k] == n_past) return k;
    return -1;
}

int32_t xuan_rec_ckpt_best(const xuan_rec *r, int32_t s, int32_t pos) {
    int32_t best = -1;
    if (!r->n_rec || s < 0 || (uint32_t)s >= r->n_seq) return -1;
    for (int k = 0; k < XUAN_REC_CKPT; k++) {
        const int32_t p = r->ck_pos[(size_t)s * XUAN_REC_CKPT + (size_t)k];
        if (p >= 0 && p <= pos && p > best) best = p;
    }
    return best;
}

void xuan_rec_ckpt_save(xuan_rec *r, int32_t s, int32_t n_past) {
    if (!r->n_rec) return;
    XUAN_ASSERT(s >= 0 && (uint32_t)s < r->n_seq && n_past > 0);
    int k = xuan_rec_ckpt_find(r, s, n_past);
    if (k < 0) {
        k = (int)(r->ck_next[s] % XUAN_REC_CKPT);
        r->ck_next[s] = (uint32_t)(k + 1);
    }
    memcpy(ck_of(r, (uint32_t)s, k, false), conv_of(r, (uint32_t)s, 0), seq_floats(r, false) * sizeof(float));
    memcpy(ck_of(r, (uint32_t)s, k, true), ssm_of(r, (uint32_t)s, 0), seq_floats(r, true) * sizeof(float));
    r->ck_pos[(size_t)s * XUAN_REC_CKPT + (size_t)k] = n_past;
}

void xuan_rec_ckpt_restore(xuan_rec *r, int32_t src, int k, int32_t dst) {
    XUAN_ASSERT(r->n_rec && k >= 0 && k < XUAN_REC_CKPT && src >= 0 && dst >= 0 && (uint32_t)src < r->n_seq &&
                (uint32_t)dst < r->n_seq);
    memcpy(conv_of(r, (uint32_t)dst, 0), ck_of(r, (uint32_t)src, k, false), seq_floats(r, false) * sizeof(float));
    memcpy(ssm_of(r, (uint32_t)dst, 0), ck_of(r, (uint32_t)src, k, true), seq_floats(r, true) * sizeof(float));
}

void xuan_rec_ckpt_drop(xuan_rec *r, int32_t s, int32_t n_past) {
    if (!r->n_rec) return;
    const uint32_t s0 = s < 0 ? 0 : (uint32_t)s, s1 = s < 0 ? r->n_seq : (uint32_t)s + 1;
    for (uint32_t q = s0; q < s1 && q < r->n_seq; q++)
        for (int k = 0; k < XUAN_REC_CKPT; k++) {
            int32_t *p = &r->ck_pos[(size_t)q * XUAN_REC_CKPT + (size_t)k];
            if (n_past < 0 || *p > n_past) *p = -1;
        }
}

/* ================================================================ delta rule */

void xuan_gdn_step(float *M, const float *k, const float *q, const float *v, float beta, float g, float scale,
                   uint32_t S, float *out, uint32_t lanes) {
    const float eg = expf(g);
    /* Row j of the state is decayed, corrected by its own prediction error
     * and read out before row j + 1 is touched: each row's steps depend on
     * that row alone, so one pass gives the bits of ggml's four passes. */
    for (uint32_t j = 0; j < S; j++) {
        float *row = M + (size_t)j * S;
        for (uint32_t i = 0; i < S; i++) row[i] *= eg;
        const float delta = (v[j] - xuan_op_dot_f32_vec(row, k, S, lanes)) * beta;
        for (uint32_t i = 0; i < S; i++) row[i] = fmaf(k[i], delta, row[i]);
        out[j] = xuan_op_dot_f32_vec(row, q, S, lanes) * scale;
    }
}

/* ================================================================ layer */

void xuan_op_silu_rows(const float *x, float *y, int64_t n, int64_t row, uint32_t lanes) {
    for (int64_t r0 = 0; r0 < n; r0 += row) {
        const int64_t n16 = r0 + (row & ~(int64_t)(lanes - 1));
        int64_t i = r0;
        if (lanes == 8)
            for (; i < n16; i++) y[i] = x[i] / (1.0f + xuan_op_expf_ggml8(0.0f - x[i]));
        for (; i < n16; i++) y[i] = x[i] / (1.0f + xuan_op_expf_ggml(0.0f - x[i]));
        for (; i < r0 + row; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
    }
}

/* build_gdn_l2_norm: ggml_rms_norm with eps / n, then times 1 / sqrt(n). */
static void l2norm(float *x, uint32_t n, float eps) {
    double sum = 0.0;
    for (uint32_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps / (float)n), post = 1.0f / sqrtf((float)n);
    for (uint32_t i = 0; i < n; i++) x[i] = (x[i] * scale) * post;
}

typedef struct gdn_job {
    const xuan_model *m;
    xuan_rec *r;
    uint32_t il, n, k; /* layer, rows, index among the recurrent layers */
    const int32_t *seq;
    const layer_w *L;
    bool avx512;
    uint32_t lanes; /* the reference build's vector width (xuan_ggml_lanes) */
} gdn_job;

/* ssm_conv over channels [c0, c1): each row's output from its sequence's
 * last ssm_conv - 1 inputs and its own, taps in order (ggml's loop); the
 * window moves on.  The reference's AVX-512 build fuses each tap's product
 * into the sum, its AVX2 build rounds the product first (found by hashing
 * both builds' conv_output_raw against ours): lanes 8 keeps them apart, as
 * two statements (no compiler contracts across them). */
static void conv_part(void *ctx, int ith, int nth) {
    const gdn_job *j = ctx;
    const xuan_hparams *hp = &j->m->hp;
    const uint32_t nc = hp->ssm_conv, w = nc - 1;
    const size_t ch = (size_t)hp->ssm_inner + 2 * (size_t)hp->ssm_groups * hp->ssm_state;
    const size_t c0 = ch * (size_t)ith / (size_t)nth, c1 = ch * (size_t)(ith + 1) / (size_t)nth;
    for (uint32_t t = 0; t < j->n; t++) {
        float *st = conv_of(j->r, (uint32_t)j->seq[t], j->k);
        const float *x = j->r->qkv + t * ch;
        float *y = j->r->cv + t * ch;
        for (size_t c = c0; c < c1; c++) {
            float *win = st + c * w;
            const float *tap = j->L->ssm_conv1d + c * nc;
            float sum = 0.0f;
            if (j->lanes == 8) {
                for (uint32_t i = 0; i < w; i++) {
                    const float p = win[i] * tap[i];
                    sum += p;
                }
                const float p = x[c] * tap[w];
                y[c] = sum + p;
            } else {
                for (uint32_t i = 0; i < w; i++) sum = fmaf(win[i], tap[i], sum);
                y[c] = fmaf(x[c], tap[w], sum);
            }
            for (uint32_t i = 0; i + 1 < w; i++) win[i] = win[i + 1];
            if (w) win[w - 1] = x[c];
        }
    }
}

/* Per row: SiLU of the convolution, q and k heads L2-normed, beta =
 * sigmoid, decay g = softplus(alpha + dt_bias) * ssm_a. */
static void act_part(void *ctx, int ith, int nth) {
    const gdn_job *j = ctx;
    const xuan_hparams *hp = &j->m->hp;
    const uint32_t S = hp->ssm_state, H = hp->ssm_heads, Hk = hp->ssm_groups;
    const size_t ch = (size_t)hp->ssm_inner + 2 * (size_t)Hk * S;
    const uint32_t t0 = j->n * (uint32_t)ith / (uint32_t)nth, t1 = j->n * (uint32_t)(ith + 1) / (uint32_t)nth;
    for (uint32_t t = t0; t < t1; t++) {
        float *cv = j->r->cv + t * ch;
        xuan_op_silu_rows(cv, cv, (int64_t)ch, (int64_t)ch, j->lanes);
        for (uint32_t h = 0; h < 2 * Hk; h++) l2norm(cv + (size_t)h * S, S, hp->norm_eps);
        float *b = j->r->beta + (size_t)t * H, *g = j->r->gate + (size_t)t * H;
        for (uint32_t h = 0; h < H; h++) {
            b[h] = 1.0f / (1.0f + expf(-b[h]));
            const float a = g[h] + j->L->ssm_dt[h];
            g[h] = (a > 20.0f ? a : logf(1.0f + expf(a))) * j->L->ssm_a[h];
        }
    }
}

/* The delta rule for value heads [h0, h1) of every row, each through its
 * row's sequence state; value head h reads q/k head h % ssm_groups (the
 * repeat ggml applies). */
static void rule_part(void *ctx, int ith, int nth) {
    const gdn_job *j = ctx;
    const xuan_hparams *hp = &j->m->hp;
    const uint32_t S = hp->ssm_state, H = hp->ssm_heads, Hk = hp->ssm_groups;
    const size_t ch = (size_t)hp->ssm_inner + 2 * (size_t)Hk * S;
    const uint32_t h0 = H * (uint32_t)ith / (uint32_t)nth, h1 = H * (uint32_t)(ith + 1) / (uint32_t)nth;
    const float scale = 1.0f / sqrtf((float)S);
    const bool simd = j->avx512 && S % 64 == 0;
    /* Head by head, then the rows in order: one head's state (S x S floats,
     * 64 KiB for Qwen3.5) stays in cache across a prompt's tokens instead of
     * the whole layer's state going through memory once per token. */
    for (uint32_t h = h0; h < h1; h++) {
        for (uint32_t t = 0; t < j->n; t++) {
            const float *cv = j->r->cv + t * ch;
            float *M = ssm_of(j->r, (uint32_t)j->seq[t], j->k) + (size_t)h * S * S;
            const float *q = cv + (size_t)(h % Hk) * S, *k = cv + (size_t)(Hk + h % Hk) * S;
            const float *v = cv + (size_t)2 * Hk * S + (size_t)h * S;
            float *out = j->r->o + ((size_t)t * H + h) * S;
            const float beta = j->r->beta[(size_t)t * H + h], g = j->r->gate[(size_t)t * H + h];
            if (simd) xuan_gdn_step_avx512(M, k, q, v, beta, g, scale, S, out);
            else xuan_gdn_step(M, k, q, v, beta, g, scale, S, out, j->lanes);
        }
    }
}

/* Per row: each head's output RMSNormed (ssm_norm), times silu(z). */
static void norm_part(void *ctx, int ith, int nth) {
    const gdn_job *j = ctx;
    const xuan_hparams *hp = &j->m->hp;
    const uint32_t S = hp->ssm_state, H = hp->ssm_heads;
    const uint32_t t0 = j->n * (uint32_t)ith / (uint32_t)nth, t1 = j->n * (uint32_t)(ith + 1) / (uint32_t)nth;
    for (uint32_t t = t0; t < t1; t++) {
        float *o = j->r->o + (size_t)t * H * S, *z = j->r->z + (size_t)t * H * S;
        xuan_op_silu_rows(z, z, (int64_t)H * S, S, j->lanes);
        for (uint32_t h = 0; h < H; h++) {
            float *oh = o + (size_t)h * S;
            xuan_op_rmsnorm(oh, j->L->ssm_norm, oh, S, hp->norm_eps);
            for (uint32_t e = 0; e < S; e++) oh[e] *= z[(size_t)h * S + e];
        }
    }
}

void xuan_gdn_mix(xuan_pool *pool, const xuan_model *m, xuan_rec *r, uint32_t il, uint32_t n, const int32_t *seq,
                  xuan_simd simd) {
    XUAN_ASSERT(r->rec_of && r->rec_of[il] >= 0 && n <= r->n_rows);
    gdn_job j = {.m = m, .r = r, .il = il, .n = n, .k = (uint32_t)r->rec_of[il], .seq = seq,
                 .L = &m->layers[il], .avx512 = simd >= XUAN_SIMD_AVX512, .lanes = xuan_ggml_lanes(simd)};
    xuan_pool_run(pool, conv_part, &j);
    if (n == 1) act_part(&j, 0, 1);
    else xuan_pool_run(pool, act_part, &j);
    xuan_pool_run(pool, rule_part, &j);
    if (n == 1) norm_part(&j, 0, 1);
    else xuan_pool_run(pool, norm_part, &j);
}

/* ================================================================ rope */

/* ggml_mrope_cache_init with is_imrope: pair i's sector is i % (sum of the
 * sections); sectors 3k, 3k+1, 3k+2 below three times the first, second,
 * third section take those positions (all the token's position for text),
 * every other sector the fourth position, which llama.cpp sets to 0 for
 * text tokens.  Its thetas advance by the same factor from the same start,
 * so a pair at the token's position equals the plain NeoX table's. */
void xuan_imrope_fix(const xuan_hparams *hp, float *cs, const float *cs0) {
    const int32_t *sec = hp->rope_sections;
    const int32_t dims = sec[0] + sec[1] + sec[2] + sec[3];
    if (dims <= 0) return;
    for (uint32_t i = 0; i < hp->n_rot / 2; i++) {
        const int32_t s = (int32_t)i % dims;
        const bool at_pos = (s % 3 == 1 && s < 3 * sec[1]) || (s % 3 == 2 && s < 3 * sec[2]) ||
                            (s % 3 == 0 && s < 3 * sec[0]);
        if (!at_pos) {
            cs[2 * i] = cs0[2 * i];
            cs[2 * i + 1] = cs0[2 * i + 1];
        }
    }
}
