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
    char arch[16];         /* "llama", "qwen2" or "phi3" */
    uint32_t n_layers, d_model, d_ffn, n_heads, n_kv_heads, head_dim;
    uint32_t n_vocab;      /* embedding rows (>= tokenizer size; extra rows become [PADn]) */
    uint32_t n_ctx;        /* {arch}.context_length */
    float rope_base, norm_eps;
    bool tied;             /* output shares token_embd (no output.weight) */
    bool qkv_bias;         /* qwen2: attn_{q,k,v}.bias */
    bool llama3_rope;      /* rope_freqs.weight with Llama-3.1's frequency factors */
    bool longrope;         /* phi3: rope_factors_{long,short}.weight, original ctx 4096 */
    uint32_t type;         /* 2D weights; rows that do not fit fall back as llama.cpp does */
    uint32_t embd_type;    /* token_embd.weight */
    uint32_t output_type;  /* output.weight */
    uint64_t seed;
    const char *vocab_from; /* GGUF to copy tokenizer.* keys from; NULL = built-in byte vocab */
    const char *name;       /* general.name; NULL = "synthetic-<preset>-<type>" */
} xuan_synth_params;

/* Fills p with a preset's shape (F16 weights, seed 1234).  Presets: tiny,
 * tiny256, qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama3.1-8b, mistral-7b,
 * yi-1.5-9b, phi3.5-mini, phi4.  Returns XUAN_ERR_NOTFOUND for another name. */
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

#ifdef __cplusplus
}
#endif
#endif /* XUAN_MODEL_H */
