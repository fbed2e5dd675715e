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
 *   kv_cache  K and V for every KV-storing layer and every position of n_ctx,
 *             allocated up front as llama.cpp does (n_ctx rounded up to 256);
 *             sliding-window layers keep only their window, DeltaNet layers
 *             a fixed state (state), KV-shared layers nothing;
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
    bool v_in_k;           /* V is read from the K rows (absorbed MLA): no V cache */
    bool no_flash_attn;    /* true: count the n_ctx x n_batch x n_heads K*Q matrix
                              (llama.cpp -fa off); llama.cpp's default "auto"
                              turns flash attention on for CPU. */
    uint32_t n_seq;        /* parallel sequences sharing the cache; 0 = 1 */
    /* Hybrid models (Qwen3.5's Gated DeltaNet): only n_kv_layers of the
     * n_layers keep a KV cache (0 = all of them); the others carry a fixed
     * recurrent state of state_bytes per sequence, whatever the context. */
    uint32_t n_kv_layers;
    uint64_t state_bytes;
    /* Sliding-window layers (gpt-oss, gemma2/3/4): n_swa_layers of the
     * KV-storing layers keep only a window of positions, allocated as
     * llama.cpp's iSWA cache does (window x n_seq + n_batch cells, rounded
     * up to 256, at most the context).  Their rows may be shaped apart:
     * swa_n_kv_heads / swa_head_dim_k / swa_head_dim_v, 0 = as the others
     * (gemma4: 256-wide sliding heads, 512-wide global ones). */
    uint32_t n_swa_layers, swa_window;
    uint32_t swa_n_kv_heads, swa_head_dim_k, swa_head_dim_v;
} xuan_mem_input;

typedef struct xuan_mem_estimate {
    uint64_t weights, kv_cache, compute, overhead, total; /* bytes */
    uint64_t state;              /* recurrent state of hybrid layers (in total) */
    /* Added: the parts, for explanations and tests. */
    uint64_t kv_bytes_per_token; /* K+V of one more position of context: the
                                    full-attention layers that store KV (the
                                    sliding ones are capped, below) */
    uint64_t kv_swa;             /* the sliding-window layers' fixed cache */
    uint32_t n_swa_alloc;        /* cells of each sliding layer */
    uint64_t compute_logits;     /* n_vocab x n_batch x 4 */
    uint64_t compute_layer;      /* largest per-layer activation set */
    uint32_t n_ctx_alloc;        /* n_ctx as allocated (rounded up to 256) */
} xuan_mem_estimate;

/* Fixed part of `overhead`: the runtime, ggml graph metadata and the process
 * (llama.cpp's own advice: 0.2-0.5 GiB).  Exposed so tests can reason. */
#define XUAN_MEM_RUNTIME_BYTES (256ull << 20)

/* Fills *out (in and out must not be NULL).  Never fails: zero or missing shape fields make their term
 * zero; every product saturates at UINT64_MAX instead of wrapping, so a
 * hostile header cannot produce a small number. */
void xuan_mem_estimate_compute(const xuan_mem_input *in, xuan_mem_estimate *out);
/* Appends the formula with the numbers filled in, one line per term
 * (weights, kv_cache, compute, overhead, total).  Returns 0 or XUAN_ERR_NOMEM. */
int xuan_mem_explain(const xuan_mem_input *in, const xuan_mem_estimate *est, xuan_buf *out);

/* Bytes of one cache element of `cache_type` (F16 -> 2, Q8_0 -> 34/32 ...),
 * as a fraction num/den.  Unknown types count as F16. */
void xuan_mem_cache_elem(uint32_t cache_type, uint64_t *num, uint64_t *den);

/* ---- quantization mixes ---------------------------------------------------- */

/* The file types llama-quantize writes (mixes, not single block formats:
 * see memory.md).  Ordered by size. */
typedef enum xuan_quant {
    XUAN_QUANT_Q2_K = 0,
    XUAN_QUANT_Q3_K_M,
    XUAN_QUANT_Q4_0,
    XUAN_QUANT_Q4_K_M,
    XUAN_QUANT_Q5_K_M,
    XUAN_QUANT_Q6_K,
    XUAN_QUANT_Q8_0,
    XUAN_QUANT_F16,
    /* llama-quantize's MXFP4_MOE: expert tensors MXFP4, the rest Q8_0 (the
     * form gpt-oss ships in).  Ranked only where a file is published. */
    XUAN_QUANT_MXFP4_MOE,
    XUAN_QUANT_COUNT
} xuan_quant;

const char *xuan_quant_name(xuan_quant q); /* "Q4_K_M" */
/* Case-insensitive ("q4_k_m"); 0 or -1. */
int xuan_quant_from_name(const char *name, xuan_quant *out);
/* Relative quality kept by a mix (1.0 = F16), from llama.cpp's published
 * perplexity increases; used to prefer a bigger quant when it fits. */
double xuan_quant_quality(xuan_quant q);

/* ---- the catalog ----------------------------------------------------------- */

/* One model of data/catalog.json (strings point into the catalog; NULL when
 * unknown).  Shape fields are 0 when unknown (proprietary rows). */
typedef struct xuan_model_info {
    const char *id, *family, *hf_repo, *license, *license_short, *license_class;
    const char *arch, *chinese, *chat_template, *scope, *scope_reason, *notes;
    double params_b, params_active_b; /* billions; 0 = unknown */
    uint32_t n_layers, d_model, n_heads, n_kv_heads, head_dim, d_ffn, n_vocab;
    uint32_t ctx_native, ctx_extended, sliding_window;
    bool tied_embeddings, runnable, in_scope;
    /* MoE (n_experts 0 = dense) */
    uint32_t n_experts, n_experts_used, n_shared_experts, moe_d_ffn, first_dense_layers;
    /* MLA (kv_lora_rank 0 = standard attention) */
    uint32_t q_lora_rank, kv_lora_rank, qk_nope_dim, qk_rope_dim, v_head_dim;
    /* Published GGUF (repo NULL = none recorded) */
    const char *gguf_repo;
    const char *gguf_file[XUAN_QUANT_COUNT];  /* file name per quant, or NULL */
    uint64_t gguf_size[XUAN_QUANT_COUNT];     /* bytes (0 = unknown) */
    bool gguf_size_exact[XUAN_QUANT_COUNT];   /* false: rounded display size */
    const char *gguf_size_display[XUAN_QUANT_COUNT];
    /* How it thinks (additions_2026.json): "hybrid" (switchable), "always",
     * "never", or NULL when the facts do not say.  thinking_default: a hybrid
     * model thinks unless switched off. */
    const char *thinking, *thinking_switch, *release_date;
    bool thinking_default;
    const char *sampling_thinking, *sampling_non_thinking, *sampling_source; /* NULL: not in the facts */
    const char *shape_source;  /* shapes copied from a same-shaped model, or NULL */
    const char *shapes_missing; /* why the catalog has no layer shapes (no memory estimate), or NULL */
    /* Newer models that replace this one (ids), at most 4. */
    const char *superseded_by[4];
    int n_superseded_by;
    /* Hybrid attention (n_attn_layers 0 = every layer is attention): every
     * attn_interval-th layer is full attention, the others Gated DeltaNet
     * with gdn_k_heads / gdn_v_heads heads of gdn_head_dim. */
    uint32_t n_attn_layers, attn_interval, gdn_k_heads, gdn_v_heads, gdn_head_dim;
    uint32_t gdn_conv_kernel; /* the DeltaNet layers' causal conv taps (0 = not recorded) */
    /* Per-layer attention facts beyond one shape (gemma4), 0 = none:
     * swa_pattern: every swa_pattern-th layer is global, the others slide
     * (0: the architecture's own, xuan_arch_info.swa_pattern);
     * kv_shared_layers: the last ones reuse earlier layers' KV (no cache);
     * head_dim_global: the global layers' head size (head_dim = the sliding
     * layers'); ple_dim / ple_vocab: per-layer embeddings (E2B/E4B);
     * ffn_double_shared: the KV-shared layers' FFN is twice d_ffn. */
    uint32_t swa_pattern, kv_shared_layers, head_dim_global, ple_dim, ple_vocab;
    bool ffn_double_shared;
} xuan_model_info;

/* One published (or seed) benchmark result. */
typedef struct xuan_score {
    const char *model, *benchmark, *task, *kind, *setting, *source, *verification;
    const char *errata;     /* non-NULL: the seed figure disagrees or was checked */
    double value;
    double published_value; /* for seed rows with a correction; NAN if none */
    bool base_model;        /* measured on the base checkpoint */
    bool disagrees;         /* seed value contradicted by a published one */
    /* Measured records only (kind "measured", xuan_catalog_add_measured):
     * the quant the result was measured at, and its order of arrival (a
     * later run of the same model, quant and benchmark wins). */
    const char *quant;
    uint32_t measured_seq;
} xuan_score;

typedef struct xuan_erratum {
    const char *seed_name, *model, *fact, *source;
} xuan_erratum;

/* What one task of `xuan eval` measures for pick (the catalog's eval_tasks):
 * a task on the data of a published benchmark takes that benchmark's name
 * ("gsm8k" -> "GSM8K"), so its results meet the published ones. */
typedef struct xuan_eval_task_map {
    const char *eval_task, *benchmark, *task;
} xuan_eval_task_map;

typedef struct xuan_catalog {
    const char *checked;    /* the date the catalog was checked ("2026-12-07"), or NULL */
    xuan_model_info *models;
    size_t n_models;
    xuan_score *scores;
    size_t n_scores;
    xuan_erratum *errata;
    size_t n_errata;
    xuan_eval_task_map *eval_tasks;
    size_t n_eval_tasks;
    size_t n_measured;  /* scores added by xuan_catalog_add_measured */
    const char *origin; /* "embedded" or the file path */
    void *json;         /* owns every string above */
} xuan_catalog;

/* Loads `path`, or when NULL the file named by XUAN_CATALOG, or else the copy
 * embedded in the binary.  An unreadable or malformed file is an error that
 * names the file and the field; nothing is half-loaded. */
int xuan_catalog_load(xuan_catalog *cat, const char *path, xuan_error *err);
/* The same from text in memory; `origin` names it in errors (NULL: the
 * embedded copy).  The text may be freed afterwards. */
int xuan_catalog_load_text(xuan_catalog *cat, const char *text, size_t len, const char *origin, xuan_error *err);
void xuan_catalog_free(xuan_catalog *cat);
const xuan_model_info *xuan_catalog_find(const xuan_catalog *cat, const char *id);
/* Finds `id` or fills err with "unknown model 'X'; did you mean 'Y'?" (also
 * knowing the seed's names of models that do not exist, from the errata). */
const xuan_model_info *xuan_catalog_lookup(const xuan_catalog *cat, const char *id, xuan_error *err);
/* The benchmark and task column of `xuan eval` task `eval_task`, or NULL
 * when the catalog does not map it (a user's own task file). */
const xuan_eval_task_map *xuan_catalog_eval_task(const xuan_catalog *cat, const char *eval_task);

/* One result the user measured with `xuan eval`, for a catalog model at a
 * quant.  Strings are copied. */
typedef struct xuan_measured {
    const char *model;      /* catalog id */
    xuan_quant quant;
    const char *benchmark;  /* as xuan_catalog_eval_task names it */
    const char *task;       /* "math", "med", ... */
    double value;           /* percent, 0..100 */
    const char *source;     /* "xuan eval run 7 (/path/results.db)" */
    const char *setting;    /* "gsm8k v1 sha256 1a2b..., strict-match, 20 items" */
} xuan_measured;

/* Adds a measured record (kind "measured", trust 1) to the catalog's scores.
 * In xuan_pick_run it replaces the model's published results on the same
 * benchmark when the row runs that quant; see docs/catalog.md, "Measured
 * cells".  Pointers into cat->scores may move.  Errors: XUAN_ERR_USAGE (an
 * unknown model or task, a value outside 0..100, no source), NOMEM. */
int xuan_catalog_add_measured(xuan_catalog *cat, const xuan_measured *m, xuan_error *err);

/* The catalog model and quant a GGUF file or a served model name stands
 * for: its base name equal to a published file name (any case), else the
 * name with its quant word taken out ("Qwen2.5-7B-Instruct-Q4_K_M.gguf",
 * "qwen2.5-7b-instruct:q4_k_m") equal to a model id, or to the last part
 * of its Hugging Face or GGUF repository.  The quant comes from the file
 * name's quant word, else from `quant_hint` (the GGUF's file type, may be
 * NULL).  NULL when nothing matches or no quant is known. */
const xuan_model_info *xuan_catalog_match_file(const xuan_catalog *cat, const char *name,
                                               const char *quant_hint, xuan_quant *quant);

/* The embedded catalog text (data/catalog.json at build time). */
const char *xuan_catalog_embedded(size_t *len);

/* ---- weights of a catalog model at a quant -------------------------------- */

typedef struct xuan_weights {
    uint64_t total;       /* every tensor, as the file would hold it */
    uint64_t token_embd;  /* the embedding matrix (only one row read per token) */
    uint64_t per_token;   /* bytes streamed per generated token (active experts only) */
    uint64_t active_params; /* parameters used per token (MoE: routed experts only) */
    uint64_t params;      /* parameters in the file */
} xuan_weights;

/* Sums every tensor of the model's shape at the type llama-quantize's mix
 * rules give it (output/ attn_v / ffn_down bumps, fallbacks for rows that
 * are not a multiple of 256).  XUAN_ERR_UNSUPPORTED for rows without shapes. */
int xuan_model_weights(const xuan_model_info *m, xuan_quant q, xuan_weights *out, xuan_error *err);
/* The memory formula's input for a catalog model (KV layout from its
 * attention kind: GQA, MLA latent, ...). */
int xuan_model_mem_input(const xuan_model_info *m, xuan_quant q, uint32_t n_ctx,
                         xuan_mem_input *in, xuan_error *err);
/* Convenience for `xuan inspect` and tests: catalog id + quant name + ctx
 * -> estimate.  Uses the embedded catalog when cat is NULL. */
int xuan_pick_mem_for(const xuan_catalog *cat, const char *model_id, const char *quant,
                      uint32_t n_ctx, xuan_mem_estimate *out, xuan_error *err);

/* ---- hardware ----------------------------------------------------------------- */

#define XUAN_HW_MAX_GPUS 8

typedef struct xuan_gpu {
    char name[96];
    uint64_t vram_total, vram_free; /* bytes; vram_free 0 = unknown */
} xuan_gpu;

typedef struct xuan_hw {
    uint64_t ram_total;     /* physical RAM, or the cgroup limit when lower */
    uint64_t ram_available; /* what a new process can use now */
    bool ram_cgroup_limited;
    int cores;              /* logical CPUs usable by this process */
    xuan_simd simd;
    char cpu[64];
    double bandwidth_gbs;   /* sustained read bandwidth, GB/s (1e9) */
    char bandwidth_source[48]; /* "probe 1.0 s", "cached ...", "--bandwidth" */
    int n_gpus;
    xuan_gpu gpus[XUAN_HW_MAX_GPUS];
    uint64_t vram_total;    /* largest single GPU (a model is planned on one) */
    int64_t disk_free;      /* bytes free where models go; -1 unknown */
    char models_dir[1024];
    bool planned;           /* figures come from --ram/--vram/--cores, not this machine */
} xuan_hw;

/* How xuan_hw_probe gets the memory bandwidth. */
typedef enum xuan_bw_mode {
    XUAN_BW_NONE = 0,    /* not at all: bandwidth_gbs stays 0, the caller supplies one */
    XUAN_BW_CACHED = 1,  /* the best unexpired cached probe; probe (~1 s) if there is none */
    XUAN_BW_REPROBE = 2, /* probe now, add it to the cache, use the best unexpired probe */
} xuan_bw_mode;

/* Cached probes older than this are dropped (<cache>/hardware.json). */
#define XUAN_HW_PROBE_TTL_DAYS 7

/* Probes RAM (/proc/meminfo and cgroup v1/v2 limits), CPU (xuan_cpu_get),
 * GPUs (nvidia-smi, else /sys/class/drm VRAM files), free disk under the
 * models folder, and the bandwidth as `bw` says.  The cache keeps up to 8
 * probes of the last XUAN_HW_PROBE_TTL_DAYS days for this CPU name and core
 * count and the best one is used: a probe taken while the machine was busy
 * reads low, and must neither win nor stay forever. */
int xuan_hw_probe(xuan_hw *hw, xuan_bw_mode bw, xuan_error *err);
/* Measures read bandwidth for about `seconds`; returns GB/s (0 on failure). */
double xuan_hw_bandwidth_probe(double seconds, int threads);
/* $XUAN_CACHE, else $XDG_CACHE_HOME/xuan, else ~/.cache/xuan (not created). */
const char *xuan_cache_dir(char *buf, size_t n);
/* $XUAN_MODELS, else <cache>/models. */
const char *xuan_models_dir(char *buf, size_t n);

/* ---- speed ---------------------------------------------------------------------- */

/* Estimated speeds of a model at a quant on `hw` (tokens/s).  Generation is
 * bandwidth-bound: bandwidth x 0.8 / (bytes read per token: active weights
 * except the embedding, plus the KV of 1024 positions), capped by a
 * per-core compute rate; prompt processing is FLOP-bound: cores x per-core
 * GFLOP/s (by SIMD level) / (2 x active parameters).  When the user has a
 * measured result (xuan bench, <cache>/bench.json, see docs/catalog.md) for
 * this model and quant, it replaces the estimate and *_measured is set. */
typedef struct xuan_speed {
    double gen_tps, prompt_tps;
    bool gen_measured, prompt_measured;
    bool on_gpu;
} xuan_speed;

void xuan_speed_estimate(const xuan_model_info *m, xuan_quant q, const xuan_weights *w,
                         const xuan_mem_estimate *mem, const xuan_hw *hw, bool on_gpu,
                         xuan_speed *out);
/* Looks up <cache>/bench.json (or `path`) for model/quant; 0 if found. */
int xuan_bench_lookup(const char *path, const char *model, const char *quant, double *gen_tps,
                      double *prompt_tps);

/* ---- ranking ---------------------------------------------------------------------- */

typedef enum xuan_task {
    XUAN_TASK_GENERAL = 0, /* MMLU & co */
    XUAN_TASK_MATH,
    XUAN_TASK_CODE,
    XUAN_TASK_MED,         /* MedQA; MMLU as a penalised proxy where missing */
    XUAN_TASK_IT,          /* no benchmark exists: MMLU as a penalised proxy */
    XUAN_TASK_ZH,          /* C-Eval / CMMLU */
    XUAN_TASK_COUNT
} xuan_task;

const char *xuan_task_name(xuan_task t); /* "general", "math", "code", "med", "it", "zh" */
int xuan_task_from_name(const char *name, xuan_task *out);

typedef struct xuan_pick_opts {
    double weight[XUAN_TASK_COUNT]; /* all zero: the preset decides */
    const char *preset;             /* overall (default), math, code, light, medical */
    bool lang_zh;                   /* native Chinese models only */
    const char *license;            /* comma list: open, apache-2.0, mit, ... or NULL */
    double min_speed;               /* est. generation tok/s, 0 = any */
    uint32_t n_ctx;                 /* 0 = 4096 */
    bool all_sizes;                 /* include >14B-class models (normally references) */
    bool runtime_any;               /* false (default, "--runtime xuan"): rank only models
                                       xuan's engine runs that have a published GGUF, at
                                       published quants; true: rank all, marking the others */
    bool include_superseded;        /* false: a model is not ranked when one of the models
                                       that supersede it is ranked in the same run */
    double think_factor;            /* tokens spent per answer by a model that always
                                       thinks, relative to one that does not; 0 = default
                                       (XUAN_PICK_THINK_FACTOR) */
} xuan_pick_opts;

/* Default thinking-token factor: an assumption, not a measurement (see
 * docs/catalog.md, "Thinking costs tokens"): benchmark harnesses give
 * thinking models 16-32K-token budgets, and MMLU answers that fit in 256
 * tokens without thinking needed up to 2048 with it (elizaOS/eliza#10670,
 * ~8x); 4 is the conservative middle.  A measured value replaces it. */
#define XUAN_PICK_THINK_FACTOR 4.0

/* One task column of one model: the value shown and how it was got. */
typedef struct xuan_task_cell {
    double shown;          /* headline benchmark value (NAN = none) */
    const char *benchmark; /* its name */
    char mark;             /* 'o' official, 't' third-party, 's' seed, 'm' measured,
                              'b' base-model row, '~' estimate (math, code, zh: the
                              general score x0.7), 'g' medical / IT/AI not published
                              for this model (the general score x0.85 stands in),
                              '-' missing */
    double score;          /* 0..100 after normalisation and penalties */
    int n_benchmarks;      /* results that went in */
    const char *source;    /* the headline record's source ("xuan eval run 7 ..."), or NULL */
    bool measured_alone;   /* 'm' from benchmarks nobody publishes: score = the accuracy */
    bool published_alone;  /* medical / IT/AI 'o' 't' 'b' from subject subsets too few models
                              report to place in a fit: score = the accuracy x trust */
    xuan_quant quant;      /* 'm' cells: the quant measured (= the row's) */
} xuan_task_cell;

typedef struct xuan_pick_row {
    const xuan_model_info *m;
    bool fits;
    xuan_quant quant;
    xuan_weights weights;
    xuan_mem_estimate mem;
    xuan_speed speed;
    xuan_task_cell cell[XUAN_TASK_COUNT];
    double quality;        /* weighted task score, 0..100 */
    double score;          /* quality x quant x speed factors: the ranking key */
    int n_proxy;           /* weighted task columns filled by a penalised proxy (~ or g) */
    bool runs_in_xuan;     /* xuan_pick_engine_runs(m->arch) */
    char why[480];         /* for ranked rows: evidence, score factors, trade against #1 */
    uint32_t ctx_fit;      /* largest context (multiple of 1024, at most the model's own)
                              that still fits the budget at the chosen quant; 0 = none */
    double think_factor;   /* speed divisor applied for thinking (1 = none) */
    char excluded[320];    /* non-empty: why this model is not ranked */
} xuan_pick_row;

typedef struct xuan_pick_result {
    xuan_pick_row *rows;   /* ranked rows first (best first), then excluded ones */
    size_t n_rows, n_ranked;
    double weight[XUAN_TASK_COUNT]; /* the weights actually used */
    uint64_t budget;       /* memory a model may use (RAM or VRAM minus headroom) */
    const char *preset;
} xuan_pick_result;

/* True when xuan's own engine (src/model) runs GGUF architecture `arch`:
 * "llama", "qwen2", "phi3" (NULL or anything else: false; llama.cpp is then
 * the runtime to use). */
bool xuan_pick_engine_runs(const char *arch);
/* True when the catalog records a downloadable GGUF (repo and file) of m at q. */
bool xuan_pick_published(const xuan_model_info *m, xuan_quant q);
/* "ID[:QUANT]" (QUANT default Q4_K_M) -> <models dir>/<published file name>,
 * the path `xuan pull ID:QUANT` writes.  Does not check that it exists.
 * Unknown model or quant, or no recorded file: an error naming it. */
int xuan_pick_resolve(const xuan_catalog *cat, const char *name, char *out, size_t cap,
                      xuan_error *err);
/* Points (0..100) of `value` on `bench`: the share of the other in-scope
 * models reporting `bench` (each by its most trusted record) whose result is
 * lower, ties counting half; `model` (may be NULL) is left out of its own
 * comparison.  The per-benchmark normaliser of every task score.  -1 when
 * fewer than 8 in-scope models report the benchmark (it then does not
 * count); *n_models (may be NULL) gets how many do. */
double xuan_pick_bench_points(const xuan_catalog *cat, const char *bench, const char *model,
                              double value, int *n_models);

/* The speed divisor for thinking: `factor` (0 = XUAN_PICK_THINK_FACTOR) for
 * a model that always thinks, 1 otherwise (a hybrid model is ranked with
 * thinking switched off; its explanation says what switching it on costs). */
double xuan_pick_think_factor(const xuan_model_info *m, double factor);
/* Largest context (a multiple of 1024, capped at the model's longest) whose
 * memory estimate at quant q fits in `budget` bytes; 0 if not even 1024 does.
 * Hybrid models grow only by their attention layers' KV. */
uint32_t xuan_pick_ctx_for_budget(const xuan_model_info *m, xuan_quant q, uint64_t budget);
/* True when a score record names where it comes from (a non-blank source). */
bool xuan_score_has_source(const xuan_score *s);

/* Fills opts weights from a preset name; XUAN_ERR_USAGE with a suggestion
 * for an unknown one. */
int xuan_pick_preset(const char *name, double weight[XUAN_TASK_COUNT], xuan_error *err);
/* Fit, speed and ranking over the catalog.  res is owned by the caller:
 * free with xuan_pick_result_free. */
int xuan_pick_run(const xuan_catalog *cat, const xuan_hw *hw, const xuan_pick_opts *opts,
                  xuan_pick_result *res, xuan_error *err);
void xuan_pick_result_free(xuan_pick_result *res);
/* The task cell of one model under the catalog's scores (used by --explain). */
void xuan_pick_task_cell(const xuan_catalog *cat, const xuan_model_info *m, xuan_task t,
                         xuan_task_cell *out);
/* The record chosen for (model, benchmark): the most trustworthy one. */
const xuan_score *xuan_pick_best_score(const xuan_catalog *cat, const char *model,
                                       const char *benchmark);
/* Trust factor of a record (1.0 official verified ... 0.8 seed). */
double xuan_score_trust(const xuan_score *s);

/* ---- pull: download a model's GGUF ------------------------------------------- */

/* Downloads are verified with xuan_sha256_file (base.h). */

typedef struct xuan_pull_opts {
    const char *url;          /* full URL; overrides everything below */
    const char *endpoint;     /* base URL of a Hugging Face-style hub (mirror); NULL:
                                 $XUAN_HF_ENDPOINT, $HF_ENDPOINT, https://huggingface.co */
    bool modelscope;          /* https://modelscope.cn/models/<repo>/resolve/master/<file> */
    const char *repo, *file;  /* override the catalog's */
    const char *sha256;       /* expected digest (hex); else the hub's X-Linked-Etag if any */
    const char *dir;          /* NULL: xuan_models_dir() */
    int max_attempts;         /* 0 = 5: resumes after a dropped connection */
    bool quiet;
} xuan_pull_opts;

/* Downloads into <dir>/<file>.part with resume (HTTP Range), checks free disk
 * first, verifies size and sha256, then renames atomically to <dir>/<file>.
 * out_path gets the final path.  Errors name the URL or file and what to do. */
int xuan_pull(const char *url, uint64_t expected_size, const xuan_pull_opts *o, const char *file,
              char *out_path, size_t out_cap, xuan_error *err);
/* The URL of repo/file under the chosen hub. */
int xuan_pull_url(const xuan_pull_opts *o, const char *repo, const char *file, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_PICK_H */
