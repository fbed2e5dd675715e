/*
 * xuan/model.h — model architectures: shapes, tensor names, synthesis of
 * test models, and (with the engine) the forward pass.
 *
 * Synthetic models: GGUF files with llama.cpp's exact tensor names and
 * metadata keys, real shapes and random weights.  Speed does not depend on
 * weight values, so benchmarks run on them; tests make small ones.
 *
 *     xuan_synth_params p;
 *     xuan_synth_preset("qwen2.5-0.5b", &p);   // shape from the catalog
 *     p.type = XUAN_TYPE_Q8_0;                  // 2D weights
 *     if (xuan_synth_write(&p, "q05b.gguf", &err)) ...
 *
 * Weights are deterministic in (seed, tensor name, position): the same
 * parameters give the same file byte for byte.
 */
#ifndef XUAN_MODEL_H
#define XUAN_MODEL_H

#include "xuan/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- synthetic models ------------------------------------------------------ */

typedef struct xuan_synth_params {
    char preset[32];
    char arch[16];         /* an architecture the engine runs (xuan_arch_runnable_list) */
    uint32_t n_layers, d_model, d_ffn, n_heads, n_kv_heads, head_dim;
    uint32_t n_vocab;      /* embedding rows (>= tokenizer size; extra rows become [PADn]) */
    uint32_t n_ctx;        /* {arch}.context_length */
    float rope_base, norm_eps;
    bool tied;             /* output shares token_embd (no output.weight) */
    bool qkv_bias;         /* qwen2: attn_{q,k,v}.bias */
    bool llama3_rope;      /* rope_freqs.weight with Llama-3.1's frequency factors */
    bool longrope;         /* phi3: rope_factors_{long,short}.weight, original ctx 4096 */
    uint32_t n_swa;        /* {arch}.attention.sliding_window (gemma), 0 = none */
    float rope_linear;     /* {arch}.rope.scaling.factor with type linear (gemma3), 0 = none */
    float yarn;            /* YaRN factor (mistral3), 0 = none; with yarn_orig */
    uint32_t yarn_orig;
    float attn_temp;       /* {arch}.attention.temperature_scale (mistral3), 0 = none */
    uint32_t n_rot;        /* rope.dimension_count below the head size (glm4), 0 = head size */
    uint32_t n_expert, n_expert_used, n_ff_exp; /* MoE archs: experts, used per token, rows each */
    uint32_t n_lora_kv;    /* deepseek2: compressed KV width (kv_lora_rank); 0 = not MLA */
    uint32_t n_lora_q;     /* deepseek2: q_lora_rank (attn_q_a / attn_q_b); 0 = one attn_q (Lite) */
    uint32_t head_dim_v;   /* deepseek2: value_length_mla (head_dim is key_length_mla) */
    uint32_t n_dense_lead, n_expert_shared; /* deepseek2: leading dense layers, shared experts */
    uint32_t n_ff_shexp;   /* arch moe_shexp_gated (qwen35moe): the shared expert's rows */
    uint32_t n_expert_groups, n_group_used; /* deepseek2: expert groups, groups a token may use (0 = none) */
    float yarn_log_mul;    /* rope.scaling.yarn_log_multiplier as written (deepseek2: 0.1 * mscale_all_dim);
                              0 writes 1 (Ministral 3), < 0 writes no key (gpt-oss) */
    /* qwen35: Gated DeltaNet layers (all but every full_attn-th), their
     * conv kernel, key/value head size, key heads, value heads; the
     * imrope sections (pairs per position kind, summing to n_rot / 2) */
    uint32_t ssm_conv, ssm_state, ssm_groups, ssm_heads, full_attn;
    int32_t rope_sections[4];
    /* gemma4: layer il slides (window n_swa) unless il % swa_period ==
     * swa_period - 1; sliding heads are head_dim_swa wide (head_dim is the
     * full layers'); the last n_kv_shared layers read earlier layers' KV;
     * per-layer embeddings n_embd_per_layer wide (0: none); full layers
     * rotate rot_full of their dims ("proportional" RoPE: rope_freqs 1, then
     * 1e30); no_v_full: full layers have no attn_v (V = K);
     * final_softcap > 0 writes final_logit_softcapping */
    uint32_t swa_period, head_dim_swa, n_kv_shared, n_embd_per_layer, rot_full;
    bool no_v_full;
    float final_softcap;
    uint32_t type;         /* 2D weights; rows that do not fit fall back as llama.cpp does */
    uint32_t embd_type;    /* token_embd.weight */
    uint32_t output_type;  /* output.weight */
    const char *mix;       /* a llama-quantize file type ("Q4_K_M", "Q8_0", ...): types every
                              tensor by its rules instead of type/embd_type/output_type */
    bool sparse;           /* tensor data left as holes in a sparse file: header-exact and
                              instant to write, for size and memory tests; not runnable */
    uint64_t seed;
    const char *vocab_from; /* GGUF to copy tokenizer.* keys from; NULL = built-in byte vocab */
    const char *name;       /* general.name; NULL = "synthetic-<preset>-<type>" */
} xuan_synth_params;

/* Fills p with a preset's shape (F16 weights, seed 1234): real shapes
 * (qwen2.5-7b, llama3.1-8b, phi4, qwen3-8b, gemma3-12b ...) and tiny ones
 * per architecture for tests (tiny, tiny256, qwen3-tiny, gemma3-tiny ...);
 * xuan_synth_preset_names() lists them.  XUAN_ERR_NOTFOUND for another name. */
int xuan_synth_preset(const char *name, xuan_synth_params *p);
/* Preset names, NULL-terminated. */
const char *const *xuan_synth_preset_names(void);
/* Checks the shape and writes the model (atomically). */
int xuan_synth_write(const xuan_synth_params *p, const char *path, xuan_error *err);
/* The type llama.cpp falls back to when a row of n columns does not fit
 * `type`'s block (Q4_K -> Q5_0, Q6_K -> Q8_0, ...); `type` itself if it fits. */
uint32_t xuan_synth_fallback_type(uint32_t type, uint64_t n_cols);
/* llama.cpp's general.file_type for a tensor type used as the main type. */
uint32_t xuan_ftype_for_type(uint32_t type);
const char *xuan_ftype_name(uint32_t ftype); /* "Q4_K_M", "MOSTLY_F16"->"F16", ... "?" */

/* ==== the engine: loading a model and running it ==========================
 *
 *     xuan_model *m = xuan_model_load("qwen2.5-7b-q4_k_m.gguf", &err);
 *     if (!m) die(err.msg);          // unknown arch, missing tensor, bad shape ...
 *     xuan_ctx_params cp = xuan_ctx_params_default();
 *     cp.n_ctx = 4096; cp.n_threads = 2;
 *     xuan_ctx *c = xuan_ctx_new(m, &cp, &err);
 *     if (xuan_ctx_eval(c, ids, n_ids, &err) != 0) die(err.msg);   // the prompt
 *     const float *logits = xuan_ctx_logits(c);   // n_vocab floats, last token
 *     ...pick a token `next`, then xuan_ctx_eval(c, &next, 1, &err) ...
 *     xuan_ctx_free(c);
 *     xuan_model_free(m);
 *
 * A model is read-only after loading (weights point into the read-only
 * mapping of the file), so several contexts may share one.  A context owns
 * the KV cache, every activation buffer (allocated once, in xuan_ctx_new,
 * sized for n_batch tokens) and its thread pool; evaluation allocates
 * nothing.  The numerics follow llama.cpp's CPU path (activations rounded to
 * F16 for F16 weights, queries to F16 against an F16 K cache, attention
 * weights to F16 before the V product) so logits agree to ~1e-4.
 */

/* Everything the forward pass needs, read from GGUF metadata. */
typedef struct xuan_hparams {
    const xuan_arch_info *arch; /* the architecture table's entry (xuan/gguf.h) */
    char arch_name[16];
    uint32_t n_layers, d_model, d_ffn, n_heads, n_kv_heads, head_dim, n_rot;
    uint32_t n_vocab;       /* rows of token_embd.weight */
    uint32_t n_ctx_train;   /* {arch}.context_length */
    float norm_eps;
    bool rope_neox;         /* NeoX pairing (i, i + n_rot/2) instead of (2i, 2i+1) */
    float rope_base;        /* rope.freq_base, default 10000 */
    float rope_freq_scale;  /* 1 / rope.scaling.factor (1 when absent or type none) */
    float rope_attn_factor; /* rope.scaling.attn_factor (LongRoPE), default 1 */
    float yarn_ext_factor;  /* 1 for YaRN, else 0 (or rope.scaling.yarn_ext_factor) */
    float yarn_beta_fast, yarn_beta_slow, yarn_log_mul;
    uint32_t n_ctx_orig;    /* rope.scaling.original_context_length, default n_ctx_train */
    uint32_t n_swa;         /* attention.sliding_window; 0 = full attention */
    uint32_t swa_pattern;   /* 0: the window applies to every layer; n: layers il % n < n-1 are local */
    float rope_base_swa;    /* local layers' rope.freq_base_swa (gemma: 10000), freq scale 1 */
    float rope_freq_scale_swa;
    float q_scale;          /* Q times this after RoPE (phi3, gemma), 0 = Q.K scaled by 1/sqrt(head) */
    float attn_softcap;     /* Q.K -> cap * tanh(Q.K / cap) (gemma2); 0 = none */
    float final_softcap;    /* logits -> cap * tanh(logits / cap); 0 = none */
    uint32_t n_expert, n_expert_used; /* expert_count, expert_used_count (0: dense) */
    uint32_t n_ff_exp;      /* expert_feed_forward_length: rows of one expert's gate/up */
    bool expert_norm;       /* selected weights divided by their sum */
    uint32_t n_expert_groups, n_group_used; /* expert_group_count / _used_count: experts chosen only
                                               from the groups whose best two score highest; 0/1 = none */
    float expert_scale;     /* expert_weights_scale (0 or 1: none) */
    float attn_temp_scale;  /* attention.temperature_scale (mistral3): Q times
                               1 + scale * log(floor(pos / n_ctx_orig) + 1); 0 = none */
    /* MLA (deepseek2, absorbed as convert_hf_to_gguf writes it): the cache
     * holds one "head" of head_dim = n_lora_kv + n_rot per token (the
     * compressed KV, normed, then the roped shared key part); V is its
     * first n_lora_kv values; Q.K runs in that space after attn_k_b turns
     * each head's no-RoPE query into it, and attn_v_b turns each head's
     * attention output back into head_dim_v_mla values. */
    bool mla;
    uint32_t n_lora_kv, n_lora_q;  /* attention.kv_lora_rank, q_lora_rank (0: one attn_q) */
    uint32_t head_dim_k_mla;       /* attention.key_length_mla: no-RoPE + RoPE part of a query */
    uint32_t head_dim_v;           /* V values per head read from the cache (= head_dim unless MLA) */
    uint32_t head_dim_v_mla;       /* attention.value_length_mla: attn_v_b's output per head */
    float kq_scale;                /* Q.K scale when not 1/sqrt(head_dim) (MLA's YaRN mscale^2/sqrt(k_mla)) */
    uint32_t n_dense_lead;         /* leading_dense_block_count: first layers with a dense FFN */
    uint32_t n_expert_shared;      /* expert_shared_count: shared experts' width is n_ff_exp times this */
    uint32_t n_ff_shexp;           /* rows of the shared experts' FFN, 0 = none: deepseek2 n_ff_exp *
                                      n_expert_shared, arch moe_shexp_gated expert_shared_feed_forward_length */
    /* Hybrid Gated DeltaNet (qwen35): layer il is a DeltaNet (linear
     * attention) layer when recurrent[il], else gated full attention.  A
     * DeltaNet layer keeps per sequence a conv state of (ssm_conv - 1) x
     * (ssm_inner + 2 ssm_groups ssm_state) floats and a recurrent state of
     * ssm_heads x ssm_state x ssm_state floats (value heads x key dim x
     * value dim); q/k have ssm_groups heads, v ssm_heads, all ssm_state wide. */
    uint32_t ssm_conv, ssm_inner, ssm_state, ssm_groups, ssm_heads;
    uint32_t n_recurrent;      /* DeltaNet layers */
    const bool *recurrent;     /* n_layers flags, owned by the model; NULL: none */
    int32_t rope_sections[4];  /* rope.dimension_sections (imrope): pairs per position kind */
    /* gemma4 (arch layer_kinds): layer il slides when swa_layers[il]
     * (attention.sliding_window_pattern, one flag per layer; n_layers flags
     * owned by the model, NULL for the other archs, whose swa_pattern rule
     * holds); sliding layers have head_dim_swa-wide heads (key_length_swa),
     * n_kv_heads_swa KV heads, n_rot_swa rotary dims and no frequency
     * factors, the others head_dim / n_kv_heads / n_rot (every arch has the
     * _swa values, equal to the others where the file does not differ).
     * Layers from n_layer_kv on (shared_kv_layers at the top) store no KV:
     * they read that of layer n_layer_kv - 2 (sliding) or - 1 (full).
     * n_embd_per_layer: per-layer embeddings of that width (0: none).
     * ffn_layers: each layer's FFN width when feed_forward_length is an
     * array (d_ffn is then the largest), NULL otherwise. */
    const bool *swa_layers;
    uint32_t head_dim_swa, n_kv_heads_swa, n_rot_swa;
    uint32_t n_layer_kv;
    uint32_t n_embd_per_layer;
    const uint32_t *ffn_layers;
    char rope_scaling[16];  /* "none", "linear", "yarn", "longrope", "llama3" */
    bool tied;              /* output reuses token_embd.weight */
} xuan_hparams;

typedef struct xuan_model xuan_model;

/* Opens and validates a model: architecture known, every hyperparameter
 * consistent, every tensor present with the shape and a type the kernels
 * handle.  Errors name the key or tensor ("blk.3.attn_k.weight: shape
 * [896, 256], expected [896, 128]").  Returns NULL with err set. */
xuan_model *xuan_model_load(const char *path, xuan_error *err);
/* The same with map flags: XUAN_MAP_READ (--no-mmap: the weights are read
 * into memory), XUAN_MAP_LOCK (--mlock: locked in RAM); see xuan_map. */
xuan_model *xuan_model_load_ex(const char *path, unsigned map_flags, xuan_error *err);
/* Same on an already opened file; the model takes ownership of g (closed
 * by xuan_model_free, also on failure). */
xuan_model *xuan_model_from_gguf(xuan_gguf *g, xuan_error *err);
void xuan_model_free(xuan_model *m);
const xuan_hparams *xuan_model_hparams(const xuan_model *m);
const xuan_gguf *xuan_model_gguf(const xuan_model *m);
/* Bytes of weight data the model maps. */
uint64_t xuan_model_weight_bytes(const xuan_model *m);
/* Bytes of the Q4_K decode layout copied at load (xuan_q4_K_pack: the
 * dense Q4_K matrices again, in memory the model owns; 0 with XUAN_REPACK=0,
 * on CPUs below AVX2 or without Q4_K matrices). */
uint64_t xuan_model_packed_bytes(const xuan_model *m);

typedef struct xuan_ctx_params {
    uint32_t n_ctx;      /* KV cache cells (tokens, all sequences together); 0 = min(n_ctx_train, 4096) */
    uint32_t n_batch;    /* tokens per forward pass (default 512); longer batches are split */
    uint32_t n_seq_max;  /* sequences the cache can hold at once, 1..64 (default 1) */
    int n_threads;       /* 0 = all cores */
    uint32_t type_k;     /* K cache type: XUAN_TYPE_F16 (default), Q8_0, Q5_1, Q5_0, Q4_1, Q4_0, IQ4_NL */
    uint32_t type_v;     /* V cache type, the same choice, independently */
    xuan_pool *pool;     /* threads to run on, not owned; NULL = the process-wide pool of
                            n_threads (xuan_pool_shared), so contexts never oversubscribe */
    bool swa_full;       /* sliding-window layers keep every position (llama.cpp's --swa-full);
                            default: only each sequence's window (plus a quarter of it), in a
                            ring of n_seq_max x 1.25 windows + n_batch cells */
} xuan_ctx_params;

xuan_ctx_params xuan_ctx_params_default(void);

typedef struct xuan_ctx xuan_ctx;

/* Allocates the KV cache and activations.  Fails with XUAN_ERR_USAGE for a
 * cache type the traits table does not mark as one (xuan_quant_traits.kv),
 * a head size its blocks do not divide or n_seq_max outside 1..64,
 * XUAN_ERR_NOMEM when the cache does not fit the allocation cap. */
xuan_ctx *xuan_ctx_new(const xuan_model *m, const xuan_ctx_params *p, xuan_error *err);
void xuan_ctx_free(xuan_ctx *c);
uint32_t xuan_ctx_n_ctx(const xuan_ctx *c);
const xuan_model *xuan_ctx_model(const xuan_ctx *c);
uint32_t xuan_ctx_n_seq_max(const xuan_ctx *c);
/* Cells of the cache holding at least one sequence's token. */
uint32_t xuan_ctx_cells_used(const xuan_ctx *c);

/* ---- batches: many sequences in one forward pass ---------------------------
 *
 *     // two prompts side by side, logits after each one's last token
 *     int32_t tok[] = {a0, a1, a2, b0, b1}, seq[] = {0, 0, 0, 1, 1};
 *     int8_t want[] = {0, 0, 1, 0, 1};
 *     xuan_batch b = {.n_tokens = 5, .token = tok, .seq_id = seq, .logits = want};
 *     if (xuan_ctx_decode(c, &b, &err)) die(err.msg);
 *     const float *la = xuan_ctx_logits_ith(c, 2), *lb = xuan_ctx_logits_ith(c, 4);
 *
 * The cache is a set of cells, each holding one position's K and V for one
 * or more sequences (a copied prefix is shared, not duplicated).  Attention
 * of a token sees the cells of its own sequence at positions up to its own.
 * Results do not depend on where in the cache a token's cells are: every
 * reduction is ordered by position, as llama.cpp orders it by cell in a
 * one-sequence cache (where cell == position), so one sequence alone
 * computes exactly what it did before batches existed.  Batching changes
 * the batch size of the matrix products, and with it, for F16 and Q4_K
 * weights and an F16 cache, the summation order llama.cpp uses (docs/design.md,
 * "Batches"): Q8_0/Q6_K weights with a Q8_0 cache give the same bits at any
 * batch composition. */
typedef struct xuan_batch {
    int32_t n_tokens;
    const int32_t *token;  /* n_tokens ids */
    const int32_t *pos;    /* positions; NULL = each sequence continues after its last one */
    const int32_t *seq_id; /* sequence of each token, < n_seq_max; NULL = all sequence 0 */
    const int8_t *logits;  /* nonzero: keep this row's logits; NULL = the last token only */
} xuan_batch;

/* Evaluates a batch (in pieces of n_batch tokens) and keeps the logits of
 * the rows asked for.  Checked before anything is evaluated, each refused
 * with XUAN_ERR_USAGE and a message naming the token: an id outside the
 * vocabulary, a sequence id outside 0..n_seq_max-1, a position that does not
 * continue its sequence (gap, repeat, or past the context).  XUAN_ERR_FULL:
 * not enough free cells.  XUAN_ERR_INTERRUPTED: the stop flag was set
 * between layers; the pieces already evaluated stay in the cache, the one
 * in flight leaves nothing.  A sequence cancelled while the batch runs
 * (xuan_ctx_seq_cancel) is dropped at the end of the piece in flight: its
 * tokens of this call leave the cache, its rows have no logits, and the
 * other rows are computed exactly as without the cancellation. */
int xuan_ctx_decode(xuan_ctx *c, const xuan_batch *b, xuan_error *err);
/* Logits (n_vocab floats) of row i of the last decode, NULL when that row
 * was not asked for (or its sequence was cancelled); valid until the next
 * decode.  i < 0 counts from the end. */
const float *xuan_ctx_logits_ith(const xuan_ctx *c, int32_t i);

/* Sequence operations.  Positions p0 <= p < p1; p0 < 0 means 0, p1 < 0 means
 * to the end.  seq < 0 in xuan_ctx_seq_rm: every sequence.  They fail (with
 * XUAN_ERR_USAGE) for a sequence id out of range, and on a model with
 * recurrent layers (qwen35) for what its state cannot do: removing the end
 * of a sequence except back to a checkpoint (xuan_ctx_seq_resume_at), or
 * copying part of one except up to a checkpoint (docs/qwen35.md). */
int xuan_ctx_seq_rm(xuan_ctx *c, int32_t seq, int32_t p0, int32_t p1, xuan_error *err);
/* dst shares src's cells in [p0, p1) (dst's own cells there are dropped first). */
int xuan_ctx_seq_cp(xuan_ctx *c, int32_t src, int32_t dst, int32_t p0, int32_t p1, xuan_error *err);
/* Drops every sequence but seq. */
int xuan_ctx_seq_keep(xuan_ctx *c, int32_t seq, xuan_error *err);
/* Whether a token at position pos of seq can be evaluated after the
 * positions from pos on are removed: false when the sliding window of pos
 * reaches back into positions the window's cache has let go (see
 * swa_full); evaluate the sequence again from 0 then. */
bool xuan_ctx_seq_resumable(const xuan_ctx *c, int32_t seq, int32_t pos);
/* The largest position <= pos from which seq can be evaluated again once
 * the positions from there on are removed: pos when resumable, else on a
 * model with recurrent layers its latest state checkpoint below pos (taken
 * where a decode of 2+ of its tokens ended, XUAN_REC_CKPT of them kept),
 * else 0. */
int32_t xuan_ctx_seq_resume_at(const xuan_ctx *c, int32_t seq, int32_t pos);
/* Bytes of the K and V caches, and of the recurrent layers' states and
 * their checkpoints (hybrid models). */
uint64_t xuan_ctx_cache_bytes(const xuan_ctx *c);
/* Largest position of seq in the cache, -1 when it is empty (or out of range). */
int32_t xuan_ctx_seq_pos_max(const xuan_ctx *c, int32_t seq);
/* Asks a running (or the next) decode to drop seq; safe from any thread.
 * The request stands until xuan_ctx_seq_rm removes the sequence. */
void xuan_ctx_seq_cancel(xuan_ctx *c, int32_t seq);
bool xuan_ctx_seq_cancelled(const xuan_ctx *c, int32_t seq);

/* ---- one sequence (sequence 0), the way run/chat/bench use it ---- */

/* Tokens of sequence 0 (the position of its next token). */
uint32_t xuan_ctx_n_past(const xuan_ctx *c);
/* Sequence 0's ids by position, n_past of them (-1 where a position was removed). */
const int32_t *xuan_ctx_tokens(xuan_ctx *c);
/* Forgets sequence 0 from position n on; 0 clears it.  On a model with
 * recurrent layers a cut that is not back to a checkpoint clears it too
 * (check xuan_ctx_seq_resume_at first). */
void xuan_ctx_truncate(xuan_ctx *c, uint32_t n);

/* Appends n tokens to sequence 0 and computes the logits of the last one.
 * XUAN_ERR_FULL when they do not fit the context, XUAN_ERR_USAGE for an id
 * outside the vocabulary (nothing is evaluated then), XUAN_ERR_INTERRUPTED
 * as xuan_ctx_decode.  n == 0 is a no-op. */
int xuan_ctx_eval(xuan_ctx *c, const int32_t *ids, size_t n, xuan_error *err);
/* Logits of the last row of the last eval or decode (NULL if it had none). */
const float *xuan_ctx_logits(const xuan_ctx *c);
/* A flag polled between layers (e.g. set by a SIGINT handler). */
void xuan_ctx_set_stop(xuan_ctx *c, volatile int *stop);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_MODEL_H */
