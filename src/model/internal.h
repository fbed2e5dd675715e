/*
 * internal.h — what the engine files of src/model share: the loaded model
 * (weights bound to tensors in the mapping) and the context (KV cache and
 * activation buffers).  Nobody outside src/model includes it.
 */
#ifndef XUAN_MODEL_INTERNAL_H
#define XUAN_MODEL_INTERNAL_H

#include "xuan/model.h"
#include "xuan/quant.h"

/* A 1-D float tensor (norm weights, biases, RoPE factors); NULL = absent. */
typedef const float *vecf;

typedef struct layer_w {
    vecf attn_norm, ffn_norm;
    vecf q_norm, k_norm;          /* per-head RMSNorm weights (qwen3, gemma3), head_dim each */
    vecf attn_post_norm, ffn_post_norm; /* sandwich norms (gemma2/3) */
    xuan_weight wq, wk, wv, wqkv; /* wqkv.data != NULL: fused (phi3) */
    vecf bq, bk, bv, bo;          /* optional biases */
    vecf bqkv;                    /* the fused weight's bias (q | k | v), optional */
    xuan_weight wo;
    xuan_weight w_gate, w_up, w_down; /* w_gate.data == NULL: w_up is gate|up fused */
    /* MoE: the router [n_expert x n_embd] and each expert tensor as one
     * matrix of n_expert * rows rows, expert e's rows starting at e * rows */
    xuan_weight gate_inp, gate_exps, up_exps, down_exps;
    vecf b_gate_inp, b_gate_exps, b_up_exps, b_down_exps; /* their biases (gpt-oss), expert e's at e * rows */
    vecf sinks;                   /* attention sinks (gpt-oss): one logit per head */
    xuan_weight gate_sh, up_sh, down_sh; /* shared experts (deepseek2, qwen35moe): one dense SwiGLU FFN */
    vecf gate_inp_sh;             /* qwen35moe: the shared expert's output times sigmoid(this . x) */
    /* MLA (deepseek2): wq, or wq_a -> q_a_norm -> wq_b; wkv_a gives the
     * compressed KV | the RoPE key part; wk_b and wv_b per head, bound as
     * one matrix of n_heads * rows rows as the experts are */
    xuan_weight wq_a, wq_b, wkv_a, wk_b, wv_b;
    vecf q_a_norm, kv_a_norm;
    /* Gated DeltaNet (qwen35's recurrent layers, qwen35.c): wqkv gives
     * q | k | v for the short convolution, attn_gate the output gate z,
     * ssm_beta / ssm_alpha one value per head; ssm_conv1d is ssm_conv taps
     * per channel, ssm_a = -exp(A_log), ssm_dt the decay's bias, ssm_norm
     * the gated RMSNorm's weight (one head wide).  A gated attention layer
     * has wq rows q | gate per head (gated_q). */
    xuan_weight w_z, ssm_beta, ssm_alpha, ssm_out;
    const float *ssm_conv1d;
    vecf ssm_a, ssm_dt, ssm_norm;
    bool gated_q;
    /* gemma4: per-layer embeddings' gate [d -> P], projection [P -> d] and
     * norm; the layer's output scale (one float); V = K when wv is absent */
    xuan_weight ple_gate, ple_proj;
    vecf ple_norm, out_scale;
} layer_w;

struct xuan_model {
    xuan_gguf *g; /* owned */
    bool *recurrent; /* n_layers, hp.recurrent points here (qwen35); NULL otherwise */
    bool *swa_layers;   /* n_layers, hp.swa_layers points here (gemma4); NULL otherwise */
    uint32_t *ffn_layers; /* n_layers, hp.ffn_layers points here; NULL otherwise */
    /* gemma4's per-layer embeddings: per token n_layers x P values from
     * ple_tok_embd's row plus ple_model_proj of the scaled embedding, normed */
    xuan_weight ple_tok_embd, ple_model_proj;
    vecf ple_proj_norm;
    xuan_hparams hp;
    xuan_weight tok_embd, output;
    vecf output_norm;
    vecf rope_freqs;            /* llama3 frequency factors */
    vecf rope_long, rope_short; /* LongRoPE factors */
    layer_w *layers;            /* n_layers */
    bool *used;                 /* n_tensors: bound by the loader (load.c) */
    uint64_t weight_bytes;
    void *packed;               /* owned: the Q4_K decode layouts the weights' `packed` point into, or NULL */
    uint64_t packed_bytes;
};

/* ---- the KV cache's bookkeeping (kv.c) ----
 * n_cells cells; a cell holds one position's K and V rows (in every layer
 * that uses these cells) for a set of sequences (bit s of cell_seqs).
 * pos_cell maps each sequence's positions to cells, so attention walks a
 * sequence in position order wherever its cells lie.  Positions are <
 * n_pos: n_cells for the main cache, the context for the smaller ring that
 * sliding-window layers keep (forward.c). */
typedef struct kv_cells {
    uint32_t n_cells, n_pos, n_seq;
    int32_t *cell_pos;   /* n_cells; -1 = free */
    uint64_t *cell_seqs; /* n_cells */
    int32_t *cell_tok;   /* n_cells: the token id stored there */
    int32_t *pos_cell;   /* n_seq x n_cells; -1 = no cell */
    int32_t *pos_max;    /* n_seq; -1 = empty */
    uint32_t n_used;     /* cells with a sequence */
    uint32_t head;       /* where the search for a free cell starts */
} kv_cells;

int xuan_kv_init(kv_cells *kv, uint32_t n_cells, uint32_t n_pos, uint32_t n_seq);
void xuan_kv_free(kv_cells *kv);
/* A free cell (scanning from head), or -1 when all are used. */
int32_t xuan_kv_find_free(kv_cells *kv);
/* Puts (seq, pos) into cell (free, pos < n_pos, pos not held by seq). */
void xuan_kv_assign(kv_cells *kv, int32_t cell, int32_t seq, int32_t pos, int32_t tok);
/* Drops seq's positions [p0, p1); seq < 0: every sequence. */
void xuan_kv_seq_rm(kv_cells *kv, int32_t seq, int32_t p0, int32_t p1);
void xuan_kv_seq_cp(kv_cells *kv, int32_t src, int32_t dst, int32_t p0, int32_t p1);
static inline const int32_t *xuan_kv_seq_map(const kv_cells *kv, int32_t seq) {
    return kv->pos_cell + (size_t)seq * kv->n_pos;
}

/* A layer that sees only the sliding window: every layer when the arch has
 * no pattern, else layers il % n < n - 1 (llama_hparams::set_swa_pattern). */
static inline bool layer_is_local(const xuan_hparams *hp, uint32_t il) {
    if (!hp->n_swa) return false;
    if (hp->swa_layers) return hp->swa_layers[il]; /* gemma4: the file's flags */
    return hp->swa_pattern == 0 || il % hp->swa_pattern < hp->swa_pattern - 1;
}

/* A layer's attention geometry (gemma4's sliding and full layers differ;
 * for the other archs both kinds have the same values). */
static inline uint32_t layer_head_dim(const xuan_hparams *hp, uint32_t il) {
    return layer_is_local(hp, il) ? hp->head_dim_swa : hp->head_dim;
}
static inline uint32_t layer_head_dim_v(const xuan_hparams *hp, uint32_t il) {
    return layer_is_local(hp, il) ? hp->head_dim_swa : hp->head_dim_v;
}
static inline uint32_t layer_kv_heads(const xuan_hparams *hp, uint32_t il) {
    return layer_is_local(hp, il) ? hp->n_kv_heads_swa : hp->n_kv_heads;
}
static inline uint32_t layer_n_rot(const xuan_hparams *hp, uint32_t il) {
    return layer_is_local(hp, il) ? hp->n_rot_swa : hp->n_rot;
}
static inline uint32_t layer_ffn(const xuan_hparams *hp, uint32_t il) {
    return hp->ffn_layers ? hp->ffn_layers[il] : hp->d_ffn;
}
/* The layer whose KV layer il reads: itself, or for gemma4's shared-KV
 * layers the last one of its kind that stores KV (llama.cpp's
 * layer_reuse_cb: n_layer_kv_from_start - 2 sliding, - 1 full). */
static inline uint32_t layer_kv_src(const xuan_hparams *hp, uint32_t il) {
    if (il < hp->n_layer_kv) return il;
    return hp->n_layer_kv - (layer_is_local(hp, il) ? 2u : 1u);
}

/* ---- hybrid models: the recurrent layers' state and activations (qwen35.c) ----
 * Per sequence and DeltaNet layer a conv state (the last ssm_conv - 1
 * inputs of every channel, channel-major) and the delta rule's state
 * (per value head a ssm_state x ssm_state matrix M, M[j][i] = S[i][j] as
 * ggml stores it), both F32, zero for an empty sequence. */
static inline bool layer_is_recurrent(const xuan_hparams *hp, uint32_t il) {
    return hp->recurrent && hp->recurrent[il];
}

typedef struct xuan_rec {
    uint32_t n_seq, n_rec, n_rows;
    int32_t *rec_of;       /* n_layers: the layer's index among the recurrent ones, -1: attention */
    size_t conv_n, ssm_n;  /* floats of one sequence's state in one layer */
    float *conv, *ssm;     /* [n_seq][n_rec][conv_n], [n_seq][n_rec][ssm_n] */
    /* the piece's rows (n_rows at most): the q|k|v projection, its
     * convolution, z, beta, alpha -> decay, the heads' outputs */
    float *qkv, *cv, *z, *beta, *gate, *o;
    /* Checkpoints: per sequence XUAN_REC_CKPT copies of the state, each
     * the state after the sequence's first ck_pos tokens (-1: empty),
     * taken where a prompt ended; ck_next: the slot a new one replaces. */
    float *ck_conv, *ck_ssm;  /* [n_seq][XUAN_REC_CKPT][n_rec][conv_n / ssm_n] */
    int32_t *ck_pos;          /* [n_seq][XUAN_REC_CKPT] */
    uint32_t *ck_next;        /* [n_seq] */
    uint64_t bytes;        /* of the states and checkpoints */
} xuan_rec;

/* Checkpoints kept per sequence (each a full copy of its state). */
enum { XUAN_REC_CKPT = 2 };

/* Sizes and allocates the states (zero) and the rows' buffers. */
int xuan_rec_init(xuan_rec *r, const xuan_model *m, uint32_t n_seq, uint32_t n_rows, xuan_error *err);
void xuan_rec_free(xuan_rec *r);
/* Empties sequence s's state (every layer); s < 0: every sequence. */
void xuan_rec_seq_clear(xuan_rec *r, int32_t s);
void xuan_rec_seq_copy(xuan_rec *r, int32_t src, int32_t dst);
/* Sequence s's state as it is now becomes the checkpoint for its first
 * n_past tokens (replacing one at the same n_past, else the oldest). */
void xuan_rec_ckpt_save(xuan_rec *r, int32_t s, int32_t n_past);
/* The checkpoint slot of s at exactly n_past, or -1. */
int xuan_rec_ckpt_find(const xuan_rec *r, int32_t s, int32_t n_past);
/* The largest n_past <= pos of a checkpoint of s, or -1. */
int32_t xuan_rec_ckpt_best(const xuan_rec *r, int32_t s, int32_t pos);
/* dst's state becomes src's checkpoint in slot k (src == dst: a rollback). */
void xuan_rec_ckpt_restore(xuan_rec *r, int32_t src, int k, int32_t dst);
/* Forgets s's checkpoints past n_past (n_past < 0: all of them). */
void xuan_rec_ckpt_drop(xuan_rec *r, int32_t s, int32_t n_past);
/* A DeltaNet layer after its projections (qkv, z, beta, alpha = gate
 * filled by the caller for the n rows, row t of sequence seq[t], rows of a
 * sequence in position order): convolution, activations, the delta rule
 * through each row's sequence state, gated RMSNorm; the heads' outputs
 * (n x ssm_inner) in r->o, for ssm_out. */
void xuan_gdn_mix(xuan_pool *pool, const xuan_model *m, xuan_rec *r, uint32_t il, uint32_t n, const int32_t *seq,
                  xuan_simd simd);
/* One head's step of the gated delta rule (ggml_gated_delta_net's CPU
 * order): M *= exp(g); d_j = (v_j - M_j.k) beta; M_j += k d_j; out_j = M_j.q
 * * scale, done row by row in one pass (each row's steps read that row
 * alone, so the bits are those of ggml's pass after pass).  M is S x S; the dots in
 * ggml_vec_dot_f32's order at `lanes` 16 (its AVX-512 build) or 8 (AVX2).
 * The AVX-512 one needs S % 64 == 0 and gives the bits of lanes 16. */
void xuan_gdn_step(float *M, const float *k, const float *q, const float *v, float beta, float g, float scale,
                   uint32_t S, float *out, uint32_t lanes);
void xuan_gdn_step_avx512(float *M, const float *k, const float *q, const float *v, float beta, float g,
                          float scale, uint32_t S, float *out);
/* qwen35's interleaved multi-section RoPE for text (every section at the
 * token's position but the fourth, at 0): cs (built at pos) gets cs0's
 * (built at 0) entries for the pairs ggml gives the fourth section. */
void xuan_imrope_fix(const xuan_hparams *hp, float *cs, const float *cs0);
/* y = silu(x) over rows of `row` elements (ggml_vec_silu_f32 per row, in
 * chunks of `lanes`: 16 for its AVX-512 build, 8 for its AVX2 one). */
void xuan_op_silu_rows(const float *x, float *y, int64_t n, int64_t row, uint32_t lanes);

/* ---- kernels shared by the forward pass (ops.c) ---- */

/* ggml_vec_dot_f32 of n floats, lanes 16 (its AVX-512 build, GGML_F32_STEP
 * 64: four accumulators of 16 lanes fed by FMA over the first n - n % 64
 * elements, folded 0+2, 1+3, then 0+1, the _mm512_reduce_add_ps tree, then
 * the tail one FMA at a time) or 8 (its AVX2 build: GGML_F32_STEP 32, four
 * 8-lane sums folded the same way, halves added, two horizontal adds).
 * ggml takes it for an F32 product of one token, and for any batch when
 * its rows are not a multiple of 4 (tinyBLAS's matmul refuses those and
 * ggml falls back to this dot per row and token): qwen35moe's 1-row
 * shared-expert gate; and the delta rule's dots. */
float xuan_op_dot_f32_vec(const float *x, const float *y, uint32_t n, uint32_t lanes);
/* y = x / rms(x) * w over n elements (sum in double, as ggml). */
void xuan_op_rmsnorm(const float *x, const float *w, float *y, int64_t n, float eps);
/* cos/sin table for one position: cs[2i], cs[2i+1] for i < n_rot/2, built
 * exactly as ggml's rope cache (theta multiplied step by step). */
void xuan_op_rope_table(const xuan_hparams *hp, const float *freq_factors, float pos,
                        float base, float freq_scale, float *cs);
/* Rotates one head vector in place. */
void xuan_op_rope_apply(float *x, const float *cs, uint32_t n_rot, bool neox);
/* Rounds floats to the nearest F16 (or BF16) value, in place or src->dst. */
void xuan_op_round_f16(const float *src, float *dst, int64_t n);
void xuan_op_round_bf16(const float *src, float *dst, int64_t n);
/* ---- ggml's evaluation order ----
 * The reference is llama.cpp's AVX-512 CPU backend.  It computes an F16 x
 * F16 product in one of two orders: for 2+ tokens through tinyBLAS (GEMM:
 * 16 lanes, lane l adds elements l, l+16, l+32, ... in order, then the
 * _mm512_reduce_add_ps tree), for one token through ggml_vec_dot_f16 (VEC:
 * 64 slots, slot s adds elements s, s+64, ...; slots s+32 and s+48 fold
 * into s and s+16, then s+16 into s, then the tree; the n % 64 tail is
 * added in double).  Attention uses whichever llama.cpp would for the same
 * batch; the weights of attention are the cells of the cache, so a slot is
 * chosen by the absolute cell index. */
typedef enum xuan_order { XUAN_ORDER_GEMM, XUAN_ORDER_VEC, XUAN_ORDER_GEMM8, XUAN_ORDER_VEC8 } xuan_order;
/* GEMM8 and VEC8: the same two orders in llama.cpp's AVX2 build, whose
 * vectors have 8 lanes: tinyBLAS<8> (8 slots, then its hsum: halves added,
 * lanes 0+2 and 1+3, their sum) and ggml_vec_dot_f16 with four 8-lane sums
 * (32 slots; s+16 and s+24 fold into s and s+8, s+8 into s, then halves
 * and two horizontal adds).  xuan's AVX2 level reproduces that build (its
 * expf, 8-element chunks, these orders); its scalar and AVX-512 levels the
 * AVX-512 build: the reference parity is checked against is the one
 * llama.cpp runs on the same CPU (docs/design.md, "Parity per CPU"). */
static inline uint32_t xuan_order_slots(xuan_order o) {
    return o == XUAN_ORDER_GEMM ? 16 : o == XUAN_ORDER_VEC ? 64 : o == XUAN_ORDER_GEMM8 ? 8 : 32;
}
/* ggml_v_expf of the AVX2 build (j * 2^n + 2^n by one FMA), one lane. */
float xuan_op_expf_ggml8(float x);
/* The AVX2 build's forms of the SwiGLU and softmaxes below: 8-element
 * chunks, xuan_op_expf_ggml8, xuan_sum8_tree. */
void xuan_op_swiglu8(const float *g, const float *u, float *y, int64_t n);
void xuan_op_softmax8(float *s, uint32_t n, uint32_t first);
void xuan_op_softmax_sink8(float *s, uint32_t n, uint32_t first, float sink);
void xuan_op_softmax_row8(float *x, uint32_t n);
void xuan_op_swiglu8_avx2(const float *g, const float *u, float *y, int64_t n);
void xuan_op_softmax8_avx2(float *s, uint32_t n, uint32_t first);
void xuan_op_softmax_sink8_avx2(float *s, uint32_t n, uint32_t first, float sink);
/* ggml_v_expf (the polynomial of ARM's optimized-routines), one lane. */
float xuan_op_expf_ggml(float x);
/* y = silu(g) * u: ggml_v_silu on whole 16-element chunks, expf on the tail. */
void xuan_op_swiglu(const float *g, const float *u, float *y, int64_t n);
/* gpt-oss's SwiGLU (ggml_swiglu_oai with alpha 1.702, limit 7): g clamped
 * above at limit, u to [-limit, limit], y = g / (1 + expf(-alpha g)) * (u + 1),
 * element by element with libm's expf, as ggml's CPU op. */
void xuan_op_swiglu_oai(const float *g, const float *u, float *y, int64_t n);
/* y = gelu(g) * u, gelu(tanh) read from ggml's F16 table (GGML_GELU_FP16):
 * y = 0 below -10, g * u above 10. */
void xuan_op_geglu(const float *g, const float *u, float *y, int64_t n);
/* x -> cap * tanh(x / cap), in place. */
void xuan_op_softcap(float *x, int64_t n, float cap);
/* Softmax in place over the scores of cells first .. first+n-1: exp with
 * ggml_v_expf in 16-cell chunks aligned to cell 0, chunk sums by the tree,
 * added in double (ggml_vec_soft_max_f32 over the padded, masked row). */
void xuan_op_softmax(float *s, uint32_t n, uint32_t first);
/* The same with an attention sink (ggml_soft_max_ext with sinks): the max
 * includes it and exp(sink - max), by libm's expf, joins the sum. */
void xuan_op_softmax_sink(float *s, uint32_t n, uint32_t first, float sink);
/* ggml_soft_max of one row of n (the MoE router): blocks of 16 through the
 * vector expf with a lane-tree sum, the tail through libm's expf, the sum in
 * double, then times (float)(1 / sum). */
void xuan_op_softmax_row(float *x, uint32_t n);
/* out[e] = sum_i w[i] * V_i[e] over the n positions first .. first+n-1,
 * position first+i in cache cell cells[i] (cells[i] < 0: a hole, skipped),
 * a cell's hd F16 values at v + cell * stride; w rounded to F16 values.
 * The slot of a term is chosen by its position.  acc: 64 * hd floats of
 * scratch. */
void xuan_op_wsum_f16(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                      uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc);
/* The same with AVX2 + FMA + F16C (ops_avx2.c); identical results. */
void xuan_op_swiglu_avx2(const float *g, const float *u, float *y, int64_t n);
void xuan_op_softmax_avx2(float *s, uint32_t n, uint32_t first);
void xuan_op_softmax_sink_avx2(float *s, uint32_t n, uint32_t first, float sink);
void xuan_op_wsum_f16_avx2(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                           uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc);
/* With AVX-512 (ops_avx512.c): a batch's order with the slots in
 * registers; identical results (the one-token order goes to the AVX2 one). */
void xuan_op_wsum_f16_avx512(float *out, const float *w, const uint8_t *v, size_t stride, const int32_t *cells,
                             uint32_t n, uint32_t first, uint32_t hd, xuan_order o, float *acc);

/* Attention for a tile of query rows that share one KV head and one
 * sequence (attn_avx512.c): a batch of 2+ tokens, F16 K and V, head sizes
 * multiples of 16; the same bits as attn_one's per-row path. */
typedef struct xuan_attn_tile {
    uint32_t n_rows, hd, hdv;
    const float *q;               /* n_rows x hd, rounded to F16 values */
    float *const *out;            /* n_rows: where each row's hdv outputs go */
    const uint32_t *first, *end;  /* n_rows: the positions [first, end) a row sees */
    const int32_t *cells;         /* the sequence's cell of each position, < 0: none */
    const uint8_t *k, *v;         /* the KV head's cell 0 in the K / V cache */
    size_t k_row, v_row;          /* bytes from one cell to the next */
    float scale, softcap;         /* as attn_job's */
    const float *sink;            /* n_rows: each row's attention sink, or NULL */
    float *s;                     /* scores: row r, position p at s[r * s_stride + p] */
    size_t s_stride;
    float *acc;                   /* n_rows x 16 x hdv: the V sum's slots */
    float *pack;                  /* ATTN_TILE_CHUNK x max(hd, hdv): K or V rows as floats */
} xuan_attn_tile;
/* Rows of a tile at most; positions per pass over K and V. */
enum { ATTN_TILE_ROWS_MAX = 64, ATTN_TILE_CHUNK = 64 };
void xuan_attn_tile_avx512(const xuan_attn_tile *t);
/* The softmax's exp pass over a row's scores at positions first ..
 * first+n-1 (s points at position first of a row that starts at position
 * 0): each becomes exp(s - mx) by ggml_v_expf; returns their sum as
 * xuan_op_softmax adds it (16-position chunks aligned to position 0, each
 * by the reduce tree, in double). */
double xuan_attn_exp_avx512(float *s, uint32_t n, uint32_t first, float mx);
/* Tests: turns the tiled path off (or back on where the context has it). */
struct xuan_ctx;
void xuan_ctx_set_attn_tiled(struct xuan_ctx *c, bool on);

#endif
