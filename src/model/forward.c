/*
 * forward.c — the context (KV cache, activations, threads) and the forward
 * pass of the three dense architectures over a batch of tokens from one or
 * more sequences.
 *
 * Map:
 *   context      xuan_ctx_new: every buffer sized once for n_batch tokens
 *   sequences    xuan_ctx_seq_*: the cell maps of kv.c, cancellation
 *   attention    one pool job over (token, head) pairs; a token walks its
 *                own sequence's cells in position order up to its position
 *                (and within the sliding window), F16 or Q8_0 cache
 *   layers       norm -> QKV -> RoPE -> cache -> attention -> out -> norm
 *                -> gate/up -> SwiGLU -> down, residuals in x
 *   decode       validation, then pieces ("ubatches") of n_batch tokens;
 *                logits for the rows asked for
 *
 * A piece goes through as a matrix [n_tok x d_model]: one xuan_matmul per
 * weight per piece, so each weight byte is read once per piece whether its
 * rows are one prompt or one token of each of 16 sequences.
 */
#include "model/internal.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* One of the two caches: bytes of a cell's row, of a kv head, of a layer. */
typedef struct cache_geom {
    size_t row, head, layer;
} cache_geom;

struct xuan_ctx {
    const xuan_model *m;
    xuan_ctx_params p;
    xuan_pool *pool;     /* p.pool, or a shared pool we hold a reference to */
    bool own_pool;
    xuan_simd simd;      /* the SIMD level, read once */
    int n_threads;
    volatile int *stop;  /* may be NULL */
    _Atomic uint64_t cancel; /* bit s: drop sequence s */

    /* KV cache: per layer, per kv head, n_ctx cell rows of row bytes (K
     * and V each in its own type); kv says which cell holds which
     * sequence's position. */
    kv_cells kv;
    uint8_t *k_cache, *v_cache;
    cache_geom *kgl, *vgl; /* n_layers: each layer's geometry (its kind's head size, its cells) */
    /* Sliding-window layers keep only their window (unless p.swa_full):
     * their rows live in kv_swa's ring of fewer cells, each layer at
     * k_off / v_off in the caches (a shared-KV layer at its source's).  swa_lo[s]:
     * positions of sequence s below it have left the ring (they are still
     * in kv for the other layers). */
    bool ring;
    kv_cells kv_swa;
    size_t *k_off, *v_off;
    int32_t *swa_lo;
    const xuan_quant_traits *tk, *tv;
    int32_t *tokens0; /* n_ctx: xuan_ctx_tokens' copy of sequence 0 */
    /* Hybrid models (qwen35): the recurrent layers' state per sequence
     * (qwen35.c); their attention layers' Q projection q | gate per head
     * (B x 2 qd), and the RoPE table at position 0 (imrope's fourth section). */
    xuan_rec rec;
    float *qg, *cs0;
    /* gemma4: the per-layer embeddings of the piece's rows ([row][layer][P]),
     * one layer's gate rows (B x P), and ones (V's weightless RMSNorm) */
    float *ple, *ple_g, *ones, *ple_row; /* ple_row: one token's per_layer_token_embd row */

    /* The piece in flight, B = n_batch rows. */
    int32_t *ub_tok, *ub_pos, *ub_seq, *ub_cell, *ub_out; /* B each; ub_out: rows kept to the end */
    int32_t *ub_cell_swa;                                 /* B: the rows' cells in the ring */
    uint32_t ub_n_out;

    /* Activations, B rows each. */
    float *x, *xn, *xr;     /* residual stream, normed / matmul output, rounded copy */
    float *q, *k, *v, *att; /* B x qd, B x kvd, B x kvd, B x qd */
    float *h, *u;           /* B x F, B x F (B x 2F for fused gate|up) */
    float *cs;              /* B x n_rot RoPE tables */
    float *cs_swa;          /* the same for local layers (their own base), when the model has them */
    /* MoE: router probabilities (B x n_expert), each token's experts and
     * weights (B x n_expert_used), one expert's gate/up/activation rows and
     * output, and the token's sum over its experts */
    float *moe_p, *moe_w, *moe_x, *moe_g, *moe_u, *moe_h, *moe_y;
    int32_t *moe_sel, *moe_rows;
    float *sh_out;          /* B x d: the shared experts' output (deepseek2, qwen35moe) */
    /* MLA: the projected queries (B x heads x key_length_mla), the q_lora
     * rows, one head's gathered rows in and out, the heads' V outputs */
    float *mla_q, *mla_qa, *mla_a, *mla_b, *mla_o;
    /* One token's many small products in one dispatch (MLA's per-head
     * slices, the routed experts): mv_cap items and their weights. */
    xuan_matvec *mv;
    xuan_weight *mv_w;
    size_t mv_cap;
    void *mm_scratch;
    size_t xr_cap; /* floats in xr */

    /* Logits of the last decode: out_cap rows of n_vocab; row_out maps a
     * batch row to its logits row (-1: none), row_cap entries. */
    float *logits;
    size_t out_cap, row_cap;
    int32_t *row_out;
    int32_t n_rows;   /* rows of the last decode */
    int32_t last_out; /* logits row of the last row asked for, -1 none */

    /* Per-thread attention scratch. */
    float *att_scratch;
    size_t att_scratch_stride; /* floats per thread */
    uint8_t *qq;               /* per thread: q in the vec-dot type of a quantized K cache */
    size_t qq_stride;
    /* Tiled attention for batches (attn_avx512.c), when the cache and the
     * heads allow it: tile_tok tokens of one sequence times a KV group per
     * tile; per thread the tile's scores, rounded queries and V slots;
     * tile_t0[i] the first row of tile i of the piece in flight. */
    bool attn_tiled;
    uint32_t tile_tok, tile_rows;
    size_t tile_s_stride, tile_stride; /* floats: a row's scores; one thread's scratch */
    float *tile_scratch;
    int32_t *tile_t0;
    uint64_t cache_bytes; /* K and V rows, all layers */
};

xuan_ctx_params xuan_ctx_params_default(void) {
    return (xuan_ctx_params){.n_ctx = 0, .n_batch = 512, .n_seq_max = 1, .n_threads = 0,
                             .type_k = XUAN_TYPE_F16,
                             .type_v = XUAN_TYPE_F16, .pool = NULL, .swa_full = false};
}

/* Positions a sequence keeps in the ring past its window: a truncation
 * of up to this many tokens (a chat turn's re-rendered tail) can resume. */
static uint32_t swa_slack(const xuan_hparams *hp) { return hp->n_swa / 4; }

/* Where layer il's K and V rows are, and which cells hold them. */
typedef struct layer_kv {
    const kv_cells *kv;     /* the layer's cells: kv, or the ring */
    const int32_t *ub_cell; /* the piece's rows' cells there */
    uint8_t *k, *v;         /* kv head 0, cell 0 of the layer */
    const cache_geom *kg, *vg;
} layer_kv;

static layer_kv layer_cache(const xuan_ctx *c, uint32_t il) {
    const bool ring = c->ring && layer_is_local(&c->m->hp, il);
    uint8_t *k = c->k_cache + c->k_off[il];
    return (layer_kv){.kv = ring ? &c->kv_swa : &c->kv,
                      .ub_cell = ring ? c->ub_cell_swa : c->ub_cell,
                      .k = k,
                      .v = c->m->hp.mla ? k : c->v_cache + c->v_off[il],
                      .kg = &c->kgl[il],
                      .vg = &c->vgl[il]};
}

/* ================================================================ context */

static void *alloc_f(size_t n, size_t *total, bool *fail) {
    if (*fail) return NULL;
    uint64_t bytes;
    if (!xuan_mul_ok(n ? n : 1, sizeof(float), &bytes) || bytes > SIZE_MAX) {
        *fail = true;
        return NULL;
    }
    void *p = xuan_malloc_aligned((size_t)bytes);
    if (!p) *fail = true;
    *total += (size_t)bytes;
    return p;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* The scratch xuan_matvec_many needs for n items of w's shape. */
static size_t many_scratch(const xuan_weight *w, uint32_t n) {
    xuan_matvec one = {.w = w};
    return (size_t)n * xuan_matvec_many_scratch(&one, 1);
}

static void *alloc_i(size_t n, bool *fail) {
    if (*fail) return NULL;
    void *p = xuan_calloc(n ? n : 1, sizeof(int32_t));
    if (!p) *fail = true;
    return p;
}

xuan_ctx *xuan_ctx_new(const xuan_model *m, const xuan_ctx_params *pp, xuan_error *err) {
    const xuan_hparams *hp = &m->hp;
    xuan_ctx_params p = pp ? *pp : xuan_ctx_params_default();
    if (p.n_ctx == 0) p.n_ctx = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
    if (p.n_batch == 0) p.n_batch = 512;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;
    if (p.n_seq_max == 0) p.n_seq_max = 1;
    if (p.n_ctx > (1u << 24)) {
        xuan_fail(err, XUAN_ERR_USAGE, "context of %u tokens is too large", p.n_ctx);
        return NULL;
    }
    if (p.n_seq_max > 64) {
        xuan_fail(err, XUAN_ERR_USAGE, "%u parallel sequences is too many (at most 64)", p.n_seq_max);
        return NULL;
    }
    const uint32_t cache_types[2] = {p.type_k, p.type_v};
    for (int i = 0; i < 2; i++) {
        const xuan_quant_traits *q = xuan_quant_traits_of(cache_types[i]);
        if (!q || !q->kv) {
            xuan_fail(err, XUAN_ERR_USAGE, "%s cache type %s is not supported (%s)", i ? "V" : "K",
                      xuan_type_name(cache_types[i]), xuan_quant_kv_names());
            return NULL;
        }
        if (hp->head_dim % q->type->block_size || hp->head_dim_swa % q->type->block_size) {
            xuan_fail(err, XUAN_ERR_USAGE, "%s cache type %s needs a head size divisible by %u (it is %u)",
                      i ? "V" : "K", q->type->name, q->type->block_size,
                      hp->head_dim % q->type->block_size ? hp->head_dim : hp->head_dim_swa);
            return NULL;
        }
    }
    xuan_ctx *c = xuan_calloc(1, sizeof *c);
    if (!c) {
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->m = m;
    c->p = p;
    c->simd = xuan_cpu_get()->simd;
    c->last_out = -1;
    atomic_init(&c->cancel, 0);
    if (p.pool) {
        c->pool = p.pool;
    } else {
        c->pool = xuan_pool_shared(p.n_threads, err);
        if (!c->pool) {
            xuan_free(c);
            return NULL;
        }
        c->own_pool = true;
    }
    c->n_threads = xuan_pool_size(c->pool);
    c->p.n_threads = c->n_threads;
    c->p.pool = NULL;

    c->tk = xuan_quant_traits_of(p.type_k);
    c->tv = xuan_quant_traits_of(p.type_v);
    /* the ring: each sequence's window plus the slack, and a piece */
    uint32_t n_local = 0;
    for (uint32_t il = 0; il < hp->n_layers; il++) n_local += layer_is_local(hp, il);
    const uint64_t ring_cells = (uint64_t)p.n_seq_max * (hp->n_swa + swa_slack(hp)) + p.n_batch;
    c->ring = !p.swa_full && n_local > 0 && ring_cells < p.n_ctx;
    c->k_off = xuan_calloc(hp->n_layers, sizeof *c->k_off);
    c->v_off = xuan_calloc(hp->n_layers, sizeof *c->v_off);
    c->kgl = xuan_calloc(hp->n_layers, sizeof *c->kgl);
    c->vgl = xuan_calloc(hp->n_layers, sizeof *c->vgl);
    uint64_t all[2] = {0, 0};
    bool fail = c->k_off == NULL || c->v_off == NULL || c->kgl == NULL || c->vgl == NULL;
    for (int i = 0; i < 2 && !fail; i++) {
        for (uint32_t il = 0; il < hp->n_layers; il++) {
            /* a layer's rows: its kind's head size, in the ring or the main cells */
            const bool ring = c->ring && layer_is_local(hp, il);
            uint64_t row = 0, head, layer;
            const uint32_t width = hp->mla ? hp->head_dim : i ? layer_head_dim_v(hp, il) : layer_head_dim(hp, il);
            XUAN_ASSERT(xuan_type_row_size(i ? p.type_v : p.type_k, width, &row));
            if (!xuan_mul_ok(row, ring ? ring_cells : p.n_ctx, &head) ||
                !xuan_mul_ok(head, layer_kv_heads(hp, il), &layer)) {
                xuan_ctx_free(c);
                xuan_fail(err, XUAN_ERR_NOMEM, "KV cache for %u tokens is too large", p.n_ctx);
                return NULL;
            }
            (i ? c->vgl : c->kgl)[il] = (cache_geom){(size_t)row, (size_t)head, (size_t)layer};
            const uint32_t src = layer_kv_src(hp, il); /* gemma4's shared-KV layers store nothing */
            (i ? c->v_off : c->k_off)[il] = src != il ? (i ? c->v_off : c->k_off)[src] : (size_t)all[i];
            const uint64_t bytes = layer_is_recurrent(hp, il) || src != il ? 0 : layer;
            if (!xuan_add_ok(all[i], bytes, &all[i]) ||
                all[i] > SIZE_MAX / 4) {
                xuan_ctx_free(c);
                xuan_fail(err, XUAN_ERR_NOMEM, "KV cache for %u tokens is too large", p.n_ctx);
                return NULL;
            }
        }
    }
    c->k_cache = fail ? NULL : xuan_malloc_aligned((size_t)all[0]);
    if (hp->mla) { /* V is the first n_lora_kv values of each K row (llama.cpp views it so) */
        c->tv = c->tk;
        if (!fail) memcpy(c->vgl, c->kgl, hp->n_layers * sizeof *c->vgl);
    } else if (!fail) {
        c->v_cache = xuan_malloc_aligned((size_t)all[1]);
    }
    c->cache_bytes = all[0] + (hp->mla ? 0 : all[1]);
    fail = fail || c->k_cache == NULL || (!hp->mla && c->v_cache == NULL) ||
           xuan_kv_init(&c->kv, p.n_ctx, p.n_ctx, p.n_seq_max) != 0 ||
           (c->ring && xuan_kv_init(&c->kv_swa, (uint32_t)ring_cells, p.n_ctx, p.n_seq_max) != 0);
    c->swa_lo = xuan_calloc(p.n_seq_max, sizeof *c->swa_lo);
    if (!c->swa_lo) fail = true;

    /* h and u also hold the shared experts' rows (qwen35moe's may be wider than feed_forward_length) */
    const size_t B = p.n_batch, d = hp->d_model, F = max_sz(hp->d_ffn, hp->n_ff_shexp);
    /* the widest kind (gemma4's full and sliding layers differ) */
    const size_t hd_max = max_sz(hp->head_dim, hp->head_dim_swa), rot_max = max_sz(hp->n_rot, hp->n_rot_swa);
    const size_t hdv_max = hp->swa_layers ? max_sz(hp->head_dim_v, hp->head_dim_swa) : hp->head_dim_v;
    const size_t qd = (size_t)hp->n_heads * hd_max;
    const size_t kvd = max_sz((size_t)hp->n_kv_heads * hp->head_dim, (size_t)hp->n_kv_heads_swa * hp->head_dim_swa);
    const size_t P = hp->n_embd_per_layer;
    const bool fused_up = m->layers[0].w_gate.data == NULL;
    c->tokens0 = alloc_i(p.n_ctx, &fail);
    c->ub_tok = alloc_i(B, &fail);
    c->ub_pos = alloc_i(B, &fail);
    c->ub_seq = alloc_i(B, &fail);
    c->ub_cell = alloc_i(B, &fail);
    c->ub_cell_swa = alloc_i(B, &fail);
    c->ub_out = alloc_i(B, &fail);
    c->row_cap = B;
    c->row_out = alloc_i(c->row_cap, &fail);
    size_t total = 0;
    c->x = alloc_f(B * d, &total, &fail);
    c->xn = alloc_f(B * d, &total, &fail);
    c->xr_cap = max_sz(B, hp->n_expert_used) *
                max_sz(max_sz(max_sz(d, qd), max_sz(hp->ssm_inner, P)), max_sz(F, hp->n_ff_exp));
    c->xr = alloc_f(c->xr_cap, &total, &fail);
    c->q = alloc_f(B * qd, &total, &fail);
    c->k = alloc_f(B * kvd, &total, &fail);
    c->v = alloc_f(B * kvd, &total, &fail);
    c->att = alloc_f(B * qd, &total, &fail);
    c->h = alloc_f(B * F, &total, &fail);
    c->u = alloc_f(B * max_sz(F * (fused_up ? 2 : 1), qd + 2 * kvd), &total, &fail);
    c->cs = alloc_f(B * rot_max, &total, &fail);
    if (P) { /* gemma4's per-layer embeddings: the piece's inputs (B x n_layers x P), one layer's gate rows */
        c->ple = alloc_f(B * hp->n_layers * P, &total, &fail);
        c->ple_g = alloc_f(B * P, &total, &fail);
        c->ple_row = alloc_f(hp->n_layers * P, &total, &fail);
    }
    if (hp->arch->layer_kinds) { /* V's RMSNorm has no weight: ones */
        c->ones = alloc_f(max_sz(hd_max, P), &total, &fail);
        for (size_t i = 0; !fail && i < max_sz(hd_max, P); i++) c->ones[i] = 1.0f;
    }
    if (hp->n_expert) {
        const size_t E = hp->n_expert, K = hp->n_expert_used, Fe = hp->n_ff_exp;
        c->moe_p = alloc_f(B * E, &total, &fail);
        c->moe_w = alloc_f(B * K, &total, &fail);
        c->moe_sel = alloc_i(B * K, &fail);
        c->moe_rows = alloc_i(B, &fail);
        c->moe_x = alloc_f(B * d, &total, &fail);
        c->moe_g = alloc_f(max_sz(B, K) * Fe, &total, &fail); /* K rows: one token's experts */
        c->moe_u = alloc_f(max_sz(B, K) * Fe, &total, &fail);
        c->moe_h = alloc_f(max_sz(B, K) * Fe, &total, &fail);
        c->moe_y = alloc_f(B * K * d, &total, &fail);
    }
    if (hp->n_ff_shexp) c->sh_out = alloc_f(B * d, &total, &fail);
    if (hp->mla) {
        const size_t H = hp->n_heads, wide = max_sz(max_sz(hp->head_dim_k_mla, hp->n_lora_kv), hp->head_dim_v_mla);
        c->mla_q = alloc_f(B * H * hp->head_dim_k_mla, &total, &fail);
        if (hp->n_lora_q) c->mla_qa = alloc_f(B * hp->n_lora_q, &total, &fail);
        c->mla_a = alloc_f(B * wide, &total, &fail);
        c->mla_b = alloc_f(B * wide, &total, &fail);
        c->mla_o = alloc_f(B * H * hp->head_dim_v_mla, &total, &fail);
    }
    if (hp->swa_pattern || hp->swa_layers) c->cs_swa = alloc_f(B * rot_max, &total, &fail);
    if (hp->arch->attn == XUAN_ATTN_HYBRID) {
        c->qg = alloc_f(B * 2 * qd, &total, &fail);
        c->cs0 = alloc_f(hp->n_rot, &total, &fail);
        if (!fail && xuan_rec_init(&c->rec, m, p.n_seq_max, (uint32_t)B, err)) {
            xuan_ctx_free(c);
            return NULL;
        }
        c->cache_bytes += c->rec.bytes;
    }
    c->mv_cap = max_sz(hp->mla ? hp->n_heads : 0, 2 * (size_t)hp->n_expert_used);
    if (c->mv_cap && !fail) {
        c->mv = xuan_calloc(c->mv_cap, sizeof *c->mv);
        c->mv_w = xuan_calloc(c->mv_cap, sizeof *c->mv_w);
        if (!c->mv || !c->mv_w) fail = true;
    }
    c->out_cap = p.n_seq_max;
    c->logits = alloc_f(c->out_cap * hp->n_vocab, &total, &fail);
    /* scores (n_ctx) + rounded q (head_dim) + a quantized V row as floats
     * + the 64 slot rows of the ordered V sum */
    c->att_scratch_stride = (size_t)p.n_ctx + hd_max * (1 + 1 + 64) + 16;
    c->att_scratch = alloc_f(c->att_scratch_stride * (size_t)c->n_threads, &total, &fail);
    uint64_t qq_row = 0;
    if (c->tk->vec_dot_type != XUAN_TYPE_F32)
        XUAN_ASSERT(xuan_type_row_size(c->tk->vec_dot_type, hd_max, &qq_row));
    c->qq_stride = (size_t)qq_row + 64;
    c->qq = fail ? NULL : xuan_malloc_aligned(c->qq_stride * (size_t)c->n_threads);
    if (!c->qq) fail = true;
    const uint32_t group = hp->n_heads / (hp->n_kv_heads < hp->n_kv_heads_swa ? hp->n_kv_heads : hp->n_kv_heads_swa);
    c->attn_tiled = c->simd >= XUAN_SIMD_AVX512 && c->tk->id == XUAN_TYPE_F16 && c->tv->id == XUAN_TYPE_F16 &&
                    hp->head_dim % 16 == 0 && hp->head_dim_v % 16 == 0 && hp->head_dim_swa % 16 == 0 &&
                    group <= ATTN_TILE_ROWS_MAX;
    if (c->attn_tiled) {
        /* ~32 rows, their V slots within 512 KiB */
        const uint32_t by_acc = (uint32_t)((512u << 10) / (64u * hdv_max));
        uint32_t rows = by_acc < 32 ? by_acc : 32;
        c->tile_tok = rows / group ? rows / group : 1;
        c->tile_rows = c->tile_tok * group;
        c->tile_s_stride = ((size_t)p.n_ctx + 15) / 16 * 16 + 16;
        c->tile_stride = (size_t)c->tile_rows * (c->tile_s_stride + hd_max + 16 * hdv_max) +
                         (size_t)ATTN_TILE_CHUNK * max_sz(hd_max, hdv_max) + 16;
        c->tile_scratch = alloc_f(c->tile_stride * (size_t)c->n_threads, &total, &fail);
        c->tile_t0 = alloc_i(B + 1, &fail);
    }

    size_t scratch = xuan_matmul_scratch_size(&m->output, (int64_t)B);
    if (m->ple_model_proj.data) scratch = max_sz(scratch, xuan_matmul_scratch_size(&m->ple_model_proj, (int64_t)B));
    for (uint32_t il = 0; il < hp->n_layers; il++) {
        const layer_w *L = &m->layers[il];
        const xuan_weight *ws[] = {&L->wq,    &L->wk,   &L->wv,     &L->wqkv,   &L->wo,     &L->w_gate,
                                   &L->w_up,  &L->w_down, &L->gate_inp, &L->gate_sh, &L->up_sh, &L->down_sh,
                                   &L->wq_a,  &L->wq_b, &L->wkv_a, &L->w_z, &L->ssm_beta, &L->ssm_alpha,
                                   &L->ssm_out, &L->ple_gate, &L->ple_proj};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
            if (ws[i]->data) scratch = max_sz(scratch, xuan_matmul_scratch_size(ws[i], (int64_t)B));
        const xuan_weight *ex[] = {&L->gate_exps, &L->up_exps, &L->down_exps}; /* one expert's rows */
        for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
            if (ex[i]->data) {
                xuan_weight one = *ex[i];
                one.n_rows /= hp->n_expert;
                scratch = max_sz(scratch, xuan_matmul_scratch_size(&one, (int64_t)B));
            }
        const xuan_weight *hw[] = {&L->wk_b, &L->wv_b}; /* one head's rows */
        for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
            if (hw[i]->data) {
                xuan_weight one = *hw[i];
                one.n_rows /= hp->n_heads;
                scratch = max_sz(scratch, xuan_matmul_scratch_size(&one, (int64_t)B));
                scratch = max_sz(scratch, many_scratch(&one, hp->n_heads));
            }
        for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
            if (ex[i]->data) {
                xuan_weight one = *ex[i];
                one.n_rows /= hp->n_expert;
                scratch = max_sz(scratch, many_scratch(&one, 2 * hp->n_expert_used));
            }
    }
    c->mm_scratch = fail ? NULL : xuan_malloc_aligned(scratch ? scratch : 64);
    if (fail || !c->mm_scratch) {
        xuan_ctx_free(c);
        xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the KV cache (%u tokens) and activations",
                  p.n_ctx);
        return NULL;
    }
    return c;
}

void xuan_ctx_free(xuan_ctx *c) {
    if (!c) return;
    if (c->own_pool) xuan_pool_release(c->pool);
    xuan_free_aligned(c->k_cache);
    xuan_free_aligned(c->v_cache);
    xuan_kv_free(&c->kv);
    xuan_kv_free(&c->kv_swa);
    int32_t *ints[] = {c->tokens0, c->ub_tok, c->ub_pos, c->ub_seq, c->ub_cell, c->ub_out, c->row_out, c->moe_sel,
                       c->moe_rows, c->tile_t0, c->ub_cell_swa, c->swa_lo};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) xuan_free(ints[i]);
    float *bufs[] = {c->x,  c->xn, c->xr, c->q,      c->k,      c->v,          c->att,
                     c->h,  c->u,  c->cs, c->cs_swa, c->logits, c->att_scratch, c->moe_p, c->moe_w,
                     c->moe_x, c->moe_g, c->moe_u, c->moe_h, c->moe_y, c->sh_out, c->mla_q, c->mla_qa, c->mla_a,
                     c->mla_b, c->mla_o, c->tile_scratch, c->qg, c->cs0, c->ple, c->ple_g, c->ones, c->ple_row};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) xuan_free_aligned(bufs[i]);
    xuan_free_aligned(c->qq);
    xuan_rec_free(&c->rec);
    xuan_free(c->k_off);
    xuan_free(c->v_off);
    xuan_free(c->kgl);
    xuan_free(c->vgl);
    xuan_free(c->mv);
    xuan_free(c->mv_w);
    xuan_free_aligned(c->mm_scratch);
    xuan_free(c);
}

uint32_t xuan_ctx_n_ctx(const xuan_ctx *c) { return c->p.n_ctx; }
const xuan_model *xuan_ctx_model(const xuan_ctx *c) { return c->m; }
uint32_t xuan_ctx_n_seq_max(const xuan_ctx *c) { return c->p.n_seq_max; }
uint32_t xuan_ctx_cells_used(const xuan_ctx *c) { return c->kv.n_used; }
void xuan_ctx_set_stop(xuan_ctx *c, volatile int *stop) { c->stop = stop; }

/* ================================================================ sequences */

static int check_seq(const xuan_ctx *c, int32_t seq, xuan_error *err) {
    if (seq >= 0 && (uint32_t)seq < c->p.n_seq_max) return 0;
    return xuan_fail(err, XUAN_ERR_USAGE, "sequence id %d is out of range (0..%u)", seq, c->p.n_seq_max - 1);
}

/* Both caches: a sequence's positions [p0, p1) go (see xuan_kv_seq_rm).
 * When every position the ring had lost is gone from kv too, the gap is a
 * hole like any other and the sequence can resume anywhere again. */
static void cells_rm(xuan_ctx *c, int32_t seq, int32_t p0, int32_t p1) {
    xuan_kv_seq_rm(&c->kv, seq, p0, p1);
    if (!c->ring) return;
    xuan_kv_seq_rm(&c->kv_swa, seq, p0, p1);
    const uint32_t s0 = seq < 0 ? 0 : (uint32_t)seq, s1 = seq < 0 ? c->p.n_seq_max : (uint32_t)seq + 1;
    for (uint32_t s = s0; s < s1; s++)
        if (p0 <= 0 && (p1 < 0 || p1 >= c->swa_lo[s])) c->swa_lo[s] = 0;
}

/* After a piece: the ring keeps each of its sequences' last window (and
 * the slack) and lets the older positions go. */
static void ring_evict(xuan_ctx *c, uint32_t n) {
    if (!c->ring) return;
    const int32_t keep = (int32_t)(c->m->hp.n_swa + swa_slack(&c->m->hp)) - 1;
    uint64_t done = 0;
    for (uint32_t t = 0; t < n; t++) {
        const int32_t s = c->ub_seq[t];
        if (done >> s & 1) continue;
        done |= 1ull << s;
        const int32_t lo = c->kv.pos_max[s] + 1 - keep;
        if (lo > c->swa_lo[s]) {
            xuan_kv_seq_rm(&c->kv_swa, s, c->swa_lo[s], lo);
            c->swa_lo[s] = lo;
        }
    }
}

/* The first position a token at pos sees in a sliding-window layer. */
static int32_t window_start(const xuan_ctx *c, int32_t pos) {
    const int32_t w = (int32_t)c->m->hp.n_swa;
    return pos + 1 > w ? pos + 1 - w : 0;
}

bool xuan_ctx_seq_resumable(const xuan_ctx *c, int32_t seq, int32_t pos) {
    if (seq < 0 || (uint32_t)seq >= c->p.n_seq_max || pos < 0) return false;
    /* a recurrent state holds its sequence's end (and its checkpoints) only */
    if (c->rec.n_rec && pos != 0 && pos <= c->kv.pos_max[seq] && xuan_rec_ckpt_find(&c->rec, seq, pos) < 0)
        return false;
    return !c->ring || window_start(c, pos) >= c->swa_lo[seq];
}

int32_t xuan_ctx_seq_resume_at(const xuan_ctx *c, int32_t seq, int32_t pos) {
    if (pos <= 0 || xuan_ctx_seq_resumable(c, seq, pos)) return pos < 0 ? 0 : pos;
    const int32_t ck = c->rec.n_rec ? xuan_rec_ckpt_best(&c->rec, seq, pos) : -1;
    return ck > 0 && xuan_ctx_seq_resumable(c, seq, ck) ? ck : 0;
}

/* Hybrid models: what a removal of [p0, p1) does to sequence s's recurrent
 * state, as llama_memory_recurrent::seq_rm decides: 1 = the whole sequence
 * goes (the state is emptied), 0 = the state stays (nothing of s there, or
 * positions before its end only), 2 = its end goes back to a checkpoint at
 * p0, -1 = its end would go but not to a checkpoint, which a state that
 * only knows the end cannot do. */
static int rec_rm_kind(const xuan_ctx *c, int32_t s, int32_t p0, int32_t p1) {
    const int32_t last = c->kv.pos_max[s];
    if (last < 0 || (p0 > last)) return 0;
    if (p1 >= 0 && p1 <= last) return 0;
    if (p0 <= 0) return 1;
    return xuan_rec_ckpt_find(&c->rec, s, p0) >= 0 ? 2 : -1;
}

/* Applies a removal's kind (rec_rm_kind, not -1) to s's state. */
static void rec_rm_apply(xuan_ctx *c, int32_t s, int32_t p0, int kind) {
    if (kind == 1) {
        xuan_rec_seq_clear(&c->rec, s);
        xuan_rec_ckpt_drop(&c->rec, s, -1);
    } else if (kind == 2) {
        xuan_rec_ckpt_restore(&c->rec, s, xuan_rec_ckpt_find(&c->rec, s, p0), s);
        xuan_rec_ckpt_drop(&c->rec, s, p0);
    } else if (p0 <= c->kv.pos_max[s]) { /* a hole: checkpoints past it saw what goes */
        xuan_rec_ckpt_drop(&c->rec, s, p0 < 0 ? 0 : p0);
    }
}

uint64_t xuan_ctx_cache_bytes(const xuan_ctx *c) { return c->cache_bytes; }

int xuan_ctx_seq_rm(xuan_ctx *c, int32_t seq, int32_t p0, int32_t p1, xuan_error *err) {
    if (seq >= 0 && check_seq(c, seq, err)) return XUAN_ERR_USAGE;
    if (c->rec.n_rec) {
        const uint32_t s0 = seq < 0 ? 0 : (uint32_t)seq, s1 = seq < 0 ? c->p.n_seq_max : (uint32_t)seq + 1;
        for (uint32_t s = s0; s < s1; s++)
            if (rec_rm_kind(c, (int32_t)s, p0, p1) < 0)
                return xuan_fail(err, XUAN_ERR_USAGE,
                                 "sequence %u: positions from %d on cannot be removed: the recurrent layers' "
                                 "state holds the sequence's end and its checkpoints only (xuan_ctx_seq_resume_at "
                                 "says where it can go back to; or remove the whole sequence)", s, p0);
        for (uint32_t s = s0; s < s1; s++) rec_rm_apply(c, (int32_t)s, p0, rec_rm_kind(c, (int32_t)s, p0, p1));
    }
    cells_rm(c, seq, p0, p1);
    if (p0 <= 0 && p1 < 0) { /* the whole sequence is gone: so is a cancellation */
        uint64_t bits = seq < 0 ? ~0ull : 1ull << seq;
        atomic_fetch_and(&c->cancel, ~bits);
    }
    return 0;
}

int xuan_ctx_seq_cp(xuan_ctx *c, int32_t src, int32_t dst, int32_t p0, int32_t p1, xuan_error *err) {
    if (check_seq(c, src, err) || check_seq(c, dst, err)) return XUAN_ERR_USAGE;
    if (c->rec.n_rec && src != dst) { /* dst becomes src, or src's prefix up to a checkpoint */
        const bool whole = p0 <= 0 && (p1 < 0 || p1 > c->kv.pos_max[src]);
        const int ck = !whole && p0 <= 0 ? xuan_rec_ckpt_find(&c->rec, src, p1) : -1;
        if (!whole && ck < 0)
            return xuan_fail(err, XUAN_ERR_USAGE,
                             "sequence %d: positions [%d, %d) cannot be copied alone: the recurrent layers' state "
                             "is the whole sequence's or a checkpoint's (copy all of it, or up to a checkpoint)",
                             src, p0, p1);
        xuan_kv_seq_rm(&c->kv, dst, -1, -1);
        if (whole) xuan_rec_seq_copy(&c->rec, src, dst);
        else xuan_rec_ckpt_restore(&c->rec, src, ck, dst);
        xuan_rec_ckpt_drop(&c->rec, dst, -1);
    }
    xuan_kv_seq_cp(&c->kv, src, dst, p0, p1);
    if (c->ring && src != dst) { /* dst inherits what the ring lost of src's range */
        xuan_kv_seq_cp(&c->kv_swa, src, dst, p0, p1);
        const int32_t a = p0 < 0 ? 0 : p0, lost = c->swa_lo[src];
        if (a < lost) {
            const int32_t upto = p1 >= 0 && p1 < lost ? p1 : lost;
            if (upto > c->swa_lo[dst]) c->swa_lo[dst] = upto;
        }
    }
    return 0;
}

int xuan_ctx_seq_keep(xuan_ctx *c, int32_t seq, xuan_error *err) {
    if (check_seq(c, seq, err)) return XUAN_ERR_USAGE;
    for (uint32_t s = 0; s < c->p.n_seq_max; s++)
        if ((int32_t)s != seq) xuan_ctx_seq_rm(c, (int32_t)s, -1, -1, NULL);
    return 0;
}

int32_t xuan_ctx_seq_pos_max(const xuan_ctx *c, int32_t seq) {
    if (seq < 0 || (uint32_t)seq >= c->p.n_seq_max) return -1;
    return c->kv.pos_max[seq];
}

void xuan_ctx_seq_cancel(xuan_ctx *c, int32_t seq) {
    if (seq >= 0 && (uint32_t)seq < c->p.n_seq_max) atomic_fetch_or(&c->cancel, 1ull << seq);
}

bool xuan_ctx_seq_cancelled(const xuan_ctx *c, int32_t seq) {
    if (seq < 0 || (uint32_t)seq >= c->p.n_seq_max) return false;
    return atomic_load(&((xuan_ctx *)c)->cancel) >> seq & 1;
}

uint32_t xuan_ctx_n_past(const xuan_ctx *c) { return (uint32_t)(c->kv.pos_max[0] + 1); }

const int32_t *xuan_ctx_tokens(xuan_ctx *c) {
    const int32_t *map = xuan_kv_seq_map(&c->kv, 0);
    for (int32_t p = 0; p <= c->kv.pos_max[0]; p++) c->tokens0[p] = map[p] >= 0 ? c->kv.cell_tok[map[p]] : -1;
    return c->tokens0;
}

void xuan_ctx_truncate(xuan_ctx *c, uint32_t n) {
    if (c->rec.n_rec) { /* recurrent: back to a checkpoint at n, else all of it */
        int kind = rec_rm_kind(c, 0, (int32_t)n, -1);
        if (kind < 0) n = 0, kind = 1;
        rec_rm_apply(c, 0, (int32_t)n, kind);
    }
    cells_rm(c, 0, (int32_t)n, -1);
    if (n == 0) atomic_fetch_and(&c->cancel, ~1ull);
}

/* ================================================================ matmul */

/* Y = X W^T the way llama.cpp's CPU backend computes it: for F16/BF16
 * weights ggml converts the activations to the weight's vec-dot type
 * (rounding them) for one token and for batches alike.  (Its AMX backend
 * reads batch activations of F16 weights as F32 instead; we follow the plain
 * AVX-512 path, which is the reference on machines without AMX.) */
static void mm(xuan_ctx *c, const xuan_weight *w, const float *x, int64_t n, float *y) {
    const float *in = x;
    if (w->type == XUAN_TYPE_F16 || w->type == XUAN_TYPE_BF16) {
        XUAN_ASSERT((size_t)(n * w->n_cols) <= c->xr_cap);
        if (w->type == XUAN_TYPE_F16) xuan_op_round_f16(x, c->xr, n * w->n_cols);
        else xuan_op_round_bf16(x, c->xr, n * w->n_cols);
        in = c->xr;
    }
    xuan_matmul_kind(c->pool, w, in, n, y, c->mm_scratch, XUAN_MM_2D, c->simd);
}

/* One token's products y_i = W_i x_i, the n items set in c->mv, in one
 * dispatch: each gives the bits mm gives it alone.  The inputs of F16 /
 * BF16 weights are rounded first, item after item into xr. */
static void mv_many(xuan_ctx *c, size_t n) {
    XUAN_ASSERT(n <= c->mv_cap);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        xuan_matvec *it = &c->mv[i];
        const uint32_t t = it->w->type;
        if (t != XUAN_TYPE_F16 && t != XUAN_TYPE_BF16) continue;
        const size_t cols = (size_t)it->w->n_cols;
        XUAN_ASSERT(used + cols <= c->xr_cap);
        if (t == XUAN_TYPE_F16) xuan_op_round_f16(it->x, c->xr + used, (int64_t)cols);
        else xuan_op_round_bf16(it->x, c->xr + used, (int64_t)cols);
        it->x = c->xr + used;
        used += cols;
    }
    xuan_matvec_many(c->pool, c->mv, (int)n, c->mm_scratch, c->simd);
}

/* ================================================================ attention */

typedef struct attn_job {
    xuan_ctx *c;
    uint32_t il, n_tok;
    uint32_t hd, hdv, kvh; /* the layer's head sizes (K, V) and KV heads */
    float scale;     /* applied to q.k (1 for phi3 and gemma, whose q was scaled before) */
    float softcap;   /* q.k -> cap * tanh(q.k / cap) before the softmax (gemma2); 0 = none */
    uint32_t window; /* keys a query sees in this layer (sliding window); 0 = all */
    xuan_order order;  /* the product order llama.cpp uses for this batch */
    xuan_dot_f16_fn qk; /* q . k in that order (the quant room's F16 kernel) */
    xuan_vec_dot_fn kdot; /* q . k for a quantized K cache */
    bool avx2, avx512;
    const float *sinks; /* per head: attention sinks (gpt-oss), or NULL */
} attn_job;

static void attn_one(xuan_ctx *c, const attn_job *j, uint32_t t, uint32_t h, int ith) {
    const xuan_hparams *hp = &c->m->hp;
    const uint32_t hd = j->hd, group = hp->n_heads / j->kvh, kvh = h / group;
    const uint32_t pos = (uint32_t)c->ub_pos[t];
    uint32_t first = 0;
    if (j->window && pos + 1 > j->window) first = pos + 1 - j->window;
    const uint32_t n_keys = pos + 1 - first;
    /* the cells of positions first..pos of this token's sequence (< 0: none) */
    const layer_kv L = layer_cache(c, j->il);
    const int32_t *cells = xuan_kv_seq_map(L.kv, c->ub_seq[t]) + first;

    float *scores = c->att_scratch + c->att_scratch_stride * (size_t)ith;
    float *qr = scores + c->p.n_ctx;
    float *vrow = qr + hd;
    float *slots = vrow + hd;
    const uint32_t hdv = j->hdv;
    const float *q = c->q + (size_t)t * hp->n_heads * hd + (size_t)h * hd;
    float *out = c->att + ((size_t)t * hp->n_heads + h) * hdv;
    const uint8_t *kbase = L.k + kvh * L.kg->head, *vbase = L.v + kvh * L.vg->head;
    const size_t k_row = L.kg->row, v_row = L.vg->row;

    /* scores = q . k over the visible keys (ggml rounds q to the K cache's
     * vec-dot type first: F16, or Q8_0 / Q8_1 for a quantized cache); a
     * position the sequence has no cell for is masked, as llama.cpp masks
     * a cell */
    if (c->tk->id == XUAN_TYPE_F16) {
        xuan_op_round_f16(q, qr, hd);
        for (uint32_t i = 0; i < n_keys; i++)
            scores[i] = cells[i] < 0 ? -INFINITY
                                     : j->qk(hd, (const uint16_t *)(const void *)(kbase + (size_t)cells[i] * k_row),
                                             qr) * j->scale;
    } else {
        uint8_t *qq = c->qq + c->qq_stride * (size_t)ith;
        xuan_quantize_act(c->tk->vec_dot_type, q, qq, hd);
        for (uint32_t i = 0; i < n_keys; i++)
            scores[i] = cells[i] < 0 ? -INFINITY : j->kdot(hd, kbase + (size_t)cells[i] * k_row, qq) * j->scale;
    }

    if (j->softcap > 0) /* masked keys stay -inf */
        for (uint32_t i = 0; i < n_keys; i++)
            if (cells[i] >= 0) xuan_op_softcap(scores + i, 1, j->softcap);
    const bool lanes8 = j->order == XUAN_ORDER_GEMM8 || j->order == XUAN_ORDER_VEC8; /* the AVX2 level */
    if (lanes8 && j->sinks) xuan_op_softmax_sink8_avx2(scores, n_keys, first, j->sinks[h]);
    else if (lanes8) xuan_op_softmax8_avx2(scores, n_keys, first);
    else if (j->sinks && j->avx2) xuan_op_softmax_sink_avx2(scores, n_keys, first, j->sinks[h]);
    else if (j->sinks) xuan_op_softmax_sink(scores, n_keys, first, j->sinks[h]);
    else if (j->avx2) xuan_op_softmax_avx2(scores, n_keys, first);
    else xuan_op_softmax(scores, n_keys, first);

    /* out = sum_p w_p V_p */
    if (c->tv->id == XUAN_TYPE_F16) {
        /* ggml multiplies F16 V by the weights converted to F16 */
        xuan_op_round_f16(scores, scores, n_keys);
        if (j->avx512) xuan_op_wsum_f16_avx512(out, scores, vbase, v_row, cells, n_keys, first, hdv, j->order, slots);
        else if (j->avx2) xuan_op_wsum_f16_avx2(out, scores, vbase, v_row, cells, n_keys, first, hdv, j->order, slots);
        else xuan_op_wsum_f16(out, scores, vbase, v_row, cells, n_keys, first, hdv, j->order, slots);
        return;
    }
    for (uint32_t e = 0; e < hdv; e++) out[e] = 0.0f;
    for (uint32_t i = 0; i < n_keys; i++) {
        if (cells[i] < 0) continue;
        c->tv->to_float(vbase + (size_t)cells[i] * v_row, vrow, hdv / c->tv->type->block_size);
        const float w = scores[i];
        for (uint32_t e = 0; e < hdv; e++) out[e] += w * vrow[e];
    }
}

static void attn_part(void *ctx, int ith, int nth) {
    const attn_job *j = ctx;
    const uint32_t n_heads = j->c->m->hp.n_heads;
    const uint64_t n_items = (uint64_t)j->n_tok * n_heads;
    const uint64_t i0 = n_items * (uint64_t)ith / (uint64_t)nth, i1 = n_items * (uint64_t)(ith + 1) / (uint64_t)nth;
    for (uint64_t i = i0; i < i1; i++) attn_one(j->c, j, (uint32_t)(i / n_heads), (uint32_t)(i % n_heads), ith);
}

/* Tiles: runs of consecutive rows of one sequence, tile_tok rows at most,
 * each taken with every KV head as one item, items handed out in order. */
typedef struct tile_job {
    const attn_job *aj;
    uint32_t n_items;
    _Atomic uint32_t next;
} tile_job;

static void attn_tile_part(void *ctx, int ith, int nth) {
    (void)nth;
    tile_job *j = ctx;
    xuan_ctx *c = j->aj->c;
    const xuan_hparams *hp = &c->m->hp;
    const uint32_t H = hp->n_heads, KVH = j->aj->kvh, group = H / KVH, hd = j->aj->hd, hdv = j->aj->hdv,
                   il = j->aj->il;
    float *scratch = c->tile_scratch + c->tile_stride * (size_t)ith;
    uint32_t first[ATTN_TILE_ROWS_MAX], end[ATTN_TILE_ROWS_MAX];
    float sink[ATTN_TILE_ROWS_MAX];
    float *out[ATTN_TILE_ROWS_MAX];
    XUAN_ASSERT(c->tile_rows <= sizeof first / sizeof first[0]);
    for (;;) {
        const uint32_t i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->n_items) break;
        const uint32_t tile = i / KVH, kvh = i % KVH;
        const uint32_t t0 = (uint32_t)c->tile_t0[tile], t1 = (uint32_t)c->tile_t0[tile + 1];
        const layer_kv L = layer_cache(c, il);
        xuan_attn_tile T = {.n_rows = (t1 - t0) * group, .hd = hd, .hdv = hdv, .out = out,
                            .first = first, .end = end,
                            .cells = xuan_kv_seq_map(L.kv, c->ub_seq[t0]),
                            .k = L.k + kvh * L.kg->head, .v = L.v + kvh * L.vg->head,
                            .k_row = L.kg->row, .v_row = L.vg->row,
                            .scale = j->aj->scale, .softcap = j->aj->softcap,
                            .sink = j->aj->sinks ? sink : NULL,
                            .s = scratch, .s_stride = c->tile_s_stride};
        float *q = scratch + (size_t)c->tile_rows * c->tile_s_stride;
        T.q = q;
        T.acc = q + (size_t)c->tile_rows * hd;
        T.pack = T.acc + (size_t)c->tile_rows * 16 * hdv;
        for (uint32_t t = t0; t < t1; t++)
            for (uint32_t g = 0; g < group; g++) {
                const uint32_t r = (t - t0) * group + g, h = kvh * group + g, pos = (uint32_t)c->ub_pos[t];
                first[r] = j->aj->window && pos + 1 > j->aj->window ? pos + 1 - j->aj->window : 0;
                end[r] = pos + 1;
                if (j->aj->sinks) sink[r] = j->aj->sinks[h];
                xuan_op_round_f16(c->q + ((size_t)t * H + h) * hd, q + (size_t)r * hd, hd);
                out[r] = c->att + ((size_t)t * H + h) * hdv;
            }
        xuan_attn_tile_avx512(&T);
    }
}

/* The tiles of the piece's n rows into tile_t0; returns their count. */
static uint32_t make_tiles(xuan_ctx *c, uint32_t n) {
    uint32_t k = 0;
    for (uint32_t t = 0; t < n;) {
        c->tile_t0[k++] = (int32_t)t;
        const uint32_t t1 = t;
        for (t++; t < n && t - t1 < c->tile_tok && c->ub_seq[t] == c->ub_seq[t1] &&
                  c->ub_pos[t] == c->ub_pos[t - 1] + 1; t++) {}
    }
    c->tile_t0[k] = (int32_t)n;
    return k;
}

void xuan_ctx_set_attn_tiled(xuan_ctx *c, bool on) { c->attn_tiled = on && c->tile_scratch != NULL; }

/* ================================================================ layers */

/* The element-wise steps between the matrix products, one token per item
 * (several tokens per thread for a prompt chunk; a decode step runs them on
 * the calling thread, except SwiGLU, whose expf over d_ffn elements is worth
 * splitting). */
typedef enum tok_stage {
    TOK_ATTN_NORM, /* xn = rmsnorm(x) */
    TOK_QKV,       /* split fused q|k|v, biases, RoPE, phi3's q scale, K/V into the cache */
    TOK_FFN_NORM,  /* x += xn (+ bo); xn = rmsnorm(x) */
    TOK_SWIGLU,    /* h = silu(gate) * up */
    TOK_RESID,     /* x += xn */
    TOK_MLA,       /* MLA: norm the compressed KV, RoPE its key part and the queries', K into the cache */
    TOK_GATE,      /* gated attention (qwen35): att *= sigmoid(gate) */
    TOK_KINDS_QKV, /* gemma4: Q/K norms, V's norm, its kind's RoPE, K/V into the cache */
    TOK_PLE_GATE,  /* gemma4: ple_g = gelu(ple_g) * the row's input for this layer */
    TOK_PLE_OUT,   /* gemma4: x += rmsnorm(xn); x *= the layer's output scale */
} tok_stage;

typedef struct tok_job {
    xuan_ctx *c;
    uint32_t il, n;
    tok_stage stage;
} tok_job;

static void store_kv_tok(xuan_ctx *c, uint32_t il, uint32_t t) {
    const xuan_hparams *hp = &c->m->hp;
    const uint32_t hd = layer_head_dim(hp, il), n_kvh = layer_kv_heads(hp, il);
    const layer_kv L = layer_cache(c, il);
    for (uint32_t kh = 0; kh < n_kvh; kh++) {
        const size_t cell = (size_t)L.ub_cell[t];
        uint8_t *kd = L.k + kh * L.kg->head + cell * L.kg->row;
        uint8_t *vd = hp->mla ? NULL : L.v + kh * L.vg->head + cell * L.vg->row;
        const float *ks = c->k + ((size_t)t * n_kvh + kh) * hd;
        const float *vs = c->v + ((size_t)t * n_kvh + kh) * hd;
        /* ggml's set_rows: its CPU from_float (Q8_0 as x86 rounds an
         * activation, the others by the reference quantizer) */
        if (c->tk->id == XUAN_TYPE_F16) xuan_fp32_to_fp16_row(ks, (uint16_t *)(void *)kd, hd);
        else c->tk->from_float_act(ks, kd, hd / c->tk->type->block_size);
        if (hp->mla) continue; /* V is read from K */
        if (c->tv->id == XUAN_TYPE_F16) xuan_fp32_to_fp16_row(vs, (uint16_t *)(void *)vd, hd);
        else c->tv->from_float_act(vs, vd, hd / c->tv->type->block_size);
    }
}

static void add_vec(float *y, const float *b, int64_t n) {
    if (b)
        for (int64_t i = 0; i < n; i++) y[i] += b[i];
}

/* gemma4's attention inputs of row t, as llama_model_gemma4::graph builds
 * them: each Q head RMS-normed (q_norm) and roped; for a layer that stores
 * KV, each K head normed (k_norm) and roped, V (attn_v's rows, or K's
 * before its norm when the layer has none) RMS-normed without a weight;
 * then the cache.  Sliding layers rope with cs_swa (their base, no
 * frequency factors), full ones with cs (rope_freqs). */
static void kinds_qkv_tok(xuan_ctx *c, uint32_t il, uint32_t t) {
    const xuan_hparams *hp = &c->m->hp;
    const layer_w *L = &c->m->layers[il];
    const uint32_t hd = layer_head_dim(hp, il), n_kvh = layer_kv_heads(hp, il), rot = layer_n_rot(hp, il);
    const float *cs = layer_is_local(hp, il) ? c->cs_swa + (size_t)t * hp->n_rot_swa : c->cs + (size_t)t * hp->n_rot;
    float *q = c->q + (size_t)t * hp->n_heads * hd;
    for (uint32_t h = 0; h < hp->n_heads; h++) {
        xuan_op_rmsnorm(q + h * hd, L->q_norm, q + h * hd, hd, hp->norm_eps);
        xuan_op_rope_apply(q + h * hd, cs, rot, hp->rope_neox);
    }
    if (il >= hp->n_layer_kv) return; /* a shared-KV layer reads its source's cache */
    float *k = c->k + (size_t)t * n_kvh * hd, *v = c->v + (size_t)t * n_kvh * hd;
    if (!L->wv.data) memcpy(v, k, (size_t)n_kvh * hd * sizeof(float));
    for (uint32_t h = 0; h < n_kvh; h++) {
        xuan_op_rmsnorm(k + h * hd, L->k_norm, k + h * hd, hd, hp->norm_eps);
        xuan_op_rmsnorm(v + h * hd, c->ones, v + h * hd, hd, hp->norm_eps); /* x * scale * 1: ggml_rms_norm's bits */
        xuan_op_rope_apply(k + h * hd, cs, rot, hp->rope_neox);
    }
    store_kv_tok(c, il, t);
}

/* SwiGLU and the router's softmax in the float steps of the llama.cpp
 * build this SIMD level reproduces (internal.h, xuan_ggml_lanes). */
static void swiglu(xuan_simd simd, const float *g, const float *u, float *y, int64_t n) {
    if (xuan_ggml_lanes(simd) == 8) xuan_op_swiglu8_avx2(g, u, y, n);
    else if (simd >= XUAN_SIMD_AVX2) xuan_op_swiglu_avx2(g, u, y, n);
    else xuan_op_swiglu(g, u, y, n);
}

static void softmax_row(xuan_simd simd, float *x, uint32_t n) {
    if (xuan_ggml_lanes(simd) == 8) xuan_op_softmax_row8(x, n);
    else xuan_op_softmax_row(x, n);
}

static void tok_one(const tok_job *j, uint32_t t) {
    xuan_ctx *c = j->c;
    const xuan_hparams *hp = &c->m->hp;
    const layer_w *L = &c->m->layers[j->il];
    const int64_t d = hp->d_model, F = layer_ffn(hp, j->il), hd = hp->head_dim;
    const int64_t qd = (int64_t)hp->n_heads * hd, kvd = (int64_t)hp->n_kv_heads * hd;
    float *x = c->x + t * d, *xn = c->xn + t * d;
    switch (j->stage) {
    case TOK_ATTN_NORM: xuan_op_rmsnorm(x, L->attn_norm, xn, d, hp->norm_eps); break;
    case TOK_QKV: {
        float *q = c->q + t * qd, *k = c->k + t * kvd, *v = c->v + t * kvd;
        if (L->gated_q) /* rows per head: q | gate; the gates stay in qg */
            for (uint32_t h = 0; h < hp->n_heads; h++)
                memcpy(q + h * hd, c->qg + t * 2 * qd + h * 2 * hd, (size_t)hd * sizeof(float));
        if (L->wqkv.data) { /* fused rows: q | k | v */
            float *u = c->u + t * (qd + 2 * kvd);
            add_vec(u, L->bqkv, qd + 2 * kvd);
            memcpy(q, u, (size_t)qd * sizeof(float));
            memcpy(k, u + qd, (size_t)kvd * sizeof(float));
            memcpy(v, u + qd + kvd, (size_t)kvd * sizeof(float));
        }
        add_vec(q, L->bq, qd);
        add_vec(k, L->bk, kvd);
        add_vec(v, L->bv, kvd);
        const float *cs = (layer_is_local(hp, j->il) && c->cs_swa ? c->cs_swa : c->cs) + (size_t)t * hp->n_rot;
        float qscale = hp->q_scale;
        if (hp->attn_temp_scale != 0.0f) { /* llm_graph_input_attn_temp, in its types */
            const float f = floorf((float)c->ub_pos[t] / (float)hp->n_ctx_orig);
            qscale = (float)(log((double)f + 1.0) * (double)hp->attn_temp_scale + 1.0);
        }
        for (uint32_t h = 0; h < hp->n_heads; h++) {
            float *qh = q + h * hd;
            if (L->q_norm) xuan_op_rmsnorm(qh, L->q_norm, qh, hd, hp->norm_eps);
            xuan_op_rope_apply(qh, cs, hp->n_rot, hp->rope_neox);
            if (qscale != 0.0f)
                for (int64_t e = 0; e < hd; e++) qh[e] *= qscale;
        }
        for (uint32_t h = 0; h < hp->n_kv_heads; h++) {
            float *kh = k + h * hd;
            if (L->k_norm) xuan_op_rmsnorm(kh, L->k_norm, kh, hd, hp->norm_eps);
            xuan_op_rope_apply(kh, cs, hp->n_rot, hp->rope_neox);
        }
        store_kv_tok(c, j->il, t);
        break;
    }
    case TOK_FFN_NORM:
        add_vec(xn, L->bo, d);
        if (L->attn_post_norm) xuan_op_rmsnorm(xn, L->attn_post_norm, xn, d, hp->norm_eps);
        for (int64_t i = 0; i < d; i++) x[i] += xn[i];
        xuan_op_rmsnorm(x, L->ffn_norm, xn, d, hp->norm_eps);
        break;
    case TOK_SWIGLU: {
        const float *g = L->w_gate.data ? c->h + t * F : c->u + t * 2 * F; /* fused rows: gate | up */
        const float *u = L->w_gate.data ? c->u + t * F : c->u + t * 2 * F + F;
        if (hp->arch->act == XUAN_ACT_GELU) xuan_op_geglu(g, u, c->h + t * F, F);
        else swiglu(c->simd, g, u, c->h + t * F, F);
        break;
    }
    case TOK_MLA: {
        const uint32_t H = hp->n_heads, r = hp->n_rot, kvl = hp->n_lora_kv, kml = hp->head_dim_k_mla;
        const float *cs = c->cs + (size_t)t * r;
        float *kv = c->k + t * hd; /* kv_cmpr | k_pe */
        xuan_op_rmsnorm(kv, L->kv_a_norm, kv, kvl, hp->norm_eps);
        xuan_op_rope_apply(kv + kvl, cs, r, hp->rope_neox);
        for (uint32_t h = 0; h < H; h++)
            xuan_op_rope_apply(c->mla_q + ((size_t)t * H + h) * kml + (kml - r), cs, r, hp->rope_neox);
        store_kv_tok(c, j->il, t);
        break;
    }
    case TOK_GATE: { /* ggml_sigmoid (libm expf), then the product */
        float *a = c->att + t * qd;
        const float *g = c->qg + t * 2 * qd;
        for (uint32_t h = 0; h < hp->n_heads; h++)
            for (int64_t e = 0; e < hd; e++) a[h * hd + e] *= 1.0f / (1.0f + expf(-g[h * 2 * hd + hd + e]));
        break;
    }
    case TOK_RESID:
        if (L->ffn_post_norm) xuan_op_rmsnorm(xn, L->ffn_post_norm, xn, d, hp->norm_eps);
        for (int64_t i = 0; i < d; i++) x[i] += xn[i];
        break;
    case TOK_KINDS_QKV: kinds_qkv_tok(c, j->il, t); break;
    case TOK_PLE_GATE: { /* ggml_gelu (its F16 table) then ggml_mul: the bits of geglu */
        const size_t P = hp->n_embd_per_layer;
        float *g = c->ple_g + t * P;
        xuan_op_geglu(g, c->ple + ((size_t)t * hp->n_layers + j->il) * P, g, (int64_t)P);
        break;
    }
    case TOK_PLE_OUT:
        if (L->ple_proj.data) {
            xuan_op_rmsnorm(xn, L->ple_norm, xn, d, hp->norm_eps);
            for (int64_t i = 0; i < d; i++) x[i] += xn[i];
        }
        if (L->out_scale)
            for (int64_t i = 0; i < d; i++) x[i] *= L->out_scale[0];
        break;
    }
}

static void tok_part(void *ctx, int ith, int nth) {
    const tok_job *j = ctx;
    if (j->n == 1 && j->stage == TOK_SWIGLU) { /* one token: split its elements */
        const xuan_hparams *hp = &j->c->m->hp;
        const layer_w *L = &j->c->m->layers[j->il];
        /* split at multiples of 16: ggml's vector/tail boundary is fixed by the row */
        const int64_t F = layer_ffn(hp, j->il), e0 = (F * ith / nth) & ~(int64_t)15;
        const int64_t e1 = ith + 1 == nth ? F : (F * (ith + 1) / nth) & ~(int64_t)15;
        const float *g = L->w_gate.data ? j->c->h : j->c->u, *u = L->w_gate.data ? j->c->u : j->c->u + F;
        if (hp->arch->act == XUAN_ACT_GELU) xuan_op_geglu(g + e0, u + e0, j->c->h + e0, e1 - e0);
        else swiglu(j->c->simd, g + e0, u + e0, j->c->h + e0, e1 - e0);
        return;
    }
    const uint32_t t0 = (uint32_t)((uint64_t)j->n * (uint64_t)ith / (uint64_t)nth);
    const uint32_t t1 = (uint32_t)((uint64_t)j->n * (uint64_t)(ith + 1) / (uint64_t)nth);
    for (uint32_t t = t0; t < t1; t++) tok_one(j, t);
}

static void per_token(xuan_ctx *c, uint32_t il, uint32_t n, tok_stage stage) {
    tok_job j = {.c = c, .il = il, .n = n, .stage = stage};
    if (n == 1 && stage != TOK_SWIGLU) tok_part(&j, 0, 1); /* cheaper than waking a worker */
    else xuan_pool_run(c->pool, tok_part, &j);
}

/* Expert e of an expert tensor bound as one matrix (load.c, bind_exps). */
static xuan_weight expert(const xuan_weight *w, uint32_t e, uint32_t n_expert) {
    xuan_weight v = *w;
    v.packed = NULL; /* (never packed: load.c packs dense matrices only) */
    v.n_rows = w->n_rows / n_expert;
    uint64_t row = 0;
    XUAN_ASSERT(xuan_type_row_size(w->type, (uint64_t)w->n_cols, &row));
    v.data = (const uint8_t *)w->data + (size_t)e * (size_t)v.n_rows * (size_t)row;
    return v;
}

/* The rows routed to one expert, gathered, through ggml's mul_mat_id
 * arithmetic: each row multiplied as a lone token would be (rowwise). */
static void mm_rows(xuan_ctx *c, const xuan_weight *w, const float *x, int64_t n, float *y) {
    const float *in = x;
    if (w->type == XUAN_TYPE_F16 || w->type == XUAN_TYPE_BF16) {
        XUAN_ASSERT((size_t)(n * w->n_cols) <= c->xr_cap);
        if (w->type == XUAN_TYPE_F16) xuan_op_round_f16(x, c->xr, n * w->n_cols);
        else xuan_op_round_bf16(x, c->xr, n * w->n_cols);
        in = c->xr;
    }
    xuan_matmul_rowwise(c->pool, w, in, n, y, c->mm_scratch, c->simd);
}

/* The MoE FFN of the n rows of xn, in place, as llama.cpp's build_moe_ffn
 * computes it: router logits, softmax, the top n_expert_used by a full
 * descending sort (ties to the lower index), weights renormalised (sum
 * clamped at 2^-14) and scaled; then expert by expert the rows routed to it
 * through its SwiGLU FFN (mul_mat_id's grouping, each row in one-token
 * order), and per token the outputs times their weights, summed in
 * selection order. */
/* Expert groups (llama.cpp's build_moe_ffn with n_expert_groups > 1): a
 * group scores the sum of its two best probabilities (argsort order, so the
 * larger first), the n_group_used best groups stay (ties to the lower
 * index), the experts of the others cannot be chosen.  Bit g set: group g
 * stays; every bit when the model has no groups. */
static uint64_t group_mask(const xuan_hparams *hp, const float *p) {
    const uint32_t G = hp->n_expert_groups;
    if (G <= 1) return ~(uint64_t)0;
    XUAN_ASSERT(G <= 64);
    const uint32_t per = hp->n_expert / G;
    float score[64];
    for (uint32_t g = 0; g < G; g++) {
        const float *q = p + (size_t)g * per;
        uint32_t a = 0;
        for (uint32_t i = 1; i < per; i++)
            if (q[i] > q[a]) a = i;
        uint32_t b = a == 0 ? 1 : 0;
        for (uint32_t i = 0; i < per; i++)
            if (i != a && q[i] > q[b]) b = i;
        score[g] = (float)((double)q[a] + (double)q[b]); /* ggml_sum_rows: a double sum */
    }
    /* The loader checked n_group_used <= G <= 64, so each round finds a
     * group not yet kept. */
    uint64_t keep = 0;
    for (uint32_t k = 0; k < hp->n_group_used && k < G; k++) {
        uint32_t best = G;
        for (uint32_t g = 0; g < G; g++)
            if (!(keep >> g & 1) && (best == G || score[g] > score[best])) best = g;
        keep |= (uint64_t)1 << best;
    }
    return keep;
}

/* An expert's activation over one row of Fe: SwiGLU, or gpt-oss's variant. */
static void moe_act(const xuan_ctx *c, const float *g, const float *u, float *h, int64_t Fe) {
    if (c->m->hp.arch->act == XUAN_ACT_SWIGLU_OAI) xuan_op_swiglu_oai(g, u, h, Fe);
    else swiglu(c->simd, g, u, h, Fe);
}

/* Expert e's bias (ggml_add_id) on rows m of width w; b == NULL: none. */
static void add_expert_bias(float *y, const float *b, uint32_t e, uint32_t m, size_t w) {
    if (!b) return;
    for (uint32_t r = 0; r < m; r++) add_vec(y + r * w, b + (size_t)e * w, (int64_t)w);
}

static void moe_ffn(xuan_ctx *c, uint32_t il, uint32_t n) {
    const xuan_hparams *hp = &c->m->hp;
    const layer_w *L = &c->m->layers[il];
    const uint32_t E = hp->n_expert, K = hp->n_expert_used, Fe = hp->n_ff_exp, d = hp->d_model;
    /* gpt-oss (LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX_WEIGHT): the top K of
     * the biased logits, weighted by a softmax over those K */
    const bool topk_softmax = hp->arch->moe_softmax_topk;
    mm(c, &L->gate_inp, c->xn, n, c->moe_p);
    for (uint32_t t = 0; t < n; t++) {
        float *p = c->moe_p + (size_t)t * E, *w = c->moe_w + (size_t)t * K;
        int32_t *sel = c->moe_sel + (size_t)t * K;
        add_vec(p, L->b_gate_inp, E);
        if (!topk_softmax) softmax_row(c->simd, p, E);
        const uint64_t allowed = group_mask(hp, p);
        for (uint32_t k = 0; k < K; k++) { /* selection by rank: K is small */
            int32_t best = -1;
            for (uint32_t e = 0; e < E; e++) {
                bool taken = hp->n_expert_groups > 1 && !(allowed >> (e / (E / hp->n_expert_groups)) & 1);
                for (uint32_t j = 0; j < k && !taken; j++) taken = sel[j] == (int32_t)e;
                if (!taken && (best < 0 || p[e] > p[best])) best = (int32_t)e;
            }
            sel[k] = best;
            w[k] = p[best];
        }
        if (topk_softmax) softmax_row(c->simd, w, K);
        if (hp->expert_norm) {
            double s = 0.0; /* ggml_sum_rows, then ggml_clamp and ggml_div */
            for (uint32_t k = 0; k < K; k++) s += (double)w[k];
            float sf = (float)s;
            if (sf < 6.103515625e-5f) sf = 6.103515625e-5f;
            for (uint32_t k = 0; k < K; k++) w[k] = w[k] / sf;
        }
        if (hp->expert_scale != 0.0f && hp->expert_scale != 1.0f)
            for (uint32_t k = 0; k < K; k++) w[k] *= hp->expert_scale;
    }
    if (n == 1) { /* one token: its experts' gate and up in one dispatch, then their down */
        for (uint32_t k = 0; k < K; k++) {
            const uint32_t e = (uint32_t)c->moe_sel[k];
            c->mv_w[2 * k] = expert(&L->up_exps, e, E);
            c->mv_w[2 * k + 1] = expert(&L->gate_exps, e, E);
            c->mv[2 * k] = (xuan_matvec){&c->mv_w[2 * k], c->xn, c->moe_u + (size_t)k * Fe};
            c->mv[2 * k + 1] = (xuan_matvec){&c->mv_w[2 * k + 1], c->xn, c->moe_g + (size_t)k * Fe};
        }
        mv_many(c, 2 * (size_t)K);
        for (uint32_t k = 0; k < K; k++) {
            const size_t o = (size_t)k * Fe;
            const uint32_t e = (uint32_t)c->moe_sel[k];
            add_expert_bias(c->moe_u + o, L->b_up_exps, e, 1, Fe);
            add_expert_bias(c->moe_g + o, L->b_gate_exps, e, 1, Fe);
            moe_act(c, c->moe_g + o, c->moe_u + o, c->moe_h + o, Fe);
            c->mv_w[k] = expert(&L->down_exps, e, E);
            c->mv[k] = (xuan_matvec){&c->mv_w[k], c->moe_h + o, c->moe_y + (size_t)k * d};
        }
        mv_many(c, K);
        for (uint32_t k = 0; k < K; k++)
            add_expert_bias(c->moe_y + (size_t)k * d, L->b_down_exps, (uint32_t)c->moe_sel[k], 1, d);
    }
    for (uint32_t e = 0; e < E && n > 1; e++) {
        uint32_t m = 0; /* rows (t * K + k) routed to e, in token order */
        for (uint32_t i = 0; i < n * K; i++)
            if (c->moe_sel[i] == (int32_t)e) c->moe_rows[m++] = (int32_t)i;
        if (!m) continue;
        for (uint32_t r = 0; r < m; r++)
            memcpy(c->moe_x + (size_t)r * d, c->xn + (size_t)(c->moe_rows[r] / (int32_t)K) * d, d * sizeof(float));
        const xuan_weight gate = expert(&L->gate_exps, e, E), up = expert(&L->up_exps, e, E);
        const xuan_weight down = expert(&L->down_exps, e, E);
        mm_rows(c, &up, c->moe_x, m, c->moe_u);
        mm_rows(c, &gate, c->moe_x, m, c->moe_g);
        add_expert_bias(c->moe_u, L->b_up_exps, e, m, Fe);
        add_expert_bias(c->moe_g, L->b_gate_exps, e, m, Fe);
        for (uint32_t r = 0; r < m; r++) {
            const size_t o = (size_t)r * Fe;
            moe_act(c, c->moe_g + o, c->moe_u + o, c->moe_h + o, Fe);
        }
        mm_rows(c, &down, c->moe_h, m, c->moe_x);
        add_expert_bias(c->moe_x, L->b_down_exps, e, m, d);
        for (uint32_t r = 0; r < m; r++)
            memcpy(c->moe_y + (size_t)c->moe_rows[r] * d, c->moe_x + (size_t)r * d, d * sizeof(float));
    }
    for (uint32_t t = 0; t < n; t++) {
        float *xt = c->xn + (size_t)t * d;
        for (uint32_t k = 0; k < K; k++) {
            const float wk = c->moe_w[(size_t)t * K + k], *y = c->moe_y + ((size_t)t * K + k) * d;
            for (uint32_t i = 0; i < d; i++) {
                const float v = y[i] * wk;
                xt[i] = k ? xt[i] + v : v;
            }
        }
    }
}

/* One layer over the n tokens of the piece.  Below the last layer every
 * row goes on; in the last layer only the rows whose logits are wanted
 * (ub_out, ub_n_out of them), so, as llama.cpp selects its output rows
 * there, the FFN runs on those rows only (its matrix products then see the
 * same batch size as llama.cpp's, which decides their summation order). */
/* Attention of the n rows' queries (q) over their sequences' cached keys,
 * the heads' outputs into att. */
static void run_attention(xuan_ctx *c, uint32_t il, uint32_t n) {
    const xuan_hparams *hp = &c->m->hp;
    /* Q.K scale: MLA's own, 1 where Q was scaled already, else 1/sqrt(head) */
    const uint32_t hd = layer_head_dim(hp, il);
    const float scale = hp->kq_scale != 0.0f ? hp->kq_scale
                        : hp->q_scale != 0.0f ? 1.0f
                                              : 1.0f / sqrtf((float)hd);
    attn_job aj = {.c = c, .il = il, .n_tok = n, .scale = scale,
                   .hd = hd, .hdv = layer_head_dim_v(hp, il), .kvh = layer_kv_heads(hp, il),
                   .softcap = hp->attn_softcap, .window = layer_is_local(hp, il) ? hp->n_swa : 0,
                   .order = xuan_ggml_lanes(c->simd) == 8 ? (n >= 2 ? XUAN_ORDER_GEMM8 : XUAN_ORDER_VEC8)
                            : n >= 2                         ? XUAN_ORDER_GEMM /* tinyBLAS takes 2+ tokens */
                                                             : XUAN_ORDER_VEC,
                   .qk = xuan_dot_f16_kernel(c->simd, n < 2),
                   .kdot = xuan_quant_vec_dot_fn(c->tk, c->simd),
                   .avx2 = c->simd >= XUAN_SIMD_AVX2,
                   .avx512 = c->simd >= XUAN_SIMD_AVX512,
                   .sinks = c->m->layers[il].sinks};
    if (c->attn_tiled && aj.order == XUAN_ORDER_GEMM) { /* a batch: tiles over the cache */
        tile_job tj = {.aj = &aj, .n_items = make_tiles(c, n) * aj.kvh};
        atomic_init(&tj.next, 0);
        xuan_pool_run(c->pool, attn_tile_part, &tj);
        return;
    }
    xuan_pool_run(c->pool, attn_part, &aj);
}

/* Multi-head attention of the n normed rows in xn; the heads' outputs in att. */
static void mha_attention(xuan_ctx *c, uint32_t il, uint32_t n) {
    const layer_w *L = &c->m->layers[il];
    if (L->wqkv.data) {
        mm(c, &L->wqkv, c->xn, n, c->u);
    } else {
        mm(c, &L->wq, c->xn, n, L->gated_q ? c->qg : c->q);
        mm(c, &L->wk, c->xn, n, c->k);
        mm(c, &L->wv, c->xn, n, c->v);
    }
    per_token(c, il, n, TOK_QKV);
    run_attention(c, il, n);
    if (L->gated_q) per_token(c, il, n, TOK_GATE);
    mm(c, &L->wo, c->att, n, c->xn);
}

/* gemma4's attention of the n normed rows in xn: Q always, K and V only
 * where the layer stores KV (V = K's rows when it has no attn_v); the
 * result in xn. */
static void kinds_attention(xuan_ctx *c, uint32_t il, uint32_t n) {
    const layer_w *L = &c->m->layers[il];
    mm(c, &L->wq, c->xn, n, c->q);
    if (il < c->m->hp.n_layer_kv) {
        mm(c, &L->wk, c->xn, n, c->k);
        if (L->wv.data) mm(c, &L->wv, c->xn, n, c->v);
    }
    per_token(c, il, n, TOK_KINDS_QKV);
    run_attention(c, il, n);
    mm(c, &L->wo, c->att, n, c->xn);
}

/* gemma4's end of a layer (after the FFN's residual): the per-layer
 * embedding (gate of x, GELU, times the row's input for this layer,
 * projected back, normed, added) and the output scale. */
static void kinds_tail(xuan_ctx *c, uint32_t il, uint32_t n) {
    const layer_w *L = &c->m->layers[il];
    if (L->ple_gate.data) {
        mm(c, &L->ple_gate, c->x, n, c->ple_g);
        per_token(c, il, n, TOK_PLE_GATE);
        mm(c, &L->ple_proj, c->ple_g, n, c->xn);
    }
    if (L->ple_gate.data || L->out_scale) per_token(c, il, n, TOK_PLE_OUT);
}

/* gemma4's per-layer embedding inputs of the piece's n rows (x holds the
 * scaled token embeddings), as build_inp_per_layer and
 * project_per_layer_inputs compute them: per row, per_layer_model_proj of
 * x times 1/sqrt(n_embd), RMS-normed per layer (per_layer_proj_norm), plus
 * the token's per_layer_token_embd row times sqrt(P), all times 1/sqrt(2). */
static void kinds_ple_inputs(xuan_ctx *c, uint32_t n) {
    const xuan_model *m = c->m;
    const xuan_hparams *hp = &m->hp;
    const size_t P = hp->n_embd_per_layer, LP = P * hp->n_layers;
    mm(c, &m->ple_model_proj, c->x, n, c->ple);
    const float proj_scale = 1.0f / sqrtf((float)hp->d_model), in_scale = 1.0f / sqrtf(2.0f);
    const float tok_scale = sqrtf((float)P);
    for (uint32_t t = 0; t < n; t++) {
        float *pr = c->ple + t * LP, *row = c->ple_row;
        xuan_weight_row(&m->ple_tok_embd, c->ub_tok[t], row);
        for (size_t i = 0; i < LP; i++) pr[i] *= proj_scale;
        for (uint32_t l = 0; l < hp->n_layers; l++) xuan_op_rmsnorm(pr + l * P, m->ple_proj_norm, pr + l * P, (int64_t)P, hp->norm_eps);
        for (size_t i = 0; i < LP; i++) pr[i] = (pr[i] + row[i] * tok_scale) * in_scale;
    }
}

/* A Gated DeltaNet layer (qwen35) over the n normed rows in xn, as
 * llama_model_qwen35::graph::build_layer_attn_linear: the projections
 * here, the convolution, the recurrence through each row's sequence state
 * and the gated norm in qwen35.c, then ssm_out; the result in xn. */
static void gdn_attention(xuan_ctx *c, uint32_t il, uint32_t n) {
    const layer_w *L = &c->m->layers[il];
    mm(c, &L->wqkv, c->xn, n, c->rec.qkv);
    mm(c, &L->w_z, c->xn, n, c->rec.z);
    mm(c, &L->ssm_beta, c->xn, n, c->rec.beta);
    mm(c, &L->ssm_alpha, c->xn, n, c->rec.gate);
    xuan_gdn_mix(c->pool, c->m, &c->rec, il, n, c->ub_seq, c->simd);
    mm(c, &L->ssm_out, c->rec.o, n, c->xn);
}

/* One head's slice of a per-head weight (attn_k_b / attn_v_b, bound as
 * n_heads stacked matrices) times the rows gathered in mla_a, into mla_b;
 * as ggml multiplies a 3-D weight: slice by slice, never repacked. */
static void mm_head(xuan_ctx *c, const xuan_weight *w, uint32_t h, uint32_t n) {
    const xuan_weight one = expert(w, h, c->m->hp.n_heads);
    const float *in = c->mla_a;
    if (one.type == XUAN_TYPE_F16 || one.type == XUAN_TYPE_BF16) {
        XUAN_ASSERT((size_t)(n * one.n_cols) <= c->xr_cap);
        if (one.type == XUAN_TYPE_F16) xuan_op_round_f16(in, c->xr, n * one.n_cols);
        else xuan_op_round_bf16(in, c->xr, n * one.n_cols);
        in = c->xr;
    }
    xuan_matmul_kind(c->pool, &one, in, n, c->mla_b, c->mm_scratch, XUAN_MM_SLICE, c->simd);
}

/* deepseek2's absorbed MLA, as llama_model_deepseek2::graph builds it: the
 * queries (per head a no-RoPE and a RoPE part), the compressed KV normed and
 * its shared key part roped, each head's no-RoPE query taken into the
 * compressed space by attn_k_b, attention there over one KV head (V = the
 * compressed KV), each head's output out of it by attn_v_b, then
 * attn_output.  The result in xn. */
static void mla_attention(xuan_ctx *c, uint32_t il, uint32_t n) {
    const xuan_hparams *hp = &c->m->hp;
    const layer_w *L = &c->m->layers[il];
    const size_t H = hp->n_heads, r = hp->n_rot, kvl = hp->n_lora_kv, kml = hp->head_dim_k_mla;
    const size_t nope = kml - r, vml = hp->head_dim_v_mla, hd = hp->head_dim;
    if (L->wq_a.data) {
        mm(c, &L->wq_a, c->xn, n, c->mla_qa);
        for (uint32_t t = 0; t < n; t++) {
            float *qa = c->mla_qa + (size_t)t * hp->n_lora_q;
            xuan_op_rmsnorm(qa, L->q_a_norm, qa, hp->n_lora_q, hp->norm_eps);
        }
        mm(c, &L->wq_b, c->mla_qa, n, c->mla_q);
    } else {
        mm(c, &L->wq, c->xn, n, c->mla_q);
    }
    mm(c, &L->wkv_a, c->xn, n, c->k);
    per_token(c, il, n, TOK_MLA);
    if (n == 1) { /* the heads' slices in one dispatch each way */
        for (uint32_t h = 0; h < H; h++) {
            c->mv_w[h] = expert(&L->wk_b, h, (uint32_t)H);
            c->mv[h] = (xuan_matvec){&c->mv_w[h], c->mla_q + h * kml, c->q + h * hd};
        }
        mv_many(c, H);
        for (uint32_t h = 0; h < H; h++) memcpy(c->q + h * hd + kvl, c->mla_q + h * kml + nope, r * sizeof(float));
        run_attention(c, il, n);
        for (uint32_t h = 0; h < H; h++) {
            c->mv_w[h] = expert(&L->wv_b, h, (uint32_t)H);
            c->mv[h] = (xuan_matvec){&c->mv_w[h], c->att + h * kvl, c->mla_o + h * vml};
        }
        mv_many(c, H);
        mm(c, &L->wo, c->mla_o, n, c->xn);
        return;
    }
    for (uint32_t h = 0; h < H; h++) { /* Q = (attn_k_b . q_nope) | q_pe */
        for (uint32_t t = 0; t < n; t++)
            memcpy(c->mla_a + t * nope, c->mla_q + (t * H + h) * kml, nope * sizeof(float));
        mm_head(c, &L->wk_b, h, n);
        for (uint32_t t = 0; t < n; t++) {
            float *q = c->q + (t * H + h) * hd;
            memcpy(q, c->mla_b + t * kvl, kvl * sizeof(float));
            memcpy(q + kvl, c->mla_q + (t * H + h) * kml + nope, r * sizeof(float));
        }
    }
    run_attention(c, il, n);
    for (uint32_t h = 0; h < H; h++) { /* each head's output through attn_v_b */
        for (uint32_t t = 0; t < n; t++)
            memcpy(c->mla_a + t * kvl, c->att + (t * H + h) * kvl, kvl * sizeof(float));
        mm_head(c, &L->wv_b, h, n);
        for (uint32_t t = 0; t < n; t++)
            memcpy(c->mla_o + (t * H + h) * vml, c->mla_b + t * vml, vml * sizeof(float));
    }
    mm(c, &L->wo, c->mla_o, n, c->xn);
}

/* The shared experts: one SwiGLU FFN of n_ff_shexp rows over xn, into
 * sh_out, as build_ffn computes it; qwen35moe's times its gate per row
 * (build_layer_ffn: ggml_mul_mat of the 1-row ffn_gate_inp_shexp, which
 * tinyBLAS refuses, so ggml_vec_dot_f32 per token for any batch; then
 * ggml_sigmoid by libm's expf and ggml_mul). */
static void shared_ffn(xuan_ctx *c, const layer_w *L, uint32_t n) {
    const size_t Fs = (size_t)L->gate_sh.n_rows, d = c->m->hp.d_model;
    mm(c, &L->gate_sh, c->xn, n, c->h);
    mm(c, &L->up_sh, c->xn, n, c->u);
    for (uint32_t t = 0; t < n; t++) {
        float *g = c->h + t * Fs;
        swiglu(c->simd, g, c->u + t * Fs, g, (int64_t)Fs);
    }
    mm(c, &L->down_sh, c->h, n, c->sh_out);
    if (!L->gate_inp_sh) return;
    for (uint32_t t = 0; t < n; t++) {
        const float g = xuan_op_dot_f32_vec(L->gate_inp_sh, c->xn + t * d, (uint32_t)d, xuan_ggml_lanes(c->simd));
        const float s = 1.0f / (1.0f + expf(-g));
        float *y = c->sh_out + t * d;
        for (size_t i = 0; i < d; i++) y[i] *= s;
    }
}

/* One layer over the n tokens of the piece.  Below the last layer every
 * row goes on; in the last layer only the rows whose logits are wanted
 * (ub_out, ub_n_out of them), so, as llama.cpp selects its output rows
 * there, the FFN runs on those rows only (its matrix products then see the
 * same batch size as llama.cpp's, which decides their summation order). */
static void layer_forward(xuan_ctx *c, uint32_t il, uint32_t n, bool last) {
    const xuan_model *m = c->m;
    const xuan_hparams *hp = &m->hp;
    const layer_w *L = &m->layers[il];

    per_token(c, il, n, TOK_ATTN_NORM);
    if (hp->mla) mla_attention(c, il, n);
    else if (layer_is_recurrent(hp, il)) gdn_attention(c, il, n);
    else if (hp->arch->layer_kinds) kinds_attention(c, il, n);
    else mha_attention(c, il, n);
    /* qwen35's and gemma4's graphs select their output rows only after the final norm */
    if (last && c->ub_n_out < n && !c->rec.n_rec && !hp->arch->layer_kinds) {
        if (c->ub_n_out == 0) return;
        const size_t d = hp->d_model;
        for (uint32_t k = 0; k < c->ub_n_out; k++) { /* rows ascending: k <= ub_out[k] */
            const size_t from = (size_t)c->ub_out[k];
            if (from == k) continue;
            memmove(c->x + k * d, c->x + from * d, d * sizeof(float));
            memmove(c->xn + k * d, c->xn + from * d, d * sizeof(float));
        }
        n = c->ub_n_out;
    }
    per_token(c, il, n, TOK_FFN_NORM);
    if (L->gate_inp.data) {
        if (L->gate_sh.data) shared_ffn(c, L, n);
        moe_ffn(c, il, n);
        if (L->gate_sh.data) /* moe_out + ffn_shexp */
            for (size_t i = 0; i < (size_t)n * hp->d_model; i++) c->xn[i] += c->sh_out[i];
    } else {
        if (L->w_gate.data) {
            mm(c, &L->w_gate, c->xn, n, c->h);
            mm(c, &L->w_up, c->xn, n, c->u);
        } else {
            mm(c, &L->w_up, c->xn, n, c->u); /* rows: gate | up */
        }
        per_token(c, il, n, TOK_SWIGLU);
        mm(c, &L->w_down, c->h, n, c->xn);
    }
    per_token(c, il, n, TOK_RESID);
    if (hp->arch->layer_kinds) kinds_tail(c, il, n);
}

/* The piece in ub_* (n tokens, cells assigned): every layer, then the
 * logits of its ub_n_out kept rows into logits rows out0... */
static int eval_piece(xuan_ctx *c, uint32_t n, size_t out0, xuan_error *err) {
    const xuan_model *m = c->m;
    const xuan_hparams *hp = &m->hp;
    const int64_t d = hp->d_model;
    for (uint32_t t = 0; t < n; t++) xuan_weight_row(&m->tok_embd, c->ub_tok[t], c->x + t * d);
    if (hp->arch->embd_scale) { /* gemma: ggml_scale(inpL, sqrtf(n_embd)) */
        const float s = sqrtf((float)d);
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) c->x[i] *= s;
    }
    if (m->ple_tok_embd.data) kinds_ple_inputs(c, n);
    /* LongRoPE picks its factors by the context size, as llama.cpp does. */
    const float *ff = m->rope_freqs;
    if (!ff && m->rope_long) ff = c->p.n_ctx > hp->n_ctx_orig ? m->rope_long : m->rope_short;
    if (c->cs0) xuan_op_rope_table(hp, ff, 0.0f, hp->rope_base, hp->rope_freq_scale, c->cs0);
    /* the local layers' rotary dims; gemma4's have no frequency factors (rope_freqs is the full layers') */
    xuan_hparams hs = *hp;
    hs.n_rot = hp->n_rot_swa;
    const float *ff_swa = hp->swa_layers ? NULL : ff;
    for (uint32_t t = 0; t < n; t++) {
        xuan_op_rope_table(hp, ff, (float)c->ub_pos[t], hp->rope_base, hp->rope_freq_scale, c->cs + (size_t)t * hp->n_rot);
        if (c->cs0) /* imrope: the pairs of the fourth section see position 0 */
            xuan_imrope_fix(hp, c->cs + (size_t)t * hp->n_rot, c->cs0);
        if (c->cs_swa) /* the local layers' own base and scale */
            xuan_op_rope_table(&hs, ff_swa, (float)c->ub_pos[t], hp->rope_base_swa, hp->rope_freq_scale_swa,
                               c->cs_swa + (size_t)t * hp->n_rot_swa);
    }
    for (uint32_t il = 0; il < hp->n_layers; il++) {
        /* a recurrent state changed by the first layers cannot be taken
         * back: a hybrid model stops between pieces only */
        if (c->stop && *c->stop && (il == 0 || !c->rec.n_rec))
            return xuan_fail(err, XUAN_ERR_INTERRUPTED, "interrupted");
        layer_forward(c, il, n, il + 1 == hp->n_layers);
    }
    if (c->ub_n_out && (c->rec.n_rec || hp->arch->layer_kinds) && c->ub_n_out < n) /* every row went through the last layer */
        for (uint32_t k = 0; k < c->ub_n_out; k++) /* rows ascending: k <= ub_out[k] */
            if ((uint32_t)c->ub_out[k] != k)
                memmove(c->x + k * d, c->x + (size_t)c->ub_out[k] * d, (size_t)d * sizeof(float));
    if (c->ub_n_out) {
        for (uint32_t k = 0; k < c->ub_n_out; k++)
            xuan_op_rmsnorm(c->x + k * d, m->output_norm, c->xn + k * d, d, hp->norm_eps);
        float *lg = c->logits + out0 * hp->n_vocab;
        mm(c, &m->output, c->xn, c->ub_n_out, lg);
        if (hp->final_softcap > 0) xuan_op_softcap(lg, (int64_t)c->ub_n_out * hp->n_vocab, hp->final_softcap);
    }
    return 0;
}

/* ================================================================ decode */

/* Grows a buffer of n_have elements to n_need (contents are not kept). */
static int grow(void **buf, size_t *n_have, size_t n_need, size_t elem, bool aligned) {
    if (n_need <= *n_have) return 0;
    uint64_t bytes;
    if (!xuan_mul_ok(n_need, elem, &bytes) || bytes > SIZE_MAX) return -1;
    void *p = aligned ? xuan_malloc_aligned((size_t)bytes) : xuan_malloc((size_t)bytes);
    if (!p) return -1;
    if (aligned) xuan_free_aligned(*buf);
    else xuan_free(*buf);
    *buf = p;
    *n_have = n_need;
    return 0;
}

static bool wants(const xuan_batch *b, int32_t i) { return b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1; }
static int32_t seq_of(const xuan_batch *b, int32_t i) { return b->seq_id ? b->seq_id[i] : 0; }

/* Everything that can be wrong with a batch, before anything is evaluated. */
static int check_batch(xuan_ctx *c, const xuan_batch *b, size_t *n_out, xuan_error *err) {
    const uint32_t n_vocab = c->m->hp.n_vocab, n_seq = c->p.n_seq_max;
    if (b->n_tokens < 0 || (b->n_tokens > 0 && !b->token))
        return xuan_fail(err, XUAN_ERR_USAGE, "batch of %d tokens without token ids", b->n_tokens);
    int32_t next[64];
    for (uint32_t s = 0; s < n_seq; s++) next[s] = c->kv.pos_max[s] + 1;
    *n_out = 0;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        const int32_t id = b->token[i], s = seq_of(b, i);
        if (id < 0 || (uint32_t)id >= n_vocab)
            return xuan_fail(err, XUAN_ERR_USAGE, "batch token %d: id %d is outside the vocabulary (%u)", i, id,
                             n_vocab);
        if (s < 0 || (uint32_t)s >= n_seq)
            return xuan_fail(err, XUAN_ERR_USAGE, "batch token %d: sequence id %d is out of range (0..%u)", i, s,
                             n_seq - 1);
        const int32_t pos = b->pos ? b->pos[i] : next[s];
        if (pos != next[s])
            return xuan_fail(err, XUAN_ERR_USAGE,
                             "batch token %d: position %d does not continue sequence %d (next is %d)", i, pos, s,
                             next[s]);
        if (pos == c->kv.pos_max[s] + 1 && !xuan_ctx_seq_resumable(c, s, pos))
            return xuan_fail(err, XUAN_ERR_USAGE,
                             "batch token %d: sequence %d's sliding window at position %d reaches back to %d, "
                             "but positions before %d have left the window's cache; evaluate the sequence again "
                             "from position 0 (or keep whole windows with swa_full)",
                             i, s, pos, window_start(c, pos), c->swa_lo[s]);
        if ((uint32_t)pos >= c->p.n_ctx)
            return xuan_fail(err, XUAN_ERR_FULL,
                             "batch token %d: position %d of sequence %d is past the context (%u; use a larger -c)",
                             i, pos, s, c->p.n_ctx);
        next[s]++;
        if (wants(b, i)) ++*n_out;
    }
    const uint32_t n_free = c->kv.n_cells - c->kv.n_used;
    if ((uint32_t)b->n_tokens > n_free)
        return xuan_fail(err, XUAN_ERR_FULL,
                         "%d tokens do not fit the context: %u of %u cells free (use a larger -c, or drop sequences)",
                         b->n_tokens, n_free, c->kv.n_cells);
    return 0;
}

int xuan_ctx_decode(xuan_ctx *c, const xuan_batch *b, xuan_error *err) {
    c->n_rows = 0;
    c->last_out = -1;
    size_t n_out = 0;
    int rc = check_batch(c, b, &n_out, err);
    if (rc) return rc;
    if (b->n_tokens == 0) return 0;
    const size_t n_vocab = c->m->hp.n_vocab;
    void *lg = c->logits, *ro = c->row_out;
    size_t lg_cap = c->out_cap * n_vocab;
    if (grow(&lg, &lg_cap, n_out * n_vocab, sizeof(float), true) ||
        grow(&ro, &c->row_cap, (size_t)b->n_tokens, sizeof(int32_t), false)) {
        c->logits = lg;
        c->row_out = ro;
        c->out_cap = lg_cap / n_vocab;
        return xuan_fail(err, XUAN_ERR_NOMEM, "out of memory for the logits of %zu rows", n_out);
    }
    c->logits = lg;
    c->row_out = ro;
    c->out_cap = lg_cap / n_vocab;

    /* where each sequence stood, to take back a cancelled one's tokens */
    int32_t start[64];
    for (uint32_t s = 0; s < c->p.n_seq_max; s++) start[s] = c->kv.pos_max[s] + 1;
    size_t out = 0;
    int32_t i = 0;
    while (i < b->n_tokens) {
        /* the next piece: up to n_batch tokens of sequences not cancelled */
        const uint64_t cancelled = atomic_load(&c->cancel);
        uint32_t n = 0;
        c->ub_n_out = 0;
        const int32_t i0 = i;
        for (; i < b->n_tokens && n < c->p.n_batch; i++) {
            const int32_t s = seq_of(b, i);
            c->row_out[i] = -1;
            if (cancelled >> s & 1) continue;
            const int32_t cell = xuan_kv_find_free(&c->kv);
            XUAN_ASSERT(cell >= 0); /* check_batch counted the free cells */
            const int32_t pos = c->kv.pos_max[s] + 1;
            xuan_kv_assign(&c->kv, cell, s, pos, b->token[i]);
            if (c->ring) { /* ring_evict left room for a piece */
                const int32_t rc_cell = xuan_kv_find_free(&c->kv_swa);
                XUAN_ASSERT(rc_cell >= 0);
                xuan_kv_assign(&c->kv_swa, rc_cell, s, pos, b->token[i]);
                c->ub_cell_swa[n] = rc_cell;
            }
            c->ub_tok[n] = b->token[i];
            c->ub_pos[n] = pos;
            c->ub_seq[n] = s;
            c->ub_cell[n] = cell;
            if (wants(b, i)) {
                c->row_out[i] = (int32_t)(out + c->ub_n_out);
                c->ub_out[c->ub_n_out++] = (int32_t)n;
            }
            n++;
        }
        if (n == 0) continue;
        rc = eval_piece(c, n, out, err);
        if (rc) { /* the piece in flight leaves nothing behind */
            for (uint32_t t = 0; t < n; t++) cells_rm(c, c->ub_seq[t], c->ub_pos[t], c->ub_pos[t] + 1);
            for (int32_t r = i0; r < b->n_tokens; r++) c->row_out[r] = -1;
            c->n_rows = b->n_tokens;
            return rc;
        }
        ring_evict(c, n);
        out += c->ub_n_out;
    }
    /* sequences cancelled while this ran: none of this call's tokens stay */
    const uint64_t cancelled = atomic_load(&c->cancel);
    for (int32_t r = 0; r < b->n_tokens; r++) {
        const int32_t s = seq_of(b, r);
        if (cancelled >> s & 1) {
            c->row_out[r] = -1;
            if (c->kv.pos_max[s] >= start[s]) { /* a recurrent state cannot go back: all of it goes */
                if (c->rec.n_rec) rec_rm_apply(c, s, 0, 1);
                cells_rm(c, s, c->rec.n_rec ? 0 : start[s], -1);
            }
        }
    }
    /* recurrent state: a checkpoint where each sequence's prompt (2+ tokens
     * of this call) ended, for a later call to resume there */
    for (uint32_t s = 0; c->rec.n_rec && s < c->p.n_seq_max; s++)
        if (!(cancelled >> s & 1) && c->kv.pos_max[s] + 1 - start[s] >= 2)
            xuan_rec_ckpt_save(&c->rec, (int32_t)s, c->kv.pos_max[s] + 1);
    c->n_rows = b->n_tokens;
    for (int32_t r = b->n_tokens - 1; r >= 0 && c->last_out < 0; r--) c->last_out = c->row_out[r];
    return 0;
}

const float *xuan_ctx_logits_ith(const xuan_ctx *c, int32_t i) {
    if (i < 0) i += c->n_rows;
    if (i < 0 || i >= c->n_rows || c->row_out[i] < 0) return NULL;
    return c->logits + (size_t)c->row_out[i] * c->m->hp.n_vocab;
}

const float *xuan_ctx_logits(const xuan_ctx *c) {
    return c->last_out < 0 ? NULL : c->logits + (size_t)c->last_out * c->m->hp.n_vocab;
}

int xuan_ctx_eval(xuan_ctx *c, const int32_t *ids, size_t n, xuan_error *err) {
    if (n == 0) return 0;
    if (n > INT32_MAX || n > c->p.n_ctx || xuan_ctx_n_past(c) + n > c->p.n_ctx)
        return xuan_fail(err, XUAN_ERR_FULL,
                         "%zu tokens do not fit the context: %u already used of %u (use a larger -c)",
                         n, xuan_ctx_n_past(c), c->p.n_ctx);
    xuan_batch b = {.n_tokens = (int32_t)n, .token = ids};
    return xuan_ctx_decode(c, &b, err);
}
