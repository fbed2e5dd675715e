/*
 * weights.c — bytes of a catalog model at a quant, tensor by tensor.
 *
 * Map:
 *   quant names        Q2_K ... F16 and their quality factors
 *   type rules         which ggml type llama-quantize gives each tensor
 *   tensor list        the tensors of each architecture, from the shape
 *   memory input       the KV layout for xuan_mem_estimate_compute
 *
 * The type rules reproduce llama.cpp's llama_tensor_get_type() for the
 * common mixes (memory.md §1): output.weight (or a tied token_embd) gets
 * Q6_K, attn_v and ffn_down get Q6_K in "more bits" layers for Q4_K_M and
 * Q5_K_M, Q3_K_M and Q2_K raise attn_v / ffn_down / attn_output, and a row
 * whose length is not a multiple of 256 falls back from a K type to a
 * 32-block type.  They were recalled, then checked against the published file
 * sizes in tests/test_pick_weights.c (within 3% on every size the catalog
 * has).  IQ mixes and imatrix-dependent choices are not modelled.
 */
#include "pick_internal.h"

#include <math.h>
#include <strings.h>

/* ---- quant names ------------------------------------------------------------ */

static const struct {
    const char *name;
    xuan_type base;
    double quality; /* ~1 - relative perplexity increase (llama-quantize help for Llama-3-8B: Q2_K +3.5 ppl, Q3_K_M +0.66, Q4_K_M +0.18, Q8_0 +0.004), rounded */
} QUANTS[XUAN_QUANT_COUNT] = {
    [XUAN_QUANT_Q2_K] = {"Q2_K", XUAN_TYPE_Q2_K, 0.70},
    [XUAN_QUANT_Q3_K_M] = {"Q3_K_M", XUAN_TYPE_Q3_K, 0.88},
    [XUAN_QUANT_Q4_0] = {"Q4_0", XUAN_TYPE_Q4_0, 0.94},
    [XUAN_QUANT_Q4_K_M] = {"Q4_K_M", XUAN_TYPE_Q4_K, 0.97},
    [XUAN_QUANT_Q5_K_M] = {"Q5_K_M", XUAN_TYPE_Q5_K, 0.985},
    [XUAN_QUANT_Q6_K] = {"Q6_K", XUAN_TYPE_Q6_K, 0.995},
    [XUAN_QUANT_Q8_0] = {"Q8_0", XUAN_TYPE_Q8_0, 0.999},
    [XUAN_QUANT_F16] = {"F16", XUAN_TYPE_F16, 0.999}, /* no measurable gain over Q8_0 */
    /* Experts MXFP4, the rest Q8_0.  Ranked only where a file is published:
     * gpt-oss, whose experts were released in MXFP4, so the mix loses only
     * the Q8_0 of the rest against the release. */
    [XUAN_QUANT_MXFP4_MOE] = {"MXFP4_MOE", XUAN_TYPE_Q8_0, 0.999},
};

const char *xuan_quant_name(xuan_quant q) {
    return (unsigned)q < XUAN_QUANT_COUNT ? QUANTS[q].name : "?";
}

int xuan_quant_from_name(const char *name, xuan_quant *out) {
    if (!name) return -1;
    for (int i = 0; i < XUAN_QUANT_COUNT; i++)
        if (!strcasecmp(name, QUANTS[i].name)) {
            *out = (xuan_quant)i;
            return 0;
        }
    return -1;
}

double xuan_quant_quality(xuan_quant q) {
    return (unsigned)q < XUAN_QUANT_COUNT ? QUANTS[q].quality : 0;
}

/* ---- type rules --------------------------------------------------------------- */

typedef enum role {
    R_EMBD, R_EMBD_TIED, R_EMBD_PLE, R_OUTPUT, R_ATTN_Q, R_ATTN_K, R_ATTN_V, R_ATTN_QKV, R_ATTN_O, R_ATTN_OTHER,
    R_FFN_GATE, R_FFN_UP, R_FFN_DOWN, R_F32,
} role;

static bool use_more_bits(uint32_t i, uint32_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i >= n / 8 && (i - n / 8) % 3 == 2);
}

/* A K type needs rows that are a multiple of 256; llama-quantize falls back. */
static xuan_type fallback(xuan_type t, uint64_t ne0) {
    const xuan_type_traits *tr = xuan_type_get(t);
    if (!tr || ne0 % tr->block_size == 0) return t;
    switch (t) {
    case XUAN_TYPE_Q2_K:
    case XUAN_TYPE_Q3_K: return XUAN_TYPE_IQ4_NL;
    case XUAN_TYPE_Q4_K: return XUAN_TYPE_Q5_0;
    case XUAN_TYPE_Q5_K: return XUAN_TYPE_Q5_1;
    case XUAN_TYPE_Q6_K: return XUAN_TYPE_Q8_0;
    default: return XUAN_TYPE_F16;
    }
}

typedef struct mix_ctx {
    xuan_quant q;
    uint32_t n_layers, n_gqa, n_experts;
    bool tied; /* a tied model: llama-quantize types every token-embedding table as the output */
} mix_ctx;

/* expert: one of the 3-D ffn_*_exps tensors (MXFP4_MOE makes them MXFP4). */
static xuan_type tensor_type(const mix_ctx *c, role r, uint32_t layer, uint64_t ne0, bool expert) {
    xuan_quant q = c->q;
    xuan_type t = QUANTS[q].base;
    if (r == R_F32) return XUAN_TYPE_F32;
    if (q == XUAN_QUANT_F16) return XUAN_TYPE_F16;
    /* llama_tensor_get_type, MXFP4_MOE: expert tensors MXFP4, every other
     * one (output and embeddings too) Q8_0. */
    if (q == XUAN_QUANT_MXFP4_MOE) return expert ? XUAN_TYPE_MXFP4 : XUAN_TYPE_Q8_0;
    bool moe8 = c->n_experts == 8;
    /* per_layer_token_embd is in llama-quantize's token-embedding category:
     * in a tied model it takes the output's type, else the mix's base. */
    if (r == R_EMBD_PLE) {
        if (!c->tied) return fallback(t, ne0);
        r = R_EMBD_TIED;
    }
    switch (r) {
    case R_OUTPUT:
    case R_EMBD_TIED:
        if (ne0 % 256 != 0) t = XUAN_TYPE_Q8_0;
        else if (t != XUAN_TYPE_Q8_0) t = XUAN_TYPE_Q6_K;
        return t;
    case R_ATTN_V:
        if (q == XUAN_QUANT_Q2_K) t = c->n_gqa >= 4 ? XUAN_TYPE_Q4_K : XUAN_TYPE_Q3_K;
        else if (q == XUAN_QUANT_Q3_K_M) t = layer < 2 ? XUAN_TYPE_Q5_K : XUAN_TYPE_Q4_K;
        else if ((q == XUAN_QUANT_Q4_K_M || q == XUAN_QUANT_Q5_K_M) &&
                 use_more_bits(layer, c->n_layers))
            t = XUAN_TYPE_Q6_K;
        if (moe8) t = XUAN_TYPE_Q8_0;
        break;
    case R_ATTN_K:
        if (moe8) t = XUAN_TYPE_Q8_0;
        break;
    case R_FFN_DOWN:
        if (q == XUAN_QUANT_Q2_K) t = XUAN_TYPE_Q3_K;
        else if (q == XUAN_QUANT_Q3_K_M) t = layer < c->n_layers / 16 ? XUAN_TYPE_Q5_K : XUAN_TYPE_Q4_K;
        else if ((q == XUAN_QUANT_Q4_K_M || q == XUAN_QUANT_Q5_K_M) &&
                 use_more_bits(layer, c->n_layers))
            t = XUAN_TYPE_Q6_K;
        break;
    case R_ATTN_O:
        if (moe8) {
            if (q == XUAN_QUANT_Q2_K || q == XUAN_QUANT_Q3_K_M || q == XUAN_QUANT_Q4_K_M)
                t = XUAN_TYPE_Q5_K;
        } else if (q == XUAN_QUANT_Q2_K) t = XUAN_TYPE_Q3_K;
        else if (q == XUAN_QUANT_Q3_K_M) t = XUAN_TYPE_Q4_K;
        break;
    case R_ATTN_QKV:
        if (q == XUAN_QUANT_Q3_K_M) t = XUAN_TYPE_Q4_K;
        else if (q == XUAN_QUANT_Q4_K_M) t = XUAN_TYPE_Q5_K;
        else if (q == XUAN_QUANT_Q5_K_M) t = XUAN_TYPE_Q6_K;
        break;
    default: break;
    }
    return fallback(t, ne0);
}

/* ---- tensor list ------------------------------------------------------------- */

typedef struct acc {
    mix_ctx mix;
    xuan_weights *w;
    bool overflow;
} acc;

/* Adds `count` tensors of ne1 rows of ne0 elements. */
static void add(acc *a, role r, uint32_t layer, uint64_t ne0, uint64_t ne1, uint64_t count,
                uint64_t active_count) {
    if (ne0 == 0 || ne1 == 0 || count == 0) return;
    xuan_type t = tensor_type(&a->mix, r, layer, ne0, count > 1);
    uint64_t row, bytes, params, act_bytes, act_params;
    if (!xuan_type_row_size(t, ne0, &row)) {
        t = XUAN_TYPE_F16;
        if (!xuan_type_row_size(t, ne0, &row)) a->overflow = true;
    }
    if (!xuan_mul_ok(row, ne1, &bytes) || !xuan_mul_ok(ne0, ne1, &params) ||
        !xuan_mul_ok(bytes, active_count, &act_bytes) ||
        !xuan_mul_ok(params, active_count, &act_params) || !xuan_mul_ok(bytes, count, &bytes) ||
        !xuan_mul_ok(params, count, &params) || !xuan_add_ok(a->w->total, bytes, &a->w->total) ||
        !xuan_add_ok(a->w->params, params, &a->w->params)) {
        a->overflow = true;
        return;
    }
    if (r == R_EMBD || r == R_EMBD_TIED || r == R_EMBD_PLE) a->w->token_embd += bytes;
    if (r == R_EMBD || r == R_EMBD_PLE) return; /* only one row is gathered per token */
    if (!xuan_add_ok(a->w->per_token, act_bytes, &a->w->per_token)) a->overflow = true;
    a->w->active_params += act_params;
}

static void ffn(acc *a, uint32_t l, uint64_t d, uint64_t f, uint64_t n, uint64_t n_act, bool fused) {
    if (fused) {
        add(a, R_FFN_UP, l, d, 2 * f, n, n_act);
    } else {
        add(a, R_FFN_GATE, l, d, f, n, n_act);
        add(a, R_FFN_UP, l, d, f, n, n_act);
    }
    add(a, R_FFN_DOWN, l, f, d, n, n_act);
}

/* The sliding-window layout of a model: the catalog's own pattern (gemma4
 * sizes differ: E2B 1 global in 5, E4B 1 in 6), else the architecture
 * table's (gpt-oss 2, gemma3 6, gemma2 2; 0 there = every layer slides when
 * the arch has a window).  No window: no sliding layers. */
static uint32_t swa_window_of(const xuan_model_info *m, const xuan_arch_info *ai) {
    if (!ai || (!ai->swa_pattern && !ai->swa_default && !m->swa_pattern)) return 0;
    return m->sliding_window ? m->sliding_window : ai->swa_default;
}

static bool layer_slides(const xuan_model_info *m, const xuan_arch_info *ai, uint32_t l) {
    if (!swa_window_of(m, ai)) return false;
    uint32_t n = m->swa_pattern ? m->swa_pattern : ai->swa_pattern;
    return n == 0 || l % n < n - 1; /* llama_hparams::set_swa_pattern */
}

int xuan_model_weights(const xuan_model_info *m, xuan_quant q, xuan_weights *out, xuan_error *err) {
    *out = (xuan_weights){0};
    if ((unsigned)q >= XUAN_QUANT_COUNT) return xuan_fail(err, XUAN_ERR_USAGE, "bad quant %d", (int)q);
    if (!m->runnable || !m->arch || !m->n_layers || !m->d_model || !m->n_heads || !m->n_vocab ||
        !m->d_ffn)
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED,
                         "%s: the catalog has no layer shapes for this model (%s)", m->id,
                         m->shapes_missing ? m->shapes_missing
                         : m->scope_reason ? m->scope_reason : "not a local model");
    uint64_t d = m->d_model, L = m->n_layers, H = m->n_heads;
    uint64_t Hkv = m->n_kv_heads ? m->n_kv_heads : H;
    uint64_t hd = m->head_dim ? m->head_dim : d / H;
    acc a = {.mix = {.q = q, .n_layers = m->n_layers,
                     .n_gqa = (uint32_t)(H / (Hkv ? Hkv : 1)), .n_experts = m->n_experts,
                     .tied = m->tied_embeddings},
             .w = out};
    /* the shapes llama.cpp's converters write (the table's converted_fused) */
    const xuan_arch_info *ai = xuan_arch_find(m->arch, strlen(m->arch));
    bool fused_qkv = ai && ai->converted_fused;
    bool fused_up = ai && ai->fused_gate_up;
    bool qkv_bias = ai && ai->qkv_bias == XUAN_REQUIRED;
    bool mla = m->kv_lora_rank > 0;

    /* A tied model has no output.weight: llama-quantize then treats
     * token_embd as the output tensor, and decoding reads all of it. */
    if (m->tied_embeddings) {
        add(&a, R_EMBD_TIED, 0, d, m->n_vocab, 1, 1);
    } else {
        add(&a, R_EMBD, 0, d, m->n_vocab, 1, 1);
        add(&a, R_OUTPUT, 0, d, m->n_vocab, 1, 1);
    }
    add(&a, R_F32, 0, d, 1, 1, 1); /* output_norm */
    if (m->ple_dim) {
        /* gemma4 E2B/E4B per-layer embeddings: one table of ple_dim per
         * layer for each of ple_vocab tokens (one row gathered per token),
         * the projection of the residual into them (kept F16/F32 by
         * llama-quantize: "not too big"), its norm. */
        add(&a, R_EMBD_PLE, 0, (uint64_t)m->ple_dim * L, m->ple_vocab ? m->ple_vocab : m->n_vocab, 1, 1);
        add(&a, R_F32, 0, d, (uint64_t)m->ple_dim * L, 1, 1);
        add(&a, R_F32, 0, m->ple_dim, 1, 1, 1);
    }

    for (uint32_t l = 0; l < L; l++) {
        add(&a, R_F32, l, d, 2, 1, 1); /* attn_norm, ffn_norm */
        bool hybrid = m->n_attn_layers && m->attn_interval;
        if (hybrid && (l + 1) % m->attn_interval != 0) {
            /* Gated DeltaNet layer (qwen35): fused q|k|v, the z gate, the
             * output projection, per-head alpha and beta, the depthwise
             * causal conv over q|k|v (kernel taps, F32). */
            uint64_t kd = (uint64_t)m->gdn_k_heads * m->gdn_head_dim, vd = (uint64_t)m->gdn_v_heads * m->gdn_head_dim;
            add(&a, R_ATTN_QKV, l, d, 2 * kd + vd, 1, 1);
            add(&a, R_ATTN_OTHER, l, d, vd, 1, 1);
            add(&a, R_ATTN_OTHER, l, vd, d, 1, 1);
            add(&a, R_ATTN_OTHER, l, d, 2 * (uint64_t)m->gdn_v_heads, 1, 1);
            add(&a, R_F32, l, m->gdn_head_dim, 1, 1, 1); /* ssm_norm */
            add(&a, R_F32, l, m->gdn_v_heads, 2, 1, 1);  /* ssm_a, ssm_dt */
            add(&a, R_F32, l, m->gdn_conv_kernel, 2 * kd + vd, 1, 1); /* ssm_conv1d */
        } else if (m->head_dim_global || m->kv_shared_layers) {
            /* gemma4: sliding layers with head_dim, global ones with
             * head_dim_global; the last kv_shared_layers compute only Q
             * (their K and V are an earlier layer's). */
            bool shared = l >= L - (m->kv_shared_layers < L ? m->kv_shared_layers : L);
            uint64_t h = layer_slides(m, ai, l) || !m->head_dim_global ? hd : m->head_dim_global;
            add(&a, R_ATTN_Q, l, d, H * h, 1, 1);
            if (!shared) {
                add(&a, R_ATTN_K, l, d, Hkv * h, 1, 1);
                add(&a, R_ATTN_V, l, d, Hkv * h, 1, 1);
            }
            add(&a, R_ATTN_O, l, H * h, d, 1, 1);
            if (m->ple_dim) {
                add(&a, R_ATTN_OTHER, l, d, m->ple_dim, 1, 1); /* inp_gate */
                add(&a, R_ATTN_OTHER, l, m->ple_dim, d, 1, 1); /* proj */
                add(&a, R_F32, l, d, 1, 1, 1);                 /* post_norm */
            }
        } else if (hybrid) {
            /* Gated attention: Q is projected twice as wide, half of it the
             * sigmoid gate on the attention output. */
            add(&a, R_ATTN_Q, l, d, 2 * H * hd, 1, 1);
            add(&a, R_ATTN_K, l, d, Hkv * hd, 1, 1);
            add(&a, R_ATTN_V, l, d, Hkv * hd, 1, 1);
            add(&a, R_ATTN_O, l, H * hd, d, 1, 1);
            add(&a, R_F32, l, hd, 2, 1, 1); /* q/k norms */
        } else if (mla) {
            uint64_t qk = (uint64_t)m->qk_nope_dim + m->qk_rope_dim;
            uint64_t v = m->v_head_dim ? m->v_head_dim : m->qk_nope_dim;
            if (m->q_lora_rank) {
                add(&a, R_ATTN_OTHER, l, d, m->q_lora_rank, 1, 1);
                add(&a, R_ATTN_OTHER, l, m->q_lora_rank, H * qk, 1, 1);
            } else {
                add(&a, R_ATTN_Q, l, d, H * qk, 1, 1);
            }
            add(&a, R_ATTN_OTHER, l, d, (uint64_t)m->kv_lora_rank + m->qk_rope_dim, 1, 1);
            add(&a, R_ATTN_OTHER, l, m->kv_lora_rank, H * (m->qk_nope_dim + v), 1, 1);
            add(&a, R_ATTN_O, l, H * v, d, 1, 1);
        } else if (fused_qkv) {
            add(&a, R_ATTN_QKV, l, d, (H + 2 * Hkv) * hd, 1, 1);
            add(&a, R_ATTN_O, l, H * hd, d, 1, 1);
        } else {
            add(&a, R_ATTN_Q, l, d, H * hd, 1, 1);
            add(&a, R_ATTN_K, l, d, Hkv * hd, 1, 1);
            add(&a, R_ATTN_V, l, d, Hkv * hd, 1, 1);
            add(&a, R_ATTN_O, l, H * hd, d, 1, 1);
        }
        bool attn_layer = !m->n_attn_layers || !m->attn_interval || (l + 1) % m->attn_interval == 0;
        if (qkv_bias && attn_layer) add(&a, R_F32, l, (H + 2 * Hkv) * hd, 1, 1, 1); /* q/k/v biases */
        if (ai && ai->qk_norm && !m->n_attn_layers) add(&a, R_F32, l, hd, 2, 1, 1); /* per-head q/k norms */
        if (ai && ai->post_norms) add(&a, R_F32, l, d, 2, 1, 1);     /* sandwich norms */
        if (m->n_experts && l >= m->first_dense_layers) {
            add(&a, R_F32, l, d, m->n_experts, 1, 1); /* router, kept F32 */
            ffn(&a, l, d, m->moe_d_ffn, m->n_experts, m->n_experts_used, false);
            if (m->n_shared_experts)
                ffn(&a, l, d, (uint64_t)m->moe_d_ffn * m->n_shared_experts, 1, 1, false);
            if (ai && ai->moe_biases) /* gpt-oss: router bias, each expert's gate/up/down biases */
                add(&a, R_F32, l, 2 * (uint64_t)m->moe_d_ffn + d + 1, m->n_experts, 1, 1);
        } else {
            bool wide = m->ffn_double_shared && m->kv_shared_layers && l >= L - m->kv_shared_layers;
            ffn(&a, l, d, wide ? 2 * (uint64_t)m->d_ffn : m->d_ffn, 1, 1, fused_up);
        }
        if (ai && ai->attn_sinks) add(&a, R_F32, l, H + d, 1, 1, 1); /* sinks, attn_output bias */
    }
    if (a.overflow) return xuan_fail(err, XUAN_ERR_FORMAT, "%s: tensor sizes overflow", m->id);
    return 0;
}

/* ---- memory input ------------------------------------------------------------- */


int xuan_model_mem_input(const xuan_model_info *m, xuan_quant q, uint32_t n_ctx,
                         xuan_mem_input *in, xuan_error *err) {
    xuan_weights w;
    int rc = xuan_model_weights(m, q, &w, err);
    if (rc) return rc;
    *in = (xuan_mem_input){.n_layers = m->n_layers, .n_heads = m->n_heads,
                           .n_kv_heads = m->n_kv_heads ? m->n_kv_heads : m->n_heads,
                           .head_dim_k = m->head_dim ? m->head_dim : m->d_model / m->n_heads,
                           .d_model = m->d_model, .d_ffn = m->d_ffn, .n_vocab = m->n_vocab,
                           .weight_bytes = w.total, .n_ctx = n_ctx,
                           .cache_type = XUAN_TYPE_F16};
    in->head_dim_v = in->head_dim_k;
    if (m->n_attn_layers && m->n_attn_layers < m->n_layers) {
        /* Hybrid: KV only in the attention layers; each DeltaNet layer keeps,
         * per sequence and in F32, a state S of head_v x head_v per value
         * head and the conv's last kernel - 1 inputs of q|k|v (llama.cpp's
         * n_embd_s() and n_embd_r(); xuan inspect counts the same). */
        uint64_t kd = (uint64_t)m->gdn_k_heads * m->gdn_head_dim, vd = (uint64_t)m->gdn_v_heads * m->gdn_head_dim;
        uint64_t per = (uint64_t)m->gdn_v_heads * m->gdn_head_dim * m->gdn_head_dim * 4;
        if (m->gdn_conv_kernel > 1) per += (uint64_t)(m->gdn_conv_kernel - 1) * (2 * kd + vd) * 4;
        in->n_kv_layers = m->n_attn_layers;
        in->state_bytes = per * (m->n_layers - m->n_attn_layers);
    }
    const xuan_arch_info *ai = m->arch ? xuan_arch_find(m->arch, strlen(m->arch)) : NULL;
    uint32_t kv_layers = m->n_layers;
    if (m->kv_shared_layers && m->kv_shared_layers < m->n_layers) {
        /* gemma4: the last kv_shared_layers read an earlier layer's cache. */
        kv_layers = m->n_layers - m->kv_shared_layers;
        in->n_kv_layers = kv_layers;
    }
    if ((in->swa_window = swa_window_of(m, ai)) != 0) {
        for (uint32_t l = 0; l < kv_layers; l++) in->n_swa_layers += layer_slides(m, ai, l);
        if (m->head_dim_global) {
            /* head_dim is the sliding layers'; the global ones are wider. */
            in->swa_head_dim_k = in->swa_head_dim_v = in->head_dim_k;
            in->head_dim_k = in->head_dim_v = m->head_dim_global;
        }
    }
    if (m->kv_lora_rank && !strcmp(m->arch, "deepseek2")) {
        /* llama.cpp and xuan cache the MLA latent: one "head" of kv_lora +
         * rope per token and layer, V read as its first kv_lora values (no V
         * cache: llm_graph_context::build_attn_inp_k; memory.md §3 counts a
         * V cache too, as builds before that allocated one). */
        in->n_kv_heads = 1;
        in->head_dim_k = m->kv_lora_rank + m->qk_rope_dim;
        in->head_dim_v = m->kv_lora_rank;
        in->v_in_k = true;
    } else if (m->kv_lora_rank) {
        /* minicpm3: llama.cpp expands K/V per head (nope + rope, and v). */
        in->head_dim_k = m->qk_nope_dim + m->qk_rope_dim;
        in->head_dim_v = m->v_head_dim ? m->v_head_dim : m->qk_nope_dim;
    }
    return 0;
}

int xuan_pick_mem_for(const xuan_catalog *cat, const char *model_id, const char *quant,
                      uint32_t n_ctx, xuan_mem_estimate *out, xuan_error *err) {
    xuan_catalog own = {0};
    if (!cat) {
        int rc = xuan_catalog_load(&own, NULL, err);
        if (rc) return rc;
        cat = &own;
    }
    int rc = 0;
    xuan_quant q;
    const xuan_model_info *m = xuan_catalog_lookup(cat, model_id, err);
    if (!m) rc = err ? err->code : XUAN_ERR_NOTFOUND;
    else if (xuan_quant_from_name(quant, &q) != 0)
        rc = xuan_fail(err, XUAN_ERR_USAGE, "unknown quant '%s' (Q2_K Q3_K_M Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 F16)",
                       quant ? quant : "");
    else {
        xuan_mem_input in;
        rc = xuan_model_mem_input(m, q, n_ctx, &in, err);
        if (!rc) xuan_mem_estimate_compute(&in, out);
    }
    if (cat == &own) xuan_catalog_free(&own);
    return rc;
}
