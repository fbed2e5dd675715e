/*
 * matmul.c — Y = X * W^T over the thread pool, for decoding (one token)
 * and prompt processing (a batch).
 *
 * Work split: each thread owns a contiguous range of weight rows, so every
 * weight byte is read by exactly one core.  Inside its range a thread walks
 * tiles of ROW_TILE rows x TOK_TILE tokens: the tile's weight rows (a few
 * KB each) stay in L1/L2 while each token's activations pass over them, so
 * the weights are read from memory once per TOK_TILE tokens instead of once
 * per token, and the activations of a tile stay in L2.
 */
#include "quant/internal.h"

#include <stdatomic.h>

enum { ROW_TILE = 16, TOK_TILE = 64, PREFETCH_ROWS = 16 };

/* From this many tokens on, AVX-512 machines take the packed batch kernel
 * of gemm_avx512.c (packing is paid per call): 8 for the types whose panels
 * sum floats per group, 4 for those that give the one-token bits
 * (gemm_min_tok, below). */
enum { GEMM_MIN_TOK = 8, GEMM_MIN_TOK_EXACT = 4 };
/* Q4_K takes the packed kernel from 4 tokens (its 4-token arithmetic is
 * llama.cpp's gemm's): Qwen2.5-7B Q4_K_M at 4 sequences S_TG 5.55 -> 8.28
 * tok/s against the four-token dot (q4_K_pairs_x4, which still serves a
 * tail below 4 and machines without AVX-512). */
enum { GEMM_MIN_TOK_Q4_K = 4 };
/* MXFP4's panel (gemm_mxfp4_avx512.c) gives the bits of the dot a batch
 * takes (one token takes ggml_vec_dot_mxfp4_q8_0's order instead), so it
 * serves from 2 tokens, the rows routed to an expert included. */
enum { GEMM_MIN_TOK_MXFP4 = 2 };
/* Up to this many tokens a Q4_K weight with a decode layout (repack.c) is
 * read from it where the AVX-512 batch kernel does not take the product:
 * a decode step of up to 16 sequences; longer batches (prompts) keep the
 * row tiles below, whose activations stay in L2. */
enum { PACKED_MAX_TOK = 16 };

/* Decode work claiming (see decode_rows): chunks of CLAIM_TILES row tiles,
 * for pools of up to MAX_CLAIM threads (larger pools split statically). */
enum { CLAIM_TILES = 4, MAX_CLAIM = 8, GEMM_CLAIM_TOK = 8 };

/* One thread's remaining tiles [front, back) packed as front | back << 32,
 * on its own cache line. */
typedef struct {
    _Alignas(64) atomic_uint_fast64_t range;
} claim_slot;

typedef struct mm_job {
    const xuan_weight *w;
    const float *x;
    float *y;
    int64_t n_tok;
    const uint8_t *act; /* activations in vec-dot format (or x itself) */
    size_t act_row;     /* bytes per activation row */
    size_t w_row;       /* bytes per weight row */
    uint32_t act_type;
    xuan_vec_dot_fn dot;
    xuan_vec_dot_fn dot4;  /* tokens below n_dot4 (llama.cpp's 4-token kernel), or NULL */
    xuan_dot_x4_fn dot4x;  /* the same, four tokens per call */
    int64_t n_dot4;
    bool gemm;          /* the packed AVX-512 batch kernel */
    uint8_t *meta;      /* its per-token activation sums (after the activations) */
    size_t meta_row;
    claim_slot *claims; /* decode: one per thread, or NULL for a static split */
    const void *packed; /* one token: the Q4_K decode layout of rows [0, n_packed), or NULL */
    int64_t n_packed;
    xuan_q4_K_packed_fn packed_dot;
} mm_job;

static size_t act_row_bytes(uint32_t act_type, int64_t n_cols) {
    uint64_t b = 0;
    XUAN_ASSERT(xuan_type_row_size(act_type, (uint64_t)n_cols, &b));
    return (size_t)b;
}

int xuan_weight_check(const xuan_weight *w, const char *name, xuan_error *err) {
    const char *nm = name ? name : "weight";
    if (!xuan_quant_can_matmul(w->type))
        return xuan_fail(err, XUAN_ERR_UNSUPPORTED, "%s: type %s is not supported by the CPU kernels",
                         nm, xuan_type_name(w->type));
    const xuan_type_traits *t = xuan_type_get(w->type);
    uint32_t act = xuan_quant_vec_dot_type(w->type);
    uint32_t block = t->block_size > xuan_type_get(act)->block_size ? t->block_size
                                                                    : xuan_type_get(act)->block_size;
    if (w->n_cols <= 0 || w->n_rows <= 0 || w->n_cols % block)
        return xuan_fail(err, XUAN_ERR_FORMAT,
                         "%s: row length %lld is not a multiple of the %s block size %u", nm,
                         (long long)w->n_cols, t->name, block);
    uint64_t row, total;
    if (!xuan_type_row_size(w->type, (uint64_t)w->n_cols, &row) ||
        !xuan_mul_ok(row, (uint64_t)w->n_rows, &total) || total > (uint64_t)SIZE_MAX)
        return xuan_fail(err, XUAN_ERR_FORMAT, "%s: %lld x %lld is too large", nm,
                         (long long)w->n_rows, (long long)w->n_cols);
    return 0;
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Where the packed kernel starts.  Q8_0 and Q6_K panels give the one-token
 * bits, and so does Q5_0's below 8 tokens (gemm_avx512.c); from 4 tokens on
 * they beat the one-token dots (Qwen2.5-0.5B Q4_K_M, whose 896-wide rows
 * are Q5_0, 4 sequences: S_TG 45 -> 91 tok/s).  Q4_K has its own threshold
 * (above). */
static int64_t gemm_min_tok(uint32_t type) {
    if (type == XUAN_TYPE_MXFP4) return GEMM_MIN_TOK_MXFP4;
    if (type == XUAN_TYPE_Q4_K) return GEMM_MIN_TOK_Q4_K;
    if (type == XUAN_TYPE_Q8_0 || type == XUAN_TYPE_Q5_0 || type == XUAN_TYPE_Q6_K) return GEMM_MIN_TOK_EXACT;
    return GEMM_MIN_TOK;
}

/* Scratch layout: n_tok activation rows, then (batch kernel) n_tok meta rows. */
size_t xuan_matmul_scratch_size(const xuan_weight *w, int64_t n_tok) {
    uint32_t act = xuan_quant_vec_dot_type(w->type);
    if (act == XUAN_TYPE_F32 || act == XUAN_TYPE_COUNT) return 0;
    size_t n = act_row_bytes(act, w->n_cols) * (size_t)n_tok;
    uint64_t wr = 0;
    if (n_tok >= gemm_min_tok(w->type) && xuan_type_row_size(w->type, (uint64_t)w->n_cols, &wr) &&
        xuan_gemm_avx512_supports(w->type, w->n_cols, (size_t)wr))
        n = align64(n) + xuan_gemm_meta_row_bytes(w->type, w->n_cols) * (size_t)n_tok;
    return n;
}

/* Phase 1 of a batch: each thread quantizes a share of the tokens. */
static void quantize_part(void *ctx, int ith, int nth) {
    mm_job *j = ctx;
    int64_t t0 = j->n_tok * ith / nth, t1 = j->n_tok * (ith + 1) / nth;
    for (int64_t t = t0; t < t1; t++) {
        uint8_t *a = (uint8_t *)j->act + t * j->act_row;
        xuan_quantize_act(j->act_type, j->x + t * j->w->n_cols, a, j->w->n_cols);
        if (j->gemm) xuan_gemm_prepare_act(j->w->type, a, j->w->n_cols, j->meta + t * j->meta_row);
    }
}

/* Decode rows [r0, r1) of one token.  The hardware prefetcher alone
 * keeps too few lines in flight while the core does arithmetic (and stops
 * at 4 KB page boundaries), so each row starts by asking for the row
 * PREFETCH_ROWS ahead (below pf_end), into L2 (prefetcht1; the
 * non-temporal hint measured 2x slower).  On this 2-core VM it doubled the
 * 152064x3584 rates (Q4_K 8.7 -> 17.6 GB/s at 2 threads).  A whole-row
 * burst beats a steady stream at a fixed byte distance, and every line
 * must be asked for (docs/perf.md, Kernels). */
/* A few tokens (a decode step of several sequences) read each weight row
 * from memory once, like one token, but spend longer on it: without a
 * prefetch the loads stall (Qwen2.5-0.5B Q4_K_M, 4 sequences: 57% of the
 * Q5_0 dot's samples on its first load of a block).  The first token pass
 * over a row tile fetches the next tile's rows. */
static inline void prefetch_row(const mm_job *j, int64_t r, int64_t end) {
    if (r >= end) return;
    const char *p = (const char *)j->w->data + (size_t)r * j->w_row;
    for (size_t off = 0; off < j->w_row; off += 64) __builtin_prefetch(p + off, 0, 2);
}

static void decode_rows(const mm_job *j, int64_t r0, int64_t r1, int64_t pf_end) {
    const uint8_t *wdata = j->w->data;
    const size_t w_row = j->w_row;
    for (int64_t r = r0; r < r1; r++) {
        if (r + PREFETCH_ROWS < pf_end) {
            const char *p = (const char *)wdata + (size_t)(r + PREFETCH_ROWS) * w_row;
            for (size_t off = 0; off < w_row; off += 64) __builtin_prefetch(p + off, 0, 2);
        }
        j->y[r] = j->dot(j->w->n_cols, wdata + r * w_row, j->act);
    }
}

/* Decode rows [r0, r1): from the decode layout where the weight has one
 * (r0 is a multiple of ROW_TILE, so the packed part starts on a group),
 * the rows past it (a tail of 8) from the mapped rows. */
static void decode_span(const mm_job *j, int64_t r0, int64_t r1, int64_t pf_end) {
    if (j->packed && r0 < j->n_packed) {
        const int64_t e = r1 < j->n_packed ? r1 : j->n_packed;
        XUAN_ASSERT(r0 % 8 == 0 && e % 8 == 0);
        j->packed_dot(j->packed, j->w->n_cols, r0, e, pf_end < j->n_packed ? pf_end : j->n_packed, j->act, j->act_row,
                      1, 0, j->y, (size_t)j->w->n_rows);
        r0 = e;
    }
    if (r0 < r1) decode_rows(j, r0, r1, pf_end);
}

/* Takes up to CLAIM_TILES tiles from the front (the owner) or the back (a
 * helper) of a thread's remaining range; false when it is empty. */
static bool claim(claim_slot *c, bool front, int64_t *t0, int64_t *t1) {
    uint_fast64_t cur = atomic_load(&c->range);
    for (;;) {
        int64_t f = (int64_t)(cur & 0xFFFFFFFFu), b = (int64_t)(cur >> 32);
        if (f >= b) return false;
        int64_t nf = f, nb = b;
        if (front) nf = f + CLAIM_TILES < b ? f + CLAIM_TILES : b;
        else nb = b - CLAIM_TILES > f ? b - CLAIM_TILES : f;
        uint_fast64_t next = (uint_fast64_t)nf | (uint_fast64_t)nb << 32;
        if (atomic_compare_exchange_weak(&c->range, &cur, next)) {
            *t0 = front ? f : nb;
            *t1 = front ? nf : b;
            return true;
        }
    }
}

/* Rows [r0, r1), tokens from t_first on, by the dots (four tokens per
 * weight row where the type has that kernel). */
static void dot_rows(const mm_job *j, int64_t r0, int64_t r1, int64_t t_first) {
    const int64_t n_rows = j->w->n_rows, n_cols = j->w->n_cols;
    const uint8_t *wdata = j->w->data;
    for (int64_t t0 = t_first; t0 < j->n_tok; t0 += TOK_TILE) {
        int64_t t1 = t0 + TOK_TILE < j->n_tok ? t0 + TOK_TILE : j->n_tok;
        for (int64_t rb = r0; rb < r1; rb += ROW_TILE) {
            int64_t re = rb + ROW_TILE < r1 ? rb + ROW_TILE : r1;
            int64_t t = t0;
            /* llama.cpp's 4-token Q4_K arithmetic, each weight row unpacked
             * once for four tokens (n_dot4 is a multiple of 4) */
            for (; t + 4 <= t1 && t + 4 <= j->n_dot4; t += 4) {
                const void *a4[4];
                for (int k = 0; k < 4; k++) a4[k] = j->act + (t + k) * j->act_row;
                float o[4];
                for (int64_t r = rb; r < re; r++) {
                    if (t == t0) prefetch_row(j, r + ROW_TILE, r1);
                    j->dot4x(n_cols, wdata + r * j->w_row, a4, o);
                    for (int k = 0; k < 4; k++) j->y[(t + k) * n_rows + r] = o[k];
                }
            }
            for (; t < t1; t++) {
                const uint8_t *a = j->act + t * j->act_row;
                float *yt = j->y + t * n_rows;
                const xuan_vec_dot_fn dot = t < j->n_dot4 ? j->dot4 : j->dot;
                for (int64_t r = rb; r < re; r++) {
                    if (t == t0) prefetch_row(j, r + ROW_TILE, r1);
                    yt[r] = dot(n_cols, wdata + r * j->w_row, a);
                }
            }
        }
    }
}

/* Phase 2: this thread's rows, tiled. */
static void compute_part(void *ctx, int ith, int nth) {
    const mm_job *j = ctx;
    const int64_t n_rows = j->w->n_rows, n_cols = j->w->n_cols;
    /* Split on ROW_TILE boundaries so no two threads share a tile. */
    int64_t n_tiles = (n_rows + ROW_TILE - 1) / ROW_TILE;
    int64_t r0 = n_tiles * ith / nth * ROW_TILE, r1 = n_tiles * (ith + 1) / nth * ROW_TILE;
    if (r1 > n_rows) r1 = n_rows;
    const uint8_t *wdata = j->w->data;
    int64_t t_first = 0; /* tokens before this one are done by the packed kernel */
    if (j->gemm) {
        /* Q4_K: llama.cpp's gemm takes the first n - n % 4 tokens and its
         * single-row kernel the rest (below, with j->dot). */
        t_first = j->w->type == XUAN_TYPE_Q4_K ? j->n_dot4 : j->n_tok;
        if (j->claims && t_first == j->n_tok) {
            /* a decode step of a few sequences: rows claimed in chunks, as
             * one token's are (a late or descheduled worker's rows are
             * finished by the others); each row's bits do not depend on
             * who computes it or with which neighbours */
            int64_t f, e;
            for (int k = 0; k < nth; k++) {
                claim_slot *cs = &j->claims[(ith + k) % nth];
                while (claim(cs, k == 0, &f, &e)) {
                    const int64_t a = f * ROW_TILE, b = e * ROW_TILE < n_rows ? e * ROW_TILE : n_rows;
                    if (!xuan_gemm_avx512_rows(j->w->type, wdata, j->w_row, a, b, n_rows, n_cols, j->act,
                                               j->act_row, j->meta, j->n_tok, j->y))
                        dot_rows(j, a, b, 0); /* no memory for its buffers: the same bits */
                }
            }
            return;
        }
        if (!xuan_gemm_avx512_rows(j->w->type, wdata, j->w_row, r0, r1, n_rows, n_cols, j->act, j->act_row,
                                   j->meta, t_first, j->y))
            t_first = 0; /* no memory for its buffers: the dots below give the same bits */
        else if (t_first == j->n_tok) return;
    }
    if (j->n_tok == 1) {
        if (!j->claims) {
            decode_span(j, r0, r1, r1);
            return;
        }
        /* Own tiles from the front of this thread's range, then other
         * threads' tiles from the back of theirs: every thread still
         * streams its own contiguous half, but when the machine is shared
         * and a worker wakes late (or gets no core), the others finish its
         * rows instead of waiting for it. */
        int64_t f, e;
        while (claim(&j->claims[ith], true, &f, &e)) {
            int64_t re = e * ROW_TILE < n_rows ? e * ROW_TILE : n_rows;
            decode_span(j, f * ROW_TILE, re, r1);
        }
        for (int k = 1; k < nth; k++) {
            claim_slot *victim = &j->claims[(ith + k) % nth];
            while (claim(victim, false, &f, &e)) {
                int64_t re = e * ROW_TILE < n_rows ? e * ROW_TILE : n_rows;
                decode_span(j, f * ROW_TILE, re, re);
            }
        }
        return;
    }
    if (j->packed && r0 < j->n_packed) {
        const int64_t e = r1 < j->n_packed ? r1 : j->n_packed;
        j->packed_dot(j->packed, n_cols, r0, e, e, j->act, j->act_row, j->n_tok, j->n_dot4, j->y, (size_t)n_rows);
        r0 = e;
    }
    dot_rows(j, r0, r1, t_first);
}

static void matmul(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y, void *scratch,
                   xuan_mm_kind kind, xuan_simd simd) {
    const bool rowwise = kind == XUAN_MM_ROWWISE;
    XUAN_ASSERT(xuan_weight_check(w, NULL, NULL) == 0);
    if (simd > xuan_cpu_get()->native) simd = xuan_cpu_get()->native; /* as documented in quant.h */
    if (n_tok <= 0) return;
    mm_job j = {.w = w, .x = x, .y = y, .n_tok = n_tok};
    uint64_t wr = 0;
    XUAN_ASSERT(xuan_type_row_size(w->type, (uint64_t)w->n_cols, &wr));
    j.w_row = (size_t)wr;
    j.act_type = xuan_quant_vec_dot_type(w->type);
    j.dot = xuan_dot_kernel(simd, w->type);
    /* One token: llama.cpp takes ggml_vec_dot_f16, not its batch GEMM. */
    if (w->type == XUAN_TYPE_F16 && (n_tok == 1 || rowwise)) j.dot = xuan_dot_f16_single_kernel(simd);
    /* F32: ggml_vec_dot_f32 wherever llamafile_sgemm declines: one token
     * (n < 2), rows % 4 != 0 (tinyBLAS::matmul), slices of a 3-D weight (the
     * batch is not contiguous); n_cols % lanes is the kernel's own test.
     * Real files keep their MoE routers in F32 (llama-quantize skips them). */
    if (w->type == XUAN_TYPE_F32 && (rowwise || n_tok == 1 || w->n_rows % 4))
        j.dot = xuan_dot_f32_vec_kernel(simd);
    /* MXFP4: llama.cpp's repacked kernels for a batch (experts' rows too),
     * ggml_vec_dot_mxfp4_q8_0 for one token */
    if (w->type == XUAN_TYPE_MXFP4 && n_tok == 1) j.dot = xuan_dot_mxfp4_single_kernel(simd);
    /* Q4_K: llama.cpp's repacked kernels take a batch's tokens four at a
     * time and the last n % 4 one at a time, with different float steps.
     * It repacks only weights of a multiple of 8 rows (qwen35's ssm_alpha /
     * ssm_beta may have fewer); the others take vec_dot for every token. */
    const bool q4_K_plain = w->type == XUAN_TYPE_Q4_K && kind == XUAN_MM_2D && w->n_rows % 8 != 0;
    if (q4_K_plain) j.dot = xuan_dot_q4_K_vec_scalar; /* tiny test shapes only: no SIMD version */
    if (w->type == XUAN_TYPE_Q4_K && n_tok >= 4 && kind == XUAN_MM_2D && !q4_K_plain) {
        j.dot4 = xuan_dot_q4_K_pairs_kernel(simd);
        j.dot4x = xuan_dot_q4_K_pairs_x4_kernel(simd);
        j.n_dot4 = n_tok - n_tok % 4;
    }
    if (j.act_type == XUAN_TYPE_F32) {
        j.act = (const uint8_t *)x;
        j.act_row = (size_t)w->n_cols * sizeof(float);
    } else {
        XUAN_ASSERT(scratch != NULL);
        j.act = scratch;
        j.act_row = act_row_bytes(j.act_type, w->n_cols);
        /* (rowwise: only where the packed kernel gives the one-token bits at
         * every batch size, Q8_0, Q6_K and MXFP4; tests/test_batch.c holds it to that) */
        j.gemm = !q4_K_plain && n_tok >= gemm_min_tok(w->type) && simd >= XUAN_SIMD_AVX512 &&
                 xuan_gemm_avx512_supports(w->type, w->n_cols, j.w_row) &&
                 (kind == XUAN_MM_2D || w->type == XUAN_TYPE_Q8_0 || w->type == XUAN_TYPE_Q6_K ||
                  w->type == XUAN_TYPE_MXFP4);
        if (j.gemm) {
            j.meta = (uint8_t *)scratch + align64(j.act_row * (size_t)n_tok);
            j.meta_row = xuan_gemm_meta_row_bytes(w->type, w->n_cols);
        }
        /* Tokens that take the one-token kernel (rows routed to an expert,
         * a 3-D weight's slices), four per pass over each weight row with
         * the same bits: on a DeepSeek-V2-Lite prompt the routed rows' Q4_K
         * dot was 39% of the time one row at a time; pp128 CPU time 11.4 s
         * -> 9.9 s (one thread).  A plain product keeps Q4_K's own 4-token
         * arithmetic, above. */
        if (!j.gemm && !j.dot4x && n_tok >= 4 && !q4_K_plain) {
            j.dot4x = xuan_dot_x4_kernel(simd, w->type);
            if (j.dot4x) {
                j.dot4 = j.dot;
                j.n_dot4 = n_tok - n_tok % 4;
            }
        }
        /* A plain 2-D Q4_K product of a few tokens (decoding one or a few
         * sequences) reads the decode layout if the weight has one
         * (xuan_q4_K_pack, at load), with the same bits; prompts keep the
         * mapped rows and AVX-512's packed batch kernel. */
        if (w->packed && w->type == XUAN_TYPE_Q4_K && kind == XUAN_MM_2D && !q4_K_plain && !j.gemm &&
            n_tok <= PACKED_MAX_TOK && simd >= XUAN_SIMD_AVX2) {
            j.packed = w->packed;
            j.n_packed = xuan_q4_K_packed_rows(w);
            j.packed_dot = xuan_q4_K_packed_kernel(simd);
        }
        if (n_tok == 1) quantize_part(&j, 0, 1); /* cheaper than waking a worker */
        else xuan_pool_run(pool, quantize_part, &j);
    }
    claim_slot claims[MAX_CLAIM];
    int nth = xuan_pool_size(pool);
    if ((n_tok == 1 || (j.gemm && n_tok <= GEMM_CLAIM_TOK)) && nth > 1 && nth <= MAX_CLAIM) {
        int64_t n_tiles = (w->n_rows + ROW_TILE - 1) / ROW_TILE;
        XUAN_ASSERT(n_tiles <= 0xFFFFFFFF);
        for (int t = 0; t < nth; t++) {
            uint_fast64_t f = (uint_fast64_t)(n_tiles * t / nth), b = (uint_fast64_t)(n_tiles * (t + 1) / nth);
            atomic_init(&claims[t].range, f | b << 32);
        }
        j.claims = claims;
    }
    xuan_pool_run(pool, compute_part, &j);
}

/* ---- many one-token products in one dispatch ---------------------------- */

typedef struct many_job {
    const xuan_matvec *items;
    int n_items;
    const uint8_t *const *act; /* per item: its activation row (or x itself) */
    const xuan_vec_dot_fn *dot;
    int64_t n_rows; /* all items' rows together */
} many_job;

/* Thread ith takes an equal share of all the items' rows, in order. */
static void many_part(void *ctx, int ith, int nth) {
    const many_job *j = ctx;
    const int64_t r0 = j->n_rows * ith / nth, r1 = j->n_rows * (ith + 1) / nth;
    int64_t base = 0;
    for (int i = 0; i < j->n_items && base < r1; i++) {
        const xuan_weight *w = j->items[i].w;
        const int64_t lo = r0 > base ? r0 - base : 0, hi = r1 - base < w->n_rows ? r1 - base : w->n_rows;
        if (lo < hi) {
            uint64_t wr = 0;
            XUAN_ASSERT(xuan_type_row_size(w->type, (uint64_t)w->n_cols, &wr));
            const uint8_t *wd = w->data;
            for (int64_t r = lo; r < hi; r++) {
                if (r + PREFETCH_ROWS < hi) {
                    const char *p = (const char *)wd + (size_t)(r + PREFETCH_ROWS) * wr;
                    for (size_t off = 0; off < wr; off += 64) __builtin_prefetch(p + off, 0, 2);
                }
                j->items[i].y[r] = j->dot[i](w->n_cols, wd + (size_t)r * wr, j->act[i]);
            }
        }
        base += w->n_rows;
    }
}

size_t xuan_matvec_many_scratch(const xuan_matvec *items, int n_items) {
    size_t n = (size_t)n_items * 2 * sizeof(void *);
    for (int i = 0; i < n_items; i++) {
        uint32_t act = xuan_quant_vec_dot_type(items[i].w->type);
        if (act != XUAN_TYPE_F32) n += align64(act_row_bytes(act, items[i].w->n_cols));
    }
    return n + 64;
}

void xuan_matvec_many(xuan_pool *pool, const xuan_matvec *items, int n_items, void *scratch, xuan_simd simd) {
    if (n_items <= 0) return;
    XUAN_ASSERT(scratch != NULL);
    const uint8_t **act = scratch;
    xuan_vec_dot_fn *dot = (xuan_vec_dot_fn *)(void *)(act + n_items);
    uint8_t *buf = (uint8_t *)(dot + n_items);
    buf = (uint8_t *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    int64_t rows = 0;
    for (int i = 0; i < n_items; i++) {
        const xuan_weight *w = items[i].w;
        XUAN_ASSERT(xuan_weight_check(w, NULL, NULL) == 0);
        const uint32_t at = xuan_quant_vec_dot_type(w->type);
        /* the kernel xuan_matmul takes for one token */
        dot[i] = w->type == XUAN_TYPE_F16     ? xuan_dot_f16_single_kernel(simd)
                 : w->type == XUAN_TYPE_MXFP4 ? xuan_dot_mxfp4_single_kernel(simd)
                                              : xuan_dot_kernel(simd, w->type);
        if (at == XUAN_TYPE_F32) {
            act[i] = (const uint8_t *)items[i].x;
        } else {
            xuan_quantize_act(at, items[i].x, buf, w->n_cols);
            act[i] = buf;
            buf += align64(act_row_bytes(at, w->n_cols));
        }
        rows += w->n_rows;
    }
    many_job j = {items, n_items, act, dot, rows};
    xuan_pool_run(pool, many_part, &j);
}

void xuan_matmul(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                 void *scratch) {
    matmul(pool, w, x, n_tok, y, scratch, XUAN_MM_2D, xuan_cpu_get()->simd);
}

void xuan_matmul_rowwise(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                         void *scratch, xuan_simd simd) {
    matmul(pool, w, x, n_tok, y, scratch, XUAN_MM_ROWWISE, simd);
}

void xuan_matmul_kind(xuan_pool *pool, const xuan_weight *w, const float *x, int64_t n_tok, float *y,
                      void *scratch, xuan_mm_kind kind, xuan_simd simd) {
    matmul(pool, w, x, n_tok, y, scratch, kind, simd);
}

void xuan_weight_row(const xuan_weight *w, int64_t row, float *out) {
    XUAN_ASSERT(row >= 0 && row < w->n_rows);
    uint64_t wr = 0;
    XUAN_ASSERT(xuan_type_row_size(w->type, (uint64_t)w->n_cols, &wr));
    xuan_quant_dequant_blocks(w->type, (const uint8_t *)w->data + (uint64_t)row * wr, out, w->n_cols);
}
