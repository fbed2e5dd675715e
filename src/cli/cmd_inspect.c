/*
 * xuan inspect — a readable summary of a GGUF file (or --json): shape,
 * tokenizer, chat template, tensor type mix, size, bits per weight, and the
 * memory it needs at a given context.  Sections:
 *   1. facts    — everything read from the file into one struct
 *   2. text     — the human summary and --tensors table
 *   3. json     — the same facts for machines
 */
#include "cli.h"
#include "xuan/chat.h"
#include "xuan/gguf.h"
#include "xuan/model.h"
#include "xuan/pick.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ==== 1. facts =========================================================== */

typedef struct type_share {
    uint32_t type;
    uint64_t bytes, count;
} type_share;

typedef struct facts {
    char arch[64], name[256], tok_model[32], tok_pre[64], rope_scaling[32];
    uint32_t ftype;
    bool has_ftype;
    uint64_t n_params, tensor_bytes;
    uint32_t n_ctx_train, n_layers, n_heads, n_kv_heads, d_model, d_ffn, head_dim_k, head_dim_v;
    uint32_t rope_dims, sliding_window;
    float rope_base, rope_factor, norm_eps;
    uint32_t rope_orig_ctx;
    const char *rope_kind;
    uint64_t n_tokens, n_merges;
    int64_t bos, eos, eot, pad, unk;
    bool add_bos, add_bos_set;
    uint64_t chat_template_len;
    const char *chat_format; /* detected family, or "unknown" */
    type_share types[XUAN_TYPE_COUNT];
    int n_types;
    bool tied;
    /* hybrid (qwen35): Gated DeltaNet layers, attention every n-th (0: a
     * per-layer pattern), the recurrent state of one sequence */
    uint32_t n_recurrent, attn_every;
    uint64_t state_per_seq;
    /* gemma4 (per-layer kinds): sliding and full layers (own head size and
     * KV heads each), those that store KV (the last n_kv_shared read an
     * earlier layer's), the per-layer embeddings' width */
    bool kinds;
    uint32_t n_sliding, head_dim_swa, n_kv_heads_swa, n_kv_heads_full, n_kv_shared, n_embd_per_layer;
    uint32_t own_sliding, own_full;     /* layers of each kind that store KV */
    uint32_t swa_every;                 /* one shape (gpt-oss, gemma2/3): every n-th layer full, 0 none */
    uint64_t kv_full_per_token;         /* K+V bytes of one position in the full layers that store KV */
    uint64_t kv_sliding_cells, kv_sliding_bytes; /* the sliding layers' cells (window-capped) and bytes */
    xuan_mem_input mem_in;
    xuan_mem_estimate mem;
} facts;

static void copy_str(const xuan_gguf *g, const char *key, char *out, size_t cap) {
    xuan_str s;
    out[0] = 0;
    if (xuan_gguf_get_str(g, key, &s) == 0) {
        size_t n = s.n < cap - 1 ? (size_t)s.n : cap - 1;
        memcpy(out, s.p, n);
        out[n] = 0;
        for (size_t i = 0; i < n; i++) /* keep the summary one line per field */
            if ((unsigned char)out[i] < 0x20) out[i] = ' ';
    }
}

/* Reads an optional u32 key of the architecture ("%s.block_count"); a
 * present key of the wrong type is an error. */
static int arch_u32(const xuan_gguf *g, const char *arch, const char *suffix, uint32_t *out,
                    xuan_error *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = xuan_gguf_get_u32(g, key, out, err);
    return rc == XUAN_ERR_NOTFOUND ? 0 : rc;
}

static uint64_t mul_sat(uint64_t a, uint64_t b) {
    uint64_t r;
    return xuan_mul_ok(a, b, &r) ? r : UINT64_MAX;
}

/* Qwen3.5's layer pattern and state, as the loader reads them (described
 * here even when they contradict each other: the loader refuses those): a
 * DeltaNet layer keeps ssm_heads x state^2 floats of delta-rule state and
 * (conv - 1) x (inner + 2 groups state) of conv state per sequence. */
static int read_hybrid(const xuan_gguf *g, facts *f, xuan_error *err) {
    uint32_t conv = 0, S = 0, Hv = 0, Hk = 0, inner = 0, every = 4;
    int rc;
    if ((rc = arch_u32(g, f->arch, "ssm.conv_kernel", &conv, err)) ||
        (rc = arch_u32(g, f->arch, "ssm.state_size", &S, err)) ||
        (rc = arch_u32(g, f->arch, "ssm.time_step_rank", &Hv, err)) ||
        (rc = arch_u32(g, f->arch, "ssm.group_count", &Hk, err)) ||
        (rc = arch_u32(g, f->arch, "ssm.inner_size", &inner, err)))
        return rc;
    char key[160];
    snprintf(key, sizeof key, "%s.attention.recurrent_layers", f->arch);
    const xuan_gguf_array *a;
    f->n_recurrent = 0;
    if (xuan_gguf_get_arr(g, key, &a) == 0 && a->raw) {
        f->attn_every = 0;
        for (uint64_t i = 0; i < a->n && i < f->n_layers; i++) f->n_recurrent += xuan_gguf_arr_i64(a, i) != 0;
    } else {
        if ((rc = arch_u32(g, f->arch, "full_attention_interval", &every, err))) return rc;
        f->attn_every = every;
        for (uint32_t i = 0; i < f->n_layers && every; i++) f->n_recurrent += (i + 1) % every != 0;
    }
    const uint64_t per_layer = mul_sat(4, mul_sat(mul_sat(Hv, S), S) +
                                              mul_sat(conv ? conv - 1 : 0, (uint64_t)inner + mul_sat(2ull * Hk, S)));
    f->state_per_seq = mul_sat(per_layer, f->n_recurrent);
    if (f->n_recurrent && f->n_recurrent < f->n_layers) {
        f->mem_in.n_kv_layers = f->n_layers - f->n_recurrent;
        f->mem_in.state_bytes = f->state_per_seq;
    }
    return 0;
}

/* A per-layer u32 array key (gemma4's head_count_kv, feed_forward_length)
 * at layer il, or the scalar *fallback when the key is not an array. */
static uint32_t layer_u32(const xuan_gguf *g, const char *arch, const char *suffix, uint32_t il, uint32_t fallback) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const xuan_gguf_value *v = xuan_gguf_find(g, key);
    if (!v || v->type != XUAN_GGUF_ARRAY || !v->v.arr.raw || il >= v->v.arr.n) return fallback;
    const int64_t x = xuan_gguf_arr_i64(&v->v.arr, il);
    return x > 0 && x <= (1 << 20) ? (uint32_t)x : 0;
}

/* gemma4's layer kinds as the loader reads them (described even when they
 * contradict each other: the loader refuses those), and its KV per token:
 * only layers that store KV count (the shared-KV ones read an earlier
 * layer's), the sliding ones capped at the window (their cells do not grow
 * with the context). */
static int read_kinds(const xuan_gguf *g, facts *f, xuan_error *err) {
    const char *a = f->arch;
    int rc;
    uint32_t hd_swa = f->head_dim_k, shared = 0, pl = 0;
    if ((rc = arch_u32(g, a, "attention.key_length_swa", &hd_swa, err)) ||
        (rc = arch_u32(g, a, "attention.shared_kv_layers", &shared, err)) ||
        (rc = arch_u32(g, a, "embedding_length_per_layer_input", &pl, err)))
        return rc;
    f->kinds = true;
    f->head_dim_swa = hd_swa, f->n_kv_shared = shared, f->n_embd_per_layer = pl;
    char key[160];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", a);
    const xuan_gguf_value *pv = xuan_gguf_find(g, key);
    const xuan_gguf_array *pat = pv && pv->type == XUAN_GGUF_ARRAY && pv->v.arr.raw ? &pv->v.arr : NULL;
    const uint32_t ct = f->mem_in.cache_type ? f->mem_in.cache_type : XUAN_TYPE_F16;
    const uint64_t win = f->sliding_window < f->mem_in.n_ctx ? f->sliding_window : f->mem_in.n_ctx;
    for (uint32_t il = 0; il < f->n_layers; il++) {
        const bool sl = pat && il < pat->n && xuan_gguf_arr_i64(pat, il) != 0;
        const uint32_t kvh = layer_u32(g, a, "attention.head_count_kv", il, f->n_kv_heads);
        const uint32_t hd = sl ? hd_swa : f->head_dim_k;
        f->n_sliding += sl;
        if (sl) f->n_kv_heads_swa = kvh;
        else f->n_kv_heads_full = kvh;
        if (il + shared >= f->n_layers) continue; /* reads an earlier layer's KV */
        uint64_t row = 0;
        if (!xuan_type_row_size(ct, (uint64_t)kvh * hd, &row)) row = UINT64_MAX / 4;
        if (sl) {
            f->own_sliding++;
            f->kv_sliding_cells += win;
            f->kv_sliding_bytes = f->kv_sliding_bytes + mul_sat(mul_sat(2, row), win);
        } else {
            f->own_full++;
            f->kv_full_per_token += mul_sat(2, row);
        }
    }
    return 0;
}

/* The sliding-window layers of the archs whose layers share one shape
 * (gpt-oss, gemma2, gemma3), by the loader's rule: the file's window, else
 * the architecture's default; every layer slides without a pattern, else
 * layers il % n < n - 1 (llama_hparams::set_swa_pattern).  The memory
 * estimate then counts their cells as a window, not the context. */
static int read_window(const xuan_gguf *g, const xuan_arch_info *ai, facts *f, xuan_error *err) {
    if (!f->sliding_window) f->sliding_window = ai->swa_default;
    if (!f->sliding_window) return 0;
    uint32_t n = ai->swa_pattern;
    int rc;
    if (n && (rc = arch_u32(g, f->arch, "attention.sliding_window_pattern", &n, err))) return rc;
    for (uint32_t il = 0; il < f->n_layers; il++) f->n_sliding += n == 0 || il % n < n - 1;
    f->swa_every = n;
    f->mem_in.n_swa_layers = f->n_sliding;
    f->mem_in.swa_window = f->sliding_window;
    return 0;
}

static int arch_f32(const xuan_gguf *g, const char *arch, const char *suffix, float *out,
                    xuan_error *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int rc = xuan_gguf_get_f32(g, key, out, err);
    return rc == XUAN_ERR_NOTFOUND ? 0 : rc;
}

static int64_t token_id(const xuan_gguf *g, const char *key) {
    uint32_t v;
    return xuan_gguf_get_u32(g, key, &v, NULL) == 0 ? (int64_t)v : -1;
}

static int cmp_share(const void *a, const void *b) {
    const type_share *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int gather(const xuan_gguf *g, uint32_t n_ctx, uint32_t cache_type, facts *f, xuan_error *err) {
    memset(f, 0, sizeof *f);
    copy_str(g, "general.architecture", f->arch, sizeof f->arch);
    copy_str(g, "general.name", f->name, sizeof f->name);
    copy_str(g, "tokenizer.ggml.model", f->tok_model, sizeof f->tok_model);
    copy_str(g, "tokenizer.ggml.pre", f->tok_pre, sizeof f->tok_pre);
    f->has_ftype = xuan_gguf_get_u32(g, "general.file_type", &f->ftype, NULL) == 0;
    const char *a = f->arch[0] ? f->arch : "?";
    if (arch_u32(g, a, "context_length", &f->n_ctx_train, err) ||
        arch_u32(g, a, "block_count", &f->n_layers, err) ||
        arch_u32(g, a, "attention.head_count", &f->n_heads, err) ||
        (!layer_u32(g, a, "attention.head_count_kv", 0, 0) &&
         arch_u32(g, a, "attention.head_count_kv", &f->n_kv_heads, err)) ||
        arch_u32(g, a, "embedding_length", &f->d_model, err) ||
        (!layer_u32(g, a, "feed_forward_length", 0, 0) && arch_u32(g, a, "feed_forward_length", &f->d_ffn, err)) ||
        arch_u32(g, a, "attention.key_length", &f->head_dim_k, err) ||
        arch_u32(g, a, "attention.value_length", &f->head_dim_v, err) ||
        arch_u32(g, a, "rope.dimension_count", &f->rope_dims, err) ||
        arch_u32(g, a, "attention.sliding_window", &f->sliding_window, err) ||
        arch_u32(g, a, "rope.scaling.original_context_length", &f->rope_orig_ctx, err) ||
        arch_f32(g, a, "rope.freq_base", &f->rope_base, err) ||
        arch_f32(g, a, "rope.scaling.factor", &f->rope_factor, err) ||
        arch_f32(g, a, "attention.layer_norm_rms_epsilon", &f->norm_eps, err))
        return XUAN_ERR_FORMAT;
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    copy_str(g, key, f->rope_scaling, sizeof f->rope_scaling);
    if (!f->n_kv_heads) f->n_kv_heads = layer_u32(g, a, "attention.head_count_kv", 0, 0);
    if (!f->d_ffn) f->d_ffn = layer_u32(g, a, "feed_forward_length", 0, 0);
    if (!f->n_kv_heads) f->n_kv_heads = f->n_heads;
    if (f->n_heads && !f->head_dim_k) f->head_dim_k = f->d_model / f->n_heads;
    if (!f->head_dim_v) f->head_dim_v = f->head_dim_k;
    /* llama.cpp's rope ordering per architecture (llama_model_rope_type) */
    const xuan_arch_info *ai = xuan_arch_find(a, strlen(a));
    f->rope_kind = ai ? xuan_rope_kind_name(ai->rope) : "?";
    if (!f->rope_base) f->rope_base = 10000.0f;
    if (!f->rope_scaling[0]) {
        if (ai && ai->layer_kinds && xuan_gguf_find_tensor(g, "rope_freqs.weight"))
            snprintf(f->rope_scaling, sizeof f->rope_scaling, "proportional (full layers)");
        else if (xuan_gguf_find_tensor(g, "rope_freqs.weight")) snprintf(f->rope_scaling, sizeof f->rope_scaling, "llama3 (rope_freqs)");
        else if (xuan_gguf_find_tensor(g, "rope_factors_long.weight")) snprintf(f->rope_scaling, sizeof f->rope_scaling, "longrope");
        else snprintf(f->rope_scaling, sizeof f->rope_scaling, "none");
    }

    const xuan_gguf_array *arr;
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.tokens", &arr) == 0) f->n_tokens = arr->n;
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.merges", &arr) == 0) f->n_merges = arr->n;
    f->bos = token_id(g, "tokenizer.ggml.bos_token_id");
    f->eos = token_id(g, "tokenizer.ggml.eos_token_id");
    f->eot = token_id(g, "tokenizer.ggml.eot_token_id");
    f->pad = token_id(g, "tokenizer.ggml.padding_token_id");
    f->unk = token_id(g, "tokenizer.ggml.unknown_token_id");
    f->add_bos_set = xuan_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &f->add_bos, NULL) == 0;
    xuan_str tmpl;
    if (xuan_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == 0) f->chat_template_len = tmpl.n;
    f->chat_format = f->chat_template_len ? xuan_chat_format_name(xuan_chat_detect_gguf(g)) : "none";

    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        f->n_params += t->n_elements;
        f->tensor_bytes += t->n_bytes;
        int k = 0;
        while (k < f->n_types && f->types[k].type != t->type) k++;
        if (k == f->n_types) f->types[f->n_types++].type = t->type;
        f->types[k].bytes += t->n_bytes;
        f->types[k].count++;
    }
    qsort(f->types, (size_t)f->n_types, sizeof f->types[0], cmp_share);
    f->tied = xuan_gguf_find_tensor(g, "token_embd.weight") && !xuan_gguf_find_tensor(g, "output.weight");

    xuan_mem_input *m = &f->mem_in;
    m->n_layers = f->n_layers, m->n_heads = f->n_heads, m->n_kv_heads = f->n_kv_heads;
    m->head_dim_k = f->head_dim_k, m->head_dim_v = f->head_dim_v;
    m->d_model = f->d_model, m->d_ffn = f->d_ffn, m->n_vocab = (uint32_t)(f->n_tokens > UINT32_MAX ? UINT32_MAX : f->n_tokens);
    m->weight_bytes = f->tensor_bytes;
    m->n_ctx = n_ctx ? n_ctx : (f->n_ctx_train && f->n_ctx_train < 4096 ? f->n_ctx_train : 4096);
    m->cache_type = cache_type;
    const xuan_arch_info *arch = xuan_arch_find(f->arch, strlen(f->arch));
    m->v_in_k = arch && arch->attn == XUAN_ATTN_MLA; /* absorbed MLA: V is read from K */
    if (arch && arch->attn == XUAN_ATTN_HYBRID) {
        int rc = read_hybrid(g, f, err);
        if (rc) return rc;
    }
    if (arch && arch->layer_kinds) {
        int rc = read_kinds(g, f, err);
        if (rc) return rc;
    } else if (arch && arch->attn != XUAN_ATTN_HYBRID) {
        int rc = read_window(g, arch, f, err);
        if (rc) return rc;
    }
    xuan_mem_estimate_compute(m, &f->mem);
    if (f->kinds) { /* the per-layer kinds' KV in place of the uniform estimate */
        xuan_mem_estimate *e = &f->mem;
        const uint64_t n_seq = m->n_seq ? m->n_seq : 1;
        const uint64_t kv = mul_sat(mul_sat(f->kv_full_per_token, e->n_ctx_alloc) + f->kv_sliding_bytes, n_seq);
        e->total = e->total - e->kv_cache + kv;
        e->kv_cache = kv;
        e->kv_bytes_per_token = f->kv_full_per_token;
    }
    return 0;
}

/* ==== 2. text ============================================================ */

static const char *human_count(uint64_t n, char *buf, size_t cap) {
    if (n >= 1000000000ull) snprintf(buf, cap, "%.2f B", (double)n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, cap, "%.1f M", (double)n / 1e6);
    else if (n >= 1000ull) snprintf(buf, cap, "%.1f K", (double)n / 1e3);
    else snprintf(buf, cap, "%llu", (unsigned long long)n);
    return buf;
}

/* "<|im_end|> (151645)" or "-" */
static const char *token_label(const xuan_gguf *g, int64_t id, char *buf, size_t cap) {
    const xuan_gguf_array *toks;
    if (id < 0) return "-";
    if (xuan_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) == 0 && toks->strs && (uint64_t)id < toks->n) {
        xuan_str s = toks->strs[id];
        snprintf(buf, cap, "%.*s (%lld)", (int)(s.n > 40 ? 40 : s.n), s.p, (long long)id);
    } else {
        snprintf(buf, cap, "%lld (out of range!)", (long long)id);
    }
    return buf;
}

static void print_text(const xuan_gguf *g, const char *path, const facts *f, bool verbose) {
    char a[64], b[64], c[64];
    printf("%s\n", path);
    printf("  %-15s %s%s%s\n", "model", f->name[0] ? f->name : "(no general.name)",
           f->has_ftype ? ", " : "", f->has_ftype ? xuan_ftype_name(f->ftype) : "");
    printf("  %-15s %s\n", "architecture", f->arch[0] ? f->arch : "(none)");
    printf("  %-15s %s (%llu)\n", "parameters", human_count(f->n_params, a, sizeof a),
           (unsigned long long)f->n_params);
    double bpw = f->n_params ? 8.0 * (double)f->tensor_bytes / (double)f->n_params : 0;
    printf("  %-15s %s, %.2f bits per weight, GGUF v%u, %u file%s\n", "file",
           xuan_fmt_bytes(xuan_gguf_file_size(g), a, sizeof a), bpw, xuan_gguf_version(g),
           xuan_gguf_n_splits(g), xuan_gguf_n_splits(g) > 1 ? "s" : "");
    printf("  %-15s %u native\n", "context", f->n_ctx_train);
    printf("  %-15s %u layers, %u heads, %u KV heads, head dim %u, embedding %u, FFN %u%s\n", "shape",
           f->n_layers, f->n_heads, f->n_kv_heads, f->head_dim_k, f->d_model, f->d_ffn,
           f->tied ? ", tied output" : "");
    printf("  %-15s %s, base %g, %u dims, scaling %s", "rope", f->rope_kind, (double)f->rope_base,
           f->rope_dims, f->rope_scaling);
    if (f->rope_factor > 0) printf(" x%g", (double)f->rope_factor);
    if (f->rope_orig_ctx) printf(" (original context %u)", f->rope_orig_ctx);
    printf("\n");
    if (f->sliding_window) printf("  %-15s %u\n", "sliding window", f->sliding_window);
    printf("  %-15s %s", "tokenizer", f->tok_model[0] ? f->tok_model : "(none)");
    if (!strcmp(f->tok_model, "gpt2")) printf(" (byte-level BPE)");
    else if (!strcmp(f->tok_model, "llama")) printf(" (SentencePiece)");
    if (f->tok_pre[0]) printf(", pre %s", f->tok_pre);
    printf(", %llu tokens", (unsigned long long)f->n_tokens);
    if (f->n_merges) printf(", %llu merges", (unsigned long long)f->n_merges);
    printf("\n");
    printf("  %-15s bos %s%s, eos %s", "special tokens", token_label(g, f->bos, a, sizeof a),
           f->add_bos_set ? (f->add_bos ? " added" : " not added") : "", token_label(g, f->eos, b, sizeof b));
    if (f->eot >= 0) printf(", eot %s", token_label(g, f->eot, c, sizeof c));
    printf("\n");
    if (f->chat_template_len)
        printf("  %-15s %s (tokenizer.chat_template, %llu bytes)\n", "chat template", f->chat_format,
               (unsigned long long)f->chat_template_len);
    else printf("  %-15s none\n", "chat template");
    printf("  %-15s ", "tensor types");
    for (int i = 0; i < f->n_types; i++) {
        double pct = f->tensor_bytes ? 100.0 * (double)f->types[i].bytes / (double)f->tensor_bytes : 0;
        printf("%s%s %.0f%%", i ? " · " : "", xuan_type_name(f->types[i].type), pct);
    }
    printf(" (of %llu tensors, by bytes)\n", (unsigned long long)xuan_gguf_n_tensors(g));
    const xuan_mem_estimate *m = &f->mem;
    char w[32], kv[32], cb[32], ov[32], tot[32], st[32];
    if (f->n_recurrent) {
        char every[32] = "a per-layer pattern";
        if (f->attn_every) snprintf(every, sizeof every, "every %u%s", f->attn_every, f->attn_every == 1 ? "" : "th");
        printf("  %-15s %u Gated DeltaNet + %u gated attention (%s); per token %s of KV, per sequence %s of "
               "recurrent state\n",
               "layer pattern", f->n_recurrent, f->n_layers - f->n_recurrent, every,
               xuan_fmt_bytes(m->kv_bytes_per_token, a, sizeof a), xuan_fmt_bytes(f->state_per_seq, st, sizeof st));
    }
    if (f->kinds) {
        printf("  %-15s %u sliding (window %u, heads %u, %u KV heads) + %u full (heads %u, %u KV heads)",
               "layer pattern", f->n_sliding, f->sliding_window, f->head_dim_swa, f->n_kv_heads_swa,
               f->n_layers - f->n_sliding, f->head_dim_k, f->n_kv_heads_full);
        if (f->n_kv_shared) printf("; the last %u share KV", f->n_kv_shared);
        if (f->n_embd_per_layer) printf("; per-layer embeddings %u", f->n_embd_per_layer);
        printf("\n  %-15s %s per token (%u full layers) + %s fixed (%u sliding layers x %llu cells)\n", "KV per token",
               xuan_fmt_bytes(f->kv_full_per_token, a, sizeof a), f->own_full,
               xuan_fmt_bytes(f->kv_sliding_bytes, b, sizeof b), f->own_sliding,
               (unsigned long long)(f->own_sliding ? f->kv_sliding_cells / f->own_sliding : 0));
    }
    if (!f->kinds && f->n_sliding) {
        char every[32] = "every layer";
        if (f->swa_every) snprintf(every, sizeof every, "every %u%s full", f->swa_every, f->swa_every == 2 ? "nd" : f->swa_every == 3 ? "rd" : "th");
        printf("  %-15s %u sliding (window %u) + %u full (%s)\n", "layer pattern", f->n_sliding, f->sliding_window,
               f->n_layers - f->n_sliding, every);
        printf("  %-15s %s per token (%u full layers) + %s fixed (%u sliding layers x %u cells)\n", "KV per token",
               xuan_fmt_bytes(m->kv_bytes_per_token, a, sizeof a), f->n_layers - f->n_sliding,
               xuan_fmt_bytes(m->kv_swa, b, sizeof b), f->n_sliding, m->n_swa_alloc);
    }
    char state[64] = "";
    if (m->state) snprintf(state, sizeof state, " + state %s", xuan_fmt_bytes(m->state, st, sizeof st));
    printf("  %-15s %s at context %u = weights %s + KV cache %s (%s)%s + compute %s + overhead %s\n",
           "memory", xuan_fmt_bytes(m->total, tot, sizeof tot), f->mem_in.n_ctx,
           xuan_fmt_bytes(m->weights, w, sizeof w), xuan_fmt_bytes(m->kv_cache, kv, sizeof kv),
           xuan_type_name(f->mem_in.cache_type ? f->mem_in.cache_type : XUAN_TYPE_F16), state,
           xuan_fmt_bytes(m->compute, cb, sizeof cb), xuan_fmt_bytes(m->overhead, ov, sizeof ov));
    if (verbose) {
        xuan_buf why = {0};
        if (xuan_mem_explain(&f->mem_in, m, &why) == 0 && why.data) {
            printf("  memory formula:\n");
            for (char *line = strtok(why.data, "\n"); line; line = strtok(NULL, "\n")) printf("    %s\n", line);
        }
        xuan_buf_free(&why);
    }
}

static void print_tensors(const xuan_gguf *g) {
    printf("\n  %5s  %-32s %-7s %-24s %12s %14s\n", "#", "name", "type", "shape", "bytes", "offset");
    for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) {
        const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
        char shape[64] = "";
        size_t n = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", d ? " x " : "", (long long)t->ne[d]);
        printf("  %5llu  %-32s %-7s %-24s %12llu %14llu%s\n", (unsigned long long)i, t->name,
               xuan_type_name(t->type), shape, (unsigned long long)t->n_bytes,
               (unsigned long long)t->offset, t->split ? " (part)" : "");
    }
}

/* ==== 3. json ============================================================= */

static json_t *jstr(const char *s) { return json_string(s); } /* NULL for invalid UTF-8 */

static int print_json(const xuan_gguf *g, const char *path, const facts *f, bool tensors) {
    json_t *o = json_object();
    json_object_set_new(o, "file", jstr(path));
    json_object_set_new(o, "file_size", json_integer((json_int_t)xuan_gguf_file_size(g)));
    json_object_set_new(o, "gguf_version", json_integer(xuan_gguf_version(g)));
    json_object_set_new(o, "splits", json_integer(xuan_gguf_n_splits(g)));
    json_object_set_new(o, "architecture", jstr(f->arch));
    json_object_set_new(o, "name", jstr(f->name));
    json_object_set_new(o, "file_type", f->has_ftype ? jstr(xuan_ftype_name(f->ftype)) : json_null());
    json_object_set_new(o, "n_params", json_integer((json_int_t)f->n_params));
    json_object_set_new(o, "tensor_bytes", json_integer((json_int_t)f->tensor_bytes));
    json_object_set_new(o, "bits_per_weight",
                        json_real(f->n_params ? 8.0 * (double)f->tensor_bytes / (double)f->n_params : 0));
    json_object_set_new(o, "context_length", json_integer(f->n_ctx_train));
    json_object_set_new(o, "n_layers", json_integer(f->n_layers));
    json_object_set_new(o, "n_heads", json_integer(f->n_heads));
    json_object_set_new(o, "n_kv_heads", json_integer(f->n_kv_heads));
    json_object_set_new(o, "head_dim", json_integer(f->head_dim_k));
    json_object_set_new(o, "embedding_length", json_integer(f->d_model));
    json_object_set_new(o, "feed_forward_length", json_integer(f->d_ffn));
    json_object_set_new(o, "tied_embeddings", json_boolean(f->tied));
    json_object_set_new(o, "norm_eps", json_real(f->norm_eps));
    json_t *rope = json_object();
    json_object_set_new(rope, "kind", jstr(f->rope_kind));
    json_object_set_new(rope, "freq_base", json_real(f->rope_base));
    json_object_set_new(rope, "dimension_count", json_integer(f->rope_dims));
    json_object_set_new(rope, "scaling", jstr(f->rope_scaling));
    json_object_set_new(rope, "factor", json_real(f->rope_factor));
    json_object_set_new(rope, "original_context_length", json_integer(f->rope_orig_ctx));
    json_object_set_new(o, "rope", rope);
    json_object_set_new(o, "sliding_window", json_integer(f->sliding_window));
    json_t *tok = json_object();
    json_object_set_new(tok, "model", jstr(f->tok_model));
    json_object_set_new(tok, "pre", jstr(f->tok_pre));
    json_object_set_new(tok, "n_tokens", json_integer((json_int_t)f->n_tokens));
    json_object_set_new(tok, "n_merges", json_integer((json_int_t)f->n_merges));
    json_object_set_new(tok, "bos", json_integer(f->bos));
    json_object_set_new(tok, "eos", json_integer(f->eos));
    json_object_set_new(tok, "eot", json_integer(f->eot));
    json_object_set_new(tok, "pad", json_integer(f->pad));
    json_object_set_new(tok, "unk", json_integer(f->unk));
    json_object_set_new(tok, "add_bos", f->add_bos_set ? json_boolean(f->add_bos) : json_null());
    json_object_set_new(o, "tokenizer", tok);
    json_object_set_new(o, "chat_template_bytes", json_integer((json_int_t)f->chat_template_len));
    json_object_set_new(o, "chat_template", jstr(f->chat_format));
    json_t *types = json_array();
    for (int i = 0; i < f->n_types; i++) {
        json_t *t = json_object();
        json_object_set_new(t, "type", jstr(xuan_type_name(f->types[i].type)));
        json_object_set_new(t, "tensors", json_integer((json_int_t)f->types[i].count));
        json_object_set_new(t, "bytes", json_integer((json_int_t)f->types[i].bytes));
        json_array_append_new(types, t);
    }
    json_object_set_new(o, "tensor_types", types);
    json_t *mem = json_object();
    json_object_set_new(mem, "n_ctx", json_integer(f->mem_in.n_ctx));
    json_object_set_new(mem, "cache_type", jstr(xuan_type_name(f->mem_in.cache_type ? f->mem_in.cache_type : XUAN_TYPE_F16)));
    json_object_set_new(mem, "weights", json_integer((json_int_t)f->mem.weights));
    json_object_set_new(mem, "kv_cache", json_integer((json_int_t)f->mem.kv_cache));
    json_object_set_new(mem, "compute", json_integer((json_int_t)f->mem.compute));
    json_object_set_new(mem, "overhead", json_integer((json_int_t)f->mem.overhead));
    json_object_set_new(mem, "total", json_integer((json_int_t)f->mem.total));
    json_object_set_new(mem, "kv_bytes_per_token", json_integer((json_int_t)f->mem.kv_bytes_per_token));
    if (f->n_recurrent) {
        json_object_set_new(mem, "state", json_integer((json_int_t)f->mem.state));
        json_object_set_new(mem, "recurrent_layers", json_integer(f->n_recurrent));
        json_object_set_new(mem, "state_bytes_per_sequence", json_integer((json_int_t)f->state_per_seq));
    }
    if (f->kinds) {
        json_t *k = json_object();
        json_object_set_new(k, "sliding", json_integer(f->n_sliding));
        json_object_set_new(k, "full", json_integer(f->n_layers - f->n_sliding));
        json_object_set_new(k, "head_dim_sliding", json_integer(f->head_dim_swa));
        json_object_set_new(k, "head_dim_full", json_integer(f->head_dim_k));
        json_object_set_new(k, "kv_heads_sliding", json_integer(f->n_kv_heads_swa));
        json_object_set_new(k, "kv_heads_full", json_integer(f->n_kv_heads_full));
        json_object_set_new(k, "shared_kv_layers", json_integer(f->n_kv_shared));
        json_object_set_new(k, "embedding_length_per_layer", json_integer(f->n_embd_per_layer));
        json_object_set_new(o, "layer_pattern", k);
        json_object_set_new(mem, "kv_sliding_fixed_bytes", json_integer((json_int_t)f->kv_sliding_bytes));
    } else if (f->n_sliding) {
        json_t *k = json_object();
        json_object_set_new(k, "sliding", json_integer(f->n_sliding));
        json_object_set_new(k, "full", json_integer(f->n_layers - f->n_sliding));
        json_object_set_new(k, "window", json_integer(f->sliding_window));
        json_object_set_new(o, "layer_pattern", k);
        json_object_set_new(mem, "kv_sliding_fixed_bytes", json_integer((json_int_t)f->mem.kv_swa));
    }
    json_object_set_new(o, "memory", mem);
    if (tensors) {
        json_t *ts = json_array();
        for (uint64_t i = 0; i < xuan_gguf_n_tensors(g); i++) {
            const xuan_gguf_tensor *t = xuan_gguf_tensor_at(g, i);
            json_t *j = json_object(), *shape = json_array();
            for (uint32_t d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
            json_object_set_new(j, "name", jstr(t->name));
            json_object_set_new(j, "type", jstr(xuan_type_name(t->type)));
            json_object_set_new(j, "shape", shape);
            json_object_set_new(j, "bytes", json_integer((json_int_t)t->n_bytes));
            json_object_set_new(j, "offset", json_integer((json_int_t)t->offset));
            json_object_set_new(j, "split", json_integer(t->split));
            json_array_append_new(ts, j);
        }
        json_object_set_new(o, "tensors", ts);
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s) return cli_error("%s: cannot encode JSON", path);
    puts(s);
    free(s);
    return XUAN_EXIT_OK;
}

/* ==== entry ================================================================ */

static void usage(FILE *f) {
    fprintf(f, "usage: xuan inspect [options] FILE.gguf\n\n"
               "Summarises a GGUF model: architecture, shape, tokenizer, chat template, tensor\n"
               "types, size and the memory it needs to run.\n\n"
               "  -c, --ctx N          context for the memory estimate (default: 4096, or less if\n"
               "                       the model's native context is smaller)\n"
               "  --cache-type T       KV cache type for the estimate: f16 (default), q8_0, q4_0\n"
               "  --tensors            list every tensor\n"
               "  --json               machine-readable output\n"
               "  -v, --verbose        show the memory formula\n");
}

int cmd_inspect(int argc, char **argv) {
    enum { O_JSON = 256, O_TENSORS, O_CACHE };
    static const struct option opts[] = {{"ctx", 1, 0, 'c'}, {"cache-type", 1, 0, O_CACHE},
                                         {"tensors", 0, 0, O_TENSORS}, {"json", 0, 0, O_JSON},
                                         {"verbose", 0, 0, 'v'}, {"quiet", 0, 0, 'q'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, tensors = 0, verbose = 0, quiet = 0, c;
    int64_t n_ctx = 0;
    uint32_t cache_type = XUAN_TYPE_F16;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': if (cli_int_arg("inspect", "--ctx", optarg, 1, 1 << 24, &n_ctx)) return XUAN_EXIT_USAGE; break;
        case O_CACHE: {
            xuan_type t;
            if (xuan_type_from_name(optarg, &t) || (t != XUAN_TYPE_F16 && t != XUAN_TYPE_F32 && t != XUAN_TYPE_Q8_0 &&
                                                   t != XUAN_TYPE_Q4_0 && t != XUAN_TYPE_BF16))
                return cli_usage_error("inspect", "--cache-type: '%s' is not one of f32, f16, bf16, q8_0, q4_0", optarg);
            cache_type = t;
            break;
        }
        case O_TENSORS: tensors = 1; break;
        case O_JSON: json = 1; break;
        case 'v': verbose++; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return XUAN_EXIT_OK;
        default: return cli_usage_error("inspect", "unknown option");
        }
    }
    cli_verbosity(verbose, quiet);
    if (optind != argc - 1)
        return cli_usage_error("inspect", optind == argc ? "a GGUF file is required" : "one file at a time");
    const char *path = argv[optind];
    xuan_error err = {0};
    xuan_gguf *g = xuan_gguf_open(path, &err);
    if (!g) return cli_error("%s", err.msg);
    facts *f = xuan_malloc(sizeof *f);
    int rc = XUAN_EXIT_OK;
    if (!f) rc = cli_error("out of memory");
    else if (gather(g, (uint32_t)n_ctx, cache_type, f, &err)) rc = cli_error("%s", err.msg);
    else if (json) rc = print_json(g, path, f, tensors);
    else {
        print_text(g, path, f, verbose > 0);
        if (tensors) print_tensors(g);
    }
    xuan_free(f);
    xuan_gguf_close(g);
    return rc;
}
