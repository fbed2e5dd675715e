/*
 * xuan/gguf.h — reading and writing GGUF files (versions 2 and 3).
 *
 * Reading maps the file read-only and validates everything before handing
 * out a pointer: every count, length, offset, dimension and tensor extent is
 * checked against the file size with overflow-checked arithmetic, so a
 * hostile file gets an error naming the problem, never a crash and never a
 * huge allocation.  Tensor data and strings point into the mapping (zero
 * copy); they live as long as the xuan_gguf.
 *
 *     xuan_error err = {0};
 *     xuan_gguf *g = xuan_gguf_open("qwen2.5-7b-instruct-q4_k_m.gguf", &err);
 *     if (!g) { fprintf(stderr, "xuan: %s\n", err.msg); return 1; }
 *     xuan_str arch;
 *     if (xuan_gguf_get_str(g, "general.architecture", &arch) == 0)
 *         printf("%.*s\n", (int)arch.n, arch.p);
 *     const xuan_gguf_tensor *t = xuan_gguf_find_tensor(g, "token_embd.weight");
 *     // t->data, t->type, t->ne[0..3], t->n_bytes
 *     xuan_gguf_close(g);
 *
 * A split model (`name-00001-of-00003.gguf`, keys split.count/split.no) is
 * opened from its first part and appears as one file: metadata from part 1,
 * tensors from all parts.
 *
 * Writing: build a xuan_gguf_writer with keys and tensors, then write it to
 * a path (atomically: a temp file renamed at the end).  Tensor bytes come
 * from a pointer or from a callback that fills them chunk by chunk, so that
 * multi-gigabyte synthetic models need no big buffer.
 */
#ifndef XUAN_GGUF_H
#define XUAN_GGUF_H

#include "xuan/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A string inside a mapping: not NUL-terminated. */
typedef struct xuan_str {
    const char *p;
    uint64_t n;
} xuan_str;

bool xuan_str_eq(xuan_str s, const char *c);

/* ---- tensor types (ggml's numbering; it is the on-disk contract) ------- */

typedef enum xuan_type {
    XUAN_TYPE_F32 = 0,
    XUAN_TYPE_F16 = 1,
    XUAN_TYPE_Q4_0 = 2,
    XUAN_TYPE_Q4_1 = 3,
    XUAN_TYPE_Q5_0 = 6,
    XUAN_TYPE_Q5_1 = 7,
    XUAN_TYPE_Q8_0 = 8,
    XUAN_TYPE_Q8_1 = 9,
    XUAN_TYPE_Q2_K = 10,
    XUAN_TYPE_Q3_K = 11,
    XUAN_TYPE_Q4_K = 12,
    XUAN_TYPE_Q5_K = 13,
    XUAN_TYPE_Q6_K = 14,
    XUAN_TYPE_Q8_K = 15,
    XUAN_TYPE_IQ2_XXS = 16,
    XUAN_TYPE_IQ2_XS = 17,
    XUAN_TYPE_IQ3_XXS = 18,
    XUAN_TYPE_IQ1_S = 19,
    XUAN_TYPE_IQ4_NL = 20,
    XUAN_TYPE_IQ3_S = 21,
    XUAN_TYPE_IQ2_S = 22,
    XUAN_TYPE_IQ4_XS = 23,
    XUAN_TYPE_I8 = 24,
    XUAN_TYPE_I16 = 25,
    XUAN_TYPE_I32 = 26,
    XUAN_TYPE_I64 = 27,
    XUAN_TYPE_F64 = 28,
    XUAN_TYPE_IQ1_M = 29,
    XUAN_TYPE_BF16 = 30,
    XUAN_TYPE_TQ1_0 = 34,
    XUAN_TYPE_TQ2_0 = 35,
    XUAN_TYPE_MXFP4 = 39,
    XUAN_TYPE_COUNT = 40, /* ids below this may be valid; see xuan_type_known */
} xuan_type;

typedef struct xuan_type_traits {
    const char *name;    /* "Q4_K" */
    uint32_t block_size; /* elements per block (1 for plain types) */
    uint32_t type_size;  /* bytes per block */
} xuan_type_traits;

/* Traits of a known type, or NULL for an id that is not a ggml type. */
const xuan_type_traits *xuan_type_get(uint32_t type);
bool xuan_type_known(uint32_t type);
const char *xuan_type_name(uint32_t type); /* "?" when unknown */
/* Case-insensitive lookup by name ("q4_k"); returns 0 and sets *out, or -1. */
int xuan_type_from_name(const char *name, xuan_type *out);
/* Bytes of a row of n elements; false if n is not a multiple of the block
 * size or on overflow. */
bool xuan_type_row_size(uint32_t type, uint64_t n, uint64_t *bytes);
double xuan_type_bpw(uint32_t type); /* bits per weight: 8 * type_size / block_size */

/* ---- architectures ---------------------------------------------------------
 * One table of the GGUF architectures xuan knows (src/gguf/arch.c): what a
 * file of that `general.architecture` holds and how its blocks compute, as
 * llama.cpp's llama-arch/llama-model define them.  The loader binds tensors
 * by it, `xuan synth` writes by it, `xuan inspect` describes by it and
 * `xuan pick` says "runs in xuan" from its `runs` flag: no other list of
 * architectures exists in the code.
 *
 *     const xuan_arch_info *a = xuan_arch_find(name, len);
 *     if (!a || !a->runs) ... "architecture 'x' is not supported (supported: ...)"
 */
typedef enum xuan_rope_kind {
    XUAN_ROPE_NONE = 0,
    XUAN_ROPE_NORM,  /* pairs (2i, 2i+1): llama, deepseek2, glm4, mistral3 */
    XUAN_ROPE_NEOX,  /* pairs (i, i + n_rot/2): qwen2/3, phi3, gemma */
    XUAN_ROPE_IMROPE /* interleaved multi-section (qwen35) */
} xuan_rope_kind;

typedef enum xuan_attn_kind {
    XUAN_ATTN_GQA = 0, /* grouped-query attention (MHA and MQA included) */
    XUAN_ATTN_MLA,     /* multi-head latent attention: compressed KV (deepseek2) */
    XUAN_ATTN_HYBRID,  /* linear-attention layers between full ones (qwen35) */
} xuan_attn_kind;

typedef enum xuan_act_kind {
    XUAN_ACT_SILU = 0, /* SwiGLU */
    XUAN_ACT_GELU,     /* GEGLU (tanh approximation) */
    XUAN_ACT_SWIGLU_OAI /* gpt-oss: clamped SwiGLU with alpha */
} xuan_act_kind;

typedef enum xuan_need {
    XUAN_NEVER = 0,
    XUAN_OPTIONAL,
    XUAN_REQUIRED
} xuan_need;

typedef struct xuan_arch_info {
    const char *name;      /* general.architecture */
    const char *models;    /* the releases that ship it, for people */
    bool runs;             /* the engine runs it (src/model) */
    uint8_t rope;          /* xuan_rope_kind */
    uint8_t attn;          /* xuan_attn_kind */
    uint8_t act;           /* xuan_act_kind */
    uint8_t qkv_bias;      /* xuan_need: attn_{q,k,v}.bias */
    uint8_t fused_qkv;     /* xuan_need: attn_qkv.weight instead of q, k, v */
    bool converted_fused;  /* convert_hf_to_gguf writes attn_qkv (phi3), what synth and pick assume */
    bool fused_gate_up;    /* ffn_up.weight holds gate | up (phi3) */
    bool qk_norm;          /* attn_q_norm / attn_k_norm: RMSNorm per head before RoPE */
    bool post_norms;       /* norms after attention and FFN too (gemma2/3, glm4) */
    bool q_scale_early;    /* Q scaled by 1/sqrt(head) before Q.K (phi3), not after */
    bool moe;              /* ffn_*_exps expert tensors */
    bool partial_rope;     /* rope.dimension_count may be below the head size */
    bool embd_scale;       /* token embeddings times sqrt(n_embd) (gemma) */
    bool attn_softcap;     /* tanh softcapping of Q.K (gemma2; attn_logit_softcapping, default 50) */
    float final_softcap;   /* default final_logit_softcapping (gemma2 30; 0 = none unless the key says) */
    uint8_t swa_pattern;   /* with attention.sliding_window: every n-th layer global (gemma3 6, gemma2 2);
                              0 = the window applies to every layer */
    uint32_t swa_default;  /* the window when the key is absent (gemma2 4096) */
    bool attn_temp;        /* Llama-4 attention temperature: Q scaled by position (mistral3) */
    bool moe_norm_w;       /* the selected experts' weights renormalised to sum 1 (qwen3moe) */
    bool moe_shexp_gated;  /* a shared expert ffn_{gate,up,down}_shexp, expert_shared_feed_forward_length
                              rows (default feed_forward_length), its output times
                              sigmoid(ffn_gate_inp_shexp . x) (qwen35moe, qwen2moe) */
    /* gpt-oss (llama.cpp's LLM_ARCH_OPENAI_MOE) */
    bool attn_sinks;       /* attn_sinks.weight: a learned logit per head, counted in the softmax's denominator */
    bool moe_biases;       /* biases on the router (ffn_gate_inp.bias) and on every expert (ffn_*_exps.bias) */
    bool moe_softmax_topk; /* experts chosen by raw router logits, weighted by a softmax over the chosen ones */
    bool ffn_norm_post_attn; /* the FFN's input norm is named post_attention_norm.weight */
    /* gemma4: the layer kinds come from a per-layer sliding_window_pattern
     * array, sliding and full layers have their own head size (key_length_swa)
     * and RoPE (full ones: rope_freqs, "proportional"), the last
     * shared_kv_layers layers read an earlier layer's KV, per-layer
     * embeddings, V = K when attn_v is absent, Q.K scaled by 1 */
    bool layer_kinds;
} xuan_arch_info;

/* The entry for an architecture name (exact, n bytes), or NULL. */
const xuan_arch_info *xuan_arch_find(const char *name, size_t n);
/* Every entry, in the table's order; *n gets the count. */
const xuan_arch_info *xuan_arch_table(size_t *n);
/* "llama, qwen2, ..." of the entries the engine runs, for error messages. */
const char *xuan_arch_runnable_list(void);
/* "normal", "neox", "imrope" or "none". */
const char *xuan_rope_kind_name(uint8_t kind);

/* ---- metadata values ------------------------------------------------------ */

typedef enum xuan_gguf_vtype {
    XUAN_GGUF_UINT8 = 0,
    XUAN_GGUF_INT8 = 1,
    XUAN_GGUF_UINT16 = 2,
    XUAN_GGUF_INT16 = 3,
    XUAN_GGUF_UINT32 = 4,
    XUAN_GGUF_INT32 = 5,
    XUAN_GGUF_FLOAT32 = 6,
    XUAN_GGUF_BOOL = 7,
    XUAN_GGUF_STRING = 8,
    XUAN_GGUF_ARRAY = 9,
    XUAN_GGUF_UINT64 = 10,
    XUAN_GGUF_INT64 = 11,
    XUAN_GGUF_FLOAT64 = 12,
    XUAN_GGUF_VTYPE_COUNT = 13,
} xuan_gguf_vtype;

const char *xuan_gguf_vtype_name(uint32_t vtype); /* "u32", "str", "arr", ... */
/* Size in bytes of a fixed-size value type, 0 for string/array/unknown. */
size_t xuan_gguf_vtype_size(uint32_t vtype);

typedef struct xuan_gguf_value xuan_gguf_value;

typedef struct xuan_gguf_array {
    uint32_t type; /* element type */
    uint64_t n;    /* element count */
    /* Exactly one of these is set, by element type:
     *   fixed-size scalars -> raw little-endian bytes in the file (may be
     *                         unaligned: read with xuan_gguf_arr_* helpers)
     *   STRING             -> an array of n xuan_str
     *   ARRAY              -> an array of n values (nested arrays) */
    const void *raw;
    const xuan_str *strs;
    const xuan_gguf_value *items;
} xuan_gguf_array;

struct xuan_gguf_value {
    uint32_t type; /* xuan_gguf_vtype */
    union {
        uint64_t u64; /* any unsigned integer type, and BOOL (0/1) */
        int64_t i64;  /* any signed integer type */
        double f64;   /* FLOAT32 and FLOAT64 */
        xuan_str str;
        xuan_gguf_array arr;
    } v;
};

typedef struct xuan_gguf_kv {
    xuan_str key;
    xuan_gguf_value value;
} xuan_gguf_kv;

/* Element i of a fixed-size numeric array, converted.  i must be < n. */
int64_t xuan_gguf_arr_i64(const xuan_gguf_array *a, uint64_t i);
double xuan_gguf_arr_f64(const xuan_gguf_array *a, uint64_t i);

/* ---- tensors ------------------------------------------------------------- */

#define XUAN_GGUF_MAX_DIMS 4
#define XUAN_GGUF_MAX_NAME 64 /* names are at most 63 bytes, as in ggml */

typedef struct xuan_gguf_tensor {
    char name[XUAN_GGUF_MAX_NAME]; /* NUL-terminated copy */
    uint32_t type;                 /* xuan_type, known and validated */
    uint32_t n_dims;
    int64_t ne[XUAN_GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
    uint64_t n_elements;
    uint64_t n_bytes;
    uint64_t offset;     /* relative to its file's data section */
    uint32_t split;      /* which file of a split model holds it (0-based) */
    const uint8_t *data; /* inside the mapping */
} xuan_gguf_tensor;

/* ---- reading ---------------------------------------------------------------- */

typedef struct xuan_gguf xuan_gguf;

/* Opens and validates a GGUF file (or the first part of a split model).
 * Returns NULL with err set on any problem. */
xuan_gguf *xuan_gguf_open(const char *path, xuan_error *err);
/* The same with map flags (XUAN_MAP_READ, XUAN_MAP_LOCK: see xuan_map). */
xuan_gguf *xuan_gguf_open_ex(const char *path, unsigned map_flags, xuan_error *err);
/* How the data is held: XUAN_MAP_READ when every part was read into memory,
 * XUAN_MAP_LOCK when every part is locked, 0 for plain maps. */
unsigned xuan_gguf_residency(const xuan_gguf *g);
/* Parses a GGUF held in memory (used by the fuzzer); `data` must outlive
 * the result.  Split keys are ignored. */
xuan_gguf *xuan_gguf_open_memory(const void *data, uint64_t size, xuan_error *err);
void xuan_gguf_close(xuan_gguf *g);

uint32_t xuan_gguf_version(const xuan_gguf *g);
uint64_t xuan_gguf_alignment(const xuan_gguf *g);
uint32_t xuan_gguf_n_splits(const xuan_gguf *g);
uint64_t xuan_gguf_file_size(const xuan_gguf *g); /* sum over all parts */
const char *xuan_gguf_path(const xuan_gguf *g);   /* first part; "" for memory */

uint64_t xuan_gguf_n_kv(const xuan_gguf *g);
const xuan_gguf_kv *xuan_gguf_kv_at(const xuan_gguf *g, uint64_t i);
/* Finds a key (exact match); NULL if absent. */
const xuan_gguf_value *xuan_gguf_find(const xuan_gguf *g, const char *key);

/* Typed getters.  Each returns 0 and sets *out, XUAN_ERR_NOTFOUND when the
 * key is absent, or XUAN_ERR_FORMAT when the value has the wrong type or
 * does not fit (with err naming key, type and value).  Integer getters
 * accept any integer type whose value fits; float getters accept floats and
 * integers. */
int xuan_gguf_get_str(const xuan_gguf *g, const char *key, xuan_str *out);
int xuan_gguf_get_u32(const xuan_gguf *g, const char *key, uint32_t *out, xuan_error *err);
int xuan_gguf_get_i64(const xuan_gguf *g, const char *key, int64_t *out, xuan_error *err);
int xuan_gguf_get_u64(const xuan_gguf *g, const char *key, uint64_t *out, xuan_error *err);
int xuan_gguf_get_f32(const xuan_gguf *g, const char *key, float *out, xuan_error *err);
int xuan_gguf_get_bool(const xuan_gguf *g, const char *key, bool *out, xuan_error *err);
int xuan_gguf_get_arr(const xuan_gguf *g, const char *key, const xuan_gguf_array **out);

uint64_t xuan_gguf_n_tensors(const xuan_gguf *g);
const xuan_gguf_tensor *xuan_gguf_tensor_at(const xuan_gguf *g, uint64_t i);
/* Finds a tensor by name (hash lookup); NULL if absent. */
const xuan_gguf_tensor *xuan_gguf_find_tensor(const xuan_gguf *g, const char *name);

/* ---- writing ------------------------------------------------------------------ */

typedef struct xuan_gguf_writer xuan_gguf_writer;

/* Fills `n` bytes of tensor data starting at byte `offset` of the tensor. */
typedef int (*xuan_gguf_fill_fn)(void *ctx, const xuan_gguf_tensor *t, uint64_t offset,
                                 uint8_t *out, uint64_t n, xuan_error *err);

xuan_gguf_writer *xuan_gguf_writer_new(void);
void xuan_gguf_writer_free(xuan_gguf_writer *w);
void xuan_gguf_writer_set_alignment(xuan_gguf_writer *w, uint32_t alignment); /* default 32 */

/* Setting a key that exists replaces it (keeps its position).  Strings and
 * arrays are copied. */
int xuan_gguf_writer_set_u32(xuan_gguf_writer *w, const char *key, uint32_t v);
int xuan_gguf_writer_set_i32(xuan_gguf_writer *w, const char *key, int32_t v);
int xuan_gguf_writer_set_u64(xuan_gguf_writer *w, const char *key, uint64_t v);
int xuan_gguf_writer_set_f32(xuan_gguf_writer *w, const char *key, float v);
int xuan_gguf_writer_set_bool(xuan_gguf_writer *w, const char *key, bool v);
int xuan_gguf_writer_set_str(xuan_gguf_writer *w, const char *key, const char *v);
int xuan_gguf_writer_set_strn(xuan_gguf_writer *w, const char *key, const char *v, uint64_t n);
/* Array of fixed-size elements of `type`, `raw` in little-endian layout. */
int xuan_gguf_writer_set_arr(xuan_gguf_writer *w, const char *key, uint32_t type, const void *raw,
                             uint64_t n);
int xuan_gguf_writer_set_arr_str(xuan_gguf_writer *w, const char *key, const xuan_str *strs,
                                 uint64_t n);
/* Copies a value (of any type, nested arrays included) from a reader. */
int xuan_gguf_writer_set_value(xuan_gguf_writer *w, const char *key, const xuan_gguf_value *v);
int xuan_gguf_writer_remove(xuan_gguf_writer *w, const char *key);

/* Adds a tensor.  Exactly one of `data` (copied lazily: must stay valid
 * until the write) or `fill` is given.  Dims are checked against the type's
 * block size; duplicate names are refused. */
int xuan_gguf_writer_add_tensor(xuan_gguf_writer *w, const char *name, uint32_t type,
                                uint32_t n_dims, const int64_t *ne, const void *data,
                                xuan_gguf_fill_fn fill, void *fill_ctx, xuan_error *err);

/* Writes a GGUF v3 file atomically.  With n_splits > 1, writes
 * `prefix-0000i-of-0000N.gguf` parts the way llama.cpp's gguf-split does
 * (all metadata in part 1, split.* keys in every part, tensors spread in
 * order) and `path` is the prefix, without ".gguf". */
int xuan_gguf_writer_write(xuan_gguf_writer *w, const char *path, xuan_error *err);
int xuan_gguf_writer_write_split(xuan_gguf_writer *w, const char *prefix, uint32_t n_splits,
                                 xuan_error *err);
/* Sparse mode: tensors given by fill callbacks are not written; their bytes
 * are left as holes (the file has its full size and reads as zeros).  For
 * header-exact test files of multi-gigabyte shapes.  Default off. */
void xuan_gguf_writer_set_sparse(xuan_gguf_writer *w, bool sparse);
/* Optional progress over tensor bytes written (label shown on the bar). */
void xuan_gguf_writer_progress(xuan_gguf_writer *w, const char *label);

#ifdef __cplusplus
}
#endif
#endif /* XUAN_GGUF_H */
