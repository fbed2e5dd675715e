/*
 * memory.c — the one memory formula that `xuan inspect` and `xuan pick`
 * share: weights + KV cache + compute scratch + overhead.
 *
 * The terms follow what llama.cpp allocates on a CPU (memory.md in the
 * catalog, and llama.cpp's own load log):
 *   - the KV cache is allocated for the whole context at load time, n_ctx
 *     rounded up to 256 cells, K and V rows of n_kv_heads x head_dim in the
 *     cache type (F16 by default);
 *   - the compute buffer is sized for the worst-case graph of one ubatch:
 *     the logits of every row (n_vocab x n_ubatch x 4 B) and a layer's
 *     activations.  We add the two; ggml-alloc can reuse some of the space,
 *     so the real buffer is at most this (an upper estimate, on purpose: a
 *     planner that says "fits" must not be wrong);
 *   - overhead: a fixed allowance for the runtime and the process, plus the
 *     host-side logits row of each sequence.
 * Every product saturates, so a hostile GGUF header cannot wrap the total
 * back to a small number.
 */
#include "xuan/gguf.h"
#include "xuan/pick.h"

/* ---- saturating arithmetic ---------------------------------------------- */

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return xuan_mul_ok(a, b, &r) ? r : UINT64_MAX;
}
static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return xuan_add_ok(a, b, &r) ? r : UINT64_MAX;
}
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* ---- cache element size ------------------------------------------------- */

void xuan_mem_cache_elem(uint32_t cache_type, uint64_t *num, uint64_t *den) {
    const xuan_type_traits *t = xuan_type_get(cache_type);
    /* 0 is F32 in ggml's numbering, but a zero-initialised input means "the
     * default", which is F16 (llama.cpp's -ctk/-ctv default). */
    if (cache_type == XUAN_TYPE_F32 || !t || t->block_size == 0 || t->type_size == 0) {
        *num = 2;
        *den = 1;
        return;
    }
    *num = t->type_size;
    *den = t->block_size;
}

/* Bytes of one cache row of n elements: exact for block types when n is a
 * multiple of the block, otherwise the fractional size rounded up. */
static uint64_t cache_row_bytes(uint32_t cache_type, uint64_t n) {
    uint64_t bytes;
    if (cache_type != XUAN_TYPE_F32 && xuan_type_known(cache_type) &&
        xuan_type_row_size(cache_type, n, &bytes))
        return bytes;
    uint64_t num, den;
    xuan_mem_cache_elem(cache_type, &num, &den);
    return sat_mul(n, num) / den + (sat_mul(n, num) % den != 0);
}

static const char *cache_type_label(uint32_t cache_type) {
    if (cache_type == XUAN_TYPE_F32 || !xuan_type_known(cache_type)) return "F16";
    return xuan_type_name(cache_type);
}

/* ---- the estimate ------------------------------------------------------- */

static uint32_t effective_batch(const xuan_mem_input *in) {
    uint32_t ub = in->n_batch ? in->n_batch : 512;
    /* llama.cpp clamps the batch of a causal model to the context. */
    if (in->n_ctx && ub > in->n_ctx) ub = in->n_ctx;
    return ub;
}

static uint32_t ctx_alloc(uint32_t n_ctx) {
    uint64_t r = ((uint64_t)n_ctx + 255) / 256 * 256;
    return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* Layers that store K and V: all of them, or n_kv_layers (the attention
 * layers of a hybrid model, the non-shared layers of gemma4). */
static uint32_t kv_layer_count(const xuan_mem_input *in) {
    return in->n_kv_layers && in->n_kv_layers < in->n_layers ? in->n_kv_layers : in->n_layers;
}

/* Of those, the sliding-window ones (none without a window). */
static uint32_t swa_layer_count(const xuan_mem_input *in) {
    uint32_t kv = kv_layer_count(in);
    if (!in->swa_window) return 0;
    return in->n_swa_layers < kv ? in->n_swa_layers : kv;
}

static uint64_t swa_row_bytes(const xuan_mem_input *in) {
    uint64_t h = in->swa_n_kv_heads ? in->swa_n_kv_heads : in->n_kv_heads;
    uint64_t dk = in->swa_head_dim_k ? in->swa_head_dim_k : in->head_dim_k;
    uint64_t dv = in->swa_head_dim_v ? in->swa_head_dim_v : in->head_dim_v;
    uint64_t k = cache_row_bytes(in->cache_type, sat_mul(h, dk));
    return in->v_in_k ? k : sat_add(k, cache_row_bytes(in->cache_type, sat_mul(h, dv)));
}

/* Cells of one sliding layer.  llama.cpp's iSWA cache holds the window of
 * every sequence plus one ubatch, rounded up to 256 (llama_kv_cache_iswa:
 * GGML_PAD(min(n_ctx, n_swa * n_seq + n_ubatch), 256)); xuan's ring keeps a
 * quarter window more per sequence (src/model/forward.c, swa_slack).  The
 * larger of the two, at most the whole context: a planner must not say
 * "fits" when either runtime would not. */
static uint32_t swa_cells(const xuan_mem_input *in, uint32_t ctx_alloc, uint64_t n_seq, uint64_t ub) {
    uint64_t w = in->swa_window;
    uint64_t llama = sat_add(sat_mul(w, n_seq), ub);
    llama = (llama + 255) / 256 * 256;
    uint64_t ring = sat_add(sat_mul(sat_add(w, w / 4), n_seq), ub);
    uint64_t cells = llama > ring ? llama : ring;
    uint64_t cap = sat_mul(ctx_alloc, n_seq);
    if (cells > cap) cells = cap;
    return cells > UINT32_MAX ? UINT32_MAX : (uint32_t)cells;
}

void xuan_mem_estimate_compute(const xuan_mem_input *in, xuan_mem_estimate *out) {
    *out = (xuan_mem_estimate){0};
    uint64_t n_seq = in->n_seq ? in->n_seq : 1;
    uint64_t ub = effective_batch(in);

    out->weights = in->weight_bytes;

    out->n_ctx_alloc = ctx_alloc(in->n_ctx);
    uint64_t k_row = cache_row_bytes(in->cache_type, sat_mul(in->n_kv_heads, in->head_dim_k));
    uint64_t v_row = in->v_in_k ? 0 : cache_row_bytes(in->cache_type, sat_mul(in->n_kv_heads, in->head_dim_v));
    uint32_t kv_layers = kv_layer_count(in);
    uint32_t n_swa = swa_layer_count(in);
    out->kv_bytes_per_token = sat_mul(kv_layers - n_swa, sat_add(k_row, v_row));
    out->kv_cache = sat_mul(sat_mul(out->kv_bytes_per_token, out->n_ctx_alloc), n_seq);
    if (n_swa) {
        out->n_swa_alloc = swa_cells(in, out->n_ctx_alloc, n_seq, ub);
        out->kv_swa = sat_mul(sat_mul(n_swa, swa_row_bytes(in)), out->n_swa_alloc);
        out->kv_cache = sat_add(out->kv_cache, out->kv_swa);
    }
    out->state = sat_mul(in->state_bytes, n_seq);

    /* Activations are F32 (4 bytes). */
    out->compute_logits = sat_mul(sat_mul(in->n_vocab, ub), 4);
    uint64_t q = sat_mul(in->n_heads, in->head_dim_k);
    uint64_t kv = sat_mul(in->n_kv_heads, sat_add(in->head_dim_k, in->head_dim_v));
    uint64_t attn_out = sat_mul(in->n_heads, in->head_dim_v);
    uint64_t attn = sat_mul(sat_mul(sat_add(sat_add(q, kv), attn_out), ub), 4);
    if (in->no_flash_attn) {
        /* K*Q scores and their softmax, both n_kv x ubatch x n_heads F32. */
        uint64_t kq = sat_mul(sat_mul(sat_mul(out->n_ctx_alloc, ub), in->n_heads), 4);
        attn = sat_add(attn, sat_mul(kq, 2));
    }
    /* SwiGLU: gate, up and their product are alive together. */
    uint64_t ffn = sat_mul(sat_mul(sat_mul(in->d_ffn, 3), ub), 4);
    /* The residual stream, its norm and the layer output. */
    uint64_t resid = sat_mul(sat_mul(sat_mul(in->d_model, 3), ub), 4);
    out->compute_layer = sat_add(resid, max_u64(attn, ffn));
    out->compute = sat_add(out->compute_logits, out->compute_layer);

    out->overhead = sat_add(XUAN_MEM_RUNTIME_BYTES, sat_mul(sat_mul(in->n_vocab, 4), n_seq));
    out->total = sat_add(sat_add(sat_add(out->weights, out->kv_cache), out->state),
                         sat_add(out->compute, out->overhead));
}

/* ---- the explanation ---------------------------------------------------- */

static const char *fmt(uint64_t bytes, char *buf, size_t n) {
    if (bytes == UINT64_MAX) {
        snprintf(buf, n, "overflow");
        return buf;
    }
    return xuan_fmt_bytes(bytes, buf, n);
}

int xuan_mem_explain(const xuan_mem_input *in, const xuan_mem_estimate *est, xuan_buf *out) {
    char a[32], b[32], c[32];
    uint64_t num, den;
    xuan_mem_cache_elem(in->cache_type, &num, &den);
    uint64_t n_seq = in->n_seq ? in->n_seq : 1;
    int rc = 0;
    rc |= xuan_buf_printf(out, "weights  = %s  (tensor data, %llu bytes)\n",
                          fmt(est->weights, a, sizeof a), (unsigned long long)est->weights);
    bool hybrid = in->state_bytes && in->n_kv_layers && in->n_kv_layers < in->n_layers;
    bool shared = !in->state_bytes && in->n_kv_layers && in->n_kv_layers < in->n_layers;
    const uint32_t n_swa = swa_layer_count(in);
    const char *layers = hybrid  ? "attention layers"
                         : n_swa ? "global layers"
                         : shared ? "KV-storing layers"
                                  : "n_layers";
    const uint32_t n_layers = kv_layer_count(in) - n_swa;
    if (in->v_in_k)
        rc |= xuan_buf_printf(out,
                              "kv_cache = %s  = %s %u x n_kv_heads %u x head_dim_k %u (V read from K)"
                              " x %s (%llu/%llu B) x n_ctx %u (allocated %u",
                              fmt(est->kv_cache, a, sizeof a), layers, n_layers, in->n_kv_heads, in->head_dim_k,
                              cache_type_label(in->cache_type), (unsigned long long)num,
                              (unsigned long long)den, in->n_ctx, est->n_ctx_alloc);
    else
        rc |= xuan_buf_printf(out,
                              "kv_cache = %s  = %s %u x n_kv_heads %u x (head_dim_k %u + head_dim_v %u)"
                              " x %s (%llu/%llu B) x n_ctx %u (allocated %u",
                              fmt(est->kv_cache, a, sizeof a), layers, n_layers, in->n_kv_heads,
                              in->head_dim_k, in->head_dim_v, cache_type_label(in->cache_type),
                              (unsigned long long)num, (unsigned long long)den, in->n_ctx,
                              est->n_ctx_alloc);
    if (n_seq > 1) rc |= xuan_buf_printf(out, ") x n_seq %llu", (unsigned long long)n_seq);
    else rc |= xuan_buf_puts(out, ")");
    if (n_swa) {
        uint64_t h = in->swa_n_kv_heads ? in->swa_n_kv_heads : in->n_kv_heads;
        uint64_t dk = in->swa_head_dim_k ? in->swa_head_dim_k : in->head_dim_k;
        rc |= xuan_buf_printf(out,
                              "\n           + sliding layers %u x n_kv_heads %llu x %s%llu x %s x %u cells"
                              " (window %u x n_seq + n_batch, rounded up to 256: fixed, = %s)",
                              n_swa, (unsigned long long)h, in->v_in_k ? "" : "2 x ", (unsigned long long)dk,
                              cache_type_label(in->cache_type), est->n_swa_alloc, in->swa_window,
                              fmt(est->kv_swa, b, sizeof b));
    }
    if (shared)
        rc |= xuan_buf_printf(out, "\n           (the other %u layers reuse earlier layers' KV: no cache of their own)",
                              in->n_layers - kv_layer_count(in));
    rc |= xuan_buf_puts(out, "\n");
    if (hybrid)
        rc |= xuan_buf_printf(out,
                              "state    = %s  = recurrent + conv state of the %u DeltaNet layers (F32, fixed: does not"
                              " grow with n_ctx)%s\n",
                              fmt(est->state, a, sizeof a), in->n_layers - in->n_kv_layers,
                              n_seq > 1 ? " x n_seq" : "");
    rc |= xuan_buf_printf(out,
                          "compute  = %s  = logits n_vocab %u x n_batch %u x 4 B (%s)"
                          " + one layer's activations (%s: 4 B x n_batch x (3 x d_model %u + max(3 x d_ffn %u, attention%s)))\n",
                          fmt(est->compute, a, sizeof a), in->n_vocab, effective_batch(in),
                          fmt(est->compute_logits, b, sizeof b),
                          fmt(est->compute_layer, c, sizeof c), in->d_model, in->d_ffn,
                          in->no_flash_attn ? " + 2 x n_ctx x n_heads K*Q scores, flash attention off"
                                            : ", flash attention on");
    rc |= xuan_buf_printf(out, "overhead = %s  = runtime allowance %s + output row n_vocab %u x 4 B%s\n",
                          fmt(est->overhead, a, sizeof a),
                          fmt(XUAN_MEM_RUNTIME_BYTES, b, sizeof b), in->n_vocab,
                          n_seq > 1 ? " x n_seq" : "");
    rc |= xuan_buf_printf(out, "total    = %s  = weights + kv_cache%s + compute + overhead\n",
                          fmt(est->total, a, sizeof a), hybrid ? " + state" : "");
    return rc ? XUAN_ERR_NOMEM : 0;
}
