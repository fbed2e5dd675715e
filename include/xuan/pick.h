/*
 * xuan/pick.h — the model-selection advisor: how much memory a model needs,
 * how fast it will run here, and which one to choose.
 *
 *     // How much RAM does a 7B model at Q4_K_M need for a 4K context?
 *     xuan_mem_input in = {
 *         .n_layers = 28, .n_heads = 28, .n_kv_heads = 4,
 *         .head_dim_k = 128, .head_dim_v = 128,
 *         .d_model = 3584, .d_ffn = 18944, .n_vocab = 152064,
 *         .weight_bytes = 4683073536,       // from the GGUF, or estimated
 *         .n_ctx = 4096,                    // n_batch 0 = 512, cache F16
 *     };
 *     xuan_mem_estimate est;
 *     xuan_mem_estimate_compute(&in, &est);
 *     xuan_buf why = {0};
 *     xuan_mem_explain(&in, &est, &why);    // the formula, numbers filled in
 *     printf("%s", why.data);
 *     xuan_buf_free(&why);
 *
 * One formula for everybody: `xuan inspect` (exact weight bytes from a file)
 * and `xuan pick` (weight bytes estimated from a catalog entry) both call
 * xuan_mem_estimate_compute, so their figures can only differ by the weights.
 *
 * What the terms model (see docs/catalog.md and ../shared/catalog/memory.md):
 *   weights   the tensor data, resident in full (mmap'd pages count too);
 *   kv_cache  K and V for every layer and every position of n_ctx, allocated
 *             up front as llama.cpp does (n_ctx rounded up to 256);
 *   compute   the scratch buffer of one prompt chunk (ubatch): the logits of
 *             every row of the chunk (n_vocab x n_batch x 4 B) plus the
 *             largest activation set of one layer (FFN, or the full K*Q
 *             matrix when flash attention is off);
 *   overhead  runtime, graph metadata, the output row and the process itself.
 * The compute term is an upper estimate: llama.cpp reuses scratch memory
 * between the logits and the layers, so its "compute buffer size" log line is
 * usually a little lower.
 */
#ifndef XUAN_PICK_H
#define XUAN_PICK_H

#include "xuan/base.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory estimate ------------------------------------------------------ */

typedef struct xuan_mem_input {
    uint32_t n_layers, n_heads, n_kv_heads;
    uint32_t head_dim_k, head_dim_v; /* per head */
    uint32_t d_model, d_ffn, n_vocab;
    uint64_t weight_bytes; /* exact from a file, or estimated */
    uint32_t n_ctx;        /* context to plan for */
    uint32_t n_batch;      /* prompt chunk (ubatch), default 512 if 0 */
    uint32_t cache_type;   /* xuan_type: F16 (default; 0 = F32 is read as F16), Q8_0, Q4_0 ... */
    /* Added fields (zero = the usual llama.cpp defaults): */
    bool no_flash_attn;    /* true: count the n_ctx x n_batch x n_heads K*Q matrix
                              (llama.cpp -fa off); llama.cpp's default "auto"
                              turns flash attention on for CPU. */
    uint32_t n_seq;        /* parallel sequences sharing the cache; 0 = 1 */
} xuan_mem_input;

typedef struct xuan_mem_estimate {
    uint64_t weights, kv_cache, compute, overhead, total; /* bytes */
    /* Added: the parts, for explanations and tests. */
    uint64_t kv_bytes_per_token; /* K+V of one position, all layers */
    uint64_t compute_logits;     /* n_vocab x n_batch x 4 */
    uint64_t compute_layer;      /* largest per-layer activation set */
    uint32_t n_ctx_alloc;        /* n_ctx as allocated (rounded up to 256) */
} xuan_mem_estimate;

/* Fixed part of `overhead`: the runtime, ggml graph metadata and the process
 * (llama.cpp's own advice: 0.2-0.5 GiB).  Exposed so tests can reason. */
#define XUAN_MEM_RUNTIME_BYTES (256ull << 20)

/* Fills *out.  Never fails: zero or missing shape fields make their term
 * zero; every product saturates at UINT64_MAX instead of wrapping, so a
 * hostile header cannot produce a small number. */
void xuan_mem_estimate_compute(const xuan_mem_input *in, xuan_mem_estimate *out);
/* Appends the formula with the numbers filled in, one line per term
 * (weights, kv_cache, compute, overhead, total).  Returns 0 or XUAN_ERR_NOMEM. */
int xuan_mem_explain(const xuan_mem_input *in, const xuan_mem_estimate *est, xuan_buf *out);

/* Bytes of one cache element of `cache_type` (F16 -> 2, Q8_0 -> 34/32 ...),
 * as a fraction num/den.  Unknown types count as F16. */
void xuan_mem_cache_elem(uint32_t cache_type, uint64_t *num, uint64_t *den);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_PICK_H */
